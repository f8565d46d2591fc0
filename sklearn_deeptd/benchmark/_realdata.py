"""Real data: DeepTD against the usual regressors on bundled and generated data.

Every model runs in ``make_pipeline(StandardScaler(), model)`` and is scored by
5-fold cross-validation; see :func:`run_realdata`.
"""

import numpy as np
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes, load_digits
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from .._estimator import DeepTDRegressor
from .._validation import default_kernel_sizes
from ._common import Progress, check_positive_int, fill_doc, tidy, timed_fit

_N_FOLDS = 5
DATASETS = ("diabetes", "digits", "local patterns")

_DEFAULTS = {
    "full": {"ranks": (1, 2, 4), "trials": 3, "max_rows": None,
             "signal_rows": 2000, "boosting_iter": 100},
    "quick": {"ranks": (1, 2), "trials": 1, "max_rows": 200,
              "signal_rows": 200, "boosting_iter": 20},
}  # fmt: skip

# The local-patterns signal: 32 consecutive windows of 8 samples each.
_WINDOW, _N_WINDOWS = 8, 32
_SIGNAL_NOISE = 0.5


def z_order(side):
    """Column order of a ``side x side`` row-major image that lists it by 2x2
    blocks, then 2x2 blocks of those, ... (Morton order), so that kernel sizes
    ``(4, 4, 4)`` on an 8x8 image mean 2x2, 4x4 and 8x8 patches."""
    bits = int(side).bit_length() - 1
    codes = []
    for pixel in range(side * side):
        row, col = divmod(pixel, side)
        code = 0
        for b in range(bits):
            code |= ((col >> b) & 1) << (2 * b) | ((row >> b) & 1) << (2 * b + 1)
        codes.append(code)
    return np.argsort(codes)


