"""Training a ``torch.nn.Module`` as a function of one flat parameter vector θ: the layer under influence functions
(Section 10.1) and datamodels (Section 10.3).

* :func:`flatten` / :class:`FlatModel`: a module seen as ``f(θ, X)`` (``torch.func.functional_call``).
* :func:`training_objective`: ``L(θ) = mean_i loss(x_i; θ) + weight_decay/2 · ‖θ‖²``, optionally weighted.
* :func:`train_to_convergence` and :func:`lbfgs_minimise`: full-batch L-BFGS to a small gradient norm (Theorem
  10.1.2 holds at a stationary point θ*).
* :func:`per_example_gradients` and :func:`example_losses`: ``∇ℓ(x_i; θ)`` and ``ℓ(x_i; θ)`` for every example, in one
  ``vmap``.
* the losses :func:`logistic_loss` and :func:`softmax_cross_entropy`, and :func:`margins` (the datamodels' output).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch.func import functional_call, grad, vmap

from .validation import check_int, check_positive, check_tensor_pair, warn_unconverged

__all__ = ["LossFn", "FlatModel", "flatten", "training_objective", "train_to_convergence", "lbfgs_minimise",
           "per_example_gradients", "example_losses", "logistic_loss", "softmax_cross_entropy", "margins"]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""A loss ``loss(outputs, targets)`` returning one value per example (shape ``(n,)``)."""


