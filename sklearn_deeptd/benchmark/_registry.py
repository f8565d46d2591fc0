"""The registry of experiments: one record per command-line subcommand."""

from collections.abc import Callable
from typing import NamedTuple

from ._classification import (
    run_classify_binary,
    run_classify_multiclass,
    run_multioutput,
    summarize_labels,
)
from ._experiments import run_depth, run_peers, run_samples, run_timing, run_width
from ._plots import (
    plot_depth,
    plot_labels,
    plot_peers,
    plot_realdata,
    plot_samples,
    plot_timing,
    plot_width,
)
from ._realdata import run_realdata
from ._realdata_classification import (
    run_realdata_classification,
    summarize_realdata_classification,
)
from ._summary import summarize


class Experiment(NamedTuple):
    """One experiment of the command line.

    ``run(quick=..., seed=..., verbose=..., **{trials_parameter: trials})``
    returns the tidy results, ``summarise(results)`` the table printed and
    written to ``<name>_summary.md``, ``plot(results, path)`` the PNG.
    """

    name: str
    run: Callable
    summarise: Callable
    plot: Callable
    description: str
    # The parameter of ``run`` that ``--trials`` sets.
    trials_parameter: str = "trials"


EXPERIMENTS = {
    experiment.name: experiment
    for experiment in (
        Experiment(
            "depth",
            run_depth,
            summarize,
            plot_depth,
            "per-layer recovery of deep networks (the paper's depth experiment, "
            "d=2,D=12 and d=3,D=8, and deeper: d=2,D=14 and 16, d=3,D=9, d=4,D=6)",
        ),
        Experiment(
            "width",
            run_width,
            summarize,
            plot_width,
            "recovery against kernel width at depth 4 with a ReLU output layer "
            "(the paper's width experiment)",
        ),
        Experiment(
            "samples",
            run_samples,
            summarize,
            plot_samples,
            "recovery against samples per weight N",
        ),
        Experiment(
            "timing",
            run_timing,
            summarize,
            plot_timing,
            "fit time against n and p, as a ratio to one X.T @ y",
            trials_parameter="repeats",
        ),
        Experiment(
            "peers",
            run_peers,
            summarize,
            plot_peers,
            "DeepTD+refine against a random start, MLPRegressor, Ridge and "
            "TensorLy's parafac (when installed) at equal n",
        ),
        Experiment(
            "realdata",
            run_realdata,
            summarize,
            plot_realdata,
            "5-fold R^2 and fit time on bundled and generated data: DeepTD at "
            "several ranks and kernel sizes, a random start, Ridge, MLPRegressor, "
            "HistGradientBoosting",
        ),
        Experiment(
            "classify-binary",
            run_classify_binary,
            summarize_labels,
            plot_labels,
            "binary labels of a planted (8, 8, 8) ReLU network (logistic and "
            "threshold): DeepTDClassifier against its start, a random start, "
            "LogisticRegression and MLPClassifier",
        ),
        Experiment(
            "classify-multiclass",
            run_classify_multiclass,
            summarize_labels,
            plot_labels,
            "4 classes over 2 planted (6, 6, 6) tanh branches: DeepTDClassifier's "
            "recovery of every branch, peers, and the rank GridSearchCV picks",
        ),
        Experiment(
            "multioutput",
            run_multioutput,
            summarize_labels,
            plot_labels,
            "3 noiseless targets over 2 planted (8, 8, 8) tanh branches: "
            "multi-output DeepTDRegressor's recovery and test R^2",
        ),
        Experiment(
            "realdata-classification",
            run_realdata_classification,
            summarize_realdata_classification,
            plot_realdata,
            "5-fold accuracy, log-loss and fit time on bundled classification "
            "data: DeepTDClassifier at several ranks and kernel sizes, a random "
            "start, LogisticRegression, MLPClassifier, HistGradientBoosting",
        ),
    )
}
