"""Cooperative games: N players and a utility ``U(S)`` for every coalition ``S ⊆ [N]`` (Section 10.2).

A coalition is a boolean mask over the players. A :class:`Game` evaluates its
utility on a batch of coalitions at once, a boolean array of shape
``(k, n_players)`` with one coalition per row, and counts how many coalitions it
has evaluated. Estimators can then be held to a budget of utility evaluations.

Coalitions are also numbered by bitmask: coalition ``m`` contains player ``i``
iff bit ``i`` of ``m`` is set. :func:`all_coalitions` lists the ``2^N`` masks in
that order, which is the order of the tables that exact methods work with.
"""
from __future__ import annotations

import sys
from fractions import Fraction
from math import comb
from numbers import Rational
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from .coalitions import MAX_EXACT_PLAYERS, as_fraction, check_enumerable
from .validation import as_numpy, check_int, check_random_state

Utility = Callable[[np.ndarray], np.ndarray]


def all_coalitions(n_players: int) -> np.ndarray:
    """All ``2^n`` coalitions as a boolean array of shape ``(2**n, n)``; row ``m`` is bitmask ``m``.

    Parameters
    ----------
    n_players : int
        Number of players n.

    Returns
    -------
    ndarray of bool, shape (2**n_players, n_players)
        Row ``m`` has ``True`` in column ``i`` iff bit ``i`` of ``m`` is set.
    """
    codes = np.arange(2**n_players, dtype=np.int64)
    return ((codes[:, None] >> np.arange(n_players)) & 1).astype(bool)


def coalition_codes(masks: np.ndarray) -> np.ndarray:
    """Bitmask code of each coalition row: ``sum_i mask[i] * 2**i`` (the inverse of :func:`all_coalitions`).

    Parameters
    ----------
    masks : array_like of bool, shape (k, n_players)
        One coalition per row.

    Returns
    -------
    ndarray of int64, shape (k,)
    """
    masks = as_numpy(masks, dtype=bool)
    return masks.astype(np.int64) @ (np.int64(1) << np.arange(masks.shape[1], dtype=np.int64))


