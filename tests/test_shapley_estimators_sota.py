"""The state-of-the-art Shapley estimators (issue 23): antithetic permutations, Stratified SVARM, paired KernelSHAP,
Leverage SHAP and regression-adjusted Monte Carlo, and the games with closed-form Shapley values they are judged on.

Oracles: the definition over all N! orders (tests/oracles.py), ``shapley_exact`` over all coalitions, exact
rationals, closed forms worked by hand, and the empirical spread over many seeds."""
from __future__ import annotations

import itertools
from fractions import Fraction
from math import comb

import numpy as np
import pytest

from creditlib.coalitions import coalition_codes
from creditlib.estimators._regression_adjusted import (ensemble_shapley, proxy_features, shapley_coefficients,
                                                       tree_shapley)
from creditlib.estimators._kernel import design_rows
from creditlib.estimators._sampling import paired_design
from creditlib.estimators import (shapley_antithetic, shapley_kernel, shapley_kernel_weights, shapley_leverage,
                                  shapley_regression_adjusted, shapley_stratified)
from creditlib.game_builders import airport_game, pairwise_game, sparse_unanimity_game
from creditlib.games import Game
from creditlib.shapley import shapley_exact
from oracles import shapley_by_permutations

NEW = [shapley_antithetic, shapley_stratified, shapley_kernel, shapley_leverage, shapley_regression_adjusted]
MINIMUM = {shapley_antithetic: lambda n: 2 * n, shapley_stratified: lambda n: {1: 2, 2: 4, 3: 8}.get(n, 2 * n + 2),
           shapley_kernel: lambda n: 4, shapley_leverage: lambda n: 4,
           shapley_regression_adjusted: lambda n: min(12, 2**n)}
PAIRED = [shapley_antithetic, shapley_kernel, shapley_leverage, shapley_regression_adjusted]
UNBIASED = [shapley_antithetic, shapley_stratified, shapley_regression_adjusted]


def table_game(n, seed, integers=False):
    rng = np.random.default_rng(seed)
    table = rng.integers(-20, 21, size=2**n).astype(float) if integers else rng.normal(size=2**n)
    return Game(n, lambda masks: table[coalition_codes(masks)])


# ---------------------------------------------------------------------------- the games' closed forms
@pytest.mark.parametrize("make", [lambda: pairwise_game(6, seed=1), lambda: sparse_unanimity_game(6, 8, 3, 6, seed=2),
                                  lambda: airport_game([3.0, 1.0, 4.0, 1.0, 5.0, 9.0])])
def test_closed_form_values_match_the_definition_over_all_orders(make):
    game = make()
    np.testing.assert_allclose(game.info["shapley_values"], shapley_by_permutations(game), atol=1e-12)


def test_airport_game_by_hand():
    # costs 1, 3, 6: the first stretch (1) is shared by 3, the second (2) by 2, the third (3) by 1
    game = airport_game([6.0, 1.0, 3.0])
    np.testing.assert_allclose(game.info["shapley_values"], [1 / 3 + 1 + 3, 1 / 3, 1 / 3 + 1])
    assert game(np.array([True, False, True])) == 6.0 and game(np.zeros(3, bool)) == 0.0


def test_sparse_unanimity_orders_lie_in_range_and_builders_are_seeded():
    game = sparse_unanimity_game(20, 30, 5, 9, seed=4)
    assert all(5 <= len(T) <= 9 for T in game.dividends)
    same = sparse_unanimity_game(20, 30, 5, 9, seed=4)
    assert game.dividends == same.dividends
    np.testing.assert_array_equal(pairwise_game(5, seed=3).info["B"], pairwise_game(5, seed=3).info["B"])
    with pytest.raises(ValueError, match="non-negative"):
        airport_game([1.0, -2.0])
    with pytest.raises(ValueError):
        sparse_unanimity_game(5, 3, 4, 2)


# ---------------------------------------------------------------------------- the Shapley kernel
@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_kernel_weights_sum_the_kernel_over_every_coalition(n):
    # Lundberg & Lee's kernel (N−1)/(C(N,|S|)|S|(N−|S|)), summed coalition by coalition, normalised
    totals = [Fraction(0)] * (n - 1)
    for r in range(1, n):
        for _ in itertools.combinations(range(n), r):
            totals[r - 1] += Fraction(n - 1, comb(n, r) * r * (n - r))
    expected = [float(t / sum(totals)) for t in totals]
    np.testing.assert_allclose(shapley_kernel_weights(n), expected, rtol=1e-13)


