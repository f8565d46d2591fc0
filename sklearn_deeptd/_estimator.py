"""The estimators' shared machinery, and DeepTDRegressor: validate, summarise, solve.

The estimator's part of a fit is short: validate the input, hand it to the
summary of its kind (arrays in memory, a stream of batches, a dask array),
hand the summary to the solver, and store the fitted network. Everything past
reading the data is shared by every path.
"""

from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._activations import ACTIVATIONS, resolve_activations
from ._array_api import all_to_namespace, dispatched_namespace, to_numpy
from ._dask import (
    PARTIAL_FIT_MESSAGE,
    is_dask_array,
    predict_dask,
    summarise_dask,
    validate_dask_data,
)
from ._losses import SQUARED_ERROR
from ._network import network_output
from ._sklearn_compat import StrOptions, check_same_namespace, fit_context
from ._solver import SolverSettings, solve
from ._streaming import Stream
from ._summary import summarise_arrays
from ._validation import (
    check_kernel_sizes,
    default_kernel_sizes,
    non_negative_real,
    positive_int,
    validate_prediction_data,
    validate_training_data,
)

# The sign search only needs a subsample; it is drawn from random_state.
_SIGN_SEARCH_SAMPLES = 4096

# Rows the refinement touches by default: enough for exact recovery of planted
# networks and for noise to average out (see the README's budget measurement),
# while a fit on millions of rows costs a few passes over X, not hundreds.
REFINE_SAMPLES = 5000


def _targets_of(n_targets):
    return "one target (1-D)" if n_targets is None else f"{n_targets} target columns"


