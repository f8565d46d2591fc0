"""Fixed costs of deep fits: d = 2 ReLU networks at N = 50, as ratios to one pass.

For each depth (default D = 12 and 14) and seed, on ``n = 50 * 2D`` planted
rows (``PlantedCNNDataset(random_state=seed)``, samples drawn with
``random_state=seed + 1000``), in one process:

- one ``X.T @ y`` (median of 15, timed just before the fits),
- the default ``DeepTDRegressor`` fit and ``fit(refine=False)``, as times and
  ratios to that product, the ConvergenceWarnings of the default fit and the
  smallest per-layer ``|cos|`` between the fitted and planted kernels;

then the medians over the seeds. ``--memory`` adds the peak extra memory
(tracemalloc) of one default fit at the deepest depth, over ``X.nbytes``;
``--dead-check K`` fits K more seeds at the deepest depth and counts the fits
whose model is constant on fresh rows without a warning (there should be
none). Run with one BLAS thread (``OMP_NUM_THREADS=1``) on a quiet machine.
"""

import argparse
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset, kernel_correlation
from sklearn_deeptd.benchmark._common import floor_seconds

N = 50


def planted(depth, seed):
    sizes = (2,) * depth
    dataset = PlantedCNNDataset(
        kernel_sizes=sizes, activation="relu", random_state=seed
    )
    X, y = dataset.sample(N * sum(sizes), random_state=seed + 1000)
    return sizes, dataset, X, y


def timed_fit(sizes, X, y, **params):
    model = DeepTDRegressor(kernel_sizes=sizes, activation="relu", random_state=0)
    model.set_params(**params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    return model, seconds, caught


def time_depth(depth, seeds):
    ratios, refine_free, seconds_all = [], [], []
    for seed in seeds:
        sizes, dataset, X, y = planted(depth, seed)
        floor = floor_seconds(X, y)
        model, seconds, caught = timed_fit(sizes, X, y)
        _, free_seconds, _ = timed_fit(sizes, X, y, refine=False)
        worst = np.min(kernel_correlation(dataset.kernels_, model.kernels_))
        n_convergence = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
        ratios.append(seconds / floor)
        refine_free.append(free_seconds / floor)
        seconds_all.append(seconds)
        print(
            f"d=2 D={depth} seed {seed}: X.T@y {floor * 1e3:.2f} ms, default "
            f"{seconds:.3f} s = {seconds / floor:.0f}x, refine=False "
            f"{free_seconds / floor:.0f}x, {model.n_iter_} iterations, min |cos| "
            f"{worst:.4f}, ConvergenceWarnings {n_convergence}",
            flush=True,
        )
    print(
        f"d=2 D={depth}: median default fit {np.median(seconds_all):.2f} s = "
        f"{np.median(ratios):.0f}x one X.T@y ({np.min(ratios):.0f} to "
        f"{np.max(ratios):.0f}), median refine=False {np.median(refine_free):.0f}x",
        flush=True,
    )


def peak_memory(depth):
    sizes, _, X, y = planted(depth, 0)
    tracemalloc.start()
    DeepTDRegressor(kernel_sizes=sizes, activation="relu", random_state=0).fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"d=2 D={depth}: peak extra memory of a default fit {peak / 1e6:.1f} MB, "
        f"{peak / X.nbytes:.2f} x X.nbytes ({X.nbytes / 1e6:.0f} MB)"
    )


def dead_check(depth, seeds):
    silent = 0
    for seed in seeds:
        sizes, dataset, X, y = planted(depth, seed)
        model, _, caught = timed_fit(sizes, X, y)
        predictions = model.predict(dataset.sample(500, random_state=seed + 2000)[0])
        constant = np.ptp(predictions) == 0
        warned = any("dead" in str(w.message) for w in caught)
        silent += bool(constant and not warned)
    print(
        f"d=2 D={depth}, {len(seeds)} more seeds: {silent} constant models "
        "without a warning"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[12, 14])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--dead-check", type=int, default=0, metavar="K")
    args = parser.parse_args()
    for depth in args.depths:
        time_depth(depth, range(args.seeds))
    if args.memory:
        peak_memory(max(args.depths))
    if args.dead_check:
        first = args.seeds
        dead_check(max(args.depths), range(first, first + args.dead_check))


if __name__ == "__main__":
    main()
