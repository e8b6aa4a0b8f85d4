"""Regression-adjusted Monte Carlo: a fitted proxy with closed-form Shapley values plus an unbiased sampled
correction of its residual (Witter, Liu & Musco 2025)."""
from __future__ import annotations

from math import comb

import numpy as np

from ..games import Game, empty_and_grand
from ..validation import check_int, check_random_state
from ._base import ShapleyEstimate, check_budget
from ._kernel import stratum_share
from ._sampling import evaluate_pairs, paired_design

__all__ = ["shapley_regression_adjusted", "proxy_features", "shapley_coefficients", "tree_shapley",
           "ensemble_shapley"]

PROXIES = ("linear", "quadratic", "sized", "forest", "boosted")
FOREST = {"n_estimators": 30, "min_samples_leaf": 1, "max_features": 1.0}   # the "forest" proxy's trees
BOOSTED = {"n_estimators": 100, "max_depth": 6, "learning_rate": 0.3, "subsample": 1.0}   # XGBoost's defaults
SIZE_POWERS = (2, 4)          # the "sized" proxy's x_i·u^k, u = (2|S| − N)/N
SIZED_ROWS_PER_FEATURE = 4    # below this many coalitions per feature in a half, "sized" falls back to "linear"


def proxy_features(S: np.ndarray, proxy: str) -> np.ndarray:
    """The proxy's features of each coalition: in ±1 coding ``x_i = 2·1[i∈S] − 1``, 1 and x_i (and x_i x_j,
    i < j), and the indicator of each size ``|S| = 0 .. N`` (a function of the size alone).

    Parameters
    ----------
    S : ndarray of bool, shape (k, n_players)
        Coalitions.
    proxy : {"linear", "quadratic", "sized"}
        Which terms; "sized" adds ``x_i u²`` and ``x_i u⁴`` with ``u = (2|S| − N)/N``: each player's effect
        varying with the coalition's size (odd terms of order 3 and 5, which paired samples see).

    Returns
    -------
    ndarray of float64, shape (k, 1 + N + (N + 1)), (k, 1 + N + (N + 1) + N(N−1)/2) or (k, 1 + 3N + (N + 1))
    """
    x = 2.0 * S - 1.0
    sizes = np.zeros((len(S), S.shape[1] + 1))
    sizes[np.arange(len(S)), S.sum(axis=1)] = 1.0
    columns = [np.ones((len(S), 1)), x, sizes]
    if proxy == "sized":
        u = (2.0 * S.sum(axis=1, keepdims=True) - S.shape[1]) / S.shape[1]
        columns += [x * u**k for k in SIZE_POWERS]
    if proxy == "quadratic":
        i, j = np.triu_indices(S.shape[1], k=1)
        columns.append(x[:, i] * x[:, j])
    return np.concatenate(columns, axis=1)


