"""Array API dispatch: the moment and predict in the input's namespace."""

import os

import numpy as np
import pytest
import sklearn

from sklearn_deeptd import DeepTDRegressor, PlantedCNNDataset

SIZES = (4, 4, 4)


NAMESPACES = [
    pytest.param("array_api_strict", id="array_api_strict"),
    pytest.param("torch", id="torch-cpu"),
    # Runs where PyTorch sees a CUDA GPU (benchmarks/bench_gpu.py's machine).
    pytest.param("torch-cuda", id="torch-cuda"),
]


def _setup(name):
    if not os.environ.get("SCIPY_ARRAY_API"):
        pytest.skip("SCIPY_ARRAY_API is not set (see conftest.py)")
    if name == "torch-cuda":
        xp = pytest.importorskip("torch")
        if not xp.cuda.is_available():
            pytest.skip("PyTorch sees no CUDA GPU")
        return xp, lambda a: xp.asarray(a, device="cuda"), lambda a: a.cpu().numpy()
    xp = pytest.importorskip(name)
    if name == "torch":
        return xp, lambda a: xp.asarray(a, device="cpu"), lambda a: a.numpy()
    return xp, xp.asarray, lambda a: np.asarray(xp.asarray(a, copy=True)._array)


def _max_difference(first, second, to_numpy):
    return max(
        float(np.max(np.abs(to_numpy(a) - np.asarray(b))))
        for a, b in zip(first, second)
    )


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize(
    "params",
    [{}, {"refine": False, "rank": 2, "activation": "tanh"}, {"center": False}],
)
@pytest.mark.parametrize("n_samples", [3000, 9000])
def test_dispatched_fit_equals_numpy_fit(name, params, n_samples):
    # 9000 rows: more than the subsamples, which are gathered on the device.
    xp, asarray, to_numpy = _setup(name)
    planted = PlantedCNNDataset(kernel_sizes=SIZES, noise=0.1, random_state=0)
    X, y = planted.sample(n_samples, random_state=1)
    weight = np.random.RandomState(2).uniform(0.5, 1.5, n_samples)
    setting = dict(kernel_sizes=SIZES, random_state=0, **params)
    expected = DeepTDRegressor(**setting).fit(X, y, sample_weight=weight)
    with sklearn.config_context(array_api_dispatch=True):
        got = DeepTDRegressor(**setting).fit(
            asarray(X), asarray(y), sample_weight=asarray(weight)
        )
        prediction = got.predict(asarray(X))
    assert type(got.weights_) is type(asarray(X))
    assert all(type(kernel) is type(asarray(X)) for kernel in got.kernels_)
    assert _max_difference(got.td_kernels_, expected.td_kernels_, to_numpy) <= 1e-8
    assert _max_difference(got.kernels_, expected.kernels_, to_numpy) <= 1e-8
    np.testing.assert_allclose(got.intercept_, expected.intercept_, rtol=1e-8)
    assert type(prediction) is type(asarray(X))
    np.testing.assert_allclose(
        to_numpy(prediction), expected.predict(X), rtol=1e-8, atol=1e-8
    )


@pytest.mark.parametrize("name", NAMESPACES)
def test_dispatched_fit_float32_and_bad_input(name):
    xp, asarray, to_numpy = _setup(name)
    planted = PlantedCNNDataset(kernel_sizes=SIZES, noise=0.1, random_state=0)
    X, y = planted.sample(2000, random_state=1)
    X32 = X.astype(np.float32)
    setting = dict(kernel_sizes=SIZES, random_state=0, refine=False)
    expected = DeepTDRegressor(**setting).fit(X32, y)
    with sklearn.config_context(array_api_dispatch=True):
        got = DeepTDRegressor(**setting).fit(asarray(X32), asarray(y))
        prediction = got.predict(asarray(X32))
        X_nan = X.copy()
        X_nan[7, 3] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            DeepTDRegressor(**setting).fit(asarray(X_nan), asarray(y))
        weight = np.ones(2000)
        weight[7] = 0.0
        with pytest.raises(ValueError, match="NaN"):
            DeepTDRegressor(**setting).fit(
                asarray(X_nan), asarray(y), sample_weight=asarray(weight)
            )
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            DeepTDRegressor(**setting).fit(asarray(X), asarray(y[:100]))
        with pytest.raises(ValueError, match="features"):
            got.predict(asarray(X[:, :8]))
    # float32 products on the device: agreement to float32 rounding.
    assert _max_difference(got.td_kernels_, expected.td_kernels_, to_numpy) <= 1e-4
    assert to_numpy(prediction).dtype == np.float64


