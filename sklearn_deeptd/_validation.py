"""Checks at the estimator's boundary, with the same words on every path.

Arrays in memory (NumPy, or any array API namespace under dispatch) go
through scikit-learn's ``validate_data``; dask arrays are checked chunk by
chunk with the same functions (:func:`check_targets`, :func:`check_weights`,
and the finiteness check of the moment), so that a bad input raises the same
error whichever way it came in. Finiteness of X is checked on the moment's
product, not by ``validate_data``: one pass over X, not two. The parameters
checked against the data live here too: the kernel sizes, given or the
default factorisation of ``n_features``.
"""

import inspect
import math
from numbers import Integral, Real

import numpy as np
from sklearn.externals.array_api_compat import is_array_api_obj
from sklearn.utils.validation import assert_all_finite, validate_data

from ._array_api import to_numpy
from ._sklearn_compat import (
    Interval,
    check_sample_weight,
    check_y,
    get_namespace,
    get_namespace_and_device,
    move_to,
)

_STRING_KINDS = "USV"

# scikit-learn >= 1.9 refuses all-zero weights in check_sample_weight unless
# told otherwise; the summary refuses them itself, with one message for every
# path (a partial_fit batch of zero weight is allowed).
_ALLOW_ZERO_WEIGHTS = (
    {"allow_all_zero_weights": True}
    if "allow_all_zero_weights" in inspect.signature(check_sample_weight).parameters
    else {}
)


class StrictInterval(Interval):
    """An :class:`~sklearn.utils._param_validation.Interval` that refuses
    booleans (``True`` is an ``Integral``, but ``rank=True`` is a mistake)."""

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


def positive_int(low=1):
    """Constraint: an int (not a bool) of at least ``low``."""
    return StrictInterval(Integral, low, None, closed="left")


def non_negative_real():
    """Constraint: a real number (not a bool) of at least 0."""
    return StrictInterval(Real, 0, None, closed="left")


def _holds_strings(values):
    return any(isinstance(value, (str, bytes)) for value in np.ravel(values))


def check_not_strings(value, name, estimator_name):
    """Raise a ValueError naming ``name`` and ``estimator_name`` when
    ``value`` holds strings.

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
                    f"{estimator_name} needs numeric input: encode the column "
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
            f"{name} holds strings (dtype {dtype}); {estimator_name} needs numeric "
            f"input. Convert {name} to numbers explicitly (or encode categories) "
            "before fitting."
        )


def assert_finite(values, input_name, estimator_name=None):
    """scikit-learn's error for NaN or infinite values, in NumPy's words for
    arrays of every namespace (checked where they live, brought to the host
    only to be reported)."""
    if not isinstance(values, np.ndarray):
        xp, _ = get_namespace(values)
        if not xp.isdtype(values.dtype, ("real floating", "complex floating")):
            return  # integers and booleans are finite
        # A finite sum (one number read) means finite values; a sum that
        # overflows asks each value.
        with np.errstate(over="ignore", invalid="ignore"):
            total = complex(xp.sum(values))
        finite_sum = math.isfinite(total.real) and math.isfinite(total.imag)
        if finite_sum or bool(xp.all(xp.isfinite(values))):
            return
        values = to_numpy(values, xp)
    with _huge_values_allowed():
        assert_all_finite(values, input_name=input_name, estimator_name=estimator_name)


def check_min_samples(shape, minimum, estimator_name):
    """scikit-learn's error for too few samples, for arrays it does not read."""
    if shape[0] < minimum:
        raise ValueError(
            f"Found array with {shape[0]} sample(s) (shape={tuple(shape)}) while a "
            f"minimum of {minimum} is required by {estimator_name}."
        )


def _huge_values_allowed():
    # scikit-learn's finiteness check sums the values first: finite values
    # near the largest float overflow that sum, which is no error of theirs.
    return np.errstate(over="ignore", invalid="ignore")


def check_targets(y, estimator_name):
    """Targets as a finite 1-D array, or a 2-D one for several targets (what
    ``validate_data`` checks of y)."""
    with _huge_values_allowed():
        return check_y(
            y, multi_output=y.ndim == 2, y_numeric=True, estimator=estimator_name
        )


def check_target_shape(y, estimator_name):
    """What scikit-learn's checks say of a scalar, sparse or 3-D y, for the
    estimators that also take a 2-D y (whose own check accepts the first two)."""
    if y is None:
        return
    # np.ndim would call __array_function__, which some array-likes refuse.
    ndim = getattr(y, "ndim", None)
    if ndim is None:
        ndim = np.asarray(y).ndim
    if hasattr(y, "toarray"):
        raise TypeError(
            "Sparse data was passed for y, but dense data is required. Use "
            "'.toarray()' to convert to a dense numpy array."
        )
    if ndim == 0:
        raise ValueError("y should be a 1d array, got an array of shape () instead.")
    if ndim > 2:
        raise ValueError(
            f"Found array with dim {ndim}, while dim <= 2 is required by "
            f"{estimator_name}."
        )


def check_weights(sample_weight, X):
    """Finite, non-negative float weights, one per row of X, or a scalar."""
    with _huge_values_allowed():
        return check_sample_weight(
            sample_weight, X, ensure_non_negative=True, **_ALLOW_ZERO_WEIGHTS
        )


