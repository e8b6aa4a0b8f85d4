"""Ways to build a :class:`~creditlib.games.Game`: from unanimity games and dividends, at random, by weighted voting,
from a model's features, or with symbolic utilities (Section 10.2); and games whose exact Shapley values come in
closed form for any N, stored in ``game.info["shapley_values"]`` (:func:`pairwise_game`,
:func:`sparse_unanimity_game`, :func:`airport_game`), the estimators' test beds.
"""
from __future__ import annotations

from fractions import Fraction
from math import comb
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from .coalitions import check_enumerable, coalition_codes
from .games import Game
from .rationals import as_value_array
from .validation import as_numpy, check_int, check_random_state

__all__ = ["unanimity_game", "game_from_dividends", "random_game", "random_structured_game", "weighted_voting_game",
           "feature_game", "symbolic_utilities", "random_dividend_game", "pairwise_game", "sparse_unanimity_game",
           "airport_game"]


# ---------------------------------------------------------------------------- building blocks
def unanimity_game(coalition: Iterable[int], n_players: int, players: Sequence[str] | None = None) -> Game:
    """The unanimity game ``u_T(S) = 1 if T ⊆ S else 0`` (step 1 of the proof of Theorem 10.2.5).

    Parameters
    ----------
    coalition : iterable of int
        The player indices in T (non-empty; repeats are ignored).
    n_players : int
        Number of players N; T ⊆ [N].
    players : sequence of str, optional
        Player names, as in :class:`Game`.

    Returns
    -------
    Game
        Exact (integer) utilities; ``game.dividends == {T: 1}``.

    Raises
    ------
    ValueError
        T is empty or has an index outside ``0 .. N−1``.
    """
    members = sorted(set(int(i) for i in coalition))
    if not members or members[0] < 0 or members[-1] >= n_players:
        raise ValueError(f"T must be a non-empty set of player indices in 0..{n_players - 1}; got {members}.")
    return game_from_dividends({tuple(members): 1}, n_players, players)


def game_from_dividends(dividends: Mapping[Iterable[int], object], n_players: int,
                        players: Sequence[str] | None = None) -> Game:
    """The game ``U(S) = Σ_T c_T · u_T(S)`` from Harsanyi dividends ``{T: c_T}`` (Theorem 10.2.5, step 2).

    ``T`` are tuples of player indices. Its Shapley values are known in closed
    form (``s_i = Σ_{T∋i} c_T/|T|``, see ``creditlib.shapley.shapley_from_dividends``),
    so such games give exact answers for any number of players.

    Parameters
    ----------
    dividends : mapping
        ``{T: c_T}``, T an iterable of player indices (non-empty), ``c_T`` a number.
        All-exact coefficients (ints, ``Fraction``, sympy ``Rational``) give exact utilities.
    n_players : int
        Number of players N.
    players : sequence of str, optional
        Player names (default ``"0", "1", ...``).

    Returns
    -------
    Game
        ``U(∅) = 0``; ``game.dividends`` holds ``{sorted tuple T: c_T}``.

    Raises
    ------
    ValueError
        Some T is empty or has an index outside ``0 .. N−1``.
    """
    sets = [sorted(set(int(i) for i in T)) for T in dividends]
    if any(not T or T[0] < 0 or T[-1] >= n_players for T in sets):
        raise ValueError(f"Every coalition T must be a non-empty set of indices in 0..{n_players - 1}.")
    indicator = np.zeros((len(sets), n_players), dtype=np.int64)
    for row, T in enumerate(sets):
        indicator[row, T] = 1
    sizes = indicator.sum(axis=1)
    coefficients = as_value_array(list(dividends.values()))

    def utility(masks: np.ndarray) -> np.ndarray:
        contains = (masks.astype(np.int64) @ indicator.T) == sizes  # (k, |dividends|): T ⊆ S
        if coefficients.dtype == object:
            return as_value_array([sum(coefficients[row], Fraction(0)) for row in contains])
        return contains @ coefficients

    game = Game(n_players, utility, players)
    game.dividends = {tuple(T): c for T, c in zip(sets, dividends.values())}
    return game