def shapley_coefficients(n_players: int, proxy: str) -> np.ndarray:
    """The Shapley value of each proxy feature, a matrix ``C`` with ``φ(g) = C θ`` for ``g = features · θ``.

    In ±1 coding, the game ``x_i`` pays 2 to player i (it is ``2·1[i∈S] − 1``), the constant pays nothing, a
    function of the size alone, symmetric in the players, pays each ``(h(N) − h(0))/N`` by efficiency, and
    ``x_i x_j`` is unchanged when a coalition is replaced by its complement, so it pays nothing (an even game has
    zero Shapley values: pair S with ``[N] ∖ S ∖ {i}`` in eq. (10.12)).

    Parameters
    ----------
    n_players : int
        N.
    proxy : {"linear", "quadratic", "sized"}
        Which terms.

    Returns
    -------
    ndarray of float64, shape (N, number of features)
    """
    n = n_players
    width = 1 + n + (n + 1) + (n * (n - 1) // 2 if proxy == "quadratic" else 0)
    C = np.zeros((n, width))
    C[np.arange(n), 1 + np.arange(n)] = 2.0
    C[:, 1 + n] = -1.0 / n                       # the indicator of |S| = 0
    C[:, 1 + n + n] = 1.0 / n                    # the indicator of |S| = N
    if proxy == "sized":
        blocks = [C]
        for k in SIZE_POWERS:
            own, other = _sized_payments(n, ((2.0 * np.arange(n + 1) - n) / n) ** k)
            blocks.append(np.where(np.eye(n, dtype=bool), own, other))
        C = np.concatenate(blocks, axis=1)
    return C


def _sized_payments(n: int, q: np.ndarray) -> tuple[float, float]:
    """Shapley values of the game ``x_i q(|S|)``: what player i gets, and what each other player gets.

    With ``x_i = 2 z_i − 1`` the game is ``Σ_j z_j β_j(|S|) + h(|S|)`` with ``β_i = 2q``, ``β_j = 0`` otherwise and
    ``h = −q``. Player j's marginal gain on a coalition T of size t without j is
    ``β_j(t+1) + Σ_{l∈T} (β_l(t+1) − β_l(t)) + h(t+1) − h(t)``, and averaged over the T of size t the sum over l
    counts each other player with probability ``t/(N−1)``; eq. (10.12) then averages over t with weight 1/N.
    """
    t = np.arange(n)
    step = q[1:] - q[:-1]
    own = float(np.sum(2.0 * q[1:] - step)) / n
    other = float(np.sum(2.0 * t / (n - 1) * step - step)) / n
    return own, other


def tree_shapley(tree, n_players: int) -> np.ndarray:
    """Exact Shapley values of the game ``S ↦ tree(1_S)``, a regression tree on the coalition's indicator.

    A leaf reached when the players P are in S and the players Q are out is the game ``1[P ⊆ S, Q ∩ S = ∅]``: in a
    random order, i ∈ P gains it when it comes last of P with all of Q after it, with probability
    ``(p−1)! q! / (p+q)!``, and j ∈ Q loses it when it comes after all of P and first of Q, ``p! (q−1)! / (p+q)!``;
    the tree's value is the sum over its leaves of leaf value times these.

    Parameters
    ----------
    tree : sklearn.tree._tree.Tree
        A fitted regression tree (``estimator.tree_``) whose features are the N indicators, split at 0.5.
    n_players : int
        N.

    Returns
    -------
    ndarray of float64, shape (N,)
    """
    phi = np.zeros(n_players)
    left, right, feature, value = tree.children_left, tree.children_right, tree.feature, tree.value[:, 0, 0]
    stack = [(0, [], [])]
    while stack:
        node, P, Q = stack.pop()
        if left[node] == -1:
            p, q = len(P), len(Q)
            if P:
                phi[P] += value[node] / ((p + q) * comb(p + q - 1, p - 1))
            if Q:
                phi[Q] -= value[node] / ((p + q) * comb(p + q - 1, q - 1))
            continue
        stack.append((left[node], P, Q + [int(feature[node])]))
        stack.append((right[node], P + [int(feature[node])], Q))
    return phi


def ensemble_shapley(model, n_players: int) -> np.ndarray:
    """Exact Shapley values of the game ``S ↦ model(1_S)``, a fitted random forest or gradient-boosted ensemble.

    By linearity of the Shapley value, an ensemble's values are its trees' (:func:`tree_shapley`) combined as its
    prediction combines them: a random forest averages its trees; gradient boosting adds to a constant (its initial
    prediction, which pays nothing) the learning rate times the sum of its trees.

    Parameters
    ----------
    model : sklearn.ensemble.RandomForestRegressor or sklearn.ensemble.GradientBoostingRegressor
        Fitted on the N indicators of coalitions (0 or 1, so every split is at 0.5), with squared-error loss.
    n_players : int
        N.

    Returns
    -------
    ndarray of float64, shape (N,)
    """
    from sklearn.ensemble import GradientBoostingRegressor
    if isinstance(model, GradientBoostingRegressor):
        trees = model.estimators_[:, 0]
        return model.learning_rate * np.sum([tree_shapley(t.tree_, n_players) for t in trees], axis=0)
    return np.mean([tree_shapley(t.tree_, n_players) for t in model.estimators_], axis=0)


def _fit_trees(proxy: str, Z: np.ndarray, target: np.ndarray, seed: int):
    """The "forest" or "boosted" proxy's ensemble, fitted on coalitions' indicators ``Z`` to ``target``."""
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    if proxy == "forest":
        return RandomForestRegressor(**FOREST, random_state=seed).fit(Z, target)
    return GradientBoostingRegressor(**BOOSTED, random_state=seed).fit(Z, target)


def _marginal_weights(S: np.ndarray) -> np.ndarray:
    """``c_i(S)``, the weight of ``U(S)`` in player i's Shapley value (eq. (10.12)): ``(s−1)!(N−s)!/N!`` if i ∈ S,
    ``−s!(N−s−1)!/N!`` if not."""
    n = S.shape[1]
    inside = np.array([0.0] + [1.0 / (n * comb(n - 1, s - 1)) for s in range(1, n + 1)])
    outside = np.array([1.0 / (n * comb(n - 1, s)) for s in range(n)] + [0.0])
    sizes = S.sum(axis=1)
    return np.where(S, inside[sizes][:, None], -outside[sizes][:, None])


def shapley_regression_adjusted(game: Game, budget: int, *, seed=None, proxy: str = "quadratic", folds: int = 5,
                                chunk_size: int = 4096) -> ShapleyEstimate:
    """Regression-adjusted Monte Carlo (Witter, Liu & Musco 2025, arXiv 2506.11849): proxy plus sampled correction.

    By linearity of the Shapley value, ``φ(U) = φ(g) + φ(U − g)`` for any proxy g. The coalitions come in a paired,
    size-stratified design (each S with its complement; size pair s drawn ``∝ 1/√(s(N−s))``, which minimises the
    variance for a residual of equal spread at every size; distinct pairs within a size pair; a size pair the budget
    can pay for is enumerated). The sampled pairs of each size are dealt into ``folds`` folds (cross-fitting).
    For each fold, a proxy linear or quadratic in the coalition's indicator, plus a function of its size (which
    takes the residual's mean at each size out of the correction), is fitted by least squares on the pairs outside
    the fold; its Shapley values come in closed form (:func:`shapley_coefficients`), and the residual's,
    ``φ(U − g)``, are the sum of eq. (10.12) over all coalitions, in which the fitted pairs count for themselves,
    the held-out pairs of a size stand for every pair of that size the proxy was not fitted on (the finite-population
    weights of shapiq's cross-fitting), and enumerated size pairs are summed exactly. Given the fitted pairs, the
    held-out ones are a uniform sample of the unseen pairs of their size, so each fold's estimate is unbiased once
    every size pair is sampled or enumerated (a budget of at least ``2 + 2·folds·⌊N/2⌋`` ensures it; below that,
    size pairs without pairs are left out of the correction), and so is the average over the folds that is
    returned; it is exact when the budget enumerates every coalition. The paper's gradient-boosted proxy (XGBoost)
    is available as scikit-learn's gradient boosting, ``proxy="boosted"``. A pair of coalitions ``S``,
    ``[N] ∖ S`` carries only the odd part of the game, so the proxy's pairwise terms (even in ±1 coding) fall out
    of the estimate: the two proxies give the same values up to round-off; ``"linear"`` is cheaper. On a game with
    interactions of order at most 2 the estimate is exact.

    Parameters
    ----------
    game : Game
        The game; its utility is called on batches of coalitions.
    budget : int
        Maximum number of utility evaluations (at least ``2 + 2·folds``, or ``2^N`` if that is fewer, which
        enumerates every coalition): ``U(∅)``, ``U([N])`` and two per pair, pairs of a sampled size drawn
        ``folds`` at a time (one per fold).
    seed : None, int or numpy.random.Generator, default=None
        Seed of the random generator (no global state is touched); see
        :func:`creditlib.validation.check_random_state`.
    proxy : {"linear", "quadratic", "sized", "forest", "boosted"}, default="quadratic"
        The proxy's terms besides a function of the size: 1 and ``x_i``; also ``x_i x_j`` ("quadratic"); or also
        ``x_i u²`` and ``x_i u⁴`` with ``u = (2|S| − N)/N`` ("sized": each player's effect varies with the size,
        odd terms that pairs do see), used when each fold's proxy has at least 4 coalitions per feature and
        replaced by "linear" below that; or "sized" plus a random forest (scikit-learn's, 30 trees) fitted to what
        it leaves, whose Shapley values are exact leaf by leaf (:func:`tree_shapley`): "forest"; or "sized" plus
        scikit-learn's gradient boosting (100 trees of depth 6, learning rate 0.3: XGBoost's defaults) fitted to
        what it leaves, its Shapley values the learning rate times the sum of its trees' (:func:`ensemble_shapley`):
        "boosted". The two tree proxies are the slowest (one fit per fold); benchmarks/shapley_sota.py compares
        them.
    folds : int, default=5
        Folds of the cross-fitting (at least 2): each proxy is fitted on ``(folds − 1)/folds`` of the sampled
        pairs. More folds fit better proxies and cost more fits.
    chunk_size : int, default=4096
        Coalitions per utility call (at least 1); bounds memory, does not change the estimate.

    Returns
    -------
    ShapleyEstimate
        ``values`` (float64), ``std_errors`` a conservative standard error: the mean of the folds' sampled standard
        errors (finite-population corrected; given its fitted pairs, a fold's estimate is unbiased, so its
        sampling error is all its error), which bounds the standard deviation of their average (the folds share
        pairs, so they are not independent; in the tests it is 1.1 to 1.9 times the spread over seeds); NaN while
        a sampled size pair has fewer than two pairs in a fold. ``n_evaluations`` at most ``budget``, ``method``
        ``"regression_adjusted"``.

    Raises
    ------
    TypeError
        ``budget``, ``folds`` or ``chunk_size`` not an integer, or a bad ``seed``.
    ValueError
        ``budget`` below the minimum, ``folds`` < 2, ``chunk_size`` < 1, or an unknown ``proxy``.
    """
    n = game.n_players
    if proxy not in PROXIES:
        raise ValueError(f"proxy must be one of {PROXIES}, got {proxy!r}.")
    folds = check_int(folds, "folds", low=2)
    budget = check_budget(budget, min(2 + 2 * folds, 2**n), n, "shapley_regression_adjusted")   # 2**N: enumerate
    chunk_size = check_int(chunk_size, "chunk_size", low=1)
    rng = check_random_state(seed)
    start = game.evaluations
    empty, grand = (float(v) for v in empty_and_grand(game))
    if n == 1:
        return ShapleyEstimate(np.array([grand - empty]), np.zeros(1), game.evaluations - start,
                               "regression_adjusted")
    s = np.arange(1, n, dtype=np.float64)
    design = paired_design(rng, n, (budget - 2) // 2, stratum_share(1.0 / np.sqrt(s * (n - s))), replace=False,
                           step=folds)
    vS, vC = evaluate_pairs(game, design.S, chunk_size)
    sampled = np.flatnonzero(~design.enumerated & (design.drawn > 0))
    fold = np.full(len(design.S), -1)                       # −1: an enumerated stratum, used by every fold
    for k in sampled:
        members = rng.permutation(np.flatnonzero(design.stratum == k))
        fold[members] = np.arange(len(members)) % folds
    ends = np.array([np.zeros(n, bool), np.ones(n, bool)])
    trees = proxy if proxy in ("forest", "boosted") else None
    if proxy in ("sized", "forest", "boosted"):
        few = 2 * int((fold != 0).sum()) + 2 < SIZED_ROWS_PER_FEATURE * (5 * n + 2)
        proxy = "linear" if few else "sized"                # too few coalitions to fit the size terms
    features = [proxy_features(design.S, proxy), proxy_features(~design.S, proxy), proxy_features(ends, proxy)]
    C = shapley_coefficients(n, proxy)
    weights = _marginal_weights(design.S)                   # (k, n)
    estimates, errors = [], []
    for held in range(folds):
        fit = fold != held
        X = np.concatenate([features[0][fit], features[1][fit], features[2]])
        y = np.concatenate([vS[fit], vC[fit], [empty, grand]])
        theta = np.linalg.lstsq(X, y, rcond=None)[0]
        gS, gC, g_ends, phi_g = features[0] @ theta, features[1] @ theta, features[2] @ theta, C @ theta
        if trees:                                           # trees on what the regression leaves
            Z = np.concatenate([design.S[fit], ~design.S[fit], ends]).astype(np.float64)
            model = _fit_trees(trees, Z, y - X @ theta, int(rng.integers(2**31)))
            gS = gS + model.predict(design.S.astype(np.float64))
            gC = gC + model.predict((~design.S).astype(np.float64))
            g_ends = g_ends + model.predict(ends.astype(np.float64))
            phi_g = phi_g + ensemble_shapley(model, n)
        residual = (vS - gS) - (vC - gC)                                        # r(S) − r([N] ∖ S)
        terms = residual[:, None] * weights                                     # (k, n)
        r_ends = np.array([empty, grand]) - g_ends
        value = phi_g + (r_ends[1] - r_ends[0]) / n + terms[fold == -1].sum(axis=0)
        variance = np.zeros(n)
        for k in sampled:
            seen, out = (design.stratum == k) & fit, terms[(design.stratum == k) & ~fit]
            unseen = design.units[k] - seen.sum()           # the pairs of size k the proxy was not fitted on
            value += terms[seen].sum(axis=0) + unseen * out.mean(axis=0)
            spread = out.var(axis=0, ddof=1) / len(out) * (1 - len(out) / unseen) if len(out) > 1 else np.nan
            variance += unseen ** 2 * spread
        estimates.append(value)
        errors.append(np.sqrt(variance))
    return ShapleyEstimate(np.mean(estimates, axis=0), np.mean(errors, axis=0), game.evaluations - start,
                           "regression_adjusted")
