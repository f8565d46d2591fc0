"""Bad input to the estimators gets a clear error naming the problem.

The bad-input battery: every case raises its exact type with a message naming
it. Each training case is a function of the entry point (``"fit"`` or
``"partial_fit"``) and of the training data ``(X, y)`` (50 samples, 12
features, a (3, 2, 2) planted network) that calls the estimator with one thing
wrong. ``TRAINING_CASES`` apply to every entry point and run on each; the short
``FIT_ONLY_CASES`` and ``PARTIAL_FIT_ONLY_CASES`` are those whose error exists
on one entry point only (or differs between them). These are tests of the
estimators' public entry points, not of the helpers in ``_validation.py``.
"""

import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset

ENTRY_POINTS = ("fit", "partial_fit")


@pytest.fixture(scope="module")
def data():
    return PlantedCNNDataset((3, 2, 2), random_state=0).sample(50, random_state=1)


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return DeepTDRegressor((3, 2, 2), refine=False, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def fitted_on_frame(data):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    model = DeepTDRegressor((3, 2, 2), refine=False, random_state=0)
    return model.fit(frame, y), frame


def _model(**params):
    return DeepTDRegressor(**{"refine": False, "random_state": 0, **params})


def _with(array, index, value):
    array = np.array(array, dtype=np.result_type(array, type(value)))
    array[index] = value
    return array


def _bad(X=None, y=None, sample_weight=None, *, after_batch=False, **params):
    """A training call with some of the data replaced; None keeps the valid
    value. ``after_batch=True`` first feeds a valid batch to ``partial_fit``,
    so the bad one is a later batch of a stream."""

    def call(method, data_X, data_y):
        model = _model(**params)
        if after_batch:
            model.partial_fit(data_X, data_y)
        return getattr(model, method)(
            data_X if X is None else X(data_X),
            data_y if y is None else y(data_y),
            sample_weight=None if sample_weight is None else sample_weight(data_X),
        )

    return call


ONES = np.ones(50)


def _zero_at_3(X):
    return _with(ONES, 3, 0.0)


# The cases of every entry point, each run on fit and on partial_fit:
# (id, call, exception type, regular expression the message must match).
TRAINING_CASES = [
    # Non-finite values.
    (
        "X-nan",
        _bad(X=lambda X: _with(X, (3, 1), np.nan)),
        ValueError,
        "Input X contains NaN",
    ),
    (
        "X-inf",
        _bad(X=lambda X: _with(X, (3, 1), np.inf)),
        ValueError,
        "Input X contains infinity",
    ),
    (
        "X-neg-inf",
        _bad(X=lambda X: _with(X, (0, 0), -np.inf)),
        ValueError,
        "Input X contains infinity",
    ),
    (
        "y-nan",
        _bad(y=lambda y: _with(y, 7, np.nan)),
        ValueError,
        "Input y contains NaN",
    ),
    (
        "y-inf",
        _bad(y=lambda y: _with(y, 7, np.inf)),
        ValueError,
        "Input y contains infinity",
    ),
    (
        "y-neg-inf",
        _bad(y=lambda y: _with(y, 7, -np.inf)),
        ValueError,
        "Input y contains infinity",
    ),
    # X is checked in full, also on rows of zero weight.
    (
        "X-nan-zero-weight",
        _bad(X=lambda X: _with(X, (3, 1), np.nan), sample_weight=_zero_at_3),
        ValueError,
        "Input X contains NaN",
    ),
    (
        "X-inf-zero-weight",
        _bad(X=lambda X: _with(X, (3, 1), np.inf), sample_weight=_zero_at_3),
        ValueError,
        "Input X contains infinity",
    ),
    (
        "weight-nan",
        _bad(sample_weight=lambda X: _with(ONES, 2, np.nan)),
        ValueError,
        "Input sample_weight contains NaN",
    ),
    (
        "weight-inf",
        _bad(sample_weight=lambda X: _with(ONES, 2, np.inf)),
        ValueError,
        "Input sample_weight contains infinity",
    ),
    # Sample weights.
    (
        "weight-negative",
        _bad(sample_weight=lambda X: _with(ONES, 0, -1.0)),
        ValueError,
        "Negative values in data passed to `sample_weight`",
    ),
    (
        "weight-all-negative",
        _bad(sample_weight=lambda X: -ONES),
        ValueError,
        "Negative values in data passed to `sample_weight`",
    ),
    (
        "weight-all-zero",
        _bad(sample_weight=lambda X: np.zeros(50)),
        ValueError,
        "sample_weight must contain at least one positive weight",
    ),
    (
        "weight-wrong-length",
        _bad(sample_weight=lambda X: np.ones(3)),
        ValueError,
        r"sample_weight.shape == \(3,\), expected \(50,\)",
    ),
    (
        "weight-2d",
        _bad(sample_weight=lambda X: np.ones((50, 1))),
        ValueError,
        "Sample weights must be 1D array or scalar, got 2D array",
    ),
    (
        "weight-strings",
        _bad(sample_weight=lambda X: np.full(50, "1")),
        ValueError,
        r"sample_weight holds strings \(dtype <U1\)",
    ),
    (
        "weight-complex",
        _bad(sample_weight=lambda X: ONES + 1j),
        ValueError,
        "Complex data not supported",
    ),
    # Shapes.
    (
        "X-no-features",
        _bad(X=lambda X: X[:, :0]),
        ValueError,
        r"Found array with 0 feature\(s\) \(shape=\(50, 0\)\) while a minimum of 1",
    ),
    (
        "X-1d",
        _bad(X=lambda X: X[:, 0]),
        ValueError,
        "Expected 2D array, got 1D array instead",
    ),
    (
        "X-3d",
        _bad(X=lambda X: X.reshape(50, 3, 4)),
        ValueError,
        "Found array with dim 3, while dim <= 2 is required",
    ),
    (
        "X-3d-trailing-axis",
        _bad(X=lambda X: X[:, :, None]),
        ValueError,
        "Found array with dim 3, while dim <= 2 is required",
    ),
    (
        "y-too-short",
        _bad(y=lambda y: y[:10]),
        ValueError,
        r"inconsistent numbers of samples: \[50, 10\]",
    ),
    (
        "y-one-short",
        _bad(y=lambda y: y[:-1]),
        ValueError,
        r"inconsistent numbers of samples: \[50, 49\]",
    ),
    (
        "y-3d",
        _bad(y=lambda y: y[:, None, None]),
        ValueError,
        r"Found array with dim 3",
    ),
    (
        "y-scalar",
        _bad(y=lambda y: 1.0),
        ValueError,
        r"y should be a 1d array, got an array of shape \(\) instead",
    ),
    (
        "y-none",
        _bad(y=lambda y: None),
        ValueError,
        "requires y to be passed, but the target y is None",
    ),
    # Types.
    ("X-complex", _bad(X=lambda X: X + 1j), ValueError, "Complex data not supported"),
    (
        "X-complex-zero-imag",
        _bad(X=lambda X: X.astype(complex)),
        ValueError,
        "Complex data not supported",
    ),
    ("y-complex", _bad(y=lambda y: y + 1j), ValueError, "Complex data not supported"),
    (
        "X-strings",
        _bad(X=lambda X: np.full(X.shape, "a")),
        ValueError,
        r"X holds strings \(dtype <U1\); DeepTDRegressor needs numeric input",
    ),
    (
        "X-numeric-strings",
        _bad(X=lambda X: X.astype(str)),
        ValueError,
        r"X holds strings \(dtype <U\d+\)",
    ),
    (
        "X-object-strings",
        _bad(X=lambda X: _with(X.astype(object), (1, 1), "a")),
        ValueError,
        r"X holds strings \(dtype object\)",
    ),
    (
        "X-frame-string-column",
        _bad(X=lambda X: pd.DataFrame(X).assign(city="Paris")),
        ValueError,
        "X column 'city' holds strings",
    ),
    (
        "X-object-none",
        _bad(X=lambda X: _with(X.astype(object), (1, 1), None)),
        ValueError,
        "Input X contains NaN",
    ),
    (
        "y-strings",
        _bad(y=lambda y: np.array(["a", "b"] * 25)),
        ValueError,
        r"y holds strings \(dtype <U1\)",
    ),
    (
        "y-numeric-strings",
        _bad(y=lambda y: y.astype(str)),
        ValueError,
        r"y holds strings \(dtype <U\d+\)",
    ),
    (
        "y-object-strings",
        _bad(y=lambda y: y.astype(str).astype(object)),
        ValueError,
        r"y holds strings \(dtype object\)",
    ),
    (
        "X-sparse",
        _bad(X=sp.csr_matrix),
        TypeError,
        "Sparse data was passed for X, but dense data is required",
    ),
    (
        "y-sparse",
        _bad(y=lambda y: sp.csr_matrix(y[:, None])),
        TypeError,
        "Sparse data was passed for y, but dense data is required",
    ),
    # Kernel sizes.
    (
        "kernel-sizes-product",
        _bad(kernel_sizes=(4, 4)),
        ValueError,
        r"kernel_sizes \(4, 4\) multiply to 16, but X has 12 features",
    ),
    (
        "kernel-sizes-product-too-small",
        _bad(kernel_sizes=(3, 3)),
        ValueError,
        r"kernel_sizes \(3, 3\) multiply to 9, but X has 12 features",
    ),
    (
        "kernel-sizes-product-deep",
        _bad(kernel_sizes=(2, 2, 2, 2)),
        ValueError,
        r"kernel_sizes \(2, 2, 2, 2\) multiply to 16, but X has 12 features",
    ),
    (
        "kernel-sizes-zero",
        _bad(kernel_sizes=(3, 0, 4)),
        ValueError,
        r"kernel_sizes must be positive; got 0 in \(3, 0, 4\)",
    ),
    (
        "kernel-sizes-negative",
        _bad(kernel_sizes=(-3, -4)),
        ValueError,
        r"kernel_sizes must be positive; got -3",
    ),
    (
        "kernel-sizes-float",
        _bad(kernel_sizes=(3, 4.0)),
        ValueError,
        "kernel_sizes must contain only integers; got 4.0",
    ),
    (
        "kernel-sizes-float-array",
        _bad(kernel_sizes=np.array([3.0, 4.0])),
        ValueError,
        "kernel_sizes must contain only integers; got np.float64",
    ),
    (
        "kernel-sizes-bool",
        _bad(kernel_sizes=(True, 12)),
        ValueError,
        "kernel_sizes must contain only integers; got True",
    ),
    (
        "kernel-sizes-numpy-bool",
        _bad(kernel_sizes=[np.True_, 12]),
        ValueError,
        "kernel_sizes must contain only integers; got np.True_",
    ),
    (
        "kernel-sizes-none-entry",
        _bad(kernel_sizes=[None, 12]),
        ValueError,
        "kernel_sizes must contain only integers; got None",
    ),
    (
        "kernel-sizes-nested",
        _bad(kernel_sizes=[[3, 2], 2]),
        ValueError,
        r"kernel_sizes must contain only integers; got \[3, 2\]",
    ),
    (
        "kernel-sizes-empty",
        _bad(kernel_sizes=()),
        ValueError,
        "kernel_sizes must contain at least one kernel size",
    ),
    (
        "kernel-sizes-set",
        _bad(kernel_sizes={3, 4}),
        ValueError,
        "kernel_sizes must be an ordered sequence .* got a set",
    ),
    (
        "kernel-sizes-int",
        _bad(kernel_sizes=12),
        InvalidParameterError,
        "'kernel_sizes' parameter of DeepTDRegressor must be None or an array-like",
    ),
    (
        "kernel-sizes-string",
        _bad(kernel_sizes="3,4"),
        InvalidParameterError,
        "'kernel_sizes' parameter .* array-like. Got '3,4' instead",
    ),
    # Activations.
    (
        "activation-tuple-short",
        _bad(kernel_sizes=(3, 2, 2), activation=("relu",)),
        ValueError,
        r"activation has 1 entries but the network has 2 hidden layer\(s\)",
    ),
    (
        "activation-tuple-long",
        _bad(kernel_sizes=(3, 2, 2), activation=("relu", "tanh", "relu")),
        ValueError,
        r"activation has 3 entries but the network has 2 hidden layer\(s\)",
    ),
    (
        "activation-tuple-empty",
        _bad(kernel_sizes=(3, 2, 2), activation=()),
        ValueError,
        r"activation has 0 entries but the network has 2 hidden layer\(s\)",
    ),
    (
        "activation-tuple-one-layer",
        _bad(kernel_sizes=(12,), activation=("relu",)),
        ValueError,
        r"activation has 1 entries but the network has 0 hidden layer\(s\)",
    ),
    (
        "activation-list-short",
        _bad(kernel_sizes=(3, 2, 2), activation=["tanh"]),
        ValueError,
        r"activation has 1 entries but the network has 2 hidden layer\(s\)",
    ),
    (
        "activation-unknown-in-tuple",
        _bad(kernel_sizes=(3, 2, 2), activation=("relu", "swish")),
        ValueError,
        r"Unknown activation 'swish' in activation\[1\]",
    ),
    (
        "activation-not-a-name",
        _bad(kernel_sizes=(3, 2, 2), activation=("relu", 3)),
        ValueError,
        r"Unknown activation 3 in activation\[1\]",
    ),
    (
        "activation-unknown",
        _bad(activation="swish"),
        InvalidParameterError,
        "'activation' parameter of DeepTDRegressor must be",
    ),
    (
        "output-activation-unknown",
        _bad(output_activation="gelu"),
        InvalidParameterError,
        "'output_activation' parameter of DeepTDRegressor",
    ),
    # Other parameters.
    (
        "rank-zero",
        _bad(rank=0),
        InvalidParameterError,
        r"'rank' parameter of DeepTDRegressor must be an int in the range \[1, inf\)",
    ),
    (
        "rank-float",
        _bad(rank=1.0),
        InvalidParameterError,
        "'rank' parameter of DeepTDRegressor must be an int",
    ),
    (
        "max-iter-zero",
        _bad(max_iter=0),
        InvalidParameterError,
        "'max_iter' parameter of DeepTDRegressor must be an int",
    ),
    (
        "tol-negative",
        _bad(tol=-1.0),
        InvalidParameterError,
        r"'tol' parameter of DeepTDRegressor must be a float in the range \[0.0, inf\)",
    ),
    (
        "tol-nan",
        _bad(tol=np.nan),
        InvalidParameterError,
        "'tol' parameter of DeepTDRegressor .* Got nan instead",
    ),
    (
        "refine-samples-one",
        _bad(refine_samples=1),
        InvalidParameterError,
        "'refine_samples' parameter of DeepTDRegressor must be an int in the range",
    ),
    # Defect 11: True is an Integral, so rank=True ended in a numpy TypeError
    # and max_iter=True or n_init=True ran as 1.
    *[
        (
            f"{name}-bool",
            _bad(**{name: True}),
            InvalidParameterError,
            f"'{name}' parameter of DeepTDRegressor must be .* Got True instead",
        )
        for name in ("rank", "max_iter", "n_init", "tol", "refine_samples")
    ],
    (
        "center-string",
        _bad(center="yes"),
        InvalidParameterError,
        "'center' parameter of DeepTDRegressor must be an instance of 'bool'",
    ),
    (
        "refine-int",
        _bad(refine=2),
        InvalidParameterError,
        "'refine' parameter of DeepTDRegressor must be an instance of 'bool'",
    ),
    (
        "init-unknown",
        _bad(init="zeros"),
        InvalidParameterError,
        "'init' parameter of DeepTDRegressor must be a str among",
    ),
    (
        "random-state-string",
        _bad(random_state="seed"),
        InvalidParameterError,
        "'random_state' parameter of DeepTDRegressor must be",
    ),
]


# Cases of one entry point only: fit needs two samples, while a batch of a
# stream may have one row (and an empty batch is refused with a minimum of 1).
FIT_ONLY_CASES = [
    (
        "X-empty",
        _bad(X=lambda X: X[:0], y=lambda y: y[:0]),
        ValueError,
        r"Found array with 0 sample\(s\) \(shape=\(0, 12\)\) while a minimum of 2",
    ),
    (
        "X-one-sample",
        _bad(X=lambda X: X[:1], y=lambda y: y[:1]),
        ValueError,
        r"Found array with 1 sample\(s\) .* while a minimum of 2 is required",
    ),
]

PARTIAL_FIT_ONLY_CASES = [
    (
        "X-empty",
        _bad(X=lambda X: X[:0], y=lambda y: y[:0]),
        ValueError,
        r"Found array with 0 sample\(s\) \(shape=\(0, 12\)\) while a minimum of 1",
    ),
    # A later batch of a stream.
    (
        "X-inf-later-batch",
        _bad(X=lambda X: _with(X, (3, 1), np.inf), after_batch=True),
        ValueError,
        "Input X contains infinity",
    ),
    (
        "fewer-features-later-batch",
        _bad(X=lambda X: X[:, :6], after_batch=True),
        ValueError,
        "X has 6 features, but DeepTDRegressor is expecting 12 features",
    ),
]

ONE_ENTRY_POINT_CASES = [("fit", case) for case in FIT_ONLY_CASES] + [
    ("partial_fit", case) for case in PARTIAL_FIT_ONLY_CASES
]


def _check_rejected(method, data, call, error, message):
    X, y = data
    with pytest.raises(error, match=message) as info:
        call(method, X, y)
    # The exact type, not a subclass that happens to match.
    assert type(info.value) is error


@pytest.mark.parametrize(
    "call, error, message",
    [case[1:] for case in TRAINING_CASES],
    ids=[case[0] for case in TRAINING_CASES],
)
@pytest.mark.parametrize("method", ENTRY_POINTS)
def test_fit_and_partial_fit_reject_bad_input(data, method, call, error, message):
    _check_rejected(method, data, call, error, message)


@pytest.mark.parametrize(
    "method, call, error, message",
    [(method, *case[1:]) for method, case in ONE_ENTRY_POINT_CASES],
    ids=[f"{method}-{case[0]}" for method, case in ONE_ENTRY_POINT_CASES],
)
def test_one_entry_point_rejects_bad_input(data, method, call, error, message):
    _check_rejected(method, data, call, error, message)


PREDICT_CASES = [
    (
        "fewer-features",
        lambda X: X[:, :10],
        ValueError,
        "X has 10 features, but DeepTDRegressor is expecting 12 features",
    ),
    (
        "more-features",
        lambda X: np.c_[X, X],
        ValueError,
        "X has 24 features, but DeepTDRegressor is expecting 12 features",
    ),
    ("nan", lambda X: _with(X, (0, 0), np.nan), ValueError, "Input X contains NaN"),
    (
        "inf",
        lambda X: _with(X, (0, 0), np.inf),
        ValueError,
        "Input X contains infinity",
    ),
    ("1d", lambda X: X[0], ValueError, "Expected 2D array, got 1D array instead"),
    (
        "3d",
        lambda X: X.reshape(50, 3, 4),
        ValueError,
        "Found array with dim 3, while dim <= 2 is required",
    ),
    (
        "empty",
        lambda X: X[:0],
        ValueError,
        r"Found array with 0 sample\(s\) \(shape=\(0, 12\)\) while a minimum of 1",
    ),
    ("complex", lambda X: X + 1j, ValueError, "Complex data not supported"),
    ("strings", lambda X: X.astype(str), ValueError, r"X holds strings \(dtype <U"),
    (
        "sparse",
        sp.csr_matrix,
        TypeError,
        "Sparse data was passed for X, but dense data is required",
    ),
]


@pytest.mark.parametrize(
    "transform, error, message",
    [case[1:] for case in PREDICT_CASES],
    ids=[case[0] for case in PREDICT_CASES],
)
def test_predict_rejects_bad_input(data, fitted, transform, error, message):
    X, _ = data
    with pytest.raises(error, match=message) as info:
        fitted.predict(transform(X))
    assert type(info.value) is error


FEATURE_NAME_CASES = [
    (
        "renamed",
        lambda frame: frame.rename(columns={"x0": "z"}),
        "Feature names unseen at fit time:\n- z",
    ),
    (
        "reordered",
        lambda frame: frame[frame.columns[::-1]],
        "Feature names must be in the same order as they were in fit",
    ),
    (
        "missing",
        lambda frame: frame.drop(columns="x3"),
        "Feature names seen at fit time, yet now missing:\n- x3",
    ),
]


@pytest.mark.parametrize(
    "transform, message",
    [case[1:] for case in FEATURE_NAME_CASES],
    ids=[case[0] for case in FEATURE_NAME_CASES],
)
def test_predict_rejects_other_feature_names(fitted_on_frame, transform, message):
    model, frame = fitted_on_frame
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        model.predict(transform(frame))
    assert type(info.value) is ValueError


def test_predict_before_fit(data):
    X, _ = data
    with pytest.raises(NotFittedError, match="instance is not fitted yet"):
        DeepTDRegressor().predict(X)


def test_battery_size():
    # The issue asks for at least 40 distinct bad-input cases.
    n_cases = (
        len(TRAINING_CASES)
        + len(FIT_ONLY_CASES)
        + len(PARTIAL_FIT_ONLY_CASES)
        + len(PREDICT_CASES)
        + len(FEATURE_NAME_CASES)
        + 1
    )
    assert n_cases >= 40
    # Each table names its cases once, and a case of one entry point only is
    # not also in the table of every entry point (it would run twice there).
    for table in (TRAINING_CASES, FIT_ONLY_CASES, PARTIAL_FIT_ONLY_CASES):
        assert len({case[0] for case in table}) == len(table)
    shared = {case[0] for case in TRAINING_CASES}
    assert not shared & {case[0] for case in FIT_ONLY_CASES}
    assert not shared & {case[0] for case in PARTIAL_FIT_ONLY_CASES}
    # The (entry point, case) pairs that run. Raise these numbers when a case
    # is added; a lower count means a case was lost. The split of the two
    # former per-entry-point tables kept all 75 fit and 16 partial_fit cases.
    runs = {
        method: len(TRAINING_CASES) + len(only)
        for method, only in (
            ("fit", FIT_ONLY_CASES),
            ("partial_fit", PARTIAL_FIT_ONLY_CASES),
        )
    }
    assert runs == {"fit": 80, "partial_fit": 81}
