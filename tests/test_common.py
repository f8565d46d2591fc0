"""scikit-learn's estimator checks, on the defaults and on non-default settings.

Every expected failure is listed in ``expected_failed_checks`` with its reason.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_deeptd import DeepTDClassifier, DeepTDRegressor

# The suite runs with -W error: on the checks' small arbitrary data sets every
# fit converges within the default max_iter=300, with no ConvergenceWarning.
ESTIMATORS = [
    DeepTDRegressor(),
    DeepTDRegressor(activation="tanh"),
    DeepTDRegressor(rank=2),
    DeepTDRegressor(refine=False),
    DeepTDClassifier(),
    DeepTDClassifier(activation="tanh"),
    DeepTDClassifier(rank=2),
    DeepTDClassifier(refine=False),
    DeepTDClassifier(class_weight="balanced"),
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


# DeepTDClassifier's, each measured on the check's own data:
ONE_FEATURE_REASON = (
    "rank 1 gives every class one shared feature (the branch output), so the "
    "classes are ordered along one direction: on the check's three 2-D blobs "
    "the training accuracy is 0.74-0.78 (rank 2: 0.93), below its 0.83"
)
DEAD_BY_DESIGN_REASON = (
    "class weights of 1000 against 1e-4 make the constant model (always class "
    "0) optimal; the refinement reaches it and the fit warns, as it must, that "
    "the refined network is constant (the suite turns warnings into errors); "
    "with the warning ignored the check passes"
)
LOG_LOSS_TOLERANCE_REASON = (
    "L-BFGS stops the log-loss (which has no zero floor) on its relative "
    "decrease, tol=1e-7; weighted rows and repeated rows start it from points "
    "that differ by rounding, and the probabilities then agree to about 1e-5, "
    "not the check's 1e-7"
)
BALANCED_STREAM_REASON = (
    "class_weight='balanced' needs the class counts of all the data, which "
    "partial_fit sees batch by batch: it raises NotImplementedError, which "
    "this check (unlike check_estimators_partial_fit_n_features) does not "
    "accept"
)


def expected_failed_checks(estimator):
    if not isinstance(estimator, DeepTDClassifier):
        if estimator.activation == "tanh":
            return {
                "check_sample_weight_equivalence_on_dense_data": INTERPOLATION_REASON
            }
        return {}
    failures = {"check_class_weight_classifiers": DEAD_BY_DESIGN_REASON}
    if estimator.rank == 1:
        failures["check_classifiers_train"] = ONE_FEATURE_REASON
    if estimator.refine:
        # The defaults happen to agree to 1e-7 on the check's data (XPASS).
        failures["check_sample_weight_equivalence_on_dense_data"] = (
            LOG_LOSS_TOLERANCE_REASON
        )
    if estimator.class_weight == "balanced":
        failures["check_fit_score_takes_y"] = BALANCED_STREAM_REASON
        failures["check_n_features_in_after_fitting"] = BALANCED_STREAM_REASON
    return failures


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
