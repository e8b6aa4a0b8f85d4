"""Exercises of notebook 04_shapley_estimators: the naive estimator (Lemma 10.2.6) and the pieces of
Problem 10.2.7's difference estimator, as formulas and as functions checked against creditlib."""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..coalitions import coalition_codes
from ..estimators import difference_terms
from ..shapley import shapley_by_permutations
from .core import array_function_exercise, expression_exercise
from .symbols import B, N, U_N, U_empty, k, t

__all__ = ["NOTEBOOK", "SIZES", "Draws"]

NOTEBOOK = "04_shapley_estimators"
SIZES = {"N": (2, None), "k": (0, N - 2)}
"""The sizes of Theorem 10.2.8: S ⊆ [N] ∖ {i, j}, so 0 ≤ k ≤ N − 2 and N ≥ 2."""


def _both_outside() -> sp.Expr:
    # P(i ∉ S) · P(j ∉ S | i ∉ S) for a uniform k-subset S of [N]: the ratio of subset counts.
    return sp.factor(sp.combsimp(sp.binomial(N - 2, k) / sp.binomial(N, k)))


def _draws_per_size() -> sp.Expr:
    # Budget B split equally over the N − 1 sizes; a draw of size k costs N − k evaluations.
    return (B / (N - 1)) / (N - k)


def _efficiency_offset() -> sp.Expr:
    # Shapley values sum to U([N]) − U(∅); their mean is that over N.
    return (U_N - U_empty) / N



expression_exercise(
    "nb04.2", "The chance that both players of a pair are outside a random k-subset", NOTEBOOK,
    "a sympy expression in N and k (use the symbols N, k from this notebook).",
    symbols=[N, k], domain={"N": (2, None), "k": (0, N)},     # two players, and a k-subset of any size
    reference=lambda: (N - k) * (N - k - 1) / (N * (N - 1)),
    expected=_both_outside,
    wrong_answers=lambda: [
        ((N - k) / N, "differs from the expected one"),
        (((N - k) / N) ** 2, "differs from the expected one"),
        (k * (k - 1) / (N * (N - 1)), "differs from the expected one"),
        (sp.Symbol("n") - k, "does not define"),
    ],
)

expression_exercise(
    "nb04.5", "Draws of size k under the split of the budget that minimises the sum of the bounds", NOTEBOOK,
    "a sympy expression in B, N and k.",
    symbols=[B, N, k], domain=SIZES,
    reference=lambda: B / ((N - 1) * (N - k)),
    expected=_draws_per_size,
    wrong_answers=lambda: [
        (B / (N - 1), "differs from the expected one"),
        (B / (N * (N - k)), "differs from the expected one"),
        (B * (N - k) / (N - 1), "differs from the expected one"),
    ],
)

expression_exercise(
    "nb04.6", "The mean Shapley value, without sampling", NOTEBOOK,
    "a sympy expression in U_N (= U([N])), U_empty (= U(∅)) and N.",
    symbols=[U_N, U_empty, N],        # any real utilities, N ≥ 1 players (N's assumptions)
    reference=lambda: U_N / N - U_empty / N,
    expected=_efficiency_offset,
    wrong_answers=lambda: [
        (U_N / N, "differs from the expected one"),
        (U_N - U_empty, "differs from the expected one"),
        ((U_N - U_empty) / (N - 1), "undefined (or not real) at"),          # at N = 1, one player
    ],
)


# nb04.1 — the naive estimator on given permutations ---------------------------------------
def _players(rng: np.random.Generator, fewest: int, most: int = 12) -> int:
    """A number of players up to the notebook's 12, half the draws from 6 on (codes past 8 bits from N = 9)."""
    return int(rng.integers(fewest, 6) if rng.random() < 0.5 else rng.integers(6, most + 1))


def _draw_table_and_orders(rng: np.random.Generator) -> tuple:
    n, m = _players(rng, 1), int(rng.integers(1, 6))
    values = rng.integers(-9, 10, size=2**n).astype(np.float64)          # small integers: easy to read
    return values, rng.permuted(np.tile(np.arange(n), (m, 1)), axis=1)


def _by_position(values, orders):
    """A plausible bug: the gain of the j-th arrival credited to player j, not to the player who arrived."""
    n = orders.shape[1]
    total = np.zeros(n)
    for order in orders:
        code = 0
        for position, i in enumerate(order):
            total[position] += values[code | 1 << int(i)] - values[code]
            code |= 1 << int(i)
    return total / len(orders)


