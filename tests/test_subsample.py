"""The reproducible subsamples of the sign search and the refinement."""

import numpy as np
import pytest
from sklearn.base import clone

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset, kernel_correlation
from sklearn_deeptd._subsample import (
    RUN_ROWS,
    gather_rows,
    ordered_runs,
    ordered_sample,
    subsample_plan,
)


def test_ordered_sample_is_uniform_and_distinct():
    rng = np.random.RandomState(0)
    counts = np.zeros(50)
    first = np.zeros(50)
    for _ in range(4000):
        rows = ordered_sample(50, 5, rng)
        assert len(set(rows.tolist())) == 5
        counts[rows] += 1
        first[rows[0]] += 1
    # Each row is drawn with probability 5/50 and comes first with 1/50:
    # expected counts 400 and 80, binomial standard deviations 19 and 8.9.
    assert np.all(np.abs(counts - 400) < 5 * 19)
    assert np.all(np.abs(first - 80) < 5 * 8.9)
    big = ordered_sample(10**6, 4096, rng)
    assert big.size == 4096 and np.unique(big).size == 4096


@pytest.mark.parametrize("n_samples", [100, 1000, 1007, 10**6])
@pytest.mark.parametrize("size", [1, 17, 64, 99])
def test_ordered_runs_are_distinct_whole_runs(n_samples, size):
    rows = ordered_runs(n_samples, size, np.random.RandomState(1))
    assert rows.size == size and np.unique(rows).size == size
    assert rows.min() >= 0 and rows.max() < n_samples
    # Whole runs, one after the other, except the last one taken.
    runs = rows // RUN_ROWS
    starts = np.flatnonzero(np.r_[True, np.diff(runs) != 0])
    assert np.unique(runs).size == starts.size
    for start, stop in zip(starts[:-1], starts[1:]):
        first_row = runs[start] * RUN_ROWS
        expected = np.arange(first_row, min(first_row + RUN_ROWS, n_samples))
        np.testing.assert_array_equal(np.sort(rows[start:stop]), expected)


def test_ordered_runs_cut_inside_a_run_take_random_offsets():
    # 40 rows of 3200: one whole run and 8 rows of another. Every offset in a
    # run comes 1 + 8/32 times per draw: 5000 of 4000 draws (the partial
    # run's share is binomial, standard deviation 27).
    rng = np.random.RandomState(5)
    counts = np.zeros(RUN_ROWS)
    for _ in range(4000):
        np.add.at(counts, ordered_runs(3200, 40, rng) % RUN_ROWS, 1)
    assert np.all(np.abs(counts - 5000) < 5 * 27)


