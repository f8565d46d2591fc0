"""Loss heads: what the network's outputs are scored against.

A head maps the network's outputs ``Z`` (shape ``(n,)`` for one output,
``(n, m)`` for ``m``) and the targets to the weighted loss
``sum_i w_i loss(z_i, y_i)`` and its gradient in ``Z``, ``w_i dloss/dz_i``;
with weights summing to one, the loss is a weighted mean. The refinement
back-propagates that gradient through the network.

* ``"squared_error"``: ``0.5 * sum_i w_i ||z_i - y_i||^2``, targets shaped as
  ``Z`` (one or several regression targets).
* ``"binary_log_loss"``: ``Z`` of shape ``(n,)`` holds logits, targets are 0
  or 1, the probability of 1 is ``sigmoid(z)``.
* ``"multinomial_log_loss"``: ``Z`` of shape ``(n, K)`` holds the logits of K
  classes, targets are the ``(n, K)`` indicator matrix of the classes (rows of
  probabilities summing to one also work), the probabilities are
  ``softmax(z)``.

Written against the array API: heads and links run in the namespace and on
the device of ``Z``, and never exponentiate a positive number, so that no
logit overflows them.
"""

import numpy as np

from ._activations import ACTIVATIONS
from ._sklearn_compat import get_namespace


def sigmoid(Z):
    """The logistic function ``1 / (1 + exp(-Z))``, elementwise, without overflow.

    Parameters
    ----------
    Z : array
        Logits, of any shape, in any namespace.

    Returns
    -------
    probability : array
        ``sigmoid(Z)``, shaped as ``Z``, in its namespace.
    """
    return ACTIVATIONS["sigmoid"].function(Z)


def softplus(Z):
    """``log(1 + exp(Z))``, elementwise, without overflow.

    Parameters
    ----------
    Z : array
        Any shape, any namespace.

    Returns
    -------
    softplus : array
        Shaped as ``Z``, in its namespace.
    """
    return ACTIVATIONS["softplus"].function(Z)


def _shifted_logits(Z):
    """``Z`` less each row's largest entry (so every entry is at most 0), and
    ``log(sum(exp(.)))`` of each shifted row, shape ``(n, 1)``."""
    xp, _ = get_namespace(Z)
    shifted = Z - xp.max(Z, axis=1, keepdims=True)
    return shifted, xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))


def softmax(Z):
    """Each row of ``Z`` through the softmax, without overflow.

    Parameters
    ----------
    Z : array of shape (n_samples, n_classes)
        Logits, in any namespace.

    Returns
    -------
    probability : array of shape (n_samples, n_classes)
        ``exp(Z) / sum(exp(Z), axis=1)``, each row summing to one.
    """
    xp, _ = get_namespace(Z)
    shifted, log_total = _shifted_logits(Z)
    return xp.exp(shifted - log_total)


def _row_weights(sample_weight, Z):
    """The sample weights broadcastable against ``Z``, of one or two axes."""
    return sample_weight if Z.ndim == 1 else sample_weight[:, None]


def squared_error(Z, targets, sample_weight):
    """Half the weighted squared error and its gradient in ``Z``.

    Parameters
    ----------
    Z : array of shape (n_samples,) or (n_samples, n_outputs)
        Network outputs.
    targets : array shaped as ``Z``
        Regression targets.
    sample_weight : array of shape (n_samples,)
        Non-negative sample weights.

    Returns
    -------
    loss : 0-D array
        ``0.5 * sum_i w_i ||z_i - y_i||^2``.
    gradient : array shaped as ``Z``
        ``w_i (z_i - y_i)``.
    """
    xp, _ = get_namespace(Z)
    residual = Z - targets
    gradient = _row_weights(sample_weight, Z) * residual
    return 0.5 * xp.sum(gradient * residual), gradient


