"""Numerical edge cases and reproducibility: nothing NaN, nothing lost, no leaks."""

import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset, make_planted_cnn


@pytest.fixture(scope="module")
def data():
    return PlantedCNNDataset((3, 2, 2), random_state=0).sample(200, random_state=1)


def _assert_finite(model, X):
    for kernel in model.kernels_ + model.td_kernels_:
        assert np.all(np.isfinite(kernel))
    assert np.all(np.isfinite(model.weights_))
    assert np.isfinite(model.intercept_)
    prediction = model.predict(X)
    assert np.all(np.isfinite(prediction))
    return prediction


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("scale", [1e-200, 1e-100, 1e-12, 1e12, 1e100, 1e200])
def test_extreme_input_scale_is_an_exact_reparametrisation(data, activation, scale):
    # Used to: X * 1e-100 silently predicted the mean (score 0); X * 1e200 warned
    # about overflow and reported "the moment tensor is zero".
    X, y = data
    # The documented behaviour: such X is fitted as X / (root mean square entry).
    X_unit = X / np.sqrt(np.mean(X**2))
    params = {"kernel_sizes": (3, 2, 2), "activation": activation, "max_iter": 300}
    for refine in (False, True):
        reference = DeepTDRegressor(refine=refine, random_state=0, **params)
        reference.fit(X_unit, y)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            model = DeepTDRegressor(refine=refine, random_state=0, **params)
            model.fit(X * scale, y)
        prediction = _assert_finite(model, X * scale)
        if not refine:
            np.testing.assert_allclose(
                prediction, reference.predict(X_unit), rtol=1e-6, atol=1e-9
            )
        else:
            # L-BFGS stops at tol from a start that differs by rounding.
            assert abs(model.score(X * scale, y) - reference.score(X_unit, y)) < 1e-3


@pytest.mark.parametrize("scale", [1e-150, 1e150])
def test_extreme_target_scale(data, scale):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = DeepTDRegressor((3, 2, 2), random_state=0).fit(X, y * scale)
    _assert_finite(model, X)
    assert model.score(X, y * scale) > 0.99


def test_huge_sample_weights(data):
    # Used to: weights of 1e308 summed to inf, every normalised weight became 0,
    # and the fit returned NaN kernels after overflow warnings.
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        huge = DeepTDRegressor((3, 2, 2), random_state=0)
        huge.fit(X, y, sample_weight=np.full(X.shape[0], 1e308))
    reference = DeepTDRegressor((3, 2, 2), random_state=0).fit(X, y)
    np.testing.assert_allclose(_assert_finite(huge, X), reference.predict(X))


@pytest.mark.parametrize("refine", [False, True])
def test_sparse_weights_subsample_the_weighted_rows(refine):
    # 30 weighted rows among 20,000: a uniform subsample of 4096 rows would
    # hold about 6 of them; the subsamples are drawn among weighted rows only,
    # so the fit equals the fit on those rows alone.
    planted = PlantedCNNDataset((4, 4), random_state=0)
    X, y = planted.sample(20_000, random_state=1)
    weight = np.zeros(20_000)
    rows = np.random.RandomState(2).choice(20_000, 30, replace=False)
    weight[rows] = np.arange(1.0, 31.0)
    params = dict(kernel_sizes=(4, 4), refine=refine, random_state=0)
    sparse = DeepTDRegressor(**params).fit(X, y, sample_weight=weight)
    alone = DeepTDRegressor(**params).fit(X[rows], y[rows], sample_weight=weight[rows])
    _assert_finite(sparse, X)
    for got, expected in zip(sparse.kernels_, alone.kernels_):
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(sparse.weights_, alone.weights_, rtol=1e-8)


@pytest.mark.parametrize("value", [0.0, -3.5, 1e150, 1e-150])
def test_constant_targets(data, value):
    X, _ = data
    y = np.full(X.shape[0], value)
    with pytest.warns(UserWarning, match="the targets are constant"):
        model = DeepTDRegressor(random_state=0).fit(X, y)
    # The weighted mean of equal numbers, to rounding.
    np.testing.assert_allclose(_assert_finite(model, X), y, rtol=1e-14)


