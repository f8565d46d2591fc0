"""The experiments: the paper's depth and width figures, sample size, timing, peers.

Each ``run_*`` function returns a tidy pandas DataFrame with one row per trial
and method (see :mod:`sklearn_deeptd.benchmark`).
"""

import time
import warnings

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from .._estimator import DeepTDRegressor
from .._metrics import kernel_correlation
from ._common import (
    METHODS,
    REFINED,
    Progress,
    check_kernel_settings,
    check_methods,
    check_positive_int,
    correlation_columns,
    deeptd_row,
    fill_doc,
    floor_seconds,
    resolve,
    setting_columns,
    setting_label,
    tidy,
    timed_fit,
    trial_data,
)

PEER_METHODS = (
    "DeepTD",
    "DeepTD+refine",
    "random start",
    "MLPRegressor",
    "Ridge",
    "TensorLy parafac",
)

_DEFAULTS = {
    "depth": {
        "full": {"kernel_sizes": [(2,) * 12, (3,) * 8, (2,) * 14, (2,) * 16,
                                  (3,) * 9, (4,) * 6],
                 "N": (10, 20, 50, 100), "refine_N": (50,), "trials": 10},
        "quick": {"kernel_sizes": [(2,) * 8, (3,) * 5], "N": (10, 50),
                  "refine_N": (50,), "trials": 3},
    },
    "width": {
        "full": {"widths": (2, 3, 4, 6, 8), "N": (10, 20, 50), "refine_N": (20,),
                 "trials": 20},
        "quick": {"widths": (2, 3, 4), "N": (10, 20), "refine_N": (20,),
                  "trials": 3},
    },
    "samples": {
        "full": {"kernel_sizes": [(8, 8, 8), (4, 4, 4, 4)],
                 "N": (1, 2, 5, 10, 20, 50), "trials": 20},
        "quick": {"kernel_sizes": [(4, 4, 4)], "N": (2, 5, 10, 20), "trials": 3},
    },
    "timing": {
        "full": {"n_samples": (1000, 4000, 16000, 64000),
                 "kernel_sizes": [(4, 4, 4), (8, 8, 8), (16, 16, 16)],
                 "repeats": 5},
        "quick": {"n_samples": (500, 2000), "kernel_sizes": [(4, 4, 4), (8, 8, 8)],
                  "repeats": 3},
    },
    "peers": {
        "full": {"settings": [((8, 8, 8), 10), ((4, 4, 4, 4), 20), ((3,) * 6, 50)],
                 "trials": 10},
        "quick": {"settings": [((4, 4, 4), 10), ((3, 3, 3, 3), 20), ((2,) * 8, 20)],
                  "trials": 2},
    },
}  # fmt: skip


def _recovery(
    name,
    settings,
    N_values,
    methods,
    refine_N,
    trials,
    seed,
    *,
    output_activation="identity",
    max_iter=300,
    verbose=0,
):
    """Fit every method on the same data for each setting, N and trial."""
    N_values = tuple(check_positive_int(N, "N") for N in N_values)
    refine_N = tuple(N_values if refine_N == "all" else refine_N)
    trials = check_positive_int(trials, "trials")
    plan = [
        (sizes, N, trial, [m for m in methods if m not in REFINED or N in refine_N])
        for sizes in settings
        for N in N_values
        for trial in range(trials)
    ]
    rows = []
    with Progress(name, sum(len(p[3]) for p in plan), verbose) as progress:
        for sizes, N, trial, trial_methods in plan:
            if not trial_methods:
                continue
            trial_seed = seed + trial
            planted, X, y, X_test, y_test = trial_data(
                sizes, N, trial_seed, output_activation=output_activation
            )
            common = setting_columns(sizes, N, trial, trial_seed, X.shape[0])
            common["output_activation"] = output_activation
            for method in trial_methods:
                row = deeptd_row(
                    method,
                    planted,
                    X,
                    y,
                    X_test,
                    y_test,
                    trial_seed,
                    output_activation=output_activation,
                    max_iter=max_iter,
                )
                rows.append({**common, **row})
                progress.step(
                    f"{common['setting']} N={N} trial={trial} {method}: "
                    f"min corr {row['corr_min']:.3f}, {row['fit_time_s']:.2f} s"
                )
    return tidy(rows, name)


