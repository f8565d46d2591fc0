"""Planted networks with Gaussian inputs: data to test and benchmark recovery."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
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


def _check_n_samples(n_samples):
    if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, Integral):
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    if n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples}.")
    return int(n_samples)


def draw_planted_rows(rng, n_rows, network):
    """Standard Gaussian inputs and their labels: the planted network's output
    plus ``noise * label_std`` times standard Gaussian noise, all from ``rng``.

    ``network`` holds ``n_features``, ``kernels``, ``weights``,
    ``activations`` (:class:`Activation` objects), ``noise`` and ``label_std``.
    """
    X = rng.standard_normal((n_rows, network["n_features"]))
    y = predict_network(
        X, network["kernels"], network["weights"], 0.0, network["activations"]
    )
    if network["noise"] > 0:
        y = y + network["noise"] * network["label_std"] * rng.standard_normal(n_rows)
    return X, y


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
    # labels must be non-zero on at least half of the inputs (the paper's rule).
    labels = branch_outputs @ weights
    every_branch_varies = bool(np.all(np.std(branch_outputs, axis=0) > 1e-12))
    return every_branch_varies and bool(np.mean(labels != 0) >= 0.5)


class PlantedCNNDataset(BaseEstimator):
    """A planted convolutional network on non-overlapping patches, with Gaussian inputs.

    The network is the model :class:`DeepTDRegressor` fits:
    ``f(x) = sum_j weights_[j] * f_j(x)``, where each branch ``f_j`` has one
    kernel per layer; layer ``l`` cuts its input into consecutive blocks of
    ``kernel_sizes[l]`` entries, takes the inner product of each block with the
    kernel and applies its activation. Inputs are standard Gaussian vectors.

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
        Number of branches.
    noise : float, default=0.0
        Standard deviation of additive Gaussian label noise, as a fraction of
        the standard deviation of the noiseless labels.
    random_state : int, RandomState instance or None, default=None
        Draws the network, then the samples of successive :meth:`sample` calls
        made without their own ``random_state``.

    Attributes
    ----------
    kernels_ : list of ndarray of shape (rank, d_l)
        Planted kernels, input layer first, each row of unit norm.
    weights_ : ndarray of shape (rank,)
        Branch weights: 1.0 for ``rank=1``, else drawn uniformly from
        [0.5, 1.5].
    n_features_ : int
        Number of input features, ``prod(kernel_sizes)``.
    label_std_ : float
        Standard deviation of the noiseless labels, estimated on the probe
        inputs; ``noise`` is relative to it.

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
    are non-zero on at least half of them (the "operational" rule of the
    paper, which only bites when the output layer can return exact zeros,
    e.g. ReLU). A kernel that kills its branch whatever the others are (a
    ReLU layer's kernel without a positive entry, fed by ReLU, sigmoid or
    softplus outputs) is redrawn on its own at once: the same conditional
    law, since such a network is always rejected, but without the
    ``(4/3)^(D-2)`` expected draws that deep ReLU networks with kernels of
    size 2 would take (about 42 at D = 15).
    After 100 failed draws a ``ValueError`` is raised.

    Examples
    --------
    >>> from sklearn_deeptd import PlantedCNNDataset
    >>> planted = PlantedCNNDataset(kernel_sizes=(4, 4, 4), random_state=0)
    >>> X, y = planted.sample(100)
    >>> X.shape, y.shape
    ((100, 64), (100,))
    >>> [kernel.shape for kernel in planted.kernels_]
    [(1, 4), (1, 4), (1, 4)]
    """

    def __init__(
        self,
        kernel_sizes=(4, 4, 4),
        *,
        activation="relu",
        output_activation="identity",
        rank=1,
        noise=0.0,
        random_state=None,
    ):
        self.kernel_sizes = kernel_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.rank = rank
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
        return kernel_sizes, activations, int(rank), float(noise)

    def _network(self):
        key = self._parameter_key()
        cached = getattr(self, "_planted", None)
        if cached is not None and cached["key"] == key:
            return cached
        kernel_sizes, activations, rank, noise = self._validated_parameters()
        rng = check_random_state(self.random_state)
        n_features = int(np.prod(kernel_sizes))
        for _ in range(MAX_REDRAWS):
            kernels = _planted_kernels(kernel_sizes, rank, activations, rng)
            if rank == 1:
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
        self._planted = {
            "key": key,
            "n_features": n_features,
            "kernels": kernels,
            "weights": weights,
            "activations": activations,
            "noise": noise,
            "label_std": float(np.std(branch_outputs @ weights)),
            "stream": rng,
        }
        return self._planted

    @property
    def kernels_(self):
        """Planted kernels, input layer first, one row per branch."""
        return [kernel.copy() for kernel in self._network()["kernels"]]

    @property
    def weights_(self):
        """Branch weights of the planted network."""
        return self._network()["weights"].copy()

    @property
    def n_features_(self):
        """Number of input features, the product of the kernel sizes."""
        return self._network()["n_features"]

    @property
    def label_std_(self):
        """Standard deviation of the noiseless labels on the probe inputs."""
        return self._network()["label_std"]

    def predict(self, X):
        """Noiseless output of the planted network.

        Parameters
        ----------
        X : array-like of shape (n_samples, `n_features_`)
            Inputs.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            ``f(X)``, without label noise.
        """
        network = self._network()
        X = check_array(X, dtype=np.float64, order="C")
        if X.shape[1] != self.n_features_:
            raise ValueError(
                f"X has {X.shape[1]} features, but the planted network takes "
                f"{self.n_features_}."
            )
        outputs = forward(X, network["kernels"], network["activations"])
        return outputs @ network["weights"]

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
            named ``"y"``.
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
        y : ndarray of shape (n_samples,), Series or dask array
            Labels ``f(X)`` plus noise.
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
        n_features = network["n_features"]
        X_blocks, y_blocks = [], []
        for index, size in enumerate(sizes):
            pair = dask.delayed(_planted_chunk, nout=2, pure=True)(
                size, [base_seed, index], description
            )
            X_blocks.append(
                da.from_delayed(pair[0], (size, n_features), dtype=np.float64)
            )
            y_blocks.append(da.from_delayed(pair[1], (size,), dtype=np.float64))
        return da.concatenate(X_blocks, axis=0), da.concatenate(y_blocks)


def make_planted_cnn(
    n_samples=100,
    kernel_sizes=(4, 4, 4),
    *,
    activation="relu",
    rank=1,
    noise=0.0,
    random_state=None,
    return_kernels=False,
    as_frame=False,
):
    """Generate a regression problem from a planted convolutional network.

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
    noise : float, default=0.0
        Standard deviation of the label noise, relative to that of the labels.
    random_state : int, RandomState instance or None, default=None
        Draws the network and the samples.
    return_kernels : bool, default=False
        Also return the planted kernels.
    as_frame : bool, default=False
        Return X as a DataFrame and y as a Series.

    Returns
    -------
    X : ndarray of shape (n_samples, prod(kernel_sizes)) or DataFrame
        Standard Gaussian inputs.
    y : ndarray of shape (n_samples,) or Series
        Labels.
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
    """
    rng = check_random_state(random_state)
    planted = PlantedCNNDataset(
        kernel_sizes,
        activation=activation,
        rank=rank,
        noise=noise,
        random_state=rng,
    )
    X, y = planted.sample(n_samples, as_frame=as_frame)
    if return_kernels:
        return X, y, planted.kernels_
    return X, y
