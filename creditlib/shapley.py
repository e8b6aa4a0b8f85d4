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
from dataclasses import dataclass
from fractions import Fraction
from math import comb, factorial
from typing import Mapping

import numpy as np
import sympy as sp

from .coalitions import (MAX_EXACT_PLAYERS, as_fraction, check_enumerable, coalition_codes_and_sizes,  # noqa: F401
                         enumeration_memory_bytes, table_players, without)
from .games import Game, coalition_codes
from .validation import as_numpy, check_index, check_int, check_open_unit, check_random_state


def coalition_table(game: Game, *, exact: bool = False, max_players: int = MAX_EXACT_PLAYERS) -> np.ndarray:
    """``U(S)`` for all ``2^N`` coalitions, indexed by bitmask; exact ``Fraction`` objects when ``exact``.

    Parameters
    ----------
    game : Game
        Evaluated once on all ``2^N`` coalitions (:meth:`Game.values`).
    exact : bool, default=False
        Convert every utility with :func:`creditlib.coalitions.as_fraction` (floats at their exact binary value).
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


def rationals_if_exact(values: np.ndarray, exact: bool) -> np.ndarray:
    """Exact results (``Fraction`` objects) as sympy ``Rational``; float results as float64.

    Parameters
    ----------
    values : ndarray
        Results of a table function: ``Fraction`` objects when ``exact``, else numbers.
    exact : bool
        Which of the two the values are.

    Returns
    -------
    ndarray
        An object array of sympy ``Rational`` (same length) when ``exact``, else a float64 copy.
    """
    if exact:
        return np.array([sp.Rational(v.numerator, v.denominator) for v in values], dtype=object)
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
        weights = [sp.Rational(w.numerator, w.denominator) if isinstance(w, Fraction) else w for w in weights]
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
        scale = _reciprocal(factorial(n), values[0])
    else:
        orders = _check_orders(orders, n)
        scale = _reciprocal(len(orders), values[0])
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


def _reciprocal(k: int, like):
    """``1/k`` in the arithmetic of ``like`` (float, Fraction or sympy)."""
    if isinstance(like, sp.Basic):
        return sp.Rational(1, k)
    if isinstance(like, Fraction):
        return Fraction(1, k)
    return 1.0 / k


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
        total = total + (values[S | 1 << i] - values[S | 1 << j]) * _reciprocal(comb(n - 2, int(k)), values[0])
    return total * _reciprocal(n - 1, values[0])


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


# ---------------------------------------------------------------------------- estimators
@dataclass(frozen=True)
class ShapleyEstimate:
    """An estimate of all Shapley values with its standard errors and its cost.

    Estimators return this, exact methods plain arrays (:func:`shapley_exact`); ``np.asarray(estimate)``
    gives ``values``, so an estimate can stand wherever an array of values is expected.

    Attributes
    ----------
    values : ndarray of shape (n_players,)
        The estimated Shapley values (float64).
    std_errors : ndarray of shape (n_players,)
        Estimated standard error of each value (the spread of the estimator over seeds).
    n_evaluations : int
        Utility evaluations spent (never more than the budget).
    method : str
        Which estimator produced it, e.g. ``"permutation"``.
    """

    values: np.ndarray
    std_errors: np.ndarray
    n_evaluations: int
    method: str

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.values, dtype=dtype)


def _check_budget(budget: int, minimum: int, n_players: int, what: str) -> int:
    """``budget`` as an int of at least ``minimum`` utility evaluations (TypeError / ValueError otherwise)."""
    if not isinstance(budget, (int, np.integer)) or isinstance(budget, bool):
        raise TypeError(f"budget must be an integer number of utility evaluations, got {budget!r}.")
    if budget < minimum:
        raise ValueError(f"{what} needs a budget of at least {minimum} utility evaluations for "
                         f"N = {n_players} players; got {budget}.")
    return int(budget)


def _empty_and_grand(game: Game) -> np.ndarray:
    """``[U(∅), U([N])]``, two utility evaluations in one call."""
    n = game.n_players
    return game(np.array([np.zeros(n, bool), np.ones(n, bool)]))


def _random_subsets(rng: np.random.Generator, sizes: np.ndarray, n_players: int,
                    exclude: np.ndarray | None = None) -> np.ndarray:
    """Boolean masks, row r a uniform random subset of size ``sizes[r]`` (avoiding player ``exclude[r]``)."""
    keys = rng.random((len(sizes), n_players))
    if exclude is not None:
        keys[np.arange(len(sizes)), exclude] = np.inf   # never among the smallest keys
    ranks = keys.argsort(axis=1).argsort(axis=1)
    return ranks < sizes[:, None]


def shapley_permutation(game: Game, budget: int, *, seed=None, batch_size: int = 512) -> ShapleyEstimate:
    """Monte Carlo over random permutations: the naive estimator of Lemma 10.2.6 (Definition 10.2.2).

    Each permutation π gives every player i one sample of its marginal gain
    ``U(π_{≤i}) − U(π_{<i})``; the estimate is the mean over permutations and its
    standard error the sample standard deviation over ``√m``. A permutation
    costs N − 1 evaluations (its proper non-empty prefixes); ``U(∅)`` and
    ``U([N])`` are shared by all permutations and paid once. So ``budget``
    buys ``m = (budget − 2) // (N − 1)`` permutations.

    Parameters
    ----------
    game : Game
        The game; its utility is called on batches of prefix coalitions.
    budget : int
        Maximum number of utility evaluations (at least N + 1; 2 for a single player).
    seed : None, int or numpy.random.Generator, default=None
        Seed of the random generator (no global state is touched): None for fresh
        entropy, an int for a reproducible stream, a Generator to be used (and advanced)
        as is; see :func:`creditlib.validation.check_random_state`.
    batch_size : int, default=512
        Permutations evaluated per call of the utility (at least 1); it bounds memory and
        does not change the estimate.

    Returns
    -------
    ShapleyEstimate
        ``values`` the mean marginal gains (float64, shape ``(n_players,)``), ``std_errors``
        their standard errors (zeros for a single player, whose value ``U([N]) − U(∅)`` is
        exact), ``n_evaluations`` the evaluations spent (``2 + m (N − 1)`` ≤ ``budget``),
        ``method`` ``"permutation"``.

    Raises
    ------
    TypeError
        ``budget`` or ``batch_size`` is not an integer, or ``seed`` is not a valid seed.
    ValueError
        ``budget`` below the minimum, or ``batch_size`` < 1.
    """
    n = game.n_players
    budget = _check_budget(budget, n + 1 if n > 1 else 2, n, "shapley_permutation")
    batch_size = check_int(batch_size, "batch_size", low=1)
    rng = check_random_state(seed)
    start = game.evaluations
    ends = _empty_and_grand(game)                                     # U(∅), U([N])
    m = (budget - 2) // (n - 1) if n > 1 else 0
    total = np.zeros(n)
    total_sq = np.zeros(n)
    for first in range(0, m, batch_size):
        k = min(batch_size, m - first)
        perms = rng.permuted(np.tile(np.arange(n), (k, 1)), axis=1)   # (k, n)
        position = np.empty_like(perms)
        position[np.arange(k)[:, None], perms] = np.arange(n)         # position of each player
        # prefix masks: prefix j holds the players at positions < j, for j = 1 .. n−1
        prefixes = position[:, None, :] < np.arange(1, n)[None, :, None]          # (k, n−1, n)
        inner = game(prefixes.reshape(-1, n)).astype(np.float64).reshape(k, n - 1)
        chain = np.concatenate([np.full((k, 1), float(ends[0])), inner, np.full((k, 1), float(ends[1]))], axis=1)
        gains_by_position = np.diff(chain, axis=1)                    # (k, n): gain of the j-th arrival
        gains = np.take_along_axis(gains_by_position, position, axis=1)           # (k, n) by player
        total += gains.sum(axis=0)
        total_sq += (gains**2).sum(axis=0)
    if m == 0:  # a single player: s_1 = U([N]) − U(∅)
        return ShapleyEstimate(np.array([float(ends[1] - ends[0])]), np.zeros(1), game.evaluations - start,
                               "permutation")
    mean = total / m
    var = np.maximum(total_sq / m - mean**2, 0.0) * m / max(m - 1, 1)
    return ShapleyEstimate(mean, np.sqrt(var / m), game.evaluations - start, "permutation")


def difference_allocation(n_players: int, budget: int) -> np.ndarray:
    """Draws per coalition size k = 0 .. N−2 for :func:`shapley_difference`, costing at most ``budget``.

    A draw of size k costs N − k evaluations. Every size gets 2 draws (for a
    standard error); the rest of the budget is split equally between sizes,
    so size k gets about ``budget / ((N − 1)(N − k))`` draws: ``p(|S| = k) ∝ 1/(N − k)``.

    Parameters
    ----------
    n_players : int
        Number of players N (at least 2).
    budget : int
        Utility evaluations available for the differences.

    Returns
    -------
    ndarray of int64, shape (n_players − 1,)
        Draws of each size k = 0 .. N−2; their cost ``Σ_k draws[k] · (N − k)`` is at most ``budget``.

    Raises
    ------
    ValueError
        ``budget`` cannot buy two draws of each size (``2 Σ_k (N − k)`` evaluations).
    """
    n = n_players
    cost = n - np.arange(n - 1)                                  # N − k
    spare = budget - 2 * int(cost.sum())
    if spare < 0:
        raise ValueError(f"A budget of {budget} cannot buy two draws of each size ({2 * int(cost.sum())}).")
    return 2 + spare // ((n - 1) * cost)


def _naive_anchor_budget(budget: int, anchor_fraction: float, minimum_draws: int) -> int:
    """Evaluations for the naive anchor: about ``anchor_fraction · budget``, even, at least 4, leaving
    ``minimum_draws`` for the differences."""
    anchor_budget = max(4, int(anchor_fraction * budget) // 2 * 2)
    anchor_budget = min(anchor_budget, budget - minimum_draws)
    return anchor_budget - anchor_budget % 2


def _naive_anchor(game: Game, rng: np.random.Generator, player: int, m: int) -> tuple[float, float]:
    """Step 1 of :func:`shapley_difference` with ``anchor="naive"``: ``s_player`` by Definition 10.2.3.

    ``m`` samples of ``U(S ∪ {a}) − U(S)`` with ``|S|`` uniform on {0..N−1} and S a uniform subset of
    that size avoiding ``a`` (``2m`` evaluations in one utility call). Returns the sample mean and its
    variance (squared standard error).
    """
    n = game.n_players
    sizes = rng.integers(0, n, size=m)                           # k uniform on {0..N−1}
    S = _random_subsets(rng, sizes, n, exclude=np.full(m, player))
    with_a = S.copy()
    with_a[:, player] = True
    u = game(np.concatenate([with_a, S])).astype(np.float64)
    gains = u[:m] - u[m:]
    return gains.mean(), gains.var(ddof=1) / m


def _difference_strata(game: Game, rng: np.random.Generator, draws: np.ndarray, anchor_player: int,
                       batch_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step 2 of :func:`shapley_difference`: ``D_i``, an unbiased estimate of ``s_i − s̄``, stratum by stratum.

    ``draws[k]`` uniform k-subsets S for each size k = 0 .. N−2; each costs the N − k evaluations
    ``U(S ∪ {i})``, ``i ∉ S`` (in utility calls of at most ``batch_size`` coalitions). Returns ``D``,
    its variance, and the variance of ``D_i − D_anchor_player`` (all of shape ``(N,)``).
    """
    n = game.n_players
    D = np.zeros(n)
    D_var = np.zeros(n)
    D_minus_anchor_var = np.zeros(n)
    for k, m_k in zip(np.arange(n - 1), draws):
        S = _random_subsets(rng, np.full(m_k, k), n)                 # (m_k, n), uniform k-subsets
        terms = difference_terms(game, S, batch_size=batch_size)
        D += terms.mean(axis=0)
        D_var += terms.var(axis=0, ddof=1) / m_k
        D_minus_anchor_var += (terms - terms[:, [anchor_player]]).var(axis=0, ddof=1) / m_k
    return D, D_var, D_minus_anchor_var


