"""Shapley values (Section 10.2): exact enumeration, the unanimity decomposition, and two estimators.

Exact methods evaluate the utility of all ``2^N`` coalitions once, as one batch,
and read every marginal contribution ``U(S ∪ {i}) − U(S)`` from that table by
bitmask arithmetic (coalition ``m`` contains player ``i`` iff bit ``i`` is set),
with no Python loop over subsets. Estimators spend a budget of utility
evaluations, never more, and return standard errors with their estimates.

All values assume the chapter's convention ``U(∅) = 0`` only where stated:
in general the Shapley values add up to ``U([N]) − U(∅)``.
"""
from __future__ import annotations

import itertools
from fractions import Fraction
from math import comb, factorial
from typing import Mapping

import numpy as np
import sympy as sp

from .coalitions import (
    MAX_EXACT_PLAYERS,
    check_enumerable,
    coalition_codes,
    coalition_codes_and_sizes,
    table_players,
    without,
)
from .games import Game
from .rationals import as_fraction, rationals_if_exact, reciprocal, to_sympy
from .validation import as_numpy, check_index, check_int, check_open_unit

__all__ = ["coalition_table", "shapley_weights", "random_size_weights", "banzhaf_weights", "semivalue_from_table",
           "semivalue_exact", "shapley_by_permutations", "shapley_exact", "banzhaf_exact", "weighted_banzhaf_weights",
           "weighted_banzhaf_exact", "shapley_difference_exact", "harsanyi_dividends", "dividends_from_table",
           "game_from_dividend_table", "shapley_from_dividends"]


def coalition_table(game: Game, *, exact: bool = False, max_players: int = MAX_EXACT_PLAYERS) -> np.ndarray:
    """``U(S)`` for all ``2^N`` coalitions, indexed by bitmask; exact ``Fraction`` objects when ``exact``.

    Parameters
    ----------
    game : Game
        Evaluated once on all ``2^N`` coalitions (:meth:`Game.values`).
    exact : bool, default=False
        Convert every utility with :func:`creditlib.rationals.as_fraction` (floats at their exact binary value).
    max_players : int, default=MAX_EXACT_PLAYERS
        Refuse games with more players.

    Returns
    -------
    ndarray of shape (2**N,)
        float64, or an object array of ``Fraction`` when ``exact``.

    Raises
    ------
    ValueError
        ``N > max_players`` (the message says what enumeration would cost).
    """
    check_enumerable(game.n_players, max_players)
    values = game.values(max_players=max_players)
    if exact:
        return np.array([as_fraction(v) for v in values], dtype=object)
    return values.astype(np.float64)


# ---------------------------------------------------------------------------- semivalues
def shapley_weights(n_players: int, exact: bool = False) -> np.ndarray:
    """The weight ``|S|! (N − |S| − 1)! / N!`` of eq. (10.12) for ``|S| = 0 .. N−1``.

    Equivalently ``1 / (N · C(N−1, |S|))``, the form of eq. (10.13).

    Parameters
    ----------
    n_players : int
        Number of players N.
    exact : bool, default=False
        Return ``Fraction`` objects instead of floats.

    Returns
    -------
    ndarray of shape (n_players,)
        Entry k is the weight of a coalition of size k; object array of ``Fraction`` when ``exact``,
        else float64.
    """
    n = n_players
    w = [Fraction(factorial(k) * factorial(n - k - 1), factorial(n)) for k in range(n)]
    return np.array(w, dtype=object) if exact else np.array([float(x) for x in w])


def random_size_weights(n_players: int, exact: bool = False) -> np.ndarray:
    """The weight ``1 / (N · C(N−1, |S|))`` of eq. (10.13): the probability that Definition 10.2.3's
    random process (k uniform on {0..N−1}, then S uniform among the k-subsets of ``[N]∖{i}``) picks S.

    Equal to :func:`shapley_weights` (Theorem 10.2.4); computed from the other formula, so that
    comparing the two checks eqs. (10.12) and (10.13).

    Parameters
    ----------
    n_players, exact
        As in :func:`shapley_weights`, whose values these equal.

    Returns
    -------
    ndarray of shape (n_players,)
        Entry k is the weight of a coalition of size k (object array of ``Fraction`` when ``exact``).
    """
    n = n_players
    w = [Fraction(1, n * comb(n - 1, k)) for k in range(n)]
    return np.array(w, dtype=object) if exact else np.array([float(x) for x in w])


