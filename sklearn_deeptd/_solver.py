"""The solver: a data summary and the settings in, a fitted network out.

:func:`solve` is the whole of DeepTD after the data were read: the rank-r
decomposition of the moment (or random starts), the choice of signs and scale
on the sign-search rows, the refinement on the refinement rows, and the map
from the standardised data back to the data's units. It is a pure function
of its arguments (and of ``random_state``'s stream), shared by every way into
a fit, and it covers the cases with nothing to learn.
"""

import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._array_api import to_numpy
from ._decomposition import moment_decompositions
from ._losses import SQUARED_ERROR, LossHead
from ._network import Network, blocked_forward, branches_vary, random_unit_kernels
from ._output_layer import fit_output_weights
from ._refinement import Refinement, refine
from ._signs import resolve_signs_and_scale
from ._sklearn_compat import get_namespace_and_device

# Starts of the decomposition with n_init="auto": the HOSVD start alone can stop
# at a worse local optimum of a noisy moment, and a start costs only O(n_features)
# per sweep, nothing beside the pass over X.
_DECOMPOSITION_STARTS = 10

# The decomposition may take this many sweeps per unit of max_iter: a sweep
# costs O(n_features * rank) per start, nothing beside the pass over X, and
# the stacked moments of several classes can converge slowly
# (doc/performance.rst, 'Where the constants come from').
_SWEEPS_PER_ITERATION = 10

# init="random" redraws a start whose every branch is constant on the
# sign-search rows (a dead ReLU network) up to this many times, from
# random_state: a user re-draws a dead initialisation too.
MAX_START_DRAWS = 100

_DEAD_START_ADVICE = (
    "the fitted model predicts {what}. A ReLU network is dead when a "
    "layer's units are zero on every row; try more samples, "
    "activation='leaky_relu', or another random_state."
)


def _advice(settings):
    return _DEAD_START_ADVICE.format(what=settings.head.constant_prediction)


@dataclass(frozen=True)
class SolverSettings:
    """What the solver needs of the estimator's parameters, resolved.

    ``activations`` holds :class:`~._activations.Activation` objects, one
    per layer; ``n_init`` is an int or ``"auto"``; ``head`` is the loss of
    the output layer and the refinement (see :mod:`._losses`), ``alpha`` its
    L2 penalty; ``estimator_name`` is named in warnings and verbose lines.
    """

    kernel_sizes: tuple
    activations: tuple
    rank: int
    init: str
    n_init: object
    refine: bool
    max_iter: int
    tol: float
    verbose: int = 0
    head: LossHead = SQUARED_ERROR
    alpha: float = 0.0
    estimator_name: str = "DeepTDRegressor"


@dataclass(frozen=True)
class FittedNetwork:
    """A fitted network in the data's units (NumPy, float64).

    The network is ``intercept + branches(X / input_scale) @ weights``
    (weights of shape ``(rank,)`` and a float intercept for one output,
    ``(rank, m)`` and ``(m,)`` for ``m``):
    ``kernels`` act on X divided by ``input_scale``, and ``td_kernels`` are
    the unit-norm starting kernels (the DeepTD estimate with resolved signs,
    or the random start). ``n_iter`` counts the iterations of the last stage
    run: refinement iterations, else decomposition sweeps.
    """

    kernels: list
    weights: np.ndarray
    intercept: object
    input_scale: float
    td_kernels: list
    n_iter: int
    kernel_sizes: tuple
    activations: tuple


class Starts(NamedTuple):
    """The starting networks of the refinement (NumPy, on the host), the
    decomposition's sweeps (0 for random starts), and whether a start lives
    on the sign-search rows (a dead one was warned about)."""

    networks: list
    n_iter: int
    live: bool


def solve(summary, settings, random_state):
    """Fit the network of ``settings`` to the data of ``summary``.

    Parameters
    ----------
    summary : DataSummary
        The standardised moment and rows.
    settings : SolverSettings
        The network and the stages to run.
    random_state : numpy.random.RandomState
        Draws the decomposition's random starts, or the random networks of
        ``init="random"``.

    Returns
    -------
    network : FittedNetwork
    """
    if summary.moment is None:
        return _mean_network(summary, settings, "the targets are constant")
    search = summary.search_rows
    if settings.init == "random":
        starts = _random_starts(search, settings, random_state)
    else:
        if summary.zero_moment:
            return _mean_network(summary, settings, "the moment tensor is zero")
        starts = _deeptd_start(summary.moment, search, settings, random_state)
    del search
    rows = summary.refine_rows
    compare = len(starts.networks) > 1
    fits = [
        _refine_start(rows, start, settings, starts.n_iter, compare)
        for start in starts.networks
    ]
    best = min(range(len(fits)), key=lambda index: fits[index].loss)
    if fits[best].hit_max_iter:
        warnings.warn(
            f"The refinement stopped at max_iter={settings.max_iter} "
            "iterations before converging; increase max_iter or tol.",
            ConvergenceWarning,
        )
    # A dead start was reported already; a live one may still die in the
    # refinement.
    refined = fits[best].network
    if starts.live and settings.refine and not _lives(rows, refined, settings):
        warnings.warn(
            f"{settings.estimator_name}'s refined network is constant on the "
            "refinement rows (every branch is dead); " + _advice(settings),
            UserWarning,
        )
    return _in_data_units(fits[best], starts.networks[best], summary, settings)


