"""The DeepTD moment: the data tensor T = mean((y - mean y) * X(x)).

X(x) is the input tensorised by the network's patch structure:
``X(x)[i_1, ..., i_D] = x[i_1 + d_1 i_2 + d_1 d_2 i_3 + ...]``. Because the
tensorisation is linear, T is ``X.T @ y_c / n`` reshaped: one pass over the data.
"""

import numpy as np


def tensorize(vector, kernel_sizes):
    """Reshape a vector of length ``prod(kernel_sizes)`` into the input tensor.

    Entry ``[i_1, ..., i_D]`` is ``vector[i_1 + d_1 i_2 + d_1 d_2 i_3 + ...]``
    (Fortran order), matching the network's non-overlapping patches.
    """
    return np.reshape(vector, tuple(kernel_sizes), order="F")


def weighted_mean_and_std(y, sample_weight):
    """Weighted mean and (population) standard deviation of ``y``.

    Computed on ``y / max|y|`` so that squares cannot overflow or underflow.
    """
    magnitude = np.max(np.abs(y))
    if magnitude == 0:
        return 0.0, 0.0
    unit = y / magnitude
    total = sample_weight.sum()
    mean = sample_weight @ unit / total
    variance = sample_weight @ (unit - mean) ** 2 / total
    return float(mean * magnitude), float(np.sqrt(max(variance, 0.0)) * magnitude)


def moment_vector(X, y, sample_weight, *, center=True):
    """Weighted cross moment ``sum_i w_i (y_i - c) x_i / sum_i w_i`` of length p.

    ``c`` is the weighted mean of ``y`` when ``center`` is true (DeepTD), else 0
    (NaiveTD). Centring ``y`` alone is enough: it makes the moment the
    cross-covariance of x and y, without touching ``X``.
    """
    total = sample_weight.sum()
    offset = sample_weight @ y / total if center else 0.0
    return X.T @ (sample_weight * (y - offset)) / total


def moment_tensor(X, y, kernel_sizes, sample_weight=None, *, center=True):
    """The DeepTD moment tensor of shape ``kernel_sizes``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs, ``n_features == prod(kernel_sizes)``.
    y : ndarray of shape (n_samples,)
        Targets.
    kernel_sizes : tuple of int
        Kernel size of each layer, input layer first.
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights; ``None`` weighs every sample equally.
    center : bool, default=True
        Centre ``y`` (DeepTD) or not (the NaiveTD baseline).

    Returns
    -------
    T : ndarray of shape kernel_sizes
        The moment tensor.
    """
    if sample_weight is None:
        sample_weight = np.ones(X.shape[0])
    return tensorize(moment_vector(X, y, sample_weight, center=center), kernel_sizes)
