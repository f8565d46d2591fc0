"""The benchmark package: every experiment through the Python API and the CLI."""

import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sklearn_deeptd import benchmark
from sklearn_deeptd.benchmark import _experiments as experiments
from sklearn_deeptd.benchmark import (
    run_depth,
    run_peers,
    run_realdata,
    run_samples,
    run_timing,
    run_width,
)
from sklearn_deeptd.benchmark.__main__ import build_parser, main
from sklearn_deeptd.benchmark._common import Progress
from sklearn_deeptd.benchmark._realdata import DATASETS, local_patterns, z_order
from sklearn_deeptd.benchmark._realdata_classification import (
    DATASETS as CLASSIFICATION_DATASETS,
)
from sklearn_deeptd.benchmark._registry import EXPERIMENTS, Experiment

RECOVERY_COLUMNS = [
    "experiment",
    "setting",
    "method",
    "kernel_sizes",
    "depth",
    "width",
    "p",
    "N",
    "n",
    "trial",
    "seed",
    "r2_test",
    "fit_time_s",
    "corr_min",
    "corr_mean",
]


def _layer_columns(frame):
    return [c for c in frame.columns if c.startswith("corr_layer_")]


def check_recovery_frame(frame, experiment):
    assert list(frame.columns[:3]) == ["experiment", "setting", "method"]
    assert set(RECOVERY_COLUMNS) <= set(frame.columns)
    assert (frame["experiment"] == experiment).all()
    sizes = frame["kernel_sizes"].str.split("x")
    assert (frame["n"] == frame["N"] * sizes.apply(lambda s: sum(map(int, s)))).all()
    assert (frame["depth"] == sizes.apply(len)).all()
    layers = _layer_columns(frame)
    assert layers == [f"corr_layer_{i + 1}" for i in range(frame["depth"].max())]
    with_kernels = frame["corr_min"].notna()
    values = frame.loc[with_kernels, ["corr_min", "corr_mean", *layers]].to_numpy()
    values = values[~np.isnan(values)]
    assert values.size and ((values >= 0) & (values <= 1)).all()
    for _, row in frame[with_kernels].iterrows():
        per_layer = row[layers].to_numpy(dtype=float)[: row["depth"]]
        assert not np.isnan(per_layer).any()
        assert row["corr_min"] == pytest.approx(per_layer.min())
        assert row["corr_mean"] == pytest.approx(per_layer.mean())
    assert (frame["fit_time_s"] > 0).all()
    assert frame["r2_test"].dropna().le(1).all()


def test_depth_api_refinement_beats_random_start():
    frame = run_depth(
        [(2,) * 8],
        N=(10, 50),
        methods=("DeepTD", "DeepTD+refine", "random start"),
        refine_N=(50,),
        trials=3,
    )
    check_recovery_frame(frame, "depth")
    counts = frame.groupby(["N", "method"]).size().to_dict()
    assert counts == {
        (10, "DeepTD"): 3,
        (50, "DeepTD"): 3,
        (50, "DeepTD+refine"): 3,
        (50, "random start"): 3,
    }
    at50 = frame[frame["N"] == 50].groupby("method")
    assert (
        at50["corr_min"].mean()["DeepTD+refine"]
        > at50["corr_min"].mean()["random start"]
    )
    assert at50["r2_test"].mean()["DeepTD+refine"] > 0.99
    # Same network for every N of a trial, different samples.
    deeptd = frame[frame["method"] == "DeepTD"]
    assert sorted(deeptd["seed"].unique()) == [0, 1, 2]


def test_width_api_uses_relu_output_and_naive_baseline():
    frame = run_width((2, 3), depth=3, N=(10,), refine_N=(), trials=2)
    check_recovery_frame(frame, "width")
    assert set(frame["method"]) == {"DeepTD", "NaiveTD"}
    assert (frame["output_activation"] == "relu").all()
    assert sorted(frame["width"].unique()) == [2, 3]


def test_samples_api_runs_every_method_at_every_N():
    frame = run_samples([(3, 3, 3)], N=(2, 20), trials=2, seed=5)
    check_recovery_frame(frame, "samples")
    assert len(frame) == 2 * 3 * 2
    assert sorted(frame["seed"].unique()) == [5, 6]


