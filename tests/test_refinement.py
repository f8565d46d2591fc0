"""The refinement: the loss's gradient against finite differences, the parameter
vector, what L-BFGS adds to the DeepTD estimate, the log-losses and their
penalty, and the output layer fitted alone."""

import numpy as np
import pytest
import sklearn
from scipy.optimize import minimize
from test_array_api import NAMESPACES, _setup

import sklearn_deeptd._network as network_module
import sklearn_deeptd._refinement as refinement_module
from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset, kernel_correlation
from sklearn_deeptd._activations import resolve_activations
from sklearn_deeptd._losses import LOSSES, SQUARED_ERROR
from sklearn_deeptd._network import (
    Network,
    backward,
    forward,
    forward_pass,
    pack,
    random_unit_kernels,
    row_blocks,
    scaled_block,
    unpack,
)
from sklearn_deeptd._refinement import (
    gauss_newton_system,
    loss_and_gradient,
    refine,
    uses_gauss_newton,
)
from sklearn_deeptd._subsample import Rows

SIZES = (2, 3, 2)

# (loss, number of outputs: None for outputs of shape (n,)).
LOSS_CASES = [
    ("squared_error", None),
    ("squared_error", 3),
    ("binary_log_loss", None),
    ("multinomial_log_loss", 3),
]


def _targets(loss, n_outputs, rng, n_samples):
    if loss == "squared_error":
        shape = (n_samples,) if n_outputs is None else (n_samples, n_outputs)
        return rng.standard_normal(shape)
    if loss == "binary_log_loss":
        return rng.randint(0, 2, n_samples).astype(float)
    return np.eye(n_outputs)[rng.randint(0, n_outputs, n_samples)]


def _problem(loss, n_outputs, rank, seed=1, n_samples=40):
    """Rows, a parameter vector and the kernels' shapes."""
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, int(np.prod(SIZES))))
    targets = _targets(loss, n_outputs, rng, n_samples)
    sample_weight = rng.uniform(0.5, 1.5, n_samples)
    sample_weight /= sample_weight.sum()
    kernels = [rng.standard_normal((rank, d)) for d in SIZES]
    output_shape = () if n_outputs is None else (n_outputs,)
    weights = rng.standard_normal((rank,) + output_shape)
    intercept = 0.3 if n_outputs is None else rng.standard_normal(n_outputs)
    theta = pack(kernels, weights, intercept)
    return X, targets, sample_weight, theta, [k.shape for k in kernels]


@pytest.mark.parametrize(
    "hidden, output",
    [
        ("relu", "identity"),
        ("tanh", "sigmoid"),
        ("leaky_relu", "relu"),
        ("softplus", "tanh"),
        ("sigmoid", "softplus"),
        ("identity", "leaky_relu"),
    ],
)
@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("loss, n_outputs", LOSS_CASES)
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_gradient_matches_finite_differences(
    hidden, output, rank, loss, n_outputs, alpha
):
    activations = resolve_activations(hidden, output, len(SIZES))
    X, targets, weight, theta, shapes = _problem(loss, n_outputs, rank)
    setting = dict(head=LOSSES[loss], alpha=alpha)
    _, gradient = loss_and_gradient(
        theta, X, targets, weight, shapes, activations, **setting
    )
    step = 1e-6
    numerical = np.empty_like(theta)
    for i in range(theta.size):
        delta = np.zeros_like(theta)
        delta[i] = step
        plus, _ = loss_and_gradient(
            theta + delta, X, targets, weight, shapes, activations, **setting
        )
        minus, _ = loss_and_gradient(
            theta - delta, X, targets, weight, shapes, activations, **setting
        )
        numerical[i] = (plus - minus) / (2 * step)
    np.testing.assert_allclose(gradient, numerical, rtol=1e-5, atol=1e-7)


def _outputs(theta, X, shapes, activations, output_shape):
    kernels, weights, intercept = unpack(theta, shapes, output_shape)
    return forward(X, kernels, activations) @ weights + intercept


