"""Every registered exercise against answers worked out by hand (typed in, independent of creditlib's
expected-value code), in several forms; and wrong and invalid answers with their exact status.

Every test judges in the test's process (``judged_in_process``): what they test is each exercise's verifier.
"""
from fractions import Fraction
from itertools import combinations, permutations
from math import factorial

import numpy as np
import pytest
import sympy as sp
import torch
from oracles import neumann_partial_sum

from creditlib.exercises import check, list_exercises
from creditlib.exercises.checker.verdicts import CORRECT, INCORRECT, INVALID
from creditlib.exercises.symbols import p as p5, rho as rho5, u_1, u_12, u_2, u_empty
from creditlib.exercises.symbols import lam as lam1, m2, theta, x, x_z, y, y_z
from creditlib.exercises.symbols import eps, lam, r, rho
from creditlib.exercises.symbols import B, N, U_N, U_empty, k, t
from creditlib.exercises.symbols import u_A, u_AB, u_B
from creditlib.exercises.symbols import I_bar, I_x, n_train
from creditlib.exercises.symbols import c_1, c_2, w_1, x_1, x_2, xb_1

pytestmark = pytest.mark.usefixtures("judged_in_process")

R = sp.Rational
def vector_forms(values, labels):
    """A list of exact numbers as list, tuple, Fractions, object array, column Matrix, dict, tensor (ints)."""
    forms = [list(values), tuple(values), [Fraction(int(R(v).p), int(R(v).q)) for v in values],
             np.array([R(v) for v in values], dtype=object), sp.Matrix([R(v) for v in values]),
             dict(zip(labels, values)), {label.lower(): v for label, v in zip(labels, values)}]
    if all(R(v).q == 1 for v in values):
        forms += [np.array([int(v) for v in values]), torch.tensor([int(v) for v in values])]
    return forms


def hvp_by_hand(f, t, v):
    """∇²f(θ)·v for f(θ) = Σ a_i θ_i³ + θᵀBθ/2 + sin(c·θ): (diag(6 a θ) + B − sin(c·θ) c cᵀ) v."""
    return 6 * f.a * t * v + f.B @ v - torch.sin(f.c @ t) * f.c * (f.c @ v)


def msr_by_hand(masks, u):
    """Mean utility with each player minus without it, one player at a time."""
    return np.array([u[masks[:, i]].mean() - u[~masks[:, i]].mean() for i in range(masks.shape[1])])


def datamodel_by_lstsq(masks, out):
    """Least squares by numpy.linalg.lstsq on the design [1, 2·mask − 1]; the intercept column dropped."""
    design = np.column_stack([np.ones(len(masks))] + [2.0 * masks[:, i] - 1 for i in range(masks.shape[1])])
    return np.linalg.lstsq(design, out, rcond=None)[0][1:].T


def lds_by_scipy(scores, masks, out):
    """scipy's Spearman correlation per test point, of Σ over the points present against the outputs."""
    from scipy.stats import spearmanr
    return np.array([spearmanr([sum(scores[j, i] for i in np.flatnonzero(row)) for row in masks], out[:, j]).statistic
                     for j in range(out.shape[1])])


def fourier_by_loops(table, p):
    """f̂(S) = Σ_x B_p(x) f(x) Π_{i∈S} (x_i − (2p − 1))/(2√(p(1−p))), with itertools over x ∈ {±1}^N."""
    from itertools import product
    n = len(table).bit_length() - 1
    out = np.zeros(len(table))
    for point in product([-1.0, 1.0], repeat=n):                      # point[i] is coordinate i
        m = sum(1 << i for i in range(n) if point[i] > 0)
        weight = np.prod([p if v > 0 else 1 - p for v in point])
        for S in range(len(table)):
            phi = np.prod([(point[i] - (2 * p - 1)) / (2 * np.sqrt(p * (1 - p))) for i in range(n) if S >> i & 1])
            out[S] += weight * table[m] * phi
    return out


def two_player_by_hand(e, a, b, ab):
    return (a - e + ab - b) / 2, (b - e + ab - a) / 2