def test_kernel_weights_by_hand_and_bad_input():
    np.testing.assert_allclose(shapley_kernel_weights(4), [1 / 3 / (1 / 3 + 1 / 4 + 1 / 3), 1 / 4 / (11 / 12),
                                                           1 / 3 / (11 / 12)])
    with pytest.raises(ValueError):
        shapley_kernel_weights(1)


# ---------------------------------------------------------------------------- the paired design
def test_paired_design_weights_give_unbiased_sums_over_all_coalitions():
    # Σ_units weight · f(S) estimates Σ over every unit {S, [N]∖S} of f(S) + f([N]∖S), for an f that no
    # symmetry makes easy; the units are enumerated by brute force (N = 7: all 126 proper pairs)
    n = 7
    f = np.random.default_rng(0).normal(size=2**n)
    codes = lambda masks: coalition_codes(masks)                          # noqa: E731
    total = sum(f[c] + f[(2**n - 1) ^ c] for c in range(1, 2**n - 1)) / 2
    gen = np.random.default_rng(1)
    sums = []
    for _ in range(3000):
        d = paired_design(gen, n, 14, np.array([2.0, 1.0, 1.0]), replace=True)
        sums.append(np.sum(d.weight * (f[codes(d.S)] + f[codes(~d.S)])))
    assert d.enumerated[0] and not d.enumerated[1:].any()                 # the 7 pairs of size 1 fit in
    assert list(d.drawn[1:]) == [4, 3]
    assert abs(np.mean(sums) - total) < 5 * np.std(sums) / np.sqrt(len(sums))


def test_kernel_rows_give_an_unbiased_shapley_kernel_gram_matrix():
    # Σ_rows w zzᵀ over the design estimates Σ_S μ(S) zzᵀ over every proper coalition, μ the Shapley kernel
    # (N−1)/(C(N,|S|)|S|(N−|S|)) (Lundberg & Lee 2017), enumerated here by brute force
    n = 6
    full = np.zeros((n, n))
    for r in range(1, n):
        for T in itertools.combinations(range(n), r):
            z = np.zeros(n)
            z[list(T)] = 1
            full += (n - 1) / (comb(n, r) * r * (n - r)) * np.outer(z, z)
    gen = np.random.default_rng(2)
    grams = []
    for _ in range(3000):
        d = paired_design(gen, n, 9, np.array([1.0, 1.0, 1.0]), replace=True)
        rows, _, w = design_rows(d, np.zeros(len(d.S)), np.zeros(len(d.S)))
        grams.append((w[:, None, None] * rows[:, :, None] * rows[:, None, :]).sum(axis=0))
    grams = np.array(grams)
    se = grams.std(axis=0) / np.sqrt(len(grams))
    assert (np.abs(grams.mean(axis=0) - full) <= 5 * se + 1e-12).all()


# ---------------------------------------------------------------------------- exact where they should be
@pytest.mark.parametrize("estimator", PAIRED, ids=lambda f: f.__name__)
def test_paired_estimators_are_exact_on_a_pairwise_game(estimator):
    # interactions of order ≤ 2: an order with its reverse, or a coalition with its complement, gives the exact value
    game = pairwise_game(12, seed=5)
    estimate = estimator(game, 300, seed=0)
    np.testing.assert_allclose(estimate.values, game.info["shapley_values"], atol=1e-9)


@pytest.mark.parametrize("estimator", [shapley_kernel, shapley_leverage, shapley_regression_adjusted],
                         ids=lambda f: f.__name__)
def test_a_budget_of_every_coalition_gives_the_exact_values(estimator):
    game = table_game(6, seed=1)
    estimate = estimator(game, 2**6, seed=0)
    np.testing.assert_allclose(estimate.values, shapley_by_permutations(table_game(6, seed=1)), atol=1e-10)
    assert estimate.n_evaluations == 2**6                      # each coalition once


