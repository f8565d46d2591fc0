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

import warnings
from typing import NamedTuple

import numpy as np

from ._array_api import float_dtype
from ._sklearn_compat import (
    array_device,
    get_namespace,
    get_namespace_and_device,
    is_numpy_namespace,
)

# predict evaluates the network on blocks of this many rows: small enough that
# a float64 copy of a NumPy block stays cheap, larger on devices, where each
# block costs kernel launches.
_PREDICT_BLOCK_ROWS = 2**12
_DEVICE_BLOCK_ROWS = 2**16

# The fit's passes (the refinement's loss and gradient, the outputs of the
# starts) go through the rows in blocks of about this many entries of X: they
# then hold the activations of one block, not of every row (4 MB of float64
# in NumPy, whose blocks stay in cache; larger on devices, where each block
# costs kernel launches; measured: doc/performance.rst, 'Where the constants
# come from').
BLOCK_ENTRIES = 2**19
_DEVICE_BLOCK_ENTRIES = 2**25

# Rows whose entries, divided by the input scale, exceed this are evaluated
# at a power-of-two scale (see network_output): far from overflow, and exact.
_SAFE_INPUT_MAGNITUDE = 2.0**400


# An output whose spread is below this times (its largest magnitude + 1) is
# dead (see branches_vary).
DEAD_SPREAD = 1e-12


class OutputLayer(NamedTuple):
    """The output layer: branch weights of shape ``(rank,)`` and a scalar
    intercept for one output, or of shape ``(rank, m)`` and ``(m,)`` for
    ``m``."""

    weights: object
    intercept: object


class Network(NamedTuple):
    """A network's parameters: ``intercept + branches(X) @ weights``."""

    kernels: list
    weights: object
    intercept: float


def pack(kernels, weights, intercept, xp=np):
    """Flatten kernels, output weights and intercept into one parameter vector.

    ``weights`` has shape ``(rank,)`` and ``intercept`` is a scalar, or
    ``weights`` has shape ``(rank, m)`` and ``intercept`` shape ``(m,)``; the
    vector holds the kernels, then the weights (row-major), then the
    intercept.
    """
    pieces = [xp.reshape(kernel, (-1,)) for kernel in kernels]
    intercept = xp.asarray(intercept, dtype=weights.dtype, device=array_device(weights))
    return xp.concat(
        pieces + [xp.reshape(weights, (-1,)), xp.reshape(intercept, (-1,))]
    )


def unpack_output_layer(theta, n_branches, output_shape, xp=np):
    """The :class:`OutputLayer` at the end of a parameter vector ``theta``:
    weights of shape ``(n_branches, *output_shape)`` and an intercept of shape
    ``output_shape``."""
    n_outputs = int(np.prod(output_shape))
    size = n_branches * n_outputs
    weights = xp.reshape(
        theta[-size - n_outputs : -n_outputs], (n_branches,) + output_shape
    )
    return OutputLayer(weights, xp.reshape(theta[-n_outputs:], output_shape))


def unpack(theta, kernel_shapes, output_shape=(), xp=np):
    """Inverse of :func:`pack`: the :class:`Network` of kernels of the given
    shapes.

    ``output_shape`` is ``()`` for weights of shape ``(rank,)`` and a scalar
    intercept (a 0-D array), ``(m,)`` for weights of shape ``(rank, m)`` and
    an intercept of shape ``(m,)``.
    """
    kernels = []
    start = 0
    for shape in kernel_shapes:
        size = shape[0] * shape[1]
        kernels.append(xp.reshape(theta[start : start + size], tuple(shape)))
        start += size
    weights, intercept = unpack_output_layer(
        theta, kernel_shapes[0][0], tuple(output_shape), xp
    )
    return Network(kernels, weights, intercept)


def random_unit_kernels(kernel_sizes, rank, random_state):
    """Kernels with standard Gaussian entries, each row normalised to unit norm."""
    kernels = []
    for size in kernel_sizes:
        kernel = random_state.standard_normal((rank, size))
        kernels.append(kernel / np.linalg.norm(kernel, axis=1, keepdims=True))
    return kernels


def _layer_sizes(kernels):
    return [k.shape[1] for k in kernels]


# The three contractions of the passes. NumPy runs them with einsum, which
# allocates nothing beyond the result (broadcast products allocate an array of
# the size of a layer's input, and fresh large arrays are slow), and a single
# branch as matrix-vector products, faster than einsum with its branch axis
# of length 1; other namespaces, which the array API gives no einsum,
# broadcast.


