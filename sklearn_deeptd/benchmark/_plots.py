"""PNG plots of the benchmark results (needs matplotlib, the benchmark extra)."""

import numpy as np

from ._classification import RECOVERY_THRESHOLD

MISSING = (
    "matplotlib is not installed: no plot written. Install the benchmark extra "
    "(pip install 'sklearn-deeptd[benchmark]') to get PNG plots."
)
_STYLE = {
    "DeepTD": ("C0", "o"),
    "NaiveTD": ("C1", "s"),
    "DeepTD+refine": ("C2", "^"),
    "random start": ("C3", "v"),
    "MLPRegressor": ("C4", "D"),
    "Ridge": ("C5", "x"),
    "TensorLy parafac": ("C6", "*"),
}


def _pyplot():
    """matplotlib.pyplot on the Agg backend, or an ImportError naming the extra."""
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(MISSING) from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _layer_columns(frame):
    columns = [c for c in frame.columns if c.startswith("corr_layer_")]
    return [c for c in columns if frame[c].notna().any()]


def _legend(axes, **kwargs):
    """The legend on the panel that has the most labelled lines."""
    fullest = max(axes, key=lambda ax: len(ax.get_legend_handles_labels()[1]))
    fullest.legend(**kwargs)


def _style(method):
    return _STYLE.get(method, ("k", "."))


def _save(fig, path, **layout):
    fig.tight_layout(**layout)
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)


def _mean_and_second_line(ax, part, by, second, labels):
    """Per method: mean correlation (solid) and ``second`` (dotted) against ``by``."""
    for method in dict.fromkeys(part["method"]):
        color, marker = _style(method)
        rows = part[part["method"] == method].groupby(by)
        ax.plot(rows["corr_mean"].mean(), color=color, marker=marker,
                label=f"{method} ({labels[0]})")  # fmt: skip
        ax.plot(rows[second].mean(), color=color, linestyle=":",
                label=f"{method} ({labels[1]})")  # fmt: skip
    ax.set_ylabel("mean |cos|")
    ax.set_ylim(0, 1.03)
    ax.grid(alpha=0.3)


def plot_depth(results, path):
    """Per-layer mean correlation, one panel per setting."""
    plt = _pyplot()
    settings = list(dict.fromkeys(results["setting"]))
    fig, axes = plt.subplots(1, len(settings), figsize=(5.5 * len(settings), 4.8),
                             squeeze=False)  # fmt: skip
    other_styles = [":", "-.", (0, (5, 2)), (0, (1, 3))]
    for ax, setting in zip(axes[0], settings):
        part = results[results["setting"] == setting]
        layers = _layer_columns(part)
        x = np.arange(1, len(layers) + 1)
        refine_N = sorted(part.loc[part["method"] == "DeepTD+refine", "N"].unique())
        for method in dict.fromkeys(part["method"]):
            color, marker = _style(method)
            rows = part[part["method"] == method]
            others = 0
            for N in sorted(rows["N"].unique()):
                highlighted = N in refine_N or not refine_N
                if method != "DeepTD" and not highlighted:
                    continue
                mean = rows[rows["N"] == N][layers].mean().to_numpy()
                style = "-"
                if not highlighted:
                    style = other_styles[others % len(other_styles)]
                    others += 1
                ax.plot(
                    x, mean, color=color, marker=marker if highlighted else None,
                    alpha=1.0 if highlighted else 0.55, linestyle=style,
                    label=f"{method}, N={N}",
                )  # fmt: skip
        trials = part.groupby(["method", "N"]).size().max()
        ax.set_title(f"{setting}, p={part['p'].iloc[0]} ({trials} trials)")
        ax.set_xlabel("layer (1 = input)")
        ax.set_ylabel("mean |cos(true, learned)|")
        ax.set_xticks(x)
        ax.set_ylim(0, 1.03)
        ax.grid(alpha=0.3)
    fullest = max(axes[0], key=lambda ax: len(ax.get_legend_handles_labels()[1]))
    handles, labels = fullest.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8)
    _save(fig, path, rect=(0, 0.13, 1, 1))


