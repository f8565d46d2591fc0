"""The balanced class offsets and the pairwise scale of planted logits."""

import numpy as np
import pytest
from scipy.special import softmax

import sklearn_deeptd._label_balance as label_balance
from sklearn_deeptd._label_balance import balanced_offsets, pairwise_scale


@pytest.mark.parametrize("temperature", [1.0, 0.15, 0.01])
def test_balanced_offsets(temperature):
    rng = np.random.RandomState(0)
    # Classes far apart in their mean logits, one of them rarely on top.
    logits = rng.standard_normal((500, 4)) * [1.0, 0.5, 2.0, 0.1] + [0, 9, -6, 3]
    offsets = balanced_offsets(logits, temperature)
    assert offsets.sum() == pytest.approx(0.0, abs=1e-9)
    probabilities = softmax((logits - offsets) / temperature, axis=1)
    np.testing.assert_allclose(probabilities.mean(axis=0), 0.25, rtol=1e-8)


def test_balanced_offsets_where_newton_steps_stall(monkeypatch):
    # One branch, 30 rows, classes' mean logits far apart: some Newton step
    # fails to descend and the fixed-point step takes over.
    rng = np.random.RandomState(135)
    logits = rng.standard_normal((30, 1)) * rng.standard_normal(4)
    logits += 50 * rng.standard_normal(4)
    logits /= pairwise_scale(logits)
    calls = []
    log_softmax = label_balance.log_softmax
    monkeypatch.setattr(
        label_balance,
        "log_softmax",
        lambda *a, **k: calls.append(1) or log_softmax(*a, **k),
    )
    offsets = balanced_offsets(logits, 0.15)
    assert calls
    probabilities = softmax((logits - offsets) / 0.15, axis=1)
    np.testing.assert_allclose(probabilities.mean(axis=0), 0.25, rtol=1e-8)


def test_balanced_offsets_of_balanced_logits_are_zero():
    # Classes exchangeable by symmetry: every permutation of one row's logits.
    rows = np.array([[0.0, 1.0, 3.0], [1.0, 3.0, 0.0], [3.0, 0.0, 1.0]])
    np.testing.assert_allclose(balanced_offsets(rows, 0.5), 0.0, atol=1e-12)


def test_pairwise_scale_is_the_root_mean_variance_of_pairwise_differences():
    rng = np.random.RandomState(1)
    logits = rng.standard_normal((200, 4)) * [1.0, 2.0, 0.5, 3.0]
    differences = [
        logits[:, a] - logits[:, b] for a in range(4) for b in range(a + 1, 4)
    ]
    expected = np.sqrt(np.mean([np.var(d) for d in differences]))
    assert pairwise_scale(logits) == pytest.approx(expected, rel=1e-12)
    # A shift common to every class changes no difference.
    shifted = logits + rng.standard_normal((200, 1))
    assert pairwise_scale(shifted) == pytest.approx(expected, rel=1e-12)
