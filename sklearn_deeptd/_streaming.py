"""The state of ``partial_fit``: merged moment statistics and a reservoir of rows.

Each batch is reduced to its :class:`~._moment.MomentStatistics` and merged
exactly into those of the stream, so after any split of the data into batches
the moment equals that of one pass over their concatenation (to rounding).
The sign search, the branch weights and the refinement need rows, not sums:
they run on a uniform reservoir sample of the stream's rows of positive weight
(Vitter's algorithm R), drawn from ``random_state``. The summary of a stream
is made by the same :func:`~._summary.summarise` as that of any fit.
"""

import numpy as np

from ._moment import block_statistics, merge_statistics
from ._subsample import Rows, gather_rows, plan_subsamples
from ._summary import summarise


class _Reservoir:
    """A uniform sample of at most ``capacity`` rows of a stream (algorithm R).

    Row ``t`` of the stream (0-based) enters an empty slot while ``t <
    capacity``, else replaces slot ``j`` when a uniform draw ``j`` in ``[0, t]``
    falls below ``capacity``. Only rows of positive weight are offered: the
    others change neither the loss nor the sign search. Rows are stored in
    float64.

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
        self.rows = Rows(np.empty((0, n_features)), np.empty(0), np.empty(0))

    def update(self, X, y, sample_weight, random_state):
        """Offer the rows of a batch of positive weight to the reservoir."""
        positive = sample_weight > 0
        if not positive.all():
            X, y, sample_weight = X[positive], y[positive], sample_weight[positive]
        kept_X, kept_y, kept_weight = self.rows.X, self.rows.y, self.rows.weight
        if kept_y.shape[1:] != y.shape[1:]:
            # The first batch sets the shape of the targets (several targets).
            kept_y = np.empty((0,) + y.shape[1:])
        n_rows = X.shape[0]
        free = max(min(self.capacity - kept_X.shape[0], n_rows), 0)
        if free:
            kept_X = np.vstack([kept_X, np.asarray(X[:free], dtype=np.float64)])
            kept_y = np.concatenate([kept_y, y[:free]])
            kept_weight = np.concatenate([kept_weight, sample_weight[:free]])
        if free < n_rows:
            positions = self.n_seen + np.arange(free, n_rows)
            slots = random_state.randint(0, positions + 1)
            kept = np.flatnonzero(slots < self.capacity)
            # A later row replacing the same slot wins, as in the sequential form.
            last = slots[kept][::-1]
            _, first_of_reversed = np.unique(last, return_index=True)
            kept = kept[::-1][first_of_reversed]
            rows = free + kept
            kept_X[slots[kept]] = X[rows]
            kept_y[slots[kept]] = y[rows]
            kept_weight[slots[kept]] = sample_weight[rows]
        self.rows = Rows(kept_X, kept_y, kept_weight)
        self.n_seen += n_rows


class Stream:
    """What ``partial_fit`` keeps between calls.

    Parameters
    ----------
    capacity : int
        Rows of the reservoir.
    n_features : int
        Number of features.
    random_state : numpy.random.RandomState
        Draws the reservoir's replacements.
    """

    def __init__(self, capacity, n_features, random_state):
        self.statistics = None
        self.reservoir = _Reservoir(capacity, n_features)
        self.random_state = random_state

    @property
    def n_rows(self):
        """Rows seen so far."""
        return 0 if self.statistics is None else self.statistics.n_rows

    def add(self, X, y, sample_weight, estimator_name=None):
        """Merge a validated batch (NumPy; ``sample_weight`` may be None)."""
        batch = block_statistics(X, y, sample_weight, estimator_name=estimator_name)
        if self.statistics is not None:
            batch = merge_statistics([self.statistics, batch])
        self.statistics = batch
        if sample_weight is None:
            sample_weight = np.ones(X.shape[0])
        self.reservoir.update(X, y, sample_weight, self.random_state)

    def summary(self, sizes, random_state, *, center, standardise_targets=True):
        """The :class:`~._summary.DataSummary` of the rows seen so far, with
        subsamples of ``sizes`` drawn from ``random_state`` in the reservoir."""
        rows = self.reservoir.rows
        plan = plan_subsamples(rows.y.shape[0], None, sizes, random_state)
        pool = gather_rows(rows.X, rows.y, rows.weight, plan.pool_rows)
        # Every row of the reservoir is the reservoir itself: read, not scaled.
        shares_x = np.may_share_memory(pool.X, rows.X)
        return summarise(
            self.statistics,
            pool,
            plan,
            center=center,
            shares_x=shares_x,
            standardise_targets=standardise_targets,
        )
