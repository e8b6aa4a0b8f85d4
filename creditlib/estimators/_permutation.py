"""Monte Carlo over random permutations: the naive Shapley estimator (Lemma 10.2.6)."""
from __future__ import annotations

import numpy as np

from ..games import Game, empty_and_grand
from ..validation import check_int, check_random_state
from ._base import ShapleyEstimate, check_budget

__all__ = ["shapley_permutation"]


def shapley_permutation(game: Game, budget: int, *, seed=None, chunk_size: int = 512) -> ShapleyEstimate:
    """Monte Carlo over random permutations: the naive estimator of Lemma 10.2.6 (Definition 10.2.2).

    Each permutation π gives every player i one sample of its marginal gain
    ``U(π_{≤i}) − U(π_{<i})``; the estimate is the mean over permutations and its
    standard error the sample standard deviation over ``√m``. A permutation
    costs N − 1 evaluations (its proper non-empty prefixes); ``U(∅)`` and
    ``U([N])`` are shared by all permutations and paid once. So ``budget``
    buys ``m = (budget − 2) // (N − 1)`` permutations.

    Parameters
    ----------
    game : Game
        The game; its utility is called on batches of prefix coalitions.
    budget : int
        Maximum number of utility evaluations (at least N + 1; 2 for a single player).
    seed : None, int or numpy.random.Generator, default=None
        Seed of the random generator (no global state is touched): None for fresh
        entropy, an int for a reproducible stream, a Generator to be used (and advanced)
        as is; see :func:`creditlib.validation.check_random_state`.
    chunk_size : int, default=512
        Permutations evaluated per call of the utility (at least 1); it bounds memory and
        does not change the estimate.

    Returns
    -------
    ShapleyEstimate
        ``values`` the mean marginal gains (float64, shape ``(n_players,)``), ``std_errors``
        their standard errors (zeros for a single player, whose value ``U([N]) − U(∅)`` is
        exact), ``n_evaluations`` the evaluations spent (``2 + m (N − 1)`` ≤ ``budget``),
        ``method`` ``"permutation"``.

    Raises
    ------
    TypeError
        ``budget`` or ``chunk_size`` is not an integer, or ``seed`` is not a valid seed.
    ValueError
        ``budget`` below the minimum, or ``chunk_size`` < 1.
    """
    n = game.n_players
    budget = check_budget(budget, n + 1 if n > 1 else 2, n, "shapley_permutation")
    chunk_size = check_int(chunk_size, "chunk_size", low=1)
    rng = check_random_state(seed)
    start = game.evaluations
    ends = empty_and_grand(game)                                     # U(∅), U([N])
    m = (budget - 2) // (n - 1) if n > 1 else 0
    total = np.zeros(n)
    total_sq = np.zeros(n)
    for first in range(0, m, chunk_size):
        k = min(chunk_size, m - first)
        perms = rng.permuted(np.tile(np.arange(n), (k, 1)), axis=1)   # (k, n)
        position = np.empty_like(perms)
        position[np.arange(k)[:, None], perms] = np.arange(n)         # position of each player
        # prefix masks: prefix j holds the players at positions < j, for j = 1 .. n−1
        prefixes = position[:, None, :] < np.arange(1, n)[None, :, None]          # (k, n−1, n)
        inner = game(prefixes.reshape(-1, n)).astype(np.float64).reshape(k, n - 1)
        chain = np.concatenate([np.full((k, 1), float(ends[0])), inner, np.full((k, 1), float(ends[1]))], axis=1)
        gains_by_position = np.diff(chain, axis=1)                    # (k, n): gain of the j-th arrival
        gains = np.take_along_axis(gains_by_position, position, axis=1)           # (k, n) by player
        total += gains.sum(axis=0)
        total_sq += (gains**2).sum(axis=0)
    if m == 0:  # a single player: s_1 = U([N]) − U(∅)
        return ShapleyEstimate(np.array([float(ends[1] - ends[0])]), np.zeros(1), game.evaluations - start,
                               "permutation")
    mean = total / m
    var = np.maximum(total_sq / m - mean**2, 0.0) * m / max(m - 1, 1)
    return ShapleyEstimate(mean, np.sqrt(var / m), game.evaluations - start, "permutation")
