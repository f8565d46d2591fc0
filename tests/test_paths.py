"""Path parity: every way into a fit gives the same model, or the same error.

Each case runs through ``fit`` on NumPy, ``partial_fit`` (one batch, and three
batches of uneven sizes), ``fit`` on a dask array (threaded scheduler, three
row chunks on the same cuts as the batches) and ``fit`` under array API
dispatch with array-api-strict. The four share everything past reading the
data (the statistics, the summary and the solver), so with fewer rows than
the subsamples hold they must agree: equal predictions to rounding, the same
warnings, or the same exception with the same message.
"""

import re
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.metrics import r2_score

from sklearn_deeptd import DeepTDClassifier, DeepTDRegressor, PlantedCNNDataset

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
xps = pytest.importorskip("array_api_strict")

SIZES = (3, 2, 2)
N_SAMPLES = 300
# Batches (and dask chunks) cut the rows at these positions.
CUTS = (70, 200)

PATHS = ["fit", "partial_fit", "partial_fit_batches", "dask", "array_api"]
MODEL = {"kernel_sizes": SIZES, "activation": "tanh", "random_state": 0}


def _data():
    planted = PlantedCNNDataset(SIZES, activation="tanh", random_state=0)
    X, y = planted.sample(N_SAMPLES, random_state=1)
    X_test, _ = planted.sample(50, random_state=2)
    return X, y, X_test


def _with(array, index, value):
    array = np.array(array, dtype=float)
    array[index] = value
    return array


def _case(X=None, y=None, weight=None, X_test=None, rtol=1e-7, labels=False, **params):
    """A case: functions of the clean data (None keeps it), and settings;
    ``labels`` cases fit DeepTDClassifier and compare its probabilities."""
    return {
        "X": X,
        "y": y,
        "weight": weight,
        "X_test": X_test,
        "params": params,
        "rtol": rtol,
        "labels": labels,
    }


def _classes(y, names=(0, 1, 2)):
    """Three classes of y, by the terciles of y plus noise (classes that
    overlap, as labels do), named ``names``."""
    noisy = y + 0.3 * np.std(y) * np.random.RandomState(0).standard_normal(len(y))
    return np.asarray(names)[np.digitize(noisy, np.quantile(noisy, [1 / 3, 2 / 3]))]


def _zero_weight_batch(X):
    weight = np.ones(len(X))
    weight[CUTS[0] : CUTS[1]] = 0.0
    return weight


