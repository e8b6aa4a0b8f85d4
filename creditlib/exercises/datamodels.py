"""Exercises of notebook 05_datamodels (Section 10.3 and its harmonic analysis, Saunshi et al. 2023)."""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..datamodels import fit_datamodels, lds
from ..estimators import banzhaf_msr
from ..harmonic import noise_stability, p_biased_fourier
from ..chapter_games import dataset_pricing_game
from ..shapley import banzhaf_exact
from .checker.comparing import compare_vector
from .core import Exercise, array_function_exercise, expression_exercise, register
from .symbols import p, rho, u_1, u_12, u_2, u_empty

__all__ = ["NOTEBOOK", "UNIT", "MAJORITY"]

NOTEBOOK = "05_datamodels"
UNIT = {"p": (0, 1)}
"""B_p needs 0 < p < 1 (σ = 0 at p = 0 or 1)."""


# ---------------------------------------------------------------------------- nb05.1: a least-squares datamodel
def _least_squares_by_normal_equations(masks, outputs) -> np.ndarray:
    # θ solves XᵀX θ = Xᵀy with X = [1, x] and x_i = ±1 (present/absent); the intercept is dropped on return.
    x = np.where(masks, 1.0, -1.0)
    design = np.hstack([np.ones((len(x), 1)), x])
    theta = np.linalg.solve(design.T @ design, design.T @ outputs)
    return theta[1:].T


def _draw_masks_and_outputs(rng: np.random.Generator) -> tuple:
    n_train, n_test = int(rng.integers(2, 6)), int(rng.integers(1, 4))
    m = int(rng.integers(3 * (n_train + 1), 40))
    while True:                                         # a design of full column rank: one least-squares solution
        masks = rng.random((m, n_train)) < 0.5
        if np.linalg.matrix_rank(np.hstack([np.ones((m, 1)), masks])) == n_train + 1:
            break
    return masks, rng.normal(size=(m, n_test)) + masks @ rng.normal(size=(n_train, n_test))


def _marginal_differences(masks, outputs) -> np.ndarray:
    # Half the mean output with i minus without i, point by point: the Data-Banzhaf estimate, not the joint fit.
    with_i = (masks.T @ outputs) / masks.sum(axis=0)[:, None]
    without_i = ((~masks).T @ outputs) / (~masks).sum(axis=0)[:, None]
    return ((with_i - without_i) / 2).T


array_function_exercise(
    id="nb05.1", title="A linear datamodel fitted by least squares", notebook=NOTEBOOK,
    expects="a function least_squares_datamodel(masks, outputs): masks boolean (m, n), outputs (m, n_test); it "
            "returns an (n_test, n) NumPy array, row j = θ_1 … θ_n of the least-squares fit outputs[:, j] ≈ "
            "θ_0 + Σ_i θ_i x_i with x_i = ±1 (present/absent), to a relative 1e-8.",
    reference=lambda: _least_squares_by_normal_equations, draw_input=_draw_masks_and_outputs,
    expected=lambda: lambda masks, outputs: fit_datamodels(masks, outputs, encoding="pm1", alpha=0).coef,
    rtol=1e-8, atol=1e-10,
    wrong_answers=lambda: [
        (lambda masks, out: np.linalg.lstsq(np.hstack([np.ones((len(masks), 1)), masks * 1.0]), out,
                                            rcond=None)[0][1:].T, "is wrong on input"),         # 0/1 encoding
        (lambda masks, out: np.linalg.lstsq(np.where(masks, 1.0, -1.0), out, rcond=None)[0].T,
         "is wrong on input"),                                                                   # no intercept
        (_marginal_differences, "is wrong on input"),
        (lambda masks, out: _least_squares_by_normal_equations(masks, out).T, "is wrong on input"),  # transposed
        (lambda masks, out: [list(row) for row in _least_squares_by_normal_equations(masks, out)[:-1]],
         "is wrong on input"),                                                                   # a row short
    ],
)


