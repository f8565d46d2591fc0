"""How close a DeepTDClassifier fit comes to one pass over X, for K classes.

On ``--n`` x 512 planted data (C-ordered, in each ``--dtypes``), in one
process: ``DeepTDClassifier(refine=False).fit(X, y)`` (the defaults: kernel
sizes (8, 8, 8), rank 1; and at rank 2) with ``--classes`` classes against
one ``X.T @ Y``, ``Y`` the ``(n, K)`` indicator matrix of the labels (in
float64 and in X's dtype), and the binary fit against one
``X.T @ y`` (``y`` the 0/1 labels, likewise). Medians of ``--repeats`` rounds in
which the products and the fits take turns, after one untimed round (see
``bench_one_pass.turn_times``).

The labels are planted: the K-class labels are drawn from the softmax of a
rank-2 (8, 8, 8) ReLU network's logits (``PlantedCNNDataset(labels="logistic",
n_classes=K)``), the binary ones from the sigmoid of another rank-2 network's
logit on the same X. ``--back-to-back N`` then times N default fits in a row
(K classes, then binary), and ``--profile`` runs cProfile on one K-class fit
and one binary fit and prints where the time goes.

Run ``python benchmarks/bench_one_pass_classes.py --help`` for the options.
"""

import argparse
import cProfile
import gc
import io
import platform
import pstats
import time

import numpy as np
import threadpoolctl
from bench_one_pass import turn_times

from sklearn_deeptd import DeepTDClassifier, PlantedCNNDataset, kernel_correlation

BLOCK_ROWS = 50_000
SIZES = (8, 8, 8)


def planted_labels(n_samples, n_classes, dtype, seed=0):
    """C-ordered X in ``dtype``, K-class labels and binary labels (int64),
    filled block by block."""
    multi = PlantedCNNDataset(
        SIZES, rank=2, labels="logistic", n_classes=n_classes, random_state=seed
    )
    binary = PlantedCNNDataset(
        SIZES, rank=2, labels="logistic", n_classes=2, random_state=seed + 1
    )
    X = np.empty((n_samples, multi.n_features_), dtype=dtype)
    y = np.empty(n_samples, dtype=np.int64)
    y_binary = np.empty(n_samples, dtype=np.int64)
    rng = np.random.RandomState(seed + 2)
    for start in range(0, n_samples, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n_samples)
        X_block, y_block = multi.sample(stop - start, random_state=rng)
        X[start:stop] = X_block
        y[start:stop] = y_block
        positive = binary.predict_proba(X_block)[:, 1]
        y_binary[start:stop] = rng.uniform(size=stop - start) < positive
    return X, y, y_binary, multi, binary


def indicators(y, n_classes, dtype):
    Y = np.zeros((y.shape[0], n_classes), dtype=dtype)
    Y[np.arange(y.shape[0]), y] = 1.0
    return Y


def median_min_max(functions, repeats):
    """Median, least and largest of each function's turn times (see
    ``bench_one_pass.turn_times``)."""
    return [
        (float(np.median(t)), float(np.min(t)), float(np.max(t)))
        for t in turn_times(functions, repeats)
    ]


def profile(function, lines):
    profiler = cProfile.Profile()
    profiler.enable()
    function()
    profiler.disable()
    for sort in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(lines)
        text = out.getvalue()
        # Keep the table, drop the preamble's blank lines.
        print(f"--- sorted by {sort} ---")
        print(text[text.find("ncalls") :].rstrip())


