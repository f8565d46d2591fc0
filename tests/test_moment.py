"""The moment: tensorisation, block statistics in safe units, their exact merge."""

import numpy as np
import pytest
from _reference import moment_tensor

from sklearn_deeptd._moment import (
    MomentStatistics,
    block_statistics,
    cross_product,
    merge_statistics,
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


def _data(seed, n=50, p=12, offset=3.0):
    rng = np.random.RandomState(seed)
    return rng.standard_normal((n, p)), rng.standard_normal(n) + offset


def _weighted_std(y, weight):
    mean = weight @ y / weight.sum()
    return np.sqrt(weight @ (y - mean) ** 2 / weight.sum())


@pytest.mark.parametrize("center", [None, True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_standardised_moment_is_the_reference_moment_over_std(center, weighted):
    X, y = _data(0)
    weight = np.random.RandomState(1).uniform(0, 2, 50) if weighted else None
    statistics = block_statistics(X, y, weight, center=center)
    full = np.ones(50) if weight is None else weight
    std = _weighted_std(y, full)
    assert statistics.y_mean == pytest.approx(full @ y / full.sum(), rel=1e-14)
    assert statistics.y_std == pytest.approx(std, rel=1e-13)
    for centred in (True, False):
        if center is not None and center != centred:
            continue
        expected = moment_tensor(X, y, (3, 4), weight, center=centred).ravel("F")
        got = statistics.standardised_moment(center=centred, x_scale=2.0)
        np.testing.assert_allclose(got, expected / (2.0 * std), rtol=1e-12)
    assert (statistics.x_mean is None) == (center is not None)


def test_weighted_statistics_equal_repeated_rows():
    X, y = _data(1, n=20, p=6)
    counts = np.random.RandomState(2).randint(0, 4, 20)
    weighted = block_statistics(X, y, counts.astype(float))
    repeated = block_statistics(np.repeat(X, counts, 0), np.repeat(y, counts))
    for field in ("y_mean", "y_std"):
        assert getattr(weighted, field) == pytest.approx(getattr(repeated, field))
    for center in (True, False):
        np.testing.assert_allclose(
            weighted.standardised_moment(center=center, x_scale=1.0),
            repeated.standardised_moment(center=center, x_scale=1.0),
            atol=1e-14,
        )


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1.0, 1e150, 1e300])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("center", [None, True, False])
def test_statistics_of_extreme_targets_do_not_overflow(scale, weighted, center):
    X, unit = _data(3, n=40, p=6)
    weight = np.random.RandomState(4).uniform(0.1, 1, 40) if weighted else None
    reference = block_statistics(X, unit, weight, center=center)
    statistics = block_statistics(X, unit * scale, weight, center=center)
    assert statistics.y_mean == pytest.approx(reference.y_mean * scale, rel=1e-13)
    assert statistics.y_std == pytest.approx(reference.y_std * scale, rel=1e-13)
    for centred in (True, False) if center is None else (center,):
        np.testing.assert_allclose(
            statistics.standardised_moment(center=centred, x_scale=1.0),
            reference.standardised_moment(center=centred, x_scale=1.0),
            rtol=1e-12,
        )


@pytest.mark.parametrize("value", [0.0, 3.0, -1e300, 1e-300])
def test_constant_targets_have_no_moment(value):
    X, _ = _data(5)
    for center in (None, True, False):
        statistics = block_statistics(X, np.full(50, value), center=center)
        assert statistics.y_mean == value
        assert statistics.standardised_moment(center=True, x_scale=1.0) is None


def _split(n_rows, n_blocks, seed):
    cuts = np.sort(np.random.RandomState(seed).choice(n_rows - 1, n_blocks - 1, False))
    edges = np.concatenate([[0], cuts + 1, [n_rows]])
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("scale", [1e-200, 1.0, 1e160])
def test_merged_blocks_equal_one_block(seed, scale):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((3000, 64))
    y = (X @ rng.standard_normal(64) + 50.0) * scale  # an offset: shifts matter
    weight = rng.uniform(0, 2, 3000) * 1e300
    one = block_statistics(X, y, weight)
    blocks = [block_statistics(X[r], y[r], weight[r]) for r in _split(3000, 7, seed)]
    merged = merge_statistics(blocks)
    assert merged.n_rows == 3000
    assert merged.y_mean == pytest.approx(one.y_mean, rel=1e-12)
    assert merged.y_std == pytest.approx(one.y_std, rel=1e-10)
    for center in (True, False):
        expected = one.standardised_moment(center=center, x_scale=1.0)
        got = merged.standardised_moment(center=center, x_scale=1.0)
        assert np.linalg.norm(got - expected) <= 1e-10 * np.linalg.norm(expected)


def test_blocks_of_zero_weight_add_nothing_but_their_rows():
    X, y = _data(6, n=60)
    weight = np.ones(60)
    weight[20:40] = 0.0
    merged = merge_statistics(
        [block_statistics(X[r], y[r], weight[r]) for r in np.split(np.arange(60), 3)]
    )
    kept = np.r_[0:20, 40:60]
    one = block_statistics(X[kept], y[kept])
    assert merged.n_rows == 60
    np.testing.assert_allclose(
        merged.standardised_moment(center=True, x_scale=1.0),
        one.standardised_moment(center=True, x_scale=1.0),
        rtol=1e-12,
    )
    nothing = merge_statistics([block_statistics(X, y, np.zeros(60))])
    assert nothing.weight_total == 0 and nothing.n_rows == 60


def test_statistics_travel_as_one_row():
    X, y = _data(7)
    statistics = block_statistics(X, y, np.random.RandomState(8).uniform(0, 1, 50))
    back = MomentStatistics.from_row(statistics.to_row()[0])
    assert back.n_rows == 50 and back.y_mean == statistics.y_mean
    np.testing.assert_array_equal(back.moment, statistics.moment)
    np.testing.assert_array_equal(back.x_mean, statistics.x_mean)


def test_float32_product_accumulates_blocks_in_float64(monkeypatch):
    monkeypatch.setattr("sklearn_deeptd._moment.FLOAT32_BLOCK_ROWS", 4096)
    rng = np.random.RandomState(0)
    X = rng.standard_normal((100_000, 4)).astype(np.float32)
    v = rng.standard_normal(100_000)
    exact = X.astype(np.float64).T @ v.astype(np.float32).astype(np.float64)
    got = cross_product(X, v)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, exact, rtol=1e-5)