# ---------------------------------------------------------------------------- nb05.2: the LDS
def _lds_by_ranks(scores, masks, outputs) -> np.ndarray:
    # Per test point: the Pearson correlation of the ranks of Σ_{i∈S_k} scores[j, i] and of outputs[k, j].
    predicted = masks.astype(np.float64) @ scores.T
    ranks = lambda a: np.argsort(np.argsort(a, axis=0), axis=0).astype(np.float64)
    a, b = ranks(predicted), ranks(outputs)
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    return (a * b).sum(axis=0) / np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))


def _draw_scores_masks_outputs(rng: np.random.Generator) -> tuple:
    n_train, n_test, m = int(rng.integers(6, 10)), int(rng.integers(1, 3)), int(rng.integers(21, 31))
    codes = rng.choice(2**n_train, size=m, replace=False)          # distinct subsets: no ties in the predictions
    masks = ((codes[:, None] >> np.arange(n_train)) & 1).astype(bool)
    signed = lambda shape: rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 2.0, size=shape)   # short to print
    return signed((n_test, n_train)), masks, signed((m, n_test))


def _pearson(scores, masks, outputs) -> np.ndarray:
    predicted = masks.astype(np.float64) @ scores.T
    return np.array([np.corrcoef(predicted[:, j], outputs[:, j])[0, 1] for j in range(outputs.shape[1])])


array_function_exercise(
    id="nb05.2", title="The linear datamodeling score (LDS) of attribution scores", notebook=NOTEBOOK,
    expects="a function linear_datamodeling_score(scores, masks, outputs) returning an (n_test,) NumPy array: "
            "entry j = the Spearman correlation over the m subsets S_k of Σ_{i in S_k} scores[j, i] and outputs[k, j].",
    reference=lambda: _lds_by_ranks, draw_input=_draw_scores_masks_outputs,
    expected=lambda: lambda scores, masks, outputs: lds(scores, masks, outputs)[1],
    wrong_answers=lambda: [
        (_pearson, "is wrong on input"),                                                   # values, not ranks
        (lambda s, masks, out: _lds_by_ranks(s, ~masks, out), "is wrong on input"),       # the points left out
        (lambda s, masks, out: np.array(_lds_by_ranks(s, masks, out).mean()), "is wrong on input"),  # the mean
    ],
)


# ---------------------------------------------------------------------------- nb05.3, nb05.4: μ and σ
def _mu() -> sp.Expr:
    # E[x_i] under B_p: +1 with probability p, −1 otherwise.
    return sp.expand(p * 1 + (1 - p) * (-1))


def _sigma() -> sp.Expr:
    # The standard deviation of x_i: √(E[x_i²] − μ²) = √(1 − μ²).
    return sp.sqrt(sp.factor(1 - _mu() ** 2))


expression_exercise(
    id="nb05.3", title="The mean μ of x_i under B_p", notebook=NOTEBOOK,
    expects="a sympy expression in p (the symbol p from this notebook, 0 < p < 1).",
    symbols=[p], domain=UNIT,
    reference=lambda: 2 * p - 1,
    expected=_mu,
    wrong_answers=lambda: [(p, "differs from the expected one"), (1 - 2 * p, "differs from the expected one"),
                           (sp.Symbol("q"), "does not define")],
)

expression_exercise(
    id="nb05.4", title="The standard deviation σ of x_i under B_p", notebook=NOTEBOOK,
    expects="a sympy expression in p (use sp.sqrt for a square root).",
    symbols=[p], domain=UNIT,
    reference=lambda: 2 * sp.sqrt(p * (1 - p)),
    expected=_sigma,
    wrong_answers=lambda: [(sp.sqrt(p * (1 - p)), "differs from the expected one"),
                           (4 * p * (1 - p), "differs from the expected one"),
                           (1 - (2 * p - 1) ** 2, "differs from the expected one")],
)


