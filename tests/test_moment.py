"""The moment tensor and its decomposition."""

import numpy as np
import pytest

from sklearn_deeptd import PlantedCNNDataset, kernel_correlation
from sklearn_deeptd._decomposition import cp_decomposition
from sklearn_deeptd._moment import (
    moment_tensor,
    standardised_multipliers,
    tensorize,
)


def test_tensorize_follows_the_patch_index():
    sizes = (2, 3, 4)
    vector = np.arange(24.0)
    tensor = tensorize(vector, sizes)
    for i1 in range(2):
        for i2 in range(3):
            for i3 in range(4):
                assert tensor[i1, i2, i3] == vector[i1 + 2 * i2 + 6 * i3]


def test_moment_is_centred_cross_moment():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((50, 12))
    y = rng.standard_normal(50) + 3.0
    expected = X.T @ (y - y.mean()) / 50
    np.testing.assert_allclose(moment_tensor(X, y, (3, 4)), tensorize(expected, (3, 4)))
    naive = moment_tensor(X, y, (3, 4), center=False)
    np.testing.assert_allclose(naive, tensorize(X.T @ y / 50, (3, 4)))


def test_weighted_moment_equals_repeated_rows():
    rng = np.random.RandomState(1)
    X = rng.standard_normal((20, 6))
    y = rng.standard_normal(20)
    weights = rng.randint(0, 4, 20).astype(float)
    repeated = moment_tensor(
        np.repeat(X, weights.astype(int), 0), np.repeat(y, weights.astype(int)), (2, 3)
    )
    np.testing.assert_allclose(
        moment_tensor(X, y, (2, 3), sample_weight=weights), repeated, atol=1e-14
    )


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1.0, 1e150, 1e300])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("center", [False, True])
def test_standardised_multipliers_do_not_overflow(scale, weighted, center):
    unit = np.array([1.0, 2.0, 3.0, 4.0, 1.5])
    weight = np.array([0.1, 0.3, 0.2, 0.25, 0.15]) if weighted else None
    w = np.full(5, 0.2) if weight is None else weight
    mean = w @ unit
    std = np.sqrt(w @ (unit - mean) ** 2)
    offset = mean if center else 0.0
    y_mean, y_scale, multipliers = standardised_multipliers(
        unit * scale, weight, center=center
    )
    assert y_mean == pytest.approx(mean * scale, rel=1e-13)
    assert y_scale == pytest.approx(std * scale, rel=1e-13)
    np.testing.assert_allclose(multipliers, w * (unit - offset) / std, rtol=1e-13)


def test_standardised_multipliers_of_constant_targets_are_none():
    for value in (0.0, 3.0, -1e300, 1e-300):
        y_mean, y_scale, multipliers = standardised_multipliers(np.full(7, value), None)
        assert multipliers is None and y_mean == value and y_scale == 0.0


def _unit(v):
    return v / np.linalg.norm(v)


def test_rank_one_tensor_is_recovered_exactly():
    rng = np.random.RandomState(2)
    vectors = [_unit(rng.standard_normal(d)) for d in (4, 5, 3)]
    tensor = 2.5 * np.einsum("i,j,k->ijk", *vectors)
    factors, weights, n_iter, converged = cp_decomposition(tensor, 1)
    assert converged and n_iter >= 1
    assert weights[0] == pytest.approx(2.5)
    for factor, vector in zip(factors, vectors):
        assert abs(factor[:, 0] @ vector) == pytest.approx(1.0)


def test_rank_two_tensor_is_recovered():
    rng = np.random.RandomState(3)
    components = [[_unit(rng.standard_normal(d)) for d in (6, 5, 4)] for _ in range(2)]
    tensor = sum(
        w * np.einsum("i,j,k->ijk", *vectors)
        for w, vectors in zip((3.0, 1.5), components)
    )
    factors, weights, _, converged = cp_decomposition(
        tensor, 2, max_iter=500, tol=1e-12
    )
    assert converged
    np.testing.assert_allclose(weights, [3.0, 1.5], rtol=1e-6)
    for j, vectors in enumerate(components):
        for factor, vector in zip(factors, vectors):
            assert abs(factor[:, j] @ vector) == pytest.approx(1.0, abs=1e-6)


def test_zero_tensor_and_one_layer():
    factors, weights, n_iter, converged = cp_decomposition(np.zeros((3, 2)), 1)
    assert converged and n_iter == 0 and np.all(weights == 0)
    assert all(np.all(np.isfinite(f)) for f in factors)
    vector = np.array([3.0, 4.0])
    factors, weights, _, _ = cp_decomposition(vector, 1)
    np.testing.assert_allclose(np.abs(factors[0][:, 0]), [0.6, 0.8])
    assert weights[0] == pytest.approx(5.0)


def test_decomposition_reports_non_convergence():
    rng = np.random.RandomState(4)
    tensor = rng.standard_normal((5, 5, 5))
    *_, n_iter, converged = cp_decomposition(tensor, 3, max_iter=2, tol=0.0)
    assert n_iter == 2 and not converged


def _rank_one_error(tensor, factors, weights):
    model = weights[0] * np.einsum("i,j,k->ijk", *(f[:, 0] for f in factors))
    return np.linalg.norm(tensor - model)


def test_random_starts_escape_a_local_optimum_of_the_hosvd_start():
    # A noisy moment (planted (8, 8, 8) ReLU network, seed 5, n = 120) on which
    # the HOSVD start stops at a worse local optimum than most random starts.
    planted = PlantedCNNDataset((8, 8, 8), random_state=5)
    X, y = planted.sample(120, random_state=10_005)
    tensor = tensorize(X.T @ (y - y.mean()) / len(y), (8, 8, 8))
    one = cp_decomposition(tensor, 1, random_state=np.random.RandomState(0))
    ten = cp_decomposition(
        tensor, 1, n_starts=10, random_state=np.random.RandomState(0)
    )
    error_one = _rank_one_error(tensor, one[0], one[1])
    error_ten = _rank_one_error(tensor, ten[0], ten[1])
    assert error_ten < error_one - 1e-3 * np.linalg.norm(tensor)
    # The better optimum is closer to the planted kernels on every layer.
    kernels = [f[:, 0] for f in ten[0]]
    hosvd_kernels = [f[:, 0] for f in one[0]]
    assert np.all(
        kernel_correlation(planted.kernels_, kernels)
        > kernel_correlation(planted.kernels_, hosvd_kernels)
    )