class BaseDeepTD(BaseEstimator):
    """What DeepTDRegressor and DeepTDClassifier share: validate, summarise,
    solve, store.

    A subclass says how its targets are read (:meth:`_targets`: numbers, or
    labels turned into class indicators) and, through :meth:`_solver_options`,
    which loss head its network's outputs take and with which penalty; every
    way in (arrays, ``partial_fit``, dask, array API) then runs
    the same code.
    """

    _parameter_constraints: dict = {
        "kernel_sizes": [None, "array-like"],
        "activation": [StrOptions(set(ACTIVATIONS)), tuple, list],
        "output_activation": [StrOptions(set(ACTIVATIONS))],
        "rank": [positive_int()],
        "center": ["boolean"],
        "max_iter": [positive_int()],
        "tol": [non_negative_real()],
        "refine": ["boolean"],
        "init": [StrOptions({"deeptd", "random"})],
        "refine_samples": [positive_int(2), None],
        "n_init": [StrOptions({"auto"}), positive_int()],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        kernel_sizes=None,
        *,
        activation="relu",
        output_activation="identity",
        rank=1,
        center=True,
        max_iter=300,
        tol=1e-7,
        refine=True,
        init="deeptd",
        refine_samples=REFINE_SAMPLES,
        n_init="auto",
        random_state=None,
        verbose=0,
    ):
        self.kernel_sizes = kernel_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.rank = rank
        self.center = center
        self.max_iter = max_iter
        self.tol = tol
        self.refine = refine
        self.init = init
        self.refine_samples = refine_samples
        self.n_init = n_init
        self.random_state = random_state
        self.verbose = verbose

    def _fit(self, X, y, sample_weight):
        self._stream = None
        name = type(self).__name__
        random_state = check_random_state(self.random_state)
        if is_dask_array(X):
            X, y, sample_weight = validate_dask_data(
                self, X, y, sample_weight, **self._target_kind()
            )
            namespace, summarise, all_rows = None, summarise_dask, REFINE_SAMPLES
            rows_options = {}
        else:
            namespace = dispatched_namespace(X)
            X, y, sample_weight = validate_training_data(
                self, X, y, sample_weight, reset=True, min_samples=2,
                namespace=namespace, **self._target_kind(),
            )  # fmt: skip
            summarise, all_rows = summarise_arrays, X.shape[0]
            # Fixed-size work runs on the host, unless the refinement asks for
            # every row: then its passes run on X's device.
            rows_options = {"rows_to_host": self.refine_samples is not None}
        targets, sample_weight = self._targets(y, sample_weight, reset=True)
        settings = self._solver_settings(X.shape[1])
        summary = summarise(
            X,
            targets,
            sample_weight,
            self._subsample_sizes(all_rows),
            random_state,
            center=self.center,
            estimator_name=name,
            standardise_targets=settings.head.standardises_targets,
            **rows_options,
        )
        return self._store(solve(summary, settings, random_state), namespace)

    def _partial_fit(self, X, y, sample_weight, **target_options):
        if is_dask_array(X):
            raise TypeError(PARTIAL_FIT_MESSAGE)
        namespace = dispatched_namespace(X)
        if namespace is not None:
            X, y, sample_weight = (to_numpy(value) for value in (X, y, sample_weight))
        stream = getattr(self, "_stream", None)
        X, y, sample_weight = validate_training_data(
            self, X, y, sample_weight, reset=stream is None, min_samples=1,
            **self._target_kind(),
        )  # fmt: skip
        targets, sample_weight = self._targets(
            y, sample_weight, reset=stream is None, streaming=True, **target_options
        )
        settings = self._solver_settings(X.shape[1])
        if stream is None:
            capacity = max(
                _SIGN_SEARCH_SAMPLES, self._subsample_sizes(REFINE_SAMPLES)[1]
            )
            stream = Stream(capacity, X.shape[1], check_random_state(self.random_state))
            self._stream = stream
        stream.add(X, targets, sample_weight, type(self).__name__)
        random_state = check_random_state(self.random_state)
        summary = stream.summary(
            self._subsample_sizes(REFINE_SAMPLES),
            random_state,
            center=self.center,
            standardise_targets=settings.head.standardises_targets,
        )
        return self._store(solve(summary, settings, random_state), namespace)

    def _solver_settings(self, n_features):
        if self.kernel_sizes is None:
            kernel_sizes = default_kernel_sizes(n_features)
        else:
            kernel_sizes = check_kernel_sizes(self.kernel_sizes, n_features)
        activations = resolve_activations(
            self.activation, self.output_activation, len(kernel_sizes)
        )
        return SolverSettings(
            kernel_sizes=kernel_sizes,
            activations=tuple(activations),
            rank=self.rank,
            init=self.init,
            n_init=self.n_init,
            refine=self.refine,
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
            estimator_name=type(self).__name__,
            **self._solver_options(),
        )

    def _subsample_sizes(self, all_rows):
        """Sizes of the sign-search and refinement subsamples
        (``refine_samples=None`` means ``all_rows``)."""
        refine_size = all_rows if self.refine_samples is None else self.refine_samples
        if not self.refine and self.init == "deeptd":
            # One start, nothing to refine or compare: the sign-search rows are
            # all that is read.
            refine_size = min(refine_size, _SIGN_SEARCH_SAMPLES)
        return _SIGN_SEARCH_SAMPLES, refine_size

    def _store(self, network, namespace):
        """Set every fitted attribute from a FittedNetwork, in ``namespace``."""
        kernels = [kernel.copy() for kernel in network.kernels]
        kernels[0] = kernels[0] / network.input_scale
        one_output = isinstance(network.intercept, float)
        depth = len(kernels)
        # The fitted arrays go to X's namespace together, in one transfer.
        arrays = all_to_namespace(
            [*kernels, *network.td_kernels, network.weights]
            + ([] if one_output else [network.intercept]),
            namespace,
        )
        self.kernels_ = arrays[:depth]
        self.td_kernels_ = arrays[depth : 2 * depth]
        self.weights_ = arrays[2 * depth]
        self.intercept_ = network.intercept if one_output else arrays[-1]
        self.input_scale_ = network.input_scale
        self.kernel_sizes_ = network.kernel_sizes
        self.activations_ = tuple(a.name for a in network.activations)
        self.n_iter_ = network.n_iter
        return self

    def _network_outputs(self, X, method="predict"):
        """The fitted network's outputs on X: (n,) for one output, (n, m) for
        several; lazy for a dask X, in X's namespace under dispatch (``method``
        is named when X's namespace is not the fit's)."""
        check_is_fitted(self)
        if is_dask_array(X):
            return predict_dask(self, X)
        check_same_namespace(X, self, attribute="weights_", method=method)
        X = validate_prediction_data(self, X, dispatched_namespace(X))
        return network_output(
            X,
            self.kernels_,
            self.weights_,
            self.intercept_,
            [ACTIVATIONS[name] for name in self.activations_],
            self.input_scale_,
        )


