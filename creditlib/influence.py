"""Influence functions (Section 10.1) for any ``torch.nn.Module``, with ``torch.func``.

The training objective is ``L(θ) = mean_i loss(x_i; θ) + weight_decay/2 · ‖θ‖²`` at the
model's current parameters θ*. Everything works on the flat parameter vector θ:

* :func:`hvp`: ``(H + damping·I) v`` by Pearlmutter's trick, forward-over-reverse
  (``jvp`` of ``grad``), never forming H; batched over several vectors with ``vmap``.
* :func:`inverse_hvp`: solve ``(H + damping·I) x = v`` by ``"exact"`` (dense Hessian),
  ``"cg"`` (conjugate gradient), ``"neumann"`` (the truncated series of Problems
  10.1.3–10.1.4 on the scaled surrogate ``I − α(H + λI)``) or ``"lissa"`` (its
  stochastic mini-batch version, Agarwal, Bullins & Hazan 2017). Each reports the
  HVPs it used and its true residual ``‖(H + λI)x − v‖ / ‖v‖``.
* :func:`influence_matrix`: ``I(x_i, z_j) = −∇ℓ(z_j)ᵀ H⁻¹ ∇ℓ(x_i)`` (Theorem 10.1.2).
* :func:`leave_one_out`: the ground truth, by retraining without each point.

The solvers also take any symmetric linear operator ``matvec``, applied to one vector
``(p,)`` or to a batch of row vectors ``(m, p)`` (for a matrix A: ``lambda u: u @ A``), so
they can be studied on matrices whose spectrum we choose (notebook 02).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import torch
from torch.func import functional_call, grad, hessian, jvp, vmap

from .validation import (ConvergenceWarning, as_numpy, check_index, check_int, check_positive,  # noqa: F401
                         cpu_draw, torch_generator, warn_unconverged)

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
MatVec = Callable[[torch.Tensor], torch.Tensor]


class DivergenceError(RuntimeError):
    """A Neumann/LiSSA iteration that grows instead of converging.

    Raised by :func:`solve_neumann` and :func:`solve_lissa` when the residual (or iterate) grows
    ``blowup``-fold: the scale α is too large for the spectrum (Problem 10.1.3 needs the
    eigenvalues of αA in (0, 2)) or the Hessian has negative eigenvalues.

    Attributes
    ----------
    args : tuple
        The message: how far it grew, and the fix (smaller α, or more damping).
    """


class NotPositiveDefiniteError(ValueError):
    """A Hessian that ``exact`` or ``cg`` cannot invert without damping.

    Theorem 10.1.2 assumes a positive definite Hessian at θ*; Section 10.1 suggests inverting
    ``H + λI`` instead. A subclass of ``ValueError``.

    Attributes
    ----------
    args : tuple
        The message: the offending eigenvalue or curvature, and the damping that would fix it.
    """


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


def _check_data(X: torch.Tensor, y: torch.Tensor, what: str) -> None:
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"{what}: X and y must be torch tensors, got {type(X).__name__} and {type(y).__name__}.")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"{what}: X has {X.shape[0]} rows but y has {y.shape[0]}; give one target per example.")


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
    _check_data(X, y, "training data")

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
    _check_data(X, y, "data")
    fm = flatten(model)

    def single(theta, x, t):
        return loss_fn(fm(theta, x[None]), t[None])[0]

    G = vmap(grad(single), in_dims=(None, 0, 0))(fm.theta, X, y)
    bad = ~torch.isfinite(G).all(dim=1)
    if bad.any():
        raise ValueError(f"Non-finite gradient for example {int(bad.nonzero()[0])}: check the inputs and the loss "
                         "(e.g. log of 0 in a hand-written cross-entropy).")
    return G


# ---------------------------------------------------------------------------- Hessian-vector products
def hvp(model: torch.nn.Module, loss_fn: LossFn, X: torch.Tensor, y: torch.Tensor, v: torch.Tensor, *,
        weight_decay: float = 0.0, damping: float = 0.0) -> torch.Tensor:
    """``(H + damping·I) v`` with H the Hessian of the training objective at θ*, by Pearlmutter's trick.

    Forward-over-reverse: the directional derivative (``jvp``) of the gradient
    (``grad``) along v, about the cost of two gradients (Pearlmutter 1994). ``v`` may be one vector
    ``(p,)`` or a batch ``(m, p)`` (then ``vmap`` does all at once). H is the Hessian
    ``H_{θ*} = ∇²_θ L`` of eq. (10.1); the damping is the ``H + λI`` of Section 10.1.

    Parameters
    ----------
    model : torch.nn.Module
        The trained model; its current trainable parameters are θ*.
    loss_fn : callable
        ``loss_fn(outputs, targets)`` returning one loss per example (``reduction="none"``).
    X, y : Tensor
        The training set (inputs, and one target per row).
    v : Tensor of shape (p,) or (m, p)
        The vector(s), converted to the parameters' dtype and moved to their device.
    weight_decay : float, default=0.0
        The ridge term ``weight_decay/2 · ‖θ‖²`` of the objective.
    damping : float, default=0.0
        λ in ``(H + λI) v``.

    Returns
    -------
    Tensor of the shape of ``v``

    Raises
    ------
    TypeError, ValueError
        As :func:`training_objective`.
    """
    return make_hvp(model, loss_fn, X, y, weight_decay=weight_decay, damping=damping)(v)


def make_hvp(model: torch.nn.Module, loss_fn: LossFn, X: torch.Tensor, y: torch.Tensor, *,
             weight_decay: float = 0.0, damping: float = 0.0) -> MatVec:
    """The operator ``v ↦ (H + damping·I) v`` (one vector or a batch of rows) for the solvers.

    Pearlmutter's forward-over-reverse product (Pearlmutter 1994), as in :func:`hvp`, at the model's
    parameters when ``make_hvp`` is called (later changes to the model are not seen).

    Parameters
    ----------
    model, loss_fn, X, y, weight_decay, damping
        As in :func:`hvp`.

    Returns
    -------
    callable
        ``matvec(v)`` for ``v`` of shape ``(p,)`` or ``(m, p)`` (batched with ``vmap``), same shape out.

    Raises
    ------
    TypeError, ValueError
        As :func:`training_objective`.
    """
    fm = flatten(model)
    objective = training_objective(fm, loss_fn, X, y, weight_decay)
    gradient = grad(objective)

    def single(v: torch.Tensor) -> torch.Tensor:
        return jvp(gradient, (fm.theta,), (v,))[1] + damping * v

    def matvec(v: torch.Tensor) -> torch.Tensor:
        v = v.to(device=fm.theta.device, dtype=fm.theta.dtype)
        return single(v) if v.ndim == 1 else vmap(single)(v)

    return matvec


def function_hvp(f: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``∇²f(θ) v`` for any scalar function of a vector, forward-over-reverse (the reference for nb01.5).

    Pearlmutter's trick (Pearlmutter 1994): the ``jvp`` of ``grad(f)`` at θ along v.

    Parameters
    ----------
    f : callable
        ``f(theta) -> scalar tensor``, differentiable twice by ``torch.func``.
    theta : Tensor of shape (p,)
        Where the Hessian is taken.
    v : Tensor of shape (p,)
        The direction.

    Returns
    -------
    Tensor of shape (p,)
    """
    return jvp(grad(f), (theta,), (v,))[1]