class Game:
    """A cooperative game with ``n_players`` players and a vectorised utility.

    Parameters
    ----------
    n_players : int
        Number of players N (at least 1).
    utility : callable
        ``utility(masks) -> values``: ``masks`` is a boolean array of shape
        ``(k, n_players)``, one coalition per row; it returns ``k`` finite values.
        It may return an object array of exact numbers (``int``, ``Fraction``,
        sympy ``Rational``) for exact arithmetic.
    players : sequence of str, optional
        Player names (default ``"0", "1", ...``); must be distinct.
    cache : bool, default=False
        Remember the utility of every coalition evaluated, so a repeated
        coalition is neither recomputed nor counted again.

    Attributes
    ----------
    evaluations : int
        How many coalitions have been evaluated (cache hits excluded).
    dividends : dict or None
        Harsanyi dividends ``{tuple of player indices: c_T}`` when the game was built
        from them (:func:`game_from_dividends`, :func:`squared_sum_game`), so exact
        Shapley values come in closed form for any N; None otherwise.
    info : dict
        What a builder knows about its game beyond the utility, documented by that
        builder (e.g. the data behind :func:`data_valuation_game`).
    """

    def __init__(self, n_players: int, utility: Utility, players: Sequence[str] | None = None,
                 *, cache: bool = False):
        if not isinstance(n_players, (int, np.integer)) or isinstance(n_players, bool) or n_players < 1:
            raise ValueError(f"n_players must be a positive integer, got {n_players!r}.")
        self.n_players = int(n_players)
        if players is None:
            players = [str(i) for i in range(self.n_players)]
        players = [str(p) for p in players]
        if len(players) != self.n_players:
            raise ValueError(f"Got {len(players)} player names for {self.n_players} players.")
        duplicates = sorted({p for p in players if players.count(p) > 1})
        if duplicates:
            raise ValueError(f"Player names must be distinct; repeated: {duplicates}.")
        self.players = players
        self._utility = utility
        self.evaluations = 0
        self.dividends: dict | None = None
        self.info: dict = {}
        self._cache: dict[int, object] | None = {} if cache else None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_function(cls, value_of: Callable[[frozenset], object], n_players: int | None = None,
                      players: Sequence[str] | None = None, *, cache: bool = False) -> "Game":
        """A game from a plain per-coalition function ``value_of(frozenset of player names) -> number``.

        The function is called once per coalition row (vectorised for you).
        Give ``players`` (names) or ``n_players`` (names ``"0", "1", ...``).

        Parameters
        ----------
        value_of : callable
            ``value_of(frozenset of player names) -> number``; exact numbers (ints,
            ``Fraction``, sympy ``Rational``) stay exact when every value is exact.
        n_players : int, optional
            Number of players, when ``players`` is not given.
        players : sequence of str, optional
            The players' names (converted with ``str``); takes precedence over ``n_players``.
        cache : bool, default=False
            As for :class:`Game`.

        Returns
        -------
        Game
            Its utility calls ``value_of`` once per coalition row.

        Raises
        ------
        ValueError
            Neither ``players`` nor ``n_players`` given, or repeated names.
        """
        if players is None:
            if n_players is None:
                raise ValueError("Give the players' names (players=[...]) or their number (n_players=...).")
            players = [str(i) for i in range(n_players)]
        names = [str(p) for p in players]

        def utility(masks: np.ndarray) -> np.ndarray:
            out = [value_of(frozenset(n for n, on in zip(names, row) if on)) for row in masks]
            return _as_value_array(out)

        return cls(len(names), utility, names, cache=cache)

    @classmethod
    def from_table(cls, table: Mapping[Iterable[str], object], players: Sequence[str],
                   *, cache: bool = False) -> "Game":
        """A game from a table ``{coalition: utility}`` that lists every coalition.

        Coalitions are tuples (or any iterables) of player names, in any order:
        ``Game.from_table({(): 0, ("A",): 50, ("B",): 20, ("A", "B"): 75}, players=["A", "B"])``.
        Exact numbers (ints, ``Fraction``, sympy ``Rational``) stay exact.

        Parameters
        ----------
        table : mapping
            ``{coalition: utility}`` with one entry for each of the ``2^N`` subsets of the players,
            the empty one included; a bare string key is a one-player coalition.
        players : sequence of str
            The players' names, distinct.
        cache : bool, default=False
            As for :class:`Game`.

        Returns
        -------
        Game
            Its utility looks each coalition up in the table (by bitmask).

        Raises
        ------
        ValueError
            Repeated player names, a coalition naming an unknown player, a coalition listed
            twice, or missing coalitions (the message shows up to five of them).
        """
        names = [str(p) for p in players]
        index = {name: i for i, name in enumerate(names)}
        if len(index) != len(names):
            raise ValueError(f"Player names must be distinct; got {names}.")
        values: dict[int, object] = {}
        for coalition, value in table.items():
            members = (coalition,) if isinstance(coalition, str) else tuple(coalition)
            unknown = [m for m in members if str(m) not in index]
            if unknown:
                raise ValueError(f"Coalition {members} names unknown player(s) {unknown}; players are {names}.")
            code = sum(1 << index[str(m)] for m in set(members))
            if code in values:
                raise ValueError(f"Coalition {tuple(sorted(members))} appears twice in the table.")
            values[code] = value
        missing = [c for c in range(2 ** len(names)) if c not in values]
        if missing:
            shown = [tuple(n for i, n in enumerate(names) if c >> i & 1) for c in missing[:5]]
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise ValueError(f"The table is missing {len(missing)} of the {2 ** len(names)} coalitions: "
                             f"{shown}{more}. Give a utility for every subset of the players, the empty one included.")
        table_values = _as_value_array([values[c] for c in range(2 ** len(names))])

        def utility(masks: np.ndarray) -> np.ndarray:
            return table_values[coalition_codes(masks)]

        return cls(len(names), utility, names, cache=cache)

    @classmethod
    def from_bitmask_table(cls, values, players: Sequence[str] | None = None) -> "Game":
        """A game from the ``2^N`` utilities of its coalitions, indexed by bitmask (entry ``m``: the coalition
        with bit i of m set ⇔ player i present), the inverse of :meth:`values`.

        The way to value training data from models trained on every subset: with
        ``masks = all_coalitions(N)`` and ``outputs = train_on_subsets(..., masks, ...)`` (one row per mask),
        ``Game.from_bitmask_table(outputs.mean(axis=1))`` is the game whose utility is the mean test output.

        Parameters
        ----------
        values : array_like of shape (2**N,)
            Finite numbers (float64), or exact ones (ints, ``Fraction``, sympy ``Rational``), which stay exact.
        players : sequence of str, optional
            Names of the N players (default ``"0", "1", ...``).

        Returns
        -------
        Game
            Its utility looks each coalition up in ``values``; ``game.values()`` returns them.

        Raises
        ------
        ValueError
            A table that is not one-dimensional, whose length is not a power of two (or is 1), too large to
            enumerate, or holds values that are not finite.
        TypeError
            Values that are not numbers.
        """
        raw = as_numpy(values, dtype=object if isinstance(values, (list, tuple)) else None)
        if raw.ndim != 1:
            raise ValueError(f"A bitmask table is one-dimensional, one utility per coalition; got shape {raw.shape} "
                             "(for the outputs of train_on_subsets, pick one test point or average over them).")
        n = len(raw).bit_length() - 1
        if len(raw) < 2 or len(raw) != 2**n:
            raise ValueError(f"A bitmask table has 2^N entries (N ≥ 1 players); got {len(raw)}. Train one model on "
                             "every subset of the players: masks = all_coalitions(N).")
        check_enumerable(n)
        table = _as_value_array(raw)
        if not _finite(table).all():
            bad = int(np.flatnonzero(~_finite(table))[0])
            raise ValueError(f"Entry {bad} of the table (coalition with bitmask {bad}) is {table[bad]}, not a finite "
                             "number.")

        def utility(masks: np.ndarray) -> np.ndarray:
            return table[coalition_codes(masks)]

        return cls(n, utility, players)

    # ------------------------------------------------------------------ evaluation
    def __call__(self, masks: np.ndarray) -> np.ndarray:
        """Utilities of a batch of coalitions, a boolean array of shape ``(k, n_players)`` (or one mask)."""
        masks = as_numpy(masks)
        single = masks.ndim == 1
        if single:
            masks = masks[None, :]
        if masks.dtype != bool:
            raise TypeError(f"Coalitions must be a boolean array, got dtype {masks.dtype}; "
                            "use masks.astype(bool) if it holds 0/1.")
        if masks.ndim != 2 or masks.shape[1] != self.n_players:
            raise ValueError(f"Coalitions must have shape (k, {self.n_players}), one row per coalition; "
                             f"got shape {masks.shape}.")
        values = self._evaluate_cached(masks) if self._cache is not None else self._evaluate(masks)
        return values[0] if single else values

    def _evaluate(self, masks: np.ndarray) -> np.ndarray:
        values = _as_value_array(self._utility(masks))
        if values.shape != (len(masks),):
            raise ValueError(f"The utility returned shape {values.shape} for {len(masks)} coalitions; "
                             f"it must return one value per row, shape ({len(masks)},).")
        bad = ~_finite(values)
        if bad.any():
            row = masks[np.flatnonzero(bad)[0]]
            raise ValueError(f"The utility of coalition {self.describe(row)} is {float(values[bad][0])}, not a finite "
                             "number. Fix the utility (e.g. define U of an empty training set explicitly).")
        self.evaluations += len(masks)
        return values

    def _evaluate_cached(self, masks: np.ndarray) -> np.ndarray:
        codes = coalition_codes(masks)
        new_codes, first_rows = np.unique(codes, return_index=True)
        todo = [i for c, i in zip(new_codes, first_rows) if int(c) not in self._cache]
        if todo:
            fresh = self._evaluate(masks[todo])
            for i, v in zip(todo, fresh):
                self._cache[int(codes[i])] = v
        return _as_value_array([self._cache[int(c)] for c in codes])

    def values(self, *, max_players: int = MAX_EXACT_PLAYERS) -> np.ndarray:
        """The utility of all ``2^N`` coalitions, indexed by bitmask (see :func:`all_coalitions`).

        Counts ``2^N`` evaluations (fewer with ``cache=True`` if some were cached).

        Parameters
        ----------
        max_players : int, default=MAX_EXACT_PLAYERS
            Refuse games with more players.

        Returns
        -------
        ndarray of shape (2**N,)
            float64, or an object array of ``Fraction`` when all utilities are exact.

        Raises
        ------
        ValueError
            ``N > max_players``: the message says how much memory and how many evaluations it would take.
        """
        check_enumerable(self.n_players, max_players, what="Game.values()")
        return self(all_coalitions(self.n_players))

    def describe(self, mask: np.ndarray) -> str:
        """A coalition as ``{A, B}`` with player names.

        Parameters
        ----------
        mask : array_like of bool, shape (n_players,)
            One coalition.

        Returns
        -------
        str
            The names of its members in player order, in braces (``{}`` for the empty coalition).
        """
        return "{" + ", ".join(p for p, on in zip(self.players, mask) if on) + "}"

    def __repr__(self) -> str:
        return f"Game(n_players={self.n_players}, players={self.players})"

    # ------------------------------------------------------------------ linear combinations
    def __add__(self, other: "Game") -> "Game":
        """The game ``(U1 + U2)(S) = U1(S) + U2(S)`` (for the linearity axiom)."""
        if not isinstance(other, Game):
            return NotImplemented
        if other.players != self.players:
            raise ValueError(f"Games with different players cannot be added: {self.players} vs {other.players}.")
        return Game(self.n_players, lambda masks: self(masks) + other(masks), self.players)

    def __mul__(self, scale) -> "Game":
        """The game ``(c·U)(S) = c·U(S)``."""
        if isinstance(scale, Game) or not np.isscalar(scale) and not _is_exact(scale):
            return NotImplemented
        exact = _is_exact(scale)
        factor = as_fraction(scale) if exact else float(scale)
        return Game(self.n_players, lambda masks: _as_value_array(self(masks) * factor), self.players)

    __rmul__ = __mul__

    def __sub__(self, other: "Game") -> "Game":
        return self + (-1) * other


