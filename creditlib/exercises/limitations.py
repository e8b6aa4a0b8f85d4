"""Exercises of notebook 07_limitations: Problems 10.5.1 (pricing datasets) and 10.5.2 (corner detector)."""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..axioms import null_players, symmetric_pairs
from ..chapter_games import corner_detector_game, dataset_pricing_game
from ..interactions import best_coalition
from ..shapley import shapley_exact
from .checker.comparing import compare_names, compare_vector
from .core import Exercise, number_exercise, register
from .feedback import register_shapley_values_exercise

__all__ = ["NOTEBOOK", "DATASETS", "PIXELS"]

NOTEBOOK = "07_limitations"
DATASETS = ["A", "B", "C"]
PIXELS = ["TL", "TR", "BL", "BR"]


def _utility(*members: str):
    """U of a coalition of the pricing game, by names."""
    game = dataset_pricing_game()
    return game(np.array([p in members for p in game.players]))


# 10.5.1a — contextual marginal gains -----------------------------------------------------
def _gains_of_C():
    return [_utility("A", "C") - _utility("A"), _utility("B", "C") - _utility("B")]


def _diagnose_gains(values):
    hints = []
    if [float(v) for v in values] == [float(_utility("A", "C")), float(_utility("B", "C"))]:
        hints.append("Those are the utilities U({A, C}) and U({B, C}); the gain subtracts what A (or B) had alone.")
    if all(float(v) == float(_utility("C")) for v in values):
        hints.append("That is C's gain added to nothing, U({C}) − U(∅); the question asks for C added to A and to B.")
    return hints


register(Exercise(
    id="10.5.1a", title="The gain from adding C to A, and to B", notebook=NOTEBOOK,
    expects="a list [gain of C added to A, gain of C added to B] of exact numbers.",
    verify=lambda a, expected: compare_vector(a, expected, labels=["C added to A", "C added to B"],
                                              diagnose=_diagnose_gains),
    reference=_gains_of_C,
    expected=_gains_of_C,
    wrong_answers=lambda: [([80, 90], "the gain subtracts"), ([25, 25], "C's gain added to nothing"),
                           ([70, 30], "Not right yet for"), ("30, 70", "Strings are never evaluated")],
))

# 10.5.1b — Shapley values ---------------------------------------------------------------
register_shapley_values_exercise(
    "10.5.1b", "Shapley values of the three datasets", NOTEBOOK, dataset_pricing_game,
    wrong_answers=lambda: [
        ([50, 20, 25], "sum to 95 but U({A, B, C}) = 100: the efficiency axiom fails"),
        ([100 / 3] * 3, "exact values"),
        ([40, 25, 35], "Not right yet for"),
    ],
)


# 10.5.1c–f — the buying decision --------------------------------------------------------
def _best_single() -> set:
    return set(best_coalition(dataset_pricing_game(), 1)[0])


def _analyst_pair_performance():
    """The analyst buys the two datasets that are best alone."""
    alone = {p: _utility(p) for p in DATASETS}
    top_two = sorted(DATASETS, key=lambda p: alone[p], reverse=True)[:2]
    return _utility(*top_two)


def _optimal_pair() -> set:
    return set(best_coalition(dataset_pricing_game(), 2)[0])


def _shapley_pick_loss():
    """Performance lost by buying the two datasets with the largest Shapley values instead of the best pair."""
    s = shapley_exact(dataset_pricing_game(), exact=True)
    top_two = [DATASETS[i] for i in np.argsort([-float(v) for v in s])[:2]]
    return _utility(*_optimal_pair()) - _utility(*top_two)


register(Exercise(
    id="10.5.1c", title="The best single dataset", notebook=NOTEBOOK,
    expects="the name of one dataset, 'A', 'B' or 'C'.",
    verify=lambda a, expected: compare_names(
        a, expected, DATASETS, single=True,
        explain=lambda g: [f"U({{{x}}}) = {_utility(x)} is not the largest single utility." for x in sorted(g - expected)]),
    reference=lambda: next(iter(_best_single())),
    expected=_best_single,
    wrong_answers=lambda: [("C", "is not the largest single utility"), ("D", "is not one of the names"),
                           ({"A", "C"}, "should be one name")],
))

