"""Dask arrays: the moment reduced over chunks, a gathered subsample, lazy predictions.

``DeepTDRegressor.fit`` on a ``dask.array`` never materialises ``X``: every row
chunk is validated and reduced, where it lives, to its
:class:`~._moment.MomentStatistics` (the same function and checks as every
other fit), merged exactly on the client. The sign search, the branch weights
and the refinement run on a subsample of rows (runs of 32) drawn from
``random_state`` and gathered by fancy indexing in the same ``dask.compute``
call, so that each chunk is read (or generated) once; the summary and the
solver are those of every fit.
"""

import warnings

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import check_array, check_consistent_length

from ._activations import ACTIVATIONS
from ._moment import MomentStatistics, block_statistics, merge_statistics
from ._network import network_output
from ._sklearn_compat import check_feature_names, check_n_features
from ._subsample import Rows, SubsamplePlan, plan_subsamples
from ._summary import summarise
from ._validation import (
    assert_finite,
    check_min_samples,
    check_not_strings,
    check_target_shape,
    check_targets,
    check_weights,
)

_DASK_EXTRA_MESSAGE = (
    "{what} needs dask: install the optional extra with "
    "`pip install 'sklearn-deeptd[dask]'` (dask[array,distributed])."
)

PARTIAL_FIT_MESSAGE = (
    "partial_fit does not take dask arrays; fit takes them whole, or pass the "
    "computed chunks (numpy) one by one."
)


def is_dask_array(value):
    """Whether ``value`` is a ``dask.array.Array`` (without importing dask)."""
    module = type(value).__module__
    return module.split(".")[0] == "dask" and hasattr(value, "chunks")


def import_dask_array(what="This feature"):
    """``dask`` and ``dask.array``, or an ImportError naming the ``dask`` extra."""
    try:
        import dask
        import dask.array as da
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(_DASK_EXTRA_MESSAGE.format(what=what)) from error
    return dask, da


def normalise_chunks(chunks, n_samples):
    """Row chunk sizes from an int (rows per chunk) or a tuple of sizes."""
    if isinstance(chunks, (bool, np.bool_)):
        raise ValueError(f"chunks must be a positive integer or a tuple, got {chunks}.")
    if isinstance(chunks, (int, np.integer)):
        if chunks < 1:
            raise ValueError(f"chunks must be a positive integer, got {chunks}.")
        full, rest = divmod(n_samples, int(chunks))
        return (int(chunks),) * full + ((rest,) if rest else ())
    try:
        if isinstance(chunks, str):
            raise TypeError
        sizes = tuple(int(size) for size in chunks)
    except (TypeError, ValueError):
        raise ValueError(
            f"chunks must be a positive integer or a tuple of them, got {chunks!r}."
        ) from None
    if any(size < 1 for size in sizes) or sum(sizes) != n_samples:
        raise ValueError(
            f"chunks {sizes} must be positive sizes adding up to n_samples={n_samples}."
        )
    return sizes


def _check_dtype(value, name, estimator_name):
    """What ``validate_data`` says of a non-numeric dtype, read off the dtype
    alone (a dask array of objects is not scanned)."""
    if value.dtype.kind in "USV":
        check_not_strings(value, name, estimator_name)
    if value.dtype.kind == "c":
        raise ValueError(f"Complex data not supported in {name}.")
    if value.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} has dtype {value.dtype}; {estimator_name} needs real numbers."
        )


def _known_chunks(value, name):
    if any(np.isnan(size) for size in value.chunks[0]):
        raise ValueError(
            f"The dask array {name} has unknown chunk sizes; call "
            f"{name}.compute_chunk_sizes() before fitting."
        )