def _float_dtypes(namespace):
    xp = np if namespace is None else namespace[0]
    return [xp.float64, xp.float32]


def _follow(value, namespace):
    """A target or weight array moved to X's ``namespace = (xp, device)``;
    lists and pandas objects become NumPy first, None and scalars stay."""
    if value is None or np.ndim(value) == 0:
        return value
    xp, device = namespace
    if is_array_api_obj(value):
        value_xp, _, value_device = get_namespace_and_device(value)
        if value_xp is xp and value_device == device:
            return value
    else:
        value = np.asarray(value)
    return move_to(value, xp=xp, device=device)


def validate_training_data(
    estimator,
    X,
    y,
    sample_weight,
    *,
    reset,
    min_samples,
    namespace=None,
    multi_output=False,
    labels=False,
):
    """Validated X (float64 or float32, never copied), y and weights (None
    stays None: equal weights), in X's namespace (``namespace``: ``(xp,
    device)`` of an array under array API dispatch, None for NumPy).

    ``multi_output`` allows a 2-D y of several targets; ``labels`` takes y as
    class labels (of any type, not converted to numbers)."""
    if multi_output:
        check_target_shape(y, type(estimator).__name__)
    if namespace is None:
        checked = ((X, "X"), (sample_weight, "sample_weight"))
        if not labels:
            checked += ((y, "y"),)
        for value, name in checked:
            check_not_strings(value, name, type(estimator).__name__)
    else:
        # Everything follows X: targets and weights move to its namespace.
        y, sample_weight = (_follow(value, namespace) for value in (y, sample_weight))
        name = type(estimator).__name__
        for value, input_name in ((y, "y"), (sample_weight, "sample_weight")):
            if getattr(value, "ndim", None) == 1:
                assert_finite(value, input_name, name)
    with _huge_values_allowed():
        X, y = validate_data(
            estimator,
            X,
            y,
            dtype=_float_dtypes(namespace),
            ensure_all_finite=False,
            y_numeric=not labels,
            multi_output=multi_output,
            ensure_min_samples=min_samples,
            reset=reset,
        )
    if sample_weight is not None:
        sample_weight = check_weights(sample_weight, X)
    return X, y, sample_weight


def validate_prediction_data(estimator, X, namespace=None):
    """Validated, finite X with the features seen in fit."""
    if namespace is None:
        check_not_strings(X, "X", type(estimator).__name__)
    with _huge_values_allowed():
        return validate_data(estimator, X, dtype=_float_dtypes(namespace), reset=False)


# The kernel sizes: the default factorisation of n_features, or the given
# sizes checked against it.
_DEFAULT_MAX_DEPTH = 3


def _prime_factors(n):
    factors = []
    divisor = 2
    while divisor * divisor <= n:
        while n % divisor == 0:
            factors.append(divisor)
            n //= divisor
        divisor += 1
    if n > 1:
        factors.append(n)
    return factors


def default_kernel_sizes(n_features, max_depth=_DEFAULT_MAX_DEPTH):
    """Deterministic factorisation of ``n_features`` into at most ``max_depth`` sizes.

    The prime factors of ``n_features`` are dealt out, largest first, each to the
    layer whose product is currently smallest (the earliest such layer on ties);
    layers left at 1 are dropped. For example 512 -> (8, 8, 8),
    64 -> (4, 4, 4), 30 -> (5, 3, 2), 10 -> (5, 2), a prime p -> (p,) and
    1 -> (1,).
    """
    sizes = [1] * max_depth
    for factor in sorted(_prime_factors(n_features), reverse=True):
        sizes[int(np.argmin(sizes))] *= factor
    sizes = tuple(size for size in sizes if size > 1)
    return sizes or (1,)


def check_kernel_sizes(kernel_sizes, n_features):
    """Validate explicit kernel sizes against ``n_features``; return a tuple of int."""
    if isinstance(kernel_sizes, (str, bytes)) or not np.iterable(kernel_sizes):
        raise ValueError(
            "kernel_sizes must be a sequence of positive integers, got "
            f"{kernel_sizes!r}."
        )
    if isinstance(kernel_sizes, (set, frozenset, dict)):
        # Their iteration order is not the layer order the user meant.
        raise ValueError(
            "kernel_sizes must be an ordered sequence (tuple, list or 1-D array), "
            f"input layer first; got a {type(kernel_sizes).__name__}."
        )
    sizes = list(kernel_sizes)
    if not sizes:
        raise ValueError("kernel_sizes must contain at least one kernel size.")
    for size in sizes:
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, Integral):
            raise ValueError(
                f"kernel_sizes must contain only integers; got {size!r} "
                f"in {tuple(kernel_sizes)!r}."
            )
        if size <= 0:
            raise ValueError(
                f"kernel_sizes must be positive; got {int(size)} in "
                f"{tuple(int(s) for s in sizes)!r}."
            )
    sizes = tuple(int(size) for size in sizes)
    product = int(np.prod(sizes, dtype=object))
    if n_features is not None and product != n_features:
        raise ValueError(
            f"kernel_sizes {sizes} multiply to {product}, but X has {n_features} "
            "features; their product must equal the number of features."
        )
    return sizes
