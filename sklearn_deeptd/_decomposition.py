"""Low-rank decomposition of the moment tensor.

Rank 1 is the best rank-one approximation: HOSVD start (the top left singular
vector of each unfolding), then alternating power iterations. Rank r is a CP
decomposition by alternating least squares from the truncated HOSVD, which for
r = 1 is exactly the alternating power iteration. Further random starts guard
against local optima; the start with the smallest error is kept.
"""

import numpy as np


def _unfolding(tensor, mode):
    return np.moveaxis(tensor, mode, 0).reshape(tensor.shape[mode], -1)


def _fix_column_signs(matrix):
    # Singular vectors are defined up to sign; make the largest entry positive so
    # that the start, and therefore the whole fit, is deterministic.
    rows = np.argmax(np.abs(matrix), axis=0)
    signs = np.sign(matrix[rows, np.arange(matrix.shape[1])])
    signs[signs == 0] = 1.0
    return matrix * signs


def hosvd_start(tensor, rank, random_state):
    """Top ``rank`` left singular vectors of each unfolding of ``tensor``.

    A mode of size smaller than ``rank`` gets its missing columns drawn from
    ``random_state`` (a ``numpy.random.RandomState``).
    """
    factors = []
    for mode, size in enumerate(tensor.shape):
        unfolded = _unfolding(tensor, mode)
        # The Gram matrix is d_l x d_l: much cheaper than an SVD of the unfolding.
        eigenvalues, eigenvectors = np.linalg.eigh(unfolded @ unfolded.T)
        leading = eigenvectors[:, ::-1][:, : min(rank, size)]
        if rank > size:
            extra = random_state.standard_normal((size, rank - size))
            leading = np.hstack([leading, extra / np.linalg.norm(extra, axis=0)])
        factors.append(_fix_column_signs(leading))
    return factors


def _khatri_rao(factors, n_starts, rank):
    """Column-wise Kronecker product of each start's factors, first factor's
    index varying slowest: ``(n_starts, prod d_l, rank)``."""
    product = np.ones((n_starts, 1, rank))
    for factor in factors:
        product = (product[:, :, None, :] * factor[:, None, :, :]).reshape(
            n_starts, -1, rank
        )
    return product


def _mttkrp(unfoldings, factors, mode):
    """Contract the tensor with every factor except ``mode``, for every start.

    ``unfoldings[mode]`` is the mode-``mode`` unfolding, whose columns run over
    the other modes in order; one matrix product with their Khatri-Rao product
    does the whole contraction (einsum spent most of its time planning it).
    """
    others = [factor for other, factor in enumerate(factors) if other != mode]
    n_starts, _, rank = factors[mode].shape
    return unfoldings[mode] @ _khatri_rao(others, n_starts, rank)


def _gram_product(factors, skip=None):
    """Entrywise product of the factors' Gram matrices (all but ``skip``)."""
    n_starts, _, rank = factors[0].shape
    gram = np.ones((n_starts, rank, rank))
    for mode, factor in enumerate(factors):
        if mode != skip:
            gram *= np.swapaxes(factor, 1, 2) @ factor
    return gram


def random_start(tensor, rank, random_state):
    """Gaussian factors with unit-norm columns, one ``(d_l, rank)`` matrix per mode."""
    factors = []
    for size in tensor.shape:
        factor = random_state.standard_normal((size, rank))
        factors.append(factor / np.linalg.norm(factor, axis=0))
    return factors


def _pseudo_inverse(gram):
    """Pseudo-inverses of a stack of Gram matrices (1 x 1 ones without an SVD:
    with rank 1 ALS is the power iteration, and its SVDs cost 40% of a sweep)."""
    if gram.shape[-1] > 1:
        return np.linalg.pinv(gram)
    positive = gram > 0
    return np.where(positive, 1.0 / np.where(positive, gram, 1.0), 0.0)


