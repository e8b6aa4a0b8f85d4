"""Stratified SVARM: Shapley values without marginal contributions, stratified by coalition size (Kolpaczki et al.
AAAI 2024)."""
from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np

from ..games import Game
from ..validation import check_int, check_random_state
from ._base import ShapleyEstimate, check_budget, random_subsets
from ._sampling import allocate_units

__all__ = ["shapley_stratified", "svarm_size_distribution"]


def svarm_size_distribution(n_players: int) -> np.ndarray:
    """Stratified SVARM's distribution of the sampled coalition sizes ``s = 2 .. N−2`` (Kolpaczki et al. 2024, Sec. 4).

    ``P(s) ∝ 1/min(s, N−s)``; for even N the middle size ``N/2`` gets ``1/(N log N)`` and the other sizes share
    the rest in the same proportions, as in the paper.

    Parameters
    ----------
    n_players : int
        N, at least 4.

    Returns
    -------
    ndarray of float64, shape (N−3,)
        Entry ``s − 2`` is the probability of size s.
    """
    n = check_int(n_players, "n_players", low=4)
    s = np.arange(2, n - 1)
    p = 1.0 / np.minimum(s, n - s)
    if n % 2 == 0 and n > 4:
        middle = s == n // 2
        p[~middle] *= (1.0 - 1.0 / (n * np.log(n))) / p[~middle].sum()
        p[middle] = 1.0 / (n * np.log(n))
    return p / p.sum()


def _exact_sizes(n: int) -> list[int]:
    return sorted({0, 1, n - 1, n} & set(range(n + 1)))


def _all_of_size(n: int, size: int) -> np.ndarray:
    if size in (0, n):
        return np.full((1, n), size == n)
    combos = list(combinations(range(n), size))
    masks = np.zeros((len(combos), n), bool)
    masks[np.repeat(np.arange(len(combos)), size), np.array(combos).ravel()] = True
    return masks


