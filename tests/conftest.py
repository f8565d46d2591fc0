"""Fixtures shared by several test files."""

import pytest

from sklearn_deeptd import PlantedCNNDataset


@pytest.fixture(scope="module")
def planted_data():
    """A planted (4, 4, 4) ReLU network and 400 of its samples."""
    planted = PlantedCNNDataset((4, 4, 4), random_state=0)
    X, y = planted.sample(400, random_state=1)
    return planted, X, y
