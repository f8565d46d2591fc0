"""Scaling benchmark: DeepTD on dask arrays on a LocalCluster vs the in-memory fit.

For each n (rows of ``d`` float32 features, planted relu network, noise 0.1):

- dask: ``PlantedCNNDataset.sample(n, chunks=...)`` builds X and y lazily (each
  chunk generated on a worker from its own seed, cast to float32 there), and
  ``DeepTDRegressor(refine=False).fit(X, y)`` and the default fit (refinement
  on 5000 gathered rows) run on a ``LocalCluster`` whose workers have a memory
  limit; the generation alone (a pass computing only one number per chunk) is
  timed too, so that the fit's own cost is ``fit - generate``.
- in memory (only where ``n <= --max-in-memory``): the same fits on a float32
  numpy array (generated block by block, not timed), and one ``X.T @ y``.

Throughput is ``n / time`` rows/s and ``n * d * 4 / time`` GB/s of float32 X.
Timings depend on the machine and its load: report the machine with them.
Run ``python benchmarks/bench_dask.py --help`` for the options; the documented
example is ``--n 100000000 --max-in-memory 0``.
"""

import argparse
import time

import numpy as np

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset, kernel_correlation
from sklearn_deeptd._validation import default_kernel_sizes


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def in_memory_array(planted, n_samples, seed, block_rows=250_000):
    X = np.empty((n_samples, planted.n_features_), dtype=np.float32)
    y = np.empty(n_samples)
    rng = np.random.RandomState(seed)
    for start in range(0, n_samples, block_rows):
        stop = min(start + block_rows, n_samples)
        X[start:stop], y[start:stop] = planted.sample(stop - start, random_state=rng)
    return X, y


def recovery(planted, model):
    return float(np.min(kernel_correlation(planted.kernels_, model.kernels_)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, nargs="+", default=[10**5, 10**6, 10**7], help="row counts"
    )
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--chunk-rows", type=int, default=250_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="2GiB", help="per worker")
    parser.add_argument(
        "--max-in-memory",
        type=int,
        default=10**7,
        help="largest n also fitted in memory (0: none)",
    )
    parser.add_argument(
        "--refine",
        choices=["both", "false", "true"],
        default="both",
        help="which fits to time (refine=False, the default refine=True, or both)",
    )
    parser.add_argument(
        "--skip-generate", action="store_true", help="do not time the generation"
    )
    args = parser.parse_args()
    refines = {"both": (False, True), "false": (False,), "true": (True,)}[args.refine]

    import dask.array as da
    from dask.distributed import Client, LocalCluster

    sizes = default_kernel_sizes(args.features)
    planted = PlantedCNNDataset(kernel_sizes=sizes, noise=0.1, random_state=0)
    cluster = LocalCluster(
        n_workers=args.workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=args.memory_limit,
        dashboard_address=None,
    )
    client = Client(cluster)
    print(
        f"d={args.features} float32, kernel sizes {sizes}, chunks of "
        f"{args.chunk_rows} rows, {args.workers} workers x 1 thread, "
        f"memory_limit={args.memory_limit} per worker"
    )
    header = (
        f"{'n':>11} {'where':>9} {'what':>14} {'seconds':>9} {'rows/s':>10} "
        f"{'GB/s':>7} {'min|cos|':>9}"
    )
    print(header)

    def report(n, where, what, seconds, cosine=float("nan")):
        gigabytes = n * args.features * 4 / 1e9
        print(
            f"{n:>11} {where:>9} {what:>14} {seconds:>9.3f} {n / seconds:>10.3g} "
            f"{gigabytes / seconds:>7.3f} {cosine:>9.4f}",
            flush=True,
        )

    for n in args.n:
        X_lazy, y_lazy = planted.sample(n, random_state=1, chunks=args.chunk_rows)
        X_lazy = X_lazy.astype(np.float32)
        if not args.skip_generate:
            seconds, _ = timed(
                lambda: (
                    da.map_blocks(lambda b: b[:1, :1], X_lazy, dtype=np.float32)
                    .sum()
                    .compute()
                )
            )
            report(n, "dask", "generate", seconds)
        for refine in refines:
            model = DeepTDRegressor(kernel_sizes=sizes, refine=refine, random_state=0)
            seconds, _ = timed(lambda: model.fit(X_lazy, y_lazy))
            report(n, "dask", f"fit refine={refine}", seconds, recovery(planted, model))
        if n > args.max_in_memory:
            continue
        X, y = in_memory_array(planted, n, seed=1)
        y32 = y.astype(np.float32)
        seconds, _ = timed(lambda: X.T @ y32)
        report(n, "memory", "X.T @ y", seconds)
        for refine in refines:
            model = DeepTDRegressor(kernel_sizes=sizes, refine=refine, random_state=0)
            seconds, _ = timed(lambda: model.fit(X, y))
            report(
                n, "memory", f"fit refine={refine}", seconds, recovery(planted, model)
            )
    client.close()
    cluster.close()


if __name__ == "__main__":
    main()
