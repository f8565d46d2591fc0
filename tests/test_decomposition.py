"""The decomposition of the moment tensor: rank one, rank r, starts, edge cases."""

import numpy as np
import pytest

from sklearn_deeptd import PlantedCNNDataset, kernel_correlation
from sklearn_deeptd._decomposition import cp_decomposition, hosvd_start
from sklearn_deeptd._moment import tensorize


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


def test_a_long_mode_costs_the_gram_matrix_of_its_short_side(monkeypatch):
    # Used to: the HOSVD start ran eigh on a 4096 x 4096 Gram matrix for a
    # one-column unfolding (15 to 42 s); 8191 features took 375 s.
    shapes = []
    eigh = np.linalg.eigh

    def recording(matrix, *args, **kwargs):
        shapes.append(matrix.shape)
        return eigh(matrix, *args, **kwargs)

    monkeypatch.setattr(np.linalg, "eigh", recording)
    rng = np.random.RandomState(6)
    vector = rng.standard_normal(8191)
    factors, weights, _, converged = cp_decomposition(vector, 1)
    assert shapes == [(1, 1)] and converged
    expected = np.abs(vector) / np.linalg.norm(vector)
    np.testing.assert_allclose(np.abs(factors[0][:, 0]), expected)
    assert weights[0] == pytest.approx(np.linalg.norm(vector))
    # A (2048, 2) tensor: the long mode's start from the 2 x 2 Gram matrix,
    # the direction of the full eigendecomposition.
    tensor = rng.standard_normal((2048, 2))
    shapes.clear()
    long_mode = hosvd_start(tensor, 1, np.random.RandomState(0))[0][:, 0]
    assert shapes == [(2, 2), (2, 2)]
    _, eigenvectors = eigh(tensor @ tensor.T)
    assert abs(long_mode @ eigenvectors[:, -1]) == pytest.approx(1.0, abs=1e-10)


def test_hosvd_start_completes_a_rank_deficient_long_mode():
    # Rank 3 of a (100, 2) unfolding: two singular vectors, one random column.
    tensor = np.random.RandomState(7).standard_normal((100, 2))
    factor = hosvd_start(tensor, 3, np.random.RandomState(0))[0]
    assert factor.shape == (100, 3) and np.all(np.isfinite(factor))
    np.testing.assert_allclose(np.linalg.norm(factor, axis=0), 1.0)
    zero = hosvd_start(np.zeros((50, 1)), 1, np.random.RandomState(0))[0]
    assert np.all(np.isfinite(zero)) and np.linalg.norm(zero) == pytest.approx(1.0)


def test_a_start_that_cannot_catch_the_best_converged_one_is_given_up():
    # Found on iris: the three class moments of its standardised features,
    # stacked (3, 2, 2), rank 2; one of the ten starts crept on to the
    # 3000-sweep cap (0.9 s) after the kept start converged in 49 sweeps.
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    from sklearn_deeptd._decomposition import (
        _alternating_least_squares,
        _moment_tensor,
        _unfolding,
        hosvd_start,
        random_start,
    )
    from sklearn_deeptd._moment import block_statistics

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    columns = block_statistics(X, np.eye(3)[y], center=True)
    moment = np.stack([c.moment / c.y_std for c in columns], axis=1)
    tensor = _moment_tensor(moment, (2, 2))
    rng = np.random.RandomState(0)
    starts = [hosvd_start(tensor, 2, rng)] + [
        random_start(tensor, 2, rng) for _ in range(9)
    ]
    unfoldings = [_unfolding(np, tensor, mode) for mode in range(3)]
    _, _, n_iter, converged, error = _alternating_least_squares(
        np, unfoldings, starts, np.linalg.norm(tensor), 3000, 1e-7
    )
    kept = np.argmin(error)
    assert converged[kept]
    assert n_iter.max() < 3000, n_iter
    # Every start given up was worse than the kept one.
    assert np.all(error[~converged] > error[kept])
