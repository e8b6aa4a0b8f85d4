"""What the Shapley value averages away (Section 10.5): pairwise interactions, conditional values, best subsets.

* The pairwise **Shapley interaction index** (Grabisch & Roubens, 1999)
  ``I_ij = Σ_{S ⊆ [N]∖{i,j}} |S|! (N−|S|−2)! / (N−1)! · Δ_ij(S)`` with
  ``Δ_ij(S) = U(S ∪ {i,j}) − U(S ∪ {i}) − U(S ∪ {j}) + U(S)``: the Shapley-weighted
  average synergy of i and j. In dividends, ``I_ij = Σ_{T ⊇ {i,j}} c_T / (|T| − 1)``.
* **Conditional values**: the Shapley value of a player in the game where a
  partner is always present (or always absent): the context the average mixes.
* **Best subsets**: the optimal coalition of a given size, by search.
"""
from __future__ import annotations

from fractions import Fraction
from itertools import combinations
from math import factorial
from typing import NamedTuple

import numpy as np

from .coalitions import MAX_EXACT_PLAYERS, coalition_codes_and_sizes, without
from .games import Game
from .rationals import rationals_if_exact
from .shapley import coalition_table, semivalue_from_table, shapley_weights
from .validation import check_index

__all__ = ["interaction_weights", "shapley_interaction_exact", "conditional_shapley", "BestCoalition", "best_coalition"]


def interaction_weights(n_players: int, exact: bool = False) -> np.ndarray:
    """The weight ``|S|! (N − |S| − 2)! / (N − 1)!`` of the pairwise Shapley interaction index, ``|S| = 0 .. N−2``
    (Grabisch & Roubens 1999).

    Parameters
    ----------
    n_players : int
        Number of players N (at least 2).
    exact : bool, default=False
        Return ``Fraction`` objects instead of floats.

    Returns
    -------
    ndarray of shape (n_players − 1,)
        Entry k is the weight of a coalition S of size k (object array of ``Fraction`` when ``exact``).
    """
    n = n_players
    w = [Fraction(factorial(k) * factorial(n - k - 2), factorial(n - 1)) for k in range(n - 1)]
    return np.array(w, dtype=object) if exact else np.array([float(x) for x in w])


def shapley_interaction_exact(game: Game, *, exact: bool = False,
                              max_players: int = MAX_EXACT_PLAYERS) -> np.ndarray:
    """The matrix of pairwise Shapley interaction indices ``I_ij`` (zero diagonal), from one coalition table.

    Positive ``I_ij``: i and j are worth more together than apart (complements);
    negative: substitutes. On a unanimity game ``u_T``, ``I_ij = 1/(|T| − 1)`` for
    i, j ∈ T and 0 otherwise. The index of Grabisch & Roubens (1999), see the module docstring.

    Parameters
    ----------
    game : Game
        At least 2 players; evaluated once on all ``2^N`` coalitions.
    exact : bool, default=False
        Exact arithmetic; the entries are then sympy ``Rational`` objects.
    max_players : int, default=MAX_EXACT_PLAYERS
        Refuse games with more players.

    Returns
    -------
    ndarray of shape (N, N)
        Symmetric, zero diagonal; float64, or object when ``exact``.

    Raises
    ------
    ValueError
        Fewer than 2 players, or ``N > max_players``.
    """
    n = game.n_players
    if n < 2:
        raise ValueError("Interactions need at least 2 players.")
    values = coalition_table(game, exact=exact, max_players=max_players)
    codes, sizes = coalition_codes_and_sizes(n)
    weights = interaction_weights(n, exact)
    out = np.zeros((n, n), dtype=object if exact else np.float64)
    if exact:
        out[:] = 0
    for i, j in combinations(range(n), 2):
        S = without(codes, i, j)
        synergy = values[S | (1 << i) | (1 << j)] - values[S | (1 << i)] - values[S | (1 << j)] + values[S]
        out[i, j] = out[j, i] = (weights[sizes[S]] * synergy).sum()
    if exact:
        return np.array([rationals_if_exact(row, True) for row in out], dtype=object)
    return out


def conditional_shapley(game: Game, player: int, partner: int, *, partner_present: bool,
                        exact: bool = False, max_players: int = MAX_EXACT_PLAYERS):
    """The Shapley value of ``player`` in the game on the other players with ``partner`` always
    present (``U'(S) = U(S ∪ {partner})``) or always absent (``U'(S) = U(S)``).

    The difference between the two is the value of the partnership to ``player`` (Section 10.5):
    the Shapley value averages these two contexts.

    Parameters
    ----------
    game : Game
        Evaluated once on all ``2^N`` coalitions.
    player, partner : int
        Two different player indices in ``0 .. N−1``.
    partner_present : bool
        Condition on the partner being always present (True) or always absent (False).
    exact : bool, default=False
        Exact arithmetic; the result is then a sympy ``Rational``.
    max_players : int, default=MAX_EXACT_PLAYERS
        Refuse games with more players.

    Returns
    -------
    float or sympy.Rational
        The Shapley value (eq. (10.12)) of ``player`` in the (N − 1)-player game.

    Raises
    ------
    ValueError
        An index out of range, ``player == partner``, or ``N > max_players``.
    """
    n = game.n_players
    player, partner = check_index(player, "player", n), check_index(partner, "partner", n)
    if player == partner:
        raise ValueError("player and partner must differ.")
    values = coalition_table(game, exact=exact, max_players=max_players)
    others = [p for p in range(n) if p != partner]
    sub_codes = np.arange(2 ** (n - 1), dtype=np.int64)
    full_codes = np.zeros_like(sub_codes)
    for new_bit, old_bit in enumerate(others):
        full_codes |= ((sub_codes >> new_bit) & 1) << old_bit
    if partner_present:
        full_codes |= 1 << partner
    sub_values = values[full_codes]
    phi = semivalue_from_table(sub_values, shapley_weights(n - 1, exact))
    return rationals_if_exact(phi, exact)[others.index(player)]


class BestCoalition(NamedTuple):
    """The answer of :func:`best_coalition`.

    Attributes
    ----------
    members : tuple of str
        The best coalition's player names.
    utility : float
        Its utility.
    evaluations : int
        The coalitions evaluated.
    """

    members: tuple
    utility: float
    evaluations: int


def best_coalition(game: Game, size: int) -> BestCoalition:
    """The coalition of ``size`` players with the highest utility, by evaluating all ``C(N, size)`` of them.

    Parameters
    ----------
    game : Game
        Evaluated once on all coalitions of that size (one call).
    size : int
        The coalition size, in ``0 .. N``.

    Returns
    -------
    BestCoalition
        The named triple ``(members, utility, evaluations)``:

    members : tuple of str
        The best coalition's player names (the first in lexicographic order of indices on a tie).
    utility : float
        Its utility.
    evaluations : int
        ``C(N, size)``, the coalitions evaluated.

    Raises
    ------
    ValueError
        ``size`` outside ``0 .. N``.
    """
    n = game.n_players
    if not 0 <= size <= n:
        raise ValueError(f"size must be between 0 and {n}, got {size}.")
    members = list(combinations(range(n), size))
    masks = np.zeros((len(members), n), dtype=bool)
    for row, m in enumerate(members):
        masks[row, list(m)] = True
    u = np.asarray(game(masks), dtype=np.float64)
    best = int(np.argmax(u))
    return BestCoalition(tuple(game.players[i] for i in members[best]), float(u[best]), len(members))
