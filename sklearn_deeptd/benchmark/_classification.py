"""Labels and several targets: DeepTDClassifier and multi-output DeepTDRegressor.

Three experiments on planted networks (:class:`~sklearn_deeptd.PlantedCNNDataset`
with labels or several targets), each returning a tidy DataFrame with one row
per trial and method: :func:`run_classify_binary`,
:func:`run_classify_multiclass` and :func:`run_multioutput`. Trial ``t`` uses
seed ``seed + t`` for the planted network, the training and test samples and
every estimator's ``random_state``, so every method of a trial fits the same
rows. :func:`summarize_labels` aggregates them over the trials.
"""

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import accuracy_score, log_loss, r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from .._classifier import DeepTDClassifier
from .._estimator import DeepTDRegressor
from .._metrics import kernel_correlation
from ._common import (
    Progress,
    check_kernel_settings,
    check_methods,
    check_positive_int,
    correlation_columns,
    fill_doc,
    resolve,
    tidy,
    timed_fit,
    trial_data,
)

# The DeepTD variants, as estimator parameters (the names of the other
# benchmarks: "DeepTD" is the start alone, "DeepTD+refine" the default).
_DEEPTD_METHODS = {
    "DeepTD+refine": {},
    "DeepTD": {"refine": False},
    "random start": {"init": "random"},
}
CLASSIFY_METHODS = (
    *_DEEPTD_METHODS,
    "LogisticRegression",
    "MLPClassifier",
    "Bayes",
)
_MULTIOUTPUT_METHODS = (*_DEEPTD_METHODS, "Ridge")
_LABEL_KINDS = ("logistic", "threshold")
RECOVERY_THRESHOLD = 0.99

_DEFAULTS = {
    "classify-binary": {
        "full": {"kernel_sizes": (8, 8, 8), "N": (10, 20, 50, 100, 300),
                 "trials": 10, "n_test": 5000},
        "quick": {"kernel_sizes": (4, 4, 4), "N": (20,), "trials": 2,
                  "n_test": 500},
    },
    "classify-multiclass": {
        "full": {"kernel_sizes": (6, 6, 6), "N": (25, 50, 100),
                 "labels": _LABEL_KINDS, "trials": 10, "n_test": 5000,
                 "search_ranks": (1, 2, 3), "search_trials": 3},
        "quick": {"kernel_sizes": (3, 3, 3), "N": (50,), "labels": ("logistic",),
                  "trials": 2, "n_test": 500, "search_ranks": (1, 2),
                  "search_trials": 1},
    },
    "multioutput": {
        "full": {"kernel_sizes": (8, 8, 8), "N": (10, 25, 50), "trials": 10,
                 "n_test": 5000},
        "quick": {"kernel_sizes": (4, 4, 4), "N": (20,), "trials": 2,
                  "n_test": 500},
    },
}  # fmt: skip


def _check_labels(labels):
    labels = (labels,) if isinstance(labels, str) else tuple(labels)
    if not labels or any(kind not in _LABEL_KINDS for kind in labels):
        raise ValueError(
            f"labels must be a non-empty subset of {list(_LABEL_KINDS)}, got {labels}."
        )
    return labels


def _recovery_columns(kernels_true, kernels_est, prefix=""):
    """Per-layer ``|cos|`` (worst branch of each layer), minimum, mean, and
    every layer and branch after matching, as a string."""
    if kernels_est is None:
        columns = correlation_columns(None)
        columns["corr_by_branch"] = ""
    else:
        matrix = kernel_correlation(kernels_true, kernels_est)
        columns = correlation_columns(matrix.min(axis=1))
        columns["corr_min"] = float(matrix.min())
        columns["corr_mean"] = float(matrix.mean())
        columns["corr_by_branch"] = ";".join(
            ",".join(f"{c:.4f}" for c in branch) for branch in matrix.T
        )
    return {prefix + key: value for key, value in columns.items()}


def _label_scores(y_test, proba):
    return {
        "accuracy_test": accuracy_score(y_test, np.argmax(proba, axis=1)),
        "log_loss_test": log_loss(y_test, proba, labels=np.arange(proba.shape[1])),
    }