def dense_hessian(model: torch.nn.Module, loss_fn: LossFn, X: torch.Tensor, y: torch.Tensor, *,
                  weight_decay: float = 0.0) -> torch.Tensor:
    """The full ``p × p`` Hessian of the training objective (for small models and ground truth).

    ``H_{θ*} = ∇²_θ L`` of eq. (10.1), by ``torch.func.hessian``, without damping.

    Parameters
    ----------
    model, loss_fn, X, y, weight_decay
        As in :func:`hvp` (no damping: H itself).

    Returns
    -------
    Tensor of shape (p, p)

    Raises
    ------
    TypeError, ValueError
        As :func:`training_objective`.
    """
    fm = flatten(model)
    return hessian(training_objective(fm, loss_fn, X, y, weight_decay))(fm.theta)


def top_eigenvalue(matvec: MatVec, dim: int, *, iters: int = 100, seed=0,
                   dtype: torch.dtype = torch.float64, device: torch.device | str | None = None) -> float:
    """The eigenvalue of largest magnitude of a symmetric operator, by power iteration (``iters`` HVPs).

    Used to pick the Neumann/LiSSA scale ``α = 1/λ_max`` (Problems 10.1.3–10.1.4).

    Parameters
    ----------
    matvec : callable
        ``v ↦ A v`` for one vector of shape ``(dim,)``.
    dim : int
        The dimension.
    iters : int, default=100
        Power iterations (operator applications); no convergence test.
    seed : None, int or numpy.random.Generator, default=0
        Seed of the random start vector (via :func:`creditlib.validation.torch_generator`), drawn on the
        CPU and then moved to ``device`` (:func:`creditlib.validation.cpu_draw`): the same start on every device.
    dtype : torch.dtype, default=torch.float64
        Dtype of the start vector.
    device : torch.device or str, optional
        Device of the start vector (where ``matvec`` works); default the CPU.

    Returns
    -------
    float
        The Rayleigh quotient ``vᵀAv`` at the last iterate (its sign is the eigenvalue's); 0.0 if
        an iterate is mapped to zero.
    """
    v = cpu_draw(torch.randn, dim, generator=torch_generator(seed), dtype=dtype, device=device)
    v /= v.norm()
    value = 0.0
    for _ in range(iters):
        w = matvec(v)
        value = float(v @ w)
        norm = w.norm()
        if norm == 0:
            return 0.0
        v = w / norm
    return value


