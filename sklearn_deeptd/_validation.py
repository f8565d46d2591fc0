"""Checks at the estimator's boundary, and overflow-safe numerical helpers.

Kept apart from the data path of ``fit`` so that each check is one call there.
"""

import numpy as np
from sklearn.utils._array_api import get_namespace

_STRING_KINDS = "USV"


def _holds_strings(values):
    return any(isinstance(value, (str, bytes)) for value in np.ravel(values))


def check_not_strings(value, name):
    """Raise a ValueError naming ``name`` when ``value`` holds strings.

    scikit-learn's ``check_array(dtype=np.float64)`` parses numeric strings
    silently (``"1.5"`` becomes 1.5) and reports other strings as a failed float
    conversion; a regressor should say that it was given text. Numeric inputs
    (arrays, DataFrames, lists of numbers, object arrays of numbers) pass
    untouched and without a copy.
    """
    if value is None or np.isscalar(value) and not isinstance(value, (str, bytes)):
        return
    if hasattr(value, "columns") and hasattr(value, "dtypes"):
        # A DataFrame: look only at the columns that are not numeric.
        for column, dtype in zip(value.columns, value.dtypes):
            kind = getattr(dtype, "kind", "O")
            if kind in _STRING_KINDS or (
                kind == "O" and _holds_strings(value[column].to_numpy())
            ):
                raise ValueError(
                    f"{name} column {column!r} holds strings (dtype {dtype}); "
                    "DeepTDRegressor needs numeric input: encode the column "
                    "first, e.g. with sklearn.preprocessing.OneHotEncoder."
                )
        return
    if hasattr(value, "toarray"):
        # Sparse input is refused by scikit-learn's own validation, which names it.
        return
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        if isinstance(value, (str, bytes)):
            kind = "U"
        else:
            try:
                array = np.asarray(value)
            except (ValueError, TypeError):
                return  # ragged or odd input: scikit-learn's validation reports it
            dtype = array.dtype
            kind = dtype.kind
            value = array
    else:
        kind = getattr(dtype, "kind", "O")
    if kind in _STRING_KINDS or (kind == "O" and _holds_strings(value)):
        raise ValueError(
            f"{name} holds strings (dtype {dtype}); DeepTDRegressor needs numeric "
            f"input. Convert {name} to numbers explicitly (or encode categories) "
            "before fitting."
        )


def normalised_sample_weight(sample_weight):
    """Weights divided by their sum, computed without overflow.

    ``sample_weight`` is validated (finite, non-negative, not all zero), in
    any array API namespace. Dividing by the largest weight first keeps the
    sum finite for weights near the largest float (``np.full(n, 1e308)``),
    whose plain sum overflows to inf and would turn every weight into 0 and
    the fit into NaN.
    """
    xp, _ = get_namespace(sample_weight)
    largest = float(xp.max(sample_weight))
    if not largest > 0:
        raise ValueError(
            "sample_weight must contain at least one positive weight; all the "
            "weights are zero."
        )
    unit = sample_weight / largest
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
    return float(sample_weight @ xp.sum(X * X, axis=1))


def weighted_rms_row_norm(X, sample_weight):
    """``sqrt(sum_i w_i ||x_i||^2)`` for weights summing to one, overflow-safe.

    The plain computation is used when it is finite and clear of underflow; X
    of huge (1e200) or tiny (1e-200) scale is first divided by its largest
    entry. Any array API namespace.
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


# Inputs whose root mean square entry lies outside this range are divided by it
# before fitting: below ~1e-12 the branch outputs vanish against the intercept
# column in the least-squares weights (the fit silently predicts the mean), and
# above ~1e8 the refinement is badly conditioned and squares overflow.
SAFE_INPUT_SCALE = (1e-6, 1e6)


# Root mean square row norms are estimated on at most about this many rows:
# only their order of magnitude is used.
NORM_ESTIMATE_ROWS = 512


def rms_row_norm_estimate(X_rows, weight_rows):
    """Weighted root mean square row norm of about ``NORM_ESTIMATE_ROWS``
    evenly spaced rows of ``X_rows`` (all of them when there are fewer).

    ``weight_rows`` are the rows' sample weights in any scale; rows whose
    weights are all zero count equally. Overflow-safe; non-finite only when the
    rows are.
    """
    xp, _ = get_namespace(X_rows)
    step = max(X_rows.shape[0] // NORM_ESTIMATE_ROWS, 1)
    X_rows, weight_rows = X_rows[::step, ...], weight_rows[::step]
    if not float(xp.max(weight_rows)) > 0:
        weight_rows = xp.ones_like(weight_rows)
    with np.errstate(all="ignore"):
        return weighted_rms_row_norm(X_rows, normalised_sample_weight(weight_rows))


def input_scale(X_rows, weight_rows):
    """1.0, or the weighted root mean square entry of X when it is extreme.

    ``X_rows`` are rows of X drawn across it (only the order of magnitude
    matters: see :func:`rms_row_norm_estimate`) and ``weight_rows`` their
    sample weights. X is not yet known to be finite here: a non-finite
    estimate gives 1.0 and leaves the report to the finiteness check on the
    moment.

    Fitting on ``X / s`` and dividing the first kernel by ``s`` afterwards is an
    exact reparametrisation of the network (only the first layer's
    pre-activations see X, linearly), so it changes nothing but the rounding.
    """
    if X_rows.shape[1] == 0:
        return 1.0
    rms = rms_row_norm_estimate(X_rows, weight_rows) / np.sqrt(X_rows.shape[1])
    if not np.isfinite(rms) or rms == 0:
        return 1.0
    if SAFE_INPUT_SCALE[0] <= rms <= SAFE_INPUT_SCALE[1]:
        return 1.0
    return float(rms)
