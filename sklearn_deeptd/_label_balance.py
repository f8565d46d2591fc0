"""Class offsets that balance a softmax: the label head of planted classes.

A planted network of more than two classes standardises its logits by their
pairwise scale (:func:`pairwise_scale`) and shifts them by offsets under
which every class has the same mean probability (:func:`balanced_offsets`).
"""

import numpy as np
from scipy.special import log_softmax, logsumexp, softmax

# Offsets balance the softmax at no lower temperature than this (a sharp
# argmax already: balancing it is a non-smooth problem).
MIN_BALANCE_TEMPERATURE = 0.01
_TOLERANCE = 1e-9
_COARSE_TOLERANCE = 1e-2
_MAX_STEPS = 100


def pairwise_scale(logits):
    """Root mean variance of the difference of two classes' logits.

    The mean is over the pairs of classes: ``sum_{c < c'} (a_c - a_c')^2 =
    K sum_c (a_c - mean a)^2`` gives it from the logits centred over the
    classes.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_classes)
        Logits of at least two classes.

    Returns
    -------
    scale : float
        The root mean variance of ``logits[:, c] - logits[:, c']`` over the
        pairs ``c < c'``.
    """
    n_classes = logits.shape[1]
    centred = logits - np.mean(logits, axis=1, keepdims=True)
    mean_variance = np.mean(np.var(centred, axis=0))
    return float(np.sqrt(2.0 * n_classes / (n_classes - 1) * mean_variance))


def _dual(logits, offsets, temperature):
    return temperature * np.mean(
        logsumexp((logits - offsets) / temperature, axis=1)
    ) + np.mean(offsets)


def balanced_offsets(logits, temperature):
    """Offsets under which every class has the same mean softmax probability.

    The offsets ``a`` minimise the convex ``mean_i T logsumexp((logits_i - a)
    / T) + mean(a)``, whose gradient is ``1 / K`` minus the mean
    probabilities: damped Newton steps from the classes' mean logits, at
    temperatures halved from 1 down to ``temperature`` (each solved coarsely
    but the last), each started from the offsets of the one before. Where a
    Newton step does not descend (nearly one-hot probabilities make the
    Hessian nearly singular), a fixed-point step ``a += T log(K * mean
    probabilities)`` replaces it.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_classes)
        Logits of ``K = n_classes`` classes.
    temperature : float
        Temperature ``T`` of the softmax.

    Returns
    -------
    offsets : ndarray of shape (n_classes,)
        Offsets summing to zero, with which every class has mean probability
        ``1 / K`` under ``softmax((logits - offsets) / temperature)``.
    """
    n_rows, n_classes = logits.shape
    offsets = np.mean(logits, axis=0)
    temperatures = [t for t in 2.0 ** -np.arange(60) if t > temperature]
    for current in [*temperatures, temperature]:
        tolerance = _TOLERANCE if current == temperature else _COARSE_TOLERANCE
        for _ in range(_MAX_STEPS):
            probabilities = softmax((logits - offsets) / current, axis=1)
            mean = np.mean(probabilities, axis=0)
            if np.max(np.abs(n_classes * mean - 1.0)) < tolerance:
                break
            gradient = 1.0 / n_classes - mean
            hessian = (
                np.diag(mean) - probabilities.T @ probabilities / n_rows
            ) / current
            # The Hessian is singular along (1, ..., 1), where the dual is flat.
            step = -np.linalg.lstsq(
                hessian + np.ones((n_classes, n_classes)) / n_classes,
                gradient,
                rcond=None,
            )[0]
            start = _dual(logits, offsets, current)
            length = 1.0
            while (
                _dual(logits, offsets + length * step, current)
                > start + 1e-4 * length * (gradient @ step)
                and length > 1e-3
            ):
                length /= 2
            if length > 1e-3:
                offsets = offsets + length * step
            else:
                log_probabilities = log_softmax((logits - offsets) / current, axis=1)
                log_mean = logsumexp(log_probabilities, axis=0) - np.log(n_rows)
                offsets = offsets + current * (log_mean + np.log(n_classes))
    return offsets - np.mean(offsets)
