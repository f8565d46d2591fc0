"""PNG plots of the benchmark results (needs matplotlib, the benchmark extra)."""

import numpy as np

MISSING = (
    "matplotlib is not installed: no plot written. Install the benchmark extra "
    "(pip install 'sklearn-deeptd[benchmark]') to get PNG plots."
)
STYLE = {
    "DeepTD": ("C0", "o"),
    "NaiveTD": ("C1", "s"),
    "DeepTD+refine": ("C2", "^"),
    "random start": ("C3", "v"),
    "MLPRegressor": ("C4", "D"),
    "Ridge": ("C5", "x"),
    "TensorLy parafac": ("C6", "*"),
}


def pyplot():
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
    return STYLE.get(method, ("k", "."))


def _save(fig, path, **layout):
    fig.tight_layout(**layout)
    fig.savefig(path, dpi=110)
    pyplot().close(fig)


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
    plt = pyplot()
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
    plt = pyplot()
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
    plt = pyplot()
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
    plt = pyplot()
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
    plt = pyplot()
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


def plot_realdata(results, path):
    """Cross-validated R^2 (mean and std over folds) per method, one panel per
    data set, with each method's median fit time at the end of its bar."""
    plt = pyplot()
    settings = list(dict.fromkeys(results["setting"]))
    panels = [results[results["setting"] == s] for s in settings]
    height = max(part["method"].nunique() for part in panels)
    size = (6 * len(settings), 0.3 * height + 1.4)
    fig, axes = plt.subplots(1, len(settings), figsize=size, squeeze=False)
    colors = {"DeepTD": "C0", "random start": "C3", "Ridge": "C5",
              "MLPRegressor": "C4", "HistGradientBoosting": "C1"}  # fmt: skip
    for ax, setting, part in zip(axes[0], settings, panels):
        rows = part.groupby("method", sort=False)
        r2, std = rows["r2_test"].mean(), rows["r2_test"].std()
        seconds = rows["fit_time_s"].median()
        model = rows["model"].first()
        y = np.arange(len(r2))[::-1]
        ax.barh(y, r2.clip(lower=0), xerr=std, color=[colors[m] for m in model],
                error_kw={"lw": 0.8})  # fmt: skip
        # The label goes past the error bar, so that neither hides the other.
        for yi, value, spread, t in zip(y, r2, std.fillna(0), seconds):
            x = max(value, 0) + spread + 0.02
            ax.text(x, yi, f"{value:.2f}, {t:.2g} s", va="center", fontsize=7)
        ax.set_yticks(y)
        ax.set_yticklabels(r2.index, fontsize=7)
        ax.set_xlim(0, 1.3)
        ax.set_xlabel("5-fold R^2 (bar clipped at 0; label: mean, median fit time)")
        n, p = part["n"].iloc[0], part["p"].iloc[0]
        ax.set_title(f"{setting} (n={n}, p={p})")
        ax.grid(alpha=0.3, axis="x")
    _save(fig, path)


PLOTS = {
    "depth": plot_depth,
    "width": plot_width,
    "samples": plot_samples,
    "timing": plot_timing,
    "peers": plot_peers,
    "realdata": plot_realdata,
}
