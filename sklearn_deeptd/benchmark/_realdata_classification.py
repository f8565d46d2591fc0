"""Real data, classification: DeepTDClassifier against the usual classifiers.

Every model runs in ``make_pipeline(StandardScaler(), model)`` and is scored by
stratified 5-fold cross-validation on scikit-learn's bundled data sets; see
:func:`run_realdata_classification`.
"""

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits, load_iris
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier

from .._classifier import DeepTDClassifier
from ._common import fill_doc, timed_fit
from ._realdata import (
    candidates,
    checked_arguments,
    cross_validate,
    subsample,
    z_order,
)

DATASETS = ("breast cancer", "iris", "digits")

_DEFAULTS = {
    "full": {"ranks": (1, 2, 4), "trials": 3, "max_rows": None,
             "boosting_iter": 100},
    "quick": {"ranks": (1, 2), "trials": 1, "max_rows": 200,
              "boosting_iter": 20},
}  # fmt: skip


def _load(name, max_rows, seed):
    """``X``, ``y`` and the kernel-size choices of one data set.

    Each choice is ``(kernel_sizes, order)``: ``None`` sizes are the default
    factorisation; ``order`` is ``None`` or ``(name, column order)``.
    """
    if name == "breast cancer":
        X, y = load_breast_cancer(return_X_y=True)
        # 30 measurements: 10 quantities, each as mean, standard error and
        # worst value (all means first). (6, 5) groups them by consecutive
        # columns; (30,) is the linear model.
        choices = [(None, None), ((6, 5), None), ((30,), None)]
    elif name == "iris":
        X, y = load_iris(return_X_y=True)
        # 4 measurements: (2, 2) pairs sepal and petal; (4,) is linear.
        choices = [(None, None), ((4,), None)]
    else:
        X, y = load_digits(return_X_y=True)
        # As in the regression benchmark: row-major 8x8 images; (8, 8) reads
        # each row, then the rows; (4, 4, 4) in Morton order reads 2x2, 4x4,
        # then 8x8 patches.
        choices = [
            (None, None),
            ((8, 8), None),
            ((4, 4, 4), ("2x2 blocks", z_order(8))),
        ]
    return *subsample(X, y, max_rows, seed), choices


def _one_layer_ranks(ranks, n_classes):
    """The ranks worth fitting for one layer, a linear map of rank
    ``min(rank, n_classes - 1)`` into the logits: those up to
    ``n_classes - 1``, at least the first."""
    useful = tuple(rank for rank in ranks if rank <= max(n_classes - 1, 1))
    return useful or ranks[:1]


def _trial_models(X, y, choices, ranks, seed, boosting_iter):
    """The :func:`candidates` of one trial on one data set."""
    peers = {
        "LogisticRegression": LogisticRegression(),
        "MLPClassifier": MLPClassifier(random_state=seed),
        "HistGradientBoosting": HistGradientBoostingClassifier(
            max_iter=boosting_iter, random_state=seed
        ),
    }
    one_layer_ranks = _one_layer_ranks(ranks, np.unique(y).shape[0])
    return candidates(
        choices, X.shape[1], DeepTDClassifier, ranks, one_layer_ranks, peers, seed
    )


def _n_parameters(model):
    """Fitted weights of the last step (NaN for the trees)."""
    if isinstance(model, DeepTDClassifier):
        arrays = [*model.kernels_, model.weights_, model.intercept_]
    elif isinstance(model, LogisticRegression):
        arrays = [model.coef_, model.intercept_]
    elif isinstance(model, MLPClassifier):
        arrays = [*model.coefs_, *model.intercepts_]
    else:
        return np.nan
    return int(sum(np.size(array) for array in arrays))


def _n_iter(model):
    n_iter = getattr(model, "n_iter_", None)
    return np.nan if n_iter is None else int(np.max(n_iter))


