"""Exercises of notebook 02_neumann_series: Problems 10.1.3 and 10.1.4 (with the corrected bound)."""
from __future__ import annotations

import warnings

import numpy as np
import sympy as sp
import torch

from ..solvers import solve_neumann
from ..testing import matrix_with_spectrum
from ..validation import ConvergenceWarning
from .checker.comparing import compare_vector
from .checker.function_answers import make_allclose, read_values
from .feedback import compare_function_diagnosed
from .core import Exercise, expression_exercise, register
from .symbols import eps, i, lam, r, rho

__all__ = ["NOTEBOOK", "scalar_series", "convergence_interval", "truncation_error", "terms_needed",
           "SymmetricOperator", "neumann_partial_sum_reference"]

NOTEBOOK = "02_neumann_series"


def scalar_series() -> sp.Expr:
    """Σ_{i≥0} (1 − λ)^i where it converges (sympy's summation, first branch of its Piecewise)."""
    return sp.simplify(sp.summation((1 - lam) ** i, (i, 0, sp.oo)).args[0][0])


def convergence_interval() -> list:
    """The λ with ``|1 − λ| < 1``, as [lower, upper]."""
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


expression_exercise(
    id="10.1.3a", title="The scalar geometric series behind Problem 10.1.3", notebook=NOTEBOOK,
    expects="a sympy expression in lam (the symbol lambda): the value of Σ_{i≥0} (1 − λ)^i where it converges.",
    symbols=[lam], domain={"lambda": (0, 2)},          # where the series converges (10.1.3b)
    reference=lambda: 1 / lam,
    expected=scalar_series,
    wrong_answers=lambda: [(1 / (1 - lam), "at lambda ="), (lam, "differs"), (sp.Symbol("x"), "does not define")],
)

register(Exercise(
    id="10.1.3b", title="Where the series converges", notebook=NOTEBOOK,
    expects="a list [lower, upper] of exact numbers: the open interval of eigenvalues λ for which Σ (1 − λ)^i "
            "converges.",
    verify=lambda a, expected: compare_vector(a, expected, labels=["lower end", "upper end"]),
    reference=convergence_interval,
    expected=convergence_interval,
    wrong_answers=lambda: [([0, 1], "upper end"), ([-1, 1], "Not right yet for"), ([0, 2, 4], "expected 2")],
))

expression_exercise(
    id="10.1.4a", title="The error of the truncated series, for one eigenvalue", notebook=NOTEBOOK,
    expects="a sympy expression in lam and r (an integer ≥ 0): 1/λ − Σ_{i=0}^{r} (1 − λ)^i.",
    symbols=[lam, r], domain={"lambda": (0, 2), "r": (0, 60)},     # r ≥ 0 terms; 60 keeps (1 − λ)^(r+1) small
    reference=lambda: (1 - lam) ** (r + 1) / lam,
    expected=truncation_error,
    wrong_answers=lambda: [((1 - lam) ** r / lam, "differs"), ((1 - lam) ** (r + 1), "differs"),
                           (lam ** -1 * (1 - lam) ** (r + 2), "differs")],
)

expression_exercise(
    id="10.1.4b", title="How many terms for a (1 + ε) approximation", notebook=NOTEBOOK,
    expects="a sympy expression in epsilon and rho (both in (0, 1)): the r at which the relative error bound "
            "ρ^(r+1) reaches ε.",
    symbols=[eps, rho], domain={"epsilon": (0, 1), "rho": (0, 1)},
    reference=lambda: sp.log(1 / eps) / sp.log(1 / rho) - 1,
    expected=terms_needed,
    wrong_answers=lambda: [(sp.log(1 / eps) / sp.log(1 / rho), "differs"), (sp.log(eps) / sp.log(rho) + 1, "differs"),
                           (1 / (eps * (1 - rho)), "differs")],
)


# nb02.1 — the truncated Neumann series applied to a vector, from matrix-vector products only ---------------------
class SymmetricOperator:
    """``u ↦ A u`` for a symmetric A with eigenvalues in (0, 2), with a readable repr (the reader sees only products)."""

    def __init__(self, A: torch.Tensor):
        self.A = A

    def __call__(self, u: torch.Tensor) -> torch.Tensor:
        return self.A @ u

    def __repr__(self) -> str:
        eigenvalues = torch.linalg.eigvalsh(self.A)
        return (f"matvec(u) = A @ u for a symmetric {len(self.A)}×{len(self.A)} A with eigenvalues from "
                f"{float(eigenvalues[0]):.3g} to {float(eigenvalues[-1]):.3g}")


