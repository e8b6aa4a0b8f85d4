"""creditlib.saliency against independent oracles: closed forms, scipy quadrature, exact Shapley values, hand values."""
import math

import numpy as np
import pytest
import torch
from scipy import integrate

from creditlib.game_builders import random_game
from creditlib.models import TinyAttention, token_task
from creditlib.saliency import (METHODS, attention_rollout, concept_activation_vector, conceptual_sensitivity,
                                erasure_importance, gradient_times_input, integrated_gradients, jensen_shannon,
                                adversarial_attention, mean_difference_cav, randomize_layers, rank_correlation,
                                removals_to_flip, smoothgrad, tcav_score, tcav_significance, token_gradient_importance,
                                top_k_precision, vanilla_gradient)
from creditlib.shapley import shapley_exact


def smooth_model(d=5, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    W1 = torch.randn(d, 8, generator=g, dtype=torch.float64)
    W2 = torch.randn(8, k, generator=g, dtype=torch.float64)
    return lambda x: torch.tanh(x @ W1) @ W2


def power_model(c, p):
    """Class 0's logit is F(x) = Σ c_i x_i^p; along the straight path from 0 the integrand is of degree p − 1 in α."""
    return lambda x: torch.stack([(c * x**p).sum(1), torch.zeros(len(x), dtype=x.dtype)], 1)


# ---------------------------------------------------------------------------- gradients
def test_vanilla_gradient_batches_and_class_targets_match_the_analytic_gradient():
    g = torch.Generator().manual_seed(1)
    W = torch.randn(4, 3, generator=g, dtype=torch.float64)
    x = torch.randn(6, 4, generator=g, dtype=torch.float64)
    model = lambda z: torch.tanh(z @ W)
    target = torch.tensor([0, 1, 2, 2, 1, 0])
    expected = (1 - torch.tanh(x @ W) ** 2)[torch.arange(6), target][:, None] * W[:, target].T
    torch.testing.assert_close(vanilla_gradient(model, x, target=target), expected, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(vanilla_gradient(model, x, target=1), (1 - torch.tanh(x @ W) ** 2)[:, 1:2] * W[:, 1],
                               rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(gradient_times_input(model, x, target=target), x * expected, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------- integrated gradients
@pytest.mark.parametrize("method", METHODS)
def test_ig_of_a_linear_model_is_difference_times_weight(method):
    g = torch.Generator().manual_seed(2)
    W, bias = torch.randn(5, 4, generator=g, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    x, base = torch.randn(3, 5, generator=g, dtype=torch.float64), torch.randn(3, 5, generator=g, dtype=torch.float64)
    target = torch.tensor([3, 0, 2])
    attr, delta = integrated_gradients(lambda z: z @ W + bias, x, base, target=target, n_steps=7, method=method)
    torch.testing.assert_close(attr, (x - base) * W[:, target].T, rtol=1e-12, atol=1e-12)
    assert delta.abs().max() < 1e-12


def test_saturation_counterexample():
    # F(x) = 1 − ReLU(1 − x) at x = 2, baseline 0: gradient 0, IG 1 (Sundararajan et al. 2017)
    model = lambda x: torch.stack([1 - torch.relu(1 - x[:, 0]), 0 * x[:, 0]], 1)
    x = torch.tensor([[2.0]], dtype=torch.float64)
    assert vanilla_gradient(model, x, target=0).item() == 0.0
    attr, _ = integrated_gradients(model, x, target=0, n_steps=1000, method="riemann_middle")
    assert abs(attr.item() - 1.0) < 1e-9                  # the integrand is 1 on (0, 1/2) exactly: midpoints are exact


@pytest.mark.parametrize("method, n_steps, exact_degree", [
    ("gausslegendre", 1, 1), ("gausslegendre", 3, 5), ("gausslegendre", 6, 11),
    ("riemann_trapezoid", 2, 1), ("riemann_trapezoid", 9, 1), ("riemann_middle", 4, 1)])
def test_quadrature_exact_on_polynomial_paths_up_to_its_degree_and_not_beyond(method, n_steps, exact_degree):
    g = torch.Generator().manual_seed(3)
    c = torch.randn(4, generator=g, dtype=torch.float64)
    x = 0.5 + torch.rand(2, 4, generator=g, dtype=torch.float64)
    for degree in (exact_degree, exact_degree + 1):      # integrand α^degree: p = degree + 1
        attr, delta = integrated_gradients(power_model(c, degree + 1), x, target=0, n_steps=n_steps, method=method)
        exact = c * x ** (degree + 1)                     # IG_i = c_i x_i^p in closed form
        err = (attr - exact).abs().max().item()
        if degree <= exact_degree:
            assert err < 1e-12 and delta.abs().max() < 1e-12, (degree, err)
        else:
            assert err > 1e-8, (degree, err)          # round-off is below 1e-12


@pytest.mark.parametrize("method, sign", [("riemann_left", -1), ("riemann_right", 1)])
def test_left_and_right_sums_in_closed_form(method, sign):
    # F = Σ c_i x_i², baseline 0: the integrand is 2 c_i x_i² α, and Σ_k α_k / n = (1 ∓ 1/n) / 2 for left/right
    c = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    x = torch.tensor([[0.3, 1.2, -0.7]], dtype=torch.float64)
    for n in (1, 3, 10):
        attr, _ = integrated_gradients(power_model(c, 2), x, target=0, n_steps=n, method=method)
        torch.testing.assert_close(attr, c * x**2 * (1 + sign / n), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("method, n_steps, rtol", [
    ("gausslegendre", 20, 1e-10), ("riemann_middle", 100, 1e-3), ("riemann_trapezoid", 100, 1e-3),
    ("riemann_left", 1000, 1e-2), ("riemann_right", 1000, 1e-2)])
def test_completeness_and_accuracy_on_a_smooth_model(method, n_steps, rtol):
    model = smooth_model()
    g = torch.Generator().manual_seed(4)
    x, base = torch.randn(3, 5, generator=g, dtype=torch.float64), torch.zeros(5, dtype=torch.float64)
    attr, delta = integrated_gradients(model, x, base, target=1, n_steps=n_steps, method=method, chunk_size=37)
    gap = model(x)[:, 1] - model(torch.zeros_like(x))[:, 1]
    torch.testing.assert_close(delta, attr.sum(1) - gap, rtol=0, atol=1e-12)          # the signed gap, as defined
    assert (delta.abs() <= rtol * gap.abs()).all(), (delta, gap)
    # each coordinate against scipy's adaptive quadrature of the gradient along the path
    for b in range(3):
        def integrand(a, i, b=b):
            return vanilla_gradient(model, (a * x[b])[None], target=1)[0, i].item()
        ref = [x[b, i].item() * integrate.quad(integrand, 0, 1, args=(i,), epsabs=1e-13)[0] for i in range(5)]
        np.testing.assert_allclose(attr[b].numpy(), ref, rtol=0, atol=rtol * gap.abs().max().item())


def test_batch_size_does_not_change_the_result():
    model = smooth_model()
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    ref, _ = integrated_gradients(model, x, target=2, n_steps=30, chunk_size=1000)
    for bs in (1, 7, 30):
        got, _ = integrated_gradients(model, x, target=2, n_steps=30, chunk_size=bs)
        torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-13)


def test_ig_of_the_multilinear_extension_is_the_shapley_value_owen():
    for seed in range(4):
        n = 4
        game = random_game(n, seed=seed)
        table = game.values()                                 # U(S), S by bitmask
        masks = torch.tensor([[(s >> i) & 1 for i in range(n)] for s in range(2**n)], dtype=torch.float64)
        U = torch.as_tensor(np.asarray(table, dtype=np.float64))

        def extension(z, masks=masks, U=U):                   # Ũ(z) = Σ_S U(S) Π_{i∈S} z_i Π_{i∉S} (1 − z_i)
            prob = torch.where(masks[None].bool(), z[:, None, :], 1 - z[:, None, :]).prod(-1)
            return torch.stack([prob @ U, torch.zeros(len(z), dtype=z.dtype)], 1)
        attr, delta = integrated_gradients(extension, torch.ones(1, n, dtype=torch.float64), target=0,
                                           n_steps=n, method="gausslegendre")   # degree n − 1 ≤ 2n − 1: exact
        np.testing.assert_allclose(attr[0].numpy(), shapley_exact(game), rtol=1e-10, atol=1e-12)


def test_min_model_ig_differs_from_the_shapley_value():
    model = lambda x: torch.stack([torch.minimum(x[:, 0], x[:, 1]), 0 * x[:, 0]], 1)
    attr, _ = integrated_gradients(model, torch.tensor([[1.0, 3.0]], dtype=torch.float64), target=0,
                                   n_steps=64, method="riemann_middle")
    np.testing.assert_allclose(attr[0].numpy(), [1.0, 0.0], atol=1e-12)


# ---------------------------------------------------------------------------- bad input
def test_bad_input_gets_a_clear_error():
    model = smooth_model()
    x = torch.zeros(2, 5, dtype=torch.float64)
    with pytest.raises(ValueError, match="baseline must have the input's shape"):
        integrated_gradients(model, x, torch.zeros(2, 4, dtype=torch.float64), target=0)
    with pytest.raises(ValueError, match="does not depend differentiably"):
        integrated_gradients(lambda z: model(z).detach(), x, target=0)
    with pytest.raises(ValueError, match="does not depend differentiably"):
        vanilla_gradient(lambda z: torch.as_tensor(model(z).detach().numpy()), x, target=0)
    for bad in (3, -1, torch.tensor([0, 5])):
        with pytest.raises(ValueError, match="out of range"):
            integrated_gradients(model, x, target=bad)
        with pytest.raises(ValueError, match="out of range"):
            smoothgrad(model, x, target=bad, n_samples=2)
    with pytest.raises(ValueError, match="one class index per example"):
        vanilla_gradient(model, x, target=torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="method must be one of"):
        integrated_gradients(model, x, target=0, method="simpson")
    with pytest.raises(ValueError, match="n_steps"):
        integrated_gradients(model, x, target=0, n_steps=1, method="riemann_trapezoid")
    with pytest.raises(ValueError, match=r"shape \(batch, classes\)"):
        integrated_gradients(lambda z: z.sum(1), x, target=0)
    with pytest.raises(ValueError, match="noise_level"):
        smoothgrad(model, x, target=0, noise_level=-0.1)


# ---------------------------------------------------------------------------- SmoothGrad
def test_smoothgrad_noise_is_a_fraction_of_each_inputs_range():
    # F = Σ x_i³: E[∂_i F(x + σε)] = 3 x_i² + 3σ², σ = noise_level × (max x − min x) of that example
    model = lambda z: torch.stack([(z**3).sum(1), 0 * z[:, 0]], 1)
    x = torch.stack([torch.linspace(0, 1, 40), torch.linspace(-2, 2, 40)]).double()
    n = 3000
    sg = smoothgrad(model, x, target=0, noise_level=0.2, n_samples=n, seed=0)
    for b, sigma in ((0, 0.2 * 1.0), (1, 0.2 * 4.0)):
        excess = (sg[b] - 3 * x[b] ** 2).mean().item()
        sd = 3 * math.sqrt((4 * (x[b] ** 2).mean().item() * sigma**2 + 2 * sigma**4) / (n * 40))
        assert abs(excess - 3 * sigma**2) < 5 * sd, (b, excess, 3 * sigma**2, sd)
    torch.testing.assert_close(smoothgrad(model, x, target=0, noise_level=0.0, n_samples=3), 3 * x**2)


# ---------------------------------------------------------------------------- sanity checks
def small_net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 5),
                               torch.nn.ReLU(), torch.nn.Linear(5, 2)).double()


def test_randomize_layers_cascades_from_the_logits_down():
    net = small_net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    for n_top, changed in ((0, set()), (1, {"4"}), (2, {"4", "2"}), (3, {"4", "2", "0"})):
        copy = randomize_layers(net, n_top, seed=1)
        for key, value in copy.state_dict().items():
            assert torch.equal(value, before[key]) == (key.split(".")[0] not in changed), (n_top, key)
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key])                     # the original is untouched
    a, b = randomize_layers(net, 2, seed=7), randomize_layers(net, 2, seed=7)
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in before)
    with pytest.raises(ValueError, match="n_top"):
        randomize_layers(net, 4)