@pytest.mark.parametrize("hidden, output", [("relu", "identity"), ("tanh", "relu")])
@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("n_outputs", [None, 3])
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_gauss_newton_system_matches_finite_differences(
    hidden, output, rank, n_outputs, alpha
):
    # Its loss and gradient are loss_and_gradient's; its matrix is J^T W J
    # (plus alpha on the penalised diagonal), J the outputs' Jacobian by
    # central differences.
    activations = resolve_activations(hidden, output, len(SIZES))
    X, targets, weight, theta, shapes = _problem("squared_error", n_outputs, rank)
    setting = dict(alpha=alpha, x_divisor=2.0)
    loss, gradient, matrix = gauss_newton_system(
        theta, X, targets, weight, shapes, activations, **setting
    )
    expected_loss, expected_gradient = loss_and_gradient(
        theta, X, targets, weight, shapes, activations, **setting
    )
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-10, atol=1e-13)
    output_shape = () if n_outputs is None else (n_outputs,)
    step = 1e-6
    columns = []
    for i in range(theta.size):
        delta = np.zeros_like(theta)
        delta[i] = step
        plus = _outputs(theta + delta, X / 2.0, shapes, activations, output_shape)
        minus = _outputs(theta - delta, X / 2.0, shapes, activations, output_shape)
        columns.append(np.reshape((plus - minus) / (2 * step), (-1,)))
    jacobian = np.stack(columns, axis=1)
    row_weight = weight if n_outputs is None else np.repeat(weight, n_outputs)
    expected = jacobian.T @ (row_weight[:, None] * jacobian)
    n_intercepts = 1 if n_outputs is None else n_outputs
    penalised = np.arange(theta.size - n_intercepts)
    expected[penalised, penalised] += alpha
    np.testing.assert_allclose(matrix, expected, rtol=1e-5, atol=1e-8)


def _lbfgs_only(monkeypatch):
    monkeypatch.setattr(refinement_module, "GAUSS_NEWTON_COST", 0)


@pytest.mark.parametrize("n_outputs", [None, 2])
def test_gauss_newton_and_lbfgs_reach_the_same_minimum(n_outputs, monkeypatch):
    # A smooth network: at a ReLU kink both stop within about 1e-6 of the
    # loss, each on its own side.
    sizes = (4, 4, 4, 4)
    planted = PlantedCNNDataset(
        kernel_sizes=sizes,
        activation="tanh",
        noise=0.3,
        n_targets=n_outputs,
        random_state=3,
    )
    X, y = planted.sample(600, random_state=4)
    activations = resolve_activations("tanh", "identity", len(sizes))
    output_shape = () if n_outputs is None else (n_outputs,)
    kernels = [np.atleast_2d(k) / np.linalg.norm(k) for k in planted.kernels_]
    start = Network(
        [0.8 * k + 0.1 for k in kernels],
        np.ones((1,) + output_shape),
        0.0 if n_outputs is None else np.zeros(n_outputs),
    )
    rows = Rows(X, y, np.full(600, 1 / 600))
    setting = dict(alpha=1e-3, max_iter=2000, tol=1e-14)
    n_parameters = pack(*start).size
    assert uses_gauss_newton(SQUARED_ERROR, n_parameters, y, X.shape[1])
    gauss_newton = refine(rows, start, activations, **setting)
    _lbfgs_only(monkeypatch)
    lbfgs = refine(rows, start, activations, **setting)
    assert gauss_newton.loss == pytest.approx(lbfgs.loss, rel=1e-9)
    assert gauss_newton.loss <= lbfgs.loss * (1 + 1e-12)
    assert gauss_newton.n_iter < lbfgs.n_iter
    assert not gauss_newton.hit_max_iter


