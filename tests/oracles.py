"""Independent oracles shared by the tests: the definitions, written plainly (loops, no bit tricks)."""
import itertools
from math import factorial

import numpy as np


def value(game, members):
    """``U(S)`` for the players listed in ``members``."""
    mask = np.zeros(game.n_players, dtype=bool)
    mask[list(members)] = True
    return game(mask)


def shapley_by_permutations(game):
    """Definition 10.2.2 literally: average marginal gain over all N! arrival orders (floats)."""
    n = game.n_players
    total = np.zeros(n)
    for order in itertools.permutations(range(n)):
        present = np.zeros(n, dtype=bool)
        for i in order:
            before = game(present)
            present[i] = True
            total[i] += game(present) - before
    return total / factorial(n)


def neumann_partial_sum(matvec, v, r):
    """``v + (I − A)v + … + (I − A)^r v``, one term at a time (``matvec(u) = A u``)."""
    term, total = v.clone(), v.clone()
    for _ in range(r):
        term = term - matvec(term)
        total = total + term
    return total
