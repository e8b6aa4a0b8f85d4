"""Influence functions against dense-Hessian ground truth, finite differences and leave-one-out retraining."""
import numpy as np
import pytest
import torch
from scipy.stats import pearsonr

from creditlib.influence import matrix_with_spectrum as spd
from creditlib.influence import (DivergenceError, NotPositiveDefiniteError, dense_hessian, flatten, function_hvp,
                                 hvp, influence_matrix, inverse_hvp, leave_one_out, per_example_gradients,
                                 solve_cg, solve_exact, solve_neumann, example_losses, top_eigenvalue,
                                 train_to_convergence, training_objective)

torch.set_default_dtype(torch.float64)
bce = lambda out, t: torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], t, reduction="none")
ce = lambda out, t: torch.nn.functional.cross_entropy(out, t, reduction="none")
mse = lambda out, t: 0.5 * ((out[:, 0] - t) ** 2)


def fit(model, loss_fn, X, y, weight_decay):
    assert train_to_convergence(model, loss_fn, X, y, weight_decay=weight_decay, tol=1e-12) < 1e-8
    return model


def logistic_problem(seed=0, n=60, d=5, weight_decay=0.05):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    y = (X @ torch.randn(d, generator=g) + 0.5 * torch.randn(n, generator=g) > 0).double()
    torch.manual_seed(seed)
    model = fit(torch.nn.Linear(d, 1), bce, X, y, weight_decay)
    return model, X, y


def mlp_problem(seed=0, n=40):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 5, generator=g)
    y = torch.randint(0, 3, (n,), generator=g)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))  # non-square layers
    return model, X, y


@pytest.mark.parametrize("problem", ["linear", "logistic", "mlp"])
def test_hvp_matches_dense_hessian(problem):
    if problem == "mlp":
        model, X, y = mlp_problem()
        loss_fn = ce
    elif problem == "logistic":
        model, X, y = logistic_problem()
        loss_fn = bce
    else:
        g = torch.Generator().manual_seed(3)
        X, y = torch.randn(30, 4, generator=g), torch.randn(30, generator=g)
        model, loss_fn = torch.nn.Linear(4, 1), mse
    H = dense_hessian(model, loss_fn, X, y, weight_decay=0.1)
    assert torch.allclose(H, H.T, atol=1e-10)
    V = torch.randn(3, H.shape[0], generator=torch.Generator().manual_seed(1))
    np.testing.assert_allclose(hvp(model, loss_fn, X, y, V, weight_decay=0.1, damping=0.3), (V @ H) + 0.3 * V,
                               atol=1e-10)
    np.testing.assert_allclose(hvp(model, loss_fn, X, y, V[0], weight_decay=0.1), H @ V[0], atol=1e-10)


def test_function_hvp_matches_autograd_hessian():
    f = lambda t: (t**3).sum() + torch.sin(t[0] * t[1]) + t @ t
    theta, v = torch.tensor([0.3, -1.2, 0.7]), torch.tensor([1.0, 2.0, -0.5])
    H = torch.autograd.functional.hessian(f, theta)
    np.testing.assert_allclose(function_hvp(f, theta, v), H @ v, atol=1e-12)


def test_solvers_agree_with_a_dense_solve():
    A = spd([0.05, 0.3, 0.9, 1.5, 1.9])
    V = torch.randn(2, 5, generator=torch.Generator().manual_seed(2))
    truth = torch.linalg.solve(A, V.T).T
    matvec = lambda v: v @ A
    np.testing.assert_allclose(solve_exact(A, V), truth, atol=1e-10)
    x, iterations = solve_cg(matvec, V, tol=1e-12)
    np.testing.assert_allclose(x, truth, atol=1e-9)
    assert iterations <= 6  # CG is exact in at most 5 steps for a 5x5 matrix (plus rounding)
    x, _ = solve_neumann(matvec, V, scale=1.0, tol=1e-10)
    np.testing.assert_allclose(x, truth, atol=1e-7)
    assert abs(top_eigenvalue(matvec, 5, iters=300) - 1.9) < 1e-6


def test_neumann_and_cg_fail_loudly():
    A = spd([0.5, 1.0, 2.5])  # an eigenvalue above 2: the series of Problem 10.1.3 diverges with scale 1
    with pytest.raises(DivergenceError, match="smaller scale"):
        solve_neumann(lambda v: v @ A, torch.ones(3), scale=1.0)
    solve_neumann(lambda v: v @ A, torch.ones(3), scale=0.5)  # rescaled, it converges
    indefinite = spd([-0.4, 1.0, 1.5])
    with pytest.raises(NotPositiveDefiniteError, match=r"-0\.4"):
        solve_exact(indefinite, torch.ones(3))
    with pytest.raises(NotPositiveDefiniteError, match="damping"):
        solve_cg(lambda v: v @ indefinite, torch.tensor([1.0, 0.0, 0.0]) @ torch.linalg.eigh(indefinite)[1].T)
    with pytest.raises(DivergenceError, match="damping"):
        solve_neumann(lambda v: v @ indefinite, torch.ones(3), scale=0.6)


@pytest.mark.parametrize("method", ["exact", "cg", "neumann", "lissa"])
def test_inverse_hvp_methods_on_a_model(method):
    """With a full batch LiSSA is the Neumann recursion and must be as accurate."""
    model, X, y = logistic_problem()
    H = dense_hessian(model, bce, X, y, weight_decay=0.05)
    v = torch.randn(6, generator=torch.Generator().manual_seed(5))
    result = inverse_hvp(model, bce, X, y, v, weight_decay=0.05, method=method, tol=1e-10,
                         batch_size=60, depth=400, repeats=2)
    truth = torch.linalg.solve(H, v)
    error = float((result.x - truth).norm() / truth.norm())
    assert error < 1e-6, error
    assert result.residual < 1e-6
    assert result.n_hvp >= (0 if method == "exact" else 2)