def _as_value_array(values) -> np.ndarray:
    """Utilities as float64 when they are floats; as an object array of ``Fraction`` when all are exact."""
    torch = sys.modules.get("torch")                    # imported only if the caller uses it
    if torch is not None and isinstance(values, torch.Tensor):
        values = as_numpy(values)                       # a tensor (on any device): a CPU copy
    if isinstance(values, np.ndarray) and values.dtype != object:
        return values.astype(np.float64) if values.dtype.kind in "biuf" else values
    items = list(values.tolist() if isinstance(values, np.ndarray) else values)
    if items and all(_is_exact(v) for v in items):
        out = np.empty(len(items), dtype=object)
        out[:] = [as_fraction(v) for v in items]
        return out
    try:
        return np.asarray([float(v) for v in items], dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"Utilities must be numbers; got {items[:3]!r}... ({err}).") from None


def _is_exact(v) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, np.integer, Rational)):
        return True
    return bool(getattr(v, "is_Rational", False))  # sympy Integer / Rational


def _finite(values: np.ndarray) -> np.ndarray:
    if values.dtype == object:
        return np.ones(len(values), dtype=bool)  # Fractions are always finite
    return np.isfinite(values)


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
    coefficients = _as_value_array(list(dividends.values()))

    def utility(masks: np.ndarray) -> np.ndarray:
        contains = (masks.astype(np.int64) @ indicator.T) == sizes  # (k, |dividends|): T ⊆ S
        if coefficients.dtype == object:
            return _as_value_array([sum(coefficients[row], Fraction(0)) for row in contains])
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
        values = _as_value_array([int(v) for v in rng.integers(-10, 11, size=2**n_players)])
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
        return _as_value_array([int(v) for v in (masks.astype(np.int64) @ w >= quota)])

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