def shapley_stratified(game: Game, budget: int, *, seed=None, chunk_size: int = 4096) -> ShapleyEstimate:
    """Stratified SVARM (Kolpaczki, Bengs, Muschalik & Hüllermeier, AAAI 2024): each evaluation updates every player.

    The Shapley value is split into strata by size and membership (their eq. (3)):
    ``φ_i = (1/N) Σ_{ℓ=0}^{N−1} (φ⁺_{i,ℓ} − φ⁻_{i,ℓ})``, with ``φ⁺_{i,ℓ}`` the mean utility of the coalitions of
    size ℓ+1 that contain i and ``φ⁻_{i,ℓ}`` that of the coalitions of size ℓ that do not. The strata of sizes
    0, 1, N−1 and N are computed exactly first (``2N + 2`` evaluations, their warm-up); the rest of the budget is
    shared among sizes 2 .. N−2 in proportion to :func:`svarm_size_distribution`, a size whose share pays for
    all its coalitions being enumerated too (shapiq's "border trick"), the others getting that many coalitions
    drawn uniformly (fixed numbers per size, where the paper draws the size at random). Each sampled
    coalition A updates one stratum of every player: ``φ⁺_{i,|A|−1}`` for i ∈ A, ``φ⁻_{i,|A|}`` for i ∉ A. A stratum still empty at the end takes
    the mean of all sampled coalitions of its size (the paper leaves it at 0), so that a small budget does not
    bias the estimate towards zero. The estimate is consistent, unbiased once every stratum is sampled. The
    standard error treats each player's strata as independent means (which they are, given their counts); a
    stratum with fewer than two samples borrows the variance of its size (an approximation at small budgets), and
    the standard error is NaN while some sampled size has fewer than two samples.

    Parameters
    ----------
    game : Game
        The game; its utility is called on batches of coalitions.
    budget : int
        Maximum number of utility evaluations: at least the warm-up, ``2N + 2`` for N ≥ 4 (2, 4 and 8 for
        N = 1, 2, 3, where the warm-up is every coalition and the estimate exact).
    seed : None, int or numpy.random.Generator, default=None
        Seed of the random generator (no global state is touched); see
        :func:`creditlib.validation.check_random_state`.
    chunk_size : int, default=4096
        Coalitions per utility call (at least 1); bounds memory, does not change the estimate.

    Returns
    -------
    ShapleyEstimate
        ``values`` (float64), ``std_errors`` (zeros where every stratum is exact), ``n_evaluations`` at most
        ``budget``, ``method`` ``"stratified"``.

    Raises
    ------
    TypeError
        ``budget`` or ``chunk_size`` not an integer, or a bad ``seed``.
    ValueError
        ``budget`` below the warm-up, or ``chunk_size`` < 1.
    """
    n = game.n_players
    exact_sizes = _exact_sizes(n)
    warm = np.concatenate([_all_of_size(n, s) for s in exact_sizes])
    budget = check_budget(budget, len(warm), n, "shapley_stratified")
    chunk_size = check_int(chunk_size, "chunk_size", low=1)
    rng = check_random_state(seed)
    start = game.evaluations
    m = budget - len(warm) if n >= 4 else 0
    blocks = [warm]
    if m:   # sizes 2 .. N−2: enumerated where the budget's share pays for all of them, the rest drawn in fixed numbers
        middle = np.arange(2, n - 1)
        counts = np.array([comb(n, int(k)) for k in middle], dtype=np.float64)
        full, drawn = allocate_units(m, svarm_size_distribution(n), counts)
        exact_sizes = exact_sizes + [int(k) for k in middle[full]]
        blocks += [_all_of_size(n, int(k)) for k in middle[full]]
        sizes = np.repeat(middle[~full], drawn[~full])
        blocks.append(random_subsets(rng, rng.permutation(sizes), n))
    masks = np.concatenate(blocks)
    v = np.concatenate([np.asarray(game(masks[i:i + chunk_size]), dtype=np.float64)
                        for i in range(0, len(masks), chunk_size)])
    onehot = np.zeros((len(masks), n + 1))
    onehot[np.arange(len(masks)), masks.sum(axis=1)] = 1.0
    inside, outside = masks.astype(np.float64), (~masks).astype(np.float64)
    # by player i and coalition size t: sums, squares and counts of U(A) over A ∋ i (plus) and A ∌ i (minus)
    stats = [(M.T @ (v[:, None] * onehot), M.T @ (v[:, None] ** 2 * onehot), M.T @ onehot) for M in (inside, outside)]
    size_n = onehot.sum(axis=0)
    size_mean = (v @ onehot) / np.maximum(size_n, 1)
    size_var = np.maximum((v**2 @ onehot) / np.maximum(size_n, 1) - size_mean**2, 0) * size_n / np.maximum(size_n - 1, 1)
    exact = np.isin(np.arange(n + 1), exact_sizes)
    means, variances = [], []
    for total, squares, count in stats:
        mean = np.where(count > 0, total / np.maximum(count, 1), size_mean)
        var = np.maximum(squares / np.maximum(count, 1) - mean**2, 0) * count / np.maximum(count - 1, 1)
        var = np.where(count >= 2, var, np.where(size_n >= 2, size_var, np.nan)) / np.maximum(count, 1)
        variances.append(np.where(exact, 0.0, var))
        means.append(mean)
    # φ⁺_{i,ℓ} is the plus-mean at size ℓ+1, φ⁻_{i,ℓ} the minus-mean at size ℓ, ℓ = 0 .. N−1
    values = (means[0][:, 1:] - means[1][:, :-1]).sum(axis=1) / n
    std = np.sqrt(variances[0][:, 1:].sum(axis=1) + variances[1][:, :-1].sum(axis=1)) / n
    return ShapleyEstimate(values, std, game.evaluations - start, "stratified")
