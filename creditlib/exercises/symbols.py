"""The sympy symbols the exercises are stated in: import them from here.

Each symbol carries the assumptions its exercise relies on (a ridge penalty
is positive, a number of terms a non-negative integer, utilities are real),
so an answer written with these symbols simplifies the way the checker
expects. A symbol made by hand with other assumptions is a different symbol
to sympy: the checker then reports that the answer "does not define" the
expected symbols.

Notebook 00 (welcome): ``u_A, u_B, u_AB`` — utilities of a two-player game.
Notebook 01 (influence functions): ``x, y, x_z, y_z, theta`` (real) and
``m2, lam`` (positive: a mean of squares and the ridge penalty λ); ``I_x, I_bar`` (real: an influence
and the mean influence over the training set) and ``n_train`` (positive: the number of training points).
Notebook 02 (Neumann series): ``lam, eps, rho`` (positive), ``r, i``
(non-negative integers: a number of terms and a summation index).
Notebook 04 (Shapley estimators): ``N, k, B`` (positive) and
``U_N, U_empty`` (real).
Notebook 05 (datamodels): ``p, rho`` (positive) and
``u_empty, u_1, u_2, u_12`` (real).
Notebook 06 (saliency): ``x_1, x_2`` (an input), ``xb_1, xb_2`` (the baseline x′),
``w_1, w_2`` and ``c_1, c_2`` (a model's coefficients), all real.
Notebook 08 (credit side by side): ``p`` (the same symbol as notebook 05's).
"""
from __future__ import annotations

import sympy as sp

# Notebook 00
u_A, u_B, u_AB = sp.symbols("u_A u_B u_AB", real=True)
# Notebook 01
x, y, x_z, y_z, theta = sp.symbols("x y x_z y_z theta", real=True)
m2, lam = sp.symbols("m2 lambda", positive=True)
I_x, I_bar = sp.symbols("I_x I_bar", real=True)
n_train = sp.Symbol("n_train", positive=True)
# Notebook 02
eps, rho = sp.symbols("epsilon rho", positive=True)
r = sp.Symbol("r", integer=True, nonnegative=True)
i = sp.Symbol("i", integer=True, nonnegative=True)
# Notebook 04
N, k, B = sp.symbols("N k B", positive=True)
U_N, U_empty = sp.symbols("U_N U_empty", real=True)
# Notebook 05
p = sp.Symbol("p", positive=True)
u_empty, u_1, u_2, u_12 = sp.symbols("u_empty u_1 u_2 u_12", real=True)
# Notebook 06
x_1, x_2, xb_1, xb_2 = sp.symbols("x_1 x_2 xb_1 xb_2", real=True)
w_1, w_2, c_1, c_2 = sp.symbols("w_1 w_2 c_1 c_2", real=True)

__all__ = ["u_A", "u_B", "u_AB", "x", "y", "x_z", "y_z", "theta", "m2", "lam", "eps", "rho", "r", "i",
           "I_x", "I_bar", "n_train",
           "N", "k", "B", "U_N", "U_empty", "p", "u_empty", "u_1", "u_2", "u_12",
           "x_1", "x_2", "xb_1", "xb_2", "w_1", "w_2", "c_1", "c_2"]
