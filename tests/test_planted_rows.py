"""Rows of planted data: in memory, as frames and as lazy dask chunks."""

import numpy as np
import pandas as pd
import pytest

from sklearn_deeptd._activations import resolve_activations
from sklearn_deeptd._planted_rows import PlantedRows, as_frames, draw_rows, lazy_rows
from sklearn_deeptd._planting import plant_network


def _plant(**kwargs):
    activations = resolve_activations("relu", "identity", 2)
    return plant_network((3, 2), activations, 2, np.random.RandomState(0), **kwargs)


def test_rows_come_from_the_stream_alone():
    network = _plant(noise=0.1)
    first = draw_rows(np.random.RandomState(3), 10, network)
    second = draw_rows(np.random.RandomState(3), 10, network)
    assert isinstance(first, PlantedRows) and first.X.shape == (10, 6)
    np.testing.assert_array_equal(first.X, second.X)
    np.testing.assert_array_equal(first.y, second.y)


def test_threshold_labels_draw_only_the_inputs():
    network = _plant(labels="threshold", n_classes=3, temperature=0.15)
    labelled = draw_rows(np.random.RandomState(3), 50, network)
    regression = draw_rows(np.random.RandomState(3), 50, _plant())
    np.testing.assert_array_equal(labelled.X, regression.X)
    assert labelled.y.dtype == np.int64 and labelled.y.max() <= 2


def test_as_frames_names_the_columns():
    network = _plant(n_targets=2)
    frames = as_frames(draw_rows(np.random.RandomState(0), 4, network))
    assert list(frames.X.columns) == [f"x{i}" for i in range(6)]
    assert isinstance(frames.y, pd.DataFrame) and list(frames.y.columns) == [
        "y0",
        "y1",
    ]
    series = as_frames(draw_rows(np.random.RandomState(0), 4, _plant())).y
    assert isinstance(series, pd.Series) and series.name == "y"


def test_each_lazy_chunk_is_drawn_from_its_own_seed():
    pytest.importorskip("dask.array")
    network = _plant(labels="logistic", n_classes=3, temperature=0.15)
    lazy = lazy_rows(np.random.RandomState(5), 25, 10, network)
    assert lazy.X.chunks[0] == (10, 10, 5) and lazy.y.dtype == np.int64
    base_seed = np.random.RandomState(5).randint(2**31 - 1)
    last = draw_rows(np.random.RandomState([base_seed, 2]), 5, network)
    np.testing.assert_array_equal(lazy.X[20:].compute(), last.X)
    np.testing.assert_array_equal(lazy.y[20:].compute(), last.y)