def plot_width(results, path):
    """Mean correlation against width, one panel per N."""
    plt = _pyplot()
    Ns = sorted(results["N"].unique())
    fig, axes = plt.subplots(1, len(Ns), figsize=(4.5 * len(Ns), 4), squeeze=False)
    for ax, N in zip(axes[0], Ns):
        part = results[results["N"] == N]
        last = _layer_columns(part)[-1]
        _mean_and_second_line(ax, part, "width", last, ("mean", "last layer"))
        ax.set_title(f"depth {part['depth'].iloc[0]}, N={N}, ReLU output")
        ax.set_xlabel("kernel width d")
    _legend(axes[0], fontsize=7, loc="lower right")
    _save(fig, path)


def plot_samples(results, path):
    """Mean and worst-layer correlation against N, one panel per setting."""
    plt = _pyplot()
    settings = list(dict.fromkeys(results["setting"]))
    fig, axes = plt.subplots(1, len(settings), figsize=(5 * len(settings), 4),
                             squeeze=False)  # fmt: skip
    for ax, setting in zip(axes[0], settings):
        part = results[results["setting"] == setting]
        _mean_and_second_line(ax, part, "N", "corr_min", ("layer mean", "worst layer"))
        ax.set_xscale("log")
        ax.set_title(setting)
        ax.set_xlabel("N = n / sum(kernel sizes)")
    _legend(axes[0], fontsize=7, loc="lower right")
    _save(fig, path)