def test_rank_correlation_hand_values():
    a = np.array([[-3.0, 1.0, 2.0], [1.0, 2.0, 3.0]])
    b = np.array([[3.0, 1.0, 2.0], [3.0, 2.0, 1.0]])
    np.testing.assert_allclose(rank_correlation(a, b), [1.0, -1.0])
    np.testing.assert_allclose(rank_correlation(a, b, absolute=False), [-0.5, -1.0])   # 1 − 6·6/(3·8)
    np.testing.assert_allclose(rank_correlation(a, b, absolute=False, method="kendall"), [-1 / 3, -1.0])
    with pytest.raises(ValueError, match="same shape"):
        rank_correlation(a, b[:, :2])



def test_top_k_precision_hand_values_and_brute_force():
    imp = np.array([[0.1, 0.9, 0.5, 0.3], [4.0, 3.0, 2.0, 1.0], [1.0, 1.0, 0.0, 1.0]])
    rel = np.array([[False, True, False, True], [False, False, True, True], [False, True, True, False]])
    np.testing.assert_allclose(top_k_precision(imp, rel, 1), [1.0, 0.0, 0.0])        # ties: the earlier first
    np.testing.assert_allclose(top_k_precision(imp, rel, 2), [0.5, 0.0, 0.5])
    np.testing.assert_allclose(top_k_precision(imp, rel, 4), rel.mean(1))            # all positions: the share in R
    rng = np.random.default_rng(0)
    imp, rel = rng.normal(size=(30, 7)), rng.random((30, 7)) < 0.3
    for k in (1, 3, 7):
        brute = [sum(r[j] for j in sorted(range(7), key=lambda j: -s[j])[:k]) / k for s, r in zip(imp, rel)]
        np.testing.assert_allclose(top_k_precision(torch.as_tensor(imp), torch.as_tensor(rel), k), brute)
    with pytest.raises(ValueError, match="k"):
        top_k_precision(imp, rel, 8)
    with pytest.raises(ValueError, match="boolean"):
        top_k_precision(imp, rel.astype(float), 2)
    with pytest.raises(ValueError, match="same shape"):
        top_k_precision(imp, rel[:, :3], 2)

