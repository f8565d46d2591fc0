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

from typing import Callable, NamedTuple

from sklearn.utils._array_api import get_namespace

from ._activations import ACTIVATIONS


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


def identity(Z):
    """The outputs themselves: the link of the squared error.

    Parameters
    ----------
    Z : array
        Any shape, any namespace.

    Returns
    -------
    Z : array
        ``Z`` itself.
    """
    return Z


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


class LossHead(NamedTuple):
    """A loss of the network's outputs, its link and the outputs it takes.

    Attributes
    ----------
    name : str
        The loss's name, as ``refine(loss=...)`` takes it.
    loss_and_gradient : callable
        ``(Z, targets, sample_weight) -> (loss, gradient)``: the weighted loss
        (a 0-D array) and its gradient in ``Z``, in Z's namespace.
    link : callable
        Outputs to predictions: identity, or the probabilities.
    output_ndim : tuple of int
        The numbers of axes ``Z`` may have: 1 for one output, 2 for several.
    """

    name: str
    loss_and_gradient: Callable
    link: Callable
    output_ndim: tuple


LOSSES = {
    head.name: head
    for head in (
        LossHead("squared_error", squared_error, identity, (1, 2)),
        LossHead("binary_log_loss", binary_log_loss, sigmoid, (1,)),
        LossHead("multinomial_log_loss", multinomial_log_loss, softmax, (2,)),
    )
}


def get_loss_head(loss, output_ndim):
    """The :class:`LossHead` named ``loss``, checked against outputs of
    ``output_ndim`` axes (1 for one output, 2 for several).

    Parameters
    ----------
    loss : str
        One of ``LOSSES``.
    output_ndim : int
        The number of axes of the network's outputs (of its targets).

    Returns
    -------
    head : LossHead
        The head.
    """
    if loss not in LOSSES:
        raise ValueError(f"Unknown loss {loss!r}; expected one of {sorted(LOSSES)}.")
    head = LOSSES[loss]
    if output_ndim not in head.output_ndim:
        raise ValueError(
            f"The {loss} loss takes outputs and targets of "
            f"{' or '.join(map(str, head.output_ndim))} axes, not {output_ndim}."
        )
    return head