def random_game(n_players: int, seed=None, *, exact: bool = False,
                players: Sequence[str] | None = None) -> Game:
    """A game with independent random utilities on all ``2^N`` coalitions and ``U(∅) = 0``.

    Floats are standard normal; with ``exact=True`` the utilities are integers in
    [−10, 10]. The table of ``2^N`` values is stored, so ``n_players`` above
    ``MAX_EXACT_PLAYERS`` (22) is refused with a ``ValueError``.

    Parameters
    ----------
    n_players : int
        Number of players N.
    seed : None, int or numpy.random.Generator, default=None
        Seed of the utilities; see :func:`creditlib.validation.check_random_state`.
    exact : bool, default=False
        Integer utilities (exact ``Fraction`` arithmetic) instead of floats.
    players : sequence of str, optional
        Player names (default ``"0", "1", ...``).

    Returns
    -------
    Game

    Raises
    ------
    ValueError
        ``n_players > MAX_EXACT_PLAYERS``, or a negative seed.
    TypeError
        ``seed`` is not None, an int or a Generator.
    """
    check_enumerable(n_players, what="random_game (a stored table)")
    rng = check_random_state(seed)
    if exact:
        values = as_value_array([int(v) for v in rng.integers(-10, 11, size=2**n_players)])
        values[0] = Fraction(0)
    else:
        values = rng.normal(size=2**n_players)
        values[0] = 0.0
    return Game(n_players, lambda masks: values[coalition_codes(masks)], players)


def random_structured_game(n_players: int, seed=None, *, exact: bool = True,
                           players: Sequence[str] | None = None) -> Game:
    """A random game with a planted null player (the last) and a planted symmetric pair (players 0 and 1).

    Built from random integer dividends on the coalitions of the other players,
    symmetrised under swapping 0 and 1, so every axiom of Section 10.2.1 has
    something to bite on.

    Parameters
    ----------
    n_players : int
        Number of players N, at least 3.
    seed : None, int or numpy.random.Generator, default=None
        Seed of the dividends; see :func:`creditlib.validation.check_random_state`.
    exact : bool, default=True
        Integer dividends drawn from −5 .. 5 (exact utilities); ``False``: standard normal floats.
    players : sequence of str, optional
        Player names (default ``"0", "1", ...``).

    Returns
    -------
    Game
        Built by :func:`game_from_dividends`, so ``game.dividends`` is set.

    Raises
    ------
    ValueError
        ``n_players < 3``.
    """
    if n_players < 3:
        raise ValueError("A structured game needs at least 3 players (a symmetric pair and a null player).")
    rng = check_random_state(seed)
    swap = {0: 1, 1: 0}
    dividends: dict[tuple, object] = {}
    for code in range(1, 2 ** (n_players - 1)):
        T = tuple(i for i in range(n_players - 1) if code >> i & 1)
        c = int(rng.integers(-5, 6)) if exact else float(rng.normal())
        for key in {T, tuple(sorted(swap.get(i, i) for i in T))}:
            dividends[key] = dividends.get(key, 0) + c
    return game_from_dividends(dividends, n_players, players)


def weighted_voting_game(weights: Sequence[int], quota: int, players: Sequence[str] | None = None) -> Game:
    """``U(S) = 1`` if the players in S hold at least ``quota`` votes together, else 0 (exact).

    Parameters
    ----------
    weights : sequence of int
        Votes of each player; their number is N.
    quota : int
        Votes needed to win.
    players : sequence of str, optional
        Player names (default ``"0", "1", ...``).

    Returns
    -------
    Game
        Exact 0/1 utilities.
    """
    w = as_numpy(weights, dtype=np.int64)

    def utility(masks: np.ndarray) -> np.ndarray:
        return as_value_array([int(v) for v in (masks.astype(np.int64) @ w >= quota)])

    return Game(len(w), utility, players)


def feature_game(model: Callable[[np.ndarray], np.ndarray], x: np.ndarray, baseline: np.ndarray | None = None,
                 players: Sequence[str] | None = None) -> Game:
    """Explain one input (Section 10.2's saliency setting): the players are the input's coordinates and
    ``U(S) = model(x on S, baseline elsewhere)``.

    ``model`` maps an array of inputs of shape ``(k, n)`` to ``k`` outputs; the
    baseline (default all zeros, "pixel off") stands for an absent feature.

    Parameters
    ----------
    model : callable
        ``model(inputs) -> outputs``, inputs of shape ``(k, n)``, k outputs (converted to float64).
    x : array_like, shape (n,)
        The input to explain.
    baseline : array_like, shape (n,), optional
        The value of an absent feature; default zeros.
    players : sequence of str, optional
        Feature names (default ``"0", "1", ...``).

    Returns
    -------
    Game
        n players, one per coordinate of ``x``.

    Raises
    ------
    ValueError
        ``x`` is not a vector, or the baseline's shape differs from it.
    """
    x = as_numpy(x, dtype=np.float64)
    baseline = np.zeros_like(x) if baseline is None else as_numpy(baseline, dtype=np.float64)
    if x.ndim != 1 or baseline.shape != x.shape:
        raise ValueError(f"x must be a vector and the baseline of the same shape; got {x.shape}, {baseline.shape}.")
    return Game(len(x), lambda masks: as_numpy(model(np.where(masks, x, baseline)), dtype=np.float64), players)