def _deeptd_row(method, estimator, planted, data, trial_seed, options):
    X, y, X_test, y_test = data
    model = estimator(
        options["kernel_sizes"],
        activation=options["activation"],
        rank=options["rank"],
        random_state=trial_seed,
        **_DEEPTD_METHODS[method],
    )
    seconds, n_warnings, n_convergence = timed_fit(model, X, y)
    if isinstance(model, DeepTDClassifier):
        scores = _label_scores(y_test, model.predict_proba(X_test))
    else:
        scores = {"r2_test": r2_score(y_test, model.predict(X_test))}
    row = {
        "method": method,
        **scores,
        "fit_time_s": seconds,
        "n_iter": model.n_iter_,
        "n_warnings": n_warnings,
        "n_convergence_warnings": n_convergence,
        **_recovery_columns(planted.kernels_, model.kernels_),
    }
    if method != "DeepTD":
        # Where the refinement started: DeepTD's estimate (the "DeepTD" row's
        # kernels), or the random network.
        start = _recovery_columns(planted.kernels_, model.td_kernels_, "start_")
        row["start_corr_min"] = start["start_corr_min"]
        row["start_corr_mean"] = start["start_corr_mean"]
    return row


def _peer_row(method, planted, data, trial_seed):
    X, y, X_test, y_test = data
    if method == "Bayes":
        # The planted network's own class probabilities: the best possible.
        return {
            "method": method,
            **_label_scores(y_test, planted.predict_proba(X_test)),
            **_recovery_columns(planted.kernels_, None),
        }
    if method == "LogisticRegression":
        model = LogisticRegression()
    elif method == "MLPClassifier":
        model = MLPClassifier(random_state=trial_seed)
    else:  # Ridge
        model = RidgeCV(alphas=np.logspace(-3, 3, 13))
    seconds, n_warnings, n_convergence = timed_fit(model, X, y)
    if method == "Ridge":
        scores = {"r2_test": r2_score(y_test, model.predict(X_test))}
    else:
        scores = _label_scores(y_test, model.predict_proba(X_test))
    return {
        "method": method,
        **scores,
        "fit_time_s": seconds,
        # LogisticRegression's n_iter_ is an array (one entry per problem).
        "n_iter": int(np.max(model.n_iter_)) if hasattr(model, "n_iter_") else np.nan,
        "n_warnings": n_warnings,
        "n_convergence_warnings": n_convergence,
        **_recovery_columns(planted.kernels_, None),
    }


def _search_row(planted, data, trial_seed, options, ranks):
    """``GridSearchCV`` over the rank, 3-fold, on the log-loss."""
    X, y, X_test, y_test = data
    search = GridSearchCV(
        DeepTDClassifier(
            options["kernel_sizes"],
            activation=options["activation"],
            random_state=trial_seed,
        ),
        {"rank": list(ranks)},
        scoring="neg_log_loss",
        cv=3,
    )
    seconds, n_warnings, n_convergence = timed_fit(search, X, y)
    cv_loss = {
        f"cv_log_loss_rank_{rank}": -score
        for rank, score in zip(
            search.cv_results_["param_rank"], search.cv_results_["mean_test_score"]
        )
    }
    best = search.best_estimator_
    return {
        "method": "GridSearchCV rank",
        **_label_scores(y_test, best.predict_proba(X_test)),
        "fit_time_s": seconds,
        "n_iter": best.n_iter_,
        "n_warnings": n_warnings,
        "n_convergence_warnings": n_convergence,
        "best_rank": int(search.best_params_["rank"]),
        **cv_loss,
        **_recovery_columns(planted.kernels_, best.kernels_),
    }


def _setting_label(options):
    sizes = "x".join(str(size) for size in options["kernel_sizes"])
    label = f"{sizes} {options['activation']}"
    if options["rank"] > 1:
        label += f" r={options['rank']}"
    if options.get("labels") is not None:
        if options["n_classes"] > 2:
            label += f", {options['n_classes']} classes"
        label += f", {options['labels']}"
    else:
        label += f", {options['n_targets']} targets"
    return label