def logistic_influence_by_hand(X, y, t, xz, yz, wd):
    """-∇ℓ(z)ᵀ H⁻¹ ∇ℓ(x_i), ∇ℓ = (σ(θ·x) − y) x, H = (1/n) Σ σ(1 − σ) x xᵀ + wd·I, by a loop over points."""
    n, d = X.shape
    H = wd * torch.eye(d, dtype=X.dtype)
    for i in range(n):
        s = torch.sigmoid(X[i] @ t)
        H = H + s * (1 - s) * torch.outer(X[i], X[i]) / n
    g_z = (torch.sigmoid(xz @ t) - yz) * xz
    h = torch.linalg.solve(H, g_z)
    return torch.stack([-(torch.sigmoid(X[i] @ t) - y[i]) * (X[i] @ h) for i in range(n)])


def code_of(players):
    return sum(1 << i for i in players)


def shapley_by_orders(values):
    """Average marginal gain over all N! orders (itertools), not eq. (10.12)'s subset weights."""
    n = len(values).bit_length() - 1
    total = np.zeros(n)
    for order in permutations(range(n)):
        for j, i in enumerate(order):
            total[i] += values[code_of(order[:j + 1])] - values[code_of(order[:j])]
    return total / factorial(n)


def dividends_by_hand(values):
    """Möbius inversion by recursion: c_T = U(T) − Σ_{S ⊊ T} c_S, subsets listed with itertools."""
    n = len(values).bit_length() - 1
    c = np.zeros(len(values))
    for size in range(n + 1):
        for T in combinations(range(n), size):
            c[code_of(T)] = values[code_of(T)] - sum(c[code_of(S)] for s in range(size) for S in combinations(T, s))
    return c


def permutation_estimate_by_hand(values, orders):
    total = np.zeros(orders.shape[1])
    for order in orders:
        for j, i in enumerate(order):
            total[i] += values[code_of(order[:j + 1])] - values[code_of(order[:j])]
    return total / len(orders)


def paired_estimate_by_hand(values, orders):
    """Each order and its reverse, each player's gain along both, averaged over the 2m walks."""
    return (permutation_estimate_by_hand(values, orders) + permutation_estimate_by_hand(values, orders[:, ::-1])) / 2


def paired_estimate_as_one_walk_list(values, orders):
    """The same, by walking the list of 2m orders once."""
    walks = [list(o) for o in orders] + [list(o)[::-1] for o in orders]
    return [sum(values[code_of(w[:w.index(i) + 1])] - values[code_of(w[:w.index(i)])] for w in walks) / len(walks)
            for i in range(orders.shape[1])]


def difference_estimate_by_hand(values, subsets):
    """D_i = Σ_k mean over draws of 1(i ∉ S)/(N − k − 1) · (U(S ∪ i) − mean_{j ∉ S} U(S ∪ j))."""
    n = len(subsets) + 1
    D = np.zeros(n)
    for size, draws in enumerate(subsets):
        for row in draws:
            inside = [i for i in range(n) if row[i]]
            outside = [i for i in range(n) if not row[i]]
            v = {i: values[code_of(inside + [i])] for i in outside}
            v_bar = sum(v.values()) / len(outside)
            for i in outside:
                D[i] += (v[i] - v_bar) / (n - size - 1) / len(draws)
    return D


def ig_midpoint_by_hand(model, x, baseline, target, n_steps):
    """(x − x′) · (1/n) Σ_k ∇F_target(x′ + (k + ½)/n (x − x′)), gradients by autograd.grad one step at a time."""
    total = torch.zeros_like(x)
    for step in range(n_steps):
        point = (baseline + (step + 0.5) / n_steps * (x - baseline)).detach().requires_grad_(True)
        total = total + torch.autograd.grad(model(point)[:, target].sum(), point)[0]
    return (x - baseline) * total / n_steps


