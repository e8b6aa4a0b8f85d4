"""creditlib runs where its inputs are (issue 21, items 2 and 3).

One list of calls, ``CASES``, covers every public function of the audited modules that takes a model or
tensors. Each case builds its inputs on a device (outside the call) and returns a zero-argument ``run`` that
makes the public call. Three tests use it:

* ``test_runs_on_the_inputs_device``: on every ``device`` (conftest: "cpu", and "cuda" when torch sees one)
  the tensors returned live on that device, and every result (tensors, arrays, numbers) equals the CPU's:
  seeded draws give the same numbers on every device.
* ``test_allocates_on_the_inputs_device``: on the CPU, :class:`device_check.DeviceLeakRecorder` watches the
  call and fails on any tensor creditlib allocates without a ``device=``, any ``.numpy()`` / ``np.asarray`` of
  a tensor not copied to the CPU, and any call that reseeds a global generator. This fails on a CPU-only
  machine when a device-less allocation is put back.
* ``test_no_global_generator_changes``: the CPU's (and each GPU's) global generator is the same after a call.

``test_every_public_function_is_classified`` keeps the list complete: each public callable of the audited
modules has a case or is named in ``NO_TENSORS`` (it takes no model and no tensors) or ``OWNED_ELSEWHERE``.
"""
from __future__ import annotations

import copy
import dataclasses
import importlib
import math
import types
import warnings

import numpy as np
import pytest
import torch

from device_check import DeviceLeakRecorder
from creditlib import (chapter_games, coalitions, datamodels, estimators, game_builders, games, harmonic, influence,
                       models, rationals, saliency, shapley, solvers, training, validation)
from creditlib.training import logistic_loss

AUDITED = ["training", "solvers", "influence", "saliency", "models", "validation", "matched_pair", "interactions",
           "shapley", "estimators", "games", "game_builders", "chapter_games", "coalitions", "schemes", "axioms",
           "plotting", "datasets", "datamodels", "subset_training", "harmonic", "rationals"]

NO_TENSORS = {
    # classes of errors, warnings and results, and functions of NumPy arrays, games, counts and seeds
    "solvers.DivergenceError", "solvers.NotPositiveDefiniteError", "solvers.InverseHVP",
    "saliency.quadrature_rule", "saliency.parameterised_layers", "saliency.TCAVResult",
    "models.token_task",
    "validation.ConvergenceWarning", "validation.warn_unconverged", "validation.check_random_state",
    "validation.torch_generator", "validation.check_int", "validation.check_index", "validation.check_open_unit",
    "validation.check_positive", "validation.progress_bar",
    "datamodels.subset_masks", "harmonic.inverse_p_biased_fourier", "harmonic.noise_stability",
    "harmonic.correlated_masks", "harmonic.NoiseStabilityEstimate",
    "datasets.digit_pair", "datasets.breast_cancer_players", "datasets.digits_images",
    "saliency.Quadrature", "saliency.Attribution", "saliency.CAV", "saliency.AdversarialAttention",   # result types
    "datasets.Split", "datasets.NoisyLabels", "datamodels.LDSScore", "subset_training.SubsetOutputs",
    "estimators.ShapleyEstimate", "games.empty_and_grand", "rationals.rationals_if_exact", "rationals.is_exact", "rationals.as_fraction",
    "rationals.exact_or_float", "rationals.to_sympy", "rationals.reciprocal",
}
for _module in ["matched_pair", "interactions", "coalitions", "schemes", "axioms", "plotting"]:
    NO_TENSORS.add(f"{_module}.*")                  # games, NumPy arrays and sequences of numbers only
for _name in ["coalition_table", "shapley_weights", "random_size_weights", "banzhaf_weights", "semivalue_exact",
              "shapley_exact", "banzhaf_exact", "weighted_banzhaf_weights", "weighted_banzhaf_exact",
              "harsanyi_dividends", "game_from_dividend_table"]:
    NO_TENSORS.add(f"shapley.{_name}")               # a Game in, arrays out (a Game's utility is tested below)
for _name in ["shapley_permutation", "difference_allocation", "shapley_difference", "shapley_antithetic",
              "shapley_stratified", "shapley_kernel", "shapley_kernel_weights", "shapley_leverage",
              "shapley_regression_adjusted"]:
    NO_TENSORS.add(f"estimators.{_name}")
