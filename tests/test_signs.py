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
    _best_pattern,
    _pattern_correlations,
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
    ).network
    _assert_is_planted(network, planted)


def test_the_search_is_exact_beyond_depth_twelve():
    # 2^13 patterns, every one scored: the planted signs, from any flips.
    sizes = (2,) * 13
    planted = PlantedCNNDataset(sizes, activation="relu", random_state=3)
    X, y = planted.sample(300, random_state=1)
    flips = np.where(np.random.RandomState(0).rand(13) < 0.5, -1.0, 1.0)
    activations = resolve_activations("relu", "identity", len(sizes))
    network = resolve_signs_and_scale(
        X, y, np.full(300, 1 / 300), _flipped(planted, flips), activations
    ).network
    _assert_is_planted(network, planted)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_row_blocks_and_the_mirrored_output_layer_change_no_correlation(
    activation, monkeypatch
):
    # Every pattern's correlation, scored directly, against the blocked search
    # (blocks of 7 rows of 2 X, each divided by 2 as it is read; tanh's output
    # layer mirrored, relu's not).
    planted, X, y, weight = _planted(activation)
    target = y - weight @ y
    vectors = [kernel[0] for kernel in planted.kernels_]
    activations = resolve_activations(activation, "identity", len(SIZES))
    monkeypatch.setattr(signs, "SEARCH_BLOCK_ENTRIES", 7 * 2 * 24)
    correlation, alive = _pattern_correlations(
        2.0 * X, target, weight, vectors, activations, 2.0
    )
    for pattern in range(2 ** len(SIZES)):
        flips = [-1.0 if (pattern >> (2 - layer)) & 1 else 1.0 for layer in range(3)]
        kernels = [(s * v)[None, :] for s, v in zip(flips, vectors)]
        output = forward(X, kernels, activations)[:, 0]
        expected = np.corrcoef(output, target)[0, 1]
        assert correlation[pattern] == pytest.approx(expected, abs=1e-12)
        assert alive[pattern]


@pytest.mark.parametrize("flips", [(1, 1, 1), (-1, 1, 1), (1, -1, -1), (-1, -1, -1)])
def test_an_odd_network_keeps_the_given_signs_or_flips_the_last(flips):
    # With tanh hidden layers and an identity output, every sign pattern gives
    # the network or its negative: all tie. The tie goes to a positive
    # correlation, then to the fewest flips: the given signs, or those with
    # the last kernel flipped, whichever correlates positively.
    planted, X, y, weight = _planted("tanh")
    factors = _flipped(planted, flips)
    activations = resolve_activations("tanh", "identity", len(SIZES))
    network = resolve_signs_and_scale(X, y, weight, factors, activations).network
    overall = np.prod(flips)
    for layer, (got, factor) in enumerate(zip(network.kernels, factors)):
        expected_sign = overall if layer == len(SIZES) - 1 else 1.0
        np.testing.assert_array_equal(got, expected_sign * factor.T)
    assert network.weights[0] > 0
    prediction = forward(X, network.kernels, activations) @ network.weights
    np.testing.assert_allclose(prediction + network.intercept, y, atol=1e-12)


def test_ties_go_to_a_positive_correlation_then_to_a_live_output_then_fewer_flips():
    # Patterns 0..7 of three layers: pattern 3 flips layers 2 and 3, 4 flips layer 1.
    alive = np.ones(8, dtype=bool)
    tie = TIE_TOLERANCE / 2

    def best(correlation, alive=alive):
        return list(_best_pattern(np.asarray(correlation, float), alive, 3))

    # The largest |correlation|, of either sign.
    assert best([0.1, 0, 0, -0.9, 0, 0, 0, 0.5]) == [1, -1, -1]
    # Within the tolerance: the positive correlation first.
    assert best([-0.5 - tie, 0, 0, 0.5, 0, 0, 0, 0]) == [1, -1, -1]
    # Then fewer flips, then the first pattern in depth-first order.
    assert best([0, 0.5 + tie, 0, 0.5, 0.5, 0, 0, 0]) == [1, 1, -1]
    assert best([0, 0, 0.5, 0, 0.5, 0, 0, 0]) == [1, -1, 1]
    # A dead output (correlation 0) loses a tie to one that varies.
    dead_first = np.r_[False, np.ones(7, dtype=bool)]
    assert best(np.zeros(8), dead_first) == [1, 1, -1]
    assert best(np.zeros(8)) == [1, 1, 1]
