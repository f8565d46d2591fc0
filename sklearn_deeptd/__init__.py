"""sklearn-deeptd: learn every kernel of a deep convolutional network at once by DeepTD.

DeepTD (Oymak and Soltanolkotabi, 2018) estimates all kernels of a deep CNN on
non-overlapping patches from a single tensor decomposition of the data moment
``mean((y - mean y) * X(x))``.
"""

from ._classifier import DeepTDClassifier
from ._datasets import PlantedCNNDataset, make_planted_cnn
from ._estimator import DeepTDRegressor
from ._metrics import kernel_correlation

__version__ = "0.1.0"

__all__ = [
    "DeepTDClassifier",
    "DeepTDRegressor",
    "PlantedCNNDataset",
    "kernel_correlation",
    "make_planted_cnn",
    "__version__",
]
