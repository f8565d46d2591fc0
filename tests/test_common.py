"""scikit-learn's estimator checks, on the defaults and on non-default settings."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_deeptd import DeepTDRegressor

# The suite runs with -W error: on the checks' small arbitrary data sets every
# fit converges within the default max_iter=300, with no ConvergenceWarning.
ESTIMATORS = [
    DeepTDRegressor(),
    DeepTDRegressor(activation="tanh"),
    DeepTDRegressor(rank=2),
    DeepTDRegressor(refine=False),
]

# The one check that cannot apply, and why. Its data has 11 samples of non-zero
# weight in 30 features, and a (5, 3, 2) tanh network has 12 parameters: the
# refined network interpolates them (training loss ~1e-13), the interpolating
# networks form a continuum, and the check compares predictions on the samples of
# weight zero, where two members of that continuum may differ. Which member
# each fit reaches is a matter of rounding (the weighted rows come shuffled):
# on the check's own data the two agree at present (it reports XPASS), and on
# 13 of 20 other draws of the same shape they do not. The weighted and repeated
# fits agree on the samples they were fitted on, and agree to 1e-9 or better
# everywhere once the minimiser is unique:
# tests/test_estimator.py::test_integer_weights_equal_repeated_rows.
INTERPOLATION_REASON = (
    "non-unique least-squares minimiser: the tanh network interpolates the 11 "
    "weighted samples, so predictions on zero-weight samples are not determined"
)


def expected_failed_checks(estimator):
    if estimator.activation == "tanh":
        return {"check_sample_weight_equivalence_on_dense_data": INTERPOLATION_REASON}
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
