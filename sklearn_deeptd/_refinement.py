"""Where the gradient is: least squares over every kernel, weight and intercept.

The loss is ``0.5 * sum_i w_i (f(x_i) - y_i)^2`` with weights summing to one; its
gradient comes from the hand-written backward pass in :mod:`._network`, and
scipy's L-BFGS minimises it. The loss and gradient are evaluated in the
namespace and on the device of the rows (under array API dispatch, a GPU);
only the parameter vector, of ``sum(kernel_sizes) * rank + rank + 1``
numbers, travels to the host for L-BFGS.
"""

from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize
from sklearn.utils._array_api import device, get_namespace_and_device

from ._array_api import to_numpy
from ._network import Network, backward, forward, row_blocks, scaled_block


class Refinement(NamedTuple):
    """A refined network and how L-BFGS got there."""

    network: Network
    loss: float
    n_iter: int
    hit_max_iter: bool


def pack(kernels, weights, intercept, xp=np):
    """Flatten kernels, branch weights and intercept into one parameter vector."""
    pieces = [xp.reshape(kernel, (-1,)) for kernel in kernels]
    intercept = xp.asarray(intercept, dtype=weights.dtype, device=device(weights))
    return xp.concat(pieces + [weights, xp.reshape(intercept, (1,))])


def unpack(theta, kernel_shapes, xp=np):
    """Inverse of :func:`pack` for kernels of the given shapes."""
    kernels = []
    start = 0
    for shape in kernel_shapes:
        size = shape[0] * shape[1]
        kernels.append(xp.reshape(theta[start : start + size], tuple(shape)))
        start += size
    n_branches = kernel_shapes[0][0]
    weights = theta[start : start + n_branches]
    return kernels, weights, theta[start + n_branches]


def squared_loss_and_gradient(
    theta, X, y, sample_weight, kernel_shapes, activations, x_divisor=1.0
):
    """Weighted half mean squared error of the network on ``X / x_divisor``
    and its gradient in theta.

    ``theta`` is a NumPy vector; X, y and the weights may live in any
    namespace, where the passes run, over blocks of rows (see
    :func:`~._network.row_blocks`): they hold the activations of one block.
    """
    xp, _, X_device = get_namespace_and_device(X)
    theta = xp.asarray(theta, dtype=X.dtype, device=X_device)
    kernels, weights, intercept = unpack(theta, kernel_shapes, xp)
    loss = 0.0
    total = None
    for rows in row_blocks(X):
        X_block = scaled_block(X, rows, x_divisor)
        outputs, cache = forward(X_block, kernels, activations, return_cache=True)
        residual = outputs @ weights + intercept - y[rows]
        weighted = sample_weight[rows] * residual
        loss += 0.5 * float(xp.sum(weighted * residual))
        kernel_gradients = backward(
            X_block, kernels, activations, cache, weighted[:, None] * weights[None, :]
        )
        gradient = pack(kernel_gradients, outputs.T @ weighted, xp.sum(weighted), xp)
        total = gradient if total is None else total + gradient
    return loss, np.asarray(to_numpy(total, xp), dtype=np.float64)


def refine(rows, start, activations, *, max_iter, tol, verbose=0):
    """Minimise the squared loss on ``rows`` with L-BFGS from the ``start`` network.

    Parameters
    ----------
    rows : Rows
        Inputs, targets and weights summing to one, in any namespace.
    start : Network
        The starting network, in the rows' namespace.
    activations : list of Activation
        One per layer.
    max_iter, tol : int, float
        L-BFGS's iteration budget and its tolerance on the loss decrease and
        the gradient.
    verbose : int, default=0
        Print a line when positive.

    Returns
    -------
    refinement : Refinement
        The refined network (NumPy), its loss, the iterations, and whether
        L-BFGS stopped on ``max_iter``.
    """
    kernel_shapes = [tuple(k.shape) for k in start.kernels]
    xp, _, _ = get_namespace_and_device(rows.X)
    theta = np.asarray(to_numpy(pack(*start, xp), xp), float)
    result = minimize(
        squared_loss_and_gradient,
        theta,
        args=(rows.X, rows.y, rows.weight, kernel_shapes, activations, rows.x_divisor),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "ftol": tol, "gtol": tol},
    )
    if verbose:
        print(
            f"[DeepTDRegressor] refinement: {result.nit} L-BFGS iterations, "
            f"loss {result.fun:.3e} ({result.message})"
        )
    kernels, weights, intercept = unpack(result.x, kernel_shapes)
    network = Network(kernels, weights.copy(), float(intercept))
    return Refinement(network, float(result.fun), result.nit, result.status == 1)