def tcav_by_hand(head, layer_acts, concept_acts, random_acts, target):
    """Fraction of inputs whose target logit rises along v = (μ_C − μ_R)/‖·‖, by central differences, a loop."""
    C, Rnd = concept_acts.numpy(), random_acts.numpy()
    v = np.array([C[:, j].sum() / len(C) - Rnd[:, j].sum() / len(Rnd) for j in range(C.shape[1])])
    v = torch.as_tensor(v / np.sqrt((v**2).sum()))
    eps, positive = 1e-6, 0
    for a in layer_acts:
        up, down = head((a + eps * v)[None])[0, target], head((a - eps * v)[None])[0, target]
        positive += int((up - down) / (2 * eps) > 0)
    return torch.tensor(positive / len(layer_acts), dtype=torch.float64)


def loo_by_hand(table):
    n = len(table).bit_length() - 1
    everyone = code_of(range(n))
    return np.array([table[everyone] - table[code_of([j for j in range(n) if j != i])] for i in range(n)])


def weighted_banzhaf_by_hand(table, q):
    """Σ over sizes and subsets S of the others (itertools) of q^|S| (1 − q)^(N−1−|S|) (U(S ∪ i) − U(S))."""
    n = len(table).bit_length() - 1
    values = np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for size in range(n):
            for S in combinations(others, size):
                values[i] += q**size * (1 - q) ** (n - 1 - size) * (table[code_of(S) + (1 << i)] - table[code_of(S)])
    return values


def weighted_banzhaf_over_all_subsets(table, q):
    """E over S ~ B_q on all of [N] (i's own coin included) of U(S ∪ i) − U(S ∖ i): i's coin does not matter."""
    n = len(table).bit_length() - 1
    values = np.zeros(n)
    for m in range(len(table)):
        size = bin(m).count("1")
        for i in range(n):
            values[i] += q**size * (1 - q) ** (n - size) * (table[m | 1 << i] - table[m & ~(1 << i)])
    return values


