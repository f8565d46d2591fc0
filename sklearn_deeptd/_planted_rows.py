"""Rows of planted data: Gaussian inputs and their targets or labels.

In memory (:func:`draw_rows`), as pandas frames (:func:`as_frames`), or as
lazy dask arrays whose chunks are drawn where they are computed
(:func:`lazy_rows`).
"""

from typing import NamedTuple

import numpy as np
import pandas as pd

from ._dask import import_dask_array, normalise_chunks
from ._network import predict_network
from ._planting import bayes_labels


class PlantedRows(NamedTuple):
    """Inputs and their targets or labels."""

    X: object
    y: object


def draw_rows(rng, n_rows, network):
    """Standard Gaussian inputs and their targets or labels, all from ``rng``.

    Parameters
    ----------
    rng : RandomState
        Draws the inputs, then the noise or the labels.
    n_rows : int
        Number of rows.
    network : PlantedNetwork
        The planted network.

    Returns
    -------
    rows : PlantedRows
        ``X`` of shape ``(n_rows, n_features)``; ``y`` the network's outputs
        plus ``noise * label_std`` times standard Gaussian noise, or class
        labels following the standardised outputs (see :func:`_draw_labels`).
    """
    X = rng.standard_normal((n_rows, network.n_features))
    y = predict_network(X, network.kernels, network.weights, 0.0, network.activations)
    if network.labels is not None:
        return PlantedRows(X, _draw_labels(rng, network.decision(y), network))
    if network.noise > 0:
        y = y + network.noise * network.label_std * rng.standard_normal(y.shape)
    return PlantedRows(X, y)


def _draw_labels(rng, decision, network):
    """Labels ``0, ..., n_classes - 1``: drawn from the class probabilities
    (one uniform number a row, from ``rng``) or, for threshold labels, the
    most probable class (no draw)."""
    if network.labels == "threshold":
        return bayes_labels(decision)
    uniform = rng.random_sample(decision.shape[0])
    probabilities = network.class_probabilities(decision)
    if decision.ndim == 1:
        return (uniform < probabilities[:, 1]).astype(np.int64)
    cumulative = np.cumsum(probabilities, axis=1)
    return np.sum(uniform[:, None] >= cumulative[:, :-1], axis=1).astype(np.int64)


def as_frames(rows):
    """Rows as pandas objects.

    Parameters
    ----------
    rows : PlantedRows
        Arrays from :func:`draw_rows`.

    Returns
    -------
    frames : PlantedRows
        ``X`` a DataFrame with columns ``x0, x1, ...``; ``y`` a Series named
        ``"y"``, or a DataFrame with columns ``y0, y1, ...`` for several
        targets.
    """
    X, y = rows
    X = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    if y.ndim == 2:
        return PlantedRows(
            X, pd.DataFrame(y, columns=[f"y{i}" for i in range(y.shape[1])])
        )
    return PlantedRows(X, pd.Series(y, name="y"))


def _draw_chunk(n_rows, seed, network):
    """Rows of one chunk, from the chunk's own seed, drawn on the worker."""
    return draw_rows(np.random.RandomState(seed), n_rows, network)


def lazy_rows(rng, n_rows, chunks, network):
    """Rows as lazy dask arrays, each chunk drawn from its own seed.

    Parameters
    ----------
    rng : RandomState
        Draws one base seed; chunk ``i`` is drawn from ``[base_seed, i]``.
    n_rows : int
        Number of rows.
    chunks : int or tuple of int
        Rows per chunk, or the chunks' sizes.
    network : PlantedNetwork
        The planted network.

    Returns
    -------
    rows : PlantedRows
        ``X`` and ``y`` as dask arrays of the same row chunks.
    """
    dask, da = import_dask_array("PlantedCNNDataset.sample(chunks=...)")
    sizes = normalise_chunks(chunks, n_rows)
    base_seed = int(rng.randint(2**31 - 1))
    n_features = network.n_features
    if network.labels is None:
        targets, dtype = network.weights.shape[1:], np.float64
    else:
        targets, dtype = (), np.int64
    X_blocks, y_blocks = [], []
    for index, size in enumerate(sizes):
        pair = dask.delayed(_draw_chunk, nout=2, pure=True)(
            size, [base_seed, index], network
        )
        X_blocks.append(da.from_delayed(pair[0], (size, n_features), dtype=np.float64))
        y_blocks.append(da.from_delayed(pair[1], (size, *targets), dtype=dtype))
    return PlantedRows(da.concatenate(X_blocks, axis=0), da.concatenate(y_blocks))
