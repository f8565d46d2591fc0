"""The main job: plant a network, learn it back with DeepTD, print the recovery.

Run ``python -m sklearn_deeptd --help`` for the flags.
"""

import argparse
import sys
import time
import warnings

from . import DeepTDRegressor, PlantedCNNDataset, kernel_correlation


def _kernel_sizes(text):
    try:
        sizes = tuple(int(part) for part in text.replace("x", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"kernel sizes must be integers separated by commas, got {text!r}"
        ) from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"kernel sizes must be positive integers, got {text!r}"
        )
    return sizes


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_deeptd",
        description=(
            "Plant a deep CNN on non-overlapping patches, draw Gaussian samples, "
            "learn the kernels back with DeepTDRegressor with and without "
            "refinement, and print the per-layer recovery |cos(true, learned)|."
        ),
    )
    parser.add_argument(
        "--kernel-sizes",
        type=_kernel_sizes,
        default=(8, 8, 8),
        help="kernel size per layer, input layer first (default: 8,8,8)",
    )
    parser.add_argument(
        "--activation",
        default="relu",
        help="hidden-layer activation: relu, leaky_relu, tanh, sigmoid, softplus "
        "or identity (default: relu)",
    )
    parser.add_argument(
        "--n-samples",
        type=int,
        default=None,
        help="training samples (default: 10 x sum of kernel sizes)",
    )
    parser.add_argument(
        "--noise",
        type=float,
        default=0.0,
        help="label noise, as a fraction of the label standard deviation",
    )
    parser.add_argument("--rank", type=int, default=1, help="number of branches")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    return parser


def run(kernel_sizes, activation, n_samples, noise, rank, seed, out=sys.stdout):
    """Plant, fit with and without refinement, and print the comparison."""
    planted = PlantedCNNDataset(
        kernel_sizes, activation=activation, rank=rank, noise=noise, random_state=seed
    )
    if n_samples is None:
        n_samples = 10 * sum(kernel_sizes)
    X, y = planted.sample(n_samples, random_state=seed + 1)
    X_test, y_test = planted.sample(2000, random_state=seed + 2)
    print(
        f"Planted network: kernel sizes {tuple(kernel_sizes)}, {activation} hidden "
        f"layers, identity output, rank {rank}, noise {noise}; "
        f"{n_samples} training samples of {planted.n_features_} features.",
        file=out,
    )
    results = {}
    for label, refine in (("DeepTD", False), ("DeepTD + refinement", True)):
        model = DeepTDRegressor(
            kernel_sizes,
            activation=activation,
            rank=rank,
            refine=refine,
            random_state=seed,
        )
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(X, y)
        seconds = time.perf_counter() - start
        results[label] = {
            "correlation": kernel_correlation(planted.kernels_, model.kernels_),
            "r2": model.score(X_test, y_test),
            "seconds": seconds,
            "warnings": [str(w.message) for w in caught],
        }
    labels = list(results)
    width = max(len(label) for label in labels) + 2
    print("\nPer-layer recovery |cos(true, learned)| (branch-averaged):", file=out)
    print("layer  size" + "".join(f"{label:>{width}}" for label in labels), file=out)
    for layer, size in enumerate(kernel_sizes):
        row = "".join(
            f"{results[label]['correlation'][layer].mean():>{width}.4f}"
            for label in labels
        )
        print(f"{layer + 1:>5}  {size:>4}{row}", file=out)
    print(
        "test R^2   "
        + "".join(f"{results[label]['r2']:>{width}.4f}" for label in labels),
        file=out,
    )
    print(
        "fit time s "
        + "".join(f"{results[label]['seconds']:>{width}.3f}" for label in labels),
        file=out,
    )
    for label in labels:
        for message in results[label]["warnings"]:
            print(f"warning ({label}): {message}", file=out)
    return results


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        run(
            args.kernel_sizes,
            args.activation,
            args.n_samples,
            args.noise,
            args.rank,
            args.seed,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
