"""Summaries of the tidy benchmark results, as tables."""

import numpy as np
import pandas as pd

_GROUP_KEYS = ("setting", "sweep", "N", "n", "p", "method")


def summarize(results):
    """Aggregate a tidy benchmark result over its trials.

    The rows are grouped by every key column present (``setting``, ``sweep``,
    ``N``, ``n``, ``p`` and ``method``); this is the table the command line
    prints and writes to ``<name>_summary.md``.

    Parameters
    ----------
    results : pandas.DataFrame
        The output of one of the ``run_*`` functions.

    Returns
    -------
    summary : pandas.DataFrame
        One row per setting, ``N`` (or sweep point) and method, in the order
        they first appear: ``trials``, the mean of every correlation column and
        of ``r2_test`` (and, for cross-validated results, which have a ``fold``
        column, its standard deviation ``r2_test_std``), ``every_layer_099``
        (the fraction of trials with every layer at ``|cos| >= 0.99``) and the
        median ``fit_time_s`` (and, for timing results, the median
        ``floor_time_s`` and ``ratio``).

    See Also
    --------
    summarize_labels : The summary of the label and multi-output experiments.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_deeptd.benchmark import summarize
    >>> results = pd.DataFrame({"setting": ["a", "a"], "method": ["m", "m"],
    ...                         "corr_min": [0.5, 1.0], "fit_time_s": [1.0, 3.0]})
    >>> summarize(results)
      setting method  trials  corr_min  every_layer_099  fit_time_s
    0       a      m       2      0.75              0.5         2.0
    """
    keys = [key for key in _GROUP_KEYS if key in results.columns]
    grouped = results.groupby(keys, sort=False, dropna=False)
    summary = grouped.size().rename("trials").to_frame()
    means = [c for c in results.columns if c.startswith("corr_") or c == "r2_test"]
    if means:
        summary = summary.join(grouped[means].mean())
    if "fold" in results.columns:
        # Cross-validated scores: their spread over the folds matters too.
        summary["r2_test_std"] = grouped["r2_test"].std()
    if "corr_min" in results.columns:
        summary["every_layer_099"] = grouped["corr_min"].apply(
            lambda c: np.nan if c.isna().all() else float(np.mean(c >= 0.99))
        )
    medians = [
        c for c in ("fit_time_s", "floor_time_s", "ratio") if c in results.columns
    ]
    summary = summary.join(grouped[medians].median())
    summary = summary.dropna(axis=1, how="all").reset_index()
    return summary


def _markdown_table(frame, digits=3):
    """A GitHub markdown table of a DataFrame (no tabulate needed)."""

    def cell(value):
        if isinstance(value, (float, np.floating)):
            if np.isnan(value):
                return ""
            if abs(value) >= 100 or value == int(value) and abs(value) >= 10:
                return f"{value:.0f}"
            if abs(value) < 0.01 and value != 0:
                return f"{value:.2g}"
            return f"{value:.{digits}f}"
        return str(value)

    lines = [
        "| " + " | ".join(str(c) for c in frame.columns) + " |",
        "|" + "|".join("---" for _ in frame.columns) + "|",
    ]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def to_markdown(summary):
    """``summarize`` output as markdown, layer columns abbreviated."""
    frame = summary.rename(
        columns=lambda c: c.replace("corr_layer_", "L") if isinstance(c, str) else c
    )
    return _markdown_table(pd.DataFrame(frame))
