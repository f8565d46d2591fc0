"""Command line: ``python -m sklearn_deeptd.benchmark EXPERIMENT [options]``.

Each subcommand runs one experiment, prints a summary table, and writes
``OUT/<name>.csv`` (one row per trial), ``OUT/<name>_summary.md`` and, when
matplotlib is installed, ``OUT/<name>.png``.
"""

import argparse
import platform
import sys
import time
from pathlib import Path

import pandas as pd

from . import _realdata_classification as realdata_labels
from ._classification import EXPERIMENTS as LABEL_EXPERIMENTS
from ._classification import PLOTS as LABEL_PLOTS
from ._classification import summarize_labels
from ._experiments import run_depth, run_peers, run_samples, run_timing, run_width
from ._plots import MISSING, PLOTS
from ._realdata import run_realdata
from ._summary import summarize, to_markdown

EXPERIMENTS = {
    "depth": (run_depth, "per-layer recovery of deep networks (the paper's depth "
              "experiment, d=2,D=12 and d=3,D=8, and deeper: d=2,D=14 and "
              "16, d=3,D=9, d=4,D=6)"),
    "width": (run_width, "recovery against kernel width at depth 4 with a ReLU "
              "output layer (the paper's width experiment)"),
    "samples": (run_samples, "recovery against samples per weight N"),
    "timing": (run_timing, "fit time against n and p, as a ratio to one X.T @ y"),
    "peers": (run_peers, "DeepTD+refine against a random start, MLPRegressor, "
              "Ridge and TensorLy's parafac (when installed) at equal n"),
    "realdata": (run_realdata, "5-fold R^2 and fit time on bundled and "
                 "generated data: DeepTD at several ranks and kernel sizes, a "
                 "random start, Ridge, MLPRegressor, HistGradientBoosting"),
    **LABEL_EXPERIMENTS,
    **realdata_labels.EXPERIMENTS,
}  # fmt: skip
# The label and multi-output experiments have their own summary and plot.
SUMMARIES = {name: summarize_labels for name in LABEL_EXPERIMENTS}
SUMMARIES.update(realdata_labels.SUMMARIES)
PLOTS = {**PLOTS, **LABEL_PLOTS, **realdata_labels.PLOTS}


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_deeptd.benchmark",
        description=(
            "Benchmarks of DeepTDRegressor and DeepTDClassifier: the paper's "
            "experiments, recovery against n, fit time, peers, labels and "
            "several targets. Writes OUT/<name>.csv, "
            "OUT/<name>_summary.md and OUT/<name>.png (with matplotlib)."
        ),
    )
    commands = parser.add_subparsers(dest="experiment", required=True)
    for name, (_, help_text) in EXPERIMENTS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "--quick",
            action="store_true",
            help="small version, about a minute on two cores",
        )
        sub.add_argument(
            "--trials",
            type=int,
            default=None,
            help="trials per point (repeats for timing); default: the mode's",
        )
        sub.add_argument(
            "--out",
            type=Path,
            default=Path("benchmark_results"),
            help="output folder (default: benchmark_results)",
        )
        sub.add_argument("--seed", type=int, default=0, help="first trial seed")
        sub.add_argument(
            "--verbose", "-v", action="count", default=0, help="progress on stderr"
        )
        sub.add_argument("--no-plot", action="store_true", help="skip the PNG plot")
        sub.add_argument(
            "--from-csv",
            action="store_true",
            help="do not run: redo the summary and plot from OUT/<name>.csv",
        )
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    run, _ = EXPERIMENTS[args.experiment]
    count = "repeats" if args.experiment == "timing" else "trials"
    csv = args.out / f"{args.experiment}.csv"
    start = time.perf_counter()
    if args.from_csv:
        if not csv.exists():
            print(f"error: {csv} does not exist", file=sys.stderr)
            return 2
        results = pd.read_csv(csv)
    else:
        try:
            results = run(
                quick=args.quick,
                seed=args.seed,
                verbose=args.verbose,
                **{count: args.trials},
            )
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    elapsed = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    table = to_markdown(SUMMARIES.get(args.experiment, summarize)(results))
    machine = (platform.machine(), platform.processor())  # processor may be ""
    if not args.from_csv:
        results.to_csv(csv, index=False)
        (args.out / f"{args.experiment}_summary.md").write_text(
            f"# {args.experiment}: {EXPERIMENTS[args.experiment][1]}\n\n"
            f"Command: `python -m sklearn_deeptd.benchmark {args.experiment}"
            f"{' --quick' if args.quick else ''}"
            f"{f' --trials {args.trials}' if args.trials else ''}"
            f"{f' --seed {args.seed}' if args.seed else ''}`; "
            f"{elapsed:.0f} s on {' '.join(filter(None, machine))} "
            f"({platform.system()}, Python {platform.python_version()}).\n\n{table}"
        )
    print(table)
    done = "read" if args.from_csv else f"ran in {elapsed:.1f} s; wrote"
    print(f"{len(results)} rows {done} {csv}")
    if not args.no_plot:
        try:
            png = args.out / f"{args.experiment}.png"
            PLOTS[args.experiment](results, png)
            print(f"wrote {png}")
        except ImportError:
            print(MISSING, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
