"""Every public function of a kind meets its kind's contract (creditlib/contracts.py), and the contract checks catch
the breaches they describe.

A new saliency method, estimator, solver or trainer is found here by its signature or its name: the test fails until
it is given its inputs below (and then until it meets the contract)."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

from creditlib import estimators, saliency, solvers, subset_training
from creditlib.contracts import check_saliency_method, check_shapley_estimator, check_solver, check_subset_trainer
from creditlib.estimators import ShapleyEstimate, shapley_permutation
from creditlib.solvers import InverseHVP
from creditlib.training import logistic_loss


def _public_functions(module):
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    return {name: getattr(module, name) for name in names if inspect.isfunction(getattr(module, name))}


def _parameters(function):
    return inspect.signature(function).parameters


# ---------------------------------------------------------------------------- saliency methods
SALIENCY_OPTIONS = {
    "vanilla_gradient": {},
    "gradient_times_input": {},
    "integrated_gradients": {"n_steps": 8},
    "smoothgrad": {"n_samples": 4, "seed": 0},
}
NOT_ATTRIBUTIONS = {"target_scores"}          # the score a method explains, not an attribution


def _is_saliency_method(function) -> bool:
    params = _parameters(function)
    names = list(params)
    return names[:2] == ["model", "x"] and "target" in params and params["target"].kind is inspect.Parameter.KEYWORD_ONLY


def test_every_saliency_method_is_checked():
    found = {name for name, f in _public_functions(saliency).items() if _is_saliency_method(f)}
    assert found - NOT_ATTRIBUTIONS == set(SALIENCY_OPTIONS)


def _classifier(device):
    gen = torch.Generator().manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)).double()
    x = torch.rand(4, 6, generator=gen, dtype=torch.float64)
    return model.to(device), x.to(device)


@pytest.mark.parametrize("name", sorted(SALIENCY_OPTIONS))
def test_saliency_methods_meet_their_contract(name, device):
    model, x = _classifier(device)
    check_saliency_method(getattr(saliency, name), model, x, 1, **SALIENCY_OPTIONS[name])


def test_the_saliency_check_catches_a_positional_target_a_numpy_result_and_a_moved_model():
    model, x = _classifier("cpu")

    def positional(model, x, target=None):
        return saliency.vanilla_gradient(model, x, target=target)

    def as_numpy(model, x, *, target):
        return saliency.vanilla_gradient(model, x, target=target).numpy()

    def trains(model, x, *, target):
        with torch.no_grad():
            next(model.parameters()).add_(1.0)
        return saliency.vanilla_gradient(model, x, target=target)

    for broken, message in [(positional, "keyword-only"), (as_numpy, "returns a tensor"), (trains, "parameters")]:
        with pytest.raises(AssertionError, match=message):
            check_saliency_method(broken, model, x, 1)


# ---------------------------------------------------------------------------- Shapley estimators
def _is_estimator(function) -> bool:
    return list(_parameters(function))[:2] == ["game", "budget"]


ESTIMATOR_OPTIONS = {"shapley_permutation": {}, "shapley_difference": {}, "shapley_antithetic": {},
                     "shapley_stratified": {}, "shapley_kernel": {}, "shapley_leverage": {},
                     "shapley_regression_adjusted": {}, "shapley_regression_adjusted[linear]": {"proxy": "linear"},
                     "shapley_regression_adjusted[sized]": {"proxy": "sized"},
                     "shapley_regression_adjusted[forest]": {"proxy": "forest"}}


def test_every_estimator_is_checked():
    found = {name for name, f in _public_functions(estimators).items() if _is_estimator(f)}
    assert found == {name.split("[")[0] for name in ESTIMATOR_OPTIONS}


@pytest.mark.parametrize("name", sorted(ESTIMATOR_OPTIONS))
def test_estimators_meet_their_contract(name):
    check_shapley_estimator(getattr(estimators, name.split("[")[0]), **ESTIMATOR_OPTIONS[name])


@pytest.mark.parametrize("name", ["shapley_kernel", "shapley_leverage", "shapley_regression_adjusted"])
def test_estimators_meet_their_contract_on_a_game_with_high_order_interactions(name):
    # the default game is pairwise, on which these are exact: a random game of 6 players is not
    table = np.random.default_rng(3).normal(size=2**6)
    from creditlib.coalitions import coalition_codes
    from creditlib.games import Game
    game = Game(6, lambda masks: table[coalition_codes(masks)])
    check_shapley_estimator(getattr(estimators, name), game, budget=40, atol=0.6)


def test_the_estimator_check_catches_overspending_a_global_seed_and_a_biased_estimate():
    def overspends(game, budget, *, seed=None, chunk_size=512):
        estimate = shapley_permutation(game, budget, seed=seed, chunk_size=chunk_size)
        game(np.ones((1, game.n_players), bool))
        return estimate

    def global_seed(game, budget, *, seed=None, chunk_size=512):
        np.random.seed(0)
        return shapley_permutation(game, budget, seed=seed, chunk_size=chunk_size)

    def biased(game, budget, *, seed=None, chunk_size=512):
        e = shapley_permutation(game, budget, seed=seed, chunk_size=chunk_size)
        return ShapleyEstimate(e.values + 1.0, e.std_errors, e.n_evaluations, e.method)

    state = np.random.get_state()
    try:
        np.random.seed(12345)                      # not the state the broken estimator sets
        for broken, message in [(overspends, "at most the budget"), (global_seed, "global random"),
                                (biased, "standard errors of the exact")]:
            with pytest.raises(AssertionError, match=message):
                check_shapley_estimator(broken)
    finally:
        np.random.set_state(state)


# ---------------------------------------------------------------------------- solvers
def _spd(device, p=5):
    gen = torch.Generator().manual_seed(1)
    Q, _ = torch.linalg.qr(torch.randn(p, p, generator=gen, dtype=torch.float64))
    A = Q @ torch.diag(torch.linspace(1.0, 3.0, p, dtype=torch.float64)) @ Q.T
    V = torch.randn(3, p, generator=gen, dtype=torch.float64)
    return A.to(device), V.to(device)


SOLVERS = {   # how each solver takes A, and its options
    "solve_exact": (lambda A: A, {}),
    "solve_cg": (lambda A: (lambda u: u @ A), {"tol": 1e-12}),
    "solve_neumann": (lambda A: (lambda u: u @ A), {"scale": 0.3, "tol": 1e-12}),
    "solve_lissa": (lambda A: (lambda generator, u: u @ A), {"scale": 0.3, "depth": 80, "seed": 0}),
}


def test_every_solver_is_checked():
    assert {name for name in _public_functions(solvers) if name.startswith("solve_")} == set(SOLVERS)


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_solvers_meet_their_contract(name, device):
    operator, options = SOLVERS[name]
    A, V = _spd(device)
    check_solver(getattr(solvers, name), operator, A, V, **options)


def test_the_solver_check_catches_a_wrong_shape_and_a_false_residual():
    A, V = _spd("cpu")

    def flattens(A, V):
        r = solvers.solve_exact(A, V)
        return InverseHVP(r.x.reshape(-1), r.n_hvp, r.residual, r.method)

    def boasts(A, V):
        r = solvers.solve_exact(A, V + 0.01)
        return InverseHVP(r.x, r.n_hvp, 0.0, r.method)

    for broken, message in [(flattens, "shaped like V"), (boasts, "solves A x = v")]:
        with pytest.raises(AssertionError, match=message):
            check_solver(broken, lambda A: A, A, V)


# ---------------------------------------------------------------------------- subset trainers
TRAINERS = {
    "train_on_subsets": {"weight_decay": 0.1, "tol": 1e-8},
    "sgd_on_subsets": {"weight_decay": 0.1, "lr": 0.3, "n_iter": 5, "batch_size": 3},
}


def _data(device):
    gen = torch.Generator().manual_seed(2)
    X = torch.randn(12, 3, generator=gen, dtype=torch.float64)
    y = (X[:, 0] > 0).double()
    Xt = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    yt = (Xt[:, 0] > 0).double()
    return [t.to(device) for t in (X, y, Xt, yt)]


def test_every_subset_trainer_is_checked():
    assert {n for n in _public_functions(subset_training) if n.endswith("_on_subsets")} == set(TRAINERS)


@pytest.mark.parametrize("name", sorted(TRAINERS))
def test_subset_trainers_meet_their_contract(name, device):
    X, y, Xt, yt = _data(device)
    model = torch.nn.Linear(3, 1).double().to(device)
    check_subset_trainer(getattr(subset_training, name), model, logistic_loss, X, y, Xt, yt, **TRAINERS[name])


def test_the_trainer_check_catches_a_bare_array_and_a_trained_model():
    X, y, Xt, yt = _data("cpu")

    def bare(*args, **kwargs):
        return subset_training.train_on_subsets(*args, **kwargs).outputs

    def trains_in_place(model, *args, **kwargs):
        with torch.no_grad():
            model.bias.add_(1.0)
        return subset_training.train_on_subsets(model, *args, **kwargs)

    for broken, message in [(bare, "returns SubsetOutputs"), (trains_in_place, "parameters")]:
        with pytest.raises(AssertionError, match=message):
            check_subset_trainer(broken, torch.nn.Linear(3, 1).double(), logistic_loss, X, y, Xt, yt,
                                 **TRAINERS["train_on_subsets"])