def test_timing_api_ratio_is_fit_over_floor():
    frame = run_timing(
        (300, 600), [(2, 2, 2)], base_kernel_sizes=(4, 4), base_n=200, repeats=2
    )
    assert list(frame.columns[:3]) == ["experiment", "setting", "method"]
    assert len(frame) == 3 * 2 * 2
    assert frame.groupby("sweep")["n"].unique().apply(sorted).to_dict() == {
        "n": [300, 600],
        "p": [200],
    }
    assert (frame["floor_time_s"] > 0).all()
    np.testing.assert_allclose(
        frame["ratio"], frame["fit_time_s"] / frame["floor_time_s"]
    )


def test_peers_api_compares_every_peer():
    pytest.importorskip("tensorly")
    frame = run_peers([((3, 3, 3), 20), ((4, 4), 20)], trials=1)
    check_recovery_frame(frame, "peers")
    assert list(frame["method"].unique()) == list(experiments.PEER_METHODS)
    no_kernels = frame["method"].isin(["MLPRegressor", "Ridge"])
    assert frame.loc[no_kernels, "corr_min"].isna().all()
    assert frame.loc[~no_kernels, "corr_min"].notna().all()
    parafac = frame["method"] == "TensorLy parafac"
    assert frame.loc[parafac, "r2_test"].isna().all()
    assert frame.loc[~parafac, "r2_test"].notna().all()
    # parafac and DeepTD decompose the same moment: the same directions.
    deeptd = frame[frame["method"] == "DeepTD"]["corr_min"].to_numpy()
    np.testing.assert_allclose(
        frame.loc[parafac, "corr_min"].to_numpy(), deeptd, atol=1e-3
    )


