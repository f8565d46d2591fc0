"""The DeepTD moment: the data tensor T = mean((y - mean y) * X(x)).

X(x) is the input tensorised by the network's patch structure:
``X(x)[i_1, ..., i_D] = x[i_1 + d_1 i_2 + d_1 d_2 i_3 + ...]``. Because the
tensorisation is linear, T is ``X.T @ y_c / n`` reshaped: one pass over the data.
"""

import numpy as np
from sklearn.utils._array_api import get_namespace
from sklearn.utils.validation import assert_all_finite

# C-ordered float32 inputs are read in blocks of this many rows: the BLAS
# kernel for that layout adds the rows one after another in float32 (relative
# error 6e-6 at 10^6 rows, growing with n), so each block's product is summed
# in float64 and the error stops growing beyond one block. Smaller blocks cost
# more than they gain (measured against one call: 2^16 rows 1.3x, 2^18 rows
# 1.15x, 2^20 rows 1.0x). F-ordered inputs take
# one call: BLAS forms one dot product per column with several partial sums
# (5e-7 at 10^6 rows), and row blocks of an F-ordered array are strided views
# that it reads about 1.5x slower.
FLOAT32_BLOCK_ROWS = 2**20

# Rows checked at once when the moment reveals a non-finite value.
CHECK_BLOCK_ROWS = 2**12


def tensorize(vector, kernel_sizes):
    """Reshape a vector of length ``prod(kernel_sizes)`` into the input tensor.

    Entry ``[i_1, ..., i_D]`` is ``vector[i_1 + d_1 i_2 + d_1 d_2 i_3 + ...]``
    (Fortran order), matching the network's non-overlapping patches. Any
    array API namespace (the array API's reshape has no ``order``: a C-order
    reshape to the reversed sizes, axes reversed).
    """
    xp, _ = get_namespace(vector)
    reversed_axes = tuple(range(len(kernel_sizes)))[::-1]
    return xp.permute_dims(xp.reshape(vector, tuple(kernel_sizes)[::-1]), reversed_axes)


# Below smallest_normal ** 0.65 (1e-200 in float64, 1e-25 in float32) the
# direct variance may lose digits to underflow; the targets are then scaled by
# their largest magnitude first.
_DIRECT_VARIANCE_EXPONENT = 0.65


def _centred(xp, y, sample_weight, magnitude):
    """Mean, variance and centred copy of ``y / magnitude`` (two-pass centring:
    the second pass removes the rounding left in the first mean)."""
    unit = y if magnitude == 1.0 else y / magnitude
    if sample_weight is None:
        mean = xp.mean(unit)
        centred = unit - mean
        correction = xp.mean(centred)
        centred -= correction
        variance = centred @ centred / centred.shape[0]
    else:
        mean = sample_weight @ unit
        centred = unit - mean
        correction = sample_weight @ centred
        centred -= correction
        variance = (sample_weight * centred) @ centred
    return float(mean + correction), float(variance), centred


def standardised_multipliers(y, sample_weight, *, center=True, dtype=np.float64):
    """Mean and standard deviation of ``y``, and the moment's row multipliers.

    The DeepTD moment of standardised targets is ``X.T @ v`` with
    ``v_i = w_i (y_i - c) / std(y)``, ``c`` the weighted mean of ``y`` when
    ``center`` is true (DeepTD), else 0 (NaiveTD). Computed in a few passes
    over ``y`` (directly when that is safe, else on ``y / max|y|`` so that
    squares cannot overflow or underflow), in the namespace and on the device
    of ``y``.

    Parameters
    ----------
    y : array of shape (n_samples,)
        Finite float targets.
    sample_weight : array of shape (n_samples,) or None
        Weights summing to one; None weighs every sample equally.
    center : bool, default=True
        Centre ``y`` in the multipliers.
    dtype : dtype, default=np.float64
        dtype of the multipliers (that of X, for the product).

    Returns
    -------
    mean, std : float
        Weighted mean and (population) standard deviation of ``y``.
    multipliers : array of shape (n_samples,) or None
        ``v``; None when the targets are constant (nothing to learn).
    """
    xp, _ = get_namespace(y)
    magnitude = 1.0
    with np.errstate(all="ignore"):
        mean, variance, centred = _centred(xp, y, sample_weight, magnitude)
    smallest = float(xp.finfo(y.dtype).smallest_normal) ** _DIRECT_VARIANCE_EXPONENT
    if not (np.isfinite(mean) and smallest < variance < np.inf):
        magnitude = float(xp.max(xp.abs(y)))
        if magnitude == 0:
            return 0.0, 0.0, None
        mean, variance, centred = _centred(xp, y, sample_weight, magnitude)
    unit_scale = float(np.sqrt(max(variance, 0.0)))
    y_mean, y_scale = mean * magnitude, unit_scale * magnitude
    if targets_are_constant(y_mean, y_scale):
        return y_mean, y_scale, None
    base = centred if center else y if magnitude == 1.0 else y / magnitude
    if sample_weight is None:
        factor = 1.0 / (y.shape[0] * unit_scale)
    else:
        factor = sample_weight / unit_scale
    if not isinstance(base, np.ndarray):
        return y_mean, y_scale, xp.astype(base * factor, dtype)
    # In place where possible; straight into float32 for float32 X (the
    # product runs in X's dtype).
    reuse = base is not y and np.dtype(dtype) == base.dtype
    multipliers = base if reuse else np.empty(y.shape[0], dtype=dtype)
    np.multiply(base, factor, out=multipliers)
    return y_mean, y_scale, multipliers


