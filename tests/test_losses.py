"""The loss heads: values against their textbook formulas, gradients against
finite differences, no overflow at huge logits, and the same numbers in every
namespace."""

import numpy as np
import pytest
import sklearn
from scipy.special import expit, log_softmax
from scipy.special import softmax as scipy_softmax
from test_array_api import NAMESPACES, _setup

from sklearn_deeptd._losses import (
    BINARY_LOG_LOSS,
    LOSSES,
    MULTINOMIAL_LOG_LOSS,
    SQUARED_ERROR,
    binary_log_loss,
    log_loss_head,
    multinomial_log_loss,
    sigmoid,
    softmax,
    squared_error,
)


def _problem(loss, n_outputs, n_samples=30, seed=0):
    """Outputs, targets of the kind the head takes, and weights summing to one."""
    rng = np.random.RandomState(seed)
    shape = (n_samples,) if n_outputs is None else (n_samples, n_outputs)
    Z = 2 * rng.standard_normal(shape)
    if loss == "squared_error":
        targets = rng.standard_normal(shape)
    elif loss == "binary_log_loss":
        targets = rng.randint(0, 2, n_samples).astype(float)
    else:
        targets = np.eye(n_outputs)[rng.randint(0, n_outputs, n_samples)]
    weight = rng.uniform(0.5, 1.5, n_samples)
    return Z, targets, weight / weight.sum()


HEAD_CASES = [
    ("squared_error", None),
    ("squared_error", 3),
    ("binary_log_loss", None),
    ("multinomial_log_loss", 4),
]


@pytest.mark.parametrize("loss, n_outputs", HEAD_CASES)
def test_head_gradient_matches_finite_differences(loss, n_outputs):
    Z, targets, weight = _problem(loss, n_outputs)
    head = LOSSES[loss]
    _, gradient = head.loss_and_gradient(Z, targets, weight)
    assert gradient.shape == Z.shape
    # Rounding in the differences is about 1e-16 * loss / step.
    step = 1e-5
    numerical = np.empty(Z.size)
    for i in range(Z.size):
        delta = np.zeros(Z.size)
        delta[i] = step
        delta = delta.reshape(Z.shape)
        plus, _ = head.loss_and_gradient(Z + delta, targets, weight)
        minus, _ = head.loss_and_gradient(Z - delta, targets, weight)
        numerical[i] = (plus - minus) / (2 * step)
    np.testing.assert_allclose(gradient.ravel(), numerical, rtol=1e-6, atol=1e-9)


def test_heads_equal_their_textbook_formulas():
    Z, y, weight = _problem("squared_error", 3)
    loss, _ = squared_error(Z, y, weight)
    assert float(loss) == pytest.approx(0.5 * weight @ np.sum((Z - y) ** 2, axis=1))

    Z, y, weight = _problem("binary_log_loss", None)
    p = expit(Z)
    loss, gradient = binary_log_loss(Z, y, weight)
    expected = -weight @ (y * np.log(p) + (1 - y) * np.log(1 - p))
    assert float(loss) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(gradient, weight * (p - y), rtol=1e-12)

    Z, y, weight = _problem("multinomial_log_loss", 4)
    loss, gradient = multinomial_log_loss(Z, y, weight)
    expected = -weight @ np.sum(y * log_softmax(Z, axis=1), axis=1)
    assert float(loss) == pytest.approx(expected, rel=1e-12)
    expected_gradient = weight[:, None] * (scipy_softmax(Z, axis=1) - y)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-12, atol=1e-16)


def test_log_losses_stay_finite_and_exact_at_huge_logits():
    weight = np.full(4, 0.25)
    Z = np.array([800.0, -800.0, 1e300, -1e300])
    loss, gradient = binary_log_loss(Z, np.array([1.0, 1.0, 1.0, 0.0]), weight)
    # Only the wrong, confident second row costs: log(1 + e^800) = 800.
    assert float(loss) == 0.25 * 800.0
    np.testing.assert_array_equal(gradient, [0.0, -0.25, 0.0, 0.0])

    Z = np.array([[1000.0, 0.0, -1000.0], [1e300, 0.0, 1e300]])
    y = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    loss, gradient = multinomial_log_loss(Z, y, np.array([0.5, 0.5]))
    # Row 1: 2000 to the planted class; row 2: two tied classes, log 2.
    assert float(loss) == pytest.approx(0.5 * 2000.0 + 0.5 * np.log(2), rel=1e-15)
    np.testing.assert_allclose(gradient, [[0.5, 0, -0.5], [-0.25, 0, 0.25]])


