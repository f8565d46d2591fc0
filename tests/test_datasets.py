"""PlantedCNNDataset and make_planted_cnn."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import sklearn_deeptd._datasets as datasets
from sklearn_deeptd import PlantedCNNDataset, make_planted_cnn


def test_parameters_repr_and_clone():
    planted = PlantedCNNDataset((3, 2), activation="tanh", rank=2, random_state=7)
    assert planted.get_params()["kernel_sizes"] == (3, 2)
    assert "PlantedCNNDataset(" in repr(planted) and "tanh" in repr(planted)
    twin = clone(planted)
    for a, b in zip(planted.kernels_, twin.kernels_):
        np.testing.assert_array_equal(a, b)


def test_kernels_are_unit_norm_with_documented_shapes():
    planted = PlantedCNNDataset((4, 3, 2), rank=3, random_state=0)
    assert planted.n_features_ == 24
    assert [k.shape for k in planted.kernels_] == [(3, 4), (3, 3), (3, 2)]
    for kernel in planted.kernels_:
        np.testing.assert_allclose(np.linalg.norm(kernel, axis=1), 1.0)
    weights = planted.weights_
    assert weights.shape == (3,) and np.all((weights >= 0.5) & (weights <= 1.5))
    assert PlantedCNNDataset(random_state=0).weights_.tolist() == [1.0]


def test_deterministic_network_and_fresh_samples():
    first = PlantedCNNDataset(random_state=3)
    second = PlantedCNNDataset(random_state=3)
    X1, y1 = first.sample(20)
    X2, y2 = first.sample(20)
    assert not np.allclose(X1, X2)
    np.testing.assert_array_equal(second.sample(20)[0], X1)
    np.testing.assert_array_equal(second.sample(20)[1], y2)
    Xa, ya = first.sample(10, random_state=5)
    Xb, yb = second.sample(10, random_state=5)
    np.testing.assert_array_equal(Xa, Xb)
    np.testing.assert_array_equal(ya, yb)


def test_labels_are_the_network_and_predict_is_noiseless():
    planted = PlantedCNNDataset((2, 2), activation="identity", random_state=1)
    X, y = planted.sample(30)
    k1, k2 = (k[0] for k in planted.kernels_)
    # A linear network is the linear map with weights k1 (x) k2 (patch order).
    np.testing.assert_allclose(y, X @ np.kron(k2, k1))
    np.testing.assert_array_equal(planted.predict(X), y)


def test_noise_is_relative_to_label_std():
    planted = PlantedCNNDataset((4, 4), noise=0.5, random_state=2)
    X, y = planted.sample(20000)
    residual = y - planted.predict(X)
    assert np.std(residual) == pytest.approx(0.5 * planted.label_std_, rel=0.05)
    assert planted.label_std_ == pytest.approx(np.std(planted.predict(X)), rel=0.05)


def test_set_params_replants():
    planted = PlantedCNNDataset((3, 3), random_state=0)
    before = planted.kernels_
    planted.set_params(random_state=1)
    assert not np.allclose(before[0], planted.kernels_[0])
    planted.set_params(kernel_sizes=(9,))
    assert planted.n_features_ == 9 and len(planted.kernels_) == 1


def test_as_frame():
    X, y = PlantedCNNDataset((2, 3), random_state=0).sample(5, as_frame=True)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert list(X.columns) == [f"x{i}" for i in range(6)] and y.name == "y"


@pytest.mark.parametrize("seed", range(20))
def test_planted_networks_are_operational(seed):
    planted = PlantedCNNDataset(
        (2, 2, 2), output_activation="relu", rank=2, random_state=seed
    )
    X, _ = planted.sample(4000, random_state=seed)
    branches = datasets.forward(X, planted.kernels_, planted._network()["activations"])
    assert np.all(np.std(branches, axis=0) > 0)
    assert np.mean(branches @ planted.weights_ != 0) > 0.45


def test_deep_relu_networks_are_planted_without_kernels_that_kill_them():
    # 2^15 features, kernels of size 2: a whole-network redraw needed about 42
    # draws on average (none in 100 for this seed); the hidden ReLU layers'
    # kernels are redrawn one by one instead, and each keeps a positive entry.
    planted = PlantedCNNDataset((2,) * 15, random_state=900)
    kernels = planted.kernels_
    assert all(np.any(kernel > 0) for kernel in kernels[1:-1])
    X, y = planted.sample(200, random_state=0)
    assert np.mean(y != 0) >= 0.45


def test_operational_rule():
    one = np.ones(1)
    assert datasets._is_operational(np.array([[1.0], [2.0], [0.0]]), one)
    assert not datasets._is_operational(np.array([[1.0], [0.0], [0.0]]), one)
    # A constant branch is dead, even when the labels vary.
    two = np.ones(2)
    assert not datasets._is_operational(np.array([[1.0, 1.0], [2.0, 1.0]]), two)


def test_dead_network_is_redrawn_until_the_limit(monkeypatch):
    monkeypatch.setattr(datasets, "_is_operational", lambda outputs, weights: False)
    with pytest.raises(ValueError, match="Could not plant an operational network"):
        PlantedCNNDataset(random_state=0).sample(5)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"kernel_sizes": (4, 0)}, "kernel_sizes must be positive"),
        ({"kernel_sizes": (4, -2)}, "kernel_sizes must be positive"),
        ({"kernel_sizes": (4, 2.0)}, "only integers"),
        ({"activation": "swish"}, "Unknown activation 'swish'"),
        ({"activation": ("relu", "tanh", "relu")}, "has 3 entries"),
        ({"rank": 0}, "rank must be a positive integer"),
        ({"noise": -0.1}, "noise must be a finite number >= 0"),
        ({"noise": np.nan}, "noise must be a finite number >= 0"),
    ],
)
def test_invalid_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        PlantedCNNDataset(**params).sample(3)


def test_invalid_sample_and_predict_arguments():
    planted = PlantedCNNDataset((2, 2), random_state=0)
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        planted.sample(0)
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        planted.sample(2.5)
    with pytest.raises(ValueError, match="X has 3 features, but the planted network"):
        planted.predict(np.zeros((2, 3)))


def test_make_planted_cnn():
    X, y, kernels = make_planted_cnn(
        40, (3, 2), activation="tanh", rank=2, random_state=0, return_kernels=True
    )
    assert X.shape == (40, 6) and y.shape == (40,)
    assert [k.shape for k in kernels] == [(2, 3), (2, 2)]
    X_again, y_again = make_planted_cnn(
        40, (3, 2), activation="tanh", rank=2, random_state=0
    )
    np.testing.assert_array_equal(X, X_again)
    np.testing.assert_array_equal(y, y_again)
    X_frame, y_series = make_planted_cnn(5, (3, 2), random_state=0, as_frame=True)
    assert isinstance(X_frame, pd.DataFrame) and isinstance(y_series, pd.Series)


def test_sampling_leaves_the_global_random_state_untouched():
    np.random.seed(12345)
    before = np.random.get_state()
    planted = PlantedCNNDataset((3, 2, 2), random_state=0)
    planted.sample(10)
    planted.sample(10, random_state=3)
    make_planted_cnn(10, kernel_sizes=(3, 2, 2), random_state=0)
    after = np.random.get_state()
    assert before[0] == after[0]
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]