number_exercise("10.5.1d", "The performance of the pair the analyst buys", NOTEBOOK,
                "one exact number: U of the two datasets that are best alone.",
                answer=_analyst_pair_performance,
                wrong_answers=lambda: [(75, "is not right"), (105, "is not right"), (80.0, "exact values")])

register(Exercise(
    id="10.5.1e", title="The optimal pair of datasets", notebook=NOTEBOOK,
    expects="a set of two dataset names, e.g. {'A', 'B'}.",
    verify=lambda a, expected: compare_names(
        a, expected, DATASETS,
        explain=lambda g: [f"{{{', '.join(sorted(g))}}} reaches {_utility(*g)}; another pair does better."]
        if len(g) == 2 and g != expected else []),
    reference=_optimal_pair,
    expected=_optimal_pair,
    wrong_answers=lambda: [({"A", "C"}, "reaches 80; another pair does better"), ({"B"}, "misses a name"),
                           (["B", "C", "C", "A"], "includes a name that does not belong")],
))

number_exercise("10.5.1f", "What buying by Shapley ranking costs", NOTEBOOK,
                "one exact number: U(optimal pair) − U(the two datasets with the largest Shapley values).",
                answer=_shapley_pick_loss,
                wrong_answers=lambda: [(0, "is not right"), (-10, "is not right"), (15, "is not right")])

# 10.5.2 — the corner detector -------------------------------------------------------------
register_shapley_values_exercise(
    "10.5.2a", "Shapley values of the four pixels of the corner detector", NOTEBOOK, corner_detector_game,
    wrong_answers=lambda: [
        ([0.25] * 4, "null-player axiom fails"),
        ([1, 1, 1, 0], "efficiency axiom fails"),
        ([sp.Rational(1, 2), sp.Rational(1, 4), sp.Rational(1, 4), 0], "Two symmetric players"),
    ],
    name_players=False,      # 10.5.2b and 10.5.2c ask for the null player and the symmetric pairs
)


def _null_pixels() -> set:
    game = corner_detector_game()
    return {game.players[i] for i in null_players(game)}


def _symmetric_pixel_pairs() -> set:
    game = corner_detector_game()
    return {frozenset((game.players[i], game.players[j])) for i, j in symmetric_pairs(game)}


register(Exercise(
    id="10.5.2b", title="The null players of the corner detector", notebook=NOTEBOOK,
    expects="a set of pixel names from 'TL', 'TR', 'BL', 'BR' (set() if none).",
    verify=lambda a, expected: compare_names(
        a, expected, PIXELS,
        explain=lambda g: [f"{p} is not null: adding it to the other two corner pixels switches the output on."
                           for p in sorted(g - expected)]),
    reference=_null_pixels,
    expected=_null_pixels,
    wrong_answers=lambda: [({"TL"}, "TL is not null"), (set(), "misses a name"), ({"BR", "pixel"}, "is not one of")],
))

register(Exercise(
    id="10.5.2c", title="The symmetric pairs of pixels", notebook=NOTEBOOK,
    expects="a set of pairs of pixel names, e.g. {('TL', 'BR')}.",
    verify=lambda a, expected: compare_names(
        a, expected, PIXELS, pairs=True,
        explain=lambda g: [f"{' and '.join(sorted(p))} are not symmetric: one of them is needed for the output and "
                           "the other is not." for p in g - {frozenset(e) for e in expected}]),
    reference=_symmetric_pixel_pairs,
    expected=_symmetric_pixel_pairs,
    wrong_answers=lambda: [({("TL", "TR"), ("TL", "BR")}, "are not symmetric"), ({("TL", "TR")}, "misses a pair"),
                           ({("TL", "TR", "BL")}, "is not a pair"), ({("TL", "TL")}, "two different names")],
))
