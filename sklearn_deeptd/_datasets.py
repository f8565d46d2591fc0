"""Planted networks with Gaussian inputs: data to test and benchmark recovery."""

from numbers import Real
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import (
    StrOptions,
    validate_parameter_constraints,
)

from ._activations import ACTIVATIONS, resolve_activations
from ._kernel_sizes import check_kernel_sizes
from ._network import forward
from ._planted_rows import as_frames, draw_rows, lazy_rows
from ._planting import bayes_labels, plant_network
from ._validation import StrictInterval, positive_int

# The ways labels follow the standardised output; the default temperature
# gives binary labels a Bayes accuracy of about 0.90 (see the class Notes).
LABELS = ("logistic", "threshold")
DEFAULT_TEMPERATURE = 0.15


class _Planted(NamedTuple):
    """A planted network, its parameters, and the stream of the samples."""

    key: tuple
    network: object
    stream: np.random.RandomState


class PlantedCNNDataset(BaseEstimator):
    """A planted convolutional network on non-overlapping patches, with Gaussian inputs.

    The network is the model :class:`DeepTDRegressor` fits:
    ``f(x) = sum_j weights_[j] * f_j(x)``, where each branch ``f_j`` has one
    kernel per layer; layer ``l`` cuts its input into consecutive blocks of
    ``kernel_sizes[l]`` entries, takes the inner product of each block with the
    kernel and applies its activation. Inputs are standard Gaussian vectors;
    outputs are one regression target (the default), several (``n_targets``),
    or class labels (``labels``). The network is planted the first time it is
    needed, from ``random_state``, and kept until a parameter changes.

    Parameters
    ----------
    kernel_sizes : tuple of int, default=(4, 4, 4)
        Kernel size of each layer, input layer first. The number of features is
        their product.
    activation : str or tuple of str, default="relu"
        Activation of the hidden layers: one name, or one per hidden layer.
        Names (shared with :class:`DeepTDRegressor`): ``"relu"``,
        ``"leaky_relu"`` (slope 0.01 for negative inputs), ``"tanh"``,
        ``"sigmoid"``, ``"softplus"``, ``"identity"``.
    output_activation : str, default="identity"
        Activation of the last layer, from the same names.
    rank : int, default=1
        Number of branches, shared by every target or class.
    n_targets : int or None, default=None
        Number of regression targets. ``None`` gives one target and a 1-D ``y``;
        an int ``m`` gives output weights of shape ``(rank, m)`` and ``y`` of
        shape ``(n_samples, m)`` (also for ``m=1``).
    labels : {None, "logistic", "threshold"}, default=None
        Plant class labels ``0, ..., n_classes - 1`` instead of regression
        targets. ``"logistic"``: drawn from the probabilities of
        :meth:`predict_proba`. ``"threshold"``: the most probable class of
        those probabilities, without randomness (see Notes).
    n_classes : int, default=2
        Number of classes, at least 2; only with ``labels``.
    temperature : float, default=0.15
        Temperature of logistic labels, relative to the standardised output:
        lower is less noisy (see Notes). Threshold labels of two classes
        ignore it; those of more classes use it to balance the classes.
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
        uniform on [0.5, 1.5]. Several targets, or more classes: magnitudes
        uniform on [0.5, 1.5], each with an independent random sign.
    n_features_ : int
        Number of input features, ``prod(kernel_sizes)``.
    label_std_ : float or ndarray of shape (n_targets,) or (n_classes,)
        Standard deviation of the noiseless outputs ``forward(X) @ weights_``
        (of each column) on the probe inputs; ``noise`` is relative to it.
    decision_offset_ : float or ndarray of shape (n_classes,)
        Label datasets: the offset of the standardised output.
    decision_scale_ : float
        Label datasets: the scale of the standardised output.
    bayes_accuracy_ : float
        Label datasets: the accuracy of the Bayes classifier (:meth:`predict`)
        on the 1000 probe inputs, the mean of the largest class probability.

    See Also
    --------
    make_planted_cnn : Draw one data set in a single call.
    DeepTDRegressor : Learns the planted kernels back.
    kernel_correlation : Measures the recovery.

    Notes
    -----
    Kernels are Gaussian, normalised to unit norm, conditioned on the network
    being operational on 1000 Gaussian probe inputs (see the
    :ref:`User Guide <planted>`); after 100 failed draws a ``ValueError``
    is raised.

    Two classes share the regression network of the same parameters; its
    output ``f`` is standardised on the probe inputs, ``z = (f - median) /
    std``, so that the classes are balanced: ``P(y = 1 | x) = sigmoid(z /
    temperature)``, and threshold labels are ``1{z > 0}``. Where a ReLU
    network's zero outputs make the median zero, those inputs have ``z = 0``:
    a fair coin (logistic) or class 0 (threshold). More classes have their own
    output weights and logits ``z``, scaled so that the difference of two
    classes' logits has unit variance on the probes (averaged over pairs),
    offset so that every class has mean probability ``1 / n_classes`` there
    under ``softmax(z / T)``, ``T = max(temperature, 0.01)``; threshold
    labels ``argmax z`` are then roughly balanced.

    Bayes accuracy of two logistic classes of (8, 8, 8) ReLU networks of rank
    1 (``random_state`` 0 to 19, 200,000 inputs each): median 0.904 at the
    default temperature (0.895 to 0.92 for 16 of the 20), 0.934 at 0.1, 0.877
    at 0.2, 0.67 at 1. Three classes at 0.15: median 0.69 with one branch,
    0.83 with three. `bayes_accuracy_` estimates it within 0.01.

    Examples
    --------
    >>> from sklearn_deeptd import PlantedCNNDataset
    >>> planted = PlantedCNNDataset(kernel_sizes=(4, 4, 4), random_state=0)
    >>> X, y = planted.sample(100)
    >>> X.shape, y.shape, [kernel.shape for kernel in planted.kernels_]
    ((100, 64), (100,), [(1, 4), (1, 4), (1, 4)])
    >>> targets = PlantedCNNDataset((4, 4), rank=2, n_targets=3, random_state=0)
    >>> X, Y = targets.sample(100)
    >>> Y.shape, targets.weights_.shape, targets.label_std_.shape
    ((100, 3), (2, 3), (3,))
    >>> classes = PlantedCNNDataset(
    ...     (4, 4), rank=2, labels="threshold", n_classes=3, random_state=0
    ... )
    >>> X, y = classes.sample(6)
    >>> bool((classes.predict(X) == y).all()), classes.predict_proba(X).shape
    (True, (6, 3))
    """

    _parameter_constraints: dict = {
        "kernel_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS)), tuple, list],
        "output_activation": [StrOptions(set(ACTIVATIONS))],
        "rank": [positive_int()],
        "n_targets": [positive_int(), None],
        "labels": [StrOptions(set(LABELS)), None],
        "n_classes": [positive_int(2)],
        "temperature": [StrictInterval(Real, 0, np.inf, closed="neither")],
        "noise": [StrictInterval(Real, 0, np.inf, closed="left")],
        "random_state": ["random_state"],
    }

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

    def _check_combinations(self):
        labels = self.labels
        if labels is None and self.n_classes != 2:
            raise ValueError(
                f"n_classes={self.n_classes} needs labels='logistic' or "
                "'threshold'; without labels the dataset plants regression targets."
            )
        if labels is not None and self.n_targets is not None:
            raise ValueError(
                f"labels={labels!r} cannot be combined with "
                f"n_targets={self.n_targets}: a label dataset has one label per "
                "sample (n_classes sets the number of classes)."
            )
        if labels is not None and self.noise > 0:
            raise ValueError(
                f"labels={labels!r} cannot be combined with noise={self.noise}: "
                "noise is for regression targets; logistic labels are as noisy "
                "as temperature makes them."
            )

    def _planted(self):
        key = self._parameter_key()
        cached = getattr(self, "_planted_cache", None)
        if cached is not None and cached.key == key:
            return cached
        self._validate_params()
        kernel_sizes = check_kernel_sizes(self.kernel_sizes, None)
        activations = resolve_activations(
            self.activation, self.output_activation, len(kernel_sizes)
        )
        self._check_combinations()
        rng = check_random_state(self.random_state)
        network = plant_network(
            kernel_sizes,
            activations,
            int(self.rank),
            rng,
            n_targets=None if self.n_targets is None else int(self.n_targets),
            labels=self.labels,
            n_classes=int(self.n_classes),
            temperature=float(self.temperature),
            noise=float(self.noise),
        )
        self._planted_cache = _Planted(key, network, rng)
        return self._planted_cache

    def _network(self):
        return self._planted().network

    def _label_network(self, what):
        network = self._network()
        if network.labels is None:
            raise AttributeError(
                f"{what} is only defined for label datasets (labels='logistic' "
                "or 'threshold'); this one plants regression targets."
            )
        return network

    @property
    def kernels_(self):
        """Planted kernels, input layer first, one row per branch."""
        return [kernel.copy() for kernel in self._network().kernels]

    @property
    def weights_(self):
        """Output weights of the planted network, one column per target or class."""
        return self._network().weights.copy()

    @property
    def n_features_(self):
        """Number of input features, the product of the kernel sizes."""
        return self._network().n_features

    @property
    def label_std_(self):
        """Standard deviation of the noiseless outputs on the probe inputs."""
        label_std = self._network().label_std
        return label_std if isinstance(label_std, float) else label_std.copy()

    @property
    def decision_offset_(self):
        """Offset of the standardised output of a label dataset."""
        offset = self._label_network("decision_offset_").offset
        return offset if isinstance(offset, float) else offset.copy()

    @property
    def decision_scale_(self):
        """Scale of the standardised output of a label dataset."""
        return self._label_network("decision_scale_").scale

    @property
    def bayes_accuracy_(self):
        """Bayes accuracy of a label dataset, estimated on the probe inputs."""
        return self._label_network("bayes_accuracy_").bayes_accuracy

    def _outputs_of(self, X, network):
        X = check_array(X, dtype=np.float64, order="C")
        if X.shape[1] != network.n_features:
            raise ValueError(
                f"X has {X.shape[1]} features, but the planted network takes "
                f"{network.n_features}."
            )
        return forward(X, network.kernels, network.activations) @ network.weights

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
            the most probable class, ``1{z > 0}`` or ``argmax z`` with ``z``
            the :meth:`decision_function` (the labels themselves for
            threshold labels).
        """
        network = self._network()
        outputs = self._outputs_of(X, network)
        if network.labels is None:
            return outputs
        return bayes_labels(network.decision(outputs))

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
            a class for more.

        Raises
        ------
        AttributeError
            On a regression dataset (``labels=None``).
        """
        network = self._label_network("decision_function")
        return network.decision(self._outputs_of(X, network))

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
        network = self._label_network("predict_proba")
        return network.class_probabilities(
            network.decision(self._outputs_of(X, network))
        )

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
            Return a DataFrame with columns ``x0, x1, ...`` and a Series named
            ``"y"`` (a DataFrame with columns ``y0, y1, ...`` for targets).
        chunks : int or tuple of int, default=None
            Return lazy ``dask.array`` arrays (needs the ``dask`` extra) of row
            chunks of this many rows (or these sizes), each drawn where it is
            computed from its own seed: one integer drawn from
            ``random_state`` (or the dataset's stream) and the chunk's index.
            The rows differ from those of the in-memory call.

        Returns
        -------
        X : ndarray of shape (n_samples, `n_features_`), DataFrame or dask array
            Standard Gaussian inputs.
        y : ndarray of shape (n_samples,) or (n_samples, n_targets), Series, \
DataFrame or dask array
            Labels ``f(X)`` plus noise (float), or class labels
            ``0, ..., n_classes - 1`` (int64) for label datasets.
        """
        validate_parameter_constraints(
            {"n_samples": [positive_int()]},
            {"n_samples": n_samples},
            caller_name=f"{type(self).__name__}.sample",
        )
        planted = self._planted()
        rng = (
            planted.stream if random_state is None else check_random_state(random_state)
        )
        if chunks is not None:
            if as_frame:
                raise ValueError("as_frame=True cannot be combined with chunks.")
            return tuple(lazy_rows(rng, n_samples, chunks, planted.network))
        rows = draw_rows(rng, n_samples, planted.network)
        return tuple(as_frames(rows) if as_frame else rows)


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
        Number of regression targets, ``None`` for a 1-D ``y``.
    labels : {None, "logistic", "threshold"}, default=None
        Plant class labels instead of regression targets.
    n_classes : int, default=2
        Number of classes of a label problem.
    temperature : float, default=0.15
        Temperature of logistic labels, relative to the standardised output.
    noise : float, default=0.0
        Label noise of regression targets, relative to their std.
    random_state : int, RandomState instance or None, default=None
        Draws the network and the samples.
    return_kernels : bool, default=False
        Also return the planted kernels.
    as_frame : bool, default=False
        Return X as a DataFrame and y as a Series (or DataFrame).

    Returns
    -------
    X : ndarray of shape (n_samples, prod(kernel_sizes)) or DataFrame
        Standard Gaussian inputs.
    y : ndarray of shape (n_samples,) or (n_samples, n_targets), Series or \
DataFrame
        Targets, or class labels ``0, ..., n_classes - 1``.
    kernels : list of ndarray of shape (rank, d_l)
        The planted kernels, only with ``return_kernels=True``.

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
