"""Paired coalition designs shared by the regression estimators (KernelSHAP, Leverage SHAP, regression-adjusted).

A coalition ``S`` is drawn with its complement ``[N] ∖ S`` (*paired sampling*, Covert & Lee 2021): the pair is
one *unit*, costing two utility evaluations, and the units are grouped in strata by the size of their smaller
side, ``s = 1 .. ⌊N/2⌋`` (at ``s = N/2`` a unit is an unordered pair of two halves). A stratum that the budget can
pay for in full is enumerated (shapiq's "border trick"); the others get a fixed number of units drawn uniformly,
with or without replacement. Each unit carries its Horvitz–Thompson weight ``units in stratum / units drawn``, so
that weighted sums over the design estimate sums over all coalitions without bias.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np

__all__ = ["PairedDesign", "stratum_units", "allocate_units", "draw_units", "paired_design", "evaluate_pairs"]


@dataclass(frozen=True)
class PairedDesign:
    """Units of a paired design: ``S`` (smaller side first), their stratum and their weight.

    Attributes
    ----------
    S : ndarray of bool, shape (k, n_players)
        One side of each unit; the other is ``~S``.
    stratum : ndarray of int, shape (k,)
        Index of the unit's stratum (its size minus one).
    weight : ndarray of float, shape (k,)
        Units in the stratum over units drawn from it (1 in an enumerated stratum).
    units : ndarray of float, shape (⌊N/2⌋,)
        Number of units in each stratum.
    drawn : ndarray of int, shape (⌊N/2⌋,)
        Units drawn from each stratum.
    enumerated : ndarray of bool, shape (⌊N/2⌋,)
        Strata enumerated in full.
    """

    S: np.ndarray
    stratum: np.ndarray
    weight: np.ndarray
    units: np.ndarray
    drawn: np.ndarray
    enumerated: np.ndarray


def stratum_units(n_players: int) -> np.ndarray:
    """Units (coalition–complement pairs) per stratum ``s = 1 .. ⌊N/2⌋``: ``C(N,s)``, halved at ``s = N/2``.

    Parameters
    ----------
    n_players : int
        N, at least 2.

    Returns
    -------
    ndarray of float64, shape (⌊N/2⌋,)
    """
    sizes = range(1, n_players // 2 + 1)
    return np.array([comb(n_players, s) / (2 if 2 * s == n_players else 1) for s in sizes], dtype=np.float64)


def allocate_units(n_units: int, share: np.ndarray, units: np.ndarray, step: int = 1):
    """Split ``n_units`` among strata in proportion to ``share``; a stratum it can pay for is enumerated.

    Strata whose share of the remaining units covers all their units are enumerated, in rounds, and the rest is
    split by largest remainders, in multiples of ``step``; a stratum whose multiple of ``step`` exceeds its units
    is enumerated instead (which costs no more).

    Parameters
    ----------
    n_units : int
        Units the budget pays for.
    share : ndarray of float, shape (n_strata,)
        Target proportions (positive).
    units : ndarray of float, shape (n_strata,)
        Units in each stratum.
    step : int, default=1
        Drawn counts are multiples of ``step``.

    Returns
    -------
    enumerated : ndarray of bool
    drawn : ndarray of int
        Units of each stratum in the design (all of them where enumerated).
    """
    enumerated = np.zeros(len(units), bool)
    remaining = float(n_units)
    while True:
        active = ~enumerated
        if not active.any():
            break
        target = np.where(active, share, 0.0) / share[active].sum() * remaining
        full = active & (target >= units)
        if not full.any():
            break
        enumerated |= full
        remaining -= units[full].sum()
    drawn = np.where(enumerated, units, 0).astype(np.int64)
    active = ~enumerated
    if active.any():
        slots = int(remaining) // step
        target = share[active] / share[active].sum() * slots
        count = np.floor(target).astype(np.int64)
        leftover = slots - int(count.sum())
        order = np.argsort(-(target - count), kind="stable")
        count[order[:leftover]] += 1
        drawn[active] = count * step
    over = ~enumerated & (drawn > units)          # a multiple of ``step`` above the stratum's size: enumerate it
    enumerated |= over
    drawn[over] = units[over]
    return enumerated, drawn


def _canonical(S: np.ndarray) -> np.ndarray:
    """At ``s = N/2`` a unit is an unordered pair: keep the side that holds player 0."""
    return np.where(S[:, :1], S, ~S)


def draw_units(rng: np.random.Generator, n_players: int, size: int, count: int, *, replace: bool) -> np.ndarray:
    """``count`` units of stratum ``size`` drawn uniformly, with or without replacement.

    Parameters
    ----------
    rng : numpy.random.Generator
        The source of randomness.
    n_players, size, count : int
        N, the size of the smaller side, the number of units (at most the stratum's units without replacement).
    replace : bool
        Draw independently (True) or distinct units (False).

    Returns
    -------
    ndarray of bool, shape (count, n_players)
    """
    half = 2 * size == n_players

    def draw(k):
        keys = rng.random((k, n_players))
        S = keys.argsort(axis=1).argsort(axis=1) < size
        return _canonical(S) if half else S

    if replace:
        return draw(count)
    chosen = np.zeros((0, n_players), bool)
    while len(chosen) < count:
        candidates = np.concatenate([chosen, draw(2 * (count - len(chosen)) + 8)])
        _, first = np.unique(np.packbits(candidates, axis=1), axis=0, return_index=True)
        chosen = candidates[np.sort(first)][:count]
    return chosen


def _all_units(n_players: int, size: int) -> np.ndarray:
    players = range(1, n_players) if 2 * size == n_players else range(n_players)
    combos = [((0,) + c) if 2 * size == n_players else c
              for c in combinations(players, size - 1 if 2 * size == n_players else size)]
    S = np.zeros((len(combos), n_players), bool)
    for row, c in enumerate(combos):
        S[row, list(c)] = True
    return S


def paired_design(rng: np.random.Generator, n_players: int, n_units: int, share: np.ndarray, *,
                  replace: bool, step: int = 1) -> PairedDesign:
    """A paired, size-stratified design of ``n_units`` units (see the module docstring).

    Parameters
    ----------
    rng : numpy.random.Generator
        The source of randomness.
    n_players : int
        N, at least 2.
    n_units : int
        Units the budget pays for (two evaluations each).
    share : ndarray of float, shape (⌊N/2⌋,)
        Target proportion of units per stratum.
    replace : bool
        Draw within a stratum with replacement (independent units) or without.
    step : int, default=1
        Units drawn per sampled stratum come in multiples of ``step``.

    Returns
    -------
    PairedDesign
    """
    units = stratum_units(n_players)
    enumerated, drawn = allocate_units(n_units, share, units, step)
    blocks, strata, weights = [], [], []
    for k in range(len(units)):
        if drawn[k] == 0:
            continue
        size = k + 1
        S = _all_units(n_players, size) if enumerated[k] else draw_units(rng, n_players, size, int(drawn[k]),
                                                                          replace=replace)
        blocks.append(S)
        strata.append(np.full(len(S), k))
        weights.append(np.full(len(S), 1.0 if enumerated[k] else units[k] / drawn[k]))
    if not blocks:
        blocks, strata, weights = [np.zeros((0, n_players), bool)], [np.zeros(0, int)], [np.zeros(0)]
    return PairedDesign(np.concatenate(blocks), np.concatenate(strata), np.concatenate(weights), units, drawn,
                        enumerated)


def evaluate_pairs(game, S: np.ndarray, chunk_size: int) -> tuple[np.ndarray, np.ndarray]:
    """``U(S)`` and ``U([N] ∖ S)`` for each row of ``S``, each distinct coalition evaluated once.

    Parameters
    ----------
    game : Game
        The game.
    S : ndarray of bool, shape (k, n_players)
        One side of each unit.
    chunk_size : int
        Coalitions per utility call (bounds memory only).

    Returns
    -------
    (ndarray, ndarray)
        ``U(S)`` and ``U(~S)``, float64 of shape (k,).
    """
    rows = np.concatenate([S, ~S])
    if len(rows) == 0:
        return np.zeros(0), np.zeros(0)
    unique, inverse = np.unique(np.packbits(rows, axis=1), axis=0, return_inverse=True)
    first = np.zeros(len(unique), np.int64)
    first[inverse.ravel()[::-1]] = np.arange(len(rows))[::-1]
    distinct = rows[np.sort(first)]
    order = np.argsort(np.argsort(first))          # position of each unique row among the distinct ones
    values = np.concatenate([np.asarray(game(distinct[i:i + chunk_size]), dtype=np.float64)
                             for i in range(0, len(distinct), chunk_size)])
    v = values[order][inverse.ravel()]
    return v[:len(S)], v[len(S):]