def _alone(values, orders):
    """A plausible bug: every player's gain measured against the empty coalition."""
    n = orders.shape[1]
    return np.array([values[1 << i] - values[0] for i in range(n)])



array_function_exercise(
    id="nb04.1", title="The naive estimator of Lemma 10.2.6 on given permutations", notebook=NOTEBOOK,
    expects="a function permutation_estimate(values, orders): values a float (2**N,) coalition table "
            "(values[code] = U(S), code = Σ_{i∈S} 2^i), orders an int (m, N) array of permutations; it returns "
            "an (N,) NumPy array, each player's marginal gain U(π_≤i) − U(π_<i) averaged over the m orders.",
    draw_input=_draw_table_and_orders,
    reference=lambda: shapley_by_permutations,
    expected=lambda: shapley_by_permutations,
    wrong_answers=lambda: [
        (lambda values, orders: len(orders) * shapley_by_permutations(values, orders), "is wrong on input"),  # sum
        (_by_position, "is wrong on input"),
        (_alone, "is wrong on input"),
    ],
)


# nb04.3 — the weight of one draw -----------------------------------------------------------
def _draw_weight() -> sp.Expr:
    # s_i − s̄ = (1/N) Σ_j (s_i − s_j); each stratum of Theorem 10.2.8 carries 1/(N−1), the reweighting
    # divides by P(i, j ∉ S), and Σ_{j∉S} (v_i − v_j) = (N − k)(v_i − v̄_out).
    return sp.factor(sp.simplify((N - k) / (N * (N - 1) * _both_outside())))


expression_exercise(
    "nb04.3", "The weight of one draw in the estimate of s_i minus the mean value", NOTEBOOK,
    "a sympy expression in N and k: w_k in s_i − s̄ = Σ_k E_S[1(i ∉ S) · w_k · (v_i − v̄_out)].",
    symbols=[N, k], domain=SIZES,
    reference=lambda: 1 / (N - k - 1),
    expected=_draw_weight,
    wrong_answers=lambda: [
        (1 / (N - k), "differs from the expected one"),
        (N * (N - 1) / ((N - k) * (N - k - 1)), "differs from the expected one"),
        (1 / ((N - 1) * (N - k - 1)), "differs from the expected one"),
    ],
)


# nb04.4 — the difference estimator on given draws -----------------------------------------
class Draws(list):
    """The list ``subsets`` of nb04.4 (``subsets[k]`` the size-k draws), with a short repr for the checker's
    messages: the N − 1 boolean arrays would not fit in one."""

    def __repr__(self) -> str:
        counts = ", ".join(str(len(draws)) for draws in self)
        return f"subsets: {len(self)} arrays, m_k = [{counts}] draws of {len(self) + 1} players"


def _draw_table_and_subsets(rng: np.random.Generator) -> tuple:
    n = _players(rng, 2)                                               # N = 2: one size, k = 0
    values = rng.integers(-9, 10, size=2**n).astype(np.float64)
    subsets = Draws()
    for size in range(n - 1):
        m = int(rng.integers(1, 4))
        keys = rng.random((m, n))
        subsets.append(keys.argsort(axis=1).argsort(axis=1) < size)   # m uniform subsets of this size
    return values, subsets


def _difference_reference(values, subsets):
    lookup = lambda masks: values[coalition_codes(masks)]       # noqa: E731
    return sum(difference_terms(lookup, S).mean(axis=0) for S in subsets)


def _difference_variant(weight, centre=True, mean=True):
    """Plausible bugs: another weight, no centring on the outsiders' mean, sums instead of means over draws."""
    def estimate(values, subsets):
        n = len(subsets) + 1
        D = np.zeros(n)
        for size, S in enumerate(subsets):
            terms = np.zeros((len(S), n))
            for r, row in enumerate(S):
                out = np.flatnonzero(~row)
                code = int(sum(1 << int(i) for i in np.flatnonzero(row)))
                v = np.array([values[code | 1 << int(i)] for i in out])
                terms[r, out] = (v - v.mean() if centre else v) * weight(n, size)
            D += terms.mean(axis=0) if mean else terms.sum(axis=0)
        return D
    return estimate