# ---------------------------------------------------------------------------- TCAV
def concept_data(seed, d=10, n=60, shift=3.0):
    rng = np.random.default_rng(seed)
    u = np.zeros(d)
    u[0] = 1.0                                                   # the concept direction
    randoms = [rng.normal(size=(n, d)) for _ in range(6)]
    concept = rng.normal(size=(n, d)) + shift * u
    acts = torch.as_tensor(rng.normal(size=(80, d)))
    return u, concept, randoms, acts


def test_tcav_score_of_a_linear_head_is_the_sign_of_w_dot_v():
    w = torch.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 1.0]], dtype=torch.float64)
    head = lambda a: a @ w.T
    acts = torch.randn(10, 3, dtype=torch.float64)
    v = np.array([0.6, 0.0, 0.8])
    torch.testing.assert_close(conceptual_sensitivity(head, acts, v, target=0), torch.full((10,), 0.6 + 0.4, dtype=torch.float64))
    assert tcav_score(head, acts, v, target=0) == 1.0 and tcav_score(head, acts, -v, target=0) == 0.0


def test_cav_finds_the_planted_direction():
    u, concept, randoms, _ = concept_data(0, shift=5.0)       # Bayes accuracy Φ(2.5) ≈ 0.994
    cav, acc = concept_activation_vector(concept, randoms[0], seed=0)
    assert abs(np.linalg.norm(cav) - 1) < 1e-12 and cav @ u > 0.8 and acc > 0.9



