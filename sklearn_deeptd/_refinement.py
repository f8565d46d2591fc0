"""Where the gradient is: one loss over every kernel, weight and intercept.

The network's outputs are ``forward(X) @ weights + intercept``: with weights of
shape ``(rank,)`` and a scalar intercept, one output per row; with weights of
shape ``(rank, m)`` and an intercept of shape ``(m,)``, ``m`` of them (``m``
regression targets, or the logits of ``m`` classes). A loss head of
:mod:`._losses` scores them: the objective is the weighted mean loss (weights
summing to one) plus the penalty ``0.5 * alpha * ||theta_W||^2``, where
``theta_W`` holds every kernel and output weight, not the intercepts.

``alpha`` plays the part of scikit-learn's ``MLPClassifier(alpha=...)``, which
penalises the weights of every layer, not the intercepts, too; but that
penalty is divided by the number of samples (the sum of their weights), as
for a sum of per-sample losses, and fades as the data grow, while this one
stands beside the weighted mean loss: ``alpha`` here is MLPClassifier's
``alpha / n_samples``. A positive ``alpha`` keeps the log-losses' optima
finite on separable data.

The gradient comes from the hand-written backward pass in :mod:`._network`.
For the squared error, when it is cheap (see :func:`uses_gauss_newton`), the
same pass keeps each row's share and gives the Gauss-Newton matrix ``J^T W J``,
and damped Gauss-Newton steps minimise the objective; otherwise scipy's L-BFGS
does. The passes run in the namespace and on the device of the rows (under
array API dispatch, a GPU); only the parameter vector, of
``sum(kernel_sizes) * rank + (rank + 1) * m`` numbers, its gradient and the
Gauss-Newton matrix travel to the host, where the steps are taken.
"""

from functools import partial
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize

from ._array_api import to_numpy
from ._losses import SQUARED_ERROR
from ._network import (
    Network,
    backward,
    forward_pass,
    pack,
    row_blocks,
    scaled_block,
    unpack,
)
from ._output_layer import penalised
from ._sklearn_compat import array_device, get_namespace_and_device

# The squared error's refinement takes damped Gauss-Newton steps when the
# Gauss-Newton matrix costs little beside a pass over the rows (see
# uses_gauss_newton); on a zero or small residual they converge in a few
# passes where L-BFGS takes tens (doc/performance.rst, 'Where the constants
# come from'). Their damping starts at _DAMPING_START times the matrix's
# largest diagonal entry; a damping beyond _DAMPING_LIMIT times (1 + that
# entry) means no step lowers the loss.
GAUSS_NEWTON_COST = 4
_DAMPING_START = 1e-3
_DAMPING_LIMIT = 1e16


class Refinement(NamedTuple):
    """A refined network and how the refinement got there: its penalised
    loss, the iterations, whether it stopped on ``max_iter``, and a line
    saying how it ran and why it stopped (for verbose output)."""

    network: Network
    loss: float
    n_iter: int
    hit_max_iter: bool
    report: str = ""


class _PlacedNetwork(NamedTuple):
    """A parameter vector unpacked beside the rows it is evaluated on."""

    xp: object
    output_shape: tuple
    network: Network


def _network_beside(theta, X, targets, kernel_shapes):
    """The :class:`Network` of ``theta`` in X's namespace, dtype and device,
    with that namespace and the outputs' shape (the targets' row)."""
    xp, _, X_device = get_namespace_and_device(X)
    output_shape = tuple(targets.shape[1:])
    network = unpack(
        xp.asarray(theta, dtype=X.dtype, device=X_device),
        kernel_shapes,
        output_shape,
        xp,
    )
    return _PlacedNetwork(xp, output_shape, network)


