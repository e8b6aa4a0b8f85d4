#!/usr/bin/env python
"""Do the unit tests catch real bugs? Inject plausible bugs into creditlib one at a time and run the tests.

Each mutant is a small change to one function of ``creditlib`` (a wrong weight, a loosened tolerance, a dropped
check), written as ``Mutant(name, target, old, new)``:

- ``target`` names the function by its qualified name: ``"shapley_weights"``, ``"Game.from_bitmask_table"`` (a
  method), ``"make_hvp.single"`` (a nested function). It is looked up by parsing every module under ``creditlib/``,
  so a function that moves to another module (or package) is still found. ``None`` means module-level code (an
  exercise's registration): the fragment must then occur exactly once in the whole package.
- ``old`` is a Python expression or statement(s) that must occur exactly once in that function, compared as
  syntax trees, not as text: reformatting, re-wrapping, comments, quotes and redundant parentheses do not matter;
  ``...`` in it stands for any one expression (``warn_unconverged(...)``). ``new`` is what replaces it (an
  expression for an expression; statements for statements; ``""`` deletes the statements, leaving ``pass`` where a
  body would be empty).

The mutated function (or module-level statement) is unparsed back into its module in place of the original. For
each mutant, ``pytest tests -x`` runs on a mutated copy of the repository (in a temporary folder, so the working
tree is never touched); a mutant that no test catches is *surviving*, and a test is missing.

A mutant whose function is gone (renamed or removed) or whose fragment no longer occurs exactly once is *stale*:
the tool reports it (``--check-targets``) and skips it in a run. Stale mutants do not fail the unit suite; update
them when ``--check-targets`` lists them, typically after a refactor that renamed a function.

Usage (from the repository root, with the course environment's interpreter)::

    python tools/mutation_check.py                  # every mutant (see below for the time it takes)
    python tools/mutation_check.py banzhaf cg       # only mutants whose name contains one of these words
    python tools/mutation_check.py --list           # every mutant and where it applies now (or why it is stale)
    python tools/mutation_check.py --check-targets  # only the stale ones; exit status 1 if there are any
    python tools/mutation_check.py --diff banzhaf   # show the mutated code of the selected mutants, run nothing

A run prints one line per mutant (caught by which test, SURVIVED, or STALE) and exits 1 if any survived or was
stale. A test that fails on the unmutated code too proves nothing: it is reported and left out of the later runs.
The test files run in an order that catches most mutants within seconds (the library's tests first, the checker's
forked checks last); a mutant caught late, or surviving, costs the whole suite (about 15 minutes on 2 cores). Not
part of ``make test``; run it after changing tests or the library's core, and ``--check-targets`` (under a second)
after moving or renaming library functions.
"""
from __future__ import annotations

import argparse
import ast
import copy
import difflib
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tokenize
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "creditlib"

TIMEOUT = 900
"""Seconds one mutant's test run may take; a run that hangs past it counts as caught."""


class Mutant(NamedTuple):
    """One plausible bug: in the function ``target``, the code ``old`` becomes ``new`` (see the module docstring)."""

    name: str
    target: str | None
    old: str
    new: str