@fill_doc
def run_depth(
    kernel_sizes=None,
    N=None,
    *,
    methods=tuple(METHODS),
    refine_N=None,
    trials=None,
    seed=0,
    quick=False,
    max_iter=300,
    verbose=0,
):
    """Per-layer recovery of deep networks: the paper's depth experiment.

    Planted networks with unit-norm Gaussian kernels, ReLU hidden layers and an
    identity output layer learn from ``n = N * sum(kernel_sizes)`` noiseless
    Gaussian samples. Every method fits the same data; the planted network of
    a trial is the same for every ``N``.

    Parameters
    ----------
    kernel_sizes : list of tuple of int, default=None
        Networks to plant, input layer first. ``None`` uses the paper's
        ``(2,) * 12`` and ``(3,) * 8``, then the deeper ``(2,) * 14``,
        ``(2,) * 16``, ``(3,) * 9`` and ``(4,) * 6`` (``[(2,) * 8, (3,) * 5]``
        with ``quick``).
    N : tuple of int, default=None
        Samples per weight, ``n = N * sum(kernel_sizes)``. ``None`` uses
        ``(10, 20, 50, 100)`` (``(10, 50)`` with ``quick``).
    methods : tuple of str, default=("DeepTD", "NaiveTD", "DeepTD+refine", \
"random start")
        ``"DeepTD"`` (``refine=False``), ``"NaiveTD"`` (``center=False,
        refine=False``), ``"DeepTD+refine"`` (the default estimator) and
        ``"random start"`` (``init="random"``, refined).
    refine_N : tuple of int or "all", default=None
        Values of ``N`` at which the refined methods run (they cost 10 to 100
        times more than DeepTD alone). ``None`` uses ``(50,)``.
    trials : int, default=None
        Trials per setting and ``N``, with seeds ``seed, seed + 1, ...``.
        ``None`` uses 10 (3 with ``quick``).
    seed : int, default=0
        First trial seed; it draws the planted network, the samples and the
        estimator's ``random_state``.
    quick : bool, default=False
        Use the small defaults (about a minute on two cores).
    {max_iter}
    {verbose}

    Returns
    -------
    results : pandas.DataFrame
        One row per trial and method with columns ``experiment``, ``setting``
        (``"d=3,D=8"``), ``method``, ``kernel_sizes``, ``depth``, ``width``,
        ``p``, ``N``, ``n``, ``trial``, ``seed``, ``output_activation``,
        ``r2_test`` (on 1000 fresh samples), ``fit_time_s``, ``n_iter``,
        ``n_warnings``, ``corr_layer_1`` ... ``corr_layer_D`` (``|cos|``
        between the planted and learned kernel of each layer, NaN for layers a
        shallower network lacks), ``corr_min`` and ``corr_mean``.

    See Also
    --------
    run_width : The paper's width experiment.
    run_samples : Recovery against the number of samples.

    Examples
    --------
    >>> from sklearn_deeptd.benchmark import run_depth
    >>> results = run_depth([(2, 2, 2)], N=(20,), methods=("DeepTD",), trials=2)
    >>> results[["setting", "method", "N", "n"]].drop_duplicates()
      setting  method   N    n
    0 d=2,D=3  DeepTD  20  120
    """
    given = dict(kernel_sizes=kernel_sizes, N=N, refine_N=refine_N, trials=trials)
    options = resolve(_DEFAULTS["depth"], quick, given)
    return _recovery(
        "depth",
        check_kernel_settings(options["kernel_sizes"]),
        options["N"],
        check_methods(methods, METHODS),
        options["refine_N"],
        options["trials"],
        seed,
        max_iter=max_iter,
        verbose=verbose,
    )