for _name in ["unanimity_game", "game_from_dividends", "random_game", "random_structured_game", "symbolic_utilities",
              "random_dividend_game", "pairwise_game", "sparse_unanimity_game", "airport_game"]:
    NO_TENSORS.add(f"game_builders.{_name}")
for _name in ["dataset_pricing_game", "corner_detector_game", "data_valuation_game"]:
    NO_TENSORS.add(f"chapter_games.{_name}")

OWNED_ELSEWHERE = {"subset_training.train_on_subsets", "subset_training.sgd_on_subsets",
                   "subset_training.bytes_per_model"}
"""The batched trainers and their memory estimate have their device tests in tests/test_datamodels_training.py."""

CASES: dict[str, tuple] = {}


def case(name: str, *, rtol: float = 1e-7, atol: float = 1e-9, compare: bool = True):
    """Register ``setup(device) -> run``; ``name`` is ``module.function`` (a suffix in brackets for variants)."""
    def register(setup):
        assert name not in CASES, name
        CASES[name] = (setup, rtol, atol, compare)
        return setup
    return register


# ---------------------------------------------------------------------------- shared inputs (built on the CPU)
def _gen(seed=0):
    return torch.Generator(device="cpu").manual_seed(seed)


def _logistic_problem():
    X = torch.randn(16, 3, generator=_gen(1), dtype=torch.float64)
    y = (X[:, 0] + 0.5 * torch.randn(16, generator=_gen(2), dtype=torch.float64) > 0).double()
    model = torch.nn.Linear(3, 1).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.3, -0.2, 0.1]], dtype=torch.float64))
        model.bias.fill_(0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        training.train_to_convergence(model, logistic_loss, X, y, weight_decay=0.1, tol=1e-10)
    return model, X, y


LOGISTIC = _logistic_problem()


def logistic(device):
    model, X, y = LOGISTIC
    return copy.deepcopy(model).to(device), X.to(device), y.to(device)


def digits_cnn(device, n=3):
    model = models.DigitsCNN(seed=0).eval()
    x = torch.rand(n, 1, 8, 8, generator=_gen(3), dtype=torch.float64)
    return model.to(device), x.to(device)


def tiny_attention(device, uniform=False, n_layers=1):
    model = models.TinyAttention(8, 6, d_model=8, n_layers=n_layers, uniform=uniform, seed=0).eval()
    tokens, labels = models.token_task(4, length=6, vocab_size=8, seed=0)
    return model.to(device), tokens.to(device), labels.to(device)


def spd(device, p=4):
    A = validation_matrix(p)
    return A.to(device), torch.randn(2, p, generator=_gen(4), dtype=torch.float64).to(device)


def validation_matrix(p):
    Q, _ = torch.linalg.qr(torch.randn(p, p, generator=_gen(5), dtype=torch.float64))
    return Q @ torch.diag(torch.linspace(1.0, 3.0, p, dtype=torch.float64)) @ Q.T


# ---------------------------------------------------------------------------- influence
@case("training.flatten")
def _(device):
    model, X, y = logistic(device)
    return lambda: training.flatten(model).theta


@case("training.FlatModel")
def _(device):
    model, X, y = logistic(device)
    fm = training.flatten(model)

    def run():
        out = fm(fm.theta * 2, X)
        fm.load(fm.theta * 1.5)
        return out, fm.unflatten(fm.theta)["weight"], model.weight.detach().clone()
    return run


@case("training.training_objective")
def _(device):
    model, X, y = logistic(device)
    fm = training.flatten(model)
    w = torch.linspace(0.5, 1.5, len(y), dtype=torch.float64).to(device)
    objective = training.training_objective(fm, logistic_loss, X, y, 0.1)
    return lambda: (objective(fm.theta), objective(fm.theta, w))


@case("training.train_to_convergence", rtol=1e-5, atol=1e-7)
def _(device):
    model, X, y = logistic(device)
    with torch.no_grad():
        model.weight.zero_()

    def run():
        training.train_to_convergence(model, logistic_loss, X, y, weight_decay=0.1, tol=1e-9)
        return model.weight.detach().clone()
    return run


@case("training.lbfgs_minimise", rtol=1e-5, atol=1e-7)
def _(device):
    A, V = spd(device)
    return lambda: training.lbfgs_minimise(lambda t: 0.5 * t @ A @ t - V[0] @ t, torch.zeros_like(V[0]), tol=1e-10)


@case("training.per_example_gradients")
def _(device):
    model, X, y = logistic(device)
    return lambda: training.per_example_gradients(model, logistic_loss, X, y)


@case("influence.hvp")
def _(device):
    model, X, y = logistic(device)
    v = torch.ones(2, 4, dtype=torch.float64)                  # on the CPU: moved to the model's device
    return lambda: influence.hvp(model, logistic_loss, X, y, v, weight_decay=0.1, damping=0.01)


@case("influence.make_hvp")
def _(device):
    model, X, y = logistic(device)
    v = torch.ones(4, dtype=torch.float32).to(device)
    return lambda: influence.make_hvp(model, logistic_loss, X, y, weight_decay=0.1)(v)


@case("influence.function_hvp")
def _(device):
    A, V = spd(device)
    return lambda: influence.function_hvp(lambda t: (t @ A @ t) ** 2 / 4, V[0], V[1])


@case("influence.dense_hessian")
def _(device):
    model, X, y = logistic(device)
    return lambda: influence.dense_hessian(model, logistic_loss, X, y, weight_decay=0.1)


@case("solvers.top_eigenvalue", rtol=1e-6)
def _(device):
    A, _ = spd(device)
    return lambda: solvers.top_eigenvalue(lambda u: A @ u, 4, n_iter=30, seed=3, device=device)


@case("solvers.solve_exact")
def _(device):
    A, V = spd(device)
    return lambda: solvers.solve_exact(A, V)


@case("solvers.relative_residual")
def _(device):
    A, V = spd(device)
    return lambda: solvers.relative_residual(lambda u: u @ A, V.flip(0), V)


@case("validation.check_tensor_pair")
def _(device):
    model, X, y = logistic(device)
    return lambda: validation.check_tensor_pair(X, y, "data")


@case("validation.check_masks_outputs")
def _(device):
    masks = torch.rand(6, 4, generator=_gen(8)).to(device) > 0.5
    outputs = torch.randn(6, 2, generator=_gen(9), dtype=torch.float64).to(device)
    return lambda: validation.check_masks_outputs(masks, outputs)


@case("rationals.as_value_array")
def _(device):
    return lambda: rationals.as_value_array(torch.arange(5, dtype=torch.float64).to(device))


@case("solvers.solve_cg")
def _(device):
    A, V = spd(device)
    return lambda: solvers.solve_cg(lambda u: u @ A, V, tol=1e-12)


@case("solvers.solve_neumann")
def _(device):
    A, V = spd(device)
    return lambda: solvers.solve_neumann(lambda u: u @ A, V, scale=0.4, tol=1e-10)


@case("solvers.solve_lissa", rtol=1e-6)
def _(device):
    model, X, y = logistic(device)
    op = influence.minibatch_hvp(model, logistic_loss, X, y, 0.1, 0.0, 4)
    v = torch.ones(4, dtype=torch.float64).to(device)
    return lambda: solvers.solve_lissa(op, v, scale=0.5, depth=20, repeats=3, seed=7)


@case("influence.minibatch_hvp")
def _(device):
    model, X, y = logistic(device)
    U = torch.ones(2, 4, dtype=torch.float64).to(device)
    op = influence.minibatch_hvp(model, logistic_loss, X, y, 0.1, 0.0, 5)
    return lambda: op(validation.torch_generator(1), U)


for _method in ["exact", "cg", "neumann", "lissa"]:
    def _inverse_hvp(device, method=_method):
        model, X, y = logistic(device)
        v = torch.linspace(-1, 1, 8, dtype=torch.float64).reshape(2, 4).to(device)
        options = {"depth": 30, "repeats": 2, "batch_size": 8} if method == "lissa" else {"tol": 1e-9}
        return lambda: influence.inverse_hvp(model, logistic_loss, X, y, v, weight_decay=0.1, method=method,
                                             **options)
    case(f"influence.inverse_hvp[{_method}]", rtol=1e-6, atol=1e-8)(_inverse_hvp)


@case("influence.influence_matrix", rtol=1e-6)
def _(device):
    model, X, y = logistic(device)
    return lambda: influence.influence_matrix(model, logistic_loss, X, y, X[:3], y[:3], weight_decay=0.1,
                                              method="exact")


@case("training.example_losses")
def _(device):
    model, X, y = logistic(device)
    return lambda: training.example_losses(model, logistic_loss, X, y)


for _optimizer in ["newton", "lbfgs"]:
    def _leave_one_out(device, optimizer=_optimizer):
        model, X, y = logistic(device)
        indices = torch.tensor([0, 5])                          # a CPU tensor of indices, for a model anywhere
        return lambda: influence.leave_one_out(model, logistic_loss, X, y, X[:2], y[:2], weight_decay=0.1,
                                               indices=indices, optimizer=optimizer)
    case(f"influence.leave_one_out[{_optimizer}]", rtol=1e-4, atol=1e-7)(_leave_one_out)


# ---------------------------------------------------------------------------- saliency
@case("saliency.target_scores")
def _(device):
    model, x = digits_cnn(device)
    return lambda: saliency.target_scores(model, x, target=torch.tensor([1, 2, 3]))


@case("saliency.vanilla_gradient")
def _(device):
    model, x = digits_cnn(device)
    return lambda: (saliency.vanilla_gradient(model, x, target=4),
                    saliency.vanilla_gradient(lambda z: model(z)[:, 2], x))


@case("saliency.gradient_times_input")
def _(device):
    model, x = digits_cnn(device)
    return lambda: saliency.gradient_times_input(model, x, target=2)


for _method in saliency.METHODS:
    def _ig(device, method=_method):
        model, x = digits_cnn(device)
        baseline = np.full((1, 8, 8), 0.1)                       # NumPy, moved to the inputs' device
        return lambda: saliency.integrated_gradients(model, x, baseline, target=torch.tensor([0, 1, 2]),
                                                     n_steps=5, method=method, chunk_size=4)
    case(f"saliency.integrated_gradients[{_method}]", rtol=1e-6)(_ig)


@case("saliency.smoothgrad", rtol=1e-6)
def _(device):
    model, x = digits_cnn(device)
    return lambda: saliency.smoothgrad(model, x, target=3, n_samples=4, seed=5)


@case("saliency.randomize_layers")
def _(device):
    model, x = digits_cnn(device)
    return lambda: saliency.randomize_layers(model, 2, seed=4)


@case("saliency.rank_correlation")
def _(device):
    a = torch.randn(3, 10, generator=_gen(6), dtype=torch.float64).to(device).requires_grad_(True)
    b = torch.randn(3, 10, generator=_gen(7), dtype=torch.float64).to(device)
    return lambda: (saliency.rank_correlation(a, b), saliency.rank_correlation(a, b, method="kendall"))


@case("saliency.top_k_precision")
def _(device):
    a = torch.randn(3, 10, generator=_gen(6), dtype=torch.float64).to(device)
    return lambda: saliency.top_k_precision(a, (a > 0), 3)


def _activations(device):
    concept = torch.randn(12, 5, generator=_gen(8), dtype=torch.float64) + 1.0
    randoms = [torch.randn(12, 5, generator=_gen(9 + i), dtype=torch.float64) for i in range(3)]
    return concept.to(device), [r.to(device) for r in randoms]


@case("saliency.concept_activation_vector")
def _(device):
    concept, randoms = _activations(device)
    return lambda: saliency.concept_activation_vector(concept, randoms[0], seed=1)


@case("saliency.mean_difference_cav")
def _(device):
    concept, randoms = _activations(device)
    return lambda: saliency.mean_difference_cav(concept, randoms[0])


def _head(device):
    head = torch.nn.Linear(5, 3).double()
    with torch.no_grad():
        head.weight.copy_(torch.linspace(-1, 1, 15, dtype=torch.float64).reshape(3, 5))
    return head.to(device)


@case("saliency.conceptual_sensitivity")
def _(device):
    concept, randoms = _activations(device)
    head = _head(device)
    cav = torch.linspace(0, 1, 5, dtype=torch.float64).to(device)
    return lambda: saliency.conceptual_sensitivity(head, concept, cav, target=1)


@case("saliency.tcav_score")
def _(device):
    concept, randoms = _activations(device)
    head = _head(device)
    return lambda: saliency.tcav_score(head, randoms[1], saliency.mean_difference_cav(concept, randoms[0]), target=2)


@case("saliency.tcav_significance")
def _(device):
    concept, randoms = _activations(device)
    head = _head(device)
    return lambda: saliency.tcav_significance(head, randoms[2], concept, randoms, target=2, seed=0)


@case("saliency.erasure_importance")
def _(device):
    model, tokens, labels = tiny_attention(device)
    return lambda: saliency.erasure_importance(model, tokens, target=labels)


@case("saliency.token_gradient_importance")
def _(device):
    model, tokens, labels = tiny_attention(device)
    return lambda: saliency.token_gradient_importance(model, tokens, target=1)


@case("saliency.jensen_shannon")
def _(device):
    p = torch.softmax(torch.randn(3, 5, generator=_gen(10), dtype=torch.float64), -1).to(device)
    q = torch.softmax(torch.randn(3, 5, generator=_gen(11), dtype=torch.float64), -1).to(device)
    return lambda: saliency.jensen_shannon(p, q)


@case("saliency.adversarial_attention", rtol=1e-5, atol=1e-7)
def _(device):
    model, tokens, labels = tiny_attention(device)
    return lambda: saliency.adversarial_attention(model, tokens, n_iter=5, seed=2)


@case("saliency.removals_to_flip")
def _(device):
    model, tokens, labels = tiny_attention(device)
    order = torch.arange(6).repeat(4, 1)                        # a CPU order for tokens anywhere
    return lambda: saliency.removals_to_flip(model, tokens, order)


@case("saliency.attention_rollout")
def _(device):
    model, tokens, labels = tiny_attention(device, n_layers=2)
    alpha, maps = model.attention_maps(tokens)
    return lambda: (saliency.attention_rollout(maps), saliency.attention_rollout(maps, alpha))


# ---------------------------------------------------------------------------- models
@case("models.DigitsCNN")
def _(device):
    model, x = digits_cnn(device)
    return lambda: (models.DigitsCNN(seed=1).to(device)(x), model(x))


@case("models.train_classifier", rtol=1e-6, atol=1e-8)
def _(device):
    model, x = digits_cnn(device, n=10)
    y = torch.arange(10).to(device)
    return lambda: models.train_classifier(model, x, y, epochs=2, batch_size=4, seed=3)


@case("models.accuracy")
def _(device):
    model, x = digits_cnn(device, n=10)
    return lambda: models.accuracy(model, x, torch.arange(10).to(device))


for _uniform in [False, True]:
    def _tiny(device, uniform=_uniform):
        model, tokens, labels = tiny_attention(device, uniform=uniform)
        keep = (tokens != 0)
        weights = torch.full(tokens.shape, 1 / 6, dtype=torch.float64).to(device)

        def run():
            h = model.embed_tokens(tokens)
            return (model(tokens), model(tokens, keep=keep), model(tokens, embeddings=h),
                    model(tokens, pool_weights=weights), model.attention_maps(tokens, keep=keep))
        return run
    case(f"models.TinyAttention[uniform={_uniform}]")(_tiny)


# ---------------------------------------------------------------------------- datamodels (not the trainers)
@case("training.logistic_loss")
def _(device):
    z = torch.linspace(-2, 2, 6, dtype=torch.float64).reshape(6, 1).to(device)
    return lambda: training.logistic_loss(z, torch.tensor([0, 1, 0, 1, 1, 0]).to(device))


@case("training.softmax_cross_entropy")
def _(device):
    z = torch.linspace(-2, 2, 12, dtype=torch.float64).reshape(4, 3).to(device)
    return lambda: training.softmax_cross_entropy(z, torch.tensor([0, 1, 2, 1]).to(device))


@case("training.margins")
def _(device):
    z = torch.linspace(-2, 2, 24, dtype=torch.float64).reshape(2, 4, 3).to(device)
    t = torch.tensor([0, 1, 2, 1]).to(device)
    return lambda: (training.margins(z, t), training.margins(z[..., :1], t % 2))


def _masks_outputs(device, n_train=6, m=40):
    masks = torch.rand(m, n_train, generator=_gen(12)) < 0.5
    weights = torch.linspace(-1, 1, 2 * n_train, dtype=torch.float64).reshape(2, n_train)
    outputs = masks.double() @ weights.T + 0.01 * torch.randn(m, 2, generator=_gen(13), dtype=torch.float64)
    return masks.to(device), outputs.to(device), weights.to(device)


@case("datamodels.fit_datamodels", rtol=1e-6)
def _(device):
    masks, outputs, _ = _masks_outputs(device)
    return lambda: datamodels.fit_datamodels(masks, outputs, alpha=0.001)


@case("datamodels.Datamodels")
def _(device):
    masks, outputs, _ = _masks_outputs(device)
    fitted = datamodels.fit_datamodels(masks.cpu().numpy(), outputs.cpu().numpy(), alpha=0.001)
    return lambda: fitted.predict(masks)


@case("datamodels.lds")
def _(device):
    masks, outputs, weights = _masks_outputs(device)
    return lambda: datamodels.lds(weights, masks, outputs)


@case("estimators.banzhaf_msr")
def _(device):
    masks, outputs, _ = _masks_outputs(device)
    return lambda: estimators.banzhaf_msr(masks, outputs[:, 0])


@case("harmonic.noise_stability_estimate")
def _(device):
    weights = torch.linspace(-1, 1, 6, dtype=torch.float64).to(device)

    def utility(masks):                                          # returns a tensor on the device
        return torch.as_tensor(masks, device=device).double() @ weights
    return lambda: harmonic.noise_stability_estimate(utility, 6, 0.5, n_pairs=20, seed=0)


@case("harmonic.p_biased_fourier")
def _(device):
    table = torch.linspace(0, 1, 16, dtype=torch.float64).to(device)
    return lambda: harmonic.p_biased_fourier(table, 0.3)


@case("harmonic.fourier_weight_by_degree")
def _(device):
    table = torch.linspace(0, 1, 16, dtype=torch.float64).to(device)
    return lambda: harmonic.fourier_weight_by_degree(table)


# ---------------------------------------------------------------------------- games and Shapley values of tensors
def _table(device, n=3):
    return torch.tensor([0.0, 1.0, 2.0, 4.0, 1.5, 3.0, 2.5, 6.0][:2**n], dtype=torch.float64).to(device)


@case("games.Game")
def _(device):
    table = _table(device)
    masks = torch.tensor([[True, False, True], [False, False, False]]).to(device)
    tensor_game = games.Game(3, lambda m: torch.as_tensor(m, device=device).double().sum(1))

    def run():
        game = games.Game.from_bitmask_table(table)
        return game(masks), game.values(), tensor_game(masks), shapley.shapley_exact(tensor_game)
    return run


@case("coalitions.coalition_codes")
def _(device):
    masks = torch.tensor([[True, False, True], [False, True, True]]).to(device)
    return lambda: coalitions.coalition_codes(masks)


@case("game_builders.weighted_voting_game")
def _(device):
    weights = torch.tensor([3, 2, 1]).to(device)
    return lambda: game_builders.weighted_voting_game(weights, 4).values()


@case("chapter_games.squared_sum_game")
def _(device):
    weights = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64).to(device)
    return lambda: chapter_games.squared_sum_game(weights).values()