HAND = {   # exercise id -> list of correct answers in several forms
    "nb00.1": vector_forms([R(115, 2), R(65, 2)], ["A", "B"]),
    "nb00.2": [(u_A + u_AB - u_B) / 2, u_A / 2 - u_B / 2 + u_AB / 2, R(1, 2) * (u_A - (u_B - u_AB)),
               sp.Matrix([[(u_A + u_AB - u_B) / 2]]), sp.expand((u_A + u_AB - u_B) * (u_A + u_B)) / (2 * (u_A + u_B))],
    "nb00.3": [two_player_by_hand, lambda e, a, b, ab: [(a + ab - b - e) / 2, (b + ab - a - e) / 2]],
    "nb01.1": [-x * x_z * (theta * x - y) * (theta * x_z - y_z) / (m2 + lam1),
               sp.expand(-x * x_z * (theta * x - y) * (theta * x_z - y_z)) / (lam1 + m2),
               sp.Matrix([[-x_z * (theta * x_z - y_z)]]) * sp.Matrix([[x * (theta * x - y) / (m2 + lam1)]])],
    "nb01.2": ["down", "Down", ["down"], {" DOWN "}],
    "nb01.5": [hvp_by_hand, lambda f, t, v: hvp_by_hand(f, t, v).numpy()],
    "10.1.3a": [1 / lam, lam ** -1, sp.Integral(sp.exp(-sp.Symbol("lambda") * sp.Symbol("t")),
                                                   (sp.Symbol("t"), 0, sp.oo)), sp.Matrix([1 / lam])],
    "10.1.3b": vector_forms([0, 2], ["lower end", "upper end"]),
    "10.1.4a": [(1 - lam) ** (r + 1) / lam, (1 - lam) ** r * (1 - lam) / lam,
                1 / lam - (1 - (1 - lam) ** (r + 1)) / lam,
                1 / lam - sp.Sum((1 - lam) ** sp.Symbol("i", integer=True), (sp.Symbol("i", integer=True), 0, r))],
    "10.1.4b": [sp.log(eps) / sp.log(rho) - 1, sp.log(1 / eps) / sp.log(1 / rho) - 1,
                (sp.log(eps) - sp.log(rho)) / sp.log(rho)],
    "nb03.2": vector_forms([R(2, 3), R(1, 6), R(1, 6)], ["A", "B", "C"]),
    "nb03.5": [{("A",): 0, ("B",): 0, ("C",): 0, ("A", "B"): 1, ("A", "C"): 1, ("B", "C"): 0, ("A", "B", "C"): -1},
               {"A": 0, "B": 0, "C": 0, "AB": 1, "CA": Fraction(1), "BC": 0, "ABC": R(-1)}],
    "nb03.3": [{"equal split": {"null player"}, "individual worth": {"efficiency"}, "leave one out": {"efficiency"},
                "proportional split": {"linearity"}},
               {"Equal split": ["null_player"], "individual worth": "efficiency", "leave-one-out": ("Efficiency",),
                "proportional split": frozenset({"linearity"})}],
    "nb04.2": [(N - k) * (N - k - 1) / (N * (N - 1)), sp.binomial(N - 2, k) / sp.binomial(N, k),
               (1 - k / N) * (1 - k / (N - 1))],
    "nb04.5": [B / ((N - 1) * (N - k)), B / (N - 1) / (N - k)],
    "nb04.6": [(U_N - U_empty) / N, U_N / N - U_empty / N],
    "nb05.1": [datamodel_by_lstsq, lambda masks, out: torch.tensor(datamodel_by_lstsq(masks, out))],
    "nb05.2": [lds_by_scipy, lambda scores, masks, out: torch.tensor(lds_by_scipy(scores, masks, out))],
    "nb05.3": [2 * p5 - 1, p5 - (1 - p5), sp.Matrix([[2 * p5 - 1]])],
    "nb05.4": [2 * sp.sqrt(p5 * (1 - p5)), sp.sqrt(4 * p5 - 4 * p5**2), sp.sqrt(1 - (2 * p5 - 1) ** 2)],
    "nb05.5": [fourier_by_loops, lambda table, p: torch.tensor(fourier_by_loops(table, p))],
    "nb05.6": [((1 - p5) * (u_1 - u_empty) + p5 * (u_12 - u_2)) / 2,
               sp.expand((1 - p5) * (u_1 - u_empty) / 2 + p5 * (u_12 - u_2) / 2)],
    "nb05.7": vector_forms([R(85, 2), R(65, 2), R(75, 2)], ["A", "B", "C"]),
    "nb05.8": [msr_by_hand, lambda masks, u: torch.tensor(msr_by_hand(masks, u))],
    "nb05.9": [3 * rho5 / 4 + rho5**3 / 4, rho5 * (3 + rho5**2) / 4],
    "10.5.1a": vector_forms([30, 70], ["C added to A", "C added to B"]),
    "10.5.1b": vector_forms([R(115, 3), R(85, 3), R(100, 3)], ["A", "B", "C"]),
    "10.5.1c": ["A", " a ", {"A"}, ["A"]],
    "10.5.1d": [80, sp.Integer(80), Fraction(80), np.int64(80), np.array(80), torch.tensor(80), sp.Matrix([80]),
                sp.Integer(160) / 2],
    "10.5.1e": [{"B", "C"}, ["C", "B"], ("b", "c"), frozenset({"B", "C"}), "BC"],
    "10.5.1f": [10, Fraction(10), sp.Rational(20, 2), np.int32(10)],
    "10.5.2a": vector_forms([R(1, 3), R(1, 3), R(1, 3), 0], ["TL", "TR", "BL", "BR"]),
    "10.5.2b": [{"BR"}, "BR", ["br"], frozenset({"BR"})],
    "10.5.2c": [{("TL", "TR"), ("TL", "BL"), ("TR", "BL")}, [("TR", "TL"), ["BL", "TL"], {"TR", "BL"}]],
    "nb01.4": [logistic_influence_by_hand, lambda *args: logistic_influence_by_hand(*args).numpy()],
    "nb01.3": [(I_bar - I_x) / n_train, I_bar / n_train - I_x / n_train, -(I_x - I_bar) * n_train**-1],
    "nb02.1": [neumann_partial_sum, lambda matvec, v, r: neumann_partial_sum(matvec, v, r).numpy()],
    "nb03.1": [shapley_by_orders, lambda values: list(shapley_by_orders(values))],
    "nb03.4": [dividends_by_hand, lambda values: torch.tensor(dividends_by_hand(values))],
    "nb04.1": [permutation_estimate_by_hand,
               lambda values, orders: torch.tensor(permutation_estimate_by_hand(values, orders))],
    "nb04.3": [1 / (N - k - 1), (N - k - 1) ** -1, -1 / (k + 1 - N)],
    "nb04.4": [difference_estimate_by_hand,
               lambda values, subsets: torch.tensor(difference_estimate_by_hand(values, subsets))],
    "nb04.7": [paired_estimate_by_hand, paired_estimate_as_one_walk_list,
               lambda values, orders: torch.tensor(paired_estimate_by_hand(values, orders))],
    # the pair's estimate is 1/2 with probability 2/t (i first or last of T), else 0; its mean is 1/t
    "nb04.8": [(t - 2) / (2 * t**2), 1 / (2 * t) - 1 / t**2, R(1, 4) * 2 / t - (1 / t) ** 2,
               (1 - 2 / t) / (2 * t), sp.Matrix([[(t - 2) / (2 * t**2)]])],
    "nb06.1": vector_forms([0, 1], ["the gradient", "IG"]),
    "nb06.2": [w_1 * (x_1 - xb_1), w_1 * x_1 - w_1 * xb_1, -w_1 * (xb_1 - x_1)],
    "nb06.3": [x_1 * x_2 / 2, R(1, 2) * x_1 * x_2, sp.integrate(sp.Symbol("a") * x_2 * x_1, (sp.Symbol("a"), 0, 1))],
    "nb06.4": [c_1 * x_1**2 + c_2 * x_1 * x_2 / 2, x_1 * (2 * c_1 * x_1 + c_2 * x_2) / 2],
    "nb06.5": [ig_midpoint_by_hand, lambda *args: ig_midpoint_by_hand(*args).numpy()],
    "nb06.6": vector_forms([1, 0], ["IG_1", "IG_2"]),
    "nb06.7": vector_forms([R(1, 2), R(1, 2)], ["s_1", "s_2"]),
    "nb06.8": [tcav_by_hand, lambda *args: tcav_by_hand(*args).numpy()],
    "nb08.1": [loo_by_hand, lambda table: torch.tensor(loo_by_hand(table))],
    "nb08.2": vector_forms([1, R(13, 4), R(19, 6)], ["LOO", "Banzhaf", "Shapley"]),
    "nb08.3": [weighted_banzhaf_by_hand, weighted_banzhaf_over_all_subsets,
               lambda table, q: torch.tensor(weighted_banzhaf_by_hand(table, q))],
    "nb08.4": [1 - p5, -(p5 - 1), (1 - p5**2) / (1 + p5)],
    "nb08.5": ["Shapley", " shapley ", ["Shapley"], {"Shapley"}],
}


