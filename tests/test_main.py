"""The main job, python -m sklearn_deeptd."""

import io
import subprocess
import sys

import pytest

from sklearn_deeptd.__main__ import N_TEST, build_parser, main, run


def test_run_prints_recovery_table():
    out = io.StringIO()
    results = run((4, 4), "relu", None, 0.0, 1, 0, out=out)
    text = out.getvalue()
    assert "DeepTD + refinement" in text and "test R^2" in text
    assert results["DeepTD + refinement"]["correlation"].min() > 0.99


def test_module_entry_point_runs():
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "sklearn_deeptd",
            "--kernel-sizes",
            "3,3",
            "--n-samples",
            "100",
            "--activation",
            "tanh",
            "--noise",
            "0.1",
            "--seed",
            "2",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Per-layer recovery" in completed.stdout
    assert (
        len(
            [
                line
                for line in completed.stdout.splitlines()
                if line.strip().startswith(("1 ", "2 "))
            ]
        )
        == 2
    )


def test_help_shows_every_default():
    options = [a for a in build_parser()._actions if a.dest != "help"]
    assert options
    for action in options:
        assert "(default: " in action.help, action.dest


def test_output_states_test_size_and_ends_with_verdict():
    out = io.StringIO()
    results = run((4, 4), "relu", None, 0.0, 1, 0, out=out)
    lines = out.getvalue().splitlines()
    assert f"{N_TEST} test samples" in lines[0]
    r2 = results["DeepTD + refinement"]["r2"]
    assert lines[-1] == (
        "Verdict (DeepTD + refinement): every layer recovered to |cos| >= 0.99 "
        f"(lowest {results['DeepTD + refinement']['correlation'].min():.4f}); "
        f"test R^2 {r2:.4f}."
    )


def test_verdict_names_the_layers_not_recovered():
    out = io.StringIO()
    results = run((3, 3), "relu", 5, 0.0, 1, 0, out=out)
    verdict = out.getvalue().splitlines()[-1]
    missed = [
        str(layer + 1)
        for layer, cos in enumerate(results["DeepTD + refinement"]["correlation"])
        if cos.min() < 0.99
    ]
    assert missed
    assert f"layer(s) {', '.join(missed)} NOT recovered" in verdict


@pytest.mark.parametrize(
    "names, expected",
    [
        ("tanh", "tanh, tanh, identity"),
        ("tanh,relu", "tanh, relu, identity"),
        ("tanh,relu,identity", "tanh, relu, identity"),
        ("tanh,relu,sigmoid", "tanh, relu, sigmoid"),
    ],
)
def test_per_layer_activations(capsys, names, expected):
    argv = ["--kernel-sizes", "2,2,2", "--n-samples", "60", "--activation", names]
    assert main(argv) == 0
    assert f"activations {expected} (input layer first)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "names, message",
    [
        ("swish", "unknown activation 'swish'"),
        ("tanh,swish", "unknown activation 'swish'"),
        ("tanh,relu,tanh,relu", "4 names for a 3-layer network"),
    ],
)
def test_bad_activation_is_an_argparse_error(capsys, names, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["--kernel-sizes", "2,2,2", "--activation", names])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error: argument --activation: " in err and message in err


@pytest.mark.parametrize("n_samples, warned", [(5, True), (6, False)])
def test_warns_below_sum_of_kernel_sizes(capsys, n_samples, warned):
    assert main(["--kernel-sizes", "3,3", "--n-samples", str(n_samples)]) == 0
    warning = f"--n-samples {n_samples} is below the sum of the kernel sizes (6)"
    assert (warning in capsys.readouterr().err) is warned


def test_labels_run_prints_accuracy_and_ends_with_verdict():
    out = io.StringIO()
    results = run((4, 4), "relu", None, 0.0, 1, 0, out=out, labels="logistic")
    lines = out.getvalue().splitlines()
    # Labels default to 50 x sum(kernel_sizes) training samples.
    assert lines[0].endswith(
        "rank 1, logistic labels of 2 classes (temperature 0.15); 400 training "
        f"and {N_TEST} test samples of 16 features."
    )
    assert any(line.startswith("test acc. ") for line in lines)
    assert not any(line.startswith("test R^2") for line in lines)
    refined = results["DeepTD + refinement"]
    assert refined["correlation"].min() > 0.99
    assert 0.5 < refined["accuracy"] <= 1.0
    assert lines[-2] == (
        "Bayes classifier (the planted network's most probable class): test "
        f"accuracy {refined['bayes_accuracy']:.4f}"
    )
    assert lines[-1] == (
        "Verdict (DeepTD + refinement): every layer recovered to |cos| >= 0.99 "
        f"(lowest {refined['correlation'].min():.4f}); test accuracy "
        f"{refined['accuracy']:.4f} (Bayes classifier "
        f"{refined['bayes_accuracy']:.4f})."
    )


def test_threshold_labels_of_several_classes(capsys):
    argv = ["--kernel-sizes", "3,3", "--rank", "2", "--labels", "threshold"]
    assert main([*argv, "--n-classes", "3", "--n-samples", "300"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "rank 2, threshold labels of 3 classes; 300 training" in lines[0]
    # Threshold labels are the planted network's most probable class.
    assert lines[-2].endswith("test accuracy 1.0000")
    assert "in every branch" in lines[-1] and "(Bayes classifier 1.0000)." in lines[-1]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--n-classes", "3"], "argument --n-classes: needs --labels"),
        (["--temperature", "0.5"], "argument --temperature: needs --labels"),
        (["--labels", "logistic", "--noise", "0.1"], "argument --noise: "),
        (["--labels", "logistic", "--n-classes", "1"], "at least 2, got 1"),
        (["--labels", "logistic", "--temperature", "0"], "must be positive"),
        (["--labels", "softmax"], "argument --labels: invalid choice: 'softmax'"),
    ],
)
def test_bad_label_options_are_argparse_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["--kernel-sizes", "2,2", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
