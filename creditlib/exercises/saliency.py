"""Exercises of notebook 06_saliency (Section 10.4: gradients, integrated gradients and TCAV), numbered in the
order the notebook poses them."""
from __future__ import annotations

import numpy as np
import sympy as sp
import torch

from ..game_builders import feature_game
from ..saliency import integrated_gradients, mean_difference_cav, tcav_score, vanilla_gradient
from ..shapley import shapley_exact
from .checker.comparing import compare_vector
from .core import Exercise, array_function_exercise, expression_exercise, register
from .symbols import c_1, c_2, w_1, w_2, x_1, x_2, xb_1, xb_2

__all__ = ["NOTEBOOK", "alpha", "TanhNet", "MIN_POINT"]

NOTEBOOK = "06_saliency"
alpha = sp.Symbol("alpha")


def _ig_symbolic(F: sp.Expr, variables: list, baseline: list, i: int) -> sp.Expr:
    """IG_i by sympy: (x_i − x′_i) ∫₀¹ ∂_i F(x′ + α(x − x′)) dα, integrated symbolically."""
    path = {v: b + alpha * (v - b) for v, b in zip(variables, baseline)}
    integrand = sp.diff(F, variables[i]).subs(path, simultaneous=True)
    return sp.simplify((variables[i] - baseline[i]) * sp.integrate(integrand, (alpha, 0, 1)))


def _exact(values) -> tuple:
    """Floats that are exact small fractions (0, 1, ½ …) as sympy Rationals."""
    return tuple(sp.nsimplify(round(float(v), 9)) for v in values)


def _one_feature(f):
    """A scalar function of x[:, 0] as a two-class logit model (class 0 is f, class 1 is 0)."""
    return lambda x: torch.stack([f(x), torch.zeros(len(x), dtype=x.dtype)], 1)


def _saturation() -> tuple:
    model = _one_feature(lambda x: 1 - torch.relu(1 - x[:, 0]))
    x = torch.tensor([[2.0]], dtype=torch.float64)
    ig, _ = integrated_gradients(model, x, target=0, n_steps=1000, method="riemann_middle")
    return _exact([vanilla_gradient(model, x, target=0).item(), ig.item()])


register(Exercise(
    id="nb06.1", title="Gradient and integrated gradients of F(x) = 1 − ReLU(1 − x) at x = 2 (baseline 0)",
    notebook=NOTEBOOK, expects="a list [∂F/∂x at x = 2, IG(2)] of exact numbers.",
    verify=lambda a, expected: compare_vector(a, expected, labels=["the gradient", "IG"]),
    reference=lambda: [0, 1], expected=_saturation,
    wrong_answers=lambda: [([1, 1], "Not right yet for"), ([0, 2], "Not right yet for"),
                           ([0, 0], "Not right yet for")],
))

expression_exercise(
    "nb06.2", "IG_1 of the linear model F = w_1 x_1 + w_2 x_2 with baseline (xb_1, xb_2)", NOTEBOOK,
    "a sympy expression in x_1, x_2, xb_1, xb_2, w_1, w_2 (from creditlib.exercises.symbols).",
    [x_1, x_2, xb_1, xb_2, w_1, w_2],
    reference=lambda: w_1 * (x_1 - xb_1),
    expected=lambda: _ig_symbolic(w_1 * x_1 + w_2 * x_2, [x_1, x_2], [xb_1, xb_2], 0),
    wrong_answers=lambda: [(w_1 * x_1, "differs from the expected one"), (w_1, "differs from the expected one"),
                           (x_1 - xb_1, "differs from the expected one")],
)

expression_exercise(
    "nb06.3", "IG_1 of F = x_1 x_2 along the straight path from the baseline 0", NOTEBOOK,
    "a sympy expression in x_1, x_2.", [x_1, x_2],
    reference=lambda: x_1 * x_2 / 2,
    expected=lambda: _ig_symbolic(x_1 * x_2, [x_1, x_2], [0, 0], 0),
    wrong_answers=lambda: [(x_1 * x_2, "differs from the expected one"), (x_2, "differs from the expected one"),
                           (x_1 * x_2 / 4, "differs from the expected one")],
)