WRONG = {   # exercise id -> answers that are wrong (incorrect) or unreadable (invalid)
    "nb00.1": [([50, 25], INCORRECT), ([R(115, 2), R(65, 2) + R(1, 10**9)], INCORRECT), ([57.5, 32.5], INVALID),
               ([1, 2, 3], INVALID), ({"A": 1}, INVALID)],
    "nb00.2": [(u_A + u_AB - u_B, INCORRECT), ((u_A + u_AB - u_B) / 2 + sp.Rational(1, 10**12), INCORRECT),
               (0.5 * u_A, INVALID), (sp.Symbol("x"), INVALID), (sp.Matrix([[u_A, u_B]]), INVALID)],
    "nb00.3": [(lambda e, a, b, ab: (a, b), INCORRECT), (lambda e, a, b, ab: (0.5 * a, 0.5 * b), INVALID),
               (lambda e, a, b, ab: a, INVALID), (42, INVALID)],
    "nb01.1": [(x * x_z * (theta * x - y) * (theta * x_z - y_z) / (m2 + lam1), INCORRECT),
               (-x * x_z * (theta * x - y) * (theta * x_z - y_z) / m2, INCORRECT), (sp.Symbol("H"), INVALID)],
    "nb01.2": [("up", INCORRECT), ("sideways", INVALID), (["up", "down"], INVALID)],
    "nb01.5": [(lambda f, t, v: f.B @ v, INCORRECT), (lambda f, t, v: hvp_by_hand(f, t, v).tolist(), CORRECT)],
    "10.1.3a": [(1 / (1 - lam), INCORRECT), (1 / lam + sp.Rational(1, 10**9), INCORRECT), (0.5 / lam, INVALID)],
    "10.1.3b": [([0, 1], INCORRECT), ([-1, 1], INCORRECT), ([0.0, 2.0], INVALID), ([0, 2, 4], INVALID)],
    "10.1.4a": [((1 - lam) ** r / lam, INCORRECT), ((1 - lam) ** (r + 1), INCORRECT)],
    "10.1.4b": [(sp.log(eps) / sp.log(rho), INCORRECT), (sp.log(rho) / sp.log(eps) - 1, INCORRECT)],
    "nb03.2": [([R(1, 2), R(1, 3), R(1, 6)], INCORRECT), ([0.6667, 0.1667, 0.1667], INVALID)],
    "nb03.5": [({"A": 0, "B": 0, "C": 0, "AB": 1, "AC": 1, "BC": 0, "ABC": 1}, INCORRECT),
               ({"A": 0, "B": 0, "C": 0, "AB": 1.0, "AC": 1, "BC": 0, "ABC": -1}, INVALID)],
    "nb03.3": [({"equal split": set(), "individual worth": {"efficiency"}, "leave one out": {"efficiency"},
                 "proportional split": {"linearity"}}, INCORRECT), ({"equal split": {"fairness"}}, INVALID)],
    "nb04.2": [((N - k) / N, INCORRECT), (((N - k) / N) ** 2, INCORRECT)],
    "nb04.5": [(B / (N - 1), INCORRECT), (B / (N * (N - k)), INCORRECT)],
    "nb04.6": [(U_N / N, INCORRECT), ((U_N - U_empty) / (N - 1), INCORRECT)],
    "nb05.1": [(lambda masks, out: 2 * datamodel_by_lstsq(masks, out), INCORRECT),            # the 0/1 slopes
               (lambda masks, out: datamodel_by_lstsq(masks, out)[:, ::-1], INCORRECT),
               (lambda masks, out: datamodel_by_lstsq(masks, out).tolist(), CORRECT)],
    "nb05.2": [(lambda scores, masks, out: lds_by_scipy(scores, masks, out) ** 2, INCORRECT),
               (lambda scores, masks, out: lds_by_scipy(-scores, masks, out), INCORRECT),
               (lambda scores, masks, out: lds_by_scipy(scores, masks, out).tolist(), CORRECT)],
    "nb05.3": [(1 - 2 * p5, INCORRECT), (2.0 * p5 - 1, INVALID)],
    "nb05.4": [(sp.sqrt(p5 * (1 - p5)), INCORRECT), (4 * p5 * (1 - p5), INCORRECT)],
    "nb05.5": [(lambda table, p: fourier_by_loops(table, 0.5), INCORRECT),                    # the uniform measure
               (lambda table, p: fourier_by_loops(table, p)[::-1], INCORRECT),
               (lambda table, p: fourier_by_loops(table, p).tolist(), CORRECT)],
    "nb05.6": [((1 - p5) * (u_1 - u_empty) + p5 * (u_12 - u_2), INCORRECT), ((u_1 - u_empty) / 2, INCORRECT)],
    "nb05.7": [([R(115, 3), R(85, 3), R(100, 3)], INCORRECT), ([42.5, 32.5, 37.5], INVALID)],
    "nb05.9": [(3 * rho5 / 4, INCORRECT), (0.75 * rho5 + rho5**3 / 4, INVALID)],
    "nb05.8": [(lambda masks, u: (masks.T @ u) / masks.sum(axis=0), INCORRECT),
               (lambda masks, u: msr_by_hand(masks, u).tolist(), CORRECT)],
    "10.5.1a": [([80, 90], INCORRECT), ([30.0, 70.0], INVALID)],
    "10.5.1b": [([50, 20, 30], INCORRECT), ([100 / 3] * 3, INVALID)],
    "10.5.1c": [("C", INCORRECT), ("D", INVALID), ({"A", "C"}, INVALID)],
    "10.5.1d": [(75, INCORRECT), (80.0, INVALID), (R(801, 10), INCORRECT), (sp.sqrt(6400) + sp.pi - sp.pi, CORRECT)],
    "10.5.1e": [({"A", "C"}, INCORRECT), ({"B"}, INCORRECT), ({"B", "D"}, INVALID)],
    "10.5.1f": [(0, INCORRECT), (10.0, INVALID)],
    "10.5.2a": [([R(1, 4)] * 4, INCORRECT), ([0.25] * 4, INVALID)],
    "10.5.2b": [({"TL"}, INCORRECT), (set(), INCORRECT), ({"BR", "pixel"}, INVALID)],
    "10.5.2c": [({("TL", "TR")}, INCORRECT), ({("TL", "TR", "BL")}, INVALID), ({("TL", "TL")}, INVALID)],
    "nb01.4": [(lambda X, y, t, xz, yz, wd: -logistic_influence_by_hand(X, y, t, xz, yz, wd), INCORRECT),
               (lambda X, y, t, xz, yz, wd: logistic_influence_by_hand(X, y, t, xz, yz, 0.0), INCORRECT),
               (lambda X, y, t, xz, yz, wd: logistic_influence_by_hand(X, y, t, xz, yz, wd).tolist(), CORRECT)],
    "nb01.3": [(-I_x / n_train, INCORRECT), ((I_x - I_bar) / n_train, INCORRECT), (0.5 * I_x, INVALID)],
    "nb02.1": [(lambda A, v, r: neumann_partial_sum(A, v, r - 1), INCORRECT),
               (lambda A, v, r: neumann_partial_sum(A, v, r + 1), INCORRECT),
               (lambda A, v, r: neumann_partial_sum(A, v, r).tolist(), CORRECT)],
    "nb03.1": [(lambda values: shapley_by_orders(values) * 2, INCORRECT),
               (lambda values: shapley_by_orders(values)[::-1], INCORRECT), (lambda values: "s", INVALID)],
    "nb03.4": [(lambda values: -dividends_by_hand(values), INCORRECT),
               (lambda values: dividends_by_hand(values)[1:], INCORRECT)],
    "nb04.1": [(lambda values, orders: len(orders) * permutation_estimate_by_hand(values, orders), INCORRECT),
               (lambda values, orders: permutation_estimate_by_hand(values, orders[:, ::-1]), INCORRECT)],
    "nb04.3": [(1 / (N - k), INCORRECT), (1 / ((N - 1) * (N - k - 1)), INCORRECT), (1.0 / (N - k - 1), INVALID)],
    "nb04.4": [(lambda values, subsets: -difference_estimate_by_hand(values, subsets), INCORRECT),
               (lambda values, subsets: 2 * difference_estimate_by_hand(values, subsets), INCORRECT)],
    "nb04.7": [(permutation_estimate_by_hand, INCORRECT),                                   # the reverse walks left out
               (lambda values, orders: 2 * paired_estimate_by_hand(values, orders), INCORRECT),   # divided by m
               (lambda values, orders: permutation_estimate_by_hand(values, orders[:, ::-1]), INCORRECT),
               (lambda values, orders: paired_estimate_by_hand(values, orders).tolist(), CORRECT)],
    "nb04.8": [((t - 1) / t**2, INCORRECT), ((t - 1) / (2 * t**2), INCORRECT), (1 / (2 * t), INCORRECT),
               (sp.Integer(0), INCORRECT), ((t - 2) / (2 * t), INCORRECT), (0.5 / t - 1 / t**2, INVALID),
               ((t - 2) / (2 * N**2), INVALID)],
    "nb06.1": [([1, 1], INCORRECT), ([0, 2], INCORRECT), ([0.0, 1.0], INVALID)],
    "nb06.2": [(w_1 * x_1, INCORRECT), (w_1 * (xb_1 - x_1), INCORRECT), (0.5 * w_1 * x_1, INVALID)],
    "nb06.3": [(x_1 * x_2, INCORRECT), (x_1 * x_2 / 3, INCORRECT), (0.5 * x_1 * x_2, INVALID)],
    "nb06.4": [(2 * c_1 * x_1**2 + c_2 * x_1 * x_2, INCORRECT), ((c_1 * x_1**2 + c_2 * x_1 * x_2) / 2, INCORRECT)],
    "nb06.5": [(lambda m, x, b, t, n: ig_midpoint_by_hand(m, x, b, t, n) / (x - b), INCORRECT),
               (lambda m, x, b, t, n: -ig_midpoint_by_hand(m, x, b, t, n), INCORRECT),
               (lambda m, x, b, t, n: ig_midpoint_by_hand(m, x, b, t, n).tolist(), CORRECT)],
    "nb06.6": [([R(1, 2), R(1, 2)], INCORRECT), ([0, 1], INCORRECT), ([1.0, 0.0], INVALID)],
    "nb06.7": [([1, 0], INCORRECT), ([1, 1], INCORRECT), ([0.5, 0.5], INVALID)],
    "nb06.8": [(lambda h, a, c, r, t: 1 - tcav_by_hand(h, a, c, r, t), INCORRECT),      # the loss's sign
               (lambda h, a, c, r, t: tcav_by_hand(h, a, c, r[:1] * 0, t), INCORRECT),   # μ_R dropped
               (lambda h, a, c, r, t: tcav_by_hand(h, a, c, r, t)[None], INCORRECT),
               (lambda h, a, c, r, t: float(tcav_by_hand(h, a, c, r, t)), CORRECT)],
    "nb08.1": [(lambda t: -loo_by_hand(t), INCORRECT),
               (lambda t: t[1 << np.arange(len(t).bit_length() - 1)] - t[0], INCORRECT),
               (lambda t: list(loo_by_hand(t)), CORRECT)],
    "nb08.2": [([5, R(13, 4), R(19, 6)], INCORRECT), ([1, R(13, 3), R(19, 6)], INCORRECT),
               ([1, 3.25, R(19, 6)], INVALID)],
    "nb08.3": [(lambda t, q: weighted_banzhaf_by_hand(t, 0.5), INCORRECT),
               (lambda t, q: weighted_banzhaf_by_hand(t, 1 - q), INCORRECT),
               (lambda t, q: (1 - q) * weighted_banzhaf_by_hand(t, q), INCORRECT),   # i's own coin counted
               (lambda t, q: list(weighted_banzhaf_by_hand(t, q)), CORRECT)],
    "nb08.4": [(p5, INCORRECT), (R(1, 2), INCORRECT), (1.0 - p5, INVALID)],
    "nb08.5": [("Banzhaf", INCORRECT), ("leave-one-out", INCORRECT), ("Owen", INVALID)],
}


IDS = [ex.id for ex in list_exercises()]


def test_every_exercise_has_hand_derived_answers():
    assert sorted(HAND) == sorted(IDS) and sorted(WRONG) == sorted(IDS)


@pytest.mark.parametrize("exercise_id", IDS)
def test_hand_derived_answers_in_every_form_pass(exercise_id):
    for answer in HAND[exercise_id]:
        result = check(exercise_id, answer)
        assert result.status == CORRECT, f"{exercise_id} rejected {answer!r}: {result.message}"


@pytest.mark.parametrize("exercise_id", IDS)
def test_wrong_and_invalid_answers_get_their_status(exercise_id):
    for answer, status in WRONG[exercise_id]:
        result = check(exercise_id, answer)
        assert result.status == status, f"{exercise_id}: {answer!r} gave {result}"
