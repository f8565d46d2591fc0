"""Planted networks: the operational rule, redraws and the PlantedNetwork record."""

import dataclasses

import numpy as np
import pytest

import sklearn_deeptd._planting as planting
from sklearn_deeptd._activations import resolve_activations
from sklearn_deeptd._planting import PlantedNetwork, bayes_labels, plant_network


def _plant(seed=0, kernel_sizes=(3, 2), **kwargs):
    activations = resolve_activations("relu", "identity", len(kernel_sizes))
    rng = np.random.RandomState(seed)
    return plant_network(kernel_sizes, activations, 2, rng, **kwargs)


def test_planted_network_is_frozen():
    network = _plant()
    with pytest.raises(dataclasses.FrozenInstanceError):
        network.noise = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        network.kernels = ()


def test_regression_network_fields():
    network = _plant(n_targets=3, noise=0.5)
    assert isinstance(network, PlantedNetwork)
    assert [kernel.shape for kernel in network.kernels] == [(2, 3), (2, 2)]
    assert network.n_features == 6 and network.weights.shape == (2, 3)
    assert network.noise == 0.5 and network.label_std.shape == (3,)
    assert [a.name for a in network.activations] == ["relu", "identity"]
    for name in ("labels", "temperature", "offset", "scale", "bayes_accuracy"):
        assert getattr(network, name) is None


def test_planting_is_deterministic_in_the_stream():
    first, second = _plant(seed=4), _plant(seed=4)
    for a, b in zip(first.kernels, second.kernels):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first.weights, second.weights)
    assert first.label_std == second.label_std


@pytest.mark.parametrize("n_classes, weights_shape", [(2, (2,)), (3, (2, 3))])
def test_label_network_law(n_classes, weights_shape):
    # Two classes share the regression network's 1-D weights, more have a
    # column of weights a class.
    network = _plant(labels="logistic", n_classes=n_classes, temperature=0.15)
    assert network.labels == "logistic" and network.temperature == 0.15
    assert network.weights.shape == weights_shape
    outputs = np.random.RandomState(0).standard_normal((5, *weights_shape[1:]))
    probabilities = network.class_probabilities(network.decision(outputs))
    assert probabilities.shape == (5, n_classes)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert 1 / n_classes < network.bayes_accuracy < 1.0


def test_threshold_labels_are_the_most_probable_class():
    network = _plant(labels="threshold", n_classes=3, temperature=0.15)
    decision = np.array([[0.0, 2.0, 1.0], [3.0, 1.0, -1.0]])
    np.testing.assert_array_equal(
        network.class_probabilities(decision), [[0, 1, 0], [1, 0, 0]]
    )
    assert network.bayes_accuracy == 1.0
    np.testing.assert_array_equal(bayes_labels(np.array([-0.5, 0.0, 0.5])), [0, 0, 1])


def test_operational_rule():
    one = np.ones(1)
    assert planting._is_operational(np.array([[1.0], [2.0], [0.0]]), one)
    assert not planting._is_operational(np.array([[1.0], [0.0], [0.0]]), one)
    # A constant branch is dead, even when the labels vary.
    two = np.ones(2)
    assert not planting._is_operational(np.array([[1.0, 1.0], [2.0, 1.0]]), two)
    # Several targets: each must be non-zero on half of the inputs.
    branches = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
    assert planting._is_operational(branches, np.ones((2, 2)))
    assert not planting._is_operational(branches, np.eye(2))


def test_dead_network_is_redrawn_until_the_limit(monkeypatch):
    monkeypatch.setattr(planting, "_is_operational", lambda outputs, weights: False)
    with pytest.raises(ValueError, match="Could not plant an operational network"):
        _plant()
