"""Games and the exact Shapley engine against brute force over permutations (Definition 10.2.2)."""
import itertools
from fractions import Fraction
from math import factorial

import numpy as np
import pytest
import sympy as sp

from creditlib.axioms import (efficiency_gap, null_player_violations, null_players, symmetric_pairs,
                              symmetry_violations)
from creditlib.games import Game, all_coalitions, coalition_codes
from creditlib.shapley import shapley_exact


def random_table_game(n, seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(-10, 11, size=2**n)
    return Game(n, lambda masks: values[coalition_codes(masks)].astype(float))


def shapley_by_permutations(game):
    """Definition 10.2.2 literally: average marginal gain over all N! arrival orders."""
    n = game.n_players
    total = np.zeros(n)
    for order in itertools.permutations(range(n)):
        present = np.zeros(n, dtype=bool)
        for i in order:
            before = game(present)
            present[i] = True
            total[i] += game(present) - before
    return total / factorial(n)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 6])
def test_shapley_exact_equals_permutation_definition(n):
    game = random_table_game(n, seed=n)
    np.testing.assert_allclose(shapley_exact(game), shapley_by_permutations(game), atol=1e-12)


def test_exact_mode_returns_rationals_that_match_floats():
    game = random_table_game(4, seed=7)
    exact = shapley_exact(game, exact=True)
    assert all(isinstance(v, sp.Rational) for v in exact)
    np.testing.assert_allclose([float(v) for v in exact], shapley_exact(game), atol=1e-12)


def test_table_game_stays_exact():
    game = Game.from_table({(): 0, ("A",): Fraction(1, 3), ("B",): sp.Rational(1, 7), ("A", "B"): 1},
                           players=["A", "B"])
    s = shapley_exact(game, exact=True)
    assert s[0] == sp.Rational(1, 2) * (sp.Rational(1, 3) + 1 - sp.Rational(1, 7))
    assert sum(s) == 1


def test_from_table_reports_missing_and_unknown_coalitions():
    with pytest.raises(ValueError, match="missing 1 of the 4 coalitions"):
        Game.from_table({(): 0, ("A",): 1, ("B",): 2}, players=["A", "B"])
    with pytest.raises(ValueError, match="unknown player"):
        Game.from_table({(): 0, ("A",): 1, ("C",): 2, ("A", "B"): 3}, players=["A", "B"])
    with pytest.raises(ValueError, match="distinct"):
        Game(2, lambda m: np.zeros(len(m)), players=["A", "A"])


def test_call_validates_masks_and_values():
    game = Game(3, lambda m: m.sum(axis=1).astype(float))
    with pytest.raises(TypeError, match="boolean"):
        game(np.ones((2, 3), dtype=int))
    with pytest.raises(ValueError, match=r"shape \(k, 3\)"):
        game(np.ones((2, 4), dtype=bool))
    bad = Game(2, lambda m: np.where(m.all(axis=1), np.nan, 0.0), players=["A", "B"])
    with pytest.raises(ValueError, match=r"coalition \{A, B\} is nan"):
        bad.values()


def test_evaluations_are_counted_and_cached():
    game = Game(3, lambda m: m.sum(axis=1).astype(float), cache=True)
    masks = all_coalitions(3)
    game(masks)
    game(masks[:4])
    assert game.evaluations == 8
    uncached = Game(3, lambda m: m.sum(axis=1).astype(float))
    uncached(masks)
    uncached(masks[:4])
    assert uncached.evaluations == 12


def test_from_function_matches_table():
    table = {(): 0, ("A",): 50, ("B",): 25, ("A", "B"): 90}
    f = Game.from_function(lambda S: table[tuple(sorted(S))], players=["A", "B"])
    np.testing.assert_array_equal(f.values().astype(float),
                                  Game.from_table(table, ["A", "B"]).values().astype(float))


def test_too_many_players_error_names_memory_and_estimator():
    game = Game(30, lambda m: np.zeros(len(m)))
    with pytest.raises(ValueError, match=r"GiB.*permutations"):
        shapley_exact(game)


def test_axiom_checks_find_violations():
    # Player C is null; A and B are symmetric.
    table = {(): 0, ("A",): 1, ("B",): 1, ("C",): 0, ("A", "B"): 3, ("A", "C"): 1, ("B", "C"): 1,
             ("A", "B", "C"): 3}
    game = Game.from_table(table, players=["A", "B", "C"])
    assert null_players(game) == [2]
    assert symmetric_pairs(game) == [(0, 1)]
    s = shapley_exact(game, exact=True)
    assert efficiency_gap(game, s) == 0 and not null_player_violations(game, s) and not symmetry_violations(game, s)
    assert null_player_violations(game, [1, 1, 1]) == [2]
    assert symmetry_violations(game, [2, 1, 0]) == [(0, 1)]
    assert efficiency_gap(game, [1, 1, 0]) == -1
