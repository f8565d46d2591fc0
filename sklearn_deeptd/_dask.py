"""Dask arrays: the moment reduced over chunks, a gathered subsample, lazy data.

``DeepTDRegressor.fit`` on a ``dask.array`` never materialises ``X``: every row
chunk is reduced, where it lives, to ``2 * n_features + 3`` numbers (its total
weight, the weighted mean and sum of squared deviations of ``y``, ``sum w x``
and ``sum w (y - mean_chunk) x``), and the chunks' statistics are combined on
the client with the parallel (Chan et al.) formulas, which centre exactly
without a second pass. The sign search, the branch weights and the refinement
run on a subsample of rows (runs of 32) drawn from ``random_state`` and gathered by
fancy indexing, in the same ``dask.compute`` call as the statistics, so that
each chunk is read (or generated) once.
"""

import numpy as np
from sklearn.utils.validation import assert_all_finite

from ._activations import ACTIVATIONS
from ._moment import check_finite_product, cross_product

DASK_EXTRA_MESSAGE = (
    "{what} needs dask: install the optional extra with "
    "`pip install 'sklearn-deeptd[dask]'` (dask[array,distributed])."
)


def is_dask_array(value):
    """Whether ``value`` is a ``dask.array.Array`` (without importing dask)."""
    module = type(value).__module__
    return module.split(".")[0] == "dask" and hasattr(value, "chunks")


def import_dask_array(what="This feature"):
    """``dask.array``, or an ImportError naming the ``dask`` extra."""
    try:
        import dask
        import dask.array as da
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(DASK_EXTRA_MESSAGE.format(what=what)) from error
    return dask, da


def _row_chunks(X):
    chunks = X.chunks[0]
    if any(np.isnan(size) for size in chunks):
        raise ValueError(
            "The dask array X has unknown chunk sizes; call "
            "X.compute_chunk_sizes() before fitting."
        )
    return chunks


def as_row_chunked(da, X, name="X"):
    """X as a 2-D floating dask array with one chunk along the features."""
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D dask array for {name}, got {X.ndim}-D.")
    _row_chunks(X)
    if X.dtype not in (np.float32, np.float64):
        if X.dtype.kind not in "biuf":
            raise ValueError(
                f"{name} has dtype {X.dtype}; DeepTDRegressor needs real numbers."
            )
        X = X.astype(np.float64)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def as_vector_like(da, value, X, name):
    """A 1-D float64 dask array with the row chunks of ``X`` (value may be numpy)."""
    n_samples = X.shape[0]
    if is_dask_array(value):
        if value.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {value.shape}.")
        if np.isnan(value.shape[0]) or any(np.isnan(c) for c in value.chunks[0]):
            raise ValueError(
                f"The dask array {name} has unknown chunk sizes; call "
                f"{name}.compute_chunk_sizes() first."
            )
        if value.dtype.kind not in "biuf":
            raise ValueError(f"{name} has dtype {value.dtype}; expected numbers.")
    else:
        value = np.asarray(value)
        if value.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {value.shape}.")
        if value.dtype.kind not in "biuf":
            raise ValueError(f"{name} has dtype {value.dtype}; expected numbers.")
    if value.shape[0] != n_samples:
        raise ValueError(
            f"X has {n_samples} samples but {name} has {value.shape[0]}: "
            "they must have the same number of rows."
        )
    if not is_dask_array(value):
        value = da.from_array(value, chunks=(X.chunks[0],))
    value = value.astype(np.float64)
    if value.chunks[0] != X.chunks[0]:
        value = value.rechunk((X.chunks[0],))
    return value


def chunk_statistics(X, y, sample_weight, estimator_name=None):
    """The sufficient statistics of one row chunk, as one row of floats.

    Returns an array of shape ``(1, 2 * n_features + 3)``:
    ``[sum w, mean_w y, sum w (y - mean)^2, sum w x..., sum w (y - mean) x...]``
    with ``mean`` the weighted mean of the chunk's ``y`` (0 when the chunk has
    zero weight). ``y`` and ``sample_weight`` arrive as ``(n, 1)`` blocks.
    Non-finite entries and negative weights raise the usual ValueError, on the
    worker (dask re-raises it on the client).
    """
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    assert_all_finite(y, input_name="y", estimator_name=estimator_name)
    assert_all_finite(weight, input_name="sample_weight")
    if np.any(weight < 0):
        raise ValueError("Negative values in data passed to sample_weight.")
    total = float(weight.sum())
    mean = float(weight @ y / total) if total > 0 else 0.0
    deviation = y - mean
    weighted = weight * deviation
    product = cross_product(X, np.stack([weight, weighted], axis=1))
    # A NaN or infinity of X in a row of positive weight makes the product
    # non-finite; rows of zero weight are looked at directly.
    check_finite_product(X, weight, product, estimator_name)
    row = np.concatenate(
        [[total, mean, float(weighted @ deviation)], product[:, 0], product[:, 1]]
    )
    return row[None, :]


def combine_statistics(rows, n_features):
    """Total weight, weighted mean and std of ``y``, and ``sum w (y - mean) x``.

    ``rows`` stacks :func:`chunk_statistics` of every chunk. The covariance of
    the whole is that of each chunk plus ``(mean_chunk - mean) * sum_chunk w x``
    (and likewise for the squared deviations of ``y``): exact centring from one
    pass, without the cancellation of raw sums.
    """
    totals, means, squares = rows[:, 0], rows[:, 1], rows[:, 2]
    sum_wx = rows[:, 3 : 3 + n_features]
    sum_wdx = rows[:, 3 + n_features :]
    total = float(totals.sum())
    if not total > 0:
        raise ValueError(
            "sample_weight must contain at least one positive weight; all the "
            "weights are zero."
        )
    mean = float(totals @ means / total)
    shift = means - mean
    squared = float(squares.sum() + totals @ shift**2)
    centred = sum_wdx.sum(axis=0) + shift @ sum_wx
    std = float(np.sqrt(max(squared / total, 0.0)))
    return total, mean, std, centred


def predict_chunk(X, kernels, weights, intercept, activation_names):
    """Network output on one row chunk (float64), for ``map_blocks``."""
    from ._network import predict_network

    activations = [ACTIVATIONS[name] for name in activation_names]
    X = np.ascontiguousarray(X, dtype=np.float64)
    return predict_network(X, kernels, weights, intercept, activations)


def planted_chunk(n_rows, seed, network):
    """Inputs and labels of one chunk of a planted data set, from its own seed
    (``network`` names its activations, to travel light to the workers)."""
    from ._datasets import draw_planted_rows

    activations = [ACTIVATIONS[name] for name in network["activations"]]
    network = {**network, "activations": activations}
    return draw_planted_rows(np.random.RandomState(seed), n_rows, network)


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
