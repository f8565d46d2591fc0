"""The network's forward pass against its definition, and the gradient against
finite differences."""

import numpy as np
import pytest

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset
from sklearn_deeptd._activations import ACTIVATIONS, resolve_activations
from sklearn_deeptd._network import forward
from sklearn_deeptd._refinement import pack, squared_loss_and_gradient, unpack


def _forward_by_definition(x, kernels, activations):
    # h_l = phi_l(K_l h_{l-1}) with K_l = I (x) k_l^T, written as explicit blocks.
    hidden = x
    for kernel, activation in zip(kernels, activations):
        size = kernel.size
        blocks = [hidden[i : i + size] for i in range(0, hidden.size, size)]
        hidden = activation.function(np.array([block @ kernel for block in blocks]))
    assert hidden.shape == (1,)
    return hidden[0]


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_forward_matches_definition(activation):
    rng = np.random.RandomState(0)
    sizes = (3, 2, 4)
    kernels = [rng.standard_normal((2, d)) for d in sizes]
    activations = resolve_activations(activation, "tanh", len(sizes))
    X = rng.standard_normal((5, int(np.prod(sizes))))
    outputs = forward(X, kernels, activations)
    assert outputs.shape == (5, 2)
    for i in range(5):
        for branch in range(2):
            expected = _forward_by_definition(
                X[i], [k[branch] for k in kernels], activations
            )
            assert outputs[i, branch] == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    "hidden, output",
    [
        ("relu", "identity"),
        ("tanh", "sigmoid"),
        ("leaky_relu", "relu"),
        ("softplus", "tanh"),
        ("sigmoid", "softplus"),
        ("identity", "leaky_relu"),
    ],
)
@pytest.mark.parametrize("rank", [1, 2])
def test_gradient_matches_finite_differences(hidden, output, rank):
    rng = np.random.RandomState(1)
    sizes = (2, 3, 2)
    activations = resolve_activations(hidden, output, len(sizes))
    X = rng.standard_normal((40, 12))
    y = rng.standard_normal(40)
    sample_weight = rng.uniform(0.5, 1.5, 40)
    sample_weight /= sample_weight.sum()
    kernels = [rng.standard_normal((rank, d)) for d in sizes]
    theta = pack(kernels, rng.standard_normal(rank), 0.3)
    shapes = [k.shape for k in kernels]
    _, gradient = squared_loss_and_gradient(
        theta, X, y, sample_weight, shapes, activations
    )
    step = 1e-6
    numerical = np.empty_like(theta)
    for i in range(theta.size):
        delta = np.zeros_like(theta)
        delta[i] = step
        plus, _ = squared_loss_and_gradient(
            theta + delta, X, y, sample_weight, shapes, activations
        )
        minus, _ = squared_loss_and_gradient(
            theta - delta, X, y, sample_weight, shapes, activations
        )
        numerical[i] = (plus - minus) / (2 * step)
    np.testing.assert_allclose(gradient, numerical, rtol=1e-5, atol=1e-7)


def test_pack_unpack_round_trip():
    rng = np.random.RandomState(2)
    kernels = [rng.standard_normal((3, d)) for d in (4, 2)]
    weights = rng.standard_normal(3)
    theta = pack(kernels, weights, -1.5)
    got_kernels, got_weights, got_intercept = unpack(theta, [k.shape for k in kernels])
    for got, expected in zip(got_kernels, kernels):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(got_weights, weights)
    assert got_intercept == -1.5


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivatives(name):
    activation = ACTIVATIONS[name]
    z = np.linspace(-3, 3, 61) + 0.013  # avoid the kink of ReLU at 0
    numerical = (activation.function(z + 1e-6) - activation.function(z - 1e-6)) / 2e-6
    np.testing.assert_allclose(activation.derivative(z), numerical, atol=1e-6)
    if activation.odd:
        np.testing.assert_allclose(activation.function(-z), -activation.function(z))
    if activation.positively_homogeneous:
        np.testing.assert_allclose(
            activation.function(2.5 * z), 2.5 * activation.function(z)
        )


def _fitted_network(activation):
    planted = PlantedCNNDataset((4, 4, 4), activation=activation, random_state=0)
    X, y = planted.sample(500, random_state=1)
    model = DeepTDRegressor((4, 4, 4), activation=activation, random_state=0)
    return model.fit(X, y), X[:20]


def _near_largest_float(X):
    return X / np.max(np.abs(X), axis=1, keepdims=True) * 1.7e308


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "identity"])
def test_huge_inputs_of_a_homogeneous_network_give_its_value(activation):
    # Used to: finite inputs near 1e308 overflowed in the first layer's
    # products and predicted inf or NaN.
    model, X = _fitted_network(activation)
    X = _near_largest_float(X)
    # Positively homogeneous: f(c x) - b = c (f(x) - b), exactly for c = 2^k.
    expected = (model.predict(X / 2.0**1000) - model.intercept_) * 2.0**1000
    np.testing.assert_allclose(
        model.predict(X) - model.intercept_, expected, rtol=1e-12
    )


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus"])
def test_huge_inputs_saturate_a_network_without_nan(activation):
    model, X = _fitted_network(activation)
    prediction = model.predict(_near_largest_float(X))
    assert np.all(np.isfinite(prediction))
    if activation != "softplus":
        # Saturated already at 1e300 times smaller inputs.
        saturated = model.predict(_near_largest_float(X) / 1e290)
        np.testing.assert_allclose(prediction, saturated, rtol=1e-12)


def test_output_beyond_the_float_range_warns():
    model, X = _fitted_network("relu")
    model.weights_ = model.weights_ * 1e10
    with pytest.warns(RuntimeWarning, match="output overflows the floating-point"):
        prediction = model.predict(_near_largest_float(X))
    # Rows whose value overflows are infinite (never NaN); the others finite.
    assert not np.any(np.isnan(prediction)) and np.sum(np.isinf(prediction)) > 10
