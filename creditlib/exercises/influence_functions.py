"""Exercises of notebook 01_influence_functions (Section 10.1)."""
from __future__ import annotations

import numpy as np
import sympy as sp
import torch

from ..influence import function_hvp, influence_matrix
from .checker.comparing import compare_names
from .checker.function_answers import compare_function, make_allclose, read_values
from .core import Exercise, expression_exercise, register
from .feedback import compare_function_diagnosed
from .symbols import I_bar, I_x, lam, m2, n_train, theta, x, x_z, y, y_z

__all__ = ["NOTEBOOK", "ridge_influence", "RandomFunction", "logistic_influence_reference"]

NOTEBOOK = "01_influence_functions"

# nb01.1 — ridge regression with one parameter: model θ·x, loss (θx − y)²/2, objective mean + λ/2 θ².


def ridge_influence() -> sp.Expr:
    """Theorem 10.1.2 for the one-parameter ridge model, derived by sympy: −∇ℓ(z)ᵀ H⁻¹ ∇ℓ(x)."""
    t = sp.Symbol("t", real=True)
    loss = lambda a, b: (t * a - b) ** 2 / 2
    gradient = lambda a, b: sp.diff(loss(a, b), t).subs(t, theta)
    hessian = m2 + lam          # d²/dθ² of mean_i (θx_i − y_i)²/2 + λθ²/2, with m2 = mean_i x_i²
    return sp.factor(-gradient(x_z, y_z) * gradient(x, y) / hessian)


expression_exercise(
    id="nb01.1", title="The influence function of one-parameter ridge regression", notebook=NOTEBOOK,
    expects="a sympy expression in the notebook's symbols x, y (training point), xz, yz (test point), theta (θ*), "
            "m2 (the mean of x_i², positive) and lambda_ (λ > 0); a 1×1 sp.Matrix is read as its entry.",
    symbols=[x, y, x_z, y_z, theta, m2, lam],        # any real points and θ; m2 > 0 and λ > 0 by their assumptions
    reference=lambda: -x * x_z * (theta * x - y) * (theta * x_z - y_z) / (m2 + lam),
    expected=ridge_influence,
    wrong_answers=lambda: [
        (x * x_z * (theta * x - y) * (theta * x_z - y_z) / (m2 + lam), "differs from the expected one"),   # sign
        (-x * x_z * (theta * x - y) * (theta * x_z - y_z) / m2, "differs from the expected one"),          # no λ
        (-(theta * x - y) * (theta * x_z - y_z) / (m2 + lam), "differs from the expected one"),
        (sp.Symbol("H") * x, "does not define"),
    ],
)


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


# nb01.3 — the counterfactual leave_one_out measures ---------------------------------------------
expression_exercise(
    id="nb01.3", title="The first-order change that leave-one-out retraining measures", notebook=NOTEBOOK,
    expects="a sympy expression in I_x (= I(x, z)), I_bar (the mean of I(x_i, z) over the training set) and "
            "n_train (n): the first-order change in ℓ(z) when the model is retrained on the mean loss of the "
            "other n − 1 points with the same weight decay.",
    symbols=[I_x, I_bar, n_train],
    domain={"n_train": (2, None)},          # n points, and n − 1 ≥ 1 left to retrain on
    reference=lambda: -(I_x - I_bar) / n_train,
    expected=lambda: (I_bar - I_x) / n_train,
    wrong_answers=lambda: [(-I_x / n_train, "differs from the expected one"),
                           (-(I_x + I_bar) / n_train, "differs from the expected one"),
                           ((I_x - I_bar) / n_train, "differs from the expected one"),
                           (-(I_x - I_bar) / (n_train - 1), "differs from the expected one")],
)


# nb01.5 — a Hessian-vector product by double backward ------------------------------------------
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
    id="nb01.5", title="A Hessian-vector product by double backward", notebook=NOTEBOOK,
    expects="a function hvp_double_backward(f, theta, v) returning ∇²f(θ)·v as a tensor, using torch.autograd.grad "
            "twice; it must agree with creditlib to a relative 1e-8.",
    verify=lambda a, reference: compare_function(a, reference, _draw_hvp_input, read_output=read_values,
                                                 same=make_allclose(rtol=1e-8, atol=1e-10)),
    reference=lambda: lambda f, t, v: function_hvp(f, t, v),
    expected=lambda: function_hvp,   # torch.func's first call costs ~1 s in a worker of a session that never used it
    wrong_answers=lambda: [
        (lambda f, t, v: torch.func.grad(f)(t), "is wrong on input"),                      # the gradient
        (lambda f, t, v: torch.func.grad(f)(t) * v, "is wrong on input"),
        (lambda f, t, v: torch.autograd.functional.hessian(f, t).sum(dim=0) * v, "is wrong on input"),
    ],
))