M = Mutant
MUTANTS = [
    # --- Shapley values: weights and normalisations
    M("banzhaf divides by 2^N", "banzhaf_weights",
      "w = Fraction(1, 2 ** (n_players - 1))", "w = Fraction(1, 2 ** n_players)"),
    M("shapley weights (N−|S|)! instead of (N−|S|−1)!", "shapley_weights",
      "w = [Fraction(factorial(k) * factorial(n - k - 1), factorial(n)) for k in range(n)]",
      "w = [Fraction(factorial(k) * factorial(n - k), factorial(n)) for k in range(n)]"),
    M("random-size weights off by one", "random_size_weights",
      "w = [Fraction(1, n * comb(n - 1, k)) for k in range(n)]", "w = [Fraction(1, n * comb(n, k)) for k in range(n)]"),
    M("by_permutations divides by (N−1)!", "shapley_by_permutations",
      "scale = reciprocal(factorial(n), values[0])", "scale = reciprocal(factorial(n - 1) if n > 1 else 1, values[0])"),
    M("difference_exact weights C(N−1, k)", "shapley_difference_exact",
      "reciprocal(comb(n - 2, int(k)), values[0])", "reciprocal(comb(n - 1, int(k)), values[0])"),
    M("difference_exact forgets 1/(N−1)", "shapley_difference_exact",
      "return total * reciprocal(n - 1, values[0])", "return total"),
    M("Möbius transform adds instead of subtracts", "dividends_from_table",
      "view[:, 1, :] = view[:, 1, :] - view[:, 0, :]", "view[:, 1, :] = view[:, 1, :] + view[:, 0, :]"),
    M("dividends split by |T|−1", "shapley_from_dividends",
      "table[1:].astype(np.float64) / sizes[1:]", "table[1:].astype(np.float64) / np.maximum(sizes[1:] - 1, 1)"),
    M("max_players refusal off by one", "check_enumerable",
      "n_players > max_players", "n_players > max_players + 1"),
    M("max_players refusal off by one (the other way)", "check_enumerable",
      "n_players > max_players", "n_players >= max_players"),
    M("memory estimate 8x too small", "enumeration_memory_bytes",
      "return 2**n_players * (9 * n_players + 40)", "return 2**n_players * (9 * n_players + 40) // 8"),
    M("by_permutations on given orders divides by N!", "shapley_by_permutations",
      "scale = reciprocal(len(orders), values[0])", "scale = reciprocal(factorial(n), values[0])"),
    M("given orders not checked to be permutations", "_check_orders",
      "not (np.sort(orders, axis=1) == np.arange(n)).all()", "False"),
    # --- Shapley estimators
    M("anchor_fraction not validated", "shapley_difference",
      'anchor_fraction = check_open_unit(anchor_fraction, "anchor_fraction")', ""),
    M("anchor_player not validated", "shapley_difference",
      'anchor_player = check_index(anchor_player, "anchor_player", n)', ""),
    M("permutation std error without sqrt(m)", "shapley_permutation",
      'return ShapleyEstimate(mean, np.sqrt(var / m), game.evaluations - start, "permutation")',
      'return ShapleyEstimate(mean, np.sqrt(var), game.evaluations - start, "permutation")'),
    M("difference estimator reweights by N−k", "difference_terms",
      "(v - v.mean(axis=1, keepdims=True)) / (n - k - 1)", "(v - v.mean(axis=1, keepdims=True)) / (n - k)"),
    M("difference_terms accepts draws of mixed sizes", "difference_terms",
      "(sizes != k).any() or k > n - 2", "k > n - 2"),
    M("difference_terms credits the outsiders' values uncentred", "difference_terms",
      "(v - v.mean(axis=1, keepdims=True)) / (n - k - 1)", "v / (n - k - 1)"),
    M("difference estimator overspends", "_naive_anchor_budget",
      "anchor_budget = min(anchor_budget, budget - minimum_draws)", "anchor_budget = anchor_budget"),
    # --- the estimators of issue 23
    M("antithetic pairs an order with itself", "shapley_antithetic",
      "orders = np.concatenate([perms, perms[:, ::-1]])", "orders = np.concatenate([perms, perms])"),
    M("antithetic std error without sqrt(m)", "shapley_antithetic",
      'return ShapleyEstimate(mean, np.sqrt(var / m), game.evaluations - start, "antithetic")',
      'return ShapleyEstimate(mean, np.sqrt(var), game.evaluations - start, "antithetic")'),
    M("antithetic buys one pair too many", "shapley_antithetic",
      "m = (budget - 2) // (2 * (n - 1))", "m = (budget - 2) // (2 * (n - 1)) + 1"),
    M("stratified SVARM pairs φ⁺ at ℓ with φ⁻ at ℓ+1", "shapley_stratified",
      "values = (means[0][:, 1:] - means[1][:, :-1]).sum(axis=1) / n",
      "values = (means[0][:, 1:] - means[1][:, 1:]).sum(axis=1) / n"),
    M("stratified std error ignores the stratum counts", "shapley_stratified",
      "var = np.where(count >= 2, var, np.where(size_n >= 2, size_var, np.nan)) / np.maximum(count, 1)",
      "var = np.where(count >= 2, var, np.where(size_n >= 2, size_var, np.nan))"),
    M("Shapley kernel weights 1/s", "shapley_kernel_weights", "w = 1.0 / (s * (n - s))", "w = 1.0 / s"),
    M("kernel regression drops the units' sampling weights", "design_rows",
      "weights = np.concatenate([design.weight, design.weight]) * mu[sizes]", "weights = mu[sizes]"),
    M("kernel regression's constraint forgets U(∅)", "kernel_regression",
      "rhs = np.append(b / scale, grand - empty)", "rhs = np.append(b / scale, grand)"),
    M("regression-adjusted corrects on its own fitting pairs", "shapley_regression_adjusted",
      "terms[(design.stratum == k) & ~fit]", "terms[design.stratum == k]"),
    M("regression-adjusted counts the fitted pairs twice", "shapley_regression_adjusted",
      "unseen = design.units[k] - seen.sum()", "unseen = design.units[k]"),
    M("regression-adjusted held-out pairs stand for the whole size", "shapley_regression_adjusted",
      "value += terms[seen].sum(axis=0) + unseen * out.mean(axis=0)",
      "value += design.units[k] * out.mean(axis=0)"),
    M("regression-adjusted std error without the finite-population factor", "shapley_regression_adjusted",
      "(1 - len(out) / unseen)", "1"),
    M("boosted proxy's Shapley values forget the learning rate", "ensemble_shapley",
      "model.learning_rate * np.sum([tree_shapley(t.tree_, n_players) for t in trees], axis=0)",
      "np.sum([tree_shapley(t.tree_, n_players) for t in trees], axis=0)"),
    M("regression-adjusted weights insiders by C(N−1, s)", "_marginal_weights",
      "inside = np.array([0.0] + [1.0 / (n * comb(n - 1, s - 1)) for s in range(1, n + 1)])",
      "inside = np.array([0.0] + [1.0 / (n * comb(n - 1, min(s, n - 1))) for s in range(1, n + 1)])"),
    M("sized proxy's payments count the others with t/N", "_sized_payments",
      "other = float(np.sum(2.0 * t / (n - 1) * step - step)) / n",
      "other = float(np.sum(2.0 * t / n * step - step)) / n"),
    M("paired design's weights ignore the units drawn", "paired_design",
      "weights.append(np.full(len(S), 1.0 if enumerated[k] else units[k] / drawn[k]))",
      "weights.append(np.full(len(S), 1.0 if enumerated[k] else units[k] / (drawn[k] + 1)))"),
    M("airport game shares a stretch among one player too many", "airport_game",
      "steps = np.diff(np.concatenate([[0.0], c[order]])) / (n - np.arange(n))",
      "steps = np.diff(np.concatenate([[0.0], c[order]])) / (n - np.arange(n) + 1)"),
    M("pairwise game's closed form gives each player the whole pair", "pairwise_game",
      "game.info.update(shapley_values=a + 0.5 * B.sum(axis=1), a=a, B=B)",
      "game.info.update(shapley_values=a + B.sum(axis=1), a=a, B=B)"),
    # --- games and axioms
    M("efficiency tolerance 0.1", "violates_efficiency", "1e-9", "0.1"),     # the default of atol
    M("null-player tolerance 1e-3", "null_players", "1e-12", "1e-3"),
    M("symmetry tolerance 1e-3", "symmetric_pairs", "1e-12", "1e-3"),
    M("cache hits counted as evaluations", "Game._evaluate_cached",
      "todo = [i for c, i in zip(new_codes, first_rows) if int(c) not in self._cache]", "todo = list(first_rows)"),
    M("interaction weights (N−|S|−1)!", "interaction_weights",
      "Fraction(factorial(k) * factorial(n - k - 2), factorial(n - 1))",
      "Fraction(factorial(k) * factorial(n - k - 1), factorial(n))"),
    M("conditional value ignores the partner", "conditional_shapley",
      "if partner_present:\n    full_codes |= 1 << partner", ""),
    # --- training, solvers, influence
    M("hvp ignores damping", "make_hvp",
      "return jvp(gradient, (fm.theta,), (v,))[1] + damping * v", "return jvp(gradient, (fm.theta,), (v,))[1]"),
    M("LiSSA mini-batch HVP ignores damping", "minibatch_hvp",
      "return jvp(grad(objective), (fm.theta,), (u,))[1] + damping * u",
      "return jvp(grad(objective), (fm.theta,), (u,))[1]"),
    M("batched CG stops when any right-hand side converges", "solve_cg",
      "(rs_new.sqrt() <= target).all()", "(rs_new.sqrt() <= target).any()"),
    M("CG tolerance 1e4 looser", "solve_cg", "target = tol * V.norm(dim=1)", "target = 1e4 * tol * V.norm(dim=1)"),
    M("Neumann divergence check dropped", "solve_neumann",
      "not torch.isfinite(size) or size > blowup * initial", "not torch.isfinite(size)"),
    M("Neumann stops one term early", "solve_neumann", "relative <= tol", "relative <= 10 * tol"),
    M("influence sign flipped", "influence_matrix", "return -G_train @ s_test.T", "return G_train @ s_test.T"),
    M("weight decay without the 1/2", "training_objective",
      "return mean + 0.5 * weight_decay * (theta * theta).sum()", "return mean + weight_decay * (theta * theta).sum()"),
    M("leave-one-out keeps the point", "leave_one_out",
      "weights[torch.arange(len(indices), device=device), "
      "torch.tensor(indices, dtype=torch.long, device=device)] = 0.0",
      "weights[torch.arange(len(indices), device=device), "
      "torch.tensor(indices, dtype=torch.long, device=device)] = 1.0"),
    M("L-BFGS leave-one-out stops silently", "_retrain_lbfgs", "not norm < tol", "False"),
    M("CG stops silently at max_iter", "solve_cg", "worst = ...\nwarn_unconverged(...)", ""),
    M("damping not validated", "inverse_hvp",
      'damping = check_positive(damping, "damping", allow_zero=True)', ""),
    M("power iteration returns the norm of Av", "top_eigenvalue", "value = float(v @ w)", "value = float(w.norm())"),
    M("CG trusts its recurrence residual", "solve_cg",
      "converged and not residual <= CG_TRUE_RESIDUAL_SLACK * tol", "False"),
    # --- schemes, builders, data
    M("equal split ignores U(∅)", "equal_split",
      "return np.full(game.n_players, (grand - empty) / game.n_players)",
      "return np.full(game.n_players, grand / game.n_players)"),
    M("leave-one-out scheme reversed", "leave_one_out_payment", "return grand - without", "return without - grand"),
    M("proportional split without the zero-sum guard", "proportional_split", "abs(total) < 1e-12", "False"),
    M("squared-sum dividends without the 2", "squared_sum_game", "2 * w[i] * w[j] / n", "w[i] * w[j] / n"),
    # (not listed: "nearest-centroid ties go to class 1", an equivalent mutant: exact distance ties do not occur
    # on the bundled data, so no test can observe it)
    M("empty coalition worth 0 in data valuation", "data_valuation_game",
      "return np.where(counts.sum(axis=1) > 0, accuracy, 0.5)", "return np.where(counts.sum(axis=1) > 0, accuracy, 0.0)"),
    M("digits labels swapped", "digit_pair",
      "y = torch.tensor((digits.target[order] == second).astype(np.float64))",
      "y = torch.tensor((digits.target[order] == first).astype(np.float64))"),
    M("game scaling loses exactness", "Game.__mul__", "exact = is_exact(scale)", "exact = False"),
    M("bitmask table game with one player too many", "Game.from_bitmask_table",
      "n = len(raw).bit_length() - 1", "n = len(raw).bit_length()"),
    M("bitmask table game keeps NaN utilities", "Game.from_bitmask_table", "not _finite(table).all()", "False"),
    M("sgd minibatches ignore the subset", "sgd_on_subsets",
      "torch.zeros_like(subsets).scatter_(1, scores.topk(k, dim=1).indices, 1.0) * subsets",
      "torch.zeros_like(subsets).scatter_(1, scores.topk(k, dim=1).indices, 1.0)"),
    M("sgd minibatch of one point too many", "sgd_on_subsets",
      "k = min(batch_size, masks.shape[1])", "k = min(batch_size + 1, masks.shape[1])"),
    # --- the answer checker and the exercises
    M("expression checker accepts float agreement within 1e-4", "_differ",
      "return abs(a - e) > sp.Float(10) ** -20 * max(1, abs(e))",
      "return abs(a - e) > sp.Float(10) ** -4 * max(1, abs(e))"),
    M("exact values compared within 1e-4", "_differ",
      "if a.is_Rational and e.is_Rational:\n    return a != e",
      "if a.is_Rational and e.is_Rational:\n    return abs(a - e) > sp.Rational(1, 10**4)"),
    M("number tolerance x100", "compare_number",
      "abs(float(a_val) - float(e)) <= tol * max(1.0, abs(float(e)))",
      "abs(float(a_val) - float(e)) <= 100 * tol * max(1.0, abs(float(e)))"),
    M("function check rtol 1e-3", None,              # in the registration of nb01.5
      "make_allclose(rtol=1e-8, atol=1e-10)", "make_allclose(rtol=1e-3, atol=1e-10)"),
    M("Neumann exercise reference one term short", "neumann_partial_sum_reference",
      "return partial.get(r, result.x)", "return partial.get(r - 1, v) if r > 1 else v.clone()"),
    M("function-check diagnosis dropped", "compare_function_diagnosed",
      'return Verdict(INCORRECT, f"{verdict.message} {hint}".strip())', "return verdict"),
    M("logistic influence reference without weight decay", "logistic_influence_reference",
      "influence_matrix(model, bce, X, y, x_z.reshape(1, -1), y_z.reshape(1), weight_decay=weight_decay, "
      "method='exact')",
      "influence_matrix(model, bce, X, y, x_z.reshape(1, -1), y_z.reshape(1), weight_decay=0.0, method='exact')"),
    M("efficiency diagnosis tolerance 0.1", "shapley_diagnosis", "1e-9", "0.1"),
    M("checker worker keeps torch multi-threaded after fork", "run_isolated", "_single_threaded_torch()", ""),
    M("a seed alone earns correct (no fresh inputs)", "compare_function",
      "seeds = ([asked] if asked is not None else []) + [secrets.randbelow(2**31)]",
      "seeds = [asked] if asked is not None else [secrets.randbelow(2**31)]"),
    M("answers judged without their plain copy", "plain_copy",
      "budget = [MAX_ITEMS, MAX_TEXT]", "return value"),
    M("checks judged in a fork of the kernel (no judge process)", "check",
      'sys.platform.startswith("linux")', "False"),
    M("a function answer runs unconfined", "call_in_child", "_confine_reader_code()", ""),
    M("the filter lets fork through", "_argument_rule",
      "[load, (_JSET_K, 1, 0, values), (_RET_K, 0, 0, eperm), (_RET_K, 0, 0, _ALLOW)]",
      "[load, (_JSET_K, 1, 0, values), (_RET_K, 0, 0, _ALLOW), (_RET_K, 0, 0, _ALLOW)]"),
    # --- saliency and matched pair
    M("vanilla gradient of the wrong sign", "_gradient",
      "torch.zeros_like(x) if g is None else g", "torch.zeros_like(x) if g is None else -g"),
    M("trapezoid weights 1/n (Captum's, summing to (n−1)/n)", "quadrature_rule",
      "weights = np.full(n, 1.0 / (n - 1))", "weights = np.full(n, 1.0 / n)"),
    M("Gauss–Legendre weights not halved", "quadrature_rule",
      "return Quadrature((1 + xi) / 2, omega / 2)", "return Quadrature((1 + xi) / 2, omega)"),
    M("right Riemann sum uses left endpoints", "quadrature_rule",
      '{"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}',
      '{"riemann_left": 0.0, "riemann_right": 0.0, "riemann_middle": 0.5}'),
    M("IG quadrature weights dropped", "integrated_gradients",
      "total.index_add_(0, example, w[step].view(shape) * g)", "total.index_add_(0, example, g / n)"),
    M("IG accumulates by indexed += (repeated examples in a chunk lost)", "integrated_gradients",
      "total.index_add_(0, example, w[step].view(shape) * g)", "total[example] += w[step].view(shape) * g"),
    M("completeness gap of the wrong sign", "integrated_gradients",
      "delta = attributions.flatten(1).sum(1) - gap", "delta = gap - attributions.flatten(1).sum(1)"),
    M("baseline shape not checked", "_baseline_like", "b.shape != x.shape", "False"),
    M("non-differentiable model not detected", "_gradient", "not out.requires_grad", "False"),
    M("target range check off by one", "_targets", "int(t.max()) >= n_classes", "int(t.max()) > n_classes"),
    M("SmoothGrad σ in absolute units", "smoothgrad",
      "noise_level * (flat.max(1).values - flat.min(1).values)", "noise_level + 0 * flat.max(1).values"),
    M("randomize_layers from the input up", "randomize_layers",
      "reversed(names[len(names) - n_top:])", "names[:n_top]"),
    M("rank correlation ignores absolute", "rank_correlation",
      "if absolute:\n    a, b = np.abs(a), np.abs(b)", "if False:\n    a, b = np.abs(a), np.abs(b)"),
    M("CAV points away from the concept", "concept_activation_vector",
      "y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]", "y = np.r_[np.zeros(len(pos)), np.ones(len(neg))]"),
    M("TCAV without Bonferroni", "tcav_significance", "p < alpha / n_concepts", "p < alpha"),
    M("erasure importance of the wrong sign", "erasure_importance",
      "return full[:, None] - erased.view(b, length)", "return erased.view(b, length) - full[:, None]"),
    M("rollout without the residual identity", "attention_rollout",
      "rolled = (0.5 * a + 0.5 * eye) @ rolled", "rolled = a @ rolled"),
    M("removals_to_flip records the last flip, not the first", "removals_to_flip",
      "flipped = (model(tokens, keep=keep).argmax(-1) != pred) & (out == length)",
      "flipped = model(tokens, keep=keep).argmax(-1) != pred"),
    M("top-k precision ranks lowest first", "top_k_precision",
      'top = np.argsort(-imp, axis=1, kind="stable")[:, :k]', 'top = np.argsort(imp, axis=1, kind="stable")[:, :k]'),
    M("top-k precision divides by the number of positions", "top_k_precision",
      "return np.take_along_axis(rel, top, axis=1).sum(1) / k",
      "return np.take_along_axis(rel, top, axis=1).sum(1) / imp.shape[1]"),
    M("mean-difference CAV points to the random mean", "mean_difference_cav",
      "diff = pos.mean(0) - neg.mean(0)", "diff = neg.mean(0) - pos.mean(0)"),
    M("mean-difference CAV without the random mean", "mean_difference_cav",
      "diff = pos.mean(0) - neg.mean(0)", "diff = pos.mean(0) - 0 * neg.mean(0)"),
    M("matched pair gap not validated", "matched_pair_data", "gap >= 1.8 * box", "False"),
    # --- devices (issue 21): allocations that do not take the device from the inputs
    M("exact inverse HVP: torch.eye on the CPU", "inverse_hvp",
      "torch.eye(len(H), dtype=H.dtype, device=H.device)", "torch.eye(len(H), dtype=H.dtype)"),
    M("SmoothGrad draws its noise with a generator on the inputs' device", "smoothgrad",
      "noise = cpu_draw(torch.randn, x.shape, generator=gen, dtype=x.dtype, device=x.device)",
      "noise = torch.randn(x.shape, generator=gen, dtype=x.dtype)"),
    M("TinyAttention positions on the CPU", "TinyAttention.embed_tokens",
      "self.position(torch.arange(tokens.shape[1], device=tokens.device))",
      "self.position(torch.arange(tokens.shape[1]))"),
    M("rank correlation: np.asarray of a device tensor", "rank_correlation",
      "a, b = as_numpy(a, dtype=np.float64), as_numpy(b, dtype=np.float64)",
      "a, b = (np.asarray(t.detach() if isinstance(t, torch.Tensor) else t, dtype=np.float64) for t in (a, b))"),
    M("seeded initialisation reseeds every GPU", "seeded_torch_rng",
      "torch.default_generator.manual_seed(torch_seed)", "torch.manual_seed(torch_seed)"),
]