def difference_terms(utility, subsets: np.ndarray, *, batch_size: int = 4096) -> np.ndarray:
    """One sample of ``s_i − s̄`` per draw, from draws of one size k (step 2 of :func:`shapley_difference`).

    For a draw S (a k-subset of [N], k ≤ N − 2) and ``v_i = U(S ∪ {i})`` for every outsider ``i ∉ S``,
    player i's term is ``1[i ∉ S] · (v_i − mean_{j ∉ S} v_j) / (N − k − 1)``: Theorem 10.2.8's pair
    differences ``v_i − v_j``, reweighted by ``N(N−1)/((N−k)(N−k−1))`` (the inverse chance that both
    are outsiders) and averaged over the N partners j (Problem 10.2.7). Its mean over uniform
    k-subsets, summed over k = 0 .. N−2, is ``s_i − s̄`` with ``s̄ = (U([N]) − U(∅))/N``.

    Parameters
    ----------
    utility : callable
        ``utility(masks) -> values`` on a boolean ``(r, N)`` array, e.g. a :class:`Game`.
    subsets : ndarray of bool, shape (m, N)
        The draws S, one per row, all of the same size k ≤ N − 2.
    batch_size : int, default=4096
        Coalitions per call of ``utility`` (at least 1); it does not change the result.

    Returns
    -------
    ndarray of shape (m, N)
        Row r holds every player's term for draw r (0 for the members of S); float64.

    Raises
    ------
    ValueError
        ``subsets`` is not a boolean (m, N) array with m ≥ 1 whose rows have one common size ≤ N − 2,
        or ``batch_size`` < 1.
    """
    S = as_numpy(subsets)
    if S.dtype != bool or S.ndim != 2 or len(S) == 0:
        raise ValueError(f"subsets must be a boolean array of shape (m, N) with m ≥ 1; got shape {S.shape} "
                         f"and dtype {S.dtype}.")
    m_k, n = S.shape
    sizes = S.sum(axis=1)
    k = int(sizes[0])
    if (sizes != k).any() or k > n - 2:
        raise ValueError(f"every draw must have the same size k ≤ N − 2 = {n - 2}; "
                         f"got sizes {sorted(set(sizes.tolist()))}.")
    batch_size = check_int(batch_size, "batch_size", low=1)
    outsider_rows, outsider_cols = np.nonzero(~S)               # N − k outsiders per draw
    T = S[outsider_rows].copy()
    T[np.arange(len(T)), outsider_cols] = True                  # S ∪ {i}
    v = np.concatenate([as_numpy(utility(T[i:i + batch_size])).astype(np.float64)
                        for i in range(0, len(T), batch_size)])
    v = v.reshape(m_k, n - k)
    players = outsider_cols.reshape(m_k, n - k)
    terms = np.zeros((m_k, n))
    terms[np.arange(m_k)[:, None], players] = (v - v.mean(axis=1, keepdims=True)) / (n - k - 1)
    return terms


