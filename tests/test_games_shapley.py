"""Games and the exact Shapley engine against brute force over permutations (Definition 10.2.2)."""
import itertools
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from creditlib.axioms import (efficiency_gap, null_player_violations, null_players, symmetric_pairs,
                              symmetry_violations)
from creditlib.coalitions import all_coalitions, coalition_codes
from creditlib.games import Game
from creditlib.shapley import shapley_exact
from oracles import shapley_by_permutations, value


def random_table_game(n, seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(-10, 11, size=2**n)
    return Game(n, lambda masks: values[coalition_codes(masks)].astype(float))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 6])
def test_shapley_exact_equals_permutation_definition(n):
    game = random_table_game(n, seed=n)
    np.testing.assert_allclose(shapley_exact(game), shapley_by_permutations(game), atol=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2, 5, 11])
def test_coalition_sizes_count_the_members_of_each_code(n):
    from creditlib.coalitions import coalition_codes_and_sizes
    codes, sizes = coalition_codes_and_sizes(n)
    assert codes.dtype == sizes.dtype == np.int64
    np.testing.assert_array_equal(codes, np.arange(2**n))
    np.testing.assert_array_equal(sizes, [bin(m).count("1") for m in range(2**n)])   # popcount by Python


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
    import re
    game = Game(30, lambda m: np.zeros(len(m)))
    with pytest.raises(ValueError) as info:
        shapley_exact(game)
    message = str(info.value)
    assert "2^30 = 1,073,741,824 coalitions" in message and "max_players=22" in message
    assert "shapley_permutation" in message and "shapley_difference" in message
    gib = float(re.search(r"about ([\d,.]+) GiB", message)[1].replace(",", ""))
    # the boolean masks alone take 2^30 · 30 bytes = 30 GiB, and a float64 copy of them 8 times that
    assert 270 <= gib <= 1000, gib
    assert game.evaluations == 0          # refused before evaluating anything


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


# ------------------------------------------------------------------------------------------ independent oracles
def subsets_without(n, *excluded):
    """Every subset of the players other than ``excluded``, as tuples (plain itertools, no bit tricks)."""
    others = [p for p in range(n) if p not in excluded]
    return [S for size in range(len(others) + 1) for S in itertools.combinations(others, size)]


def banzhaf_by_brute_force(game):
    """β_i = mean over all subsets S of the others of U(S ∪ {i}) − U(S), as exact Fractions."""
    n = game.n_players
    out = []
    for i in range(n):
        gains = [Fraction(value(game, S + (i,))) - Fraction(value(game, S)) for S in subsets_without(n, i)]
        out.append(sum(gains, Fraction(0)) / len(gains))
    return out


@pytest.mark.parametrize("n", [1, 2, 3, 4, 6])
def test_banzhaf_exact_equals_the_mean_over_all_subsets(n):
    from creditlib.game_builders import random_game
    from creditlib.shapley import banzhaf_exact
    game = random_game(n, seed=10 + n, exact=True)
    expected = banzhaf_by_brute_force(game)
    assert [Fraction(int(v.p), int(v.q)) for v in banzhaf_exact(game, exact=True)] == expected
    np.testing.assert_allclose(banzhaf_exact(game), [float(v) for v in expected], atol=1e-12)


def test_banzhaf_values_worked_out_by_hand():
    """Three players, U = 1 for coalitions holding at least 2 of them (majority). Player i is pivotal for
    S = {j} and S = {k} out of the 4 subsets of the others: β_i = 2/4 = 1/2 (and the sum 3/2 ≠ U([N]) = 1)."""
    from creditlib.game_builders import weighted_voting_game
    from creditlib.shapley import banzhaf_exact
    majority = weighted_voting_game([1, 1, 1], quota=2)
    assert list(banzhaf_exact(majority, exact=True)) == [sp.Rational(1, 2)] * 3
    # U(S) = |S|² on 3 players: U(S ∪ i) − U(S) = 2|S| + 1, and |S| over the 4 subsets of 2 others is 0,1,1,2:
    square = Game(3, lambda m: m.sum(axis=1).astype(float) ** 2)
    np.testing.assert_allclose(banzhaf_exact(square), [(1 + 3 + 3 + 5) / 4] * 3, atol=1e-12)


def test_library_permutation_definition_matches_brute_force_and_closed_forms():
    """creditlib's shapley_by_permutations (eq. (10.11) on a table) against this file's own brute force, and
    on unanimity games against the closed form 1/|T|."""
    from creditlib.shapley import shapley_by_permutations as library_by_permutations
    for n, seed in [(1, 0), (3, 1), (5, 2)]:
        game = random_table_game(n, seed)
        np.testing.assert_allclose(library_by_permutations(game.values()), shapley_by_permutations(game),
                                   atol=1e-12)
    from creditlib.game_builders import unanimity_game
    values = unanimity_game([0, 2, 3], 5).values()
    assert [Fraction(v) for v in library_by_permutations(values)] == [Fraction(1, 3), 0, Fraction(1, 3),
                                                                      Fraction(1, 3), 0]
    with pytest.raises(ValueError, match="too many"):
        library_by_permutations(np.zeros(2**9))


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_shapley_difference_exact_equals_the_difference_of_brute_force_values(n):
    from creditlib.shapley import shapley_difference_exact
    game = random_table_game(n, seed=20 + n)
    s = shapley_by_permutations(game)
    table = game.values()
    for i, j in itertools.permutations(range(n), 2):
        assert abs(shapley_difference_exact(table, i, j) - (s[i] - s[j])) < 1e-12


