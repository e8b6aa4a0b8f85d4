"""Exercises of notebook 08_credit_side_by_side (every notion of credit of Chapter 10 on one small problem)."""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..games import Game
from ..shapley import banzhaf_exact, semivalue_from_table, shapley_exact, weighted_banzhaf_exact
from .checker.comparing import compare_names, compare_vector
from .core import Exercise, array_function_exercise, expression_exercise, register
from .symbols import p

__all__ = ["NOTEBOOK", "TWINS_TABLE", "NOTIONS"]

NOTEBOOK = "08_credit_side_by_side"


# ---------------------------------------------------------------------------- nb08.1: leave-one-out from a table
def _loo_reference(table) -> np.ndarray:
    # Evaluate the game on the grand coalition and on each "all but one" coalition, by masks (no bit tricks).
    game = Game.from_bitmask_table(np.asarray(table, dtype=np.float64))
    n = game.n_players
    full = np.ones(n, dtype=bool)
    return game(full) - game(~np.eye(n, dtype=bool))


def _points(rng: np.random.Generator) -> int:
    """N = 1 to the notebook's 14 points, half the draws from 7 on (bitmasks past 8 bits from N = 9)."""
    return int(rng.integers(1, 7) if rng.random() < 0.5 else rng.integers(7, 15))


def _draw_table(rng: np.random.Generator) -> tuple:
    return (rng.normal(size=2 ** _points(rng)),)


array_function_exercise(
    id="nb08.1", title="Leave-one-out values from a table of every subset", notebook=NOTEBOOK,
    expects="a function loo_from_table(table) taking a 1-D NumPy array of 2^N utilities indexed by bitmask and "
            "returning an (N,) NumPy array: f(all points) − f(all points but i) for each i (to a relative 1e-12).",
    reference=lambda: _loo_reference, draw_input=_draw_table, rtol=1e-12,
    wrong_answers=lambda: [
        (lambda t: t[-1] - t[1 << np.arange(len(t).bit_length() - 1)], "is wrong on input"),     # f(all) − f({i})
        (lambda t: t[1 << np.arange(len(t).bit_length() - 1)] - t[0], "is wrong on input"),      # f({i}) − f(∅)
        (lambda t: t[(len(t) - 1) ^ (1 << np.arange(len(t).bit_length() - 1))] - t[-1], "is wrong on input"),
    ],
)

# ---------------------------------------------------------------------------- nb08.2: three notions, one table
TWINS_TABLE = {(): 0, ("a",): 5, ("b",): 5, ("c",): 2, ("a", "b"): 6, ("a", "c"): 8, ("b", "c"): 8,
               ("a", "b", "c"): 9}
"""A three-point table in which a and b are near-duplicates (together worth little more than either)."""


def _three_notions() -> tuple:
    game = Game.from_table(TWINS_TABLE, players=["a", "b", "c"])
    values = game.values()
    loo_a = sp.Rational(values[0b111] - values[0b110])           # f(abc) − f(bc), read from the table
    return loo_a, banzhaf_exact(game, exact=True)[0], shapley_exact(game, exact=True)[0]


register(Exercise(
    id="nb08.2", title="Leave-one-out, Banzhaf and Shapley values of one point of a 3-point table", notebook=NOTEBOOK,
    expects="a list [LOO(a), Banzhaf(a), Shapley(a)] of exact numbers (ints, fractions.Fraction or sp.Rational).",
    verify=lambda a, expected: compare_vector(a, expected, labels=["LOO", "Banzhaf", "Shapley"]),
    reference=lambda: [1, sp.Rational(13, 4), sp.Rational(19, 6)],
    expected=_three_notions,
    wrong_answers=lambda: [([5, sp.Rational(13, 4), sp.Rational(19, 6)], "Not right yet for: LOO"),   # f(a) − f(∅)
                           ([1, sp.Rational(13, 3), sp.Rational(19, 6)], "Not right yet for: Banzhaf"),
                           ([1, sp.Rational(13, 4), sp.Rational(13, 4)], "Not right yet for: Shapley"),
                           ([1, 3.25, sp.Rational(19, 6)], "exact values")],
))


# ---------------------------------------------------------------------------- nb08.3: WB_p from a table
def _weighted_banzhaf_by_hand(table, p: float) -> np.ndarray:
    """WB_p(i) = Σ_{S ⊆ [N]∖{i}} p^|S| (1 − p)^(N−1−|S|) (U(S ∪ {i}) − U(S)), one subset at a time, as a
    reader would write it (the checker compares with creditlib's weighted_banzhaf_exact)."""
    table = np.asarray(table, dtype=np.float64)
    n = len(table).bit_length() - 1
    values = np.zeros(n)
    for i in range(n):
        for m in range(len(table)):
            if not m >> i & 1:
                size = bin(m).count("1")
                values[i] += p**size * (1 - p) ** (n - 1 - size) * (table[m | 1 << i] - table[m])
    return values


def _weighted_banzhaf_library(table, p: float) -> np.ndarray:
    return weighted_banzhaf_exact(Game.from_bitmask_table(np.asarray(table, dtype=np.float64)), p)