def _deeptd_start(sizes, n_samples):
    """A noiseless planted d=2 ReLU network, its standardised-input rows, the
    DeepTD start (``refine=False``) and the activations."""
    planted = PlantedCNNDataset(kernel_sizes=sizes, random_state=0)
    X, y = planted.sample(n_samples, random_state=1)
    model = DeepTDRegressor(kernel_sizes=sizes, random_state=0, refine=False)
    model.fit(X, y)
    rows = Rows(X / model.input_scale_, y, np.full(n_samples, 1 / n_samples))
    network = Network(
        [np.asarray(k) for k in model.kernels_],
        np.asarray(model.weights_),
        float(model.intercept_),
    )
    return planted, rows, network, resolve_activations("relu", "identity", len(sizes))


def test_gauss_newton_recovers_a_deep_network_in_a_few_passes():
    # A zero residual: Gauss-Newton converges quadratically, to the planted
    # network itself, where L-BFGS crawled for tens of iterations.
    planted, rows, network, activations = _deeptd_start((2,) * 10, 1000)
    refined = refine(rows, network, activations, max_iter=300, tol=1e-7)
    assert refined.n_iter <= 15
    assert refined.loss < 1e-8
    assert min(kernel_correlation(planted.kernels_, refined.network.kernels)) > 1 - 1e-6


def test_a_singular_damped_matrix_gives_no_step():
    # ReLU's rescalings make the Gauss-Newton matrix singular: a damping that
    # underflowed to zero must not raise, the caller grows it instead.
    matrix = np.array([[1.0, 1.0], [1.0, 1.0]])
    gradient = np.array([1.0, -1.0])
    assert refinement_module._damped_step(matrix, gradient, 0.0) is None
    step = refinement_module._damped_step(matrix, gradient, 1.0)
    np.testing.assert_allclose((matrix + np.eye(2)) @ step, -gradient)


def test_gauss_newton_rejects_non_finite_points():
    # A trial point whose matrix overflows is a failed step, not an error; a
    # start that is not finite stops at once.
    target = np.array([1.0, -2.0])

    def system(theta):
        residual = theta - target
        matrix = np.eye(2) if theta[1] > -1.5 else np.full((2, 2), np.inf)
        return 0.5 * residual @ residual, residual, matrix

    stop = refinement_module._levenberg_marquardt(
        system, np.zeros(2), max_iter=100, tol=1e-7
    )
    assert np.all(np.isfinite(stop.theta)) and stop.theta[1] > -1.5
    assert stop.loss < system(np.zeros(2))[0]

    def broken(theta):
        return np.nan, np.zeros(2), np.eye(2)

    stop = refinement_module._levenberg_marquardt(
        broken, np.zeros(2), max_iter=100, tol=1e-7
    )
    assert stop.n_iter == 0 and not stop.hit_max_iter


def test_gauss_newton_converging_on_its_last_iteration_is_not_cut_short():
    # Converged at the last allowed iteration: no ConvergenceWarning.
    _, rows, network, activations = _deeptd_start((2,) * 8, 800)
    free = refine(rows, network, activations, max_iter=300, tol=1e-7)
    assert not free.hit_max_iter and free.n_iter >= 2
    exact = refine(rows, network, activations, max_iter=free.n_iter, tol=1e-7)
    assert not exact.hit_max_iter and exact.loss == free.loss
    short = refine(rows, network, activations, max_iter=1, tol=1e-7)
    assert short.hit_max_iter


def test_gauss_newton_stops_on_max_iter():
    sizes = (4, 4, 4)
    planted = PlantedCNNDataset(kernel_sizes=sizes, noise=0.3, random_state=0)
    X, y = planted.sample(300, random_state=1)
    activations = resolve_activations("relu", "identity", len(sizes))
    start = Network(
        random_unit_kernels(sizes, 1, np.random.RandomState(2)), np.ones(1), 0.0
    )
    assert uses_gauss_newton(SQUARED_ERROR, pack(*start).size, y, X.shape[1])
    rows = Rows(X, y, np.full(300, 1 / 300))
    refined = refine(rows, start, activations, max_iter=2, tol=1e-14)
    assert refined.n_iter == 2 and refined.hit_max_iter
    assert not refine(rows, start, activations, max_iter=300, tol=1e-7).hit_max_iter


