"""train_on_subsets and sgd_on_subsets: where they run (every device torch sees, no device-less allocation, seeded
draws equal on every device, no global generator changed) and the batched Newton solver, against independent
oracles: scikit-learn's LogisticRegression, a dense Newton written here with torch.autograd.functional on an
objective written out by hand, and the existing batched L-BFGS."""
import numpy as np
import pytest
import torch

import creditlib.subset_training as dm
from creditlib.datamodels import subset_masks
from creditlib.subset_training import sgd_on_subsets, train_on_subsets
from creditlib.training import flatten, logistic_loss, softmax_cross_entropy

from device_check import DeviceLeakRecorder

# the device parametrisation ("cpu", and "cuda" when present) comes from tests/conftest.py

@pytest.fixture(scope="module")
def small_digits():
    from creditlib.datasets import digit_pair

    X, y, Xt, yt = digit_pair(3, 5, n_train=30, seed=0)
    return X[:, ::4].clone(), y, Xt[:5, ::4].clone(), yt[:5]         # 16 features


def _mlp(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(16, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)).double()


# ---------------------------------------------------------------------------- devices
@pytest.mark.parametrize("method", ["newton", "lbfgs"])
def test_train_on_subsets_makes_no_deviceless_allocation(small_digits, method):
    X, y, Xt, yt = small_digits
    masks = subset_masks(30, 0.5, 4, seed=0)
    masks[1] = False
    for model, seed in [(torch.nn.Linear(16, 1).double(), None), (_mlp(), 3)]:
        with DeviceLeakRecorder() as mode:
            train_on_subsets(model, logistic_loss, X, y, masks, Xt, yt, weight_decay=0.05, seed=seed, method=method)
        assert mode.leaks == []


def test_sgd_on_subsets_makes_no_deviceless_allocation(small_digits):
    X, y, Xt, yt = small_digits
    masks = subset_masks(30, 0.5, 4, seed=0)
    model = _mlp()
    with DeviceLeakRecorder() as mode:
        sgd_on_subsets(model, logistic_loss, X, y, masks, Xt, yt, weight_decay=0.01, lr=0.3, n_iter=3, batch_size=4,
                       seed=1)
    assert mode.leaks == []


def _rng_states():
    states = [torch.random.get_rng_state()]
    if torch.cuda.is_available():
        states += torch.cuda.get_rng_state_all()
    return states


@pytest.mark.parametrize("method", ["newton", "lbfgs"])
def test_train_on_subsets_runs_where_its_inputs_are(small_digits, device, method):
    """On the device: NumPy float64 results equal to the CPU's (for a convex model, to the tolerance; seeded MLP
    initialisations drawn on the CPU, so the same models), and no global generator of any device changes."""
    X, y, Xt, yt = small_digits
    masks = subset_masks(30, 0.5, 5, seed=1)
    on = lambda t: t.to(device)
    for model, seed, atol in [(torch.nn.Linear(16, 1).double(), None, 1e-6), (_mlp(), 3, 1e-5)]:
        cpu = train_on_subsets(model, logistic_loss, X, y, masks, Xt, yt, weight_decay=0.05, seed=seed, tol=1e-9,
                               method=method).outputs
        before = _rng_states()
        there, norms = train_on_subsets(model.to(device), logistic_loss, on(X), on(y), masks, on(Xt), on(yt),
                                        weight_decay=0.05, seed=seed, tol=1e-9, method=method)
        model.to("cpu")
        assert all(torch.equal(a, b) for a, b in zip(before, _rng_states()))
        assert isinstance(there, np.ndarray) and there.dtype == np.float64 and norms.dtype == np.float64
        assert norms.max() < 1e-9
        np.testing.assert_allclose(there, cpu, rtol=0, atol=atol)


def test_seeded_initialisations_are_the_same_numbers_on_every_device(device):
    model = _mlp()
    seeds = np.array([5, 6, 2**61 + 7])
    cpu = dm._initial_thetas(model, seeds)
    before = _rng_states()
    there = dm._initial_thetas(model.to(device), seeds)
    assert all(torch.equal(a, b) for a, b in zip(before, _rng_states()))
    assert there.device.type == device and torch.equal(there.cpu(), cpu)
    # Oracle: PyTorch's own initialisation of a fresh CPU copy under torch.manual_seed(seed).
    import copy
    fresh = copy.deepcopy(model.cpu())
    torch.manual_seed(6)
    for sub in fresh.modules():
        if hasattr(sub, "reset_parameters"):
            sub.reset_parameters()
    assert torch.equal(cpu[1], torch.cat([p.detach().reshape(-1) for p in fresh.parameters()]))
    assert not torch.equal(cpu[0], cpu[1])