def test_mean_difference_cav_is_the_pattern_and_the_nearest_mean_normal():
    rng = np.random.default_rng(3)
    concept, randoms = rng.normal(size=(40, 6)) + rng.normal(size=6), rng.normal(size=(25, 6))
    v = mean_difference_cav(torch.as_tensor(concept), randoms)
    # oracle 1: the pattern cov(a, t) / var(t) of the activations with the concept label t, by np.cov
    a, t = np.concatenate([concept, randoms]), np.r_[np.ones(40), np.zeros(25)]
    pattern = np.cov(np.column_stack([a, t]), rowvar=False)[:-1, -1] / np.var(t, ddof=1)
    np.testing.assert_allclose(v, pattern / np.linalg.norm(pattern), rtol=1e-12)
    # oracle 2: the nearest-mean boundary — points equidistant from the two means differ from the midpoint
    # by vectors orthogonal to v, and the concept mean lies on the side v points to
    mu_c, mu_r = concept.mean(0), randoms.mean(0)
    for _ in range(5):
        p = rng.normal(size=6) * 3
        d = np.linalg.norm(p - mu_c) ** 2 - np.linalg.norm(p - mu_r) ** 2
        assert abs(d + 2 * np.linalg.norm(mu_c - mu_r) * (p - (mu_c + mu_r) / 2) @ v) < 1e-9
    assert abs(np.linalg.norm(v) - 1) < 1e-12 and (mu_c - mu_r) @ v > 0
    u, concept, randoms, _ = concept_data(0, n=2000)           # a planted direction, found
    assert mean_difference_cav(concept, randoms[0]) @ u > 0.99
    with pytest.raises(ValueError, match="same mean"):
        mean_difference_cav(randoms[0], randoms[0])
    with pytest.raises(ValueError, match="same size"):
        mean_difference_cav(randoms[0], randoms[1][:, :3])

