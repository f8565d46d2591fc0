"""DeepTDRegressor in the scikit-learn ecosystem, its documented behaviour, and
degenerate but valid data."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import shuffle

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset, kernel_correlation


def test_pipeline_in_grid_search(planted_data):
    _, X, y = planted_data
    pipeline = Pipeline(
        [
            ("scale", StandardScaler()),
            ("deeptd", DeepTDRegressor(kernel_sizes=(4, 4, 4), random_state=0)),
        ]
    )
    search = GridSearchCV(
        pipeline, {"deeptd__rank": [1, 2], "deeptd__max_iter": [50, 200]}, cv=3
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert set(search.best_params_) == {"deeptd__rank", "deeptd__max_iter"}
    assert search.best_score_ > 0.99
    assert search.best_estimator_.named_steps["deeptd"].kernel_sizes_ == (4, 4, 4)


def test_cross_validate(planted_data):
    _, X, y = planted_data
    scores = cross_validate(
        DeepTDRegressor((4, 4, 4), random_state=0),
        X,
        y,
        cv=4,
        return_estimator=True,
    )
    assert scores["test_score"].min() > 0.99
    assert len(scores["estimator"]) == 4


def test_dataframe_keeps_feature_names():
    planted = PlantedCNNDataset((4, 4), random_state=0)
    X, y = planted.sample(200, random_state=1, as_frame=True)
    model = DeepTDRegressor(random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.feature_names_in_, X.columns)
    assert isinstance(X, pd.DataFrame)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_array = model.predict(X.to_numpy())
    np.testing.assert_array_equal(model.predict(X), from_array)


@pytest.mark.parametrize("rank", [1, 2])
def test_same_random_state_gives_bit_identical_fits(planted_data, rank):
    _, X, y = planted_data
    params = {"kernel_sizes": (4, 4, 4), "rank": rank, "random_state": 3}
    first = DeepTDRegressor(**params).fit(X, y)
    second = DeepTDRegressor(**params).fit(X, y)
    restored = pickle.loads(pickle.dumps(first))
    # Refitting the unpickled estimator reproduces the fit too.
    refitted = pickle.loads(pickle.dumps(DeepTDRegressor(**params))).fit(X, y)
    for other in (second, restored, refitted):
        arrays = zip(
            [*first.kernels_, *first.td_kernels_, first.weights_],
            [*other.kernels_, *other.td_kernels_, other.weights_],
        )
        for a, b in arrays:
            assert a.tobytes() == b.tobytes()
        assert other.intercept_ == first.intercept_
    assert first.predict(X).tobytes() == restored.predict(X).tobytes()


def test_fitted_attributes(planted_data):
    planted, X, y = planted_data
    model = DeepTDRegressor(rank=2, random_state=0).fit(X, y)
    assert model.kernel_sizes_ == (4, 4, 4)
    assert model.activations_ == ("relu", "relu", "identity")
    assert [k.shape for k in model.kernels_] == [(2, 4)] * 3
    assert [k.shape for k in model.td_kernels_] == [(2, 4)] * 3
    for kernel in model.td_kernels_:
        np.testing.assert_allclose(np.linalg.norm(kernel, axis=1), 1.0)
    assert model.weights_.shape == (2,)
    assert isinstance(model.intercept_, float)
    assert model.n_iter_ >= 1 and model.n_features_in_ == 64


def test_naive_td_is_the_uncentred_moment():
    # A ReLU network has a large mean output, which NaiveTD does not remove.
    planted = PlantedCNNDataset((6, 6), random_state=2)
    X, y = planted.sample(300, random_state=3)
    y = y + 5.0
    deeptd = DeepTDRegressor((6, 6), refine=False, random_state=0).fit(X, y)
    naive = DeepTDRegressor((6, 6), refine=False, center=False, random_state=0)
    naive.fit(X, y)
    assert not np.allclose(deeptd.td_kernels_[0], naive.td_kernels_[0])
    assert (
        kernel_correlation(planted.kernels_, deeptd.kernels_).mean()
        > kernel_correlation(planted.kernels_, naive.kernels_).mean()
    )


def test_integer_weights_equal_repeated_rows():
    # With a unique minimiser, weights and repetitions give the same network,
    # refinement included. (test_properties.py holds the same equality for the
    # DeepTD estimate alone, on generated data of every dtype and activation.)
    for activation in ("relu", "tanh", "softplus"):
        planted = PlantedCNNDataset(
            (5, 3, 2), activation=activation, noise=0.3, random_state=0
        )
        X, y = planted.sample(60, random_state=1)
        weights = np.random.RandomState(2).randint(0, 5, 60)
        X_w, y_w, w = shuffle(X, y, weights, random_state=0)
        weighted = DeepTDRegressor(activation=activation, random_state=0).fit(
            X_w, y_w, sample_weight=w
        )
        repeated = DeepTDRegressor(activation=activation, random_state=0).fit(
            np.repeat(X, weights, axis=0), np.repeat(y, weights)
        )
        np.testing.assert_allclose(
            weighted.predict(X), repeated.predict(X), rtol=1e-7, atol=1e-8
        )


def test_verbose_reports_progress(planted_data, capsys):
    _, X, y = planted_data
    DeepTDRegressor((4, 4, 4), verbose=1, random_state=0).fit(X, y)
    output = capsys.readouterr().out
    assert "decomposition" in output and "refinement" in output
    DeepTDRegressor((4, 4, 4), random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("activation", ["tanh", "leaky_relu", "softplus", "sigmoid"])
def test_other_activations_fit_well(activation):
    planted = PlantedCNNDataset((4, 4, 4), activation=activation, random_state=0)
    X, y = planted.sample(600, random_state=1)
    X_test, y_test = planted.sample(500, random_state=2)
    model = DeepTDRegressor(activation=activation, random_state=0).fit(X, y)
    assert model.score(X_test, y_test) > 0.99


def test_per_layer_activations():
    planted = PlantedCNNDataset((4, 4, 4), activation=("tanh", "relu"), random_state=0)
    X, y = planted.sample(600, random_state=1)
    model = DeepTDRegressor(activation=("tanh", "relu"), random_state=0).fit(X, y)
    assert model.activations_ == ("tanh", "relu", "identity")
    assert kernel_correlation(planted.kernels_, model.kernels_).min() > 0.99


@pytest.fixture(scope="module")
def small_data():
    return PlantedCNNDataset((3, 2, 2), random_state=0).sample(200, random_state=1)


def _assert_finite(model, X):
    for kernel in model.kernels_ + model.td_kernels_:
        assert np.all(np.isfinite(kernel))
    assert np.all(np.isfinite(model.weights_)) and np.isfinite(model.intercept_)
    assert np.all(np.isfinite(model.predict(X)))


def test_duplicated_rows(small_data):
    X, y = small_data
    X_dup, y_dup = np.repeat(X[:30], 5, axis=0), np.repeat(y[:30], 5)
    model = DeepTDRegressor((3, 2, 2), random_state=0).fit(X_dup, y_dup)
    _assert_finite(model, X)
    assert model.score(X_dup, y_dup) > 0.99


def test_perfectly_collinear_columns(small_data):
    X, y = small_data
    # Every column is the same feature: a valid, degenerate design.
    X_col = np.repeat(X[:, :1], 12, axis=1)
    y_col = np.maximum(X[:, 0], 0)
    model = DeepTDRegressor((3, 2, 2), random_state=0, max_iter=500)
    model.fit(X_col, y_col)
    _assert_finite(model, X_col)
    assert model.score(X_col, y_col) > 0.99


@pytest.mark.parametrize(
    "activation", ["relu", "leaky_relu", "tanh", "sigmoid", "softplus", "identity"]
)
def test_no_numpy_warnings_in_normal_use(activation):
    # np.errstate(all="raise") also turns underflow, which NumPy ignores by
    # default, into an error.
    planted = PlantedCNNDataset((4, 3, 2), activation=activation, random_state=0)
    X, y = planted.sample(300, random_state=1)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        model = DeepTDRegressor(activation=activation, max_iter=300, random_state=0)
        model.fit(X, y)
        model.predict(X)
        model.score(X, y)


def test_global_random_state_untouched(small_data):
    X, y = small_data
    np.random.seed(12345)
    before = np.random.get_state()
    DeepTDRegressor((3, 2, 2), rank=2, random_state=0).fit(X, y).predict(X)
    DeepTDRegressor((3, 2, 2), init="random", random_state=0).fit(X, y)
    DeepTDRegressor((3, 2, 2), random_state=0).partial_fit(X, y)
    after = np.random.get_state()
    assert before[0] == after[0]
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]


@pytest.mark.parametrize("order", ["C", "F"])
def test_fit_leaves_x_unchanged(small_data, order):
    # Every row of a C-ordered float64 X is the pool itself, divided by the
    # input scale block by block as it is read: X must come back unchanged,
    # and the fit must equal that of a copy of it.
    X, y = small_data
    X = np.asarray(X * 3.0, order=order)
    before = X.copy()
    model = DeepTDRegressor((3, 2, 2), random_state=0).fit(X, y)
    np.testing.assert_array_equal(X, before)
    copy = DeepTDRegressor((3, 2, 2), random_state=0).fit(np.array(X, order=order), y)
    for got, expected in zip(model.kernels_, copy.kernels_):
        np.testing.assert_array_equal(got, expected)
