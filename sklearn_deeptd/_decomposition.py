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


def _khatri_rao(factors, rank):
    """Column-wise Kronecker product, first factor's index varying slowest."""
    product = np.ones((1, rank))
    for factor in factors:
        product = (product[:, None, :] * factor[None, :, :]).reshape(-1, rank)
    return product


def _mttkrp(unfoldings, factors, mode):
    """Contract the tensor with every factor except ``mode``, branch by branch.

    ``unfoldings[mode]`` is the mode-``mode`` unfolding, whose columns run over
    the other modes in order; one matrix product with their Khatri-Rao product
    does the whole contraction (einsum spent most of its time planning it).
    """
    others = [factor for other, factor in enumerate(factors) if other != mode]
    return unfoldings[mode] @ _khatri_rao(others, factors[mode].shape[1])


def random_start(tensor, rank, random_state):
    """Gaussian factors with unit-norm columns, one ``(d_l, rank)`` matrix per mode."""
    factors = []
    for size in tensor.shape:
        factor = random_state.standard_normal((size, rank))
        factors.append(factor / np.linalg.norm(factor, axis=0))
    return factors


def _alternating_least_squares(unfoldings, factors, tensor_norm, max_iter, tol):
    """Sweeps of ALS from ``factors``; returns the fit and its relative error."""
    rank = factors[0].shape[1]
    n_modes = len(factors)
    component_weights = np.ones(rank)
    previous_error = np.inf
    error = np.inf
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        for mode in range(n_modes):
            gram = np.ones((rank, rank))
            for other, factor in enumerate(factors):
                if other != mode:
                    gram *= factor.T @ factor
            unnormalised = _mttkrp(unfoldings, factors, mode) @ np.linalg.pinv(gram)
            component_weights = np.linalg.norm(unnormalised, axis=0)
            safe = np.where(component_weights > 0, component_weights, 1.0)
            factors[mode] = unnormalised / safe
        # ||T - model||^2 = ||T||^2 - 2 <T, model> + ||model||^2, from small pieces.
        last = n_modes - 1
        inner = np.sum(_mttkrp(unfoldings, factors, last) * factors[last], axis=0)
        inner = inner @ component_weights
        gram = np.ones((rank, rank))
        for factor in factors:
            gram *= factor.T @ factor
        model_norm2 = component_weights @ gram @ component_weights
        residual2 = max(tensor_norm**2 - 2 * inner + model_norm2, 0.0)
        error = np.sqrt(residual2) / tensor_norm
        if abs(previous_error - error) < tol:
            converged = True
            break
        previous_error = error
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
    factors = hosvd_start(tensor, rank, random_state)
    tensor_norm = np.linalg.norm(tensor)
    if tensor_norm == 0:
        return factors, np.zeros(rank), 0, True
    unfoldings = [_unfolding(tensor, mode) for mode in range(tensor.ndim)]
    best = _alternating_least_squares(unfoldings, factors, tensor_norm, max_iter, tol)
    for _ in range(n_starts - 1):
        start = random_start(tensor, rank, random_state)
        fit = _alternating_least_squares(unfoldings, start, tensor_norm, max_iter, tol)
        # Keep the earlier start unless the new one is clearly better.
        if fit[-1] < best[-1] - 1e-12:
            best = fit
    factors, component_weights, n_iter, converged, _ = best
    order = np.argsort(-component_weights, kind="stable")
    factors = [factor[:, order] for factor in factors]
    return factors, component_weights[order], n_iter, converged