def plot_timing(results, path):
    """Median fit time / (X.T @ y time) against n and against p."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, sweep, x in zip(axes, ("n", "p"), ("n", "p")):
        part = results[results["sweep"] == sweep]
        for method in dict.fromkeys(part["method"]):
            color, marker = _style(method)
            rows = part[part["method"] == method].groupby(x)["ratio"].median()
            ax.plot(rows, color=color, marker=marker, label=method)
        ax.set_xscale("log")
        ax.set_yscale("log")
        fixed = "p" if sweep == "n" else "n"
        if len(part):
            ax.set_title(f"sweep over {x} ({fixed}={part[fixed].iloc[0]})")
        ax.set_xlabel(x)
        ax.set_ylabel("fit time / time of X.T @ y (median)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    _save(fig, path)


def plot_peers(results, path):
    """Test R^2 and median fit time per setting and method."""
    plt = _pyplot()
    settings = list(dict.fromkeys(results["setting"]))
    methods = list(dict.fromkeys(results["method"]))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.8 / len(methods)
    x = np.arange(len(settings))
    for i, method in enumerate(methods):
        color, _ = _style(method)
        rows = results[results["method"] == method].groupby("setting", sort=False)
        r2 = rows["r2_test"].mean().reindex(settings)
        seconds = rows["fit_time_s"].median().reindex(settings)
        axes[0].bar(x + i * width, r2.clip(lower=-0.1), width, color=color,
                    label=method)  # fmt: skip
        axes[1].bar(x + i * width, seconds, width, color=color, label=method)
    for ax, label in zip(axes, ("mean test R^2", "median fit time (s)")):
        ax.set_xticks(x + 0.4 - width / 2)
        ax.set_xticklabels(settings, fontsize=8)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, axis="y")
    axes[1].set_yscale("log")
    axes[0].set_ylim(-0.15, 1.05)
    axes[0].set_title("R^2 clipped at -0.1; no bar: no predictor", fontsize=8)
    axes[1].legend(fontsize=7, loc="upper left")
    _save(fig, path)


def plot_labels(results, path):
    """Recovery (mean and worst layer) and the test score against ``N``, one
    row of two panels per setting."""
    label_styles = {"LogisticRegression": ("C5", "x"), "MLPClassifier": ("C4", "D"),
                    "Bayes": ("k", "*")}  # fmt: skip
    plt = _pyplot()
    settings = list(dict.fromkeys(results["setting"]))
    score = "accuracy_test" if "accuracy_test" in results.columns else "r2_test"
    fig, axes = plt.subplots(
        len(settings), 2, figsize=(11, 3.8 * len(settings)), squeeze=False
    )
    for (left, right), setting in zip(axes, settings):
        part = results[results["setting"] == setting]
        # The rank search ran on a few trials only: it is in the summary table.
        methods = [m for m in dict.fromkeys(part["method"]) if m != "GridSearchCV rank"]
        for method in methods:
            color, marker = label_styles.get(method) or _style(method)
            rows = part[part["method"] == method]
            if rows["corr_min"].notna().any():
                by_N = rows.groupby("N")
                left.plot(by_N["corr_mean"].mean(), color=color, marker=marker,
                          label=f"{method} (mean)")  # fmt: skip
                left.plot(by_N["corr_min"].min(), color=color, linestyle=":",
                          label=f"{method} (worst)")  # fmt: skip
            scores = rows.groupby("N")[score].mean()
            if len(scores) > 1:
                right.plot(scores, color=color, marker=marker, label=method)
            else:
                right.scatter(scores.index, scores, color=color, marker=marker,
                              label=method)  # fmt: skip
        left.axhline(RECOVERY_THRESHOLD, color="grey", linewidth=0.6)
        left.set_ylim(0, 1.03)
        left.set_ylabel("|cos(true, learned)|")
        left.set_title(f"{setting}: recovery", fontsize=9)
        right.set_ylabel(f"mean {score.replace('_', ' ')}")
        right.set_title(f"{setting}: test score", fontsize=9)
        for ax in (left, right):
            ax.set_xscale("log")
            ax.set_xlabel("N (rows per weight and branch)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=6)
    _save(fig, path)


def plot_realdata(results, path):
    """Cross-validated R^2 or, for classification, accuracy (mean and std over
    folds) per method, one panel per data set; the label past each bar gives
    the mean, the mean log-loss (for classification) and the median fit time."""
    classification = "accuracy" in results.columns
    score = "accuracy" if classification else "r2_test"
    plt = _pyplot()
    settings = list(dict.fromkeys(results["setting"]))
    panels = [results[results["setting"] == s] for s in settings]
    height = max(part["method"].nunique() for part in panels)
    size = (6 * len(settings), 0.3 * height + 1.4)
    fig, axes = plt.subplots(1, len(settings), figsize=size, squeeze=False)
    colors = {"DeepTD": "C0", "random start": "C3", "Ridge": "C5",
              "LogisticRegression": "C5", "MLPRegressor": "C4",
              "MLPClassifier": "C4", "HistGradientBoosting": "C1"}  # fmt: skip
    for ax, setting, part in zip(axes[0], settings, panels):
        rows = part.groupby("method", sort=False)
        mean, std = rows[score].mean(), rows[score].std()
        texts = [f"{value:.3f}" for value in mean]
        if classification:
            texts = [f"{t}, {ll:.2f}" for t, ll in zip(texts, rows["log_loss"].mean())]
        y = np.arange(len(mean))[::-1]
        colored = [colors.get(m, "k") for m in rows["model"].first()]
        ax.barh(y, mean.clip(lower=0), xerr=std, color=colored,
                error_kw={"lw": 0.8})  # fmt: skip
        # The label goes past the error bar, so that neither hides the other.
        seconds = rows["fit_time_s"].median()
        for yi, value, spread, text, t in zip(y, mean, std.fillna(0), texts, seconds):
            x = max(value, 0) + spread + 0.02
            ax.text(x, yi, f"{text}, {t:.2g} s", va="center", fontsize=7)
        ax.set_yticks(y)
        ax.set_yticklabels(mean.index, fontsize=7)
        ax.set_xlim(0, 1.45 if classification else 1.35)
        ax.set_xlabel(
            "5-fold accuracy (label: mean, log-loss, median fit time)"
            if classification
            else "5-fold R^2 (bar clipped at 0; label: mean, median fit time)"
        )
        title = f"{setting} (n={part['n'].iloc[0]}, p={part['p'].iloc[0]}"
        if classification:
            title += f", {part['n_classes'].iloc[0]} classes"
        ax.set_title(title + ")")
        ax.grid(alpha=0.3, axis="x")
    _save(fig, path)
