"""The README's usage example runs as shown: deterministic and warning-free."""

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _usage_example_and_its_output():
    if not README.exists():
        pytest.skip("README.md is not shipped with an installed package")
    text = README.read_text()
    code = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    shown = re.findall(r"```text\n(.*?)```", text, flags=re.S)
    assert code and shown, "README.md lost its usage example or its output"
    return code[0], shown[0]


def test_readme_usage_example_prints_what_the_readme_shows(capsys):
    code, shown = _usage_example_and_its_output()
    # Any warning (a ConvergenceWarning from a grid point that stops early, a
    # FitFailedWarning from GridSearchCV) fails the test, whatever the suite's
    # own warning filters are.
    for _ in range(2):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            exec(compile(code, str(README), "exec"), {})
        # The same output on every run: every random choice has a seed.
        assert capsys.readouterr().out == shown
