"""Shapley values (Section 10.2): exact enumeration of all coalitions, eq. (10.12).

The engine evaluates the utility of all ``2^N`` coalitions once, as one batch,
and reads every marginal contribution ``U(S ∪ {i}) − U(S)`` from that table by
bitmask arithmetic, with no Python loop over subsets.
"""
from __future__ import annotations

from fractions import Fraction
from math import factorial

import numpy as np
import sympy as sp

from .games import Game

MAX_EXACT_PLAYERS = 22
"""Default limit for exact enumeration; above it :func:`shapley_exact` refuses (see ``max_players``)."""


def enumeration_memory_bytes(n_players: int) -> int:
    """Rough peak memory of exact enumeration: the boolean mask table plus a few float64 tables of size ``2^N``."""
    return 2**n_players * (n_players + 4 * 8)


def check_enumerable(n_players: int, max_players: int = MAX_EXACT_PLAYERS) -> None:
    """Refuse exact enumeration above ``max_players``, saying what it would cost and what to use instead."""
    if n_players > max_players:
        gib = enumeration_memory_bytes(n_players) / 2**30
        raise ValueError(
            f"Exact enumeration over N = {n_players} players needs all 2^{n_players} = {2**n_players:,} "
            f"coalitions (about {gib:,.1f} GiB of memory and as many utility evaluations); the limit is "
            f"max_players={max_players}. Use a sampling estimator instead (Monte Carlo over permutations, "
            f"Lemma 10.2.6), or raise max_players if you really have the memory and time."
        )


def shapley_weights(n_players: int, exact: bool = False) -> np.ndarray:
    """The weight ``|S|! (N − |S| − 1)! / N!`` of eq. (10.12) for ``|S| = 0 .. N−1``."""
    n = n_players
    if exact:
        out = np.empty(n, dtype=object)
        out[:] = [Fraction(factorial(k) * factorial(n - k - 1), factorial(n)) for k in range(n)]
        return out
    return np.array([factorial(k) * factorial(n - k - 1) / factorial(n) for k in range(n)])


def shapley_exact(game: Game, *, exact: bool = False, max_players: int = MAX_EXACT_PLAYERS) -> np.ndarray:
    """Exact Shapley values by eq. (10.12) (Theorem 10.2.4):

    ``s_i = Σ_{S ⊆ [N]∖{i}} |S|! (N−|S|−1)! / N! · (U(S ∪ {i}) − U(S))``.

    Parameters
    ----------
    game : Game
        The game; its utility is evaluated once on all ``2^N`` coalitions.
    exact : bool, default=False
        Return exact rationals (an object array of sympy ``Rational``); the
        utilities must then be exact numbers (ints, ``Fraction``, sympy ``Rational``)
        or are taken at their exact binary float value.
    max_players : int, default=MAX_EXACT_PLAYERS
        Refuse games with more players (the error says what enumeration would cost).

    Returns
    -------
    ndarray of shape (n_players,)
        ``s_i`` for each player, in the order of ``game.players``.
    """
    n = game.n_players
    check_enumerable(n, max_players)
    values = game.values()
    if exact:
        values = np.array([v if isinstance(v, Fraction) else Fraction(v) for v in values], dtype=object)
    elif values.dtype == object:
        values = values.astype(np.float64)
    codes = np.arange(2**n, dtype=np.int64)
    sizes = np.bitwise_count(codes.astype(np.uint64)).astype(np.int64)
    weights = shapley_weights(n, exact=exact)
    s = np.empty(n, dtype=object if exact else np.float64)
    for i in range(n):
        without_i = codes[(codes >> i) & 1 == 0]
        gains = values[without_i | (1 << i)] - values[without_i]
        s[i] = (weights[sizes[without_i]] * gains).sum()
    if exact:
        return np.array([sp.Rational(v.numerator, v.denominator) for v in s], dtype=object)
    return s