@pytest.mark.parametrize(
    "loss, n_parameters, n_outputs, n_features, expected",
    [
        ("squared_error", 26, None, 4096, True),
        ("squared_error", 26, None, 512, True),
        ("squared_error", 51, None, 512, False),
        ("squared_error", 30, 3, 512, False),
        ("binary_log_loss", 10, None, 4096, False),
        ("multinomial_log_loss", 10, 3, 4096, False),
    ],
)
def test_uses_gauss_newton_when_its_matrix_is_cheap(
    loss, n_parameters, n_outputs, n_features, expected
):
    targets = np.zeros(5) if n_outputs is None else np.zeros((5, n_outputs))
    assert (
        uses_gauss_newton(LOSSES[loss], n_parameters, targets, n_features) is expected
    )


def test_alpha_penalises_kernels_and_weights_not_intercepts():
    activations = resolve_activations("relu", "identity", len(SIZES))
    X, targets, weight, theta, shapes = _problem("squared_error", 3, 2)
    plain, plain_gradient = loss_and_gradient(
        theta, X, targets, weight, shapes, activations
    )
    loss, gradient = loss_and_gradient(
        theta, X, targets, weight, shapes, activations, alpha=0.5
    )
    penalised = theta[:-3]
    assert loss == pytest.approx(plain + 0.25 * penalised @ penalised, rel=1e-14)
    np.testing.assert_allclose(gradient[:-3], plain_gradient[:-3] + 0.5 * penalised)
    np.testing.assert_array_equal(gradient[-3:], plain_gradient[-3:])


def _main_squared_loss_and_gradient(
    theta, X, y, sample_weight, kernel_shapes, activations, x_divisor=1.0
):
    """``squared_loss_and_gradient`` as it was before the loss heads (commit
    612b341), NumPy only: the single-target refinement must not move."""
    kernels, start = [], 0
    for shape in kernel_shapes:
        kernels.append(theta[start : start + shape[0] * shape[1]].reshape(shape))
        start += shape[0] * shape[1]
    weights = theta[start : start + kernel_shapes[0][0]]
    intercept = theta[start + kernel_shapes[0][0]]
    loss, total = 0.0, None
    for rows in row_blocks(X):
        X_block = scaled_block(X, rows, x_divisor)
        outputs, cache = forward_pass(X_block, kernels, activations)
        residual = outputs @ weights + intercept - y[rows]
        weighted = sample_weight[rows] * residual
        loss += 0.5 * float(np.sum(weighted * residual))
        kernel_gradients = backward(
            X_block, kernels, activations, cache, weighted[:, None] * weights[None, :]
        )
        gradient = pack(kernel_gradients, outputs.T @ weighted, np.sum(weighted))
        total = gradient if total is None else total + gradient
    return loss, total


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_single_target_refinement_is_unchanged(activation, monkeypatch):
    # Blocks of 60 rows: the sums over several blocks too.
    monkeypatch.setattr(network_module, "BLOCK_ENTRIES", 60 * 12)
    activations = resolve_activations(activation, "identity", len(SIZES))
    X, y, weight, theta, shapes = _problem("squared_error", None, 2, n_samples=200)
    expected = _main_squared_loss_and_gradient(
        theta, X, y, weight, shapes, activations, 1.5
    )
    got = loss_and_gradient(theta, X, y, weight, shapes, activations, x_divisor=1.5)
    assert got[0] == expected[0]
    np.testing.assert_array_equal(got[1], expected[1])

    kernels, weights, intercept = unpack(theta, shapes)
    refinement = refine(
        Rows(X, y, weight, 1.5),
        Network(kernels, weights, float(intercept)),
        activations,
        max_iter=30,
        tol=1e-12,
    )
    result = minimize(
        _main_squared_loss_and_gradient,
        theta,
        args=(X, y, weight, shapes, activations, 1.5),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 30, "ftol": 1e-12, "gtol": 1e-12},
    )
    assert refinement.loss == result.fun and refinement.n_iter == result.nit
    np.testing.assert_array_equal(pack(*refinement.network), result.x)
    assert type(refinement.network.intercept) is float


