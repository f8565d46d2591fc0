"""Dask arrays: fit on a real LocalCluster, lazy planted data, lazy predict."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset  # noqa: E402

SIZES = (4, 4, 4)


@pytest.fixture(scope="module")
def client():
    # Two single-threaded worker processes: the statistics of the chunks are
    # reduced, and the subsample gathered, across processes (pickled graphs).
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        memory_limit="1GiB",
    )
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


def _max_difference(first, second):
    return max(float(np.max(np.abs(a - b))) for a, b in zip(first, second))


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"refine": False},
        {"rank": 2, "refine": False, "activation": "tanh"},
        {"center": False, "refine": False},
        {"init": "random"},
    ],
)
def test_dask_fit_on_local_cluster_equals_in_memory_fit(client, params):
    # 2500 rows: fewer than the 4096-row subsample, so the sign search and the
    # refinement see every row in both fits, and only the reduction differs.
    planted = PlantedCNNDataset(kernel_sizes=SIZES, noise=0.1, random_state=0)
    X_lazy, y_lazy = planted.sample(2500, random_state=1, chunks=600)
    X, y = client.compute([X_lazy, y_lazy], sync=True)
    weight = np.random.RandomState(2).uniform(0.5, 1.5, 2500)
    setting = dict(kernel_sizes=SIZES, random_state=0, max_iter=300, **params)
    expected = DeepTDRegressor(**setting).fit(X, y, sample_weight=weight)
    got = DeepTDRegressor(**setting).fit(
        X_lazy, y_lazy, sample_weight=da.from_array(weight, chunks=1000)
    )
    assert _max_difference(got.kernels_, expected.kernels_) <= 1e-8
    assert _max_difference(got.td_kernels_, expected.td_kernels_) <= 1e-8
    np.testing.assert_allclose(got.weights_, expected.weights_, rtol=1e-8)
    np.testing.assert_allclose(got.intercept_, expected.intercept_, rtol=1e-8)
    assert got.n_features_in_ == 64

    prediction = got.predict(X_lazy)
    assert isinstance(prediction, da.Array)
    assert prediction.chunks == (X_lazy.chunks[0],)
    np.testing.assert_allclose(
        prediction.compute(), expected.predict(X), rtol=1e-8, atol=1e-8
    )


def test_dask_fit_float32_and_in_memory_targets(client):
    # float32 chunks and a numpy y: the moment still equals the in-memory one.
    planted = PlantedCNNDataset(kernel_sizes=SIZES, noise=0.1, random_state=3)
    X_lazy, y_lazy = planted.sample(3000, random_state=4, chunks=(1000, 1500, 500))
    X_lazy = X_lazy.astype(np.float32).rechunk({1: 16})  # several column chunks
    X, y = client.compute([X_lazy, y_lazy], sync=True)
    setting = dict(kernel_sizes=SIZES, random_state=0, refine=False)
    expected = DeepTDRegressor(**setting).fit(X, y)
    got = DeepTDRegressor(**setting).fit(X_lazy, y)
    # float32 products summed in a different order: agreement to float32 rounding.
    assert _max_difference(got.td_kernels_, expected.td_kernels_) <= 1e-5


def test_dask_fit_beyond_the_subsample_recovers_the_kernels(client):
    # More rows than the subsample: the moment uses every row, the calibration
    # a reproducible subsample; the planted kernels are recovered.
    planted = PlantedCNNDataset(kernel_sizes=SIZES, noise=0.1, random_state=0)
    X_lazy, y_lazy = planted.sample(30000, random_state=5, chunks=7000)
    setting = dict(kernel_sizes=SIZES, random_state=0, refine_samples=500)
    first = DeepTDRegressor(**setting).fit(X_lazy, y_lazy)
    second = DeepTDRegressor(**setting).fit(X_lazy, y_lazy)
    for got, again, truth in zip(first.kernels_, second.kernels_, planted.kernels_):
        np.testing.assert_allclose(got, again, rtol=1e-12, atol=1e-12)
        cosine = abs(float(got[0] @ truth[0])) / np.linalg.norm(got[0])
        assert cosine > 0.999


def test_lazy_sample_is_reproducible_and_chunked():
    planted = PlantedCNNDataset(kernel_sizes=(3, 2), noise=0.5, random_state=0)
    X_lazy, y_lazy = planted.sample(1000, random_state=7, chunks=300)
    assert isinstance(X_lazy, da.Array) and isinstance(y_lazy, da.Array)
    assert X_lazy.chunks == ((300, 300, 300, 100), (6,))
    assert y_lazy.chunks == ((300, 300, 300, 100),)
    X, y = da.compute(X_lazy, y_lazy, scheduler="synchronous")
    X_again, y_again = planted.sample(1000, random_state=7, chunks=300)
    np.testing.assert_array_equal(X, X_again.compute(scheduler="synchronous"))
    np.testing.assert_array_equal(y, y_again.compute(scheduler="synchronous"))
    # Labels are the planted network plus noise, chunk by chunk.
    noise = y - planted.predict(X)
    assert 0.3 < np.std(noise) / planted.label_std_ < 0.7
    # Chunks hold different rows, and another seed gives other data.
    assert not np.allclose(X[:100], X[300:400])
    X_other, _ = planted.sample(1000, random_state=8, chunks=300)
    assert not np.allclose(X, X_other.compute(scheduler="synchronous"))


@pytest.mark.parametrize(
    "chunks, message",
    [(0, "positive integer"), ((500, 400), "adding up"), ("rows", "tuple")],
)
def test_lazy_sample_rejects_bad_chunks(chunks, message):
    planted = PlantedCNNDataset(kernel_sizes=(3, 2), random_state=0)
    with pytest.raises(ValueError, match=message):
        planted.sample(1000, chunks=chunks)


def test_dask_fit_rejects_bad_input():
    X = np.random.RandomState(0).standard_normal((200, 6))
    y = X[:, 0] + 1.0
    model = DeepTDRegressor(kernel_sizes=(3, 2), random_state=0)
    X_nan = X.copy()
    X_nan[150, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(da.from_array(X_nan, chunks=50), y)
    weight = np.ones(200)
    weight[150] = 0.0
    with pytest.raises(ValueError, match="NaN"):
        model.fit(da.from_array(X_nan, chunks=50), y, sample_weight=weight)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        model.fit(da.from_array(X, chunks=50), y[:100])
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        model.fit(da.from_array(y, chunks=50), y)
    fitted = model.fit(da.from_array(X, chunks=50), y)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(da.from_array(X[:, :4], chunks=50))


@pytest.mark.parametrize(
    "n_weighted, params",
    [
        # 12 rows cannot determine the 14 parameters: only DeepTD's estimate
        # is unique there, not the refined interpolant.
        (12, {"refine": False}),
        (300, {}),
        (300, {"init": "random", "refine_samples": 100}),
    ],
)
def test_dask_subsamples_are_those_in_memory_when_weights_are_sparse(
    n_weighted, params
):
    # Found in review: the dask pool was drawn among all 60000 rows and its
    # zero-weight rows dropped afterwards, leaving 27 rows of 300 weighted
    # ones (or none: a crash), and a different random stream than in memory.
    # The subsamples are now planned among the rows of positive weight, as in
    # memory, so the fits agree with more rows than the subsamples hold.
    dask = pytest.importorskip("dask")
    planted = PlantedCNNDataset(SIZES, noise=0.1, random_state=0)
    X, y = planted.sample(60_000, random_state=3)
    weight = np.zeros(60_000)
    weight[np.random.RandomState(4).choice(60_000, n_weighted, replace=False)] = 1.0
    setting = {"kernel_sizes": SIZES, "random_state": 0, **params}
    expected = DeepTDRegressor(**setting).fit(X, y, sample_weight=weight)
    with dask.config.set(scheduler="threads"):
        got = DeepTDRegressor(**setting).fit(
            da.from_array(X, chunks=7000),
            da.from_array(y, chunks=7000),
            sample_weight=da.from_array(weight, chunks=7000),
        )
    np.testing.assert_allclose(
        got.predict(X[:500]), expected.predict(X[:500]), rtol=1e-7
    )
