"""Antithetic permutation sampling: each random order with its reverse (SHAP's permutation explainer)."""
from __future__ import annotations

import numpy as np

from ..games import Game, empty_and_grand
from ..validation import check_int, check_random_state
from ._base import ShapleyEstimate, check_budget

__all__ = ["shapley_antithetic"]


def shapley_antithetic(game: Game, budget: int, *, seed=None, chunk_size: int = 256) -> ShapleyEstimate:
    """Antithetic (paired) permutation sampling: Lemma 10.2.6's estimator over pairs of reversed orders.

    Each random order π is used with its reverse; a pair gives every player i the sample
    ``½ [Δ_i(π) + Δ_i(reverse π)]`` of its marginal gains, whose mean over pairs is unbiased (each order is
    uniform). In π and its reverse, the players before i are S and ``[N] ∖ S ∖ {i}``: for a game with
    interactions of order at most 2, the marginal gain is affine in the indicator of S and the pair averages it
    to the exact Shapley value (SHAP's ``PermutationExplainer`` samples orders this way). A pair costs
    ``2 (N − 1)`` evaluations, ``U(∅)`` and ``U([N])`` being paid once: ``budget`` buys
    ``m = (budget − 2) // (2 (N − 1))`` pairs. The standard error is the sample standard deviation over pairs
    divided by ``√m`` (pairs are independent); NaN when ``m = 1``.

    Parameters
    ----------
    game : Game
        The game; its utility is called on batches of prefix coalitions.
    budget : int
        Maximum number of utility evaluations (at least 2N; 2 for a single player).
    seed : None, int or numpy.random.Generator, default=None
        Seed of the random generator (no global state is touched); see
        :func:`creditlib.validation.check_random_state`.
    chunk_size : int, default=256
        Pairs of orders per utility call (at least 1); bounds memory, does not change the estimate.

    Returns
    -------
    ShapleyEstimate
        ``values`` the mean paired gains (float64), ``std_errors`` their standard errors (zeros for a single
        player), ``n_evaluations`` ``2 + 2 m (N − 1)`` ≤ ``budget``, ``method`` ``"antithetic"``.

    Raises
    ------
    TypeError
        ``budget`` or ``chunk_size`` not an integer, or a bad ``seed``.
    ValueError
        ``budget`` below the minimum, or ``chunk_size`` < 1.
    """
    n = game.n_players
    budget = check_budget(budget, 2 * n if n > 1 else 2, n, "shapley_antithetic")
    chunk_size = check_int(chunk_size, "chunk_size", low=1)
    rng = check_random_state(seed)
    start = game.evaluations
    ends = np.asarray(empty_and_grand(game), dtype=np.float64)
    if n == 1:
        return ShapleyEstimate(np.array([ends[1] - ends[0]]), np.zeros(1), game.evaluations - start, "antithetic")
    m = (budget - 2) // (2 * (n - 1))
    total, total_sq = np.zeros(n), np.zeros(n)
    for first in range(0, m, chunk_size):
        k = min(chunk_size, m - first)
        perms = rng.permuted(np.tile(np.arange(n), (k, 1)), axis=1)
        orders = np.concatenate([perms, perms[:, ::-1]])                  # (2k, n): π, then reverse π
        position = np.empty_like(orders)
        position[np.arange(2 * k)[:, None], orders] = np.arange(n)
        prefixes = position[:, None, :] < np.arange(1, n)[None, :, None]  # (2k, n−1, n)
        inner = np.asarray(game(prefixes.reshape(-1, n)), dtype=np.float64).reshape(2 * k, n - 1)
        chain = np.concatenate([np.full((2 * k, 1), ends[0]), inner, np.full((2 * k, 1), ends[1])], axis=1)
        gains = np.take_along_axis(np.diff(chain, axis=1), position, axis=1)  # (2k, n) by player
        paired = 0.5 * (gains[:k] + gains[k:])
        total += paired.sum(axis=0)
        total_sq += (paired**2).sum(axis=0)
    mean = total / m
    if m == 1:
        return ShapleyEstimate(mean, np.full(n, np.nan), game.evaluations - start, "antithetic")
    var = np.maximum(total_sq / m - mean**2, 0.0) * m / (m - 1)
    return ShapleyEstimate(mean, np.sqrt(var / m), game.evaluations - start, "antithetic")
