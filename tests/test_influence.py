"""Influence functions against dense-Hessian ground truth, finite differences and leave-one-out retraining."""
import numpy as np
import pytest
import torch
from scipy.stats import pearsonr

from creditlib.testing import matrix_with_spectrum as spd
from creditlib.influence import dense_hessian, function_hvp, hvp, influence_matrix, inverse_hvp, leave_one_out
from creditlib.solvers import (DivergenceError, NotPositiveDefiniteError, solve_cg, solve_exact, solve_neumann,
                               top_eigenvalue)
from creditlib.training import example_losses, flatten, per_example_gradients, train_to_convergence, training_objective

torch.set_default_dtype(torch.float64)
bce = lambda out, t: torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], t, reduction="none")
ce = lambda out, t: torch.nn.functional.cross_entropy(out, t, reduction="none")
mse = lambda out, t: 0.5 * ((out[:, 0] - t) ** 2)


def fit(model, loss_fn, X, y, weight_decay):
    assert train_to_convergence(model, loss_fn, X, y, weight_decay=weight_decay) < 1e-8
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
    np.testing.assert_allclose(solve_exact(A, V).x, truth, atol=1e-10)
    result = solve_cg(matvec, V, tol=1e-12)
    np.testing.assert_allclose(result.x, truth, atol=1e-9)
    assert result.n_hvp <= 7  # CG is exact in at most 5 steps for a 5x5 matrix (plus rounding), + 1 for the residual
    assert result.residual <= 1e-12
    result = solve_neumann(matvec, V, scale=1.0, tol=1e-10)
    np.testing.assert_allclose(result.x, truth, atol=1e-7)
    assert result.residual <= 1e-10
    assert abs(top_eigenvalue(matvec, 5, n_iter=300) - 1.9) < 1e-6


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
    """Up-weight x_i by ±ε, re-solve each objective with the same Newton loop, and take the central difference
    of the test loss: the slope is I(x_i, z) with its sign. Both sides start from the same solver, so the
    residual training gradient at θ* (round-off, machine dependent) cancels instead of entering the slope."""
    model, X, y = logistic_problem(seed=1)
    Xt, yt = X[:3] * 0.5, y[:3]
    I = influence_matrix(model, bce, X, y, Xt, yt, weight_decay=0.05, method="exact")
    fm = flatten(model)
    objective = training_objective(fm, bce, X, y, 0.05)
    i = 7

    def retrained_test_losses(eps):
        perturbed = lambda th: objective(th) + eps * bce(fm(th, X[i:i + 1]), y[i:i + 1])[0]
        theta = fm.theta.clone()
        for _ in range(30):  # Newton on the perturbed objective, eq. (10.2)
            g = torch.func.grad(perturbed)(theta)
            theta = theta - torch.linalg.solve(torch.func.hessian(perturbed)(theta), g)
        assert float(torch.func.grad(perturbed)(theta).norm()) < 1e-13
        return example_losses(model, bce, Xt, yt, theta)

    eps = 1e-5
    slope = (retrained_test_losses(eps) - retrained_test_losses(-eps)) / (2 * eps)
    np.testing.assert_allclose(slope, I[i], rtol=1e-6)   # central difference: error O(ε²) + round-off/ε ≈ 1e-8
    assert float(I[i].abs().min()) > 1e-4                 # a real slope, not a comparison of zeros


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


# ------------------------------------------------------------------------------------------ solver contracts
@pytest.mark.parametrize("method", ["exact", "cg", "neumann", "lissa"])
def test_damping_is_applied_by_every_method(method):
    """(H + λI)⁻¹v against a dense solve, for λ large enough to change the answer a lot; LiSSA with a full
    mini-batch is the Neumann recursion, so its mini-batch HVP must add the damping too."""
    model, X, y = logistic_problem()
    H = dense_hessian(model, bce, X, y, weight_decay=0.05)
    v = torch.randn(6, generator=torch.Generator().manual_seed(5))
    damping = 0.7
    truth = torch.linalg.solve(H + damping * torch.eye(6), v)
    assert float((truth - torch.linalg.solve(H, v)).norm() / truth.norm()) > 0.5   # the damping matters
    result = inverse_hvp(model, bce, X, y, v, weight_decay=0.05, damping=damping, method=method, tol=1e-11,
                         batch_size=60, depth=400, repeats=2)
    assert float((result.x - truth).norm() / truth.norm()) < 1e-8


def test_minibatch_hvp_is_the_hessian_of_the_mini_batch_plus_damping():
    from creditlib.influence import minibatch_hvp
    model, X, y = logistic_problem()
    apply = minibatch_hvp(model, bce, X, y, 0.05, 0.3, batch_size=10)
    U = torch.randn(3, 6, generator=torch.Generator().manual_seed(1))       # 3 repeats, one iterate each
    out = apply(torch.Generator().manual_seed(4), U)
    g = torch.Generator().manual_seed(4)                                  # the same draws, by hand
    for r in range(3):
        idx = torch.randperm(60, generator=g)[:10]
        H_batch = dense_hessian(model, bce, X[idx], y[idx], weight_decay=0.05)
        np.testing.assert_allclose(out[r], H_batch @ U[r] + 0.3 * U[r], atol=1e-10)