def _run(name, settings, methods, options, seed, verbose):
    """Fit every method on the same rows for each setting, ``N`` and trial.

    ``settings`` are dicts of ``kernel_sizes``, ``activation``, ``rank`` and
    either ``labels`` and ``n_classes`` or ``n_targets``; ``options`` holds
    ``N``, ``trials`` and ``n_test`` and, for the rank search, ``search_ranks``
    and ``search_trials`` (a search on as many first trials, at the largest
    ``N``).
    """
    N_values = tuple(check_positive_int(N, "N") for N in options["N"])
    trials = check_positive_int(options["trials"], "trials")
    n_test = check_positive_int(options["n_test"], "n_test")
    ranks = tuple(
        check_positive_int(r, "search_ranks") for r in options.get("search_ranks", ())
    )
    search_trials = 0
    if ranks:
        search_trials = check_positive_int(options["search_trials"], "search_trials")
    plan = []
    for setting in settings:
        for N in N_values:
            for trial in range(trials):
                searched = trial < search_trials and N == max(N_values)
                plan.append((setting, N, trial, [*methods] + ["search"] * searched))
    rows = []
    with (
        threadpool_limits(limits=1),
        Progress(name, sum(len(p[3]) for p in plan), verbose) as progress,
    ):
        for setting, N, trial, trial_methods in plan:
            trial_seed = seed + trial
            sizes = setting["kernel_sizes"]
            planted, X, y, X_test, y_test = trial_data(
                sizes,
                N,
                trial_seed,
                n_test=n_test,
                activation=setting["activation"],
                rank=setting["rank"],
                n_targets=setting.get("n_targets"),
                labels=setting.get("labels"),
                n_classes=setting.get("n_classes", 2),
            )
            n = X.shape[0]
            data = (X, y, X_test, y_test)
            labels = setting.get("labels")
            common = {
                "setting": _setting_label(setting),
                "kernel_sizes": "x".join(str(size) for size in sizes),
                "activation": setting["activation"],
                "rank": setting["rank"],
                "depth": len(sizes),
                "p": int(np.prod(sizes)),
                "N": N,
                "n": n,
                "n_test": n_test,
                "trial": trial,
                "seed": trial_seed,
            }
            if labels is not None:
                common["labels"] = labels
                common["n_classes"] = setting["n_classes"]
                common["bayes_accuracy"] = planted.bayes_accuracy_
                common["class_balance"] = float(np.bincount(y).min() / n)
                estimator = DeepTDClassifier
            else:
                common["n_targets"] = setting["n_targets"]
                estimator = DeepTDRegressor
            for method in trial_methods:
                if method == "search":
                    row = _search_row(planted, data, trial_seed, setting, ranks)
                elif method in _DEEPTD_METHODS:
                    row = _deeptd_row(
                        method, estimator, planted, data, trial_seed, setting
                    )
                else:
                    row = _peer_row(method, planted, data, trial_seed)
                rows.append({**common, **row})
                score = (
                    f"accuracy {row['accuracy_test']:.3f}"
                    if "accuracy_test" in row
                    else f"R^2 {row['r2_test']:.4f}"
                )
                progress.step(
                    f"{common['setting']} N={N} trial={trial} {row['method']}: "
                    f"min corr {row['corr_min']:.3f}, {score}, "
                    f"{row.get('fit_time_s', 0.0):.2f} s"
                )
    return tidy(rows, name)


