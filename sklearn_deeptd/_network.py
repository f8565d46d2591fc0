"""The convolutional network on non-overlapping patches: forward and backward passes.

A network of depth D has one kernel per layer (per branch). Layer ``l`` cuts its
input into consecutive blocks of length ``d_l``, takes the inner product of each
block with the kernel and applies the layer's activation. With ``r`` branches,
kernels are stored as a list of D arrays of shape ``(r, d_l)``, input layer first,
and the branches are evaluated together: every intermediate array carries the
branch as its last axis.
"""

import numpy as np


def _layer_sizes(kernels):
    return [k.shape[1] for k in kernels]


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
    n_samples = X.shape[0]
    sizes = _layer_sizes(kernels)
    n_branches = kernels[0].shape[0]
    # Layer 1 reads X once for all branches: one (n * p_1, d_1) @ (d_1, r) product.
    blocks = X.reshape(-1, sizes[0])
    pre = (blocks @ kernels[0].T).reshape(n_samples, -1, n_branches)
    cache = [pre]
    hidden = activations[0].function(pre)
    for kernel, size, activation in zip(kernels[1:], sizes[1:], activations[1:]):
        grouped = hidden.reshape(n_samples, -1, size, n_branches)
        pre = np.einsum("nmdr,rd->nmr", grouped, kernel)
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
    n_samples = X.shape[0]
    sizes = _layer_sizes(kernels)
    n_branches = kernels[0].shape[0]
    gradients = [None] * len(kernels)
    upstream = output_gradient[:, None, :]
    for layer in range(len(kernels) - 1, 0, -1):
        delta = upstream * activations[layer].derivative(cache[layer])
        inputs = activations[layer - 1].function(cache[layer - 1])
        grouped = inputs.reshape(n_samples, -1, sizes[layer], n_branches)
        gradients[layer] = np.einsum("nmr,nmdr->rd", delta, grouped)
        upstream = np.einsum("nmr,rd->nmdr", delta, kernels[layer]).reshape(
            n_samples, -1, n_branches
        )
    delta = upstream * activations[0].derivative(cache[0])
    blocks = X.reshape(-1, sizes[0])
    gradients[0] = (blocks.T @ delta.reshape(-1, n_branches)).T
    return gradients


def predict_network(X, kernels, weights, intercept, activations):
    """Network output ``intercept + sum_j weights[j] * branch_j(X)``."""
    return forward(X, kernels, activations) @ weights + intercept
