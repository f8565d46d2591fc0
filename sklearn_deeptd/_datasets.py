"""Planted networks with Gaussian inputs: data to test and benchmark recovery."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.special import expit, log_softmax, logsumexp, softmax
from sklearn.base import BaseEstimator
from sklearn.utils import check_array, check_random_state

from ._activations import ACTIVATIONS, resolve_activations
from ._dask import import_dask_array, normalise_chunks
from ._kernel_sizes import check_kernel_sizes
from ._network import forward, predict_network

# A planted network is checked on this many Gaussian inputs before it is kept,
# drawn and evaluated this many at a time (memory of about 16 MB at 2^16 features).
PROBE_SAMPLES = 1000
PROBE_BLOCK_ROWS = 32
MAX_REDRAWS = 100
BRANCH_WEIGHT_RANGE = (0.5, 1.5)

# Activations whose outputs are never negative, and those that are zero on
# every non-positive input: a ReLU layer whose kernel has no positive entry,
# fed by a layer of the first kind, outputs zero on every input.
NON_NEGATIVE_OUTPUTS = frozenset({"relu", "sigmoid", "softplus"})
ZERO_ON_NEGATIVE_INPUTS = frozenset({"relu"})

# Label datasets: the ways labels follow the standardised output, and the
# default temperature, which gave a Bayes accuracy of about 0.90 (median 0.904
# over random_state 0-19, 0.895-0.92 for 16 of them) for binary logistic labels
# of (8, 8, 8) ReLU networks of rank 1 (see the class docstring).
LABELS = ("logistic", "threshold")
DEFAULT_TEMPERATURE = 0.15
# Multiclass offsets balance the softmax at no lower temperature than this
# (a sharp argmax already: balancing it is a non-smooth problem), by damped
# Newton steps on a convex dual, the temperature halved from 1 down to it.
MIN_BALANCE_TEMPERATURE = 0.01
BALANCE_TOLERANCE = 1e-9
BALANCE_COARSE_TOLERANCE = 1e-2
BALANCE_MAX_STEPS = 100


def _check_n_samples(n_samples):
    if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, Integral):
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    if n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples}.")
    return int(n_samples)


def draw_planted_rows(rng, n_rows, network):
    """Standard Gaussian inputs and their labels, all from ``rng``.

    Regression targets are the planted network's outputs plus
    ``noise * label_std`` times standard Gaussian noise; class labels follow
    the standardised outputs (see :func:`_draw_labels`).

    ``network`` holds ``n_features``, ``kernels``, ``weights`` (one column per
    target or class when 2-D), ``activations`` (:class:`Activation` objects),
    ``noise`` and ``label_std``; label datasets also ``labels``,
    ``temperature``, ``offset`` and ``scale``.
    """
    X = rng.standard_normal((n_rows, network["n_features"]))
    y = predict_network(
        X, network["kernels"], network["weights"], 0.0, network["activations"]
    )
    if network.get("labels") is not None:
        return X, _draw_labels(rng, _decision(y, network), network)
    if network["noise"] > 0:
        y = y + network["noise"] * network["label_std"] * rng.standard_normal(y.shape)
    return X, y


def _decision(outputs, network):
    """The standardised output ``(outputs - offset) / scale``: one column per
    class for more than two classes."""
    return (outputs - network["offset"]) / network["scale"]


def _class_probabilities(decision, network):
    """``P(y = c | x)`` of every class, shape ``(n, n_classes)``."""
    if network["labels"] == "threshold":
        n_classes = 2 if decision.ndim == 1 else decision.shape[1]
        return np.eye(n_classes)[_bayes_labels(decision)]
    if decision.ndim == 1:
        positive = expit(decision / network["temperature"])
        return np.column_stack([1.0 - positive, positive])
    return softmax(decision / network["temperature"], axis=1)


def _bayes_labels(decision):
    """The most probable class: ``1{z > 0}`` for two classes, the argmax else."""
    if decision.ndim == 1:
        return (decision > 0).astype(np.int64)
    return np.argmax(decision, axis=1).astype(np.int64)


def _draw_labels(rng, decision, network):
    """Labels ``0, ..., n_classes - 1``: drawn from the class probabilities
    (one uniform number a row, from ``rng``) or, for threshold labels, the
    most probable class (no draw)."""
    if network["labels"] == "threshold":
        return _bayes_labels(decision)
    uniform = rng.random_sample(decision.shape[0])
    if decision.ndim == 1:
        return (uniform < expit(decision / network["temperature"])).astype(np.int64)
    cumulative = np.cumsum(_class_probabilities(decision, network), axis=1)
    return np.sum(uniform[:, None] >= cumulative[:, :-1], axis=1).astype(np.int64)


def _planted_chunk(n_rows, seed, network):
    """Inputs and labels of one chunk of a planted data set, from its own seed
    (``network`` names its activations, to travel light to the workers)."""
    activations = [ACTIVATIONS[name] for name in network["activations"]]
    network = {**network, "activations": activations}
    return draw_planted_rows(np.random.RandomState(seed), n_rows, network)


def _certainly_dead(kernel_row, layer, activations):
    return (
        layer > 0
        and activations[layer].name in ZERO_ON_NEGATIVE_INPUTS
        and activations[layer - 1].name in NON_NEGATIVE_OUTPUTS
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
    return kernels


def _probe_outputs(rng, n_features, kernels, activations):
    """Branch outputs on ``PROBE_SAMPLES`` Gaussian inputs, drawn in blocks
    (the same numbers as one draw of all of them)."""
    outputs = []
    for start in range(0, PROBE_SAMPLES, PROBE_BLOCK_ROWS):
        rows = min(PROBE_BLOCK_ROWS, PROBE_SAMPLES - start)
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


def _output_weights(rng, rank, n_outputs):
    """Output weights of shape ``(rank, n_outputs)``: magnitudes uniform on
    ``BRANCH_WEIGHT_RANGE``, then independent signs, each + or - with
    probability 1/2."""
    magnitudes = rng.uniform(*BRANCH_WEIGHT_RANGE, size=(rank, n_outputs))
    signs = 2.0 * rng.randint(2, size=(rank, n_outputs)) - 1.0
    return magnitudes * signs


def _pairwise_scale(logits):
    """Root mean variance of the difference of two classes' logits, over the
    pairs of classes: ``sum_{c < c'} (a_c - a_c')^2 = K sum_c (a_c - mean a)^2``
    gives it from the logits centred over the classes."""
    n_classes = logits.shape[1]
    centred = logits - np.mean(logits, axis=1, keepdims=True)
    mean_variance = np.mean(np.var(centred, axis=0))
    return float(np.sqrt(2.0 * n_classes / (n_classes - 1) * mean_variance))


def _balance_dual(logits, offsets, temperature):
    return temperature * np.mean(
        logsumexp((logits - offsets) / temperature, axis=1)
    ) + np.mean(offsets)


def _balanced_offsets(logits, temperature):
    """Offsets ``a`` (summing to zero) with which every class has mean
    probability ``1 / K`` under ``softmax((logits - a) / temperature)``.

    They minimise the convex ``mean_i T logsumexp((logits_i - a) / T) +
    mean(a)``, whose gradient is ``1 / K`` minus the mean probabilities:
    damped Newton steps from the classes' mean logits, at temperatures halved
    from 1 down to ``temperature`` (each solved coarsely but the last), each
    started from the offsets of the one before. Where a Newton step does not
    descend (nearly one-hot probabilities make the Hessian nearly singular),
    a fixed-point step ``a += T log(K * mean probabilities)`` replaces it.
    """
    n_rows, n_classes = logits.shape
    offsets = np.mean(logits, axis=0)
    temperatures = [t for t in 2.0 ** -np.arange(60) if t > temperature]
    for current in [*temperatures, temperature]:
        tolerance = (
            BALANCE_TOLERANCE if current == temperature else BALANCE_COARSE_TOLERANCE
        )
        for _ in range(BALANCE_MAX_STEPS):
            probabilities = softmax((logits - offsets) / current, axis=1)
            mean = np.mean(probabilities, axis=0)
            if np.max(np.abs(n_classes * mean - 1.0)) < tolerance:
                break
            gradient = 1.0 / n_classes - mean
            hessian = (
                np.diag(mean) - probabilities.T @ probabilities / n_rows
            ) / current
            # The Hessian is singular along (1, ..., 1), where the dual is flat.
            step = -np.linalg.lstsq(
                hessian + np.ones((n_classes, n_classes)) / n_classes,
                gradient,
                rcond=None,
            )[0]
            start = _balance_dual(logits, offsets, current)
            length = 1.0
            while (
                _balance_dual(logits, offsets + length * step, current)
                > start + 1e-4 * length * (gradient @ step)
                and length > 1e-3
            ):
                length /= 2
            if length > 1e-3:
                offsets = offsets + length * step
            else:
                log_probabilities = log_softmax((logits - offsets) / current, axis=1)
                log_mean = logsumexp(log_probabilities, axis=0) - np.log(n_rows)
                offsets = offsets + current * (log_mean + np.log(n_classes))
    return offsets - np.mean(offsets)


def _label_head(branch_outputs, weights, labels, temperature):
    """Offset and scale of the standardised output on the probe inputs, and
    the Bayes accuracy there.

    Two classes: the median and the standard deviation of the output. More:
    the offsets that balance the classes' mean probabilities (in the units of
    the logits) and the pairwise scale of the logits.
    """
    outputs = branch_outputs @ weights
    if outputs.ndim == 1:
        offset = float(np.median(outputs))
        scale = float(np.std(outputs))
    else:
        scale = _pairwise_scale(outputs)
        balance_temperature = max(temperature, MIN_BALANCE_TEMPERATURE)
        offset = scale * _balanced_offsets(outputs / scale, balance_temperature)
    head = {
        "labels": labels,
        "temperature": temperature,
        "offset": offset,
        "scale": scale,
    }
    probabilities = _class_probabilities(_decision(outputs, head), head)
    head["bayes_accuracy"] = float(np.mean(np.max(probabilities, axis=1)))
    return head


class PlantedCNNDataset(BaseEstimator):
    """A planted convolutional network on non-overlapping patches, with Gaussian inputs.

    The network is the model :class:`DeepTDRegressor` fits:
    ``f(x) = sum_j weights_[j] * f_j(x)``, where each branch ``f_j`` has one
    kernel per layer; layer ``l`` cuts its input into consecutive blocks of
    ``kernel_sizes[l]`` entries, takes the inner product of each block with the
    kernel and applies its activation. Inputs are standard Gaussian vectors.
    Its outputs are one regression target (the default), several targets
    (``n_targets``), or class labels (``labels``).

    The network is planted the first time it is needed, from ``random_state``,
    and kept until a parameter changes.

    Parameters
    ----------
    kernel_sizes : tuple of int, default=(4, 4, 4)
        Kernel size of each layer, input layer first. The number of features is
        their product.
    activation : str or tuple of str, default="relu"
        Activation of the hidden layers: one name, or one per hidden layer.
        Names (one definition each, shared with :class:`DeepTDRegressor`):
        ``"relu"``, ``"leaky_relu"`` (slope 0.01 for negative inputs),
        ``"tanh"``, ``"sigmoid"``, ``"softplus"``, ``"identity"``.
    output_activation : str, default="identity"
        Activation of the last layer, from the same names.
    rank : int, default=1
        Number of branches, shared by every target or class.
    n_targets : int or None, default=None
        Number of regression targets. ``None`` gives one target and a 1-D ``y``;
        an int ``m`` gives output weights of shape ``(rank, m)`` and ``y`` of
        shape ``(n_samples, m)`` (also for ``m=1``), target ``t`` being
        ``sum_j weights_[j, t] * f_j(x)``.
    labels : {None, "logistic", "threshold"}, default=None
        Plant class labels ``0, ..., n_classes - 1`` instead of regression
        targets. ``"logistic"``: drawn from ``P(y = c | x)``, the sigmoid (two
        classes) or softmax of the standardised output divided by
        ``temperature`` (see :meth:`predict_proba`). ``"threshold"``: the most
        probable class of those probabilities, without randomness (see
        Notes).
    n_classes : int, default=2
        Number of classes, at least 2; only with ``labels``.
    temperature : float, default=0.15
        Temperature of logistic labels, relative to the standardised output:
        lower is less noisy. The default gives a Bayes accuracy of about 0.90
        for two classes of a (8, 8, 8) ReLU network of rank 1 (see Notes and
        `bayes_accuracy_`). Threshold labels of two classes ignore it; those
        of more classes use it to balance the classes.
    noise : float, default=0.0
        Standard deviation of additive Gaussian label noise, as a fraction of
        the standard deviation of the noiseless labels (of each target's).
        Regression targets only: logistic labels are noisy by ``temperature``.
    random_state : int, RandomState instance or None, default=None
        Draws the network, then the samples of successive :meth:`sample` calls
        made without their own ``random_state``.

    Attributes
    ----------
    kernels_ : list of ndarray of shape (rank, d_l)
        Planted kernels, input layer first, each row of unit norm.
    weights_ : ndarray of shape (rank,), (rank, n_targets) or (rank, n_classes)
        Output weights. One target, or two classes: 1.0 for ``rank=1``, else
        drawn uniformly from [0.5, 1.5]. Several targets, or more than two
        classes: magnitudes drawn uniformly from [0.5, 1.5], each with an
        independent random sign, so that every target (class) depends on
        every branch.
    n_features_ : int
        Number of input features, ``prod(kernel_sizes)``.
    label_std_ : float or ndarray of shape (n_targets,) or (n_classes,)
        Standard deviation of the noiseless outputs
        ``forward(X) @ weights_`` (of each column), estimated on the probe
        inputs; ``noise`` is relative to it.
    decision_offset_ : float or ndarray of shape (n_classes,)
        Label datasets: the offset of the standardised output (see
        :meth:`decision_function`).
    decision_scale_ : float
        Label datasets: the scale of the standardised output.
    bayes_accuracy_ : float
        Label datasets: the accuracy of the Bayes classifier (:meth:`predict`)
        on the labels, estimated on the 1000 probe inputs: the mean of the
        largest class probability (1.0 for threshold labels).

    See Also
    --------
    make_planted_cnn : Draw one data set in a single call.
    DeepTDRegressor : Learns the planted kernels back.
    kernel_correlation : Measures the recovery.

    Notes
    -----
    Kernels have independent standard Gaussian entries, normalised to unit
    norm, and only operational networks are kept, as in the paper's
    experiments: the law is that of Gaussian kernels conditioned on the
    network being operational. A planted network is never dead: the candidate
    is evaluated on 1000 Gaussian probe inputs, and it is redrawn (from the
    same random stream, so deterministically) unless every branch's noiseless
    output has non-zero variance on the probe inputs and the noiseless labels
    (each target, each class's logits) are non-zero on at least half of them
    (the "operational" rule of the paper, which only bites when the output
    layer can return exact zeros, e.g. ReLU). A kernel that kills its branch
    whatever the others are (a ReLU layer's kernel without a positive entry,
    fed by ReLU, sigmoid or softplus outputs) is redrawn on its own at once:
    the same conditional law, since such a network is always rejected, but
    without the ``(4/3)^(D-2)`` expected draws that deep ReLU networks with
    kernels of size 2 would take (about 42 at D = 15).
    After 100 failed draws a ``ValueError`` is raised.

    Two classes are planted on the network of the regression dataset with the
    same parameters (the same kernels and weights), whose output ``f`` is
    standardised on the probe inputs: ``z = (f - median) / std``, centred at
    the median so that the classes are balanced, ``P(y = 1 | x) =
    sigmoid(z / temperature)`` and threshold labels are ``1{z > 0}``. A ReLU
    network may output exactly zero on a fraction of the inputs (up to half);
    where that makes the median zero, those inputs have ``z = 0``: a fair
    coin (logistic) or class 0 (threshold).

    More classes have their own output weights, and logits
    ``z = (forward(x) @ weights_ - decision_offset_) / decision_scale_``:
    the scale makes the difference of two classes' logits of unit variance on
    the probe inputs (averaged over pairs of classes, as ``z`` for two
    classes), and the offsets give every class a mean probability of exactly
    ``1 / n_classes`` on the probe inputs under ``softmax(z / T)`` with
    ``T = max(temperature, 0.01)``. Threshold labels ``argmax z`` are then
    balanced roughly (the more so as the temperature is lower); with one
    branch, classes whose weights are close are hard to tell apart.

    Bayes accuracy of two logistic classes of (8, 8, 8) ReLU networks of
    rank 1 (``random_state`` 0 to 19, 200,000 Gaussian inputs each): at the
    default temperature 0.15, median 0.904, between 0.895 and 0.92 for 16 of
    the 20, 0.88, 0.85 and 0.73 twice for the others (the last two output
    exact zeros on 42% of the inputs). Median 0.934 at temperature 0.1, 0.877
    at 0.2, 0.67 at 1 (``random_state`` 0 to 9). More classes are harder at
    the same temperature: three classes at 0.15, median 0.69 with one branch,
    0.83 with three (``random_state`` 0 to 9). `bayes_accuracy_` estimates it
    for any dataset, within 0.01 of those figures.

    Examples
    --------
    >>> from sklearn_deeptd import PlantedCNNDataset
    >>> planted = PlantedCNNDataset(kernel_sizes=(4, 4, 4), random_state=0)
    >>> X, y = planted.sample(100)
    >>> X.shape, y.shape
    ((100, 64), (100,))
    >>> [kernel.shape for kernel in planted.kernels_]
    [(1, 4), (1, 4), (1, 4)]

    Several targets over two shared branches:

    >>> targets = PlantedCNNDataset((4, 4), rank=2, n_targets=3, random_state=0)
    >>> X, Y = targets.sample(100)
    >>> Y.shape, targets.weights_.shape, targets.label_std_.shape
    ((100, 3), (2, 3), (3,))

    Binary labels, and three classes:

    >>> binary = PlantedCNNDataset((4, 4), labels="logistic", random_state=0)
    >>> X, y = binary.sample(1000)
    >>> sorted(set(y.tolist()))
    [0, 1]
    >>> bool(0.8 < binary.bayes_accuracy_ <= 1.0)
    True
    >>> classes = PlantedCNNDataset(
    ...     (4, 4), rank=2, labels="threshold", n_classes=3, random_state=0
    ... )
    >>> X, y = classes.sample(6)
    >>> bool((classes.predict(X) == y).all()), classes.predict_proba(X).shape
    (True, (6, 3))
    """

    def __init__(
        self,
        kernel_sizes=(4, 4, 4),
        *,
        activation="relu",
        output_activation="identity",
        rank=1,
        n_targets=None,
        labels=None,
        n_classes=2,
        temperature=DEFAULT_TEMPERATURE,
        noise=0.0,
        random_state=None,
    ):
        self.kernel_sizes = kernel_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.rank = rank
        self.n_targets = n_targets
        self.labels = labels
        self.n_classes = n_classes
        self.temperature = temperature
        self.noise = noise
        self.random_state = random_state

    def _parameter_key(self):
        # Identity for objects (a RandomState), value for everything else.
        key = []
        for name, value in sorted(self.get_params().items()):
            if isinstance(value, list):
                value = tuple(value)
            hashable = value is None or isinstance(value, (str, Real, tuple))
            key.append((name, value if hashable else id(value)))
        return tuple(key)

    def _validated_parameters(self):
        kernel_sizes = check_kernel_sizes(self.kernel_sizes, None)
        activations = resolve_activations(
            self.activation, self.output_activation, len(kernel_sizes)
        )
        rank = self.rank
        if isinstance(rank, (bool, np.bool_)) or not isinstance(rank, Integral):
            raise ValueError(f"rank must be a positive integer, got {rank!r}.")
        if rank < 1:
            raise ValueError(f"rank must be a positive integer, got {rank}.")
        noise = self.noise
        if (
            isinstance(noise, (bool, np.bool_))
            or not isinstance(noise, Real)
            or not np.isfinite(noise)
            or noise < 0
        ):
            raise ValueError(f"noise must be a finite number >= 0, got {noise!r}.")
        return kernel_sizes, activations, int(rank), float(noise), self._outputs()

    def _outputs(self):
        """The validated ``n_targets``, ``labels``, ``n_classes`` and
        ``temperature``."""
        n_targets = self.n_targets
        if n_targets is not None and (
            isinstance(n_targets, (bool, np.bool_))
            or not isinstance(n_targets, Integral)
            or n_targets < 1
        ):
            raise ValueError(
                f"n_targets must be None or a positive integer, got {n_targets!r}."
            )
        labels = self.labels
        if labels is not None and (not isinstance(labels, str) or labels not in LABELS):
            raise ValueError(
                f"labels must be None, 'logistic' or 'threshold', got {labels!r}."
            )
        n_classes = self.n_classes
        if (
            isinstance(n_classes, (bool, np.bool_))
            or not isinstance(n_classes, Integral)
            or n_classes < 2
        ):
            raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}.")
        temperature = self.temperature
        if (
            isinstance(temperature, (bool, np.bool_))
            or not isinstance(temperature, Real)
            or not np.isfinite(temperature)
            or temperature <= 0
        ):
            raise ValueError(
                f"temperature must be a finite number > 0, got {temperature!r}."
            )
        if labels is None and n_classes != 2:
            raise ValueError(
                f"n_classes={n_classes} needs labels='logistic' or 'threshold'; "
                "without labels the dataset plants regression targets."
            )
        if labels is not None and n_targets is not None:
            raise ValueError(
                f"labels={labels!r} cannot be combined with n_targets={n_targets}: "
                "a label dataset has one label per sample (n_classes sets the "
                "number of classes)."
            )
        if labels is not None and self.noise > 0:
            raise ValueError(
                f"labels={labels!r} cannot be combined with noise={self.noise}: "
                "noise is for regression targets; logistic labels are as noisy "
                "as temperature makes them."
            )
        return {
            "n_targets": None if n_targets is None else int(n_targets),
            "labels": labels,
            "n_classes": int(n_classes),
            "temperature": float(temperature),
        }

    def _network(self):
        key = self._parameter_key()
        cached = getattr(self, "_planted", None)
        if cached is not None and cached["key"] == key:
            return cached
        kernel_sizes, activations, rank, noise, outputs = self._validated_parameters()
        if outputs["labels"] is not None and outputs["n_classes"] > 2:
            n_columns = outputs["n_classes"]
        else:
            n_columns = outputs["n_targets"]
        rng = check_random_state(self.random_state)
        n_features = int(np.prod(kernel_sizes))
        for _ in range(MAX_REDRAWS):
            kernels = _planted_kernels(kernel_sizes, rank, activations, rng)
            if n_columns is not None:
                weights = _output_weights(rng, rank, n_columns)
            elif rank == 1:
                weights = np.ones(1)
            else:
                weights = rng.uniform(*BRANCH_WEIGHT_RANGE, size=rank)
            branch_outputs = _probe_outputs(rng, n_features, kernels, activations)
            if _is_operational(branch_outputs, weights):
                break
        else:
            raise ValueError(
                f"Could not plant an operational network in {MAX_REDRAWS} draws "
                f"with kernel_sizes={kernel_sizes} and activations "
                f"{[a.name for a in activations]}: the outputs are constant or "
                "mostly zero. Choose other activations or kernel sizes."
            )
        label_std = np.std(branch_outputs @ weights, axis=0)
        self._planted = {
            "key": key,
            "n_features": n_features,
            "kernels": kernels,
            "weights": weights,
            "activations": activations,
            "noise": noise,
            "label_std": float(label_std) if label_std.ndim == 0 else label_std,
            "labels": None,
            "stream": rng,
        }
        if outputs["labels"] is not None:
            self._planted.update(
                _label_head(
                    branch_outputs,
                    weights,
                    outputs["labels"],
                    outputs["temperature"],
                )
            )
        return self._planted

    def _label_network(self, what):
        network = self._network()
        if network["labels"] is None:
            raise AttributeError(
                f"{what} is only defined for label datasets (labels='logistic' "
                "or 'threshold'); this one plants regression targets."
            )
        return network

    @property
    def kernels_(self):
        """Planted kernels, input layer first, one row per branch."""
        return [kernel.copy() for kernel in self._network()["kernels"]]

    @property
    def weights_(self):
        """Output weights of the planted network, one column per target or class."""
        return self._network()["weights"].copy()

    @property
    def n_features_(self):
        """Number of input features, the product of the kernel sizes."""
        return self._network()["n_features"]

    @property
    def label_std_(self):
        """Standard deviation of the noiseless outputs on the probe inputs."""
        label_std = self._network()["label_std"]
        return label_std if isinstance(label_std, float) else label_std.copy()

    @property
    def decision_offset_(self):
        """Offset of the standardised output of a label dataset."""
        offset = self._label_network("decision_offset_")["offset"]
        return offset if isinstance(offset, float) else offset.copy()

    @property
    def decision_scale_(self):
        """Scale of the standardised output of a label dataset."""
        return self._label_network("decision_scale_")["scale"]

    @property
    def bayes_accuracy_(self):
        """Bayes accuracy of a label dataset, estimated on the probe inputs."""
        return self._label_network("bayes_accuracy_")["bayes_accuracy"]

    def _outputs_of(self, X):
        network = self._network()
        X = check_array(X, dtype=np.float64, order="C")
        if X.shape[1] != self.n_features_:
            raise ValueError(
                f"X has {X.shape[1]} features, but the planted network takes "
                f"{self.n_features_}."
            )
        outputs = forward(X, network["kernels"], network["activations"])
        return outputs @ network["weights"], network

    def predict(self, X):
        """Noiseless output of the planted network, or its most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, `n_features_`)
            Inputs.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Regression targets ``f(X)``, without label noise. Label datasets:
            the most probable class (the Bayes classifier, whose accuracy is
            `bayes_accuracy_`; the labels themselves for threshold labels),
            ``1{z > 0}`` or ``argmax z`` with ``z`` the
            :meth:`decision_function`.
        """
        outputs, network = self._outputs_of(X)
        if network["labels"] is None:
            return outputs
        return _bayes_labels(_decision(outputs, network))

    def decision_function(self, X):
        """Standardised output of a label dataset's network (noiseless).

        Parameters
        ----------
        X : array-like of shape (n_samples, `n_features_`)
            Inputs.

        Returns
        -------
        z : ndarray of shape (n_samples,) or (n_samples, n_classes)
            ``(forward(X) @ weights_ - decision_offset_) / decision_scale_``:
            one value a row for two classes (class 1 when positive), one logit
            a class for more. The class probabilities of logistic labels are
            ``sigmoid(z / temperature)`` or ``softmax(z / temperature)``.

        Raises
        ------
        AttributeError
            On a regression dataset (``labels=None``).
        """
        self._label_network("decision_function")
        outputs, network = self._outputs_of(X)
        return _decision(outputs, network)

    def predict_proba(self, X):
        """Class probabilities ``P(y = c | x)`` of a label dataset.

        Parameters
        ----------
        X : array-like of shape (n_samples, `n_features_`)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Logistic labels: ``[1 - p, p]`` with ``p = sigmoid(z / temperature)``
            for two classes, ``softmax(z / temperature)`` for more, ``z`` being
            the :meth:`decision_function`. Threshold labels: 1 for the
            label's class, 0 for the others.

        Raises
        ------
        AttributeError
            On a regression dataset (``labels=None``).
        """
        self._label_network("predict_proba")
        outputs, network = self._outputs_of(X)
        return _class_probabilities(_decision(outputs, network), network)

    def sample(self, n_samples, *, random_state=None, as_frame=False, chunks=None):
        """Draw Gaussian inputs and their labels.

        Parameters
        ----------
        n_samples : int
            Number of samples.
        random_state : int, RandomState instance or None, default=None
            Draws this sample. ``None`` continues the dataset's own stream, so
            successive calls give fresh samples (reproducibly when the
            dataset's ``random_state`` is an int).
        as_frame : bool, default=False
            Return a pandas DataFrame with columns ``x0, x1, ...`` and a Series
            named ``"y"`` (a DataFrame with columns ``y0, y1, ...`` for
            ``n_targets`` targets).
        chunks : int or tuple of int, default=None
            Return lazy ``dask.array`` arrays (needs the ``dask`` extra) with
            row chunks of this many rows (or these sizes), each generated, where
            it is computed, from its own seed: one integer drawn from
            ``random_state`` (or the dataset's stream) combined with the
            chunk's index. The same call with the same seed gives the same
            data, and a 10^8-row problem never exists on one machine. The rows
            differ from those of the in-memory call with the same seed.

        Returns
        -------
        X : ndarray of shape (n_samples, `n_features_`), DataFrame or dask array
            Standard Gaussian inputs.
        y : ndarray of shape (n_samples,) or (n_samples, n_targets), Series, \
DataFrame or dask array
            Labels ``f(X)`` plus noise (float), or class labels
            ``0, ..., n_classes - 1`` (int64) for label datasets.
        """
        n_samples = _check_n_samples(n_samples)
        network = self._network()
        if random_state is None:
            rng = network["stream"]
        else:
            rng = check_random_state(random_state)
        if chunks is not None:
            if as_frame:
                raise ValueError("as_frame=True cannot be combined with chunks.")
            return self._lazy_sample(n_samples, chunks, rng, network)
        X, y = draw_planted_rows(rng, n_samples, network)
        if as_frame:
            columns = [f"x{i}" for i in range(X.shape[1])]
            if y.ndim == 2:
                targets = [f"y{i}" for i in range(y.shape[1])]
                return pd.DataFrame(X, columns=columns), pd.DataFrame(
                    y, columns=targets
                )
            return pd.DataFrame(X, columns=columns), pd.Series(y, name="y")
        return X, y

    def _lazy_sample(self, n_samples, chunks, rng, network):
        dask, da = import_dask_array("PlantedCNNDataset.sample(chunks=...)")
        sizes = normalise_chunks(chunks, n_samples)
        base_seed = int(rng.randint(2**31 - 1))
        description = {
            "n_features": network["n_features"],
            "kernels": [kernel.copy() for kernel in network["kernels"]],
            "weights": network["weights"].copy(),
            "activations": tuple(a.name for a in network["activations"]),
            "noise": network["noise"],
            "label_std": network["label_std"],
        }
        if network["labels"] is not None:
            description.update(
                (name, network[name])
                for name in ("labels", "temperature", "offset", "scale")
            )
            dtype = np.int64
        else:
            dtype = np.float64
        n_features = network["n_features"]
        targets = network["weights"].shape[1:] if network["labels"] is None else ()
        X_blocks, y_blocks = [], []
        for index, size in enumerate(sizes):
            pair = dask.delayed(_planted_chunk, nout=2, pure=True)(
                size, [base_seed, index], description
            )
            X_blocks.append(
                da.from_delayed(pair[0], (size, n_features), dtype=np.float64)
            )
            y_blocks.append(da.from_delayed(pair[1], (size, *targets), dtype=dtype))
        return da.concatenate(X_blocks, axis=0), da.concatenate(y_blocks)


def make_planted_cnn(
    n_samples=100,
    kernel_sizes=(4, 4, 4),
    *,
    activation="relu",
    rank=1,
    n_targets=None,
    labels=None,
    n_classes=2,
    temperature=DEFAULT_TEMPERATURE,
    noise=0.0,
    random_state=None,
    return_kernels=False,
    as_frame=False,
):
    """Generate a regression or classification problem from a planted network.

    One call to :class:`PlantedCNNDataset` then :meth:`PlantedCNNDataset.sample`,
    both drawn from ``random_state``; the output layer is the identity.

    Parameters
    ----------
    n_samples : int, default=100
        Number of samples.
    kernel_sizes : tuple of int, default=(4, 4, 4)
        Kernel size of each layer, input layer first.
    activation : str or tuple of str, default="relu"
        Activation of the hidden layers, one name or one per hidden layer.
    rank : int, default=1
        Number of branches.
    n_targets : int or None, default=None
        Number of regression targets: ``None`` for one target and a 1-D ``y``,
        an int for ``y`` of shape ``(n_samples, n_targets)``.
    labels : {None, "logistic", "threshold"}, default=None
        Plant class labels instead of regression targets (see
        :class:`PlantedCNNDataset`).
    n_classes : int, default=2
        Number of classes of a label problem.
    temperature : float, default=0.15
        Temperature of logistic labels, relative to the standardised output.
    noise : float, default=0.0
        Standard deviation of the label noise, relative to that of the labels
        (regression targets only).
    random_state : int, RandomState instance or None, default=None
        Draws the network and the samples.
    return_kernels : bool, default=False
        Also return the planted kernels.
    as_frame : bool, default=False
        Return X as a DataFrame and y as a Series (a DataFrame for several
        targets).

    Returns
    -------
    X : ndarray of shape (n_samples, prod(kernel_sizes)) or DataFrame
        Standard Gaussian inputs.
    y : ndarray of shape (n_samples,) or (n_samples, n_targets), Series or \
DataFrame
        Targets, or class labels ``0, ..., n_classes - 1``.
    kernels : list of ndarray of shape (rank, d_l)
        The planted kernels, input layer first; only with
        ``return_kernels=True``.

    See Also
    --------
    PlantedCNNDataset : The planted network, to draw several samples.

    Examples
    --------
    >>> from sklearn_deeptd import make_planted_cnn
    >>> X, y, kernels = make_planted_cnn(
    ...     50, kernel_sizes=(3, 2), random_state=0, return_kernels=True
    ... )
    >>> X.shape, [kernel.shape for kernel in kernels]
    ((50, 6), [(1, 3), (1, 2)])
    >>> X, y = make_planted_cnn(
    ...     50, kernel_sizes=(3, 2), labels="threshold", n_classes=3, random_state=0
    ... )
    >>> y.dtype.name, sorted(set(y.tolist()))
    ('int64', [0, 1, 2])
    """
    rng = check_random_state(random_state)
    planted = PlantedCNNDataset(
        kernel_sizes,
        activation=activation,
        rank=rank,
        n_targets=n_targets,
        labels=labels,
        n_classes=n_classes,
        temperature=temperature,
        noise=noise,
        random_state=rng,
    )
    X, y = planted.sample(n_samples, as_frame=as_frame)
    if return_kernels:
        return X, y, planted.kernels_
    return X, y