# ---------------------------------------------------------------------------- nb05.5: Fourier coefficients
def _fourier_by_definition(table, p) -> np.ndarray:
    # f̂(S) = Σ_x B_p(x) f(x) Π_{i∈S} (x_i − μ)/σ, one S at a time, over the 2^N points x
    # (bit i of the row index set ⇔ x_i = +1).
    table = np.asarray(table, dtype=np.float64)
    n = len(table).bit_length() - 1
    x = np.where((np.arange(2**n)[:, None] >> np.arange(n)) & 1, 1.0, -1.0)
    prob = np.prod(np.where(x > 0, p, 1 - p), axis=1)
    mu, sigma = 2 * p - 1, 2 * np.sqrt(p * (1 - p))
    phi = (x - mu) / sigma
    return np.array([(prob * table * np.prod(phi[:, [i for i in range(n) if S >> i & 1]], axis=1)).sum()
                     for S in range(2**n)])


def _draw_table_and_p(rng: np.random.Generator) -> tuple:
    n = int(rng.integers(1, 6))
    return rng.normal(size=2**n), float(np.round(rng.uniform(0.05, 0.95), 3))


def _fourier_with(weights: str, centred: bool, scaled: bool):
    """A slip: uniform weights instead of B_p, or characters not centred by μ, or not divided by σ."""
    def slip(table, p):
        table = np.asarray(table, dtype=np.float64)
        n = len(table).bit_length() - 1
        x = np.where((np.arange(2**n)[:, None] >> np.arange(n)) & 1, 1.0, -1.0)
        prob = np.prod(np.where(x > 0, p, 1 - p), axis=1) if weights == "bp" else np.full(2**n, 0.5**n)
        phi = (x - (2 * p - 1 if centred else 0)) / (2 * np.sqrt(p * (1 - p)) if scaled else 1)
        return np.array([(prob * table * np.prod(phi[:, [i for i in range(n) if S >> i & 1]], axis=1)).sum()
                         for S in range(2**n)])
    return slip


array_function_exercise(
    id="nb05.5", title="p-biased Fourier coefficients from their definition", notebook=NOTEBOOK,
    expects="a function fourier_coefficients(table, p): a (2^N,) table indexed by bitmask (bit i set ⇔ x_i = +1) "
            "and p in (0, 1); it returns the (2^N,) NumPy array of f̂(S) = E_{B_p}[f φ_S], entry S a bitmask "
            "(to a relative 1e-10).",
    reference=lambda: _fourier_by_definition, draw_input=_draw_table_and_p,
    expected=lambda: p_biased_fourier,
    wrong_answers=lambda: [
        (_fourier_with("uniform", True, True), "is wrong on input"),
        (_fourier_with("bp", False, False), "is wrong on input"),
        (_fourier_with("bp", True, False), "is wrong on input"),
        (lambda table, p: _fourier_by_definition(table, 1 - p), "is wrong on input"),
    ],
)


# ---------------------------------------------------------------------------- nb05.6: θ_1 for N = 2
def _least_squares_slope() -> sp.Expr:
    # θ_1 = f̂({1})/σ, computed exactly by creditlib's transform on the symbolic table (bit 0 = point 1).
    coefficients = p_biased_fourier([u_empty, u_1, u_2, u_12], p, exact=True)
    return sp.simplify(coefficients[1] / _sigma())


expression_exercise(
    id="nb05.6", title="The least-squares datamodel coefficient of point 1 for N = 2, under B_p", notebook=NOTEBOOK,
    expects="a sympy expression in p, u_empty, u_1, u_2, u_12: θ_1 of the best fit θ_0 + θ_1 x_1 + θ_2 x_2 "
            "(x_i = ±1) in mean squared error under B_p.",
    symbols=[p, u_empty, u_1, u_2, u_12], domain=UNIT,
    reference=lambda: ((1 - p) * (u_1 - u_empty) + p * (u_12 - u_2)) / 2,
    expected=_least_squares_slope,
    wrong_answers=lambda: [
        ((1 - p) * (u_1 - u_empty) + p * (u_12 - u_2), "differs from the expected one"),       # the 0/1 slope
        ((u_1 - u_empty + u_12 - u_2) / 4, "differs from the expected one"),                     # p = ½ only
        ((p * (u_1 - u_empty) + (1 - p) * (u_12 - u_2)) / 2, "differs from the expected one"),   # p and 1 − p swapped
    ],
)