def targets_are_constant(mean, scale):
    """Whether targets of this weighted mean and standard deviation are constant
    to rounding (nothing to learn from them)."""
    return scale <= 1e-12 * max(abs(mean), np.finfo(np.float64).tiny)


def cross_product(X, v):
    """``X.T @ v`` in one pass over ``X``, without copying it.

    ``X`` may be float64 or float32, C- or F-ordered. ``v`` is cast to the dtype
    of ``X`` (a length-n vector; casting ``X`` instead would copy it) and the
    product runs in BLAS. C-ordered float32 inputs are read in blocks of
    ``FLOAT32_BLOCK_ROWS`` rows whose products are summed in float64.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs, float64 or float32.
    v : ndarray of shape (n_samples,) or (n_samples, k)
        Multipliers of the rows (``k`` columns read ``X`` once for all).

    Returns
    -------
    product : ndarray of shape (n_features,) or (n_features, k)
        ``X.T @ v`` in float64.
    """
    v = np.asarray(v, dtype=X.dtype)
    # Non-finite entries of X are reported by check_finite_product.
    with np.errstate(invalid="ignore", over="ignore"):
        blocked = X.dtype == np.float32 and X.flags.c_contiguous
        if not blocked or X.shape[0] <= FLOAT32_BLOCK_ROWS:
            return np.asarray(X.T @ v, dtype=np.float64)
        product = np.zeros(X.shape[1:] + v.shape[1:])
        for start in range(0, X.shape[0], FLOAT32_BLOCK_ROWS):
            stop = start + FLOAT32_BLOCK_ROWS
            product += X[start:stop].T @ v[start:stop]
    return product


def check_finite_product(X, v, product, estimator_name=None):
    """Raise the usual ValueError when ``X`` has NaN or infinite entries.

    ``product`` is ``X.T @ V`` where ``v`` is zero exactly on the rows where
    every column of ``V`` is (``V = v`` for one column): a NaN or an infinity
    in a row with ``v != 0`` makes it non-finite, so only a non-finite
    product, or rows with ``v == 0`` (which a BLAS may skip), need a look at
    ``X`` itself. This replaces the separate pass over ``X`` that
    ``check_array`` would make. Any array API namespace: NumPy rows are
    checked in blocks of ``CHECK_BLOCK_ROWS``.
    """
    xp, _ = get_namespace(X)
    finite = bool(xp.all(xp.isfinite(product)))
    if finite:
        zero = v == 0
        if isinstance(X, np.ndarray):
            rows = np.flatnonzero(zero)
            starts = range(0, rows.size, CHECK_BLOCK_ROWS)
            blocks = (X[rows[start : start + CHECK_BLOCK_ROWS]] for start in starts)
        else:
            blocks = [X[zero, ...]] if bool(xp.any(zero)) else []
    else:
        n_rows = X.shape[0]
        starts = range(0, n_rows, CHECK_BLOCK_ROWS)
        # Stops within bounds: the array API leaves larger ones unspecified.
        blocks = (
            X[start : min(start + CHECK_BLOCK_ROWS, n_rows), ...] for start in starts
        )
    for block in blocks:
        assert_all_finite(block, input_name="X", estimator_name=estimator_name)
    if not finite:
        raise ValueError(
            "The moment X.T @ y overflowed although X and y are finite; rescale X or y."
        )


def moment_vector(X, y, sample_weight, *, center=True):
    """Weighted cross moment ``sum_i w_i (y_i - c) x_i / sum_i w_i`` of length p.

    ``c`` is the weighted mean of ``y`` when ``center`` is true (DeepTD), else 0
    (NaiveTD). Centring ``y`` alone is enough: it makes the moment the
    cross-covariance of x and y, without touching ``X``.
    """
    total = sample_weight.sum()
    offset = sample_weight @ y / total if center else 0.0
    return cross_product(X, sample_weight * (y - offset)) / total


def moment_tensor(X, y, kernel_sizes, sample_weight=None, *, center=True):
    """The DeepTD moment tensor of shape ``kernel_sizes``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs, ``n_features == prod(kernel_sizes)``.
    y : ndarray of shape (n_samples,)
        Targets.
    kernel_sizes : tuple of int
        Kernel size of each layer, input layer first.
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights; ``None`` weighs every sample equally.
    center : bool, default=True
        Centre ``y`` (DeepTD) or not (the NaiveTD baseline).

    Returns
    -------
    T : ndarray of shape kernel_sizes
        The moment tensor.
    """
    if sample_weight is None:
        sample_weight = np.ones(X.shape[0])
    return tensorize(moment_vector(X, y, sample_weight, center=center), kernel_sizes)
