"""The data summary: one set of scaling rules, and the equivariance they give."""

import warnings

import numpy as np
import pytest

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset
from sklearn_deeptd._moment import block_statistics
from sklearn_deeptd._subsample import Rows, SubsamplePlan
from sklearn_deeptd._summary import ZERO_WEIGHT_MESSAGE, summarise, summarise_arrays

SIZES = (3, 2, 2)
ACTIVATIONS = ["relu", "leaky_relu", "tanh", "sigmoid", "softplus", "identity"]
SCALES = [1e-200, 1e-6, 1e-3, 1e3, 1e6, 1e200]


@pytest.fixture(scope="module", params=ACTIVATIONS)
def fitted(request):
    activation = request.param
    planted = PlantedCNNDataset(SIZES, activation=activation, random_state=0)
    X, y = planted.sample(400, random_state=1)
    X_test, y_test = planted.sample(300, random_state=2)
    params = {"kernel_sizes": SIZES, "activation": activation, "random_state": 0}
    model = DeepTDRegressor(**params).fit(X, y)
    return params, X, y, X_test, y_test, model.score(X_test, y_test)


@pytest.mark.parametrize("scale", SCALES)
def test_fit_is_equivariant_to_the_scale_of_X(fitted, scale):
    # Used to: inside the "safe" window (1e-6 to 1e6) X was fitted as given,
    # and a tanh network fitted on X * 1e3 scored 0.70 where X scored 1.00.
    params, X, y, X_test, y_test, score = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = DeepTDRegressor(**params).fit(X * scale, y)
    assert model.input_scale_ == pytest.approx(scale, rel=0.2)
    assert abs(model.score(X_test * scale, y_test) - score) <= 1e-6
    assert score > 0.99


@pytest.fixture(scope="module")
def data():
    return PlantedCNNDataset(SIZES, random_state=0).sample(200, random_state=1)


def _assert_finite(model, X):
    for kernel in model.kernels_ + model.td_kernels_:
        assert np.all(np.isfinite(kernel))
    assert np.all(np.isfinite(model.weights_)) and np.isfinite(model.intercept_)
    prediction = model.predict(X)
    assert np.all(np.isfinite(prediction))
    return prediction


UNREFINED = {"kernel_sizes": SIZES, "refine": False, "random_state": 0}


@pytest.fixture(scope="module")
def unit_predictions(data):
    # The documented behaviour: X of any scale is fitted as X / (root mean
    # square entry); these are the fits of that X.
    X, y = data
    X_unit = X / np.sqrt(np.mean(X**2))
    return {
        activation: DeepTDRegressor(activation=activation, **UNREFINED)
        .fit(X_unit, y)
        .predict(X_unit)
        for activation in ("relu", "tanh")
    }


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("scale", [1e-200, 1e-100, 1e-12, 1e12, 1e100, 1e200])
def test_fit_without_refinement_is_an_exact_reparametrisation(
    data, unit_predictions, activation, scale
):
    # Used to: X * 1e-100 silently predicted the mean (score 0); X * 1e200 warned
    # about overflow and reported "the moment tensor is zero". (With refinement,
    # test_fit_is_equivariant_to_the_scale_of_X.)
    X, y = data
    model = DeepTDRegressor(activation=activation, **UNREFINED).fit(X * scale, y)
    prediction = _assert_finite(model, X * scale)
    np.testing.assert_allclose(
        prediction, unit_predictions[activation], rtol=1e-6, atol=1e-9
    )


@pytest.mark.parametrize("scale", [1e-150, 1e150])
def test_fit_is_equivariant_to_the_scale_of_y(data, scale):
    X, y = data
    # Targets are standardised inside fit, so the fit is scale-equivariant.
    reference = DeepTDRegressor(random_state=0).fit(X, y).predict(X)
    model = DeepTDRegressor(random_state=0).fit(X, y * scale)
    prediction = _assert_finite(model, X)
    np.testing.assert_allclose(prediction / scale, reference, rtol=1e-9, atol=1e-12)
    assert model.score(X, y * scale) > 0.99


