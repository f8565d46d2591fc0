"""DeepTDClassifier: labels through the same moment, logits through the same network.

A classifier reads its labels as the indicator columns of its classes (one
column, of the second class, for two) and hands them to the shared fit of
:class:`~._estimator.BaseDeepTD`: the moments of the indicators, stacked, get
one joint decomposition, the signs are chosen as for a regression, and the
output layer and the refinement minimise the log-loss. What is particular to
labels is here: encoding them, the class weights, and turning the network's
logits into probabilities and classes.
"""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets

from ._array_api import float_dtype, to_numpy
from ._dask import import_dask_array, is_dask_array
from ._estimator import REFINE_SAMPLES, BaseDeepTD
from ._losses import log_loss_head
from ._sklearn_compat import (
    StrOptions,
    fit_context,
    get_namespace,
    get_namespace_and_device,
)
from ._validation import non_negative_real

_ONE_CLASS_MESSAGE = (
    "DeepTDClassifier needs samples of at least 2 classes in the data; "
    "got one class, {label!r}."
)


class DeepTDClassifier(ClassifierMixin, BaseDeepTD):
    """Deep convolutional network classifier on non-overlapping patches, by DeepTD.

    The network is that of :class:`DeepTDRegressor` (one kernel per layer, or
    ``rank`` parallel branches, on non-overlapping patches), with one output
    weight per branch and class. Its outputs are logits: for two classes the
    probability of ``classes_[1]`` is ``sigmoid(intercept_ + branches(x) @
    weights_)``; for more, the class probabilities are the softmax of
    ``intercept_ + branches(x) @ weights_`` over the classes.

    The kernels come from the same moment as a regression's. For Gaussian
    inputs, Stein's identity gives ``E[(1{y = c} - p_c) x] = E[grad P(y = c |
    x)]`` for any conditional law of the labels, so each class's centred
    moment is again close to a combination of the branches' rank-1 tensors:
    the class moments, formed in one pass over X and stacked along a new first
    mode, get one joint rank-``rank`` decomposition that learns the shared
    kernels from every class at once. Signs are chosen as for a regression;
    the output weights and intercepts are then fitted by (L2-penalised)
    logistic or multinomial regression on the branch outputs, and, with
    ``refine=True``, every parameter is refined by L-BFGS on the weighted
    log-loss.

    Parameters
    ----------
    kernel_sizes : tuple of int, default=None
        Kernel size of each layer, input layer first; their product must equal
        the number of features (see :class:`DeepTDRegressor`; ``None``
        factorises ``n_features``). The sizes used are in ``kernel_sizes_``.
    activation : str or tuple of str, default="relu"
        Activation of the hidden layers: one name, or one per hidden layer
        (``"relu"``, ``"leaky_relu"``, ``"tanh"``, ``"sigmoid"``,
        ``"softplus"``, ``"identity"``).
    output_activation : str, default="identity"
        Activation of the last layer of each branch, before the output
        weights, from the same names.
    rank : int, default=1
        Number of parallel branches, shared by every class.
    center : bool, default=True
        Centre the indicators before forming the moment (DeepTD); ``False`` is
        the paper's NaiveTD baseline.
    alpha : float, default=1e-3
        Strength of the L2 penalty: ``0.5 * alpha`` times the sum of squares
        of every kernel and output weight (not the intercepts) is added to the
        weighted mean log-loss, in the output layer's fit and in the
        refinement, so that separable classes give finite weights.
        ``MLPClassifier``'s ``alpha`` is divided by the number of samples; ours
        is not. The penalty also fixes how a ReLU network's scale is shared
        between its layers (the loss alone does not), which a smaller
        default left slow to settle (see doc/performance.rst).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplying the sample weights (in the moment
        and in the loss): a dict ``{label: weight}`` (absent classes weigh 1),
        ``"balanced"`` (``n_samples / (n_classes * count)``, with counts and
        ``n_samples`` summing the sample weights), or ``None``.
        ``"balanced"`` is refused by :meth:`partial_fit`, which sees the
        counts batch by batch.
    max_iter : int, default=300
        Maximum number of L-BFGS iterations of the refinement; the
        decomposition may take ``10 * max_iter`` sweeps.
    tol : float, default=1e-7
        Tolerance of both stages (see :class:`DeepTDRegressor`).
    refine : bool, default=True
        Refine every kernel, output weight and intercept on the log-loss.
    init : {"deeptd", "random"}, default="deeptd"
        ``"deeptd"`` starts from the decomposition of the moment; ``"random"``
        from unit-norm Gaussian kernels drawn from ``random_state`` (dead
        starts redrawn up to 100 times): the random start of ordinary
        training, as a baseline.
    refine_samples : int or None, default=5000
        Number of rows the refinement uses (``None``: all of them).
    n_init : "auto" or int, default="auto"
        Number of starts, the best kept: of the decomposition with
        ``init="deeptd"`` (``"auto"`` means 10), of random networks with
        ``init="random"`` (``"auto"`` means 1).
    random_state : int, RandomState instance or None, default=None
        Draws the subsamples, the decomposition's random starts, the random
        networks of ``init="random"`` and the reservoir of
        :meth:`partial_fit`.
    verbose : int, default=0
        Print progress when positive.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted (in X's namespace under array API dispatch).
    kernels_ : list of ndarray of shape (rank, d_l)
        Fitted kernels, input layer first; the first acts on ``X`` itself.
    td_kernels_ : list of ndarray of shape (rank, d_l)
        The unit-norm starting kernels, before refinement; the first acts on
        ``X / input_scale_``.
    weights_ : ndarray of shape (rank,) or (rank, n_classes)
        Output weights: of each branch in the logit of ``classes_[1]`` for two
        classes, else of each branch in each class's logit.
    intercept_ : float or ndarray of shape (n_classes,)
        The logits' intercepts.
    input_scale_ : float
        Weighted root mean square entry of the training ``X``.
    kernel_sizes_ : tuple of int
        Kernel size of each layer.
    activations_ : tuple of str
        Activation of each layer, output layer last.
    n_iter_ : int
        L-BFGS iterations of the refinement, else decomposition sweeps.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string feature names.

    See Also
    --------
    DeepTDRegressor : The same network for real targets.
    PlantedCNNDataset : Planted networks, with labels, to test recovery.
    sklearn.neural_network.MLPClassifier : A fully connected network trained
        by gradient descent.

    Notes
    -----
    Every way into a fit (arrays, :meth:`partial_fit`, dask arrays of numeric
    labels, array API dispatch) reads the labels as class indicators and
    shares the regressor's validation, statistics, subsamples and solver; the
    moments of K classes cost one pass over X (one ``X.T @ Y`` with Y the
    ``(n, K)`` indicators). The indicator moments are not standardised into
    the rows: the rows keep the indicators the log-loss needs.

    References
    ----------
    S. Oymak and M. Soltanolkotabi, "End-to-end Learning of a Convolutional
    Neural Network via Deep Tensor Decomposition", arXiv:1805.06523, 2018.

    Examples
    --------
    >>> from sklearn_deeptd import DeepTDClassifier, PlantedCNNDataset
    >>> planted = PlantedCNNDataset(kernel_sizes=(4, 4, 4), random_state=0)
    >>> X, y = planted.sample(2000, random_state=1)
    >>> labels = (y > 0).astype(int)
    >>> model = DeepTDClassifier(kernel_sizes=(4, 4, 4), random_state=0)
    >>> model = model.fit(X, labels)
    >>> X_test, y_test = planted.sample(500, random_state=2)
    >>> bool(model.score(X_test, (y_test > 0).astype(int)) > 0.9)
    True
    """

    _parameter_constraints: dict = {
        **BaseDeepTD._parameter_constraints,
        "alpha": [non_negative_real()],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        kernel_sizes=None,
        *,
        activation="relu",
        output_activation="identity",
        rank=1,
        center=True,
        alpha=1e-3,
        class_weight=None,
        max_iter=300,
        tol=1e-7,
        refine=True,
        init="deeptd",
        refine_samples=REFINE_SAMPLES,
        n_init="auto",
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            kernel_sizes,
            activation=activation,
            output_activation=output_activation,
            rank=rank,
            center=center,
            max_iter=max_iter,
            tol=tol,
            refine=refine,
            init=init,
            refine_samples=refine_samples,
            n_init=n_init,
            random_state=random_state,
            verbose=verbose,
        )
        self.alpha = alpha
        self.class_weight = class_weight

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Learn the network's kernels from inputs and class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs (see :meth:`DeepTDRegressor.fit`): NumPy, pandas,
            a dask array, or an array API array under dispatch.
        y : array-like of shape (n_samples,)
            Class labels of any type (numbers for dask arrays and array API
            arrays), at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples, multiplied by the class
            weights.

        Returns
        -------
        self : DeepTDClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Add a batch of samples to the moments and update the network.

        The statistics of the class indicators merge exactly from batch to
        batch, as in :meth:`DeepTDRegressor.partial_fit`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of inputs.
        y : array-like of shape (n_samples,)
            Labels of the batch, each among ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class of the stream: required on the first call, and if
            given later, the same.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : DeepTDClassifier
            The updated estimator.
        """
        return self._partial_fit(X, y, sample_weight, classes=classes)

    def _target_kind(self):
        return {"labels": True}

    def _solver_options(self):
        return {"head": log_loss_head(self.classes_.shape[0]), "alpha": self.alpha}

    def _targets(self, y, sample_weight, *, reset, streaming=False, classes=None):
        """The class indicators of the labels (the second class's column alone
        for two classes) and the sample weights times the class weights."""
        if y.ndim != 1:
            raise ValueError(
                f"y should be a 1d array, got an array of shape {y.shape} instead."
            )
        positions = None
        if is_dask_array(y):
            _, da = import_dask_array()
            found = np.unique(da.unique(y).compute())
        elif isinstance(y, np.ndarray):
            # One sort gives the classes and each label's class.
            found, positions = np.unique(y, return_inverse=True)
        else:
            # In y's namespace: a copy to the host would cost more than the fit.
            xp, _ = get_namespace(y)
            found = xp.sort(xp.unique_values(y))
        # The label type (binary, multiclass, continuous...) is that of the
        # distinct labels: checked on those, not on every row again.
        check_classification_targets(found)
        if reset:
            if streaming and classes is None:
                # A stream after fit keeps fit's classes (as SGDClassifier does).
                classes = getattr(self, "classes_", None)
            self.classes_ = _classes(found, classes, streaming)
        elif classes is not None and not np.array_equal(
            np.asarray(classes), np.asarray(to_numpy(self.classes_))
        ):
            raise ValueError(
                f"classes={np.asarray(classes)!r} is not the same as on the first "
                f"call to partial_fit, {np.asarray(to_numpy(self.classes_))!r}."
            )
        if positions is not None and np.array_equal(found, self.classes_):
            indicators = _indicator_matrix(positions, found.shape[0])
        else:
            indicators = _indicators(y, self.classes_)
        _check_weighted_classes(indicators, sample_weight)
        weights = self._class_weights(indicators, sample_weight, streaming)
        if weights is not None:
            row_weights = indicators @ weights
            sample_weight = (
                row_weights if sample_weight is None else sample_weight * row_weights
            )
        targets = indicators[:, 1] if self.classes_.shape[0] == 2 else indicators
        return targets, sample_weight

    def _class_weights(self, indicators, sample_weight, streaming):
        """The class weights, in the indicators' namespace, or None; the
        counts of ``"balanced"`` are sums of sample weights, so that weighting
        a row equals repeating it."""
        if self.class_weight is None:
            return None
        n_classes = self.classes_.shape[0]
        if self.class_weight == "balanced":
            if streaming:
                # NotImplementedError: what scikit-learn's checks expect of a
                # setting partial_fit does not support.
                raise NotImplementedError(
                    "class_weight='balanced' is not supported by partial_fit: "
                    "the class counts are known batch by batch. Pass a dict of "
                    "class weights instead."
                )
            weighted = (
                indicators
                if sample_weight is None
                else indicators * sample_weight[:, None]
            )
            if is_dask_array(weighted):
                counts = weighted.sum(axis=0).compute()
            else:
                xp, _ = get_namespace(weighted)
                counts = to_numpy(xp.sum(weighted, axis=0))
            counts = np.asarray(counts, dtype=float)
            if not np.sum(counts) > 0:
                return None  # no weight at all: the summary refuses it
            # A class without weight has no rows to weigh.
            values = np.sum(counts) / (n_classes * np.where(counts > 0, counts, 1.0))
        else:
            labels = list(np.asarray(to_numpy(self.classes_)))
            unknown = [key for key in self.class_weight if key not in labels]
            if unknown:
                raise ValueError(
                    f"The classes, {unknown}, are not in class_weight's keys' "
                    f"classes of y, {labels}."
                )
            values = [float(self.class_weight.get(label, 1.0)) for label in labels]
        if is_dask_array(indicators):
            return np.asarray(values, dtype=np.float64)
        xp, _ = get_namespace(indicators)
        return xp.asarray(values, dtype=indicators.dtype, device=indicators.device)

    def decision_function(self, X):
        """The network's logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes the logit of ``classes_[1]``; else each class's
            logit (lazy for a dask ``X``, in X's namespace under dispatch).
        """
        return self._network_outputs(X, "decision_function")

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The probability of each class of ``classes_``.
        """
        scores = self._network_outputs(X, "predict_proba")
        head = log_loss_head(self.classes_.shape[0])
        return _by_blocks(head.class_probabilities, scores, self.classes_)

    def predict_log_proba(self, X):
        """Compute the logarithms of the class probabilities, without underflow.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probability of each class of ``classes_``.
        """
        scores = self._network_outputs(X, "predict_log_proba")
        head = log_loss_head(self.classes_.shape[0])
        return _by_blocks(head.class_log_probabilities, scores, self.classes_)

    def predict(self, X):
        """The most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_`` (lazy for a dask ``X``).
        """
        scores = self._network_outputs(X, "predict")
        if is_dask_array(scores):
            classes = np.asarray(self.classes_)
            drop = {"drop_axis": 1} if scores.ndim == 2 else {}
            return scores.map_blocks(
                _labels, classes, dtype=classes.dtype, meta=np.empty(0), **drop
            )
        return _labels(scores, self.classes_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags


def _classes(found, classes, streaming):
    """The classes of a new fit: those found in y, or the ``classes`` given
    to the first ``partial_fit``."""
    if streaming:
        if classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        given = np.unique(np.asarray(classes))
        missing = np.setdiff1d(np.asarray(to_numpy(found)), given)
        if missing.size:
            raise ValueError(
                f"y holds labels {missing!r} that are not in classes={given!r}."
            )
        found = given
    if found.shape[0] < 2:
        raise ValueError(_ONE_CLASS_MESSAGE.format(label=to_numpy(found)[0].item()))
    return found


def _check_weighted_classes(indicators, sample_weight):
    """Refuse weights that leave fewer than two classes (K numbers are read)."""
    if sample_weight is None:
        return
    if is_dask_array(indicators):
        totals = (indicators * sample_weight[:, None]).sum(axis=0).compute()
    else:
        xp, _ = get_namespace(indicators)
        totals = to_numpy(xp.sum(indicators * sample_weight[:, None], axis=0))
    # A stream's batch may hold one class; the stream is checked where it is
    # summarised (a zero total weight is refused there).
    if indicators.shape[0] > 1 and np.count_nonzero(np.asarray(totals) > 0) == 1:
        raise ValueError(
            "DeepTDClassifier needs samples of at least 2 classes with positive "
            "weight; the sample weights leave one class."
        )


def _indicators(y, classes):
    """The ``(n, K)`` float indicator matrix of labels ``y`` among ``classes``
    (lazy for dask), refusing labels that are not classes."""
    if is_dask_array(y):
        return y.map_blocks(
            _indicators,
            np.asarray(classes),
            new_axis=1,
            chunks=(y.chunks[0], (classes.shape[0],)),
            dtype=np.float64,
            meta=np.empty((0, 0)),
        )
    if isinstance(y, np.ndarray):
        positions = np.searchsorted(classes, y)
        known = (positions < classes.shape[0]) & (
            classes[np.minimum(positions, classes.shape[0] - 1)] == y
        )
        if not known.all():
            raise ValueError(
                f"y holds labels {np.unique(y[~known])!r} not among the classes "
                f"{classes!r}."
            )
        return _indicator_matrix(positions, classes.shape[0])
    xp, _, device = get_namespace_and_device(y)
    matches = y[:, None] == classes[None, :]
    if not bool(xp.all(xp.any(matches, axis=1))):
        raise ValueError(f"y holds labels not among the classes {classes!r}.")
    return xp.astype(matches, float_dtype(xp, device))


def _indicator_matrix(positions, n_classes):
    """The float ``(n, K)`` indicators of class positions, column by column in
    memory (F order): each class's statistics then read a contiguous column."""
    indicators = np.zeros((n_classes, positions.shape[0])).T
    indicators[np.arange(positions.shape[0]), positions] = 1.0
    return indicators


def _by_blocks(function, scores, classes):
    """``function(scores)`` of shape (n, n_classes), lazily for dask scores."""
    if not is_dask_array(scores):
        return function(scores)
    new_axis = {"new_axis": 1} if scores.ndim == 1 else {}
    return scores.map_blocks(
        function,
        chunks=(scores.chunks[0], (classes.shape[0],)),
        dtype=np.float64,
        meta=np.empty((0, 0)),
        **new_axis,
    )


def _labels(scores, classes):
    xp, _ = get_namespace(scores)
    if scores.ndim == 1:
        index = xp.astype(scores > 0, xp.int64)
    else:
        index = xp.argmax(scores, axis=1)
    if isinstance(classes, np.ndarray):
        return classes[np.asarray(to_numpy(index))]
    return xp.take(classes, index)