@fill_doc
def run_width(
    widths=None,
    depth=4,
    N=None,
    *,
    methods=tuple(METHODS),
    output_activation="relu",
    refine_N=None,
    trials=None,
    seed=0,
    quick=False,
    max_iter=300,
    verbose=0,
):
    """Per-layer recovery against kernel width: the paper's width experiment.

    Networks of ``depth`` layers with the same kernel size ``d`` in every
    layer, ReLU hidden layers and (as in the paper) a ReLU output layer, learn
    from ``n = N * d * depth`` noiseless Gaussian samples; the fitted models use
    the same output activation.

    Parameters
    ----------
    widths : tuple of int, default=None
        Kernel sizes ``d`` to try. ``None`` uses ``(2, 3, 4, 6, 8)``
        (``(2, 3, 4)`` with ``quick``).
    depth : int, default=4
        Number of layers.
    N : tuple of int, default=None
        Samples per weight. ``None`` uses ``(10, 20, 50)`` (``(10, 20)`` with
        ``quick``).
    methods : tuple of str, default=("DeepTD", "NaiveTD", "DeepTD+refine", \
"random start")
        As in :func:`run_depth`.
    output_activation : str, default="relu"
        Output activation of the planted and the fitted networks.
    refine_N : tuple of int or "all", default=None
        Values of ``N`` at which the refined methods run; ``None`` uses
        ``(20,)``.
    trials : int, default=None
        Trials per width and ``N``. ``None`` uses 20 (3 with ``quick``).
    {seed}
    quick : bool, default=False
        Use the small defaults: widths 2 to 4, ``N`` of 10 and 20, 3 trials.
    {max_iter}
    {verbose}

    Returns
    -------
    results : pandas.DataFrame
        One row per trial and method, with the columns of :func:`run_depth`.

    See Also
    --------
    run_depth : The paper's depth experiment.

    Examples
    --------
    >>> from sklearn_deeptd.benchmark import run_width
    >>> results = run_width((2,), depth=2, N=(10,), methods=("NaiveTD",), trials=1)
    >>> results[["setting", "method", "output_activation"]]
       setting   method output_activation
    0  d=2,D=2  NaiveTD              relu
    """
    given = dict(widths=widths, N=N, refine_N=refine_N, trials=trials)
    options = resolve(_DEFAULTS["width"], quick, given)
    depth = check_positive_int(depth, "depth")
    widths = [check_positive_int(d, "widths") for d in options["widths"]]
    return _recovery(
        "width",
        [(d,) * depth for d in widths],
        options["N"],
        check_methods(methods, METHODS),
        options["refine_N"],
        options["trials"],
        seed,
        output_activation=output_activation,
        max_iter=max_iter,
        verbose=verbose,
    )


@fill_doc
def run_samples(
    kernel_sizes=None,
    N=None,
    *,
    methods=("DeepTD", "DeepTD+refine", "random start"),
    trials=None,
    seed=0,
    quick=False,
    max_iter=300,
    verbose=0,
):
    """Recovery against the number of samples per weight ``N``.

    Every method runs at every ``N`` (ReLU hidden layers, identity output,
    noiseless labels, ``n = N * sum(kernel_sizes)``).

    Parameters
    ----------
    kernel_sizes : list of tuple of int, default=None
        Networks to plant. ``None`` uses ``[(8, 8, 8), (4, 4, 4, 4)]``
        (``[(4, 4, 4)]`` with ``quick``).
    N : tuple of int, default=None
        Samples per weight. ``None`` uses ``(1, 2, 5, 10, 20, 50)``
        (``(2, 5, 10, 20)`` with ``quick``).
    methods : tuple of str, default=("DeepTD", "DeepTD+refine", "random start")
        Any of the methods of :func:`run_depth`.
    trials : int, default=None
        Trials per setting and ``N``. ``None`` uses 20 (3 with ``quick``).
    seed : int, default=0
        First trial seed: trial ``t`` learns the network of seed ``seed + t``
        at every ``N``.
    {quick}
    {max_iter}
    {verbose}

    Returns
    -------
    results : pandas.DataFrame
        One row per setting, ``N``, trial and method, with the columns of
        :func:`run_depth`.

    See Also
    --------
    run_depth : The paper's depth experiment, refined at one ``N``.

    Examples
    --------
    >>> from sklearn_deeptd.benchmark import run_samples
    >>> results = run_samples([(3, 3)], N=(5, 50), methods=("DeepTD",), trials=1)
    >>> results["n"].tolist()
    [30, 300]
    """
    given = dict(kernel_sizes=kernel_sizes, N=N, trials=trials)
    options = resolve(_DEFAULTS["samples"], quick, given)
    return _recovery(
        "samples",
        check_kernel_settings(options["kernel_sizes"]),
        options["N"],
        check_methods(methods, METHODS),
        "all",
        options["trials"],
        seed,
        max_iter=max_iter,
        verbose=verbose,
    )


