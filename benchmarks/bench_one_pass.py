"""How close a DeepTD fit comes to one pass over X, and how much memory it needs.

For each (n, d), dtype (float64, float32) and memory order (C, F), on planted
data (a relu network with the default kernel sizes for d), in one process:

- ``fit(refine=False)`` time / one ``X.T @ y`` time (medians of ``--repeats``
  rounds in which the product and the fit take turns, after a warm-up round),
- a full fit (default refinement) time / one ``X.T @ y`` time,
- the peak extra memory of ``fit(refine=False)`` and of the full fit, measured by
  tracemalloc in separate untimed runs, / ``X.nbytes``.

Then a streaming run: ``--stream-rows`` rows of float32 in batches of
``--batch-rows`` through ``partial_fit``, each batch drawn with
``PlantedCNNDataset.sample`` and dropped after use, reporting the peak traced
memory / one batch's size, the recovery of the planted kernels, and a subset
check that the streamed moment and kernels match a batch fit on the first
batches.

Timings depend on the machine and its load; the ratios are the figures to
compare. Run ``python benchmarks/bench_one_pass.py --help`` for the options.
"""

import argparse
import gc
import time
import tracemalloc

import numpy as np

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset, kernel_correlation
from sklearn_deeptd._validation import default_kernel_sizes

GENERATE_BLOCK_ROWS = 50_000


def planted_dataset(n_features, seed=0):
    sizes = default_kernel_sizes(n_features)
    return PlantedCNNDataset(kernel_sizes=sizes, noise=0.1, random_state=seed)


def planted_array(planted, n_samples, dtype, order, seed=1):
    """Fill an array of the wanted dtype and order block by block (no 2x peak)."""
    X = np.empty((n_samples, planted.n_features_), dtype=dtype, order=order)
    y = np.empty(n_samples)
    rng = np.random.RandomState(seed)
    for start in range(0, n_samples, GENERATE_BLOCK_ROWS):
        stop = min(start + GENERATE_BLOCK_ROWS, n_samples)
        X_block, y_block = planted.sample(stop - start, random_state=rng)
        X[start:stop] = X_block
        y[start:stop] = y_block
    return X, y


def turn_times(functions, repeats):
    """The times of each function over ``repeats`` rounds, the functions
    taking turns in every round (so that drifting load affects them alike),
    after one untimed round: one list of ``repeats`` seconds per function."""
    times = [[] for _ in functions]
    for round_ in range(repeats + 1):
        for function, timings in zip(functions, times):
            start = time.perf_counter()
            function()
            if round_:
                timings.append(time.perf_counter() - start)
    return times


def median_times(functions, repeats):
    """Median of each function's :func:`turn_times`."""
    return [float(np.median(timings)) for timings in turn_times(functions, repeats)]


def peak_extra_memory(function):
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        function()
        return tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()


def bench_one(planted, n_samples, dtype, order, repeats):
    sizes = planted.kernel_sizes
    X, y = planted_array(planted, n_samples, dtype, order)
    y_same = y.astype(dtype)
    one_pass = DeepTDRegressor(kernel_sizes=sizes, refine=False, random_state=0)
    full = DeepTDRegressor(kernel_sizes=sizes, random_state=0)
    product, fit_one_pass = median_times(
        [lambda: X.T @ y_same, lambda: one_pass.fit(X, y)], repeats
    )
    # Timed apart: right after a refinement the next product ran up to 1.5x
    # slower here (measured; BLAS threads still spinning, most likely).
    (fit_full,) = median_times([lambda: full.fit(X, y)], repeats)
    memory_one_pass = peak_extra_memory(lambda: one_pass.fit(X, y))
    memory_full = peak_extra_memory(lambda: full.fit(X, y))
    row = dict(
        n=n_samples,
        d=X.shape[1],
        dtype=np.dtype(dtype).name,
        order=order,
        gb=X.nbytes / 1e9,
        xty_s=product,
        one_pass_ratio=fit_one_pass / product,
        full_ratio=fit_full / product,
        one_pass_memory=memory_one_pass / X.nbytes,
        full_memory=memory_full / X.nbytes,
        full_memory_mb=memory_full / 1e6,
        recovery=kernel_correlation(planted.kernels_, full.kernels_).min(),
    )
    print(
        "{n:>9} {d:>5} {dtype:>8} {order:>5} {gb:7.3f} {xty_s:9.4f} "
        "{one_pass_ratio:9.2f} {full_ratio:9.2f} {one_pass_memory:9.4f} "
        "{full_memory:9.4f} {full_memory_mb:9.1f} {recovery:9.4f}".format(**row),
        flush=True,
    )
    return row


def bench_fit(n_samples, n_features, repeats):
    planted = planted_dataset(n_features)
    rows = []
    for dtype in (np.float64, np.float32):
        for order in ("C", "F"):
            rows.append(bench_one(planted, n_samples, dtype, order, repeats))
            gc.collect()
    return rows


