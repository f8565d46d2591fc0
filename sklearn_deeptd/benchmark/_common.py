"""Shared machinery of the benchmarks: data per trial, one fit, one tidy row."""

import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score

from .._datasets import PlantedCNNDataset
from .._estimator import DeepTDRegressor
from .._metrics import kernel_correlation

# The methods of the paper's experiments, as DeepTDRegressor parameters.
METHODS = {
    "DeepTD": {"refine": False},
    "NaiveTD": {"center": False, "refine": False},
    "DeepTD+refine": {},
    "random start": {"init": "random", "refine": True},
}
# Methods that run the (costly) refinement.
REFINED = ("DeepTD+refine", "random start")

_N_TEST = 1000


def setting_label(kernel_sizes):
    """``d=3,D=8`` for equal sizes, else ``8x4x2``."""
    sizes = tuple(int(size) for size in kernel_sizes)
    if len(set(sizes)) == 1:
        return f"d={sizes[0]},D={len(sizes)}"
    return "x".join(str(size) for size in sizes)


def check_methods(methods, allowed):
    methods = tuple(methods)
    unknown = [method for method in methods if method not in allowed]
    if unknown or not methods:
        raise ValueError(
            f"methods must be a non-empty subset of {list(allowed)}, got {methods}."
        )
    return methods


def check_positive_int(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}.")
    return int(value)


def check_kernel_settings(kernel_sizes, name="kernel_sizes"):
    settings = [tuple(int(size) for size in sizes) for sizes in kernel_sizes]
    if not settings or any(not sizes or min(sizes) < 1 for sizes in settings):
        raise ValueError(
            f"{name} must be a non-empty list of tuples of positive integers, "
            f"got {kernel_sizes!r}."
        )
    return settings


_TQDM_MISSING = (
    "tqdm is not installed: no progress bar. Install the benchmark extra "
    "(pip install 'sklearn-deeptd[benchmark]') to get one, or pass -v for a "
    "line per fit."
)


class Progress:
    """Progress of ``total`` fits on stderr, a context manager.

    A tqdm bar with the time left when stderr is a terminal (none when it is
    piped, or without tqdm); with ``verbose``, also one line per fit with a
    count and the time left.

    Parameters
    ----------
    name : str
        The experiment, the bar's label.
    total : int
        Number of fits.
    verbose : int
        Print one line per fit when positive.
    """

    def __init__(self, name, total, verbose):
        self.name, self.total, self.verbose = name, total, verbose
        self.done = 0
        self.start = time.perf_counter()
        try:
            from tqdm import tqdm
        except ImportError:
            self._bar = None
            if not verbose and sys.stderr.isatty():
                print(_TQDM_MISSING, file=sys.stderr)
        else:
            # disable=None: no bar when stderr is not a terminal.
            self._bar = tqdm(
                total=total, desc=name, unit="fit", file=sys.stderr, disable=None
            )

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self._bar is not None:
            self._bar.close()

    def step(self, message):
        """Count one fit; with ``verbose``, print ``message`` about it."""
        self.done += 1
        if self._bar is not None:
            self._bar.update()
        if not self.verbose:
            return
        elapsed = time.perf_counter() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        line = (
            f"[{self.name}] {self.done}/{self.total} {message} "
            f"(elapsed {elapsed:.0f} s, eta {eta:.0f} s)"
        )
        if self._bar is not None:
            # Above the bar, which stays at the bottom.
            self._bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)


# Parameter entries that several ``run_*`` docstrings share (see fill_doc).
_DOC_PARAMETERS = {
    "seed": """seed : int, default=0
        First trial seed.""",
    "quick": """quick : bool, default=False
        Use the small defaults.""",
    "max_iter": """max_iter : int, default=300
        ``max_iter`` of every estimator.""",
    "n_test": """n_test : int, default=None
        Test rows. ``None`` uses 5000 (500 with ``quick``).""",
    "verbose": """verbose : int, default=0
        Progress on stderr: with tqdm (the benchmark extra), a bar with the
        time left when stderr is a terminal; when positive, also one line per
        fit with its result.""",
}