def _row_chunked(X, estimator_name):
    """X as a 2-D floating dask array with one chunk along the features."""
    if X.ndim > 2:
        # scikit-learn's own words, from an empty array of the same dimension.
        check_array(np.empty((1,) * X.ndim), estimator=estimator_name)
    if X.ndim != 2:
        raise ValueError(f"Expected 2D array, got {X.ndim}D array instead.")
    _known_chunks(X, "X")
    _check_dtype(X, "X", estimator_name)
    if X.shape[1] < 1:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 "
            f"is required by {estimator_name}."
        )
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def _targets(da, y, X, estimator_name, multi_output, labels):
    """y as a dask array with the row chunks of X (y may be NumPy): 1-D, or
    2-D with one chunk along its columns where several targets are allowed;
    class labels of any dtype."""
    if multi_output:
        check_target_shape(y, estimator_name)
    y = y if is_dask_array(y) else np.asarray(y)
    if multi_output and y.ndim == 2:
        check_consistent_length(X, y)
        _check_dtype(y, "y", estimator_name)
        y = _row_chunks_of(da, y, X, "y")
        return y.rechunk({1: -1}) if len(y.chunks[1]) > 1 else y
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please "
            "change the shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
        )
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"y should be a 1d array, got an array of shape {y.shape} instead."
        )
    check_consistent_length(X, y)
    if not labels:
        _check_dtype(y, "y", estimator_name)
    return _row_chunks_of(da, y, X, "y")


def _weights(da, sample_weight, X, estimator_name):
    """Weights as a 1-D dask array with the row chunks of X (NumPy, dask, or
    a scalar that weighs every row alike)."""
    n_samples = X.shape[0]
    if not is_dask_array(sample_weight) and np.ndim(sample_weight) == 0:
        return da.full(n_samples, float(sample_weight), chunks=(X.chunks[0],))
    if not is_dask_array(sample_weight):
        sample_weight = np.asarray(sample_weight)
    if sample_weight.ndim != 1:
        raise ValueError(
            f"Sample weights must be 1D array or scalar, got {sample_weight.ndim}D "
            "array. Expected either a scalar value or a 1D array of length "
            f"{n_samples}."
        )
    if sample_weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight.shape == {sample_weight.shape}, expected {(n_samples,)}!"
        )
    _check_dtype(sample_weight, "sample_weight", estimator_name)
    return _row_chunks_of(da, sample_weight, X, "sample_weight")


def _row_chunks_of(da, value, X, name):
    if not is_dask_array(value):
        return da.from_array(value, chunks=(X.chunks[0],) + value.shape[1:])
    _known_chunks(value, name)
    if value.chunks[0] != X.chunks[0]:
        value = value.rechunk({0: X.chunks[0]})
    return value


def validate_dask_data(
    estimator, X, y, sample_weight, *, multi_output=False, labels=False
):
    """What can be checked of dask training data without reading it, in the
    words of ``validate_data``.

    The rest (finiteness, negative weights) is checked chunk by chunk where
    the chunks are read, by the checks of every other fit.
    """
    name = type(estimator).__name__
    _, da = import_dask_array(f"{name}.fit on a dask array")
    X = _row_chunked(X, name)
    check_min_samples(X.shape, 2, name)
    check_n_features(estimator, X, reset=True)
    check_feature_names(estimator, X, reset=True)
    y = _targets(da, y, X, name, multi_output, labels)
    if sample_weight is not None:
        sample_weight = _weights(da, sample_weight, X, name)
    return X, y, sample_weight


def _chunk_statistics(X, y, sample_weight, estimator_name):
    """Statistics of one validated row chunk, as one row (for map_blocks):
    the rows of each target column, side by side."""
    y = check_targets(y if y.shape[1] > 1 else y.reshape(-1), estimator_name)
    if sample_weight is not None:
        sample_weight = check_weights(sample_weight.reshape(-1), X)
    statistics = block_statistics(X, y, sample_weight, estimator_name=estimator_name)
    columns = statistics if isinstance(statistics, tuple) else (statistics,)
    return np.concatenate([column.to_row() for column in columns], axis=1)


def _merged(rows, n_features, n_targets):
    """The merged statistics of the chunks' rows (see _chunk_statistics)."""
    width = 2 * n_features + 6
    columns = [
        merge_statistics(
            [
                MomentStatistics.from_row(row[k * width : (k + 1) * width])
                for row in rows
            ]
        )
        for k in range(n_targets)
    ]
    return tuple(columns) if n_targets > 1 else columns[0]