# ---------------------------------------------------------------------------- nb05.7: Problem 10.5.1
register(Exercise(
    id="nb05.7", title="Banzhaf values of the three datasets of Problem 10.5.1", notebook=NOTEBOOK,
    expects="a list [β_A, β_B, β_C] of exact numbers (ints, fractions.Fraction or sp.Rational), or a dict.",
    verify=lambda a, expected: compare_vector(a, expected, labels=["A", "B", "C"]),
    reference=lambda: list(banzhaf_exact(dataset_pricing_game(), exact=True)),
    expected=lambda: tuple(banzhaf_exact(dataset_pricing_game(), exact=True)),
    wrong_answers=lambda: [([sp.Rational(115, 3), sp.Rational(85, 3), sp.Rational(100, 3)], "Not right yet for"),
                           ([42.5, 32.5, 37.5], "exact values"), ([50, 20, 25], "Not right yet for")],
))


# ---------------------------------------------------------------------------- nb05.8: maximum sample reuse
def _draw_masks_and_utilities(rng: np.random.Generator) -> tuple:
    n = 1 if rng.random() < 0.2 else int(rng.integers(2, 13))          # one player up to the notebook's 12
    m = int(rng.integers(8, 30))
    masks = rng.random((m, n)) < 0.5
    masks[0], masks[1] = True, False                  # every player is both in and out somewhere
    return masks, rng.normal(size=m)


array_function_exercise(
    id="nb05.8", title="The maximum-sample-reuse estimator of Banzhaf values", notebook=NOTEBOOK,
    expects="a function msr_banzhaf(masks, utilities) taking a boolean (m, N) array and an (m,) array of "
            "utilities and returning an (N,) NumPy array: for each player, the mean utility of the masks that "
            "contain it minus that of the masks that do not (to a relative 1e-10).",
    reference=lambda: banzhaf_msr, draw_input=_draw_masks_and_utilities,
    wrong_answers=lambda: [
        (lambda masks, u: (masks.T @ u) / masks.sum(axis=0), "is wrong on input"),               # no "without" term
        (lambda masks, u: (masks.T @ u - (~masks).T @ u) / len(u), "is wrong on input"),          # sums, not means
        (lambda masks, u: 2 * (masks.astype(float).T @ u) / len(u), "is wrong on input"),
        (lambda masks, u: [list(banzhaf_msr(masks, u)), [0.0]], "ragged"),
    ],
)


# ---------------------------------------------------------------------------- nb05.9: noise stability
MAJORITY = [-1, -1, -1, 1, -1, 1, 1, 1]
"""Majority of three ±1 votes, indexed by bitmask (bit i set ⇔ x_i = +1)."""


def _majority_stability() -> sp.Expr:
    return sp.expand(noise_stability(p_biased_fourier(MAJORITY, sp.Rational(1, 2), exact=True), rho))


expression_exercise(
    id="nb05.9", title="The noise stability of the majority of three votes at p = ½", notebook=NOTEBOOK,
    expects="a polynomial in rho (the symbol rho from this notebook): E[Maj(x) Maj(x')] for ρ-correlated x, x'.",
    # ρ is a probability and h(1) = E f² is used: ρ = 1 included. ρ = 0 is not: the shared symbol is positive
    # (notebook 02's contraction factor), so sympy itself rules out answers that differ only there.
    symbols=[rho], domain={"rho": sp.Interval.Lopen(0, 1)},
    reference=lambda: 3 * rho / 4 + rho**3 / 4,
    expected=_majority_stability,
    wrong_answers=lambda: [(rho, "differs from the expected one"), (3 * rho / 4, "differs from the expected one"),
                           (3 * rho / 4 + rho**2 / 4, "differs from the expected one")],
)
