"""Training many models, each on its own subset of the training set: the expensive half of datamodels (Section
10.3; Ilyas et al. 2022).

:func:`train_on_subsets` trains every model to convergence on exactly its subset, all the models of a chunk at once
(``torch.func.vmap`` over the flat parameter vectors of :mod:`creditlib.training`): by a batched damped Newton method
for small models and a batched L-BFGS otherwise. :func:`sgd_on_subsets` is the cheap, noisy alternative (a fixed
number of mini-batch SGD steps), as in practice. Both return the margin of every model on every test point.
"""
from __future__ import annotations

import copy
from concurrent.futures import Executor
from typing import Callable, NamedTuple

import numpy as np
import torch
from torch.func import grad_and_value, vmap

from .training import LossFn, flatten, margins, training_objective
from .validation import (
    check_int,
    check_positive,
    check_random_state,
    check_tensor_pair,
    progress_bar,
    seeded_torch_rng,
    warn_unconverged,
)

__all__ = ["SubsetOutputs", "NEWTON_MAX_PARAMS", "bytes_per_model", "train_on_subsets", "sgd_on_subsets"]


class SubsetOutputs(NamedTuple):
    """What a subset trainer returns: every model's test margins, and how close to stationary each model ended.

    A named pair: ``outputs, gradient_norms = train_on_subsets(...)``, or ``train_on_subsets(...).outputs``.

    Attributes
    ----------
    outputs : ndarray of shape (n_subsets, n_test)
        ``f(z_j; S_k)``, float64.
    gradient_norms : ndarray of shape (n_subsets,)
        The Euclidean norm of the gradient of model k's training objective (its subset's mean loss plus the
        weight decay) at its final parameters, float64.
    """

    outputs: np.ndarray
    gradient_norms: np.ndarray



# ---------------------------------------------------------------------------- training on subsets
def _activation_elements(model: torch.nn.Module, X: torch.Tensor) -> int:
    """Number of activations one forward pass of one model on X produces (summed over submodules)."""
    total = [0]
    hooks = [m.register_forward_hook(lambda _m, _i, out: total.__setitem__(0, total[0] + (
        out.numel() if isinstance(out, torch.Tensor) else 0))) for m in model.modules()]
    try:
        with torch.no_grad():
            model(X[:1])
    finally:
        for h in hooks:
            h.remove()
    return total[0] * X.shape[0]


NEWTON_MAX_PARAMS = 128
"""The largest parameter count for which :func:`train_on_subsets` picks the batched Newton method by default."""


def _resolve_method(method: str, n_params: int) -> str:
    """``"newton"`` or ``"lbfgs"`` for ``method`` in {"auto", "newton", "lbfgs"} (see :func:`train_on_subsets`)."""
    if method not in ("auto", "newton", "lbfgs"):
        raise ValueError(f"method must be 'auto', 'newton' or 'lbfgs'; got {method!r}.")
    if method == "auto":
        return "newton" if n_params <= NEWTON_MAX_PARAMS else "lbfgs"
    return method


def bytes_per_model(model: torch.nn.Module, X_train: torch.Tensor, history: int = 10, *,
                    method: str = "auto") -> int:
    """Rough memory of one model in a batch of :func:`train_on_subsets`.

    L-BFGS: its state (parameters, gradients, ``history`` pairs of vectors, line-search copies) and the
    activations of a forward and backward pass over the training set (counted once by forward hooks, times 4).
    Newton: the same plus the model's P × P Hessian, its Cholesky factor and a copy, and the P tangents that
    forward-over-reverse differentiation (``torch.func.hessian``) carries through every activation.

    Parameters
    ----------
    model : torch.nn.Module
        The architecture trained by :func:`train_on_subsets`.
    X_train : torch.Tensor
        The training inputs (their size sets the activations' memory).
    history : int, default=10
        L-BFGS history length.
    method : {"auto", "newton", "lbfgs"}, default="auto"
        The solver, resolved as :func:`train_on_subsets` resolves it.

    Returns
    -------
    int
        Estimated bytes for one model; :func:`train_on_subsets` divides its memory budget by it
        to choose a chunk size.
    """
    n_params = flatten(model).theta.numel()
    method = _resolve_method(method, n_params)
    itemsize = X_train.element_size()
    activations = _activation_elements(model, X_train)
    base = n_params * (2 * history + 10) + 4 * activations + 2 * X_train.shape[0]
    if method == "newton":
        base += 3 * n_params**2 + n_params * (4 * activations + 2 * X_train.shape[0])
    return itemsize * base


