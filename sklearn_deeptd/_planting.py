"""Planted networks: Gaussian kernels, output weights and a label head.

A candidate network is redrawn until it is operational on Gaussian probe
inputs; the result is one frozen :class:`PlantedNetwork`, which also knows
how its class labels follow its outputs.
"""

from dataclasses import dataclass, replace

import numpy as np
from scipy.special import expit, softmax
from sklearn.utils import check_array

from ._activations import resolve_activations
from ._label_balance import MIN_BALANCE_TEMPERATURE, balanced_offsets, pairwise_scale
from ._network import forward
from ._validation import check_kernel_sizes

# The ways labels follow the standardised output; the default temperature
# gives binary labels a Bayes accuracy of about 0.90 (see the User Guide).
LABELS = ("logistic", "threshold")
DEFAULT_TEMPERATURE = 0.15

# A planted network is checked on this many Gaussian inputs before it is kept,
# drawn and evaluated this many at a time (memory of about 16 MB at 2^16 features).
_PROBE_SAMPLES = 1000
_PROBE_BLOCK_ROWS = 32
_MAX_REDRAWS = 100
_BRANCH_WEIGHT_RANGE = (0.5, 1.5)

# Activations whose outputs are never negative, and those that are zero on
# every non-positive input: a ReLU layer whose kernel has no positive entry,
# fed by a layer of the first kind, outputs zero on every input.
_NON_NEGATIVE_OUTPUTS = frozenset({"relu", "sigmoid", "softplus"})
_ZERO_ON_NEGATIVE_INPUTS = frozenset({"relu"})


# Compared by identity: its arrays have no truth value to compare fields by.
@dataclass(frozen=True, eq=False)
class PlantedNetwork:
    """A planted network and, for label data, the law of its labels.

    Parameters
    ----------
    kernels : tuple of ndarray of shape (rank, d_l)
        Unit-norm kernels, input layer first, one row per branch.
    weights : ndarray of shape (rank,) or (rank, n_columns)
        Output weights, one column per target (or class, for more than two
        classes) when 2-D.
    activations : tuple of Activation
        One per layer, output layer last.
    noise : float
        Standard deviation of the Gaussian noise of regression targets, as a
        fraction of `label_std`.
    label_std : float or ndarray of shape (n_columns,)
        Standard deviation of the noiseless outputs (of each column) on the
        probe inputs.
    labels : {None, "logistic", "threshold"}, default=None
        How class labels follow the standardised output; ``None`` for
        regression targets.
    temperature : float or None, default=None
        Temperature of logistic labels, relative to the standardised output.
    offset : float, ndarray of shape (n_classes,) or None, default=None
        Offset of the standardised output: the median output for two
        classes, the offsets that balance the classes for more.
    scale : float or None, default=None
        Scale of the standardised output: the standard deviation of the
        output for two classes, the pairwise scale of the logits for more.
    bayes_accuracy : float or None, default=None
        Accuracy of the most probable class on the probe inputs.
    """

    kernels: tuple
    weights: np.ndarray
    activations: tuple
    noise: float
    label_std: float | np.ndarray
    labels: str | None = None
    temperature: float | None = None
    offset: float | np.ndarray | None = None
    scale: float | None = None
    bayes_accuracy: float | None = None

    @property
    def n_features(self):
        """Number of input features, the product of the kernel sizes."""
        return int(np.prod([kernel.shape[1] for kernel in self.kernels]))

    def with_labels(self, what):
        """The network itself, refusing ``what`` on regression targets.

        Parameters
        ----------
        what : str
            The attribute or method asked for, named in the error.

        Returns
        -------
        network : PlantedNetwork
        """
        if self.labels is None:
            raise AttributeError(
                f"{what} is only defined for label datasets (labels='logistic' "
                "or 'threshold'); this one plants regression targets."
            )
        return self

    def outputs(self, X):
        """The noiseless outputs ``forward(X) @ weights`` of inputs ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        outputs : ndarray of shape (n_samples,) or (n_samples, n_columns)
        """
        X = check_array(X, dtype=np.float64, order="C")
        if X.shape[1] != self.n_features:
            raise ValueError(
                f"X has {X.shape[1]} features, but the planted network takes "
                f"{self.n_features}."
            )
        return forward(X, self.kernels, self.activations) @ self.weights

    def decision(self, outputs):
        """The standardised output ``(outputs - offset) / scale``.

        Parameters
        ----------
        outputs : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Noiseless outputs of the network.

        Returns
        -------
        decision : ndarray of shape (n_samples,) or (n_samples, n_classes)
            One value a row for two classes, one logit a class for more.
        """
        return (outputs - self.offset) / self.scale

    def class_probabilities(self, decision):
        """``P(y = c | x)`` of every class.

        Parameters
        ----------
        decision : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Standardised outputs (see :meth:`decision`).

        Returns
        -------
        probabilities : ndarray of shape (n_samples, n_classes)
            Logistic labels: the sigmoid (two classes) or softmax of
            ``decision / temperature``. Threshold labels: 1 for the most
            probable class, 0 for the others.
        """
        if self.labels == "threshold":
            n_classes = 2 if decision.ndim == 1 else decision.shape[1]
            return np.eye(n_classes)[bayes_labels(decision)]
        if decision.ndim == 1:
            positive = expit(decision / self.temperature)
            return np.column_stack([1.0 - positive, positive])
        return softmax(decision / self.temperature, axis=1)