@fill_doc
def run_realdata_classification(
    datasets=DATASETS, *, ranks=None, trials=None, seed=0, quick=False, verbose=0
):
    """DeepTDClassifier against logistic regression, an MLP and gradient boosting.

    The data sets are scikit-learn's bundled ``load_breast_cancer`` (569 rows,
    30 features, 2 classes), ``load_iris`` (150 rows, 4 features, 3 classes)
    and ``load_digits`` (1797 8x8 images raveled row-major, 10 classes). Every
    model runs in ``make_pipeline(StandardScaler(), model)`` on the same
    stratified, shuffled folds: :class:`~sklearn_deeptd.DeepTDClassifier` with
    the default kernel sizes and the alternatives below at each rank, the same
    network from a random start (``init="random"``), ``LogisticRegression``,
    ``MLPClassifier`` and ``HistGradientBoostingClassifier``, all with their
    defaults but ``random_state``. The alternative kernel sizes: ``(6, 5)`` and
    ``(30,)`` for breast cancer, ``(4,)`` for iris, ``(8, 8)`` for digits (each
    image row, then the rows) and ``(4, 4, 4)`` on the pixels listed by 2x2
    blocks (2x2, 4x4, 8x8 patches). A single layer is a linear map of rank
    ``min(rank, n_classes - 1)`` into the logits, so it runs at the ranks up to
    ``n_classes - 1`` only (the first rank for two classes). Fits run on one
    thread.

    Parameters
    ----------
    datasets : tuple of str, default=("breast cancer", "iris", "digits")
        The data sets, all three by default.
    ranks : tuple of int, default=None
        Ranks of every DeepTDClassifier: ``None`` uses ``(1, 2, 4)``, or
        ``(1, 2)`` with ``quick``.
    trials : int, default=None
        Repeats of stratified 5-fold cross-validation, trial ``t`` shuffling
        the folds and seeding every model with ``seed + t``. ``None`` uses 3
        (1 with ``quick``).
    seed : int, default=0
        First trial seed; it also draws the row subsample of ``quick``.
    quick : bool, default=False
        A small version, seconds: at most 200 rows per data set and 20
        boosting iterations (instead of 100).
    {verbose}

    Returns
    -------
    results : pandas.DataFrame
        One row per data set, method, trial and fold with columns
        ``experiment``, ``setting`` (the data set), ``method`` (for DeepTD,
        ``"DeepTD 4x4x4 r=2"`` or ``"random start ..."``), ``n``, ``p``,
        ``n_classes``, ``trial``, ``fold``, ``seed``, ``model``,
        ``kernel_sizes`` and ``rank`` (NaN for the peers), ``default_sizes``,
        ``accuracy`` and ``log_loss`` (on the held-out fold),
        ``n_parameters`` (fitted weights; NaN for the trees), ``n_iter``,
        ``fit_time_s``, ``n_warnings`` (warnings raised by the fit) and
        ``n_convergence_warnings`` (those that are ``ConvergenceWarning``).

    See Also
    --------
    run_realdata : The regression counterpart.

    Examples
    --------
    >>> from sklearn_deeptd.benchmark import run_realdata_classification
    >>> results = run_realdata_classification(("iris",), ranks=(1,), quick=True)
    >>> results[["method", "n", "n_classes", "fold"]].head(3)
                     method    n  n_classes  fold
    0        DeepTD 2x2 r=1  150          3     0
    1  random start 2x2 r=1  150          3     0
    2          DeepTD 4 r=1  150          3     0
    """
    mode = _DEFAULTS["quick" if quick else "full"]
    datasets, ranks, trials = checked_arguments(datasets, DATASETS, ranks, trials, mode)
    loaded = {name: _load(name, mode["max_rows"], seed) for name in datasets}
    plans = {
        (name, trial): _trial_models(
            X, y, choices, ranks, seed + trial, mode["boosting_iter"]
        )
        for name, (X, y, choices) in loaded.items()
        for trial in range(trials)
    }
    data = {
        name: (
            X,
            y,
            {"n": X.shape[0], "p": X.shape[1], "n_classes": np.unique(y).shape[0]},
        )
        for name, (X, y, _) in loaded.items()
    }
    return cross_validate(
        "realdata-classification",
        data,
        plans,
        StratifiedKFold,
        _fit_and_score,
        seed,
        verbose,
    )


def _fit_and_score(pipeline, X, y, train, test):
    seconds, n_warnings, n_converge = timed_fit(pipeline, X[train], y[train])
    accuracy = accuracy_score(y[test], pipeline.predict(X[test]))
    loss = log_loss(y[test], pipeline.predict_proba(X[test]), labels=np.unique(y))
    scores = {
        "accuracy": accuracy,
        "log_loss": loss,
        "n_parameters": _n_parameters(pipeline[-1]),
        "n_iter": _n_iter(pipeline[-1]),
        "fit_time_s": seconds,
        "n_warnings": n_warnings,
        "n_convergence_warnings": n_converge,
    }
    return scores, f"accuracy {accuracy:.3f}, log-loss {loss:.3f}, {seconds:.2f} s"


def summarize_realdata_classification(results):
    """Aggregate :func:`run_realdata_classification` over its folds and trials.

    The rows are grouped by data set and method; this is the table the command
    line prints and writes to ``realdata-classification_summary.md``.

    Parameters
    ----------
    results : pandas.DataFrame
        The output of :func:`run_realdata_classification`.

    Returns
    -------
    summary : pandas.DataFrame
        One row per data set and method, in the order they first appear, with
        ``n``, ``p``, ``n_classes``, ``folds`` (held-out folds scored), the
        mean and standard deviation over them of ``accuracy`` and
        ``log_loss``, ``n_parameters``, the median ``fit_time_s``,
        ``warned_fits`` (fits that raised a ``ConvergenceWarning``) and
        ``n_warnings`` (every warning of every fit).

    See Also
    --------
    run_realdata_classification : The experiment it summarises.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_deeptd.benchmark import summarize_realdata_classification
    >>> results = pd.DataFrame({
    ...     "setting": ["a", "a"], "n": [9, 9], "p": [4, 4], "n_classes": [3, 3],
    ...     "method": ["m", "m"], "accuracy": [0.5, 1.0], "log_loss": [0.6, 0.2],
    ...     "n_parameters": [10, 10], "fit_time_s": [1.0, 3.0],
    ...     "n_warnings": [1, 0], "n_convergence_warnings": [1, 0]})
    >>> summarize_realdata_classification(results)[["folds", "accuracy", "warned_fits"]]
       folds  accuracy  warned_fits
    0      2      0.75            1
    """
    keys = ["setting", "n", "p", "n_classes", "method"]
    grouped = results.groupby(keys, sort=False, dropna=False)
    return pd.DataFrame({
        "folds": grouped.size(),
        "accuracy": grouped["accuracy"].mean(),
        "accuracy_std": grouped["accuracy"].std(),
        "log_loss": grouped["log_loss"].mean(),
        "log_loss_std": grouped["log_loss"].std(),
        "n_parameters": grouped["n_parameters"].first(),
        "fit_time_s": grouped["fit_time_s"].median(),
        "warned_fits": grouped["n_convergence_warnings"].apply(
            lambda counts: int(np.sum(counts > 0))
        ),
        "n_warnings": grouped["n_warnings"].sum(),
    }).reset_index()  # fmt: skip