def loss_and_gradient(
    theta,
    X,
    targets,
    sample_weight,
    kernel_shapes,
    activations,
    *,
    head=SQUARED_ERROR,
    alpha=0.0,
    x_divisor=1.0,
):
    """The penalised weighted loss of the network on ``X / x_divisor`` and its
    gradient in theta.

    ``theta`` is a NumPy vector (see :func:`pack`); the network has one output
    when ``targets`` has shape ``(n,)`` and ``m`` when it has shape ``(n, m)``.
    X, the targets and the weights may live in any namespace, where the passes
    run, over blocks of rows (see :func:`~._network.row_blocks`): they hold
    the activations of one block.

    Returns
    -------
    loss : float
        The weighted loss plus ``0.5 * alpha`` times the sum of squares of
        every kernel and output weight.
    gradient : ndarray of shape theta.shape
        Its gradient, NumPy float64.
    """
    xp, output_shape, (kernels, weights, intercept) = _network_beside(
        theta, X, targets, kernel_shapes
    )
    total_loss = 0.0
    total = None
    for rows in row_blocks(X):
        X_block = scaled_block(X, rows, x_divisor)
        outputs, cache = forward_pass(X_block, kernels, activations)
        block_loss, output_gradient = head.loss_and_gradient(
            outputs @ weights + intercept, targets[rows, ...], sample_weight[rows]
        )
        total_loss += float(block_loss)
        if output_shape:
            branch_gradient = output_gradient @ weights.T
        else:
            branch_gradient = output_gradient[:, None] * weights[None, :]
        kernel_gradients = backward(
            X_block, kernels, activations, cache, branch_gradient
        )
        gradient = pack(
            kernel_gradients,
            outputs.T @ output_gradient,
            xp.sum(output_gradient, axis=0),
            xp,
        )
        total = gradient if total is None else total + gradient
    gradient = np.array(to_numpy(total, xp), dtype=np.float64)
    return penalised(total_loss, gradient, theta, int(np.prod(output_shape)), alpha)


def _output_jacobian(outputs, branch_jacobians, weights, xp):
    """The Jacobian of the network's outputs in theta (see :func:`pack`) for
    one block of rows: shape ``(n, P)`` for one output, ``(n, m, P)`` for
    ``m``, from the branch outputs ``(n, r)`` and each layer's per-row branch
    Jacobian ``(n, r, d_l)``."""
    n_rows, n_branches = outputs.shape
    ones = xp.ones((n_rows, 1), dtype=outputs.dtype, device=array_device(outputs))
    if weights.ndim == 1:
        # Output = outputs @ weights + intercept: each kernel entry of branch
        # r moves it by weights[r] times the branch's derivative.
        pieces = [
            xp.reshape(jacobian * weights[None, :, None], (n_rows, -1))
            for jacobian in branch_jacobians
        ]
        return xp.concat(pieces + [outputs, ones], axis=1)
    n_outputs = weights.shape[1]
    identity = xp.eye(n_outputs, dtype=outputs.dtype, device=array_device(outputs))
    pieces = [
        xp.reshape(
            jacobian[:, None, :, :] * xp.reshape(weights.T, (1, n_outputs, -1, 1)),
            (n_rows, n_outputs, -1),
        )
        for jacobian in branch_jacobians
    ]
    # Output k moves with weights[r, k] by branch r's output, with the
    # intercept's entry k by one.
    weight_part = outputs[:, None, :, None] * identity[None, :, None, :]
    pieces.append(xp.reshape(weight_part, (n_rows, n_outputs, -1)))
    pieces.append(xp.broadcast_to(identity[None, :, :], (n_rows, n_outputs, n_outputs)))
    return xp.concat(pieces, axis=2)


def gauss_newton_system(
    theta,
    X,
    targets,
    sample_weight,
    kernel_shapes,
    activations,
    *,
    alpha=0.0,
    x_divisor=1.0,
):
    """The penalised weighted squared error, its gradient and its
    Gauss-Newton matrix at ``theta``, in one pass over the rows.

    With ``J`` the Jacobian of the outputs in theta and ``W`` the row weights,
    the matrix is ``J^T W J`` (plus ``alpha`` on the diagonal of every kernel
    and output weight): the loss's Hessian without the residuals' second
    derivatives, exact for a zero residual. The passes run in the rows'
    namespace, over blocks of rows, whose Jacobian alone they hold.

    Returns
    -------
    loss : float
    gradient : ndarray of shape theta.shape
    matrix : ndarray of shape (theta.size, theta.size)
        NumPy float64.
    """
    xp, output_shape, (kernels, weights, intercept) = _network_beside(
        theta, X, targets, kernel_shapes
    )
    total_loss, gradient, matrix = 0.0, None, None
    for rows in row_blocks(X):
        X_block = scaled_block(X, rows, x_divisor)
        outputs, cache = forward_pass(X_block, kernels, activations)
        residual = outputs @ weights + intercept - targets[rows, ...]
        jacobian = _output_jacobian(
            outputs,
            backward(
                X_block,
                kernels,
                activations,
                cache,
                xp.ones_like(outputs),
                per_sample=True,
            ),
            weights,
            xp,
        )
        weight = sample_weight[rows]
        # Rows (and outputs) of J, each with its residual.
        jacobian = xp.reshape(jacobian, (-1, theta.shape[0]))
        residual = xp.reshape(residual, (-1,))
        if output_shape:
            weight = xp.reshape(
                xp.broadcast_to(weight[:, None], (weight.shape[0], output_shape[0])),
                (-1,),
            )
        weighted = jacobian * weight[:, None]
        block_gradient = residual @ weighted
        block_matrix = weighted.T @ jacobian
        total_loss += 0.5 * float(weight @ (residual * residual))
        gradient = block_gradient if gradient is None else gradient + block_gradient
        matrix = block_matrix if matrix is None else matrix + block_matrix
    gradient = np.array(to_numpy(gradient, xp), dtype=np.float64)
    matrix = np.array(to_numpy(matrix, xp), dtype=np.float64)
    n_intercepts = int(np.prod(output_shape))
    if alpha:
        diagonal = np.arange(theta.shape[0] - n_intercepts)
        matrix[diagonal, diagonal] += alpha
    loss, gradient = penalised(total_loss, gradient, theta, n_intercepts, alpha)
    return loss, gradient, matrix