CASES = {
    "plain": _case(),
    # Defects 1 and 2: partial_fit had no input-scale safeguard, and no path
    # was equivariant inside the "safe" window.
    "X-1e-200": _case(X=lambda X: X * 1e-200, X_test=lambda X: X * 1e-200),
    "X-1e-6": _case(X=lambda X: X * 1e-6, X_test=lambda X: X * 1e-6),
    "X-1e3": _case(X=lambda X: X * 1e3, X_test=lambda X: X * 1e3),
    "X-1e7": _case(X=lambda X: X * 1e7, X_test=lambda X: X * 1e7),
    "X-1e200": _case(X=lambda X: X * 1e200, X_test=lambda X: X * 1e200),
    "float32": _case(X=lambda X: X.astype(np.float32), rtol=1e-4),
    "integer-X": _case(X=lambda X: np.round(4 * X).astype(np.int64)),
    "constant-y": _case(y=lambda y: np.full_like(y, 3.5)),
    # Defect 3: squared deviations overflowed or underflowed in the streams.
    "y-1e-200": _case(y=lambda y: y * 1e-200),
    "y-1e160": _case(y=lambda y: y * 1e160),
    # Defect 4: zero multipliers broke the array API path.
    "many-zero-weights": _case(
        weight=lambda X: (np.arange(len(X)) % 3 == 0).astype(float)
    ),
    # Defect 10: partial_fit refused a batch of zero weight.
    "zero-weight-batch": _case(weight=_zero_weight_batch),
    # Defect 9: raw weights overflowed in the streams' statistics.
    "huge-weights": _case(weight=lambda X: np.full(len(X), 1e308)),
    "center-false-zeros-in-y": _case(
        y=lambda y: _with(y, [0, 5, 99], 0.0), center=False
    ),
    "X-nan": _case(X=lambda X: _with(X, (150, 3), np.nan)),
    "X-inf": _case(X=lambda X: _with(X, (250, 0), -np.inf)),
    "X-nan-zero-weight": _case(
        X=lambda X: _with(X, (150, 3), np.nan), weight=_zero_weight_batch
    ),
    "y-nan": _case(y=lambda y: _with(y, 150, np.nan)),
    "y-inf": _case(y=lambda y: _with(y, 10, np.inf)),
    "weight-nan": _case(weight=lambda X: _with(np.ones(len(X)), 150, np.nan)),
    "weight-inf": _case(weight=lambda X: _with(np.ones(len(X)), 10, np.inf)),
    "weight-negative": _case(weight=lambda X: _with(np.ones(len(X)), 10, -1.0)),
    "all-weights-zero": _case(weight=lambda X: np.zeros(len(X))),
    "one-sample": _case(X=lambda X: X[:1], y=lambda y: y[:1]),
    "two-samples": _case(X=lambda X: X[:2], y=lambda y: y[:2]),
    "kernel-sizes-mismatch": _case(kernel_sizes=(3, 2, 3)),
    "predict-feature-mismatch": _case(X_test=lambda X: X[:, :11]),
    # Defect 5: predict on a dask array with NaN returned NaN.
    "predict-nan": _case(X_test=lambda X: _with(X, (3, 3), np.nan)),
    "predict-near-largest-float": _case(
        X_test=lambda X: X / np.max(np.abs(X)) * 1.7e308
    ),
    # Found in review: float32 multipliers overflowed with weights and y of
    # extreme scale, and NaiveTD's with a large mean; rank above a kernel
    # size broke the array API path; a zero-weight row set y's scale; block
    # means near the largest float overflowed the merge.
    "float32-weighted-y-1e50": _case(
        X=lambda X: X.astype(np.float32),
        y=lambda y: y * 1e50,
        weight=lambda X: np.ones(len(X)),
        rtol=1e-4,
    ),
    "float32-weighted-y-1e-50": _case(
        X=lambda X: X.astype(np.float32),
        y=lambda y: y * 1e-50,
        weight=lambda X: np.ones(len(X)),
        rtol=1e-4,
    ),
    "float32-center-false-offset": _case(
        X=lambda X: (X * 1e33).astype(np.float32),
        y=lambda y: y * 1e-3 + 1e6,
        X_test=lambda X: X * 1e33,
        center=False,
        rtol=1e-4,
    ),
    "rank-above-a-kernel-size": _case(rank=3, refine=False),
    "zero-weight-row-huge-y": _case(
        y=lambda y: _with(y * 1e-120, 5, 1e200),
        weight=lambda X: _with(np.ones(len(X)), 5, 0.0),
    ),
    "y-opposite-near-largest-float": _case(
        y=lambda y: np.where(y > 0, 1.5e308, -1.5e308), refine=False
    ),
    "boolean-y": _case(y=lambda y: y > 0, refine=False),
    "scalar-weight": _case(weight=lambda X: 2.5),
    # The words of validate_data on every path.
    "y-numeric-strings": _case(y=lambda y: y.astype(str)),
    "y-column": _case(y=lambda y: y[:, None]),
    "y-three-dimensions": _case(y=lambda y: y[:, None, None]),
    # Several targets: one stacked moment, shared branches.
    "two-targets": _case(y=lambda y: np.stack([y, 1.0 - 2.0 * y], axis=1)),
    "two-targets-one-constant": _case(
        y=lambda y: np.stack([y, np.full_like(y, 2.0)], axis=1), refine=False
    ),
    "two-targets-weighted": _case(
        y=lambda y: np.stack([y, y * y], axis=1),
        weight=lambda X: np.linspace(0.5, 1.5, len(X)),
        rank=2,
        refine=False,
    ),
    # Labels: DeepTDClassifier through the same paths. L-BFGS stops a
    # log-loss (no zero floor) on its relative decrease, where a rounding
    # difference in the moment moves multiclass probabilities by 1e-4; the
    # multiclass cases compare the start (decomposition, signs, and the
    # output layer's convex fit, which stops on its gradient).
    "labels-binary": _case(y=lambda y: _classes(y, names=(0, 0, 1)), labels=True),
    "labels-three-classes": _case(y=_classes, labels=True, rank=2, refine=False),
    "labels-weighted": _case(
        y=_classes,
        weight=lambda X: np.linspace(0.5, 1.5, len(X)),
        labels=True,
        class_weight={0: 2.0, 2: 0.5},
        refine=False,
    ),
    "labels-strings": _case(
        y=lambda y: _classes(y, names=("high", "low", "mid")),
        labels=True,
        refine=False,
    ),
    "labels-one-class": _case(y=lambda y: np.zeros(len(y), dtype=int), labels=True),
    "X-three-dimensions": _case(X=lambda X: X[:, :, None]),
    "X-no-features": _case(X=lambda X: X[:, :0]),
    "weight-column": _case(weight=lambda X: np.ones((len(X), 1))),
    "weight-length": _case(weight=lambda X: np.ones(len(X) - 1)),
}

