"""DeepTDClassifier and multi-output DeepTDRegressor: what each adds to a fit."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_deeptd import (
    DeepTDClassifier,
    DeepTDRegressor,
    PlantedCNNDataset,
    kernel_correlation,
)

SIZES = (4, 4, 4)


def _labelled(n_samples, seed=0, **params):
    planted = PlantedCNNDataset(SIZES, labels="logistic", random_state=seed, **params)
    X, y = planted.sample(n_samples, random_state=seed + 1)
    X_test, y_test = planted.sample(2000, random_state=seed + 2)
    return planted, X, y, X_test, y_test


def test_binary_labels_recover_the_planted_kernels():
    planted, X, y, X_test, y_test = _labelled(3000)
    model = DeepTDClassifier(SIZES, random_state=0).fit(X, y)
    assert kernel_correlation(planted.kernels_, model.kernels_).min() > 0.99
    # Within a few points of the best any classifier can do on these labels.
    assert model.score(X_test, y_test) > planted.bayes_accuracy_ - 0.03
    assert model.weights_.shape == (1,) and isinstance(model.intercept_, float)


def test_multiclass_labels_share_the_branches():
    planted, X, y, X_test, y_test = _labelled(
        4000, activation="tanh", rank=2, n_classes=3
    )
    model = DeepTDClassifier(SIZES, activation="tanh", rank=2, random_state=0)
    model.fit(X, y)
    assert kernel_correlation(planted.kernels_, model.kernels_).min() > 0.98
    assert model.weights_.shape == (2, 3) and model.intercept_.shape == (3,)
    assert model.score(X_test, y_test) > planted.bayes_accuracy_ - 0.05


def test_probabilities_logits_and_labels_agree():
    _, X, y, X_test, _ = _labelled(1500, rank=2, n_classes=3)
    labels = np.array(["c", "a", "b"])[y]
    model = DeepTDClassifier(SIZES, rank=2, random_state=0).fit(X, labels)
    np.testing.assert_array_equal(model.classes_, ["a", "b", "c"])
    proba = model.predict_proba(X_test)
    assert proba.shape == (2000, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(
        model.predict_log_proba(X_test), np.log(proba), rtol=1e-9, atol=1e-12
    )
    scores = model.decision_function(X_test)
    assert scores.shape == (2000, 3)
    np.testing.assert_array_equal(
        model.predict(X_test), model.classes_[np.argmax(scores, axis=1)]
    )
    np.testing.assert_array_equal(
        model.predict(X_test), model.classes_[np.argmax(proba, axis=1)]
    )


def test_binary_probabilities_are_the_logit_s_sigmoid():
    _, X, y, X_test, _ = _labelled(1500)
    model = DeepTDClassifier(SIZES, random_state=0).fit(X, y == 1)
    scores = model.decision_function(X_test)
    assert scores.shape == (2000,)
    proba = model.predict_proba(X_test)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-scores)), rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X_test), scores > 0)
    # Logits far beyond float range give exact log-probabilities, not -inf.
    log_proba = model.predict_log_proba(X_test * 1e6)
    assert np.all(np.isfinite(log_proba))


def test_class_weight_multiplies_the_sample_weights():
    _, X, y, X_test, _ = _labelled(1500, n_classes=3, rank=2)
    weight = np.random.RandomState(0).uniform(0.5, 1.5, len(y))
    setting = dict(kernel_sizes=SIZES, rank=2, random_state=0, refine=False)
    weighted = DeepTDClassifier(class_weight={0: 3.0, 2: 0.5}, **setting)
    weighted.fit(X, y, sample_weight=weight)
    explicit = DeepTDClassifier(**setting).fit(
        X, y, sample_weight=weight * np.array([3.0, 1.0, 0.5])[y]
    )
    np.testing.assert_allclose(
        weighted.predict_proba(X_test), explicit.predict_proba(X_test), rtol=1e-10
    )
    # "balanced": weighted counts n / (K * count).
    counts = np.bincount(y, weights=weight)
    balanced = DeepTDClassifier(class_weight="balanced", **setting)
    balanced.fit(X, y, sample_weight=weight)
    expected = DeepTDClassifier(
        class_weight=dict(enumerate(counts.sum() / (3 * counts))), **setting
    ).fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(
        balanced.predict_proba(X_test), expected.predict_proba(X_test), rtol=1e-10
    )


@pytest.mark.parametrize(
    "labels, message",
    [
        (lambda y: np.zeros_like(y), "at least 2 classes"),
        (lambda y: np.c_[y, y], "y should be a 1d array"),
        (lambda y: y + 0.5, "Unknown label type"),
    ],
)
def test_bad_labels_are_refused(labels, message):
    _, X, y, _, _ = _labelled(200)
    with pytest.raises(ValueError, match=message):
        DeepTDClassifier(SIZES).fit(X, labels(y))


def test_weights_that_leave_one_class_are_refused():
    _, X, y, _, _ = _labelled(200)
    with pytest.raises(ValueError, match="at least 2 classes with positive weight"):
        DeepTDClassifier(SIZES).fit(X, y, sample_weight=(y == 1).astype(float))


def test_class_weight_must_name_classes():
    _, X, y, _, _ = _labelled(200)
    with pytest.raises(ValueError, match=r"The classes, \[7\], are not"):
        DeepTDClassifier(SIZES, class_weight={7: 2.0}).fit(X, y)


def test_partial_fit_needs_its_classes_first():
    _, X, y, _, _ = _labelled(600, n_classes=3, rank=2)
    model = DeepTDClassifier(SIZES, refine=False, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        model.partial_fit(X[:100], y[:100])
    # A batch may miss classes; the stream knows them all.
    first = y[:100] != 2
    model.partial_fit(X[:100][first], y[:100][first], classes=[0, 1, 2])
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    model.partial_fit(X[100:300], y[100:300])
    with pytest.raises(ValueError, match="not the same as on the first call"):
        model.partial_fit(X[300:], y[300:], classes=[0, 1])
    with pytest.raises(ValueError, match=r"not among the classes"):
        model.partial_fit(X[300:], np.where(y[300:] == 2, 5, y[300:]))
    with pytest.raises(NotImplementedError, match="balanced"):
        DeepTDClassifier(SIZES, class_weight="balanced").partial_fit(
            X, y, classes=[0, 1, 2]
        )
    # After fit, partial_fit keeps fit's classes (as SGDClassifier does).
    fitted = DeepTDClassifier(SIZES, refine=False, random_state=0).fit(X, y)
    fitted.partial_fit(X[:50], y[:50])
    np.testing.assert_array_equal(fitted.classes_, [0, 1, 2])


def test_works_with_the_tools_of_scikit_learn():
    _, X, y, X_test, y_test = _labelled(800, n_classes=3, rank=2)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    labels = pd.Series(np.array(["low", "mid", "high"])[y])
    model = make_pipeline(
        StandardScaler(), DeepTDClassifier(SIZES, rank=2, random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = cross_validate(model, frame, labels, cv=3, scoring="neg_log_loss")
    assert np.all(np.isfinite(results["test_score"]))
    search = GridSearchCV(
        DeepTDClassifier(SIZES, random_state=0, refine=False),
        {"rank": [1, 2]},
        scoring="neg_log_loss",
        cv=3,
    ).fit(X, y)
    assert search.best_params_["rank"] == 2
    calibrated = CalibratedClassifierCV(
        DeepTDClassifier(SIZES, rank=2, random_state=0, refine=False), cv=3
    ).fit(X, y)
    proba = calibrated.predict_proba(X_test)
    assert log_loss(y_test, proba) < np.log(3)
    fitted = DeepTDClassifier(SIZES, rank=2, random_state=0).fit(frame, labels)
    restored = pickle.loads(pickle.dumps(fitted))
    test_frame = pd.DataFrame(X_test, columns=frame.columns)
    np.testing.assert_array_equal(
        restored.predict_proba(test_frame), fitted.predict_proba(test_frame)
    )


def _targets(n_samples, seed=0):
    planted = PlantedCNNDataset(
        SIZES, activation="tanh", rank=2, n_targets=3, random_state=seed
    )
    X, Y = planted.sample(n_samples, random_state=seed + 1)
    return planted, X, Y


def test_several_targets_share_the_branches():
    planted, X, Y = _targets(1500)
    model = DeepTDRegressor(SIZES, activation="tanh", rank=2, random_state=0)
    model.fit(X, Y)
    assert kernel_correlation(planted.kernels_, model.kernels_).min() > 0.99
    assert model.weights_.shape == (2, 3) and model.intercept_.shape == (3,)
    X_test, Y_test = planted.sample(1000, random_state=9)
    assert model.predict(X_test).shape == (1000, 3)
    assert model.score(X_test, Y_test) > 0.999


def test_one_target_as_a_column_predicts_as_the_vector():
    # The stacked path with one column gives the 1-D fit's predictions.
    planted, X, Y = _targets(600)
    y = Y[:, 0]
    setting = dict(kernel_sizes=SIZES, activation="tanh", rank=2, random_state=0)
    vector = DeepTDRegressor(**setting).fit(X, y)
    column = DeepTDRegressor(**setting).fit(X, y[:, None])
    assert column.predict(X).shape == (600, 1)
    np.testing.assert_allclose(
        column.predict(X)[:, 0], vector.predict(X), rtol=1e-8, atol=1e-8
    )


def test_a_constant_target_among_several_is_predicted_as_itself():
    planted, X, Y = _targets(600)
    Y[:, 1] = 4.25
    model = DeepTDRegressor(SIZES, activation="tanh", rank=2, random_state=0)
    model.fit(X, Y)
    np.testing.assert_allclose(model.predict(X)[:, 1], 4.25, rtol=1e-9)


def test_a_stream_keeps_its_number_of_targets():
    _, X, Y = _targets(300)
    model = DeepTDRegressor(SIZES, refine=False).partial_fit(X[:100], Y[:100])
    with pytest.raises(ValueError, match="y has 2 target columns but the earlier"):
        model.partial_fit(X[100:], Y[100:, :2])
    with pytest.raises(ValueError, match="one target"):
        model.partial_fit(X[100:], Y[100:, 0])


def test_messages_and_verbose_lines_name_the_classifier(capsys):
    _, X, y, _, _ = _labelled(200)
    DeepTDClassifier(SIZES, verbose=1, random_state=0).fit(X, y)
    printed = capsys.readouterr().out
    assert "[DeepTDClassifier] decomposition" in printed
    assert "[DeepTDClassifier] refinement" in printed
    assert "DeepTDRegressor" not in printed
    with pytest.raises(ValueError, match="DeepTDClassifier needs numeric input"):
        DeepTDClassifier(SIZES).fit(np.full(X.shape, "a"), y)
    frame = pd.DataFrame(X).assign(text="a")
    with pytest.raises(ValueError, match="DeepTDClassifier needs numeric input"):
        DeepTDClassifier().fit(frame, y)
