"""The convolutional network on non-overlapping patches: forward and backward passes.

A network of depth D has one kernel per layer (per branch). Layer ``l`` cuts its
input into consecutive blocks of length ``d_l``, takes the inner product of each
block with the kernel and applies the layer's activation. With ``r`` branches,
kernels are stored as a list of D arrays of shape ``(r, d_l)``, input layer first,
and the branches are evaluated together: every intermediate array carries the
branch as its last axis.

Both passes are written against the array API: they run in the namespace and
on the device of ``X`` (NumPy, or under array API dispatch CuPy, PyTorch, ...),
with kernels of the same namespace.
"""

import numpy as np
from sklearn.utils._array_api import _is_numpy_namespace, get_namespace


def _layer_sizes(kernels):
    return [k.shape[1] for k in kernels]


# The three contractions of the passes. NumPy runs them with einsum, which
# allocates nothing beyond the result (broadcast products allocate an array of
# the size of a layer's input, and fresh large arrays are slow); other
# namespaces, which the array API gives no einsum, broadcast.


def _contract_blocks(xp, grouped, kernel):
    """``sum_d grouped[n, m, d, r] kernel[r, d]``: each block of each branch
    times that branch's kernel, shape ``(n, m, r)``."""
    if _is_numpy_namespace(xp):
        return np.einsum("nmdr,rd->nmr", grouped, kernel)
    size, n_branches = grouped.shape[2:]
    return xp.sum(grouped * xp.reshape(kernel.T, (1, 1, size, n_branches)), axis=2)


def _kernel_gradient(xp, delta, grouped):
    """``sum_{n, m} delta[n, m, r] grouped[n, m, d, r]``, shape ``(r, d)``."""
    if _is_numpy_namespace(xp):
        return np.einsum("nmr,nmdr->rd", delta, grouped)
    return xp.sum(delta[:, :, None, :] * grouped, axis=(0, 1)).T


def _spread_to_blocks(xp, delta, kernel):
    """``delta[n, m, r] kernel[r, d]``, shape ``(n, m, d, r)``."""
    if _is_numpy_namespace(xp):
        return np.einsum("nmr,rd->nmdr", delta, kernel)
    size, n_branches = kernel.shape[1], kernel.shape[0]
    return delta[:, :, None, :] * xp.reshape(kernel.T, (1, 1, size, n_branches))


def forward(X, kernels, activations, *, return_cache=False):
    """Evaluate every branch of the network on the rows of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs; ``n_features`` is the product of the kernel sizes.
    kernels : list of ndarray of shape (n_branches, d_l)
        One array per layer, input layer first.
    activations : list of Activation
        One per layer, output layer last.
    return_cache : bool, default=False
        Also return the pre-activations of every layer, which :func:`backward`
        needs.

    Returns
    -------
    outputs : ndarray of shape (n_samples, n_branches)
        The output of each branch, before the branch weights.
    cache : list of ndarray
        Only with ``return_cache=True``: the pre-activations of layer ``l``, of
        shape ``(n_samples, n_features / (d_1 ... d_l), n_branches)``.
    """
    xp, _ = get_namespace(X)
    n_samples = X.shape[0]
    sizes = _layer_sizes(kernels)
    n_branches = kernels[0].shape[0]
    # Layer 1 reads X once for all branches: one (n * p_1, d_1) @ (d_1, r) product.
    blocks = xp.reshape(X, (-1, sizes[0]))
    pre = xp.reshape(blocks @ kernels[0].T, (n_samples, -1, n_branches))
    cache = [pre]
    hidden = activations[0].function(pre)
    for kernel, size, activation in zip(kernels[1:], sizes[1:], activations[1:]):
        grouped = xp.reshape(hidden, (n_samples, -1, size, n_branches))
        pre = _contract_blocks(xp, grouped, kernel)
        cache.append(pre)
        hidden = activation.function(pre)
    outputs = hidden[:, 0, :]
    if return_cache:
        return outputs, cache
    return outputs


def backward(X, kernels, activations, cache, output_gradient):
    """Back-propagate a gradient on the branch outputs to every kernel.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The inputs given to :func:`forward`.
    kernels : list of ndarray of shape (n_branches, d_l)
        The kernels given to :func:`forward`.
    activations : list of Activation
        The activations given to :func:`forward`.
    cache : list of ndarray
        The pre-activations returned by :func:`forward`.
    output_gradient : ndarray of shape (n_samples, n_branches)
        Gradient of the loss with respect to each branch output.

    Returns
    -------
    kernel_gradients : list of ndarray of shape (n_branches, d_l)
        Gradient of the loss with respect to each kernel.
    """
    xp, _ = get_namespace(X)
    n_samples = X.shape[0]
    sizes = _layer_sizes(kernels)
    n_branches = kernels[0].shape[0]
    gradients = [None] * len(kernels)
    upstream = output_gradient[:, None, :]
    for layer in range(len(kernels) - 1, 0, -1):
        size = sizes[layer]
        delta = upstream * activations[layer].derivative(cache[layer])
        inputs = activations[layer - 1].function(cache[layer - 1])
        grouped = xp.reshape(inputs, (n_samples, -1, size, n_branches))
        gradients[layer] = _kernel_gradient(xp, delta, grouped)
        spread = _spread_to_blocks(xp, delta, kernels[layer])
        upstream = xp.reshape(spread, (n_samples, -1, n_branches))
    delta = upstream * activations[0].derivative(cache[0])
    blocks = xp.reshape(X, (-1, sizes[0]))
    gradients[0] = (blocks.T @ xp.reshape(delta, (-1, n_branches))).T
    return gradients


def predict_network(X, kernels, weights, intercept, activations):
    """Network output ``intercept + sum_j weights[j] * branch_j(X)``."""
    return forward(X, kernels, activations) @ weights + intercept