@fill_doc
def run_timing(
    n_samples=None,
    kernel_sizes=None,
    *,
    base_kernel_sizes=(8, 8, 8),
    base_n=4000,
    methods=("DeepTD", "DeepTD+refine"),
    repeats=None,
    seed=0,
    quick=False,
    verbose=0,
):
    """Fit time against ``n`` and ``d``, as a ratio to one ``X.T @ y``.

    Two sweeps on planted ReLU networks: ``n`` over ``n_samples`` with
    ``base_kernel_sizes``, and the number of features ``p`` over
    ``kernel_sizes`` with ``base_n`` samples. Each fit is timed next to the
    median of 15 evaluations of ``X.T @ y`` on the same data in the same
    process, the floor any method that reads the data pays; the ratio is
    comparable across machines, the seconds are not. BLAS runs on one thread
    during the sweeps, so that both times count one core.

    Parameters
    ----------
    n_samples : tuple of int, default=None
        Sample sizes of the ``n`` sweep. ``None`` uses
        ``(1000, 4000, 16000, 64000)`` (``(500, 2000)`` with ``quick``).
    kernel_sizes : list of tuple of int, default=None
        Networks of the ``p`` sweep. ``None`` uses
        ``[(4, 4, 4), (8, 8, 8), (16, 16, 16)]`` (without the last with
        ``quick``).
    base_kernel_sizes : tuple of int, default=(8, 8, 8)
        Network of the ``n`` sweep.
    base_n : int, default=4000
        Sample size of the ``p`` sweep (2000 with ``quick``).
    methods : tuple of str, default=("DeepTD", "DeepTD+refine")
        Any of the methods of :func:`run_depth`.
    repeats : int, default=None
        Timed fits per point and method. ``None`` uses 5 (3 with ``quick``).
    seed : int, default=0
        Seed of the planted network, the data and the estimators.
    {quick}
    {verbose}

    Returns
    -------
    results : pandas.DataFrame
        One row per sweep point, method and repeat with columns
        ``experiment``, ``setting``, ``method``, ``sweep`` (``"n"`` or
        ``"p"``), ``kernel_sizes``, ``p``, ``n``, ``repeat``, ``seed``,
        ``fit_time_s``, ``floor_time_s`` (median time of ``X.T @ y``) and
        ``ratio`` (``fit_time_s / floor_time_s``).

    See Also
    --------
    run_peers : Fit times of the alternatives.

    Examples
    --------
    >>> from sklearn_deeptd.benchmark import run_timing
    >>> results = run_timing((200,), [(2, 2)], base_kernel_sizes=(2, 2),
    ...                      base_n=100, methods=("DeepTD",), repeats=1)
    >>> results[["sweep", "n", "p"]]
      sweep    n  p
    0     n  200  4
    1     p  100  4
    """
    if quick and base_n == 4000:
        base_n = 2000
    given = dict(n_samples=n_samples, kernel_sizes=kernel_sizes, repeats=repeats)
    options = resolve(_DEFAULTS["timing"], quick, given)
    methods = check_methods(methods, METHODS)
    repeats = check_positive_int(options["repeats"], "repeats")
    base_n = check_positive_int(base_n, "base_n")
    points = [
        ("n", tuple(base_kernel_sizes), check_positive_int(n, "n_samples"))
        for n in options["n_samples"]
    ] + [
        ("p", sizes, base_n) for sizes in check_kernel_settings(options["kernel_sizes"])
    ]
    rows = []
    total = len(points) * len(methods) * repeats
    with threadpool_limits(limits=1), Progress("timing", total, verbose) as progress:
        _time_points(points, methods, repeats, seed, progress, rows)
    return tidy(rows, "timing")


