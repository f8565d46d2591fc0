"""The main job, python -m sklearn_deeptd."""

import io
import subprocess
import sys

from sklearn_deeptd.__main__ import main, run


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


def test_bad_arguments_fail_clearly(capsys):
    assert main(["--activation", "swish"]) == 2
    assert "Unknown activation 'swish'" in capsys.readouterr().err
