"""The pieces of the two Shapley estimators that notebook 04's readers rebuild: the naive estimator on given
permutations (Lemma 10.2.6) and the per-draw terms of the difference estimator (Problem 10.2.7), against
hand-computed values and exact enumeration."""
import itertools

import numpy as np
import pytest

from creditlib.coalitions import coalition_codes
from creditlib.game_builders import random_game
from creditlib.estimators import difference_terms
from creditlib.shapley import shapley_by_permutations, shapley_exact


def test_one_order_gives_its_marginal_vector_by_hand():
    # U by bitmask for players 0, 1, 2: U(∅)=0, U(0)=1, U(1)=2, U(01)=7, U(2)=4, U(02)=5, U(12)=6, U(012)=10.
    table = np.array([0, 1, 2, 7, 4, 5, 6, 10], dtype=float)
    # order 2, 0, 1: player 2 adds U(2) − U(∅) = 4, player 0 adds U(02) − U(2) = 1, player 1 adds 10 − 5 = 5.
    np.testing.assert_array_equal(shapley_by_permutations(table, [[2, 0, 1]]), [1, 5, 4])
    # two orders: the mean of the two marginal vectors; order 0, 1, 2 gives 1, 6, 3.
    np.testing.assert_array_equal(shapley_by_permutations(table, np.array([[2, 0, 1], [0, 1, 2]])), [1, 5.5, 3.5])


def test_all_orders_listed_give_the_exact_values():
    game = random_game(5, seed=3)
    orders = np.array(list(itertools.permutations(range(5))))
    np.testing.assert_allclose(shapley_by_permutations(game.values(), orders), shapley_exact(game), atol=1e-12)
    np.testing.assert_allclose(shapley_by_permutations(game.values(), np.vstack([orders, orders])),
                               shapley_exact(game), atol=1e-12)


@pytest.mark.parametrize("orders", [[[0, 1]], [[0, 0, 1]], np.zeros((0, 3), int), [[0.0, 1.0, 2.0]]])
def test_orders_that_are_not_permutations_are_refused(orders):
    with pytest.raises(ValueError, match="orders"):
        shapley_by_permutations(np.zeros(8), orders)


def test_difference_terms_of_one_draw_by_hand():
    table = np.array([0, 1, 2, 7, 4, 5, 6, 10], dtype=float)
    lookup = lambda masks: table[coalition_codes(masks)]          # noqa: E731
    # S = ∅ (k = 0): v = (U(0), U(1), U(2)) = (1, 2, 4), mean 7/3, weight 1/(N − k − 1) = 1/2.
    np.testing.assert_allclose(difference_terms(lookup, np.zeros((1, 3), bool)), [[-2 / 3, -1 / 6, 5 / 6]])
    # S = {1} (k = 1): outsiders 0 and 2, v = (U(01), U(12)) = (7, 6), weight 1; player 1 gets 0.
    np.testing.assert_allclose(difference_terms(lookup, np.array([[False, True, False]])), [[0.5, 0, -0.5]])


@pytest.mark.parametrize("seed", [0, 1])
def test_terms_averaged_over_every_subset_give_the_distance_to_the_mean_value(seed):
    """Σ_k E_S[term] over uniform k-subsets, with every k-subset listed once, is s_i − s̄ exactly."""
    n = 5
    game = random_game(n, seed=seed)
    s = shapley_exact(game)
    D = np.zeros(n)
    for k in range(n - 1):
        subsets = np.array([[i in c for i in range(n)] for c in itertools.combinations(range(n), k)])
        D += difference_terms(game, subsets).mean(axis=0)
    np.testing.assert_allclose(D, s - s.mean(), atol=1e-12)


@pytest.mark.parametrize("subsets", [np.array([[True, False, False], [False, False, False]]),
                                     np.array([[True, True, False]]), np.zeros((2, 3), int), np.zeros((0, 3), bool)])
def test_draws_of_mixed_or_too_large_sizes_are_refused(subsets):
    with pytest.raises(ValueError, match="subsets must be|every draw must have the same size"):
        difference_terms(lambda m: np.zeros(len(m)), subsets)
