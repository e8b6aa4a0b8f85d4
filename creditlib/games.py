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

from fractions import Fraction
from numbers import Rational
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

Utility = Callable[[np.ndarray], np.ndarray]


def all_coalitions(n_players: int) -> np.ndarray:
    """All ``2^n`` coalitions as a boolean array of shape ``(2**n, n)``; row ``m`` is bitmask ``m``."""
    codes = np.arange(2**n_players, dtype=np.int64)
    return ((codes[:, None] >> np.arange(n_players)) & 1).astype(bool)


def coalition_codes(masks: np.ndarray) -> np.ndarray:
    """Bitmask code of each coalition row: ``sum_i mask[i] * 2**i``."""
    masks = np.asarray(masks, dtype=bool)
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
        self._cache: dict[int, object] | None = {} if cache else None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_function(cls, value_of: Callable[[frozenset], object], n_players: int | None = None,
                      players: Sequence[str] | None = None, *, cache: bool = False) -> "Game":
        """A game from a plain per-coalition function ``value_of(frozenset of player names) -> number``.

        The function is called once per coalition row (vectorised for you).
        Give ``players`` (names) or ``n_players`` (names ``"0", "1", ...``).
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

    # ------------------------------------------------------------------ evaluation
    def __call__(self, masks: np.ndarray) -> np.ndarray:
        """Utilities of a batch of coalitions, a boolean array of shape ``(k, n_players)`` (or one mask)."""
        masks = np.asarray(masks)
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

    def values(self) -> np.ndarray:
        """The utility of all ``2^N`` coalitions, indexed by bitmask (see :func:`all_coalitions`)."""
        return self(all_coalitions(self.n_players))

    def describe(self, mask: np.ndarray) -> str:
        """A coalition as ``{A, B}`` with player names."""
        return "{" + ", ".join(p for p, on in zip(self.players, mask) if on) + "}"

    def __repr__(self) -> str:
        return f"Game(n_players={self.n_players}, players={self.players})"


def _as_value_array(values) -> np.ndarray:
    """Utilities as float64 when they are floats; as an object array of ``Fraction`` when all are exact."""
    if isinstance(values, np.ndarray) and values.dtype != object:
        return values.astype(np.float64) if values.dtype.kind in "biuf" else values
    items = list(values.tolist() if isinstance(values, np.ndarray) else values)
    if items and all(_is_exact(v) for v in items):
        out = np.empty(len(items), dtype=object)
        out[:] = [Fraction(int(v.p), int(v.q)) if hasattr(v, "q") and hasattr(v, "p") else Fraction(v)
                  for v in items]
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