def test_refine_refuses_targets_of_another_shape():
    activations = resolve_activations("relu", "identity", len(SIZES))
    X, y, weight, theta, shapes = _problem("squared_error", 3, 2)
    kernels, weights, intercept = unpack(theta, shapes, (3,))
    with pytest.raises(ValueError, match=r"outputs of shape \(n,\) \+ \(3,\)"):
        refine(
            Rows(X, y[:, 0], weight),
            Network(kernels, weights, intercept),
            activations,
            max_iter=5,
            tol=1e-8,
        )


def test_refinement_removes_deeptd_bias():
    planted = PlantedCNNDataset((4, 4, 4), random_state=0)
    X, y = planted.sample(400, random_state=1)
    raw = DeepTDRegressor((4, 4, 4), refine=False, random_state=0).fit(X, y)
    refined = DeepTDRegressor((4, 4, 4), random_state=0).fit(X, y)
    raw_corr = kernel_correlation(planted.kernels_, raw.kernels_)
    refined_corr = kernel_correlation(planted.kernels_, refined.kernels_)
    td_corr = kernel_correlation(planted.kernels_, refined.td_kernels_)
    np.testing.assert_allclose(raw_corr, td_corr)
    assert refined_corr.min() > 0.999 and refined_corr.min() > raw_corr.min()


def _planted_classification(n_samples, seed=0):
    """Labels drawn from sigmoid of a planted (4, 4) ReLU network's logits."""
    rng = np.random.RandomState(seed)
    activations = resolve_activations("relu", "identity", 2)
    kernels = random_unit_kernels((4, 4), 1, rng)
    X = rng.standard_normal((n_samples, 16))
    outputs = forward(X, kernels, activations)
    # Logits of spread 4 about zero: informative, and both classes common.
    weights = 4.0 / np.std(outputs[:, 0]) * np.ones(1)
    intercept = -float(np.mean(outputs @ weights))
    y = rng.uniform(size=n_samples) < 1 / (1 + np.exp(-(outputs @ weights + intercept)))
    planted = Network(kernels, weights, intercept)
    return X, y.astype(float), planted, activations, rng


def test_log_loss_refinement_recovers_a_planted_binary_network():
    X, y, planted, activations, rng = _planted_classification(4000)
    kernels = [k + 0.3 * rng.standard_normal(k.shape) for k in planted.kernels]
    start = Network(kernels, np.ones(1), 0.0)
    rows = Rows(X, y, np.full(4000, 1 / 4000))
    refinement = refine(
        rows,
        start,
        activations,
        head=LOSSES["binary_log_loss"],
        max_iter=500,
        tol=1e-10,
    )
    assert not refinement.hit_max_iter
    start_corr = kernel_correlation(planted.kernels, start.kernels)
    corr = kernel_correlation(planted.kernels, refinement.network.kernels)
    assert corr.min() > 0.99 and corr.min() > start_corr.min()
    # The planted network's log-loss, which the fit may undercut by noise only.
    planted_loss, _ = loss_and_gradient(
        pack(*planted),
        X,
        y,
        rows.weight,
        [k.shape for k in kernels],
        activations,
        head=LOSSES["binary_log_loss"],
    )
    assert planted_loss - 0.01 < refinement.loss <= planted_loss