def _time_points(points, methods, repeats, seed, progress, rows):
    for sweep, sizes, n in points:
        planted, X, y, _, _ = trial_data(sizes, n / sum(sizes), seed, n_test=1)
        for repeat in range(repeats):
            for method in methods:
                floor = floor_seconds(X, y)
                model = DeepTDRegressor(sizes, random_state=seed, **METHODS[method])
                seconds, _, _ = timed_fit(model, X, y)
                rows.append(
                    {
                        "setting": setting_label(sizes),
                        "method": method,
                        "sweep": sweep,
                        "kernel_sizes": "x".join(str(s) for s in sizes),
                        "p": X.shape[1],
                        "n": X.shape[0],
                        "repeat": repeat,
                        "seed": seed,
                        "fit_time_s": seconds,
                        "floor_time_s": floor,
                        "ratio": seconds / floor,
                    }
                )
                progress.step(
                    f"{sweep} sweep n={n} p={X.shape[1]} {method}: "
                    f"{seconds:.3f} s = {seconds / floor:.0f} x X.T @ y"
                )


def _tensorly_parafac():
    try:
        import tensorly
        from tensorly.decomposition import parafac
    except ImportError:
        return None
    return tensorly, parafac


def _peer_row(method, planted, X, y, X_test, y_test, trial_seed, max_iter):
    if method in METHODS:
        return deeptd_row(
            method, planted, X, y, X_test, y_test, trial_seed, max_iter=max_iter
        )
    kernel_sizes = tuple(planted.kernel_sizes)
    if method == "TensorLy parafac":
        tensorly, parafac = _tensorly_parafac()
        start = time.perf_counter()
        moment = X.T @ (y - y.mean()) / X.shape[0]
        tensor = tensorly.tensor(np.reshape(moment, kernel_sizes, order="F"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cp = parafac(tensor, rank=1, init="svd", n_iter_max=max_iter, tol=1e-7)
        seconds = time.perf_counter() - start
        factors = [np.asarray(factor).T for factor in cp.factors]
        return {
            "method": method,
            "r2_test": np.nan,
            "fit_time_s": seconds,
            "n_iter": np.nan,
            "n_warnings": len(caught),
            **correlation_columns(kernel_correlation(planted.kernels_, factors)[:, 0]),
        }
    if method == "MLPRegressor":
        # Standardised targets, as a user would do for a neural network.
        model = TransformedTargetRegressor(
            MLPRegressor(
                hidden_layer_sizes=(64,),
                early_stopping=True,
                max_iter=200,
                random_state=trial_seed,
            ),
            transformer=StandardScaler(),
        )
    else:  # Ridge
        model = RidgeCV(alphas=np.logspace(-3, 3, 13))
    seconds, n_warnings, _ = timed_fit(model, X, y)
    return {
        "method": method,
        "r2_test": r2_score(y_test, model.predict(X_test)),
        "fit_time_s": seconds,
        "n_iter": getattr(getattr(model, "regressor_", model), "n_iter_", np.nan),
        "n_warnings": n_warnings,
        **correlation_columns(None),
    }


@fill_doc
def run_peers(
    settings=None,
    *,
    methods=None,
    trials=None,
    seed=0,
    quick=False,
    max_iter=300,
    verbose=0,
):
    """DeepTD with refinement against what a user would run instead, at equal n.

    On each setting every method fits the same ``n = N * sum(kernel_sizes)``
    noiseless Gaussian samples of a planted ReLU network (identity output):
    ``"DeepTD+refine"`` (the default estimator), ``"DeepTD"`` (no refinement),
    ``"random start"`` (the same network trained from random kernels),
    ``"MLPRegressor"`` (scikit-learn, one hidden layer of 64 units, early
    stopping, standardised targets), ``"Ridge"`` (``RidgeCV``, a linear model)
    and, when TensorLy is installed, ``"TensorLy parafac"`` (TensorLy's rank-1
    ``parafac`` of the same moment tensor in place of DeepTD's decomposition
    step; kernel correlation only, as it resolves neither signs nor scale).

    Parameters
    ----------
    settings : list of (tuple of int, int), default=None
        ``(kernel_sizes, N)`` pairs. ``None`` uses
        ``[((8, 8, 8), 10), ((4, 4, 4, 4), 20), ((3,) * 6, 50)]``.
    methods : tuple of str, default=None
        Subset of the methods above; ``None`` runs them all, skipping
        ``"TensorLy parafac"`` with a warning when TensorLy is missing.
    trials : int, default=None
        Trials per setting. ``None`` uses 10 (2 with ``quick``).
    {seed}
    {quick}
    max_iter : int, default=300
        ``max_iter`` of the DeepTDRegressor variants and of ``parafac``.
    {verbose}

    Returns
    -------
    results : pandas.DataFrame
        One row per trial and method, with the columns of :func:`run_depth`;
        the correlation columns are NaN for ``"MLPRegressor"`` and
        ``"Ridge"`` (no kernels) and ``r2_test`` is NaN for
        ``"TensorLy parafac"`` (no predictor).

    Raises
    ------
    ImportError
        When ``"TensorLy parafac"`` is requested explicitly and TensorLy is not
        installed.

    See Also
    --------
    run_depth : Per-layer recovery of the DeepTD variants.

    Examples
    --------
    >>> from sklearn_deeptd.benchmark import run_peers
    >>> results = run_peers([((2, 2), 20)], methods=("DeepTD+refine", "Ridge"),
    ...                     trials=1)
    >>> results["method"].tolist()
    ['DeepTD+refine', 'Ridge']
    """
    given = dict(settings=settings, trials=trials)
    options = resolve(_DEFAULTS["peers"], quick, given)
    if methods is None:
        methods = PEER_METHODS
        if _tensorly_parafac() is None:
            warnings.warn(
                "TensorLy is not installed: skipping the 'TensorLy parafac' peer "
                "(pip install tensorly to include it).",
                UserWarning,
            )
            methods = PEER_METHODS[:-1]
    methods = check_methods(methods, PEER_METHODS)
    if "TensorLy parafac" in methods and _tensorly_parafac() is None:
        raise ImportError(
            "The 'TensorLy parafac' peer needs TensorLy: pip install tensorly."
        )
    pairs = [
        (check_kernel_settings([sizes])[0], check_positive_int(N, "N"))
        for sizes, N in options["settings"]
    ]
    trials = check_positive_int(options["trials"], "trials")
    rows = []
    with Progress("peers", len(pairs) * trials * len(methods), verbose) as progress:
        for sizes, N in pairs:
            for trial in range(trials):
                trial_seed = seed + trial
                planted, X, y, X_test, y_test = trial_data(sizes, N, trial_seed)
                common = setting_columns(sizes, N, trial, trial_seed, X.shape[0])
                for method in methods:
                    row = _peer_row(
                        method, planted, X, y, X_test, y_test, trial_seed, max_iter
                    )
                    rows.append({**common, **row})
                    progress.step(
                        f"{common['setting']} N={N} trial={trial} {method}: "
                        f"R^2 {row['r2_test']:.3f}, {row['fit_time_s']:.2f} s"
                    )
    return tidy(rows, "peers")