def test_batched_cg_converges_for_every_right_hand_side():
    """One right-hand side is an eigenvector (solved in one step), the other needs many: stopping when *any*
    of them converges would leave the second far from its solution."""
    A = spd(np.geomspace(1e-3, 1.0, 30), seed=3)
    eigenvector = torch.linalg.eigh(A)[1][:, -1]
    V = torch.stack([eigenvector, torch.randn(30, generator=torch.Generator().manual_seed(0))])
    x = solve_cg(lambda u: u @ A, V, tol=1e-10, max_iter=500).x
    truth = torch.linalg.solve(A, V.T).T
    for row in range(2):
        residual = float((A @ x[row] - V[row]).norm() / V[row].norm())
        assert residual <= 1e-10 * 1.01, (row, residual)
        assert float((x[row] - truth[row]).norm() / truth[row].norm()) < 1e-6


@pytest.mark.parametrize("tol", [1e-4, 1e-8, 1e-12])
def test_cg_and_neumann_meet_their_tolerance_on_the_true_residual(tol):
    """The relative residual ‖Ax − v‖/‖v‖, computed here with the dense matrix, is at most tol, and not
    absurdly below it (a solver that ignores tol and always runs to round-off would pass the first check)."""
    A = spd(np.geomspace(1e-2, 1.0, 20), seed=4)
    v = torch.randn(20, generator=torch.Generator().manual_seed(3))
    for name, solve in [("cg", lambda: solve_cg(lambda u: u @ A, v, tol=tol, max_iter=1000)),
                        ("neumann", lambda: solve_neumann(lambda u: u @ A, v, scale=1.0, tol=tol, max_iter=20_000))]:
        result = solve()
        residual = float((A @ result.x - v).norm() / v.norm())
        assert residual <= tol * 1.001, (name, residual)
        assert result.residual == pytest.approx(residual, rel=1e-3, abs=1e-15)     # it reports the true residual
        assert result.n_hvp < {"cg": 60, "neumann": 3000}[name] or tol < 1e-8, (name, result.n_hvp)


def test_inverse_hvp_reports_the_true_residual():
    model, X, y = logistic_problem()
    H = dense_hessian(model, bce, X, y, weight_decay=0.05)
    v = torch.randn(6, generator=torch.Generator().manual_seed(8))
    for method, tol in [("cg", 1e-5), ("neumann", 1e-5), ("cg", 1e-11)]:
        result = inverse_hvp(model, bce, X, y, v, weight_decay=0.05, method=method, tol=tol)
        true_residual = float((H @ result.x - v).norm() / v.norm())
        assert result.residual == pytest.approx(true_residual, rel=1e-6, abs=1e-15)
        assert true_residual <= tol * 1.001


def test_neumann_divergence_is_caught_before_overflow():
    """ρ = 1.1: the residual grows 1.1-fold per term, 1e6-fold within ~150 terms, long before any overflow
    (that would take ~7,400 terms). The error must come from the growth check, not from inf/nan."""
    A = spd([0.5, 1.0, 2.1])
    seen = []
    with pytest.raises(DivergenceError, match="diverges") as info:
        solve_neumann(lambda v: v @ A, torch.ones(3), scale=1.0, max_iter=1000,
                      callback=lambda r, x: seen.append(float(x.norm())))
    assert len(seen) < 200 and all(np.isfinite(seen))
    assert "nan" not in str(info.value) and "inf" not in str(info.value).split("(")[0]


def test_lissa_divergence_is_caught():
    from creditlib.solvers import solve_lissa
    A = spd([0.5, 1.0, 2.1])
    with pytest.raises(DivergenceError, match="LiSSA diverges"):
        solve_lissa(lambda g, X: X @ A, torch.ones(3), scale=1.0, depth=1000)


def test_solvers_warn_when_they_stop_unconverged():
    from creditlib.validation import ConvergenceWarning
    A = spd(np.geomspace(1e-4, 1.0, 40), seed=5)
    v = torch.randn(40, generator=torch.Generator().manual_seed(0))
    with pytest.warns(ConvergenceWarning, match="max_iter=5"):
        solve_cg(lambda u: u @ A, v, tol=1e-10, max_iter=5)
    with pytest.warns(ConvergenceWarning, match="max_iter=50"):
        solve_neumann(lambda u: u @ A, v, scale=1.0, tol=1e-10, max_iter=50)
    model, X, y = logistic_problem()
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        inverse_hvp(model, bce, X, y, torch.ones(6), weight_decay=0.05, method="cg", tol=1e-14, max_iter=3)
    fresh = torch.nn.Linear(5, 1)
    with pytest.warns(ConvergenceWarning, match="train_to_convergence"):
        train_to_convergence(fresh, bce, X, y, weight_decay=0.05, tol=1e-30, max_rounds=1)