def test_partial_fit_under_dispatch_copies_batches_to_the_host():
    xp, asarray, _ = _setup("array_api_strict")
    planted = PlantedCNNDataset(kernel_sizes=SIZES, noise=0.1, random_state=0)
    X, y = planted.sample(1000, random_state=1)
    setting = dict(kernel_sizes=SIZES, random_state=0, refine=False)
    expected = DeepTDRegressor(**setting).partial_fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        got = DeepTDRegressor(**setting).partial_fit(asarray(X), asarray(y))
    for a, b in zip(got.td_kernels_, expected.td_kernels_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _network_and_rows(rank=2):
    rng = np.random.RandomState(3)
    X = rng.standard_normal((50, 64))
    y = rng.standard_normal(50)
    weight = np.full(50, 1 / 50)
    kernels = [rng.standard_normal((rank, size)) for size in SIZES]
    return X, y, weight, kernels


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("activation", ["relu", "tanh", "softplus", "leaky_relu"])
def test_passes_run_in_the_input_namespace(name, activation):
    # Forward, backward and the refinement's loss and gradient (the passes a
    # refinement on every row runs on the device) take arrays of the
    # namespace, return arrays of it (or host numbers), and agree with NumPy.
    from sklearn_deeptd._activations import resolve_activations
    from sklearn_deeptd._network import backward, forward_pass, pack
    from sklearn_deeptd._refinement import loss_and_gradient

    xp, asarray, to_numpy = _setup(name)
    X, y, weight, kernels = _network_and_rows()
    activations = resolve_activations(activation, "identity", len(SIZES))
    with sklearn.config_context(array_api_dispatch=True):
        device_kernels = [asarray(kernel) for kernel in kernels]
        outputs, cache = forward_pass(asarray(X), device_kernels, activations)
        gradients = backward(
            asarray(X), device_kernels, activations, cache, asarray(np.ones((50, 2)))
        )
        theta = pack(kernels, np.array([0.5, -1.0]), 0.25)
        loss, gradient = loss_and_gradient(
            theta, asarray(X), asarray(y), asarray(weight), [(2, 4)] * 3, activations
        )
    expected_outputs, expected_cache = forward_pass(X, kernels, activations)
    expected_gradients = backward(
        X, kernels, activations, expected_cache, np.ones((50, 2))
    )
    expected_loss, expected_gradient = loss_and_gradient(
        theta, X, y, weight, [(2, 4)] * 3, activations
    )
    device_type = type(asarray(X))
    for got in [outputs, *gradients]:
        assert type(got) is device_type
    assert _max_difference([outputs], [expected_outputs], to_numpy) < 1e-12
    assert _max_difference(gradients, expected_gradients, to_numpy) < 1e-12
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-10, atol=1e-12)