# ---------------------------------------------------------------------------- the flat parameter view
@dataclass
class FlatModel:
    """A module seen as a function of one flat parameter vector (``theta``); built by :func:`flatten`.

    Calling it, ``fm(theta, X)``, runs the module on X with the parameters in ``theta``
    (``torch.func.functional_call``), without touching the module's own parameters.

    Attributes
    ----------
    module : torch.nn.Module
        The model.
    names : list of str
        Names of its trainable parameters, in ``named_parameters()`` order.
    shapes : list of torch.Size
        Their shapes.
    theta : Tensor of shape (p,)
        Their values when flattened (detached), concatenated in that order.
    """

    module: torch.nn.Module
    names: list[str]
    shapes: list[torch.Size]
    theta: torch.Tensor

    def unflatten(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        """A flat vector as named parameter tensors (views into ``theta``, so gradients flow).

        Parameters
        ----------
        theta : Tensor of shape (p,)
            A parameter vector laid out like :attr:`theta`.

        Returns
        -------
        dict of str to Tensor
            One entry per name in :attr:`names`, of the matching shape.
        """
        out, start = {}, 0
        for name, shape in zip(self.names, self.shapes):
            size = int(np.prod(shape)) if len(shape) else 1
            out[name] = theta[start:start + size].reshape(shape)
            start += size
        return out

    def __call__(self, theta: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
        """The module's output on ``X`` with parameters ``theta``."""
        return functional_call(self.module, self.unflatten(theta), (X,))

    def load(self, theta: torch.Tensor) -> None:
        """Write a parameter vector back into the module (in place, without recording gradients).

        Parameters
        ----------
        theta : Tensor of shape (p,)
            A parameter vector laid out like :attr:`theta`.
        """
        with torch.no_grad():
            for name, value in self.unflatten(theta).items():
                self.module.get_parameter(name).copy_(value)


def flatten(model: torch.nn.Module) -> FlatModel:
    """The trainable parameters of ``model`` as one detached vector θ.

    Parameters
    ----------
    model : torch.nn.Module
        The model; parameters with ``requires_grad=False`` are left out (frozen).

    Returns
    -------
    FlatModel

    Raises
    ------
    ValueError
        The model has no trainable parameter.
    """
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not params:
        raise ValueError("The model has no trainable parameters (requires_grad=True): nothing to attribute.")
    theta = torch.cat([p.detach().reshape(-1) for _, p in params])
    return FlatModel(model, [n for n, _ in params], [p.shape for _, p in params], theta)


def training_objective(fm: FlatModel, loss_fn: LossFn, X: torch.Tensor, y: torch.Tensor,
                       weight_decay: float = 0.0) -> Callable[..., torch.Tensor]:
    """The training objective L of eq. (10.1), as a function of the flat parameters.

    Parameters
    ----------
    fm : FlatModel
        The model seen as a function of one parameter vector (see :func:`flatten`).
    loss_fn : callable
        ``loss_fn(outputs, targets)`` returning one loss per example (``reduction="none"``).
    X, y : Tensor
        The training set.
    weight_decay : float, default=0.0
        The ridge term ``weight_decay/2 · ‖θ‖²`` (over all parameters, biases included).

    Returns
    -------
    callable
        ``objective(theta, weights=None)``: ``mean_i loss(x_i; θ) + weight_decay/2 · ‖θ‖²``, or with
        per-example ``weights`` the weighted mean ``Σ w_i loss_i / Σ w_i`` (a zero weight removes a point:
        leave-one-out; ``1 + ε`` on one point up-weights it, eq. (10.2)).

    Raises
    ------
    TypeError, ValueError
        X or y is not a tensor, or they disagree in length; (when called) ``loss_fn`` does not return one
        loss per example.
    """
    check_tensor_pair(X, y, "training data")

    def objective(theta: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        losses = loss_fn(fm(theta, X), y)
        if losses.shape != (X.shape[0],):
            raise ValueError(f"loss_fn must return one loss per example, shape ({X.shape[0]},); got "
                             f"{tuple(losses.shape)}. Use reduction='none'.")
        mean = losses.mean() if weights is None else (weights * losses).sum() / weights.sum()
        return mean + 0.5 * weight_decay * (theta * theta).sum()

    return objective


def train_to_convergence(model: torch.nn.Module, loss_fn: LossFn, X: torch.Tensor, y: torch.Tensor, *,
                         weight_decay: float = 0.0, tol: float = 1e-8, max_rounds: int = 20) -> float:
    """Minimise the training objective (eq. (10.1)) with full-batch L-BFGS until ``‖∇L(θ)‖ < tol``.

    Theorem 10.1.2 assumes θ* is a minimum: influence is only as good as this convergence.

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place: the final parameters are written back into it.
    loss_fn : callable
        ``loss_fn(outputs, targets)`` returning one loss per example (``reduction="none"``).
    X, y : Tensor
        Training inputs and targets.
    weight_decay : float, default=0.0
        The ridge term ``weight_decay/2 · ‖θ‖²``.
    tol : float, default=1e-8
        Target for the Euclidean norm of the full gradient. In float64 the round-off
        floor is about 1e-10 to 1e-9 for the course's models: a smaller ``tol`` may be
        unreachable, and the result then depends on the machine.
    max_rounds : int, default=20
        L-BFGS restarts (500 iterations each) before giving up.

    Returns
    -------
    float
        The final gradient norm.

    Warns
    -----
    ConvergenceWarning
        The gradient norm is still at least ``tol`` after ``max_rounds`` rounds.
    """
    tol = check_positive(tol, "tol")
    max_rounds = check_int(max_rounds, "max_rounds", low=1)
    fm = flatten(model)
    objective = training_objective(fm, loss_fn, X, y, weight_decay)
    theta = lbfgs_minimise(objective, fm.theta, tol=tol, max_rounds=max_rounds)
    fm.load(theta)
    norm = float(grad(objective)(theta).norm())
    if not norm < tol:
        warn_unconverged(f"train_to_convergence stopped after {max_rounds} L-BFGS rounds with gradient norm "
                         f"{norm:.2g} ≥ tol = {tol:g}. θ is not a minimum to that precision; raise max_rounds, "
                         "or take a tol above the round-off floor (about 1e-9 in float64).")
    return norm


def lbfgs_minimise(objective: Callable[[torch.Tensor], torch.Tensor], theta0: torch.Tensor, *, tol: float,
                   max_rounds: int = 20, max_iter: int = 500) -> torch.Tensor:
    """Full-batch L-BFGS with a strong Wolfe line search, restarted up to ``max_rounds`` times, until
    ``‖∇f(θ)‖ < tol``. Returns the final (detached) θ; the caller checks and reports convergence.

    The one optimiser of :func:`train_to_convergence` and of the L-BFGS path of :func:`leave_one_out`.

    Parameters
    ----------
    objective : callable
        ``objective(theta) -> scalar tensor`` to minimise.
    theta0 : Tensor of shape (p,)
        The starting point (not modified).
    tol : float
        Target Euclidean norm of the gradient; ``torch.optim.LBFGS`` gets ``tol / √p`` as its
        (max-norm) ``tolerance_grad``.
    max_rounds : int, default=20
        Calls of ``LBFGS.step``, each of at most ``max_iter`` iterations (history of 50 kept across rounds).
    max_iter : int, default=500
        Iterations per round.

    Returns
    -------
    Tensor of shape (p,)
        The last iterate, detached, whether or not it reached ``tol``.
    """
    theta = theta0.detach().clone().requires_grad_(True)
    opt = torch.optim.LBFGS([theta], max_iter=max_iter, tolerance_grad=tol / theta.numel() ** 0.5,
                            tolerance_change=0, history_size=50, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        value = objective(theta)
        value.backward()
        return value

    for _ in range(max_rounds):
        opt.step(closure)
        if float(grad(objective)(theta.detach()).norm()) < tol:
            break
    return theta.detach()


def per_example_gradients(model: torch.nn.Module, loss_fn: LossFn, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``∇_θ loss(x_i; θ*)`` for every example, shape ``(n, p)``, by ``vmap(grad(...))`` (no Python loop).

    The gradients ``∇_θ ℓ(x, θ*)`` of Theorem 10.1.2 (no weight decay: it is not part of an example's loss).

    Parameters
    ----------
    model, loss_fn, X, y
        As in :func:`hvp`; one gradient per row of X.

    Returns
    -------
    Tensor of shape (n, p)
        Row i is example i's gradient, in the model's parameter dtype.

    Raises
    ------
    TypeError, ValueError
        X or y is not a tensor, or they disagree in length.
    ValueError
        Some gradient is not finite (the message names the first such example).
    """
    check_tensor_pair(X, y, "data")
    fm = flatten(model)

    def single(theta, x, t):
        return loss_fn(fm(theta, x[None]), t[None])[0]

    G = vmap(grad(single), in_dims=(None, 0, 0))(fm.theta, X, y)
    bad = ~torch.isfinite(G).all(dim=1)
    if bad.any():
        raise ValueError(f"Non-finite gradient for example {int(bad.nonzero()[0])}: check the inputs and the loss "
                         "(e.g. log of 0 in a hand-written cross-entropy).")
    return G


def example_losses(model: torch.nn.Module, loss_fn: LossFn, X: torch.Tensor, y: torch.Tensor,
                theta: torch.Tensor | None = None) -> torch.Tensor:
    """Per-example losses at θ (default: the model's current parameters), without gradients.

    Parameters
    ----------
    model : torch.nn.Module
        The model.
    loss_fn : callable
        ``loss_fn(outputs, targets)`` returning one loss per example.
    X, y : Tensor
        The examples.
    theta : Tensor of shape (p,), optional
        Parameters to evaluate at instead of the model's own.

    Returns
    -------
    Tensor
        ``loss_fn``'s output, shape ``(n,)`` for a per-example loss.
    """
    fm = flatten(model)
    with torch.no_grad():
        return loss_fn(fm(fm.theta if theta is None else theta, X), y)


# ---------------------------------------------------------------------------- losses and margins
def logistic_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-example binary cross-entropy of a single-logit model (``outputs`` of shape ``(n, 1)``, 0/1 targets).

    A module-level function, so that it can be sent to worker processes (an ``executor``).

    Parameters
    ----------
    outputs : torch.Tensor
        Logits, shape ``(n, 1)``.
    targets : torch.Tensor
        Labels 0 or 1, shape ``(n,)``.

    Returns
    -------
    torch.Tensor
        ``log(1 + e^{−z})`` for label 1 and ``log(1 + e^{z})`` for label 0, shape ``(n,)``.
    """
    z = outputs[:, 0]
    return torch.nn.functional.softplus(z) - targets.to(z.dtype) * z     # = BCE with logits, batches well in vmap


def softmax_cross_entropy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-example cross-entropy of a K-logit model (``outputs`` ``(n, K)``, integer class targets).

    Parameters
    ----------
    outputs : torch.Tensor
        Logits, shape ``(n, K)``.
    targets : torch.Tensor
        Class indices in ``0 .. K−1``, shape ``(n,)``.

    Returns
    -------
    torch.Tensor
        ``−log softmax(outputs)[target]`` per example, shape ``(n,)``.
    """
    return torch.nn.functional.cross_entropy(outputs, targets.long(), reduction="none")


def margins(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The datamodel output f: correct-class logit minus the largest other logit (Ilyas et al. 2022).

    For a single-logit binary model (``logits`` of shape ``(n, 1)``, targets 0/1) the other class's logit
    is 0, so the margin is the logit for label 1 minus the logit for label 0: ``z`` for label 1, ``−z``
    for label 0. Works on any leading batch dimensions.

    Parameters
    ----------
    logits : torch.Tensor
        Shape ``(..., n, K)``, or ``(..., n, 1)`` for a single-logit binary model.
    targets : torch.Tensor
        Class indices (0/1 for a single logit), shape ``(n,)``.

    Returns
    -------
    torch.Tensor
        The margins, shape ``(..., n)``.
    """
    if logits.shape[-1] == 1:
        return (2 * targets.to(logits.dtype) - 1) * logits[..., 0]
    labels = targets.long().expand(logits.shape[:-1])
    correct = logits.gather(-1, labels[..., None])[..., 0]
    others = logits.scatter(-1, labels[..., None], float("-inf"))
    return correct - others.max(dim=-1).values