expression_exercise(
    "nb06.4", "IG_1 of the quadratic F = c_1 x_1² + c_2 x_1 x_2 from the baseline 0", NOTEBOOK,
    "a sympy expression in x_1, x_2, c_1, c_2.", [x_1, x_2, c_1, c_2],
    reference=lambda: c_1 * x_1**2 + c_2 * x_1 * x_2 / 2,
    expected=lambda: _ig_symbolic(c_1 * x_1**2 + c_2 * x_1 * x_2, [x_1, x_2], [0, 0], 0),
    wrong_answers=lambda: [(2 * c_1 * x_1**2 + c_2 * x_1 * x_2, "differs from the expected one"),   # x · gradient
                           (c_1 * x_1**2 + c_2 * x_1 * x_2, "differs from the expected one"),
                           (c_1 * x_1**2 / 2 + c_2 * x_1 * x_2 / 2, "differs from the expected one")],
)

# nb06.5 — the reader's integrated gradients ------------------------------------------------
class TanhNet(torch.nn.Module):
    """``logits = tanh(x W₁) W₂``, random float64 weights from ``seed`` (the function exercise's models)."""

    def __init__(self, d: int, n_classes: int, seed: int):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.d, self.n_classes, self.seed = d, n_classes, seed
        self.W1 = torch.randn(d, 6, generator=g, dtype=torch.float64)
        self.W2 = torch.randn(6, n_classes, generator=g, dtype=torch.float64)

    def forward(self, x):
        return torch.tanh(x @ self.W1) @ self.W2

    def __repr__(self) -> str:
        return f"TanhNet(d={self.d}, n_classes={self.n_classes}, seed={self.seed})"


def _draw_ig_problem(rng: np.random.Generator) -> tuple:
    d, batch = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    model = TanhNet(d, 3, int(rng.integers(2**31)))
    x = torch.as_tensor(rng.normal(size=(batch, d)))
    baseline = torch.zeros(batch, d, dtype=torch.float64) if rng.random() < 0.5 else torch.as_tensor(
        0.5 * rng.normal(size=(batch, d)))
    n_steps = 1 if rng.random() < 0.2 else int(rng.integers(2, 40))     # one step: the single midpoint α = ½
    return model, x, baseline, int(rng.integers(3)), n_steps


def _midpoint_ig(model, x, baseline, target, n_steps):
    return integrated_gradients(model, x, baseline, target=target, n_steps=n_steps, method="riemann_middle")[0]


def _left_sum(model, x, baseline, target, n_steps):
    return integrated_gradients(model, x, baseline, target=target, n_steps=n_steps, method="riemann_left")[0]


array_function_exercise(
    "nb06.5", "Integrated gradients by the midpoint Riemann sum", NOTEBOOK,
    "a function ig_midpoint(model, x, baseline, target, n_steps) taking a model returning logits "
    "(batch, classes), inputs and baselines of shape (batch, d), a class index and a step count, and "
    "returning a (batch, d) torch.Tensor: (x − x′) times the mean of the gradients of the target logit "
    "at x′ + α_k (x − x′), α_k = (k + ½)/n_steps (to a relative 1e-8).",
    _draw_ig_problem, lambda: _midpoint_ig, rtol=1e-8, atol=1e-10,
    wrong_answers=lambda: [
        (lambda m, x, b, t, n: vanilla_gradient(m, x, target=t) * (x - b), "is wrong on input"),        # gradient ⊙ input
        (lambda m, x, b, t, n: _midpoint_ig(m, x, b, t, n) / (x - b), "is wrong on input"),       # forgets x − x′
        (_left_sum, "is wrong on input"),
    ],
)


MIN_POINT = [1.0, 3.0]


def _min_model(x):
    return torch.minimum(x[:, 0], x[:, 1])


def _ig_of_min() -> tuple:
    ig, _ = integrated_gradients(_one_feature(_min_model), torch.tensor([MIN_POINT], dtype=torch.float64),
                                 target=0, n_steps=64, method="riemann_middle")
    return _exact(ig[0])


def _shapley_of_min() -> tuple:
    game = feature_game(lambda X: _min_model(torch.as_tensor(X)).numpy(), np.array(MIN_POINT))
    return _exact(shapley_exact(game))


register(Exercise(
    id="nb06.6", title="Integrated gradients of F = min(x_1, x_2) at (1, 3), baseline 0", notebook=NOTEBOOK,
    expects="a list [IG_1, IG_2] of exact numbers.",
    verify=lambda a, expected: compare_vector(a, expected, labels=["IG_1", "IG_2"]),
    reference=lambda: [1, 0], expected=_ig_of_min,
    wrong_answers=lambda: [([sp.Rational(1, 2), sp.Rational(1, 2)], "Not right yet for"),
                           ([1, 3], "Not right yet for"), ([0, 1], "Not right yet for")],
))

