"""
===========================================================
Choosing rank and max_iter with a Pipeline and GridSearchCV
===========================================================

:class:`~sklearn_deeptd.DeepTDRegressor` is an ordinary scikit-learn
regressor, so it goes into a :class:`~sklearn.pipeline.Pipeline` and its
parameters are tuned by :class:`~sklearn.model_selection.GridSearchCV`.

Here the data come from a planted network with **two** parallel branches
(``rank=2``) and 10% label noise. We scale the inputs (DeepTD wants roughly
standard Gaussian inputs; on real data :class:`~sklearn.preprocessing.StandardScaler`
is the usual first step) and search over the number of branches ``rank`` and
the iteration budget ``max_iter`` (of both the decomposition and the
refinement: Gauss-Newton steps at rank 1, L-BFGS at ranks 2 and 3, whose
Gauss-Newton matrices would cost more than the passes).
"""

# %%
# The search
# ----------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset, kernel_correlation

kernel_sizes = (4, 4, 4)
planted = PlantedCNNDataset(kernel_sizes, rank=2, noise=0.1, random_state=0)
X, y = planted.sample(600, random_state=1)
X_test, y_test = planted.sample(2000, random_state=2)

pipe = Pipeline(
    [
        ("scale", StandardScaler()),
        ("deeptd", DeepTDRegressor(kernel_sizes, random_state=0)),
    ]
)
grid = {"deeptd__rank": [1, 2, 3], "deeptd__max_iter": [2, 5, 20, 100]}
search = GridSearchCV(pipe, grid, cv=3)
with warnings.catch_warnings():
    # Small max_iter values stop the refinement early on purpose.
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X, y)

print("best parameters:", search.best_params_)
print(f"best cross-validated R^2: {search.best_score_:.3f}")
print(f"test R^2 of the refitted pipeline: {search.score(X_test, y_test):.3f}")

# %%
# Mean cross-validated :math:`R^2` over the grid
# ----------------------------------------------
# One branch cannot explain a two-branch network however long it trains. With
# two branches a handful of iterations reach the noise ceiling
# (:math:`R^2 \approx 1 / (1 + 0.1^2) \approx 0.99`); a third branch adds
# nothing. Because the refinement starts from the DeepTD estimate, small
# ``max_iter`` values already do well.

ranks = grid["deeptd__rank"]
budgets = grid["deeptd__max_iter"]
scores = np.empty((len(ranks), len(budgets)))
for params, score in zip(
    search.cv_results_["params"], search.cv_results_["mean_test_score"]
):
    scores[
        ranks.index(params["deeptd__rank"]), budgets.index(params["deeptd__max_iter"])
    ] = score
print(np.round(scores, 3))

fig, ax = plt.subplots(figsize=(5.5, 3.5))
image = ax.imshow(np.clip(scores, 0, 1), vmin=0, vmax=1, cmap="viridis")
for i in range(len(ranks)):
    for j in range(len(budgets)):
        ax.text(
            j,
            i,
            f"{scores[i, j]:.2f}",
            ha="center",
            va="center",
            color="white" if scores[i, j] < 0.6 else "black",
        )
ax.set_xticks(range(len(budgets)), [str(b) for b in budgets])
ax.set_yticks(range(len(ranks)), [str(r) for r in ranks])
ax.set_xlabel("max_iter")
ax.set_ylabel("rank")
ax.set_title("mean cross-validated $R^2$")
fig.colorbar(image, ax=ax)
fig.tight_layout()
plt.show()

# %%
# The kernels of the best model
# -----------------------------
# The scaler barely changes standard Gaussian inputs, so the kernels of the
# selected model can be compared with the planted ones directly.
# :func:`~sklearn_deeptd.kernel_correlation` matches the branches first.
best = search.best_estimator_["deeptd"]
print("per-layer |cos| of each planted branch (rows: layers):")
print(np.round(kernel_correlation(planted.kernels_, best.kernels_), 3))