def neumann_partial_sum_reference(matvec, v: torch.Tensor, r: int) -> torch.Tensor:
    """Reference for nb02.1: ``S_r v = Σ_{i=0}^{r} (I − A)^i v`` by :func:`creditlib.solvers.solve_neumann`.

    With ``scale=1`` the solver's iterate after k terms is ``S_k v``; it is asked for exactly ``r``
    terms (its warning that the tolerance was not reached is expected and silenced).

    Parameters
    ----------
    matvec : callable
        ``v ↦ A v`` for a symmetric A with eigenvalues in (0, 2).
    v : torch.Tensor
        Shape ``(d,)``.
    r : int
        The last power, ``r ≥ 0``.

    Returns
    -------
    torch.Tensor
        ``S_r v``, shape ``(d,)``.
    """
    if r == 0:
        return v.clone()
    partial = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = solve_neumann(matvec, v, scale=1.0, tol=1e-300, max_iter=r, blowup=np.inf,
                               callback=lambda k, x: partial.__setitem__(k, x))
    # The solver stops early only when the residual is exactly 0: S_k v is then A⁻¹v to round-off for all k ≥ its stop.
    return partial.get(r, result.x)


def _draw_neumann_problem(rng: np.random.Generator) -> tuple:
    # r = 0 (S_0 v = v) in a quarter of the draws: an off-by-one at r = 0 is caught with probability 1 − 0.75^20.
    dim = int(rng.integers(2, 7))
    A = matrix_with_spectrum(rng.uniform(0.05, 1.95, size=dim), seed=int(rng.integers(2**31)))
    r = 0 if rng.random() < 0.25 else int(rng.integers(1, 25))
    return SymmetricOperator(A), torch.tensor(rng.normal(size=dim)), r


def _partial_sum(matvec, v: torch.Tensor, r: int) -> torch.Tensor:
    """``S_r v``, with the empty sum ``S_{-1} v = 0`` (for the slips below at r = 0)."""
    return torch.zeros_like(v) if r < 0 else neumann_partial_sum_reference(matvec, v, r)


_NEUMANN_SLIPS = [
    (lambda A, v, r: _partial_sum(A, v, r - 1),
     "One term short: the sum runs from i = 0 to r, that is r + 1 terms (the chapter's \"first r terms\" is "
     "ambiguous; here S_0 v = v)."),
    (lambda A, v, r: neumann_partial_sum_reference(A, v, r + 1), "One term too many: the sum stops at i = r."),
    (lambda A, v, r: _partial_sum(A, v, r) - _partial_sum(A, v, r - 1),
     "You returned only the last term (I − A)^r v, not the partial sum."),
]

register(Exercise(
    id="nb02.1", title="The truncated Neumann series applied to a vector", notebook=NOTEBOOK,
    expects="a function neumann_series(matvec, v, r) taking a function matvec(u) = A u, a vector v of shape (p,) "
            "and an integer r ≥ 0, and returning S_r v = Σ_{i=0}^{r} (I − A)^i v as a tensor of shape (p,), "
            "using r products with A (to a relative 1e-9).",
    verify=lambda a, reference: compare_function_diagnosed(
        a, reference, _draw_neumann_problem, read_output=read_values,
        same=make_allclose(rtol=1e-9, atol=1e-12), diagnoses=_NEUMANN_SLIPS,
        otherwise="Each term is the previous one times (I − A): term ← term − matvec(term)."),
    reference=lambda: neumann_partial_sum_reference,
    expected=lambda: neumann_partial_sum_reference,
    wrong_answers=lambda: [(slip, hint.split(":")[0]) for slip, hint in _NEUMANN_SLIPS] + [
        (lambda A, v, r: sum(torch.linalg.matrix_power(A.A, i) @ v for i in range(r + 1)), "term ← term"),  # Σ A^i v
        (lambda A, v, r: list(v), "is wrong on input"),                   # v itself (a list of 0-d tensors)
    ],
))