# ---------------------------------------------------------------------------- solvers
@dataclass(frozen=True)
class InverseHVP:
    """A solution of ``A x = v`` with its cost and quality.

    Attributes
    ----------
    x : Tensor
        The solution, same shape as v.
    n_hvp : int
        Operator applications per right-hand side, all included (power iterations for the
        scale, the one that measures the final residual); exact: 0, it forms the matrix.
    residual : float
        The true relative residual ``‖A x − v‖ / ‖v‖`` (largest over right-hand sides),
        recomputed from the operator, not from the solver's recurrence; NaN for
        :func:`solve_lissa` alone, which only sees mini-batch Hessians.
    method : str
    spread : float
        LiSSA only: relative spread of the repeats (std over mean norm); 0 otherwise.

    Every solver returns one (:func:`solve_cg`, :func:`solve_neumann`, :func:`solve_lissa`,
    :func:`inverse_hvp`); estimators of Shapley values return ``ShapleyEstimate`` likewise.
    """

    x: torch.Tensor
    n_hvp: int
    residual: float
    method: str
    spread: float = 0.0


def _max_relative_norm(R: torch.Tensor, V: torch.Tensor) -> float:
    """The largest ``‖r‖ / ‖v‖`` over the rows of a batch."""
    rows = V.reshape(-1, V.shape[-1])
    return float((R.reshape(-1, V.shape[-1]).norm(dim=1) / rows.norm(dim=1).clamp_min(1e-300)).max())


def _relative_residual(matvec: MatVec, X: torch.Tensor, V: torch.Tensor) -> float:
    """The true relative residual ``‖A x − v‖ / ‖v‖`` (one more operator application)."""
    return _max_relative_norm(matvec(X) - V, V)


