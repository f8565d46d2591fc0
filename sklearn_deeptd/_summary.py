"""The data summary: all that a fit takes from its data, whichever way it came in.

Each way into a fit (arrays in memory, a stream of batches, a dask array)
only reduces its rows to :class:`~._moment.MomentStatistics` and gathers the
few rows of a :class:`~._subsample.SubsamplePlan`; :func:`summarise` turns
both into one :class:`DataSummary`. The scaling rules live here, once, for
every path: the data are standardised (X by its root mean square entry, y by
its mean and standard deviation) with overflow-safe arithmetic, and a total
weight of zero is refused.
"""

from dataclasses import dataclass, replace

import numpy as np

from ._array_api import all_to_numpy, to_numpy
from ._moment import block_statistics
from ._scales import input_scale, stable_norm
from ._sklearn_compat import get_namespace, get_namespace_and_device
from ._subsample import Rows, SubsamplePlan, gather_rows, plan_subsamples

# ||T|| is at most the root mean square norm of the rows of the standardised X,
# sqrt(n_features), so this ratio measures how much of X correlates with y.
_ZERO_MOMENT_RATIO = 1e-10

ZERO_WEIGHT_MESSAGE = (
    "sample_weight must contain at least one positive weight; all the weights are zero."
)


@dataclass(frozen=True)
class DataSummary:
    """The standardised data of a fit: its moment and a few of its rows.

    The standardised data are ``X / x_scale`` and ``(y - y_mean) / y_scale``;
    a network fitted to them is one fitted to the data after dividing its
    first kernel by ``x_scale`` and mapping its output back.

    Attributes
    ----------
    moment : ndarray of shape (n_features,) or (n_features, n_targets), or None
        The DeepTD moment of the standardised data (centred or not, as the fit
        asked), one column per target of a 2-D ``y``, on the host (NumPy);
        None when the targets are constant.
    y_mean, y_scale : float or ndarray of shape (n_targets,)
        Weighted mean and standard deviation of ``y`` (scale 1 for a constant
        column of several targets).
    x_scale : float
        Weighted root mean square entry of X (see
        :func:`~._scales.input_scale`).
    rows : Rows
        The pool of rows, standardised (X through ``rows.x_divisor``; y unless
        ``standardised_targets`` is False), with their sample weights.
    plan : SubsamplePlan
        The positions of the sign-search and refinement subsamples in ``rows``.
    standardised_targets : bool
        Whether ``rows.y`` is ``(y - y_mean) / y_scale`` (a regression) or
        ``y`` itself (class indicators, for a log-loss).
    zero_moment : bool
        Whether the moment is zero to rounding: no part of X correlates with
        the targets (False for constant targets, whose moment is None).
    """

    moment: object
    y_mean: object
    y_scale: object
    x_scale: float
    rows: Rows
    plan: SubsamplePlan
    standardised_targets: bool = True
    zero_moment: bool = False

    @property
    def search_rows(self):
        """The sign-search subsample, weights summing to one, on the host
        (where the sign search runs)."""
        return self.rows.take(self.plan.search).on_host()

    @property
    def refine_rows(self):
        """The refinement subsample, weights summing to one."""
        return self.rows.take(self.plan.refine)


def summarise(
    statistics, pool, plan, *, center, shares_x=False, standardise_targets=True
):
    """The :class:`DataSummary` of a fit from its statistics and gathered rows.

    Parameters
    ----------
    statistics : MomentStatistics or tuple of MomentStatistics
        The statistics of every row of the fit (one per target column).
    pool : Rows
        The rows of ``plan.pool_rows``, of positive weight, unscaled.
    plan : SubsamplePlan
        Where the subsamples lie in ``pool``.
    center : bool
        DeepTD's centred moment, or NaiveTD's uncentred one.
    shares_x : bool, default=False
        Whether ``pool.X`` is the user's X (every row of a C-ordered float64
        X): it is then standardised block by block as it is read, through
        ``Rows.x_divisor``, and never written to. Otherwise it is the
        summary's own copy, divided in place once (each refinement pass
        would divide it again).
    standardise_targets : bool, default=True
        Whether the rows' targets are standardised like the moment's (a
        regression), or kept as they are (class indicators, for a log-loss).

    Returns
    -------
    summary : DataSummary
    """
    columns = statistics if isinstance(statistics, tuple) else (statistics,)
    if not columns[0].weight_total > 0:
        raise ValueError(ZERO_WEIGHT_MESSAGE)
    x_scale = input_scale(pool.X, pool.weight)
    moment, y_mean, y_scale = _moment_and_scales(columns, center, x_scale)
    if not isinstance(statistics, tuple):
        y_mean, y_scale = float(y_mean[0]), float(y_scale[0])
    X, y, x_divisor = pool.X, pool.y, 1.0
    if moment is not None:
        if standardise_targets:
            y = _standardised(y, y_mean, y_scale)
        if shares_x:
            x_divisor = x_scale
        else:
            X /= x_scale  # in place: the summary's own copy
    rows = Rows(X, y, pool.weight, x_divisor)
    zero_moment = moment is not None and stable_norm(
        moment
    ) <= _ZERO_MOMENT_RATIO * np.sqrt(moment.shape[0])
    # The decomposition reads the moment on the host, in its own dtype.
    moment = None if moment is None else np.asarray(to_numpy(moment))
    return DataSummary(
        moment, y_mean, y_scale, x_scale, rows, plan, standardise_targets, zero_moment
    )