# --- finding a mutant's place by parsing the package ---------------------------------------------------------------

class Place(NamedTuple):
    """Where a mutant applies: the module, the unit that is rewritten (a function, or a module-level statement),
    and a description for the reports (``creditlib/shapley.py:80 banzhaf_weights``)."""

    path: Path
    unit: ast.stmt
    describe: str


class Stale(Exception):
    """The mutant does not apply to the current code; the message says why."""


def _functions(tree: ast.Module) -> list[tuple[str, ast.stmt]]:
    """Every function of a module with its qualified name (``f``, ``Class.method``, ``outer.inner``)."""
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + child.name
                if not isinstance(child, ast.ClassDef):
                    found.append((name, child))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def _fragment(code: str, what: str) -> tuple[str, list]:
    """``code`` parsed: ("expr", [node]) when it is one expression, else ("stmt", statements)."""
    try:
        return "expr", [ast.parse(code.strip(), mode="eval").body]
    except SyntaxError:
        pass
    try:
        return "stmt", ast.parse(code.strip()).body
    except SyntaxError as error:
        raise ValueError(f"the {what} code of a mutant is not Python: {code!r} ({error.msg})") from None


def _fragments(mutant: Mutant) -> tuple[str, list, list]:
    """The mutant's old and new code as AST nodes of one kind: one expression each, or statements (``new`` may be
    no statement at all)."""
    old_kind, old = _fragment(mutant.old, "old")
    if mutant.new.strip() == "":
        new_kind, new = "stmt", []
    else:
        new_kind, new = _fragment(mutant.new, "new")
    if old_kind == new_kind == "expr":
        return "expr", old, new
    return "stmt", _statements(old_kind, old), _statements(new_kind, new)