def test_shapley_difference_exact_worked_out_by_hand():
    """N = 3, U(S) = 1 iff A ∈ S and |S| ≥ 2. By hand: s_A = 2/3 (pivotal unless first: 4 of 6 orders),
    s_B = s_C = 1/6, so s_A − s_B = 1/2 and s_B − s_C = 0."""
    from creditlib.shapley import shapley_difference_exact
    table = {(): 0, ("A",): 0, ("B",): 0, ("C",): 0, ("A", "B"): 1, ("A", "C"): 1, ("B", "C"): 0,
             ("A", "B", "C"): 1}
    values = Game.from_table(table, ["A", "B", "C"]).values()
    assert shapley_difference_exact(values, 0, 1) == Fraction(1, 2)
    assert shapley_difference_exact(values, 1, 0) == Fraction(-1, 2)
    assert shapley_difference_exact(values, 1, 2) == 0
    assert list(shapley_exact(Game.from_table(table, ["A", "B", "C"]), exact=True)) == \
        [sp.Rational(2, 3), sp.Rational(1, 6), sp.Rational(1, 6)]


def test_max_players_refuses_exactly_above_the_limit():
    from creditlib.game_builders import random_game
    from creditlib.interactions import conditional_shapley, shapley_interaction_exact
    from creditlib.shapley import banzhaf_exact, harsanyi_dividends
    game = random_game(5, seed=0)
    for method in [shapley_exact, banzhaf_exact, harsanyi_dividends, shapley_interaction_exact]:
        method(game, max_players=5)                       # N = limit: allowed
        with pytest.raises(ValueError, match="max_players=4"):
            method(game, max_players=4)                   # N = limit + 1: refused
    conditional_shapley(game, 0, 1, partner_present=True, max_players=5)
    with pytest.raises(ValueError, match="max_players=4"):
        conditional_shapley(game, 0, 1, partner_present=True, max_players=4)


def test_the_memory_estimate_is_close_to_the_measured_peak():
    """tracemalloc sees numpy's allocations: the estimate must be within a factor of two of a real run."""
    import tracemalloc
    from creditlib.coalitions import enumeration_memory_bytes
    n = 16
    weights = np.linspace(-1, 1, n)
    game = Game(n, lambda m: m.astype(np.float64) @ weights)        # a typical vectorised utility
    tracemalloc.start()
    shapley_exact(game)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert 0.5 <= enumeration_memory_bytes(n) / peak <= 2.0, (enumeration_memory_bytes(n), peak)


