"""The activations: derivatives, symmetries, extreme inputs, and their resolution
into one activation per layer."""

import numpy as np
import pytest

from sklearn_deeptd._activations import ACTIVATIONS, resolve_activations


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


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_are_finite_near_the_largest_float(name):
    # sigmoid and softplus take exp of -|z| only; no activation overflows,
    # divides by zero or returns NaN on finite input.
    activation = ACTIVATIONS[name]
    z = np.array([-1.7e308, -1e300, -50.0, 0.0, 50.0, 1e300, 1.7e308])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        values = activation.function(z)
        derivatives = activation.derivative(z)
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(derivatives))
    # The values at -1.7e308 and 1.7e308, where an activation saturates or
    # keeps its argument.
    ends = {
        "relu": (0.0, 1.7e308),
        "tanh": (-1.0, 1.0),
        "sigmoid": (0.0, 1.0),
        "softplus": (0.0, 1.7e308),
        "identity": (-1.7e308, 1.7e308),
    }
    if name in ends:
        assert (values[0], values[-1]) == ends[name]


def test_one_name_serves_every_hidden_layer():
    activations = resolve_activations("tanh", "relu", 3)
    assert [a.name for a in activations] == ["tanh", "tanh", "relu"]
    assert [a.name for a in resolve_activations("tanh", "sigmoid", 1)] == ["sigmoid"]
    per_layer = resolve_activations(("softplus", "leaky_relu"), "identity", 3)
    assert [a.name for a in per_layer] == ["softplus", "leaky_relu", "identity"]
    assert per_layer[0] is ACTIVATIONS["softplus"]
