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

from ._plots import MISSING
from ._registry import EXPERIMENTS
from ._summary import to_markdown


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
    for name, experiment in EXPERIMENTS.items():
        sub = commands.add_parser(
            name, help=experiment.description, description=experiment.description
        )
        sub.add_argument(
            "--quick",
            action="store_true",
            help="small version, about a minute on two cores",
        )
        sub.add_argument(
            "--trials",
            type=int,
            default=None,
            help=f"{experiment.trials_parameter} per point; default: the mode's",
        )
        sub.add_argument(
            "--out",
            type=Path,
            default=Path("benchmark_results"),
            help="output folder (default: benchmark_results)",
        )
        sub.add_argument("--seed", type=int, default=0, help="first trial seed")
        sub.add_argument(
            "--verbose",
            "-v",
            action="count",
            default=0,
            help="also print one line per fit on stderr (a progress bar with the "
            "time left shows on a terminal with the benchmark extra's tqdm)",
        )
        sub.add_argument("--no-plot", action="store_true", help="skip the PNG plot")
        sub.add_argument(
            "--from-csv",
            action="store_true",
            help="do not run: redo the summary and plot from OUT/<name>.csv",
        )
    return parser


def _results(experiment, args, csv):
    """Run the experiment, or with ``--from-csv`` read its results."""
    if not args.from_csv:
        return experiment.run(
            quick=args.quick,
            seed=args.seed,
            verbose=args.verbose,
            **{experiment.trials_parameter: args.trials},
        )
    if not csv.exists():
        raise ValueError(f"{csv} does not exist")
    return pd.read_csv(csv)


def main(argv=None):
    args = build_parser().parse_args(argv)
    experiment = EXPERIMENTS[args.experiment]
    csv = args.out / f"{args.experiment}.csv"
    start = time.perf_counter()
    try:
        results = _results(experiment, args, csv)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    table = to_markdown(experiment.summarise(results))
    machine = (platform.machine(), platform.processor())  # processor may be ""
    if not args.from_csv:
        results.to_csv(csv, index=False)
        (args.out / f"{args.experiment}_summary.md").write_text(
            f"# {args.experiment}: {experiment.description}\n\n"
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
            experiment.plot(results, png)
            print(f"wrote {png}")
        except ImportError:
            print(MISSING, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
