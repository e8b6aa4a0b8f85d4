"""What every estimator of :mod:`creditlib.estimators` shares: the result type and the budget checks."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ShapleyEstimate", "check_budget", "random_subsets"]


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


def check_budget(budget: int, minimum: int, n_players: int, what: str) -> int:
    """``budget`` as an int of at least ``minimum`` utility evaluations, or a ``TypeError`` (not an integer) or a
    ``ValueError`` (too small) whose message names the estimator ``what`` and the number of players ``n_players``.

    Parameters
    ----------
    budget, minimum : int
        Utility evaluations the caller allows, and the fewest the estimator can work with.
    n_players : int
        N.
    what : str
        The estimator's name.

    Returns
    -------
    int
    """
    if not isinstance(budget, (int, np.integer)) or isinstance(budget, bool):
        raise TypeError(f"budget must be an integer number of utility evaluations, got {budget!r}.")
    if budget < minimum:
        raise ValueError(f"{what} needs a budget of at least {minimum} utility evaluations for "
                         f"N = {n_players} players; got {budget}.")
    return int(budget)


def random_subsets(rng: np.random.Generator, sizes: np.ndarray, n_players: int,
                    exclude: np.ndarray | None = None) -> np.ndarray:
    """Boolean masks, row r a uniform random subset of size ``sizes[r]`` (avoiding player ``exclude[r]``).

    Parameters
    ----------
    rng : numpy.random.Generator
        The source of randomness.
    sizes : ndarray of int, shape (k,)
        The size of each subset.
    n_players : int
        N.
    exclude : ndarray of int, shape (k,), optional
        A player each row must not contain.

    Returns
    -------
    ndarray of bool, shape (k, n_players)
    """
    keys = rng.random((len(sizes), n_players))
    if exclude is not None:
        keys[np.arange(len(sizes)), exclude] = np.inf   # never among the smallest keys
    ranks = keys.argsort(axis=1).argsort(axis=1)
    return ranks < sizes[:, None]
