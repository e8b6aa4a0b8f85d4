"""Interaction indices, conditional values, best subsets, the matched pair, feature games and gradients."""
from itertools import combinations
from math import factorial

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from creditlib.chapter_games import corner_detector_game
from creditlib.game_builders import feature_game, random_game, unanimity_game
from creditlib.games import Game
from creditlib.interactions import best_coalition, conditional_shapley, shapley_interaction_exact
from creditlib.matched_pair import fit_linear_svm, matched_pair_data, matched_pair_game, svm_accuracy
from creditlib.saliency import vanilla_gradient
from creditlib.shapley import harsanyi_dividends, shapley_exact


def interaction_by_definition(game, i, j):
    """Σ_{S ⊆ N∖{i,j}} |S|!(n−|S|−2)!/(n−1)! · (U(S∪ij) − U(S∪i) − U(S∪j) + U(S)), with Python loops."""
    n, v = game.n_players, game.values()
    others = [p for p in range(n) if p not in (i, j)]
    total = 0
    for size in range(len(others) + 1):
        for S in combinations(others, size):
            code = sum(1 << p for p in S)
            synergy = v[code | 1 << i | 1 << j] - v[code | 1 << i] - v[code | 1 << j] + v[code]
            total += sp.Rational(factorial(size) * factorial(n - size - 2), factorial(n - 1)) * sp.nsimplify(synergy)
    return total


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 5), st.integers(0, 10**6))
def test_interaction_index_equals_definition_and_dividend_formula(n, seed):
    game = random_game(n, seed=seed, exact=True)
    I = shapley_interaction_exact(game, exact=True)
    c = harsanyi_dividends(game, exact=True)
    sizes = [bin(code).count("1") for code in range(2**n)]
    for i, j in combinations(range(n), 2):
        assert I[i, j] == I[j, i] == interaction_by_definition(game, i, j)
        pair = (1 << i) | (1 << j)
        assert I[i, j] == sum(c[T] / (sizes[T] - 1) for T in range(2**n) if T & pair == pair)


def test_interaction_index_on_unanimity_games():
    I = shapley_interaction_exact(unanimity_game([0, 1, 3], 5), exact=True)
    for i, j in combinations(range(5), 2):
        assert I[i, j] == (sp.Rational(1, 2) if {i, j} <= {0, 1, 3} else 0)


def test_additive_games_have_no_interactions():
    w = np.array([0.3, -1.0, 2.0, 0.5])
    I = shapley_interaction_exact(Game(4, lambda m: m.astype(float) @ w))
    np.testing.assert_allclose(I, 0, atol=1e-12)


def test_conditional_values_bracket_the_pair_and_match_subgames():
    game = unanimity_game([0, 1], 3)  # player 0 is worth 1 only when 1 is there
    assert conditional_shapley(game, 0, 1, partner_present=True, exact=True) == 1
    assert conditional_shapley(game, 0, 1, partner_present=False, exact=True) == 0
    assert shapley_exact(game, exact=True)[0] == sp.Rational(1, 2)
    g = random_game(5, seed=2, exact=True)
    v = g.values()
    sub = Game(4, lambda m: v[(np.c_[m[:, :2], np.ones(len(m), bool), m[:, 2:]].astype(np.int64)
                                @ (1 << np.arange(5)))], ["0", "1", "3", "4"])
    assert conditional_shapley(g, 3, 2, partner_present=True, exact=True) == shapley_exact(sub, exact=True)[2]


def test_best_coalition_searches_all_subsets():
    game = Game.from_table({(): 0, ("A",): 50, ("B",): 20, ("C",): 25, ("A", "B"): 75, ("A", "C"): 80,
                            ("B", "C"): 90, ("A", "B", "C"): 100}, ["A", "B", "C"])
    assert best_coalition(game, 2) == (("B", "C"), 90.0, 3)
    assert best_coalition(game, 1)[0] == ("A",)
    with pytest.raises(ValueError):
        best_coalition(game, 4)


def test_matched_pair_data_and_svm():
    data = matched_pair_data(n_easy=10, gap=1.0, seed=1)
    margin = data.X_easy[:, 1] - data.X_easy[:, 0]
    assert np.all(np.where(data.y_easy == 1, margin >= 1.0, margin <= -1.0))
    assert data.y_easy.sum() == 5 and data.players[-2:] == ["d_A", "d_B"]
    assert np.array_equal(data.y_test, (data.X_test[:, 1] > data.X_test[:, 0]).astype(int))
    w, b = fit_linear_svm(np.array([data.d_A, data.d_B]), np.array([1, 0]))
    assert abs(w[0] + w[1]) < 1e-6 * abs(w[0]) and abs(b) < 1e-6  # the bisector of d_A and d_B is y = x
    both = np.zeros(12, bool)
    both[-2:] = True
    assert svm_accuracy(data, both) == 1.0
    assert svm_accuracy(data, np.zeros(12, bool)) == 0.5
    game = matched_pair_game(data)
    assert game(both) == 1.0 and game.n_players == 12


def test_feature_game_and_corner_detector():
    and_model = lambda X: X[:, 0] * X[:, 1] * X[:, 2]
    game = feature_game(and_model, np.array([1.0, 1.0, 1.0, 0.0]), players=["TL", "TR", "BL", "BR"])
    np.testing.assert_allclose(game.values(), corner_detector_game().values().astype(float))
    with pytest.raises(ValueError, match="same shape"):
        feature_game(and_model, np.ones(4), baseline=np.zeros(3))


def test_vanilla_gradient_matches_analytic_gradient():
    w = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    model = lambda x: torch.sigmoid(x @ w)
    x = np.array([0.3, 0.1, -0.4])
    s = 1 / (1 + np.exp(-(x @ w.numpy())))
    np.testing.assert_allclose(vanilla_gradient(model, x), s * (1 - s) * w.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="scalar"):
        vanilla_gradient(lambda x: x * 2, x)