def _damped_step(matrix, gradient, damping):
    """The step solving ``(matrix + damping I) step = -gradient``, or None
    when that matrix is singular in floating point (a damping that underflows
    against a singular Gauss-Newton matrix, as ReLU's rescalings between
    layers make it): the caller then grows the damping."""
    damped = matrix + damping * np.eye(gradient.shape[0])
    try:
        return np.linalg.solve(damped, -gradient)
    except np.linalg.LinAlgError:
        return None


class _Stop(NamedTuple):
    theta: np.ndarray
    loss: float
    n_iter: int
    hit_max_iter: bool
    message: str


def _finite(loss, gradient, matrix):
    return bool(
        np.isfinite(loss)
        and np.all(np.isfinite(gradient))
        and np.all(np.isfinite(matrix))
    )


def _converged(loss, gradient, matrix, tol):
    """Why ``theta`` needs no further step, or None: every gradient entry at
    most ``tol``, or a decrease predicted by the undamped Gauss-Newton step
    (half the Newton decrement ``g^T A^+ g``, exact at a zero residual, where
    the loss is quadratic) of at most ``tol * max(|loss|, 1)``."""
    if np.max(np.abs(gradient)) <= tol:
        return "gradient below tol"
    undamped = np.linalg.lstsq(matrix, gradient, rcond=None)[0]
    if 0.5 * float(gradient @ undamped) <= tol * max(abs(loss), 1.0):
        return "predicted decrease below tol"
    return None


def _levenberg_marquardt(system, theta, *, max_iter, tol):
    """Minimise a least-squares objective by damped Gauss-Newton steps.

    ``system(theta)`` returns the loss, its gradient and Gauss-Newton matrix.
    The damping follows Nielsen's rule (Madsen, Nielsen and Tingleff, *Methods
    for non-linear least squares problems*, 2004): it shrinks when the loss
    falls as the quadratic model predicts and grows when a step fails (a
    higher or non-finite loss, gradient or matrix). Each iteration costs one
    pass (one call of ``system``; one more reads the start). It stops as
    L-BFGS does in :func:`refine`, when an accepted step lowers the loss by at
    most ``tol * max(loss, 1)`` or every gradient entry is at most ``tol``,
    and also, without the pass that would confirm it, when the undamped step
    predicts no larger decrease (see :func:`_converged`), or when the damping
    passes ``_DAMPING_LIMIT`` times (1 + the matrix's largest diagonal entry):
    no step lowers the loss. Only a point that none of these stops, after
    ``max_iter`` iterations, counts as stopped on ``max_iter``.
    """
    loss, gradient, matrix = system(theta)
    if not _finite(loss, gradient, matrix):
        return _Stop(theta, loss, 0, False, "non-finite loss at the start")
    damping = _DAMPING_START * max(float(np.max(np.diag(matrix))), np.finfo(float).tiny)
    growth = 2.0
    for n_iter in range(1, max_iter + 1):
        reason = _converged(loss, gradient, matrix, tol)
        if reason is not None:
            return _Stop(theta, loss, n_iter - 1, False, reason)
        step = _damped_step(matrix, gradient, damping)
        accepted = False
        if step is not None:
            predicted = -float(gradient @ step) - 0.5 * float(step @ matrix @ step)
            new_loss, new_gradient, new_matrix = system(theta + step)
            accepted = new_loss < loss and _finite(new_loss, new_gradient, new_matrix)
        if accepted:
            ratio = (loss - new_loss) / predicted if predicted > 0 else 1.0
            damping *= max(1.0 / 3.0, 1.0 - (2.0 * ratio - 1.0) ** 3)
            growth = 2.0
            decrease = loss - new_loss
            theta, gradient, matrix = theta + step, new_gradient, new_matrix
            loss, previous = new_loss, loss
            if decrease <= tol * max(abs(previous), abs(loss), 1.0):
                return _Stop(theta, loss, n_iter, False, "loss decrease below tol")
        else:
            damping *= growth
            growth *= 2.0
            if not np.isfinite(damping) or damping > _DAMPING_LIMIT * (
                1.0 + float(np.max(np.abs(np.diag(matrix))))
            ):
                return _Stop(theta, loss, n_iter, False, "no step lowers the loss")
    reason = _converged(loss, gradient, matrix, tol)
    return _Stop(theta, loss, max_iter, reason is None, reason or "max_iter reached")


