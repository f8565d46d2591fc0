"""Kernel sizes: the default factorisation of n_features, and explicit sizes.

The errors for invalid kernel sizes are cases of the bad-input battery in
test_input_errors.py.
"""

import numpy as np
import pytest

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset, make_planted_cnn
from sklearn_deeptd._validation import check_kernel_sizes, default_kernel_sizes


@pytest.mark.parametrize(
    "n_features, expected",
    [
        (512, (8, 8, 8)),
        (64, (4, 4, 4)),
        (30, (5, 3, 2)),
        (12, (3, 2, 2)),
        (10, (5, 2)),
        (48, (3, 4, 4)),  # dealt largest first: 3, then the 2s to the smallest
        (8191, (8191,)),
        (13, (13,)),
        (1, (1,)),
    ],
)
def test_default_kernel_sizes(n_features, expected):
    sizes = default_kernel_sizes(n_features)
    assert sizes == expected
    assert int(np.prod(sizes)) == n_features
    assert all(type(size) is int for size in sizes)


def test_default_kernel_sizes_respect_max_depth():
    assert default_kernel_sizes(64, max_depth=2) == (8, 8)
    assert default_kernel_sizes(64, max_depth=6) == (2,) * 6
    assert default_kernel_sizes(64, max_depth=1) == (64,)


def test_default_kernel_sizes_factorise_n_features():
    X, y = PlantedCNNDataset((5, 3, 2), random_state=0).sample(100, random_state=1)
    assert DeepTDRegressor(random_state=0).fit(X, y).kernel_sizes_ == (5, 3, 2)


def test_one_feature():
    X, y = make_planted_cnn(50, kernel_sizes=(1,), random_state=0)
    model = DeepTDRegressor(random_state=0).fit(X, y)
    assert model.kernel_sizes_ == (1,)
    for kernel in model.kernels_ + model.td_kernels_:
        assert np.all(np.isfinite(kernel))
    assert np.all(np.isfinite(model.weights_)) and np.isfinite(model.intercept_)
    assert np.all(np.isfinite(model.predict(X)))


@pytest.mark.parametrize(
    "kernel_sizes", [(4, 3), [4, 3], np.array([4, 3]), (np.int32(4), np.int64(3))]
)
def test_explicit_kernel_sizes_become_a_tuple_of_int(kernel_sizes):
    sizes = check_kernel_sizes(kernel_sizes, 12)
    assert sizes == (4, 3) and all(type(size) is int for size in sizes)
    # Without a feature count (a planted network's sizes) the product is free.
    assert check_kernel_sizes(kernel_sizes, None) == (4, 3)
