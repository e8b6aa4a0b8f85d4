"""The axioms of Section 10.2.1 as checks on any payment vector: efficiency, symmetry, null player, linearity.

Each check takes a game and payments ``s`` (one per player) and returns what
violates the axiom (an empty list when it holds), so a caller can say *which*
axiom fails and for whom. Exact payments (ints, fractions, sympy rationals)
are compared exactly; floats within ``atol``.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Callable

import numpy as np

from .coalitions import without
from .games import Game, empty_and_grand
from .rationals import exact_or_float

EFFICIENCY, SYMMETRY, NULL_PLAYER, LINEARITY = "efficiency", "symmetry", "null player", "linearity"
AXIOMS = (EFFICIENCY, SYMMETRY, NULL_PLAYER, LINEARITY)
"""The axioms' names, as used by checks and exercises."""


def _equal(a, b, atol: float) -> bool:
    a, b = exact_or_float(a), exact_or_float(b)
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a == b
    return abs(float(a) - float(b)) <= atol


def efficiency_target(game: Game) -> object:
    """What efficient payments add up to: ``U([N]) − U(∅)`` (the chapter's ``U([N])`` when ``U(∅) = 0``).

    Parameters
    ----------
    game : Game
        Evaluated on the empty and the grand coalition (2 evaluations).

    Returns
    -------
    Fraction or float
        Exact (``Fraction``) when both utilities are exact.
    """
    empty, grand = empty_and_grand(game)
    return exact_or_float(grand) - exact_or_float(empty)


def efficiency_gap(game: Game, payments) -> object:
    """``Σ_i s_i − (U([N]) − U(∅))``: zero when efficiency holds (exact when everything is exact).

    Parameters
    ----------
    game : Game
        Evaluated on the empty and the grand coalition.
    payments : sequence of numbers
        ``s_i`` for each player (ints, ``Fraction``, sympy ``Rational`` or floats).

    Returns
    -------
    Fraction or float
    """
    return sum(exact_or_float(p) for p in payments) - efficiency_target(game)


def violates_efficiency(game: Game, payments, atol: float = 1e-9) -> bool:
    """True when ``Σ_i s_i ≠ U([N]) − U(∅)`` (the efficiency axiom fails).

    Parameters
    ----------
    game : Game
        Evaluated on the empty and the grand coalition.
    payments : sequence of numbers
        ``s_i`` for each player.
    atol : float, default=1e-9
        Tolerance when the gap is not exact; an exact gap must be exactly 0.

    Returns
    -------
    bool
    """
    return not _equal(efficiency_gap(game, payments), 0, atol)


def null_players(game: Game, atol: float = 1e-12) -> list[int]:
    """Players i with ``U(S ∪ {i}) = U(S)`` for every S not containing i (the table is evaluated once).

    Parameters
    ----------
    game : Game
        Evaluated on all ``2^N`` coalitions (:meth:`Game.values`).
    atol : float, default=1e-12
        Tolerance for float gains; exact gains must be exactly 0.

    Returns
    -------
    list of int
        The null players' indices, in increasing order.

    Raises
    ------
    ValueError
        N above the enumeration limit (:data:`creditlib.coalitions.MAX_EXACT_PLAYERS`).
    """
    values = game.values()
    codes = np.arange(2**game.n_players, dtype=np.int64)
    out = []
    for i in range(game.n_players):
        S = without(codes, i)
        if all(_equal(g, 0, atol) for g in values[S | (1 << i)] - values[S]):
            out.append(i)
    return out


def symmetric_pairs(game: Game, atol: float = 1e-12) -> list[tuple[int, int]]:
    """Pairs (i, j) with ``U(S ∪ {i}) = U(S ∪ {j})`` for every S containing neither.

    Parameters
    ----------
    game : Game
        Evaluated on all ``2^N`` coalitions once.
    atol : float, default=1e-12
        Tolerance for float utilities; exact ones must be exactly equal.

    Returns
    -------
    list of tuple of int
        The symmetric pairs ``(i, j)`` with ``i < j``, in lexicographic order.

    Raises
    ------
    ValueError
        N above the enumeration limit.
    """
    values = game.values()
    codes = np.arange(2**game.n_players, dtype=np.int64)
    pairs = []
    for i in range(game.n_players):
        for j in range(i + 1, game.n_players):
            S = without(codes, i, j)
            if all(_equal(a, b, atol) for a, b in zip(values[S | 1 << i], values[S | 1 << j])):
                pairs.append((i, j))
    return pairs


def null_player_violations(game: Game, payments, atol: float = 1e-9) -> list[int]:
    """Null players that were paid something non-zero (the null-player axiom, Section 10.2.1).

    Parameters
    ----------
    game : Game
        The game; its null players are found by :func:`null_players` (tolerance 1e-12).
    payments : sequence of numbers
        ``s_i`` for each player; a null player's must be 0.
    atol : float, default=1e-9
        Tolerance for a float payment to count as 0.

    Returns
    -------
    list of int
        Empty when the axiom holds.
    """
    return [i for i in null_players(game) if not _equal(payments[i], 0, atol)]


def symmetry_violations(game: Game, payments, atol: float = 1e-9) -> list[tuple[int, int]]:
    """Symmetric pairs that were paid differently (the symmetry axiom, Section 10.2.1).

    Parameters
    ----------
    game : Game
        The game; its symmetric pairs are found by :func:`symmetric_pairs` (tolerance 1e-12).
    payments : sequence of numbers
        ``s_i`` for each player; the two of a symmetric pair must be equal.
    atol : float, default=1e-9
        Tolerance for two float payments to count as equal.

    Returns
    -------
    list of tuple of int
        Empty when the axiom holds.
    """
    return [(i, j) for i, j in symmetric_pairs(game) if not _equal(payments[i], payments[j], atol)]


def linearity_violations(scheme: Callable[[Game], object], game1: Game, game2: Game,
                         scale: float = 3, atol: float = 1e-9) -> list[int]:
    """Players for whom ``scheme(U1 + U2) ≠ scheme(U1) + scheme(U2)`` or ``scheme(c·U1) ≠ c·scheme(U1)``.

    The linearity axiom of Section 10.2.1, tested on one pair of games and one scalar.

    Parameters
    ----------
    scheme : callable
        Maps a game to its payment vector (e.g. ``shapley_exact``); called four times.
    game1, game2 : Game
        Two games with the same players.
    scale : float, default=3
        The scalar c.
    atol : float, default=1e-9
        Tolerance for float payments; exact payments are compared exactly.

    Returns
    -------
    list of int
        The players for whom either equation fails; empty when both hold.

    Raises
    ------
    ValueError
        The two games have different players (they cannot be added).
    """
    p1, p2 = list(scheme(game1)), list(scheme(game2))
    p_sum, p_scaled = list(scheme(game1 + game2)), list(scheme(scale * game1))
    return [i for i in range(game1.n_players)
            if not _equal(p_sum[i], exact_or_float(p1[i]) + exact_or_float(p2[i]), atol)
            or not _equal(p_scaled[i], exact_or_float(scale) * exact_or_float(p1[i]), atol)]


__all__ = ["AXIOMS", "EFFICIENCY", "SYMMETRY", "NULL_PLAYER", "LINEARITY", "efficiency_target", "linearity_violations", "efficiency_gap", "violates_efficiency", "null_players", "symmetric_pairs",
           "null_player_violations", "symmetry_violations"]
