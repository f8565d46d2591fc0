"""Without the optional extras, the features that need them say which to install."""

import sys

import numpy as np
import pytest

from sklearn_deeptd import PlantedCNNDataset
from sklearn_deeptd._dask import import_dask_array


def test_missing_dask_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.array", None)
    with pytest.raises(ImportError, match=r"sklearn-deeptd\[dask\]"):
        import_dask_array("This feature")
    planted = PlantedCNNDataset(kernel_sizes=(3, 2), random_state=0)
    with pytest.raises(ImportError, match=r"sklearn-deeptd\[dask\]"):
        planted.sample(100, chunks=10)
    # The in-memory path does not need dask.
    X, y = planted.sample(100)
    assert isinstance(X, np.ndarray)
