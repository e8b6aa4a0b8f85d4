"""Exercises of notebook 02_neumann_series: Problems 10.1.3 and 10.1.4 (with the corrected bound)."""
from __future__ import annotations

import sympy as sp

from ..checking import compare_expression, compare_vector
from .core import Exercise, register
from .symbols import eps, i, lam, r, rho

NOTEBOOK = "02_neumann_series"


def scalar_series() -> sp.Expr:
    """Σ_{i≥0} (1 − λ)^i where it converges (sympy's summation, first branch of its Piecewise)."""
    return sp.simplify(sp.summation((1 - lam) ** i, (i, 0, sp.oo)).args[0][0])


def convergence_interval() -> list:
    """The λ with |1 − λ| < 1, as [lower, upper]."""
    lam_real = sp.Symbol("lambda", real=True)
    interval = sp.solve_univariate_inequality(sp.Abs(1 - lam_real) < 1, lam_real, relational=False)
    return [interval.start, interval.end]


def truncation_error() -> sp.Expr:
    """1/λ − S_r(λ) with S_r = Σ_{i=0}^{r} (1 − λ)^i."""
    partial = sp.summation((1 - lam) ** i, (i, 0, r))
    partial = partial.args[1][0] if isinstance(partial, sp.Piecewise) else partial   # the λ ≠ 0 branch
    return sp.simplify(1 / lam - partial)


def terms_needed() -> sp.Expr:
    """The r at which the relative error bound ρ^{r+1} equals ε."""
    terms = sp.Symbol("r", positive=True)
    return sp.solve(sp.Eq(rho ** (terms + 1), eps), terms)[0]


register(Exercise(
    id="10.1.3a", title="The scalar geometric series behind Problem 10.1.3", notebook=NOTEBOOK,
    expects="a sympy expression in lam (the symbol lambda): the value of Σ_{i≥0} (1 − λ)^i where it converges.",
    verify=lambda a, expected: compare_expression(a, expected, [lam], domain={"lambda": (0, 2)}),
    reference=lambda: 1 / lam,
    expected=scalar_series,
    wrong_answers=lambda: [(1 / (1 - lam), "at lambda ="), (lam, "differs"), (sp.Symbol("x"), "does not define")],
))

register(Exercise(
    id="10.1.3b", title="Where the series converges", notebook=NOTEBOOK,
    expects="a list [lower, upper] of exact numbers: the open interval of eigenvalues λ for which Σ (1 − λ)^i "
            "converges.",
    verify=lambda a, expected: compare_vector(a, expected, labels=["lower end", "upper end"]),
    reference=convergence_interval,
    expected=convergence_interval,
    wrong_answers=lambda: [([0, 1], "upper end"), ([-1, 1], "Not right yet for"), ([0, 2, 4], "expected 2")],
))

register(Exercise(
    id="10.1.4a", title="The error of the truncated series, for one eigenvalue", notebook=NOTEBOOK,
    expects="a sympy expression in lam and r (an integer ≥ 0): 1/λ − Σ_{i=0}^{r} (1 − λ)^i.",
    verify=lambda a, expected: compare_expression(a, expected, [lam, r], domain={"lambda": (0, 2), "r": (0, 60)}),
    reference=lambda: (1 - lam) ** (r + 1) / lam,
    expected=truncation_error,
    wrong_answers=lambda: [((1 - lam) ** r / lam, "differs"), ((1 - lam) ** (r + 1), "differs"),
                           (lam ** -1 * (1 - lam) ** (r + 2), "differs")],
))

register(Exercise(
    id="10.1.4b", title="How many terms for a (1 + ε) approximation", notebook=NOTEBOOK,
    expects="a sympy expression in epsilon and rho (both in (0, 1)): the r at which the relative error bound "
            "ρ^(r+1) reaches ε.",
    verify=lambda a, expected: compare_expression(a, expected, [eps, rho],
                                                  domain={"epsilon": (0, 1), "rho": (0, 1)}),
    reference=lambda: sp.log(1 / eps) / sp.log(1 / rho) - 1,
    expected=terms_needed,
    wrong_answers=lambda: [(sp.log(1 / eps) / sp.log(1 / rho), "differs"), (sp.log(eps) / sp.log(rho) + 1, "differs"),
                           (1 / (eps * (1 - rho)), "differs")],
))
