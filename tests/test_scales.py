"""Overflow-safe norms and scales: sample weights, row norms, the input scale."""

import numpy as np
import pytest

from sklearn_deeptd._scales import (
    input_scale,
    normalised_sample_weight,
    stable_norm,
    weighted_rms_row_norm,
)

# Powers of two: scaling by them is exact, so equivariance holds to one rounding.
POWERS = [2.0**-1000, 2.0**-600, 2.0**-100, 1.0, 2.0**100, 2.0**600, 2.0**1000]


def test_weights_near_the_largest_float_normalise_to_equal_shares():
    # Their plain sum overflows to inf, which would make every share 0.
    with np.errstate(all="raise"):
        shares = normalised_sample_weight(np.full(7, 1e308))
    np.testing.assert_allclose(shares, 1 / 7, rtol=1e-15)
    assert shares.sum() == pytest.approx(1.0, rel=1e-15)
    np.testing.assert_array_equal(
        normalised_sample_weight(np.array([1e308, 0.0, 1e-300])), [1.0, 0.0, 0.0]
    )
    weight = np.random.RandomState(0).uniform(0, 2, 10)
    np.testing.assert_allclose(
        normalised_sample_weight(weight), weight / weight.sum(), rtol=1e-15
    )


@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1.0, 1e200, 1e300])
def test_stable_norm_neither_overflows_nor_underflows(scale):
    with np.errstate(all="raise"):
        norm = stable_norm(np.array([3.0, -4.0, 0.0]) * scale)
    assert norm == pytest.approx(5.0 * scale, rel=1e-15)


def test_stable_norm_of_nothing_is_zero():
    assert stable_norm(np.zeros(3)) == 0.0
    assert stable_norm(np.zeros(0)) == 0.0
    assert stable_norm(np.zeros((2, 2))) == 0.0


def _rows(seed=0, n=50, p=6):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, p))
    return X, normalised_sample_weight(rng.uniform(0.5, 1.5, n))


def test_weighted_rms_row_norm_is_its_definition():
    X, weight = _rows()
    expected = np.sqrt(weight @ np.sum(X**2, axis=1))
    assert weighted_rms_row_norm(X, weight) == pytest.approx(expected, rel=1e-15)
    assert weighted_rms_row_norm(np.zeros((4, 3)), np.full(4, 0.25)) == 0.0


@pytest.mark.parametrize("scale", POWERS)
def test_weighted_rms_row_norm_is_scale_equivariant(scale):
    X, weight = _rows()
    reference = weighted_rms_row_norm(X, weight)
    got = weighted_rms_row_norm(X * scale, weight)
    assert got == pytest.approx(reference * scale, rel=1e-15)


def test_input_scale_is_the_weighted_rms_entry():
    X, weight = _rows(1, n=300, p=8)
    raw_weight = weight * 1e308  # the scale normalises the weights itself
    expected = np.sqrt(weight @ np.sum(X**2, axis=1) / 8)
    assert input_scale(X, raw_weight) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("scale", POWERS)
def test_input_scale_is_scale_equivariant(scale):
    X, weight = _rows(2, n=2000, p=12)
    expected = input_scale(X, weight) * scale
    assert input_scale(X * scale, weight) == pytest.approx(expected, rel=1e-15)


def test_input_scale_of_zero_empty_or_non_finite_rows_is_one():
    assert input_scale(np.zeros((5, 3)), np.ones(5)) == 1.0
    assert input_scale(np.zeros((0, 3)), np.ones(0)) == 1.0
    assert input_scale(np.zeros((5, 0)), np.ones(5)) == 1.0
    X, weight = _rows(3)
    for bad in (np.nan, np.inf):
        X_bad = X.copy()
        X_bad[4, 2] = bad
        # The finiteness check of the moment reports these, not the scale.
        with np.errstate(all="raise"):
            assert input_scale(X_bad, weight) == 1.0


def test_input_scale_looks_at_every_row_when_the_evenly_spaced_ones_are_zero():
    # Found in review: every fifth of 3000 rows zero, and the ~512 evenly
    # spaced rows were exactly those: the scale fell back to 1.0 and a fit of
    # X * 1e-20 predicted the mean.
    X, weight = _rows(4, n=3000, p=12)
    X[::5] = 0.0
    expected = np.sqrt(weight @ np.sum(X**2, axis=1) / 12 / weight.sum())
    assert input_scale(X, weight) == pytest.approx(expected, rel=1e-14)
    assert input_scale(X * 1e-20, weight) == pytest.approx(expected * 1e-20, rel=1e-14)
