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

N_TEST = 1000


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


class Progress:
    """``verbose`` progress on stderr: one line per fit with a count and ETA."""

    def __init__(self, name, total, verbose):
        self.name, self.total, self.verbose = name, total, verbose
        self.done = 0
        self.start = time.perf_counter()

    def step(self, message):
        self.done += 1
        if not self.verbose:
            return
        elapsed = time.perf_counter() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        print(
            f"[{self.name}] {self.done}/{self.total} {message} "
            f"(elapsed {elapsed:.0f} s, eta {eta:.0f} s)",
            file=sys.stderr,
            flush=True,
        )


def trial_data(kernel_sizes, N, trial_seed, output_activation="identity", n_test=None):
    """The planted network of one trial, its training and test samples.

    The network depends on the trial seed only (so every N of a trial learns the
    same network); the samples on the seed and N.
    """
    planted = PlantedCNNDataset(
        kernel_sizes, output_activation=output_activation, random_state=trial_seed
    )
    n = int(N * sum(kernel_sizes))
    X, y = planted.sample(n, random_state=np.random.RandomState([trial_seed, n, 1]))
    X_test, y_test = planted.sample(
        N_TEST if n_test is None else n_test,
        random_state=np.random.RandomState([trial_seed, n, 2]),
    )
    return planted, X, y, X_test, y_test


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