def test_duplicated_rows(data):
    X, y = data
    X_dup, y_dup = np.repeat(X[:30], 5, axis=0), np.repeat(y[:30], 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = DeepTDRegressor((3, 2, 2), random_state=0).fit(X_dup, y_dup)
    _assert_finite(model, X)
    assert model.score(X_dup, y_dup) > 0.99


def test_perfectly_collinear_columns(data):
    X, y = data
    # Every column is the same feature: a valid, degenerate design.
    X_col = np.repeat(X[:, :1], 12, axis=1)
    y_col = np.maximum(X[:, 0], 0)
    model = DeepTDRegressor((3, 2, 2), random_state=0, max_iter=500)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(X_col, y_col)
    _assert_finite(model, X_col)
    assert model.score(X_col, y_col) > 0.99


def test_dead_planted_network():
    # A ReLU network whose pre-activations are all negative outputs zero: the
    # targets carry nothing to learn, and fit says so instead of returning NaN.
    rng = np.random.RandomState(0)
    X = np.abs(rng.standard_normal((100, 12)))
    kernel = -np.ones(12) / np.sqrt(12)
    y = np.maximum(X @ kernel, 0.0)
    assert np.all(y == 0)
    with pytest.warns(UserWarning, match="the targets are constant"):
        model = DeepTDRegressor((12,), output_activation="relu").fit(X, y)
    np.testing.assert_array_equal(_assert_finite(model, X), 0.0)


def test_zero_input_has_zero_moment():
    X = np.zeros((20, 6))
    with pytest.warns(UserWarning, match="the moment tensor is zero"):
        model = DeepTDRegressor(random_state=0).fit(X, np.arange(20.0))
    np.testing.assert_allclose(_assert_finite(model, X), 9.5)


def test_one_feature():
    X, y = make_planted_cnn(50, kernel_sizes=(1,), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = DeepTDRegressor(random_state=0).fit(X, y)
    assert model.kernel_sizes_ == (1,)
    _assert_finite(model, X)


@pytest.mark.parametrize(
    "activation", ["relu", "leaky_relu", "tanh", "sigmoid", "softplus", "identity"]
)
def test_no_numpy_warnings_in_normal_use(activation):
    planted = PlantedCNNDataset((4, 3, 2), activation=activation, random_state=0)
    X, y = planted.sample(300, random_state=1)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        model = DeepTDRegressor(activation=activation, max_iter=300, random_state=0)
        model.fit(X, y)
        model.predict(X)
        model.score(X, y)


def test_same_random_state_gives_bit_identical_kernels(data):
    X, y = data
    params = {"kernel_sizes": (3, 2, 2), "rank": 2, "random_state": 7}
    first = DeepTDRegressor(**params).fit(X, y)
    second = DeepTDRegressor(**params).fit(X, y)
    restored = pickle.loads(pickle.dumps(first))
    for a, b, c in zip(first.kernels_, second.kernels_, restored.kernels_):
        assert a.tobytes() == b.tobytes() == c.tobytes()
    assert first.predict(X).tobytes() == restored.predict(X).tobytes()
    # Refitting the unpickled estimator reproduces the kernels too.
    refitted = pickle.loads(pickle.dumps(DeepTDRegressor(**params))).fit(X, y)
    for a, b in zip(first.kernels_, refitted.kernels_):
        assert a.tobytes() == b.tobytes()


def test_concurrent_predict(data):
    X, y = data
    model = DeepTDRegressor((3, 2, 2), rank=2, random_state=0).fit(X, y)
    expected = model.predict(X)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: model.predict(X), range(32)))
    for result in results:
        assert result.tobytes() == expected.tobytes()


def test_global_random_state_untouched(data):
    X, y = data
    np.random.seed(12345)
    before = np.random.get_state()
    DeepTDRegressor((3, 2, 2), rank=2, random_state=0).fit(X, y).predict(X)
    DeepTDRegressor((3, 2, 2), init="random", random_state=0).fit(X, y)
    planted = PlantedCNNDataset((3, 2, 2), random_state=0)
    planted.sample(10)
    planted.sample(10, random_state=3)
    make_planted_cnn(10, kernel_sizes=(3, 2, 2), random_state=0)
    after = np.random.get_state()
    assert before[0] == after[0]
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]
