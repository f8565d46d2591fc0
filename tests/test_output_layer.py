"""The output layer alone: weighted (ridge) least squares, and the
log-losses' convex fit against LogisticRegression."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from sklearn_deeptd._losses import LOSSES
from sklearn_deeptd._output_layer import fit_output_weights


def test_output_weights_are_weighted_least_squares():
    rng = np.random.RandomState(0)
    outputs = rng.standard_normal((30, 2))
    y = outputs @ [1.5, -2.0] + 0.7 + 0.1 * rng.standard_normal(30)
    weight = rng.uniform(0.5, 1.5, 30)
    weight /= weight.sum()
    weights, intercept = fit_output_weights(
        outputs, y, weight, head=LOSSES["squared_error"]
    )
    design = np.c_[np.ones(30), outputs] * np.sqrt(weight)[:, None]
    expected = np.linalg.lstsq(design, y * np.sqrt(weight), rcond=None)[0]
    np.testing.assert_allclose(np.r_[intercept, weights], expected, rtol=1e-12)
    # Two equal branches: the minimum-norm solution splits the weight evenly.
    twin = np.c_[outputs[:, 0], outputs[:, 0]]
    weights, _ = fit_output_weights(
        twin, outputs[:, 0] * 3.0, weight, head=LOSSES["squared_error"]
    )
    np.testing.assert_allclose(weights, [1.5, 1.5], rtol=1e-10)


def test_least_squares_output_weights():
    rng = np.random.RandomState(6)
    outputs = rng.standard_normal((50, 3))
    targets = rng.standard_normal((50, 2))
    weight = rng.uniform(0.5, 1.5, 50)
    weight /= weight.sum()

    def least_squares(target):
        design = np.c_[np.ones(50), outputs] * np.sqrt(weight)[:, None]
        coef = np.linalg.lstsq(design, target * np.sqrt(weight), rcond=None)[0]
        return coef[1:], coef[0]

    # One target: weighted least squares.
    weights, intercept = fit_output_weights(
        outputs, targets[:, 0], weight, head=LOSSES["squared_error"]
    )
    expected = least_squares(targets[:, 0])
    np.testing.assert_allclose(weights, expected[0], rtol=1e-12)
    np.testing.assert_allclose(intercept, expected[1], rtol=1e-12)
    # Several targets: one least-squares problem per column.
    weights, intercept = fit_output_weights(
        outputs, targets, weight, head=LOSSES["squared_error"]
    )
    for column in range(2):
        expected = least_squares(targets[:, column])
        np.testing.assert_allclose(weights[:, column], expected[0], rtol=1e-12)
        np.testing.assert_allclose(intercept[column], expected[1], rtol=1e-12)
    # Ridge: the normal equations of the centred problem, intercept unpenalised.
    weights, intercept = fit_output_weights(
        outputs, targets, weight, head=LOSSES["squared_error"], alpha=0.2
    )
    centred = outputs - weight @ outputs
    gram = centred.T @ (weight[:, None] * centred) + 0.2 * np.eye(3)
    expected = np.linalg.solve(gram, centred.T @ (weight[:, None] * targets))
    np.testing.assert_allclose(weights, expected, rtol=1e-10)
    np.testing.assert_allclose(
        intercept, weight @ targets - (weight @ outputs) @ expected, rtol=1e-10
    )


@pytest.mark.parametrize("n_classes", [2, 3])
def test_log_loss_output_weights_equal_logistic_regression(n_classes):
    # LogisticRegression minimises 0.5 ||W||^2 + C sum_i s_i loss_i: with
    # weights s summing to one, C = 1 / alpha gives the same optimum.
    rng = np.random.RandomState(7)
    outputs = rng.standard_normal((300, 3))
    logits = outputs @ rng.standard_normal((3, n_classes))
    labels = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
    weight = rng.uniform(0.5, 1.5, 300)
    weight /= weight.sum()
    alpha = 0.05
    reference = LogisticRegression(C=1 / alpha, tol=1e-12, max_iter=10_000)
    reference.fit(outputs, labels, sample_weight=weight)
    if n_classes == 2:
        weights, intercept = fit_output_weights(
            outputs,
            labels.astype(float),
            weight,
            head=LOSSES["binary_log_loss"],
            alpha=alpha,
        )
        np.testing.assert_allclose(weights, reference.coef_[0], rtol=1e-6)
        np.testing.assert_allclose(intercept, reference.intercept_[0], rtol=1e-6)
        return
    weights, intercept = fit_output_weights(
        outputs,
        np.eye(n_classes)[labels],
        weight,
        head=LOSSES["multinomial_log_loss"],
        alpha=alpha,
    )
    np.testing.assert_allclose(weights, reference.coef_.T, rtol=1e-6, atol=1e-8)
    # The intercepts are defined up to a common shift.
    np.testing.assert_allclose(
        intercept - intercept.mean(),
        reference.intercept_ - reference.intercept_.mean(),
        rtol=1e-6,
        atol=1e-8,
    )


def _separable(n_samples=200, seed=3):
    rng = np.random.RandomState(seed)
    outputs = rng.standard_normal((n_samples, 2))
    y = (outputs[:, 0] + outputs[:, 1] > 0).astype(float)
    return outputs, y, np.full(n_samples, 1 / n_samples)


def test_alpha_keeps_separable_weights_finite():
    outputs, y, weight = _separable()
    free, _ = fit_output_weights(
        outputs, y, weight, head=LOSSES["binary_log_loss"], max_iter=200
    )
    held, _ = fit_output_weights(
        outputs, y, weight, head=LOSSES["binary_log_loss"], alpha=0.01
    )
    # Without a penalty the weights run off along the separating direction.
    assert np.linalg.norm(free) > 10 * np.linalg.norm(held)
    # At the penalised optimum 0.5 alpha ||w||^2 < the loss at zero, log 2.
    assert 0.005 * held @ held < np.log(2)