def _contract_blocks(xp, grouped, kernel):
    """``sum_d grouped[n, m, d, r] kernel[r, d]``: each block of each branch
    times that branch's kernel, shape ``(n, m, r)``."""
    n_samples, n_blocks, size, n_branches = grouped.shape
    if is_numpy_namespace(xp):
        if n_branches == 1:
            product = np.reshape(grouped, (-1, size)) @ kernel[0]
            return np.reshape(product, (n_samples, n_blocks, 1))
        return np.einsum("nmdr,rd->nmr", grouped, kernel)
    return xp.sum(grouped * xp.reshape(kernel.T, (1, 1, size, n_branches)), axis=2)


def _kernel_gradient(xp, delta, grouped, per_sample=False):
    """``sum_{n, m} delta[n, m, r] grouped[n, m, d, r]``, shape ``(r, d)``;
    with ``per_sample``, the sum over ``m`` only, shape ``(n, r, d)``."""
    n_samples, n_blocks, size, n_branches = grouped.shape
    if per_sample:
        if is_numpy_namespace(xp):
            if n_branches == 1:
                # One (1, m) @ (m, d) product per row.
                product = np.reshape(delta, (n_samples, 1, n_blocks)) @ np.reshape(
                    grouped, (n_samples, n_blocks, size)
                )
                return product
            return np.einsum("nmr,nmdr->nrd", delta, grouped)
        summed = xp.sum(delta[:, :, None, :] * grouped, axis=1)
        return xp.permute_dims(summed, (0, 2, 1))
    if is_numpy_namespace(xp):
        if n_branches == 1:
            product = np.reshape(grouped, (-1, size)).T @ np.reshape(delta, (-1,))
            return product[None, :]
        return np.einsum("nmr,nmdr->rd", delta, grouped)
    return xp.sum(delta[:, :, None, :] * grouped, axis=(0, 1)).T


def _delta_below(xp, delta, kernel, derivative):
    """The gradient on the pre-activations of the layer below, entry
    ``(n, m * d_l + j, r)`` being ``delta[n, m, r] kernel[r, j]`` times the same
    entry of ``derivative`` (a fresh array, which NumPy overwrites)."""
    n_samples, n_blocks, n_branches = delta.shape
    size = kernel.shape[1]
    if is_numpy_namespace(xp):
        if n_branches == 1:
            # Column by column, in place: faster than a broadcast product
            # over a last axis of a few entries.
            columns = np.reshape(derivative, (n_samples, n_blocks, size))
            for column in range(size):
                columns[:, :, column] *= delta[:, :, 0] * kernel[0, column]
            return derivative
        spread = np.einsum("nmr,rd->nmdr", delta, kernel)
    else:
        spread = delta[:, :, None, :] * xp.reshape(kernel.T, (1, 1, size, n_branches))
    return xp.reshape(spread, (n_samples, -1, n_branches)) * derivative


def forward(X, kernels, activations, *, row_scale=None):
    """Evaluate every branch of the network on the rows of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs; ``n_features`` is the product of the kernel sizes.
    kernels : list of ndarray of shape (n_branches, d_l)
        One array per layer, input layer first.
    activations : list of Activation
        One per layer, output layer last.
    row_scale : array of shape (n_samples,), default=None
        Evaluate the network at ``row_scale[:, None] * X`` instead, for powers
        of two that are 1 or huge. Layers with positively homogeneous
        activations carry the factor along (exactly), as do softplus layers
        on the rows of huge factor (through their asymptote, relu); the first
        other layer applies it to its pre-activations, so that rows whose
        entries would overflow in the first products are evaluated correctly.

    Returns
    -------
    outputs : ndarray of shape (n_samples, n_branches)
        The output of each branch, before the branch weights.
    """
    return _forward(X, kernels, activations, False, row_scale).outputs


class ForwardPass(NamedTuple):
    """The branch outputs of a forward pass, shape ``(n_samples, n_branches)``,
    and what :func:`backward` needs of it: the pre-activations and
    activations of layer ``l``, each of shape
    ``(n_samples, n_features / (d_1 ... d_l), n_branches)`` (None when not
    kept)."""

    outputs: object
    cache: list


def forward_pass(X, kernels, activations):
    """:func:`forward`, keeping every layer's pre-activations and activations.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs.
    kernels : list of ndarray of shape (n_branches, d_l)
        One array per layer, input layer first.
    activations : list of Activation
        One per layer, output layer last.

    Returns
    -------
    forward_pass : ForwardPass
    """
    return _forward(X, kernels, activations, True, None)


