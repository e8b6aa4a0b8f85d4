"""Feedback that teaches: diagnoses of wrong answers shared by several exercises."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..axioms import efficiency_gap, efficiency_target, null_player_violations, symmetry_violations
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
            target = efficiency_target(game)
            empty = game(np.zeros(game.n_players, dtype=bool))
            name = "U([N])" if empty == 0 else "U([N]) − U(∅)"
            hints.append(f"Your values sum to {_fmt(target + gap)} but {name} = {_fmt(target)}: "
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
