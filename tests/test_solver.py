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


# Dead starts. On rows whose layer-1 blocks come in equal pairs, a (2, 2, 2)
# ReLU network whose second kernel is (1, -1) / sqrt(2) outputs zero on every
# row, with every sign pattern; the moment itself gives a live (1, 1) direction.
DEAD_KERNEL = np.array([1.0, -1.0]) / np.sqrt(2)


@pytest.fixture(scope="module")
def paired_rows():
    rng = np.random.RandomState(0)
    pairs = rng.standard_normal((400, 2, 1, 2))
    X = np.concatenate([pairs, pairs], axis=2).reshape(400, 8)
    planted = PlantedCNNDataset((2, 2, 2), random_state=0)
    return X, planted.predict(X)


def _with_dead_decomposition(monkeypatch, keep_live):
    import sklearn_deeptd._solver as solver

    ranked = solver.moment_decompositions

    def with_dead_first(*args, **kwargs):
        decompositions = ranked(*args, **kwargs)
        best = decompositions[0]
        factors = list(best.factors)
        factors[1] = np.asarray(DEAD_KERNEL)[:, None]
        dead = best._replace(factors=factors)
        return [dead, *decompositions] if keep_live else [dead]

    monkeypatch.setattr(solver, "moment_decompositions", with_dead_first)


def test_a_dead_decomposition_gives_way_to_the_next(paired_rows, monkeypatch):
    X, y = paired_rows
    _with_dead_decomposition(monkeypatch, keep_live=True)
    model = DeepTDRegressor((2, 2, 2), random_state=0).fit(X, y)
    assert abs(model.td_kernels_[1][0] @ DEAD_KERNEL) < 1e-6
    assert np.std(model.predict(X)) > 0.1 * np.std(y)


def test_no_live_start_warns_instead_of_a_silent_mean_model(paired_rows, monkeypatch):
    X, y = paired_rows
    _with_dead_decomposition(monkeypatch, keep_live=False)
    with pytest.warns(UserWarning, match="no live start.*predicts the mean of y"):
        model = DeepTDRegressor((2, 2, 2), random_state=0).fit(X, y)
    assert np.ptp(model.predict(X)) == 0


def _dead_random_draws(monkeypatch, n_dead):
    import sklearn_deeptd._solver as solver

    draws = []

    def dead_then_random(kernel_sizes, rank, random_state):
        kernels = solver.random_unit_kernels.__wrapped__(
            kernel_sizes, rank, random_state
        )
        if len(draws) < n_dead:
            kernels[1] = np.tile(DEAD_KERNEL, (rank, 1))
        draws.append(kernels)
        return kernels

    dead_then_random.__wrapped__ = solver.random_unit_kernels
    monkeypatch.setattr(solver, "random_unit_kernels", dead_then_random)
    return draws


def test_dead_random_starts_are_redrawn(paired_rows, monkeypatch):
    X, y = paired_rows
    draws = _dead_random_draws(monkeypatch, n_dead=3)
    model = DeepTDRegressor((2, 2, 2), init="random", random_state=0).fit(X, y)
    # The three dead draws, and any that the random stream draws dead itself.
    assert len(draws) >= 4
    for got, drawn in zip(model.td_kernels_, draws[-1]):
        np.testing.assert_allclose(got, drawn, rtol=1e-12)


def test_random_starts_dead_up_to_the_bound_warn(paired_rows, monkeypatch):
    import sklearn_deeptd._solver as solver

    X, y = paired_rows
    monkeypatch.setattr(solver, "MAX_START_DRAWS", 5)
    draws = _dead_random_draws(monkeypatch, n_dead=5)
    with pytest.warns(UserWarning, match="drew 5 random starts"):
        DeepTDRegressor((2, 2, 2), init="random", random_state=0).fit(X, y)
    assert len(draws) == 5
