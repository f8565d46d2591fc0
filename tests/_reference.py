"""Reference implementations that the tests hold the package against.

They compute what the package computes in one pass, overflow-safe and on any
device, by the plain definition, on small NumPy arrays.
"""

import numpy as np

from sklearn_deeptd._moment import tensorize


def moment_tensor(X, y, kernel_sizes, sample_weight=None, *, center=True):
    """The DeepTD moment ``sum_i w_i (y_i - c) X(x_i) / sum_i w_i``, with ``c``
    the weighted mean of ``y`` (DeepTD) or 0 (NaiveTD)."""
    weight = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    offset = weight @ y / weight.sum() if center else 0.0
    vector = X.T @ (weight * (y - offset)) / weight.sum()
    return tensorize(vector, kernel_sizes)