array_function_exercise(
    id="nb04.4", title="The difference estimator of Problem 10.2.7 on given draws", notebook=NOTEBOOK,
    expects="a function difference_estimate(values, subsets): values a float (2**N,) coalition table, subsets a "
            "list of N − 1 boolean arrays, subsets[k] of shape (m_k, N) holding m_k draws of size k; it returns an "
            "(N,) NumPy array D, D_i = Σ_k mean over the size-k draws of 1(i ∉ S) · w_k · (v_i − v̄_out).",
    draw_input=_draw_table_and_subsets,
    reference=lambda: _difference_variant(lambda n, size: 1 / (n - size - 1)),
    expected=lambda: _difference_reference,
    wrong_answers=lambda: [
        (_difference_variant(lambda n, size: 1 / (n - size)), "is wrong on input"),
        (_difference_variant(lambda n, size: 1 / (n - size - 1), centre=False), "is wrong on input"),
        (_difference_variant(lambda n, size: 1 / (n - size - 1), mean=False), "is wrong on input"),
    ],
)


# nb04.7 — paired (antithetic) orders ---------------------------------------------------------
def _paired_reference(values, orders):
    """Each given order walked forwards and backwards: the naive estimator on the 2m orders."""
    return shapley_by_permutations(values, np.concatenate([orders, orders[:, ::-1]]))


def _paired_by_loops(values, orders):
    """The same, written as a reader would: both walks of each order, gains averaged over 2m walks."""
    n = orders.shape[1]
    total = np.zeros(n)
    for order in orders:
        for walk in (order, order[::-1]):
            code = 0
            for i in walk:
                total[i] += values[code | 1 << int(i)] - values[code]
                code |= 1 << int(i)
    return total / (2 * len(orders))


def _paired_backwards_by_position(values, orders):
    """A plausible bug: the backward walk's gains credited to the forward order's players by position."""
    n = orders.shape[1]
    total = np.zeros(n)
    for order in orders:
        code = 0
        for i in order:
            total[i] += values[code | 1 << int(i)] - values[code]
            code |= 1 << int(i)
        code = 0
        for position, i in enumerate(order[::-1]):
            total[order[position]] += values[code | 1 << int(i)] - values[code]
            code |= 1 << int(i)
    return total / (2 * len(orders))


array_function_exercise(
    id="nb04.7", title="Paired (antithetic) permutation sampling on given orders", notebook=NOTEBOOK,
    expects="a function paired_estimate(values, orders): values a float (2**N,) coalition table, orders an int "
            "(m, N) array of permutations; it returns an (N,) NumPy array, each player's marginal gain averaged "
            "over the 2m walks: every given order and its reverse.",
    draw_input=_draw_table_and_orders,
    reference=lambda: _paired_by_loops,
    expected=lambda: _paired_reference,
    wrong_answers=lambda: [
        (shapley_by_permutations, "is wrong on input"),                                         # no reverse walk
        (lambda values, orders: 2 * _paired_reference(values, orders), "is wrong on input"),     # divided by m
        (_paired_backwards_by_position, "is wrong on input"),
    ],
)


# nb04.8 — the variance of one pair on a unanimity game ---------------------------------------
def _pair_variance() -> sp.Expr:
    # u_T, i ∈ T, |T| = t: along π, i gains 1 iff it arrives last of T; along the reverse, iff it arrives first.
    # For t ≥ 2 these are disjoint events of probability 1/t each, so the pair's estimate is 1/2 with
    # probability 2/t and 0 otherwise; its variance is E[X²] − E[X]², with E[X] = 1/t (= φ_i(u_T)).
    mean = sp.Rational(1, 2) * 2 / t
    return sp.factor(sp.Rational(1, 4) * 2 / t - mean**2)


expression_exercise(
    "nb04.8", "The variance of one antithetic pair's estimate on a unanimity game of order t", NOTEBOOK,
    "a sympy expression in t (use the symbol t from this notebook): Var[(g_i(π) + g_i(reverse π))/2] for "
    "u_T, i ∈ T, |T| = t ≥ 2.",
    symbols=[t], domain={"t": (2, None)},
    reference=lambda: (t - 2) / (2 * t**2),
    expected=_pair_variance,
    wrong_answers=lambda: [
        ((t - 1) / t**2, "differs from the expected one"),              # one order's variance
        ((t - 1) / (2 * t**2), "differs from the expected one"),        # two independent orders
        (1 / (2 * t), "differs from the expected one"),                 # E[X²], the mean not subtracted
        (sp.Integer(0), "differs from the expected one"),               # "pairing is always exact"
    ],
)
