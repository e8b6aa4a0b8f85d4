"""Payment schemes, game builders and data sets against values worked out by hand or recomputed plainly."""
import itertools
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
import torch

from creditlib.axioms import EFFICIENCY, LINEARITY, NULL_PLAYER, SYMMETRY, null_player_violations
from creditlib.chapter_games import corner_detector_game, data_valuation_game, dataset_pricing_game, squared_sum_game
from creditlib.game_builders import (feature_game, random_game, random_structured_game, symbolic_utilities,
                                     weighted_voting_game)
from creditlib.games import Game
from creditlib.schemes import (SCHEMES, equal_split, individual_worth, leave_one_out_payment, proportional_split,
                               violated_axioms)
from creditlib.estimators import difference_allocation
from creditlib.shapley import banzhaf_exact, harsanyi_dividends, shapley_exact
from oracles import shapley_by_permutations, value


# ------------------------------------------------------------------------------------------ schemes
def test_schemes_on_problem_10_5_1_by_hand():
    """U: A 50, B 20, C 25, AB 75, AC 80, BC 90, ABC 100."""
    game = dataset_pricing_game()
    np.testing.assert_allclose(equal_split(game), [100 / 3] * 3)
    np.testing.assert_allclose(individual_worth(game), [50, 20, 25])
    np.testing.assert_allclose(leave_one_out_payment(game), [100 - 90, 100 - 80, 100 - 75])
    np.testing.assert_allclose(proportional_split(game), [100 * 50 / 95, 100 * 20 / 95, 100 * 25 / 95])


def test_schemes_measure_from_the_empty_coalition():
    game = Game.from_table({(): 10, ("A",): 14, ("B",): 11, ("A", "B"): 20}, ["A", "B"])
    np.testing.assert_allclose(equal_split(game), [5, 5])              # (20 − 10) / 2
    np.testing.assert_allclose(individual_worth(game), [4, 1])
    np.testing.assert_allclose(leave_one_out_payment(game), [20 - 11, 20 - 14])
    np.testing.assert_allclose(proportional_split(game), [8, 2])       # 10 split 4 : 1
    zero_sum = Game.from_table({(): 0, ("A",): 1, ("B",): -1, ("A", "B"): 6}, ["A", "B"])
    # worths sum to 0: the Shapley value, s_A = (1 + (6 − (−1)))/2 = 4, s_B = (−1 + (6 − 1))/2 = 2
    np.testing.assert_allclose(proportional_split(zero_sum), [4, 2])


def test_proportional_split_pays_no_null_player_when_the_worths_sum_to_zero():
    """A unanimity game u_{0,2} on 4 players has every individual worth 0: an equal split would pay the null
    players 1 and 3 a quarter each."""
    unanimity = Game(4, lambda masks: (masks[:, 0] & masks[:, 2]).astype(float))
    np.testing.assert_allclose(proportional_split(unanimity), [0.5, 0, 0.5, 0])
    assert null_player_violations(unanimity, proportional_split(unanimity)) == []


def test_each_scheme_breaks_exactly_the_axioms_theory_says():
    """Worked out on paper: equal split pays null players; individual worth and leave one out do not add up;
    proportional split is not linear; the Shapley value breaks nothing; Banzhaf breaks efficiency only."""
    expected = {"equal split": {NULL_PLAYER}, "individual worth": {EFFICIENCY}, "leave one out": {EFFICIENCY},
                "proportional split": {LINEARITY}}
    assert set(SCHEMES) == set(expected)
    for name, scheme in SCHEMES.items():
        assert violated_axioms(scheme, n_games=20) == expected[name], name
    assert violated_axioms(shapley_exact, n_games=20) == set()
    assert violated_axioms(banzhaf_exact, n_games=20) == {EFFICIENCY}
    asymmetric = lambda g: np.arange(g.n_players, dtype=float) * 0 + (np.arange(g.n_players) == 0)  # noqa: E731
    assert SYMMETRY in violated_axioms(asymmetric, n_games=5)