@fill_doc
def run_classify_binary(
    kernel_sizes=None,
    N=None,
    *,
    labels=None,
    activation="relu",
    methods=CLASSIFY_METHODS,
    trials=None,
    seed=0,
    quick=False,
    n_test=None,
    verbose=0,
):
    """Binary labels of a planted network: DeepTDClassifier's recovery and accuracy.

    A planted rank-1 network (``PlantedCNNDataset(kernel_sizes,
    labels=labels, random_state=seed + t)``, default temperature 0.15)
    labels ``n = N * sum(kernel_sizes)`` Gaussian training rows and
    ``n_test`` test rows. Methods: ``"DeepTD+refine"`` (the default
    :class:`~sklearn_deeptd.DeepTDClassifier`: DeepTD start and log-loss
    refinement), ``"DeepTD"`` (``refine=False``: the start alone, with its
    output layer fitted by logistic regression; its kernels are the default
    fit's ``td_kernels_``), ``"random start"`` (``init="random"``, the same
    network and refinement), ``"LogisticRegression"`` and ``"MLPClassifier"``
    (scikit-learn's defaults, ``random_state`` the trial seed), and
    ``"Bayes"`` (the planted network's own probabilities: the best accuracy
    and log-loss the labels allow). Fits run on one BLAS thread.

    Parameters
    ----------
    kernel_sizes : tuple of int, default=None
        Network to plant and fit. ``None`` uses ``(8, 8, 8)`` (``(4, 4, 4)``
        with ``quick``).
    N : tuple of int, default=None
        Training rows per weight, ``n = N * sum(kernel_sizes)``. ``None``
        uses ``(10, 20, 50, 100, 300)`` (``(20,)`` with ``quick``).
    labels : str or tuple of str, default=None
        ``"logistic"`` and/or ``"threshold"`` labels. ``None`` runs both.
    activation : str, default="relu"
        Hidden activation of the planted and fitted networks.
    methods : tuple of str, default=("DeepTD+refine", "DeepTD", \
"random start", "LogisticRegression", "MLPClassifier", "Bayes")
        Methods to run, a subset of the above.
    trials : int, default=None
        Trials per label kind and ``N``, with seeds ``seed, seed + 1, ...``.
        ``None`` uses 10 (2 with ``quick``).
    seed : int, default=0
        First trial seed: the planted network, the samples and every
        estimator's ``random_state``.
    {quick}
    {n_test}
    {verbose}

    Returns
    -------
    results : pandas.DataFrame
        One row per label kind, ``N``, trial and method with columns
        ``experiment``, ``setting``, ``method``, ``kernel_sizes``,
        ``activation``, ``rank``, ``depth``, ``p``, ``N``, ``n``, ``n_test``,
        ``trial``, ``seed``, ``labels``, ``n_classes``, ``bayes_accuracy``
        (the planted dataset's ``bayes_accuracy_``), ``class_balance`` (the
        rarest class's share of the training rows), ``accuracy_test``,
        ``log_loss_test``, ``fit_time_s``, ``n_iter``, ``n_warnings``,
        ``n_convergence_warnings``, ``start_corr_min`` and
        ``start_corr_mean`` (of the refinement's start, for the refined
        methods), ``corr_by_branch``, ``corr_layer_1`` ... ``corr_layer_D``,
        ``corr_min`` and ``corr_mean`` (``|cos|`` between planted and learned
        kernels, NaN for the methods without kernels).

    See Also
    --------
    run_classify_multiclass : Several classes, several branches.
    summarize_labels : The summary table of the results.

    Examples
    --------
    >>> from sklearn_deeptd.benchmark import run_classify_binary
    >>> results = run_classify_binary(
    ...     (3, 3), N=(20,), labels="threshold", methods=("DeepTD+refine",),
    ...     trials=1, n_test=100,
    ... )
    >>> results[["setting", "method", "n"]]
                      setting         method    n
    0  3x3 relu, threshold  DeepTD+refine  120
    """
    methods = check_methods(methods, CLASSIFY_METHODS)
    given = dict(kernel_sizes=kernel_sizes, N=N, trials=trials, n_test=n_test)
    options = resolve(_DEFAULTS["classify-binary"], quick, given)
    sizes = check_kernel_settings([options["kernel_sizes"]])[0]
    settings = [
        {"kernel_sizes": sizes, "activation": activation, "rank": 1,
         "labels": kind, "n_classes": 2}
        for kind in _check_labels(_LABEL_KINDS if labels is None else labels)
    ]  # fmt: skip
    return _run("classify-binary", settings, methods, options, seed, verbose)