def _statements(kind: str, nodes: list) -> list:
    """An expression as an expression statement; statements as they are."""
    return [ast.Expr(nodes[0])] if kind == "expr" else nodes


def _same(pattern: ast.AST, node: ast.AST) -> bool:
    """Whether ``node`` is the code ``pattern`` (as syntax trees: layout, comments, quotes and parentheses aside);
    ``...`` in the pattern stands for any one expression."""
    if isinstance(pattern, ast.Constant) and pattern.value is Ellipsis:
        return isinstance(node, ast.expr)
    if type(pattern) is not type(node):
        return False
    for field in pattern._fields:
        if field in ("ctx", "kind", "type_comment"):        # load/store, a u"" prefix: the same code
            continue
        a, b = getattr(pattern, field, None), getattr(node, field, None)
        if isinstance(a, list):
            if not isinstance(b, list) or len(a) != len(b) or not all(map(_same, a, b)):
                return False
        elif isinstance(a, ast.AST):
            if not (isinstance(b, ast.AST) and _same(a, b)):
                return False
        elif type(a) is not type(b) or a != b:
            return False
    return True


def _matches(unit: ast.AST, kind: str, old: list) -> list[tuple[ast.AST, str, int | None]]:
    """Where ``old`` occurs in ``unit``: (parent node, field, index in the field or None), one per occurrence."""
    found = []
    for parent in ast.walk(unit):
        for field, value in ast.iter_fields(parent):
            if kind == "expr":
                if isinstance(value, ast.expr) and _same(old[0], value):
                    found.append((parent, field, None))
                elif isinstance(value, list):
                    found += [(parent, field, i) for i, item in enumerate(value)
                              if isinstance(item, ast.expr) and _same(old[0], item)]
            elif isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                found += [(parent, field, i) for i in range(len(value) - len(old) + 1)
                          if all(map(_same, old, value[i:i + len(old)]))]
    return found