def shapley_difference(game: Game, budget: int, *, seed=None, anchor: str = "naive",
                       anchor_player: int = 0, anchor_fraction: float | None = None,
                       batch_size: int = 4096) -> ShapleyEstimate:
    """The "better approximation" of Section 10.2.2: estimate all differences ``s_i − s_j`` (Theorem 10.2.8)
    from shared random coalitions, then fix the common offset (Problem 10.2.7).

    Three steps, in the order the random draws are made:

    **1. Offset.** ``anchor="naive"`` (the chapter's step 1) estimates
    ``s_anchor`` by Definition 10.2.3 sampling (U(S ∪ {a}) − U(S), two evaluations
    each) with a fraction of the budget (default ``√(2/N)/(1 + √(2/N))``, which
    balances the anchor's error, added to every player, against the
    differences' error). ``anchor="efficiency"`` uses the efficiency axiom instead:
    ``s̄ = (U([N]) − U(∅))/N`` exactly, for two evaluations.

    **2. Differences.** Theorem 10.2.8 says ``s_i − s_j = E_k E_S [U(S ∪ {i}) − U(S ∪ {j})]``
    with k uniform on {0..N−2} and S a uniform k-subset of ``[N]∖{i, j}``. Draw
    one uniform k-subset S of all of ``[N]`` and evaluate ``v_i = U(S ∪ {i})`` for
    every outsider ``i ∉ S`` (N − k evaluations). That single draw gives a sample
    of ``U(S ∪ {i}) − U(S ∪ {j})`` for *every* pair of outsiders at once, and the
    common level of U cancels inside the draw. Averaging over partners j, with
    the reweighting ``N(N−1)/((N−k)(N−k−1))`` that corrects for both i and j
    having to be outsiders, gives the unbiased estimate

        ``D_i = Σ_k mean over size-k draws of 1[i ∉ S] · (v_i − mean_{j∉S} v_j) / (N − k − 1)``

    of ``s_i − s̄`` (s̄ the mean Shapley value). Sizes are sampled by stratum
    with equal budget per size (``p(|S| = k) ∝ 1/(N − k)`` draws), see
    :func:`difference_allocation`. If marginal gains are bounded by R, each
    draw's term is at most 2R/(N−k−1), so every stratum's variance falls like
    ``1/(budget per stratum)``.

    **3. Combine.** Naive anchor: ``ŝ_i = ŝ_a + D_i − D_a``; efficiency anchor: ``ŝ_i = D_i + s̄``.

    Parameters
    ----------
    game : Game
        The game (at least 2 players).
    budget : int
        Maximum number of utility evaluations; at least what two draws of each
        size cost plus the anchor (the error says how much).
    seed : None, int or numpy.random.Generator, default=None
        Seed of the random generator (no global state is touched): None for fresh
        entropy, an int for a reproducible stream, a Generator to be used (and advanced)
        as is; see :func:`creditlib.validation.check_random_state`.
    anchor : {"naive", "efficiency"}, default="naive"
        How the common offset is fixed (step 1).
    anchor_player : int, default=0
        The player anchored by the naive method, an index in ``0 .. N−1``.
    anchor_fraction : float, optional
        Share of the budget for the naive anchor, strictly between 0 and 1
        (default ``√(2/N)/(1 + √(2/N))``).
    batch_size : int, default=4096
        Coalitions per call of the utility in step 2 (at least 1); it bounds memory and
        does not change the estimate.

    Returns
    -------
    ShapleyEstimate
        ``values`` and ``std_errors`` (float64, shape ``(n_players,)``; with the naive anchor
        the anchor player's error is the anchor's alone), ``n_evaluations`` ≤ ``budget``,
        ``method`` ``"difference (naive anchor)"`` or ``"difference (efficiency anchor)"``.

    Raises
    ------
    TypeError
        ``budget`` or ``batch_size`` is not an integer, or ``seed`` is not a valid seed.
    ValueError
        Fewer than 2 players, an unknown ``anchor``, ``anchor_player`` out of range,
        ``anchor_fraction`` outside (0, 1), ``batch_size`` < 1, or ``budget`` below the minimum.
    """
    n = game.n_players
    if n < 2:
        raise ValueError("shapley_difference needs at least 2 players.")
    if anchor not in ("naive", "efficiency"):
        raise ValueError(f"anchor must be 'naive' or 'efficiency', got {anchor!r}.")
    anchor_player = check_index(anchor_player, "anchor_player", n)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if anchor_fraction is None:
        anchor_fraction = np.sqrt(2 / n) / (1 + np.sqrt(2 / n))
    anchor_fraction = check_open_unit(anchor_fraction, "anchor_fraction")
    minimum_draws = int((2 * (n - np.arange(n - 1))).sum())
    budget = _check_budget(budget, minimum_draws + (2 if anchor == "efficiency" else 4), n, "shapley_difference")
    rng = check_random_state(seed)
    start = game.evaluations

    # 1. the offset
    if anchor == "efficiency":
        ends = _empty_and_grand(game)
        offset = float(ends[1] - ends[0]) / n
        difference_budget = budget - 2
    else:
        anchor_budget = _naive_anchor_budget(budget, anchor_fraction, minimum_draws)
        anchor_value, anchor_var = _naive_anchor(game, rng, anchor_player, anchor_budget // 2)
        difference_budget = budget - anchor_budget

    # 2. the differences, stratum by stratum
    D, D_var, D_minus_anchor_var = _difference_strata(game, rng, difference_allocation(n, difference_budget),
                                                      anchor_player, batch_size)

    # 3. combine
    spent = game.evaluations - start
    if anchor == "efficiency":
        return ShapleyEstimate(D + offset, np.sqrt(D_var), spent, "difference (efficiency anchor)")
    values = anchor_value + D - D[anchor_player]
    std = np.sqrt(anchor_var + D_minus_anchor_var)
    std[anchor_player] = np.sqrt(anchor_var)
    return ShapleyEstimate(values, std, spent, "difference (naive anchor)")