def _sweep(unfoldings, factors):
    """One ALS sweep over the modes; returns the factors, component weights
    and the squared norm of the model minus twice its inner product with the
    tensor (the relative error without ``||T||^2``)."""
    factors = list(factors)
    for mode in range(len(factors)):
        gram = _gram_product(factors, skip=mode)
        unnormalised = _mttkrp(unfoldings, factors, mode) @ _pseudo_inverse(gram)
        component_weights = np.linalg.norm(unnormalised, axis=1)
        safe = np.where(component_weights > 0, component_weights, 1.0)
        factors[mode] = unnormalised / safe[:, None, :]
    # ||T - model||^2 = ||T||^2 - 2 <T, model> + ||model||^2, from small pieces.
    last = len(factors) - 1
    inner = np.sum(_mttkrp(unfoldings, factors, last) * factors[last], axis=1)
    inner = np.sum(inner * component_weights, axis=1)
    model_norm2 = np.einsum(
        "sr,srq,sq->s", component_weights, _gram_product(factors), component_weights
    )
    return factors, component_weights, model_norm2 - 2 * inner


def _alternating_least_squares(unfoldings, factors, tensor_norm, max_iter, tol):
    """Sweeps of ALS from several starts at once (factors of shape
    ``(n_starts, d_l, rank)``), each start stopping on its own when its
    relative error changes by less than ``tol``."""
    n_starts, _, rank = factors[0].shape
    factors = [factor.copy() for factor in factors]
    component_weights = np.ones((n_starts, rank))
    error = np.full(n_starts, np.inf)
    n_iter = np.zeros(n_starts, dtype=int)
    converged = np.zeros(n_starts, dtype=bool)
    active = np.arange(n_starts)
    for sweep in range(1, max_iter + 1):
        # Only the starts still moving are swept: the others keep their fit.
        swept, weights, excess = _sweep(
            unfoldings, [factor[active] for factor in factors]
        )
        for factor, new in zip(factors, swept):
            factor[active] = new
        component_weights[active] = weights
        new_error = np.sqrt(np.maximum(tensor_norm**2 + excess, 0.0)) / tensor_norm
        done = np.abs(error[active] - new_error) < tol
        error[active] = new_error
        n_iter[active] = sweep
        converged[active[done]] = True
        active = active[~done]
        if active.size == 0:
            break
    return factors, component_weights, n_iter, converged, error


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
    tensor : ndarray of shape (d_1, ..., d_D)
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
    factors : list of ndarray of shape (d_l, rank)
        Unit-norm columns, one matrix per mode.
    component_weights : ndarray of shape (rank,)
        Non-negative weight of each component, in decreasing order.
    n_iter : int
        Number of sweeps run from the start that was kept.
    converged : bool
        Whether the kept start's error stopped changing before ``max_iter``.
    """
    if random_state is None:
        random_state = np.random.RandomState(0)
    starts = [hosvd_start(tensor, rank, random_state)]
    tensor_norm = np.linalg.norm(tensor)
    if tensor_norm == 0:
        return starts[0], np.zeros(rank), 0, True
    starts += [random_start(tensor, rank, random_state) for _ in range(n_starts - 1)]
    unfoldings = [_unfolding(tensor, mode) for mode in range(tensor.ndim)]
    # All starts run together: on the small tensors of DeepTD a sweep costs
    # mostly interpreter overhead, which the starts then share.
    stacked = [np.stack(factors) for factors in zip(*starts)]
    factors, component_weights, n_iter, converged, error = _alternating_least_squares(
        unfoldings, stacked, tensor_norm, max_iter, tol
    )
    # Keep the earliest start unless a later one is clearly better.
    best = 0
    for start in range(1, n_starts):
        if error[start] < error[best] - 1e-12:
            best = start
    order = np.argsort(-component_weights[best], kind="stable")
    factors = [factor[best][:, order] for factor in factors]
    return (
        factors,
        component_weights[best][order],
        int(n_iter[best]),
        bool(converged[best]),
    )
