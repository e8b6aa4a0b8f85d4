"""Property-based tests of the exact engine (axioms, definitions, dividends) and of the estimators."""
import itertools
from fractions import Fraction
from math import factorial

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from creditlib.axioms import (efficiency_gap, linearity_violations, null_player_violations, null_players,
                              symmetric_pairs, symmetry_violations)
from creditlib.game_builders import game_from_dividends, random_dividend_game, random_game, unanimity_game
from creditlib.games import Game
from creditlib.estimators import shapley_difference, shapley_permutation
from creditlib.shapley import (banzhaf_exact, game_from_dividend_table, harsanyi_dividends, shapley_exact,
                               shapley_from_dividends)


@st.composite
def games_with_structure(draw, max_players=6):
    """An exact game built from integer dividends, with player n−1 null and players 0, 1 symmetric."""
    n = draw(st.integers(3, max_players))
    others = list(range(n - 1))                      # the last player appears in no dividend: null
    dividends = {}
    for size in range(1, n):
        for T in itertools.combinations(others, size):
            c = draw(st.integers(-5, 5))
            if c:
                swapped = tuple(sorted({0: 1, 1: 0}.get(i, i) for i in T))
                for key in {T, swapped}:             # symmetric under swapping players 0 and 1
                    dividends[key] = dividends.get(key, 0) + c
    if not dividends:
        dividends = {(0, 1): 1}
    return game_from_dividends(dividends, n)


def brute_force_permutations(game):
    n = game.n_players
    total = [Fraction(0)] * n
    for order in itertools.permutations(range(n)):
        present = np.zeros(n, dtype=bool)
        for i in order:
            before = game(present)
            present[i] = True
            total[i] += Fraction(game(present) - before)
    return [sp.Rational(t.numerator, t.denominator) / factorial(n) for t in total]


@settings(max_examples=30, deadline=None)
@given(games_with_structure())
def test_shapley_satisfies_the_four_axioms(game):
    s = shapley_exact(game, exact=True)
    assert efficiency_gap(game, s) == 0
    assert game.n_players - 1 in null_players(game) and not null_player_violations(game, s)
    assert (0, 1) in symmetric_pairs(game) and not symmetry_violations(game, s)
    other = random_game(game.n_players, seed=game.n_players, exact=True)
    assert linearity_violations(lambda g: shapley_exact(g, exact=True), game, other) == []


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(0, 10**6))
def test_shapley_equals_permutation_definition_and_dividends(n, seed):
    game = random_game(n, seed=seed, exact=True)
    s = shapley_exact(game, exact=True)
    if n <= 5:
        assert list(s) == brute_force_permutations(game)
    dividends = harsanyi_dividends(game, exact=True)
    assert list(shapley_from_dividends(dividends)) == list(s)
    rebuilt = game_from_dividend_table(dividends)
    assert list(rebuilt.values()) == list(game.values())


def test_shapley_equals_permutations_at_seven_players():
    game = random_game(7, seed=11, exact=True)
    assert list(shapley_exact(game, exact=True)) == brute_force_permutations(game)


def test_unanimity_games_split_equally():
    for T in [(0,), (1, 3), (0, 2, 3, 4)]:
        s = shapley_exact(unanimity_game(T, 5), exact=True)
        assert list(s) == [sp.Rational(1, len(T)) if i in T else 0 for i in range(5)]


def test_sparse_dividends_give_closed_form_values():
    game = random_dividend_game(12, n_terms=20, max_order=4, seed=5)
    np.testing.assert_allclose(shapley_from_dividends(game.dividends, 12), shapley_exact(game), atol=1e-12)