def test_sgd_on_subsets_gives_the_same_models_on_every_device(small_digits, device):
    X, y, Xt, yt = small_digits
    masks = subset_masks(30, 0.5, 4, seed=2)
    run = lambda m, dev: sgd_on_subsets(m.to(dev), logistic_loss, X.to(dev), y.to(dev), masks, Xt.to(dev),
                                        yt.to(dev), weight_decay=0.01, lr=0.3, n_iter=10, batch_size=4, seed=5).outputs
    cpu = run(_mlp(), "cpu")
    before = _rng_states()
    there = run(_mlp(), device)
    assert all(torch.equal(a, b) for a, b in zip(before, _rng_states()))
    assert there.dtype == np.float64
    np.testing.assert_allclose(there, cpu, rtol=0, atol=1e-10)


def test_data_on_another_device_than_the_model_is_refused(small_digits):
    X, y, Xt, yt = small_digits
    masks = subset_masks(30, 0.5, 2, seed=0)
    with pytest.raises(ValueError, match="one device"):
        train_on_subsets(torch.nn.Linear(16, 1).double(), logistic_loss, X.to("meta"), y, masks, Xt, yt,
                         weight_decay=0.05)


# ---------------------------------------------------------------------------- Newton against oracles
def test_auto_picks_newton_for_few_parameters_and_lbfgs_for_many():
    assert dm._resolve_method("auto", 65) == "newton"
    assert dm._resolve_method("auto", dm.NEWTON_MAX_PARAMS + 1) == "lbfgs"
    assert dm._resolve_method("lbfgs", 3) == "lbfgs" and dm._resolve_method("newton", 10**4) == "newton"
    with pytest.raises(ValueError, match="method"):
        dm._resolve_method("bfgs", 3)


def test_newton_equals_scikit_learn_logistic_regression(small_digits):
    """Without a bias, ``mean_{i∈S} ℓ_i + λ/2 ‖w‖²`` is scikit-learn's ``C Σ_{i∈S} ℓ_i + ½‖w‖²`` divided by
    ``C |S|`` with ``C = 1/(|S| λ)``: the same minimiser."""
    from sklearn.linear_model import LogisticRegression

    X, y, Xt, yt = small_digits
    decay = 0.05
    masks = subset_masks(30, 0.5, 6, seed=4)
    model = torch.nn.Linear(16, 1, bias=False).double()
    outputs = train_on_subsets(model, logistic_loss, X, y, masks, Xt, yt, weight_decay=decay, tol=1e-10,
                               method="newton").outputs
    for k, m in enumerate(masks):
        fit = LogisticRegression(C=1 / (m.sum() * decay), fit_intercept=False, solver="newton-cholesky", tol=1e-12,
                                 max_iter=1000)
        fit.fit(X[m].numpy(), y[m].numpy())
        z = Xt.numpy() @ fit.coef_[0]
        np.testing.assert_allclose(outputs[k], np.where(yt.numpy() > 0, z, -z), rtol=0, atol=1e-6)


def _dense_newton(theta, objective, steps=30):
    """Oracle: plain Newton with torch.autograd.functional's dense Hessian, one model at a time, float64."""
    for _ in range(steps):
        g = torch.autograd.functional.jacobian(objective, theta)
        theta = theta - torch.linalg.solve(torch.autograd.functional.hessian(objective, theta), g)
    return theta, torch.autograd.functional.jacobian(objective, theta).norm()


def test_newton_equals_a_dense_newton_on_softmax_regression_with_bias():
    from sklearn.datasets import load_digits

    digits = load_digits()
    keep = np.flatnonzero(digits.target < 3)[:40]
    X = torch.tensor(digits.data[keep][:, ::4] / 16.0)
    y = torch.tensor(digits.target[keep])
    torch.manual_seed(2)
    model = torch.nn.Linear(16, 3).double()                   # 51 parameters: the batched Newton path
    masks = subset_masks(30, 0.5, 3, seed=5)
    decay = 0.05
    outputs, norms = train_on_subsets(model, softmax_cross_entropy, X[:30], y[:30], masks, X[30:], y[30:],
                                      weight_decay=decay, tol=1e-10)
    assert norms.max() < 1e-10
    for k, m in enumerate(masks):
        Xs, ys = X[:30][m], y[:30][m]

        def objective(theta, Xs=Xs, ys=ys):                    # written out: W (3×16) then b (3)
            z = Xs @ theta[:48].reshape(3, 16).T + theta[48:]
            return (torch.logsumexp(z, dim=1) - z[torch.arange(len(ys)), ys]).mean() + decay / 2 * theta @ theta

        theta, gnorm = _dense_newton(torch.zeros(51, dtype=torch.float64), objective)
        assert gnorm < 1e-12
        z = X[30:] @ theta[:48].reshape(3, 16).T + theta[48:]
        right = z[torch.arange(10), y[30:]]
        other = z.scatter(1, y[30:, None], float("-inf")).max(dim=1).values
        np.testing.assert_allclose(outputs[k], (right - other).numpy(), rtol=0, atol=1e-8)