def symbolic_utilities(players: Sequence[str], empty_is_zero: bool = True) -> np.ndarray:
    """A coalition table of sympy symbols ``u_{AB}`` (bitmask-indexed), for symbolic proofs for fixed N.

    Parameters
    ----------
    players : sequence of str
        Player names; a symbol's subscript concatenates its members' names.
    empty_is_zero : bool, default=True
        Entry 0 is ``sympy.Integer(0)`` (the chapter's ``U(∅) = 0``) instead of the symbol ``u_{∅}``.

    Returns
    -------
    ndarray of object, shape (2**N,)
        Sympy expressions, usable by the table functions of :mod:`creditlib.shapley`.
    """
    import sympy as sp

    n = len(players)
    table = np.empty(2**n, dtype=object)
    for code in range(2**n):
        members = "".join(p for i, p in enumerate(players) if code >> i & 1)
        table[code] = sp.Integer(0) if (code == 0 and empty_is_zero) else sp.Symbol(f"u_{{{members or '∅'}}}")
    return table


def random_dividend_game(n_players: int, n_terms: int, max_order: int, seed=None,
                         players: Sequence[str] | None = None) -> Game:
    """A game with strong interactions: ``n_terms`` random unanimity terms of order 1..``max_order``.

    Coefficients are standard normal. Exact Shapley values come in closed form from
    its dividends (``game.dividends``), for any number of players.

    Parameters
    ----------
    n_players : int
        Number of players N (at least 1).
    n_terms : int
        Number of distinct coalitions T with a dividend (a T drawn twice adds up its coefficients).
    max_order : int
        Largest ``|T|``, in ``1 .. N``; each term's order is uniform on ``1 .. max_order``
        and T uniform among the coalitions of that order.
    seed : None, int or numpy.random.Generator, default=None
        Seed of the terms; see :func:`creditlib.validation.check_random_state`.
    players : sequence of str, optional
        Player names (default ``"0", "1", ...``).

    Returns
    -------
    Game
        Float utilities; ``game.dividends`` holds the terms drawn, with their coefficients.

    Raises
    ------
    TypeError
        A count is not an integer.
    ValueError
        A count out of range (``n_terms`` above the number of coalitions of order ≤ ``max_order``).
    """
    n_players = check_int(n_players, "n_players", low=1)
    max_order = check_int(max_order, "max_order", low=1, high=n_players)
    available = sum(comb(n_players, k) for k in range(1, max_order + 1))
    n_terms = check_int(n_terms, f"n_terms (there are only {available} coalitions of order ≤ {max_order})",
                        low=1, high=available)
    rng = check_random_state(seed)
    dividends: dict[tuple, float] = {}
    while len(dividends) < n_terms:
        order = int(rng.integers(1, max_order + 1))
        T = tuple(sorted(rng.choice(n_players, size=order, replace=False).tolist()))
        dividends[T] = dividends.get(T, 0.0) + float(rng.normal())
    return game_from_dividends(dividends, n_players, players)


# ---------------------------------------------------------------------------- games with closed-form Shapley values
# Each stores its exact Shapley values in ``game.info["shapley_values"]`` (float64), for any number of players.
def pairwise_game(n_players: int, seed=None, *, players: Sequence[str] | None = None) -> Game:
    """An additive-plus-pairwise (quadratic) game ``U(S) = Σ_{i∈S} a_i + Σ_{i<j, i,j∈S} B_ij``.

    Its only Harsanyi dividends are of order 1 and 2, so ``s_i = a_i + ½ Σ_{j≠i} B_ij`` (Theorem 10.2.5). Paired
    (antithetic) sampling is exact on it. ``a_i`` and ``B_ij`` are standard normal.

    Parameters
    ----------
    n_players : int
        N (at least 1).
    seed : None, int or numpy.random.Generator, default=None
        Seed of the coefficients; see :func:`creditlib.validation.check_random_state`.
    players : sequence of str, optional
        Player names.

    Returns
    -------
    Game
        Float utilities, vectorised; ``game.info`` holds ``"shapley_values"`` and the coefficients ``"a"``, ``"B"``
        (symmetric, zero diagonal).
    """
    n = check_int(n_players, "n_players", low=1)
    rng = check_random_state(seed)
    a = rng.normal(size=n)
    B = np.triu(rng.normal(size=(n, n)), k=1)
    B = B + B.T

    def utility(masks: np.ndarray) -> np.ndarray:
        z = masks.astype(np.float64)
        return z @ a + 0.5 * np.einsum("ki,ij,kj->k", z, B, z)

    game = Game(n, utility, players)
    game.info.update(shapley_values=a + 0.5 * B.sum(axis=1), a=a, B=B)
    return game


