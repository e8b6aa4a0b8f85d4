"""Solvers for ``A x = v`` with a symmetric operator A given only as a matrix-vector product (Section 10.1, Problems
10.1.3–10.1.4): the inverse-HVP step of influence functions, on any operator.

``matvec`` applies A to one vector ``(p,)`` or to a batch of row vectors ``(m, p)`` (for a matrix A:
``lambda u: u @ A``), so the solvers can be studied on matrices whose spectrum we choose (notebook 02) as well as on a
network's Hessian (:func:`creditlib.influence.make_hvp`).

* :func:`solve_exact`: dense Cholesky, the ground truth.
* :func:`solve_cg`: conjugate gradient.
* :func:`solve_neumann`: the truncated Neumann series ``α Σ_k (I − αA)^k v``.
* :func:`solve_lissa`: its stochastic mini-batch version (Agarwal, Bullins & Hazan 2017).
* :func:`top_eigenvalue`: power iteration, to choose the scale α.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from .validation import check_int, check_positive, cpu_draw, torch_generator, warn_unconverged

__all__ = ["MatVec", "DivergenceError", "NotPositiveDefiniteError", "top_eigenvalue", "InverseHVP", "relative_residual",
           "solve_exact", "CG_TRUE_RESIDUAL_SLACK", "solve_cg", "solve_neumann", "solve_lissa"]

MatVec = Callable[[torch.Tensor], torch.Tensor]
"""A symmetric linear operator: ``matvec(v)`` for ``v`` of shape ``(p,)`` or a batch ``(m, p)``."""


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


def top_eigenvalue(matvec: MatVec, dim: int, *, n_iter: int = 100, seed=0,
                   dtype: torch.dtype = torch.float64, device: torch.device | str | None = None) -> float:
    """The eigenvalue of largest magnitude of a symmetric operator, by power iteration (``n_iter`` HVPs).

    Used to pick the Neumann/LiSSA scale ``α = 1/λ_max`` (Problems 10.1.3–10.1.4).

    Parameters
    ----------
    matvec : callable
        ``v ↦ A v`` for one vector of shape ``(dim,)``.
    dim : int
        The dimension.
    n_iter : int, default=100
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
    for _ in range(n_iter):
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

    Every solver returns one (:func:`solve_exact`, :func:`solve_cg`, :func:`solve_neumann`, :func:`solve_lissa`,
    :func:`creditlib.influence.inverse_hvp`); estimators of Shapley values return ``ShapleyEstimate`` likewise.

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


def relative_residual(matvec: MatVec, X: torch.Tensor, V: torch.Tensor) -> float:
    """The true relative residual ``‖A x − v‖ / ‖v‖`` (one more operator application), worst over a batch.

    Parameters
    ----------
    matvec : callable
        The operator A, applied to ``X``.
    X : Tensor of shape (p,) or (m, p)
        Candidate solutions.
    V : Tensor, shaped like ``X``
        Right-hand sides.

    Returns
    -------
    float
        The largest ``‖A x − v‖ / ‖v‖`` over the rows.
    """
    return _max_relative_norm(matvec(X) - V, V)


def solve_exact(A: torch.Tensor, V: torch.Tensor) -> InverseHVP:
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
    InverseHVP
        ``x`` of the shape of ``V``; ``n_hvp`` 0 (the matrix is given); ``residual`` ``‖A x − v‖ / ‖v‖``.

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
    X = torch.cholesky_solve(V.T if V.ndim == 2 else V[:, None], L).T.reshape(V.shape)
    return InverseHVP(X, 0, relative_residual(lambda u: u @ A, X, V), "exact")


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
    residual = relative_residual(matvec, X, V[0] if single else V)
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
    return InverseHVP(X, max_iter + 1, relative_residual(matvec, X, V), "neumann")


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