def test_a_confident_right_logit_costs_its_tiny_loss():
    # log(1 + e^-40) = 4.2e-18: the form log(1 + e^z) - y z would give 0.
    loss, _ = binary_log_loss(np.array([40.0]), np.array([1.0]), np.array([1.0]))
    assert float(loss) == pytest.approx(np.exp(-40.0), rel=1e-12)


def test_links():
    Z = np.array([[-1e308, 0.0, 3.0], [800.0, -800.0, 1.0]])
    np.testing.assert_allclose(sigmoid(Z), expit(Z), rtol=1e-15)
    probability = softmax(Z)
    np.testing.assert_allclose(probability, scipy_softmax(Z, axis=1), rtol=1e-15)
    np.testing.assert_allclose(probability.sum(axis=1), 1.0, rtol=1e-15)


def test_shapes_a_head_does_not_take_are_refused():
    with pytest.raises(ValueError, match="binary_log_loss loss takes .* 1 axes"):
        BINARY_LOG_LOSS.check_output_ndim(2)
    with pytest.raises(ValueError, match="multinomial_log_loss loss takes .* 2 axes"):
        MULTINOMIAL_LOG_LOSS.check_output_ndim(1)
    SQUARED_ERROR.check_output_ndim(1)
    SQUARED_ERROR.check_output_ndim(2)


def test_heads_say_what_they_can_do():
    assert SQUARED_ERROR.standardises_targets
    assert SQUARED_ERROR.closed_form_output_layer and SQUARED_ERROR.gauss_newton
    for head in (BINARY_LOG_LOSS, MULTINOMIAL_LOG_LOSS):
        assert not head.standardises_targets
        assert not head.closed_form_output_layer and not head.gauss_newton
    assert log_loss_head(2) is BINARY_LOG_LOSS
    assert log_loss_head(3) is MULTINOMIAL_LOG_LOSS
    assert SQUARED_ERROR.constant_prediction == "the mean of y"
    assert BINARY_LOG_LOSS.constant_prediction == "the class priors"


@pytest.mark.parametrize("head", [SQUARED_ERROR, BINARY_LOG_LOSS, MULTINOMIAL_LOG_LOSS])
def test_the_constant_intercept_predicts_the_mean_of_the_targets(head):
    mean = np.array([0.2, 0.3, 0.5]) if head is MULTINOMIAL_LOG_LOSS else np.array(0.3)
    intercept = head.constant_intercept(mean)
    np.testing.assert_allclose(head.inverse_link(intercept[None, ...])[0], mean)


def test_class_probabilities_and_their_logarithms():
    Z = np.array([-800.0, -3.0, 0.0, 2.0, 800.0])
    probability = BINARY_LOG_LOSS.class_probabilities(Z)
    np.testing.assert_allclose(probability[:, 1], expit(Z), rtol=1e-15)
    np.testing.assert_allclose(probability.sum(axis=1), 1.0, rtol=1e-15)
    log_probability = BINARY_LOG_LOSS.class_log_probabilities(Z)
    expected = np.c_[-np.logaddexp(0, Z), -np.logaddexp(0, -Z)]
    np.testing.assert_allclose(log_probability, expected, rtol=1e-15)
    Z = np.array([[-1e308, 0.0, 3.0], [800.0, -800.0, 1.0]])
    np.testing.assert_allclose(
        MULTINOMIAL_LOG_LOSS.class_log_probabilities(Z), log_softmax(Z, axis=1)
    )
    np.testing.assert_allclose(
        MULTINOMIAL_LOG_LOSS.class_probabilities(Z), scipy_softmax(Z, axis=1)
    )


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("loss, n_outputs", HEAD_CASES)
def test_heads_and_links_run_in_the_input_namespace(name, loss, n_outputs):
    xp, asarray, to_numpy = _setup(name)
    Z, targets, weight = _problem(loss, n_outputs)
    head = LOSSES[loss]
    expected_loss, expected_gradient = head.loss_and_gradient(Z, targets, weight)
    with sklearn.config_context(array_api_dispatch=True):
        got_loss, got_gradient = head.loss_and_gradient(
            asarray(Z), asarray(targets), asarray(weight)
        )
        link = head.inverse_link(asarray(Z))
    assert type(got_gradient) is type(asarray(Z))
    assert type(link) is type(asarray(Z))
    assert float(got_loss) == pytest.approx(float(expected_loss), rel=1e-12)
    np.testing.assert_allclose(
        to_numpy(got_gradient), expected_gradient, rtol=1e-10, atol=1e-15
    )
    np.testing.assert_allclose(
        to_numpy(link), head.inverse_link(Z), rtol=1e-10, atol=1e-15
    )