def sparse_unanimity_game(n_players: int, n_terms: int, min_order: int, max_order: int, seed=None, *,
                          players: Sequence[str] | None = None) -> Game:
    """A sum of ``n_terms`` unanimity games of high order on random coalitions: ``U(S) = Σ_k c_k · 1[T_k ⊆ S]``.

    Each ``|T_k|`` is uniform on ``min_order .. max_order``, ``T_k`` uniform of that size and ``c_k`` standard
    normal; ``s_i = Σ_{k: i∈T_k} c_k / |T_k|`` (Theorem 10.2.5).

    Parameters
    ----------
    n_players : int
        N (at least 1).
    n_terms : int
        Number of unanimity terms (at least 1; a coalition drawn twice adds up its coefficients).
    min_order, max_order : int
        The orders' range, ``1 ≤ min_order ≤ max_order ≤ N``.
    seed : None, int or numpy.random.Generator, default=None
        Seed of the terms; see :func:`creditlib.validation.check_random_state`.
    players : sequence of str, optional
        Player names.

    Returns
    -------
    Game
        Float utilities, vectorised; ``game.dividends`` the terms, ``game.info["shapley_values"]`` the exact values.
    """
    n = check_int(n_players, "n_players", low=1)
    n_terms = check_int(n_terms, "n_terms", low=1)
    max_order = check_int(max_order, "max_order", low=1, high=n)
    min_order = check_int(min_order, "min_order", low=1, high=max_order)
    rng = check_random_state(seed)
    dividends: dict[tuple, float] = {}
    for _ in range(n_terms):
        T = tuple(sorted(rng.choice(n, size=int(rng.integers(min_order, max_order + 1)), replace=False).tolist()))
        dividends[T] = dividends.get(T, 0.0) + float(rng.normal())
    game = game_from_dividends(dividends, n, players)
    values = np.zeros(n)
    for T, c in dividends.items():
        values[list(T)] += c / len(T)
    game.info["shapley_values"] = values
    return game


def airport_game(costs, players: Sequence[str] | None = None) -> Game:
    """The airport game (Littlechild & Owen 1973): ``U(S) = max_{i∈S} c_i``, the runway coalition S needs, ``U(∅) = 0``.

    With the costs sorted, ``c_(1) ≤ … ≤ c_(N)``, each stretch ``c_(k) − c_(k−1)`` of runway is shared equally by
    the ``N − k + 1`` players who need it: ``s_(j) = Σ_{k≤j} (c_(k) − c_(k−1)) / (N − k + 1)``. A game of high
    order (its dividends alternate in sign over every coalition).

    Parameters
    ----------
    costs : array_like of float, shape (N,)
        Non-negative, finite costs.
    players : sequence of str, optional
        Player names.

    Returns
    -------
    Game
        Float utilities, vectorised; ``game.info`` holds ``"shapley_values"`` and ``"costs"``.

    Raises
    ------
    ValueError
        Costs not a non-empty vector of finite non-negative numbers.
    """
    c = np.asarray(as_numpy(costs), dtype=np.float64)
    if c.ndim != 1 or len(c) == 0 or not np.isfinite(c).all() or (c < 0).any():
        raise ValueError(f"costs must be a non-empty vector of finite non-negative numbers, got {costs!r}.")
    n = len(c)
    order = np.argsort(c, kind="stable")
    steps = np.diff(np.concatenate([[0.0], c[order]])) / (n - np.arange(n))
    values = np.empty(n)
    values[order] = np.cumsum(steps)

    def utility(masks: np.ndarray) -> np.ndarray:
        return np.where(masks, c, 0.0).max(axis=1)

    game = Game(n, utility, players)
    game.info.update(shapley_values=values, costs=c)
    return game