def test_summary_of_huge_weights_is_that_of_equal_weights(data):
    # Used to: weights of 1e308 summed to inf, every normalised weight became 0,
    # and the fit returned NaN kernels after overflow warnings. The solver sees
    # nothing but the summary, so equal summaries make equal fits.
    X, y = data
    sizes = (50, 100)
    equal = summarise_arrays(X, y, None, sizes, np.random.RandomState(0), center=True)
    with np.errstate(all="raise"):
        huge = summarise_arrays(
            X, y, np.full(len(X), 1e308), sizes, np.random.RandomState(0), center=True
        )
    for field in ("y_mean", "y_scale", "x_scale"):
        assert getattr(huge, field) == pytest.approx(getattr(equal, field), rel=1e-14)
    np.testing.assert_allclose(huge.moment, equal.moment, rtol=1e-12, atol=1e-15)
    for got, expected in [
        (huge.search_rows, equal.search_rows),
        (huge.refine_rows, equal.refine_rows),
    ]:
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, rtol=1e-14)


def _rows(X, y, weight):
    return Rows(X.astype(float), y.astype(float), weight.astype(float))


def test_summary_standardises_rows_and_moment_once():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((40, 6)) * 5.0
    y = rng.standard_normal(40) * 3.0 + 7.0
    weight = rng.uniform(0.5, 1.5, 40)
    plan = SubsamplePlan(slice(None), slice(None), slice(None))
    summary = summarise(
        block_statistics(X, y, weight), _rows(X, y, weight), plan, center=True
    )
    share = weight / weight.sum()
    mean = share @ y
    std = np.sqrt(share @ (y - mean) ** 2)
    x_scale = np.sqrt(share @ np.sum(X**2, axis=1) / 6)
    assert summary.y_mean == pytest.approx(mean)
    assert summary.y_scale == pytest.approx(std)
    assert summary.x_scale == pytest.approx(x_scale)
    # The summary's own copy of the rows is divided in place, once.
    assert summary.rows.x_divisor == 1.0
    np.testing.assert_allclose(summary.rows.X, X / x_scale)
    np.testing.assert_allclose(summary.rows.y, (y - mean) / std)
    expected = (X / x_scale).T @ (share * (y - mean) / std)
    np.testing.assert_allclose(summary.moment, expected, rtol=1e-12)
    np.testing.assert_allclose(summary.search_rows.weight, share)


def test_a_summary_sharing_the_users_x_divides_it_as_it_is_read():
    X = np.random.RandomState(0).standard_normal((40, 6)) * 5.0
    y = np.arange(40.0)
    plan = SubsamplePlan(slice(None), slice(None), slice(None))
    before = X.copy()
    shared = summarise(
        block_statistics(X, y),
        Rows(X, y.copy(), np.ones(40)),
        plan,
        center=True,
        shares_x=True,
    )
    np.testing.assert_array_equal(X, before)
    assert shared.rows.X is X and shared.rows.x_divisor == shared.x_scale
    own = summarise(block_statistics(X, y), _rows(X, y, np.ones(40)), plan, center=True)
    np.testing.assert_array_equal(own.rows.X, X / shared.x_scale)


def test_summary_refuses_zero_total_weight():
    X, y = np.ones((5, 2)), np.arange(5.0)
    weight = np.zeros(5)
    plan = SubsamplePlan(slice(None), slice(None), slice(None))
    with pytest.raises(ValueError, match=ZERO_WEIGHT_MESSAGE):
        summarise(
            block_statistics(X, y, weight), _rows(X, y, weight), plan, center=True
        )


def test_constant_targets_leave_no_moment():
    X, y = np.random.RandomState(1).standard_normal((5, 2)), np.full(5, 2.0)
    plan = SubsamplePlan(slice(None), slice(None), slice(None))
    summary = summarise(
        block_statistics(X, y), _rows(X, y, np.ones(5)), plan, center=True
    )
    assert summary.moment is None and summary.y_mean == 2.0