def test_peers_without_tensorly_skips_it_with_a_message(monkeypatch):
    monkeypatch.setattr(experiments, "_tensorly_parafac", lambda: None)
    with pytest.warns(UserWarning, match="TensorLy is not installed"):
        frame = run_peers([((2, 2), 10)], trials=1)
    assert "TensorLy parafac" not in set(frame["method"])
    assert "Ridge" in set(frame["method"])
    with pytest.raises(ImportError, match="pip install tensorly"):
        run_peers([((2, 2), 10)], methods=("TensorLy parafac",), trials=1)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: run_depth([(2, 2)], methods=("SGD",), trials=1), "methods"),
        (lambda: run_samples([(2, 2)], N=(5,), trials=0), "trials"),
        (lambda: run_width((0,), trials=1), "widths"),
        (
            lambda: run_peers([((2, -2), 5)], methods=("Ridge",), trials=1),
            "kernel_sizes",
        ),
        (lambda: run_timing((100,), [(2, 2)], repeats=1.5), "repeats"),
        (lambda: run_realdata(("mnist",), quick=True), "datasets"),
        (lambda: run_realdata(("diabetes",), ranks=(0,), quick=True), "ranks"),
    ],
)
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("experiment", ["depth", "width", "samples", "timing", "peers"])
def test_cli_quick_mode_writes_csv_summary_and_plot(experiment, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main([experiment, "--quick", "--trials", "1", "--out", str(tmp_path)]) == 0
    frame = pd.read_csv(tmp_path / f"{experiment}.csv")
    assert (frame["experiment"] == experiment).all()
    if experiment == "timing":
        assert set(frame["sweep"]) == {"n", "p"}
        assert (frame["ratio"] > 0).all()
    else:
        check_recovery_frame(frame, experiment)
        assert (frame["trial"] == 0).all()
    summary = (tmp_path / f"{experiment}_summary.md").read_text()
    assert f"python -m sklearn_deeptd.benchmark {experiment} --quick" in summary
    png = (tmp_path / f"{experiment}.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert "| setting |" in capsys.readouterr().out


def test_realdata_cli_quick_mode(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["realdata", "--quick", "--out", str(tmp_path)]) == 0
    frame = pd.read_csv(tmp_path / "realdata.csv")
    assert list(frame.columns[:3]) == ["experiment", "setting", "method"]
    assert tuple(dict.fromkeys(frame["setting"])) == DATASETS
    # Every method of a data set is scored on the same 5 folds.
    folds = frame.groupby(["setting", "method"])["fold"].apply(sorted)
    assert (folds.apply(lambda f: f == [0, 1, 2, 3, 4])).all()
    assert (frame["fit_time_s"] > 0).all() and frame["r2_test"].le(1).all()
    defaults = frame[frame["default_sizes"].eq(True)]
    assert defaults.groupby("setting")["kernel_sizes"].unique().apply(
        list
    ).to_dict() == {
        "diabetes": ["5x2"],
        "digits": ["4x4x4"],
        "local patterns": ["8x8x4"],
    }
    for setting, part in frame.groupby("setting"):
        assert {"Ridge", "MLPRegressor", "HistGradientBoosting"} <= set(part["model"])
        deeptd = part[part["model"] == "DeepTD"]
        assert set(deeptd["rank"]) == {1, 2}, setting
        assert set(part[part["model"] == "random start"]["rank"]) == {1, 2}
    # The signal is a network of DeepTD's kind: DeepTD at rank 2 beats Ridge.
    mean = frame.groupby(["setting", "method"])["r2_test"].mean()["local patterns"]
    assert mean["DeepTD 8x8x4 r=2"] > mean["Ridge"] + 0.05
    summary = (tmp_path / "realdata_summary.md").read_text()
    assert "python -m sklearn_deeptd.benchmark realdata --quick" in summary
    assert "r2_test_std" in summary
    assert (tmp_path / "realdata.png").read_bytes().startswith(b"\x89PNG")
    assert "| local patterns |" in capsys.readouterr().out


def test_realdata_is_seeded_and_one_layer_is_the_linear_model():
    first = run_realdata(("diabetes",), ranks=(1,), quick=True)
    second = run_realdata(("diabetes",), ranks=(1,), quick=True)
    pd.testing.assert_series_equal(first["r2_test"], second["r2_test"])
    assert first["n"].unique().tolist() == [200]
    # One layer of 10 with an identity output is a linear model: Ridge's score.
    mean = first.groupby("method")["r2_test"].mean()
    assert mean["DeepTD 10 r=1"] == pytest.approx(mean["Ridge"], abs=0.02)
    other = run_realdata(("diabetes",), ranks=(1,), quick=True, seed=1)
    assert not np.allclose(other["r2_test"], first["r2_test"])


def test_realdata_helpers():
    order = z_order(8)
    assert sorted(order) == list(range(64))
    # Consecutive fours are 2x2 blocks of the row-major 8x8 image.
    np.testing.assert_array_equal(order[:8], [0, 1, 8, 9, 2, 3, 10, 11])
    X, y = local_patterns(50, 0)
    assert X.shape == (50, 256) and y.shape == (50,)
    np.testing.assert_array_equal(local_patterns(50, 0)[1], y)


def test_cli_without_matplotlib_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    argv = ["samples", "--quick", "--trials", "1", "--out", str(tmp_path)]
    assert main(argv) == 0
    assert "matplotlib is not installed" in capsys.readouterr().err
    assert (tmp_path / "samples.csv").exists()
    assert not (tmp_path / "samples.png").exists()
    # Once matplotlib is back, the plot is redone from the CSV without a run.
    monkeypatch.undo()
    pytest.importorskip("matplotlib")
    assert main(["samples", "--from-csv", "--out", str(tmp_path)]) == 0
    assert "rows read" in capsys.readouterr().out
    assert (tmp_path / "samples.png").read_bytes().startswith(b"\x89PNG")
    assert main(["depth", "--from-csv", "--out", str(tmp_path)]) == 2


def test_module_entry_point(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "sklearn_deeptd.benchmark", "timing", "--quick"]
        + ["--trials", "1", "--no-plot", "--out", str(tmp_path), "-v"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "[timing] 1/" in completed.stderr
    assert len(pd.read_csv(tmp_path / "timing.csv")) == 2 * 4


def test_cli_subcommands_are_the_registry():
    # argparse lists the subcommands, in order, as {depth,width,...}.
    usage = build_parser().format_usage().replace(" ", "").replace("\n", "")
    assert "{" + ",".join(EXPERIMENTS) + "}" in usage
    for name, experiment in EXPERIMENTS.items():
        assert isinstance(experiment, Experiment) and experiment.name == name
    # Every runner of the registry is public, the real-data classification too.
    runners = {experiment.run.__name__ for experiment in EXPERIMENTS.values()}
    assert runners <= set(benchmark.__all__)
    assert "run_realdata_classification" in benchmark.__all__
    assert EXPERIMENTS["timing"].trials_parameter == "repeats"


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_only(monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.setattr(sys, "stderr", _Terminal())
    with Progress("demo", 3, verbose=0) as progress:
        for _ in range(3):
            progress.step("fit")
    assert "demo" in sys.stderr.getvalue() and "3/3" in sys.stderr.getvalue()
    # Piped: quiet unless verbose, then one line per fit.
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with Progress("demo", 2, verbose=0) as progress:
        progress.step("fit")
    assert sys.stderr.getvalue() == ""
    with Progress("demo", 2, verbose=1) as progress:
        progress.step("first fit")
    assert sys.stderr.getvalue().startswith("[demo] 1/2 first fit (elapsed")


def test_progress_without_tqdm_says_so_on_a_terminal(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setattr(sys, "stderr", _Terminal())
    with Progress("demo", 1, verbose=0) as progress:
        progress.step("fit")
    assert "tqdm is not installed" in sys.stderr.getvalue()
    assert "sklearn-deeptd[benchmark]" in sys.stderr.getvalue()
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with Progress("demo", 1, verbose=1) as progress:
        progress.step("fit")
    assert sys.stderr.getvalue().startswith("[demo] 1/1 fit")


def test_cli_rejects_bad_trials(tmp_path, capsys):
    assert main(["depth", "--trials", "0", "--out", str(tmp_path)]) == 2
    assert "trials must be a positive integer" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(benchmark.__all__))
def test_docstrings_pass_numpydoc(name):
    validate = pytest.importorskip("numpydoc.validate")
    result = validate.validate(f"sklearn_deeptd.benchmark.{name}")
    errors = [f"{code}: {msg}" for code, msg in result["errors"] if code != "RT02"]
    assert not errors, "\n".join(errors)


# Labels and several targets: classify-binary, classify-multiclass, multioutput.

LABEL_COLUMNS = [
    "experiment",
    "setting",
    "method",
    "kernel_sizes",
    "rank",
    "N",
    "n",
    "n_test",
    "trial",
    "seed",
    "fit_time_s",
    "n_warnings",
    "n_convergence_warnings",
    "corr_by_branch",
    "corr_min",
    "corr_mean",
]


def check_label_frame(frame, experiment):
    assert list(frame.columns[:3]) == ["experiment", "setting", "method"]
    assert set(LABEL_COLUMNS) <= set(frame.columns)
    assert (frame["experiment"] == experiment).all()
    sizes = frame["kernel_sizes"].str.split("x").apply(lambda s: sum(map(int, s)))
    # N rows per weight and branch.
    assert (frame["n"] == frame["N"] * frame["rank"] * sizes).all()
    assert (frame["seed"] == frame["trial"]).all()
    with_kernels = frame["corr_min"].notna()
    layers = _layer_columns(frame)
    for _, row in frame[with_kernels].iterrows():
        matrix = np.array(
            [list(map(float, b.split(","))) for b in row["corr_by_branch"].split(";")]
        )
        assert matrix.shape == (row["rank"], len(layers))
        # corr_layer_l is the worst branch of layer l.
        np.testing.assert_allclose(
            row[layers].to_numpy(float), matrix.min(axis=0), atol=1e-4
        )
        assert row["corr_min"] == pytest.approx(matrix.min(), abs=1e-4)
        assert row["corr_mean"] == pytest.approx(matrix.mean(), abs=1e-4)
    assert frame.loc[with_kernels, "corr_min"].between(0, 1).all()
    fitted = frame["method"] != "Bayes"
    assert (frame.loc[fitted, "fit_time_s"] > 0).all()


def test_classify_binary_quick_mode():
    frame = benchmark.run_classify_binary(quick=True)
    check_label_frame(frame, "classify-binary")
    assert frame.groupby(["labels", "method"]).size().to_dict() == {
        (kind, method): 2
        for kind in ("logistic", "threshold")
        for method in benchmark._classification.CLASSIFY_METHODS
    }
    assert frame["accuracy_test"].between(0, 1).all()
    assert (frame["log_loss_test"] >= 0).all()
    assert frame["corr_min"].notna().sum() == 2 * 2 * 3  # the DeepTD variants only
    # Threshold labels are the Bayes classifier's own.
    bayes = frame[frame["method"] == "Bayes"].set_index("labels")
    assert (bayes.loc["threshold", "accuracy_test"] == 1.0).all()
    # "DeepTD" (refine=False) is the start of the default fit: the same kernels.
    by_method = frame.set_index(["labels", "trial", "method"])["corr_min"].unstack()
    start = frame[frame["method"] == "DeepTD+refine"].set_index(["labels", "trial"])
    np.testing.assert_allclose(
        start["start_corr_min"].sort_index(), by_method["DeepTD"].sort_index()
    )
    # Refinement from the DeepTD start recovers more than the start alone.
    mean = frame.groupby("method")["corr_min"].mean()
    assert mean["DeepTD+refine"] > max(0.95, mean["DeepTD"])


def test_classify_multiclass_quick_mode_searches_the_rank():
    frame = benchmark.run_classify_multiclass(quick=True)
    check_label_frame(frame, "classify-multiclass")
    assert set(frame["n_classes"]) == {4} and set(frame["rank"]) == {2}
    search = frame[frame["method"] == "GridSearchCV rank"]
    # One search (search_trials=1 in quick mode), on the first trial.
    assert len(search) == 1 and search["trial"].tolist() == [0]
    assert search["best_rank"].iloc[0] in (1, 2)
    assert search[["cv_log_loss_rank_1", "cv_log_loss_rank_2"]].gt(0).all(axis=None)
    assert frame.loc[frame["method"] != "GridSearchCV rank", "best_rank"].isna().all()
    summary = benchmark.summarize_labels(frame)
    row = summary[summary["method"] == "GridSearchCV rank"].iloc[0]
    assert row["trials"] == 1 and row["best_ranks"] == str(
        int(search["best_rank"].iloc[0])
    )


def test_multioutput_quick_mode():
    frame = benchmark.run_multioutput(quick=True)
    check_label_frame(frame, "multioutput")
    assert "accuracy_test" not in frame.columns
    assert set(frame["n_targets"]) == {3}
    mean = frame.groupby("method")["r2_test"].mean()
    # Noiseless targets of the model class: refinement fits them.
    assert mean["DeepTD+refine"] > 0.99 > mean["Ridge"]


def test_summarize_labels_counts_seeds_and_warnings():
    results = pd.DataFrame(
        {
            "setting": ["s"] * 4,
            "N": [10, 10, 10, 10],
            "n": [80] * 4,
            "method": ["a", "a", "a", "peer"],
            "corr_layer_1": [0.995, 1.0, 0.5, np.nan],
            "corr_min": [0.991, 1.0, 0.2, np.nan],
            "corr_mean": [0.995, 1.0, 0.4, np.nan],
            "accuracy_test": [0.8, 0.9, 0.7, 0.6],
            "fit_time_s": [1.0, 2.0, 9.0, 0.1],
            "n_warnings": [0, 1, 2, 3],
            "n_convergence_warnings": [0, 1, 1, 3],
        }
    )
    summary = benchmark.summarize_labels(results).set_index("method")
    assert summary.loc["a", "trials"] == 3
    assert summary.loc["a", "seeds_099"] == 2
    assert summary.loc["a", "corr_worst"] == pytest.approx(0.2)
    assert summary.loc["a", "fit_time_s"] == 2.0
    assert summary.loc["a", "n_convergence_warnings"] == 2
    assert np.isnan(summary.loc["peer", "seeds_099"])
    assert summary.loc["peer", "accuracy_test"] == pytest.approx(0.6)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: benchmark.run_classify_binary(labels="noisy", quick=True), "labels"),
        (lambda: benchmark.run_multioutput(methods=("Bayes",), quick=True), "methods"),
        (
            lambda: benchmark.run_classify_multiclass(n_classes=1, quick=True),
            "n_classes",
        ),
        (lambda: benchmark.run_classify_binary(n_test=0, quick=True), "n_test"),
    ],
)
def test_label_experiments_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "experiment", ["classify-binary", "classify-multiclass", "multioutput"]
)
def test_label_cli_quick_mode_writes_csv_summary_and_plot(experiment, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    argv = [experiment, "--quick", "--trials", "1", "--out", str(tmp_path)]
    assert main(argv) == 0
    frame = pd.read_csv(tmp_path / f"{experiment}.csv")
    check_label_frame(frame, experiment)
    assert (frame["trial"] == 0).all()
    summary = (tmp_path / f"{experiment}_summary.md").read_text()
    assert f"python -m sklearn_deeptd.benchmark {experiment} --quick" in summary
    assert "| seeds_099 |" in summary and "| corr_worst |" in summary
    assert (tmp_path / f"{experiment}.png").read_bytes().startswith(b"\x89PNG")
    printed = capsys.readouterr().out
    # The summary is redone from the CSV without a run.
    assert main([experiment, "--from-csv", "--no-plot", "--out", str(tmp_path)]) == 0
    table = capsys.readouterr().out.split("\n\n")[0]
    assert table == printed.split("\n\n")[0] and "| setting |" in table


def test_realdata_classification_cli_quick_mode(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    name = "realdata-classification"
    assert main([name, "--quick", "--out", str(tmp_path)]) == 0
    frame = pd.read_csv(tmp_path / f"{name}.csv")
    assert list(frame.columns[:3]) == ["experiment", "setting", "method"]
    assert (frame["experiment"] == name).all()
    assert tuple(dict.fromkeys(frame["setting"])) == CLASSIFICATION_DATASETS
    assert frame.groupby("setting")["n_classes"].first().to_dict() == {
        "breast cancer": 2,
        "iris": 3,
        "digits": 10,
    }
    # Every method of a data set is scored on the same 5 folds.
    folds = frame.groupby(["setting", "method"])["fold"].apply(sorted)
    assert (folds.apply(lambda f: f == [0, 1, 2, 3, 4])).all()
    assert (frame["fit_time_s"] > 0).all()
    assert frame["accuracy"].between(0, 1).all() and (frame["log_loss"] > 0).all()
    assert (frame["n_convergence_warnings"] <= frame["n_warnings"]).all()
    defaults = frame[frame["default_sizes"].eq(True)]
    assert defaults.groupby("setting")["kernel_sizes"].unique().apply(
        list
    ).to_dict() == {"breast cancer": ["5x3x2"], "iris": ["2x2"], "digits": ["4x4x4"]}
    peers = {"LogisticRegression", "MLPClassifier", "HistGradientBoosting"}
    for setting, part in frame.groupby("setting"):
        assert peers <= set(part["model"]), setting
        layers = part["kernel_sizes"].str.contains("x", na=False)
        for model in ("DeepTD", "random start"):
            deep = part[(part["model"] == model) & layers]
            assert set(deep["rank"]) == {1, 2}, setting
    # A single layer is linear: rank 1 only for two classes, up to K - 1 else.
    one_layer = frame[frame["kernel_sizes"].isin(["30", "4"])]
    assert one_layer.groupby("setting")["rank"].unique().apply(sorted).to_dict() == {
        "breast cancer": [1],
        "iris": [1, 2],
    }
    # Parameters: rank * (sum(kernel_sizes) + m) + m, m = 1 logit for two classes.
    row = frame[frame["method"] == "DeepTD 5x3x2 r=2"].iloc[0]
    assert row["n_parameters"] == 2 * (10 + 1) + 1
    row = frame[frame["method"] == "DeepTD 8x8 r=2"].iloc[0]
    assert row["n_parameters"] == 2 * (16 + 10) + 10
    # The linear one-layer network is about as good as logistic regression.
    mean = frame.groupby(["setting", "method"])["accuracy"].mean()
    assert mean["breast cancer", "DeepTD 30 r=1"] > 0.9
    assert mean["iris", "DeepTD 4 r=2"] > 0.9
    summary = (tmp_path / f"{name}_summary.md").read_text()
    assert f"python -m sklearn_deeptd.benchmark {name} --quick" in summary
    assert "| accuracy_std |" in summary and "| warned_fits |" in summary
    printed = capsys.readouterr().out
    assert "| digits |" in printed
    # The summary is redone from the CSV without a run.
    assert main([name, "--from-csv", "--no-plot", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.split("\n\n")[0] == printed.split("\n\n")[0]
    assert (tmp_path / f"{name}.png").read_bytes().startswith(b"\x89PNG")


def test_realdata_classification_is_seeded_and_checks_arguments():
    run_realdata_classification = benchmark.run_realdata_classification
    first = run_realdata_classification(("iris",), ranks=(1,), quick=True)
    second = run_realdata_classification(("iris",), ranks=(1,), quick=True)
    pd.testing.assert_series_equal(first["log_loss"], second["log_loss"])
    other = run_realdata_classification(("iris",), ranks=(1,), quick=True, seed=1)
    assert not np.allclose(other["log_loss"], first["log_loss"])
    with pytest.raises(ValueError, match="datasets"):
        run_realdata_classification(("mnist",), quick=True)
    with pytest.raises(ValueError, match="ranks"):
        run_realdata_classification(("iris",), ranks=(0,), quick=True)