def _record_transfers(monkeypatch):
    """The sizes of the arrays that cross to the host, and the number of
    moves to the device, during what follows."""
    import sklearn_deeptd._array_api as array_api

    to_host, to_device = [], []
    convert, move = array_api.convert_to_numpy, array_api.to_namespace

    def recording_convert(array, xp):
        to_host.append(int(np.prod(array.shape)))
        return convert(array, xp)

    def recording_move(array, namespace):
        to_device.append(int(np.prod(np.shape(array))))
        return move(array, namespace)

    monkeypatch.setattr(array_api, "convert_to_numpy", recording_convert)
    monkeypatch.setattr(array_api, "to_namespace", recording_move)
    return to_host, to_device


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("params", [{}, {"rank": 2, "activation": "tanh"}])
def test_dispatched_fit_crosses_to_the_host_once(name, params, monkeypatch):
    # The moment and the gathered rows cross to the host in one transfer,
    # the fitted arrays come back in one; everything of fixed size between
    # runs on the host.
    xp, asarray, _ = _setup(name)
    planted = PlantedCNNDataset(kernel_sizes=SIZES, noise=0.1, random_state=0, **params)
    X, y = planted.sample(9000, random_state=1)
    with sklearn.config_context(array_api_dispatch=True):
        model = DeepTDRegressor(kernel_sizes=SIZES, random_state=0, **params)
        to_host, to_device = _record_transfers(monkeypatch)
        model.fit(asarray(X), asarray(y))
    assert model.n_iter_ > 0
    # The pool of refine_samples rows (of X, y and weights) and the moment.
    assert to_host == [5000 * (X.shape[1] + 2) + X.shape[1]]
    assert len(to_device) == 1


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("params", [{}, {"rank": 2, "activation": "tanh"}])
def test_a_refinement_on_every_row_brings_only_small_arrays_to_the_host(
    name, params, monkeypatch
):
    # With refine_samples=None the rows stay on the device, where the
    # refinement's passes run: what crosses to NumPy is the moment, the
    # 4096 sign-search rows (their X, y and weights, in one transfer), the
    # refinement's parameter vectors, its Gauss-Newton matrices (parameters
    # squared) and a few numbers.
    xp, asarray, _ = _setup(name)
    planted = PlantedCNNDataset(kernel_sizes=SIZES, noise=0.1, random_state=0, **params)
    X, y = planted.sample(9000, random_state=1)
    with sklearn.config_context(array_api_dispatch=True):
        model = DeepTDRegressor(
            kernel_sizes=SIZES, refine_samples=None, random_state=0, **params
        )
        sizes, _ = _record_transfers(monkeypatch)
        model.fit(asarray(X), asarray(y))
    assert model.n_iter_ > 0 and sizes
    n_parameters = sum(SIZES) * model.rank + model.rank + 1
    large = [size for size in sizes if size > max(64, n_parameters**2)]
    assert large == [4096 * (X.shape[1] + 2)], large


@pytest.mark.parametrize("name", NAMESPACES)
def test_dispatched_fit_with_huge_weights_equals_unit_weights(name):
    # Weights near the largest float: their plain sum overflows to inf.
    xp, asarray, to_numpy = _setup(name)
    planted = PlantedCNNDataset(kernel_sizes=SIZES, noise=0.1, random_state=0)
    X, y = planted.sample(2000, random_state=1)
    setting = dict(kernel_sizes=SIZES, random_state=0)
    expected = DeepTDRegressor(**setting).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        got = DeepTDRegressor(**setting).fit(
            asarray(X), asarray(y), sample_weight=asarray(np.full(2000, 1e308))
        )
    assert _max_difference(got.kernels_, expected.kernels_, to_numpy) <= 1e-8


@pytest.mark.parametrize("name", NAMESPACES)
def test_dispatched_fit_of_integer_x_equals_numpy_fit(name):
    # Integer X is fitted as floats, as validate_data does for NumPy (the
    # moment in integers would truncate its multipliers to zero).
    xp, asarray, to_numpy = _setup(name)
    planted = PlantedCNNDataset(kernel_sizes=SIZES, noise=0.1, random_state=0)
    X, y = planted.sample(2000, random_state=1)
    X_int = np.round(3 * X).astype(np.int64)
    setting = dict(kernel_sizes=SIZES, random_state=0, refine=False)
    expected = DeepTDRegressor(**setting).fit(X_int, y)
    with sklearn.config_context(array_api_dispatch=True):
        got = DeepTDRegressor(**setting).fit(asarray(X_int), asarray(y))
    assert _max_difference(got.kernels_, expected.kernels_, to_numpy) <= 1e-8


def test_targets_and_weights_of_other_kinds_follow_a_torch_x():
    # Found in review: a list or pandas y beside a torch X raised in fit
    # (partial_fit took them).
    _setup("torch")
    torch = pytest.importorskip("torch")
    pd = pytest.importorskip("pandas")
    planted = PlantedCNNDataset(kernel_sizes=SIZES, noise=0.1, random_state=0)
    X, y = planted.sample(1000, random_state=1)
    setting = dict(kernel_sizes=SIZES, random_state=0, refine=False)
    expected = DeepTDRegressor(**setting).fit(X, y, sample_weight=np.full(1000, 2.0))
    with sklearn.config_context(array_api_dispatch=True):
        for targets, weight in [
            (list(y), 2.0),
            (pd.Series(y), pd.Series(np.full(1000, 2.0))),
        ]:
            got = DeepTDRegressor(**setting).fit(torch.asarray(X), targets, weight)
            prediction = got.predict(torch.asarray(X[:50])).numpy()
            np.testing.assert_allclose(prediction, expected.predict(X[:50]), rtol=1e-8)