def test_banzhaf_breaks_efficiency_only():
    """By hand: a unanimity term c_T pays each member of T the chance 1/2^(|T|−1) that the other members
    of T are all present, times c_T. So β = (6/4 + 1, 6/4, 6/4, 0) = (5/2, 3/2, 3/2, 0), summing to 11/2,
    while U([N]) = 7: the efficiency gap is −3/2."""
    game = game_from_dividends({(0, 1, 2): 6, (0,): 1}, 4)
    b = banzhaf_exact(game, exact=True)
    assert list(b) == [sp.Rational(5, 2), sp.Rational(3, 2), sp.Rational(3, 2), 0]
    assert efficiency_gap(game, b) == Fraction(-3, 2)
    assert not null_player_violations(game, b) and not symmetry_violations(game, b)
    assert linearity_violations(lambda g: banzhaf_exact(g, exact=True), game, random_game(4, 0, exact=True)) == []


# ------------------------------------------------------------------------------------------ estimators
ESTIMATORS = {
    "permutation": lambda g, b, seed: shapley_permutation(g, b, seed=seed),
    "difference-naive": lambda g, b, seed: shapley_difference(g, b, seed=seed),
    "difference-efficiency": lambda g, b, seed: shapley_difference(g, b, seed=seed, anchor="efficiency"),
}
TEST_GAMES = {
    "random": lambda: random_game(6, seed=4),
    "interactions": lambda: random_dividend_game(7, n_terms=12, max_order=4, seed=3),
}


@pytest.mark.parametrize("game_name", TEST_GAMES)
@pytest.mark.parametrize("name", ESTIMATORS)
def test_estimators_are_unbiased_calibrated_and_within_budget(name, game_name):
    game = TEST_GAMES[game_name]()
    exact = shapley_exact(game)
    budget, repeats = 600, 150
    values, errors = [], []
    for seed in range(repeats):
        before = game.evaluations
        estimate = ESTIMATORS[name](game, budget, seed)
        assert game.evaluations - before == estimate.n_evaluations <= budget
        values.append(estimate.values)
        errors.append(estimate.std_errors)
    values, errors = np.array(values), np.array(errors)
    spread = values.std(axis=0, ddof=1)
    z = (values.mean(axis=0) - exact) / (spread / np.sqrt(repeats))
    assert np.all(np.abs(z) < 4.5), f"bias beyond its standard error: z = {np.round(z, 2)}"
    ratio = errors.mean(axis=0) / spread
    assert np.all((ratio > 0.7) & (ratio < 1.4)), f"standard errors miscalibrated: {np.round(ratio, 2)}"


def test_estimators_are_reproducible_and_converge():
    game = random_dividend_game(30, n_terms=60, max_order=5, seed=1)
    exact = shapley_from_dividends(game.dividends, 30)
    for name, estimator in ESTIMATORS.items():
        a, b = estimator(game, 20_000, 7), estimator(game, 20_000, 7)
        np.testing.assert_array_equal(a.values, b.values)
        small, large = (np.linalg.norm(estimator(game, budget, 3).values - exact) for budget in (3_000, 60_000))
        assert large < small, name


def test_budget_errors_are_clear():
    game = random_game(10, seed=0)
    with pytest.raises(ValueError, match="at least 11"):
        shapley_permutation(game, 5)
    with pytest.raises(ValueError, match="at least"):
        shapley_difference(game, 50)
    with pytest.raises(TypeError, match="integer"):
        shapley_permutation(game, 100.5)
    with pytest.raises(ValueError, match="anchor must be"):
        shapley_difference(game, 10_000, anchor="magic")


def test_one_player_and_two_player_edge_cases():
    one = Game(1, lambda m: m[:, 0] * 3.0)
    assert shapley_permutation(one, 2).values[0] == 3.0
    two = Game.from_table({(): 1, ("A",): 4, ("B",): 2, ("A", "B"): 9}, ["A", "B"])
    # With two players the only difference stratum is S = ∅, which is deterministic: exact.
    np.testing.assert_allclose(shapley_difference(two, 1000, seed=0, anchor="efficiency").values,
                               shapley_exact(two), atol=1e-12)