# Where a path may differ by design, and why: a stream may start with one row
# (as SGDRegressor.partial_fit does); fit needs two. The stream of one row has
# constant targets and predicts them, with the warning fit gives for those.
BY_DESIGN = {
    ("one-sample", "partial_fit"): "constant",
    ("one-sample", "partial_fit_batches"): "constant",
    # A shape error raised on a batch names the batch's size, not the data's.
    ("weight-column", "partial_fit_batches"): "numbers of the batch",
    ("weight-length", "partial_fit_batches"): "numbers of the batch",
    ("X-no-features", "partial_fit_batches"): "numbers of the batch",
    # array-api-strict has no string dtype: this input cannot be made there.
    ("y-numeric-strings", "array_api"): "not applicable",
    ("labels-strings", "array_api"): "not applicable",
}


def _batches(n_rows):
    edges = [0, *[cut for cut in CUTS if cut < n_rows], n_rows]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def _run(path, X, y, weight, X_test, params, labels):
    if labels:
        model = DeepTDClassifier(**{**MODEL, **params})
        # The classifier's probabilities: finer than its labels.
        predict = model.predict_proba
        stream = {"classes": np.unique(y)}
    else:
        model = DeepTDRegressor(**{**MODEL, **params})
        predict, stream = model.predict, {}
    if path == "fit":
        model.fit(X, y, sample_weight=weight)
        return predict(X_test)
    if path == "partial_fit":
        model.partial_fit(X, y, sample_weight=weight, **stream)
        return predict(X_test)
    if path == "partial_fit_batches":
        for rows in _batches(len(X)):
            batch_weight = weight if np.ndim(weight) == 0 else weight[rows]
            model.partial_fit(X[rows], y[rows], sample_weight=batch_weight, **stream)
        return predict(X_test)
    if path == "dask":
        chunks = (tuple(r.stop - r.start for r in _batches(len(X))),)
        lazy = [
            a
            if np.ndim(a) == 0
            else da.from_array(
                a, chunks=chunks + a.shape[1:] if len(a) == len(X) else -1
            )
            for a in (X, y, weight)
        ]
        with dask.config.set(scheduler="threads"):
            model.fit(*lazy[:2], sample_weight=lazy[2])
            return predict(da.from_array(X_test, chunks=20)).compute()
    with sklearn.config_context(array_api_dispatch=True):
        model.fit(
            xps.asarray(X),
            xps.asarray(y),
            sample_weight=weight if np.ndim(weight) == 0 else xps.asarray(weight),
        )
        return np.asarray(predict(xps.asarray(X_test)))