def solve_exact(A: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """``A⁻¹ v`` by a Cholesky factorisation of a dense symmetric matrix; refuses if A is not positive definite.

    The cubic-cost baseline of Section 10.1.2.

    Parameters
    ----------
    A : Tensor of shape (p, p)
        Symmetric.
    V : Tensor of shape (p,) or (m, p)
        One right-hand side, or m of them (rows).

    Returns
    -------
    Tensor of the shape of ``V``

    Raises
    ------
    NotPositiveDefiniteError
        The smallest eigenvalue of A is ≤ 0 (the message gives the damping that would fix it).
    """
    smallest = float(torch.linalg.eigvalsh(A)[0])
    if smallest <= 0:
        raise NotPositiveDefiniteError(
            f"The Hessian is not positive definite: its smallest eigenvalue is {smallest:.3g}. θ* is not a "
            f"strict local minimum (or the model is over-parametrised). Add damping > {-smallest:.3g} "
            "(damping=...), i.e. invert H + λI as Section 10.1 suggests.")
    L = torch.linalg.cholesky(A)
    return torch.cholesky_solve(V.T if V.ndim == 2 else V[:, None], L).T.reshape(V.shape)


CG_TRUE_RESIDUAL_SLACK = 100.0
"""How far the true relative residual of :func:`solve_cg` may exceed ``tol``, once its recurrence residual has
reached ``tol``, before it warns (float64 round-off leaves it within a few ``tol`` for the course's problems)."""


def solve_cg(matvec: MatVec, V: torch.Tensor, *, tol: float = 1e-10, max_iter: int = 1000,
             callback: Callable[[int, torch.Tensor], None] | None = None) -> InverseHVP:
    """Conjugate gradient for ``A x = v`` (each row of a batch solved at once); one HVP per iteration.

    Converges in about ``√κ · log(1/tol)`` iterations. Raises ``NotPositiveDefiniteError``
    when it meets a direction of non-positive curvature ``pᵀAp ≤ 0``. ``callback(iteration, x)``
    sees every iterate (for error traces).

    Parameters
    ----------
    matvec : callable
        The symmetric operator A, applied to a batch of rows ``(m, p)``.
    V : Tensor of shape (p,) or (m, p)
        One right-hand side, or m of them.
    tol : float, default=1e-10
        Stop when every right-hand side's recurrence residual is at most ``tol · ‖v‖``.
    max_iter : int, default=1000
        Iterations (operator applications) at most.
    callback : callable, optional
        ``callback(iteration, x)`` after each iteration, x of the shape of ``V``.

    Returns
    -------
    InverseHVP
        ``method="cg"``; ``n_hvp`` the iterations plus one (the true residual's).

    Raises
    ------
    NotPositiveDefiniteError
        Non-positive curvature met.
    ValueError, TypeError
        ``tol`` or ``max_iter`` invalid.

    Warns
    -----
    ConvergenceWarning
        ``max_iter`` reached before ``tol``; or the recurrence residual reached ``tol`` while the true residual
        (recomputed from the operator) is more than ``CG_TRUE_RESIDUAL_SLACK · tol`` (round-off: a ``tol``
        below what the dtype can reach, e.g. 1e-10 in float32).
    """
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", low=1)
    single = V.ndim == 1
    V = V[None] if single else V
    X = torch.zeros_like(V)
    R = V.clone()
    P = R.clone()
    rs = (R * R).sum(dim=1)
    target = tol * V.norm(dim=1)
    iterations = 0
    for iterations in range(1, max_iter + 1):
        AP = matvec(P)
        curvature = (P * AP).sum(dim=1)
        if (curvature <= 0).any():
            k = int((curvature <= 0).nonzero()[0])
            rayleigh = float(curvature[k] / (P[k] @ P[k]))
            raise NotPositiveDefiniteError(
                f"Conjugate gradient met negative curvature pᵀHp/pᵀp = {rayleigh:.3g} (iteration {iterations}): "
                f"the Hessian is not positive definite. Add damping > {max(-rayleigh, 0):.3g} (damping=...).")
        alpha = rs / curvature
        X = X + alpha[:, None] * P
        R = R - alpha[:, None] * AP
        if callback is not None:
            callback(iterations, X[0] if single else X)
        rs_new = (R * R).sum(dim=1)
        if (rs_new.sqrt() <= target).all():          # every right-hand side, not just one of them
            converged = True
            break
        P = R + (rs_new / rs)[:, None] * P
        rs = rs_new
    else:
        converged = False
        worst = float((rs_new.sqrt() / V.norm(dim=1).clamp_min(1e-300)).max())
        warn_unconverged(f"Conjugate gradient stopped at max_iter={max_iter} with relative residual {worst:.2g} "
                         f"> tol = {tol:g}: raise max_iter, or add damping to improve the conditioning.")
    X = X[0] if single else X
    residual = _relative_residual(matvec, X, V[0] if single else V)
    if converged and not residual <= CG_TRUE_RESIDUAL_SLACK * tol:
        eps = torch.finfo(V.dtype).eps if V.dtype.is_floating_point else float("nan")
        warn_unconverged(f"Conjugate gradient's recurrence residual reached tol = {tol:g}, but the true relative "
                         f"residual ‖Ax − v‖/‖v‖ is {residual:.2g}, more than {CG_TRUE_RESIDUAL_SLACK:g}·tol: round-off "
                         f"in {V.dtype} (machine epsilon {eps:.2g}) caps the accuracy. Use float64 (model.double() "
                         f"and float64 data), or a tol above the round-off floor (about 10·eps·‖A‖‖x‖/‖v‖).")
    return InverseHVP(X, iterations + 1, residual, "cg")


def solve_neumann(matvec: MatVec, V: torch.Tensor, *, scale: float, tol: float = 1e-10, max_iter: int = 10_000,
                  blowup: float = 1e6, callback: Callable[[int, torch.Tensor], None] | None = None
                  ) -> InverseHVP:
    """The truncated Neumann series ``x_r = α Σ_{i=0}^{r} (I − αA)^i v`` (Problem 10.1.3 applied to αA).

    Computed as ``x_{r+1} = x_r + α (v − A x_r)``: one HVP per term, and the
    residual comes for free. It converges iff every eigenvalue of αA lies in (0, 2),
    the relative error falling like ``ρ^{r+1}`` with ``ρ = max |1 − αλ|`` (Problem 10.1.4,
    corrected). Raises ``DivergenceError`` when the residual grows ``blowup``-fold.
    ``callback(r, x_r)`` sees every partial sum.

    Parameters
    ----------
    matvec : callable
        The symmetric operator A, applied to ``V``'s shape.
    V : Tensor of shape (p,) or (m, p)
        One right-hand side, or m of them.
    scale : float
        α > 0 (below ``2/λ_max(A)`` for convergence).
    tol : float, default=1e-10
        Stop when every right-hand side's relative residual is at most ``tol``.
    max_iter : int, default=10_000
        Terms at most.
    blowup : float, default=1e6
        Growth of the residual's norm over ``‖v‖`` that counts as divergence.
    callback : callable, optional
        ``callback(r, x_r)`` after each term.

    Returns
    -------
    InverseHVP
        ``method="neumann"``; ``n_hvp`` the terms used (plus one for the final residual when it
        stopped at ``max_iter``).

    Raises
    ------
    DivergenceError
        The residual grew ``blowup``-fold or became non-finite.
    ValueError, TypeError
        ``scale``, ``tol`` or ``max_iter`` invalid.

    Warns
    -----
    ConvergenceWarning
        ``max_iter`` reached before ``tol``.
    """
    scale = check_positive(scale, "scale")
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", low=1)
    X = scale * V
    initial = V.reshape(-1, V.shape[-1]).norm(dim=1).max()
    for iterations in range(1, max_iter + 1):
        R = V - matvec(X)
        size = R.reshape(-1, V.shape[-1]).norm(dim=1).max()
        if not torch.isfinite(size) or size > blowup * initial:
            raise DivergenceError(
                f"The Neumann series diverges: the residual grew from {float(initial):.3g} to {float(size):.3g} in "
                f"{iterations} terms, so the spectral radius of I − αA is at least 1 (α = {scale:.3g}). Fix: a "
                "smaller scale α (below 2/λ_max; estimate λ_max with top_eigenvalue) or more damping, if the "
                "Hessian has negative eigenvalues.")
        relative = _max_relative_norm(R, V)         # every right-hand side to its own tolerance, as in CG
        if relative <= tol:                          # R is the true residual of this X: no extra HVP
            return InverseHVP(X, iterations, relative, "neumann")
        X = X + scale * R
        if callback is not None:
            callback(iterations, X)
    warn_unconverged(f"The Neumann series stopped at max_iter={max_iter} terms with relative residual "
                     f"{relative:.2g} > tol = {tol:g}: raise max_iter (it needs about κ·log(1/tol) "
                     "terms), or use method='cg'.")
    return InverseHVP(X, max_iter + 1, _relative_residual(matvec, X, V), "neumann")


def solve_lissa(stochastic_matvec: Callable[[torch.Generator, torch.Tensor], torch.Tensor], V: torch.Tensor, *,
                scale: float, depth: int, repeats: int = 1, seed=0, blowup: float = 1e6,
                callback: Callable[[int, torch.Tensor], None] | None = None) -> InverseHVP:
    """LiSSA: the Neumann recursion with a fresh mini-batch Hessian at every step, averaged over repeats.

    ``x_{t+1} = α v + (I − α A_t) x_t``, where ``stochastic_matvec(generator, X)``
    multiplies each repeat's iterate ``X[r]`` by the Hessian of its own random
    mini-batch (all repeats advance together). Returns the mean of the repeats and
    their relative spread. Raises ``DivergenceError`` on growth, like :func:`solve_neumann`.
    ``callback(t, mean of the repeats)`` sees every step. Agarwal, Bullins & Hazan 2017, as used by
    Koh & Liang 2017 for influence functions (Section 10.1.2).

    Parameters
    ----------
    stochastic_matvec : callable
        ``stochastic_matvec(generator, X)`` for X of shape ``(repeats, *V.shape)``, e.g. :func:`minibatch_hvp`.
    V : Tensor of shape (p,) or (m, p)
        One right-hand side, or m of them (the same mini-batches serve all of them).
    scale : float
        α > 0, below ``1/λ_max`` of the mini-batch Hessians.
    depth : int
        Recursion steps (at least 1), starting from ``x_0 = α v``.
    repeats : int, default=1
        Independent recursions averaged.
    seed : None, int or numpy.random.Generator, default=0
        Seed of the mini-batches (via :func:`creditlib.validation.torch_generator`).
    blowup : float, default=1e6
        Growth of the iterate over ``α‖v‖`` that counts as divergence.
    callback : callable, optional
        ``callback(t, x_t)`` after each step, x_t the mean of the repeats.

    Returns
    -------
    InverseHVP
        ``method="lissa"``; ``n_hvp = repeats · depth`` (mini-batch HVPs), ``residual`` NaN,
        ``spread`` the relative spread of the repeats (0 for one repeat).

    Raises
    ------
    DivergenceError
        An iterate grew ``blowup``-fold or became non-finite.
    ValueError, TypeError
        An invalid ``scale``, ``depth`` or ``repeats``.
    """
    scale = check_positive(scale, "scale")
    depth = check_int(depth, "depth", low=1)
    repeats = check_int(repeats, "repeats", low=1)
    g = torch_generator(seed)
    initial = V.reshape(-1, V.shape[-1]).norm(dim=1).max()
    X = scale * V.expand(repeats, *V.shape).clone()
    for t in range(depth):
        X = scale * V + X - scale * stochastic_matvec(g, X)
        size = X.reshape(-1, V.shape[-1]).norm(dim=1).max()
        if not torch.isfinite(size) or size > blowup * scale * initial:
            raise DivergenceError(
                f"LiSSA diverges (step {t}): the iterate grew to {float(size):.3g}. Fix: a smaller scale α "
                f"(now {scale:.3g}; keep it below 1/λ_max of the mini-batch Hessians) or more damping.")
        if callback is not None:
            callback(t + 1, X.mean(dim=0))
    mean = X.mean(dim=0)
    spread = float(X.std(dim=0).norm() / mean.norm()) if repeats > 1 else 0.0
    return InverseHVP(mean, repeats * depth, float("nan"), "lissa", spread)


def inverse_hvp(model: torch.nn.Module, loss_fn: LossFn, X: torch.Tensor, y: torch.Tensor, v: torch.Tensor, *,
                weight_decay: float = 0.0, damping: float = 0.0, method: str = "cg", tol: float = 1e-10,
                max_iter: int = 10_000, scale: float | None = None, batch_size: int = 32, depth: int = 1000,
                repeats: int = 4, seed=0) -> InverseHVP:
    """Solve ``(H + damping·I) x = v`` for the training objective's Hessian H at θ*.

    The ``H_{θ*}^{-1} ∇ℓ`` of Theorem 10.1.2 / eq. (10.10), with Section 10.1's damping λ.
    "neumann" is the series of Problems 10.1.3–10.1.4; "lissa" its stochastic version
    (Agarwal, Bullins & Hazan 2017); "cg" conjugate gradient; "exact" a dense Cholesky solve.

    Parameters
    ----------
    model, loss_fn, X, y
        As in :func:`hvp`.
    v : Tensor of shape (p,) or (m, p)
        One right-hand side, or m of them solved together (moved to the parameters' device and dtype).
    weight_decay, damping : float, default=0.0
        As in :func:`hvp`; λ = ``damping`` ≥ 0.
    method : {"exact", "cg", "neumann", "lissa"}, default="cg"
    tol, max_iter : float, int, default=1e-10, 10_000
        Tolerance and iteration limit of "cg" and "neumann" (see :func:`solve_cg`, :func:`solve_neumann`).
    scale : float, optional
        α for "neumann"/"lissa"; default ``1/λ_max`` of ``H + damping·I`` from 50 power
        iterations (counted in ``n_hvp``), so that the eigenvalues of αA lie in (0, 1].
    batch_size, depth, repeats : int
        LiSSA's mini-batch size (capped at n), recursion depth and number of averaged repeats.
    seed : None, int or numpy.random.Generator, default=0
        Seed of the power iteration's start vector and of LiSSA's mini-batches
        (via :func:`creditlib.validation.torch_generator`).

    Returns
    -------
    InverseHVP
        ``x`` of the shape of ``v``; ``residual`` the true relative residual against the full
        damped Hessian (for "lissa" too, one more HVP); ``n_hvp`` includes power iterations.

    Raises
    ------
    ValueError
        Negative ``damping``, ``batch_size`` < 1, ``v`` of the wrong shape, or an unknown method.
    NotPositiveDefiniteError
        "exact" or "cg" on a Hessian that is not positive definite (add damping).
    DivergenceError
        "neumann" or "lissa" diverging (smaller scale, or more damping).

    Warns
    -----
    ConvergenceWarning
        "cg" or "neumann" stopped at ``max_iter``, or "cg"'s true residual is far above ``tol`` (a ``tol``
        below the round-off floor of the dtype, e.g. the default 1e-10 with a float32 model).
    """
    damping = check_positive(damping, "damping", allow_zero=True)
    batch_size = check_int(batch_size, "batch_size", low=1)
    fm = flatten(model)
    v = v.to(device=fm.theta.device, dtype=fm.theta.dtype)
    if v.shape[-1] != fm.theta.numel() or v.ndim not in (1, 2):
        raise ValueError(f"v must have shape ({fm.theta.numel()},) or (m, {fm.theta.numel()}) for a model with "
                         f"{fm.theta.numel()} parameters; got {tuple(v.shape)}.")
    full = make_hvp(model, loss_fn, X, y, weight_decay=weight_decay, damping=damping)
    if method == "exact":
        H = dense_hessian(model, loss_fn, X, y, weight_decay=weight_decay)
        x = solve_exact(H + damping * torch.eye(len(H), dtype=H.dtype, device=H.device), v)
        return InverseHVP(x, 0, _relative_residual(full, x, v), method)
    if method == "cg":
        return solve_cg(full, v, tol=tol, max_iter=max_iter)
    if method not in ("neumann", "lissa"):
        raise ValueError(f"method must be 'exact', 'cg', 'neumann' or 'lissa'; got {method!r}.")
    power_iters = 0
    if scale is None:
        power_iters = 50
        scale = 1.0 / abs(top_eigenvalue(full, fm.theta.numel(), iters=power_iters, seed=seed, dtype=fm.theta.dtype,
                                         device=fm.theta.device))
    if method == "neumann":
        result = solve_neumann(full, v, scale=scale, tol=tol, max_iter=max_iter)
        return replace(result, n_hvp=result.n_hvp + power_iters)
    result = solve_lissa(minibatch_hvp(model, loss_fn, X, y, weight_decay, damping, batch_size), v,
                         scale=scale, depth=depth, repeats=repeats, seed=seed)
    return replace(result, n_hvp=result.n_hvp + power_iters + 1, residual=_relative_residual(full, result.x, v))


def minibatch_hvp(model: torch.nn.Module, loss_fn: LossFn, X: torch.Tensor, y: torch.Tensor, weight_decay: float,
                  damping: float, batch_size: int) -> Callable[[torch.Generator, torch.Tensor], torch.Tensor]:
    """``(generator, X_repeats) ↦`` each repeat's iterate times the Hessian of its own random mini-batch
    (drawn without replacement), all repeats in one ``vmap``: the stochastic operator of :func:`solve_lissa`.

    Parameters
    ----------
    model, loss_fn, X, y
        As in :func:`hvp`; mini-batches are drawn from the rows of X.
    weight_decay : float
        The ridge term of each mini-batch's objective.
    damping : float
        λ, added as ``+ λ u`` to every product.
    batch_size : int
        Mini-batch size (at least 1; capped at n).

    Returns
    -------
    callable
        ``apply(generator, iterates)`` for iterates of shape ``(repeats, p)`` or ``(repeats, m, p)``;
        draws one mini-batch per repeat from the CPU torch ``generator`` (the indices are then moved to X's
        device, so the mini-batches are the same on every device).

    Raises
    ------
    TypeError, ValueError
        ``batch_size`` is not a positive integer.
    """
    fm = flatten(model)
    n = X.shape[0]
    b = min(check_int(batch_size, "batch_size", low=1), n)

    def one(idx, u):
        objective = training_objective(fm, loss_fn, X[idx], y[idx], weight_decay)   # the mini-batch's L
        return jvp(grad(objective), (fm.theta,), (u,))[1] + damping * u

    def apply(g: torch.Generator, iterates: torch.Tensor) -> torch.Tensor:
        idx = torch.stack([cpu_draw(torch.randperm, n, generator=g)[:b] for _ in range(iterates.shape[0])])
        per_repeat = one if iterates.ndim == 2 else vmap(one, in_dims=(None, 0))
        return vmap(per_repeat)(idx.to(X.device), iterates.to(device=fm.theta.device, dtype=fm.theta.dtype))

    return apply


# ---------------------------------------------------------------------------- influence
def influence_matrix(model: torch.nn.Module, loss_fn: LossFn, X_train: torch.Tensor, y_train: torch.Tensor,
                     X_test: torch.Tensor, y_test: torch.Tensor, *, weight_decay: float = 0.0,
                     damping: float = 0.0, method: str = "cg", **solver_options) -> torch.Tensor:
    """``I[i, j] = I(x_i, z_j) = −∇ℓ(z_j; θ*)ᵀ (H + damping·I)⁻¹ ∇ℓ(x_i; θ*)``, Theorem 10.1.2 with its sign.

    H is the Hessian of ``mean_i loss(x_i) + weight_decay/2 ‖θ‖²`` at the model's
    current parameters. One solve per test point (``s_test = H⁻¹ ∇ℓ(z_j)``, all test
    points at once), then a matrix product with the per-example training gradients.
    A positive entry means up-weighting ``x_i`` *raises* the loss on ``z_j`` (it hurts z_j);
    setting its weight to 0 changes that loss by about ``−I/n`` (retraining on the mean of the
    other n − 1 points, as :func:`leave_one_out` does, by about ``−(I − Ī)/n``).

    Parameters
    ----------
    model, loss_fn
        As in :func:`hvp`.
    X_train, y_train : Tensor
        The training set (defines H and the ``x_i``).
    X_test, y_test : Tensor
        The test points ``z_j``.
    weight_decay, damping : float, default=0.0
        As in :func:`inverse_hvp`.
    method : {"exact", "cg", "neumann", "lissa"}, default="cg"
        The solver of :func:`inverse_hvp`.
    **solver_options
        Passed on to :func:`inverse_hvp` (``tol``, ``max_iter``, ``scale``, ``batch_size``, ``depth``,
        ``repeats``, ``seed``).

    Returns
    -------
    Tensor of shape (n_train, n_test)

    Raises
    ------
    TypeError, ValueError, NotPositiveDefiniteError, DivergenceError
        As :func:`per_example_gradients` and :func:`inverse_hvp`.

    Warns
    -----
    ConvergenceWarning
        The solver stopped at its iteration limit.
    """
    _check_data(X_test, y_test, "test data")
    G_train = per_example_gradients(model, loss_fn, X_train, y_train)
    G_test = per_example_gradients(model, loss_fn, X_test, y_test)
    s_test = inverse_hvp(model, loss_fn, X_train, y_train, G_test, weight_decay=weight_decay, damping=damping,
                         method=method, **solver_options).x
    return -G_train @ s_test.T


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


def _retrain_newton(objective: Callable[..., torch.Tensor], theta0: torch.Tensor, weights: torch.Tensor, *,
                    tol: float, max_iter: int) -> torch.Tensor:
    """Minimise ``objective(θ, w)`` for every row w of ``weights`` at once: Newton steps batched with ``vmap``
    (dense Hessians; for small convex models). Raises ``RuntimeError`` when any model is not converged."""
    g_fn, h_fn = vmap(grad(objective), in_dims=(0, 0)), vmap(hessian(objective), in_dims=(0, 0))
    theta = theta0.expand(len(weights), -1).clone()
    for _ in range(max_iter):
        g = g_fn(theta, weights)
        if float(g.norm(dim=1).max()) < tol:
            return theta
        theta = theta - torch.linalg.solve(h_fn(theta, weights), g[..., None])[..., 0]
    raise RuntimeError(f"Newton did not converge in {max_iter} steps (gradient norm {float(g.norm(dim=1).max()):.2g}); "
                       "use optimizer='lbfgs' for non-convex models.")


def _progress(items, show: bool, what: str):
    """``items`` wrapped in a tqdm bar on stderr when ``show`` (tqdm is imported only then)."""
    if not show:
        return items
    from tqdm import tqdm
    return tqdm(items, desc=what)


def _retrain_lbfgs(objective: Callable[..., torch.Tensor], theta0: torch.Tensor, weights: torch.Tensor, *,
                   tol: float, max_iter: int, progress: bool = False) -> torch.Tensor:
    """Minimise ``objective(θ, w)`` for each row w of ``weights`` in turn with L-BFGS (non-convex models);
    warns (``ConvergenceWarning``) naming the models that stopped above ``tol``."""
    out, unconverged = [], []
    for row, w in enumerate(_progress(weights, progress, "leave-one-out (L-BFGS, models)")):
        theta = lbfgs_minimise(lambda th: objective(th, w), theta0, tol=tol, max_iter=max_iter)
        norm = float(grad(objective)(theta, w).norm())
        if not norm < tol:
            unconverged.append((int((w == 0).nonzero()[0]) if (w == 0).any() else row, norm))
        out.append(theta)
    if unconverged:
        worst = max(g for _, g in unconverged)
        shown = [i for i, _ in unconverged][:5]
        warn_unconverged(f"leave_one_out (L-BFGS): {len(unconverged)} of {len(weights)} retrained models stopped with "
                         f"gradient norm ≥ tol = {tol:g} (largest {worst:.2g}; training points {shown}"
                         f"{'…' if len(unconverged) > 5 else ''}). Raise max_iter or take a tol above the round-off "
                         "floor (about 1e-9 in float64).")
    return torch.stack(out)


def leave_one_out(model: torch.nn.Module, loss_fn: LossFn, X_train: torch.Tensor, y_train: torch.Tensor,
                  X_test: torch.Tensor, y_test: torch.Tensor, *, weight_decay: float = 0.0,
                  indices=None, optimizer: str = "newton", max_iter: int = 100, tol: float | None = None,
                  chunk: int = 64, progress: bool = False) -> torch.Tensor:
    """Ground truth: the change in each test loss when each training point is removed and the model retrained.

    Retraining minimises ``mean over the remaining points + weight_decay/2 ‖θ‖²``,
    warm-started from θ*, until the gradient norm is below ``tol``.
    ``optimizer="newton"`` retrains all held-out models at once (``vmap`` over sample
    weights, dense Hessians: for small convex models); ``"lbfgs"`` retrains one at a
    time with L-BFGS (for non-convex models).

    The counterfactual is "retrain on the n − 1 other points, with their *mean* loss and the
    same ``weight_decay``". Setting x_i's weight to 0 (ε = −1/n in eq. (10.2)) alone would
    change the loss by about ``−I(x_i, z_j)/n``; taking the mean over n − 1 points also
    scales the data term by n/(n − 1), which is the same as weakening the weight decay by
    a factor (n − 1)/n and adds ``+Ī(z_j)/n`` (Ī the mean influence over the training set;
    zero when ``weight_decay`` is 0). To first order this function returns
    ``−(I(x_i, z_j) − Ī(z_j))/n``.

    Parameters
    ----------
    model, loss_fn, X_train, y_train, X_test, y_test
        As in :func:`influence_matrix`; the model's parameters are θ*.
    weight_decay : float, default=0.0
    indices : sequence of int, optional
        The training points to remove, one at a time (default: all), each in ``0 .. n−1``.
    optimizer : {"newton", "lbfgs"}
    max_iter : int, default=100
        Newton steps, or L-BFGS iterations per round (20 rounds at most).
    tol : float, optional
        Target gradient norm of each retrained model. Default 1e-9 for Newton and 1e-7 for
        L-BFGS, whose line search stops seeing the objective change (float64 round-off)
        at gradient norms of about 1e-9 to 1e-8.
    chunk : int, default=64
        Models retrained together by the batched Newton path.
    progress : bool, default=False
        Show a tqdm progress bar (one step per chunk, or per model with L-BFGS) on stderr.

    Returns
    -------
    Tensor of shape ``(len(indices), n_test)``
        ``loss(z_j; θ*_{−i}) − loss(z_j; θ*)``. The model is left unchanged.

    Raises
    ------
    RuntimeError
        Newton did not converge within ``max_iter`` steps (a non-convex model: use ``"lbfgs"``).
    ValueError
        An index out of range, or an unknown optimizer.

    Warns
    -----
    ConvergenceWarning
        Some L-BFGS retraining stopped with a gradient norm at or above ``tol``.
    """
    _check_data(X_test, y_test, "test data")
    _check_data(X_train, y_train, "training data")
    fm = flatten(model)
    n = X_train.shape[0]
    indices = list(range(n)) if indices is None else [check_index(i, "each of indices", n, "training points")
                                                       for i in as_numpy(indices).reshape(-1).tolist()]
    max_iter, chunk = check_int(max_iter, "max_iter", low=1), check_int(chunk, "chunk", low=1)
    tol = check_positive({"newton": 1e-9, "lbfgs": 1e-7}.get(optimizer, 1.0) if tol is None else tol, "tol")
    base = example_losses(model, loss_fn, X_test, y_test)

    if optimizer not in ("newton", "lbfgs"):
        raise ValueError(f"optimizer must be 'newton' or 'lbfgs'; got {optimizer!r}.")
    objective = training_objective(fm, loss_fn, X_train, y_train, weight_decay)
    device = fm.theta.device
    weights = torch.ones(len(indices), n, dtype=fm.theta.dtype, device=device)
    weights[torch.arange(len(indices), device=device),
            torch.tensor(indices, dtype=torch.long, device=device)] = 0.0                # row r drops point r
    if optimizer == "newton":              # chunks bound the memory of the batched dense Hessians
        starts = _progress(range(0, len(indices), chunk), progress, "leave-one-out (Newton, chunks)")
        thetas = torch.cat([_retrain_newton(objective, fm.theta, weights[start:start + chunk], tol=tol,
                                            max_iter=max_iter) for start in starts])
    else:
        thetas = _retrain_lbfgs(objective, fm.theta, weights, tol=tol, max_iter=max_iter, progress=progress)
    with torch.no_grad():
        losses = vmap(lambda th: loss_fn(fm(th, X_test), y_test))(thetas)
    return losses - base
