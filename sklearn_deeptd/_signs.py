"""Where the signs are chosen: what the moment tensor cannot tell.

The decomposition gives each kernel's direction up to sign. For each branch we
choose the per-layer signs whose network output correlates best with the
targets (in absolute value), then fit the branch weights and the intercept by
weighted least squares. The search runs on the host: the solver hands it
the sign-search subsample as NumPy rows.

Every one of the ``2^D`` sign patterns is scored, exactly, at any depth: the
patterns of the first ``l`` layers share the pass through those layers, and
layer ``l`` holds ``2^l`` patterns of ``p / (d_1 ... d_l)`` outputs each, so with
kernels of size 2 or more every layer costs about one pass over the rows, all
of its patterns in one array operation. The rows go through in blocks, which
bounds the memory; an odd output activation (identity, tanh) halves the last
layer, whose flip only negates the correlation.
"""

from typing import NamedTuple

import numpy as np

from ._network import DEAD_SPREAD, Network, blocked_forward, scaled_block
from ._output_layer import least_squares_output_weights
from ._sklearn_compat import get_namespace_and_device, is_numpy_namespace

# The search holds about this many numbers per row block (a layer's patterns
# times its outputs times the block's rows): 4 MB of float64, which stays in
# cache (doc/performance.rst, 'Where the constants come from').
SEARCH_BLOCK_ENTRIES = 2**19


# Correlations closer than this count as tied: rounding (a permutation of the
# rows, another BLAS) moves them by about 1e-16 and must not change the choice.
TIE_TOLERANCE = 1e-9


def _pattern_outputs(xp, X, vectors, activations, mirror_last):
    """The branch output of every sign pattern on the rows of ``X``, shape
    ``(n_rows, n_patterns)``. Pattern ``i`` flips layer ``l`` where bit
    ``D - 1 - l`` of ``i`` is set (the first layer is the leading bit, so the
    order is the depth-first order, no flips first). With ``mirror_last`` the
    last layer is evaluated unflipped only: column ``i`` is pattern ``2 i``."""
    n_rows = X.shape[0]
    hidden = xp.reshape(X, (n_rows, 1, -1))
    last = len(vectors) - 1
    for layer, (vector, activation) in enumerate(zip(vectors, activations)):
        n_patterns = hidden.shape[1]
        size = vector.shape[0]
        # One matrix-vector product over every block of every pattern.
        pre = xp.reshape(
            xp.reshape(hidden, (-1, size)) @ vector, (n_rows, n_patterns, -1)
        )
        if layer == last and mirror_last:
            hidden = activation.function(pre)
            break
        if activation.name == "relu" and is_numpy_namespace(xp):
            # relu(-z) = relu(z) - z, exactly, written beside relu(z): no
            # stacked copy.
            both = np.empty((n_rows, n_patterns, 2, pre.shape[2]), dtype=pre.dtype)
            np.maximum(pre, 0.0, out=both[:, :, 0])
            np.subtract(both[:, :, 0], pre, out=both[:, :, 1])
        else:
            both = xp.stack(
                [activation.function(pre), activation.function(-pre)], axis=2
            )
        hidden = xp.reshape(both, (n_rows, 2 * n_patterns, -1))
    return hidden[:, :, 0]