def _forward(X, kernels, activations, keep_cache, row_scale):
    xp, _ = get_namespace(X)
    n_samples = X.shape[0]
    sizes = _layer_sizes(kernels)
    n_branches = kernels[0].shape[0]
    cache = []
    hidden = X
    for layer, (kernel, activation) in enumerate(zip(kernels, activations)):
        if layer == 0:
            # Layer 1 reads X once for all branches: one (n p_1, d_1) @ (d_1, r)
            # product.
            blocks = xp.reshape(X, (-1, sizes[0]))
            pre = xp.reshape(blocks @ kernel.T, (n_samples, -1, n_branches))
        else:
            grouped = xp.reshape(hidden, (n_samples, -1, sizes[layer], n_branches))
            pre = _contract_blocks(xp, grouped, kernel)
        cache.append(pre)
        if row_scale is None or activation.positively_homogeneous:
            hidden = activation.function(pre)
        elif activation.asymptote is not None:
            # Rows carried at a huge scale see the asymptote (softplus: relu,
            # off by at most log 2 against values of 2^400 or more).
            huge = (row_scale > 1.0)[:, None, None]
            hidden = xp.where(huge, activation.asymptote(pre), activation.function(pre))
        else:
            cache[-1] = pre = pre * row_scale[:, None, None]
            hidden = activation.function(pre)
            row_scale = None
        if keep_cache:
            cache[-1] = (cache[-1], hidden)
    outputs = hidden[:, 0, :]
    if row_scale is not None:
        outputs = outputs * row_scale[:, None]
    return ForwardPass(outputs, cache if keep_cache else None)


def backward(X, kernels, activations, cache, output_gradient, *, per_sample=False):
    """Back-propagate a gradient on the branch outputs to every kernel.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The inputs given to :func:`forward`.
    kernels : list of ndarray of shape (n_branches, d_l)
        The kernels given to :func:`forward`.
    activations : list of Activation
        The activations given to :func:`forward`.
    cache : list of tuple of ndarray
        The pre-activations and activations returned by :func:`forward`.
    output_gradient : ndarray of shape (n_samples, n_branches)
        Gradient of the loss with respect to each branch output.
    per_sample : bool, default=False
        Return each row's share of the gradients instead of their sum: with
        an ``output_gradient`` of ones, the Jacobian of each branch output in
        that branch's kernels.

    Returns
    -------
    kernel_gradients : list of ndarray of shape (n_branches, d_l)
        Gradient of the loss with respect to each kernel; with
        ``per_sample``, of shape ``(n_samples, n_branches, d_l)``.
    """
    xp, _ = get_namespace(X)
    n_samples = X.shape[0]
    sizes = _layer_sizes(kernels)
    n_branches = kernels[0].shape[0]
    gradients = [None] * len(kernels)
    delta = output_gradient[:, None, :] * activations[-1].derivative(cache[-1][0])
    for layer in range(len(kernels) - 1, 0, -1):
        pre, inputs = cache[layer - 1]
        grouped = xp.reshape(inputs, (n_samples, -1, sizes[layer], n_branches))
        gradients[layer] = _kernel_gradient(xp, delta, grouped, per_sample)
        derivative = activations[layer - 1].derivative(pre)
        delta = _delta_below(xp, delta, kernels[layer], derivative)
    if per_sample:
        # Every branch reads the same blocks of X: one (r, m) @ (m, d_1)
        # product per row.
        blocks = xp.reshape(X, (n_samples, -1, sizes[0]))
        gradients[0] = xp.permute_dims(delta, (0, 2, 1)) @ blocks
        return gradients
    blocks = xp.reshape(X, (-1, sizes[0]))
    gradients[0] = (blocks.T @ xp.reshape(delta, (-1, n_branches))).T
    return gradients