def summarise_dask(
    X,
    y,
    sample_weight,
    sizes,
    random_state,
    *,
    center,
    estimator_name,
    standardise_targets=True,
):
    """The :class:`~._summary.DataSummary` of validated dask arrays.

    The subsamples are planned as in memory (among the rows of positive
    weight, from ``random_state``); then one ``dask.compute`` reduces every
    row chunk to its statistics and gathers the planned rows, so that each
    chunk of X is read (or generated) once.
    """
    dask, da = import_dask_array()
    n_features = X.shape[1]
    n_targets = 1 if y.ndim == 1 else y.shape[1]
    plan = _plan(dask, X, sample_weight, sizes, random_state)
    rows = da.map_blocks(
        _chunk_statistics,
        X,
        y[:, None] if y.ndim == 1 else y,
        None if sample_weight is None else sample_weight[:, None],
        estimator_name,
        chunks=((1,) * len(X.chunks[0]), (n_targets * (2 * n_features + 6),)),
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )
    gathered = [X[plan.pool_rows], y[plan.pool_rows]]
    if sample_weight is not None:
        gathered.append(sample_weight[plan.pool_rows])
    rows, *pool = dask.compute(rows, *gathered)
    statistics = _merged(rows, n_features, n_targets)
    # Copies: the summary scales its pool in place, and a computed slice of a
    # dask array made from NumPy may be a view of that array.
    pool = [np.array(array, dtype=np.float64) for array in pool]
    if sample_weight is None:
        pool.append(np.ones(pool[1].shape[0]))
    return summarise(
        statistics,
        Rows(*pool),
        plan,
        center=center,
        standardise_targets=standardise_targets,
    )


def _plan(dask, X, sample_weight, sizes, random_state):
    """The :class:`~._subsample.SubsamplePlan` that ``plan_subsamples`` gives
    in memory, without gathering the weights: a pass over them counts the
    rows of positive weight in each chunk, and, where some are zero, a second
    finds the planned ones."""
    n_samples = X.shape[0]
    if sample_weight is None:
        return plan_subsamples(n_samples, None, sizes, random_state)
    positive = sample_weight > 0
    counts = positive.map_blocks(
        lambda block: np.array([np.count_nonzero(block)]),
        chunks=((1,) * len(X.chunks[0]),),
        dtype=np.int64,
    ).compute()
    n_positive = int(counts.sum())
    if n_positive == n_samples:
        return plan_subsamples(n_samples, None, sizes, random_state)
    plan = plan_subsamples(n_positive, None, sizes, random_state)
    # Positions among the rows of positive weight (all of them only when they
    # fit in the pool: no index array of the data's length).
    wanted = plan.pool_rows
    if isinstance(wanted, slice):
        wanted = np.arange(n_positive)
    firsts = np.concatenate([[0], np.cumsum(counts)])
    starts = np.concatenate([[0], np.cumsum(X.chunks[0])])
    pieces = []
    for chunk, block in enumerate(positive.to_delayed()):
        lo, hi = np.searchsorted(wanted, firsts[chunk : chunk + 2])
        if hi > lo:
            ranks = wanted[lo:hi] - firsts[chunk]
            pieces.append(dask.delayed(_rows_of_positive)(block, ranks, starts[chunk]))
    rows = np.concatenate([np.empty(0, dtype=np.intp), *dask.compute(*pieces)])
    return SubsamplePlan(rows, plan.search, plan.refine)


def _rows_of_positive(positive, ranks, start):
    """Rows of a chunk holding its ``ranks``-th rows of positive weight."""
    return start + np.flatnonzero(positive)[ranks]


def predict_dask(estimator, X):
    """A lazy dask array of the network's outputs, one block per row chunk of
    ``X``: of shape (n,) for one output, (n, m) for ``m``."""
    name = type(estimator).__name__
    import_dask_array(f"{name}.predict on a dask array")
    X = _row_chunked(X, name)
    check_n_features(estimator, X, reset=False)
    weights = np.asarray(estimator.weights_)
    shape = {"drop_axis": 1, "meta": np.empty(0)}
    if weights.ndim == 2:
        shape = {"chunks": (X.chunks[0], weights.shape[1:]), "meta": np.empty((0, 0))}
    return X.map_blocks(
        _predict_chunk,
        [np.asarray(kernel) for kernel in estimator.kernels_],
        weights,
        np.asarray(estimator.intercept_, dtype=np.float64),
        float(estimator.input_scale_),
        tuple(estimator.activations_),
        name,
        dtype=np.float64,
        **shape,
    )


def _predict_chunk(X, kernels, weights, intercept, input_scale, names, estimator_name):
    """Network output on one row chunk, checked like any input of predict."""
    assert_finite(X, "X", estimator_name)
    activations = [ACTIVATIONS[name] for name in names]
    return network_output(X, kernels, weights, intercept, activations, input_scale)
