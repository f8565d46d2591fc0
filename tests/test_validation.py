"""Bad input gets a clear error naming the problem; nothing returns NaN."""

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset


@pytest.fixture(scope="module")
def data():
    return PlantedCNNDataset((3, 2, 2), random_state=0).sample(50, random_state=1)


@pytest.mark.parametrize("where", ["X", "y"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_input(data, where, value):
    X, y = (array.copy() for array in data)
    (X if where == "X" else y)[3] = value
    kind = "NaN" if np.isnan(value) else "infinity"
    with pytest.raises(ValueError, match=f"Input {where} contains {kind}"):
        DeepTDRegressor().fit(X, y)


def test_kernel_sizes_product_names_both_numbers(data):
    X, y = data
    with pytest.raises(
        ValueError, match=r"kernel_sizes \(4, 4\) multiply to 16, but X has 12"
    ):
        DeepTDRegressor(kernel_sizes=(4, 4)).fit(X, y)


@pytest.mark.parametrize(
    "kernel_sizes, message",
    [
        ((3, 0, 4), "kernel_sizes must be positive; got 0"),
        ((-3, -4), "kernel_sizes must be positive; got -3"),
        ((3, 4.0), "must contain only integers; got 4.0"),
        ((True, 12), "must contain only integers; got True"),
        ((), "at least one kernel size"),
        (12, "'kernel_sizes' parameter of DeepTDRegressor must be None or an array"),
    ],
)
def test_invalid_kernel_sizes(data, kernel_sizes, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        DeepTDRegressor(kernel_sizes=kernel_sizes).fit(X, y)


def test_unknown_activation_names(data):
    X, y = data
    with pytest.raises(InvalidParameterError, match="'activation' parameter"):
        DeepTDRegressor(activation="swish").fit(X, y)
    with pytest.raises(InvalidParameterError, match="'output_activation' parameter"):
        DeepTDRegressor(output_activation="gelu").fit(X, y)
    with pytest.raises(
        ValueError, match=r"Unknown activation 'swish' in activation\[1\]"
    ):
        DeepTDRegressor(activation=("relu", "swish")).fit(X, y)


@pytest.mark.parametrize("activation", [("relu",), ("relu", "tanh", "relu")])
def test_activation_tuple_of_wrong_length(data, activation):
    X, y = data
    with pytest.raises(
        ValueError, match=f"has {len(activation)} entries but the network has 2 hidden"
    ):
        DeepTDRegressor((3, 2, 2), activation=activation).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        {"rank": 0},
        {"max_iter": 0},
        {"tol": -1.0},
        {"center": "yes"},
        {"refine": 2},
        {"random_state": "seed"},
        {"kernel_sizes": "3,4"},
    ],
)
def test_invalid_parameters(data, params):
    X, y = data
    with pytest.raises(ValueError, match="parameter|kernel_sizes must be"):
        DeepTDRegressor(**params).fit(X, y)


def test_too_few_samples(data):
    X, y = data
    with pytest.raises(ValueError, match="1 sample.*minimum of 2 is required"):
        DeepTDRegressor().fit(X[:1], y[:1])


def test_bad_sample_weight(data):
    X, y = data
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        DeepTDRegressor().fit(X, y, sample_weight=np.r_[-1.0, np.ones(49)])
    with pytest.raises(ValueError, match="sample_weight"):
        DeepTDRegressor().fit(X, y, sample_weight=np.ones(3))


def test_predict_with_other_feature_count(data):
    X, y = data
    model = DeepTDRegressor(random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 10 features, but DeepTDRegressor"):
        model.predict(X[:, :10])


@pytest.mark.parametrize("value", [0.0, 7.5, -1e200])
def test_constant_targets_predict_the_mean(data, value):
    X, _ = data
    y = np.full(X.shape[0], value)
    with pytest.warns(UserWarning, match="the targets are constant.*predicts the mean"):
        model = DeepTDRegressor(random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.predict(X), y)
    assert all(np.all(np.isfinite(k)) for k in model.kernels_)
    assert np.all(model.weights_ == 0)


def test_zero_moment_predicts_the_mean():
    # X = 0 carries no information: the moment tensor is exactly zero.
    X = np.zeros((20, 4))
    y = np.arange(20.0)
    with pytest.warns(UserWarning, match="the moment tensor is zero"):
        model = DeepTDRegressor(random_state=0).fit(X, y)
    np.testing.assert_allclose(model.predict(X), y.mean())
    assert model.n_iter_ == 0


@pytest.mark.parametrize("scale", [1e-150, 1e150])
def test_extreme_target_scale_is_finite(data, scale):
    X, y = data
    # Targets are standardised inside fit, so the fit is scale-equivariant.
    reference = DeepTDRegressor(random_state=0).fit(X, y).predict(X)
    model = DeepTDRegressor(random_state=0).fit(X, y * scale)
    prediction = model.predict(X)
    assert np.all(np.isfinite(prediction))
    np.testing.assert_allclose(prediction / scale, reference, rtol=1e-9, atol=1e-12)
