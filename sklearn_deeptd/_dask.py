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

import numpy as np
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    assert_all_finite,
    check_consistent_length,
)

from ._activations import ACTIVATIONS
from ._moment import MomentStatistics, block_statistics, merge_statistics
from ._network import network_output
from ._subsample import (
    Rows,
    SubsamplePlan,
    plan_subsamples,
    rows_with_weight,
    subsample_plan,
)
from ._summary import summarise
from ._validation import check_min_samples, check_targets, check_weights

DASK_EXTRA_MESSAGE = (
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
        raise ImportError(DASK_EXTRA_MESSAGE.format(what=what)) from error
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


def _row_chunked(da, X, estimator_name):
    """X as a 2-D floating dask array with one chunk along the features."""
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D dask array for X, got {X.ndim}-D.")
    if any(np.isnan(size) for size in X.chunks[0]):
        raise ValueError(
            "The dask array X has unknown chunk sizes; call "
            "X.compute_chunk_sizes() before fitting."
        )
    if X.dtype not in (np.float32, np.float64):
        if X.dtype.kind not in "biuf":
            raise ValueError(
                f"X has dtype {X.dtype}; {estimator_name} needs real numbers."
            )
        X = X.astype(np.float64)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def _vector_like(da, value, X, name):
    """A 1-D dask array with the row chunks of ``X`` (``value`` may be NumPy,
    and a scalar ``sample_weight`` weighs every row alike)."""
    if name == "sample_weight" and np.ndim(value) == 0 and not is_dask_array(value):
        return da.full(X.shape[0], float(value), chunks=(X.chunks[0],))
    if is_dask_array(value):
        if any(np.isnan(size) for size in value.chunks[0]):
            raise ValueError(
                f"The dask array {name} has unknown chunk sizes; call "
                f"{name}.compute_chunk_sizes() first."
            )
    else:
        value = np.asarray(value)
    if value.ndim == 2 and value.shape[1] == 1:
        value = value[:, 0]
    if value.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {tuple(value.shape)}.")
    check_consistent_length(X, value)
    if not is_dask_array(value):
        value = da.from_array(value, chunks=(X.chunks[0],))
    if value.chunks[0] != X.chunks[0]:
        value = value.rechunk((X.chunks[0],))
    return value


def validate_dask_data(estimator, X, y, sample_weight):
    """What can be checked of dask training data without reading it.

    The rest (finiteness, negative weights) is checked chunk by chunk where
    the chunks are read, by the checks of every other fit.
    """
    name = type(estimator).__name__
    _, da = import_dask_array(f"{name}.fit on a dask array")
    X = _row_chunked(da, X, name)
    check_min_samples(X.shape, 2, name)
    _check_n_features(estimator, X, reset=True)
    _check_feature_names(estimator, X, reset=True)
    y = _vector_like(da, y, X, "y")
    if sample_weight is not None:
        sample_weight = _vector_like(da, sample_weight, X, "sample_weight")
    return X, y, sample_weight


def _chunk_statistics(X, y, sample_weight, estimator_name):
    """Statistics of one validated row chunk, as one row (for map_blocks)."""
    y = check_targets(y.reshape(-1), estimator_name)
    if sample_weight is not None:
        sample_weight = check_weights(sample_weight.reshape(-1), X)
    return block_statistics(X, y, sample_weight, estimator_name=estimator_name).to_row()


def summarise_dask(X, y, sample_weight, sizes, random_state, *, center, estimator_name):
    """The :class:`~._summary.DataSummary` of validated dask arrays.

    One ``dask.compute`` reduces every row chunk to its statistics and gathers
    the pool of ``sizes`` rows drawn from ``random_state`` among all rows;
    rows of zero weight are then dropped from the pool and the subsamples
    drawn again among the others (a mask of all rows' weights is not
    gathered, unlike in memory).
    """
    dask, da = import_dask_array()
    n_samples, n_features = X.shape
    pool_rows, (search, refine) = subsample_plan(n_samples, sizes, random_state)
    weight_blocks = None if sample_weight is None else sample_weight[:, None]
    rows = da.map_blocks(
        _chunk_statistics,
        X,
        y[:, None],
        weight_blocks,
        estimator_name,
        chunks=((1,) * len(X.chunks[0]), (2 * n_features + 6,)),
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )
    gathered = [X[pool_rows], y[pool_rows]]
    if sample_weight is not None:
        gathered.append(sample_weight[pool_rows])
    rows, *pool = dask.compute(rows, *gathered)
    statistics = merge_statistics([MomentStatistics.from_row(row) for row in rows])
    # Copies: the summary scales its pool in place, and a computed slice of a
    # dask array made from NumPy may be a view of that array.
    pool = [np.array(array, dtype=np.float64) for array in pool]
    if sample_weight is None:
        pool.append(np.ones(pool[1].shape[0]))
    plan = SubsamplePlan(pool_rows, search, refine)
    kept = rows_with_weight(pool[2])
    if kept is not None:
        pool = [array[kept] for array in pool]
        plan = plan_subsamples(kept.size, None, sizes, random_state)
    return summarise(statistics, Rows(*pool), plan, center=center)


def predict_dask(estimator, X):
    """A lazy dask array of predictions, one block per row chunk of ``X``."""
    name = type(estimator).__name__
    _, da = import_dask_array(f"{name}.predict on a dask array")
    X = _row_chunked(da, X, name)
    _check_n_features(estimator, X, reset=False)
    return X.map_blocks(
        _predict_chunk,
        [np.asarray(kernel) for kernel in estimator.kernels_],
        np.asarray(estimator.weights_),
        float(estimator.intercept_),
        float(estimator.input_scale_),
        tuple(estimator.activations_),
        name,
        drop_axis=1,
        dtype=np.float64,
        meta=np.empty(0),
    )


def _predict_chunk(X, kernels, weights, intercept, input_scale, names, estimator_name):
    """Network output on one row chunk, checked like any input of predict."""
    assert_all_finite(X, input_name="X", estimator_name=estimator_name)
    activations = [ACTIVATIONS[name] for name in names]
    return network_output(X, kernels, weights, intercept, activations, input_scale)
