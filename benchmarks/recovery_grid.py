"""Recovery of planted networks over a grid of settings, DeepTD start vs random start.

Each setting is fitted on several PlantedCNNDataset seeds with
``DeepTDRegressor`` (default ``init="deeptd"``) and with ``init="random"`` (the
random start of ordinary training, refined the same way). One row per fit goes to
a CSV; a Markdown summary per setting and start goes beside it.

    python benchmarks/recovery_grid.py                 # the issue's settings
    python benchmarks/recovery_grid.py --quick         # two settings, 2 seeds
    python benchmarks/recovery_grid.py --part noise    # label noise against N
    python benchmarks/recovery_grid.py --part budget   # refine_samples budget

Correlations are kernel_correlation after matching branches; "exact" is the
fraction of seeds whose every layer and branch reaches 0.99.
"""

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset, kernel_correlation

RELU8 = dict(kernel_sizes=(8, 8, 8), activation="relu")
TANH8 = dict(kernel_sizes=(8, 8, 8), activation="tanh")
TANH4 = dict(kernel_sizes=(4, 4, 4), activation="tanh")
# (name, dataset and model settings, N = n / (rank * sum(kernel_sizes)), noise)
SETTINGS = {
    "main": [
        ("(8,8,8) relu", RELU8, 5, 0.0, 1),
        ("d=3 D=8 relu", dict(kernel_sizes=(3,) * 8, activation="relu"), 50, 0.0, 1),
        ("d=2 D=12 relu", dict(kernel_sizes=(2,) * 12, activation="relu"), 50, 0.0, 1),
        # Deeper than the paper: the exact sign search and dead-start checks.
        *[
            (
                f"d={d} D={D} relu",
                dict(kernel_sizes=(d,) * D, activation="relu"),
                50,
                0.0,
                1,
            )
            for d, D in ((2, 14), (2, 16), (3, 9), (4, 6))
        ],
        *[
            (f"{sizes} {act}", dict(kernel_sizes=sizes, activation=act), 20, 0.0, 1)
            for act in ("tanh", "leaky_relu", "softplus")
            for sizes in ((8, 8, 8), (4, 4, 4, 4))
        ],
        ("(8,8,8) relu noise 0.1", RELU8, 100, 0.1, 1),
        ("(8,8,8) tanh rank 2", TANH8, 50, 0.0, 2),
        ("(8,8,8) tanh rank 3", TANH8, 50, 0.0, 3),
    ],
    "noise": [
        (f"(8,8,8) relu noise {noise} N={N}", RELU8, N, noise, 1)
        for noise in (0.1, 0.5)
        for N in (10, 30, 100, 300)
    ],
    "quick": [
        ("(4,4,4) relu", dict(kernel_sizes=(4, 4, 4), activation="relu"), 20, 0.0, 1),
        ("(4,4,4) tanh rank 2", TANH4, 30, 0.0, 2),
    ],
}
BUDGETS = (500, 1000, 2000, 5000, 10000, 20000, None)


def fit_once(setting, params, N, noise, rank, seed, init="deeptd", **model_params):
    planted = PlantedCNNDataset(noise=noise, rank=rank, random_state=seed, **params)
    n = model_params.pop("n", None) or N * rank * sum(params["kernel_sizes"])
    X, y = planted.sample(n, random_state=10_000 + seed)
    X_test, y_test = planted.sample(2000, random_state=20_000 + seed)
    model = DeepTDRegressor(rank=rank, init=init, random_state=seed, **params)
    model.set_params(**model_params)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    fit_time = time.perf_counter() - start
    correlation = kernel_correlation(planted.kernels_, model.kernels_)
    row = {
        "setting": setting,
        "init": init,
        "seed": seed,
        "N": N,
        "n": len(X),
        "noise": noise,
        "rank": rank,
        "min_corr": correlation.min(),
        "mean_corr": correlation.mean(),
        "exact": bool(correlation.min() >= 0.99),
        "test_r2": model.score(X_test, y_test),
        "fit_time_s": fit_time,
        "n_iter": model.n_iter_,
        "convergence_warning": any(
            issubclass(w.category, ConvergenceWarning) for w in caught
        ),
        # A model constant on the test rows must come with the dead-start warning.
        "constant_model": bool(np.ptp(model.predict(X_test)) == 0),
        "dead_warning": any("dead" in str(w.message) for w in caught),
    }
    for layer, per_branch in enumerate(correlation, start=1):
        row[f"corr_layer_{layer}"] = per_branch.min()
    return row


