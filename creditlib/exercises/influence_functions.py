"""Exercises of notebook 01_influence_functions (Section 10.1)."""
from __future__ import annotations

import numpy as np
import sympy as sp
import torch

from ..checking import compare_expression, compare_function, compare_names, make_allclose, read_float_array
from ..influence import function_hvp
from .core import Exercise, register
from .symbols import lam, m2, theta, x, x_z, y, y_z

NOTEBOOK = "01_influence_functions"

# nb01.1 — ridge regression with one parameter: model θ·x, loss (θx − y)²/2, objective mean + λ/2 θ².


def ridge_influence() -> sp.Expr:
    """Theorem 10.1.2 for the one-parameter ridge model, derived by sympy: −∇ℓ(z)ᵀ H⁻¹ ∇ℓ(x)."""
    t = sp.Symbol("t", real=True)
    loss = lambda a, b: (t * a - b) ** 2 / 2
    gradient = lambda a, b: sp.diff(loss(a, b), t).subs(t, theta)
    hessian = m2 + lam          # d²/dθ² of mean_i (θx_i − y_i)²/2 + λθ²/2, with m2 = mean_i x_i²
    return sp.factor(-gradient(x_z, y_z) * gradient(x, y) / hessian)


register(Exercise(
    id="nb01.1", title="The influence function of one-parameter ridge regression", notebook=NOTEBOOK,
    expects="a sympy expression in the notebook's symbols x, y (training point), xz, yz (test point), theta (θ*), "
            "m2 (the mean of x_i², positive) and lambda_ (λ > 0); a 1×1 sp.Matrix is read as its entry.",
    verify=lambda a, expected: compare_expression(a, expected, [x, y, x_z, y_z, theta, m2, lam]),
    reference=lambda: -x * x_z * (theta * x - y) * (theta * x_z - y_z) / (m2 + lam),
    expected=ridge_influence,
    wrong_answers=lambda: [
        (x * x_z * (theta * x - y) * (theta * x_z - y_z) / (m2 + lam), "differs from the expected one"),   # sign
        (-x * x_z * (theta * x - y) * (theta * x_z - y_z) / m2, "differs from the expected one"),          # no λ
        (-(theta * x - y) * (theta * x_z - y_z) / (m2 + lam), "differs from the expected one"),
        (sp.Symbol("H") * x, "does not define"),
    ],
))


# nb01.2 — the sign question -----------------------------------------------------------------
def _removal_direction() -> set:
    """Removing x is ε = −1/n in eq. (10.2), so ℓ(z) changes by about ε·I(x, z) = −I(x, z)/n: the sign of
    −I/n for I > 0, computed symbolically (not a hard-coded example)."""
    influence, n = sp.symbols("I n", positive=True)
    change = -influence / n
    return {"down" if change.is_negative else "up"}


register(Exercise(
    id="nb01.2", title="Removing a point with positive influence", notebook=NOTEBOOK,
    expects="'up' or 'down': what happens to the test loss ℓ(z) when a training point x with I(x, z) > 0 is removed.",
    verify=lambda a, expected: compare_names(
        a, expected, ["up", "down"], single=True,
        explain=lambda g: ["I(x, z) > 0 means up-weighting x raises ℓ(z); removing x is "
                           "a negative up-weighting (ε = −1/n)."] if g == {"up"} else []),
    reference=lambda: next(iter(_removal_direction())),
    expected=_removal_direction,
    wrong_answers=lambda: [("up", "negative up-weighting"), ("sideways", "is not one of")],
))


# nb01.3 — a Hessian-vector product by double backward ------------------------------------------
class RandomFunction:
    """``f(θ) = Σ a_i θ_i³ + θᵀBθ/2 + sin(c·θ)``: a smooth test function with a readable repr."""

    def __init__(self, rng: np.random.Generator, dim: int):
        self.a = torch.tensor(rng.normal(size=dim))
        B = rng.normal(size=(dim, dim))
        self.B = torch.tensor(B + B.T)
        self.c = torch.tensor(rng.normal(size=dim))

    def __call__(self, t: torch.Tensor) -> torch.Tensor:
        return (self.a * t**3).sum() + 0.5 * t @ self.B @ t + torch.sin(self.c @ t)

    def __repr__(self) -> str:
        return f"f(θ) = Σ a_i θ_i³ + θᵀBθ/2 + sin(c·θ) in {len(self.a)} dimensions"


def _draw_hvp_input(rng: np.random.Generator) -> tuple:
    dim = int(rng.integers(2, 6))
    return RandomFunction(rng, dim), torch.tensor(rng.normal(size=dim)), torch.tensor(rng.normal(size=dim))


register(Exercise(
    id="nb01.3", title="A Hessian-vector product by double backward", notebook=NOTEBOOK,
    expects="a function hvp_double_backward(f, theta, v) returning ∇²f(θ)·v as a tensor, using torch.autograd.grad "
            "twice; it must agree with creditlib to a relative 1e-8.",
    verify=lambda a, reference: compare_function(a, reference, _draw_hvp_input,
                                                 read_output=lambda got: read_float_array(got, "the returned value"),
                                                 same=make_allclose(rtol=1e-8, atol=1e-10)),
    reference=lambda: lambda f, t, v: function_hvp(f, t, v),
    expected=lambda: function_hvp,   # torch.func's first call costs ~1 s in a worker of a session that never used it
    wrong_answers=lambda: [
        (lambda f, t, v: torch.func.grad(f)(t), "is wrong on input"),                      # the gradient
        (lambda f, t, v: torch.func.grad(f)(t) * v, "is wrong on input"),
        (lambda f, t, v: torch.autograd.functional.hessian(f, t).sum(dim=0) * v, "is wrong on input"),
    ],
))