class Module(NamedTuple):
    source: str
    tree: ast.Module
    functions: list[tuple[str, ast.stmt]]


def _sources(package: Path) -> dict[Path, Module]:
    """Every module under ``package``: its source, syntax tree and functions."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(path))
        out[path] = Module(source, tree, _functions(tree))
    return out


def locate(mutant: Mutant, package: Path, sources: dict | None = None) -> Place:
    """Where ``mutant`` applies under ``package`` (the folder of the library's modules).

    Raises :class:`Stale` when the target function is gone, or its ``old`` code does not occur exactly once in it.
    """
    sources = _sources(package) if sources is None else sources
    kind, old, _ = _fragments(mutant)

    def where(path: Path, node: ast.AST) -> str:
        return f"{path.relative_to(package.parent).as_posix()}:{node.lineno}"

    if mutant.target is None:                # module-level code: one occurrence in the whole package
        hits = [(path, statement) for path, module in sources.items() for statement in module.tree.body
                for _ in _matches(statement, kind, old)]
        if len(hits) != 1:
            raise Stale(f"`{mutant.old}` occurs {len(hits)} times in {package.name}/, not once"
                        + "".join(f"; {where(path, statement)}" for path, statement in hits[:4]))
        path, statement = hits[0]
        return Place(path, statement, where(path, statement))
    candidates = [(path, unit) for path, module in sources.items()
                  for name, unit in module.functions if name == mutant.target]
    if not candidates:
        raise Stale(f"no function named {mutant.target} under {package.name}/ (renamed or removed?)")
    hits = [(path, unit) for path, unit in candidates for _ in _matches(unit, kind, old)]
    if len(hits) != 1:
        places = ", ".join(where(path, unit) for path, unit in candidates)
        raise Stale(f"`{mutant.old}` occurs {len(hits)} times in {mutant.target} ({places}), not once")
    path, unit = hits[0]
    return Place(path, unit, f"{where(path, unit)} {mutant.target}")


def _indented(code: str, indent: str) -> str:
    """``code`` with ``indent`` before each line, except the inner lines of multi-line strings (docstrings)."""
    inside = set()
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        inside.update(range(token.start[0] + 1, token.end[0] + 1))      # a token over several lines: a string
    return "".join(line if number in inside or not line.strip() else indent + line
                   for number, line in enumerate(code.splitlines(keepends=True), start=1))


class Mutation(NamedTuple):
    """A mutant applied: where, the module's source before and after, and the unit's code before and after (both
    unparsed, so that a diff of the two shows the change alone)."""

    place: Place
    before: str
    after: str
    unit_before: str
    unit_after: str


def mutated(mutant: Mutant, package: Path, sources: dict | None = None) -> Mutation:
    """``mutant`` applied to the code under ``package``: the edited unit unparsed in place of the original.

    Raises :class:`Stale` when it does not apply (see :func:`locate`).
    """
    sources = _sources(package) if sources is None else sources
    place = locate(mutant, package, sources)
    source = sources[place.path].source
    kind, old, new = _fragments(mutant)
    unit = copy.deepcopy(place.unit)
    [(parent, field, index)] = _matches(unit, kind, old)
    if kind == "expr":
        if index is None:
            setattr(parent, field, new[0])
        else:
            getattr(parent, field)[index] = new[0]
    else:
        body = getattr(parent, field)
        body[index:index + len(old)] = new
        if not body and field == "body":
            body.append(ast.Pass())
    lines = source.splitlines(keepends=True)
    first = min([place.unit.lineno] + [d.lineno for d in getattr(place.unit, "decorator_list", [])]) - 1
    code = ast.unparse(unit)
    after = "".join(lines[:first]) + _indented(code, " " * place.unit.col_offset) + "\n" + "".join(
        lines[place.unit.end_lineno:])
    compile(after, str(place.path), "exec")          # a mutant that does not compile is a bug in the mutant
    return Mutation(place, source, after, ast.unparse(place.unit) + "\n", code + "\n")


# --- running the tests against each mutant --------------------------------------------------------------------------

def copy_of_repository(target: Path) -> Path:
    """The files the unit tests read (library, tests, tools, notebooks, environment files), copied to target."""
    ignore = shutil.ignore_patterns(".venv", ".venv-lowest", ".git", "__pycache__", ".hypothesis", "*.egg-info",
                                    "build", ".ruff_cache", "my-notebooks")
    shutil.copytree(ROOT, target, ignore=ignore, symlinks=True)
    return target


def _die_with_parent() -> None:
    """In the pytest child: be killed when this script dies (Linux), so an interrupted run leaves nothing behind."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL), 0, 0, 0)     # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def test_files(root: Path) -> list[str]:
    """Every test file, the library's fast ones first and the checker's (which fork per check) last, so that
    a caught mutant is usually caught within seconds; a surviving one still runs them all."""
    files = sorted(p.relative_to(root).as_posix() for p in (root / "tests").rglob("test_*.py"))
    return sorted(files, key=lambda f: ("check" in f or "exercise" in f or "judge" in f, f))


def _pytest(root: Path, args: list[str]) -> subprocess.CompletedProcess:
    """pytest in the copy at ``root``, importing its (mutated) creditlib; dies with this script (Ctrl-C)."""
    env = {**os.environ, "PYTHONPATH": str(root)}     # the mutated copy, not the editable install
    return subprocess.run([sys.executable, "-m", "pytest", *args, "-q", "--no-header"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT, preexec_fn=_die_with_parent)


def run(selected: list[Mutant]) -> int:
    """Run the unit tests once per mutant on a mutated copy of the repository; 1 if any survived or was stale.

    A test that fails without any mutant proves nothing about one: when the test that stopped a run also fails on
    the unmutated code, it is left out of the runs from then on (and reported), and the mutant runs again.
    """
    survived, stale, broken = [], [], []
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        root = copy_of_repository(Path(tmp) / "repo")
        for mutant in selected:
            try:
                place, original, changed, _, _ = mutated(mutant, root / PACKAGE)
            except Stale as why:
                stale.append(mutant.name)
                print(f"STALE     {mutant.name}: {why}", flush=True)
                continue
            start = time.time()
            while True:
                try:
                    place.path.write_text(changed, encoding="utf-8")
                    deselect = [f"--deselect={test}" for test in broken]
                    result = _pytest(root, [*test_files(root), "-x", *deselect])
                except subprocess.TimeoutExpired:        # a mutant that makes the tests hang is caught, loudly
                    print(f"caught    {mutant.name}  by a hang (the tests ran past {TIMEOUT} s)", flush=True)
                    break
                finally:
                    place.path.write_text(original, encoding="utf-8")
                failed = [line[len("FAILED "):].split(" - ")[0] for line in result.stdout.splitlines()
                          if line.startswith("FAILED ")]
                if result.returncode == 0:
                    survived.append(mutant.name)
                    print(f"SURVIVED  {mutant.name}  ({time.time() - start:.0f} s, in {place.describe})", flush=True)
                elif failed and _pytest(root, [failed[0]]).returncode != 0:     # fails without the mutant too
                    broken.append(failed[0])
                    print(f"warning   {failed[0]} fails without any mutant: left out from now on", flush=True)
                    continue
                else:
                    caught_by = failed[0] if failed else f"an error (exit code {result.returncode})"
                    print(f"caught    {mutant.name}  by {caught_by}", flush=True)
                break
    ran = len(selected) - len(stale)
    print(f"\n{ran - len(survived)} of {ran} mutants caught" + (f"; surviving: {survived}" if survived else "")
          + (f"; {len(stale)} stale (not run, see --check-targets): {stale}" if stale else "")
          + (f"\ntests that fail without any mutant (left out): {broken}" if broken else ""))
    return 1 if survived or stale else 0


def check_targets(selected: list[Mutant], package: Path, everything: bool) -> int:
    """Print where each mutant applies (``everything``) or only the stale ones; 1 if any is stale."""
    sources = _sources(package)
    stale = 0
    for mutant in selected:
        try:
            place = locate(mutant, package, sources)
        except Stale as why:
            stale += 1
            print(f"STALE  {mutant.name}: {why}")
        else:
            if everything:
                print(f"ok     {place.describe:60} {mutant.name}")
    print(f"{len(selected) - stale} of {len(selected)} mutants apply to the current code"
          + (f"; {stale} stale: update their target or code in tools/mutation_check.py" if stale else ""))
    return 1 if stale else 0


def show_diffs(selected: list[Mutant], package: Path) -> int:
    """Print each mutant as a unified diff of its module (nothing is written or run)."""
    sources = _sources(package)
    for mutant in selected:
        try:
            place, _, _, before, after = mutated(mutant, package, sources)
        except Stale as why:
            print(f"STALE  {mutant.name}: {why}\n")
            continue
        name = place.path.relative_to(package.parent).as_posix()
        print(f"== {mutant.name}  ({place.describe})")
        sys.stdout.writelines(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                                   f"{name} (unparsed)", f"{name} (mutant)", n=1))
        print()
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("words", nargs="*", help="run only mutants whose name contains one of these words")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="every mutant and where it applies now, run nothing")
    action.add_argument("--check-targets", action="store_true",
                        help="list the stale mutants (exit status 1 if any), run nothing")
    action.add_argument("--diff", action="store_true", help="show each mutant as a diff, run nothing")
    args = parser.parse_args(argv)
    selected = [m for m in MUTANTS if not args.words or any(w.lower() in m.name.lower() for w in args.words)]
    if args.list or args.check_targets:
        return check_targets(selected, ROOT / PACKAGE, everything=args.list)
    if args.diff:
        return show_diffs(selected, ROOT / PACKAGE)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))      # kill PID: clean up the copy as Ctrl-C does
    return run(selected)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
