"""The README's examples run as shown: deterministic and warning-free."""

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _examples_and_their_outputs():
    """Each ```python block of the README with the ```text block after it."""
    if not README.exists():
        pytest.skip("README.md is not shipped with an installed package")
    text = README.read_text()
    code = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    pairs = re.findall(r"```python\n(.*?)```.*?```text\n(.*?)```", text, flags=re.S)
    assert pairs, "README.md lost its usage example or its output"
    # Every example has its own output block before the next example.
    assert len(pairs) == len(code), "a README example has no output block"
    return pairs


@pytest.mark.parametrize("index", [0, 1], ids=["usage", "classification"])
def test_readme_example_prints_what_the_readme_shows(capsys, index):
    pairs = _examples_and_their_outputs()
    assert len(pairs) == 2, "README.md should hold exactly these two examples"
    code, shown = pairs[index]
    # Any warning (a ConvergenceWarning from a grid point that stops early, a
    # FitFailedWarning from GridSearchCV) fails the test, whatever the suite's
    # own warning filters are.
    for _ in range(2):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            exec(compile(code, str(README), "exec"), {})
        # The same output on every run: every random choice has a seed.
        assert capsys.readouterr().out == shown
