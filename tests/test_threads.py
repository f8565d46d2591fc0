"""Threads: DeepTD leaves threading to BLAS, whose limits it respects, and a
fitted model predicts from several threads at once."""

import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset

SIZES = (4, 4, 4)


def _data(n_samples=600):
    planted = PlantedCNNDataset(kernel_sizes=SIZES, noise=0.1, random_state=0)
    return planted.sample(n_samples, random_state=1)


def test_fit_partial_fit_and_predict_start_no_threads(monkeypatch):
    X, y = _data()

    def refuse(self):
        raise AssertionError(f"a thread was started: {self!r}")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    model = DeepTDRegressor(kernel_sizes=SIZES, random_state=0).fit(X, y)
    model.partial_fit(X, y)
    assert np.all(np.isfinite(model.predict(X)))


def test_fit_respects_and_keeps_threadpool_limits():
    X, y = _data()
    unlimited = DeepTDRegressor(kernel_sizes=SIZES, random_state=0).fit(X, y)
    with threadpool_limits(limits=1):
        limited = DeepTDRegressor(kernel_sizes=SIZES, random_state=0).fit(X, y)
        # The limit is still in force after the fit: nothing reset it.
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    for got, expected in zip(limited.kernels_, unlimited.kernels_):
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)


def test_grid_search_in_parallel_equals_sequential():
    # joblib limits BLAS to one thread per worker; the scores must not change.
    planted = PlantedCNNDataset(
        SIZES, activation="tanh", rank=2, noise=0.3, random_state=0
    )
    X, y = planted.sample(900, random_state=1)
    grid = {"rank": [1, 2], "max_iter": [50, 100]}

    def search(n_jobs):
        model = DeepTDRegressor(SIZES, activation="tanh", random_state=0)
        with warnings.catch_warnings():
            # Short refinements may stop on max_iter; that is not under test.
            warnings.simplefilter("ignore", ConvergenceWarning)
            return GridSearchCV(model, grid, cv=3, n_jobs=n_jobs).fit(X, y)

    sequential, parallel = search(1), search(2)
    np.testing.assert_allclose(
        parallel.cv_results_["mean_test_score"],
        sequential.cv_results_["mean_test_score"],
        rtol=1e-8,
    )
    assert parallel.best_params_ == sequential.best_params_


def test_concurrent_predict():
    X, y = PlantedCNNDataset((3, 2, 2), random_state=0).sample(200, random_state=1)
    model = DeepTDRegressor((3, 2, 2), rank=2, random_state=0).fit(X, y)
    expected = model.predict(X)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: model.predict(X), range(32)))
    for result in results:
        assert result.tobytes() == expected.tobytes()
