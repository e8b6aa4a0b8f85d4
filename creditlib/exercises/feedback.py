"""Feedback that teaches: diagnoses of wrong answers shared by several exercises."""
from __future__ import annotations

from typing import Callable

from ..axioms import efficiency_gap, null_player_violations, symmetry_violations
from ..games import Game


def shapley_diagnosis(game: Game) -> Callable[[list], list[str]]:
    """Diagnose a proposed Shapley payment vector by the axioms of Section 10.2.1.

    Returns a function ``values -> [hints]`` naming each axiom the values break:
    efficiency (with the sum and ``U([N])``), null player, symmetry.
    """
    def diagnose(values: list) -> list[str]:
        hints = []
        gap = efficiency_gap(game, values)
        if abs(float(gap)) > 1e-9:
            grand = -efficiency_gap(game, [0] * game.n_players)
            hints.append(f"Your values sum to {_fmt(grand + gap)} but U([N]) = {_fmt(grand)}: "
                         "the efficiency axiom fails.")
        for i in null_player_violations(game, values):
            hints.append(f"{game.players[i]} is a null player (adds nothing to any coalition) but got "
                         f"{_fmt(values[i])}: the null-player axiom fails.")
        for i, j in symmetry_violations(game, values):
            hints.append(f"{game.players[i]} and {game.players[j]} are symmetric (interchangeable in every "
                         "coalition) but are paid differently: the symmetry axiom fails.")
        return hints

    return diagnose


def _fmt(x) -> str:
    """Exact numbers as ``115/2``, floats with 6 significant digits."""
    return f"{x:.6g}" if isinstance(x, float) else str(x)