def banzhaf_weights(n_players: int, exact: bool = False) -> np.ndarray:
    """The Banzhaf weight ``1 / 2^(N−1)`` for every size: S uniform over all subsets of ``[N]∖{i}``.

    Parameters
    ----------
    n_players : int
        Number of players N (at least 1).
    exact : bool, default=False
        ``Fraction`` objects instead of floats, as in :func:`shapley_weights`.

    Returns
    -------
    ndarray of shape (n_players,)
        The same weight for every size k = 0 .. N−1 (object array of ``Fraction`` when ``exact``).
    """
    w = Fraction(1, 2 ** (n_players - 1))
    return np.array([w] * n_players, dtype=object) if exact else np.full(n_players, float(w))


def semivalue_from_table(values: np.ndarray, weights) -> np.ndarray:
    """``φ_i = Σ_{S ⊆ [N]∖{i}} w(|S|) · (U(S ∪ {i}) − U(S))`` on a table of ``U`` indexed by bitmask.

    Works with any arithmetic: floats, ``Fraction`` objects or sympy
    expressions (symbolic utilities), with ``weights[k]`` of a matching type.
    With :func:`shapley_weights` it is eq. (10.12); with :func:`banzhaf_weights`, the Banzhaf value.

    Parameters
    ----------
    values : array_like of shape (2**N,)
        A coalition table indexed by bitmask.
    weights : sequence of shape (N,)
        ``w(k)`` for each coalition size k = 0 .. N−1 (``Fraction`` weights become sympy
        ``Rational`` for a symbolic table).

    Returns
    -------
    ndarray of shape (N,)
        ``φ_i`` for each player, of the table's dtype (float64 or object).

    Raises
    ------
    ValueError
        The table's length is not a power of two.
    """
    values = as_numpy(values)
    n = table_players(values)
    if values.dtype == object and isinstance(values[-1], sp.Basic):   # symbolic: keep weights in sympy
        weights = [to_sympy(w) if isinstance(w, Fraction) else w for w in weights]
    weights = as_numpy(weights, dtype=object if values.dtype == object else np.float64)
    codes, sizes = coalition_codes_and_sizes(n)
    phi = np.empty(n, dtype=values.dtype)
    for i in range(n):                                   # a loop over players only; coalitions are vectorised
        without_i = without(codes, i)
        gains = values[without_i | (1 << i)] - values[without_i]
        phi[i] = (weights[sizes[without_i]] * gains).sum()
    return phi


def semivalue_exact(game: Game, weights: np.ndarray, *, exact: bool = False,
                    max_players: int = MAX_EXACT_PLAYERS) -> np.ndarray:
    """A semivalue of a game from one evaluation of all its coalitions (see :func:`semivalue_from_table`).

    Parameters
    ----------
    game : Game
        Evaluated once on all ``2^N`` coalitions.
    weights : ndarray of shape (N,)
        ``w(k)`` per coalition size, e.g. :func:`shapley_weights` (exact ones when ``exact``).
    exact : bool, default=False
        Exact arithmetic; the result is then an object array of sympy ``Rational``.
    max_players : int, default=MAX_EXACT_PLAYERS
        Refuse games with more players.

    Returns
    -------
    ndarray of shape (N,)
        float64, or sympy ``Rational`` objects when ``exact``.

    Raises
    ------
    ValueError
        ``N > max_players``.
    """
    values = coalition_table(game, exact=exact, max_players=max_players)
    return rationals_if_exact(semivalue_from_table(values, weights), exact)


