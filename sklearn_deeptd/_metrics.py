"""Recovery metric: how well estimated kernels match planted ones."""

import numpy as np
from scipy.optimize import linear_sum_assignment

from ._array_api import to_numpy


def _as_layer_matrices(kernels, name):
    if isinstance(kernels, np.ndarray) or not np.iterable(kernels):
        raise ValueError(f"{name} must be a list with one array of kernels per layer.")
    layers = []
    for layer, kernel in enumerate(kernels):
        # Kernels fitted on a GPU are copied to the host first.
        matrix = np.asarray(to_numpy(kernel), dtype=np.float64)
        if matrix.ndim == 1:
            matrix = matrix[None, :]
        if matrix.ndim != 2 or matrix.size == 0:
            raise ValueError(
                f"{name}[{layer}] must have shape (rank, d_l) or (d_l,); got "
                f"shape {np.shape(kernel)}."
            )
        if not np.all(np.isfinite(matrix)):
            raise ValueError(f"{name}[{layer}] contains NaN or infinity.")
        layers.append(matrix)
    if not layers:
        raise ValueError(f"{name} must contain at least one layer.")
    return layers


def _unit_rows(matrix):
    # Divided by the largest entry first: the norms of kernels of scale 1e200
    # (or 1e-200) would overflow (underflow) and lose the direction.
    largest = np.max(np.abs(matrix), axis=1, keepdims=True)
    matrix = np.divide(matrix, largest, out=np.zeros_like(matrix), where=largest > 0)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    # A zero kernel has no direction: it matches nothing (|cos| = 0).
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def kernel_correlation(kernels_true, kernels_est):
    """Per-layer absolute cosine between true and estimated kernels.

    Branches of the estimate are matched to the true branches by the assignment
    that maximises the sum of the per-layer absolute cosines (scipy's
    ``linear_sum_assignment``). Sign and scale are ignored, as they are not
    identified.

    Parameters
    ----------
    kernels_true : list of array-like of shape (rank_true, d_l) or (d_l,)
        Planted kernels, one entry per layer, input layer first, as in
        ``PlantedCNNDataset.kernels_``.
    kernels_est : list of array-like of shape (rank_est, d_l) or (d_l,)
        Estimated kernels with the same layers, as in
        ``DeepTDRegressor.kernels_``.

    Returns
    -------
    correlation : ndarray of shape (n_layers, rank_true)
        ``|cos|`` between each true kernel and its matched estimate, in [0, 1];
        0 for a true branch left without a match (when ``rank_est < rank_true``)
        or matched to a zero kernel.

    See Also
    --------
    DeepTDRegressor : Learns the kernels.
    PlantedCNNDataset : Plants the kernels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_deeptd import kernel_correlation
    >>> true = [np.array([[1.0, 0.0]]), np.array([[0.6, 0.8]])]
    >>> est = [np.array([[-2.0, 0.0]]), np.array([[0.8, 0.6]])]
    >>> kernel_correlation(true, est)
    array([[1.  ],
           [0.96]])
    """
    true = _as_layer_matrices(kernels_true, "kernels_true")
    est = _as_layer_matrices(kernels_est, "kernels_est")
    if len(true) != len(est):
        raise ValueError(
            f"kernels_true has {len(true)} layers but kernels_est has {len(est)}."
        )
    for layer, (t, e) in enumerate(zip(true, est)):
        if t.shape[1] != e.shape[1]:
            raise ValueError(
                f"Layer {layer} has kernel size {t.shape[1]} in kernels_true but "
                f"{e.shape[1]} in kernels_est."
            )
    rank_true, rank_est = true[0].shape[0], est[0].shape[0]
    for name, layers, rank in (
        ("kernels_true", true, rank_true),
        ("kernels_est", est, rank_est),
    ):
        if any(layer.shape[0] != rank for layer in layers):
            raise ValueError(f"Every layer of {name} must have the same rank.")
    # cosines[layer, i, j]: |cos| between true branch i and estimated branch j.
    cosines = np.stack(
        [np.abs(_unit_rows(t) @ _unit_rows(e).T) for t, e in zip(true, est)]
    )
    rows, cols = linear_sum_assignment(cosines.sum(axis=0), maximize=True)
    correlation = np.zeros((len(true), rank_true))
    correlation[:, rows] = np.clip(cosines[:, rows, cols], 0.0, 1.0)
    return correlation
