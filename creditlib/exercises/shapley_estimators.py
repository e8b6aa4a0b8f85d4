"""Exercises of notebook 04_shapley_estimators: the pieces of Problem 10.2.7's estimator."""
from __future__ import annotations

import sympy as sp

from .core import expression_exercise
from .symbols import B, N, U_N, U_empty, k

NOTEBOOK = "04_shapley_estimators"


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
    "nb04.1", "The chance that both players of a pair are outside a random k-subset", NOTEBOOK,
    "a sympy expression in N and k (use the symbols N, k from this notebook).",
    symbols=[N, k],
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
    "nb04.2", "Draws of size k when every size gets the same share of the budget", NOTEBOOK,
    "a sympy expression in B, N and k.",
    symbols=[B, N, k],
    reference=lambda: B / ((N - 1) * (N - k)),
    expected=_draws_per_size,
    wrong_answers=lambda: [
        (B / (N - 1), "differs from the expected one"),
        (B / (N * (N - k)), "differs from the expected one"),
        (B * (N - k) / (N - 1), "differs from the expected one"),
    ],
)

expression_exercise(
    "nb04.3", "The mean Shapley value, from the efficiency axiom", NOTEBOOK,
    "a sympy expression in U_N (= U([N])), U_empty (= U(∅)) and N.",
    symbols=[U_N, U_empty, N],
    reference=lambda: U_N / N - U_empty / N,
    expected=_efficiency_offset,
    wrong_answers=lambda: [
        (U_N / N, "differs from the expected one"),
        (U_N - U_empty, "differs from the expected one"),
        ((U_N - U_empty) / (N - 1), "differs from the expected one"),
    ],
)
