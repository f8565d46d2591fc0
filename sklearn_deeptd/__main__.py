"""The main job: plant a network, learn it back with DeepTD, print the recovery.

Real targets are learned by DeepTDRegressor; with ``--labels``, class labels
of the planted network are learned by DeepTDClassifier. Run
``python -m sklearn_deeptd --help`` for the flags.
"""

import argparse
import sys
import time
import warnings

import numpy as np

from . import DeepTDClassifier, DeepTDRegressor, PlantedCNNDataset, kernel_correlation
from ._activations import ACTIVATIONS, resolve_activations
from ._planting import DEFAULT_TEMPERATURE, LABELS

N_TEST = 2000
# Default training samples per weight (sum of the kernel sizes): a 0/1 label
# carries less about the network than a real target, so labels get more.
SAMPLES_PER_WEIGHT = {"regression": 10, "labels": 50}
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
            "learn the kernels back with DeepTDRegressor (or, with --labels, "
            "from class labels with DeepTDClassifier) with and without "
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
        "warning (default: 10 x sum of kernel sizes, 50 x with --labels)",
    )
    parser.add_argument(
        "--noise",
        type=float,
        default=0.0,
        help="label noise of real targets, as a fraction of the label standard "
        "deviation (default: 0.0)",
    )
    parser.add_argument(
        "--labels",
        choices=LABELS,
        default=None,
        help="plant class labels instead of real targets and learn them with "
        "DeepTDClassifier: 'logistic' draws each label from the softmax (sigmoid "
        "for two classes) of the network's standardised output over "
        "--temperature, 'threshold' takes its most probable class (default: "
        "none, real targets)",
    )
    parser.add_argument(
        "--n-classes",
        type=int,
        default=2,
        help="number of classes, with --labels (default: 2)",
    )
    parser.add_argument(
        "--temperature",
        type=float,
        default=DEFAULT_TEMPERATURE,
        help="temperature of logistic labels, relative to the standardised "
        f"output; lower is less noisy (default: {DEFAULT_TEMPERATURE})",
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
    labels=None,
    n_classes=2,
    temperature=DEFAULT_TEMPERATURE,
):
    """Plant, fit with and without refinement, and print the comparison.

    With ``labels`` (``"logistic"`` or ``"threshold"``) the planted network's
    outputs are turned into ``n_classes`` class labels and learned by
    DeepTDClassifier, scored by test accuracy; otherwise real targets are
    learned by DeepTDRegressor, scored by test R^2.
    """
    # sys.stdout looked up at call time, not bound at import: it may be replaced.
    out = sys.stdout if out is None else out
    classify = labels is not None
    planted = PlantedCNNDataset(
        kernel_sizes,
        activation=activation,
        output_activation=output_activation,
        rank=rank,
        noise=noise,
        random_state=seed,
        **(
            {"labels": labels, "n_classes": n_classes, "temperature": temperature}
            if classify
            else {}
        ),
    )
    if n_samples is None:
        task = "labels" if classify else "regression"
        n_samples = SAMPLES_PER_WEIGHT[task] * sum(kernel_sizes)
    X, y = planted.sample(n_samples, random_state=seed + 1)
    X_test, y_test = planted.sample(N_TEST, random_state=seed + 2)
    activations = resolve_activations(activation, output_activation, len(kernel_sizes))
    if classify:
        targets = f"{labels} labels of {n_classes} classes"
        if labels == "logistic":
            targets += f" (temperature {temperature})"
    else:
        targets = f"noise {noise}"
    print(
        f"Planted network: kernel sizes {tuple(kernel_sizes)}, activations "
        f"{', '.join(a.name for a in activations)} (input layer first), "
        f"rank {rank}, {targets}; {n_samples} training and {N_TEST} test "
        f"samples of {planted.n_features_} features.",
        file=out,
    )
    estimator = DeepTDClassifier if classify else DeepTDRegressor
    score = "accuracy" if classify else "r2"
    results = {}
    for label, refine in (("DeepTD", False), ("DeepTD + refinement", True)):
        model = estimator(
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
            score: model.score(X_test, y_test),
            "seconds": seconds,
            "warnings": [str(w.message) for w in caught],
        }
    columns = list(results)
    width = max(len(label) for label in columns) + 2
    print("\nPer-layer recovery |cos(true, learned)| (branch-averaged):", file=out)
    print("layer  size" + "".join(f"{label:>{width}}" for label in columns), file=out)
    for layer, size in enumerate(kernel_sizes):
        row = "".join(
            f"{results[label]['correlation'][layer].mean():>{width}.4f}"
            for label in columns
        )
        print(f"{layer + 1:>5}  {size:>4}{row}", file=out)
    name = "test acc.  " if classify else "test R^2   "
    print(
        name + "".join(f"{results[label][score]:>{width}.4f}" for label in columns),
        file=out,
    )
    print(
        "fit time s "
        + "".join(f"{results[label]['seconds']:>{width}.3f}" for label in columns),
        file=out,
    )
    bayes = None
    if classify:
        # The planted network's own most probable class: the best accuracy any
        # classifier can expect on these labels.
        bayes = float(np.mean(planted.predict(X_test) == y_test))
        print(
            f"Bayes classifier (the planted network's most probable class): "
            f"test accuracy {bayes:.4f}",
            file=out,
        )
        for result in results.values():
            result["bayes_accuracy"] = bayes
    for label in columns:
        for message in results[label]["warnings"]:
            print(f"warning ({label}): {message}", file=out)
    print(_verdict(results[columns[-1]], rank), file=out)
    return results


def _verdict(result, rank):
    """One line: was every layer recovered, and the test score, of the refined
    fit (R^2, or accuracy beside the Bayes classifier's for labels)."""
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
    if "accuracy" in result:
        score = (
            f"test accuracy {result['accuracy']:.4f} (Bayes classifier "
            f"{result['bayes_accuracy']:.4f})"
        )
    else:
        score = f"test R^2 {result['r2']:.4f}"
    return f"Verdict (DeepTD + refinement): {recovery}; {score}."


def _check_label_options(parser, args):
    """--n-classes and --temperature only with --labels, --noise only without."""
    if args.labels is None:
        if args.n_classes != 2:
            parser.error("argument --n-classes: needs --labels logistic or threshold")
        if args.temperature != DEFAULT_TEMPERATURE:
            parser.error(
                "argument --temperature: needs --labels logistic (the temperature "
                "of logistic labels)"
            )
        return
    if args.noise != 0:
        parser.error(
            "argument --noise: is for real targets; logistic labels are as noisy "
            "as --temperature makes them"
        )
    if args.n_classes < 2:
        parser.error(f"argument --n-classes: must be at least 2, got {args.n_classes}")
    if not args.temperature > 0:
        parser.error(
            f"argument --temperature: must be positive, got {args.temperature}"
        )


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    activation, output_activation = _split_activations(
        parser, args.activation, len(args.kernel_sizes)
    )
    _check_label_options(parser, args)
    needed = sum(args.kernel_sizes)
    if args.n_samples is not None and args.n_samples < needed:
        score = "low test accuracy" if args.labels else "low or negative test R^2"
        print(
            f"warning: --n-samples {args.n_samples} is below the sum of the kernel "
            f"sizes ({needed}), the order of samples DeepTD needs; expect poor "
            f"recovery and a {score}.",
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
            labels=args.labels,
            n_classes=args.n_classes,
            temperature=args.temperature,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
