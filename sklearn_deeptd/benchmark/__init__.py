"""Benchmarks: the paper's experiments, sample size, timing, peers, real data,
labels and several targets.

Each ``run_*`` function returns a tidy pandas DataFrame with one row per trial
and method; ``python -m sklearn_deeptd.benchmark`` runs them from the command
line (one subcommand per experiment of its registry) and writes CSV files
and, when matplotlib is installed, PNG plots.
``quick=True`` runs a small version of each experiment in about a minute on two
cores; the defaults otherwise are the scale of the committed results in the
repository's ``benchmarks/`` folder.
"""

from ._classification import (
    run_classify_binary,
    run_classify_multiclass,
    run_multioutput,
    summarize_labels,
)
from ._experiments import run_depth, run_peers, run_samples, run_timing, run_width
from ._realdata import run_realdata
from ._realdata_classification import (
    run_realdata_classification,
    summarize_realdata_classification,
)
from ._summary import summarize

__all__ = [
    "run_classify_binary",
    "run_classify_multiclass",
    "run_depth",
    "run_multioutput",
    "run_peers",
    "run_realdata",
    "run_realdata_classification",
    "run_samples",
    "run_timing",
    "run_width",
    "summarize",
    "summarize_labels",
    "summarize_realdata_classification",
]