def test_ordered_runs_cover_every_run_equally_often():
    # 10 whole runs, 3 drawn: each run is drawn with probability 0.3, 1200 of
    # 4000 times (standard deviation 29).
    rng = np.random.RandomState(2)
    counts = np.zeros(10)
    for _ in range(4000):
        rows = ordered_runs(10 * RUN_ROWS, 3 * RUN_ROWS, rng)
        counts[np.unique(rows // RUN_ROWS)] += 1
    assert np.all(np.abs(counts - 1200) < 5 * 29)


def test_subsample_plan_nests_the_smaller_in_the_pool():
    rng = np.random.RandomState(3)
    pool_rows, (small, large) = subsample_plan(10_000, (300, 1000), rng)
    assert pool_rows.size == 1000 and np.all(np.diff(pool_rows) > 0)
    assert large == slice(None)
    assert small.size == 300 and np.all(np.diff(small) > 0)
    assert np.all(small < pool_rows.size)
    # The same draw with the sizes the other way round.
    again, (large_first, small_second) = subsample_plan(
        10_000, (1000, 300), np.random.RandomState(3)
    )
    np.testing.assert_array_equal(again, pool_rows)
    np.testing.assert_array_equal(small_second, small)


def test_subsample_plan_takes_every_row_when_sizes_cover_them():
    rng = np.random.RandomState(4)
    before = rng.get_state()[1].copy()
    assert subsample_plan(50, (50, 80), rng) == (slice(None), [slice(None)] * 2)
    np.testing.assert_array_equal(rng.get_state()[1], before)  # nothing drawn
    pool_rows, (small, large) = subsample_plan(50, (20, 80), rng)
    assert pool_rows == slice(None) and large == slice(None)
    assert small.size == 20 and np.unique(small).size == 20


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gather_rows_is_float64_c_ordered(order, dtype):
    rng = np.random.RandomState(5)
    X = np.asarray(rng.standard_normal((40, 6)), dtype=dtype, order=order)
    y = rng.standard_normal(40)
    rows = np.array([1, 5, 6, 30])
    X_rows, y_rows, w_rows, _ = gather_rows(X, y, None, rows)
    assert X_rows.dtype == np.float64 and X_rows.flags.c_contiguous
    np.testing.assert_array_equal(X_rows, X[rows])
    np.testing.assert_array_equal(y_rows, y[rows])
    np.testing.assert_array_equal(w_rows, np.ones(4))
    weight = rng.uniform(size=40)
    assert gather_rows(X, y, weight, rows)[2].tolist() == weight[rows].tolist()


@pytest.mark.parametrize("order", ["C", "F"])
def test_every_row_of_a_c_ordered_x_is_gathered_without_a_copy(order):
    # Nothing writes into the pool (the summary divides X block by block as
    # it reads it), so every row of a C-ordered float64 X is X itself; the
    # targets and weights, which the summary replaces, are copies.
    X, y, weight = np.zeros((10, 3), order=order), np.zeros(10), np.ones(10)
    gathered = gather_rows(X, y, weight, slice(None))
    assert np.shares_memory(gathered.X, X) == (order == "C")
    assert not np.shares_memory(gathered.y, y)
    assert not np.shares_memory(gathered.weight, weight)


@pytest.mark.parametrize("refine", [False, True])
def test_sparse_weights_subsample_the_weighted_rows(refine):
    # 30 weighted rows among 20,000: a uniform subsample of 4096 rows would
    # hold about 6 of them; the subsamples are drawn among weighted rows only,
    # so the fit equals the fit on those rows alone.
    planted = PlantedCNNDataset((4, 4), random_state=0)
    X, y = planted.sample(20_000, random_state=1)
    weight = np.zeros(20_000)
    rows = np.random.RandomState(2).choice(20_000, 30, replace=False)
    weight[rows] = np.arange(1.0, 31.0)
    params = dict(kernel_sizes=(4, 4), refine=refine, random_state=0)
    sparse = DeepTDRegressor(**params).fit(X, y, sample_weight=weight)
    alone = DeepTDRegressor(**params).fit(X[rows], y[rows], sample_weight=weight[rows])
    for kernel in sparse.kernels_ + sparse.td_kernels_:
        assert np.all(np.isfinite(kernel))
    assert np.all(np.isfinite(sparse.weights_)) and np.isfinite(sparse.intercept_)
    assert np.all(np.isfinite(sparse.predict(X)))
    for got, expected in zip(sparse.kernels_, alone.kernels_):
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(sparse.weights_, alone.weights_, rtol=1e-8)


def test_refine_samples_bounds_the_refinement():
    planted = PlantedCNNDataset((4, 4, 4), random_state=0)
    X, y = planted.sample(400, random_state=1)
    everything = DeepTDRegressor((4, 4, 4), refine_samples=None, random_state=0)
    everything.fit(X, y)
    # A budget covering every row refines on all of them, without a draw.
    covering = DeepTDRegressor((4, 4, 4), refine_samples=len(X), random_state=0)
    covering.fit(X, y)
    for a, b in zip(everything.kernels_, covering.kernels_):
        np.testing.assert_array_equal(a, b)
    # A smaller budget refines on a reproducible subsample: a different fit
    # that still recovers the planted network.
    subsample = DeepTDRegressor((4, 4, 4), refine_samples=200, random_state=0)
    subsample.fit(X, y)
    again = clone(subsample).fit(X, y)
    np.testing.assert_array_equal(subsample.kernels_[0], again.kernels_[0])
    assert not np.array_equal(subsample.kernels_[0], everything.kernels_[0])
    assert kernel_correlation(planted.kernels_, subsample.kernels_).min() > 0.99
