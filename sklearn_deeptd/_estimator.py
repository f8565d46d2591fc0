"""DeepTDRegressor: the scikit-learn estimator that orchestrates DeepTD."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._array_api import (
    check_same_namespace,
    get_namespace,
    get_namespace_and_device,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    assert_all_finite,
    check_is_fitted,
    validate_data,
)

from ._activations import ACTIVATIONS, resolve_activations
from ._array_api import (
    device_statistics,
    dispatched_namespace,
    float_dtype,
    predict_on_device,
    take_rows,
    to_namespace,
    to_numpy,
)
from ._calibration import (
    fit_branch_weights,
    random_unit_kernels,
    resolve_signs_and_scale,
)
from ._dask import (
    as_row_chunked,
    as_vector_like,
    import_dask_array,
    is_dask_array,
    predict_chunk,
)
from ._decomposition import cp_decomposition
from ._kernel_sizes import check_kernel_sizes, default_kernel_sizes
from ._moment import (
    check_finite_product,
    cross_product,
    standardised_multipliers,
    targets_are_constant,
    tensorize,
)
from ._network import forward, predict_network
from ._refinement import refine
from ._streaming import MomentStatistics, Reservoir, chunk_statistics
from ._subsample import gather_rows, rows_with_weight, subsample_plan
from ._validation import (
    check_not_strings,
    input_scale,
    normalised_sample_weight,
    rms_row_norm_estimate,
    stable_norm,
)

# The sign search only needs a subsample; it is drawn from random_state.
SIGN_SEARCH_SAMPLES = 4096

# Starts of the decomposition with n_init="auto": the HOSVD start alone can stop
# at a worse local optimum of a noisy moment, and a start costs only O(n_features)
# per sweep, nothing beside the pass over X.
DECOMPOSITION_STARTS = 10

# Rows the refinement touches by default: enough for exact recovery of planted
# networks and for noise to average out (see the README's budget measurement),
# while a fit on millions of rows costs a few passes over X, not hundreds.
REFINE_SAMPLES = 5000

# predict evaluates the network on blocks of this many rows.
PREDICT_BLOCK_ROWS = 2**12

# ||T|| is at most the root mean square norm of the rows of X (y standardised),
# so this ratio measures how much of X correlates with y at all.
ZERO_MOMENT_RATIO = 1e-10


def _moment_is_negligible(X_sample, moment, sample_weight):
    # The root mean square row norm is estimated on about 512 of the
    # sign-search rows (a subsample), not on all of X: the ratio is
    # only an order of magnitude, and a second pass over X would double the
    # cost of a fit.
    # Both norms overflow-safe: X of scale 1e200 or 1e-200 is not "zero".
    norm = stable_norm(moment)
    if norm == 0:
        return True
    rms = rms_row_norm_estimate(X_sample, sample_weight)
    return bool(rms > 0 and norm <= ZERO_MOMENT_RATIO * rms)


def _standardised_rows(pool, positions, y_mean, y_scale):
    """Rows of the pool at ``positions``, standardised targets, weights summing
    to one (``slice(None)``: the whole pool, without a copy of X). The pool
    may live in any array API namespace; the rows stay there."""
    X_rows, y_rows, weight = (take_rows(array, positions) for array in pool)
    return X_rows, (y_rows - y_mean) / y_scale, normalised_sample_weight(weight)


def _input_scaled(X_pool, weight_pool):
    """The pool's rows divided by the input scale (see ``input_scale``), and
    that scale: X of extreme magnitude is fitted on ``X / scale``."""
    x_scale = input_scale(X_pool, weight_pool)
    if x_scale != 1.0:
        X_pool = X_pool / x_scale
    return X_pool, x_scale


def _on_host(network):
    """A network's kernels, branch weights and intercept as NumPy float64."""
    kernels, weights, intercept = network
    kernels = [np.asarray(to_numpy(kernel), dtype=np.float64) for kernel in kernels]
    weights = np.asarray(to_numpy(weights), dtype=np.float64)
    return kernels, weights, float(intercept)


def _flip_to_positive_weights(kernels, weights, output_activation):
    # An odd output activation lets the output kernel and the branch weight flip
    # sign together: report the representative with a positive weight.
    if not output_activation.odd:
        return kernels, weights
    signs = np.where(weights < 0, -1.0, 1.0)
    kernels = kernels[:-1] + [kernels[-1] * signs[:, None]]
    return kernels, weights * signs


