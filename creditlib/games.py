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

from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from .coalitions import MAX_EXACT_PLAYERS, all_coalitions, check_enumerable, coalition_codes
from .rationals import as_fraction, as_value_array, is_exact
from .validation import as_numpy

__all__ = ["Utility", "Game", "empty_and_grand"]

Utility = Callable[[np.ndarray], np.ndarray]


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
            return as_value_array(out)

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
        table_values = as_value_array([values[c] for c in range(2 ** len(names))])

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
        table = as_value_array(raw)
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
        values = as_value_array(self._utility(masks))
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
        return as_value_array([self._cache[int(c)] for c in codes])

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
        if isinstance(scale, Game) or not np.isscalar(scale) and not is_exact(scale):
            return NotImplemented
        exact = is_exact(scale)
        factor = as_fraction(scale) if exact else float(scale)
        return Game(self.n_players, lambda masks: as_value_array(self(masks) * factor), self.players)

    __rmul__ = __mul__

    def __sub__(self, other: "Game") -> "Game":
        return self + (-1) * other


def _finite(values: np.ndarray) -> np.ndarray:
    if values.dtype == object:
        return np.ones(len(values), dtype=bool)  # Fractions are always finite
    return np.isfinite(values)


def empty_and_grand(game: Game) -> np.ndarray:
    """``[U(∅), U([N])]``, two utility evaluations in one call.

    Parameters
    ----------
    game : Game
        The game.

    Returns
    -------
    ndarray of shape (2,)
    """
    n = game.n_players
    return game(np.array([np.zeros(n, bool), np.ones(n, bool)]))
