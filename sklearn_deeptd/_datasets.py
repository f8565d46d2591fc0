"""Planted networks with Gaussian inputs: data to test and benchmark recovery."""

from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import StrOptions

from ._activations import ACTIVATIONS, resolve_activations
from ._kernel_sizes import check_kernel_sizes
from ._network import forward
from ._planted_rows import as_frames, draw_rows, lazy_rows
from ._planting import bayes_labels, plant_network
from ._validation import StrictInterval, positive_int

# Label datasets: the ways labels follow the standardised output, and the
# default temperature, which gave a Bayes accuracy of about 0.90 (median 0.904
# over random_state 0-19, 0.895-0.92 for 16 of them) for binary logistic labels
# of (8, 8, 8) ReLU networks of rank 1 (see the class docstring).
LABELS = ("logistic", "threshold")
DEFAULT_TEMPERATURE = 0.15


def _check_n_samples(n_samples):
    if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, Integral):
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    if n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples}.")
    return int(n_samples)


class _Planted(NamedTuple):
    """The planted network, the parameters it was planted with, and the
    random stream that continues into the samples."""

    key: tuple
    network: object
    stream: np.random.RandomState


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
            the most probable class (the Bayes classifier, whose accuracy is
            `bayes_accuracy_`; the labels themselves for threshold labels),
            ``1{z > 0}`` or ``argmax z`` with ``z`` the
            :meth:`decision_function`.
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
            a class for more. The class probabilities of logistic labels are
            ``sigmoid(z / temperature)`` or ``softmax(z / temperature)``.

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