def _initial_thetas(model: torch.nn.Module, model_seeds: np.ndarray | None) -> torch.Tensor:
    """The starting parameters of each model, as rows of one ``(B, P)`` tensor on ``model``'s device.

    With seeds, row k holds the parameters that every submodule's ``reset_parameters()`` draws on the CPU from
    PyTorch's default CPU generator seeded with ``model_seeds[k]`` (PyTorch's own initialisation, a fresh draw per
    model), then moved to ``model``'s device and dtype: the same numbers on every device. The global CPU generator
    is restored afterwards and no other device's generator is touched. Without seeds, every copy starts from
    ``model``'s current parameters.
    """
    fm = flatten(model)
    if model_seeds is None:
        return fm.theta.expand(1, -1)
    clone = copy.deepcopy(model).to(device="cpu")         # one CPU copy, re-initialised once per seed
    rows = []
    for s in model_seeds:
        with seeded_torch_rng(int(s)):                     # the CPU generator only, restored afterwards
            for sub in clone.modules():
                if hasattr(sub, "reset_parameters"):
                    sub.reset_parameters()
        rows.append(flatten(clone).theta.clone())
    return torch.stack(rows).to(device=fm.theta.device, dtype=fm.theta.dtype)


def _train_chunk(model: torch.nn.Module, loss_fn: LossFn, X_train: torch.Tensor, y_train: torch.Tensor,
                 masks: np.ndarray, X_test: torch.Tensor, y_test: torch.Tensor, weight_decay: float,
                 model_seeds: np.ndarray | None, tol: float, max_iter: int, history: int, threads: int | None,
                 method: str = "lbfgs") -> tuple[np.ndarray, np.ndarray]:
    """Train one model per row of ``masks`` together (batched Newton or L-BFGS) and return their test margins and
    final gradient norms, as float64 NumPy arrays (CPU copies). Self-contained and picklable: the unit of work
    that an executor runs."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _train_chunk_here(model, loss_fn, X_train, y_train, masks, X_test, y_test, weight_decay, model_seeds,
                                 tol, max_iter, history, method)
    finally:
        torch.set_num_threads(previous)


def _train_chunk_here(model, loss_fn, X_train, y_train, masks, X_test, y_test, weight_decay, model_seeds, tol,
                      max_iter, history, method):
    fm = flatten(model)
    dtype, device = fm.theta.dtype, fm.theta.device
    B = masks.shape[0]
    weights = torch.as_tensor(masks, dtype=dtype, device=device)
    nonempty = (weights.sum(dim=1) > 0).to(dtype)
    safe = torch.where(nonempty[:, None] > 0, weights, torch.ones_like(weights))  # any valid weights if empty
    data_term = training_objective(fm, loss_fn, X_train, y_train, 0.0)              # Σ w ℓ / Σ w

    def objective(theta, w, present):
        # creditlib.influence's objective on the points present; an empty subset keeps only the penalty.
        return present * data_term(theta, w) + 0.5 * weight_decay * (theta * theta).sum()

    grad_value_fn = vmap(grad_and_value(objective))
    theta = _initial_thetas(model, model_seeds).expand(B, -1).clone()
    if weight_decay > 0:
        theta[nonempty == 0] = 0.0             # an empty subset's minimum, exactly: the penalty's
    if method == "newton":
        hessian = (_linear_model_hessian(fm, loss_fn, X_train, y_train, weight_decay)
                   if type(model) is torch.nn.Linear else None)
        theta = _batched_newton(objective, theta, (safe, nonempty), tol=tol, max_iter=max_iter, hessian=hessian)
    else:
        value_fn = vmap(objective)
        theta = _batched_lbfgs(lambda t: value_fn(t, safe, nonempty),
                               lambda t: grad_value_fn(t, safe, nonempty), theta, tol=tol, max_iter=max_iter,
                               history=history)
    g, _ = grad_value_fn(theta, safe, nonempty)
    with torch.no_grad():
        logits = vmap(lambda t: fm(t, X_test))(theta)
        out = margins(logits, y_test)
    return (out.detach().to(device="cpu", dtype=torch.float64).numpy(),
            g.norm(dim=1).detach().to(device="cpu", dtype=torch.float64).numpy())


def _armijo(f_try: torch.Tensor, f: torch.Tensor, step: torch.Tensor, slope: torch.Tensor) -> torch.Tensor:
    """Sufficient decrease (Armijo, c = 1e-4), with a slack of a few ulps of f so that a model at its minimum to
    round-off accepts a step that changes f only by round-off; NaN fails."""
    eps = torch.finfo(f.dtype).eps
    return f_try <= f + 1e-4 * step * slope + 4 * eps * f.abs()


_REUSE_RATIO = 0.5


def _batched_newton(objective: Callable, theta: torch.Tensor, data: tuple[torch.Tensor, ...], *, tol: float,
                    max_iter: int, hessian: Callable | None = None) -> torch.Tensor:
    """Damped Newton on each row of ``theta`` independently: all unconverged models advanced together.

    ``objective(θ, *row_of_data)`` is the objective of one model; ``data`` holds one row per model; ``hessian``
    maps rows of θ and of the data to their ``(b, P, P)`` Hessians (default ``vmap(torch.func.hessian(objective))``,
    forward-over-reverse). Each iteration takes the models whose gradient norm is still ≥ ``tol``, factorises the
    Hessians of those that need a fresh one together (``torch.linalg.cholesky_ex``) and solves for the Newton
    direction ``−H⁻¹g``; a model whose Hessian is not positive definite (the factorisation fails, or the direction
    is not a descent direction) takes the steepest-descent direction ``−g`` instead. The step length is 1, halved
    until the Armijo condition holds (backtracking; at most 50 halvings, after which the model stays where it is
    for this iteration). Nocedal & Wright, *Numerical Optimization* (2006), Algorithm 3.1 and Section 3.4.

    Lazy Hessians: a model keeps its last factorisation for its next step when its last step was a full Newton
    step that at least halved its gradient norm (it is in the fast local phase, where the factor of a
    nearby point still contracts; Shamanskii's modification of Newton's method, Kelley 1995, *Iterative Methods
    for Linear and Nonlinear Equations*, Section 5.4.3). Any other step (cut short, a gradient step, a slower
    decrease) makes it form a fresh Hessian. Each step still needs sufficient decrease, so the method stays a
    descent method; a reused factor only changes how fast the gradient norm reaches ``tol``.
    """
    grad_value = vmap(grad_and_value(objective))
    value = vmap(objective)
    hess = vmap(torch.func.hessian(objective)) if hessian is None else hessian
    B, P = theta.shape
    eye = torch.eye(P, dtype=theta.dtype, device=theta.device)
    theta = theta.clone()
    factors = eye.expand(B, P, P).clone()
    reuse = torch.zeros(B, dtype=torch.bool, device=theta.device)        # keep the factor for the next step
    g, f = grad_value(theta, *data)
    for _ in range(max_iter):
        norms = g.norm(dim=1)
        idx = torch.nonzero(~(norms < tol))[:, 0]
        if idx.numel() == 0:
            break
        fresh = idx[~reuse[idx]]
        if fresh.numel():
            L, info = torch.linalg.cholesky_ex(hess(theta[fresh], *(a[fresh] for a in data)))
            factors[fresh] = torch.where((info == 0)[:, None, None], L, eye)
            reuse[fresh] = info == 0                   # a model without a factor takes a gradient step
            pd = torch.zeros(B, dtype=torch.bool, device=theta.device)
            pd[idx] = True
            pd[fresh] = info == 0
        else:
            pd = torch.ones(B, dtype=torch.bool, device=theta.device)
        th, gk, fk, pk = theta[idx], g[idx], f[idx], pd[idx]
        dk = tuple(a[idx] for a in data)
        Lk = factors if len(idx) == B else factors[idx]            # H = L Lᵀ: two triangular solves
        half = torch.linalg.solve_triangular(Lk, gk[..., None], upper=False)
        d = torch.where(pk[:, None], -torch.linalg.solve_triangular(Lk.mT, half, upper=True)[..., 0], -gk)
        slope = (gk * d).sum(dim=1)
        uphill = ~(slope < 0)                                      # not a descent direction (or NaN): −g
        d = torch.where(uphill[:, None], -gk, d)
        slope = torch.where(uphill, -(gk * gk).sum(dim=1), slope)
        newton = pk & ~uphill
        g_new, f_new = grad_value(th + d, *dk)                     # the full step, usually accepted
        ok = _armijo(f_new, fk, torch.ones_like(fk), slope)
        if not bool(ok.all()):                                     # backtrack the others
            j = torch.nonzero(~ok)[:, 0]
            tj, djs, fj, sj = th[j], d[j], fk[j], slope[j]
            rows = tuple(a[j] for a in dk)
            step = torch.ones_like(fj)
            accepted = torch.zeros_like(fj, dtype=torch.bool)
            for _ in range(50):
                step = torch.where(accepted, step, step / 2)
                accepted = accepted | _armijo(value(tj + step[:, None] * djs, *rows), fj, step, sj)
                if bool(accepted.all()):
                    break
            step = torch.where(accepted, step, torch.zeros_like(step))
            gj, fj_new = grad_value(tj + step[:, None] * djs, *rows)
            g_new[j], f_new[j] = gj, fj_new
            d[j] = step[:, None] * djs
        reuse[idx] = newton & ok & (g_new.norm(dim=1) <= _REUSE_RATIO * norms[idx])
        theta[idx], g[idx], f[idx] = th + d, g_new, f_new
    return theta


def _linear_model_hessian(fm, loss_fn: LossFn, X: torch.Tensor, y: torch.Tensor, weight_decay: float
                          ) -> Callable | None:
    """Hessians of :func:`train_on_subsets`'s objective for a model whose outputs are linear in θ (one
    ``torch.nn.Linear``), or None when the shortcut's table would exceed 2**24 elements.

    For outputs ``z_i = J_i θ`` with a constant Jacobian ``J_i`` (K × P), the Hessian of
    ``Σ_i c_i ℓ(z_i, y_i) + λ/2 ‖θ‖²`` is exactly ``Σ_i c_i J_iᵀ D_i J_i + λI`` with ``D_i = ∇²_z ℓ(z_i, y_i)``
    (the Gauss–Newton matrix; the term with second derivatives of z vanishes). ``J`` comes from
    ``torch.func.jacfwd`` once, ``D`` from ``torch.func.hessian`` of the per-example loss; the products
    ``J_iᵀ[·]J_i`` are tabulated once, so each batch of Hessians is one matrix product. Only the lower triangle
    is filled (all that ``torch.linalg.cholesky_ex`` reads): the returned matrices are not symmetric.
    """
    J = torch.func.jacfwd(lambda t: fm(t, X))(fm.theta)                                 # (n, K, P)
    if J.ndim != 3:
        return None
    n, K, P = J.shape
    if n * K * K * P * P > 2**24:
        return None
    rows, cols = torch.tril_indices(P, P, device=J.device).unbind()          # the factorisation reads only these
    table = torch.einsum("ikp,ilp->iklp", J[:, :, rows], J[:, :, cols]).reshape(n * K * K, len(rows))
    ridge = weight_decay * (rows == cols).to(J.dtype)

    def one_loss(z, t):
        return loss_fn(z[None], t[None])[0]

    curvature = vmap(vmap(torch.func.hessian(one_loss)), in_dims=(0, None))          # (b, n, K, K)
    outputs = vmap(lambda t: fm(t, X))

    def hessian(theta, w, present):
        c = present[:, None] * w / w.sum(dim=1, keepdim=True)
        D = curvature(outputs(theta).reshape(len(theta), n, K), y) * c[..., None, None]
        H = torch.zeros(len(theta), P, P, dtype=theta.dtype, device=theta.device)
        H[:, rows, cols] = D.reshape(len(theta), -1) @ table + ridge
        return H

    return hessian


def _batched_lbfgs(value: Callable, grad_value: Callable, theta: torch.Tensor, *, tol: float, max_iter: int,
                   history: int) -> torch.Tensor:
    """L-BFGS on each row of ``theta`` independently, all rows advanced together (no loop over models).

    Each model keeps its own curvature pairs and its own backtracking (Armijo) step; a model whose
    gradient norm is below ``tol`` stops moving. Pairs with ``sᵀy ≤ 0`` (non-convex regions) are skipped.
    Every state tensor lives on ``theta``'s device, in its dtype.
    """
    B, P = theta.shape
    S = torch.zeros(history, B, P, dtype=theta.dtype, device=theta.device)
    Y = torch.zeros_like(S)
    rho = torch.zeros(history, B, dtype=theta.dtype, device=theta.device)
    g, f = grad_value(theta)
    gamma = 1.0 / g.norm(dim=1).clamp_min(1.0)
    slot = 0
    for _ in range(max_iter):
        active = g.norm(dim=1) >= tol
        if not active.any():
            break
        q = g.clone()                                          # two-loop recursion, newest pair first
        alphas = []
        for k in range(history):
            j = (slot - 1 - k) % history
            a = rho[j] * (S[j] * q).sum(dim=1)
            q -= a[:, None] * Y[j]
            alphas.append((j, a))
        r = gamma[:, None] * q
        for j, a in reversed(alphas):
            b = rho[j] * (Y[j] * r).sum(dim=1)
            r += (a - b)[:, None] * S[j]
        d = -r
        slope = (g * d).sum(dim=1)
        uphill = slope >= 0                                    # safeguard: steepest descent
        d[uphill] = -g[uphill]
        slope = torch.where(uphill, -(g * g).sum(dim=1), slope)
        step = active.to(theta.dtype)
        accepted = ~active
        for _ in range(50):                                    # backtracking, per model
            f_try = value(theta + step[:, None] * d)
            ok = _armijo(f_try, f, step, slope)
            accepted = accepted | ok
            if accepted.all():
                break
            step = torch.where(accepted, step, step / 2)
        step = torch.where(accepted, step, torch.zeros_like(step))
        new_theta = theta + step[:, None] * d
        new_g, new_f = grad_value(new_theta)
        s, y = new_theta - theta, new_g - g
        sy = (s * y).sum(dim=1)
        good = sy > 1e-12 * s.norm(dim=1) * y.norm(dim=1)
        S[slot], Y[slot] = torch.where(good[:, None], s, 0), torch.where(good[:, None], y, 0)
        rho[slot] = torch.where(good, 1.0 / torch.where(good, sy, torch.ones_like(sy)), torch.zeros_like(sy))
        gamma = torch.where(good, sy / (y * y).sum(dim=1).clamp_min(1e-300), gamma)
        slot = (slot + 1) % history
        theta, g, f = new_theta, new_g, new_f
    return theta


def _check_subset_training(model, X_train, y_train, masks, X_test, y_test) -> np.ndarray:
    """Validate the data and masks of :func:`train_on_subsets` and :func:`sgd_on_subsets`; return the masks."""
    device = flatten(model).theta.device
    check_tensor_pair(X_train, y_train, "training data", device)
    check_tensor_pair(X_test, y_test, "test data", device)
    masks = np.asarray(masks)
    if masks.dtype != bool or masks.ndim != 2 or masks.shape[1] != X_train.shape[0]:
        raise ValueError(f"masks must be a boolean array of shape (n_subsets, {X_train.shape[0]}) (one column per "
                         f"training point); got dtype {masks.dtype} and shape {masks.shape}.")
    if masks.shape[0] == 0:
        raise ValueError("masks has no rows: give at least one subset.")
    return masks


def train_on_subsets(model: torch.nn.Module, loss_fn: LossFn, X_train: torch.Tensor, y_train: torch.Tensor,
                     masks, X_test: torch.Tensor, y_test: torch.Tensor, *, weight_decay: float, seed=0,
                     chunk_size: int | None = None, executor: Executor | None = None, progress: bool = False,
                     tol: float = 1e-6, max_iter: int = 1000, history: int = 10, threads: int | None = 1,
                     memory_budget: int = 2**28, method: str = "auto") -> SubsetOutputs:
    """Train one model per subset, each to convergence on exactly its own points; return their test margins.

    Model k minimises the objective of :func:`creditlib.influence.training_objective` on its subset S_k,
    ``mean_{i∈S_k} loss(x_i; θ) + weight_decay/2 · ‖θ‖²`` (all parameters, biases included), so that
    datamodels, influence functions and leave-one-out describe the same models. All models of a chunk are
    trained together, full-batch and deterministic, as rows of one ``(models, parameters)`` tensor with ``vmap``
    and ``functional_call``, by one of two solvers (``method``):

    * ``"newton"``: damped Newton with a backtracking (Armijo) line search (Nocedal & Wright, *Numerical
      Optimization*, 2006, Algorithm 3.1 and Section 3.4). Every iteration forms the Hessians of the models not
      yet converged (``vmap`` of ``torch.func.hessian``), factorises them together (batched Cholesky) and steps
      along ``−H⁻¹∇L``; a model whose Hessian is not positive definite steps along ``−∇L`` instead. Few
      iterations, each costing about P gradients and a P × P factorisation per model: fast for few parameters.
    * ``"lbfgs"``: batched L-BFGS (Nocedal & Wright, Algorithm 7.4) with ``history`` curvature pairs and the same
      line search per model: many cheap iterations, for models with many parameters.
    * ``"auto"`` (default): ``"newton"`` when the model has at most :data:`NEWTON_MAX_PARAMS` = 128 trainable
      parameters (a logistic regression on 64 pixels has 65), ``"lbfgs"`` otherwise.

    Both stop a model when its gradient norm is below ``tol``, so for a convex model they return the same
    minimiser to within ``tol`` over the objective's smallest curvature. For a non-convex model each returns
    some stationary point; the two solvers may find different ones.

    Everything runs on the device and in the dtype of ``model``'s parameters (the data must be on that device);
    seeded initialisations are drawn on the CPU and then moved, so they are the same on every device.

    Parameters
    ----------
    model : torch.nn.Module
        The architecture (and, with ``seed=None``, the starting parameters). It is not modified.
    loss_fn : callable
        ``loss_fn(outputs, targets)`` → one loss per example, e.g. :func:`logistic_loss`,
        :func:`softmax_cross_entropy`. With an ``executor`` it must be picklable (a module-level function).
    X_train, y_train : Tensor
        The full training set; ``masks`` select from it.
    masks : array of bool, shape (n_subsets, n_train)
        Row k: the subset of model k (see :func:`subset_masks`).
    X_test, y_test : Tensor
        The test points whose margins are recorded.
    weight_decay : float
        ``≥ 0``. With 0, a subset that is separable (or holds one class only) has no minimum: use > 0.
    seed : None, int or numpy.random.Generator, default=0
        An int or Generator draws a fresh PyTorch initialisation for each model (model k's depends only on
        the seed and k, not on the chunking); None starts every model from ``model``'s parameters.
    chunk_size : int, optional
        Models trained together. Default: as many as fit in ``memory_budget`` (often all of them, in one chunk:
        with an ``executor``, give a chunk size so that every worker gets chunks).
    executor : concurrent.futures.Executor, optional
        Runs the chunks (``executor.submit``); e.g. a ``ProcessPoolExecutor``, Dask's
        ``Client.get_executor()``. Default: in this process, one chunk after the other.
    progress : bool, default=False
        A tqdm progress bar over the models.
    tol : float, default=1e-6
        Target for each model's gradient norm.
    max_iter : int, default=1000
        Newton or L-BFGS iterations per chunk.
    history : int, default=10
        L-BFGS curvature pairs kept per model (unused by Newton).
    threads : int or None, default=1
        PyTorch threads while a chunk trains (restored afterwards); None keeps the current setting. One thread
        makes the outputs independent of ``OMP_NUM_THREADS`` (the order of reductions) and is the fastest for
        small models on a busy machine, where a thread pool waits for descheduled threads: parallelise over
        chunks with an ``executor`` instead.
    memory_budget : int, default=256 MiB
        Bytes one chunk may use (estimated by :func:`bytes_per_model`).
    method : {"auto", "newton", "lbfgs"}, default="auto"
        The solver (see above).

    Returns
    -------
    SubsetOutputs
        ``outputs[k, j] = f(z_j; S_k)``: correct-class logit minus the largest other logit (:func:`margins`),
        float64, a CPU copy whatever the device; ``gradient_norms[k]``, model k's final gradient norm (below
        ``tol`` unless a :class:`~creditlib.validation.ConvergenceWarning` said otherwise).

    Defined edge cases: an empty subset minimises the penalty alone (θ = 0 when ``weight_decay > 0``, so a
    model without hidden biases outputs margin 0); a subset with one class only is an ordinary subset (its
    minimum is finite when ``weight_decay > 0``).

    Raises
    ------
    ValueError, TypeError
        Masks of the wrong shape or type; data of mismatched lengths, or on another device than the model; a
        negative weight decay; an unknown ``method``; a chunk that cannot fit in ``memory_budget`` (the message
        gives the memory it needs and the chunk size that fits).

    Warns
    -----
    ConvergenceWarning
        Some model's final gradient norm is at or above ``tol`` (the message gives the largest).
    """
    masks = _check_subset_training(model, X_train, y_train, masks, X_test, y_test)
    method = _resolve_method(method, flatten(model).theta.numel())
    weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", low=1)
    history = check_int(history, "history", low=1)
    threads = None if threads is None else check_int(threads, "threads", low=1)
    memory_budget = check_int(memory_budget, "memory_budget", low=1)
    n_subsets = masks.shape[0]
    per_model = bytes_per_model(model, X_train, history, method=method)
    fits = memory_budget // per_model
    if fits < 1:
        raise ValueError(f"One model needs about {per_model / 2**20:.1f} MiB, above memory_budget = "
                         f"{memory_budget / 2**20:.1f} MiB: raise memory_budget to at least {per_model}.")
    if chunk_size is None:
        chunk_size = int(min(fits, n_subsets))
    chunk_size = check_int(chunk_size, "chunk_size", low=1)
    if chunk_size > fits:
        raise ValueError(f"A chunk of {chunk_size} models needs about {chunk_size * per_model / 2**20:.1f} MiB, "
                         f"above memory_budget = {memory_budget / 2**20:.1f} MiB ({per_model / 2**20:.3f} MiB per "
                         f"model): use chunk_size={int(fits)} or less, or raise memory_budget.")
    model_seeds = None if seed is None else check_random_state(seed).integers(2**62, size=n_subsets)
    starts = list(range(0, n_subsets, chunk_size))
    args = [(model, loss_fn, X_train, y_train, masks[s:s + chunk_size], X_test, y_test, weight_decay,
             None if model_seeds is None else model_seeds[s:s + chunk_size], tol, max_iter, history, threads,
             method)
            for s in starts]
    bar = progress_bar(show=progress, total=n_subsets, unit="model")
    results = []
    try:
        if executor is None:
            for a in args:
                results.append(_train_chunk(*a))
                bar.update(a[4].shape[0])
        else:
            futures = [executor.submit(_train_chunk, *a) for a in args]
            for future, a in zip(futures, args):
                results.append(future.result())
                bar.update(a[4].shape[0])
    finally:
        bar.close()
    outputs = np.concatenate([r[0] for r in results])
    norms = np.concatenate([r[1] for r in results])
    worst = float(norms.max())
    if not worst < tol:
        bad = int((norms >= tol).sum())
        warn_unconverged(f"train_on_subsets: {bad} of {n_subsets} models stopped with gradient norm ≥ tol = {tol:g} "
                         f"(largest {worst:.2g}) after max_iter = {max_iter} {'Newton' if method == 'newton' else 'L-BFGS'} "
                         f"iterations. Raise max_iter, or "
                         "weight_decay if some subsets have no minimum.")
    return SubsetOutputs(outputs, norms)


def sgd_on_subsets(model: torch.nn.Module, loss_fn: LossFn, X_train: torch.Tensor, y_train: torch.Tensor,
                   masks, X_test: torch.Tensor, y_test: torch.Tensor, *, weight_decay: float, lr: float, n_iter: int,
                   batch_size: int, seed=0, threads: int | None = 1) -> SubsetOutputs:
    """Train one model per subset by minibatch SGD, a fixed number of steps: retraining noise included.

    The noisy counterpart of :func:`train_on_subsets` (which trains every model to convergence and, for a convex
    model, has no noise at all). Model k starts from its own PyTorch initialisation and takes ``n_iter`` steps
    ``θ ← θ − lr · ∇[mean_{i∈B} loss(x_i; θ) + weight_decay/2 · ‖θ‖²]``, each on a fresh minibatch B of
    ``min(batch_size, |S_k|)`` points of its subset drawn without replacement (an empty subset takes steps on the
    penalty alone). Which minibatches and which initialisation a model gets depends on the seed: two seeds give
    two draws of the retraining noise that data valuation has to live with (Wang & Jia 2023). All models train
    together, batched with ``vmap``; there is no chunking, so the memory grows with the number of masks.

    Everything runs on the device and in the dtype of ``model``'s parameters (the data must be on that device).
    Every random number (initialisations and minibatch draws) is drawn on the CPU from generators of its own and
    then moved, so a seed gives the same models on every device, and no global generator of any device changes.

    Parameters
    ----------
    model : torch.nn.Module
        The architecture; with ``seed=None`` also the common starting point. It is not modified.
    loss_fn : callable
        ``loss_fn(outputs, targets)`` → one loss per example, e.g. :func:`logistic_loss`.
    X_train, y_train, masks, X_test, y_test
        As in :func:`train_on_subsets`.
    weight_decay : float
        ``≥ 0``.
    lr : float
        Step size, ``> 0``.
    n_iter : int
        SGD steps per model, ``≥ 1``.
    batch_size : int
        Minibatch size, ``≥ 1``; ``batch_size ≥ n_train`` is full-batch gradient descent.
    seed : None, int or numpy.random.Generator, default=0
        Draws every model's initialisation (as :func:`train_on_subsets`) and the minibatches. With None, every
        model starts from ``model``'s parameters and the minibatches are drawn from a fresh seed.
    threads : int or None, default=1
        PyTorch threads while training (restored afterwards); one thread keeps the result independent of
        ``OMP_NUM_THREADS``.

    Returns
    -------
    SubsetOutputs
        The final models' test margins (:func:`margins`), float64, a CPU copy whatever the device, and each
        model's full-batch gradient norm at the end (SGD's are not small: it stops after ``n_iter`` steps).

    Raises
    ------
    ValueError, TypeError
        As :func:`train_on_subsets`; a non-positive ``lr``, ``n_iter`` or ``batch_size``.
    """
    masks = _check_subset_training(model, X_train, y_train, masks, X_test, y_test)
    weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
    lr = check_positive(lr, "lr")
    n_iter = check_int(n_iter, "n_iter", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    rng = check_random_state(seed)
    model_seeds = None if seed is None else rng.integers(2**62, size=masks.shape[0])
    generator = torch.Generator(device="cpu").manual_seed(int(rng.integers(2**62)))     # draws on the CPU
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(check_int(threads, "threads", low=1))
    try:
        fm = flatten(model)
        dtype, device = fm.theta.dtype, fm.theta.device
        subsets = torch.as_tensor(masks, dtype=dtype, device=device)
        k = min(batch_size, masks.shape[1])
        data_term = training_objective(fm, loss_fn, X_train, y_train, 0.0)          # Σ w ℓ / Σ w

        def objective(theta, w, present):
            safe = torch.where(present > 0, w, torch.ones_like(w))                  # any weights when B is empty
            return present * data_term(theta, safe) + 0.5 * weight_decay * (theta * theta).sum()

        step_grad = vmap(torch.func.grad(objective))
        theta = _initial_thetas(model, model_seeds).expand(masks.shape[0], -1).clone()
        for _ in range(n_iter):
            draws = torch.rand(subsets.shape, generator=generator, dtype=dtype, device="cpu").to(device)
            scores = torch.where(subsets > 0, draws, -1.0)
            chosen = torch.zeros_like(subsets).scatter_(1, scores.topk(k, dim=1).indices, 1.0) * subsets
            present = (chosen.sum(dim=1) > 0).to(dtype)
            theta = theta - lr * step_grad(theta, chosen, present)
        full = (subsets.sum(dim=1) > 0).to(dtype)
        norms = step_grad(theta, subsets, full).norm(dim=1)                         # Σ_S ℓ / |S| + λ/2 ‖θ‖²
        with torch.no_grad():
            out = margins(vmap(lambda t: fm(t, X_test))(theta), y_test)
    finally:
        torch.set_num_threads(previous)
    return SubsetOutputs(out.detach().to(device="cpu", dtype=torch.float64).numpy(),
                         norms.detach().to(device="cpu", dtype=torch.float64).numpy())
