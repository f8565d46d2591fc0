"""Array API dispatch: the moment and predict in the input's namespace."""

import os

import numpy as np
import pytest
import sklearn

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset

SIZES = (4, 4, 4)


NAMESPACES = [
    pytest.param("array_api_strict", id="array_api_strict"),
    pytest.param("torch", id="torch-cpu"),
]


def _setup(name):
    if not os.environ.get("SCIPY_ARRAY_API"):
        pytest.skip("SCIPY_ARRAY_API is not set (see conftest.py)")
    xp = pytest.importorskip(name)
    if name == "torch":
        return xp, lambda a: xp.asarray(a, device="cpu"), lambda a: a.numpy()
    return xp, xp.asarray, lambda a: np.asarray(xp.asarray(a, copy=True)._array)


def _max_difference(first, second, to_numpy):
    return max(
        float(np.max(np.abs(to_numpy(a) - np.asarray(b))))
        for a, b in zip(first, second)
    )


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize(
    "params",
    [{}, {"refine": False, "rank": 2, "activation": "tanh"}, {"center": False}],
)
@pytest.mark.parametrize("n_samples", [3000, 9000])
def test_dispatched_fit_equals_numpy_fit(name, params, n_samples):
    # 9000 rows: more than the subsamples, which are gathered on the device.
    xp, asarray, to_numpy = _setup(name)
    planted = PlantedCNNDataset(kernel_sizes=SIZES, noise=0.1, random_state=0)
    X, y = planted.sample(n_samples, random_state=1)
    weight = np.random.RandomState(2).uniform(0.5, 1.5, n_samples)
    setting = dict(kernel_sizes=SIZES, random_state=0, **params)
    expected = DeepTDRegressor(**setting).fit(X, y, sample_weight=weight)
    with sklearn.config_context(array_api_dispatch=True):
        got = DeepTDRegressor(**setting).fit(
            asarray(X), asarray(y), sample_weight=asarray(weight)
        )
        prediction = got.predict(asarray(X))
    assert type(got.weights_) is type(asarray(X))
    assert all(type(kernel) is type(asarray(X)) for kernel in got.kernels_)
    assert _max_difference(got.td_kernels_, expected.td_kernels_, to_numpy) <= 1e-8
    assert _max_difference(got.kernels_, expected.kernels_, to_numpy) <= 1e-8
    np.testing.assert_allclose(got.intercept_, expected.intercept_, rtol=1e-8)
    assert type(prediction) is type(asarray(X))
    np.testing.assert_allclose(
        to_numpy(prediction), expected.predict(X), rtol=1e-8, atol=1e-8
    )


@pytest.mark.parametrize("name", NAMESPACES)
def test_dispatched_fit_float32_and_bad_input(name):
    xp, asarray, to_numpy = _setup(name)
    planted = PlantedCNNDataset(kernel_sizes=SIZES, noise=0.1, random_state=0)
    X, y = planted.sample(2000, random_state=1)
    X32 = X.astype(np.float32)
    setting = dict(kernel_sizes=SIZES, random_state=0, refine=False)
    expected = DeepTDRegressor(**setting).fit(X32, y)
    with sklearn.config_context(array_api_dispatch=True):
        got = DeepTDRegressor(**setting).fit(asarray(X32), asarray(y))
        prediction = got.predict(asarray(X32))
        X_nan = X.copy()
        X_nan[7, 3] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            DeepTDRegressor(**setting).fit(asarray(X_nan), asarray(y))
        weight = np.ones(2000)
        weight[7] = 0.0
        with pytest.raises(ValueError, match="NaN"):
            DeepTDRegressor(**setting).fit(
                asarray(X_nan), asarray(y), sample_weight=asarray(weight)
            )
        with pytest.raises(ValueError, match="same number of rows"):
            DeepTDRegressor(**setting).fit(asarray(X), asarray(y[:100]))
        with pytest.raises(ValueError, match="features"):
            got.predict(asarray(X[:, :8]))
    # float32 products on the device: agreement to float32 rounding.
    assert _max_difference(got.td_kernels_, expected.td_kernels_, to_numpy) <= 1e-4
    assert to_numpy(prediction).dtype == np.float64


def test_partial_fit_under_dispatch_copies_batches_to_the_host():
    xp, asarray, _ = _setup("array_api_strict")
    planted = PlantedCNNDataset(kernel_sizes=SIZES, noise=0.1, random_state=0)
    X, y = planted.sample(1000, random_state=1)
    setting = dict(kernel_sizes=SIZES, random_state=0, refine=False)
    expected = DeepTDRegressor(**setting).partial_fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        got = DeepTDRegressor(**setting).partial_fit(asarray(X), asarray(y))
    for a, b in zip(got.td_kernels_, expected.td_kernels_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
