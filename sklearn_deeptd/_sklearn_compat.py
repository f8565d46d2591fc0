"""scikit-learn's private helpers this package relies on, imported in one place.

scikit-learn keeps its array API helpers, its parameter constraints, the
fit context and a few validation functions in private modules or under
private names; they may move between releases. Every module of this package
imports them from here, under public names, so that such a move is mended
in this file alone.
"""

from sklearn.base import _fit_context as fit_context
from sklearn.utils._array_api import _convert_to_numpy as convert_to_numpy
from sklearn.utils._array_api import _is_numpy_namespace as is_numpy_namespace
from sklearn.utils._array_api import (
    _max_precision_float_dtype as max_precision_float_dtype,
)
from sklearn.utils._array_api import (
    check_same_namespace,
    get_namespace,
    get_namespace_and_device,
    move_to,
)
from sklearn.utils._array_api import device as array_device
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import _check_feature_names as check_feature_names
from sklearn.utils.validation import _check_n_features as check_n_features
from sklearn.utils.validation import _check_sample_weight as check_sample_weight
from sklearn.utils.validation import _check_y as check_y

__all__ = [
    "Interval",
    "StrOptions",
    "array_device",
    "check_feature_names",
    "check_n_features",
    "check_same_namespace",
    "check_sample_weight",
    "check_y",
    "convert_to_numpy",
    "fit_context",
    "get_namespace",
    "get_namespace_and_device",
    "is_numpy_namespace",
    "max_precision_float_dtype",
    "move_to",
    "validate_parameter_constraints",
]