def test_permutation_estimates_are_always_efficient():
    """Each permutation's gains telescope to U([N]) − U(∅), so every estimate is efficient."""
    game = random_game(9, seed=2)
    estimate = shapley_permutation(game, 500, seed=1)
    assert abs(estimate.values.sum() - (game.values()[-1] - game.values()[0])) < 1e-9


def test_axiom_checks_catch_small_float_violations():
    """Float payments are compared within 1e-9: a gap of 1e-3 is a violation, round-off (1e-13) is not."""
    from creditlib.axioms import violates_efficiency
    game = game_from_dividends({(0, 1): 1.0, (2,): 0.5}, 4)           # player 3 null, players 0 and 1 symmetric
    exact = [0.5, 0.5, 0.5, 0.0]
    assert not violates_efficiency(game, exact)
    assert not violates_efficiency(game, [0.5 + 1e-13, 0.5, 0.5, 0.0])
    assert violates_efficiency(game, [0.5 + 1e-3, 0.5, 0.5, 0.0])
    assert violates_efficiency(game, [0.51, 0.5, 0.5, 0.0])
    assert null_player_violations(game, [0.5, 0.5, 0.5 - 1e-4, 1e-4]) == [3]
    assert symmetry_violations(game, [0.5 + 1e-4, 0.5 - 1e-4, 0.5, 0.0]) == [(0, 1)]
    nearly_null = game_from_dividends({(0, 1): 1.0, (3,): 1e-6}, 4)
    assert null_players(nearly_null) == [2]                          # 1e-6 is an effect, not round-off
    nearly_symmetric = game_from_dividends({(0,): 1.0, (1,): 1.0 + 1e-6}, 3)
    assert (0, 1) not in symmetric_pairs(nearly_symmetric)


def test_estimator_arguments_are_validated():
    game = random_game(6, seed=0)
    for fraction in [0, 1, 1.5, -0.1, float("nan")]:
        with pytest.raises(ValueError, match="anchor_fraction"):
            shapley_difference(game, 10_000, anchor_fraction=fraction)
    for player in [-1, 6, 7, 2.5]:
        with pytest.raises(ValueError, match="anchor_player"):
            shapley_difference(game, 10_000, anchor_player=player)
    for size in [0, -3]:
        with pytest.raises(ValueError, match="chunk_size"):
            shapley_permutation(game, 1000, chunk_size=size)
        with pytest.raises(ValueError, match="chunk_size"):
            shapley_difference(game, 10_000, chunk_size=size)
    shapley_difference(game, 10_000, anchor_player=5, anchor_fraction=0.5)    # the edges of what is allowed


def test_the_anchor_player_is_the_one_estimated_directly():
    """With the naive anchor, player a's estimate is the plain Definition 10.2.3 mean: its reported
    standard error is the anchor's alone, and the estimate is unbiased whichever player is the anchor."""
    game = random_game(5, seed=3)
    exact = shapley_exact(game)
    runs = np.array([shapley_difference(game, 2000, seed=s, anchor_player=3).values for s in range(200)])
    z = (runs.mean(axis=0) - exact) / (runs.std(axis=0, ddof=1) / np.sqrt(len(runs)))
    assert np.all(np.abs(z) < 4.5), z


def test_estimators_never_overspend_even_at_the_smallest_budgets():
    """Budgets just above the minimum, with the anchor asking for most of them: the spend stays within budget."""
    game = random_game(6, seed=1)
    minimum = 2 * sum(6 - k for k in range(5))                      # two draws of each size
    for budget in range(minimum + 4, minimum + 40, 3):
        for fraction in [0.1, 0.5, 0.95]:
            estimate = shapley_difference(game, budget, seed=budget, anchor_fraction=fraction)
            assert estimate.n_evaluations <= budget, (budget, fraction, estimate.n_evaluations)
    for budget in [7, 8, 13, 50]:
        assert shapley_permutation(game, budget, seed=0).n_evaluations <= budget