def squared_sum_game(weights: Sequence[float], players: Sequence[str] | None = None) -> Game:
    """``U(S) = (Σ_{i∈S} w_i)² / N``: every pair interacts, marginal gains stay O(max w) for any N.

    Its dividends are ``c_{i} = w_i²/N`` and ``c_{ij} = 2 w_i w_j/N``, so the Shapley
    values are ``s_i = w_i · Σ_j w_j / N`` in closed form; ``game.dividends`` holds
    them for :func:`creditlib.shapley.shapley_from_dividends`.

    Parameters
    ----------
    weights : sequence of float
        ``w_i`` for each player; their number is N.
    players : sequence of str, optional
        Player names (default ``"0", "1", ...``).

    Returns
    -------
    Game
        Float utilities; ``game.dividends`` holds the ``c_{i}`` and ``c_{ij}`` above.
    """
    w = as_numpy(weights, dtype=np.float64)
    n = len(w)
    game = Game(n, lambda masks: (masks.astype(np.float64) @ w) ** 2 / n, players)
    game.dividends = {(i,): w[i] ** 2 / n for i in range(n)}
    game.dividends.update({(i, j): 2 * w[i] * w[j] / n for i in range(n) for j in range(i + 1, n)})
    return game


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


# ---------------------------------------------------------------------------- the chapter's games
DATASET_PRICING_TABLE = {(): 0, ("A",): 50, ("B",): 20, ("C",): 25, ("A", "B"): 75, ("A", "C"): 80,
                         ("B", "C"): 90, ("A", "B", "C"): 100}
"""Problem 10.5.1: performance (out of 100) of a model trained on each combination of datasets
A (web text), B (mathematics papers), C (source code)."""