def bayes_labels(decision):
    """The most probable class: ``1{z > 0}`` for two classes, the argmax else.

    Parameters
    ----------
    decision : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Standardised outputs ``z`` (see :meth:`PlantedNetwork.decision`).

    Returns
    -------
    labels : ndarray of shape (n_samples,)
        Classes ``0, ..., n_classes - 1``, as int64.
    """
    if decision.ndim == 1:
        return (decision > 0).astype(np.int64)
    return np.argmax(decision, axis=1).astype(np.int64)


def _certainly_dead(kernel_row, layer, activations):
    return (
        layer > 0
        and activations[layer].name in _ZERO_ON_NEGATIVE_INPUTS
        and activations[layer - 1].name in _NON_NEGATIVE_OUTPUTS
        and not np.any(kernel_row > 0)
    )


def _planted_kernels(kernel_sizes, rank, activations, rng):
    """Unit-norm Gaussian kernels, each redrawn at once while it would kill its
    branch whatever the other kernels are (see :func:`_certainly_dead`).

    The kernels are independent and the network is rejected anyway when such
    a kernel occurs, so redrawing the kernel alone samples the same law as
    redrawing the whole network, without the ``(4/3)^D`` expected draws of
    networks of kernels of size 2. Draws without such a kernel take the
    stream of :func:`random_unit_kernels`.
    """
    kernels = []
    for layer, size in enumerate(kernel_sizes):
        kernel = rng.standard_normal((rank, size))
        for row in range(rank):
            while _certainly_dead(kernel[row], layer, activations):
                kernel[row] = rng.standard_normal(size)
        kernels.append(kernel / np.linalg.norm(kernel, axis=1, keepdims=True))
    return tuple(kernels)


def _output_weights(rng, rank, n_columns):
    """Output weights of shape ``(rank,)`` for ``n_columns=None``: ones for one
    branch, else uniform on ``_BRANCH_WEIGHT_RANGE``. Of shape ``(rank,
    n_columns)`` otherwise: magnitudes uniform on ``_BRANCH_WEIGHT_RANGE``,
    then independent signs, each + or - with probability 1/2."""
    if n_columns is None:
        if rank == 1:
            return np.ones(1)
        return rng.uniform(*_BRANCH_WEIGHT_RANGE, size=rank)
    magnitudes = rng.uniform(*_BRANCH_WEIGHT_RANGE, size=(rank, n_columns))
    signs = 2.0 * rng.randint(2, size=(rank, n_columns)) - 1.0
    return magnitudes * signs


def _probe_outputs(rng, n_features, kernels, activations):
    """Branch outputs on ``_PROBE_SAMPLES`` Gaussian inputs, drawn in blocks
    (the same numbers as one draw of all of them)."""
    outputs = []
    for start in range(0, _PROBE_SAMPLES, _PROBE_BLOCK_ROWS):
        rows = min(_PROBE_BLOCK_ROWS, _PROBE_SAMPLES - start)
        probe = rng.standard_normal((rows, n_features))
        outputs.append(forward(probe, kernels, activations))
    return np.concatenate(outputs)


def _is_operational(branch_outputs, weights):
    # Every branch must vary (else it is dead and cannot be learned), and the
    # labels must be non-zero on at least half of the inputs (the paper's rule),
    # each target's (each class's logits') when ``weights`` has columns.
    labels = branch_outputs @ weights
    every_branch_varies = bool(np.all(np.std(branch_outputs, axis=0) > 1e-12))
    return every_branch_varies and bool(np.all(np.mean(labels != 0, axis=0) >= 0.5))


