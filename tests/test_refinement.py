"""The refinement: the loss's gradient against finite differences, the parameter
vector, and what L-BFGS adds to the DeepTD estimate."""

import numpy as np
import pytest

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset, kernel_correlation
from sklearn_deeptd._activations import resolve_activations
from sklearn_deeptd._refinement import pack, squared_loss_and_gradient, unpack


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


def test_refinement_removes_deeptd_bias():
    planted = PlantedCNNDataset((4, 4, 4), random_state=0)
    X, y = planted.sample(400, random_state=1)
    raw = DeepTDRegressor((4, 4, 4), refine=False, random_state=0).fit(X, y)
    refined = DeepTDRegressor((4, 4, 4), random_state=0).fit(X, y)
    raw_corr = kernel_correlation(planted.kernels_, raw.kernels_)
    refined_corr = kernel_correlation(planted.kernels_, refined.kernels_)
    td_corr = kernel_correlation(planted.kernels_, refined.td_kernels_)
    np.testing.assert_allclose(raw_corr, td_corr)
    assert refined_corr.min() > 0.999 and refined_corr.min() > raw_corr.min()
