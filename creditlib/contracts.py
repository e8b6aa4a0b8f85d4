"""The contracts of creditlib's kinds of functions, written down and checked (as scikit-learn's ``check_estimator``).

A new saliency method, Shapley estimator, solver or subset trainer passes the check of its kind; tests/test_contracts.py
runs every public function of each kind through it, and fails on a public function it cannot classify.

**Every function** that takes a model, tensors or a game:

* runs where its inputs are: device and dtype come from the inputs, tensors come back there, NumPy results are CPU
  copies (tests/test_devices.py checks every public function for this);
* never changes a global random generator: randomness comes from a ``seed`` argument (None, an int or a
  ``numpy.random.Generator``, :func:`creditlib.validation.check_random_state`), and one int seed gives one result;
* rejects bad input early, with a ``TypeError`` or ``ValueError`` whose message names the fix;
* warns with :class:`~creditlib.validation.ConvergenceWarning` when an iterative method stops before its tolerance.

**Names.** ``max_iter`` caps the iterations of a method that stops at a tolerance ``tol``; ``n_iter`` is a fixed
number of iterations; ``max_rounds`` caps the restarts of an inner solver; ``chunk_size`` bounds memory and never
changes a result; ``batch_size`` is a minibatch and does change it; ``target`` (the class explained) is keyword-only.

**Results.** One array or tensor, or a named result (a ``NamedTuple`` when its parts are usually unpacked, a frozen
dataclass otherwise): never a bare tuple, and never a type that changes with an argument.

**The kinds.**

* A *saliency method* ``f(model, x, *, target, **options)`` returns attributions shaped like ``x``, on its device and
  in its dtype (integrated gradients: the named pair ``Attribution(attributions, delta)``), leaves the model's
  parameters as they were, and gives one result for one seed: :func:`check_saliency_method`.
* A *Shapley estimator* ``f(game, budget, *, seed=None, chunk_size=..., **options)`` returns a
  :class:`~creditlib.estimators.ShapleyEstimate`, evaluates the game's utility at most ``budget`` times and reports
  how many, refuses a budget below its minimum (``ValueError``) or not an integer (``TypeError``), gives one result
  for one seed whatever ``chunk_size``, and converges to the exact values: :func:`check_shapley_estimator`. Its
  standard errors are non-negative, or all NaN when the estimator has no honest one (a regression fit such as
  KernelSHAP), which its docstring says; an estimate with NaN standard errors is then held to an absolute
  tolerance instead.
* A *solver* of ``A x = v`` returns an :class:`~creditlib.solvers.InverseHVP` whose ``x`` is shaped like ``v``, on
  its device and in its dtype, solves the rows of a batch as it solves each row alone, and reports its true
  residual: :func:`check_solver`.
* A *subset trainer* ``f(model, loss_fn, X_train, y_train, masks, X_test, y_test, *, weight_decay, seed, **options)``
  returns :class:`~creditlib.subset_training.SubsetOutputs` (float64 NumPy margins of shape ``(n_subsets, n_test)``
  and one gradient norm per model), leaves ``model`` as it was, gives one result for one seed and refuses masks of
  the wrong width: :func:`check_subset_trainer`.
"""
from __future__ import annotations

import copy
import warnings
from typing import Callable

import numpy as np
import torch

from .estimators import ShapleyEstimate
from .games import Game
from .shapley import shapley_exact
from .solvers import InverseHVP
from .subset_training import SubsetOutputs

__all__ = ["check_saliency_method", "check_shapley_estimator", "check_solver", "check_subset_trainer"]


def _require(condition: bool, what: str, message: str) -> None:
    if not condition:
        raise AssertionError(f"{what}: {message}")


def _same(a, b) -> bool:
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    b = b.detach().cpu().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def _global_states():
    return torch.random.get_rng_state(), np.random.get_state()[1].copy()


def _unchanged(before, after) -> bool:
    return torch.equal(before[0], after[0]) and np.array_equal(before[1], after[1])