def bench(n_samples, n_classes, dtype, repeats, profile_lines, back_to_back):
    X, y, y_binary, multi, binary = planted_labels(n_samples, n_classes, dtype)
    counts = np.bincount(y, minlength=n_classes)
    print(
        f"\n{n_samples} x {X.shape[1]} {np.dtype(dtype).name} C-ordered "
        f"({X.nbytes / 1e9:.2f} GB); {n_classes} classes, counts "
        f"{counts.min()} to {counts.max()}; binary positives {y_binary.mean():.3f}"
    )
    Y64 = indicators(y, n_classes, np.float64)
    Y_same = Y64.astype(dtype)
    b64 = y_binary.astype(np.float64)
    b_same = b64.astype(dtype)
    # The default fit (kernel sizes (8, 8, 8) for 512 features, rank 1), and
    # rank 2, the planted networks' rank, whose kernels can be compared.
    model = DeepTDClassifier(refine=False, random_state=0)
    model_binary = DeepTDClassifier(refine=False, random_state=0)
    model_r2 = DeepTDClassifier(rank=2, refine=False, random_state=0)
    model_binary_r2 = DeepTDClassifier(rank=2, refine=False, random_state=0)
    cases = {
        "X.T @ Y (X dtype)": lambda: X.T @ Y_same,
        "fit K classes": lambda: model.fit(X, y),
        "X.T @ y (X dtype)": lambda: X.T @ b_same,
        "fit binary": lambda: model_binary.fit(X, y_binary),
        "fit K classes, rank 2": lambda: model_r2.fit(X, y),
        "fit binary, rank 2": lambda: model_binary_r2.fit(X, y_binary),
    }
    if np.dtype(dtype) != np.float64:
        cases["X.T @ Y (float64)"] = lambda: X.T @ Y64
        cases["X.T @ y (float64)"] = lambda: X.T @ b64
    timings = dict(zip(cases, median_min_max(list(cases.values()), repeats)))
    for name, (median, low, high) in timings.items():
        print(f"{name:<22} median {median:8.4f} s  (min {low:.4f}, max {high:.4f})")
    for fit, product in (
        ("fit K classes", "X.T @ Y"),
        ("fit K classes, rank 2", "X.T @ Y"),
        ("fit binary", "X.T @ y"),
        ("fit binary, rank 2", "X.T @ y"),
    ):
        for kind in ("X dtype", "float64"):
            if f"{product} ({kind})" in timings:
                ratio = timings[fit][0] / timings[f"{product} ({kind})"][0]
                print(f"{fit} / {product} ({kind}):".ljust(42) + f"{ratio:6.2f}")
    ratio = timings["X.T @ Y (X dtype)"][0] / timings["X.T @ y (X dtype)"][0]
    print("X.T @ Y / X.T @ y (X dtype):".ljust(42) + f"{ratio:6.2f}")
    for name, fitted, planted in (
        ("K classes", model_r2, multi),
        ("binary", model_binary_r2, binary),
    ):
        corr = kernel_correlation(planted.kernels_, fitted.kernels_)
        print(
            f"recovery, {name}, rank 2: per-layer |cos|, worst branch "
            f"{np.round(corr.min(axis=1), 3).tolist()}"
        )
    if back_to_back:
        for name, product, fit in (
            ("K classes", "X.T @ Y (X dtype)", "fit K classes"),
            ("binary", "X.T @ y (X dtype)", "fit binary"),
        ):
            seconds = []
            for _ in range(back_to_back):
                start = time.perf_counter()
                cases[fit]()
                seconds.append(time.perf_counter() - start)
            median = float(np.median(seconds))
            print(
                f"{back_to_back} {name} fits back to back: median {median:.4f} s "
                f"({median / timings[product][0]:.2f} x {product}), each "
                + " ".join(f"{value:.3f}" for value in seconds)
            )
    if profile_lines:
        for name, function in (
            ("K-class fit", cases["fit K classes"]),
            ("binary fit", cases["fit binary"]),
        ):
            print(f"\n=== cProfile of one {name} ({np.dtype(dtype).name}) ===")
            profile(function, profile_lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--profile", type=int, default=0, help="print this many cProfile lines"
    )
    parser.add_argument(
        "--back-to-back",
        type=int,
        default=0,
        help="then time this many default fits in a row, without the products",
    )
    args = parser.parse_args()
    blas = threadpoolctl.threadpool_info()
    print(
        f"{platform.machine()} {platform.processor()}, Python "
        f"{platform.python_version()}, numpy {np.__version__}; BLAS "
        + ", ".join(
            f"{b['internal_api']} {b['version']} x{b['num_threads']}" for b in blas
        )
    )
    for dtype in args.dtypes.split(","):
        bench(
            args.n,
            args.classes,
            np.dtype(dtype),
            args.repeats,
            args.profile,
            args.back_to_back,
        )
        gc.collect()


if __name__ == "__main__":
    main()