def row_blocks(X):
    """Slices of consecutive rows of ``X`` of about ``BLOCK_ENTRIES`` entries
    each (``_DEVICE_BLOCK_ENTRIES`` outside NumPy)."""
    xp, _ = get_namespace(X)
    entries = BLOCK_ENTRIES if is_numpy_namespace(xp) else _DEVICE_BLOCK_ENTRIES
    step = max(1, entries // max(X.shape[1], 1))
    return [
        slice(start, min(start + step, X.shape[0]))
        for start in range(0, X.shape[0], step)
    ]


def scaled_block(X, rows, x_divisor):
    """The rows ``rows`` (a slice) of ``X / x_divisor``, dividing that block only."""
    block = X[rows, ...]
    return block if x_divisor == 1.0 else block / x_divisor


def blocked_forward(X, kernels, activations, x_divisor=1.0):
    """:func:`forward` on ``X / x_divisor``, over the :func:`row_blocks` of
    ``X``, concatenated."""
    xp, _ = get_namespace(X)
    outputs = [
        forward(scaled_block(X, rows, x_divisor), kernels, activations)
        for rows in row_blocks(X)
    ]
    return xp.concat(outputs, axis=0) if len(outputs) > 1 else outputs[0]


def predict_network(X, kernels, weights, intercept, activations):
    """Network output ``intercept + sum_j weights[j] * branch_j(X)``."""
    return forward(X, kernels, activations) @ weights + intercept


def _power_of_two_row_scale(xp, X, input_scale):
    """Per-row powers of two near the largest magnitude of each row that is
    huge against ``input_scale`` (1 for the other rows), or None when no row
    is."""
    largest = xp.max(xp.abs(X), axis=1)
    huge = largest > _SAFE_INPUT_MAGNITUDE * input_scale
    if not bool(xp.any(huge)):
        return None
    # floor, not ceil: 2 ** ceil(log2(1e308)) overflows.
    exponent = xp.floor(xp.log2(xp.where(huge, largest, xp.ones_like(largest))))
    return 2.0**exponent


def network_output(X, kernels, weights, intercept, activations, input_scale=1.0):
    """Evaluate a fitted network on the rows of ``X``, in blocks, in X's namespace.

    The kernels act on X itself; the first layer is evaluated as
    ``(X / input_scale) @ (kernels[0] * input_scale)``, with ``input_scale``
    the scale of the training data, so that X of any scale (1e-300 to 1e300)
    meets kernels of unit scale. Each block is converted to the
    widest float of X's device (C-ordered float64 for NumPy), so the extra
    memory stays that of one block. Rows whose entries are huge against the
    input scale are divided by a power of two first (see :func:`forward`), so
    that finite inputs near the largest float give the network's value, not
    NaN; when that value itself overflows, a ``RuntimeWarning`` says so.
    """
    xp, _, device = get_namespace_and_device(X)
    dtype = float_dtype(xp, device)
    kernels = [xp.asarray(kernel, dtype=dtype, device=device) for kernel in kernels]
    kernels[0] = kernels[0] * input_scale
    weights = xp.asarray(weights, dtype=dtype, device=device)
    if not isinstance(intercept, float):
        # One intercept per output (several targets, or class logits).
        intercept = xp.asarray(intercept, dtype=dtype, device=device)
    blocks = []
    block_rows = (
        _PREDICT_BLOCK_ROWS if isinstance(X, np.ndarray) else _DEVICE_BLOCK_ROWS
    )
    for start in range(0, X.shape[0], block_rows):
        stop = min(start + block_rows, X.shape[0])
        block = X[start:stop, ...]
        if isinstance(block, np.ndarray):
            block = np.ascontiguousarray(block, dtype=np.float64)
        else:
            block = xp.astype(block, dtype)
        row_scale = _power_of_two_row_scale(xp, block, input_scale)
        if row_scale is not None:
            block = block / row_scale[:, None]
        # The division by the input scale after the power of two: both exact
        # up to one rounding, and neither overflows.
        block = block / input_scale
        # Overflow here is that of the network's value: reported below.
        with np.errstate(over="ignore", invalid="ignore"):
            outputs = forward(block, kernels, activations, row_scale=row_scale)
            blocks.append(outputs @ weights + intercept)
    if not blocks:
        return xp.zeros((0,) + tuple(weights.shape[1:]), dtype=dtype, device=device)
    y_pred = xp.concat(blocks) if len(blocks) > 1 else blocks[0]
    if not bool(xp.all(xp.isfinite(y_pred))):
        warnings.warn(
            "The network's output overflows the floating-point range on some rows "
            "of X (their predictions are infinite or NaN): X is far larger than "
            "the data the model was fitted on, or y was near the largest float.",
            RuntimeWarning,
        )
    return y_pred


def branches_vary(outputs, sample_weight):
    """Whether some branch (column of ``outputs``) varies on the weighted rows.

    A dead network's branches are constant (zero, for ReLU), up to rounding:
    a pre-activation that is zero in exact arithmetic may come out as 1e-17.
    A branch varies when its weighted standard deviation exceeds
    ``DEAD_SPREAD`` times (its largest magnitude + 1): relative to its own
    magnitude when that is large, to 1 (the scale of the standardised
    inputs) when it is small.
    """
    xp, _, _ = get_namespace_and_device(outputs)
    centred = outputs - sample_weight @ outputs
    spread = xp.sqrt(sample_weight @ (centred * centred))
    largest = xp.max(xp.abs(outputs), axis=0)
    return bool(xp.any(spread > DEAD_SPREAD * (largest + 1.0)))
