"""KernelSHAP: Shapley values as a constrained weighted least-squares fit (Lundberg & Lee 2017; Covert & Lee 2021)."""
from __future__ import annotations

from math import comb

import numpy as np

from ..games import Game, empty_and_grand
from ..validation import check_int, check_random_state
from ._base import ShapleyEstimate, check_budget
from ._sampling import PairedDesign, evaluate_pairs, paired_design

__all__ = ["shapley_kernel_weights", "shapley_kernel", "kernel_regression", "regression_estimate", "stratum_share",
           "design_rows"]


def shapley_kernel_weights(n_players: int) -> np.ndarray:
    """The Shapley kernel's weight of each coalition size ``s = 1 .. N−1``, normalised to sum to 1.

    The Shapley kernel weights a coalition S of size s by ``(N−1) / (C(N,s) s (N−s))`` (Lundberg & Lee 2017,
    Theorem 2); summed over the ``C(N,s)`` coalitions of that size, size s weighs ``∝ 1/(s(N−s))``. KernelSHAP
    draws coalition sizes from these weights, and a coalition uniformly within its size.

    Parameters
    ----------
    n_players : int
        N, at least 2.

    Returns
    -------
    ndarray of float64, shape (N−1,)
        Entry ``s − 1`` is the weight of size s; symmetric (sizes s and N−s weigh the same) and summing to 1.

    Raises
    ------
    TypeError, ValueError
        ``n_players`` not an integer of at least 2.
    """
    n = check_int(n_players, "n_players", low=2)
    s = np.arange(1, n, dtype=np.float64)
    w = 1.0 / (s * (n - s))
    return w / w.sum()


def kernel_regression(S: np.ndarray, values: np.ndarray, weights: np.ndarray, empty: float, grand: float) -> np.ndarray:
    """Solve KernelSHAP's constrained weighted least squares (Lundberg & Lee 2017, eq. (9); Covert & Lee 2021, eq. (4)).

    ``min_φ Σ_k w_k (U(S_k) − U(∅) − Σ_{i∈S_k} φ_i)²`` subject to ``Σ_i φ_i = U([N]) − U(∅)``, through its
    KKT system (least-squares solution when the design does not determine φ).

    Parameters
    ----------
    S : ndarray of bool, shape (k, n_players)
        Coalitions (proper and non-empty).
    values : ndarray of float, shape (k,)
        Their utilities.
    weights : ndarray of float, shape (k,)
        Their regression weights (non-negative).
    empty, grand : float
        ``U(∅)`` and ``U([N])``.

    Returns
    -------
    ndarray of float64, shape (n_players,)
    """
    n = S.shape[1]
    Z = S.astype(np.float64)
    A = Z.T @ (weights[:, None] * Z)
    b = Z.T @ (weights * (values - empty))
    scale = max(float(np.abs(A).max()) if A.size else 0.0, 1e-300)
    kkt = np.zeros((n + 1, n + 1))
    kkt[:n, :n] = A / scale
    kkt[:n, n] = kkt[n, :n] = 1.0
    rhs = np.append(b / scale, grand - empty)
    return np.linalg.lstsq(kkt, rhs, rcond=None)[0][:n]


