"""The main job: plant a network, learn it back with DeepTD, print the recovery.

Run ``python -m sklearn_deeptd --help`` for the flags.
"""

import argparse
import sys
import time
import warnings

from . import DeepTDRegressor, PlantedCNNDataset, kernel_correlation
from ._activations import ACTIVATIONS, resolve_activations

N_TEST = 2000
# |cos(true, learned)| from which the verdict calls a layer recovered.
RECOVERED = 0.99


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


def _activation_names(text):
    names = tuple(name.strip() for name in text.split(","))
    for name in names:
        if name not in ACTIVATIONS:
            raise argparse.ArgumentTypeError(
                f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}"
            )
    return names


def _split_activations(parser, names, n_layers):
    """(hidden activation(s), output activation) from the --activation names.

    One name serves every hidden layer; n_layers - 1 names are one per hidden
    layer; n_layers names are one per layer, the last for the output layer.
    The output layer is otherwise identity, as in the Python API.
    """
    if len(names) == 1:
        return names[0], "identity"
    if len(names) == n_layers - 1:
        return names, "identity"
    if len(names) == n_layers:
        return names[:-1], names[-1]
    counts = ["1 (every hidden layer)"]
    if n_layers > 2:
        counts.append(f"{n_layers - 1} (one per hidden layer)")
    if n_layers > 1:
        counts.append(f"{n_layers} (one per layer, the last for the output layer)")
    choices = (
        counts[0] if len(counts) == 1 else f"{', '.join(counts[:-1])} or {counts[-1]}"
    )
    parser.error(
        f"argument --activation: {len(names)} names for a {n_layers}-layer "
        f"network; give {choices}"
    )


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
        type=_activation_names,
        default=("relu",),
        help="activation of every hidden layer, or comma-separated names, input "
        "layer first: one per hidden layer, or one per layer with the last for "
        "the output layer (identity unless named); names: relu, leaky_relu, "
        "tanh, sigmoid, softplus, identity (default: relu)",
    )
    parser.add_argument(
        "--n-samples",
        type=int,
        default=None,
        help="training samples; fewer than the sum of the kernel sizes draws a "
        "warning (default: 10 x sum of kernel sizes)",
    )
    parser.add_argument(
        "--noise",
        type=float,
        default=0.0,
        help="label noise, as a fraction of the label standard deviation "
        "(default: 0.0)",
    )
    parser.add_argument(
        "--rank", type=int, default=1, help="number of branches (default: 1)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    return parser


def run(
    kernel_sizes,
    activation,
    n_samples,
    noise,
    rank,
    seed,
    out=None,
    output_activation="identity",
):
    """Plant, fit with and without refinement, and print the comparison."""
    # sys.stdout looked up at call time, not bound at import: it may be replaced.
    out = sys.stdout if out is None else out
    planted = PlantedCNNDataset(
        kernel_sizes,
        activation=activation,
        output_activation=output_activation,
        rank=rank,
        noise=noise,
        random_state=seed,
    )
    if n_samples is None:
        n_samples = 10 * sum(kernel_sizes)
    X, y = planted.sample(n_samples, random_state=seed + 1)
    X_test, y_test = planted.sample(N_TEST, random_state=seed + 2)
    activations = resolve_activations(activation, output_activation, len(kernel_sizes))
    print(
        f"Planted network: kernel sizes {tuple(kernel_sizes)}, activations "
        f"{', '.join(a.name for a in activations)} (input layer first), "
        f"rank {rank}, noise {noise}; {n_samples} training and {N_TEST} test "
        f"samples of {planted.n_features_} features.",
        file=out,
    )
    results = {}
    for label, refine in (("DeepTD", False), ("DeepTD + refinement", True)):
        model = DeepTDRegressor(
            kernel_sizes,
            activation=activation,
            output_activation=output_activation,
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
    print(_verdict(results[labels[-1]], rank), file=out)
    return results


def _verdict(result, rank):
    """One line: was every layer recovered, and the test R^2, of the refined fit."""
    # A layer counts as recovered only if every branch of it is.
    lowest = result["correlation"].min(axis=1)
    missed = [str(layer + 1) for layer, cos in enumerate(lowest) if cos < RECOVERED]
    if missed:
        recovery = f"layer(s) {', '.join(missed)} NOT recovered"
    else:
        recovery = "every layer recovered"
    recovery += f" to |cos| >= {RECOVERED}"
    if rank > 1:
        recovery += " in every branch"
    recovery += f" (lowest {lowest.min():.4f})"
    return f"Verdict (DeepTD + refinement): {recovery}; test R^2 {result['r2']:.4f}."


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    activation, output_activation = _split_activations(
        parser, args.activation, len(args.kernel_sizes)
    )
    needed = sum(args.kernel_sizes)
    if args.n_samples is not None and args.n_samples < needed:
        print(
            f"warning: --n-samples {args.n_samples} is below the sum of the kernel "
            f"sizes ({needed}), the order of samples DeepTD needs; expect poor "
            "recovery and a low or negative test R^2.",
            file=sys.stderr,
        )
    try:
        run(
            args.kernel_sizes,
            activation,
            args.n_samples,
            args.noise,
            args.rank,
            args.seed,
            output_activation=output_activation,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