# ------------------------------------------------------------------------------------------ game builders
def test_game_arithmetic_is_pointwise_and_keeps_exactness():
    g1, g2 = random_game(3, seed=1, exact=True), random_game(3, seed=2, exact=True)
    for S in itertools.chain.from_iterable(itertools.combinations(range(3), k) for k in range(4)):
        assert value(g1 + g2, S) == value(g1, S) + value(g2, S)
        assert value(g1 - g2, S) == value(g1, S) - value(g2, S)
        assert value(3 * g1, S) == 3 * value(g1, S)
        assert value(g1 * Fraction(1, 3), S) == Fraction(value(g1, S)) / 3
    assert isinstance(value(g1 * sp.Rational(1, 3), (0, 1)), Fraction)
    with pytest.raises(ValueError, match="different players"):
        g1 + random_game(3, seed=2, players=["x", "y", "z"])


def test_weighted_voting_game_by_hand():
    """Weights (3, 2, 1), quota 4: winning coalitions {A,B}, {A,C}, {A,B,C}. Orders where each is pivotal:
    A in 4 of 6, B in 1, C in 1."""
    game = weighted_voting_game([3, 2, 1], quota=4, players=["A", "B", "C"])
    assert [value(game, S) for S in [(), (0,), (1,), (2,), (0, 1), (0, 2), (1, 2), (0, 1, 2)]] == \
        [0, 0, 0, 0, 1, 1, 0, 1]
    assert list(shapley_exact(game, exact=True)) == [sp.Rational(2, 3), sp.Rational(1, 6), sp.Rational(1, 6)]


def test_squared_sum_game_closed_form_and_dividends():
    w = np.array([0.5, -1.0, 2.0, 0.25, 1.5])
    game = squared_sum_game(w)
    for S in [(), (0,), (1, 3), (0, 2, 4)]:
        assert value(game, S) == pytest.approx(w[list(S)].sum() ** 2 / 5)
    np.testing.assert_allclose(shapley_exact(game), w * w.sum() / 5, atol=1e-12)
    np.testing.assert_allclose(shapley_by_permutations(game), w * w.sum() / 5, atol=1e-12)
    dense = harsanyi_dividends(game)
    for T, c in game.dividends.items():
        assert dense[sum(1 << i for i in T)] == pytest.approx(c)


def test_random_structured_game_has_its_planted_structure():
    for seed in range(5):
        game = random_structured_game(5, seed=seed)
        others = [p for p in range(5) if p != 4]
        for k in range(5):
            for S in itertools.combinations(others, k):
                assert value(game, S + (4,)) == value(game, S)                       # player 4 is null
        for k in range(4):
            for S in itertools.combinations([2, 3, 4], k):
                assert value(game, S + (0,)) == value(game, S + (1,))                # 0 and 1 are symmetric
    with pytest.raises(ValueError, match="at least 3"):
        random_structured_game(2)


def test_symbolic_utilities_name_every_coalition():
    table = symbolic_utilities(["A", "B"])
    assert list(table) == [0, sp.Symbol("u_{A}"), sp.Symbol("u_{B}"), sp.Symbol("u_{AB}")]
    assert symbolic_utilities(["A"], empty_is_zero=False)[0] == sp.Symbol("u_{∅}")


def test_feature_game_puts_the_baseline_on_absent_features():
    seen = []
    model = lambda X: seen.append(X.copy()) or X @ np.array([1.0, 10.0, 100.0])  # noqa: E731
    game = feature_game(model, np.array([1.0, 2.0, 3.0]), baseline=np.array([-1.0, -1.0, -1.0]))
    assert value(game, (0, 2)) == 1.0 - 10.0 + 300.0
    np.testing.assert_array_equal(seen[-1], [[1.0, -1.0, 3.0]])
    assert corner_detector_game().players == ["TL", "TR", "BL", "BR"]


def test_data_valuation_game_is_nearest_centroid_accuracy():
    game = data_valuation_game(n_train=8, n_test=50, flip_fraction=0.25, seed=3)
    info = game.info
    assert len(info['flipped']) == 2 and np.all(info['y_train'][info['flipped']] != info['y_clean'][info['flipped']])
    rng = np.random.default_rng(0)
    for _ in range(10):
        S = np.flatnonzero(rng.random(8) < 0.6)
        classes = sorted(set(info['y_train'][S].tolist()))
        if not classes:
            expected = 0.5
        else:
            correct = 0
            for x, t in zip(info['X_test'], info['y_test']):       # plain loops: one test point at a time
                best = min(classes, key=lambda c: (np.linalg.norm(x - info['X_train'][S][info['y_train'][S] == c].mean(axis=0)), c))
                correct += best == t
            expected = correct / len(info['y_test'])
        assert value(game, S) == pytest.approx(expected)
    assert value(game, ()) == 0.5
    with pytest.raises(ValueError, match="flip_fraction"):
        data_valuation_game(flip_fraction=1.0)