def test_bad_input_gets_a_clear_error_early():
    from creditlib.game_builders import random_dividend_game, random_game
    from creditlib.matched_pair import matched_pair_data
    from creditlib.shapley import (dividends_from_table, game_from_dividend_table, semivalue_from_table,
                                   shapley_by_permutations, shapley_difference_exact, shapley_from_dividends,
                                   shapley_weights)
    with pytest.raises(ValueError, match=r"random_game.*2\^40.*max_players=22"):
        random_game(40)
    calls = []
    with pytest.raises(ValueError, match=r"Game.values\(\).*2\^40"):
        Game(40, lambda m: calls.append(1) or np.zeros(len(m))).values()
    assert calls == []                                   # refused before the utility ran
    for bad_length in [0, 3, 7, 12]:
        table = np.zeros(bad_length)
        for call in [lambda t: semivalue_from_table(t, shapley_weights(2)), shapley_by_permutations,
                     lambda t: shapley_difference_exact(t, 0, 1), dividends_from_table, game_from_dividend_table,
                     shapley_from_dividends]:
            with pytest.raises(ValueError, match="not a power of two"):
                call(table)
    with pytest.raises(ValueError, match="index from 0 to 2"):
        shapley_difference_exact(np.zeros(8), 0, 3)
    import signal

    def hang(signum, frame):
        raise AssertionError("matched_pair_data looped instead of refusing the gap")
    previous = signal.signal(signal.SIGALRM, hang)
    signal.setitimer(signal.ITIMER_REAL, 5.0)            # without the check it would loop forever: fail instead
    try:
        for gap in [6.0, 7.0, 5.5]:
            with pytest.raises(ValueError, match="gap"):
                matched_pair_data(n_easy=4, gap=gap, box=3.0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    with pytest.raises(ValueError, match="gap"):
        matched_pair_data(n_easy=4, gap=-1.0)
    with pytest.raises(ValueError, match="n_terms"):
        random_dividend_game(3, n_terms=10, max_order=2)     # only 6 coalitions of order ≤ 2 exist
    with pytest.raises(ValueError, match="max_order"):
        random_dividend_game(3, n_terms=2, max_order=5)
    with pytest.raises(TypeError, match="seed"):
        random_game(3, seed=0.5)


def test_seeds_accept_none_ints_and_generators():
    from creditlib.game_builders import random_game
    from creditlib.estimators import shapley_permutation
    a = random_game(4, seed=np.random.default_rng(5)).values()
    b = random_game(4, seed=np.random.default_rng(5)).values()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(random_game(4, seed=5).values(), random_game(4, seed=5).values())
    random_game(4, seed=None)
    game = random_game(5, seed=1)
    rng = np.random.default_rng(0)
    first, second = shapley_permutation(game, 200, seed=rng), shapley_permutation(game, 200, seed=rng)
    assert not np.array_equal(first.values, second.values)      # a Generator is advanced, not re-seeded


def test_the_three_weightings_of_the_shapley_value_by_hand():
    """N = 3: eq. (10.12) gives |S|!(N−|S|−1)!/N! = 2/6, 1/6, 2/6 for |S| = 0, 1, 2; Definition 10.2.3 picks a
    size uniformly (1/3) and then one of the C(2, |S|) subsets: 1/3, 1/6, 1/3. Banzhaf: 1/4 for every S."""
    from creditlib.shapley import banzhaf_weights, random_size_weights, shapley_weights
    third, sixth = Fraction(1, 3), Fraction(1, 6)
    assert list(shapley_weights(3, exact=True)) == [third, sixth, third]
    assert list(random_size_weights(3, exact=True)) == [third, sixth, third]
    assert list(banzhaf_weights(3, exact=True)) == [Fraction(1, 4)] * 3
    for n in [1, 2, 5, 9]:
        np.testing.assert_allclose(random_size_weights(n), shapley_weights(n), rtol=1e-15)
        sizes = np.arange(n)
        counts = [itertools.combinations(range(n - 1), int(k)) for k in sizes]
        assert sum(w * len(list(c)) for w, c in zip(shapley_weights(n, exact=True), counts)) == 1


@pytest.mark.parametrize("exact", [False, True])
def test_shapley_from_dividends_in_floats_and_exactly(exact):
    """s_i = Σ_{T ∋ i} c_T / |T|, from the dense table and from a sparse mapping, against brute force."""
    from creditlib.game_builders import game_from_dividends, random_game
    from creditlib.shapley import harsanyi_dividends, shapley_from_dividends
    game = random_game(5, seed=8, exact=exact)
    expected = shapley_by_permutations(game)
    np.testing.assert_allclose(np.asarray(shapley_from_dividends(harsanyi_dividends(game, exact=exact)), float),
                               expected, atol=1e-12)
    sparse = {(0, 1, 2): 6.0 if not exact else 6, (1,): 1.5 if not exact else Fraction(3, 2)}
    by_hand = [2, 2 + 1.5, 2, 0]                      # each of the three members gets 6/3
    np.testing.assert_allclose(np.asarray(shapley_from_dividends(sparse, 4), float), by_hand, atol=1e-12)
    np.testing.assert_allclose(shapley_exact(game_from_dividends(sparse, 4)).astype(float), by_hand, atol=1e-12)


def test_from_bitmask_table_agrees_with_a_table_keyed_by_coalition():
    # Oracle: the same utilities keyed by explicit tuples of names, built member by member.
    rng = np.random.default_rng(5)
    names = ["a", "b", "c"]
    values = rng.normal(size=8)
    keyed = {tuple(n for i, n in enumerate(names) if m >> i & 1): values[m] for m in range(8)}
    game = Game.from_bitmask_table(values, players=names)
    assert game.players == names and game.n_players == 3
    masks = rng.random((20, 3)) < 0.5
    assert np.array_equal(game(masks), Game.from_table(keyed, names)(masks))
    assert game(np.array([True, False, True])) == values[0b101]        # bit i ⇔ player i
    assert np.array_equal(game.values(), values)


def test_from_bitmask_table_stays_exact_and_refuses_bad_tables():
    game = Game.from_bitmask_table([0, Fraction(1, 3), sp.Rational(1, 7), 1])
    assert list(shapley_exact(game, exact=True)) == [sp.Rational(1, 3) / 2 + (1 - sp.Rational(1, 7)) / 2,
                                                     sp.Rational(1, 7) / 2 + (1 - sp.Rational(1, 3)) / 2]
    for bad, message in [(np.zeros(6), "2\\^N entries"), (np.zeros(1), "2\\^N entries"),
                         (np.zeros((4, 2)), "one-dimensional"), (np.array([0.0, np.nan]), "not a finite")]:
        with pytest.raises(ValueError, match=message):
            Game.from_bitmask_table(bad)
    with pytest.raises(TypeError):
        Game.from_bitmask_table(["x", "y"])