class DeepTDRegressor(RegressorMixin, BaseDeepTD):
    """Deep convolutional network on non-overlapping patches, learned by DeepTD.

    The network has one kernel per layer (or ``rank`` parallel branches). Layer
    ``l`` cuts its input into consecutive blocks of ``kernel_sizes[l]`` entries,
    takes the inner product of each block with the kernel and applies its
    activation; the last layer leaves one number per branch, and the prediction
    is ``intercept_ + sum_j weights_[j] * branch_j(x)``.

    DeepTD learns every kernel at once from one pass over the data: it forms the
    centred moment tensor ``T = mean((y - mean y) * X(x))`` (X(x) is the input
    reshaped by the patch structure), takes its best rank-``rank``
    decomposition, resolves signs and scale, and, with ``refine=True``, refines
    the network by least squares.

    Parameters
    ----------
    kernel_sizes : tuple of int, default=None
        Kernel size of each layer, input layer first; their product must equal
        the number of features. ``None`` factorises ``n_features`` into at most
        three sizes: its prime factors are dealt out, largest first, to the layer
        with the smallest current product (512 -> (8, 8, 8), 30 -> (5, 3, 2),
        a prime p -> (p,)). The sizes used are stored in ``kernel_sizes_``.
    activation : str or tuple of str, default="relu"
        Activation of the hidden layers: one name for all of them, or one per
        hidden layer (``len(kernel_sizes) - 1`` names). Names: ``"relu"``,
        ``"leaky_relu"`` (slope 0.01 for negative inputs), ``"tanh"``,
        ``"sigmoid"``, ``"softplus"``, ``"identity"``.
    output_activation : str, default="identity"
        Activation of the last layer, from the same names.
    rank : int, default=1
        Number of parallel branches (the rank of the decomposition).
    center : bool, default=True
        Centre the targets before forming the moment (DeepTD). ``False`` gives the
        NaiveTD baseline of the paper.
    max_iter : int, default=300
        Maximum number of iterations of the refinement (Gauss-Newton or
        L-BFGS, see Notes); the decomposition may take ``10 * max_iter``
        sweeps of alternating least squares (each costs
        ``O(n_features * rank)``, nothing beside the pass over X). Most fits
        stop well before (the iteration counts of planted networks are in
        doc/performance.rst).
    tol : float, default=1e-7
        Tolerance of both stages: the decomposition stops when its relative error
        changes by less than ``tol``; the refinement stops when the loss
        (relative to the variance of ``y``) decreases by less than ``tol`` in an
        iteration or every gradient entry is below ``tol`` (Gauss-Newton also
        when its undamped step predicts a decrease below ``tol``).
    refine : bool, default=True
        Refine all kernels, branch weights and the intercept by minimising the
        squared loss, starting from the DeepTD estimate.
    init : {"deeptd", "random"}, default="deeptd"
        Where the network starts. ``"deeptd"`` is the DeepTD estimate (moment,
        decomposition, signs and scale). ``"random"`` draws unit-norm Gaussian
        kernels from ``random_state`` and fits only the branch weights and
        intercept: the random start of ordinary training, as a baseline to
        measure what DeepTD adds (use it with ``refine=True``); a network that
        is dead on the sign-search rows is redrawn, as a user would, up to 100
        times.
    refine_samples : int or None, default=5000
        Number of rows the refinement uses, drawn from ``random_state`` among
        the rows of positive weight, in aligned runs of 32 consecutive rows
        that are cheap to read (all rows when there are fewer). It bounds the cost of
        refining a large data set to a few passes over ``X``; ``None`` refines
        on every row.
    n_init : "auto" or int, default="auto"
        Number of starts; the best is kept. With ``init="deeptd"``, starts of
        the decomposition (the HOSVD start, then random ones), keeping the
        smallest approximation error: a noisy moment can hold local optima
        that the HOSVD start alone does not escape; ``"auto"`` means 10, at a
        cost that does not depend on ``n_samples``. With ``init="random"``,
        random networks, each refined, keeping the lowest training loss (the
        restarts of ordinary training); ``"auto"`` means 1.
    random_state : int, RandomState instance or None, default=None
        Draws the subsample of at most 4096 rows (runs of 32 consecutive rows)
        used to choose kernel signs and the scale (nested in the
        ``refine_samples`` rows of the refinement), the random
        starts of the decomposition, the random networks of
        ``init="random"``, and the reservoir sample of :meth:`partial_fit`.
        Pass an int for reproducible fits.
    verbose : int, default=0
        Print progress of the decomposition and the refinement when positive.

    Attributes
    ----------
    kernels_ : list of ndarray of shape (rank, d_l)
        Fitted kernels, input layer first, float64 whatever the dtype of ``X``;
        the first acts on ``X`` itself. Only their directions are identified.
        Under array API dispatch these arrays (and ``td_kernels_``,
        ``weights_``) are in X's namespace and on its device.
    td_kernels_ : list of ndarray of shape (rank, d_l)
        The unit-norm starting kernels (float64), before refinement: the DeepTD
        estimate with resolved signs, or the random start with
        ``init="random"``; the first acts on ``X / input_scale_``.
    weights_ : ndarray of shape (rank,) or (rank, n_targets)
        Weight of each branch in the output (in each target's, for a 2-D
        ``y``), float64.
    intercept_ : float or ndarray of shape (n_targets,)
        Constant added to the output (to each target's).
    input_scale_ : float
        Weighted root mean square entry of the training ``X`` (estimated on
        about 512 rows of the subsamples). The network is fitted to
        ``X / input_scale_``, so that the fit of ``X * s`` is that of ``X``
        for every scale ``s``, and :meth:`predict` evaluates it there.
    kernel_sizes_ : tuple of int
        Kernel size of each layer.
    activations_ : tuple of str
        Activation of each layer, output layer last.
    n_iter_ : int
        Iterations of the last stage run: refinement iterations (Gauss-Newton
        or L-BFGS) with ``refine=True``, else decomposition sweeps (0 for a
        zero moment).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string feature names.

    See Also
    --------
    PlantedCNNDataset : Planted networks with Gaussian inputs, to test recovery.
    kernel_correlation : Per-layer recovery of planted kernels.
    sklearn.neural_network.MLPRegressor : A fully connected network trained by
        gradient descent.

    Notes
    -----
    For Gaussian inputs, Stein's lemma makes ``T`` close to
    ``alpha * k_1 (x) ... (x) k_D`` where ``alpha`` is the product of each layer's
    mean activation slope; DeepTD therefore needs activations whose derivative
    does not average to zero, inputs that are roughly Gaussian (standardise
    them), and of the order of ``sum(kernel_sizes)`` samples. Its estimate has a
    bias for nonlinear networks that refinement removes.

    The data cost of a fit is one pass over ``X``: the moment is the single
    product ``X.T @ (w * (y - mean y)) / std(y)``, which also reveals NaN or
    infinite entries, so ``X`` is neither copied, centred, nor scaled, and
    only the rows whose multiplier is zero (zero weight, or a target equal to
    the mean, or to 0 with ``center=False``) are checked apart. Every way in
    (NumPy, :meth:`partial_fit`, dask, array API) reduces its rows to the same
    statistics and subsamples, standardised by the same rules, and hands them
    to the same solver. float64 and float32 inputs of either memory order are
    used in place; C-ordered float32 inputs are read in blocks of 2^20 rows
    whose products are summed in float64, and every fitted attribute is
    float64. The sign search and the refinement read only
    their subsamples (at most 4096 and ``refine_samples`` rows), gathered once
    into float64. The products run in the BLAS numpy links to, so
    ``threadpoolctl.threadpool_limits`` applies and, inside
    ``GridSearchCV(n_jobs=...)``, joblib's limit of one BLAS thread per worker
    avoids oversubscription; the estimator starts no threads of its own.
    :meth:`partial_fit` streams data in batches with exact sufficient
    statistics (see its docstring).

    The moment does not reveal signs or scale. For each branch the per-layer
    signs are chosen to maximise the absolute correlation of the branch output
    with the targets on at most 4096 rows, then branch weights and intercept
    are fitted by least squares. Every one of the ``2**D`` patterns is
    scored, at any depth: layer ``l`` evaluates its ``2**l`` patterns in one
    array operation, on ``p / (d_1 ... d_l)`` outputs per row each, so with
    kernels of size 2 or more the search costs about one forward pass per
    layer over the subsample, in row blocks of bounded memory. Patterns that
    an activation's symmetry makes
    equivalent (an odd hidden activation: flipping its layer and the next one;
    an odd output activation: the output kernel's sign, which the branch weight
    absorbs) score the same, and ties go to the positive correlation with
    fewer flips, so the choice is deterministic. Later branches are chosen
    against what the earlier ones leave unexplained.

    A start whose every branch is constant on the sign-search rows (a dead
    ReLU network, whatever its signs) is never refined silently: the next
    distinct decomposition among the ``n_init`` starts is tried, and when
    none lives the fit warns and the model predicts the mean. ``init="random"``
    redraws a dead random network, up to 100 draws per start, from
    ``random_state``.

    Refinement minimises the weighted squared loss over every kernel, branch
    weight and the intercept on at most ``refine_samples`` rows, by damped
    Gauss-Newton (Levenberg-Marquardt) steps when the Gauss-Newton matrix of a
    row (``n_targets * n_parameters**2`` products) costs at most four times
    reading it (``n_features``), else by L-BFGS; both use the analytic
    gradients of one backward pass per iteration (Gauss-Newton keeps each
    row's). Gauss-Newton converges in a few iterations where the residual is
    small (see doc/performance.rst). The refinement stops when the loss
    decreases by less than ``tol`` (relative) or the gradient vanishes
    (Gauss-Newton also when its undamped step predicts a decrease below
    ``tol``, or when no damped step lowers the loss), and warns with a
    ``ConvergenceWarning`` when it stops on ``max_iter`` instead.

    References
    ----------
    S. Oymak and M. Soltanolkotabi, "End-to-end Learning of a Convolutional
    Neural Network via Deep Tensor Decomposition", arXiv:1805.06523, 2018.

    Examples
    --------
    >>> from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset
    >>> planted = PlantedCNNDataset(kernel_sizes=(4, 4, 4), random_state=0)
    >>> X, y = planted.sample(500, random_state=1)
    >>> model = DeepTDRegressor(kernel_sizes=(4, 4, 4), random_state=0).fit(X, y)
    >>> X_test, y_test = planted.sample(200, random_state=2)
    >>> bool(model.score(X_test, y_test) > 0.99)
    True
    """

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Learn the network's kernels from (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs; ``n_features`` must be the product of the kernel
            sizes. Dense, finite, real numbers only: sparse matrices raise a
            ``TypeError`` (convert them with ``.toarray()``), strings, complex
            numbers, NaN and infinity a ``ValueError``. The network is fitted
            to ``X / input_scale_`` (the root mean square entry, estimated on
            about 512 rows of the subsamples) and the first kernel divided by
            it: an exact reparametrisation that makes the fit of ``X * s``
            that of ``X`` for any scale ``s`` (1e-200 to 1e200). float64 and
            float32 arrays of either memory order are used as they are,
            without a copy; other dtypes are converted to float64. A
            ``dask.array`` (``dask`` extra) is reduced chunk by chunk on its
            cluster, never materialised: the moment from exact per-chunk
            statistics, the sign search and refinement on a uniform
            subsample of ``max(4096, refine_samples)`` rows drawn from
            ``random_state`` and gathered (``refine_samples=None`` counts as
            5000; rows of zero weight are dropped from it). With
            ``sklearn.set_config(array_api_dispatch=True)``, a CuPy array,
            PyTorch tensor or other array API array is read on its device
            (the moment, the finiteness check, the gathered subsample), the
            subsample crosses to the host once with the moment and is fitted
            there as a NumPy one, and the fitted arrays are in X's namespace
            and on its device; with ``refine_samples=None`` the refinement's
            passes run on the device. See doc/scaling.rst.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets: finite real numbers (strings raise a ``ValueError``).
            Several targets share the branches: their moments, stacked,
            get one joint decomposition, and each target has its own output
            weights and intercept.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative, finite weights of the samples in the moment and in
            the loss, not all zero; an integer weight is equivalent to
            repeating the sample.

        Returns
        -------
        self : DeepTDRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Add a batch of samples to the moment and update the network.

        The moment's sufficient statistics (total weight, weighted mean and
        spread of ``y``, the weighted means of ``x`` and of ``(y - mean) x``,
        each in overflow-safe units) are merged exactly, batch by batch, so
        after
        any split of the data into batches the DeepTD moment, and therefore the
        decomposition, equals that of one ``fit(refine=False)`` on the
        concatenated batches (to rounding). Signs, scale, branch weights,
        intercept and the refinement need rows: they use a uniform reservoir
        sample of at most ``max(4096, refine_samples)`` rows of positive weight
        of the stream (``refine_samples=None`` counts as 5000), kept by
        reservoir sampling drawn from ``random_state``; memory stays bounded
        by that reservoir and one batch. The network is recomputed from the
        statistics and the reservoir after every call, so predictions are
        available after each one; while all rows seen fit in the reservoir,
        the result is that of ``fit`` on their concatenation. A batch may
        have one row, or weights that are all zero; while every weight seen
        is zero, ``partial_fit`` raises the error ``fit`` raises (the batch
        is kept in the stream).
        ``fit`` discards the stream, and a ``partial_fit`` after ``fit`` starts
        a new one. Under array API dispatch the stream is kept in NumPy and the
        fitted arrays go back to the batch's namespace and device; dask arrays
        are refused (``fit`` takes them whole).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of inputs; every batch must have the same number of
            features as the first.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets of the batch; every batch has as many targets as the
            first.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples (see :meth:`fit`).

        Returns
        -------
        self : DeepTDRegressor
            The updated estimator.
        """
        return self._partial_fit(X, y, sample_weight)

    def _target_kind(self):
        return {"multi_output": True}

    def _solver_options(self):
        return {"head": SQUARED_ERROR}

    def _targets(self, y, sample_weight, *, reset, streaming=False):
        """The targets as they are; every batch of a stream has as many."""
        n_targets = None if y.ndim == 1 else y.shape[1]
        if reset:
            self._n_targets = n_targets
        elif n_targets != self._n_targets:
            raise ValueError(
                f"y has {_targets_of(n_targets)} but the earlier batches had "
                f"{_targets_of(self._n_targets)}."
            )
        return y, sample_weight

    def predict(self, X):
        """Evaluate the fitted network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predicted targets: a lazy dask array for a dask ``X`` (one block
            per row chunk), an array of X's namespace and device under array
            API dispatch. Inputs far larger than the training data are
            evaluated at a power-of-two scale, so that they give the
            network's value, not NaN; where that value overflows, a
            ``RuntimeWarning`` says so.
        """
        return self._network_outputs(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        tags.target_tags.multi_output = True
        return tags