@case("game_builders.feature_game")
def _(device):
    w = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64).to(device)
    x = torch.tensor([1.0, 1.0, 2.0], dtype=torch.float64).to(device)
    return lambda: game_builders.feature_game(lambda inputs: torch.as_tensor(inputs, device=device) @ w, x).values()


@case("shapley.semivalue_from_table")
def _(device):
    table = _table(device)
    return lambda: shapley.semivalue_from_table(table, torch.tensor(shapley.shapley_weights(3)).to(device))


@case("shapley.shapley_by_permutations")
def _(device):
    table = _table(device)
    orders = torch.tensor([[0, 1, 2], [2, 0, 1]]).to(device)
    return lambda: (shapley.shapley_by_permutations(table), shapley.shapley_by_permutations(table, orders))


@case("shapley.shapley_difference_exact")
def _(device):
    table = _table(device)
    return lambda: shapley.shapley_difference_exact(table, 0, 2)


@case("shapley.dividends_from_table")
def _(device):
    table = _table(device)
    return lambda: shapley.dividends_from_table(table)


@case("shapley.shapley_from_dividends")
def _(device):
    table = _table(device)
    return lambda: shapley.shapley_from_dividends(table)


@case("estimators.difference_terms")
def _(device):
    subsets = torch.tensor([[True, False, False, False], [False, True, False, False]]).to(device)
    return lambda: estimators.difference_terms(lambda m: torch.as_tensor(m, device=device).double().sum(1) ** 2,
                                            subsets)