def check_saliency_method(method: Callable, model: torch.nn.Module, x: torch.Tensor, target, **options) -> None:
    """Check a saliency method against the contract of its kind (see the module docstring); an ``AssertionError`` names the first clause it breaks.

    Parameters
    ----------
    method : callable
        ``method(model, x, *, target, **options)``.
    model : torch.nn.Module
        A classifier of ``x`` (logits of shape ``(batch, classes)``), on ``x``'s device.
    x : Tensor
        A batch of inputs.
    target : int or Tensor
        The class explained.
    **options
        Passed to ``method`` (a ``seed`` among them for a randomised method).

    """
    what = getattr(method, "__name__", repr(method))
    try:
        method(model, x, target)
    except TypeError:
        pass
    else:
        raise AssertionError(f"{what}: target must be keyword-only")
    params = [p.detach().clone() for p in model.parameters()]
    before = _global_states()
    first = method(model, x, target=target, **options)
    attributions = getattr(first, "attributions", first)
    _require(isinstance(attributions, torch.Tensor), what, f"returns a tensor, got {type(attributions).__name__}")
    _require(attributions.shape == x.shape, what, f"attributions shaped like x {tuple(x.shape)}, "
             f"got {tuple(attributions.shape)}")
    _require(attributions.device == x.device and attributions.dtype == x.dtype, what,
             f"attributions on x's device and dtype ({x.device}, {x.dtype}), got ({attributions.device}, "
             f"{attributions.dtype})")
    _require(not attributions.requires_grad, what, "attributions detached from the autograd graph")
    _require(all(torch.equal(p, q) for p, q in zip(params, model.parameters())), what,
             "leaves the model's parameters as they were")
    _require(_unchanged(before, _global_states()), what, "leaves the global random generators alone")
    again = method(model, x, target=target, **options)
    _require(_same(getattr(again, "attributions", again), attributions), what, "one result for one seed")


def check_shapley_estimator(estimator: Callable, game: Game | None = None, *, budget: int = 4000,
                            tolerance: float = 6.0, atol: float = 1e-2, **options) -> None:
    """Check a Shapley estimator against the contract of its kind (see the module docstring); an ``AssertionError`` names the first clause it breaks.

    Ground truth first: on a small game the estimate must lie within ``tolerance`` standard errors (plus 1e-9) of
    :func:`creditlib.shapley.shapley_exact`, or within ``atol`` of it when the estimator reports no standard
    errors (all NaN).

    Parameters
    ----------
    estimator : callable
        ``estimator(game, budget, *, seed=None, chunk_size=..., **options) -> ShapleyEstimate``.
    game : Game, optional
        A game of a few players (default: 5 players, ``U(S) = (Σ_{i∈S} w_i)²`` with distinct weights).
    budget : int, default=4000
        The budget of the accuracy check.
    tolerance : float, default=6.0
        Standard errors allowed between the estimate and the exact values.
    atol : float, default=1e-2
        The absolute error allowed when the standard errors are all NaN.
    **options
        Passed to ``estimator``.

    """
    what = getattr(estimator, "__name__", repr(estimator))
    if game is None:
        w = np.array([0.5, 1.0, -0.7, 2.0, 0.3])
        game = Game(5, lambda masks: (masks @ w) ** 2)
    n = game.n_players
    exact = shapley_exact(game)
    before = _global_states()
    for bad, error in ((2.5, TypeError), ("100", TypeError), (1, ValueError)):
        try:
            estimator(game, bad, seed=0, **options)
        except error:
            pass
        else:
            raise AssertionError(f"{what}: a budget of {bad!r} raises {error.__name__}")
    spent = game.evaluations
    estimate = estimator(game, budget, seed=0, **options)
    used = game.evaluations - spent
    _require(isinstance(estimate, ShapleyEstimate), what, f"returns a ShapleyEstimate, got {type(estimate).__name__}")
    _require(used <= budget and estimate.n_evaluations == used, what,
             f"spends at most the budget {budget} and reports it (spent {used}, reported {estimate.n_evaluations})")
    _require(estimate.values.shape == (n,) and estimate.std_errors.shape == (n,), what, f"values of shape ({n},)")
    no_errors = bool(np.isnan(estimate.std_errors).all())
    _require(bool(np.isfinite(estimate.values).all() and (no_errors or (estimate.std_errors >= 0).all())), what,
             "finite values and non-negative standard errors (or all NaN: none)")
    _require(_unchanged(before, _global_states()), what, "leaves the global random generators alone")
    _require(_same(estimator(game, budget, seed=0, **options).values, estimate.values), what, "one result for one seed")
    chunked = estimator(game, budget, seed=0, chunk_size=7, **options).values
    _require(bool(np.allclose(chunked, estimate.values, rtol=1e-12, atol=1e-12)), what,
             "chunk_size does not change the result (beyond the order of a sum's round-off)")
    error = np.abs(estimate.values - np.asarray(exact, dtype=float))
    if no_errors:
        _require(bool((error <= atol).all()), what, f"within {atol} of the exact values when it reports no standard "
                 f"errors (errors {np.round(error, 4)})")
        return
    _require(bool((error <= tolerance * estimate.std_errors + 1e-9).all()), what,
             f"within {tolerance} standard errors of the exact values (errors {np.round(error, 4)}, standard errors "
             f"{np.round(estimate.std_errors, 4)})")


