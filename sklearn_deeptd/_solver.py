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

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._array_api import get_namespace, get_namespace_and_device

from ._array_api import to_numpy
from ._decomposition import ranked_decompositions
from ._moment import tensorize
from ._network import Network, blocked_forward, random_unit_kernels
from ._refinement import Refinement, refine
from ._scales import stable_norm
from ._signs import branches_vary, fit_branch_weights, resolve_signs_and_scale

# Starts of the decomposition with n_init="auto": the HOSVD start alone can stop
# at a worse local optimum of a noisy moment, and a start costs only O(n_features)
# per sweep, nothing beside the pass over X.
DECOMPOSITION_STARTS = 10

# ||T|| is at most the root mean square norm of the rows of the standardised X,
# sqrt(n_features), so this ratio measures how much of X correlates with y.
ZERO_MOMENT_RATIO = 1e-10

# init="random" redraws a start whose every branch is constant on the
# sign-search rows (a dead ReLU network) up to this many times, from
# random_state: a user re-draws a dead initialisation too.
MAX_START_DRAWS = 100

DEAD_START_ADVICE = (
    "the fitted model predicts the mean of y. A ReLU network is dead when a "
    "layer's units are zero on every row; try more samples, "
    "activation='leaky_relu', or another random_state."
)


@dataclass(frozen=True)
class SolverSettings:
    """What the solver needs of the estimator's parameters, resolved.

    ``activations`` holds :class:`~._activations.Activation` objects, one
    per layer; ``n_init`` is an int or ``"auto"``.
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


@dataclass(frozen=True)
class FittedNetwork:
    """A fitted network in the data's units (NumPy, float64).

    The network is ``intercept + branches(X / input_scale) @ weights``:
    ``kernels`` act on X divided by ``input_scale``, and ``td_kernels`` are
    the unit-norm starting kernels (the DeepTD estimate with resolved signs,
    or the random start). ``n_iter`` counts the iterations of the last stage
    run: L-BFGS iterations, else decomposition sweeps.
    """

    kernels: list
    weights: np.ndarray
    intercept: float
    input_scale: float
    td_kernels: list
    n_iter: int
    kernel_sizes: tuple
    activations: tuple


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
        starts, live_start = _random_starts(search, settings, random_state)
        n_iter = 0
    else:
        if stable_norm(summary.moment) <= ZERO_MOMENT_RATIO * np.sqrt(
            summary.moment.shape[0]
        ):
            return _mean_network(summary, settings, "the moment tensor is zero")
        start, n_iter, live_start = _deeptd_start(
            summary.moment, search, settings, random_state
        )
        starts = [start]
    del search
    rows = summary.refine_rows
    compare = len(starts) > 1
    fits = [_refine_start(rows, start, settings, n_iter, compare) for start in starts]
    best = min(range(len(fits)), key=lambda index: fits[index].loss)
    if fits[best].hit_max_iter:
        warnings.warn(
            f"The refinement stopped at max_iter={settings.max_iter} L-BFGS "
            "iterations before converging; increase max_iter or tol.",
            ConvergenceWarning,
        )
    # A dead start was reported already; a live one may still die in L-BFGS.
    refined = fits[best].network
    if live_start and settings.refine and not _lives(rows, refined, settings):
        warnings.warn(
            "DeepTDRegressor's refined network is constant on the refinement "
            "rows (every branch is dead); " + DEAD_START_ADVICE,
            UserWarning,
        )
    return _in_data_units(fits[best], starts[best], summary, settings)


def _lives(rows, network, settings):
    """Whether some branch of ``network`` (NumPy) varies on ``rows``."""
    xp, _, device = get_namespace_and_device(rows.X)
    kernels = [
        xp.asarray(kernel, dtype=rows.X.dtype, device=device)
        for kernel in network.kernels
    ]
    outputs = blocked_forward(rows.X, kernels, settings.activations, rows.x_divisor)
    return branches_vary(outputs, rows.weight)


def _deeptd_start(moment, search, settings, random_state):
    """The DeepTD start: the best decomposition whose network, with the best
    signs, lives on the sign-search rows (the next distinct decomposition when
    it is dead), the decomposition's sweeps, and whether the start lives."""
    decompositions = _decompose(moment, settings, random_state)
    n_iter = decompositions[0].n_iter
    dead_starts = []
    for decomposition in decompositions:
        start, outputs = resolve_signs_and_scale(
            search.X,
            search.y,
            search.weight,
            decomposition.factors,
            settings.activations,
            return_outputs=True,
            x_divisor=search.x_divisor,
        )
        if branches_vary(outputs, search.weight):
            return start, n_iter, True
        dead_starts.append(start)
    warnings.warn(
        f"DeepTDRegressor found no live start: with every sign pattern, each of "
        f"the {len(decompositions)} distinct decomposition(s) of the moment gives "
        "a network whose output is constant on the sign-search rows; "
        + DEAD_START_ADVICE,
        UserWarning,
    )
    return dead_starts[0], n_iter, False


