"""The rows DeepTD reads besides the moment pass: reproducible subsamples.

The sign search, the scale and the refinement each need a few thousand rows,
not all of X. They are drawn from ``random_state`` as nested subsamples (the
smaller inside the larger), and the larger one, the *pool*, is gathered once
into a C-ordered float64 array.

Rows are drawn in runs of ``RUN_ROWS`` consecutive rows: an F-ordered X
stores each column contiguously, so a single row costs one cache miss per
column, and a run of rows costs little more than one (measured:
doc/performance.rst, 'Where the constants come from').
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._array_api import (
    all_to_numpy,
    float_dtype,
    indices_to_namespace,
    take_rows,
    to_numpy,
)
from ._scales import normalised_sample_weight
from ._sklearn_compat import get_namespace, get_namespace_and_device

# Consecutive rows drawn together (aligned: run k holds rows 32k to 32k + 31).
RUN_ROWS = 32


def ordered_sample(n_samples, size, random_state):
    """``size`` distinct integers of ``range(n_samples)`` in uniformly random
    order, in O(size) work.

    ``RandomState.choice(replace=False)`` permutes all ``n_samples`` indices.
    Drawing with replacement and keeping first occurrences
    gives the same distribution: every ordered tuple of distinct integers is
    equally likely, so each prefix is a uniform subsample.
    """
    if 4 * size > n_samples:
        return random_state.permutation(n_samples)[:size]
    chosen = np.empty(0, dtype=np.intp)
    while chosen.size < size:
        draws = random_state.randint(0, n_samples, size=2 * (size - chosen.size) + 16)
        combined = np.concatenate([chosen, draws])
        _, first = np.unique(combined, return_index=True)
        chosen = combined[np.sort(first)][:size]
    return chosen


def ordered_runs(n_samples, size, random_state):
    """``size`` distinct rows (``size <= n_samples``): runs of ``RUN_ROWS``
    consecutive rows in uniformly random order, the rows of each run listed in
    one random order of the offsets.

    Every run is equally likely to come at each place, so each prefix of whole
    runs is a uniform sample of runs; a prefix that ends inside a run takes
    random offsets of it (not its first rows), so that every row is equally
    likely to be drawn. The last run of X may be short.
    """
    n_runs = -(-n_samples // RUN_ROWS)
    # One run more than needed: the last run of X may be short.
    wanted = min(-(-size // RUN_ROWS) + 1, n_runs)
    runs = ordered_sample(n_runs, wanted, random_state)
    offsets = random_state.permutation(RUN_ROWS)
    rows = (runs[:, None] * RUN_ROWS + offsets).ravel()
    return rows[rows < n_samples][:size]


@dataclass(frozen=True)
class SubsamplePlan:
    """Where the subsamples come from.

    Attributes
    ----------
    pool_rows : slice or ndarray
        Sorted rows of X gathered into the pool (``slice(None)``: every row).
    search, refine : slice or ndarray
        Positions, inside the pool, of the sign-search and refinement rows
        (``slice(None)``: the whole pool).
    """

    pool_rows: object
    search: object
    refine: object


def subsample_plan(n_samples, sizes, random_state):
    """Nested subsamples of the given sizes, and the pool that holds them all.

    Returns ``pool_rows`` (sorted rows of X, or ``slice(None)`` for all rows)
    and, for each size, the positions of its rows inside the pool
    (``slice(None)`` for the whole pool). A size of at least ``n_samples``
    means all rows; nothing is drawn when every size covers all rows.
    """
    pool_size = min(max(sizes), n_samples)
    if min(sizes) >= n_samples:
        return slice(None), [slice(None)] * len(sizes)
    order = ordered_runs(n_samples, pool_size, random_state)
    pool_rows = slice(None) if pool_size == n_samples else np.sort(order)
    positions = []
    for size in sizes:
        if size >= pool_size:
            positions.append(slice(None))
            continue
        rows = np.sort(order[:size])
        if not isinstance(pool_rows, slice):
            rows = np.searchsorted(pool_rows, rows)
        positions.append(rows)
    return pool_rows, positions


def plan_subsamples(n_samples, sample_weight, sizes, random_state):
    """The :class:`SubsamplePlan` of the sign-search and refinement subsamples.

    ``sizes`` is ``(search_size, refine_size)``; both are drawn among the rows
    of positive weight (see :func:`_rows_with_weight`), from ``random_state``.
    """
    weighted = _rows_with_weight(sample_weight)
    n_candidates = n_samples if weighted is None else weighted.size
    pool_rows, (search, refine) = subsample_plan(n_candidates, sizes, random_state)
    if weighted is not None:
        pool_rows = weighted[pool_rows]
    return SubsamplePlan(pool_rows, search, refine)


def _rows_with_weight(sample_weight):
    """Indices of the rows of positive weight, or None when every row has one
    (or ``sample_weight`` is None).

    Rows of zero weight change neither the loss nor the sign search: the
    subsamples are drawn among the others, so that sparse weights cannot leave
    a subsample without weight.
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, np.ndarray):
        positive = sample_weight > 0
        return None if positive.all() else np.flatnonzero(positive)
    xp, _ = get_namespace(sample_weight)
    positive = sample_weight > 0
    if bool(xp.all(positive)):
        return None
    # The mask crosses to the host (n booleans), only when a weight is zero.
    return np.flatnonzero(to_numpy(positive))


