"""The sign search: the per-layer signs the moment cannot tell, and the branch
weights and intercept by weighted least squares."""

import numpy as np
import pytest

import sklearn_deeptd._signs as signs
from sklearn_deeptd import PlantedCNNDataset
from sklearn_deeptd._activations import resolve_activations
from sklearn_deeptd._network import forward
from sklearn_deeptd._signs import (
    TIE_TOLERANCE,
    _better_pattern,
    _weighted_correlation,
    fit_branch_weights,
    resolve_signs_and_scale,
)

SIZES = (4, 3, 2)


def _planted(activation, seed=0):
    planted = PlantedCNNDataset(SIZES, activation=activation, random_state=seed)
    X, y = planted.sample(200, random_state=1)
    return planted, X, y, np.full(200, 1 / 200)


def _flipped(planted, flips):
    """The planted kernels as the decomposition gives them: unit-norm columns,
    each layer's sign flipped where ``flips`` is -1."""
    return [sign * kernel.T for sign, kernel in zip(flips, planted.kernels_)]


def _assert_is_planted(network, planted):
    for got, expected in zip(network.kernels, planted.kernels_):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(network.weights, planted.weights_, rtol=1e-12)
    assert abs(float(network.intercept)) < 1e-12


# Activations without a sign symmetry: one sign pattern only gives the network.
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "softplus"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exhaustive_search_finds_the_planted_signs(activation, seed):
    planted, X, y, weight = _planted(activation, seed)
    flips = np.where(np.random.RandomState(seed + 10).rand(3) < 0.5, -1.0, 1.0)
    activations = resolve_activations(activation, "identity", len(SIZES))
    network = resolve_signs_and_scale(
        X, y, weight, _flipped(planted, flips), activations
    )
    _assert_is_planted(network, planted)


@pytest.mark.parametrize("activation", ["relu", "softplus"])
@pytest.mark.parametrize("layer", [0, 1, 2])
def test_greedy_search_corrects_one_wrong_sign(activation, layer, monkeypatch):
    # Deeper networks than MAX_EXHAUSTIVE_DEPTH flip one sign at a time, from
    # the signs given. A local search: it may stop short of the best pattern
    # (several wrong signs, or leaky_relu with seed 2 and layer 1 here), so
    # only this much is promised.
    monkeypatch.setattr(signs, "MAX_EXHAUSTIVE_DEPTH", 2)
    planted, X, y, weight = _planted(activation)
    flips = np.ones(3)
    flips[layer] = -1.0
    activations = resolve_activations(activation, "identity", len(SIZES))
    network = resolve_signs_and_scale(
        X, y, weight, _flipped(planted, flips), activations
    )
    _assert_is_planted(network, planted)


@pytest.mark.parametrize("flips", [(1, 1, 1), (-1, 1, 1), (1, -1, -1), (-1, -1, -1)])
def test_an_odd_network_keeps_the_given_signs_or_flips_the_last(flips):
    # With tanh hidden layers and an identity output, every sign pattern gives
    # the network or its negative: all tie. The tie goes to a positive
    # correlation, then to the fewest flips: the given signs, or those with
    # the last kernel flipped, whichever correlates positively.
    planted, X, y, weight = _planted("tanh")
    factors = _flipped(planted, flips)
    activations = resolve_activations("tanh", "identity", len(SIZES))
    network = resolve_signs_and_scale(X, y, weight, factors, activations)
    overall = np.prod(flips)
    for layer, (got, factor) in enumerate(zip(network.kernels, factors)):
        expected_sign = overall if layer == len(SIZES) - 1 else 1.0
        np.testing.assert_array_equal(got, expected_sign * factor.T)
    assert network.weights[0] > 0
    prediction = forward(X, network.kernels, activations) @ network.weights
    np.testing.assert_allclose(prediction + network.intercept, y, atol=1e-12)


def test_ties_go_to_a_positive_correlation_then_to_fewer_flips():
    plus, one_flip, two_flips = np.ones(3), np.r_[1.0, 1.0, -1.0], -np.ones(2)
    assert _better_pattern(-0.2, plus, 0.0, None)  # the first pattern
    assert _better_pattern(-0.9, one_flip, 0.5, plus)  # larger |correlation|
    assert not _better_pattern(0.5, plus, -0.9, one_flip)
    # Within the tolerance: the positive correlation, then fewer flips.
    tie = 0.5 + TIE_TOLERANCE / 2
    assert _better_pattern(0.5, two_flips, -tie, plus)
    assert not _better_pattern(-tie, plus, 0.5, two_flips)
    assert _better_pattern(0.5, one_flip, tie, two_flips)
    assert not _better_pattern(tie, two_flips, 0.5, one_flip)
    assert not _better_pattern(0.5, one_flip, 0.5, one_flip)


def test_a_constant_branch_has_zero_correlation():
    weight = np.full(20, 1 / 20)
    target = np.random.RandomState(0).standard_normal(20)
    target -= weight @ target  # the search correlates with centred targets
    norm = np.sqrt(weight @ target**2)
    assert _weighted_correlation(np.full(20, 3.0), target, norm, weight) == 0.0
    assert _weighted_correlation(target, target, 0.0, weight) == 0.0
    assert _weighted_correlation(2 * target, target, norm, weight) == pytest.approx(
        1.0, rel=1e-14
    )


def test_branch_weights_are_weighted_least_squares():
    rng = np.random.RandomState(0)
    outputs = rng.standard_normal((30, 2))
    y = outputs @ [1.5, -2.0] + 0.7 + 0.1 * rng.standard_normal(30)
    weight = rng.uniform(0.5, 1.5, 30)
    weight /= weight.sum()
    weights, intercept = fit_branch_weights(outputs, y, weight)
    design = np.c_[np.ones(30), outputs] * np.sqrt(weight)[:, None]
    expected = np.linalg.lstsq(design, y * np.sqrt(weight), rcond=None)[0]
    np.testing.assert_allclose(np.r_[intercept, weights], expected, rtol=1e-12)
    # Two equal branches: the minimum-norm solution splits the weight evenly.
    twin = np.c_[outputs[:, 0], outputs[:, 0]]
    weights, _ = fit_branch_weights(twin, outputs[:, 0] * 3.0, weight)
    np.testing.assert_allclose(weights, [1.5, 1.5], rtol=1e-10)
