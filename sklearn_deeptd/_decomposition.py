"""Low-rank decomposition of the moment tensor.

Rank 1 is the best rank-one approximation: HOSVD start (the top left singular
vector of each unfolding), then alternating power iterations. Rank r is a CP
decomposition by alternating least squares from the truncated HOSVD, which for
r = 1 is exactly the alternating power iteration. Further random starts guard
against local optima; the start with the smallest error is kept.

It runs on the host: the solver hands it the moment as NumPy (the
decomposition reads ``n_features * n_targets`` numbers).
"""

from typing import NamedTuple

import numpy as np

from ._moment import tensorize
from ._sklearn_compat import array_device, get_namespace, get_namespace_and_device


class Decomposition(NamedTuple):
    """A rank-``r`` CP decomposition ``sum_j weights[j] a_1j (x) ... (x) a_Dj``.

    ``factors`` holds one ``(d_l, r)`` matrix of unit-norm columns per mode
    (the tensor's namespace), ``weights`` the non-negative component weights
    in decreasing order (NumPy), ``n_iter`` the sweeps of the start kept and
    ``converged`` whether its error stopped changing before ``max_iter``.
    """

    factors: list
    weights: np.ndarray
    n_iter: int
    converged: bool


def _unfolding(xp, tensor, mode):
    return xp.reshape(xp.moveaxis(tensor, mode, 0), (tensor.shape[mode], -1))


def _fix_column_signs(xp, matrix):
    # Singular vectors are defined up to sign; make the largest entry positive so
    # that the start, and therefore the whole fit, is deterministic.
    values = np.asarray(matrix)
    rows = np.argmax(np.abs(values), axis=0)
    signs = np.sign(values[rows, np.arange(values.shape[1])])
    signs[signs == 0] = 1.0
    return matrix * xp.asarray(signs, dtype=matrix.dtype, device=array_device(matrix))


def _leading_left_vectors(xp, unfolded, count):
    """Up to ``count`` leading left singular vectors of a matrix, from the
    eigenvectors of its smaller Gram matrix (a mode of size 4096 against one
    column costs a 1 x 1 problem, not a 4096 x 4096 one). Columns whose
    singular value is zero, to rounding, are left out."""
    n_rows, n_columns = unfolded.shape
    tall = n_rows > n_columns
    gram = unfolded.T @ unfolded if tall else unfolded @ unfolded.T
    eigenvalues, eigenvectors = xp.linalg.eigh(gram)
    count = min(count, gram.shape[0])
    eigenvalues = xp.flip(eigenvalues)[:count]
    eigenvectors = xp.flip(eigenvectors, axis=1)[:, :count]
    # Singular values lost in rounding give no direction.
    floor = float(xp.finfo(unfolded.dtype).eps) * float(eigenvalues[0])
    kept = int(xp.sum(xp.astype(eigenvalues > floor, xp.int64)))
    if not tall:
        return eigenvectors[:, :kept]
    left = unfolded @ eigenvectors[:, :kept]
    return left / xp.linalg.vector_norm(left, axis=0)


def hosvd_start(tensor, rank, random_state):
    """Top ``rank`` left singular vectors of each unfolding of ``tensor``.

    A mode with fewer than ``rank`` of them (a mode smaller than ``rank``, or
    an unfolding of lower rank) gets its missing columns drawn from
    ``random_state`` (a ``numpy.random.RandomState``).
    """
    xp, _, tensor_device = get_namespace_and_device(tensor)
    factors = []
    for mode, size in enumerate(tensor.shape):
        leading = _leading_left_vectors(xp, _unfolding(xp, tensor, mode), rank)
        missing = rank - leading.shape[1]
        if missing:
            extra = random_state.standard_normal((size, missing))
            extra = xp.asarray(
                extra / np.linalg.norm(extra, axis=0),
                dtype=tensor.dtype,
                device=tensor_device,
            )
            leading = xp.concat([leading, extra], axis=1)
        factors.append(_fix_column_signs(xp, leading))
    return factors


def random_start(tensor, rank, random_state):
    """Gaussian factors with unit-norm columns, one ``(d_l, rank)`` matrix per mode."""
    xp, _, tensor_device = get_namespace_and_device(tensor)
    factors = []
    for size in tensor.shape:
        factor = random_state.standard_normal((size, rank))
        factor = factor / np.linalg.norm(factor, axis=0)
        factors.append(xp.asarray(factor, dtype=tensor.dtype, device=tensor_device))
    return factors


def _khatri_rao(xp, factors, like):
    """Column-wise Kronecker product of each start's factors, first factor's
    index varying slowest: ``(n_starts, prod d_l, rank)`` (``like`` gives the
    number of starts, the rank, dtype and device)."""
    n_starts, _, rank = like.shape
    product = xp.ones((n_starts, 1, rank), dtype=like.dtype, device=array_device(like))
    for factor in factors:
        product = xp.reshape(
            product[:, :, None, :] * factor[:, None, :, :], (n_starts, -1, rank)
        )
    return product