def binary_log_loss(Z, targets, sample_weight):
    """The weighted logistic loss of logits ``Z`` and its gradient in ``Z``.

    Parameters
    ----------
    Z : array of shape (n_samples,)
        Logits of class 1.
    targets : array of shape (n_samples,)
        0 or 1 (probabilities of class 1 also work).
    sample_weight : array of shape (n_samples,)
        Non-negative sample weights.

    Returns
    -------
    loss : 0-D array
        ``sum_i w_i [log(1 + exp(z_i)) - y_i z_i]``.
    gradient : array of shape (n_samples,)
        ``w_i (sigmoid(z_i) - y_i)``.
    """
    xp, _ = get_namespace(Z)
    # log(1 + e^z) - y z = y softplus(-z) + (1 - y) softplus(z): each term is
    # that of the likely class, small and free of cancellation, where the
    # first form subtracts two large numbers for a confident, right logit.
    per_row = targets * softplus(-Z) + (1.0 - targets) * softplus(Z)
    gradient = sample_weight * (sigmoid(Z) - targets)
    return xp.sum(sample_weight * per_row), gradient


def multinomial_log_loss(Z, targets, sample_weight):
    """The weighted cross-entropy of logits ``Z`` and its gradient in ``Z``.

    Parameters
    ----------
    Z : array of shape (n_samples, n_classes)
        Logits.
    targets : array of shape (n_samples, n_classes)
        The indicator matrix of the classes (rows of probabilities summing to
        one also work).
    sample_weight : array of shape (n_samples,)
        Non-negative sample weights.

    Returns
    -------
    loss : 0-D array
        ``sum_i w_i [logsumexp(z_i) - y_i . z_i]``.
    gradient : array of shape (n_samples, n_classes)
        ``w_i (softmax(z_i) - y_i)``.
    """
    xp, _ = get_namespace(Z)
    shifted, log_total = _shifted_logits(Z)
    # -sum_k y_k log softmax_k, which with rows of y summing to one is
    # logsumexp(z) - y . z, in shifted logits: no large terms cancel.
    per_row = xp.sum(targets * (log_total - shifted), axis=1)
    gradient = sample_weight[:, None] * (xp.exp(shifted - log_total) - targets)
    return xp.sum(sample_weight * per_row), gradient


class LossHead:
    """A loss of the network's outputs, and what the fit may assume of it.

    In the manner of skglm's datafits, each head carries what the rest of the
    fit needs to know of it, so that no other module branches on a loss's
    name. The heads are :data:`SQUARED_ERROR`, :data:`BINARY_LOG_LOSS` and
    :data:`MULTINOMIAL_LOG_LOSS`.

    Attributes
    ----------
    name : str
        The loss's name.
    output_ndim : tuple of int
        The numbers of axes the outputs ``Z`` (and the targets) may have: 1
        for one output, 2 for several.
    standardises_targets : bool
        Whether the fit standardises the targets (regression targets), or
        keeps them as they are (class indicators).
    closed_form_output_layer : bool
        Whether the output layer for fixed branch outputs is a weighted
        least-squares solution, else an iterative convex fit.
    gauss_newton : bool
        Whether the loss is a sum of squares, which damped Gauss-Newton steps
        minimise.
    constant_prediction : str
        What the constant model predicts, in words for warnings.
    """

    name = None
    output_ndim = ()
    standardises_targets = False
    closed_form_output_layer = False
    gauss_newton = False
    constant_prediction = None

    def __repr__(self):
        return f"<LossHead {self.name}>"

    def check_output_ndim(self, output_ndim):
        """Refuse outputs (and targets) of ``output_ndim`` axes the loss does
        not take."""
        if output_ndim not in self.output_ndim:
            raise ValueError(
                f"The {self.name} loss takes outputs and targets of "
                f"{' or '.join(map(str, self.output_ndim))} axes, not {output_ndim}."
            )

    def loss_and_gradient(self, Z, targets, sample_weight):
        """The weighted loss of outputs ``Z`` and its gradient in ``Z``.

        Parameters
        ----------
        Z : array of shape (n_samples,) or (n_samples, n_outputs)
            Network outputs, in any namespace.
        targets : array shaped as the loss takes them
            See the module's docstring.
        sample_weight : array of shape (n_samples,)
            Non-negative sample weights.

        Returns
        -------
        loss : 0-D array
        gradient : array shaped as ``Z``
        """
        raise NotImplementedError

    def inverse_link(self, Z):
        """Predictions from outputs: the targets' expected value given ``Z``.

        Parameters
        ----------
        Z : array
            Network outputs, in any namespace.

        Returns
        -------
        prediction : array
            In Z's namespace.
        """
        raise NotImplementedError

    def constant_intercept(self, target_mean):
        """The intercept of the constant model of targets of mean
        ``target_mean`` (NumPy): the outputs whose inverse link is that mean.

        Parameters
        ----------
        target_mean : ndarray of shape () or (n_outputs,)
            The weighted mean of the targets.

        Returns
        -------
        intercept : ndarray shaped as ``target_mean``
        """
        raise NotImplementedError


