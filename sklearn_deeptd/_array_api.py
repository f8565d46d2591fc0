"""Array API support: which namespace and device an array lives in, and moves.

With ``sklearn.set_config(array_api_dispatch=True)`` and a non-NumPy input
(a CuPy array, a PyTorch tensor, array-api-strict, ...), a fit reads its
rows where they live: the moment pass and the gathering of the subsample run
in that namespace and on that device. The subsample crosses to the host once,
with the moment, and the fitted arrays go back in one transfer; only a
refinement on every row (``refine_samples=None``) keeps the rows, and its
passes, on the device, where the passes are written against the array API.
"""

import math

import numpy as np
from sklearn import get_config
from sklearn.externals.array_api_compat import array_namespace, is_array_api_obj

from ._sklearn_compat import (
    convert_to_numpy,
    get_namespace_and_device,
    is_numpy_namespace,
    max_precision_float_dtype,
)


def dispatched_namespace(X):
    """``(xp, device)`` under array API dispatch for a non-NumPy ``X``, else None."""
    if not get_config()["array_api_dispatch"]:
        return None
    xp, _, device = get_namespace_and_device(X)
    if is_numpy_namespace(xp):
        return None
    return xp, device


def to_numpy(array, xp=None):
    """A NumPy copy (or view) of an array of any namespace and device (anything
    else, None, a scalar or a list, is returned as it is), with or without
    array API dispatch."""
    if isinstance(array, (np.ndarray, np.generic)) or not is_array_api_obj(array):
        return array
    if xp is None:
        # Not get_namespace: without dispatch it answers NumPy for a GPU array.
        xp = array_namespace(array)
    return convert_to_numpy(array, xp)


def take_rows(array, rows):
    """Rows (a slice, sorted NumPy indices, or such indices already in the
    array's namespace: see :func:`indices_to_namespace`) of an array of any
    namespace."""
    if isinstance(array, np.ndarray):
        return array[rows]
    if isinstance(rows, slice):
        return array[(rows,) + (slice(None),) * (array.ndim - 1)]
    xp, _, device = get_namespace_and_device(array)
    return xp.take(array, indices_to_namespace(rows, (xp, device)), axis=0)


def indices_to_namespace(rows, namespace):
    """Row indices moved to ``namespace = (xp, device)`` (a transfer to the
    device), unless they are there already."""
    if not isinstance(rows, np.ndarray):
        return rows
    xp, device = namespace
    return xp.asarray(rows, device=device)


# The widest float of each (namespace, device): asking a namespace which
# dtypes a device has runs operations on it (five on PyTorch's CPU), and a fit
# asks often.
_WIDEST_FLOATS = {}


def float_dtype(xp, device):
    """float64 where the device has it (not e.g. Apple MPS), else float32."""
    if is_numpy_namespace(xp):
        return xp.float64
    key = (xp.__name__, str(device))
    if key not in _WIDEST_FLOATS:
        _WIDEST_FLOATS[key] = max_precision_float_dtype(xp, device)
    return _WIDEST_FLOATS[key]


def all_to_numpy(arrays):
    """Arrays of one namespace (another than NumPy) brought to the host as
    NumPy float64 in one transfer: one flat array, in the first array's
    dtype, split there into views. The inverse of :func:`all_to_namespace`."""
    xp, _, _ = get_namespace_and_device(arrays[0])
    dtype = arrays[0].dtype
    flat = xp.concat(
        [xp.reshape(xp.astype(array, dtype, copy=False), (-1,)) for array in arrays]
    )
    host = np.asarray(to_numpy(flat, xp), dtype=np.float64)
    ends = np.cumsum([math.prod(array.shape) for array in arrays])[:-1]
    return [
        piece.reshape(tuple(array.shape))
        for piece, array in zip(np.split(host, ends), arrays)
    ]


def all_to_namespace(arrays, namespace):
    """NumPy float64 arrays moved to ``namespace = (xp, device)`` in one
    transfer (one flat array, split there into views); the arrays themselves
    when ``namespace`` is None."""
    if namespace is None:
        return list(arrays)
    arrays = [np.asarray(array) for array in arrays]
    flat = to_namespace(np.concatenate([array.ravel() for array in arrays]), namespace)
    xp, _ = namespace
    moved, start = [], 0
    for array in arrays:
        moved.append(xp.reshape(flat[start : start + array.size], array.shape))
        start += array.size
    return moved


def to_namespace(array, namespace):
    """A NumPy float64 array moved to ``namespace = (xp, device)`` (its widest
    float); the array itself when ``namespace`` is None."""
    if namespace is None:
        return array
    xp, device = namespace
    return xp.asarray(np.asarray(array), dtype=float_dtype(xp, device), device=device)