register(Exercise(
    id="nb06.7", title="Shapley values of the feature game of F = min(x_1, x_2) at (1, 3), absent = 0",
    notebook=NOTEBOOK, expects="a list [s_1, s_2] of exact numbers.",
    verify=lambda a, expected: compare_vector(a, expected, labels=["s_1", "s_2"]),
    reference=lambda: [sp.Rational(1, 2), sp.Rational(1, 2)], expected=_shapley_of_min,
    wrong_answers=lambda: [([1, 0], "Not right yet for"), ([1, 1], "Not right yet for"),
                           ([sp.Rational(1, 4), sp.Rational(3, 4)], "Not right yet for")],
))


# nb06.8 — the reader's CAV, directional derivative and TCAV score ---------------------------------
def _draw_tcav_problem(rng: np.random.Generator) -> tuple:
    d, n = int(rng.integers(2, 6)), int(rng.integers(5, 25))
    head = TanhNet(d, 3, int(rng.integers(2**31)))
    centre = rng.normal(size=d)                      # random activations are not centred: μ_C ≠ μ_C − μ_R
    random_acts = torch.as_tensor(centre + rng.normal(size=(int(rng.integers(3, 30)), d)))
    concept_acts = torch.as_tensor(centre + rng.normal(size=d) + rng.normal(size=(int(rng.integers(3, 30)), d)))
    layer_acts = torch.as_tensor(rng.normal(size=(n, d)))
    return head, layer_acts, concept_acts, random_acts, int(rng.integers(3))


def _tcav_library(head, layer_acts, concept_acts, random_acts, target):
    return tcav_score(head, layer_acts, mean_difference_cav(concept_acts, random_acts), target=target)


def _tcav_from_scratch(head, layer_acts, concept_acts, random_acts, target):
    v = concept_acts.mean(0) - random_acts.mean(0)
    v = v / v.norm()
    S = vanilla_gradient(head, layer_acts, target=target) @ v
    return (S > 0).double().mean()


def _tcav_with(cav, score):
    """A TCAV score from a CAV rule ``cav(C, R)`` and a per-example score ``score(head, acts, target)``."""
    def tcav(head, layer_acts, concept_acts, random_acts, target):
        return (score(head, layer_acts, target) @ cav(concept_acts, random_acts) > 0).double().mean()
    return tcav


def _unit(v):
    return v / v.norm()


def _logit_gradient(head, acts, target):
    return vanilla_gradient(head, acts, target=target)


def _loss_gradient(head, acts, target):            # tensorflow/tcav's convention: the opposite sign
    return vanilla_gradient(lambda a: -torch.log_softmax(head(a), -1), acts, target=target)


def _probability_gradient(head, acts, target):
    return vanilla_gradient(lambda a: torch.softmax(head(a), -1), acts, target=target)


array_function_exercise(
    "nb06.8", "A CAV, its directional derivative and the TCAV score", NOTEBOOK,
    "a function tcav_by_hand(head, layer_acts, concept_acts, random_acts, target) taking a head mapping "
    "layer-l activations (n, d) to logits (n, classes), the activations of the inputs scored (n, d), concept "
    "and random activations (m, d) and (m′, d), and a class index, and returning a 0-d torch.Tensor: the "
    "fraction of the scored inputs whose target logit has a positive derivative along the CAV "
    "v = (μ_C − μ_R)/‖μ_C − μ_R‖ (μ_C, μ_R the mean concept and random activations).",
    _draw_tcav_problem, lambda: _tcav_from_scratch, expected=lambda: _tcav_library,
    wrong_answers=lambda: [
        (_tcav_with(lambda C, R: _unit(R.mean(0) - C.mean(0)), _logit_gradient), "is wrong on input"),   # CAV reversed
        (_tcav_with(lambda C, R: _unit(C.mean(0)), _logit_gradient), "is wrong on input"),     # random mean ignored
        (_tcav_with(lambda C, R: _unit(C.mean(0) - R.mean(0)), _loss_gradient), "is wrong on input"),
        (_tcav_with(lambda C, R: _unit(C.mean(0) - R.mean(0)), _probability_gradient), "is wrong on input"),
        (lambda *args: str(float(_tcav_from_scratch(*args))), "Strings are never evaluated"),
    ],
)