def check_solver(solve: Callable, operator: Callable[[torch.Tensor], object], A: torch.Tensor, V: torch.Tensor, *,
                 accuracy: float = 1e-6, **options) -> None:
    """Check a solver of ``A x = v`` against the contract of its kind (see the module docstring); an ``AssertionError`` names the first clause it breaks.

    Parameters
    ----------
    solve : callable
        ``solve(operator(A), V, **options) -> InverseHVP``.
    operator : callable
        What the solver takes for the matrix A (A itself, ``lambda u: u @ A``, a stochastic operator, ...).
    A : Tensor of shape (p, p)
        Symmetric positive definite, well conditioned.
    V : Tensor of shape (m, p)
        Right-hand sides (m ≥ 2), on A's device and in its dtype.
    accuracy : float, default=1e-6
        The relative error ``‖x − A⁻¹v‖ / ‖A⁻¹v‖`` allowed.
    **options
        Passed to ``solve``.

    """
    what = getattr(solve, "__name__", repr(solve))
    before = _global_states()
    result = solve(operator(A), V, **options)
    _require(isinstance(result, InverseHVP), what, f"returns an InverseHVP, got {type(result).__name__}")
    x = result.x
    _require(x.shape == V.shape and x.device == V.device and x.dtype == V.dtype, what,
             f"x shaped like V on its device and dtype, got {tuple(x.shape)} on ({x.device}, {x.dtype})")
    truth = torch.linalg.solve(A, V.T).T
    error = float(((x - truth).norm(dim=1) / truth.norm(dim=1)).max())
    _require(error <= accuracy, what, f"solves A x = v to {accuracy:g} (relative error {error:.2g})")
    residual = float(((x @ A - V).norm(dim=1) / V.norm(dim=1)).max())
    _require(np.isnan(result.residual) or abs(result.residual - residual) <= 1e-12 + 1e-3 * residual, what,
             f"reports its true residual {residual:.3g} (NaN if it cannot see A), not {result.residual:.3g}")
    _require(_unchanged(before, _global_states()), what, "leaves the global random generators alone")
    single = solve(operator(A), V[1], **options).x
    _require(single.shape == V[1].shape, what, "a single right-hand side of shape (p,) gives x of shape (p,)")
    gap = float((single - x[1]).norm() / truth[1].norm())
    _require(gap <= accuracy, what, f"a row of a batch is solved as when alone (relative gap {gap:.2g})")


def check_subset_trainer(trainer: Callable, model: torch.nn.Module, loss_fn: Callable, X_train: torch.Tensor,
                         y_train: torch.Tensor, X_test: torch.Tensor, y_test: torch.Tensor, **options) -> None:
    """Check a subset trainer against the contract of its kind (see the module docstring); an ``AssertionError`` names the first clause it breaks.

    Parameters
    ----------
    trainer : callable
        ``trainer(model, loss_fn, X_train, y_train, masks, X_test, y_test, *, seed, **options) -> SubsetOutputs``.
    model : torch.nn.Module
        A small classifier, on the data's device.
    loss_fn : callable
        ``loss_fn(outputs, targets)``, one value per example.
    X_train, y_train, X_test, y_test : Tensor
        A small training set and test set.
    **options
        Passed to ``trainer`` (``weight_decay`` among them).

    """
    what = getattr(trainer, "__name__", repr(trainer))
    n = X_train.shape[0]
    masks = np.random.default_rng(0).random((4, n)) < 0.5
    params = [p.detach().clone() for p in model.parameters()]
    before = _global_states()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = trainer(model, loss_fn, X_train, y_train, masks, X_test, y_test, seed=3, **options)
        again = trainer(copy.deepcopy(model), loss_fn, X_train, y_train, masks, X_test, y_test, seed=3, **options)
    _require(isinstance(result, SubsetOutputs), what, f"returns SubsetOutputs, got {type(result).__name__}")
    outputs, norms = result
    _require(isinstance(outputs, np.ndarray) and outputs.dtype == np.float64
             and outputs.shape == (len(masks), X_test.shape[0]), what,
             f"float64 NumPy outputs of shape ({len(masks)}, {X_test.shape[0]})")
    _require(isinstance(norms, np.ndarray) and norms.shape == (len(masks),) and bool((norms >= 0).all()), what,
             f"one non-negative gradient norm per model, shape ({len(masks)},)")
    _require(all(torch.equal(p, q) for p, q in zip(params, model.parameters())), what,
             "leaves the model's parameters as they were")
    _require(_unchanged(before, _global_states()), what, "leaves the global random generators alone")
    _require(_same(again.outputs, outputs), what, "one result for one seed")
    try:
        trainer(model, loss_fn, X_train, y_train, masks[:, :-1], X_test, y_test, seed=3, **options)
    except ValueError:
        pass
    else:
        raise AssertionError(f"{what}: masks of the wrong width raise ValueError")