@fill_doc
def run_classify_multiclass(
    kernel_sizes=None,
    N=None,
    *,
    labels=None,
    n_classes=4,
    rank=2,
    activation="tanh",
    methods=CLASSIFY_METHODS,
    search_ranks=None,
    search_trials=None,
    trials=None,
    seed=0,
    quick=False,
    n_test=None,
    verbose=0,
):
    """Several classes over shared branches: DeepTDClassifier's recovery and rank.

    A planted network of ``rank`` branches (``PlantedCNNDataset(kernel_sizes,
    activation=activation, rank=rank, labels=labels, n_classes=n_classes,
    random_state=seed + t)``) labels ``n = N * rank * sum(kernel_sizes)``
    Gaussian training rows. The methods of :func:`run_classify_binary`, the
    DeepTD ones at the planted rank; recovery counts every branch after
    matching (``corr_layer_l`` is the worst branch of layer ``l``). On the
    first ``search_trials`` trials at the largest ``N``, also
    ``"GridSearchCV rank"``: ``GridSearchCV(DeepTDClassifier(kernel_sizes,
    activation=activation), {"rank": search_ranks}, scoring="neg_log_loss",
    cv=3)``, which reports the rank it picks and the best estimator's
    recovery and test scores.

    Parameters
    ----------
    kernel_sizes : tuple of int, default=None
        Network to plant and fit. ``None`` uses ``(6, 6, 6)`` (``(3, 3, 3)``
        with ``quick``).
    N : tuple of int, default=None
        Training rows per weight and branch. ``None`` uses ``(25, 50, 100)``
        (``(50,)`` with ``quick``).
    labels : str or tuple of str, default=None
        ``"logistic"`` and/or ``"threshold"``. ``None`` runs both
        (``"logistic"`` alone with ``quick``).
    n_classes : int, default=4
        Number of classes.
    rank : int, default=2
        Branches of the planted network and of the DeepTD fits.
    activation : str, default="tanh"
        Hidden activation of the planted and fitted networks.
    methods : tuple of str, default=("DeepTD+refine", "DeepTD", \
"random start", "LogisticRegression", "MLPClassifier", "Bayes")
        As in :func:`run_classify_binary`.
    search_ranks : tuple of int, default=None
        Ranks of the grid search. ``None`` uses ``(1, 2, 3)`` (``(1, 2)``
        with ``quick``); an empty tuple skips the search.
    search_trials : int, default=None
        Trials (the first ones) with a grid search. ``None`` uses 3 (1 with
        ``quick``).
    trials : int, default=None
        Trials per label kind and ``N``. ``None`` uses 10 (2 with ``quick``).
    {seed}
    quick : bool, default=False
        Use the small defaults: ``(3, 3, 3)``, ``N = 50``, logistic labels, 2
        trials and one rank search, over ranks 1 and 2.
    {n_test}
    {verbose}

    Returns
    -------
    results : pandas.DataFrame
        One row per label kind, ``N``, trial and method, with the columns of
        :func:`run_classify_binary`; the search rows add ``best_rank`` and
        ``cv_log_loss_rank_<r>`` (mean 3-fold log-loss of each rank).

    See Also
    --------
    run_classify_binary : Two classes, one branch.
    run_multioutput : Several targets over shared branches.
    summarize_labels : The summary table of the results.

    Examples
    --------
    >>> from sklearn_deeptd.benchmark import run_classify_multiclass
    >>> results = run_classify_multiclass(
    ...     (2, 2), N=(20,), labels="logistic", n_classes=3,
    ...     methods=("DeepTD+refine",), search_ranks=(), trials=1, n_test=100,
    ... )
    >>> results[["setting", "n"]]
                                 setting    n
    0  2x2 tanh r=2, 3 classes, logistic  160
    """
    methods = check_methods(methods, CLASSIFY_METHODS)
    given = dict(
        kernel_sizes=kernel_sizes,
        N=N,
        labels=labels,
        trials=trials,
        n_test=n_test,
        search_ranks=search_ranks,
        search_trials=search_trials,
    )
    options = resolve(_DEFAULTS["classify-multiclass"], quick, given)
    sizes = check_kernel_settings([options["kernel_sizes"]])[0]
    rank = check_positive_int(rank, "rank")
    n_classes = check_positive_int(n_classes, "n_classes")
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}.")
    settings = [
        {"kernel_sizes": sizes, "activation": activation, "rank": rank,
         "labels": kind, "n_classes": n_classes}
        for kind in _check_labels(options["labels"])
    ]  # fmt: skip
    return _run("classify-multiclass", settings, methods, options, seed, verbose)


