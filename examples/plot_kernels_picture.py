"""
=======================================
Reading the fitted kernels as a picture
=======================================

A fitted :class:`~sklearn_deeptd.DeepTDRegressor` is small enough to look at:
one short kernel per layer (``kernels_``, input layer first), plus the DeepTD
estimate it started from (``td_kernels_``). Here we plant a ReLU network with
kernel sizes ``(8, 8, 8)`` (512 inputs), fit it from 240 samples, and draw

* each layer's kernel: planted, DeepTD estimate, and after refinement;
* the *template* ``k_1 (x) k_2 (x) k_3``: the rank-one tensor that the moment
  ``T`` estimates, laid out like the input. Entry ``x[i1 + 8 i2 + 64 i3]`` of
  the input meets weight ``k_1[i1] k_2[i2] k_3[i3]``; for identity activations
  the network would be the linear model with exactly these weights.

Only each kernel's direction is identified, so every kernel is drawn with unit
norm, and each estimate is flipped, if needed, to point the same way as the
planted kernel.
"""

# %%
# Fit
# ---
import matplotlib.pyplot as plt
import numpy as np

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset, kernel_correlation

kernel_sizes = (8, 8, 8)
planted = PlantedCNNDataset(kernel_sizes, random_state=3)
X, y = planted.sample(10 * sum(kernel_sizes), random_state=4)
model = DeepTDRegressor(kernel_sizes, random_state=0).fit(X, y)

print("fitted kernel shapes:", [kernel.shape for kernel in model.kernels_])
print("branch weight:", model.weights_, " intercept:", round(model.intercept_, 4))
for label, kernels in (
    ("DeepTD estimate", model.td_kernels_),
    ("refined", model.kernels_),
):
    correlation = kernel_correlation(planted.kernels_, kernels)[:, 0]
    print(f"{label} |cos| per layer:", correlation.round(3))


def aligned(kernel, reference):
    """Unit-norm ``kernel``, flipped to point the same way as ``reference``."""
    kernel = kernel / np.linalg.norm(kernel)
    return kernel if kernel @ reference >= 0 else -kernel


true = [k[0] for k in planted.kernels_]
deeptd = [aligned(k[0], t) for k, t in zip(model.td_kernels_, true)]
refined = [aligned(k[0], t) for k, t in zip(model.kernels_, true)]

# %%
# One panel per layer
# -------------------
# The outer layers' DeepTD estimates are already close to the planted kernels;
# the middle layer's is visibly off (DeepTD's bias for nonlinear networks).
# After refinement the fitted kernels sit on the planted ones.

fig, axes = plt.subplots(1, len(kernel_sizes), figsize=(11, 3), sharey=True)
for layer, ax in enumerate(axes):
    positions = np.arange(kernel_sizes[layer])
    ax.bar(positions - 0.25, true[layer], 0.25, label="planted", color="0.6")
    ax.bar(positions, deeptd[layer], 0.25, label="DeepTD (td_kernels_)")
    ax.bar(positions + 0.25, refined[layer], 0.25, label="refined (kernels_)")
    ax.axhline(0, color="k", linewidth=0.5)
    ax.set_xticks(positions)
    ax.set_xlabel("kernel entry")
    ax.set_title(f"layer {layer + 1}")
axes[0].set_ylabel("weight (unit-norm kernel)")
axes[-1].legend(fontsize=8)
fig.tight_layout()

# %%
# The template on the input
# -------------------------
# ``np.kron(k_3, np.kron(k_2, k_1))`` has entry ``i1 + 8 i2 + 64 i3`` equal to
# ``k_1[i1] k_2[i2] k_3[i3]``, the same order as the input. Reshaped to
# ``(8, 64)``, row ``i3`` is the third-layer block, and within it the eight
# groups of eight columns are the first-layer patches.


def template(kernels):
    return np.kron(kernels[2], np.kron(kernels[1], kernels[0])).reshape(8, 64)


pictures = {
    "planted": template(true),
    "DeepTD estimate": template(deeptd),
    "refined": template(refined),
}
limit = max(np.abs(p).max() for p in pictures.values())
fig, axes = plt.subplots(
    len(pictures), 1, figsize=(9, 5.4), sharex=True, layout="constrained"
)
for ax, (title, picture) in zip(axes, pictures.items()):
    image = ax.imshow(picture, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("i3")
    for boundary in range(8, 64, 8):
        ax.axvline(boundary - 0.5, color="k", linewidth=0.3)
axes[-1].set_xlabel("i1 + 8 i2 (first-layer patches, 8 entries each)")
fig.colorbar(image, ax=axes, shrink=0.8)
plt.show()