def test_tcav_of_a_model_that_ignores_the_direction_is_not_significant():
    u, concept, randoms, acts = concept_data(1)
    g = torch.Generator().manual_seed(0)
    W1, W2 = torch.randn(10, 16, generator=g, dtype=torch.float64), torch.randn(16, 2, generator=g, dtype=torch.float64)
    W1[0] = 0                                                    # the head never reads coordinate 0: ∇h ⟂ u
    ignoring = lambda a: torch.tanh(a @ W1) @ W2
    result = tcav_significance(ignoring, acts, concept, randoms, target=0, seed=0)
    assert not result.significant and result.p_value > 0.05, result
    W1u = W1.clone()
    W1u[0] = 2.0 * W2[:, 0].sign()                               # a head whose class-0 logit grows along u
    using = lambda a: torch.tanh(a @ W1u) @ W2
    result = tcav_significance(using, acts, concept, randoms, target=0, seed=0)
    assert result.significant and result.scores.mean() > 0.9, result
    # Bonferroni: significant iff p < alpha / n_concepts (a p-value between alpha/3 and alpha)
    p = tcav_significance(ignoring, acts, concept, randoms, target=0, seed=0).p_value
    alpha = min(1.0, 2 * p)
    assert tcav_significance(ignoring, acts, concept, randoms, target=0, alpha=alpha, seed=0).significant
    assert not tcav_significance(ignoring, acts, concept, randoms, target=0, alpha=alpha, n_concepts=3,
                                 seed=0).significant
    with pytest.raises(ValueError, match="at least 3 random sets"):
        tcav_significance(using, acts, concept, randoms[:2], target=0)


# ---------------------------------------------------------------------------- attention
def test_jensen_shannon_hand_values():
    p = torch.tensor([[1.0, 0.0], [0.5, 0.5], [0.5, 0.5]], dtype=torch.float64)
    q = torch.tensor([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]], dtype=torch.float64)
    expected = [math.log(2), 0.0, 0.5 * (0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)) + 0.5 * math.log(1 / 0.75)]
    np.testing.assert_allclose(jensen_shannon(p, q).numpy(), expected, atol=1e-15)