def bench_stream(n_rows, batch_rows, n_features, subset_batches):
    planted = planted_dataset(n_features)
    sizes = planted.kernel_sizes
    stream = DeepTDRegressor(kernel_sizes=sizes, refine=False, random_state=0)
    rng = np.random.RandomState(2)
    subset_X, subset_y = [], []
    batch_bytes = batch_rows * n_features * 4
    start_time = time.perf_counter()
    gc.collect()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    fit_seconds = 0.0
    fit_peak = 0
    seen = 0
    check = None
    check_peak = 0
    peak_seen = 0
    while seen < n_rows:
        size = min(batch_rows, n_rows - seen)
        tracemalloc.reset_peak()
        X, y = planted.sample(size, random_state=rng)
        X = X.astype(np.float32)
        peak_seen = max(peak_seen, tracemalloc.get_traced_memory()[1] - baseline)
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        tick = time.perf_counter()
        stream.partial_fit(X, y)
        fit_seconds += time.perf_counter() - tick
        after = tracemalloc.get_traced_memory()[1]
        fit_peak = max(fit_peak, after - before)
        peak_seen = max(peak_seen, after - baseline)
        seen += size
        if len(subset_X) < subset_batches:
            subset_X.append(X)
            subset_y.append(y)
            if len(subset_X) == subset_batches:
                tracemalloc.reset_peak()
                check = subset_check(stream, subset_X, subset_y, sizes)
                check_peak = tracemalloc.get_traced_memory()[1] - baseline
                subset_X, subset_y = [None] * subset_batches, None
        del X, y
    tracemalloc.stop()
    peak = peak_seen
    total = time.perf_counter() - start_time
    recovery = kernel_correlation(planted.kernels_, stream.td_kernels_).min()
    print(
        f"rows streamed            {seen} x {n_features} float32 "
        f"({seen * n_features * 4 / 1e9:.1f} GB), batches of {batch_rows}"
    )
    print(
        f"partial_fit extra memory {fit_peak / 1e6:.0f} MB = "
        f"{fit_peak / batch_bytes:.3f} x one float32 batch (peak within a call)"
    )
    print(
        f"peak traced memory       {peak / 1e6:.0f} MB = "
        f"{peak / batch_bytes:.2f} x one float32 batch ({batch_bytes / 1e6:.0f} MB); "
        "includes drawing each batch in float64, not the subset check "
        f"({check_peak / 1e6:.0f} MB, it holds the subset)"
    )
    print(
        f"time                     {total:.0f} s in all, {fit_seconds:.0f} s in "
        "partial_fit (the rest draws the planted data)"
    )
    print(
        f"recovery of the planted  min per-layer |cos| {recovery:.5f} "
        "(td_kernels_ after the whole stream)"
    )
    print(check)


def subset_check(stream, batches_X, batches_y, sizes):
    X = np.concatenate(batches_X)
    y = np.concatenate(batches_y)
    batch = DeepTDRegressor(kernel_sizes=sizes, refine=False, random_state=0)
    batch.fit(X, y)
    mean = y.mean()
    std = y.std()
    expected = np.asarray(X.T @ ((y - mean) / std / len(y)).astype(np.float32), float)
    statistics = stream._stream.statistics
    got = statistics.standardised_moment(center=True, x_scale=1.0)
    moment_error = np.linalg.norm(got - expected) / np.linalg.norm(expected)
    overlaps = [
        abs(float(a[0] @ b[0])) for a, b in zip(stream.td_kernels_, batch.td_kernels_)
    ]
    return (
        f"subset check ({X.shape[0]} rows: partial_fit vs fit on the concatenation): "
        f"moment relative difference {moment_error:.1e} (float32 products), "
        f"min kernel |cos| {min(overlaps):.12f}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="100000x64,100000x512,1000000x512",
        help="comma-separated n x d pairs (default: %(default)s)",
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--stream-rows", type=int, default=10_000_000)
    parser.add_argument("--batch-rows", type=int, default=100_000)
    parser.add_argument("--stream-features", type=int, default=512)
    parser.add_argument("--subset-batches", type=int, default=3)
    parser.add_argument("--skip-stream", action="store_true")
    args = parser.parse_args()

    print(
        "        n     d    dtype order      GB  X.T@y s  fit/XTy  full/XTy "
        " mem/X(1)  mem/X(f)  mem MB(f) recovery"
    )
    for pair in args.sizes.split(","):
        n_samples, n_features = (int(v) for v in pair.lower().split("x"))
        bench_fit(n_samples, n_features, args.repeats)
    if not args.skip_stream:
        bench_stream(
            args.stream_rows, args.batch_rows, args.stream_features, args.subset_batches
        )


if __name__ == "__main__":
    main()