# nb01.4 — influence of every training point, logistic regression, dense Hessian --------------------
def logistic_influence_reference(X: torch.Tensor, y: torch.Tensor, theta: torch.Tensor, x_z: torch.Tensor,
                                 y_z: torch.Tensor, weight_decay: float, *, hessian_scale: float = 1.0) -> torch.Tensor:
    """Reference for nb01.4: ``I(x_i, z)`` for every i, by :func:`creditlib.influence.influence_matrix`.

    The model is ``torch.nn.Linear(d, 1, bias=False)`` with weights ``theta`` and the loss
    binary cross-entropy on the logit ``θ·x``; H is the dense Hessian of
    ``mean_i ℓ_i + weight_decay/2 ‖θ‖²`` (``method="exact"``). ``hessian_scale`` only
    serves the checker's diagnosis of a Hessian of the summed loss.

    Parameters
    ----------
    X : torch.Tensor
        Training inputs, shape ``(n, d)``.
    y : torch.Tensor
        Labels 0/1, shape ``(n,)``.
    theta : torch.Tensor
        The trained weights, shape ``(d,)``.
    x_z, y_z : torch.Tensor
        The test point, shapes ``(d,)`` and ``()``.
    weight_decay : float
        λ of the objective.
    hessian_scale : float, default=1.0
        1 for the reference; other values build the diagnosed slip.

    Returns
    -------
    torch.Tensor
        ``I(x_i, z)`` for i = 1..n, shape ``(n,)``.
    """
    model = torch.nn.Linear(X.shape[1], 1, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(theta.reshape(1, -1))
    bce = lambda out, t: torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], t, reduction="none")
    if hessian_scale != 1.0:          # H of the sum: n·H_data + λI, the slip of forgetting the 1/n
        n = len(y)
        return logistic_influence_reference(X, y, theta, x_z, y_z, weight_decay / n) / n
    return influence_matrix(model, bce, X, y, x_z.reshape(1, -1), y_z.reshape(1), weight_decay=weight_decay,
                            method="exact")[:, 0]


def _draw_logistic_problem(rng: np.random.Generator) -> tuple:
    d = int(rng.integers(2, 5))
    n = int(rng.integers(d + 2, 10))                  # n > d: the Hessian is invertible even without weight decay
    X = torch.tensor(rng.normal(size=(n, d)))
    y = torch.tensor((rng.random(n) < 0.5).astype(np.float64))
    theta = torch.tensor(rng.normal(size=d))
    x_z, y_z = torch.tensor(rng.normal(size=d)), torch.tensor(float(rng.random() < 0.5))
    return X, y, theta, x_z, y_z, float(np.round(rng.uniform(0.05, 1.0), 2))


_LOGISTIC_SLIPS = [
    (lambda X, y, t, xz, yz, wd: -logistic_influence_reference(X, y, t, xz, yz, wd),
     "Your values have the opposite sign: Theorem 10.1.2 has a minus sign in front."),
    (lambda X, y, t, xz, yz, wd: logistic_influence_reference(X, y, t, xz, yz, wd, hessian_scale=len(y)),
     "H should be the Hessian of the *mean* loss (1/n Σ_i), not of the sum."),
    (lambda X, y, t, xz, yz, wd: logistic_influence_reference(X, y, t, xz, yz, 0.0),
     "The weight-decay term is missing from H: the objective's Hessian includes weight_decay·I."),
]

register(Exercise(
    id="nb01.4", title="Influence of every training point on a test point (logistic regression, dense Hessian)",
    notebook=NOTEBOOK,
    expects="a function logistic_influence(X, y, theta, x_z, y_z, weight_decay) taking X (n, d), y (n,) in {0, 1}, "
            "theta (d,), x_z (d,), a 0-dimensional y_z and a float, and returning an (n,) torch.Tensor: "
            "I(x_i, z) of Theorem 10.1.2 for the model σ(θ·x) with binary cross-entropy and the dense Hessian of "
            "mean_i ℓ_i + weight_decay/2 ‖θ‖² (to a relative 1e-8).",
    verify=lambda a, reference: compare_function_diagnosed(
        a, reference, _draw_logistic_problem, read_output=read_values,
        same=make_allclose(rtol=1e-8, atol=1e-12), diagnoses=_LOGISTIC_SLIPS,
        otherwise="Check ∇ℓ(x, θ) = (σ(θ·x) − y)·x, H = (1/n) Σ_i σ_i(1 − σ_i) x_i x_iᵀ + weight_decay·I, and the "
                  "order of the product ∇ℓ(z)ᵀ H⁻¹ ∇ℓ(x_i)."),
    reference=lambda: logistic_influence_reference,
    expected=lambda: logistic_influence_reference,
    wrong_answers=lambda: [(slip, hint) for slip, hint in _LOGISTIC_SLIPS] + [
        (lambda X, y, t, xz, yz, wd: -(X @ xz) * (torch.sigmoid(X @ t) - y) * (torch.sigmoid(xz @ t) - yz),
         "Check ∇ℓ(x, θ)"),                                                     # H⁻¹ left out (H = I)
        (lambda X, y, t, xz, yz, wd: [logistic_influence_reference(X, y, t, xz, yz, wd), None],
         "is None"),
    ],
))