def test_attention_rollout_by_hand():
    a1 = torch.tensor([[[0.0, 1.0], [1.0, 0.0]]], dtype=torch.float64)
    a2 = torch.tensor([[[1.0, 0.0], [0.5, 0.5]]], dtype=torch.float64)
    m1, m2 = 0.5 * a1[0] + 0.5 * torch.eye(2, dtype=torch.float64), 0.5 * a2[0] + 0.5 * torch.eye(2, dtype=torch.float64)
    torch.testing.assert_close(attention_rollout([a1, a2])[0], m2 @ m1)
    torch.testing.assert_close(attention_rollout([a1], torch.tensor([[0.25, 0.75]], dtype=torch.float64))[0],
                               torch.tensor([0.5, 0.5], dtype=torch.float64))


def test_attention_helpers_on_the_tiny_model():
    tokens, _ = token_task(5, length=6, seed=0)
    model = TinyAttention(8, 6, n_layers=2, seed=0)
    imp = erasure_importance(model, tokens, target=1)
    for b in range(2):                                        # brute force: drop token j, rerun
        for j in range(6):
            keep = torch.ones(1, 6, dtype=torch.bool)
            keep[0, j] = False
            with torch.no_grad():
                drop = model(tokens[b:b + 1])[0, 1] - model(tokens[b:b + 1], keep=keep)[0, 1]
            assert abs(imp[b, j].item() - drop.item()) < 1e-12
    order = torch.argsort(imp, 1, descending=True)
    flips = removals_to_flip(model, tokens, order)
    with torch.no_grad():
        for b in range(5):                                    # brute force: the first prefix that flips
            pred, keep, expected = model(tokens[b:b + 1]).argmax().item(), torch.ones(1, 6, dtype=torch.bool), 6
            for r in range(5):
                keep[0, order[b, r]] = False
                if model(tokens[b:b + 1], keep=keep).argmax().item() != pred:
                    expected = r + 1
                    break
            assert flips[b].item() == expected
    weights, jsd, change = adversarial_attention(model, tokens, delta=0.05, n_iter=50)
    alpha, _ = model.attention_maps(tokens)
    with torch.no_grad():
        moved = (torch.softmax(model(tokens, pool_weights=weights), -1) - torch.softmax(model(tokens), -1)).abs().amax(-1)
    assert (moved <= 0.05 + 1e-12).all() and (jsd <= math.log(2) + 1e-12).all()
    torch.testing.assert_close(jsd, jensen_shannon(weights, alpha.detach()))
    torch.testing.assert_close(weights.sum(-1), torch.ones(5, dtype=torch.float64))


def test_token_gradient_importance_is_the_derivative_along_each_input_vector():
    # oracle: a central finite difference of the target logit when h_j alone is rescaled by 1 + t
    tokens, _ = token_task(4, length=6, seed=1)
    model = TinyAttention(8, 6, n_layers=2, seed=3)
    target = torch.tensor([0, 1, 1, 0])
    imp = token_gradient_importance(model, tokens, target=target)
    with torch.no_grad():
        h = model.embed_tokens(tokens)
        eps = 1e-6
        for j in range(6):
            scale = torch.ones(1, 6, 1, dtype=torch.float64)
            plus, minus = scale.clone(), scale.clone()
            plus[0, j], minus[0, j] = 1 + eps, 1 - eps
            rows = torch.arange(4)
            fd = (model(tokens, embeddings=h * plus)[rows, target] - model(tokens, embeddings=h * minus)[rows, target]) / (2 * eps)
            torch.testing.assert_close(imp[:, j], fd.abs(), rtol=1e-6, atol=1e-9)
    # the input vector includes the position embedding: the token embedding alone gives another number
    g = vanilla_gradient(lambda z: model(tokens, embeddings=z), h, target=target)
    assert not torch.allclose(imp, (g * model.embed(tokens)).sum(-1).abs().detach(), atol=1e-6)
