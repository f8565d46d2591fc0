"""Exact sufficient statistics of the moment, and a reservoir sample.

The DeepTD moment ``sum_i w_i (y_i - ybar) x_i / sum_i w_i`` is a function of
``2 * n_features + 3`` numbers per block of rows: its total weight, the
weighted mean of ``y`` and sum of squared deviations from it, ``sum w x`` and
``sum w (y - mean_block) x``. Blocks merge exactly with the parallel formulas
of Chan et al. (centring without the cancellation of raw sums when ``mean y``
is large compared with its spread), so the same statistics serve
``partial_fit`` (one batch after another) and dask (one row chunk per worker).

The sign search, the branch weights and the refinement need rows, not sums:
they run on a uniform reservoir sample of the stream (Vitter's algorithm R),
drawn from ``random_state``.
"""

import numpy as np
from sklearn.utils.validation import assert_all_finite

from ._moment import check_finite_product, cross_product


def chunk_statistics(X, y, sample_weight, estimator_name=None):
    """The sufficient statistics of one block of rows, as one row of floats.

    Returns an array of shape ``(1, 2 * n_features + 3)``:
    ``[sum w, mean_w y, sum w (y - mean)^2, sum w x..., sum w (y - mean) x...]``
    with ``mean`` the weighted mean of the block's ``y`` (0 when the block has
    zero weight). ``y`` and ``sample_weight`` may arrive as ``(n, 1)`` blocks.
    Non-finite entries and negative weights raise the usual ValueError (on a
    dask worker, dask re-raises it on the client). One pass over ``X``.
    """
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    assert_all_finite(y, input_name="y", estimator_name=estimator_name)
    assert_all_finite(weight, input_name="sample_weight")
    if np.any(weight < 0):
        raise ValueError("Negative values in data passed to sample_weight.")
    total = float(weight.sum())
    mean = float(weight @ y / total) if total > 0 else 0.0
    deviation = y - mean
    weighted = weight * deviation
    product = cross_product(X, np.stack([weight, weighted], axis=1))
    # A NaN or infinity of X in a row of positive weight makes the product
    # non-finite; rows of zero weight are looked at directly.
    check_finite_product(X, weight, product, estimator_name)
    row = np.concatenate(
        [[total, mean, float(weighted @ deviation)], product[:, 0], product[:, 1]]
    )
    return row[None, :]


def merge_statistics(rows):
    """The statistics of the union of blocks, from their stacked rows.

    The squared deviations and ``sum w (y - mean) x`` of the whole are those of
    each block plus ``(mean_block - mean)`` times the block's ``sum w (y -
    mean_block)`` terms: exact centring from one pass.
    """
    n_features = (rows.shape[1] - 3) // 2
    totals, means, squares = rows[:, 0], rows[:, 1], rows[:, 2]
    sum_wx = rows[:, 3 : 3 + n_features]
    total = float(totals.sum())
    mean = float(totals @ means / total) if total > 0 else 0.0
    shift = means - mean
    squared = float(squares.sum() + totals @ shift**2)
    centred = rows[:, 3 + n_features :].sum(axis=0) + shift @ sum_wx
    return np.concatenate([[total, mean, squared], sum_wx.sum(axis=0), centred])


class MomentStatistics:
    """Merged statistics of every block seen so far, from which the moment is
    exact.

    Parameters
    ----------
    n_features : int
        Number of features.
    """

    def __init__(self, n_features):
        self.n_rows = 0
        self.row = np.zeros(2 * n_features + 3)

    @classmethod
    def from_rows(cls, rows):
        """The merged statistics of stacked :func:`chunk_statistics` rows."""
        statistics = cls((rows.shape[1] - 3) // 2)
        statistics.row = merge_statistics(rows)
        return statistics

    def update(self, X, y, sample_weight, estimator_name=None):
        """Add a batch: one pass over ``X`` (see :func:`chunk_statistics`)."""
        batch = chunk_statistics(X, y, sample_weight, estimator_name)
        self.row = merge_statistics(np.vstack([self.row[None, :], batch]))
        self.n_rows += X.shape[0]

    @property
    def sum_w(self):
        """Total weight of the rows seen."""
        return float(self.row[0])

    def mean_and_std(self):
        """Weighted mean and population standard deviation of ``y``."""
        total, mean, squared = self.row[:3]
        if not total > 0:
            return 0.0, 0.0
        return float(mean), float(np.sqrt(max(squared / total, 0.0)))

    def moment(self, *, center=True):
        """``sum w (y - c) x / sum w`` with ``c = mean y`` (or 0 without centring)."""
        total, mean = self.row[:2]
        n_features = (self.row.shape[0] - 3) // 2
        centred = self.row[3 + n_features :]
        if center:
            return centred / total
        return (centred + mean * self.row[3 : 3 + n_features]) / total


class Reservoir:
    """A uniform sample of at most ``capacity`` rows of a stream (algorithm R).

    Row ``t`` of the stream (0-based) enters an empty slot while ``t <
    capacity``, else replaces slot ``j`` when a uniform draw ``j`` in ``[0, t]``
    falls below ``capacity``. The rows are stored in float64.

    Parameters
    ----------
    capacity : int
        Maximum number of rows kept.
    n_features : int
        Number of features.
    """

    def __init__(self, capacity, n_features):
        self.capacity = capacity
        self.n_seen = 0
        self.X = np.empty((0, n_features))
        self.y = np.empty(0)
        self.sample_weight = np.empty(0)

    def update(self, X, y, sample_weight, random_state):
        """Offer the rows of a batch to the reservoir."""
        n_rows = X.shape[0]
        free = max(min(self.capacity - self.X.shape[0], n_rows), 0)
        if free:
            self.X = np.vstack([self.X, np.asarray(X[:free], dtype=np.float64)])
            self.y = np.concatenate([self.y, y[:free]])
            self.sample_weight = np.concatenate(
                [self.sample_weight, sample_weight[:free]]
            )
        if free < n_rows:
            positions = self.n_seen + np.arange(free, n_rows)
            slots = random_state.randint(0, positions + 1)
            kept = np.flatnonzero(slots < self.capacity)
            # A later row replacing the same slot wins, as in the sequential form.
            last = slots[kept][::-1]
            _, first_of_reversed = np.unique(last, return_index=True)
            kept = kept[::-1][first_of_reversed]
            rows = free + kept
            self.X[slots[kept]] = X[rows]
            self.y[slots[kept]] = y[rows]
            self.sample_weight[slots[kept]] = sample_weight[rows]
        self.n_seen += n_rows