def test_lissa_with_mini_batches_is_noisy_but_centred():
    model, X, y = logistic_problem()
    H = dense_hessian(model, bce, X, y, weight_decay=0.05)
    v = torch.randn(6, generator=torch.Generator().manual_seed(5))
    truth = torch.linalg.solve(H, v)
    result = inverse_hvp(model, bce, X, y, v, weight_decay=0.05, method="lissa", batch_size=30, depth=300,
                         repeats=16, scale=0.5 / top_eigenvalue(lambda u: H @ u, 6))
    error = float((result.x - truth).norm() / truth.norm())
    assert result.spread > 0 and error < 3 * result.spread / 16**0.5 + 0.02, (error, result.spread)
    assert result.n_hvp == 16 * 300 + 1
    batch = inverse_hvp(model, bce, X, y, torch.stack([v, 2 * v]), weight_decay=0.05, method="lissa",
                        batch_size=30, depth=300, repeats=16, scale=0.5 / top_eigenvalue(lambda u: H @ u, 6))
    np.testing.assert_allclose(batch.x[1], 2 * batch.x[0], rtol=1e-10)  # same batches for every column


def test_influence_matrix_matches_the_formula_with_damping_on_an_mlp():
    model, X, y = mlp_problem()
    Xt, yt = X[:6] + 0.1, y[:6]
    H = dense_hessian(model, ce, X, y, weight_decay=0.01)
    damping = float(max(0.0, -torch.linalg.eigvalsh(H)[0])) + 0.1
    I = influence_matrix(model, ce, X, y, Xt, yt, weight_decay=0.01, damping=damping, method="exact")
    Gtr, Gte = per_example_gradients(model, ce, X, y), per_example_gradients(model, ce, Xt, yt)
    expected = -Gtr @ torch.linalg.solve(H + damping * torch.eye(len(H)), Gte.T)
    assert I.shape == (40, 6)
    np.testing.assert_allclose(I, expected, atol=1e-9)
    np.testing.assert_allclose(influence_matrix(model, ce, X, y, Xt, yt, weight_decay=0.01, damping=damping,
                                                method="cg", tol=1e-12), expected, atol=1e-7)


def test_influence_is_the_derivative_in_epsilon_definition_10_1_1():
    """Up-weight x_i by ε, retrain, difference the test loss: the slope is I(x_i, z) with its sign."""
    model, X, y = logistic_problem(seed=1)
    Xt, yt = X[:3] * 0.5, y[:3]
    I = influence_matrix(model, bce, X, y, Xt, yt, weight_decay=0.05, method="exact")
    base = example_losses(model, bce, Xt, yt)
    fm = flatten(model)
    eps, i = 1e-5, 7
    objective = training_objective(fm, bce, X, y, 0.05)
    perturbed = lambda th: objective(th) + eps * bce(fm(th, X[i:i + 1]), y[i:i + 1])[0]
    theta = fm.theta.clone()
    for _ in range(20):  # Newton on the perturbed objective, eq. (10.2)
        g = torch.func.grad(perturbed)(theta)
        theta = theta - torch.linalg.solve(torch.func.hessian(perturbed)(theta), g)
    slope = (example_losses(model, bce, Xt, yt, theta) - base) / eps
    np.testing.assert_allclose(slope, I[i], rtol=1e-3)


def test_leave_one_out_agrees_with_influence_on_a_convex_model():
    model, X, y = logistic_problem(seed=2, n=80)
    Xt, yt = X[:5] + 0.2, y[:5]
    I = influence_matrix(model, bce, X, y, Xt, yt, weight_decay=0.05, method="cg", tol=1e-12)
    loo = leave_one_out(model, bce, X, y, Xt, yt, weight_decay=0.05)
    predicted = -I / X.shape[0]
    for j in range(5):
        assert pearsonr(predicted[:, j], loo[:, j])[0] > 0.99
    assert float((loo - predicted).abs().max()) < 0.2 * float(loo.abs().max())
    lbfgs = leave_one_out(model, bce, X, y, Xt, yt, weight_decay=0.05, indices=[0, 5], optimizer="lbfgs")
    np.testing.assert_allclose(lbfgs, loo[[0, 5]], atol=1e-7)
    unchanged = example_losses(model, bce, Xt, yt)
    np.testing.assert_allclose(unchanged, example_losses(model, bce, Xt, yt))


def test_bad_input_gets_clear_errors():
    model, X, y = logistic_problem()
    with pytest.raises(ValueError, match="has 60 rows but y has 59"):
        influence_matrix(model, bce, X, y[:-1], X[:2], y[:2])
    with pytest.raises(ValueError, match="one loss per example"):
        dense_hessian(model, lambda o, t: bce(o, t).mean(), X, y)
    frozen = torch.nn.Linear(5, 1)
    frozen.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        hvp(frozen, bce, X, y, torch.ones(6))
    with pytest.raises(ValueError, match="Non-finite gradient for example 3"):
        X_bad = X.clone()
        X_bad[3, 0] = float("nan")
        per_example_gradients(model, bce, X_bad, y)
    with pytest.raises(ValueError, match=r"shape \(6,\)"):
        inverse_hvp(model, bce, X, y, torch.ones(7))
    with pytest.raises(ValueError, match="method must be"):
        inverse_hvp(model, bce, X, y, torch.ones(6), method="magic")