def refine(
    rows,
    start,
    activations,
    *,
    head=SQUARED_ERROR,
    alpha=0.0,
    max_iter,
    tol,
):
    """Minimise the penalised loss on ``rows`` from the ``start`` network: by
    damped Gauss-Newton steps for a sum of squares when
    :func:`uses_gauss_newton` says so, by L-BFGS otherwise.

    Parameters
    ----------
    rows : Rows
        Inputs, targets and weights summing to one, in any namespace. The
        targets are what the loss takes: of shape ``(n,)`` for one output,
        ``(n, m)`` for ``m`` (see :mod:`._losses`).
    start : Network
        The starting network, on the host (NumPy): weights of shape
        ``(rank,)`` and a scalar intercept, or of shape ``(rank, m)`` and an
        intercept of shape ``(m,)``, as the targets.
    activations : list of Activation
        One per layer.
    head : LossHead, default=SQUARED_ERROR
        The loss (see :mod:`._losses`).
    alpha : float, default=0.0
        The objective adds ``0.5 * alpha`` times the sum of squares of every
        kernel and output weight (not the intercepts) to the weighted mean
        loss: MLPClassifier's ``alpha / n_samples`` (see the module's
        docstring).
    max_iter, tol : int, float
        The iteration budget and the tolerance on the loss decrease and the
        gradient.

    Returns
    -------
    refinement : Refinement
        The refined network (NumPy; a float intercept for one output), its
        penalised loss, the iterations, whether the refinement stopped on
        ``max_iter``, and in words how it ran and why it stopped.
    """
    kernel_shapes = [tuple(k.shape) for k in start.kernels]
    output_shape = tuple(start.weights.shape[1:])
    if tuple(rows.y.shape[1:]) != output_shape:
        raise ValueError(
            f"The start network's weights of shape {tuple(start.weights.shape)} "
            f"give outputs of shape (n,) + {output_shape}, but the targets have "
            f"shape {tuple(rows.y.shape)}."
        )
    theta = np.asarray(pack(*start), dtype=float)
    data = (rows.X, rows.y, rows.weight, kernel_shapes, activations)
    if uses_gauss_newton(head, theta.shape[0], rows.y, rows.X.shape[1]):
        system = partial(gauss_newton_system, alpha=alpha, x_divisor=rows.x_divisor)
        stop = _levenberg_marquardt(
            lambda point: system(point, *data), theta, max_iter=max_iter, tol=tol
        )
        method = "Gauss-Newton"
    else:
        objective = partial(
            loss_and_gradient, head=head, alpha=alpha, x_divisor=rows.x_divisor
        )
        result = minimize(
            objective,
            theta,
            args=data,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": max_iter, "ftol": tol, "gtol": tol},
        )
        stop = _Stop(
            result.x, float(result.fun), result.nit, result.status == 1, result.message
        )
        method = "L-BFGS"
    kernels, weights, intercept = unpack(stop.theta, kernel_shapes, output_shape)
    intercept = float(intercept) if not output_shape else intercept.copy()
    network = Network(kernels, weights.copy(), intercept)
    report = f"{stop.n_iter} {method} iterations, loss {stop.loss:.3e} ({stop.message})"
    return Refinement(network, stop.loss, stop.n_iter, stop.hit_max_iter, report)


def uses_gauss_newton(head, n_parameters, targets, n_features):
    """Whether :func:`refine` takes Gauss-Newton steps: for a sum of squares,
    when the Gauss-Newton matrix of a row (``n_outputs * n_parameters^2``
    products) costs at most ``GAUSS_NEWTON_COST`` times reading it
    (``n_features``)."""
    n_outputs = targets.shape[1] if targets.ndim == 2 else 1
    return (
        head.gauss_newton
        and n_outputs * n_parameters**2 <= GAUSS_NEWTON_COST * n_features
    )
