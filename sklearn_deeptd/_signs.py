"""Where the signs are chosen: what the moment tensor cannot tell.

The decomposition gives each kernel's direction up to sign. For each branch we
choose the per-layer signs whose network output correlates best with the
targets (in absolute value), then fit the branch weights and the intercept by
weighted least squares. Written against the array API: the search runs in the
namespace and on the device of its rows.
"""

import math

import numpy as np
from sklearn.utils._array_api import get_namespace, get_namespace_and_device

from ._network import Network, forward

# Up to this depth every sign pattern is tried; patterns share their prefixes, so
# the search costs about D forward passes, not 2^D.
MAX_EXHAUSTIVE_DEPTH = 12


def _weighted_correlation(output, centred_target, target_norm, sample_weight):
    centred = output - sample_weight @ output
    norm = math.sqrt(max(float(sample_weight @ centred**2), 0.0))
    xp, _ = get_namespace(output)
    largest = float(xp.max(abs(output)))
    if norm <= 1e-12 * (largest + 1e-300) or target_norm == 0:
        return 0.0
    return float(sample_weight @ (centred * centred_target)) / (norm * target_norm)


# Correlations closer than this count as tied: rounding (a permutation of the
# rows, another BLAS) moves them by about 1e-16 and must not change the choice.
TIE_TOLERANCE = 1e-9


def _better_pattern(correlation, signs, best_correlation, best_signs):
    """Whether a pattern beats the best so far: larger |correlation|, and on a
    tie a positive correlation, then fewer flips (so the choice is
    deterministic)."""
    if best_signs is None:
        return True
    gap = abs(correlation) - abs(best_correlation)
    if abs(gap) > TIE_TOLERANCE:
        return gap > 0
    if (correlation > 0) != (best_correlation > 0):
        return correlation > 0
    return np.sum(signs < 0) < np.sum(best_signs < 0)


def _exhaustive_signs(X, target, sample_weight, vectors, activations):
    xp, _, _ = get_namespace_and_device(X)
    target_norm = math.sqrt(float(sample_weight @ target**2))
    n_samples = X.shape[0]
    best = {"correlation": 0.0, "signs": None, "output": None}

    def visit(layer, hidden, signs):
        # One matrix-vector product over all blocks (a 3-D @ 1-D product loops).
        size = vectors[layer].shape[0]
        pre = xp.reshape(
            xp.reshape(hidden, (-1, size)) @ vectors[layer], (n_samples, -1)
        )
        for sign in (1.0, -1.0):
            out = activations[layer].function(pre if sign > 0 else -pre)
            pattern = signs + [sign]
            if layer == len(vectors) - 1:
                corr = _weighted_correlation(
                    out[:, 0], target, target_norm, sample_weight
                )
                pattern = np.array(pattern)
                if _better_pattern(corr, pattern, best["correlation"], best["signs"]):
                    best.update(correlation=corr, signs=pattern, output=out[:, 0])
            else:
                visit(layer + 1, out, pattern)

    visit(0, X, [])
    return best["signs"], best["output"]


def _greedy_signs(X, target, sample_weight, vectors, activations):
    target_norm = math.sqrt(float(sample_weight @ target**2))

    def correlation(signs):
        kernels = [(float(s) * v)[None, :] for s, v in zip(signs, vectors)]
        out = forward(X, kernels, activations)[:, 0]
        return _weighted_correlation(out, target, target_norm, sample_weight), out

    signs = np.ones(len(vectors))
    best, output = correlation(signs)
    for _ in range(len(vectors)):
        improved = False
        for layer in range(len(vectors)):
            candidate = signs.copy()
            candidate[layer] *= -1
            corr, out = correlation(candidate)
            if _better_pattern(corr, candidate, best, signs):
                signs, best, output, improved = candidate, corr, out, True
        if not improved:
            break
    return signs, output


def fit_branch_weights(outputs, y, sample_weight):
    """Weighted least-squares branch weights and intercept for branch outputs.

    The minimum-norm solution through the pseudo-inverse (the array API has no
    ``lstsq``; NumPy's uses the same SVD and cut-off).
    """
    xp, _, device = get_namespace_and_device(outputs)
    ones = xp.ones((outputs.shape[0], 1), dtype=outputs.dtype, device=device)
    design = xp.concat([ones, outputs], axis=1)
    root = xp.sqrt(sample_weight)
    coef = xp.linalg.pinv(design * root[:, None]) @ (y * root)
    return coef[1:], coef[0]


def resolve_signs_and_scale(X, y, sample_weight, factors, activations):
    """Signed kernels, branch weights and intercept from unit-norm directions.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs used for the search (a subsample is enough).
    y : ndarray of shape (n_samples,)
        Targets.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights summing to one.
    factors : list of ndarray of shape (d_l, n_branches)
        Unit-norm kernel directions from the decomposition.
    activations : list of Activation
        One per layer.

    Returns
    -------
    network : Network
        The directions with the chosen signs (kernels of shape
        ``(n_branches, d_l)``), least-squares branch weights and intercept.
    """
    xp, _, _ = get_namespace_and_device(X)
    n_branches = factors[0].shape[1]
    exhaustive = len(factors) <= MAX_EXHAUSTIVE_DEPTH
    search = _exhaustive_signs if exhaustive else _greedy_signs
    signed = [[] for _ in factors]
    columns = []
    residual = y - sample_weight @ y
    for branch in range(n_branches):
        vectors = [factor[:, branch] for factor in factors]
        signs, output = search(X, residual, sample_weight, vectors, activations)
        columns.append(output)
        for layer, (sign, vector) in enumerate(zip(signs, vectors)):
            signed[layer].append(float(sign) * vector)
        # Later branches are chosen against what the earlier ones leave unexplained.
        outputs = xp.stack(columns, axis=1)
        weights, intercept = fit_branch_weights(outputs, y, sample_weight)
        residual = y - outputs @ weights - intercept
    kernels = [xp.stack(rows) for rows in signed]
    return Network(kernels, weights, intercept)