@pytest.mark.parametrize("estimator", NEW, ids=lambda f: f.__name__)
def test_small_games_are_exact_at_their_smallest_sufficient_budget(estimator):
    for n in (1, 2):
        game = table_game(n, seed=n)
        budget = max(2**n, MINIMUM[estimator](n) if n > 1 else 2)
        np.testing.assert_allclose(estimator(game, budget, seed=0).values, shapley_exact(game), atol=1e-12)


def test_stratified_is_exact_on_three_players_and_its_warm_up_strata():
    game = table_game(3, seed=7)
    estimate = shapley_stratified(game, 8, seed=0)
    np.testing.assert_allclose(estimate.values, shapley_by_permutations(game), atol=1e-12)
    np.testing.assert_array_equal(estimate.std_errors, 0.0)


@pytest.mark.parametrize("estimator", NEW, ids=lambda f: f.__name__)
def test_estimators_converge_on_high_order_games(estimator):
    for game in (sparse_unanimity_game(10, 12, 4, 8, seed=1), airport_game(np.random.default_rng(2).uniform(size=10))):
        estimate = estimator(game, 900, seed=3)
        exact = game.info["shapley_values"]
        assert np.abs(estimate.values - exact).max() < 0.25 * np.abs(exact).max()


# ---------------------------------------------------------------------------- unbiasedness
def test_antithetic_is_unbiased_over_its_whole_sample_space():
    # One pair of orders on 4 players: the sample space is the 12 pairs {π, reverse π}, equally likely. Integer
    # utilities make each estimate an exact dyadic rational; seeds are drawn until all 12 have appeared.
    game = table_game(4, seed=11, integers=True)
    seen = {}
    for seed in range(400):
        values = shapley_antithetic(game, 8, seed=seed).values
        seen[tuple(values)] = values
        if len(seen) == 12:
            break
    assert len(seen) == 12
    mean = [sum(Fraction(v[i]) for v in seen.values()) / 12 for i in range(4)]
    assert mean == [Fraction(x) for x in shapley_exact(game, exact=True)]


@pytest.mark.parametrize("estimator,budget", [(shapley_antithetic, 40), (shapley_stratified, 60),
                                              (shapley_regression_adjusted, 60)], ids=lambda x: getattr(x, "__name__", x))
def test_unbiased_estimators_average_to_the_exact_values(estimator, budget):
    # 1500 independent runs: the mean is within 5 of its standard errors (the spread over runs / √1500) of the truth
    game = table_game(7, seed=2)
    runs = np.array([estimator(game, budget, seed=seed).values for seed in range(1500)])
    exact = shapley_by_permutations(game)
    se = runs.std(axis=0, ddof=1) / np.sqrt(len(runs))
    assert (np.abs(runs.mean(axis=0) - exact) < 5 * se).all()


@pytest.mark.parametrize("estimator", UNBIASED, ids=lambda f: f.__name__)
def test_standard_errors_match_the_spread_over_seeds(estimator):
    # the reported standard error (root mean square over runs) against the standard deviation of the estimates:
    # within 35 %, or for the regression-adjusted estimator, conservative by design (the mean of its five folds'
    # errors bounds the error of their average), between 0.9 and 2.2 times it
    game = table_game(8, seed=4)
    runs = [estimator(game, 160, seed=seed) for seed in range(400)]
    spread = np.array([r.values for r in runs]).std(axis=0, ddof=1)
    reported = np.sqrt(np.mean([r.std_errors**2 for r in runs], axis=0))
    low, high = (0.9, 2.2) if estimator is shapley_regression_adjusted else (0.65, 1.35)
    assert (reported > low * spread).all() and (reported < high * spread).all(), reported / spread


@pytest.mark.parametrize("folds", [2, 5])
def test_regression_adjusted_is_unbiased_when_most_pairs_of_a_size_are_drawn(folds):
    # N = 7 at 120 evaluations: half or more of the pairs of each sampled size are drawn, so the fitted pairs, counted for
    # themselves, and the held-out ones, standing for the unseen pairs, must be weighted right (an estimate that
    # let the held-out pairs stand for the whole size would be biased: its proxy fits its own pairs best). The
    # mean of 600 runs against the exact values, within 5 standard errors; and with two folds, the reported
    # (conservative) standard errors between 0.9 and 1.6 times the spread (without the finite-population factor
    # they would be about twice too large)
    game = table_game(7, seed=11)
    runs = [shapley_regression_adjusted(game, 120, seed=s, proxy="linear", folds=folds) for s in range(600)]
    values = np.array([r.values for r in runs])
    spread = values.std(axis=0, ddof=1)
    assert (np.abs(values.mean(axis=0) - shapley_by_permutations(game)) < 5 * spread / np.sqrt(len(runs))).all()
    reported = np.sqrt(np.mean([r.std_errors**2 for r in runs], axis=0))
    if folds == 2:
        assert (reported > 0.9 * spread).all() and (reported < 1.6 * spread).all(), reported / spread