class _SquaredError(LossHead):
    """``0.5 * sum_i w_i ||z_i - y_i||^2``: one or several regression targets."""

    name = "squared_error"
    output_ndim = (1, 2)
    standardises_targets = True
    closed_form_output_layer = True
    gauss_newton = True
    constant_prediction = "the mean of y"

    def loss_and_gradient(self, Z, targets, sample_weight):
        return squared_error(Z, targets, sample_weight)

    def inverse_link(self, Z):
        return Z

    def constant_intercept(self, target_mean):
        return target_mean


class _LogLoss(LossHead):
    """What the two log-losses share: class indicators as targets, logits as
    outputs, probabilities through the inverse link."""

    constant_prediction = "the class priors"

    def class_probabilities(self, Z):
        """The probability of each class, shape ``(n_samples, n_classes)``.

        Parameters
        ----------
        Z : array of shape (n_samples,) or (n_samples, n_classes)
            Logits, in any namespace.

        Returns
        -------
        proba : array of shape (n_samples, n_classes)
        """
        raise NotImplementedError

    def class_log_probabilities(self, Z):
        """The logarithm of each class's probability, without underflow.

        Parameters
        ----------
        Z : array of shape (n_samples,) or (n_samples, n_classes)
            Logits, in any namespace.

        Returns
        -------
        log_proba : array of shape (n_samples, n_classes)
        """
        raise NotImplementedError


class _BinaryLogLoss(_LogLoss):
    """The logistic loss of the logit of class 1."""

    name = "binary_log_loss"
    output_ndim = (1,)

    def loss_and_gradient(self, Z, targets, sample_weight):
        return binary_log_loss(Z, targets, sample_weight)

    def inverse_link(self, Z):
        return sigmoid(Z)

    def constant_intercept(self, target_mean):
        with np.errstate(divide="ignore"):
            return np.log(target_mean) - np.log1p(-target_mean)

    def class_probabilities(self, Z):
        xp, _ = get_namespace(Z)
        positive = sigmoid(Z)
        return xp.stack([1.0 - positive, positive], axis=1)

    def class_log_probabilities(self, Z):
        xp, _ = get_namespace(Z)
        # log sigmoid(z) = -softplus(-z), log(1 - sigmoid(z)) = -softplus(z).
        return xp.stack([-softplus(Z), -softplus(-Z)], axis=1)


class _MultinomialLogLoss(_LogLoss):
    """The cross-entropy of the softmax of K logits."""

    name = "multinomial_log_loss"
    output_ndim = (2,)

    def loss_and_gradient(self, Z, targets, sample_weight):
        return multinomial_log_loss(Z, targets, sample_weight)

    def inverse_link(self, Z):
        return softmax(Z)

    def constant_intercept(self, target_mean):
        with np.errstate(divide="ignore"):
            return np.log(target_mean)

    def class_probabilities(self, Z):
        return softmax(Z)

    def class_log_probabilities(self, Z):
        shifted, log_total = _shifted_logits(Z)
        return shifted - log_total


SQUARED_ERROR = _SquaredError()
BINARY_LOG_LOSS = _BinaryLogLoss()
MULTINOMIAL_LOG_LOSS = _MultinomialLogLoss()

LOSSES = {
    head.name: head for head in (SQUARED_ERROR, BINARY_LOG_LOSS, MULTINOMIAL_LOG_LOSS)
}


def log_loss_head(n_classes):
    """The log-loss head of ``n_classes`` classes: the logit of the second
    class for two, K logits for more.

    Parameters
    ----------
    n_classes : int
        At least 2.

    Returns
    -------
    head : LossHead
    """
    return BINARY_LOG_LOSS if n_classes == 2 else MULTINOMIAL_LOG_LOSS
