"""The network: the forward pass against its definition, random unit kernels,
and predict's overflow-safe evaluation."""

import numpy as np
import pytest

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset
from sklearn_deeptd._activations import ACTIVATIONS, resolve_activations
from sklearn_deeptd._network import (
    branches_vary,
    forward,
    pack,
    random_unit_kernels,
    unpack,
)


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


def test_random_unit_kernels_are_reproducible_unit_rows():
    kernels = random_unit_kernels((4, 3, 1), 2, np.random.RandomState(0))
    assert [k.shape for k in kernels] == [(2, 4), (2, 3), (2, 1)]
    for kernel in kernels:
        np.testing.assert_allclose(np.linalg.norm(kernel, axis=1), 1.0, rtol=1e-14)
    again = random_unit_kernels((4, 3, 1), 2, np.random.RandomState(0))
    for a, b in zip(kernels, again):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(kernels[0][0], kernels[0][1])


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


def _long_double_output(model, X):
    """The fitted network's output by its definition, in long double."""
    functions = {
        "tanh": np.tanh,
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "softplus": lambda z: np.logaddexp(0, z),
        "identity": lambda z: z,
    }
    hidden = np.asarray(X, dtype=np.longdouble)
    with np.errstate(over="ignore"):
        for kernel, name in zip(model.kernels_, model.activations_):
            blocks = hidden.reshape(len(X), -1, kernel.shape[1])
            hidden = functions[name](blocks @ kernel[0].astype(np.longdouble))
    return hidden[:, 0] * model.weights_[0] + model.intercept_


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus"])
def test_huge_inputs_of_other_networks_give_their_value(activation):
    # tanh and sigmoid saturate; softplus grows like relu (a reviewer found
    # -inf and NaN where the values were about 1e307). Mixed with ordinary
    # rows in one block, which must keep their exact values.
    model, X = _fitted_network(activation)
    X = np.vstack([X[:10], _near_largest_float(X[10:])])
    prediction = model.predict(X)
    expected = _long_double_output(model, X).astype(np.float64)
    np.testing.assert_allclose(prediction, expected, rtol=1e-12)


def test_output_beyond_the_float_range_warns():
    model, X = _fitted_network("relu")
    model.weights_ = model.weights_ * 1e10
    with pytest.warns(RuntimeWarning, match="output overflows the floating-point"):
        prediction = model.predict(_near_largest_float(X))
    # Rows whose value overflows are infinite (never NaN); the others finite.
    assert not np.any(np.isnan(prediction)) and np.sum(np.isinf(prediction)) > 10


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


def test_pack_unpack_round_trip_of_several_outputs():
    rng = np.random.RandomState(2)
    kernels = [rng.standard_normal((3, d)) for d in (4, 2)]
    weights = rng.standard_normal((3, 5))
    intercept = rng.standard_normal(5)
    theta = pack(kernels, weights, intercept)
    assert theta.shape == (3 * 6 + 3 * 5 + 5,)
    got_kernels, got_weights, got_intercept = unpack(
        theta, [k.shape for k in kernels], (5,)
    )
    for got, expected in zip(got_kernels, kernels):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(got_weights, weights)
    np.testing.assert_array_equal(got_intercept, intercept)


def test_a_constant_branch_is_dead():
    weight = np.full(20, 1 / 20)
    target = np.random.RandomState(0).standard_normal(20)
    assert not branches_vary(np.full((20, 1), 3.0), weight)
    assert not branches_vary(np.zeros((20, 2)), weight)
    assert branches_vary(np.c_[np.zeros(20), target], weight)