def local_patterns(n_samples, random_state):
    """A noisy sum of two local patterns along a 1-D signal of 256 samples.

    Each row is standard Gaussian noise cut into 32 consecutive windows of 8;
    the target sums, over the windows, ``relu`` of the window's match with a
    wavelet weighted by a bump centred on window 8, and ``relu`` of its match
    with an edge weighted by a wider bump centred on window 22, plus Gaussian
    noise with half the standard deviation of that sum (so the best R^2 is
    about 0.8). It is a rank-2 network of kernel sizes ``(8, 32)``; the
    default factorisation of 256 is ``(8, 8, 4)``.
    """
    rng = np.random.RandomState(random_state)
    t = np.arange(_WINDOW)
    wavelet = np.hanning(_WINDOW + 2)[1:-1] * np.cos(np.pi * t / 2)
    edge = np.where(t < _WINDOW // 2, 1.0, -1.0)
    w = np.arange(_N_WINDOWS)
    bumps = (
        np.exp(-0.5 * ((w - 8) / 3) ** 2),
        0.7 * np.exp(-0.5 * ((w - 22) / 5) ** 2),
    )
    X = rng.standard_normal((n_samples, _WINDOW * _N_WINDOWS))
    windows = X.reshape(n_samples, _N_WINDOWS, _WINDOW)
    signal = sum(
        np.maximum(windows @ (pattern / np.linalg.norm(pattern)), 0.0) @ bump
        for pattern, bump in zip((wavelet, edge), bumps)
    )
    signal -= signal.mean()
    y = signal + _SIGNAL_NOISE * signal.std() * rng.standard_normal(n_samples)
    return X, y


def _load(name, max_rows, signal_rows, seed):
    """``X``, ``y`` and the kernel-size choices of one data set.

    Each choice is ``(kernel_sizes, order)``: ``None`` sizes are the default
    factorisation; ``order`` is ``None`` or ``(name, column order)``.
    """
    if name == "diabetes":
        X, y = load_diabetes(return_X_y=True)
        # No order among the 10 clinical features; one layer of 10 is the
        # linear model, a reference point.
        choices = [(None, None), ((10,), None)]
    elif name == "digits":
        X, y = load_digits(return_X_y=True)
        y = y.astype(float)
        # Row-major 8x8 images: (8, 8) reads each image row, then the rows;
        # (4, 4, 4) in Morton order reads 2x2, 4x4, then 8x8 patches.
        choices = [
            (None, None),
            ((8, 8), None),
            ((4, 4, 4), ("2x2 blocks", z_order(8))),
        ]
    else:
        X, y = local_patterns(signal_rows, seed)
        choices = [(None, None), ((_WINDOW, _N_WINDOWS), None)]
    return *subsample(X, y, max_rows, seed), choices


def subsample(X, y, max_rows, seed):
    """At most ``max_rows`` rows of ``X`` and ``y``, drawn from ``seed`` and
    kept in order."""
    if max_rows is not None and X.shape[0] > max_rows:
        rng = np.random.RandomState(seed)
        rows = np.sort(rng.choice(X.shape[0], max_rows, replace=False))
        X, y = X[rows], y[rows]
    return X, y


def candidates(choices, n_features, estimator, ranks, one_layer_ranks, peers, seed):
    """``(method, columns, steps)`` of every model run on one data set: the
    steps follow the ``StandardScaler`` in its pipeline.

    Each kernel-size choice runs ``estimator`` (DeepTDRegressor or
    DeepTDClassifier) from the DeepTD and from a random start at each of
    ``ranks``, or of ``one_layer_ranks`` for a single layer; then the
    ``peers``, a dict of method names and models.
    """
    out = []
    for sizes, order in choices:
        default = sizes is None
        sizes = default_kernel_sizes(n_features) if default else sizes
        name = "x".join(map(str, sizes))
        steps = []
        if order is not None:
            name = f"{name} ({order[0]})"
            steps = [
                FunctionTransformer(np.take, kw_args={"indices": order[1], "axis": 1})
            ]
        for rank in ranks if len(sizes) > 1 else one_layer_ranks:
            for method, init in (("DeepTD", "deeptd"), ("random start", "random")):
                model = estimator(sizes, rank=rank, init=init, random_state=seed)
                columns = {"model": method, "kernel_sizes": "x".join(map(str, sizes)),
                           "default_sizes": default, "rank": rank}  # fmt: skip
                out.append((f"{method} {name} r={rank}", columns, steps + [model]))
    for method, model in peers.items():
        out.append((method, {"model": method}, [model]))
    return out


def _trial_models(X, choices, ranks, seed, boosting_iter):
    """The :func:`candidates` of one trial on one data set."""
    peers = {
        "Ridge": RidgeCV(alphas=np.logspace(-3, 3, 13)),
        # Standardised targets and early stopping, as a user would run a network.
        "MLPRegressor": TransformedTargetRegressor(
            MLPRegressor(early_stopping=True, max_iter=500, random_state=seed),
            transformer=StandardScaler(),
        ),
        "HistGradientBoosting": HistGradientBoostingRegressor(
            max_iter=boosting_iter, random_state=seed
        ),
    }
    # Branches of a single layer add up to one linear map: the first rank only.
    return candidates(
        choices, X.shape[1], DeepTDRegressor, ranks, ranks[:1], peers, seed
    )


def checked_arguments(datasets, known, ranks, trials, mode):
    """The data sets (a non-empty subset of ``known``), ranks and number of
    trials of a real-data run, the mode's defaults for those left None."""
    ranks = mode["ranks"] if ranks is None else ranks
    ranks = tuple(check_positive_int(rank, "ranks") for rank in ranks)
    trials = check_positive_int(mode["trials"] if trials is None else trials, "trials")
    datasets = tuple(datasets)
    if not datasets or any(name not in known for name in datasets):
        raise ValueError(
            f"datasets must be a non-empty subset of {list(known)}, got {datasets}."
        )
    if not ranks:
        raise ValueError("ranks must hold at least one rank.")
    return datasets, ranks, trials


def cross_validate(name, data, plans, splitter, fit_and_score, seed, verbose):
    """Fit every model of every plan on each fold of its data set, on one
    thread; the tidy results.

    ``data`` maps each data set to ``(X, y, columns)``, ``columns`` the
    columns that describe it; ``plans`` maps ``(data set, trial)`` to the
    :func:`candidates` of that trial, seeded with ``seed + trial``, whose folds
    ``splitter(5, shuffle=True, random_state=seed + trial)`` draws;
    ``fit_and_score(pipeline, X, y, train, test)`` fits a pipeline on the
    ``train`` rows and returns the columns of its fit and scores on the
    ``test`` rows, and the progress message.
    """
    total = sum(len(plan) for plan in plans.values()) * _N_FOLDS
    rows = []
    with threadpool_limits(limits=1), Progress(name, total, verbose) as progress:
        for (setting, trial), plan in plans.items():
            X, y, described = data[setting]
            folds = splitter(_N_FOLDS, shuffle=True, random_state=seed + trial)
            for fold, (train, test) in enumerate(folds.split(X, y)):
                for method, columns, steps in plan:
                    pipeline = make_pipeline(StandardScaler(), *map(clone, steps))
                    scores, message = fit_and_score(pipeline, X, y, train, test)
                    rows.append({
                        "setting": setting, "method": method, **described,
                        "trial": trial, "fold": fold, "seed": seed + trial,
                        **columns, **scores,
                    })  # fmt: skip
                    progress.step(
                        f"{setting} trial={trial} fold={fold} {method}: {message}"
                    )
    return tidy(rows, name)


@fill_doc
def run_realdata(
    datasets=DATASETS, *, ranks=None, trials=None, seed=0, quick=False, verbose=0
):
    """DeepTD against Ridge, an MLP and gradient boosting on real data, by 5-fold CV.

    The data sets are scikit-learn's bundled ``load_diabetes`` (442 rows, 10
    clinical features) and ``load_digits`` (1797 8x8 images raveled row-major,
    the digit as a number), and ``"local patterns"``: a noisy sum of two local
    patterns on a 1-D signal of 256 samples (2000 rows), generated from
    ``seed``: the target is a rank-2 network of kernel sizes ``(8, 32)`` of
    Gaussian inputs plus noise, the structure DeepTD's network suits. Every
    model runs in ``make_pipeline(StandardScaler(), model)`` on the same folds:
    :class:`~sklearn_deeptd.DeepTDRegressor` with the default kernel sizes and
    the alternatives below at each rank, the same network from a random start
    (``init="random"``), ``RidgeCV`` (alpha from 1e-3 to 1e3), ``MLPRegressor``
    (one hidden layer of 100, early stopping, standardised targets) and
    ``HistGradientBoostingRegressor``, all with their defaults otherwise. The
    alternative kernel sizes: ``(10,)`` for diabetes (one layer: the linear
    model, run at the first rank only); ``(8, 8)`` for digits (each image row,
    then the rows) and ``(4, 4, 4)`` on the pixels listed by 2x2 blocks (2x2,
    4x4, 8x8 patches); ``(8, 32)`` for the signal (its generating windows). Fits
    run on one thread.

    Parameters
    ----------
    datasets : tuple of str, default=("diabetes", "digits", "local patterns")
        Data sets to run.
    ranks : tuple of int, default=None
        Ranks of the DeepTD networks. ``None`` uses ``(1, 2, 4)`` (``(1, 2)``
        with ``quick``).
    trials : int, default=None
        Repeats of 5-fold cross-validation, trial ``t`` shuffling the folds and
        seeding every model with ``seed + t``. ``None`` uses 3 (1 with
        ``quick``).
    seed : int, default=0
        First trial seed; it also draws the signal data set and the row
        subsample of ``quick``.
    quick : bool, default=False
        A small version, a few seconds: at most 200 rows per data set and 20
        boosting iterations (instead of 100).
    {verbose}

    Returns
    -------
    results : pandas.DataFrame
        One row per fit: data set, method, trial and fold, with columns
        ``experiment``, ``setting`` (the data set), ``method`` (for DeepTD,
        ``"DeepTD 4x4x4 r=2"`` or ``"random start ..."``), ``n``, ``p``,
        ``trial``, ``fold``, ``seed``, ``model``, ``kernel_sizes`` and
        ``rank`` (NaN for the peers), ``default_sizes``, ``r2_test`` (on the
        held-out fold), ``fit_time_s`` and ``n_warnings`` (warnings raised by
        the fit).

    See Also
    --------
    run_peers : The same peers on planted networks.

    Examples
    --------
    >>> from sklearn_deeptd.benchmark import run_realdata
    >>> results = run_realdata(("diabetes",), ranks=(1,), quick=True)
    >>> results.groupby("method", sort=False).size().head(3)
    method
    DeepTD 5x2 r=1          5
    random start 5x2 r=1    5
    DeepTD 10 r=1           5
    dtype: int64
    """
    mode = _DEFAULTS["quick" if quick else "full"]
    datasets, ranks, trials = checked_arguments(datasets, DATASETS, ranks, trials, mode)
    loaded = {
        name: _load(name, mode["max_rows"], mode["signal_rows"], seed)
        for name in datasets
    }
    plans = {
        (name, trial): _trial_models(
            X, choices, ranks, seed + trial, mode["boosting_iter"]
        )
        for name, (X, _, choices) in loaded.items()
        for trial in range(trials)
    }
    data = {
        name: (X, y, {"n": X.shape[0], "p": X.shape[1]})
        for name, (X, y, _) in loaded.items()
    }
    return cross_validate("realdata", data, plans, KFold, _fit_and_score, seed, verbose)


def _fit_and_score(pipeline, X, y, train, test):
    seconds, n_warnings, _ = timed_fit(pipeline, X[train], y[train])
    r2 = r2_score(y[test], pipeline.predict(X[test]))
    scores = {"r2_test": r2, "fit_time_s": seconds, "n_warnings": n_warnings}
    return scores, f"R^2 {r2:.3f}, {seconds:.2f} s"
