"""The output layer: branch weights and intercept for fixed branch outputs.

Both the sign search (which scores each branch by least squares) and the
solver (which fits the output layer of a start for its loss) fit the last
layer alone, a convex problem: weighted (ridge) least squares for a head with
a closed form, else a penalised logistic or multinomial regression of the
class indicators on the branch outputs by L-BFGS from zero. The objective is
that of the refinement (see :mod:`._refinement`) restricted to the output
layer: the weighted mean loss plus ``0.5 * alpha`` times the sum of squares
of the weights, not of the intercepts. It runs on the host, on the branch
outputs of the sign-search subsample.
"""

import math

import numpy as np
from scipy.optimize import minimize

from ._network import OutputLayer, pack, unpack_output_layer
from ._sklearn_compat import get_namespace_and_device

# The iterative output layer is a convex problem of (rank + 1) * m parameters,
# which converges in tens of iterations. It stops on the gradient (_OUTPUT_TOL):
# near the optimum the loss decreases by about the gradient's square, so a
# tolerance on its relative decrease of _OUTPUT_TOL would stop it with
# gradients of 1e-7; that one stays at rounding level, as in scikit-learn's
# LogisticRegression.
_OUTPUT_MAX_ITER = 1000
_OUTPUT_TOL = 1e-10
_OUTPUT_FTOL = 64 * np.finfo(np.float64).eps


def penalised(loss, gradient, theta, n_intercepts, alpha):
    """Add ``0.5 * alpha * ||theta||^2`` over every entry but the trailing
    ``n_intercepts`` to a host loss and gradient.

    Parameters
    ----------
    loss : float
    gradient : ndarray of shape theta.shape
        Written in place.
    theta : ndarray of shape (n_parameters,)
        The parameters, intercepts last.
    n_intercepts : int
    alpha : float

    Returns
    -------
    loss : float
    gradient : ndarray
    """
    if not alpha:
        return loss, gradient
    weights = theta[:-n_intercepts]
    gradient[:-n_intercepts] += alpha * weights
    return loss + 0.5 * alpha * float(weights @ weights), gradient


def least_squares_output_weights(outputs, targets, sample_weight, alpha=0.0):
    """Weighted (ridge, with ``alpha``) least-squares weights and intercept,
    one least-squares problem per column of the targets.

    The minimum-norm solution through the pseudo-inverse (the array API has no
    ``lstsq``; NumPy's uses the same SVD and cut-off). The ridge penalty is
    least squares too: rows ``sqrt(alpha) I`` under the weights' columns of
    the design, none under the intercept's, with zero targets.

    Parameters
    ----------
    outputs : array of shape (n_samples, n_branches)
        The branch outputs (NumPy).
    targets : array of shape (n_samples,) or (n_samples, m)
        The targets, one least-squares problem per column.
    sample_weight : array of shape (n_samples,)
        Non-negative weights summing to one.
    alpha : float, default=0.0
        The ridge penalty.

    Returns
    -------
    output_layer : OutputLayer
        Weights of shape ``(n_branches,)`` or ``(n_branches, m)`` and an
        intercept of shape ``()`` or ``(m,)``.
    """
    xp, _, outputs_device = get_namespace_and_device(outputs)
    n_samples, n_branches = outputs.shape
    ones = xp.ones((n_samples, 1), dtype=outputs.dtype, device=outputs_device)
    root = xp.sqrt(sample_weight)
    design = xp.concat([ones, outputs], axis=1) * root[:, None]
    weighted_targets = targets * (root if targets.ndim == 1 else root[:, None])
    if alpha:
        identity = xp.eye(n_branches, dtype=outputs.dtype, device=outputs_device)
        penalty = xp.concat([xp.zeros_like(ones[:n_branches, :]), identity], axis=1)
        design = xp.concat([design, math.sqrt(alpha) * penalty], axis=0)
        zeros = xp.zeros_like(weighted_targets[:n_branches, ...])
        weighted_targets = xp.concat([weighted_targets, zeros], axis=0)
    coef = xp.linalg.pinv(design) @ weighted_targets
    return OutputLayer(coef[1:, ...], coef[0, ...])


def fit_output_weights(
    outputs,
    targets,
    sample_weight,
    *,
    head,
    alpha=0.0,
    max_iter=_OUTPUT_MAX_ITER,
    tol=_OUTPUT_TOL,
):
    """The output layer alone: weights and intercept for fixed branch outputs.

    Minimises the objective of the refinement over the output weights and the
    intercept only, a convex problem: by weighted (ridge) least squares, one
    per target, for a head with a closed form; else a weighted logistic or
    multinomial regression of the targets on the branch outputs, by L-BFGS
    from zero.

    Parameters
    ----------
    outputs : array of shape (n_samples, n_branches)
        The branch outputs (NumPy).
    targets : array of shape (n_samples,) or (n_samples, m)
        What the loss takes (see :mod:`._losses`).
    sample_weight : array of shape (n_samples,)
        Non-negative weights summing to one.
    head : LossHead
        The loss.
    alpha : float, default=0.0
        ``0.5 * alpha`` times the sum of squares of the weights is added to
        the weighted mean loss.
    max_iter, tol : int, float
        L-BFGS's iteration budget and tolerance on the gradient (iterative
        heads only).

    Returns
    -------
    output_layer : OutputLayer
        Weights of shape ``(n_branches,)`` or ``(n_branches, m)``, shaped as
        the targets' rows, and an intercept of shape ``()`` or ``(m,)``.
    """
    head.check_output_ndim(targets.ndim)
    if head.closed_form_output_layer:
        return least_squares_output_weights(outputs, targets, sample_weight, alpha)
    xp, _, outputs_device = get_namespace_and_device(outputs)
    n_branches = outputs.shape[1]
    output_shape = tuple(targets.shape[1:])
    n_outputs = int(np.prod(output_shape))

    def in_namespace(theta):
        theta = xp.asarray(theta, dtype=outputs.dtype, device=outputs_device)
        return unpack_output_layer(theta, n_branches, output_shape, xp)

    def objective(theta):
        weights, intercept = in_namespace(theta)
        value, output_gradient = head.loss_and_gradient(
            outputs @ weights + intercept, targets, sample_weight
        )
        gradient = pack(
            [], outputs.T @ output_gradient, xp.sum(output_gradient, axis=0), xp
        )
        gradient = np.array(gradient, dtype=np.float64)
        return penalised(float(value), gradient, theta, n_outputs, alpha)

    result = minimize(
        objective,
        np.zeros((n_branches + 1) * n_outputs),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "ftol": _OUTPUT_FTOL, "gtol": tol},
    )
    return in_namespace(result.x)