def test_difference_allocation_spends_the_budget_evenly_across_sizes():
    for n, budget in [(2, 10), (10, 20_000), (25, 200_000)]:
        draws = difference_allocation(n, budget)
        cost = n - np.arange(n - 1)
        assert len(draws) == n - 1 and np.all(draws >= 2)
        assert (draws * cost).sum() <= budget
        assert budget - (draws * cost).sum() < (n - 1) * n + 2 * cost.sum()      # at most a rounding left over
        per_size = draws * cost
        assert per_size.max() - per_size.min() <= 2 * n                          # equal share per size
    assert difference_allocation(10, 20_000).tolist() == [223, 247, 278, 317, 370, 444, 554, 738, 1107]
    with pytest.raises(ValueError, match="two draws"):
        difference_allocation(10, 100)


# ------------------------------------------------------------------------------------------ data and plots
def test_digit_pair_returns_the_two_classes_scaled_and_split():
    from sklearn.datasets import load_digits
    from creditlib.datasets import digit_pair
    X_train, y_train, X_test, y_test = digit_pair(3, 5, n_train=100, seed=1)
    digits = load_digits()
    n_total = int(np.isin(digits.target, [3, 5]).sum())
    assert X_train.shape == (100, 64) and X_test.shape == (n_total - 100, 64)
    assert X_train.dtype == torch.float64 and 0 <= float(X_train.min()) and float(X_train.max()) <= 1
    assert set(torch.cat([y_train, y_test]).tolist()) == {0.0, 1.0}
    fives = digits.data[digits.target == 5] / 16.0
    row = X_train[y_train == 1][0].numpy()
    assert np.any(np.all(np.isclose(fives, row), axis=1))                         # label 1 means "5"
    with pytest.raises(ValueError, match="n_train"):
        digit_pair(3, 5, n_train=10_000)


def test_per_example_gradients_match_a_loop_of_autograd():
    from creditlib.training import per_example_gradients
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(7, 3, generator=g, dtype=torch.float64), torch.randint(0, 2, (7,), generator=g).double()
    model = torch.nn.Linear(3, 1).double()
    loss = lambda out, t: torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], t, reduction="none")  # noqa: E731
    G = per_example_gradients(model, loss, X, y)
    for i in range(7):
        model.zero_grad()
        loss(model(X[i:i + 1]), y[i:i + 1]).sum().backward()
        expected = torch.cat([model.weight.grad.reshape(-1), model.bias.grad.reshape(-1)])
        np.testing.assert_allclose(G[i], expected, atol=1e-12)


def test_coalition_lattice_labels_every_utility_and_gain():
    import matplotlib
    matplotlib.use("Agg")
    from creditlib.plotting import plot_coalition_lattice
    ax = plot_coalition_lattice(dataset_pricing_game())
    texts = " ".join(t.get_text() for t in ax.texts)
    for label in ["{A, B}\n75", "{B, C}\n90", "{A, B, C}\n100", "+C: 30", "+C: 70", "+A: 10", "+B: 65"]:
        assert label in texts, label
    assert len(ax.texts) == 8 + 12                     # 8 coalitions, 12 edges of the 3-cube
    with pytest.raises(ValueError, match="at most 4"):
        plot_coalition_lattice(random_game(5, seed=0))


def test_violated_axioms_takes_every_kind_of_seed():
    import numpy as np
    from creditlib.schemes import equal_split, violated_axioms
    # equal split pays a null player: broken whatever the games drawn
    for seed in (0, 7, None, np.random.default_rng(3)):
        assert violated_axioms(equal_split, n_games=5, seed=seed) == {"null player"}
    with pytest.raises(ValueError, match="non-negative"):
        violated_axioms(equal_split, seed=-1)
    with pytest.raises(TypeError, match="seed must be"):
        violated_axioms(equal_split, seed=1.5)
