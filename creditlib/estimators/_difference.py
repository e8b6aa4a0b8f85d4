"""The matched-difference Shapley estimator of Problem 10.2.7: one anchor player's value estimated directly, every
other player's as its difference from the anchor, from coalitions drawn by size (stratified)."""
from __future__ import annotations

import numpy as np

from ..games import Game, empty_and_grand
from ..validation import as_numpy, check_index, check_int, check_open_unit, check_random_state
from ._base import ShapleyEstimate, check_budget, random_subsets

__all__ = ["difference_allocation", "difference_terms", "shapley_difference"]


def difference_allocation(n_players: int, budget: int) -> np.ndarray:
    """Draws per coalition size k = 0 .. N−2 for :func:`shapley_difference`, costing at most ``budget``.

    A draw of size k costs N − k evaluations. Every size gets 2 draws (for a
    standard error); the rest of the budget is split equally between sizes,
    so size k gets about ``budget / ((N − 1)(N − k))`` draws: ``p(|S| = k) ∝ 1/(N − k)``.

    Parameters
    ----------
    n_players : int
        Number of players N (at least 2).
    budget : int
        Utility evaluations available for the differences.

    Returns
    -------
    ndarray of int64, shape (n_players − 1,)
        Draws of each size k = 0 .. N−2; their cost ``Σ_k draws[k] · (N − k)`` is at most ``budget``.

    Raises
    ------
    ValueError
        ``budget`` cannot buy two draws of each size (``2 Σ_k (N − k)`` evaluations).
    """
    n = n_players
    cost = n - np.arange(n - 1)                                  # N − k
    spare = budget - 2 * int(cost.sum())
    if spare < 0:
        raise ValueError(f"A budget of {budget} cannot buy two draws of each size ({2 * int(cost.sum())}).")
    return 2 + spare // ((n - 1) * cost)