class DeepTDRegressor(RegressorMixin, BaseEstimator):
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
    max_iter : int, default=100
        Maximum number of iterations of the decomposition (sweeps of alternating
        power iterations or least squares) and, separately, of the L-BFGS
        refinement.
    tol : float, default=1e-7
        Tolerance of both stages: the decomposition stops when its relative error
        changes by less than ``tol``; L-BFGS stops when the loss (relative to the
        variance of ``y``) decreases by less than ``tol`` in an iteration or every
        gradient entry is below ``tol``.
    refine : bool, default=True
        Refine all kernels, branch weights and the intercept by minimising the
        squared loss, starting from the DeepTD estimate.
    init : {"deeptd", "random"}, default="deeptd"
        Where the network starts. ``"deeptd"`` is the DeepTD estimate (moment,
        decomposition, signs and scale). ``"random"`` draws unit-norm Gaussian
        kernels from ``random_state`` and fits only the branch weights and
        intercept: the random start of ordinary training, as a baseline to
        measure what DeepTD adds (use it with ``refine=True``).
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
        starts of the decomposition, and the random networks of
        ``init="random"``. Pass an int for reproducible fits.
    verbose : int, default=0
        Print progress of the decomposition and the refinement when positive.

    Attributes
    ----------
    kernels_ : list of ndarray of shape (rank, d_l)
        Fitted kernels, input layer first, float64 whatever the dtype of ``X``.
        Only their directions are identified. Under array API dispatch these
        arrays (and ``td_kernels_``, ``weights_``) are in X's namespace and on
        its device.
    td_kernels_ : list of ndarray of shape (rank, d_l)
        The unit-norm starting kernels (float64), before refinement: the DeepTD
        estimate with resolved signs, or the random start with
        ``init="random"``.
    weights_ : ndarray of shape (rank,)
        Weight of each branch in the output (float64).
    intercept_ : float
        Constant added to the output.
    kernel_sizes_ : tuple of int
        Kernel size of each layer.
    activations_ : tuple of str
        Activation of each layer, output layer last.
    n_iter_ : int
        Iterations of the last stage run: L-BFGS iterations with
        ``refine=True``, else decomposition sweeps (0 for a zero moment).
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
    product ``X.T @ (w * (y - mean y))``, which also reveals NaN or infinite
    entries, so ``X`` is neither copied, centred, nor checked in a separate
    pass. float64 and float32 inputs of either memory order are used in place;
    float32 products are summed in float64 over blocks of 2^20 rows, and every
    fitted attribute is float64. The sign search and the refinement read only
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
    are fitted by least squares. Up to depth 12 every one of the ``2**D``
    patterns is tried; patterns share their prefixes, so with kernels of size
    at least 2 the search costs at most about ``2 * D`` forward passes over
    the subsample. Beyond depth 12 signs are flipped one at a time while the
    correlation improves. Patterns that an activation's symmetry makes
    equivalent (an odd hidden activation: flipping its layer and the next one;
    an odd output activation: the output kernel's sign, which the branch weight
    absorbs) score the same, and ties go to the positive correlation with
    fewer flips, so the choice is deterministic. Later branches are chosen
    against what the earlier ones leave unexplained.

    Refinement minimises the weighted squared loss over every kernel, branch
    weight and the intercept with L-BFGS (analytic gradients) on at most
    ``refine_samples`` rows; it stops when the loss decreases by less than
    ``tol`` (relative) or the gradient vanishes, and warns with a
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

    _parameter_constraints: dict = {
        "kernel_sizes": [None, "array-like"],
        "activation": [StrOptions(set(ACTIVATIONS)), tuple, list],
        "output_activation": [StrOptions(set(ACTIVATIONS))],
        "rank": [Interval(Integral, 1, None, closed="left")],
        "center": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "refine": ["boolean"],
        "init": [StrOptions({"deeptd", "random"})],
        "refine_samples": [Interval(Integral, 2, None, closed="left"), None],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
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
        max_iter=100,
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Learn the network's kernels from (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs; ``n_features`` must be the product of the kernel
            sizes. Dense, finite, real numbers only: sparse matrices raise a
            ``TypeError`` (convert them with ``.toarray()``), strings, complex
            numbers, NaN and infinity a ``ValueError``. Inputs whose root mean
            square entry is below 1e-6 or above 1e6 are fitted on
            ``X / scale`` and the first kernel divided by ``scale``, an exact
            reparametrisation that keeps every quantity finite (the scale is
            estimated on about 512 rows of the subsamples). float64 and
            float32 arrays of either memory order are used as they are, without
            a copy (except at such extreme scales); other dtypes are converted
            to float64. A ``dask.array`` (``dask`` extra) is reduced chunk by
            chunk on its cluster, never materialised: the moment from exact
            per-chunk statistics, the calibration and refinement on a uniform
            subsample of ``max(4096, refine_samples)`` rows drawn from
            ``random_state`` and gathered (``refine_samples=None`` counts as
            5000). With ``sklearn.set_config(array_api_dispatch=True)``, a
            CuPy array, PyTorch tensor or other array API array is fitted in
            its own namespace and on its device: the moment, the finiteness
            check, the subsamples, the decomposition, the sign search and the
            refinement's forward and backward passes (L-BFGS steps on the
            host, on the parameter vector); the fitted arrays are in X's
            namespace and on its device. See doc/scaling.rst.
        y : array-like of shape (n_samples,)
            Targets: finite real numbers (strings raise a ``ValueError``).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative, finite weights of the samples in the moment and in
            the loss, not all zero; an integer weight is equivalent to
            repeating the sample.

        Returns
        -------
        self : DeepTDRegressor
            The fitted estimator.
        """
        self._reset_stream()
        if is_dask_array(X):
            return self._fit_dask(X, y, sample_weight)
        namespace = dispatched_namespace(X)
        if namespace is not None:
            return self._fit_on_device(X, y, sample_weight, *namespace)
        X, y, sample_weight = self._validate_batch(
            X, y, sample_weight, reset=True, ensure_min_samples=2
        )
        if sample_weight is not None:
            sample_weight = normalised_sample_weight(sample_weight)
        activations = self._setup(X.shape[1])
        random_state = check_random_state(self.random_state)
        pool, positions = self._draw_pool(X, y, sample_weight, random_state)
        # Extreme input scales (1e-200, 1e200) are fitted on X / x_scale (a
        # copy, in that case only), estimated on the pool's rows.
        X_pool, x_scale = _input_scaled(pool[0], pool[2])
        if x_scale != 1.0:
            X = X_pool if pool[0] is X else X / x_scale
        pool = (X_pool, *pool[1:])
        y_mean, y_scale, multipliers = standardised_multipliers(
            y, sample_weight, center=self.center, dtype=X.dtype
        )
        name = type(self).__name__
        if multipliers is None or self.init == "random":
            # No moment to read X with: one pass to check it is finite.
            moment = None
            weight = sample_weight
            if weight is None:
                weight = np.full(X.shape[0], 1.0 / X.shape[0])
            check_finite_product(X, weight, cross_product(X, weight), name)
            if multipliers is None:
                return self._fit_mean(y_mean, "the targets are constant")
        else:
            moment = cross_product(X, multipliers)
            check_finite_product(X, multipliers, moment, name)
            del multipliers
        return self._calibrate(
            moment,
            pool,
            positions,
            y_mean,
            y_scale,
            activations,
            random_state,
            x_scale,
        )

    def _validate_batch(self, X, y, sample_weight, *, reset, ensure_min_samples):
        """Validated float64/float32 X (never copied), float64 y and weights
        (None stays None: equal weights)."""
        check_not_strings(X, "X"), check_not_strings(y, "y")
        check_not_strings(sample_weight, "sample_weight")
        # Finiteness is checked on the moment (one pass over X, not two).
        X, y = validate_data(
            self,
            X,
            y,
            dtype=[np.float64, np.float32],
            ensure_all_finite=False,
            y_numeric=True,
            ensure_min_samples=ensure_min_samples,
            reset=reset,
        )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        return X, np.asarray(y, dtype=np.float64), sample_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Add a batch of samples to the moment and update the network.

        The moment's sufficient statistics (total weight, weighted mean and
        squared deviations of ``y``, ``sum w x``, ``sum w (y - mean) x``) are
        merged exactly, batch by batch, so after
        any split of the data into batches the DeepTD moment, and therefore the
        decomposition, equals that of one ``fit(refine=False)`` on the
        concatenated batches (to rounding). Signs, scale, branch weights,
        intercept and the refinement need rows: they use a uniform reservoir
        sample of at most ``max(4096, refine_samples)`` rows of the stream
        (``refine_samples=None`` counts as 5000), kept by reservoir sampling
        drawn from ``random_state``; memory stays bounded by that reservoir
        and one batch. The network is recomputed from the statistics and the
        reservoir after every call, so predictions are available after each
        one; while all rows seen fit in the reservoir, the result is that of
        ``fit`` on their concatenation. ``fit`` discards the stream, and a
        ``partial_fit`` after ``fit`` starts a new one.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of inputs; every batch must have the same number of
            features as the first.
        y : array-like of shape (n_samples,)
            Targets of the batch.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples (see :meth:`fit`).

        Returns
        -------
        self : DeepTDRegressor
            The updated estimator.
        """
        first_call = not hasattr(self, "_statistics")
        if is_dask_array(X):
            raise TypeError(
                "partial_fit does not take dask arrays; fit takes them whole, "
                "or pass the computed chunks (numpy) one by one."
            )
        if dispatched_namespace(X) is not None:
            # The stream keeps NumPy statistics and reservoir: batches are
            # copied to the host.
            X, y, sample_weight = (
                None if value is None else to_numpy(value)
                for value in (X, y, sample_weight)
            )
        X, y, sample_weight = self._validate_batch(
            X, y, sample_weight, reset=first_call, ensure_min_samples=1
        )
        if sample_weight is None:
            sample_weight = np.ones(X.shape[0])
        activations = self._setup(X.shape[1])
        if first_call:
            capacity = max(
                SIGN_SEARCH_SAMPLES,
                REFINE_SAMPLES if self.refine_samples is None else self.refine_samples,
            )
            self._statistics = MomentStatistics(X.shape[1])
            self._reservoir = Reservoir(capacity, X.shape[1])
            self._reservoir_random_state = check_random_state(self.random_state)
        self._statistics.update(X, y, sample_weight, type(self).__name__)
        self._reservoir.update(X, y, sample_weight, self._reservoir_random_state)

        statistics = self._statistics
        y_mean, y_scale = statistics.mean_and_std()
        if statistics.sum_w <= 0:
            raise ValueError("The samples seen so far have zero total weight.")
        if targets_are_constant(y_mean, y_scale):
            return self._fit_mean(y_mean, "the targets are constant")
        moment = statistics.moment(center=self.center) / y_scale
        reservoir = self._reservoir
        weight = reservoir.sample_weight
        if weight.sum() <= 0:
            return self._fit_mean(y_mean, "the reservoir rows have zero weight")
        random_state = check_random_state(self.random_state)
        pool, positions = self._draw_pool(
            reservoir.X, reservoir.y, weight, random_state
        )
        return self._calibrate(
            moment, pool, positions, y_mean, y_scale, activations, random_state, 1.0
        )

    def _fit_dask(self, X, y, sample_weight):
        """``fit`` on a dask array: statistics per chunk, calibration on a sample.

        One ``dask.compute`` reduces every row chunk to its sufficient
        statistics (:func:`~sklearn_deeptd._streaming.chunk_statistics`) and gathers
        a subsample of ``max(4096, refine_samples)`` rows (all rows when there
        are fewer) drawn from ``random_state``, on which the input scale is
        also estimated; the rest runs on the client as in :meth:`partial_fit`.
        """
        dask, da = import_dask_array("DeepTDRegressor.fit on a dask array")
        X = as_row_chunked(da, X)
        n_samples, n_features = X.shape
        activations = self._setup_unvalidated(X.shape)
        y = as_vector_like(da, y, X, "y")
        if sample_weight is None:
            sample_weight = da.ones(n_samples, chunks=(X.chunks[0],))
        else:
            sample_weight = as_vector_like(da, sample_weight, X, "sample_weight")
        random_state = check_random_state(self.random_state)
        # refine_samples=None cannot mean every row of a cluster's data set.
        pool_rows, positions = subsample_plan(
            n_samples, self._subsample_sizes(REFINE_SAMPLES), random_state
        )
        name = type(self).__name__
        statistics = da.map_blocks(
            chunk_statistics,
            X,
            y[:, None],
            sample_weight[:, None],
            name,
            chunks=((1,) * len(X.chunks[0]), (2 * n_features + 3,)),
            dtype=np.float64,
            meta=np.empty((0, 0)),
        )
        statistics, X_pool, y_pool, w_pool = dask.compute(
            statistics,
            X[pool_rows],
            y[pool_rows],
            sample_weight[pool_rows],
        )
        statistics = MomentStatistics.from_rows(statistics)
        if not statistics.sum_w > 0:
            raise ValueError(
                "sample_weight must contain at least one positive weight; all the "
                "weights are zero."
            )
        y_mean, y_scale = statistics.mean_and_std()
        X_pool, x_scale = _input_scaled(np.asarray(X_pool, dtype=np.float64), w_pool)
        if targets_are_constant(y_mean, y_scale):
            return self._fit_mean(y_mean, "the targets are constant")
        if not w_pool.sum() > 0:
            return self._fit_mean(y_mean, "the sampled rows have zero weight")
        kept = rows_with_weight(w_pool)
        if kept is not None:
            # Drawn among all rows, the pool may hold rows of zero weight: the
            # subsamples are drawn again among the others.
            X_pool, y_pool, w_pool = X_pool[kept], y_pool[kept], w_pool[kept]
            _, positions = subsample_plan(
                kept.size, self._subsample_sizes(REFINE_SAMPLES), random_state
            )
        moment = None
        if self.init != "random":
            moment = statistics.moment(center=self.center) / (y_scale * x_scale)
        pool = (X_pool, np.asarray(y_pool, dtype=np.float64), w_pool)
        return self._calibrate(
            moment, pool, positions, y_mean, y_scale, activations, random_state, x_scale
        )

    def _fit_on_device(self, X, y, sample_weight, xp, device):
        """``fit`` under array API dispatch: the whole fit on X's device.

        The statistics of ``y`` and the moment run in X's namespace
        (:func:`~sklearn_deeptd._array_api.device_statistics`); the subsamples
        of the calibration are gathered on the device and stay there, where
        the decomposition, the sign search and the refinement's forward and
        backward passes run (L-BFGS itself steps on the host, on the
        parameter vector); the fitted arrays are float64 NumPy until they are
        moved to X's namespace and device at the end.
        """
        name = type(self).__name__
        if X.ndim != 2:
            raise ValueError(f"Expected a 2-D array for X, got {X.ndim}-D.")
        if X.dtype not in (xp.float32, xp.float64):
            # As validate_data does for NumPy: integer (or other) inputs become
            # floats; products in their dtype would truncate the moment.
            X = xp.astype(X, float_dtype(xp, device))
        n_samples, n_features = X.shape
        activations = self._setup_unvalidated(X.shape)
        y, sample_weight, y_mean, y_scale, moment = device_statistics(
            X, y, sample_weight, center=self.center, estimator_name=name
        )
        if moment is None:
            assert_all_finite(X, input_name="X", estimator_name=name)
            self._fit_mean(y_mean, "the targets are constant")
            return self._move_fitted_arrays(xp, device)
        random_state = check_random_state(self.random_state)
        (X_pool, y_pool, w_pool), positions = self._draw_pool(
            X, y, sample_weight, random_state
        )
        X_pool, x_scale = _input_scaled(X_pool, w_pool)
        moment = None if self.init == "random" else moment / x_scale
        self._calibrate(
            moment,
            (X_pool, y_pool, w_pool),
            positions,
            y_mean,
            y_scale,
            activations,
            random_state,
            x_scale,
        )
        return self._move_fitted_arrays(xp, device)

    def _move_fitted_arrays(self, xp, device):
        self.kernels_ = [to_namespace(k, xp, device) for k in self.kernels_]
        self.td_kernels_ = [to_namespace(k, xp, device) for k in self.td_kernels_]
        self.weights_ = to_namespace(self.weights_, xp, device)
        return self

    def _reset_stream(self):
        for name in ("_statistics", "_reservoir", "_reservoir_random_state"):
            if hasattr(self, name):
                delattr(self, name)

    def _setup_unvalidated(self, shape):
        """What ``validate_data`` records, for arrays it does not take (dask,
        other namespaces): at least 2 samples, ``n_features_in_``, no feature
        names; then :meth:`_setup`."""
        n_samples, n_features = shape
        if n_samples < 2:
            raise ValueError(
                f"Found array with {n_samples} sample(s) (shape={tuple(shape)}) "
                f"while a minimum of 2 is required by {type(self).__name__}."
            )
        self.n_features_in_ = n_features
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self._setup(n_features)

    def _setup(self, n_features):
        if self.kernel_sizes is None:
            self.kernel_sizes_ = default_kernel_sizes(n_features)
        else:
            self.kernel_sizes_ = check_kernel_sizes(self.kernel_sizes, n_features)
        activations = resolve_activations(
            self.activation, self.output_activation, len(self.kernel_sizes_)
        )
        self.activations_ = tuple(activation.name for activation in activations)
        return activations

    def _subsample_sizes(self, all_rows):
        """Sizes of the sign-search and refinement subsamples
        (``refine_samples=None`` means ``all_rows``)."""
        refine_size = all_rows if self.refine_samples is None else self.refine_samples
        if not self.refine and self.init == "deeptd":
            # One start, nothing to refine or compare: the sign-search rows are
            # all that is read.
            refine_size = min(refine_size, SIGN_SEARCH_SAMPLES)
        return SIGN_SEARCH_SAMPLES, refine_size

    def _draw_pool(self, X, y, sample_weight, random_state):
        """The nested sign-search and refinement subsamples of the rows of
        positive weight, drawn from ``random_state``: the larger gathered once
        into float64 (the pool), and the positions of both inside it."""
        candidates = rows_with_weight(sample_weight)
        n_samples = X.shape[0] if candidates is None else candidates.size
        pool_rows, positions = subsample_plan(
            n_samples, self._subsample_sizes(n_samples), random_state
        )
        if candidates is not None:
            pool_rows = candidates[pool_rows]
        return gather_rows(X, y, sample_weight, pool_rows), positions

    def _calibrate(
        self,
        moment,
        pool,
        positions,
        y_mean,
        y_scale,
        activations,
        random_state,
        x_scale,
    ):
        """Decomposition, signs, scale and refinement from the moment and rows.

        ``pool`` holds rows of X, y and their weights (in any scale: each
        subsample's weights are normalised) in float64 (the widest float of
        X's device under array API dispatch; see :meth:`_draw_pool`),
        ``positions`` the sign-search and refinement subsamples inside it.
        """
        search_rows, refine_rows = positions
        X_search, y_search, search_weight = _standardised_rows(
            pool, search_rows, y_mean, y_scale
        )
        if self.init == "random":
            starts = self._random_starts(
                X_search, y_search, search_weight, activations, random_state
            )
            n_iter = 0
        else:
            if _moment_is_negligible(X_search, moment, search_weight):
                return self._fit_mean(y_mean, "the moment tensor is zero")
            factors, n_iter = self._decompose(moment, random_state)
            starts = [
                resolve_signs_and_scale(
                    X_search, y_search, search_weight, factors, activations
                )
            ]
        del X_search
        X_refine, y_refine, refine_weight = _standardised_rows(
            pool, refine_rows, y_mean, y_scale
        )
        fits = [
            self._refine_start(
                X_refine,
                y_refine,
                refine_weight,
                start,
                activations,
                n_iter,
                compare=len(starts) > 1,
            )
            for start in starts
        ]
        best = min(range(len(fits)), key=lambda index: fits[index]["loss"])
        fit = fits[best]
        if fit["hit_max_iter"]:
            warnings.warn(
                f"The refinement stopped at max_iter={self.max_iter} L-BFGS "
                "iterations before converging; increase max_iter or tol.",
                ConvergenceWarning,
            )
        self.td_kernels_ = _on_host(starts[best])[0]
        self.n_iter_ = fit["n_iter"]
        kernels, weights, intercept = _on_host(fit["network"])
        kernels, weights = _flip_to_positive_weights(kernels, weights, activations[-1])
        self.kernels_ = [kernel.copy() for kernel in kernels]
        self.kernels_[0] /= x_scale
        self.weights_ = np.asarray(weights * y_scale, dtype=np.float64)
        self.intercept_ = float(y_mean + intercept * y_scale)
        return self

    def _random_starts(self, X, y, sample_weight, activations, random_state):
        """``n_init`` random networks: unit-norm kernels, least-squares weights."""
        # A derived stream: drawn straight from random_state, the first start
        # would equal a PlantedCNNDataset planted with the same seed.
        start_state = np.random.RandomState(random_state.randint(2**31 - 1))
        n_starts = 1 if self.n_init == "auto" else self.n_init
        xp, _, device = get_namespace_and_device(X)
        starts = []
        for _ in range(n_starts):
            kernels = [
                xp.asarray(kernel, dtype=X.dtype, device=device)
                for kernel in random_unit_kernels(
                    self.kernel_sizes_, self.rank, start_state
                )
            ]
            outputs = forward(X, kernels, activations)
            starts.append((kernels, *fit_branch_weights(outputs, y, sample_weight)))
        return starts

    def _refine_start(self, X, y, sample_weight, start, activations, n_iter, compare):
        """Refine one starting network; with ``refine=False`` only score it, and
        only when there are several starts to ``compare``."""
        kernels, weights, intercept = start
        if not self.refine:
            loss = 0.0
            if compare:
                outputs = forward(X, kernels, activations)
                residual = outputs @ weights + intercept - y
                loss = 0.5 * float(sample_weight @ residual**2)
            return {
                "network": start,
                "loss": loss,
                "n_iter": n_iter,
                "hit_max_iter": False,
            }
        *network, n_iter, hit_max_iter, loss = refine(
            X,
            y,
            sample_weight,
            kernels,
            weights,
            intercept,
            activations,
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
        )
        return {
            "network": network,
            "loss": loss,
            "n_iter": n_iter,
            "hit_max_iter": hit_max_iter,
        }

    def _decompose(self, moment, random_state):
        xp, _ = get_namespace(moment)
        factors, component_weights, n_iter, converged = cp_decomposition(
            # Unit scale: the Gram matrices of a moment of scale 1e200 overflow.
            tensorize(moment / float(xp.max(xp.abs(moment))), self.kernel_sizes_),
            self.rank,
            n_starts=DECOMPOSITION_STARTS if self.n_init == "auto" else self.n_init,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=random_state,
        )
        if self.verbose:
            print(
                f"[DeepTDRegressor] decomposition: rank {self.rank}, {n_iter} "
                f"sweeps, component weights {np.round(component_weights, 6)}"
            )
        if not converged:
            warnings.warn(
                f"The rank-{self.rank} decomposition of the moment tensor did not "
                f"converge within max_iter={self.max_iter} sweeps; increase "
                "max_iter or tol.",
                ConvergenceWarning,
            )
        return factors, n_iter

    def _fit_mean(self, y_mean, reason):
        warnings.warn(
            f"DeepTDRegressor found nothing to learn ({reason}); the fitted model "
            "predicts the mean of y.",
            UserWarning,
        )
        # Any finite direction will do: the branch weights are zero.
        self.kernels_ = [
            np.full((self.rank, size), 1.0 / np.sqrt(size))
            for size in self.kernel_sizes_
        ]
        self.td_kernels_ = [kernel.copy() for kernel in self.kernels_]
        self.weights_ = np.zeros(self.rank)
        self.intercept_ = float(y_mean)
        self.n_iter_ = 0
        return self

    def predict(self, X):
        """Evaluate the fitted network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted targets: a lazy dask array for a dask ``X`` (one block
            per row chunk), an array of X's namespace and device under array
            API dispatch.
        """
        check_is_fitted(self)
        if is_dask_array(X):
            return self._predict_dask(X)
        check_same_namespace(X, self, attribute="weights_", method="predict")
        namespace = dispatched_namespace(X)
        if namespace is not None:
            if X.ndim != 2 or X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has shape {tuple(X.shape)}, but {type(self).__name__} "
                    f"is expecting {self.n_features_in_} features as input."
                )
            return predict_on_device(
                X, self.kernels_, self.weights_, self.intercept_, self.activations_
            )
        check_not_strings(X, "X")
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        activations = [ACTIVATIONS[name] for name in self.activations_]
        # Blocks of rows, converted to C-ordered float64 one at a time, keep the
        # extra memory bounded for float32 or F-ordered inputs.
        y_pred = np.empty(X.shape[0])
        for start in range(0, X.shape[0], PREDICT_BLOCK_ROWS):
            rows = slice(start, start + PREDICT_BLOCK_ROWS)
            y_pred[rows] = predict_network(
                np.ascontiguousarray(X[rows], dtype=np.float64),
                self.kernels_,
                self.weights_,
                self.intercept_,
                activations,
            )
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags

    def _predict_dask(self, X):
        """A lazy dask array of predictions, one block per row chunk of ``X``."""
        _, da = import_dask_array("DeepTDRegressor.predict on a dask array")
        X = as_row_chunked(da, X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input."
            )
        return X.map_blocks(
            predict_chunk,
            [np.asarray(kernel) for kernel in self.kernels_],
            np.asarray(self.weights_),
            float(self.intercept_),
            tuple(self.activations_),
            drop_axis=1,
            dtype=np.float64,
            meta=np.empty(0),
        )