def regression_estimate(game: Game, budget: int, seed, chunk_size: int, share_of_size: np.ndarray, what: str,
                        method: str) -> ShapleyEstimate:
    """Shared body of KernelSHAP and Leverage SHAP: a paired design, then :func:`kernel_regression`.

    Parameters
    ----------
    game : Game
        The game.
    budget : int
        Utility evaluations allowed (at least 4, or 2 for a single player).
    seed : None, int or numpy.random.Generator
        Seed, as in :func:`creditlib.validation.check_random_state`.
    chunk_size : int
        Coalitions per utility call.
    share_of_size : ndarray of float, shape (N−1,)
        How the design spreads its coalitions over sizes ``1 .. N−1`` (symmetric).
    what, method : str
        The estimator's name (for errors) and its ``method`` label.

    Returns
    -------
    ShapleyEstimate
        With NaN standard errors (a regression fit has no unbiased error estimate here).
    """
    n = game.n_players
    budget = check_budget(budget, 4 if n > 1 else 2, n, what)
    chunk_size = check_int(chunk_size, "chunk_size", low=1)
    rng = check_random_state(seed)
    start = game.evaluations
    empty, grand = (float(v) for v in empty_and_grand(game))
    if n == 1:
        return ShapleyEstimate(np.array([grand - empty]), np.zeros(1), game.evaluations - start, method)
    design = paired_design(rng, n, (budget - 2) // 2, stratum_share(share_of_size), replace=False)
    vS, vC = evaluate_pairs(game, design.S, chunk_size)
    values = kernel_regression(*design_rows(design, vS, vC), empty, grand)
    return ShapleyEstimate(values, np.full(n, np.nan), game.evaluations - start, method)


def stratum_share(share_of_size: np.ndarray) -> np.ndarray:
    """Share of units per stratum ``s = 1 .. ⌊N/2⌋`` from a share of coalitions per size ``1 .. N−1``.

    A unit of stratum ``s < N/2`` holds a coalition of size s and one of size N−s; at ``s = N/2`` both are halves.

    Parameters
    ----------
    share_of_size : ndarray of float, shape (N−1,)

    Returns
    -------
    ndarray of float, shape (⌊N/2⌋,)
    """
    n = len(share_of_size) + 1
    s = np.arange(1, n // 2 + 1)
    return np.where(2 * s == n, 1.0, 2.0) * share_of_size[s - 1]


def design_rows(design: PairedDesign, vS: np.ndarray, vC: np.ndarray):
    """The regression's rows: every coalition of the design with its Shapley-kernel weight
    ``(N−1)/(C(N,s) s (N−s))`` times its unit's weight, so that weighted sums over the rows estimate the kernel's
    sums over all proper coalitions without bias.

    Parameters
    ----------
    design : PairedDesign
        The units.
    vS, vC : ndarray of float
        ``U(S)`` and ``U(~S)`` per unit.

    Returns
    -------
    (S, values, weights)
        Coalitions (both sides of every unit), their utilities and weights.
    """
    n = design.S.shape[1]
    rows = np.concatenate([design.S, ~design.S])
    sizes = rows.sum(axis=1)
    mu = np.array([0.0] + [(n - 1) / (comb(n, s) * s * (n - s)) for s in range(1, n)] + [0.0])
    weights = np.concatenate([design.weight, design.weight]) * mu[sizes]
    return rows, np.concatenate([vS, vC]), weights


def shapley_kernel(game: Game, budget: int, *, seed=None, chunk_size: int = 4096) -> ShapleyEstimate:
    """KernelSHAP with paired sampling: the Shapley values as a constrained weighted least-squares fit.

    The Shapley values are the solution of ``min_φ Σ_S μ(S) (U(S) − U(∅) − Σ_{i∈S} φ_i)²`` subject to
    ``Σ φ_i = U([N]) − U(∅)``, with the Shapley kernel ``μ(S) = (N−1)/(C(N,s) s (N−s))`` (Lundberg & Lee 2017,
    Theorem 2; Covert & Lee 2021, eq. (4)). The sum over all coalitions is replaced by a paired, size-stratified
    design: each coalition comes with its complement (Covert & Lee 2021, Section 4.2), sizes get units in
    proportion to the kernel's weight :func:`shapley_kernel_weights`, a size the budget can pay for in full is
    enumerated and the rest drawn without replacement, each weighted by the inverse of its sampling rate. Paired
    KernelSHAP is exact on games with interactions of order at most 2. The fit is consistent but not unbiased, and
    has no honest standard error of its own: ``std_errors`` are NaN.

    Parameters
    ----------
    game : Game
        The game; its utility is called on batches of coalitions.
    budget : int
        Maximum number of utility evaluations (at least 4; 2 for a single player): ``U(∅)``, ``U([N])`` and two
        per pair.
    seed : None, int or numpy.random.Generator, default=None
        Seed of the random generator (no global state is touched); see
        :func:`creditlib.validation.check_random_state`.
    chunk_size : int, default=4096
        Coalitions per utility call (at least 1); bounds memory, does not change the estimate.

    Returns
    -------
    ShapleyEstimate
        ``values`` (float64), ``std_errors`` NaN (none for a single player: zero), ``n_evaluations`` at most
        ``budget``, ``method`` ``"kernel"``.

    Raises
    ------
    TypeError
        ``budget`` or ``chunk_size`` not an integer, or a bad ``seed``.
    ValueError
        ``budget`` below the minimum, or ``chunk_size`` < 1.
    """
    share = shapley_kernel_weights(game.n_players) if game.n_players > 1 else np.zeros(0)
    return regression_estimate(game, budget, seed, chunk_size, share, "shapley_kernel", "kernel")