def test_regression_adjusted_folds_are_checked():
    game = table_game(4, seed=0)
    with pytest.raises(ValueError, match="folds"):
        shapley_regression_adjusted(game, 100, folds=1)
    with pytest.raises(TypeError, match="folds"):
        shapley_regression_adjusted(game, 100, folds=2.5)
    with pytest.raises(ValueError, match="at least 22 utility evaluations"):
        shapley_regression_adjusted(table_game(6, seed=0), 21, folds=10)


def test_the_two_proxies_agree_since_pairs_carry_only_the_odd_part():
    game = sparse_unanimity_game(9, 15, 2, 6, seed=3)
    linear = shapley_regression_adjusted(game, 200, seed=5, proxy="linear").values
    quadratic = shapley_regression_adjusted(game, 200, seed=5, proxy="quadratic").values
    np.testing.assert_allclose(linear, quadratic, atol=1e-9)


@pytest.mark.parametrize("proxy", ["linear", "quadratic", "sized"])
def test_proxy_shapley_values_in_closed_form_match_enumeration(proxy):
    # φ(g) = C θ for a random proxy g = features · θ, against shapley_exact of g itself
    n = 6
    C = shapley_coefficients(n, proxy)
    theta = np.random.default_rng(1).normal(size=C.shape[1])
    game = Game(n, lambda masks: proxy_features(masks, proxy) @ theta)
    np.testing.assert_allclose(C @ theta, shapley_by_permutations(game), atol=1e-12)


def test_tree_shapley_matches_enumeration_on_fitted_trees():
    from sklearn.ensemble import RandomForestRegressor
    n = 6
    rng = np.random.default_rng(0)
    Z = rng.random((150, n)) < 0.5
    model = RandomForestRegressor(n_estimators=4, random_state=0).fit(Z.astype(float), rng.normal(size=150))
    for tree in model.estimators_:
        game = Game(n, lambda masks, tree=tree: tree.predict(masks.astype(float)))
        np.testing.assert_allclose(tree_shapley(tree.tree_, n), shapley_exact(game), atol=1e-12)