def _decompose(moment, settings, random_state):
    """The distinct decompositions of the moment, best first."""
    xp, _ = get_namespace(moment)
    decompositions = ranked_decompositions(
        # Unit scale: the Gram matrices of a moment of scale 1e200 overflow.
        tensorize(moment / float(xp.max(xp.abs(moment))), settings.kernel_sizes),
        settings.rank,
        n_starts=(
            DECOMPOSITION_STARTS if settings.n_init == "auto" else settings.n_init
        ),
        max_iter=settings.max_iter,
        tol=settings.tol,
        random_state=random_state,
    )
    decomposition = decompositions[0]
    if settings.verbose:
        print(
            f"[DeepTDRegressor] decomposition: rank {settings.rank}, "
            f"{decomposition.n_iter} sweeps, component weights "
            f"{np.round(decomposition.weights, 6)}"
        )
    if not decomposition.converged:
        warnings.warn(
            f"The rank-{settings.rank} decomposition of the moment tensor did not "
            f"converge within max_iter={settings.max_iter} sweeps; increase "
            "max_iter or tol.",
            ConvergenceWarning,
        )
    return decompositions


def _random_starts(rows, settings, random_state):
    """``n_init`` random networks (unit-norm kernels, least-squares weights)
    and whether one of them lives.

    A start whose every branch is constant on ``rows`` is drawn again, up to
    ``MAX_START_DRAWS`` draws; a warning says when no start lives (a dead one
    beside a live one only loses the comparison of losses).
    """
    # A derived stream: drawn straight from random_state, the first start
    # would equal a PlantedCNNDataset planted with the same seed.
    start_state = np.random.RandomState(random_state.randint(2**31 - 1))
    n_starts = 1 if settings.n_init == "auto" else settings.n_init
    xp, _, device = get_namespace_and_device(rows.X)
    starts, live = [], False
    for _ in range(n_starts):
        for _ in range(MAX_START_DRAWS):
            kernels = [
                xp.asarray(kernel, dtype=rows.X.dtype, device=device)
                for kernel in random_unit_kernels(
                    settings.kernel_sizes, settings.rank, start_state
                )
            ]
            outputs = blocked_forward(
                rows.X, kernels, settings.activations, rows.x_divisor
            )
            if branches_vary(outputs, rows.weight):
                live = True
                break
        weights, intercept = fit_branch_weights(outputs, rows.y, rows.weight)
        starts.append(Network(kernels, weights, intercept))
    if not live:
        warnings.warn(
            f"DeepTDRegressor drew {MAX_START_DRAWS} random starts (init="
            "'random') per start whose outputs are all constant on the "
            "sign-search rows; " + DEAD_START_ADVICE,
            UserWarning,
        )
    return starts, live


def _refine_start(rows, start, settings, n_iter, compare):
    """Refine one starting network; with ``refine=False`` only score it, and
    only when there are several starts to ``compare``."""
    if settings.refine:
        return refine(
            rows,
            start,
            settings.activations,
            max_iter=settings.max_iter,
            tol=settings.tol,
            verbose=settings.verbose,
        )
    loss = 0.0
    if compare:
        outputs = blocked_forward(
            rows.X, start.kernels, settings.activations, rows.x_divisor
        )
        residual = outputs @ start.weights + start.intercept - rows.y
        loss = 0.5 * float(rows.weight @ residual**2)
    return Refinement(start, loss, n_iter, False)


def _on_host(kernels):
    return [np.asarray(to_numpy(kernel), dtype=np.float64) for kernel in kernels]


def _in_data_units(fit, start, summary, settings):
    """The refined network of the standardised data, for the data themselves:
    branch weights and intercept map back to y's units; the kernels keep
    acting on ``X / x_scale``."""
    kernels = _on_host(fit.network.kernels)
    weights = np.asarray(to_numpy(fit.network.weights), dtype=np.float64)
    if settings.activations[-1].odd:
        # An odd output activation lets the output kernel and the branch weight
        # flip sign together: report the representative with a positive weight.
        signs = np.where(weights < 0, -1.0, 1.0)
        kernels[-1] = kernels[-1] * signs[:, None]
        weights = weights * signs
    return FittedNetwork(
        kernels=kernels,
        weights=weights * summary.y_scale,
        intercept=float(
            summary.y_mean + float(fit.network.intercept) * summary.y_scale
        ),
        input_scale=summary.x_scale,
        td_kernels=_on_host(start.kernels),
        n_iter=int(fit.n_iter),
        kernel_sizes=settings.kernel_sizes,
        activations=settings.activations,
    )


def _mean_network(summary, settings, reason):
    warnings.warn(
        f"DeepTDRegressor found nothing to learn ({reason}); the fitted model "
        "predicts the mean of y.",
        UserWarning,
    )
    # Any finite direction will do: the branch weights are zero.
    kernels = [
        np.full((settings.rank, size), 1.0 / np.sqrt(size))
        for size in settings.kernel_sizes
    ]
    return FittedNetwork(
        kernels=kernels,
        weights=np.zeros(settings.rank),
        intercept=float(summary.y_mean),
        input_scale=summary.x_scale,
        td_kernels=[kernel.copy() for kernel in kernels],
        n_iter=0,
        kernel_sizes=settings.kernel_sizes,
        activations=settings.activations,
    )
