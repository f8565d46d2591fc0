"""PlantedCNNDataset and make_planted_cnn."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from sklearn_deeptd import PlantedCNNDataset, kernel_correlation, make_planted_cnn
from sklearn_deeptd._activations import resolve_activations
from sklearn_deeptd._network import forward


def _branches(planted, X):
    """The outputs of the planted branches on ``X``, before the weights."""
    activations = resolve_activations(
        planted.activation, planted.output_activation, len(planted.kernel_sizes)
    )
    return forward(X, planted.kernels_, activations)


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
    branches = _branches(planted, X)
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


@pytest.mark.parametrize(
    "params, message",
    [
        ({"kernel_sizes": (4, 0)}, "kernel_sizes must be positive"),
        ({"kernel_sizes": (4, -2)}, "kernel_sizes must be positive"),
        ({"kernel_sizes": (4, 2.0)}, "only integers"),
        ({"activation": "swish"}, "'activation' parameter of PlantedCNNDataset"),
        ({"activation": ("relu", "tanh", "relu")}, "has 3 entries"),
        ({"rank": 0}, "'rank' parameter of PlantedCNNDataset must be an int"),
        ({"rank": True}, "'rank' parameter of PlantedCNNDataset must be an int"),
        ({"noise": -0.1}, "'noise' parameter of PlantedCNNDataset must be a float"),
        ({"noise": np.nan}, "'noise' parameter of PlantedCNNDataset must be a float"),
        ({"noise": np.inf}, "'noise' parameter of PlantedCNNDataset must be a float"),
    ],
)
def test_invalid_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        PlantedCNNDataset(**params).sample(3)


def test_invalid_sample_and_predict_arguments():
    planted = PlantedCNNDataset((2, 2), random_state=0)
    message = "'n_samples' parameter of PlantedCNNDataset.sample must be an int"
    for n_samples in (0, 2.5, True):
        with pytest.raises(ValueError, match=message):
            planted.sample(n_samples)
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


def test_default_draws_are_those_of_before_targets_and_labels():
    # Values drawn before n_targets and labels existed: the default (and every
    # earlier parameter combination) keeps its network and its samples.
    planted = PlantedCNNDataset((4, 4, 4), random_state=0)
    X, y = planted.sample(3)
    np.testing.assert_allclose(
        X[:, :2],
        [
            [0.7655614933431664, -0.4317200683272623],
            [-0.2873272025763114, -1.0821861960881063],
            [-2.5218392913814798, 0.8841423721878308],
        ],  # noqa: E501
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        y, [0.3006544424211207, 0.00882629124464817, 0.18252744225334633], rtol=1e-12
    )
    np.testing.assert_allclose(
        planted.kernels_[0],
        [
            [
                0.5799686609772982,
                0.13155995106814494,
                0.3217803368403166,
                0.7367399448801994,
            ]
        ],  # noqa: E501
        rtol=1e-12,
    )
    assert planted.label_std_ == pytest.approx(0.48098765395808846, rel=1e-12)
    assert isinstance(planted.label_std_, float)
    planted = PlantedCNNDataset(
        (3, 2, 2), activation="tanh", rank=2, noise=0.1, random_state=5
    )
    X, y = planted.sample(3)
    np.testing.assert_allclose(X[0, :2], [-1.2622296500321901, 1.565710630377786])
    np.testing.assert_allclose(
        y, [1.0467637512072605, 0.9844911975006276, -0.3269104232218171], rtol=1e-12
    )
    np.testing.assert_allclose(
        planted.weights_, [0.9142350190810513, 0.796079932733648], rtol=1e-12
    )
    assert planted.label_std_ == pytest.approx(0.6112831884173118, rel=1e-12)
    _, y = make_planted_cnn(3, (3, 2), random_state=1)
    np.testing.assert_allclose(
        y, [0.6672190214334158, -0.6954704242206352, -1.9095223338824052], rtol=1e-12
    )


def test_several_targets_share_the_branches():
    planted = PlantedCNNDataset((4, 4), rank=2, n_targets=3, random_state=0)
    weights = planted.weights_
    assert weights.shape == (2, 3)
    assert np.all((np.abs(weights) >= 0.5) & (np.abs(weights) <= 1.5))
    X, Y = planted.sample(50)
    assert Y.shape == (50, 3) and Y.dtype == np.float64
    branches = _branches(planted, X)
    np.testing.assert_allclose(Y, branches @ weights)
    np.testing.assert_allclose(planted.predict(X), Y)
    assert planted.label_std_.shape == (3,)
    # One target is a column too, of the same law.
    single = PlantedCNNDataset((4, 4), n_targets=1, random_state=0)
    assert single.weights_.shape == (1, 1) and single.sample(5)[1].shape == (5, 1)


def test_signs_of_target_weights_vary():
    signs = np.concatenate(
        [
            np.sign(PlantedCNNDataset((2, 2), n_targets=4, random_state=s).weights_)
            for s in range(10)
        ],
        axis=None,
    )
    assert 0.3 < np.mean(signs > 0) < 0.7


def test_noise_is_relative_to_each_target_std():
    planted = PlantedCNNDataset((4, 4), rank=2, n_targets=3, noise=0.5, random_state=2)
    X, Y = planted.sample(20000)
    residual = Y - planted.predict(X)
    np.testing.assert_allclose(
        np.std(residual, axis=0), 0.5 * planted.label_std_, rtol=0.05
    )
    np.testing.assert_allclose(
        planted.label_std_, np.std(planted.predict(X), axis=0), rtol=0.05
    )
    # The noise of the targets is independent.
    assert abs(np.corrcoef(residual.T)[0, 1]) < 0.05


def test_binary_labels_are_planted_on_the_regression_network():
    # (Small ReLU networks output exact zeros on many inputs: this one on 5%.)
    regression = PlantedCNNDataset((4, 4), random_state=1)
    planted = PlantedCNNDataset((4, 4), labels="logistic", random_state=1)
    for a, b in zip(regression.kernels_, planted.kernels_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(regression.weights_, planted.weights_)
    assert planted.decision_scale_ == regression.label_std_
    assert isinstance(planted.decision_offset_, float)
    X, y = planted.sample(20000, random_state=0)
    assert y.dtype == np.int64 and set(np.unique(y)) == {0, 1}
    z = planted.decision_function(X)
    np.testing.assert_allclose(
        z, (regression.predict(X) - planted.decision_offset_) / planted.decision_scale_
    )
    # Standardised on the probes: centred at their median, of unit std.
    assert abs(np.median(z)) < 0.1 and np.std(z) == pytest.approx(1.0, rel=0.1)
    proba = planted.predict_proba(X)
    assert proba.shape == (20000, 2)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-z / planted.temperature)))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # Labels follow the probabilities: calibrated in bins of p.
    bins = np.digitize(proba[:, 1], [0.2, 0.4, 0.6, 0.8])
    for b in range(5):
        p, n = np.mean(proba[bins == b, 1]), np.sum(bins == b)
        assert np.mean(y[bins == b]) == pytest.approx(p, abs=4 * np.sqrt(p / n))
    assert 0.4 < np.mean(y) < 0.6
    np.testing.assert_array_equal(planted.predict(X), (z > 0).astype(int))
    accuracy = np.mean(planted.predict(X) == y)
    assert accuracy == pytest.approx(planted.bayes_accuracy_, abs=0.02)


def test_threshold_labels_are_deterministic():
    planted = PlantedCNNDataset((4, 4, 2), labels="threshold", random_state=3)
    regression = PlantedCNNDataset((4, 4, 2), random_state=3)
    # No draw besides the inputs: the same stream as the regression dataset.
    for _ in range(2):
        X, y = planted.sample(2000)
        np.testing.assert_array_equal(X, regression.sample(2000)[0])
        np.testing.assert_array_equal(y, planted.predict(X))
        np.testing.assert_array_equal(y, planted.decision_function(X) > 0)
    assert 0.4 < np.mean(y) < 0.6
    assert planted.bayes_accuracy_ == 1.0
    np.testing.assert_array_equal(planted.predict_proba(X)[:, 1], y)
    # The temperature plays no part with two classes.
    colder = PlantedCNNDataset(
        (4, 4, 2), labels="threshold", temperature=0.01, random_state=3
    )
    np.testing.assert_array_equal(
        colder.sample(50, random_state=1)[1], planted.sample(50, random_state=1)[1]
    )


@pytest.mark.parametrize("rank", [1, 3])
def test_multiclass_logistic_labels(rank):
    planted = PlantedCNNDataset(
        (4, 4), rank=rank, labels="logistic", n_classes=3, random_state=0
    )
    assert planted.weights_.shape == (rank, 3)
    assert planted.decision_offset_.shape == (3,)
    assert planted.label_std_.shape == (3,)
    X, y = planted.sample(20000, random_state=1)
    assert y.dtype == np.int64 and set(np.unique(y)) == {0, 1, 2}
    z = planted.decision_function(X)
    branches = _branches(planted, X)
    np.testing.assert_allclose(
        z,
        (branches @ planted.weights_ - planted.decision_offset_)
        / planted.decision_scale_,
    )
    proba = planted.predict_proba(X)
    expected = np.exp(z / planted.temperature)
    np.testing.assert_allclose(proba, expected / expected.sum(axis=1, keepdims=True))
    # The offsets balance the classes (exactly on the probes).
    np.testing.assert_allclose(proba.mean(axis=0), 1 / 3, atol=0.03)
    np.testing.assert_allclose(np.bincount(y) / y.size, 1 / 3, atol=0.04)
    for c in range(3):
        assert np.mean(y[np.argmax(proba, axis=1) == c] == c) > 0.4
    np.testing.assert_array_equal(planted.predict(X), np.argmax(z, axis=1))
    accuracy = np.mean(planted.predict(X) == y)
    assert accuracy == pytest.approx(planted.bayes_accuracy_, abs=0.02)
    # Kernels are kernels: the recovery metric takes them as they are.
    correlation = kernel_correlation(planted.kernels_, planted.kernels_)
    np.testing.assert_allclose(correlation, 1.0)


def test_multiclass_threshold_labels_reach_every_class_with_one_branch():
    planted = PlantedCNNDataset(
        (4, 4, 2), labels="threshold", n_classes=4, random_state=0
    )
    X, y = planted.sample(4000, random_state=0)
    np.testing.assert_array_equal(y, planted.predict(X))
    np.testing.assert_array_equal(y, np.argmax(planted.decision_function(X), axis=1))
    assert np.all(np.bincount(y, minlength=4) / y.size > 0.1)
    assert planted.bayes_accuracy_ == 1.0
    np.testing.assert_array_equal(planted.predict_proba(X), np.eye(4)[y])


def test_lower_temperature_gives_less_noisy_labels():
    accuracies = [
        PlantedCNNDataset(
            (4, 4), labels="logistic", temperature=t, random_state=0
        ).bayes_accuracy_
        for t in (1.0, 0.15, 0.01)
    ]
    assert 0.5 < accuracies[0] < accuracies[1] < accuracies[2] < 1.0
    multiclass = [
        PlantedCNNDataset(
            (4, 4),
            rank=2,
            labels="logistic",
            n_classes=3,
            temperature=t,
            random_state=0,
        ).bayes_accuracy_
        for t in (1.0, 0.15, 0.001)
    ]
    assert 1 / 3 < multiclass[0] < multiclass[1] < multiclass[2] <= 1.0


def test_regression_datasets_have_no_label_attributes():
    planted = PlantedCNNDataset((2, 2), n_targets=2, random_state=0)
    X, _ = planted.sample(3)
    for name in ("bayes_accuracy_", "decision_offset_", "decision_scale_"):
        assert not hasattr(planted, name)
    with pytest.raises(AttributeError, match="only defined for label datasets"):
        planted.decision_function(X)
    with pytest.raises(AttributeError, match="only defined for label datasets"):
        PlantedCNNDataset((2, 2), random_state=0).predict_proba(X)


@pytest.mark.parametrize(
    "params, kind",
    [
        ({"n_targets": 3}, pd.DataFrame),
        ({"labels": "logistic"}, pd.Series),
        ({"labels": "threshold", "n_classes": 3}, pd.Series),
    ],
)
def test_as_frame_for_targets_and_labels(params, kind):
    planted = PlantedCNNDataset((2, 3), random_state=0, **params)
    X, y = planted.sample(7, random_state=1, as_frame=True)
    X_array, y_array = planted.sample(7, random_state=1)
    assert isinstance(X, pd.DataFrame) and isinstance(y, kind)
    np.testing.assert_array_equal(y.to_numpy(), y_array)
    if kind is pd.DataFrame:
        assert list(y.columns) == ["y0", "y1", "y2"]
    else:
        assert y.name == "y" and y.dtype == np.int64


@pytest.mark.parametrize(
    "params, shape, dtype",
    [
        ({"n_targets": 2, "noise": 0.1}, (1000, 2), np.float64),
        ({"labels": "logistic"}, (1000,), np.int64),
        ({"labels": "threshold", "n_classes": 3, "rank": 2}, (1000,), np.int64),
        ({"labels": "logistic", "n_classes": 3}, (1000,), np.int64),
    ],
)
def test_lazy_sample_of_targets_and_labels(params, shape, dtype):
    da = pytest.importorskip("dask.array")
    planted = PlantedCNNDataset((3, 2), random_state=0, **params)
    X_lazy, y_lazy = planted.sample(1000, random_state=7, chunks=300)
    assert isinstance(y_lazy, da.Array)
    assert y_lazy.shape == shape and y_lazy.dtype == dtype
    assert y_lazy.chunks[0] == (300, 300, 300, 100)
    X, y = da.compute(X_lazy, y_lazy, scheduler="synchronous")
    assert y.shape == shape and y.dtype == dtype
    X_again, y_again = planted.sample(1000, random_state=7, chunks=300)
    np.testing.assert_array_equal(y, y_again.compute(scheduler="synchronous"))
    if "n_targets" in params:
        residual = y - planted.predict(X)
        assert 0.05 < np.std(residual) / np.mean(planted.label_std_) < 0.2
    elif params["labels"] == "threshold":
        np.testing.assert_array_equal(y, planted.predict(X))
    else:
        assert set(np.unique(y)) == set(range(planted.n_classes))
        accuracy = np.mean(planted.predict(X) == y)
        assert accuracy == pytest.approx(planted.bayes_accuracy_, abs=0.06)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_targets": 0}, "'n_targets' parameter of PlantedCNNDataset"),
        ({"n_targets": 1.5}, "'n_targets' parameter of PlantedCNNDataset"),
        ({"n_targets": True}, "'n_targets' parameter of PlantedCNNDataset"),
        ({"labels": "softmax"}, "'labels' parameter of PlantedCNNDataset"),
        ({"labels": 1}, "'labels' parameter of PlantedCNNDataset"),
        ({"labels": "logistic", "n_classes": 1}, "'n_classes' parameter of"),
        ({"labels": "logistic", "n_classes": 2.0}, "'n_classes' parameter of"),
        ({"labels": "logistic", "temperature": 0}, "'temperature' parameter of"),
        ({"labels": "logistic", "temperature": -1.0}, "'temperature' parameter of"),
        ({"labels": "logistic", "temperature": np.inf}, "'temperature' parameter"),
        ({"n_classes": 3}, "n_classes=3 needs labels="),
        ({"labels": "logistic", "n_targets": 2}, "cannot be combined with n_targets"),
        ({"labels": "threshold", "noise": 0.1}, "cannot be combined with noise"),
    ],
)
def test_invalid_target_and_label_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        PlantedCNNDataset((2, 2), **params).sample(3)


def test_set_params_replants_targets_and_labels():
    planted = PlantedCNNDataset((3, 3), random_state=0)
    assert planted.weights_.shape == (1,)
    planted.set_params(n_targets=2)
    assert planted.weights_.shape == (1, 2) and planted.sample(4)[1].shape == (4, 2)
    planted.set_params(n_targets=None, labels="logistic", n_classes=3)
    assert planted.weights_.shape == (1, 3) and planted.sample(4)[1].dtype == np.int64
    before = planted.bayes_accuracy_
    planted.set_params(temperature=0.01)
    assert planted.bayes_accuracy_ > before
    assert "n_classes=3" in repr(planted)


def test_make_planted_cnn_with_targets_and_labels():
    X, Y = make_planted_cnn(30, (3, 2), rank=2, n_targets=2, random_state=0)
    assert X.shape == (30, 6) and Y.shape == (30, 2)
    X, y = make_planted_cnn(
        30, (3, 2), labels="logistic", n_classes=3, temperature=0.5, random_state=0
    )
    assert y.shape == (30,) and y.dtype == np.int64 and y.max() <= 2
    _, y_again = make_planted_cnn(
        30, (3, 2), labels="logistic", n_classes=3, temperature=0.5, random_state=0
    )
    np.testing.assert_array_equal(y, y_again)
    _, y_frame = make_planted_cnn(5, (3, 2), n_targets=2, random_state=0, as_frame=True)
    assert list(y_frame.columns) == ["y0", "y1"]


def test_targets_and_labels_leave_the_global_random_state_untouched():
    np.random.seed(12345)
    before = np.random.get_state()
    for params in ({"n_targets": 2}, {"labels": "logistic", "n_classes": 3}):
        planted = PlantedCNNDataset((3, 2, 2), rank=2, random_state=0, **params)
        planted.sample(10)
        planted.sample(10, random_state=3)
        planted.bayes_accuracy_ if "labels" in params else planted.label_std_
    after = np.random.get_state()
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_default_temperature_gives_a_bayes_accuracy_near_090(seed):
    # The class docstring's figures: (8, 8, 8) ReLU, rank 1, binary logistic
    # labels at the default temperature (there 200,000 inputs, 20 seeds).
    planted = PlantedCNNDataset((8, 8, 8), labels="logistic", random_state=seed)
    rng = np.random.RandomState([seed, 7])
    proba = np.concatenate(
        [planted.predict_proba(rng.standard_normal((10000, 512))) for _ in range(5)]
    )
    accuracy = np.mean(np.max(proba, axis=1))
    assert 0.89 < accuracy < 0.93
    assert planted.bayes_accuracy_ == pytest.approx(accuracy, abs=0.01)
