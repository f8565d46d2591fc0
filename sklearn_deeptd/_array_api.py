"""Array API support: helpers to run a fit in the input's namespace and device.

With ``sklearn.set_config(array_api_dispatch=True)`` and a non-NumPy input
(a CuPy array, a PyTorch tensor, array-api-strict, ...), ``fit`` computes the
target statistics and the moment ``X.T @ (w * (y - mean y))`` with that
namespace's functions on the input's device, gathers its subsamples there, and
runs the decomposition, the sign search and the refinement's forward and
backward passes there too (they are written against the array API). What
comes to the host is small: the starts' errors, correlations, the factors'
signs, the refinement's parameter vector for scipy's L-BFGS, and, only when
some sample weights are zero, the mask of weighted rows (n booleans), from
which the subsamples are drawn. ``predict`` evaluates the network on the
device.
"""

import numpy as np
from sklearn import get_config
from sklearn.utils._array_api import (
    _convert_to_numpy,
    _is_numpy_namespace,
    _max_precision_float_dtype,
    get_namespace_and_device,
    move_to,
)
from sklearn.utils.validation import assert_all_finite

from ._activations import ACTIVATIONS
from ._moment import check_finite_product, standardised_multipliers
from ._network import forward
from ._validation import normalised_sample_weight

# predict evaluates the network on blocks of this many rows on the device.
DEVICE_BLOCK_ROWS = 2**16


def dispatched_namespace(X):
    """``(xp, device)`` under array API dispatch for a non-NumPy ``X``, else None."""
    if not get_config()["array_api_dispatch"]:
        return None
    xp, _, device = get_namespace_and_device(X)
    if _is_numpy_namespace(xp):
        return None
    return xp, device


def to_numpy(array, xp=None):
    """A NumPy copy (or view) of an array of any namespace."""
    if isinstance(array, np.ndarray):
        return array
    if xp is None:
        xp, _, _ = get_namespace_and_device(array)
    return _convert_to_numpy(array, xp)


def take_rows(array, rows):
    """Rows (a slice or sorted NumPy indices) of an array of any namespace."""
    if isinstance(array, np.ndarray):
        return array[rows]
    if isinstance(rows, slice):
        return array[(rows,) + (slice(None),) * (array.ndim - 1)]
    xp, _, device = get_namespace_and_device(array)
    return xp.take(array, xp.asarray(rows, device=device), axis=0)


def float_dtype(xp, device):
    """float64 where the device has it (not e.g. Apple MPS), else float32."""
    return _max_precision_float_dtype(xp, device)


def device_statistics(X, y, sample_weight, *, center, estimator_name):
    """Statistics of ``y`` and the DeepTD moment, computed in X's namespace.

    Returns ``(y, sample_weight, y_mean, y_scale, moment)`` with ``y`` and
    ``sample_weight`` moved to X's namespace and device (float dtype),
    ``y_mean`` and ``y_scale`` Python floats, and ``moment`` the vector
    ``X.T @ (w (y - c)) / (sum w * y_scale)`` (``c`` the weighted mean, or 0
    without centring) on X's device, or ``None`` when ``y`` is constant.
    """
    xp, _, device = get_namespace_and_device(X)
    dtype = float_dtype(xp, device)
    y, sample_weight = move_to(y, sample_weight, xp=xp, device=device)
    if y.ndim != 1:
        if y.ndim == 2 and y.shape[1] == 1:
            y = xp.reshape(y, (-1,))
        else:
            raise ValueError(f"y must be 1-D, got shape {tuple(y.shape)}.")
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X has {X.shape[0]} samples but y has {y.shape[0]}: they must have "
            "the same number of rows."
        )
    y = xp.astype(y, dtype)
    assert_all_finite(y, input_name="y", estimator_name=estimator_name)
    if sample_weight is None:
        sample_weight = xp.ones(X.shape[0], dtype=dtype, device=device)
    else:
        sample_weight = xp.astype(sample_weight, dtype)
        if sample_weight.shape != (X.shape[0],):
            raise ValueError(
                f"sample_weight.shape == {tuple(sample_weight.shape)}, expected "
                f"({X.shape[0]},)!"
            )
        assert_all_finite(
            sample_weight, input_name="sample_weight", estimator_name=estimator_name
        )
        if bool(xp.any(sample_weight < 0)):
            raise ValueError("Negative values in data passed to sample_weight.")
    weight = normalised_sample_weight(sample_weight)
    y_mean, y_scale, multipliers = standardised_multipliers(
        y, weight, center=center, dtype=X.dtype
    )
    if multipliers is None:
        return y, sample_weight, y_mean, y_scale, None
    moment = xp.astype(X.T @ multipliers, dtype)
    check_finite_product(X, multipliers, moment, estimator_name)
    return y, sample_weight, y_mean, y_scale, moment


def predict_on_device(X, kernels, weights, intercept, activation_names):
    """Network output in X's namespace and on its device (float64 where it has it).

    ``kernels`` and ``weights`` are arrays of the same namespace and device.
    """
    xp, _, device = get_namespace_and_device(X)
    dtype = float_dtype(xp, device)
    kernels = [xp.astype(kernel, dtype) for kernel in kernels]
    weights = xp.astype(weights, dtype)
    activations = [ACTIVATIONS[name] for name in activation_names]
    blocks = []
    for start in range(0, X.shape[0], DEVICE_BLOCK_ROWS):
        stop = min(start + DEVICE_BLOCK_ROWS, X.shape[0])
        block = xp.astype(X[start:stop, ...], dtype)
        blocks.append(forward(block, kernels, activations) @ weights + intercept)
    if not blocks:
        return xp.zeros(0, dtype=dtype, device=device)
    return xp.concat(blocks) if len(blocks) > 1 else blocks[0]


def to_namespace(array, xp, device):
    """A NumPy float64 array moved to ``xp`` on ``device`` (its float dtype)."""
    return xp.asarray(np.asarray(array), dtype=float_dtype(xp, device), device=device)
