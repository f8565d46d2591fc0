"""Streaming: exact sufficient statistics of the moment, and a reservoir sample.

The DeepTD moment ``sum_i w_i (y_i - ybar) x_i / sum_i w_i`` is a function of
five sums that add over batches: ``sum w``, ``sum w y``, ``sum w y^2``,
``sum w x`` and ``sum w y x``. The sums involving ``y`` are kept relative to a
shift ``K`` (the weighted mean of ``y`` in the first batch), so that the
centring ``sum w (y - K) x - (sum w (y - K) / sum w) sum w x`` does not cancel
catastrophically when ``mean y`` is large compared with its spread.

The sign search, the branch weights and the refinement need rows, not sums:
they run on a uniform reservoir sample of the stream (Vitter's algorithm R),
drawn from ``random_state``.
"""

import numpy as np

from ._moment import check_finite_product, cross_product


class MomentStatistics:
    """Sums over all rows seen so far, from which the moment is exact.

    Parameters
    ----------
    n_features : int
        Number of features.
    """

    def __init__(self, n_features):
        self.n_rows = 0
        self.shift = None
        self.sum_w = 0.0
        self.sum_wy = 0.0
        self.sum_wyy = 0.0
        self.sum_wx = np.zeros(n_features)
        self.sum_wyx = np.zeros(n_features)

    def update(self, X, y, sample_weight, estimator_name=None):
        """Add a batch: one pass over ``X`` for ``X.T @ [w (y - K), w]``."""
        if self.shift is None:
            total = sample_weight.sum()
            self.shift = float(sample_weight @ y / total) if total > 0 else 0.0
        shifted = y - self.shift
        weighted = sample_weight * shifted
        product = cross_product(X, np.stack([weighted, sample_weight], axis=1))
        # Rows of zero weight are zero in both columns: checked on X directly.
        check_finite_product(X, sample_weight, product, estimator_name)
        self.sum_wyx += product[:, 0]
        self.sum_wx += product[:, 1]
        self.sum_w += float(sample_weight.sum())
        self.sum_wy += float(weighted.sum())
        self.sum_wyy += float(weighted @ shifted)
        self.n_rows += X.shape[0]

    def mean_and_std(self):
        """Weighted mean and population standard deviation of ``y``."""
        if self.sum_w <= 0:
            return 0.0, 0.0
        offset = self.sum_wy / self.sum_w
        variance = max(self.sum_wyy / self.sum_w - offset**2, 0.0)
        return self.shift + offset, float(np.sqrt(variance))

    def moment(self, *, center=True):
        """``sum w (y - c) x / sum w`` with ``c = mean y`` (or 0 without centring)."""
        if center:
            offset = self.sum_wy / self.sum_w
        else:
            offset = -self.shift
        return (self.sum_wyx - offset * self.sum_wx) / self.sum_w


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