@fill_doc
def run_multioutput(
    kernel_sizes=None,
    N=None,
    *,
    n_targets=3,
    rank=2,
    activation="tanh",
    methods=_MULTIOUTPUT_METHODS,
    trials=None,
    seed=0,
    quick=False,
    n_test=None,
    verbose=0,
):
    """Several regression targets over shared branches: multi-output DeepTDRegressor.

    A planted network of ``rank`` branches and ``n_targets`` noiseless
    targets (``PlantedCNNDataset(kernel_sizes, activation=activation,
    rank=rank, n_targets=n_targets, random_state=seed + t)``, every target a
    different signed combination of the same branches) gives ``n = N * rank
    * sum(kernel_sizes)`` Gaussian training rows with a 2-D ``y``. Methods:
    ``"DeepTD+refine"`` (the default
    :class:`~sklearn_deeptd.DeepTDRegressor` at the planted rank, one joint
    decomposition of the stacked moments, then least-squares refinement),
    ``"DeepTD"`` (``refine=False``), ``"random start"`` (``init="random"``)
    and ``"Ridge"`` (``RidgeCV``, a linear baseline for the test R^2, the
    uniform average over the targets).

    Parameters
    ----------
    kernel_sizes : tuple of int, default=None
        Network to plant and fit. ``None`` uses ``(8, 8, 8)`` (``(4, 4, 4)``
        with ``quick``).
    N : tuple of int, default=None
        Training rows per weight and branch. ``None`` uses ``(10, 25, 50)``
        (``(20,)`` with ``quick``); ``N = 25`` is ``n = 50 *
        sum(kernel_sizes)`` rows for two branches.
    n_targets : int, default=3
        Number of targets.
    rank : int, default=2
        Branches of the planted network and of the DeepTD fits.
    activation : str, default="tanh"
        Hidden activation of the planted and fitted networks.
    methods : tuple of str, default=("DeepTD+refine", "DeepTD", \
"random start", "Ridge")
        Methods to run, a subset of the above.
    trials : int, default=None
        Trials per ``N``. ``None`` uses 10 (2 with ``quick``).
    {seed}
    {quick}
    {n_test}
    {verbose}

    Returns
    -------
    results : pandas.DataFrame
        One row per ``N``, trial and method with the columns of
        :func:`run_classify_binary`, with ``n_targets`` and ``r2_test`` in
        place of the label columns and scores.

    See Also
    --------
    run_classify_multiclass : Several classes over shared branches.
    summarize_labels : The summary table of the results.

    Examples
    --------
    >>> from sklearn_deeptd.benchmark import run_multioutput
    >>> results = run_multioutput(
    ...     (2, 2), N=(20,), n_targets=2, methods=("DeepTD+refine",), trials=1,
    ...     n_test=100,
    ... )
    >>> results[["setting", "n"]]
                      setting    n
    0  2x2 tanh r=2, 2 targets  160
    """
    methods = check_methods(methods, _MULTIOUTPUT_METHODS)
    given = dict(kernel_sizes=kernel_sizes, N=N, trials=trials, n_test=n_test)
    options = resolve(_DEFAULTS["multioutput"], quick, given)
    sizes = check_kernel_settings([options["kernel_sizes"]])[0]
    settings = [
        {
            "kernel_sizes": sizes,
            "activation": activation,
            "rank": check_positive_int(rank, "rank"),
            "n_targets": check_positive_int(n_targets, "n_targets"),
        }
    ]
    return _run("multioutput", settings, methods, options, seed, verbose)


def _joined(values):
    values = [int(v) for v in values if pd.notna(v)]
    return ",".join(map(str, values)) if values else np.nan


