"""Overflow-safe norms and scales: sample weights, row norms, the input scale.

Every function divides by a largest magnitude before it squares or sums, so
that inputs of scale 1e-200 or 1e200, and weights near the largest float, give
finite results. They run in any array API namespace.
"""

import numpy as np

from ._sklearn_compat import get_namespace, is_numpy_namespace

# Root mean square row norms are estimated on at most about this many rows:
# only their order of magnitude matters to the input scale.
_NORM_ESTIMATE_ROWS = 512


def normalised_sample_weight(sample_weight):
    """Weights divided by their sum, computed without overflow.

    ``sample_weight`` holds finite, non-negative weights with at least one
    positive. Dividing by the largest weight first keeps the sum finite for
    weights near the largest float (``np.full(n, 1e308)``), whose plain sum
    overflows to inf and would turn every weight into 0.
    """
    xp, _ = get_namespace(sample_weight)
    unit = sample_weight / float(xp.max(sample_weight))
    return unit / xp.sum(unit)


def stable_norm(vector):
    """Euclidean norm of ``vector`` without overflow or underflow of the squares."""
    xp, _ = get_namespace(vector)
    vector = xp.reshape(vector, (-1,))
    largest = float(xp.max(xp.abs(vector))) if vector.shape[0] else 0.0
    if not largest > 0:
        return 0.0
    return largest * float(xp.linalg.vector_norm(vector / largest))


def _weighted_mean_square_norm(xp, X, sample_weight):
    if is_numpy_namespace(xp):
        # einsum allocates the row norms only, not a copy of X.
        return float(sample_weight @ np.einsum("ij,ij->i", X, X))
    return float(sample_weight @ xp.sum(X * X, axis=1))


def weighted_rms_row_norm(X, sample_weight):
    """``sqrt(sum_i w_i ||x_i||^2)`` for weights summing to one, overflow-safe.

    The plain computation is used when it is finite and clear of underflow; X
    of huge (1e200) or tiny (1e-200) scale is first divided by its largest
    entry.
    """
    xp, _ = get_namespace(X)
    with np.errstate(over="ignore", under="ignore"):
        rms = np.sqrt(_weighted_mean_square_norm(xp, X, sample_weight))
    if np.isfinite(rms) and rms > 1e-140:
        return float(rms)
    largest = float(xp.max(xp.abs(X))) if X.shape[0] * X.shape[1] else 0.0
    if not largest > 0:
        return 0.0
    unit = X / largest
    return largest * float(np.sqrt(_weighted_mean_square_norm(xp, unit, sample_weight)))


def input_scale(X_rows, weight_rows):
    """The weighted root mean square entry of X, estimated on a few rows.

    ``X_rows`` are rows of X drawn across it and ``weight_rows`` their
    positive sample weights; about ``_NORM_ESTIMATE_ROWS`` evenly spaced rows
    among them are used (all of them when those few are zero). The fit runs on
    ``X / scale`` and divides the first kernel by ``scale`` afterwards: an
    exact reparametrisation of the network (only the first layer's
    pre-activations see X, linearly), which makes the fit of ``X * s`` that
    of ``X`` for every ``s``. 1.0 when every row is zero or a row is not
    finite (the finiteness check reports the latter).
    """
    if X_rows.shape[0] == 0 or X_rows.shape[1] == 0:
        return 1.0
    step = max(X_rows.shape[0] // _NORM_ESTIMATE_ROWS, 1)
    for rows in (slice(None, None, step), slice(None)):
        with np.errstate(all="ignore"):
            rms = weighted_rms_row_norm(
                X_rows[rows, ...], normalised_sample_weight(weight_rows[rows])
            )
        if rms != 0:
            break
    rms /= np.sqrt(X_rows.shape[1])
    if not np.isfinite(rms) or rms == 0:
        return 1.0
    return float(rms)