def _lives(rows, network, settings):
    """Whether some branch of ``network`` (NumPy) varies on ``rows``."""
    outputs = _branch_outputs(rows, network, settings)
    return branches_vary(outputs, rows.weight)


def _branch_outputs(rows, network, settings):
    """The branch outputs on ``rows`` of a network on the host; rows of
    another namespace (a refinement on every row) get its kernels there."""
    kernels = network.kernels
    if not isinstance(rows.X, np.ndarray):
        xp, _, device = get_namespace_and_device(rows.X)
        kernels = [
            xp.asarray(kernel, dtype=rows.X.dtype, device=device) for kernel in kernels
        ]
    return blocked_forward(rows.X, kernels, settings.activations, rows.x_divisor)


def _deeptd_start(moment, search, settings, random_state):
    """The DeepTD start: the best decomposition whose network, with the best
    signs, lives on the sign-search rows (the next distinct decomposition when
    it is dead)."""
    decompositions = _decompose(moment, settings, random_state)
    n_iter = decompositions[0].n_iter
    dead_starts = []
    for decomposition in decompositions:
        signed = resolve_signs_and_scale(
            search.X,
            search.y,
            search.weight,
            decomposition.factors,
            settings.activations,
            x_divisor=search.x_divisor,
        )
        if branches_vary(signed.outputs, search.weight):
            return Starts([_with_output_layer(signed, search, settings)], n_iter, True)
        dead_starts.append(signed)
    warnings.warn(
        f"{settings.estimator_name} found no live start: with every sign pattern, "
        f"each of the {len(decompositions)} distinct decomposition(s) of the "
        "moment gives a network whose output is constant on the sign-search "
        "rows; " + _advice(settings),
        UserWarning,
    )
    # The output layer only for the start returned (a logistic fit each).
    return Starts([_with_output_layer(dead_starts[0], search, settings)], n_iter, False)


def _decompose(moment, settings, random_state):
    """The distinct decompositions of the moment (NumPy), best first (see
    :func:`~._decomposition.moment_decompositions`); the factors, the
    kernels' directions, in the moment's dtype.

    The decomposition runs on the host: it reads ``n_features * n_targets``
    numbers, and on a GPU its sweeps of tiny products are bound by launch
    latency (see doc/performance.rst, 'Where the constants come from').
    """
    decompositions = moment_decompositions(
        np.asarray(moment, dtype=np.float64),
        settings.kernel_sizes,
        settings.rank,
        n_starts=(
            _DECOMPOSITION_STARTS if settings.n_init == "auto" else settings.n_init
        ),
        max_iter=_SWEEPS_PER_ITERATION * settings.max_iter,
        tol=settings.tol,
        random_state=random_state,
    )
    decomposition = decompositions[0]
    if settings.verbose:
        print(
            f"[{settings.estimator_name}] decomposition: rank {settings.rank}, "
            f"{decomposition.n_iter} sweeps, component weights "
            f"{np.round(decomposition.weights, 6)}"
        )
    if not decomposition.converged:
        warnings.warn(
            f"The rank-{settings.rank} decomposition of the moment tensor did not "
            f"converge within {_SWEEPS_PER_ITERATION} * max_iter="
            f"{_SWEEPS_PER_ITERATION * settings.max_iter} sweeps; increase max_iter "
            "or tol.",
            ConvergenceWarning,
        )
    return [
        d._replace(factors=[factor.astype(moment.dtype) for factor in d.factors])
        for d in decompositions
    ]


