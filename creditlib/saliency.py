"""Saliency on one input (Section 10.4): gradients, integrated gradients, SmoothGrad, sanity checks, TCAV, attention.

Every attribution function takes a model (a ``torch.nn.Module`` or a callable) mapping inputs of shape
``(batch, ...)`` to logits of shape ``(batch, classes)``, the inputs, and a ``target`` class (an int or one
index per example); it returns a tensor shaped like the inputs. The explained score ``F`` is the target's
*logit*. Nothing here holds global state: seeds are arguments.

* Gradients: :func:`vanilla_gradient` (Simonyan et al. 2014), :func:`gradient_times_input`.
* :func:`integrated_gradients` (Sundararajan et al. 2017, Section 10.4.1) with five quadrature rules
  (:func:`quadrature_rule`) and memory bounded by ``chunk_size``; :func:`smoothgrad` (Smilkov et al. 2017).
* Sanity checks (Adebayo et al. 2018): :func:`randomize_layers`, :func:`rank_correlation`, and
  :func:`top_k_precision` (does a ranking put known relevant positions first?).
* TCAV (Kim et al. 2018, Section 10.4.2): :func:`concept_activation_vector`, :func:`mean_difference_cav`,
  :func:`conceptual_sensitivity`, :func:`tcav_score`, :func:`tcav_significance`.
* Attention (Section 10.4.3): :func:`erasure_importance`, :func:`token_gradient_importance`,
  :func:`jensen_shannon`, :func:`adversarial_attention` (Jain & Wallace 2019), :func:`removals_to_flip`
  (Serrano & Smith 2019), :func:`attention_rollout` (Abnar & Zuidema 2020), for models with the interface
  of :class:`creditlib.models.TinyAttention`.
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np
import torch

from .validation import (
    as_numpy,
    check_int,
    check_positive,
    check_random_state,
    cpu_draw,
    seeded_torch_rng,
    tensor_devices,
    torch_generator,
)

__all__ = ["Model", "METHODS", "target_scores", "vanilla_gradient", "gradient_times_input", "Quadrature",
           "quadrature_rule", "Attribution", "integrated_gradients", "smoothgrad", "parameterised_layers",
           "randomize_layers", "rank_correlation", "top_k_precision", "CAV", "concept_activation_vector",
           "mean_difference_cav", "conceptual_sensitivity", "tcav_score", "TCAVResult", "tcav_significance",
           "erasure_importance", "token_gradient_importance", "jensen_shannon", "AdversarialAttention",
           "adversarial_attention", "removals_to_flip", "attention_rollout"]

Model = Callable[[torch.Tensor], torch.Tensor]
METHODS = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre")


# ---------------------------------------------------------------------------- scores and gradients
def _as_tensor(x) -> torch.Tensor:
    """A tensor as it is (its device and dtype); anything else as a float64 CPU tensor."""
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(as_numpy(x, dtype=np.float64), device="cpu")


def _targets(target, batch: int, n_classes: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """``target`` (an int or one index per example) as a long tensor of shape ``(batch,)`` on ``device``,
    range-checked."""
    t = target.to(device) if isinstance(target, torch.Tensor) else torch.as_tensor(target, device=device)
    if t.dtype.is_floating_point or t.dtype == torch.bool:
        raise TypeError(f"target must be an integer class index or a tensor of them; got dtype {t.dtype}.")
    t = t.long().expand(batch) if t.ndim == 0 else t.long()
    if t.shape != (batch,):
        raise ValueError(f"target must be an int or hold one class index per example ({batch}); "
                         f"got shape {tuple(t.shape)}.")
    if batch and (int(t.min()) < 0 or int(t.max()) >= n_classes):
        bad = int(t.min()) if int(t.min()) < 0 else int(t.max())
        raise ValueError(f"target {bad} is out of range: the model has {n_classes} classes (indices 0 .. "
                         f"{n_classes - 1}).")
    return t


def target_scores(model: Model, x: torch.Tensor, *, target) -> torch.Tensor:
    """``F(x)``: the target logit of each example, shape ``(batch,)``.

    Parameters
    ----------
    model : callable
        ``model(x) -> logits`` of shape ``(batch, classes)``.
    x : Tensor, shape (batch, ...)
    target : int or Tensor of shape (batch,)
        Class index, one for all or one per example (a tensor on another device is moved to the logits').

    Returns
    -------
    Tensor, shape (batch,)
        On the logits' device.

    Raises
    ------
    ValueError
        The logits are not ``(batch, classes)``, or a target is out of range.
    """
    logits = model(x)
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or logits.shape[0] != x.shape[0]:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"The model must return logits of shape (batch, classes) = ({x.shape[0]}, k); got {shape}.")
    t = _targets(target, x.shape[0], logits.shape[1], logits.device)
    return logits.gather(1, t[:, None])[:, 0]


def _gradient(score: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``∂ score_b / ∂ x_b`` for every example b (the scores of different examples must not interact)."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        out = score(x)
        if not out.requires_grad:
            raise ValueError("The model's output does not depend differentiably on its input (no autograd graph): "
                             "remove .detach(), .numpy(), .item() or torch.no_grad() from its forward pass.")
        (g,) = torch.autograd.grad(out.sum(), x, allow_unused=True)
    return torch.zeros_like(x) if g is None else g


def vanilla_gradient(model: Model, x: torch.Tensor, *, target=None) -> torch.Tensor:
    """The gradient ``∂F(x)/∂x`` of the target logit (Section 10.4; Simonyan et al. 2014).

    The chapter's saliency map is its absolute value ``S(x) = |∂F(x)/∂x|``; this returns the signed gradient.

    Parameters
    ----------
    model : callable
        With ``target``: ``model(x) -> logits`` of shape ``(batch, classes)`` for ``x`` of shape ``(batch, ...)``.
        Without: ``model(x)`` is already the score, a scalar (one unbatched input) or one per example.
    x : Tensor or array_like
        The inputs; an array (not a tensor) is converted to a float64 CPU tensor.
    target : int or Tensor of shape (batch,), optional
        Class explained (required when the model returns logits).

    Returns
    -------
    Tensor, same shape, device and dtype as ``x``

    Raises
    ------
    ValueError
        The model's output has the wrong shape (not a scalar score without ``target``), does not depend
        differentiably on ``x``, or a target is out of range.
    """
    x = _as_tensor(x)
    if target is None:
        def score(z):
            out = model(z)
            per_example = x.ndim >= 2 and out.shape == (x.shape[0],)
            if out.ndim != 0 and not per_example:
                raise ValueError("Without a target the model must return a scalar score (one for an unbatched input, "
                                 f"one per example for a batch); got shape {tuple(out.shape)}. Pass target=class "
                                 "for a model returning logits.")
            return out
    else:
        def score(z):
            return target_scores(model, z, target=target)
    return _gradient(score, x).detach()


def gradient_times_input(model: Model, x: torch.Tensor, *, target) -> torch.Tensor:
    """``x ⊙ ∂F(x)/∂x`` (Shrikumar et al. 2016): IG with a zero baseline for a model linear along the path.

    Takes the arguments of :func:`vanilla_gradient` (with a target), returns a tensor shaped like ``x`` and
    raises its errors.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Maps inputs ``(batch, ...)`` to logits ``(batch, classes)``.
    x : torch.Tensor
        Inputs, shape ``(batch, ...)``.
    target : int or torch.Tensor
        The class explained, one for all or one per example.

    Returns
    -------
    torch.Tensor
        Shaped like ``x``.
    """
    x = _as_tensor(x)
    return x * vanilla_gradient(model, x, target=target)


# ---------------------------------------------------------------------------- integrated gradients
class Quadrature(NamedTuple):
    """A quadrature rule on [0, 1]: ``∫₀¹ g(α) dα ≈ Σ_k weights[k] g(nodes[k])``.

    Attributes
    ----------
    nodes, weights : ndarray of float64, shape (n_steps,)
    """

    nodes: np.ndarray
    weights: np.ndarray


def quadrature_rule(method: str, n_steps: int) -> Quadrature:
    """Nodes α_k in [0, 1] and weights w_k approximating ``∫₀¹ g(α) dα ≈ Σ_k w_k g(α_k)``.

    ``riemann_left/right/middle``: α_k = k/n, (k+1)/n, (k+½)/n, weights 1/n. ``riemann_trapezoid``: α_k = k/(n−1),
    weights 1/(n−1) with the two ends halved (they sum to 1, unlike Captum's rule; exact for degree ≤ 1).
    ``gausslegendre``: α_k = (1 + ξ_k)/2, w_k = ω_k/2 with (ξ_k, ω_k) the Gauss–Legendre rule on [−1, 1]
    (exact for polynomials of degree ≤ 2n − 1).

    Parameters
    ----------
    method : {"riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre"}
    n_steps : int
        Number of nodes (at least 2 for the trapezoid rule, 1 otherwise).

    Returns
    -------
    Quadrature
        The named pair ``(nodes, weights)``, float64 arrays of shape ``(n_steps,)``.

    Raises
    ------
    ValueError
        An unknown method or too few steps.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}.")
    n = check_int(n_steps, "n_steps", low=2 if method == "riemann_trapezoid" else 1)
    k = np.arange(n, dtype=np.float64)
    if method == "gausslegendre":
        xi, omega = np.polynomial.legendre.leggauss(n)
        return Quadrature((1 + xi) / 2, omega / 2)
    if method == "riemann_trapezoid":
        weights = np.full(n, 1.0 / (n - 1))
        weights[[0, -1]] /= 2
        return Quadrature(k / (n - 1), weights)
    offset = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[method]
    return Quadrature((k + offset) / n, np.full(n, 1.0 / n))


def _baseline_like(x: torch.Tensor, baseline) -> torch.Tensor:
    if baseline is None:
        return torch.zeros_like(x)
    b = _as_tensor(baseline).to(device=x.device, dtype=x.dtype)
    if b.shape == x.shape[1:]:
        b = b.expand_as(x)
    if b.shape != x.shape:
        raise ValueError(f"The baseline must have the input's shape {tuple(x.shape)} (or one example's, "
                         f"{tuple(x.shape[1:])}); got {tuple(b.shape)}.")
    return b


class Attribution(NamedTuple):
    """Integrated gradients and their completeness gap: ``attributions, delta = integrated_gradients(...)``.

    Attributes
    ----------
    attributions : Tensor, same shape as the inputs
    delta : Tensor, shape (batch,)
        The signed completeness gap ``Σ_i IG_i − (F(x) − F(x′))`` per example.
    """

    attributions: torch.Tensor
    delta: torch.Tensor


def integrated_gradients(model: Model, x: torch.Tensor, baseline=None, *, target, n_steps: int = 50,
                         method: str = "gausslegendre", chunk_size: int | None = None) -> Attribution:
    """Integrated gradients ``IG_i(x) = (x_i − x'_i) ∫₀¹ ∂_i F(x' + α(x − x')) dα`` (Section 10.4.1).

    The integral is a quadrature (:func:`quadrature_rule`). The path points are built chunk by chunk, never
    all at once: one forward/backward pass sees at most ``chunk_size`` rows (path points of any examples), so
    memory does not grow with ``n_steps``.

    Parameters
    ----------
    model : callable
        ``model(x) -> logits`` of shape ``(batch, classes)``.
    x : Tensor, shape (batch, ...)
        Inputs to explain.
    baseline : Tensor, optional
        The baseline x′, of the inputs' shape or one example's (shared); default zeros.
    target : int or Tensor of shape (batch,)
        Class explained; ``F`` is its logit.
    n_steps : int, default=50
        Quadrature nodes.
    method : str, default="gausslegendre"
        One of :data:`METHODS`.
    chunk_size : int, optional
        Rows per forward pass; default ``len(x) * min(n_steps, 64)``.

    Returns
    -------
    Attribution
        The named pair:

    attributions : Tensor, same shape, device and dtype as ``x``
    delta : Tensor, shape (batch,)
        The signed completeness gap ``Σ_i IG_i − (F(x) − F(x′))`` per example (zero for an exact integral).

    Raises
    ------
    ValueError
        Baseline of another shape, a bad method or count, a model without gradient, a target out of range.
    """
    x = _as_tensor(x)
    base = _baseline_like(x, baseline)
    nodes, weights = quadrature_rule(method, n_steps)
    n, b = len(nodes), x.shape[0]
    rows = b * min(n, 64) if chunk_size is None else check_int(chunk_size, "chunk_size", low=1)
    alphas = torch.as_tensor(nodes, dtype=x.dtype, device=x.device)
    w = torch.as_tensor(weights, dtype=x.dtype, device=x.device)
    diff = x - base
    total = torch.zeros_like(x)
    shape = (-1,) + (1,) * (x.ndim - 1)
    targets = _targets(target, b, 2**62, x.device)
    for start in range(0, n * b, rows):
        idx = torch.arange(start, min(start + rows, n * b), device=x.device)
        step, example = idx // b, idx % b
        points = base[example] + alphas[step].view(shape) * diff[example]
        g = _gradient(lambda z, example=example: target_scores(model, z, target=targets[example]), points)
        total.index_add_(0, example, w[step].view(shape) * g)
    attributions = diff * total
    with torch.no_grad():
        gap = target_scores(model, x, target=target) - target_scores(model, base, target=target)
    delta = attributions.flatten(1).sum(1) - gap
    return Attribution(attributions, delta.detach())


def smoothgrad(model: Model, x: torch.Tensor, *, target, noise_level: float = 0.15, n_samples: int = 50,
               seed=0) -> torch.Tensor:
    """SmoothGrad (Smilkov et al. 2017): the mean gradient over ``x + N(0, σ²)``, σ a fraction of x's range.

    For each example, ``σ = noise_level · (max x − min x)`` over its own entries (10–20% is the paper's
    advice), so the noise is scaled to the data: an absolute σ = 1 would swamp pixels in [0, 1].

    Parameters
    ----------
    model, x, target
        As :func:`integrated_gradients`.
    noise_level : float, default=0.15
        σ as a fraction of each input's range (0 gives the plain gradient).
    n_samples : int, default=50
        Noisy copies averaged.
    seed : None, int or numpy.random.Generator, default=0
        Seed of the noise, drawn on the CPU and moved to ``x``'s device (the same noise on every device).

    Returns
    -------
    Tensor, same shape as ``x``

    Raises
    ------
    ValueError
        A negative noise level, ``n_samples < 1``, or as :func:`vanilla_gradient`.
    """
    x = _as_tensor(x)
    noise_level = check_positive(noise_level, "noise_level", allow_zero=True)
    n_samples = check_int(n_samples, "n_samples", low=1)
    gen = torch_generator(seed)
    flat = x.flatten(1)
    sigma = (noise_level * (flat.max(1).values - flat.min(1).values)).view((-1,) + (1,) * (x.ndim - 1))
    total = torch.zeros_like(x)
    for _ in range(n_samples):
        noise = cpu_draw(torch.randn, x.shape, generator=gen, dtype=x.dtype, device=x.device)  # same on every device
        total += vanilla_gradient(model, x + sigma * noise, target=target)
    return total / n_samples


# ---------------------------------------------------------------------------- sanity checks
def parameterised_layers(model: torch.nn.Module) -> list[str]:
    """Names of the modules that own parameters and can ``reset_parameters()``, in definition order.

    For a model whose modules are defined in the order of the forward pass, the last name is the layer
    producing the logits.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    list of str
        Module names as in ``model.named_modules()``.
    """
    return [name for name, m in model.named_modules()
            if hasattr(m, "reset_parameters") and any(True for _ in m.parameters(recurse=False))]


def randomize_layers(model: torch.nn.Module, n_top: int, seed=0) -> torch.nn.Module:
    """A copy of ``model`` with its top ``n_top`` parameterised layers re-initialised (Adebayo et al. 2018).

    Cascading randomisation: the layers are those of :func:`parameterised_layers`, taken from the logits
    down; each is re-initialised by its own ``reset_parameters`` on a CPU copy of the layer, under a seeded
    CPU generator (:func:`creditlib.validation.seeded_torch_rng`: no global RNG of any device changes), and the
    values are copied back to the layer's device and dtype: a seed gives the same layers on every device.

    Parameters
    ----------
    model : torch.nn.Module
        Left untouched.
    n_top : int
        How many layers to re-initialise, 0 .. number of parameterised layers.
    seed : None, int or numpy.random.Generator, default=0

    Returns
    -------
    torch.nn.Module

    Raises
    ------
    ValueError
        ``n_top`` out of range.
    """
    names = parameterised_layers(model)
    n_top = check_int(n_top, "n_top", low=0, high=len(names))
    copied = copy.deepcopy(model)
    modules = dict(copied.named_modules())
    with seeded_torch_rng(seed, tensor_devices(copied)):
        for name in reversed(names[len(names) - n_top:]):
            layer = modules[name]
            fresh = copy.deepcopy(layer).to("cpu")          # initialised on the CPU: the same values everywhere
            fresh.reset_parameters()
            with torch.no_grad():
                for mine, new in zip([*layer.parameters(), *layer.buffers()], [*fresh.parameters(), *fresh.buffers()]):
                    mine.copy_(new)                          # back to the layer's own device and dtype
    return copied


def rank_correlation(a, b, absolute: bool = True, method: str = "spearman") -> np.ndarray:
    """Rank correlation of two attribution maps, per example (Adebayo et al. 2018; Jain & Wallace 2019).

    Parameters
    ----------
    a, b : Tensor or array_like, shape (batch, ...)
        Attributions of the same inputs; each example's entries are flattened.
    absolute : bool, default=True
        Compare ``|a|`` and ``|b|`` (the importance, regardless of sign) or the signed values.
    method : {"spearman", "kendall"}
        Spearman's ρ or Kendall's τ-b (scipy).

    Returns
    -------
    ndarray of float64, shape (batch,)
        NaN for an example whose map is constant.

    Raises
    ------
    ValueError
        Shapes differ, or an unknown method.
    """
    from scipy import stats

    a, b = as_numpy(a, dtype=np.float64), as_numpy(b, dtype=np.float64)      # CPU copies, wherever they live
    if a.shape != b.shape or a.ndim < 2:
        raise ValueError(f"a and b must be batches (batch, ...) of the same shape; got {a.shape} and {b.shape}.")
    if method not in ("spearman", "kendall"):
        raise ValueError(f"method must be 'spearman' or 'kendall'; got {method!r}.")
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    if absolute:
        a, b = np.abs(a), np.abs(b)
    corr = stats.spearmanr if method == "spearman" else stats.kendalltau
    out = []
    for u, v in zip(a, b):
        constant = np.ptp(u) == 0 or np.ptp(v) == 0
        out.append(np.nan if constant else float(corr(u, v)[0]))
    return np.array(out)


def top_k_precision(importance, relevant, k: int) -> np.ndarray:
    """Per example, the fraction of its ``k`` highest-scoring positions that are relevant: ``|top_k ∩ R| / k``.

    A ranking measure that positions of no interest cannot dominate, unlike a rank correlation over all
    positions: only the order of the top ``k`` matters, and only whether they are in ``R``. With exactly
    ``k`` relevant positions it is also the fraction of them found in the top ``k`` (precision = recall).

    Parameters
    ----------
    importance : Tensor or array_like, shape (batch, ...)
        Scores, highest first (pass ``|a|`` to rank by magnitude); each example's entries are flattened.
    relevant : Tensor or array_like of bool, same shape
        The positions known to matter.
    k : int
        How many top positions to look at, 1 .. number of positions. Ties are broken by position (the
        earlier first).

    Returns
    -------
    ndarray of float64, shape (batch,)
        Multiples of ``1/k`` in [0, 1].

    Raises
    ------
    ValueError
        Shapes differ, ``relevant`` is not boolean, or ``k`` is out of range.
    """
    imp = as_numpy(importance, dtype=np.float64)            # NumPy from a CPU copy, wherever the scores live
    rel = as_numpy(relevant)
    if imp.shape != rel.shape or imp.ndim < 2:
        raise ValueError(f"importance and relevant must be batches (batch, ...) of the same shape; got {imp.shape} "
                         f"and {rel.shape}.")
    if rel.dtype != np.bool_:
        raise ValueError(f"relevant must be a boolean mask; got dtype {rel.dtype}.")
    imp, rel = imp.reshape(len(imp), -1), rel.reshape(len(rel), -1)
    k = check_int(k, "k", low=1, high=imp.shape[1])
    top = np.argsort(-imp, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(rel, top, axis=1).sum(1) / k


# ---------------------------------------------------------------------------- TCAV
class CAV(NamedTuple):
    """A concept activation vector and how well its linear classifier separates the concept: ``cav, accuracy``.

    Attributes
    ----------
    vector : ndarray of float64, shape (d,)
        Unit normal of the classifier's boundary, pointing towards the concept.
    accuracy : float
        Held-out accuracy of the classifier.
    """

    vector: np.ndarray
    accuracy: float


def concept_activation_vector(concept_acts, random_acts, seed=0) -> CAV:
    """The CAV ``v_C^l`` (Section 10.4.2, step 2): the unit normal of a linear classifier separating concept
    activations from random ones, pointing towards the concept, and its accuracy on a held-out third.

    As tensorflow/tcav and Captum: ``SGDClassifier(alpha=0.01, max_iter=1000, tol=1e-3)``, 33% held out.

    Parameters
    ----------
    concept_acts, random_acts : Tensor or array_like, shape (n, ...)
        Layer-l activations of concept examples and of random examples (each flattened).
    seed : None, int or numpy.random.Generator, default=0
        Seed of the split and the classifier.

    Returns
    -------
    CAV
        The named pair:

    cav : ndarray of float64, shape (d,)
        Unit vector.
    accuracy : float
        Held-out accuracy of the classifier.

    Raises
    ------
    ValueError
        Fewer than 3 examples on a side, or different activation sizes.
    """
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split

    pos = _flat_array(concept_acts)
    neg = _flat_array(random_acts)
    if pos.shape[1] != neg.shape[1] or min(len(pos), len(neg)) < 3:
        raise ValueError(f"Need at least 3 concept and 3 random activations of the same size; got {pos.shape} "
                         f"and {neg.shape}.")
    rng = check_random_state(seed)
    X = np.concatenate([pos, neg])
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.33, stratify=y,
                                                        random_state=int(rng.integers(2**31)))
    clf = SGDClassifier(alpha=0.01, max_iter=1000, tol=1e-3, random_state=int(rng.integers(2**31)))
    clf.fit(X_train, y_train)
    v = clf.coef_[0].astype(np.float64)
    return CAV(v / np.linalg.norm(v), float(clf.score(X_test, y_test)))


def mean_difference_cav(concept_acts, random_acts) -> np.ndarray:
    """A CAV in closed form: the unit difference of the mean concept and mean random activations.

    ``v = (μ_C − μ_R) / ‖μ_C − μ_R‖`` is the normal of the simplest linear classifier, the nearest class mean
    (an activation is called "concept" when it is closer to μ_C than to μ_R; the boundary is the hyperplane
    through (μ_C + μ_R)/2 orthogonal to μ_C − μ_R). For a concept label t ∈ {0, 1} it is also the direction
    ``cov(a, t) / var(t)`` of the activations' covariance with the label. Unlike :func:`concept_activation_vector`
    (stochastic gradient descent, as tensorflow/tcav) it has no seed, so two implementations agree to round-off;
    it is the CAV of exercise nb06.8 (Section 10.4.2, step 2, with the nearest-class-mean classifier).

    Parameters
    ----------
    concept_acts, random_acts : Tensor or array_like, shape (n, ...)
        Layer-l activations of concept examples and of random examples (each flattened).

    Returns
    -------
    ndarray of float64, shape (d,)
        Unit vector, pointing towards the concept.

    Raises
    ------
    ValueError
        An empty side, different activation sizes, or equal means (no direction).
    """
    pos = _flat_array(concept_acts)
    neg = _flat_array(random_acts)
    if pos.shape[1] != neg.shape[1] or min(len(pos), len(neg)) < 1:
        raise ValueError(f"Need concept and random activations of the same size, at least one of each; got "
                         f"{pos.shape} and {neg.shape}.")
    diff = pos.mean(0) - neg.mean(0)
    norm = np.linalg.norm(diff)
    if not norm > 0:
        raise ValueError("The concept and random activations have the same mean: no direction to point along.")
    return diff / norm


def _flat_array(a) -> np.ndarray:
    a = as_numpy(a, dtype=np.float64)
    return a.reshape(len(a), -1)


def conceptual_sensitivity(head: Model, layer_acts: torch.Tensor, cav, *, target) -> torch.Tensor:
    """``S_{C,k,l}(x) = ∇h_{l,k}(f_l(x)) · v_C^l`` (Section 10.4.2, step 3), for each example.

    The sign is that of the target *logit*'s directional derivative (tensorflow/tcav differentiates the loss
    and so has the opposite sign).

    Parameters
    ----------
    head : callable
        ``head(acts) -> logits`` of shape ``(batch, classes)``: the model above layer l.
    layer_acts : Tensor, shape (batch, ...)
        Layer-l activations ``f_l(x)``.
    cav : array_like or Tensor, shape (d,)
        The concept activation vector (d = the number of entries of one example's activations); moved to the
        activations' device and dtype.
    target : int or Tensor of shape (batch,)

    Returns
    -------
    Tensor, shape (batch,)
        On the activations' device.
    """
    acts = _as_tensor(layer_acts)
    v = torch.as_tensor(as_numpy(cav, dtype=np.float64), dtype=acts.dtype, device=acts.device)
    if v.numel() != acts[0].numel():
        raise ValueError(f"The CAV has {v.numel()} entries but one example's activations have {acts[0].numel()}.")
    return vanilla_gradient(head, acts, target=target).flatten(1) @ v.reshape(-1)


def tcav_score(head: Model, layer_acts: torch.Tensor, cav, *, target) -> float:
    """TCAV score (Kim et al. 2018): the fraction of inputs whose target logit increases along the CAV.

    Parameters and errors as :func:`conceptual_sensitivity` (pass the activations of class-k inputs).

    Parameters
    ----------
    head : torch.nn.Module or callable
        Maps layer activations to logits.
    layer_acts : torch.Tensor
        Activations of the inputs of class ``target``, shape ``(n, ...)``.
    cav : array_like
        The unit concept activation vector (flattened activation space).
    target : int
        The class whose logit is differentiated.

    Returns
    -------
    float in [0, 1]
    """
    return float((conceptual_sensitivity(head, layer_acts, cav, target=target) > 0).double().mean())


@dataclass(frozen=True)
class TCAVResult:
    """The outcome of :func:`tcav_significance`.

    Attributes
    ----------
    scores : ndarray
        TCAV scores of the concept, one per random set it was contrasted with.
    random_scores : ndarray
        TCAV scores of random-vs-random CAVs.
    accuracies : ndarray
        Held-out accuracies of the concept's CAVs.
    p_value : float
        Two-sided t-test of ``scores`` against ``random_scores``.
    significant : bool
        ``p_value < alpha / n_concepts`` (Bonferroni).
    """

    scores: np.ndarray
    random_scores: np.ndarray
    accuracies: np.ndarray
    p_value: float
    significant: bool

    @property
    def verdict(self) -> str:
        mean = float(np.mean(self.scores))
        return (f"significant: TCAV score {mean:.2f} vs random {float(np.mean(self.random_scores)):.2f}"
                if self.significant else "not significant: indistinguishable from random directions")


def tcav_significance(head: Model, layer_acts: torch.Tensor, concept_acts, random_acts: list, *, target,
                      alpha: float = 0.05, n_concepts: int = 1, seed=0) -> TCAVResult:
    """Is the TCAV score of a concept different from that of random directions? (Kim et al. 2018, Sec. 3.2.)

    With m random sets R_0 … R_{m−1}: the concept's scores use the CAVs of the concept against each R_i; the
    null scores use the CAVs of R_i against R_{i+1 mod m}. A two-sided t-test (scipy ``ttest_ind``) compares
    the two lists; the concept is significant when ``p < alpha / n_concepts`` (Bonferroni over the concepts
    tested).

    Parameters
    ----------
    head : callable
        ``head(acts) -> logits``: the model above layer l.
    layer_acts : Tensor, shape (batch, ...)
        Layer-l activations of the class-k inputs scored.
    concept_acts : array_like, shape (n, ...)
        Activations of the concept examples.
    random_acts : list of array_like
        m ≥ 3 sets of activations of random examples.
    target : int or Tensor
        The class k.
    alpha : float, default=0.05
    n_concepts : int, default=1
        Number of concepts tested in the family (Bonferroni).
    seed : None, int or numpy.random.Generator, default=0

    Returns
    -------
    TCAVResult

    Raises
    ------
    ValueError
        Fewer than 3 random sets, or as :func:`concept_activation_vector`.
    """
    from scipy import stats

    m = len(random_acts)
    if m < 3:
        raise ValueError(f"Need at least 3 random sets for a t-test; got {m}.")
    n_concepts = check_int(n_concepts, "n_concepts", low=1)
    rng = check_random_state(seed)
    scores, accuracies, null = [], [], []
    for i in range(m):
        cav, acc = concept_activation_vector(concept_acts, random_acts[i], seed=rng)
        scores.append(tcav_score(head, layer_acts, cav, target=target))
        accuracies.append(acc)
        cav0, _ = concept_activation_vector(random_acts[i], random_acts[(i + 1) % m], seed=rng)
        null.append(tcav_score(head, layer_acts, cav0, target=target))
    scores, null = np.array(scores), np.array(null)
    with warnings.catch_warnings():                  # scipy warns when a list is (nearly) constant
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(stats.ttest_ind(scores, null).pvalue)
    if np.isnan(p):                                   # both lists constant: equal means or certainly different
        p = 1.0 if scores.mean() == null.mean() else 0.0
    return TCAVResult(scores, null, np.array(accuracies), p, p < alpha / n_concepts)


# ---------------------------------------------------------------------------- attention
def erasure_importance(model: torch.nn.Module, tokens: torch.Tensor, *, target) -> torch.Tensor:
    """Leave-one-out importance of each token: ``F(x) − F(x without token j)`` (Jain & Wallace 2019).

    ``model(tokens, keep=mask)`` must ignore the tokens where ``mask`` is False (as
    :class:`creditlib.models.TinyAttention` does), so a token is erased, not replaced.

    Parameters
    ----------
    model : torch.nn.Module
        A token classifier accepting ``keep=`` (e.g. :class:`creditlib.models.TinyAttention`).
    tokens : torch.Tensor
        int64, shape ``(batch, length)``.
    target : int or torch.Tensor
        The class explained.

    Returns
    -------
    Tensor, shape (batch, length)
        The drop of the target logit when each token is erased.
    """
    b, length = tokens.shape
    with torch.no_grad():
        full = target_scores(model, tokens, target=target)
        t = _targets(target, b, 2**62, tokens.device)
        keep = ~torch.eye(length, dtype=torch.bool, device=tokens.device)     # row j: all but token j
        rep = tokens.repeat_interleave(length, 0)
        erased = target_scores(lambda z: model(z, keep=keep.repeat(b, 1)), rep, target=t.repeat_interleave(length))
    return full[:, None] - erased.view(b, length)


def token_gradient_importance(model: torch.nn.Module, tokens: torch.Tensor, *, target) -> torch.Tensor:
    """``|∇_{h_j} F · h_j|``: gradient ⊙ input at the model's input layer, summed over the embedding dimensions.

    ``h = model.embed_tokens(tokens)`` gives the vectors the model starts from (for :class:`creditlib.models.TinyAttention`,
    each token's embedding plus its position embedding), ``model(tokens, embeddings=h)`` runs on them, and F is the
    target logit. ``∇_{h_j} F · h_j`` is the derivative of F along ``h_j`` when ``h_j`` alone is rescaled. It is not the
    derivative with respect to token j's one-hot indicator, which would multiply the gradient by the token embedding
    alone.

    Parameters
    ----------
    model : torch.nn.Module
        A token classifier with ``embed_tokens`` and ``embeddings=`` (e.g. :class:`creditlib.models.TinyAttention`).
    tokens : torch.Tensor
        Token ids (int64), shape ``(batch, length)``; their embeddings are what is differentiated.
    target : int or torch.Tensor
        The class whose logit is differentiated, one for all or one per sequence.

    Returns
    -------
    Tensor, shape (batch, length)
    """
    with torch.no_grad():
        e = model.embed_tokens(tokens)
    g = vanilla_gradient(lambda z: model(tokens, embeddings=z), e, target=target)
    return (g * e).sum(-1).abs()


def jensen_shannon(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Jensen–Shannon divergence (natural log, at most ln 2) between distributions on the last axis.

    Parameters
    ----------
    p, q : torch.Tensor
        Probability vectors on the last axis, same shape.

    Returns
    -------
    torch.Tensor
        The divergences, shape ``p.shape[:-1]``.
    """
    m = (p + q) / 2

    def kl(a, c):
        return torch.where(a > 0, a * (torch.log(a.clamp_min(1e-300)) - torch.log(c.clamp_min(1e-300))), 0.0).sum(-1)
    return (kl(p, m) + kl(q, m)) / 2


class AdversarialAttention(NamedTuple):
    """The answer of :func:`adversarial_attention`: ``weights, jsd, output_change``.

    Attributes
    ----------
    weights : Tensor, shape (batch, length)
        The adversarial attention weights found.
    jsd : Tensor, shape (batch,)
        Their Jensen–Shannon divergence from the model's own attention.
    output_change : Tensor, shape (batch,)
        The largest change of a class probability they cause.
    """

    weights: torch.Tensor
    jsd: torch.Tensor
    output_change: torch.Tensor


def adversarial_attention(model: torch.nn.Module, tokens: torch.Tensor, *, delta: float = 0.01,
                          n_iter: int = 300, lr: float = 0.1, seed=0) -> AdversarialAttention:
    """Attention as far as possible from the model's own (in JSD) while the output moves at most ``delta``.

    Jain & Wallace (2019), Section 4.2: maximise ``JSD(α̃, α)`` subject to ``max|ŷ(α̃) − ŷ(α)| ≤ δ`` (ŷ the
    class probabilities), by Adam on the logits of α̃ with a penalty on the excess output change; the best
    feasible α̃ seen is kept (α itself if none).

    ``model(tokens, pool_weights=a)`` must run with the final attention replaced by ``a`` and
    ``model.attention_maps(tokens)`` return ``(pool_weights, layer_attentions)``.

    Parameters
    ----------
    model : torch.nn.Module
        An attention classifier as :class:`creditlib.models.TinyAttention`.
    tokens : torch.Tensor
        int64, shape ``(batch, length)``.
    delta : float, default=0.01
        The largest change allowed in any class probability.
    n_iter : int, default=300
        Adam steps.
    lr : float, default=0.1
        Adam's learning rate.
    seed : None, int or numpy.random.Generator, default=0
        Seed of the starting point (drawn on the CPU, then moved to the model's device).

    Returns
    -------
    AdversarialAttention
        The named triple:

    weights : Tensor, shape (batch, length)
    jsd : Tensor, shape (batch,)
        ``JSD(weights, α)``, at most ln 2.
    output_change : Tensor, shape (batch,)
        ``max_c |ŷ_c(weights) − ŷ_c(α)|`` (≤ δ).
    """
    delta = check_positive(delta, "delta")
    n_iter = check_int(n_iter, "n_iter", low=1)
    with torch.no_grad():
        alpha, _ = model.attention_maps(tokens)
        y0 = torch.softmax(model(tokens), -1)
    start = cpu_draw(torch.randn, alpha.shape, generator=torch_generator(seed), dtype=alpha.dtype, device=alpha.device)
    z = torch.log(alpha.clamp_min(1e-12)) + start
    z.requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    best, best_jsd = alpha.clone(), torch.zeros(len(alpha), dtype=alpha.dtype, device=alpha.device)
    best_change = torch.zeros_like(best_jsd)
    for _ in range(n_iter):
        a = torch.softmax(z, -1)
        change = (torch.softmax(model(tokens, pool_weights=a), -1) - y0).abs().amax(-1)
        jsd = jensen_shannon(a, alpha)
        with torch.no_grad():
            better = (change <= delta) & (jsd > best_jsd)
            best[better], best_jsd[better], best_change[better] = a[better], jsd[better], change[better]
        loss = (-jsd + 10.0 * torch.relu(change - delta / 2) / delta).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return AdversarialAttention(best.detach(), best_jsd, best_change)


def removals_to_flip(model: torch.nn.Module, tokens: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """Erase tokens in the given order until the predicted class changes.

    Adapted from Serrano & Smith (2019), who zero attention weights over intermediate representations; here the
    tokens are erased from the input (``keep=False`` masks them out of every attention).

    Parameters
    ----------
    model : torch.nn.Module
        Called as ``model(tokens, keep=mask)``.
    tokens : Tensor, shape (batch, length)
    order : Tensor, shape (batch, length)
        For each example, token positions from first to last erased (e.g. ``argsort`` of an importance,
        descending).

    Returns
    -------
    Tensor of int64, shape (batch,)
        Number of erasures that flipped the decision; ``length`` if erasing all but one token never did.
    """
    b, length = tokens.shape
    device = tokens.device
    order = torch.as_tensor(order, device=device)
    with torch.no_grad():
        pred = model(tokens).argmax(-1)
        out = torch.full((b,), length, dtype=torch.long, device=device)
        keep = torch.ones(b, length, dtype=torch.bool, device=device)
        rows = torch.arange(b, device=device)
        for r in range(length - 1):
            keep[rows, order[:, r]] = False
            flipped = (model(tokens, keep=keep).argmax(-1) != pred) & (out == length)
            out[flipped] = r + 1
    return out


def attention_rollout(layer_attentions: list, pool_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Attention rollout (Abnar & Zuidema 2020): ``Ã_L ⋯ Ã_1`` with ``Ã = ½A + ½I`` (the residual stream).

    Parameters
    ----------
    layer_attentions : list of Tensor, each (batch, length, length)
        Row-stochastic attention of each layer, first layer first.
    pool_weights : Tensor, shape (batch, length), optional
        A final attention-pooling row (not mixed with the identity): if given, returns its rollout to the inputs.

    Returns
    -------
    Tensor, shape (batch, length, length), or (batch, length) with ``pool_weights``
    """
    first = layer_attentions[0]
    eye = torch.eye(first.shape[-1], dtype=first.dtype, device=first.device)
    rolled = eye.expand_as(layer_attentions[0])
    for a in layer_attentions:
        rolled = (0.5 * a + 0.5 * eye) @ rolled
    return rolled if pool_weights is None else (pool_weights[:, None, :] @ rolled)[:, 0]