def fill_doc(function):
    """Fill the ``{seed}``, ``{quick}``, ``{max_iter}``, ``{n_test}`` and
    ``{verbose}`` parameter entries of a docstring."""
    for key, text in _DOC_PARAMETERS.items():
        function.__doc__ = function.__doc__.replace("{" + key + "}", text)
    return function


def resolve(defaults, quick, given):
    """The ``given`` dict of options, with the mode's default
    (``defaults["quick"]`` or ``defaults["full"]``) for those that are None."""
    mode = defaults["quick" if quick else "full"]
    return {key: mode[key] if value is None else value for key, value in given.items()}


def trial_data(kernel_sizes, N, trial_seed, *, n_test=None, **planted_params):
    """The planted network of one trial, its training and test samples.

    The network (``PlantedCNNDataset(kernel_sizes, **planted_params)``)
    depends on the trial seed only (so every N of a trial learns the same
    network); the ``n = N * rank * sum(kernel_sizes)`` training and the
    ``n_test`` test samples on the seed and ``n``.
    """
    planted = PlantedCNNDataset(kernel_sizes, random_state=trial_seed, **planted_params)
    n = int(N * planted_params.get("rank", 1) * sum(kernel_sizes))
    X, y = planted.sample(n, random_state=np.random.RandomState([trial_seed, n, 1]))
    X_test, y_test = planted.sample(
        _N_TEST if n_test is None else n_test,
        random_state=np.random.RandomState([trial_seed, n, 2]),
    )
    return planted, X, y, X_test, y_test


def floor_seconds(X, y, repeats=15):
    """Median time of ``X.T @ y``: the cost of reading the data once."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        X.T @ y
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def timed_fit(model, X, y):
    """Fit; the seconds taken, the number of warnings raised and how many of
    them are ``ConvergenceWarning``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    converge = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return seconds, len(caught), converge


def deeptd_row(
    method,
    planted,
    X,
    y,
    X_test,
    y_test,
    trial_seed,
    *,
    output_activation="identity",
    max_iter=300,
):
    """Fit one DeepTDRegressor variant and describe it as a tidy row."""
    kernel_sizes = tuple(planted.kernel_sizes)
    model = DeepTDRegressor(
        kernel_sizes,
        output_activation=output_activation,
        max_iter=max_iter,
        random_state=trial_seed,
        **METHODS[method],
    )
    seconds, n_warnings, _ = timed_fit(model, X, y)
    correlation = kernel_correlation(planted.kernels_, model.kernels_)[:, 0]
    return {
        "method": method,
        "r2_test": r2_score(y_test, model.predict(X_test)),
        "fit_time_s": seconds,
        "n_iter": model.n_iter_,
        "n_warnings": n_warnings,
        **correlation_columns(correlation),
    }


def correlation_columns(correlation):
    """``corr_layer_1 .. corr_layer_D``, ``corr_min`` and ``corr_mean``."""
    if correlation is None:
        return {"corr_min": np.nan, "corr_mean": np.nan}
    columns = {f"corr_layer_{i + 1}": float(c) for i, c in enumerate(correlation)}
    columns["corr_min"] = float(np.min(correlation))
    columns["corr_mean"] = float(np.mean(correlation))
    return columns


def setting_columns(kernel_sizes, N, trial, trial_seed, n):
    return {
        "setting": setting_label(kernel_sizes),
        "kernel_sizes": "x".join(str(size) for size in kernel_sizes),
        "depth": len(kernel_sizes),
        "width": max(kernel_sizes),
        "p": int(np.prod(kernel_sizes)),
        "N": N,
        "n": n,
        "trial": trial,
        "seed": trial_seed,
    }


def tidy(rows, experiment):
    """A DataFrame with the fixed columns first, the per-layer ones in order."""
    frame = pd.DataFrame(rows)
    frame.insert(0, "experiment", experiment)
    layers = sorted(
        (c for c in frame.columns if c.startswith("corr_layer_")),
        key=lambda c: int(c.rsplit("_", 1)[1]),
    )
    lead = [c for c in ("experiment", "setting", "method") if c in frame.columns]
    others = [c for c in frame.columns if not c.startswith("corr_layer_")]
    first = lead + [c for c in others if c not in ("corr_min", "corr_mean", *lead)]
    tail = [c for c in ("corr_min", "corr_mean") if c in frame.columns]
    return frame[first + layers + tail]