def _draw_table_and_p(rng: np.random.Generator) -> tuple:
    return rng.normal(size=2 ** _points(rng)), float(rng.uniform(0.05, 0.95))


def _with_size_weights(weight):
    """A wrong answer: the semivalue with weights weight(size, n, p) instead of p^size (1 − p)^(n−1−size)."""
    def wrong(table, p):
        n = len(table).bit_length() - 1
        return semivalue_from_table(np.asarray(table, dtype=np.float64), [weight(k, n, p) for k in range(n)])
    return wrong


array_function_exercise(
    id="nb08.3", title="Weighted Banzhaf values WB_p from a table of every subset", notebook=NOTEBOOK,
    expects="a function weighted_banzhaf_from_table(table, p) taking a 1-D NumPy array of 2^N utilities indexed "
            "by bitmask and a probability 0 < p < 1, and returning an (N,) NumPy array: WB_p(i), the expected gain "
            "f(S ∪ {i}) − f(S) when each other point is in S independently with probability p (to a relative "
            "1e-10).",
    reference=lambda: _weighted_banzhaf_by_hand, expected=lambda: _weighted_banzhaf_library,
    draw_input=_draw_table_and_p,
    wrong_answers=lambda: [
        (_with_size_weights(lambda k, n, p: 0.5 ** (n - 1)), "is wrong on input"),             # Banzhaf, any p
        (_with_size_weights(lambda k, n, p: (1 - p) ** k * p ** (n - 1 - k)), "is wrong on input"),  # p, 1 − p swap
        (_with_size_weights(lambda k, n, p: p**k * (1 - p) ** (n - k)), "is wrong on input"),  # i's own coin counted
        (_with_size_weights(lambda k, n, p: p**k * (1 - p) ** (n - 1 - k) / 2 ** (n - 1)), "is wrong on input"),
        (lambda t, p: -_weighted_banzhaf_by_hand(t, p), "is wrong on input"),                 # f(S) − f(S ∪ i)
        (lambda t, p: [str(v) for v in _weighted_banzhaf_by_hand(t, p)], "the returned value"),    # strings
    ],
)

# ---------------------------------------------------------------------------- nb08.4: a perfect duplicate under WB_p
def _duplicate_share() -> sp.Expr:
    # Players a, b (perfect duplicates: U depends only on whether a copy is present) and c, symbolic utilities.
    u0, ua, uc, uac = sp.symbols("u0 ua uc uac", real=True)
    with_twin = [u0, ua, ua, ua, uc, uac, uac, uac]            # bit 0 = a, bit 1 = b, bit 2 = c
    alone = [u0, ua, uc, uac]                                    # the game without b: bit 0 = a, bit 1 = c
    weights = lambda n: [p**k * (1 - p) ** (n - 1 - k) for k in range(n)]
    return sp.factor(sp.simplify(semivalue_from_table(np.array(with_twin, dtype=object), weights(3))[0]
                                 / semivalue_from_table(np.array(alone, dtype=object), weights(2))[0]))


expression_exercise(
    id="nb08.4", title="What a perfect duplicate keeps of its weighted Banzhaf value", notebook=NOTEBOOK,
    expects="a sympy expression in p (the symbol p from this notebook, 0 < p < 1): WB_p(a) in the game with its "
            "duplicate b divided by WB_p(a) in the game without b.",
    symbols=[p], domain={"p": (0, 1)},
    reference=lambda: 1 - p,
    expected=_duplicate_share,
    wrong_answers=lambda: [(p, "differs from the expected one"), (sp.Rational(1, 2), "differs from the expected one"),
                           ((1 - p) / 2, "differs from the expected one")],
)

# ---------------------------------------------------------------------------- nb08.5: which notion keeps most
NOTIONS = ["leave-one-out", "Banzhaf", "Shapley", "WB_0.9"]

register(Exercise(
    id="nb08.5", title="Which notion leaves the duplicated image the largest share of its credit", notebook=NOTEBOOK,
    expects=f"one name from {NOTIONS}: the notion under which the duplicated image keeps the largest share of the "
            "credit it gets when its twin is not in the training set.",
    verify=lambda a, expected: compare_names(
        a, expected, NOTIONS, single=True,
        explain=lambda given: ["A notion that removes one point from the full set sees the twin every time."
                               if given & {"leave-one-out", "WB_0.9"} else
                               "Compare 1 − p averaged with equal weight over p with 1 − p at p = ½, when the solo "
                               "value is larger at small p." if "Banzhaf" in given else ""]),
    # Shapley averages WB_p over p; the duplicate keeps a share 1 − p of WB_p (exercise nb08.4), and the solo values
    # are largest at small p, where the share is largest. Notebook 08 measures it on its table.
    reference=lambda: "Shapley",
    expected=lambda: {"Shapley"},
    wrong_answers=lambda: [("Banzhaf", "Not right yet"), ("leave-one-out", "sees the twin"), ("WB_0.9", "Not right"),
                           (["Shapley", "Banzhaf"], "one name")],
))