def shapley_by_permutations(values: np.ndarray, orders=None) -> np.ndarray:
    """Definition 10.2.2, eq. (10.11), literally: the average marginal gain over arrival orders.

    ``values`` is a coalition table (bitmask-indexed) of floats, ``Fraction``
    objects or sympy expressions. With ``orders=None`` it averages over all N!
    orders (cost ``N · N!``: a reference for N ≤ 8, used to show that eqs. (10.11),
    (10.12) and (10.13) agree). With given ``orders`` it averages over those
    rows: the naive estimator of Lemma 10.2.6 on a fixed sample of permutations
    (:func:`shapley_permutation` draws them itself and evaluates only the prefixes).

    Parameters
    ----------
    values : array_like of shape (2**N,)
        The coalition table.
    orders : array_like of int, shape (m, N), optional
        Arrival orders, each row a permutation of ``0 .. N−1`` (player ``orders[r, 0]`` arrives first).

    Returns
    -------
    ndarray of shape (N,)
        The mean marginal gain ``U(π_{≤i}) − U(π_{<i})`` of each player, in the table's arithmetic and dtype
        (the Shapley values when ``orders`` is None).

    Raises
    ------
    ValueError
        N > 8 without ``orders``, ``orders`` not an (m, N) array of permutations (m ≥ 1), or the table's
        length is not a power of two.
    """
    values = as_numpy(values)
    n = table_players(values)
    if orders is None:
        if n > 8:
            raise ValueError(f"N! = {factorial(n):,} orders is too many to enumerate; use shapley_exact, "
                             "or pass a sample of orders.")
        orders = itertools.permutations(range(n))
        scale = reciprocal(factorial(n), values[0])
    else:
        orders = _check_orders(orders, n)
        scale = reciprocal(len(orders), values[0])
    total = [0] * n
    for order in orders:
        code = 0
        for i in order:
            i = int(i)
            total[i] = total[i] + (values[code | (1 << i)] - values[code])
            code |= 1 << i
    return np.array([t * scale for t in total], dtype=values.dtype)


def _check_orders(orders, n: int) -> np.ndarray:
    """``orders`` as an (m, n) int array whose rows are permutations of ``0 .. n−1`` (ValueError otherwise)."""
    orders = as_numpy(orders)
    if orders.ndim != 2 or orders.shape[1] != n or len(orders) == 0 or orders.dtype.kind not in "iu":
        raise ValueError(f"orders must be an integer array of shape (m, {n}) with m ≥ 1, one permutation of "
                         f"0..{n - 1} per row; got shape {orders.shape} and dtype {orders.dtype}.")
    if not (np.sort(orders, axis=1) == np.arange(n)).all():
        raise ValueError(f"every row of orders must be a permutation of 0..{n - 1} (each player exactly once).")
    return orders


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
    return semivalue_exact(game, shapley_weights(game.n_players, exact), exact=exact, max_players=max_players)


def banzhaf_exact(game: Game, *, exact: bool = False, max_players: int = MAX_EXACT_PLAYERS) -> np.ndarray:
    """Exact Banzhaf values: ``β_i = 2^{−(N−1)} Σ_{S ⊆ [N]∖{i}} (U(S ∪ {i}) − U(S))``.

    The contrast to Definition 10.2.3: S uniform over *all* subsets of the
    other players rather than a uniform size and then a uniform subset of
    that size. Banzhaf values satisfy symmetry, null player and linearity, but
    not efficiency.

    Parameters
    ----------
    game : Game
        Evaluated once on all ``2^N`` coalitions.
    exact : bool, default=False
        Return exact rationals (an object array of sympy ``Rational``).
    max_players : int, default=MAX_EXACT_PLAYERS
        Refuse games with more players.

    Returns
    -------
    ndarray of shape (n_players,)
        ``β_i`` for each player.

    Raises
    ------
    ValueError
        ``N > max_players``.
    """
    return semivalue_exact(game, banzhaf_weights(game.n_players, exact), exact=exact, max_players=max_players)


