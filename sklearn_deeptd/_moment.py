"""The DeepTD moment: where the data tensor T = mean((y - mean y) * X(x)) is formed.

X(x) is the input tensorised by the network's patch structure:
``X(x)[i_1, ..., i_D] = x[i_1 + d_1 i_2 + d_1 d_2 i_3 + ...]``. Because the
tensorisation is linear, T is ``X.T @ (w (y - mean y)) / sum w`` reshaped: one
pass over the data.

Every way into a fit reads its rows through :func:`block_statistics`, which
reduces a block of rows to a :class:`MomentStatistics`: the moment and the
statistics of ``y`` and of the weights, in units that cannot overflow. Blocks
merge exactly (:func:`merge_statistics`), so one block (``fit``), a stream of
batches (``partial_fit``) and the chunks of a dask array give the same moment
to rounding.
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._array_api import float_dtype, to_numpy
from ._scales import normalised_sample_weight
from ._sklearn_compat import get_namespace, get_namespace_and_device
from ._validation import assert_finite

# C-ordered float32 inputs are read in blocks of this many rows: the BLAS
# kernel for that layout adds the rows one after another in float32 (relative
# error 6e-6 at 10^6 rows, growing with n), so each block's product is summed
# in float64 and the error stops growing beyond one block; smaller blocks cost
# more than they gain. F-ordered inputs take one call: BLAS forms one dot
# product per column with several partial sums, and row blocks of an
# F-ordered array are strided views that it reads more slowly (measured:
# doc/performance.rst, 'Where the constants come from').
FLOAT32_BLOCK_ROWS = 2**20

# Rows checked at once when the moment reveals a non-finite value.
_CHECK_BLOCK_ROWS = 2**12

# Below smallest_normal ** 0.65 (1e-200 in float64, 1e-25 in float32) the
# direct variance may lose digits to underflow; the targets are then scaled by
# their largest magnitude first.
_DIRECT_VARIANCE_EXPONENT = 0.65


def tensorize(vector, kernel_sizes):
    """Reshape a vector of length ``prod(kernel_sizes)`` into the input tensor.

    Entry ``[i_1, ..., i_D]`` is ``vector[i_1 + d_1 i_2 + d_1 d_2 i_3 + ...]``
    (Fortran order), matching the network's non-overlapping patches. Any
    array API namespace (the array API's reshape has no ``order``: a C-order
    reshape to the reversed sizes, axes reversed).
    """
    xp, _ = get_namespace(vector)
    reversed_axes = tuple(range(len(kernel_sizes)))[::-1]
    return xp.permute_dims(xp.reshape(vector, tuple(kernel_sizes)[::-1]), reversed_axes)


def _targets_are_constant(mean, scale):
    """Whether targets of this weighted mean and standard deviation are constant
    to rounding (nothing to learn from them)."""
    return scale <= 1e-12 * max(abs(mean), np.finfo(np.float64).tiny)


def cross_product(X, v):
    """``X.T @ v`` in one pass over ``X``, without copying it.

    ``v`` is cast to the dtype of ``X`` (a length-n vector; casting ``X``
    instead would copy it). NumPy runs the product in BLAS, C-ordered float32
    inputs in blocks of ``FLOAT32_BLOCK_ROWS`` rows whose products are summed
    in float64; other namespaces run it on X's device.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Inputs, float64 or float32.
    v : array of shape (n_samples,) or (n_samples, k)
        Multipliers of the rows (``k`` columns read ``X`` once for all).

    Returns
    -------
    product : array of shape (n_features,) or (n_features, k)
        ``X.T @ v`` in the widest float of X's device (float64 for NumPy).
    """
    if not isinstance(X, np.ndarray):
        xp, _, device = get_namespace_and_device(X)
        return xp.astype(
            X.T @ xp.astype(v, X.dtype, copy=False), float_dtype(xp, device)
        )
    v = np.asarray(v, dtype=X.dtype)
    # Non-finite entries of X are reported by _check_finite_product.
    with np.errstate(invalid="ignore", over="ignore"):
        blocked = X.dtype == np.float32 and X.flags.c_contiguous
        if not blocked or X.shape[0] <= FLOAT32_BLOCK_ROWS:
            return np.asarray(X.T @ v, dtype=np.float64)
        product = np.zeros(X.shape[1:] + v.shape[1:])
        for start in range(0, X.shape[0], FLOAT32_BLOCK_ROWS):
            stop = start + FLOAT32_BLOCK_ROWS
            product += X[start:stop].T @ v[start:stop]
    return product


def _check_finite_product(X, v, product, estimator_name=None):
    """Raise the usual ValueError when ``X`` has NaN or infinite entries.

    ``product`` is ``X.T @ V`` where ``v`` is zero on (at least) the rows
    where every column of ``V`` is (``V = v`` for one column, else one of its
    columns): a NaN or an infinity in a row with ``v != 0`` makes the product
    non-finite, so only a non-finite product, or rows with ``v == 0`` (which a
    BLAS may skip), need a look at ``X`` itself. This replaces the separate
    pass over ``X`` that ``check_array`` would make. Any array API namespace;
    rows are checked in blocks of ``_CHECK_BLOCK_ROWS``.
    """
    xp, _, device = get_namespace_and_device(X)
    # The sum is finite when every entry is (one number read); only when it
    # is not, or overflows, are the entries looked at.
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(xp.sum(product))
    finite = math.isfinite(total) or bool(xp.all(xp.isfinite(product)))
    if finite:
        zero = v == 0
        # Row indices on the host (a boolean mask with further indices is not
        # portable across namespaces), only when there are such rows.
        rows = np.flatnonzero(to_numpy(zero, xp)) if bool(xp.any(zero)) else []
        rows = np.asarray(rows, dtype=np.intp)
    else:
        rows = np.arange(X.shape[0])
    for start in range(0, rows.size, _CHECK_BLOCK_ROWS):
        block = rows[start : start + _CHECK_BLOCK_ROWS]
        if isinstance(X, np.ndarray):
            values = X[block]
        else:
            values = xp.take(X, xp.asarray(block, device=device), axis=0)
        assert_finite(values, "X", estimator_name)
    if not finite:
        raise ValueError(
            "The moment X.T @ y overflowed although X and y are finite; rescale X or y."
        )


@dataclass(frozen=True)
class MomentStatistics:
    """The moment of a block of rows and the statistics of its targets and weights.

    Every quantity is kept in units that cannot overflow: weights relative to
    the largest, ``y`` relative to a scale of its deviations, ``x`` averaged
    with weights summing to one.

    Attributes
    ----------
    n_rows : int
        Rows read.
    weight_unit : float
        Largest weight (0 when every weight is zero).
    weight_total : float
        Sum of the weights divided by ``weight_unit``.
    y_mean : float
        Weighted mean of ``y``.
    y_unit : float
        The unit of ``moment``: a scale of ``y - c`` (the standard deviation
        for a centred block, the root mean square of ``y`` for an uncentred
        one, a bound of the deviations after a merge).
    y_spread : float
        Weighted standard deviation of ``y`` divided by ``y_unit``.
    centred : bool
        Whether ``moment`` is taken about ``y_mean`` (else about 0).
    moment : array of shape (n_features,)
        ``sum_i p_i (y_i - c) x_i / y_unit`` with ``p`` the weights summing to
        one and ``c`` the mean or 0; in X's namespace.
    x_mean : array of shape (n_features,) or None
        ``sum_i p_i x_i``; None when the block was read for one product only
        (it cannot be merged then).
    """

    n_rows: int
    weight_unit: float
    weight_total: float
    y_mean: float
    y_unit: float
    y_spread: float
    centred: bool
    moment: object
    x_mean: object = None

    @property
    def y_std(self):
        """Weighted standard deviation of ``y``."""
        return self.y_unit * self.y_spread

    def standardised_moment(self, *, center, x_scale):
        """The moment of the standardised data, ``(y - c) / std(y)`` and
        ``X / x_scale``, with ``c`` the mean of ``y`` (``center``) or 0.

        Computed without overflow for any scale of X and y (each term is
        divided before it is multiplied). ``None`` for constant targets.
        """
        if _targets_are_constant(self.y_mean, self.y_std):
            return None
        moment = self.moment / x_scale * (1.0 / self.y_spread)
        shift = (self.y_mean if self.centred else 0.0) - (
            self.y_mean if center else 0.0
        )
        if shift == 0:
            return moment
        if self.x_mean is None:
            raise ValueError("The statistics of one product hold no mean of X.")
        return moment + self.x_mean / x_scale * (shift / self.y_std)

    def to_row(self):
        """The statistics as one NumPy row (for dask's ``map_blocks``)."""
        head = [
            self.n_rows,
            self.weight_unit,
            self.weight_total,
            self.y_mean,
            self.y_unit,
            self.y_spread,
        ]
        moment = np.asarray(to_numpy(self.moment), dtype=np.float64)
        x_mean = np.asarray(to_numpy(self.x_mean), dtype=np.float64)
        return np.concatenate([head, x_mean, moment])[None, :]

    @classmethod
    def from_row(cls, row):
        """Inverse of :meth:`to_row` (mergeable statistics)."""
        n_features = (row.shape[0] - 6) // 2
        return cls(
            n_rows=int(row[0]),
            weight_unit=float(row[1]),
            weight_total=float(row[2]),
            y_mean=float(row[3]),
            y_unit=float(row[4]),
            y_spread=float(row[5]),
            centred=True,
            moment=row[6 + n_features :].copy(),
            x_mean=row[6 : 6 + n_features].copy(),
        )


class _TargetDeviations(NamedTuple):
    """One target column's weighted mean and standard deviation, and its
    values in units of ``magnitude``: ``deviations = (y - mean) / magnitude``
    and ``unit_values = y / magnitude``."""

    mean: float
    std: float
    deviations: object
    unit_values: object
    magnitude: float


def _target_deviations(xp, y, share):
    """The :class:`_TargetDeviations` of one target column.

    ``share`` is a vector of weights summing to one, or a float (equal
    weights). The direct computation is used when it is safe, else ``y`` is
    first divided by the largest magnitude of its rows of positive weight, so
    that squares cannot overflow or underflow (rows of zero weight count as
    0 there: they must not set the scale); the second pass removes the
    rounding of the first mean.
    """

    def centred(y, magnitude):
        unit = y if magnitude == 1.0 else y / magnitude
        if isinstance(share, float):
            mean = xp.mean(unit)
            deviations = unit - mean
            correction = xp.mean(deviations)
            deviations -= correction
            variance = float(deviations @ deviations) * share
        else:
            mean = share @ unit
            deviations = unit - mean
            correction = share @ deviations
            deviations -= correction
            variance = (share * deviations) @ deviations
        return float(mean + correction), float(variance), deviations, unit

    magnitude = 1.0
    with np.errstate(all="ignore"):
        mean, variance, deviations, unit = centred(y, magnitude)
    smallest = float(xp.finfo(y.dtype).smallest_normal) ** _DIRECT_VARIANCE_EXPONENT
    if not (np.isfinite(mean) and smallest < variance < np.inf):
        if not isinstance(share, float):
            y = xp.where(share > 0, y, xp.zeros_like(y))
        magnitude = float(xp.max(xp.abs(y))) if y.shape[0] else 0.0
        if magnitude == 0:
            return _TargetDeviations(0.0, 0.0, y, y, 1.0)
        mean, variance, deviations, unit = centred(y, magnitude)
    std = float(np.sqrt(max(variance, 0.0)))
    return _TargetDeviations(
        mean * magnitude, std * magnitude, deviations, unit, magnitude
    )


def _multipliers(xp, base, share, unit, dtype, out=None):
    """``base * share / unit``, computed in float64 (the factor of y of scale
    1e-50 does not fit float32) and written straight into an array of
    ``dtype`` (NumPy: ``out`` when given, a column of several): one pass over
    ``base``."""
    if isinstance(share, float):
        row_factor = 1.0 / (base.shape[0] * unit)
    else:
        row_factor = share / unit
    if not isinstance(base, np.ndarray):
        return xp.astype(base * row_factor, dtype)
    multipliers = np.empty(base.shape[0], dtype=dtype) if out is None else out
    np.multiply(base, row_factor, out=multipliers)
    return multipliers


def _target_columns(xp, y):
    """The columns of ``y``: ``[y]`` for one target, one per column for a
    matrix of targets (several regression targets, or class indicators)."""
    if y.ndim == 1:
        return [y]
    return [y[:, column] for column in range(y.shape[1])]


class _RowWeights(NamedTuple):
    """The weights of a block: the largest (``unit``), their sum in that
    unit, and each row's share of the total (a float for equal weights)."""

    unit: float
    total: float
    share: object


class _Products(NamedTuple):
    """What the block's one pass over X gave: each target's moment, and the
    weighted mean of X (None when the pass read the moments only)."""

    moments: list
    x_mean: object


def block_statistics(X, y, sample_weight=None, *, center=None, estimator_name=None):
    """Reduce a block of rows to its :class:`MomentStatistics`, in one pass over X.

    The pass is the product ``X.T @ V`` (see :func:`cross_product`), which also
    checks that ``X`` is finite (see :func:`_check_finite_product`). With
    ``center=None`` ``V`` holds the weights and the centred multipliers of
    each target, and the statistics can be merged with others
    (:func:`merge_statistics`); with ``center`` True (DeepTD) or False
    (NaiveTD) ``V`` holds only the multipliers the moments need, which
    halves the cost of reading X for one target, and the statistics stand
    alone. Several targets (the columns of a 2-D ``y``) share the one pass.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Inputs, float64 or float32, any memory order (never copied); any array
        API namespace.
    y : array of shape (n_samples,) or (n_samples, n_targets)
        Finite targets, in X's namespace.
    sample_weight : array of shape (n_samples,) or None
        Finite, non-negative weights; None weighs every row equally.
    center : bool or None, default=None
        See above.
    estimator_name : str, default=None
        Named in the error raised for non-finite X.

    Returns
    -------
    statistics : MomentStatistics, or tuple of MomentStatistics
        One per target column for a 2-D ``y``, sharing the weights and the
        mean of X.
    """
    xp, _, device = get_namespace_and_device(X)
    dtype = float_dtype(xp, device)
    y = xp.astype(y, dtype, copy=False)  # read, never written
    weights = _row_weights(xp, X.shape[0], sample_weight, dtype)
    if not weights.unit > 0:
        statistics = _weightless_statistics(
            X, xp.astype(sample_weight, dtype), center, estimator_name
        )
        return statistics if y.ndim == 1 else (statistics,) * y.shape[1]
    targets = [
        _target_deviations(xp, column, weights.share)
        for column in _target_columns(xp, y)
    ]
    constant = [_targets_are_constant(target.mean, target.std) for target in targets]
    # The moment's unit: std(y) for the centred multipliers p (y - mean) / std,
    # whose absolute values sum to at most 1 (Cauchy-Schwarz), and the root
    # mean square of y for the uncentred p y / rms: X.T @ v cannot overflow
    # before X does, in float32 too.
    units = [
        float(np.hypot(target.mean, target.std)) if center is False else target.std
        for target in targets
    ]
    products = _products(X, weights, targets, constant, units, center, estimator_name)
    statistics = tuple(
        MomentStatistics(
            n_rows=X.shape[0],
            weight_unit=weights.unit,
            weight_total=weights.total,
            y_mean=target.mean,
            y_unit=unit,
            y_spread=0.0 if is_constant else target.std / unit,
            centred=center is not False,
            moment=moment,
            x_mean=products.x_mean,
        )
        for target, unit, is_constant, moment in zip(
            targets, units, constant, products.moments
        )
    )
    return statistics[0] if y.ndim == 1 else statistics


def _row_weights(xp, n_rows, sample_weight, dtype):
    """The :class:`_RowWeights` of a block (a unit of 0 when every weight is
    zero)."""
    if sample_weight is None:
        return _RowWeights(1.0, float(n_rows), 1.0 / n_rows)
    sample_weight = xp.astype(sample_weight, dtype)
    unit = float(xp.max(sample_weight)) if n_rows else 0.0
    if not unit > 0:
        return _RowWeights(unit, 0.0, None)
    total = float(xp.sum(sample_weight / unit))
    return _RowWeights(unit, total, normalised_sample_weight(sample_weight))


def _shares(xp, weights, n_rows, dtype, device):
    """Each row's share of the total weight, as an array."""
    if isinstance(weights.share, float):
        return xp.full(n_rows, weights.share, dtype=dtype, device=device)
    return weights.share


def _products(X, weights, targets, constant, units, center, estimator_name):
    """The one pass over X of :func:`block_statistics`: the product of X with
    the weights (``center=None``) and the multipliers of each target that is
    not constant, checked for non-finite entries."""
    xp, _, device = get_namespace_and_device(X)
    dtype = float_dtype(xp, device)
    n_rows = X.shape[0]
    if all(constant):
        # No moment to form; the weights still read X once, to check it.
        shares = _shares(xp, weights, n_rows, dtype, device)
        product = cross_product(X, shares)
        _check_finite_product(X, shares, product, estimator_name)
        x_mean = product if center is None else None
        return _Products([xp.zeros_like(product)] * len(targets), x_mean)
    # One product: the multipliers in X's dtype at once, as BLAS takes them.
    out_dtype = dtype if center is None else X.dtype
    # Several NumPy columns are written in place into the product's
    # operand (F order: each column contiguous), not stacked after.
    columns = None
    if len(targets) > 1 and center is not None and isinstance(X, np.ndarray):
        columns = np.zeros((len(targets), n_rows), dtype=out_dtype).T
    multipliers = [
        (
            xp.zeros(n_rows, dtype=out_dtype, device=device)
            if columns is None
            else columns[:, column]
        )
        if is_constant
        else _multipliers(
            xp,
            target.unit_values if center is False else target.deviations,
            weights.share,
            unit / target.magnitude,
            out_dtype,
            out=None if columns is None else columns[:, column],
        )
        for column, (is_constant, unit, target) in enumerate(
            zip(constant, units, targets)
        )
    ]
    if center is None:
        shares = _shares(xp, weights, n_rows, dtype, device)
        product = cross_product(X, xp.stack([shares, *multipliers], axis=1))
        _check_finite_product(X, shares, product, estimator_name)
        moments = [product[:, 1 + column] for column in range(len(targets))]
        return _Products(moments, product[:, 0])
    if len(multipliers) == 1:
        used = columns = multipliers[0]
    else:
        if columns is None:
            columns = xp.stack(multipliers, axis=1)
        # The rows where every column is zero are among those where
        # one learnt column is: checking those is enough, at no pass.
        used = multipliers[constant.index(False)]
    product = cross_product(X, columns)
    _check_finite_product(X, used, product, estimator_name)
    if len(multipliers) == 1:
        return _Products([product], None)
    return _Products([product[:, column] for column in range(len(targets))], None)


def _weightless_statistics(X, sample_weight, center, estimator_name):
    """Statistics of a block whose weights are all zero: it adds nothing to a
    merge, but its X must still be finite."""
    xp, _, device = get_namespace_and_device(X)
    zeros = xp.zeros(X.shape[1], dtype=sample_weight.dtype, device=device)
    _check_finite_product(X, sample_weight, zeros, estimator_name)
    return MomentStatistics(
        n_rows=X.shape[0],
        weight_unit=0.0,
        weight_total=0.0,
        y_mean=0.0,
        y_unit=0.0,
        y_spread=0.0,
        centred=center is not False,
        moment=zeros,
        x_mean=zeros if center is None else None,
    )


def merge_statistics(blocks):
    """The statistics of the union of blocks of rows, exactly (to rounding).

    The parallel formulas of Chan et al., in the units of
    :class:`MomentStatistics`: block ``k`` with weight share ``q_k``, mean
    ``m_k`` and unit ``u_k`` sits ``d_k = m_k - m`` from the merged mean ``m``.
    Everything about y is measured in ``U = max_k(|m_k|, u_k)``, so every
    ratio below is at most 2, whatever the scales of the blocks:

    - ``var / U^2 = sum_k q_k ((u_k s_k / U)^2 + (d_k / U)^2)``,
    - ``moment = sum_k q_k (moment_k u_k / U + (d_k / U) x_mean_k)``.

    Blocks of zero weight add only their row counts.

    Parameters
    ----------
    blocks : list of MomentStatistics, or of tuples of them
        Mergeable statistics (read with ``center=None``), NumPy arrays.

    Returns
    -------
    statistics : MomentStatistics
        Or a tuple of them, column by column, when the blocks are tuples
        (several targets).
    """
    if isinstance(blocks[0], tuple):
        return tuple(
            merge_statistics([block[column] for block in blocks])
            for column in range(len(blocks[0]))
        )
    n_rows = sum(block.n_rows for block in blocks)
    blocks = [block for block in blocks if block.weight_total > 0] or blocks[:1]
    units = np.array([block.weight_unit for block in blocks])
    weight_unit = float(units.max())
    if not weight_unit > 0:
        return MomentStatistics(
            n_rows, 0.0, 0.0, 0.0, 0.0, 0.0, True, blocks[0].moment, blocks[0].x_mean
        )
    totals = np.array([b.weight_total for b in blocks]) * (units / weight_unit)
    weight_total = float(totals.sum())
    shares = totals / weight_total
    means = np.array([block.y_mean for block in blocks])
    y_units = np.array([block.y_unit for block in blocks])
    y_unit = float(max(np.max(np.abs(means)), y_units.max()))
    x_means = np.stack([block.x_mean for block in blocks])
    x_mean = shares @ x_means
    if y_unit == 0:
        return MomentStatistics(
            n_rows, weight_unit, weight_total, 0.0, 0.0, 0.0, True,
            np.zeros_like(x_mean), x_mean,
        )  # fmt: skip
    unit_means = means / y_unit
    unit_mean = float(shares @ unit_means)
    ratios, shifts = y_units / y_unit, unit_means - unit_mean
    spreads = np.array([block.y_spread for block in blocks]) * ratios
    y_spread = float(np.sqrt(shares @ (spreads**2 + shifts**2)))
    moments = np.stack([block.moment for block in blocks])
    moment = (shares * ratios) @ moments + (shares * shifts) @ x_means
    return MomentStatistics(
        n_rows=n_rows,
        weight_unit=weight_unit,
        weight_total=weight_total,
        y_mean=unit_mean * y_unit,
        y_unit=y_unit,
        y_spread=y_spread,
        centred=True,
        moment=moment,
        x_mean=x_mean,
    )
