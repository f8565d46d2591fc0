"""The data path: partial_fit, float32, memory order, no copy of X."""

import tracemalloc

import numpy as np
import pytest

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset

SIZES = (4, 4, 4)


def _planted(n_samples, seed=1, noise=0.0):
    planted = PlantedCNNDataset(kernel_sizes=SIZES, noise=noise, random_state=0)
    return planted.sample(n_samples, random_state=seed)


def _batches(n_samples, n_batches, seed):
    # Uneven batch sizes, at least one row each.
    cuts = np.sort(
        np.random.RandomState(seed).choice(n_samples - 1, n_batches - 1, replace=False)
    )
    edges = np.concatenate([[0], cuts + 1, [n_samples]])
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]


@pytest.mark.parametrize("n_batches", [2, 5])
def test_partial_fit_equals_fit_on_concatenation(n_batches):
    # While every row fits in the reservoir, partial_fit sees exactly the rows
    # fit sees, so the whole fitted network (not only the moment) must agree.
    X, y = _planted(1500, noise=0.1)
    weight = np.random.RandomState(3).uniform(0.5, 1.5, 1500)
    params = dict(kernel_sizes=SIZES, refine=False, random_state=0)
    batch = DeepTDRegressor(**params).fit(X, y, sample_weight=weight)
    stream = DeepTDRegressor(**params)
    for rows in _batches(1500, n_batches, 4):
        stream.partial_fit(X[rows], y[rows], sample_weight=weight[rows])
    for got, expected in zip(stream.td_kernels_, batch.td_kernels_):
        assert np.linalg.norm(got - expected) <= 1e-10 * np.linalg.norm(expected)
    np.testing.assert_allclose(stream.weights_, batch.weights_, rtol=1e-10)
    np.testing.assert_allclose(stream.intercept_, batch.intercept_, rtol=1e-10)


def test_partial_fit_beyond_the_reservoir_keeps_the_moment_exact():
    # More rows than the reservoir: the decomposition still uses every row, so
    # the DeepTD directions equal those of fit up to the sign of each kernel
    # (the signs are chosen on different subsamples).
    X, y = _planted(6000, noise=0.1)
    params = dict(kernel_sizes=SIZES, refine=False, random_state=0)
    batch = DeepTDRegressor(**params).fit(X, y)
    stream = DeepTDRegressor(**params, refine_samples=100)
    for rows in _batches(6000, 4, 5):
        stream.partial_fit(X[rows], y[rows])
    assert stream._stream.reservoir.rows.X.shape == (4096, 64)
    for got, expected in zip(stream.td_kernels_, batch.td_kernels_):
        overlap = abs(float(got[0] @ expected[0]))
        assert abs(overlap - 1.0) <= 1e-10
    assert stream.score(X, y) > 0.9


def test_fit_restarts_the_stream():
    X, y = _planted(400)
    model = DeepTDRegressor(kernel_sizes=SIZES, refine=False, random_state=0)
    model.partial_fit(X[:200], y[:200]).fit(X[200:], y[200:])
    assert model._stream is None
    model.partial_fit(X[:200], y[:200])
    assert model._stream.n_rows == 200


@pytest.mark.parametrize("order", ["C", "F"])
def test_float32_input_is_read_as_float32(order):
    X, y = _planted(3000, noise=0.1)
    X32 = np.asarray(X, dtype=np.float32, order=order)
    params = dict(kernel_sizes=SIZES, refine=False, random_state=0)
    model32 = DeepTDRegressor(**params).fit(X32, y)
    model64 = DeepTDRegressor(**params).fit(X, y)
    # The fitted attributes are float64 whatever the input dtype.
    assert all(k.dtype == np.float64 for k in model32.kernels_ + model32.td_kernels_)
    assert model32.weights_.dtype == np.float64
    for k32, k64 in zip(model32.td_kernels_, model64.td_kernels_):
        np.testing.assert_allclose(k32, k64, atol=1e-5)
    assert model32.predict(X32).dtype == np.float64
    np.testing.assert_allclose(model32.predict(X32), model64.predict(X), atol=1e-4)


def _peak_extra_memory(model, X, y):
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        model.fit(X, y)
        return tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_fit_makes_no_copy_of_X(dtype, order):
    # The subsamples (5000 rows, sign search inside) are a fixed cost; beyond it the
    # extra memory of fit(refine=False) must not grow with X: 6.7 times the
    # rows may cost at most 10% of the larger X's size more (a copy of X, a
    # centred X or a float64 X would cost 50% to 200%).
    planted = PlantedCNNDataset(kernel_sizes=(8, 8, 8), random_state=0)
    X, y = planted.sample(40_000, random_state=1)
    X = np.asarray(X, dtype=dtype, order=order)
    X_small = np.asarray(X[:6000], order=order)
    model = DeepTDRegressor(kernel_sizes=(8, 8, 8), refine=False, random_state=0)
    small = _peak_extra_memory(model, X_small, y[:6000])
    large = _peak_extra_memory(model, X, y)
    assert large - small < 0.1 * X.nbytes


def test_dask_ml_incremental():
    pytest.importorskip("dask_ml")
    da = pytest.importorskip("dask.array")
    from dask_ml.wrappers import Incremental

    X, y = _planted(2000)
    X_dask = da.from_array(X, chunks=(500, 64))
    y_dask = da.from_array(y, chunks=500)
    params = dict(kernel_sizes=SIZES, refine=False, random_state=0)
    wrapped = Incremental(DeepTDRegressor(**params)).fit(X_dask, y_dask)
    batch = DeepTDRegressor(**params).fit(X, y)
    for got, expected in zip(wrapped.estimator_.td_kernels_, batch.td_kernels_):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