def dataset_pricing_game() -> Game:
    """The dataset-pricing game of Problem 10.5.1 (exact integer utilities).

    Returns
    -------
    Game
        Players ``A, B, C``, utilities from :data:`DATASET_PRICING_TABLE`.
    """
    return Game.from_table(DATASET_PRICING_TABLE, players=["A", "B", "C"])


def corner_detector_game() -> Game:
    """The corner detector of Problem 10.5.2: ``U(S) = 1`` iff ``{P_TL, P_TR, P_BL} ⊆ S``.

    Players are the four pixels of a 2×2 image: ``TL, TR, BL, BR``. It is the
    single unanimity game ``u_{TL,TR,BL}``.

    Returns
    -------
    Game
        Exact 0/1 utilities; ``game.dividends == {(0, 1, 2): 1}``.
    """
    return unanimity_game([0, 1, 2], 4, players=["TL", "TR", "BL", "BR"])


def data_valuation_game(n_train: int = 12, n_test: int = 200, *, flip_fraction: float = 0.0,
                        seed=0) -> Game:
    """Data valuation (Example 10.2.1): ``U(S)`` = test accuracy of a nearest-centroid classifier trained on S.

    Data: scikit-learn's breast-cancer set (ships offline), standardised. The
    players are ``n_train`` training points drawn at random (balanced classes);
    ``flip_fraction`` of them get the wrong label, so data valuation has
    something to find. The model puts a centroid at the mean of each class's
    points in S and predicts the class of the nearest centroid; a class with no
    point in S is never predicted, and ``U(∅)`` is 1/2 (a coin flip). The model
    is trained for all coalitions of a batch at once (a matrix product).

    ``game.info`` holds the data: ``X_train, y_train, y_clean, X_test, y_test`` and
    ``flipped`` (the sorted indices of the points whose label was flipped), as drawn by
    :func:`creditlib.datasets.breast_cancer_players`.

    Parameters
    ----------
    n_train : int, default=12
        Number of players (training points).
    n_test : int, default=200
        Test points on which accuracy is measured.
    flip_fraction : float, default=0.0
        Fraction of training labels flipped, in [0, 1).
    seed : None, int or numpy.random.Generator, default=0
        Seed of the data draw; see :func:`creditlib.validation.check_random_state`.

    Returns
    -------
    Game
        Players ``x0, x1, ...``; float utilities in [0, 1]; coalitions are evaluated in
        chunks of 4096 to bound memory.

    Raises
    ------
    ValueError
        ``flip_fraction`` outside [0, 1).
    """
    from .datasets import breast_cancer_players

    X_train, y_train, y_clean, X_test, y_test, flipped = breast_cancer_players(n_train, n_test, flip_fraction, seed)
    onehot = np.eye(2)[y_train]                                  # (n_train, 2)

    test_sq = (X_test**2).sum(axis=1)                             # ||x||² for each test point

    def utility(masks: np.ndarray) -> np.ndarray:
        m = masks.astype(np.float64)
        counts = m @ onehot                                      # (k, 2) points of each class in S
        dist = []
        for c in (0, 1):                                         # ||x − μ_c||² = ||x||² − 2 x·μ_c + ||μ_c||²
            centroid = ((m * onehot[:, c]) @ X_train) / np.maximum(counts[:, c:c + 1], 1)   # (k, d)
            d = test_sq[None, :] - 2 * centroid @ X_test.T + (centroid**2).sum(axis=1, keepdims=True)
            dist.append(np.where(counts[:, c:c + 1] > 0, d, np.inf))
        prediction = (dist[1] < dist[0]).astype(np.int64)        # (k, n_test); ties go to class 0
        accuracy = (prediction == y_test).mean(axis=1)
        return np.where(counts.sum(axis=1) > 0, accuracy, 0.5)

    game = Game(n_train, _in_batches(utility, 4096), [f"x{i}" for i in range(n_train)])
    game.info.update(X_train=X_train, y_train=y_train, y_clean=y_clean, X_test=X_test, y_test=y_test,
                     flipped=flipped)
    return game


def _in_batches(utility: Utility, batch: int) -> Utility:
    """Evaluate a memory-hungry vectorised utility in chunks of ``batch`` coalitions."""
    def batched(masks: np.ndarray) -> np.ndarray:
        return np.concatenate([utility(masks[i:i + batch]) for i in range(0, len(masks), batch)]) \
            if len(masks) else np.zeros(0)
    return batched
