"""Exercises of notebook 00_welcome: the Shapley value of a two-player game (Definition 10.2.2)."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from ..games import Game
from ..shapley import shapley_exact
from .checker.function_answers import compare_function, make_exact_equal, read_exact_tuple
from .core import Exercise, expression_exercise, register
from .symbols import u_A, u_AB, u_B
from .feedback import register_shapley_values_exercise

__all__ = ["NOTEBOOK", "WARMUP_TABLE", "warmup_game", "two_player_shapley_reference"]

NOTEBOOK = "00_welcome"
WARMUP_TABLE = {(): 0, ("A",): 50, ("B",): 25, ("A", "B"): 90}
"""Two annotators A and B; U(S) is the quality of a model trained on their data (Example 10.2.1)."""


def warmup_game() -> Game:
    """The warm-up game of notebook 00."""
    return Game.from_table(WARMUP_TABLE, players=["A", "B"])


# nb00.1 — numbers -------------------------------------------------------------------------
register_shapley_values_exercise(
    "nb00.1", "Shapley values of the two-annotator game", NOTEBOOK, warmup_game,
    wrong_answers=lambda: [
        ([50, 25], "efficiency axiom fails"),
        ([65, 40], "efficiency axiom fails"),
        ([45, 45], "Not right yet for: A, B"),
        ([57.5, 32.5], "exact values"),
        ([57.5, 32.5], "your values are right"),
        ("115/2, 65/2", "Strings are never evaluated"),
        ([1, 2, 3], "expected 2"),
    ],
)

# nb00.2 — a symbolic expression -----------------------------------------------------------


def _s_A_symbolic() -> sp.Expr:
    # Shapley values are linear in the utilities: read the coefficient of each utility off
    # the exact engine by switching one utility on at a time.
    coefficients = {}
    for coalition, symbol in [(("A",), u_A), (("B",), u_B), (("A", "B"), u_AB)]:
        table = {c: int(c == coalition) for c in [(), ("A",), ("B",), ("A", "B")]}
        coefficients[symbol] = shapley_exact(Game.from_table(table, players=["A", "B"]), exact=True)[0]
    return sum(c * s for s, c in coefficients.items())


expression_exercise(
    id="nb00.2",
    title="Player A's Shapley value in every two-player game with U(∅) = 0",
    expects="a sympy expression in the symbols u_A, u_B, u_AB (the utilities of {A}, {B}, {A, B}), "
            "with exact coefficients (sp.Rational(1, 2) or / 2, not 0.5).",
    notebook=NOTEBOOK,
    symbols=[u_A, u_B, u_AB],          # any real utilities
    reference=lambda: (u_AB - u_B + u_A) / 2,
    expected=_s_A_symbolic,
    wrong_answers=lambda: [
        (u_A + u_AB - u_B, "differs from the expected one"),
        (u_AB / 2, "differs from the expected one"),
        (sp.Symbol("x") + u_A, "does not define"),
        ("(u_A + u_AB - u_B)/2", "Strings are never evaluated"),
    ],
)


# nb00.3 — a function ----------------------------------------------------------------------
def two_player_shapley_reference(u_empty, u_a, u_b, u_ab):
    """Reference for nb00.3: ``(s_A, s_B)`` from creditlib's exact engine.

    Parameters
    ----------
    u_empty, u_a, u_b, u_ab : Fraction
        The utilities of ∅, {A}, {B} and {A, B}.

    Returns
    -------
    tuple of Fraction
        ``(s_A, s_B)``.
    """
    table = {(): u_empty, ("A",): u_a, ("B",): u_b, ("A", "B"): u_ab}
    s = shapley_exact(Game.from_table(table, players=["A", "B"]), exact=True)
    return tuple(Fraction(int(v.p), int(v.q)) for v in s)


def _draw_utilities(rng: np.random.Generator) -> tuple:
    return tuple(Fraction(int(rng.integers(-20, 21)), int(rng.integers(1, 5))) for _ in range(4))


register(Exercise(
    id="nb00.3",
    title="A function for the Shapley values of any two-player game",
    expects="a function two_player_shapley(u_empty, u_a, u_b, u_ab) returning the pair (s_A, s_B) exactly "
            "(the inputs are Fractions; +, −, * and / keep them exact).",
    notebook=NOTEBOOK,
    verify=lambda answer, reference: compare_function(
        answer, reference, _draw_utilities, read_output=lambda got: read_exact_tuple(got, 2, "the returned pair"),
        same=make_exact_equal(), show_expected=False, labels=("s_A", "s_B")),
    reference=lambda: two_player_shapley_reference,
    expected=lambda: two_player_shapley_reference,
    wrong_answers=lambda: [
        (lambda e, a, b, ab: (a, b), "is wrong on input"),
        (lambda e, a, b, ab: ((a + ab - b) / 2, (b + ab - a) / 2), "is wrong on input"),  # forgets U(∅)
        (lambda e, a, b, ab: 1 / 0, "raised ZeroDivisionError"),
        (42, "should be a function"),
    ],
))