@pytest.mark.parametrize("kind", ["boosted", "forest"])
def test_ensemble_shapley_matches_enumeration_on_fitted_ensembles(kind):
    # the ensemble's own prediction, enumerated over all 2^N coalitions (boosting: init plus learning rate × trees,
    # subsampled rows; the forest: the mean of its trees), against the tree-by-tree closed form
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    n = 6
    rng = np.random.default_rng(2)
    Z = (rng.random((200, n)) < 0.5).astype(float)
    y = Z[:, 0] * Z[:, 1] * Z[:, 2] - 2.0 * Z[:, 3] + rng.normal(size=200) + 3.0
    model = (GradientBoostingRegressor(n_estimators=25, max_depth=4, learning_rate=0.3, subsample=0.8,
                                       random_state=0) if kind == "boosted" else
             RandomForestRegressor(n_estimators=5, random_state=0)).fit(Z, y)
    game = Game(n, lambda masks: model.predict(masks.astype(float)))
    np.testing.assert_allclose(ensemble_shapley(model, n), shapley_exact(game), atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("proxy", ["boosted", "forest"])
def test_tree_proxies_are_unbiased_on_a_small_game(proxy):
    # N = 6 at 40 evaluations (sized falls back to linear, the trees are fitted): 300 runs, within 5 standard errors;
    # two folds (unbiasedness does not depend on their number, tested with the linear proxy above; five cost more fits)
    game = table_game(6, seed=9)
    runs = np.array([shapley_regression_adjusted(game, 40, seed=s, proxy=proxy, folds=2).values for s in range(300)])
    se = runs.std(axis=0, ddof=1) / np.sqrt(len(runs))
    assert (np.abs(runs.mean(axis=0) - shapley_by_permutations(game)) < 5 * se).all()


@pytest.mark.slow
def test_sized_proxy_is_unbiased_and_beats_linear_on_a_high_order_game():
    # N = 10 at 850 evaluations, two folds: the size terms are fitted (at least 4 coalitions per feature in each
    # fold's fit); 300 runs
    game = sparse_unanimity_game(10, 12, 3, 8, seed=6)
    exact = game.info["shapley_values"]
    runs = {proxy: np.array([shapley_regression_adjusted(game, 850, seed=s, proxy=proxy, folds=2).values
                             for s in range(300)]) for proxy in ("linear", "sized")}
    se = runs["sized"].std(axis=0, ddof=1) / np.sqrt(300)
    assert (np.abs(runs["sized"].mean(axis=0) - exact) < 5 * se).all()
    mse = {proxy: np.mean((r - exact) ** 2) for proxy, r in runs.items()}
    assert mse["sized"] < mse["linear"]


def test_kernel_and_leverage_report_no_standard_errors():
    game = table_game(6, seed=3)
    for estimator in (shapley_kernel, shapley_leverage):
        assert np.isnan(estimator(game, 30, seed=0).std_errors).all()


# ---------------------------------------------------------------------------- budgets and arguments
@pytest.mark.parametrize("estimator", NEW, ids=lambda f: f.__name__)
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_budget_is_never_exceeded_and_the_minimum_is_named(estimator, n):
    minimum = MINIMUM[estimator](n) if n > 1 else 2
    for budget in range(minimum, 2**n + 12):
        game = table_game(n, seed=budget)
        estimate = estimator(game, budget, seed=budget)
        assert estimate.n_evaluations == game.evaluations <= budget
        assert np.isfinite(estimate.values).all()
    with pytest.raises(ValueError, match=f"at least {minimum} utility evaluations"):
        estimator(table_game(n, seed=0), minimum - 1, seed=0)


@pytest.mark.parametrize("estimator", NEW, ids=lambda f: f.__name__)
def test_budget_is_kept_on_a_larger_game(estimator):
    game = airport_game(np.random.default_rng(0).uniform(size=30))
    for budget in (MINIMUM[estimator](30), 97, 500, 1001):
        before = game.evaluations
        assert estimator(game, budget, seed=1).n_evaluations == game.evaluations - before <= budget


@pytest.mark.parametrize("estimator", NEW, ids=lambda f: f.__name__)
def test_bad_arguments_get_clear_errors(estimator):
    game = table_game(4, seed=0)
    with pytest.raises(TypeError, match="budget must be an integer"):
        estimator(game, 100.0)
    with pytest.raises(ValueError, match="chunk_size"):
        estimator(game, 100, chunk_size=0)
    with pytest.raises(TypeError):
        estimator(game, 100, seed="a")


@pytest.mark.parametrize("n", [2, 3, 5, 30])
def test_boosted_proxy_keeps_the_budget(n):
    # the trees are fitted at every budget (the size terms too from 4 coalitions per feature in a fold's fit)
    for budget in ([min(12, 2**n), 13, 16, 23, 44] if n < 30 else [12, 97, 500, 1001]):
        game = table_game(n, seed=budget) if n < 30 else airport_game(np.random.default_rng(0).uniform(size=30))
        before = game.evaluations
        estimate = shapley_regression_adjusted(game, budget, seed=budget, proxy="boosted")
        assert estimate.n_evaluations == game.evaluations - before <= budget
        assert np.isfinite(estimate.values).all()


def test_unknown_proxy_is_refused():
    with pytest.raises(ValueError, match="proxy must be one of"):
        shapley_regression_adjusted(table_game(4, seed=0), 100, proxy="xgboost")


@pytest.mark.parametrize("estimator", NEW, ids=lambda f: f.__name__)
def test_same_seed_same_result_and_global_rng_untouched(estimator):
    game = sparse_unanimity_game(9, 10, 2, 5, seed=0)
    state = np.random.get_state()[1].copy()
    a = estimator(game, 150, seed=7).values
    b = estimator(game, 150, seed=np.random.default_rng(7)).values
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, estimator(game, 150, seed=8).values)
    assert np.array_equal(state, np.random.get_state()[1])