# ---------------------------------------------------------------------------- validation
@case("validation.cpu_draw")
def _(device):
    return lambda: (validation.cpu_draw(torch.randn, 5, generator=validation.torch_generator(3),
                                        dtype=torch.float32, device=device),
                    validation.cpu_draw(torch.randperm, 7, generator=validation.torch_generator(3), device=device))


@case("validation.as_numpy")
def _(device):
    t = torch.linspace(0, 1, 5, dtype=torch.float64).to(device).requires_grad_(True)
    return lambda: (validation.as_numpy(t), validation.as_numpy(t.to(torch.bfloat16)), validation.as_numpy([1, 2]))


@case("validation.tensor_devices", compare=False)
def _(device):
    model, x = digits_cnn(device)
    return lambda: validation.tensor_devices(model, x, "not a tensor") == [torch.device(device)]


@case("validation.seeded_torch_rng")
def _(device):
    def run():
        with validation.seeded_torch_rng(4, devices=[device]):
            return torch.nn.Linear(3, 2).double().to(device).weight.detach()
    return run


# ---------------------------------------------------------------------------- the tests
def _assert_same(out, ref, device, rtol, atol, where="result"):
    """``out`` (computed on ``device``) has its tensors on ``device`` and equals ``ref`` (computed on the CPU)."""
    if isinstance(out, torch.Tensor):
        assert out.device.type == torch.device(device).type, f"{where} is on {out.device}, not {device}"
        assert out.dtype == ref.dtype, f"{where}: dtype {out.dtype} on {device}, {ref.dtype} on the CPU"
        torch.testing.assert_close(out.detach().cpu(), ref.detach(), rtol=rtol, atol=atol, equal_nan=True,
                                   msg=lambda m: f"{where}: {m}")
    elif isinstance(out, torch.nn.Module):
        for (name, a), (_, b) in zip(out.state_dict().items(), ref.state_dict().items()):
            _assert_same(a, b, device, rtol, atol, f"{where}.{name}")
    elif dataclasses.is_dataclass(out) and not isinstance(out, type):
        for field in dataclasses.fields(out):
            if field.name != "module":
                _assert_same(getattr(out, field.name), getattr(ref, field.name), device, rtol, atol,
                             f"{where}.{field.name}")
    elif isinstance(out, (tuple, list)):
        assert len(out) == len(ref), where
        for i, (a, b) in enumerate(zip(out, ref)):
            _assert_same(a, b, device, rtol, atol, f"{where}[{i}]")
    elif isinstance(out, dict):
        assert out.keys() == ref.keys(), where
        for k in out:
            _assert_same(out[k], ref[k], device, rtol, atol, f"{where}[{k!r}]")
    elif isinstance(out, np.ndarray):
        assert isinstance(ref, np.ndarray) and out.dtype == ref.dtype, where
        if out.dtype == object:
            assert (out == ref).all(), where
        else:
            np.testing.assert_allclose(out, ref, rtol=rtol, atol=atol, err_msg=where)
    elif isinstance(out, float):
        assert (math.isnan(out) and math.isnan(ref)) or out == pytest.approx(ref, rel=rtol, abs=atol), where
    else:
        assert out == ref, where