def test_newton_and_lbfgs_find_the_same_minimisers_on_the_issues_problem():
    """100 digits, 64 pixels + bias, random halves, float64: both solvers to gradient norm 1e-9 agree to 1e-6 (the
    objective is 0.01-strongly convex, so minimisers 1e-9 apart in gradient are at most 1e-7 apart)."""
    from creditlib.datasets import digit_pair

    X, y, Xt, yt = digit_pair(3, 5, n_train=100, seed=0)
    torch.manual_seed(0)
    model = torch.nn.Linear(64, 1).double()
    masks = subset_masks(100, 0.5, 40, seed=1)
    run = lambda method: train_on_subsets(model, logistic_loss, X, y, masks, Xt[:10], yt[:10], weight_decay=0.01,
                                          seed=None, tol=1e-9, method=method)
    (newton, gn), (lbfgs, gl) = run("newton"), run("lbfgs")
    assert gn.max() < 1e-9 and gl.max() < 1e-9
    np.testing.assert_allclose(newton, lbfgs, rtol=0, atol=1e-6)


def test_the_linear_model_hessian_is_the_lower_triangle_of_the_exact_hessian(small_digits):
    X, y, _, _ = small_digits
    torch.manual_seed(0)
    for model, loss, targets in [(torch.nn.Linear(16, 1).double(), logistic_loss, y),
                                 (torch.nn.Linear(16, 3).double(), softmax_cross_entropy, (y * 2).long())]:
        fm = flatten(model)
        hessian = dm._linear_model_hessian(fm, loss, X, targets, 0.05)
        w = torch.tensor(subset_masks(30, 0.5, 2, seed=3), dtype=torch.float64)
        theta = 0.3 * torch.randn(2, fm.theta.numel(), dtype=torch.float64)
        H = hessian(theta, w, torch.ones(2, dtype=torch.float64))
        for k in range(2):
            def objective(t, model=model, fm=fm, wk=w[k], loss=loss, targets=targets):   # weighted mean loss + ridge
                out = torch.func.functional_call(model, fm.unflatten(t), (X,))
                return (wk * loss(out, targets)).sum() / wk.sum() + 0.025 * t @ t
            exact = torch.autograd.functional.hessian(objective, theta[k])
            torch.testing.assert_close(H[k].tril(), exact.tril(), rtol=0, atol=1e-12)


def test_newton_takes_gradient_steps_where_the_hessian_is_not_positive_definite():
    """f(θ) = Σ (θ_i² − 1)²/4 + c·θ: at θ = 0.1 the Hessian 3θ² − 1 is negative; the solver must still reach a
    minimum (f'' > 0 there) with gradient norm below tol, never a maximum."""
    c = torch.tensor([0.05, -0.05], dtype=torch.float64)

    def objective(theta, shift):
        return ((theta * theta - 1) ** 2).sum() / 4 + (shift * theta).sum()

    theta0 = torch.full((2, 2), 0.1, dtype=torch.float64)
    shifts = torch.stack([c, -c])
    theta = dm._batched_newton(objective, theta0, (shifts,), tol=1e-10, max_iter=200)
    grad = theta**3 - theta + shifts
    assert grad.norm(dim=1).max() < 1e-10
    assert ((3 * theta**2 - 1) > 0).all()


@pytest.mark.slow
def test_newton_mlp_models_are_stationary_points_independent_of_the_chunking(small_digits):
    X, y, Xt, yt = small_digits
    masks = subset_masks(30, 0.5, 4, seed=6)
    model = _mlp(1)
    assert dm._resolve_method("auto", flatten(model).theta.numel()) == "newton"   # 55 parameters
    outputs, norms = train_on_subsets(model, logistic_loss, X, y, masks, Xt, yt, weight_decay=0.01, seed=2,
                                      tol=1e-8)
    assert norms.max() < 1e-8
    # Oracle for stationarity: the gradient of each final model recomputed from its margins is not available,
    # so retrain each model alone (chunk_size=1) and compare.
    alone = train_on_subsets(model, logistic_loss, X, y, masks, Xt, yt, weight_decay=0.01, seed=2, tol=1e-8,
                             chunk_size=1).outputs
    np.testing.assert_allclose(alone, outputs, rtol=0, atol=1e-6)