def weighted_banzhaf_weights(n_players: int, p, exact: bool = False) -> np.ndarray:
    """The weighted-Banzhaf weight ``p^|S| (1 − p)^(N−1−|S|)`` for ``|S| = 0 .. N−1``: the probability of S when
    every other player is present independently with probability p (exact for a ``Fraction`` p when ``exact``).

    Parameters
    ----------
    n_players : int
        N, at least 1.
    p : float or Fraction
        Probability that each other player is present, strictly between 0 and 1.
    exact : bool, default=False
        Return ``Fraction`` weights (object array).

    Returns
    -------
    numpy.ndarray
        N weights, entry ``k`` for coalitions of size ``k``; they sum, with the binomial counts, to 1.

    Raises
    ------
    ValueError
        When ``p`` is not strictly between 0 and 1 or ``n_players < 1``.
    """
    n = check_int(n_players, "n_players", low=1)
    if exact:
        if isinstance(p, bool) or not isinstance(p, (Fraction, float, int)) and not hasattr(p, "q"):
            raise ValueError(f"p must be a number strictly between 0 and 1; got {p!r}.")
        p = as_fraction(p)
        check_open_unit(float(p), "p")
        return np.array([p**k * (1 - p) ** (n - 1 - k) for k in range(n)], dtype=object)
    p = check_open_unit(p, "p")
    return np.array([p**k * (1 - p) ** (n - 1 - k) for k in range(n)])


def weighted_banzhaf_exact(game: Game, p, *, exact: bool = False, max_players: int = MAX_EXACT_PLAYERS) -> np.ndarray:
    """Exact weighted Banzhaf values ``WB_p(i) = E_{S∼B_p over [N]∖{i}} [U(S ∪ {i}) − U(S)]``.

    Every other player is present independently with probability p (Marichal & Mathonet 2011). ``p = ½`` is
    :func:`banzhaf_exact`; ``∫₀¹ WB_p dp`` is the Shapley value; with a 0/1 encoding of presence, the
    least-squares datamodel over B_p has exactly these slopes (notebook 05).

    Parameters
    ----------
    game : Game
    p : float in (0, 1), or a ``Fraction`` (exact)
    exact : bool, default=False
        Exact rationals (sympy ``Rational``); p is then taken exactly (a float at its binary value).
    max_players : int, default=MAX_EXACT_PLAYERS

    Returns
    -------
    ndarray of shape (n_players,)

    Raises
    ------
    ValueError
        p outside (0, 1), or a game too large to enumerate.
    """
    return semivalue_exact(game, weighted_banzhaf_weights(game.n_players, p, exact), exact=exact,
                           max_players=max_players)


def shapley_difference_exact(values: np.ndarray, i: int, j: int):
    """Theorem 10.2.8 literally: ``s_i − s_j = 1/(N−1) Σ_{S ⊆ [N]∖{i,j}} (U(S ∪ {i}) − U(S ∪ {j})) / C(N−2, |S|)``.

    Parameters
    ----------
    values : array_like of shape (2**N,)
        A coalition table (floats, ``Fraction`` objects or sympy expressions).
    i, j : int
        Two different players, indices in ``0 .. N−1``.

    Returns
    -------
    scalar
        ``s_i − s_j`` in the table's arithmetic (float, ``Fraction`` or sympy expression).

    Raises
    ------
    ValueError
        An index out of range, ``i == j``, or a table whose length is not a power of two.
    """
    values = as_numpy(values)
    n = table_players(values)
    i, j = check_index(i, "i", n), check_index(j, "j", n)
    if i == j:
        raise ValueError("i and j must be different players.")
    codes, sizes = coalition_codes_and_sizes(n)
    neither = without(codes, i, j)
    total = 0
    for S, k in zip(neither, sizes[neither]):
        total = total + (values[S | 1 << i] - values[S | 1 << j]) * reciprocal(comb(n - 2, int(k)), values[0])
    return total * reciprocal(n - 1, values[0])


# ---------------------------------------------------------------------------- unanimity decomposition
def harsanyi_dividends(game: Game, *, exact: bool = False, max_players: int = MAX_EXACT_PLAYERS) -> np.ndarray:
    """Harsanyi dividends ``c_T`` with ``U(S) = Σ_{T ⊆ S} c_T`` (proof of Theorem 10.2.5, step 2).

    Entry ``m`` is ``c_T`` for the coalition with bitmask ``m``; entry 0 is ``U(∅)``.
    See :func:`dividends_from_table`.

    Parameters
    ----------
    game : Game
        Evaluated once on all ``2^N`` coalitions.
    exact : bool, default=False
        Exact arithmetic: sympy ``Rational`` dividends.
    max_players : int, default=MAX_EXACT_PLAYERS
        Refuse games with more players.

    Returns
    -------
    ndarray of shape (2**N,)
        The dense dividend table.

    Raises
    ------
    ValueError
        ``N > max_players``.
    """
    values = coalition_table(game, exact=exact, max_players=max_players)
    return rationals_if_exact(dividends_from_table(values), exact)