def _moment_and_scales(columns, center, x_scale):
    """The standardised moment (one column per target of several, a vector for
    one), and the means and scales of the targets (NumPy vectors)."""
    moments = [
        column.standardised_moment(center=center, x_scale=x_scale) for column in columns
    ]
    y_mean = np.array([column.y_mean for column in columns])
    # A constant column among several keeps scale 1: its targets stay 0.
    y_scale = np.array(
        [1.0 if m is None else column.y_std for m, column in zip(moments, columns)]
    )
    learnt = [m for m in moments if m is not None]
    if not learnt:
        return None, y_mean, y_scale
    if len(columns) == 1:
        return learnt[0], y_mean, y_scale
    xp, _ = get_namespace(learnt[0])
    zeros = xp.zeros_like(learnt[0])
    moment = xp.stack([zeros if m is None else m for m in moments], axis=1)
    return moment, y_mean, y_scale


def _standardised(y, mean, scale):
    """``(y - mean) / scale``; divided before it is shifted where ``y - mean``
    overflows (targets of both signs near the largest float). ``mean`` and
    ``scale`` are numbers, or NumPy vectors for several targets."""
    xp, _, device = get_namespace_and_device(y)
    if not isinstance(mean, float):
        mean, scale = (
            xp.asarray(value, dtype=y.dtype, device=device) for value in (mean, scale)
        )
    with np.errstate(over="ignore", invalid="ignore"):
        standardised = (y - mean) / scale
    if bool(xp.all(xp.isfinite(standardised))):
        return standardised
    return y / scale - mean / scale


def summarise_arrays(
    X,
    y,
    sample_weight,
    sizes,
    random_state,
    *,
    center,
    estimator_name=None,
    standardise_targets=True,
    rows_to_host=False,
):
    """The summary of arrays in memory (NumPy, or any array API namespace).

    One pass over X forms the moment (and checks X); the subsamples of sizes
    ``(search, refine)`` are drawn from ``random_state`` among the rows of
    positive weight and gathered once, on X's device. With ``rows_to_host``
    the work that does not grow with ``n`` runs on the host: the gathered
    rows cross there with the moment, in one transfer, as a dask array's
    do, and the summary is NumPy; otherwise they stay on X's device (a
    refinement on every row).
    """
    statistics = block_statistics(
        X, y, sample_weight, center=center, estimator_name=estimator_name
    )
    plan = plan_subsamples(X.shape[0], sample_weight, sizes, random_state)
    pool = gather_rows(X, y, sample_weight, plan.pool_rows)
    if rows_to_host and not isinstance(X, np.ndarray):
        statistics, pool = _to_host(statistics, pool)
    shares_x = isinstance(X, np.ndarray) and np.may_share_memory(pool.X, X)
    return summarise(
        statistics,
        pool,
        plan,
        center=center,
        shares_x=shares_x,
        standardise_targets=standardise_targets,
    )


def _to_host(statistics, pool):
    """The statistics and the gathered rows of another namespace as NumPy
    float64, brought to the host in one transfer (one flat array, split
    there). The statistics are those of one fit (``center`` given), which
    hold their moments and no mean of X."""
    columns = statistics if isinstance(statistics, tuple) else (statistics,)
    X, y, weight, *moments = all_to_numpy(
        [pool.X, pool.y, pool.weight, *(column.moment for column in columns)]
    )
    host_columns = tuple(
        replace(column, moment=moment) for column, moment in zip(columns, moments)
    )
    host_statistics = host_columns if isinstance(statistics, tuple) else host_columns[0]
    return host_statistics, Rows(X, y, weight, pool.x_divisor)