class Rows(NamedTuple):
    """Rows of X with their targets and sample weights, in one namespace.

    The rows the fit reads are ``X / x_divisor``: when the pool is the user's
    X itself (every row of a C-ordered float64 X), the summary standardises
    it by dividing each block of rows as it is read, never in place.
    """

    X: object
    y: object
    weight: object
    x_divisor: float = 1.0

    def take(self, positions):
        """The rows at ``positions`` (``slice(None)``: all of them, without a
        copy), their weights normalised to sum to one."""
        X, y, weight = (
            take_rows(array, positions) for array in (self.X, self.y, self.weight)
        )
        return Rows(X, y, normalised_sample_weight(weight), self.x_divisor)

    def on_host(self):
        """The rows as NumPy float64 arrays, brought to the host in one
        transfer (themselves when they are NumPy)."""
        if isinstance(self.X, np.ndarray):
            return self
        X, y, weight = all_to_numpy([self.X, self.y, self.weight])
        return Rows(X, y, weight, self.x_divisor)


def gather_rows(X, y, sample_weight, rows):
    """:class:`Rows` holding the given rows of X as C-ordered float64, and
    copies of their targets and weights.

    ``rows`` is ``slice(None)`` or sorted indices; ``sample_weight=None``
    gives unit weights. Every row of a C-ordered float64 NumPy X is X itself,
    not a copy (the summary then never writes into it); other rows and
    layouts are copied, and the summary may scale the copies in place. Rows
    of arrays of other namespaces are gathered on their device and stay
    there, in the device's widest float dtype.
    """
    if not isinstance(X, np.ndarray):
        xp, _, device = get_namespace_and_device(X)
        dtype = float_dtype(xp, device)
        # Taken rows are a new array; a slice of every row is not, and the
        # summary may scale the pool in place.
        copy = isinstance(rows, slice)
        rows = indices_to_namespace(rows, (xp, device))  # one transfer for all
        gathered = [
            xp.astype(take_rows(array, rows), dtype, copy=copy)
            for array in (X, y, sample_weight)
            if array is not None
        ]
        if sample_weight is None:
            gathered.append(xp.ones(gathered[1].shape[0], dtype=dtype, device=device))
        return Rows(*gathered)
    if X.flags.f_contiguous and not X.flags.c_contiguous:
        # Column by column: each column is read forwards, not n entries apart.
        X_rows = np.ascontiguousarray(X.T[:, rows].T, dtype=np.float64)
    else:
        # No copy of every row of a C-ordered float64 X: it is read only.
        X_rows = np.asarray(X[rows], dtype=np.float64, order="C")
    y_rows = np.array(y[rows], dtype=np.float64)
    if sample_weight is None:
        return Rows(X_rows, y_rows, np.ones(y_rows.shape[0]))
    return Rows(X_rows, y_rows, np.array(sample_weight[rows], dtype=np.float64))
