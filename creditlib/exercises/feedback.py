"""Feedback that teaches, shared by several notebooks' exercises: diagnoses of wrong Shapley values
and function checks that name a known slip."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..axioms import efficiency_gap, efficiency_target, null_player_violations, symmetry_violations
from ..games import Game
from ..shapley import shapley_exact
from .checker.comparing import compare_vector
from .checker.function_answers import compare_function
from .checker.verdicts import INCORRECT, Verdict, show_value
from .core import Exercise, register

__all__ = ["shapley_diagnosis", "register_shapley_values_exercise", "compare_function_diagnosed"]


def shapley_diagnosis(game: Game, name_players: bool = True) -> Callable[[list], list[str]]:
    """Diagnose a proposed Shapley payment vector by the axioms of Section 10.2.1.

    Returns a function ``values -> [hint]`` with at most ONE hint, for the first axiom the
    values break: efficiency (with the sum and ``U([N])``), null player, symmetry. With
    ``name_players=False`` (when other parts of the exercise ask for the null players or the
    symmetric pairs) the hint does not say which players.

    Parameters
    ----------
    game : Game
        The exercise's game.
    name_players : bool, default=True
        Whether a hint may name the players concerned.

    Returns
    -------
    callable
        ``diagnose(values) -> list of str``.
    """
    def diagnose(values: list) -> list[str]:
        gap = efficiency_gap(game, values)
        exact = all(getattr(v, "is_Rational", False) for v in values)
        if (gap != 0) if exact else abs(float(gap)) > 1e-9 * max(1.0, abs(float(efficiency_target(game)))):
            target = efficiency_target(game)
            empty = game(np.zeros(game.n_players, dtype=bool))
            grand = game.describe(np.ones(game.n_players, dtype=bool))
            name = "U([N])" if game.n_players > 6 else f"U({grand})"
            name = name if empty == 0 else f"{name} − U(∅)"
            return [f"Your values sum to {_fmt(target + gap)} but {name} = {_fmt(target)}: "
                    "the efficiency axiom fails."]
        for i in null_player_violations(game, values)[:1]:
            who = f"{game.players[i]} is a null player (adds nothing to any coalition) but got {_fmt(values[i])}" \
                if name_players else "A null player (one that adds nothing to any coalition) got credit"
            return [f"{who}: the null-player axiom fails."]
        for i, j in symmetry_violations(game, values)[:1]:
            who = f"{game.players[i]} and {game.players[j]} are symmetric (interchangeable in every coalition) but " \
                  "are paid differently" if name_players else \
                  "Two symmetric players (interchangeable in every coalition) are paid differently"
            return [f"{who}: the symmetry axiom fails."]
        return []

    return diagnose


def register_shapley_values_exercise(exercise_id: str, title: str, notebook: str, make_game: Callable[[], Game],
                                     wrong_answers: Callable[[], list], name_players: bool = True) -> Exercise:
    """Register "give the exact Shapley values of this game": expected values from ``shapley_exact``,
    feedback from the axioms (:func:`shapley_diagnosis`; ``name_players=False`` when sibling exercises ask
    for the null players or symmetric pairs). A wrong answer gets an axiom hint *or* the names of its wrong
    entries, never both: together they hand over the answer (the right entries, then efficiency or symmetry
    for the rest).

    Parameters
    ----------
    exercise_id, title, notebook : str
        As for :class:`creditlib.exercises.core.Exercise`.
    make_game : callable
        ``make_game() -> Game``.
    wrong_answers : callable
        ``wrong_answers() -> [(answer, hint fragment), ...]``.
    name_players : bool, default=True
        Passed to :func:`shapley_diagnosis`.

    Returns
    -------
    Exercise
        The registered exercise.
    """
    def expected() -> tuple:
        return tuple(shapley_exact(make_game(), exact=True))

    players = make_game().players
    return register(Exercise(
        id=exercise_id, title=title, notebook=notebook,
        expects=f"a list [{', '.join('s_' + p for p in players)}] of exact numbers "
                "(ints, fractions.Fraction or sp.Rational), or a dict {player: value}.",
        verify=lambda answer, expected: compare_vector(answer, expected, labels=players, one_hint=True,
                                                       diagnose=shapley_diagnosis(make_game(), name_players)),
        reference=lambda: list(expected()),
        expected=expected,
        wrong_answers=wrong_answers,
    ))


def _fmt(x) -> str:
    """Exact numbers as ``115/2``, floats with 6 significant digits."""
    return f"{float(x):.6g}" if isinstance(x, float) or getattr(x, "is_Float", False) else show_value(x)


# Function checks with a diagnosis ------------------------------------------------------------
def compare_function_diagnosed(answer, reference: Callable, draw_input: Callable[[np.random.Generator], tuple], *,
                               read_output: Callable, same: Callable, diagnoses: Sequence[tuple[Callable, str]],
                               otherwise: str = "") -> Verdict:
    """:func:`~creditlib.exercises.checker.function_answers.compare_function`, plus a hint when the first wrong
    output matches a known slip.

    ``diagnoses`` lists ``(slip, hint)``: ``slip(*args)`` computes what a plausible bug returns
    on the failing input (in this process, from the input alone: the reader's code never runs
    here); the first slip that ``same`` matches adds its hint, else ``otherwise`` is added.

    Parameters
    ----------
    answer : callable
        The reader's function.
    reference, draw_input, read_output, same : callable
        As for :func:`~creditlib.exercises.checker.function_answers.compare_function`.
    diagnoses : sequence of (callable, str)
        Known slips and the hint each earns.
    otherwise : str, default=""
        The hint when no slip matches.

    Returns
    -------
    Verdict
        ``compare_function``'s verdict, with the hint appended when it is ``incorrect``.
    """
    seen: dict = {}

    def recording_reference(*args):
        seen["args"] = args
        return reference(*args)

    def recording_same(got, expected):
        seen["got"] = got
        return same(got, expected)

    verdict = compare_function(answer, recording_reference, draw_input, read_output=read_output, same=recording_same)
    if verdict.status != INCORRECT or "got" not in seen or same(seen["got"], reference(*seen["args"])):
        return verdict                      # passed, or failed before any comparison (raised, timed out)
    hint = next((text for slip, text in diagnoses if _matches(same, seen["got"], slip, seen["args"])), otherwise)
    return Verdict(INCORRECT, f"{verdict.message} {hint}".strip())


def _matches(same: Callable, got, slip: Callable, args: tuple) -> bool:
    try:
        return same(got, slip(*args))
    except (ArithmeticError, RuntimeError, ValueError):     # the slip itself fails on this input (a singular H)
        return False
