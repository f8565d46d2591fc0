"""
=================================================
Streaming: learning from batches with partial_fit
=================================================

DeepTD's moment ``T = mean((y - mean y) * X(x))`` is a sum over rows, so it can
be accumulated batch by batch. :meth:`~sklearn_deeptd.DeepTDRegressor.partial_fit`
keeps the exact sufficient statistics of the moment (weighted sums of
``y x``, ``x``, ``y``, ``y^2`` and of the weights) plus a bounded reservoir
sample of rows for the steps that need rows (signs, scale, refinement). After
any split of the data into batches, the DeepTD estimate equals that of one
``fit`` on all the rows, while memory stays bounded by one batch and the
reservoir.

We stream 25 batches of 40 rows from a planted ReLU network with kernel sizes
``(8, 8, 8)`` and follow the per-layer recovery after each batch, for DeepTD
alone (``refine=False``) and with refinement on the reservoir.
"""

# %%
# Stream the batches
# ------------------
import matplotlib.pyplot as plt
import numpy as np

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset, kernel_correlation

kernel_sizes = (8, 8, 8)
planted = PlantedCNNDataset(kernel_sizes, random_state=0)
n_batches, batch_size = 25, 40

streams = {
    "DeepTD alone": DeepTDRegressor(kernel_sizes, refine=False, random_state=0),
    "DeepTD + refinement": DeepTDRegressor(kernel_sizes, random_state=0),
}
recovery = {name: [] for name in streams}
batches = [planted.sample(batch_size, random_state=batch) for batch in range(n_batches)]
for X_batch, y_batch in batches:
    for name, model in streams.items():
        model.partial_fit(X_batch, y_batch)
        recovery[name].append(
            kernel_correlation(planted.kernels_, model.kernels_)[:, 0]
        )
recovery = {name: np.array(values) for name, values in recovery.items()}
seen = batch_size * np.arange(1, n_batches + 1)

# %%
# The same estimate as one fit on everything
# ------------------------------------------
# The accumulated moment is exact, so the streamed DeepTD kernels match those of
# a single ``fit`` on the concatenated batches.
X_all = np.vstack([X for X, _ in batches])
y_all = np.concatenate([y for _, y in batches])
batch_fit = DeepTDRegressor(kernel_sizes, refine=False, random_state=0).fit(
    X_all, y_all
)
streamed = streams["DeepTD alone"]
for layer, (a, b) in enumerate(zip(streamed.td_kernels_, batch_fit.td_kernels_)):
    print(f"layer {layer + 1}: |cos(streamed, batch fit)| = {abs(a[0] @ b[0]):.6f}")
for name in streams:
    print(f"{name:20s} final recovery:", recovery[name][-1].round(3))

# %%
# Recovery as the stream goes on
# ------------------------------
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
for ax, name in zip(axes, streams):
    for layer in range(len(kernel_sizes)):
        ax.plot(seen, recovery[name][:, layer], "o-", ms=3, label=f"layer {layer + 1}")
    ax.set_title(name)
    ax.set_xlabel("rows seen")
    ax.grid(alpha=0.3)
axes[0].set_ylabel("|cos(true, learned)|")
axes[1].legend(loc="lower right")
fig.tight_layout()
plt.show()