def test_kernels_fitted_on_another_device_reach_numpy_without_dispatch():
    # Found on the GPU benchmark: outside array API dispatch, a CUDA tensor's
    # kernels were taken for NumPy arrays and the conversion raised.
    # array-api-strict's "device1" refuses np.asarray as a GPU array does.
    from sklearn_deeptd import kernel_correlation
    from sklearn_deeptd._array_api import to_numpy

    xp, _, _ = _setup("array_api_strict")
    planted = PlantedCNNDataset(kernel_sizes=SIZES, noise=0.1, random_state=0)
    X, y = planted.sample(2000, random_state=1)
    device = xp.Device("device1")
    with sklearn.config_context(array_api_dispatch=True):
        model = DeepTDRegressor(kernel_sizes=SIZES, random_state=0).fit(
            xp.asarray(X, device=device), xp.asarray(y, device=device)
        )
    expected = DeepTDRegressor(kernel_sizes=SIZES, random_state=0).fit(X, y)
    assert model.kernels_[0].device == device
    with pytest.raises(RuntimeError):
        np.asarray(model.kernels_[0])
    for got, want in zip(model.kernels_, expected.kernels_):
        np.testing.assert_allclose(to_numpy(got), want, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(
        kernel_correlation(planted.kernels_, model.kernels_),
        kernel_correlation(planted.kernels_, expected.kernels_),
        rtol=1e-10,
    )


@pytest.mark.parametrize("name", NAMESPACES)
@pytest.mark.parametrize("n_classes, rank", [(2, 1), (3, 2)])
def test_dispatched_classifier_equals_numpy_classifier(name, n_classes, rank):
    # Labels in X's namespace: classes, indicators, the stacked moments and the
    # log-loss refinement on the device; probabilities and labels come back
    # there too.
    from sklearn_deeptd import DeepTDClassifier

    xp, asarray, to_numpy = _setup(name)
    planted = PlantedCNNDataset(
        SIZES, labels="logistic", n_classes=n_classes, rank=rank, random_state=0
    )
    X, y = planted.sample(1000, random_state=1)
    weight = np.random.RandomState(2).uniform(0.5, 1.5, 1000)
    setting = dict(kernel_sizes=SIZES, rank=rank, random_state=0)
    expected = DeepTDClassifier(**setting).fit(X, y, sample_weight=weight)
    with sklearn.config_context(array_api_dispatch=True):
        got = DeepTDClassifier(**setting).fit(
            asarray(X), asarray(y), sample_weight=asarray(weight)
        )
        proba = got.predict_proba(asarray(X[:200]))
        labels = got.predict(asarray(X[:200]))
    assert type(proba) is type(asarray(X)) and type(labels) is type(asarray(X))
    np.testing.assert_array_equal(to_numpy(got.classes_), expected.classes_)
    assert _max_difference(got.kernels_, expected.kernels_, to_numpy) <= 1e-7
    np.testing.assert_allclose(
        to_numpy(proba), expected.predict_proba(X[:200]), rtol=1e-6, atol=1e-9
    )
    np.testing.assert_array_equal(to_numpy(labels), expected.predict(X[:200]))


@pytest.mark.parametrize("name", NAMESPACES)
def test_the_finiteness_check_reads_a_sum_and_asks_every_value_when_it_overflows(
    name,
):
    from sklearn_deeptd._validation import assert_finite

    xp, asarray, _ = _setup(name)
    with sklearn.config_context(array_api_dispatch=True), np.errstate(over="ignore"):
        # Finite values whose sum overflows (also complex ones) pass.
        assert_finite(asarray(np.array([1e308, 1e308, -5.0])), "y")
        assert_finite(asarray(np.array([1.5e308 + 1.5e308j, 1.0 + 0j])), "y")
        with pytest.raises(ValueError, match="Input y contains NaN"):
            assert_finite(asarray(np.array([1.0, np.nan])), "y")
        # Infinities of both signs sum to NaN; every value is asked.
        with pytest.raises(ValueError, match="Input y contains infinity"):
            assert_finite(asarray(np.array([np.inf, -np.inf, 2.0])), "y")
