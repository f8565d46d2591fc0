"""Activation functions of the convolutional network, with their derivatives.

One definition per name, shared by :class:`~sklearn_deeptd.PlantedCNNDataset`
and :class:`~sklearn_deeptd.DeepTDRegressor`, written against the array API:
they run in the namespace, and on the device, of their input (NumPy, or under
array API dispatch CuPy, PyTorch, ...).
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._sklearn_compat import array_device, get_namespace

_LEAKY_RELU_SLOPE = 0.01


@dataclass(frozen=True)
class Activation:
    """An elementwise activation, its derivative and its symmetries.

    ``odd`` means phi(-z) = -phi(z), so two consecutive kernels may flip sign
    together; ``positively_homogeneous`` means phi(c z) = c phi(z) for c > 0, so
    scale moves freely between layers. ``asymptote``, for an activation that is
    not homogeneous but grows like one (softplus), is the homogeneous function
    psi with phi(c z) / c -> psi(z) as c grows: what huge inputs see.
    """

    name: str
    function: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray], np.ndarray]
    odd: bool
    positively_homogeneous: bool
    asymptote: Callable[[np.ndarray], np.ndarray] | None = None


def _namespace(z):
    return get_namespace(z)[0]


def _positive_part(xp, z):
    # max(z, 0) against a 0-D zero: not every namespace's maximum takes a
    # Python scalar, and np.where would be eight times slower in NumPy.
    return xp.maximum(z, xp.zeros((), dtype=z.dtype, device=array_device(z)))


def _relu(z):
    return _positive_part(_namespace(z), z)


def _relu_derivative(z):
    xp = _namespace(z)
    return xp.astype(z > 0, z.dtype)


def _leaky_relu(z):
    return _namespace(z).where(z > 0, z, _LEAKY_RELU_SLOPE * z)


def _leaky_relu_derivative(z):
    xp = _namespace(z)
    return xp.astype(z > 0, z.dtype) * (1.0 - _LEAKY_RELU_SLOPE) + _LEAKY_RELU_SLOPE


def _tanh(z):
    return _namespace(z).tanh(z)


def _tanh_derivative(z):
    # 1 - tanh(z)^2 in place: one array allocated, not three.
    derivative = _namespace(z).tanh(z)
    derivative *= derivative
    derivative *= -1.0
    derivative += 1.0
    return derivative


def _sigmoid(z):
    # exp of -|z| only: never overflows.
    xp = _namespace(z)
    small = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1.0 / (1.0 + small), small / (1.0 + small))


def _sigmoid_derivative(z):
    # s (1 - s) = s - s^2, in place.
    s = _sigmoid(z)
    derivative = s * s
    derivative *= -1.0
    derivative += s
    return derivative


def _softplus(z):
    # log(1 + e^z) = max(z, 0) + log(1 + e^-|z|), without overflow.
    xp = _namespace(z)
    return _positive_part(xp, z) + xp.log1p(xp.exp(-xp.abs(z)))


def _identity(z):
    return z


def _identity_derivative(z):
    return _namespace(z).ones_like(z)


ACTIVATIONS = {
    "relu": Activation("relu", _relu, _relu_derivative, False, True),
    "leaky_relu": Activation(
        "leaky_relu", _leaky_relu, _leaky_relu_derivative, False, True
    ),
    "tanh": Activation("tanh", _tanh, _tanh_derivative, True, False),
    "sigmoid": Activation("sigmoid", _sigmoid, _sigmoid_derivative, False, False),
    "softplus": Activation("softplus", _softplus, _sigmoid, False, False, _relu),
    "identity": Activation("identity", _identity, _identity_derivative, True, True),
}


def resolve_activations(activation, output_activation, n_layers, param="activation"):
    """Return the list of ``n_layers`` :class:`Activation` objects, input layer first.

    ``activation`` is one name for every hidden layer or a tuple/list with one
    name per hidden layer (``n_layers - 1`` of them); the last layer uses
    ``output_activation``.
    """
    if isinstance(activation, str):
        hidden = [activation] * (n_layers - 1)
    else:
        hidden = list(activation)
        if len(hidden) != n_layers - 1:
            raise ValueError(
                f"{param} has {len(hidden)} entries but the network has "
                f"{n_layers - 1} hidden layer(s) ({n_layers} layers in all); give "
                "one activation name per hidden layer, or a single name."
            )
    names = hidden + [output_activation]
    for position, name in enumerate(names):
        if not isinstance(name, str) or name not in ACTIVATIONS:
            where = (
                "output_activation"
                if position == n_layers - 1
                else f"{param}[{position}]"
                if not isinstance(activation, str)
                else param
            )
            raise ValueError(
                f"Unknown activation {name!r} in {where}; expected one of "
                f"{sorted(ACTIVATIONS)}."
            )
    return [ACTIVATIONS[name] for name in names]