def _random_starts(rows, settings, random_state):
    """``n_init`` random networks (unit-norm kernels, output layers fitted on
    ``rows``).

    A start whose every branch is constant on ``rows`` is drawn again, up to
    ``MAX_START_DRAWS`` draws; a warning says when no start lives (a dead one
    beside a live one only loses the comparison of losses).
    """
    # A derived stream: drawn straight from random_state, the first start
    # would equal a PlantedCNNDataset planted with the same seed.
    start_state = np.random.RandomState(random_state.randint(2**31 - 1))
    n_starts = 1 if settings.n_init == "auto" else settings.n_init
    starts, live = [], False
    for _ in range(n_starts):
        for _ in range(MAX_START_DRAWS):
            kernels = random_unit_kernels(
                settings.kernel_sizes, settings.rank, start_state
            )
            outputs = blocked_forward(
                rows.X, kernels, settings.activations, rows.x_divisor
            )
            if branches_vary(outputs, rows.weight):
                live = True
                break
        weights, intercept = _fit_output_layer(outputs, rows, settings)
        starts.append(Network(kernels, weights, intercept))
    if not live:
        warnings.warn(
            f"{settings.estimator_name} drew {MAX_START_DRAWS} random starts "
            "(init='random') per start whose outputs are all constant on the "
            "sign-search rows; " + _advice(settings),
            UserWarning,
        )
    return Starts(starts, 0, live)


def _fit_output_layer(outputs, rows, settings):
    """Output weights and intercept of the loss for fixed branch outputs."""
    return fit_output_weights(
        outputs, rows.y, rows.weight, head=settings.head, alpha=settings.alpha
    )


def _with_output_layer(signed, rows, settings):
    """The signed start with the output layer of its loss: the least-squares
    weights the sign search fitted, when the loss has that closed form, else
    those of :func:`_fit_output_layer`."""
    if settings.head.closed_form_output_layer:
        return signed.network
    weights, intercept = _fit_output_layer(signed.outputs, rows, settings)
    return signed.network._replace(weights=weights, intercept=intercept)


def _refine_start(rows, start, settings, n_iter, compare):
    """Refine one starting network; with ``refine=False`` only score it, and
    only when there are several starts to ``compare``."""
    if settings.refine:
        refinement = refine(
            rows,
            start,
            settings.activations,
            head=settings.head,
            alpha=settings.alpha,
            max_iter=settings.max_iter,
            tol=settings.tol,
        )
        if settings.verbose:
            print(f"[{settings.estimator_name}] refinement: {refinement.report}")
        return refinement
    loss = 0.0
    if compare:
        # Scored on the host: the outputs, targets and weights are vectors.
        outputs, targets, weight = (
            np.asarray(to_numpy(array), dtype=np.float64)
            for array in (_branch_outputs(rows, start, settings), rows.y, rows.weight)
        )
        network_outputs = outputs @ start.weights + start.intercept
        loss = float(
            settings.head.loss_and_gradient(network_outputs, targets, weight)[0]
        )
    return Refinement(start, loss, n_iter, False)


def _on_host(kernels):
    return [np.asarray(kernel, dtype=np.float64) for kernel in kernels]


def _in_data_units(fit, start, summary, settings):
    """The refined network of the standardised data, for the data themselves:
    branch weights and intercept map back to y's units; the kernels keep
    acting on ``X / x_scale``."""
    kernels = _on_host(fit.network.kernels)
    weights = np.asarray(fit.network.weights, dtype=np.float64)
    intercept = np.asarray(fit.network.intercept, dtype=np.float64)
    if settings.activations[-1].odd:
        # An odd output activation lets the output kernel and the branch weight
        # flip sign together: report the representative with a positive weight
        # (of the first output, for several).
        signs = np.where(weights.reshape(weights.shape[0], -1)[:, 0] < 0, -1.0, 1.0)
        kernels[-1] = kernels[-1] * signs[:, None]
        weights = weights * (signs if weights.ndim == 1 else signs[:, None])
    if summary.standardised_targets:
        weights = weights * summary.y_scale
        intercept = summary.y_mean + intercept * summary.y_scale
    return FittedNetwork(
        kernels=kernels,
        weights=weights,
        intercept=float(intercept) if intercept.ndim == 0 else intercept,
        input_scale=summary.x_scale,
        td_kernels=_on_host(start.kernels),
        n_iter=int(fit.n_iter),
        kernel_sizes=settings.kernel_sizes,
        activations=settings.activations,
    )


def _mean_network(summary, settings, reason):
    warnings.warn(
        f"{settings.estimator_name} found nothing to learn ({reason}); the "
        f"fitted model predicts {settings.head.constant_prediction}.",
        UserWarning,
    )
    y_mean = np.asarray(summary.y_mean, dtype=np.float64)
    intercept = settings.head.constant_intercept(y_mean)
    # Any finite direction will do: the branch weights are zero.
    kernels = [
        np.full((settings.rank, size), 1.0 / np.sqrt(size))
        for size in settings.kernel_sizes
    ]
    return FittedNetwork(
        kernels=kernels,
        weights=np.zeros((settings.rank,) + y_mean.shape),
        intercept=float(intercept) if intercept.ndim == 0 else intercept,
        input_scale=summary.x_scale,
        td_kernels=[kernel.copy() for kernel in kernels],
        n_iter=0,
        kernel_sizes=settings.kernel_sizes,
        activations=settings.activations,
    )
