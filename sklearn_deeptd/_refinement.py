"""Local refinement: least squares over every kernel, branch weight and intercept.

The loss is ``0.5 * sum_i w_i (f(x_i) - y_i)^2`` with weights summing to one; its
gradient comes from the hand-written backward pass in :mod:`._network`, and
scipy's L-BFGS minimises it.
"""

import numpy as np
from scipy.optimize import minimize

from ._network import backward, forward


def pack(kernels, weights, intercept):
    """Flatten kernels, branch weights and intercept into one parameter vector."""
    return np.concatenate([k.ravel() for k in kernels] + [weights, [intercept]])


def unpack(theta, kernel_shapes):
    """Inverse of :func:`pack` for kernels of the given shapes."""
    kernels = []
    start = 0
    for shape in kernel_shapes:
        size = shape[0] * shape[1]
        kernels.append(theta[start : start + size].reshape(shape))
        start += size
    n_branches = kernel_shapes[0][0]
    weights = theta[start : start + n_branches]
    return kernels, weights, theta[start + n_branches]


def squared_loss_and_gradient(theta, X, y, sample_weight, kernel_shapes, activations):
    """Weighted half mean squared error of the network and its gradient in theta."""
    kernels, weights, intercept = unpack(theta, kernel_shapes)
    outputs, cache = forward(X, kernels, activations, return_cache=True)
    residual = outputs @ weights + intercept - y
    weighted = sample_weight * residual
    loss = 0.5 * float(weighted @ residual)
    kernel_gradients = backward(
        X, kernels, activations, cache, weighted[:, None] * weights[None, :]
    )
    return loss, pack(kernel_gradients, outputs.T @ weighted, weighted.sum())


def refine(
    X,
    y,
    sample_weight,
    kernels,
    weights,
    intercept,
    activations,
    *,
    max_iter,
    tol,
    verbose=0,
):
    """Minimise the squared loss with L-BFGS from the given network.

    Returns the refined ``(kernels, weights, intercept)``, the number of
    iterations, whether L-BFGS stopped because it reached ``max_iter``, and the
    final loss.
    """
    kernel_shapes = [k.shape for k in kernels]
    result = minimize(
        squared_loss_and_gradient,
        pack(kernels, weights, intercept),
        args=(X, y, sample_weight, kernel_shapes, activations),
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
    hit_max_iter = result.status == 1
    return (
        kernels,
        weights.copy(),
        float(intercept),
        result.nit,
        hit_max_iter,
        float(result.fun),
    )