def summarize_labels(results):
    """Aggregate the results of the label and multi-output experiments.

    The rows are grouped by setting, ``N``, ``n`` and method; this is the
    table the command line prints and writes to ``<name>_summary.md`` for
    ``classify-binary``, ``classify-multiclass`` and ``multioutput``.

    Parameters
    ----------
    results : pandas.DataFrame
        The output of :func:`run_classify_binary`,
        :func:`run_classify_multiclass` or :func:`run_multioutput`.

    Returns
    -------
    summary : pandas.DataFrame
        One row per setting, ``N`` and method, in the order they first
        appear: ``trials``; the means over the trials of every
        ``corr_layer_l`` (the worst branch of layer ``l``) and of
        ``corr_mean``; ``corr_worst``, the smallest ``|cos|`` of any layer
        and branch over the trials; ``seeds_099``, the number of trials whose
        every layer and branch reaches ``|cos| >= 0.99``; the mean
        ``start_corr_mean`` and ``start_seeds_099`` of the refinement's
        start; the means of ``accuracy_test``, ``log_loss_test`` and
        ``r2_test``; ``best_ranks`` (the ranks a grid search picked, one per
        trial) and the mean ``cv_log_loss_rank_<r>``; the median
        ``fit_time_s``; and the total ``n_warnings`` and
        ``n_convergence_warnings``. Columns that are empty everywhere are
        dropped.

    See Also
    --------
    summarize : The summary of the paper's experiments, timing and peers.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_deeptd.benchmark import summarize_labels
    >>> results = pd.DataFrame({
    ...     "setting": ["a", "a"], "N": [10, 10], "n": [80, 80],
    ...     "method": ["m", "m"], "corr_min": [0.5, 1.0], "corr_mean": [0.7, 1.0],
    ...     "accuracy_test": [0.8, 0.9], "fit_time_s": [1.0, 3.0],
    ... })
    >>> summarize_labels(results)[["trials", "corr_worst", "seeds_099"]]
       trials  corr_worst  seeds_099
    0       2         0.5          1
    """
    keys = [key for key in ("setting", "N", "n", "method") if key in results.columns]
    grouped = results.groupby(keys, sort=False, dropna=False)
    summary = grouped.size().rename("trials").to_frame()
    layers = sorted(
        (c for c in results.columns if c.startswith("corr_layer_")),
        key=lambda c: int(c.rsplit("_", 1)[1]),
    )
    means = [c for c in (*layers, "corr_mean") if c in results.columns]
    summary = summary.join(grouped[means].mean())
    if "corr_min" in results.columns:
        summary["corr_worst"] = grouped["corr_min"].min()
        summary["seeds_099"] = grouped["corr_min"].apply(
            lambda c: np.nan if c.isna().all() else int(np.sum(c >= RECOVERY_THRESHOLD))
        )
    if "start_corr_min" in results.columns:
        summary["start_corr_mean"] = grouped["start_corr_mean"].mean()
        summary["start_seeds_099"] = grouped["start_corr_min"].apply(
            lambda c: np.nan if c.isna().all() else int(np.sum(c >= RECOVERY_THRESHOLD))
        )
    scores = [
        c for c in ("accuracy_test", "log_loss_test", "r2_test") if c in results.columns
    ]
    summary = summary.join(grouped[scores].mean())
    if "best_rank" in results.columns:
        summary["best_ranks"] = grouped["best_rank"].apply(_joined)
        searched = [c for c in results.columns if c.startswith("cv_log_loss_rank_")]
        summary = summary.join(grouped[searched].mean())
    if "fit_time_s" in results.columns:
        summary["fit_time_s"] = grouped["fit_time_s"].median()
    for column in ("n_warnings", "n_convergence_warnings"):
        if column in results.columns:
            summary[column] = grouped[column].apply(
                lambda c: np.nan if c.isna().all() else int(c.sum())
            )
    summary = summary.dropna(axis=1, how="all").reset_index()
    # Counts stay integers (and missing ones empty) in the printed table.
    for column in ("seeds_099", "start_seeds_099", "n_warnings",
                   "n_convergence_warnings"):  # fmt: skip
        if column in summary.columns:
            summary[column] = pd.Series(
                [np.nan if pd.isna(v) else int(v) for v in summary[column]],
                index=summary.index,
                dtype=object,
            )
    return summary