def test_alpha_keeps_the_refined_weights_finite():
    # With alpha every weight is bounded by the start's objective, and L-BFGS
    # converges; without, the weights run off until the loss is at rounding
    # level.
    activations = resolve_activations("relu", "identity", 2)
    X = np.random.RandomState(4).standard_normal((200, 16))
    kernels = random_unit_kernels((4, 4), 2, np.random.RandomState(5))
    branch_outputs = forward(X, kernels, activations)
    y = (branch_outputs[:, 0] > np.median(branch_outputs[:, 0])).astype(float)
    start = Network(kernels, np.ones(2), 0.0)
    setting = dict(head=LOSSES["binary_log_loss"], alpha=0.01)
    rows = Rows(X, y, np.full(200, 1 / 200))
    start_objective, _ = loss_and_gradient(
        pack(*start), X, y, rows.weight, [(2, 4), (2, 4)], activations, **setting
    )
    refinement = refine(rows, start, activations, max_iter=2000, tol=1e-12, **setting)
    theta = pack(*refinement.network)
    assert not refinement.hit_max_iter
    assert 0.005 * theta[:-1] @ theta[:-1] <= refinement.loss <= start_objective
    free = refine(
        rows,
        start,
        activations,
        head=LOSSES["binary_log_loss"],
        max_iter=2000,
        tol=1e-12,
    )
    free_theta = pack(*free.network)
    assert np.linalg.norm(free_theta[:-1]) > 10 * np.linalg.norm(theta[:-1])


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("loss, n_outputs", LOSS_CASES)
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_loss_and_gradient_run_in_the_input_namespace(
    name, loss, n_outputs, activation
):
    xp, asarray, to_numpy = _setup(name)
    activations = resolve_activations(activation, "identity", len(SIZES))
    X, targets, weight, theta, shapes = _problem(loss, n_outputs, 2)
    setting = dict(head=LOSSES[loss], alpha=0.1, x_divisor=2.0)
    expected_loss, expected_gradient = loss_and_gradient(
        theta, X, targets, weight, shapes, activations, **setting
    )
    with sklearn.config_context(array_api_dispatch=True):
        got_loss, got_gradient = loss_and_gradient(
            theta,
            asarray(X),
            asarray(targets),
            asarray(weight),
            shapes,
            activations,
            **setting,
        )
    assert got_loss == pytest.approx(expected_loss, rel=1e-10)
    np.testing.assert_allclose(got_gradient, expected_gradient, rtol=1e-10, atol=1e-12)
    if loss == "squared_error":
        expected_system = gauss_newton_system(
            theta, X, targets, weight, shapes, activations, alpha=0.1, x_divisor=2.0
        )
        with sklearn.config_context(array_api_dispatch=True):
            got_system = gauss_newton_system(
                theta,
                asarray(X),
                asarray(targets),
                asarray(weight),
                shapes,
                activations,
                alpha=0.1,
                x_divisor=2.0,
            )
        assert got_system[0] == pytest.approx(expected_system[0], rel=1e-10)
        for got, expected in zip(got_system[1:], expected_system[1:]):
            assert isinstance(got, np.ndarray)
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", NAMESPACES)
def test_log_loss_refinement_runs_in_the_input_namespace(name):
    xp, asarray, to_numpy = _setup(name)
    X, y, planted, activations, _ = _planted_classification(500)
    start = Network(planted.kernels, np.ones(1), 0.0)
    setting = dict(head=LOSSES["binary_log_loss"], alpha=1e-3, max_iter=50, tol=1e-10)
    expected = refine(Rows(X, y, np.full(500, 1 / 500)), start, activations, **setting)
    with sklearn.config_context(array_api_dispatch=True):
        # The rows on the device, the start (like every start) on the host.
        rows = Rows(asarray(X), asarray(y), asarray(np.full(500, 1 / 500)))
        got = refine(rows, start, activations, **setting)
    assert got.loss == pytest.approx(expected.loss, rel=1e-10)
    np.testing.assert_allclose(
        pack(*got.network), pack(*expected.network), rtol=1e-6, atol=1e-8
    )
