"""Alternative credit schemes to compare with the Shapley value (Section 10.2.1): each breaks an axiom.

A scheme maps a game to a payment vector. Theorem 10.2.5 says that only the
Shapley value satisfies all four axioms; these simple rules show what goes
wrong without each one. :func:`violated_axioms` finds out which axioms a
scheme breaks by testing it on random games with planted structure.
"""
from __future__ import annotations

import numbers
from typing import Callable

import numpy as np

from .axioms import (
    EFFICIENCY,
    LINEARITY,
    NULL_PLAYER,
    SYMMETRY,
    linearity_violations,
    null_player_violations,
    symmetry_violations,
    violates_efficiency,
)
from .game_builders import random_structured_game
from .games import Game
from .validation import check_random_state

__all__ = ["equal_split", "individual_worth", "leave_one_out_payment", "proportional_split", "SCHEMES",
           "violated_axioms"]


def _singletons_and_rest(game: Game) -> tuple[np.ndarray, np.ndarray, float, float]:
    n = game.n_players
    eye = np.eye(n, dtype=bool)
    masks = np.concatenate([np.zeros((1, n), bool), eye, ~eye, np.ones((1, n), bool)])
    u = game(masks).astype(np.float64)
    return u[1:n + 1], u[n + 1:2 * n + 1], u[0], u[-1]


def equal_split(game: Game) -> np.ndarray:
    """Everyone gets ``(U([N]) − U(∅)) / N``: efficient, symmetric, linear, but pays null players.

    Parameters
    ----------
    game : Game
        Evaluated on ∅, the singletons, the coalitions of all but one player and ``[N]``
        (``2N + 2`` coalitions, one call).

    Returns
    -------
    ndarray of float64, shape (n_players,)
        ``(U([N]) − U(∅)) / N`` for every player.
    """
    _, _, empty, grand = _singletons_and_rest(game)
    return np.full(game.n_players, (grand - empty) / game.n_players)


def individual_worth(game: Game) -> np.ndarray:
    """Player i gets what it is worth alone: ``U({i}) − U(∅)``: not efficient when players interact.

    Parameters
    ----------
    game : Game
        Evaluated as in :func:`equal_split`.

    Returns
    -------
    ndarray of float64, shape (n_players,)
        ``U({i}) − U(∅)`` for each player i.
    """
    alone, _, empty, _ = _singletons_and_rest(game)
    return alone - empty


def leave_one_out_payment(game: Game) -> np.ndarray:
    """Player i gets what the others lose without it: ``U([N]) − U([N]∖{i})``.

    (Not :func:`creditlib.influence.leave_one_out`, which retrains a model without each training point.)

    Parameters
    ----------
    game : Game
        Evaluated on ``[N]`` and the coalitions of all but one player (with the other
        coalitions of :func:`equal_split`, in one call).

    Returns
    -------
    ndarray of float64, shape (n_players,)
        ``U([N]) − U([N]∖{i})`` for each player i.
    """
    _, without, _, grand = _singletons_and_rest(game)
    return grand - without


def proportional_split(game: Game) -> np.ndarray:
    """Split ``U([N]) − U(∅)`` in proportion to the players' individual worths (the Shapley value if they sum to 0).

    Worths ``U({i}) − U(∅)`` summing to less than 1e-12 in absolute value count as 0: the proportions are then
    undefined, and the rule pays the Shapley value, which keeps efficiency, symmetry and the null-player axiom
    (an equal split there would pay null players, e.g. in a unanimity game, whose worths are all 0).
    Efficient, symmetric, pays null players 0, but not linear.

    Parameters
    ----------
    game : Game
        Evaluated (twice, via :func:`individual_worth` and :func:`equal_split`) on ``2N + 2`` coalitions, and on
        all ``2^N`` when the worths sum to 0.

    Returns
    -------
    ndarray of float64, shape (n_players,)
        The payments.
    """
    worth = individual_worth(game)
    total = worth.sum()
    if abs(total) < 1e-12:
        from .shapley import shapley_exact  # schemes are compared with the Shapley value, not built on it
        return shapley_exact(game)
    return worth / total * (equal_split(game).sum())


SCHEMES: dict[str, Callable[[Game], np.ndarray]] = {
    "equal split": equal_split,
    "individual worth": individual_worth,
    "leave one out": leave_one_out_payment,
    "proportional split": proportional_split,
}


def violated_axioms(scheme: Callable[[Game], object], n_games: int = 20, n_players: int = 4,
                    seed=0) -> set[str]:
    """The axioms a scheme breaks on at least one of ``n_games`` random structured games.

    The games have a null player and a symmetric pair (``random_structured_game``);
    linearity is tested on pairs of them and on scalar multiples. Exact Shapley values
    (Theorem 10.2.5) break none.

    Parameters
    ----------
    scheme : callable
        Maps a game to its payment vector.
    n_games : int, default=20
        Games tried.
    n_players : int, default=4
        Players per game (at least 3).
    seed : None, int or numpy.random.Generator, default=0
        With an int, game g is ``random_structured_game(n_players, seed + g, exact=False)`` and
        its linearity partner uses ``seed + g + 10_000``; ``None`` or a Generator first draw
        that int (see :func:`creditlib.validation.check_random_state`).

    Returns
    -------
    set of str
        Names from :data:`creditlib.axioms.AXIOMS`; empty when the scheme broke none.
    """
    if not (isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0):
        seed = int(check_random_state(seed).integers(2**31))
    broken: set[str] = set()
    for g in range(n_games):
        game = random_structured_game(n_players, seed=seed + g, exact=False)
        other = random_structured_game(n_players, seed=seed + g + 10_000, exact=False)
        pay = scheme(game)
        if violates_efficiency(game, pay):
            broken.add(EFFICIENCY)
        if symmetry_violations(game, pay):
            broken.add(SYMMETRY)
        if null_player_violations(game, pay):
            broken.add(NULL_PLAYER)
        if linearity_violations(scheme, game, other):
            broken.add(LINEARITY)
    return broken