def _print_last(rows, seeds, describe):
    """Print ``describe`` of the fits of the last ``len(seeds)`` rows."""
    print(describe(pd.DataFrame(rows[-len(seeds) :])), flush=True)


def run_grid(settings, seeds, inits=("deeptd", "random")):
    rows = []
    for setting, params, N, noise, rank in settings:
        for init in inits:
            for seed in seeds:
                rows.append(fit_once(setting, params, N, noise, rank, seed, init))
            _print_last(
                rows,
                seeds,
                lambda done: (
                    f"{setting:28s} {init:7s} exact {done.exact.mean():.0%} "
                    f"mean {done.mean_corr.mean():.4f} min {done.min_corr.min():.3f} "
                    f"time {done.fit_time_s.median():.2f} s"
                ),
            )
    return pd.DataFrame(rows)


def run_budget(seeds, n=50_000):
    rows = []
    for noise in (0.1, 0.5):
        for budget in BUDGETS:
            for seed in seeds:
                row = fit_once(
                    f"(8,8,8) relu noise {noise} n={n}",
                    RELU8,
                    None,
                    noise,
                    1,
                    seed,
                    n=n,
                    refine_samples=budget,
                )
                row["refine_samples"] = "all" if budget is None else budget
                rows.append(row)
            _print_last(
                rows,
                seeds,
                lambda done: (
                    f"noise {noise} budget {budget}: "
                    f"mean {done.mean_corr.mean():.5f} "
                    f"test R2 {done.test_r2.mean():.4f} "
                    f"time {done.fit_time_s.median():.2f} s"
                ),
            )
    return pd.DataFrame(rows)


def summarise(frame, by=("setting", "init")):
    summary = frame.groupby(list(by), sort=False).agg(
        seeds=("seed", "size"),
        exact=("exact", "mean"),
        mean_corr=("mean_corr", "mean"),
        worst_corr=("min_corr", "min"),
        test_r2=("test_r2", "mean"),
        median_fit_s=("fit_time_s", "median"),
    )
    return summary.reset_index()


def to_markdown(frame):
    """A Markdown table without the optional tabulate package."""

    def cell(value):
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(frame.columns) + " |"]
    lines.append("|" + "---|" * len(frame.columns))
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(cell(value) for value in row) + " |")
    return "\n".join(lines)


def describe_machine():
    import os

    import numpy as np
    import sklearn

    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, numpy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["main", "noise", "budget"], default="main")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = parser.parse_args(argv)
    seeds = range(2 if args.quick else args.seeds)
    if args.part == "budget":
        frame = run_budget(seeds, n=5000 if args.quick else 50_000)
        summary = summarise(frame, by=("setting", "refine_samples"))
    else:
        frame = run_grid(SETTINGS["quick" if args.quick else args.part], seeds)
        summary = summarise(frame)
    name = f"recovery_{'quick' if args.quick else args.part}"
    args.out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out / f"{name}.csv", index=False)
    machine = describe_machine()
    text = to_markdown(summary)
    command = " ".join(["python benchmarks/recovery_grid.py", *(argv or sys.argv[1:])])
    (args.out / f"{name}.md").write_text(
        f"Machine: {machine}\n\nCommand: `{command}`\n\n{text}\n"
    )
    print(text)


if __name__ == "__main__":
    main()
