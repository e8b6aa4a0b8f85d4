"""Coalition tables: the ``2^N`` utilities of a game indexed by bitmask, and the cost of building one.

Coalition ``m`` contains player ``i`` iff bit ``i`` of ``m`` is set. Exact methods
evaluate every coalition once and work on that table; this module says how big
such a table is, refuses one that would not fit, and reads ``N`` back from a table.
"""
from __future__ import annotations

import numpy as np

from .validation import as_numpy

__all__ = ["MAX_EXACT_PLAYERS", "enumeration_memory_bytes", "check_enumerable", "table_players",
           "coalition_codes_and_sizes", "without", "all_coalitions", "coalition_codes"]

MAX_EXACT_PLAYERS = 22
"""Default limit for exact enumeration; above it exact methods refuse (see ``max_players``)."""


def enumeration_memory_bytes(n_players: int) -> int:
    """Rough peak memory of exact enumeration: the boolean mask table, the float64 copy of it that a
    vectorised utility usually makes, and a few 2^N tables (codes, sizes, values).

    ``benchmarks/shapley_exact.py`` measured 188 MiB at N = 20 and 824 MiB at N = 22 (this formula gives 231 and
    998 MB); a unit test holds it within a factor of two of ``tracemalloc``'s peak.

    Parameters
    ----------
    n_players : int
        Number of players N.

    Returns
    -------
    int
        ``2^N · (9N + 40)`` bytes.
    """
    return 2**n_players * (9 * n_players + 40)


def check_enumerable(n_players: int, max_players: int = MAX_EXACT_PLAYERS, *, what: str = "Exact enumeration") -> None:
    """Refuse to enumerate all ``2^N`` coalitions above ``max_players``, saying what it would cost and what to use.

    Parameters
    ----------
    n_players : int
        Number of players N.
    max_players : int, default=MAX_EXACT_PLAYERS
        The largest N allowed (22 by default).
    what : str, default="Exact enumeration"
        What is refused, for the message.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        ``n_players > max_players``.
    """
    if n_players > max_players:
        gib = enumeration_memory_bytes(n_players) / 2**30
        raise ValueError(
            f"{what} over N = {n_players} players needs all 2^{n_players} = {2**n_players:,} "
            f"coalitions (about {gib:,.1f} GiB of memory and as many utility evaluations); the limit is "
            f"max_players={max_players}. Use an estimator instead: shapley_permutation (Monte Carlo over "
            f"permutations, Lemma 10.2.6) or shapley_difference (Theorem 10.2.8), or raise max_players "
            f"if you really have the memory and time."
        )


def table_players(table) -> int:
    """``N`` for a coalition table of ``2^N`` entries.

    Parameters
    ----------
    table : sized
        A coalition table (anything with ``len``), indexed by bitmask.

    Returns
    -------
    int
        ``N = log2(len(table))``.

    Raises
    ------
    ValueError
        The length is not a power of two (e.g. a table that misses ``U(∅)``).
    """
    length = len(table)
    n = length.bit_length() - 1
    if length < 1 or length != 1 << n:
        raise ValueError(f"A coalition table has 2^N entries, one per coalition (U(∅) first, indexed by bitmask); "
                         f"got {length} entries, which is not a power of two.")
    return n


def coalition_codes_and_sizes(n_players: int) -> tuple[np.ndarray, np.ndarray]:
    """The bitmask codes ``0 .. 2^N − 1`` and the size (number of players) of each coalition.

    Parameters
    ----------
    n_players : int
        Number of players N; there are ``2^N`` codes.

    Returns
    -------
    codes, sizes : ndarray of int64, shape (2**N,)
        ``codes[m] = m`` and ``sizes[m]`` the number of set bits of m.
    """
    codes = np.arange(2**n_players, dtype=np.int64)
    # Codes 2^k .. 2^(k+1) − 1 are codes 0 .. 2^k − 1 with player k added: one more member each. (Built by
    # doubling rather than with np.bitwise_count, which needs NumPy 2.0; pyproject.toml allows older NumPy.)
    sizes = np.zeros(1, dtype=np.int64)
    for _ in range(n_players):
        sizes = np.concatenate([sizes, sizes + 1])
    return codes, sizes


def without(codes: np.ndarray, *players: int) -> np.ndarray:
    """The codes of the coalitions that contain none of ``players``.

    Parameters
    ----------
    codes : ndarray of int
        Bitmask codes, e.g. all of them from :func:`coalition_codes_and_sizes`.
    *players : int
        Player indices (bit positions) to exclude.

    Returns
    -------
    ndarray
        The entries of ``codes`` with none of those bits set, in their original order.
    """
    keep = np.ones(len(codes), dtype=bool)
    for p in players:
        keep &= (codes >> p) & 1 == 0
    return codes[keep]


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