def _run(name, device):
    setup = CASES[name][0]
    run = setup(device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", validation.ConvergenceWarning)
        return run()


@pytest.mark.parametrize("name", sorted(CASES))
def test_runs_on_the_inputs_device(name, device):
    _, rtol, atol, compare = CASES[name]
    out = _run(name, device)
    ref = out if device == "cpu" else _run(name, "cpu")
    if compare:
        _assert_same(out, ref, device, rtol, atol, name)
    else:
        assert out is True or out == ref


@pytest.mark.parametrize("name", sorted(CASES))
def test_allocates_on_the_inputs_device(name):
    """Fails on any CPU-only machine when creditlib allocates without taking the device from its inputs."""
    run = CASES[name][0]("cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", validation.ConvergenceWarning)
        with DeviceLeakRecorder() as recorder:
            run()
    assert not recorder.leaks, f"{name}:\n" + "\n".join(dict.fromkeys(recorder.leaks))


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_global_generator_changes(name, device):
    run = CASES[name][0](device)
    cpu_state = torch.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", validation.ConvergenceWarning)
        run()
    assert torch.equal(torch.get_rng_state(), cpu_state), f"{name} changed the CPU's global generator"
    if torch.cuda.is_available():
        after = torch.cuda.get_rng_state_all()
        assert all(torch.equal(a, b) for a, b in zip(after, cuda_states)), f"{name} changed a CUDA generator"


def test_every_public_function_is_classified():
    missing = []
    covered = {name.split("[")[0] for name in CASES}
    for module_name in AUDITED:
        module = importlib.import_module(f"creditlib.{module_name}")
        for attr, obj in vars(module).items():
            home = getattr(obj, "__module__", None) or ""
            if attr.startswith("_") or not callable(obj) or not (home == module.__name__
                                                                 or home.startswith(module.__name__ + ".")):
                continue
            key = f"{module_name}.{attr}"
            if key not in covered and key not in NO_TENSORS and f"{module_name}.*" not in NO_TENSORS \
                    and key not in OWNED_ELSEWHERE:
                missing.append(key)
    assert not missing, f"public functions with no device case and not listed as tensor-free: {missing}"


def test_the_recorder_sees_a_device_less_allocation(monkeypatch):
    """The detector itself: a device-less ``torch.eye`` put back into ``attention_rollout`` is reported."""
    real_eye = torch.eye

    def rollout_without_device(layer_attentions, pool_weights=None):
        eye = real_eye(layer_attentions[0].shape[-1], dtype=layer_attentions[0].dtype)
        return eye
    rollout_without_device.__code__ = rollout_without_device.__code__.replace(co_filename=saliency.__file__)
    maps = [torch.eye(3, dtype=torch.float64)[None]]
    with DeviceLeakRecorder() as recorder:
        rollout_without_device(maps)
    assert any("torch.eye without device=" in leak for leak in recorder.leaks), recorder.leaks
    with DeviceLeakRecorder() as recorder:
        saliency.attention_rollout(maps)
        np.asarray(torch.ones(2))                     # the test's own code is not creditlib's: not recorded
    assert recorder.leaks == []


def test_seeded_models_use_only_the_cpu_generator(monkeypatch):
    """``torch.manual_seed`` reseeds every GPU (or queues it until CUDA starts): seeded inits must not call it."""
    calls = []
    for owner, name in [(torch, "manual_seed"), (torch.cuda, "manual_seed_all"), (torch.cuda, "manual_seed")]:
        monkeypatch.setattr(owner, name, lambda *a, _n=name, **k: calls.append(_n))
    first = models.DigitsCNN(seed=3)
    models.TinyAttention(8, 6, seed=3)
    saliency.randomize_layers(first, 1, seed=3)
    assert calls == []
    assert torch.equal(models.DigitsCNN(seed=3).head[0].weight, first.head[0].weight)


def test_seeded_numbers_on_the_cpu_are_those_of_a_cpu_generator():
    """The documented rule: draws are made with a CPU generator seeded as ``torch.Generator().manual_seed``."""
    noise = validation.cpu_draw(torch.randn, 4, generator=validation.torch_generator(11), dtype=torch.float64,
                                device="meta")
    assert noise.device.type == "meta"
    expected = torch.randn(4, generator=torch.Generator().manual_seed(11), dtype=torch.float64)
    assert torch.equal(validation.cpu_draw(torch.randn, 4, generator=validation.torch_generator(11),
                                           dtype=torch.float64), expected)
    with pytest.raises(ValueError, match="CPU generator"):
        validation.cpu_draw(torch.randn, 4, generator=types.SimpleNamespace(device=torch.device("cuda", 0)))


def test_cg_warns_when_float32_round_off_hides_its_true_residual():
    """Issue 21: with float32 inputs, CG's recurrence residual reaches tol = 1e-10 while the true one cannot."""
    A = validation_matrix(30).float() + 100 * torch.eye(30, dtype=torch.float32)
    A[0, 0] += 1e4                                   # a spread spectrum: float32 round-off far above 1e-10
    v = torch.randn(30, generator=_gen(14), dtype=torch.float32)     # explicit: another test file sets float64
    with pytest.warns(validation.ConvergenceWarning, match="true relative residual"):
        result = solvers.solve_cg(lambda u: u @ A, v, tol=1e-10)
    true = float((A.double() @ result.x.double() - v.double()).norm() / v.double().norm())
    assert true > 100 * 1e-10 and result.residual > 100 * 1e-10
    result = solvers.solve_cg(lambda u: u @ A.double(), v.double(), tol=1e-10)    # float64: no warning
    assert result.residual <= 100 * 1e-10


def test_tiny_attention_runs_on_meta_tensors():
    """The meta device holds no values: a forward pass that allocates on the CPU fails on mixing devices."""
    model = models.TinyAttention(8, 6, d_model=8, n_layers=2).to("meta")
    uniform = models.TinyAttention(8, 6, d_model=8, uniform=True).to("meta")
    tokens = torch.zeros(3, 6, dtype=torch.long, device="meta")
    for m in (model, uniform):
        assert m(tokens).device.type == "meta"
        alpha, maps = m.attention_maps(tokens)
        assert saliency.attention_rollout(maps, alpha).shape == (3, 6)
