"""kernel_correlation."""

import numpy as np
import pytest

from sklearn_deeptd import kernel_correlation


def test_sign_and_scale_are_ignored():
    rng = np.random.RandomState(0)
    true = [rng.standard_normal((1, d)) for d in (3, 4)]
    est = [-2.0 * true[0], 0.1 * true[1]]
    np.testing.assert_allclose(kernel_correlation(true, est), 1.0)


def test_branches_are_matched_optimally():
    rng = np.random.RandomState(1)
    true = [rng.standard_normal((3, d)) for d in (5, 4)]
    permutation = [2, 0, 1]
    est = [k[permutation] for k in true]
    correlation = kernel_correlation(true, est)
    assert correlation.shape == (2, 3)
    np.testing.assert_allclose(correlation, 1.0)


def test_value_is_absolute_cosine():
    true = [np.array([1.0, 0.0])]
    est = [np.array([1.0, 1.0])]
    assert kernel_correlation(true, est)[0, 0] == pytest.approx(np.sqrt(0.5))


def test_missing_branches_and_zero_kernels_score_zero():
    true = [np.eye(2)]
    np.testing.assert_allclose(
        kernel_correlation(true, [np.array([[0.0, 1.0]])]), [[0.0, 1.0]]
    )
    assert kernel_correlation([np.ones((1, 2))], [np.zeros((1, 2))])[0, 0] == 0.0


@pytest.mark.parametrize(
    "true, est, message",
    [
        ([np.ones((1, 2))], [np.ones((1, 2))] * 2, "has 1 layers but kernels_est"),
        ([np.ones((1, 2))], [np.ones((1, 3))], "kernel size 2 in kernels_true but 3"),
        ([np.ones((1, 2))], [np.array([[np.nan, 1.0]])], "NaN or infinity"),
        (np.ones((2, 2)), [np.ones((1, 2))], "one array of kernels per layer"),
        ([], [], "at least one layer"),
        ([np.ones((1, 2)), np.ones((2, 2))], [np.ones((1, 2))] * 2, "same rank"),
        ([np.ones((1, 1, 2))], [np.ones((1, 2))], r"must have shape \(rank, d_l\)"),
    ],
)
def test_invalid_input(true, est, message):
    with pytest.raises(ValueError, match=message):
        kernel_correlation(true, est)


@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e200, 1e300])
def test_kernels_of_extreme_magnitude_keep_their_direction(scale):
    # Used to: the norms overflowed (underflowed) and identical kernels scored 0.
    kernels = [np.array([[1.0, 2.0, -0.5]]) * scale, np.array([[0.3, 4.0]])]
    np.testing.assert_allclose(kernel_correlation(kernels, kernels), [[1.0], [1.0]])
