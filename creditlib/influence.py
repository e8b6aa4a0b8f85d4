"""Influence functions (Section 10.1) for any ``torch.nn.Module``, with ``torch.func``.

The training objective is ``L(θ) = mean_i loss(x_i; θ) + weight_decay/2 · ‖θ‖²`` at the model's current parameters
θ* (:func:`creditlib.training.training_objective`), seen as a function of the flat parameter vector θ:

* :func:`hvp`, :func:`make_hvp`, :func:`minibatch_hvp`: ``(H + damping·I) v`` by Pearlmutter's trick,
  forward-over-reverse (``jvp`` of ``grad``), never forming H; batched over several vectors with ``vmap``.
  :func:`dense_hessian` forms H, for ground truth on small models.
* :func:`inverse_hvp`: solve ``(H + damping·I) x = v`` with a solver of :mod:`creditlib.solvers` — ``"exact"``,
  ``"cg"``, ``"neumann"`` (the truncated series of Problems 10.1.3–10.1.4) or ``"lissa"`` (its stochastic version,
  Agarwal, Bullins & Hazan 2017) — reporting the HVPs it used and its true residual.
* :func:`influence_matrix`: ``I(x_i, z_j) = −∇ℓ(z_j)ᵀ H⁻¹ ∇ℓ(x_i)`` (Theorem 10.1.2).
* :func:`leave_one_out`: the ground truth, by retraining without each point.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

import torch
from torch.func import grad, hessian, jvp, vmap

from .solvers import (
    InverseHVP,
    MatVec,
    relative_residual,
    solve_cg,
    solve_exact,
    solve_lissa,
    solve_neumann,
    top_eigenvalue,
)
from .training import LossFn, example_losses, flatten, lbfgs_minimise, per_example_gradients, training_objective
from .validation import (
    as_numpy,
    check_index,
    check_int,
    check_positive,
    check_tensor_pair,
    cpu_draw,
    progress_bar,
    warn_unconverged,
)

__all__ = ["hvp", "make_hvp", "function_hvp", "dense_hessian", "inverse_hvp", "minibatch_hvp", "influence_matrix",
           "leave_one_out"]


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
        x = solve_exact(H + damping * torch.eye(len(H), dtype=H.dtype, device=H.device), v).x
        return InverseHVP(x, 0, relative_residual(full, x, v), method)
    if method == "cg":
        return solve_cg(full, v, tol=tol, max_iter=max_iter)
    if method not in ("neumann", "lissa"):
        raise ValueError(f"method must be 'exact', 'cg', 'neumann' or 'lissa'; got {method!r}.")
    power_iters = 0
    if scale is None:
        power_iters = 50
        scale = 1.0 / abs(top_eigenvalue(full, fm.theta.numel(), n_iter=power_iters, seed=seed, dtype=fm.theta.dtype,
                                         device=fm.theta.device))
    if method == "neumann":
        result = solve_neumann(full, v, scale=scale, tol=tol, max_iter=max_iter)
        return replace(result, n_hvp=result.n_hvp + power_iters)
    result = solve_lissa(minibatch_hvp(model, loss_fn, X, y, weight_decay, damping, batch_size), v,
                         scale=scale, depth=depth, repeats=repeats, seed=seed)
    return replace(result, n_hvp=result.n_hvp + power_iters + 1, residual=relative_residual(full, result.x, v))


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
    check_tensor_pair(X_test, y_test, "test data")
    G_train = per_example_gradients(model, loss_fn, X_train, y_train)
    G_test = per_example_gradients(model, loss_fn, X_test, y_test)
    s_test = inverse_hvp(model, loss_fn, X_train, y_train, G_test, weight_decay=weight_decay, damping=damping,
                         method=method, **solver_options).x
    return -G_train @ s_test.T


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


def _retrain_lbfgs(objective: Callable[..., torch.Tensor], theta0: torch.Tensor, weights: torch.Tensor, *,
                   tol: float, max_iter: int, progress: bool = False) -> torch.Tensor:
    """Minimise ``objective(θ, w)`` for each row w of ``weights`` in turn with L-BFGS (non-convex models);
    warns (``ConvergenceWarning``) naming the models that stopped above ``tol``."""
    out, unconverged = [], []
    for row, w in enumerate(progress_bar(weights, show=progress, desc="leave-one-out (L-BFGS, models)")):
        theta = lbfgs_minimise(lambda th, w=w: objective(th, w), theta0, tol=tol, max_iter=max_iter)
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
                  chunk_size: int = 64, progress: bool = False) -> torch.Tensor:
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
    chunk_size : int, default=64
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
    check_tensor_pair(X_test, y_test, "test data")
    check_tensor_pair(X_train, y_train, "training data")
    fm = flatten(model)
    n = X_train.shape[0]
    indices = list(range(n)) if indices is None else [check_index(i, "each of indices", n, "training points")
                                                       for i in as_numpy(indices).reshape(-1).tolist()]
    max_iter, chunk_size = check_int(max_iter, "max_iter", low=1), check_int(chunk_size, "chunk_size", low=1)
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
        starts = progress_bar(range(0, len(indices), chunk_size), show=progress,
                              desc="leave-one-out (Newton, chunks)")
        thetas = torch.cat([_retrain_newton(objective, fm.theta, weights[start:start + chunk_size], tol=tol,
                                            max_iter=max_iter) for start in starts])
    else:
        thetas = _retrain_lbfgs(objective, fm.theta, weights, tol=tol, max_iter=max_iter, progress=progress)
    with torch.no_grad():
        losses = vmap(lambda th: loss_fn(fm(th, X_test), y_test))(thetas)
    return losses - base