def dividends_from_table(values: np.ndarray) -> np.ndarray:
    """Möbius inversion ``c_T = Σ_{S ⊆ T} (−1)^{|T|−|S|} U(S)`` by the fast transform in ``O(N · 2^N)``.

    For each player i in turn, subtract from every coalition containing i the
    value of the same coalition without i. Any arithmetic (floats, ``Fraction``, sympy).

    Parameters
    ----------
    values : array_like of shape (2**N,)
        A coalition table indexed by bitmask (not modified).

    Returns
    -------
    ndarray of shape (2**N,)
        ``c_T`` at index T (a new array of the table's dtype).

    Raises
    ------
    ValueError
        The table's length is not a power of two.
    """
    c = as_numpy(values).copy()
    n = table_players(c)
    for i in range(n):
        view = c.reshape(-1, 2, 2**i)                    # axis 1 is bit i
        view[:, 1, :] = view[:, 1, :] - view[:, 0, :]
    return c


def game_from_dividend_table(dividends: np.ndarray, players=None) -> Game:
    """Rebuild ``U(S) = Σ_{T ⊆ S} c_T`` from a dense dividend table (the inverse transform, a check of step 2
    of the proof of Theorem 10.2.5), by the fast zeta transform in ``O(N · 2^N)``.

    Parameters
    ----------
    dividends : ndarray of shape (2**N,)
        ``c_T`` at index T; an object array is taken as exact (converted to ``Fraction``).
    players : sequence of str, optional
        Player names (default ``"0", "1", ...``).

    Returns
    -------
    Game
        Its utilities are looked up in the rebuilt table (``Fraction`` objects or float64).

    Raises
    ------
    ValueError
        The table's length is not a power of two.
    """
    n = table_players(dividends)
    exact = dividends.dtype == object
    u = np.array([as_fraction(v) for v in dividends], dtype=object) if exact \
        else dividends.astype(np.float64).copy()
    for i in range(n):
        view = u.reshape(-1, 2, 2**i)
        view[:, 1, :] = view[:, 1, :] + view[:, 0, :]
    return Game(n, lambda masks: u[coalition_codes(masks)], players)


def shapley_from_dividends(dividends, n_players: int | None = None) -> np.ndarray:
    """``s_i = Σ_{T ∋ i} c_T / |T|`` (Theorem 10.2.5, steps 3–4: each unanimity game splits equally).

    Parameters
    ----------
    dividends : ndarray of shape (2**N,) or mapping
        The dense table of :func:`harsanyi_dividends` (an object array is exact; entry 0 is
        ignored), or a sparse mapping ``{tuple of player indices: c_T}`` such as
        ``game.dividends`` (exact when no coefficient is a float, Python or NumPy).
    n_players : int, optional
        Number of players; required with a mapping, ignored with a table.

    Returns
    -------
    ndarray of shape (N,)
        sympy ``Rational`` objects for exact inputs, else float64.

    Raises
    ------
    ValueError
        A mapping without ``n_players``, or a table whose length is not a power of two.
    """
    if isinstance(dividends, Mapping):
        if n_players is None:
            raise ValueError("Give n_players with a sparse mapping of dividends.")
        exact = all(not isinstance(c, float) for c in dividends.values())
        s = [Fraction(0) if exact else 0.0 for _ in range(n_players)]
        for T, c in dividends.items():
            members = set(T)
            share = as_fraction(c) / len(members) if exact else float(c) / len(members)
            for i in members:
                s[i] += share
        return rationals_if_exact(np.array(s, dtype=object if exact else np.float64), exact)
    table = as_numpy(dividends)
    n = table_players(table)
    codes, sizes = coalition_codes_and_sizes(n)
    exact = table.dtype == object
    shares = np.array([as_fraction(c) / k for c, k in zip(table[1:], sizes[1:])], dtype=object) if exact \
        else table[1:].astype(np.float64) / sizes[1:]
    s = np.array([shares[(codes[1:] >> i) & 1 == 1].sum() for i in range(n)], dtype=shares.dtype)
    return rationals_if_exact(s, exact)