def _mttkrp(xp, unfoldings, factors, mode):
    """Contract the tensor with every factor except ``mode``, for every start.

    ``unfoldings[mode]`` is the mode-``mode`` unfolding, whose columns run over
    the other modes in order; one matrix product with their Khatri-Rao product
    does the whole contraction (einsum spent most of its time planning it).
    """
    others = [factor for other, factor in enumerate(factors) if other != mode]
    return unfoldings[mode] @ _khatri_rao(xp, others, factors[mode])


def _gram_product(xp, factors, skip=None):
    """Entrywise product of the factors' Gram matrices (all but ``skip``)."""
    gram = None
    for mode, factor in enumerate(factors):
        if mode != skip:
            term = xp.matrix_transpose(factor) @ factor
            gram = term if gram is None else gram * term
    if gram is None:  # a one-mode tensor: the empty product
        n_starts, _, rank = factors[0].shape
        shape = (n_starts, rank, rank)
        return xp.ones(shape, dtype=factors[0].dtype, device=array_device(factors[0]))
    return gram


def _pseudo_inverse(xp, gram):
    """Pseudo-inverses of a stack of Gram matrices (1 x 1 ones without an SVD:
    with rank 1 ALS is the power iteration, and SVDs would cost a large share
    of its sweep)."""
    if gram.shape[-1] > 1:
        return xp.linalg.pinv(gram)
    positive = gram > 0
    return xp.where(positive, 1.0 / xp.where(positive, gram, 1.0), 0.0)


def _sweep(xp, unfoldings, factors):
    """One ALS sweep over the modes; returns the factors, component weights
    and the squared norm of the model minus twice its inner product with the
    tensor (the relative error without ``||T||^2``)."""
    factors = list(factors)
    for mode in range(len(factors)):
        gram = _gram_product(xp, factors, skip=mode)
        unnormalised = _mttkrp(xp, unfoldings, factors, mode) @ _pseudo_inverse(
            xp, gram
        )
        component_weights = xp.linalg.vector_norm(unnormalised, axis=1)
        safe = xp.where(component_weights > 0, component_weights, 1.0)
        factors[mode] = unnormalised / safe[:, None, :]
    # ||T - model||^2 = ||T||^2 - 2 <T, model> + ||model||^2, from small pieces.
    last = len(factors) - 1
    inner = xp.sum(_mttkrp(xp, unfoldings, factors, last) * factors[last], axis=1)
    inner = xp.sum(inner * component_weights, axis=1)
    weighted = _gram_product(xp, factors) @ component_weights[:, :, None]
    model_norm2 = xp.sum(component_weights * weighted[:, :, 0], axis=1)
    return factors, component_weights, model_norm2 - 2 * inner


def _alternating_least_squares(xp, unfoldings, starts, tensor_norm, max_iter, tol):
    """Sweeps of ALS from several starts at once, each start stopping on its
    own when its relative error changes by less than ``tol``.

    ``starts`` holds one list of ``(d_l, rank)`` factors per start. Each sweep
    stacks the starts still moving (an array API namespace cannot write into
    rows of a stacked array) and sweeps them together. Once a start has
    converged, a start still moving is given up when, at its last decrease
    per sweep, the sweeps left could not bring its error down to the best
    converged one (ALS never increases the error, and its decreases shrink):
    it could not be kept, and a slow start would otherwise sweep to
    ``max_iter``.
    """
    n_starts = len(starts)
    starts = [list(factors) for factors in starts]
    component_weights = [None] * n_starts
    error = np.full(n_starts, np.inf)
    n_iter = np.zeros(n_starts, dtype=int)
    converged = np.zeros(n_starts, dtype=bool)
    active = list(range(n_starts))
    for sweep in range(1, max_iter + 1):
        stacked = [
            xp.stack([starts[start][mode] for start in active])
            for mode in range(len(unfoldings))
        ]
        swept, weights, excess = _sweep(xp, unfoldings, stacked)
        excess = np.asarray(excess, dtype=np.float64)
        new_error = np.sqrt(np.maximum(tensor_norm**2 + excess, 0.0)) / tensor_norm
        still_active = []
        decrease = {}
        for row, start in enumerate(active):
            starts[start] = [factor[row, ...] for factor in swept]
            component_weights[start] = weights[row, ...]
            n_iter[start] = sweep
            if abs(error[start] - new_error[row]) < tol:
                converged[start] = True
            else:
                still_active.append(start)
                decrease[start] = error[start] - new_error[row]
            error[start] = new_error[row]
        if converged.any():
            best = error[converged].min()
            still_active = [
                start
                for start in still_active
                if error[start] - best <= decrease[start] * (max_iter - sweep)
            ]
        active = still_active
        if not active:
            break
    return starts, component_weights, n_iter, converged, error


