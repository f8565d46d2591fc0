"""The solver: the mean model when there is nothing to learn, the choice among
starts, and the warnings of its stages."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset, kernel_correlation


@pytest.fixture(scope="module")
def data():
    return PlantedCNNDataset((3, 2, 2), random_state=0).sample(50, random_state=1)


def _assert_finite_network(model):
    for kernel in model.kernels_ + model.td_kernels_:
        assert np.all(np.isfinite(kernel))
    assert np.all(np.isfinite(model.weights_)) and np.isfinite(model.intercept_)


# Zero targets are also those of a dead planted network (every pre-activation
# of a ReLU output negative).
@pytest.mark.parametrize("value", [0.0, -3.5, 7.5, 1e-150, 1e150, -1e200])
def test_constant_targets_predict_the_mean(data, value):
    X, _ = data
    y = np.full(X.shape[0], value)
    with pytest.warns(UserWarning, match="the targets are constant.*predicts the mean"):
        model = DeepTDRegressor(random_state=0).fit(X, y)
    # The weighted mean of equal numbers is the number itself.
    np.testing.assert_array_equal(model.predict(X), y)
    _assert_finite_network(model)
    assert np.all(model.weights_ == 0)


def test_zero_moment_predicts_the_mean():
    # X = 0 carries no information: the moment tensor is exactly zero.
    X = np.zeros((20, 4))
    y = np.arange(20.0)
    with pytest.warns(UserWarning, match="the moment tensor is zero"):
        model = DeepTDRegressor(random_state=0).fit(X, y)
    np.testing.assert_allclose(model.predict(X), y.mean())
    _assert_finite_network(model)
    assert model.n_iter_ == 0


def test_max_iter_warns_convergence(planted_data):
    _, X, y = planted_data
    with pytest.warns(ConvergenceWarning) as record:
        DeepTDRegressor((4, 4, 4), max_iter=2, random_state=0).fit(X, y)
    messages = [str(w.message) for w in record]
    assert any("refinement stopped at max_iter=2" in m for m in messages)
    with pytest.warns(ConvergenceWarning, match="decomposition"):
        DeepTDRegressor(
            (4, 4, 4), rank=3, max_iter=1, tol=0.0, refine=False, random_state=0
        ).fit(X, y)


def test_random_init_is_the_training_baseline(planted_data):
    planted, X, y = planted_data
    random_start = DeepTDRegressor((4, 4, 4), init="random", refine=False)
    random_start.set_params(random_state=0).fit(X, y)
    deeptd = DeepTDRegressor((4, 4, 4), refine=False, random_state=0).fit(X, y)
    # The random start is reproducible, unit norm, and far worse than DeepTD's
    # (also with the seed that planted the network).
    again = clone(random_start).fit(X, y)
    for a, b in zip(random_start.td_kernels_, again.td_kernels_):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0)
    random_corr = kernel_correlation(planted.kernels_, random_start.kernels_)
    deeptd_corr = kernel_correlation(planted.kernels_, deeptd.kernels_)
    assert random_corr.mean() < deeptd_corr.mean()
    assert random_start.n_iter_ == 0


def test_random_init_restarts_keep_the_lowest_loss(planted_data):
    _, X, y = planted_data
    model = DeepTDRegressor((4, 4, 4), init="random", max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one = clone(model).set_params(n_init=1).fit(X, y)
        three = clone(model).set_params(n_init=3).fit(X, y)
    # The first of the three starts is the single start: keeping the best of
    # three can only lower the training loss (all 400 rows are refined).
    np.testing.assert_array_equal(
        one.td_kernels_[0],
        DeepTDRegressor(init="random", random_state=0)
        .set_params(kernel_sizes=(4, 4, 4), refine=False, n_init=1)
        .fit(X, y)
        .td_kernels_[0],
    )
    assert three.score(X, y) >= one.score(X, y) - 1e-12