def test_lbfgs_leave_one_out_warns_when_a_retrained_model_is_not_converged():
    from creditlib.validation import ConvergenceWarning
    model, X, y = logistic_problem(seed=2, n=40)
    with pytest.warns(ConvergenceWarning, match="2 of 2 retrained models"):
        leave_one_out(model, bce, X, y, X[:2], y[:2], weight_decay=0.05, indices=[0, 1], optimizer="lbfgs",
                      tol=1e-30, max_iter=2)


def test_leave_one_out_leaves_the_model_unchanged():
    model, X, y = logistic_problem(seed=2, n=40)
    before = [p.detach().clone() for p in model.parameters()]
    losses_before = example_losses(model, bce, X[:5], y[:5])
    for optimizer in ["newton", "lbfgs"]:
        leave_one_out(model, bce, X, y, X[:5], y[:5], weight_decay=0.05, indices=[0, 3], optimizer=optimizer)
    for b, p in zip(before, model.parameters()):
        assert torch.equal(b, p.detach())
    assert torch.equal(losses_before, example_losses(model, bce, X[:5], y[:5]))


def test_leave_one_out_is_retraining_without_the_point():
    """Independent oracle: minimise the objective of the n − 1 remaining points from scratch (θ = 0) with a
    plain Newton loop written here, and compare the test losses."""
    model, X, y = logistic_problem(seed=4, n=30)
    i = 11
    keep = torch.arange(30) != i
    fm = flatten(model)
    objective = training_objective(fm, bce, X[keep], y[keep], 0.05)
    theta = torch.zeros_like(fm.theta)
    for _ in range(50):
        theta = theta - torch.linalg.solve(torch.func.hessian(objective)(theta), torch.func.grad(objective)(theta))
    assert float(torch.func.grad(objective)(theta).norm()) < 1e-12
    expected = example_losses(model, bce, X[:4], y[:4], theta) - example_losses(model, bce, X[:4], y[:4])
    loo = leave_one_out(model, bce, X, y, X[:4], y[:4], weight_decay=0.05, indices=[i])
    np.testing.assert_allclose(loo[0], expected, atol=1e-8)


def test_solver_and_leave_one_out_arguments_are_validated():
    model, X, y = logistic_problem()
    for bad in [-0.1, float("nan"), float("inf")]:
        with pytest.raises(ValueError, match="damping must be a finite number"):
            inverse_hvp(model, bce, X, y, torch.ones(6), damping=bad)
    with pytest.raises(ValueError, match="batch_size"):
        inverse_hvp(model, bce, X, y, torch.ones(6), method="lissa", batch_size=0)
    with pytest.raises(ValueError, match="depth"):
        inverse_hvp(model, bce, X, y, torch.ones(6), method="lissa", depth=0)
    with pytest.raises(ValueError, match="tol"):
        solve_cg(lambda u: u, torch.ones(3), tol=0)
    with pytest.raises(ValueError, match="max_iter"):
        solve_neumann(lambda u: u, torch.ones(3), scale=1.0, max_iter=0)
    with pytest.raises(ValueError, match="scale"):
        solve_neumann(lambda u: u, torch.ones(3), scale=-1.0)
    for bad in [[60], [-1], [0, 75]]:
        with pytest.raises(ValueError, match="indices"):
            leave_one_out(model, bce, X, y, X[:2], y[:2], weight_decay=0.05, indices=bad)
    with pytest.raises(ValueError, match="optimizer must be"):
        leave_one_out(model, bce, X, y, X[:2], y[:2], indices=[0], optimizer="adam")
    with pytest.raises(TypeError, match="seed"):
        inverse_hvp(model, bce, X, y, torch.ones(6), method="lissa", seed=1.5)


def test_leave_one_out_first_order_term_includes_the_mean_influence():
    # Retraining on the mean of the n − 1 other points also weakens the weight decay by (n − 1)/n, which
    # adds +Ī/n to −I/n (see leave_one_out's docstring). Oracle: the mean over i of the actual retraining
    # changes, which the corrected prediction −(I − Ī)/n puts at 0 and the plain −I/n at −Ī/n.
    g = torch.Generator().manual_seed(2)
    X = torch.randn(80, 5, generator=g)
    y = (X @ torch.randn(5, generator=g) + 0.5 * torch.randn(80, generator=g) > 0).double()
    torch.manual_seed(2)
    model = fit(torch.nn.Linear(5, 1), bce, X, y, 0.5)
    Xt, yt = X[:5] + 0.2, y[:5]
    I = influence_matrix(model, bce, X, y, Xt, yt, weight_decay=0.5, method="exact")
    loo = leave_one_out(model, bce, X, y, Xt, yt, weight_decay=0.5)
    mean_influence = I.mean(dim=0) / 80
    assert (mean_influence.abs() > 2e-4).all()                         # the term matters here
    assert (loo.mean(dim=0).abs() < 0.25 * mean_influence.abs()).all()
    corrected, plain = -(I - I.mean(dim=0)) / 80, -I / 80
    assert float((loo - corrected).norm()) < float((loo - plain).norm())
