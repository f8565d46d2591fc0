"""The README's usage example runs and does what it says."""

import re
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_usage_example_runs(capsys):
    if not README.exists():
        pytest.skip("README.md is not shipped with an installed package")
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README.md has no python example"
    namespace = {}
    # The example's grid includes max_iter=50 on purpose, which stops the
    # rank-2 decomposition before convergence: users see the warning, so do we.
    with pytest.warns(ConvergenceWarning, match="max_iter=50"):
        exec(compile(blocks[0], str(README), "exec"), namespace)
    search = namespace["search"]
    assert search.best_score_ > 0.99
    assert "deeptd__rank" in capsys.readouterr().out
