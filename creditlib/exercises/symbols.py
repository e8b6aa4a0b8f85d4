"""The sympy symbols the exercises are stated in: import them from here.

Each symbol carries the assumptions its exercises rely on (a ridge penalty
is positive, a number of terms a non-negative integer, utilities are real),
so an answer written with these symbols simplifies the way the checker
expects. A symbol made by hand with other assumptions is a different symbol
to sympy: the checker then reports that the answer "does not define" the
expected symbols.

Assumptions can say "integer" and "≥ 0" or "> 0", not "≤ N − 2" or "≥ 2": each
expression exercise states the rest of its domain itself (``domain=`` of
:func:`creditlib.exercises.core.expression_exercise`), and the checker tries
the ends of that domain (``k = 0``, ``k = N − 2``, ``N = 2``, ``r = 0`` …)
before anything else. The domains, exercise by exercise:

Notebook 00 (welcome): ``u_A, u_B, u_AB`` — utilities of a two-player game, real (nb00.2: any reals).
Notebook 01 (influence functions): ``x, y, x_z, y_z, theta`` (real) and
``m2, lam`` (positive: a mean of squares and the ridge penalty λ; nb01.1); ``I_x, I_bar`` (real: an
influence and the mean influence over the training set) and ``n_train`` (an integer ≥ 1, the number of
training points; nb01.3 asks for n ≥ 2, so that n − 1 points are left to retrain on).
Notebook 02 (Neumann series): ``lam`` (0 < λ < 2 in 10.1.3a and 10.1.4a), ``eps, rho`` (positive;
0 < ε, ρ < 1 in 10.1.4b), ``r, i`` (non-negative integers: a number of terms, 0 ≤ r ≤ 60 in 10.1.4a,
and a summation index).
Notebook 04 (Shapley estimators): ``N`` (an integer ≥ 1, the number of players), ``k`` (an integer ≥ 0, a
coalition size), ``B`` (positive: a budget, split as a real number) and ``U_N, U_empty`` (real).
``t`` (an integer ≥ 1, the order ``|T|`` of a unanimity game ``u_T``).
nb04.2 asks for 0 ≤ k ≤ N and N ≥ 2 (any k-subset, two players); nb04.3 and nb04.5 for
0 ≤ k ≤ N − 2 and N ≥ 2 (the sizes of Theorem 10.2.8); nb04.6 for N ≥ 1; nb04.8 for t ≥ 2 (at t = 1
the player arrives both first and last of T, and the pair's estimate is always 1).
Notebook 05 (datamodels): ``p`` (positive; 0 < p < 1 in nb05.3, nb05.4, nb05.6), ``rho`` (the same
symbol as notebook 02's, positive; 0 < ρ ≤ 1 in nb05.9, where h(1) = E f² is used) and
``u_empty, u_1, u_2, u_12`` (real).
Notebook 06 (saliency): ``x_1, x_2`` (an input), ``xb_1, xb_2`` (the baseline x′),
``w_1, w_2`` and ``c_1, c_2`` (a model's coefficients), all real and unbounded.
Notebook 08 (credit side by side): ``p`` (the same symbol as notebook 05's; 0 < p < 1 in nb08.4).
"""
from __future__ import annotations

import sympy as sp

# Notebook 00
u_A, u_B, u_AB = sp.symbols("u_A u_B u_AB", real=True)
# Notebook 01
x, y, x_z, y_z, theta = sp.symbols("x y x_z y_z theta", real=True)
m2, lam = sp.symbols("m2 lambda", positive=True)
I_x, I_bar = sp.symbols("I_x I_bar", real=True)
n_train = sp.Symbol("n_train", integer=True, positive=True)
# Notebook 02
eps, rho = sp.symbols("epsilon rho", positive=True)
r = sp.Symbol("r", integer=True, nonnegative=True)
i = sp.Symbol("i", integer=True, nonnegative=True)
# Notebook 04
N = sp.Symbol("N", integer=True, positive=True)       # a number of players
k = sp.Symbol("k", integer=True, nonnegative=True)    # a coalition size: k = 0 is the empty coalition
t = sp.Symbol("t", integer=True, positive=True)       # the order |T| of a unanimity game u_T
B = sp.Symbol("B", positive=True)                     # a budget, split as a real number
U_N, U_empty = sp.symbols("U_N U_empty", real=True)
# Notebook 05
p = sp.Symbol("p", positive=True)
u_empty, u_1, u_2, u_12 = sp.symbols("u_empty u_1 u_2 u_12", real=True)
# Notebook 06
x_1, x_2, xb_1, xb_2 = sp.symbols("x_1 x_2 xb_1 xb_2", real=True)
w_1, w_2, c_1, c_2 = sp.symbols("w_1 w_2 c_1 c_2", real=True)

__all__ = ["u_A", "u_B", "u_AB", "x", "y", "x_z", "y_z", "theta", "m2", "lam", "eps", "rho", "r", "i",
           "I_x", "I_bar", "n_train",
           "N", "k", "t", "B", "U_N", "U_empty", "p", "u_empty", "u_1", "u_2", "u_12",
           "x_1", "x_2", "xb_1", "xb_2", "w_1", "w_2", "c_1", "c_2"]
