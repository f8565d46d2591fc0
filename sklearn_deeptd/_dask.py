"""Dask arrays: the moment reduced over chunks, a gathered subsample, lazy data.

``DeepTDRegressor.fit`` on a ``dask.array`` never materialises ``X``: every row
chunk is reduced, where it lives, to ``2 * n_features + 3`` numbers
(:func:`~sklearn_deeptd._streaming.chunk_statistics`, the statistics
``partial_fit`` accumulates), merged exactly on the client. The sign search,
the branch weights and the refinement run on a subsample of rows (runs of 32)
drawn from ``random_state`` and gathered by fancy indexing, in the same
``dask.compute`` call as the statistics, so that each chunk is read (or
generated) once.
"""

import numpy as np

from ._activations import ACTIVATIONS

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