def _with_labels(network, outputs, labels, temperature):
    """``network`` with the label head fitted to its ``outputs`` on the probe
    inputs: the median and standard deviation of the output for two classes;
    for more, the pairwise scale of the logits and the offsets (in their
    units) that balance the classes' mean probabilities."""
    if outputs.ndim == 1:
        offset = float(np.median(outputs))
        scale = float(np.std(outputs))
    else:
        scale = pairwise_scale(outputs)
        balance_temperature = max(temperature, MIN_BALANCE_TEMPERATURE)
        offset = scale * balanced_offsets(outputs / scale, balance_temperature)
    network = replace(
        network, labels=labels, temperature=temperature, offset=offset, scale=scale
    )
    probabilities = network.class_probabilities(network.decision(outputs))
    return replace(
        network, bayes_accuracy=float(np.mean(np.max(probabilities, axis=1)))
    )


def _check_combinations(labels, n_classes, n_targets, noise):
    if labels is None and n_classes != 2:
        raise ValueError(
            f"n_classes={n_classes} needs labels='logistic' or "
            "'threshold'; without labels the dataset plants regression targets."
        )
    if labels is not None and n_targets is not None:
        raise ValueError(
            f"labels={labels!r} cannot be combined with "
            f"n_targets={n_targets}: a label dataset has one label per "
            "sample (n_classes sets the number of classes)."
        )
    if labels is not None and noise > 0:
        raise ValueError(
            f"labels={labels!r} cannot be combined with noise={noise}: "
            "noise is for regression targets; logistic labels are as noisy "
            "as temperature makes them."
        )


def plant_network(
    kernel_sizes,
    activations,
    rank,
    rng,
    *,
    n_targets=None,
    labels=None,
    n_classes=2,
    temperature=None,
    noise=0.0,
):
    """Draw an operational network from ``rng``, redrawn until it is one.

    Parameters
    ----------
    kernel_sizes : tuple of int
        Kernel size of each layer, input layer first.
    activations : list of Activation
        One per layer, output layer last.
    rank : int
        Number of branches.
    rng : RandomState
        Draws the network.
    n_targets : int or None, default=None
        Number of regression targets, ``None`` for 1-D weights.
    labels : {None, "logistic", "threshold"}, default=None
        Plant class labels instead of regression targets.
    n_classes : int, default=2
        Number of classes of a label network.
    temperature : float or None, default=None
        Temperature of logistic labels; needed with ``labels``.
    noise : float, default=0.0
        Label noise of regression targets, relative to their standard
        deviation.

    Returns
    -------
    network : PlantedNetwork
        The planted network: every branch varies on the probe inputs and
        every output column is non-zero on at least half of them.

    Raises
    ------
    ValueError
        When the label and target parameters contradict each other, or no
        draw in ``_MAX_REDRAWS`` is operational.
    """
    _check_combinations(labels, n_classes, n_targets, noise)
    # Two classes share the regression network's 1-D weights; more take one
    # column of weights a class.
    n_columns = n_classes if labels is not None and n_classes > 2 else n_targets
    n_features = int(np.prod(kernel_sizes))
    for _ in range(_MAX_REDRAWS):
        kernels = _planted_kernels(kernel_sizes, rank, activations, rng)
        weights = _output_weights(rng, rank, n_columns)
        branch_outputs = _probe_outputs(rng, n_features, kernels, activations)
        if _is_operational(branch_outputs, weights):
            break
    else:
        raise ValueError(
            f"Could not plant an operational network in {_MAX_REDRAWS} draws "
            f"with kernel_sizes={kernel_sizes} and activations "
            f"{[a.name for a in activations]}: the outputs are constant or "
            "mostly zero. Choose other activations or kernel sizes."
        )
    outputs = branch_outputs @ weights
    label_std = np.std(outputs, axis=0)
    network = PlantedNetwork(
        kernels=kernels,
        weights=weights,
        activations=tuple(activations),
        noise=noise,
        label_std=float(label_std) if label_std.ndim == 0 else label_std,
    )
    if labels is None:
        return network
    return _with_labels(network, outputs, labels, temperature)


def plant_network_of(params, rng):
    """The :class:`PlantedNetwork` of a :class:`PlantedCNNDataset`'s validated
    parameters (``get_params()``), drawn from ``rng``."""
    kernel_sizes = check_kernel_sizes(params["kernel_sizes"], None)
    activations = resolve_activations(
        params["activation"], params["output_activation"], len(kernel_sizes)
    )
    n_targets = params["n_targets"]
    return plant_network(
        kernel_sizes,
        activations,
        int(params["rank"]),
        rng,
        n_targets=None if n_targets is None else int(n_targets),
        labels=params["labels"],
        n_classes=int(params["n_classes"]),
        temperature=float(params["temperature"]),
        noise=float(params["noise"]),
    )
