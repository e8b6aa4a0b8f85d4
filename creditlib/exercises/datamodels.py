"""Exercises of notebook 05_datamodels (Section 10.3 and its harmonic analysis, Saunshi et al. 2023)."""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..checking import compare_expression, compare_vector
from ..datamodels import banzhaf_msr, noise_stability, p_biased_fourier
from ..games import dataset_pricing_game
from ..shapley import banzhaf_exact
from .core import Exercise, array_function_exercise, register

NOTEBOOK = "05_datamodels"
from .symbols import p, rho, u_1, u_12, u_2, u_empty
UNIT = {"p": (0, 1), "rho": (0, 1)}


def _mu() -> sp.Expr:
    # E[x_i] under B_p: +1 with probability p, −1 otherwise.
    return sp.expand(p * 1 + (1 - p) * (-1))


def _sigma() -> sp.Expr:
    # The standard deviation of x_i: √(E[x_i²] − μ²) = √(1 − μ²).
    return sp.sqrt(sp.factor(1 - _mu() ** 2))


def _least_squares_slope() -> sp.Expr:
    # θ_1 = f̂({1})/σ, computed exactly by creditlib's transform on the symbolic table (bit 0 = point 1).
    coefficients = p_biased_fourier([u_empty, u_1, u_2, u_12], p, exact=True)
    return sp.simplify(coefficients[1] / _sigma())


MAJORITY = [-1, -1, -1, 1, -1, 1, 1, 1]
"""Majority of three ±1 votes, indexed by bitmask (bit i set ⇔ x_i = +1)."""


def _majority_stability() -> sp.Expr:
    return sp.expand(noise_stability(p_biased_fourier(MAJORITY, sp.Rational(1, 2), exact=True), rho))


register(Exercise(
    id="nb05.1", title="The mean μ of x_i under B_p", notebook=NOTEBOOK,
    expects="a sympy expression in p (the symbol p from this notebook, 0 < p < 1).",
    verify=lambda a, expected: compare_expression(a, expected, [p], domain=UNIT),
    reference=lambda: 2 * p - 1,
    expected=_mu,
    wrong_answers=lambda: [(p, "differs from the expected one"), (1 - 2 * p, "differs from the expected one"),
                           (sp.Symbol("q"), "does not define")],
))

register(Exercise(
    id="nb05.2", title="The standard deviation σ of x_i under B_p", notebook=NOTEBOOK,
    expects="a sympy expression in p (use sp.sqrt for a square root).",
    verify=lambda a, expected: compare_expression(a, expected, [p], domain=UNIT),
    reference=lambda: 2 * sp.sqrt(p * (1 - p)),
    expected=_sigma,
    wrong_answers=lambda: [(sp.sqrt(p * (1 - p)), "differs from the expected one"),
                           (4 * p * (1 - p), "differs from the expected one"),
                           (1 - (2 * p - 1) ** 2, "differs from the expected one")],
))

register(Exercise(
    id="nb05.3", title="The least-squares datamodel coefficient of point 1 for N = 2, under B_p", notebook=NOTEBOOK,
    expects="a sympy expression in p, u_empty, u_1, u_2, u_12: θ_1 of the best fit θ_0 + θ_1 x_1 + θ_2 x_2 "
            "(x_i = ±1) in mean squared error under B_p.",
    verify=lambda a, expected: compare_expression(a, expected, [p, u_empty, u_1, u_2, u_12], domain=UNIT),
    reference=lambda: ((1 - p) * (u_1 - u_empty) + p * (u_12 - u_2)) / 2,
    expected=_least_squares_slope,
    wrong_answers=lambda: [
        ((1 - p) * (u_1 - u_empty) + p * (u_12 - u_2), "differs from the expected one"),       # the 0/1 slope
        ((u_1 - u_empty + u_12 - u_2) / 4, "differs from the expected one"),                     # p = ½ only
        ((p * (u_1 - u_empty) + (1 - p) * (u_12 - u_2)) / 2, "differs from the expected one"),   # p and 1 − p swapped
    ],
))

register(Exercise(
    id="nb05.4", title="The noise stability of the majority of three votes at p = ½", notebook=NOTEBOOK,
    expects="a polynomial in rho (the symbol rho from this notebook): E[Maj(x) Maj(x')] for ρ-correlated x, x'.",
    verify=lambda a, expected: compare_expression(a, expected, [rho], domain=UNIT),
    reference=lambda: 3 * rho / 4 + rho**3 / 4,
    expected=_majority_stability,
    wrong_answers=lambda: [(rho, "differs from the expected one"), (3 * rho / 4, "differs from the expected one"),
                           (3 * rho / 4 + rho**2 / 4, "differs from the expected one")],
))

register(Exercise(
    id="nb05.5", title="Banzhaf values of the three datasets of Problem 10.5.1", notebook=NOTEBOOK,
    expects="a list [β_A, β_B, β_C] of exact numbers (ints, fractions.Fraction or sp.Rational), or a dict.",
    verify=lambda a, expected: compare_vector(a, expected, labels=["A", "B", "C"]),
    reference=lambda: list(banzhaf_exact(dataset_pricing_game(), exact=True)),
    expected=lambda: tuple(banzhaf_exact(dataset_pricing_game(), exact=True)),
    wrong_answers=lambda: [([sp.Rational(115, 3), sp.Rational(85, 3), sp.Rational(100, 3)], "Not right yet for"),
                           ([42.5, 32.5, 37.5], "exact values"), ([50, 20, 25], "Not right yet for")],
))


def _draw_masks_and_utilities(rng: np.random.Generator) -> tuple:
    n, m = int(rng.integers(2, 7)), int(rng.integers(8, 30))
    masks = rng.random((m, n)) < 0.5
    masks[0], masks[1] = True, False                  # every player is both in and out somewhere
    return masks, rng.normal(size=m)


array_function_exercise(
    id="nb05.6", title="The maximum-sample-reuse estimator of Banzhaf values", notebook=NOTEBOOK,
    expects="a function msr_banzhaf(masks, utilities) taking a boolean (m, N) array and an (m,) array of "
            "utilities and returning an (N,) NumPy array: for each player, the mean utility of the masks that "
            "contain it minus that of the masks that do not (to a relative 1e-10).",
    reference=lambda: banzhaf_msr, draw_input=_draw_masks_and_utilities, accept_lists=False,
    wrong_answers=lambda: [
        (lambda masks, u: (masks.T @ u) / masks.sum(axis=0), "is wrong on input"),               # no "without" term
        (lambda masks, u: (masks.T @ u - (~masks).T @ u) / len(u), "is wrong on input"),          # sums, not means
        (lambda masks, u: 2 * (masks.astype(float).T @ u) / len(u), "is wrong on input"),
        (lambda masks, u: list(banzhaf_msr(masks, u)), "return an array of numbers"),
    ],
)