def _pattern_correlations(X, target, sample_weight, vectors, activations, x_divisor):
    """Weighted correlations with ``target`` of every sign pattern's output,
    and whether each output varies, on the host; the rows go through in
    blocks. Each pattern's sums are taken about its mean on the first block,
    which keeps the variance clear of cancellation.

    With several targets (a 2-D ``target``) a pattern scores the root of its
    summed squared correlations (the share of the targets' variance its
    output explains), signed as its correlation with the first target.
    """
    xp, _, _ = get_namespace_and_device(X)
    mirror_last = activations[-1].odd
    # The widest array per row: X's row, or a layer's patterns times outputs.
    widest = width = X.shape[1]
    n_patterns = 1
    for vector in vectors:
        n_patterns, width = 2 * n_patterns, width // vector.shape[0]
        widest = max(widest, n_patterns * width)
    block_rows = max(1, SEARCH_BLOCK_ENTRIES // widest)
    sums = shift = largest = None
    for start in range(0, X.shape[0], block_rows):
        stop = min(start + block_rows, X.shape[0])
        block = scaled_block(X, slice(start, stop), x_divisor)
        outputs = _pattern_outputs(xp, block, vectors, activations, mirror_last)
        weight = sample_weight[start:stop]
        if shift is None:
            shift = xp.mean(outputs, axis=0)
        centred = outputs - shift
        weighted_target = _times_rows(xp, target[start:stop, ...], weight)
        moments = xp.concat(
            [
                xp.stack(
                    [
                        weight @ centred,
                        weight @ (centred * centred),
                        xp.max(xp.abs(outputs), axis=0),
                    ]
                ),
                xp.reshape(
                    _rows_first(weighted_target) @ centred,
                    (-1, centred.shape[1]),
                ),
            ]
        )
        moments = np.asarray(moments, dtype=np.float64)
        if sums is None:
            sums, largest = moments[[0, 1, *range(3, len(moments))]], moments[2]
        else:
            sums = sums + moments[[0, 1, *range(3, len(moments))]]
            largest = np.maximum(largest, moments[2])
    mean_shift, second, *cross = sums
    target_total = np.atleast_1d(
        np.asarray(xp.sum(_times_rows(xp, target, sample_weight), axis=0))
    )
    norm = np.sqrt(np.maximum(second - mean_shift**2, 0.0))
    target_norm = np.sqrt(np.atleast_1d(np.asarray(sample_weight @ (target * target))))
    alive = norm > DEAD_SPREAD * (largest + 1.0)
    correlations = np.zeros((len(cross), norm.shape[0]))
    for column, (column_cross, total, column_norm) in enumerate(
        zip(cross, target_total, target_norm)
    ):
        if column_norm > 0:
            covariance = column_cross - mean_shift * total
            correlations[column, alive] = covariance[alive] / (
                norm[alive] * column_norm
            )
    correlation = correlations[0]
    if len(cross) > 1:
        strength = np.sqrt(np.sum(correlations**2, axis=0))
        correlation = np.where(correlation < 0, -strength, strength)
    if mirror_last:
        # The flipped last layer negates the output: interleave the mirror images.
        correlation = np.stack([correlation, -correlation], axis=1).ravel()
        alive = np.repeat(alive, 2)
    return correlation, alive


def _best_pattern(correlation, alive, depth):
    """The pattern of largest |correlation|; ties (within ``TIE_TOLERANCE``)
    go to a positive correlation, then to an output that varies, then to fewer
    flips, then to the first in depth-first order."""
    strength = np.abs(correlation)
    tied = np.flatnonzero(strength >= strength.max() - TIE_TOLERANCE)
    flips = np.zeros(tied.size, dtype=int)
    for bit in range(depth):
        flips += (tied >> bit) & 1
    order = np.lexsort((tied, flips, ~alive[tied], ~(correlation[tied] > 0)))
    best = int(tied[order[0]])
    bits = (best >> np.arange(depth - 1, -1, -1)) & 1
    return np.where(bits == 1, -1.0, 1.0)


def _rows_first(values):
    """A vector, or the transpose of a matrix of one column per target."""
    return values if values.ndim == 1 else values.T


def _times_rows(xp, values, weight):
    """``values`` (a vector, or a matrix of one column per target) times the
    row weights."""
    return values * (weight if values.ndim == 1 else weight[:, None])


def _search_signs(X, target, sample_weight, vectors, activations, x_divisor=1.0):
    """The per-layer signs (NumPy, ``+1`` or ``-1``) of one branch whose
    output on ``X / x_divisor`` correlates best with the centred ``target``,
    among all ``2^D``."""
    correlation, alive = _pattern_correlations(
        X, target, sample_weight, vectors, activations, x_divisor
    )
    return _best_pattern(correlation, alive, len(vectors))


class SignedStart(NamedTuple):
    """The network of resolved signs and scale, and its branch outputs on the
    rows of the search."""

    network: Network
    outputs: object


def resolve_signs_and_scale(X, y, sample_weight, factors, activations, x_divisor=1.0):
    """Signed kernels, branch weights and intercept from unit-norm directions.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs used for the search (a subsample is enough).
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        Targets (several targets: see :func:`_search_signs`).
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights summing to one.
    factors : list of ndarray of shape (d_l, n_branches)
        Unit-norm kernel directions from the decomposition.
    activations : list of Activation
        One per layer.
    x_divisor : float, default=1.0
        The search reads ``X / x_divisor``, block by block.

    Returns
    -------
    start : SignedStart
        The network (the directions with the chosen signs, kernels of shape
        ``(n_branches, d_l)``, least-squares branch weights and intercept)
        and its branch outputs on ``X``, of shape ``(n_samples, n_branches)``.
    """
    xp, _, _ = get_namespace_and_device(X)
    n_branches = factors[0].shape[1]
    signed = [[] for _ in factors]
    columns = []
    residual = y - sample_weight @ y
    for branch in range(n_branches):
        vectors = [factor[:, branch] for factor in factors]
        signs = _search_signs(
            X, residual, sample_weight, vectors, activations, x_divisor
        )
        kernels = [float(s) * v for s, v in zip(signs, vectors)]
        output = blocked_forward(
            X, [k[None, :] for k in kernels], activations, x_divisor
        )[:, 0]
        columns.append(output)
        for layer, kernel in enumerate(kernels):
            signed[layer].append(kernel)
        # Later branches are chosen against what the earlier ones leave unexplained.
        outputs = xp.stack(columns, axis=1)
        weights, intercept = least_squares_output_weights(outputs, y, sample_weight)
        residual = y - outputs @ weights - intercept
    network = Network([xp.stack(rows) for rows in signed], weights, intercept)
    return SignedStart(network, outputs)
