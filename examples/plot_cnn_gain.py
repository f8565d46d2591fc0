"""
========================================================
The CNN gain: which activations DeepTD can learn through
========================================================

For Gaussian inputs, Stein's lemma turns the DeepTD moment into the average
gradient of the network, tensorised:

.. math::

    T = \\mathbb{E}[(y - \\mathbb{E} y)\\, X(x)] = \\mathbb{E}[X(\\nabla f(x))]
      \\approx \\alpha \\; k_1 \\otimes k_2 \\otimes \\cdots \\otimes k_D,
    \\qquad
    \\alpha = \\prod_l \\mathbb{E}[\\phi_l'(z_l)],

where :math:`z_l` is layer :math:`l`'s pre-activation. The *CNN gain*
:math:`\\alpha` is the product of the layers' mean activation slopes. If one
factor is zero, the moment carries no signal about the kernels, however many
samples there are.

Every activation :class:`~sklearn_deeptd.DeepTDRegressor` offers has a positive
mean slope. *Even* activations such as :math:`z^2` or :math:`|z|` do not: their
derivative is odd, so it averages to zero over a symmetric pre-activation.
When the first layer is even, :math:`f(-x) = f(x)` and the moment vanishes
exactly in expectation.
"""

# %%
# Mean slope of each activation on a standard Gaussian pre-activation
# -------------------------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit

rng = np.random.default_rng(0)
z = rng.standard_normal(1_000_000)
slopes = {
    "identity": np.ones_like(z),
    "relu": (z > 0).astype(float),
    "leaky_relu": np.where(z > 0, 1.0, 0.01),
    "softplus": expit(z),
    "tanh": 1 - np.tanh(z) ** 2,
    "sigmoid": expit(z) * (1 - expit(z)),
    "|z| (even)": np.sign(z),
    "z^2 (even)": 2 * z,
}
for name, slope in slopes.items():
    print(f"E[phi'(z)] for {name:11s}: {slope.mean():+.3f}")

# %%
# Planted networks with ReLU and with absolute-value hidden layers
# ----------------------------------------------------------------
# The kernels come from :class:`~sklearn_deeptd.PlantedCNNDataset` (which never
# plants a dead ReLU network); the labels are computed with numpy, so that the
# hidden activation can be one the package does not offer. Layer ``l`` reshapes
# its input into consecutive blocks of ``d_l`` entries and takes the inner
# product of each block with its kernel, exactly the model of
# :class:`~sklearn_deeptd.DeepTDRegressor`.
import warnings  # noqa: E402

from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from sklearn_deeptd import (  # noqa: E402
    DeepTDRegressor,
    PlantedCNNDataset,
    kernel_correlation,
)

kernel_sizes = (4, 4, 4)
activations = {"relu": lambda u: np.maximum(u, 0), "abs (even)": np.abs}


def planted_output(X, kernels, hidden):
    h = X
    for layer, kernel in enumerate(kernels):
        h = h.reshape(h.shape[0], -1, kernel.size) @ kernel
        if layer < len(kernels) - 1:
            h = hidden(h)
    return h[:, 0]


results = {name: {"moment": [], "recovery": []} for name in activations}
for seed in range(5):
    planted = PlantedCNNDataset(kernel_sizes, random_state=seed)
    kernels = [k[0] for k in planted.kernels_]
    X, _ = planted.sample(2000, random_state=100 + seed)
    for name, hidden in activations.items():
        y = planted_output(X, kernels, hidden)
        y = (y - y.mean()) / y.std()
        # The moment of the standardised labels: its norm is the signal.
        results[name]["moment"].append(np.linalg.norm(X.T @ y / len(y)))
        model = DeepTDRegressor(kernel_sizes, refine=False, random_state=0)
        with warnings.catch_warnings():
            # A tensor of pure noise has no dominant rank-one direction: the
            # power iterations may not settle within max_iter.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        correlation = kernel_correlation([k[None] for k in kernels], model.kernels_)
        results[name]["recovery"].append(correlation[:, 0])

for name in activations:
    print(
        f"{name:10s} ||T|| = {np.mean(results[name]['moment']):.3f}  "
        "DeepTD |cos| per layer = "
        + " ".join(f"{c:.2f}" for c in np.mean(results[name]["recovery"], axis=0))
    )

# %%
# With ReLU hidden layers the moment is large and DeepTD finds the kernels.
# With :math:`|z|` the moment is only sampling noise (of order
# :math:`\sqrt{p / n} \approx 0.18` here), and the "recovered" kernels are
# little better than random directions (a random direction in
# :math:`\mathbb{R}^4` has a mean :math:`|\cos|` of 0.42 with a fixed one).
# Refinement cannot help either: the model class of
# :class:`~sklearn_deeptd.DeepTDRegressor` has no even activation.

fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
names = list(slopes)
means = [slopes[name].mean() for name in names]
axes[0].barh(names, means, color=["C0"] * 6 + ["C3"] * 2)
axes[0].axvline(0, color="k", linewidth=0.5)
axes[0].invert_yaxis()
axes[0].set_xlabel(r"mean slope $E[\phi'(z)]$, $z \sim N(0, 1)$")

positions = np.arange(len(kernel_sizes))
for i, name in enumerate(activations):
    axes[1].bar(
        positions + (i - 0.5) * 0.35,
        np.mean(results[name]["recovery"], axis=0),
        0.35,
        label=f"hidden {name}",
        color="C0" if i == 0 else "C3",
    )
axes[1].set_xticks(positions, [f"layer {layer + 1}" for layer in positions])
axes[1].set_ylabel("DeepTD mean |cos(true, learned)|")
axes[1].axhline(0.42, color="0.4", linestyle="--", label="random direction")
axes[1].set_ylim(0, 1.3)
axes[1].legend(loc="upper center", ncols=3, fontsize=8)
fig.tight_layout()
plt.show()