def _outcome(path, case):
    X, y, X_test = _data()
    X_test = X_test if case["X_test"] is None else case["X_test"](X_test)
    X = X if case["X"] is None else case["X"](X)
    y = y if case["y"] is None else case["y"](y)
    weight = None if case["weight"] is None else case["weight"](X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = _run(path, X, y, weight, X_test, case["params"], case["labels"])
        except Exception as error:  # the same error is the expected outcome
            result = error
    messages = sorted({str(w.message) for w in caught if w.category is not Warning})
    return result, messages, y


@pytest.mark.parametrize("path", PATHS[1:])
@pytest.mark.parametrize("case", list(CASES))
def test_every_path_agrees_with_fit(case, path):
    expected, expected_warnings, y = _outcome("fit", CASES[case])
    got, got_warnings, _ = _outcome(path, CASES[case])
    if BY_DESIGN.get((case, path)) == "not applicable":
        pytest.skip("array-api-strict has no string dtype")
    if BY_DESIGN.get((case, path)) == "numbers of the batch":
        assert type(got) is type(expected), got
        assert re.sub(r"\d+", "N", str(got)) == re.sub(r"\d+", "N", str(expected))
        return
    if BY_DESIGN.get((case, path)) == "constant":
        assert isinstance(expected, ValueError)
        assert "minimum of 2 is required" in str(expected)
        np.testing.assert_array_equal(got, np.full(got.shape, y[0]))
        assert any("the targets are constant" in m for m in got_warnings)
        return
    if isinstance(expected, Exception):
        assert type(got) is type(expected), got
        assert str(got) == str(expected)
        return
    assert not isinstance(got, Exception), got
    assert got_warnings == expected_warnings
    # Probabilities are of scale 1; targets of their own.
    scale = 1.0 if CASES[case]["labels"] or not np.any(y) else np.max(np.abs(y))
    np.testing.assert_allclose(
        got, expected, rtol=CASES[case]["rtol"], atol=1e-9 * scale
    )


def test_the_cases_are_not_vacuous():
    # The cases that must fit do fit well on the NumPy path, and the error
    # cases raise: agreement is never agreement on a broken model.
    X, y, _ = _data()
    errors = {
        name
        for name, case in CASES.items()
        if isinstance(_outcome("fit", case)[0], Exception)
    }
    assert errors == {
        "X-nan",
        "X-inf",
        "X-nan-zero-weight",
        "y-nan",
        "y-inf",
        "weight-nan",
        "weight-inf",
        "weight-negative",
        "all-weights-zero",
        "one-sample",
        "kernel-sizes-mismatch",
        "predict-feature-mismatch",
        "predict-nan",
        "y-numeric-strings",
        "y-three-dimensions",
        "labels-one-class",
        "X-three-dimensions",
        "X-no-features",
        "weight-column",
        "weight-length",
    }
    planted = PlantedCNNDataset(SIZES, activation="tanh", random_state=0)
    X_check, y_check = planted.sample(200, random_state=3)
    learnable = [
        "plain",
        "X-1e-200",
        "X-1e200",
        "y-1e160",
        "huge-weights",
        "scalar-weight",
        "float32-weighted-y-1e50",
        "float32-weighted-y-1e-50",
        "zero-weight-row-huge-y",
        "two-targets",
    ]
    for name in learnable:
        case = CASES[name]
        X_fit = X if case["X"] is None else case["X"](X)
        y_fit = y if case["y"] is None else case["y"](y)
        weight = None if case["weight"] is None else case["weight"](X)
        model = DeepTDRegressor(**MODEL).fit(X_fit, y_fit, weight)
        X_eval = X_check if case["X_test"] is None else case["X_test"](X_check)
        y_eval = y_check if case["y"] is None else case["y"](y_check)
        if name == "zero-weight-row-huge-y":
            y_eval = y_check * 1e-120  # the huge target had zero weight
        # R^2 on y / max|y|: scikit-learn's r2_score squares y itself.
        scale = np.max(np.abs(y_eval), axis=0)
        score = r2_score(y_eval / scale, model.predict(X_eval) / scale)
        assert score > 0.999, (name, score)
    for name in ["labels-binary", "labels-three-classes", "labels-strings"]:
        # Held-out labels drawn by the same rule; chance is 1/2 or 1/3.
        case = CASES[name]
        model = DeepTDClassifier(**MODEL, **case["params"]).fit(X, case["y"](y))
        accuracy = model.score(X_check, case["y"](y_check))
        assert accuracy > 0.8, (name, accuracy)


def test_partial_fit_keeps_the_namespace_of_its_batches():
    # Used to: after partial_fit on array API arrays the fitted arrays were
    # NumPy, and predict on the same kind of array raised.
    X, y, X_test = _data()
    with sklearn.config_context(array_api_dispatch=True):
        model = DeepTDRegressor(**MODEL)
        model.partial_fit(xps.asarray(X), xps.asarray(y))
        prediction = model.predict(xps.asarray(X_test))
    assert type(prediction) is type(xps.asarray(X_test))
    assert all(type(kernel) is type(prediction) for kernel in model.kernels_)
    expected = DeepTDRegressor(**MODEL).fit(X, y).predict(X_test)
    np.testing.assert_allclose(np.asarray(prediction), expected, rtol=1e-7)


def test_dask_takes_a_scalar_sample_weight():
    X, y, X_test = _data()
    expected = DeepTDRegressor(**MODEL).fit(X, y, 2.5).predict(X_test)
    with dask.config.set(scheduler="threads"):
        model = DeepTDRegressor(**MODEL)
        model.fit(da.from_array(X, chunks=100), da.from_array(y, chunks=100), 2.5)
    np.testing.assert_allclose(model.predict(X_test), expected, rtol=1e-7)


def test_partial_fit_refuses_dask_in_the_words_of_the_issue():
    X, y, _ = _data()
    with pytest.raises(TypeError, match=re.escape("partial_fit does not take dask")):
        DeepTDRegressor(SIZES).partial_fit(da.from_array(X), da.from_array(y))