def _naive_anchor_budget(budget: int, anchor_fraction: float, minimum_draws: int) -> int:
    """Evaluations for the naive anchor: about ``anchor_fraction · budget``, even, at least 4, leaving
    ``minimum_draws`` for the differences."""
    anchor_budget = max(4, int(anchor_fraction * budget) // 2 * 2)
    anchor_budget = min(anchor_budget, budget - minimum_draws)
    return anchor_budget - anchor_budget % 2


def _naive_anchor(game: Game, rng: np.random.Generator, player: int, m: int) -> tuple[float, float]:
    """Step 1 of :func:`shapley_difference` with ``anchor="naive"``: ``s_player`` by Definition 10.2.3.

    ``m`` samples of ``U(S ∪ {a}) − U(S)`` with ``|S|`` uniform on {0..N−1} and S a uniform subset of
    that size avoiding ``a`` (``2m`` evaluations in one utility call). Returns the sample mean and its
    variance (squared standard error).
    """
    n = game.n_players
    sizes = rng.integers(0, n, size=m)                           # k uniform on {0..N−1}
    S = random_subsets(rng, sizes, n, exclude=np.full(m, player))
    with_a = S.copy()
    with_a[:, player] = True
    u = game(np.concatenate([with_a, S])).astype(np.float64)
    gains = u[:m] - u[m:]
    return gains.mean(), gains.var(ddof=1) / m


def _difference_strata(game: Game, rng: np.random.Generator, draws: np.ndarray, anchor_player: int,
                       chunk_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step 2 of :func:`shapley_difference`: ``D_i``, an unbiased estimate of ``s_i − s̄``, stratum by stratum.

    ``draws[k]`` uniform k-subsets S for each size k = 0 .. N−2; each costs the N − k evaluations
    ``U(S ∪ {i})``, ``i ∉ S`` (in utility calls of at most ``chunk_size`` coalitions). Returns ``D``,
    its variance, and the variance of ``D_i − D_anchor_player`` (all of shape ``(N,)``).
    """
    n = game.n_players
    D = np.zeros(n)
    D_var = np.zeros(n)
    D_minus_anchor_var = np.zeros(n)
    for k, m_k in zip(np.arange(n - 1), draws):
        S = random_subsets(rng, np.full(m_k, k), n)                 # (m_k, n), uniform k-subsets
        terms = difference_terms(game, S, chunk_size=chunk_size)
        D += terms.mean(axis=0)
        D_var += terms.var(axis=0, ddof=1) / m_k
        D_minus_anchor_var += (terms - terms[:, [anchor_player]]).var(axis=0, ddof=1) / m_k
    return D, D_var, D_minus_anchor_var


def difference_terms(utility, subsets: np.ndarray, *, chunk_size: int = 4096) -> np.ndarray:
    """One sample of ``s_i − s̄`` per draw, from draws of one size k (step 2 of :func:`shapley_difference`).

    For a draw S (a k-subset of [N], k ≤ N − 2) and ``v_i = U(S ∪ {i})`` for every outsider ``i ∉ S``,
    player i's term is ``1[i ∉ S] · (v_i − mean_{j ∉ S} v_j) / (N − k − 1)``: Theorem 10.2.8's pair
    differences ``v_i − v_j``, reweighted by ``N(N−1)/((N−k)(N−k−1))`` (the inverse chance that both
    are outsiders) and averaged over the N partners j (Problem 10.2.7). Its mean over uniform
    k-subsets, summed over k = 0 .. N−2, is ``s_i − s̄`` with ``s̄ = (U([N]) − U(∅))/N``.

    Parameters
    ----------
    utility : callable
        ``utility(masks) -> values`` on a boolean ``(r, N)`` array, e.g. a :class:`Game`.
    subsets : ndarray of bool, shape (m, N)
        The draws S, one per row, all of the same size k ≤ N − 2.
    chunk_size : int, default=4096
        Coalitions per call of ``utility`` (at least 1); it does not change the result.

    Returns
    -------
    ndarray of shape (m, N)
        Row r holds every player's term for draw r (0 for the members of S); float64.

    Raises
    ------
    ValueError
        ``subsets`` is not a boolean (m, N) array with m ≥ 1 whose rows have one common size ≤ N − 2,
        or ``chunk_size`` < 1.
    """
    S = as_numpy(subsets)
    if S.dtype != bool or S.ndim != 2 or len(S) == 0:
        raise ValueError(f"subsets must be a boolean array of shape (m, N) with m ≥ 1; got shape {S.shape} "
                         f"and dtype {S.dtype}.")
    m_k, n = S.shape
    sizes = S.sum(axis=1)
    k = int(sizes[0])
    if (sizes != k).any() or k > n - 2:
        raise ValueError(f"every draw must have the same size k ≤ N − 2 = {n - 2}; "
                         f"got sizes {sorted(set(sizes.tolist()))}.")
    chunk_size = check_int(chunk_size, "chunk_size", low=1)
    outsider_rows, outsider_cols = np.nonzero(~S)               # N − k outsiders per draw
    T = S[outsider_rows].copy()
    T[np.arange(len(T)), outsider_cols] = True                  # S ∪ {i}
    v = np.concatenate([as_numpy(utility(T[i:i + chunk_size])).astype(np.float64)
                        for i in range(0, len(T), chunk_size)])
    v = v.reshape(m_k, n - k)
    players = outsider_cols.reshape(m_k, n - k)
    terms = np.zeros((m_k, n))
    terms[np.arange(m_k)[:, None], players] = (v - v.mean(axis=1, keepdims=True)) / (n - k - 1)
    return terms


def shapley_difference(game: Game, budget: int, *, seed=None, anchor: str = "naive",
                       anchor_player: int = 0, anchor_fraction: float | None = None,
                       chunk_size: int = 4096) -> ShapleyEstimate:
    """The "better approximation" of Section 10.2.2: estimate all differences ``s_i − s_j`` (Theorem 10.2.8)
    from shared random coalitions, then fix the common offset (Problem 10.2.7).

    Three steps, in the order the random draws are made:

    **1. Offset.** ``anchor="naive"`` (the chapter's step 1) estimates
    ``s_anchor`` by Definition 10.2.3 sampling (U(S ∪ {a}) − U(S), two evaluations
    each) with a fraction of the budget (default ``√(2/N)/(1 + √(2/N))``, which
    balances the anchor's error, added to every player, against the
    differences' error). ``anchor="efficiency"`` uses the efficiency axiom instead:
    ``s̄ = (U([N]) − U(∅))/N`` exactly, for two evaluations.

    **2. Differences.** Theorem 10.2.8 says ``s_i − s_j = E_k E_S [U(S ∪ {i}) − U(S ∪ {j})]``
    with k uniform on {0..N−2} and S a uniform k-subset of ``[N]∖{i, j}``. Draw
    one uniform k-subset S of all of ``[N]`` and evaluate ``v_i = U(S ∪ {i})`` for
    every outsider ``i ∉ S`` (N − k evaluations). That single draw gives a sample
    of ``U(S ∪ {i}) − U(S ∪ {j})`` for *every* pair of outsiders at once, and the
    common level of U cancels inside the draw. Averaging over partners j, with
    the reweighting ``N(N−1)/((N−k)(N−k−1))`` that corrects for both i and j
    having to be outsiders, gives the unbiased estimate

        ``D_i = Σ_k mean over size-k draws of 1[i ∉ S] · (v_i − mean_{j∉S} v_j) / (N − k − 1)``

    of ``s_i − s̄`` (s̄ the mean Shapley value). Sizes are sampled by stratum
    with equal budget per size (``p(|S| = k) ∝ 1/(N − k)`` draws), see
    :func:`difference_allocation`. If marginal gains are bounded by R, each
    draw's term is at most 2R/(N−k−1), so every stratum's variance falls like
    ``1/(budget per stratum)``.

    **3. Combine.** Naive anchor: ``ŝ_i = ŝ_a + D_i − D_a``; efficiency anchor: ``ŝ_i = D_i + s̄``.

    Parameters
    ----------
    game : Game
        The game (at least 2 players).
    budget : int
        Maximum number of utility evaluations; at least what two draws of each
        size cost plus the anchor (the error says how much).
    seed : None, int or numpy.random.Generator, default=None
        Seed of the random generator (no global state is touched): None for fresh
        entropy, an int for a reproducible stream, a Generator to be used (and advanced)
        as is; see :func:`creditlib.validation.check_random_state`.
    anchor : {"naive", "efficiency"}, default="naive"
        How the common offset is fixed (step 1).
    anchor_player : int, default=0
        The player anchored by the naive method, an index in ``0 .. N−1``.
    anchor_fraction : float, optional
        Share of the budget for the naive anchor, strictly between 0 and 1
        (default ``√(2/N)/(1 + √(2/N))``).
    chunk_size : int, default=4096
        Coalitions per call of the utility in step 2 (at least 1); it bounds memory and
        does not change the estimate.

    Returns
    -------
    ShapleyEstimate
        ``values`` and ``std_errors`` (float64, shape ``(n_players,)``; with the naive anchor
        the anchor player's error is the anchor's alone), ``n_evaluations`` ≤ ``budget``,
        ``method`` ``"difference (naive anchor)"`` or ``"difference (efficiency anchor)"``.

    Raises
    ------
    TypeError
        ``budget`` or ``chunk_size`` is not an integer, or ``seed`` is not a valid seed.
    ValueError
        Fewer than 2 players, an unknown ``anchor``, ``anchor_player`` out of range,
        ``anchor_fraction`` outside (0, 1), ``chunk_size`` < 1, or ``budget`` below the minimum.
    """
    n = game.n_players
    if n < 2:
        raise ValueError("shapley_difference needs at least 2 players.")
    if anchor not in ("naive", "efficiency"):
        raise ValueError(f"anchor must be 'naive' or 'efficiency', got {anchor!r}.")
    anchor_player = check_index(anchor_player, "anchor_player", n)
    chunk_size = check_int(chunk_size, "chunk_size", low=1)
    if anchor_fraction is None:
        anchor_fraction = np.sqrt(2 / n) / (1 + np.sqrt(2 / n))
    anchor_fraction = check_open_unit(anchor_fraction, "anchor_fraction")
    minimum_draws = int((2 * (n - np.arange(n - 1))).sum())
    budget = check_budget(budget, minimum_draws + (2 if anchor == "efficiency" else 4), n, "shapley_difference")
    rng = check_random_state(seed)
    start = game.evaluations

    # 1. the offset
    if anchor == "efficiency":
        ends = empty_and_grand(game)
        offset = float(ends[1] - ends[0]) / n
        difference_budget = budget - 2
    else:
        anchor_budget = _naive_anchor_budget(budget, anchor_fraction, minimum_draws)
        anchor_value, anchor_var = _naive_anchor(game, rng, anchor_player, anchor_budget // 2)
        difference_budget = budget - anchor_budget

    # 2. the differences, stratum by stratum
    D, D_var, D_minus_anchor_var = _difference_strata(game, rng, difference_allocation(n, difference_budget),
                                                      anchor_player, chunk_size)

    # 3. combine
    spent = game.evaluations - start
    if anchor == "efficiency":
        return ShapleyEstimate(D + offset, np.sqrt(D_var), spent, "difference (efficiency anchor)")
    values = anchor_value + D - D[anchor_player]
    std = np.sqrt(anchor_var + D_minus_anchor_var)
    std[anchor_player] = np.sqrt(anchor_var)
    return ShapleyEstimate(values, std, spent, "difference (naive anchor)")