def cp_decomposition(
    tensor, rank, *, n_starts=1, max_iter=100, tol=1e-7, random_state=None
):
    """Rank-``rank`` CP decomposition ``T ~ sum_j w_j a_1j (x) ... (x) a_Dj``.

    Alternating least squares is a local method: the HOSVD start usually lands
    on the best approximation, but on noisy moments it can stop at a worse
    local optimum, so further random starts can be tried and the decomposition
    with the smallest error is kept.

    Parameters
    ----------
    tensor : array of shape (d_1, ..., d_D)
        The tensor to decompose.
    rank : int
        Number of components.
    n_starts : int, default=1
        Number of starts: the HOSVD start, then ``n_starts - 1`` random ones.
    max_iter : int, default=100
        Maximum number of sweeps over the modes, per start.
    tol : float, default=1e-7
        Stop when the relative approximation error changes by less than ``tol``
        between sweeps.
    random_state : numpy.random.RandomState, default=None
        Draws the random starts, and completes the HOSVD start of a mode smaller
        than ``rank``.

    Returns
    -------
    decomposition : Decomposition
        The factors of the start with the smallest error, its component
        weights, sweeps and convergence.
    """
    return _cp_decomposition(tensor, rank, n_starts, max_iter, tol, random_state)[0]


def _same_factors(xp, first, second):
    for a, b in zip(first, second):
        cosines = xp.abs(xp.sum(a * b, axis=0))
        if float(xp.min(cosines)) < 1 - 1e-6:
            return False
    return True


def _ranked(xp, starts, component_weights, n_iter, converged, error):
    """Decompositions of every start, the best first (the earliest start
    unless a later one is clearly better), then by error, duplicates left out."""
    best = 0
    for start in range(1, len(starts)):
        if error[start] < error[best] - 1e-12:
            best = start
    others = sorted(
        (start for start in range(len(starts)) if start != best),
        key=lambda start: (error[start], start),
    )
    ranked = []
    for start in [best, *others]:
        weights = np.asarray(component_weights[start], dtype=np.float64)
        order = np.argsort(-weights, kind="stable")
        positions = xp.asarray(order, device=array_device(starts[start][0]))
        factors = [xp.take(factor, positions, axis=1) for factor in starts[start]]
        if any(_same_factors(xp, factors, kept.factors) for kept in ranked):
            continue
        ranked.append(
            Decomposition(
                factors, weights[order], int(n_iter[start]), bool(converged[start])
            )
        )
    return ranked


def _cp_decomposition(tensor, rank, n_starts, max_iter, tol, random_state):
    xp, _, _ = get_namespace_and_device(tensor)
    if random_state is None:
        random_state = np.random.RandomState(0)
    starts = [hosvd_start(tensor, rank, random_state)]
    tensor_norm = float(xp.linalg.vector_norm(xp.reshape(tensor, (-1,))))
    if tensor_norm == 0:
        return [Decomposition(starts[0], np.zeros(rank), 0, True)]
    starts += [random_start(tensor, rank, random_state) for _ in range(n_starts - 1)]
    unfoldings = [_unfolding(xp, tensor, mode) for mode in range(tensor.ndim)]
    # All starts run together: on the small tensors of DeepTD a sweep costs
    # mostly interpreter overhead, which the starts then share.
    starts, component_weights, n_iter, converged, error = _alternating_least_squares(
        xp, unfoldings, starts, tensor_norm, max_iter, tol
    )
    return _ranked(xp, starts, component_weights, n_iter, converged, error)


def _moment_tensor(moment, kernel_sizes):
    """The moment as a tensor of unit scale (the Gram matrices of a moment of
    scale 1e200 overflow): ``(d_1, ..., d_D)`` for one target, and for
    several the targets' tensors stacked along a new first mode."""
    xp, _ = get_namespace(moment)
    moment = moment / float(xp.max(xp.abs(moment)))
    if moment.ndim == 1:
        return tensorize(moment, kernel_sizes)
    return xp.stack(
        [tensorize(moment[:, k], kernel_sizes) for k in range(moment.shape[1])]
    )


def moment_decompositions(
    moment, kernel_sizes, rank, *, n_starts, max_iter, tol, random_state
):
    """The distinct decompositions of a DeepTD moment, best first, whose
    factors are the kernels' directions.

    The starts of :func:`cp_decomposition` (the first decomposition is its
    result); starts that reach the same factors (every column's |cosine| with
    an earlier one's above ``1 - 1e-6``) count once. The fit falls back on
    the later ones when the best gives a dead network.

    Parameters
    ----------
    moment : ndarray of shape (n_features,) or (n_features, n_targets)
        The moment of one target, or of several targets side by side.
    kernel_sizes : tuple of int
        The patch structure that tensorises a column of the moment.
    rank, n_starts, max_iter, tol, random_state
        As for :func:`cp_decomposition`.

    Returns
    -------
    decompositions : list of Decomposition
        The factors of the kernel modes, input layer first: the tensor of
        several targets stacks them along a first mode, whose factor (the
        targets' loadings) is left out (the output weights are fitted on
        rows).
    """
    tensor = _moment_tensor(moment, kernel_sizes)
    decompositions = _cp_decomposition(
        tensor, rank, n_starts, max_iter, tol, random_state
    )
    first = 1 if moment.ndim == 2 else 0
    return [d._replace(factors=d.factors[first:]) for d in decompositions]
