"""Planted networks with Gaussian inputs: data to test and benchmark recovery."""

from numbers import Real
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from ._activations import ACTIVATIONS
from ._planted_rows import as_frames, draw_rows, lazy_rows
from ._planting import DEFAULT_TEMPERATURE, LABELS, bayes_labels, plant_network_of
from ._sklearn_compat import StrOptions, validate_parameter_constraints
from ._validation import StrictInterval, positive_int


class _Planted(NamedTuple):
    """A planted network, its parameters, and the stream of the samples."""

    key: tuple
    network: object
    stream: np.random.RandomState


class PlantedCNNDataset(BaseEstimator):
    """A planted convolutional network on non-overlapping patches, with Gaussian inputs.

    The network is the model :class:`DeepTDRegressor` fits,
    ``f(x) = sum_j weights_[j] * f_j(x)`` with one kernel per layer and
    branch ``f_j``. Inputs are standard Gaussian vectors; outputs are one
    regression target (the default), several (``n_targets``), or class labels
    (``labels``). The network is planted the first time it is needed, from
    ``random_state``, and kept until a parameter changes.

    Parameters
    ----------
    kernel_sizes : tuple of int, default=(4, 4, 4)
        Kernel size of each layer, input layer first. The number of features is
        their product.
    activation : str or tuple of str, default="relu"
        Activation of the hidden layers: one name, or one per hidden layer,
        from the names :class:`DeepTDRegressor` takes.
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
        Output weights (their law is in the :ref:`User Guide <planted>`).
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
    being operational on 1000 Gaussian probe inputs; after 100 failed draws a
    ``ValueError`` is raised. Labels follow the output standardised on the
    probes, balanced between the classes. The :ref:`User Guide <planted>`
    gives the whole law, and the Bayes accuracy it leads to.

    Examples
    --------
    >>> from sklearn_deeptd import PlantedCNNDataset
    >>> planted = PlantedCNNDataset(kernel_sizes=(4, 4, 4), random_state=0)
    >>> X, y = planted.sample(100)
    >>> X.shape, y.shape, [kernel.shape for kernel in planted.kernels_]
    ((100, 64), (100,), [(1, 4), (1, 4), (1, 4)])
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
        params = sorted(self.get_params().items())
        values = [tuple(v) if isinstance(v, list) else v for _, v in params]
        return tuple(
            (name, v if v is None or isinstance(v, (str, Real, tuple)) else id(v))
            for (name, _), v in zip(params, values)
        )

    def _planted(self):
        key = self._parameter_key()
        cached = getattr(self, "_planted_cache", None)
        if cached is not None and cached.key == key:
            return cached
        self._validate_params()
        rng = check_random_state(self.random_state)
        network = plant_network_of(self.get_params(), rng)
        self._planted_cache = _Planted(key, network, rng)
        return self._planted_cache

    @property
    def kernels_(self):
        """Planted kernels, input layer first, one row per branch."""
        return [kernel.copy() for kernel in self._planted().network.kernels]

    @property
    def weights_(self):
        """Output weights of the planted network, one column per target or class."""
        return self._planted().network.weights.copy()

    @property
    def n_features_(self):
        """Number of input features, the product of the kernel sizes."""
        return self._planted().network.n_features

    @property
    def label_std_(self):
        """Standard deviation of the noiseless outputs on the probe inputs."""
        label_std = self._planted().network.label_std
        return label_std if isinstance(label_std, float) else label_std.copy()

    @property
    def decision_offset_(self):
        """Offset of the standardised output of a label dataset."""
        offset = self._planted().network.with_labels("decision_offset_").offset
        return offset if isinstance(offset, float) else offset.copy()

    @property
    def decision_scale_(self):
        """Scale of the standardised output of a label dataset."""
        return self._planted().network.with_labels("decision_scale_").scale

    @property
    def bayes_accuracy_(self):
        """Bayes accuracy of a label dataset, estimated on the probe inputs."""
        return self._planted().network.with_labels("bayes_accuracy_").bayes_accuracy

    def predict(self, X):
        """Noiseless output of the planted network, or its most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, `n_features_`)
            Inputs.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Regression targets ``f(X)`` without noise, or the most probable
            class of a label dataset.
        """
        network = self._planted().network
        outputs = network.outputs(X)
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
            ``(forward(X) @ weights_ - decision_offset_) / decision_scale_``,
            one value a row for two classes, one logit a class for more.
        """
        network = self._planted().network.with_labels("decision_function")
        return network.decision(network.outputs(X))

    def predict_proba(self, X):
        """Class probabilities ``P(y = c | x)`` of a label dataset.

        Parameters
        ----------
        X : array-like of shape (n_samples, `n_features_`)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The sigmoid or softmax of ``z / temperature`` (``z`` the
            :meth:`decision_function`) for logistic labels; 1 for the label's
            class and 0 for the others for threshold labels.
        """
        network = self._planted().network.with_labels("predict_proba")
        return network.class_probabilities(network.decision(network.outputs(X)))

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
            Return lazy ``dask.array`` arrays (``dask`` extra) of row chunks
            of this many rows (or these sizes), each drawn where it is computed
            from one integer drawn from ``random_state`` (or the dataset's
            stream) and its index: other rows than the in-memory call's.

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

    :class:`PlantedCNNDataset` and its :meth:`~PlantedCNNDataset.sample` in one
    call, drawn from ``random_state``; the output layer is the identity.

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
