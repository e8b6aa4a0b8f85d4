#!/usr/bin/env python
"""Do the unit tests catch real bugs? Inject plausible bugs into creditlib one at a time and run the tests.

Each mutant is a small textual change to one file of ``creditlib`` (a wrong weight, a loosened tolerance,
a dropped check). For each, ``pytest tests -x`` runs on a mutated copy of the repository (in a temporary folder, so the working
tree is never touched); a mutant that no test catches is *surviving*, and a test is missing.

Usage (from the repository root, with the course environment's interpreter)::

    python tools/mutation_check.py              # every mutant, about 20 s each on 2 cores
    python tools/mutation_check.py banzhaf cg   # only mutants whose name contains one of these words
    python tools/mutation_check.py --list

It prints one line per mutant (caught by which test, or SURVIVED) and exits 1 if any survived. Not part of
``make test`` (it takes minutes); run it after changing tests or the library's core.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TIMEOUT = 900
"""Seconds one mutant's test run may take; a run that hangs past it counts as caught."""

# (name, file, old text, new text): each old text must occur exactly once in its file.
MUTANTS = [
    # --- shapley: weights and normalisations
    ("banzhaf divides by 2^N", "creditlib/shapley.py",
     "w = Fraction(1, 2 ** (n_players - 1))", "w = Fraction(1, 2 ** n_players)"),
    ("shapley weights (N−|S|)! instead of (N−|S|−1)!", "creditlib/shapley.py",
     "w = [Fraction(factorial(k) * factorial(n - k - 1), factorial(n)) for k in range(n)]",
     "w = [Fraction(factorial(k) * factorial(n - k), factorial(n)) for k in range(n)]"),
    ("random-size weights off by one", "creditlib/shapley.py",
     "w = [Fraction(1, n * comb(n - 1, k)) for k in range(n)]", "w = [Fraction(1, n * comb(n, k)) for k in range(n)]"),
    ("by_permutations divides by (N−1)!", "creditlib/shapley.py",
     "scale = _reciprocal(factorial(n), values[0])", "scale = _reciprocal(factorial(n - 1) if n > 1 else 1, values[0])"),
    ("difference_exact weights C(N−1, k)", "creditlib/shapley.py",
     "_reciprocal(comb(n - 2, int(k)), values[0])", "_reciprocal(comb(n - 1, int(k)), values[0])"),
    ("difference_exact forgets 1/(N−1)", "creditlib/shapley.py",
     "return total * _reciprocal(n - 1, values[0])", "return total"),
    ("Möbius transform adds instead of subtracts", "creditlib/shapley.py",
     "view[:, 1, :] = view[:, 1, :] - view[:, 0, :]", "view[:, 1, :] = view[:, 1, :] + view[:, 0, :]"),
    ("dividends split by |T|−1", "creditlib/shapley.py",
     "else table[1:].astype(np.float64) / sizes[1:]", "else table[1:].astype(np.float64) / np.maximum(sizes[1:] - 1, 1)"),
    ("max_players refusal off by one", "creditlib/coalitions.py",
     "if n_players > max_players:", "if n_players > max_players + 1:"),
    ("max_players refusal off by one (the other way)", "creditlib/coalitions.py",
     "if n_players > max_players:", "if n_players >= max_players:"),
    ("memory estimate 8x too small", "creditlib/coalitions.py",
     "return 2**n_players * (9 * n_players + 40)", "return 2**n_players * (9 * n_players + 40) // 8"),
    ("anchor_fraction not validated", "creditlib/shapley.py",
     '    anchor_fraction = check_open_unit(anchor_fraction, "anchor_fraction")\n', ""),
    ("anchor_player not validated", "creditlib/shapley.py",
     '    anchor_player = check_index(anchor_player, "anchor_player", n)\n', ""),
    ("permutation std error without sqrt(m)", "creditlib/shapley.py",
     'return ShapleyEstimate(mean, np.sqrt(var / m), game.evaluations - start, "permutation")',
     'return ShapleyEstimate(mean, np.sqrt(var), game.evaluations - start, "permutation")'),
    ("difference estimator reweights by N−k", "creditlib/shapley.py",
     "(v - v.mean(axis=1, keepdims=True)) / (n - k - 1)", "(v - v.mean(axis=1, keepdims=True)) / (n - k)"),
    ("by_permutations on given orders divides by N!", "creditlib/shapley.py",
     "scale = _reciprocal(len(orders), values[0])", "scale = _reciprocal(factorial(n), values[0])"),
    ("given orders not checked to be permutations", "creditlib/shapley.py",
     "    if not (np.sort(orders, axis=1) == np.arange(n)).all():\n", "    if False:\n"),
    ("difference_terms accepts draws of mixed sizes", "creditlib/shapley.py",
     "if (sizes != k).any() or k > n - 2:", "if k > n - 2:"),
    ("difference_terms credits the outsiders' values uncentred", "creditlib/shapley.py",
     "(v - v.mean(axis=1, keepdims=True)) / (n - k - 1)", "v / (n - k - 1)"),
    ("difference estimator overspends", "creditlib/shapley.py",
     "anchor_budget = min(anchor_budget, budget - minimum_draws)", "anchor_budget = anchor_budget"),
    # --- games and axioms
    ("efficiency tolerance 0.1", "creditlib/axioms.py",
     "def violates_efficiency(game: Game, payments, atol: float = 1e-9)",
     "def violates_efficiency(game: Game, payments, atol: float = 0.1)"),
    ("null-player tolerance 1e-3", "creditlib/axioms.py",
     "def null_players(game: Game, atol: float = 1e-12)", "def null_players(game: Game, atol: float = 1e-3)"),
    ("symmetry tolerance 1e-3", "creditlib/axioms.py",
     "def symmetric_pairs(game: Game, atol: float = 1e-12)", "def symmetric_pairs(game: Game, atol: float = 1e-3)"),
    ("cache hits counted as evaluations", "creditlib/games.py",
     "todo = [i for c, i in zip(new_codes, first_rows) if int(c) not in self._cache]",
     "todo = list(first_rows)"),
    ("interaction weights (N−|S|−1)!", "creditlib/interactions.py",
     "w = [Fraction(factorial(k) * factorial(n - k - 2), factorial(n - 1)) for k in range(n - 1)]",
     "w = [Fraction(factorial(k) * factorial(n - k - 1), factorial(n)) for k in range(n - 1)]"),
    ("conditional value ignores the partner", "creditlib/interactions.py",
     "    if partner_present:\n        full_codes |= 1 << partner\n", ""),
    # --- influence
    ("hvp ignores damping", "creditlib/influence.py",
     "return jvp(gradient, (fm.theta,), (v,))[1] + damping * v", "return jvp(gradient, (fm.theta,), (v,))[1]"),
    ("LiSSA mini-batch HVP ignores damping", "creditlib/influence.py",
     "return jvp(grad(objective), (fm.theta,), (u,))[1] + damping * u", "return jvp(grad(objective), (fm.theta,), (u,))[1]"),
    ("batched CG stops when any right-hand side converges", "creditlib/influence.py",
     "if (rs_new.sqrt() <= target).all():", "if (rs_new.sqrt() <= target).any():"),
    ("CG tolerance 1e4 looser", "creditlib/influence.py",
     "target = tol * V.norm(dim=1)", "target = 1e4 * tol * V.norm(dim=1)"),
    ("Neumann divergence check dropped", "creditlib/influence.py",
     "if not torch.isfinite(size) or size > blowup * initial:", "if not torch.isfinite(size):"),
    ("Neumann stops one term early", "creditlib/influence.py",
     "if relative <= tol:", "if relative <= 10 * tol:"),
    ("influence sign flipped", "creditlib/influence.py",
     "return -G_train @ s_test.T", "return G_train @ s_test.T"),
    ("weight decay without the 1/2", "creditlib/influence.py",
     "return mean + 0.5 * weight_decay * (theta * theta).sum()", "return mean + weight_decay * (theta * theta).sum()"),
    ("leave-one-out keeps the point", "creditlib/influence.py",
     "torch.tensor(indices, dtype=torch.long, device=device)] = 0.0",
     "torch.tensor(indices, dtype=torch.long, device=device)] = 1.0"),
    ("L-BFGS leave-one-out stops silently", "creditlib/influence.py",
     "        if not norm < tol:\n            unconverged.append(", "        if False:\n            unconverged.append("),
    ("CG stops silently at max_iter", "creditlib/influence.py",
     "        warn_unconverged(f\"Conjugate gradient stopped", "        (f\"Conjugate gradient stopped"),
    ("damping not validated", "creditlib/influence.py",
     '    damping = check_positive(damping, "damping", allow_zero=True)\n', ""),
    ("power iteration returns the norm of Av", "creditlib/influence.py",
     "value = float(v @ w)", "value = float(w.norm())"),
    # --- schemes, builders, data
    ("equal split ignores U(∅)", "creditlib/schemes.py",
     "return np.full(game.n_players, (grand - empty) / game.n_players)", "return np.full(game.n_players, grand / game.n_players)"),
    ("leave-one-out scheme reversed", "creditlib/schemes.py", "return grand - without", "return without - grand"),
    ("proportional split without the zero-sum guard", "creditlib/schemes.py",
     "if abs(total) < 1e-12:", "if False:"),
    ("squared-sum dividends without the 2", "creditlib/games.py",
     "game.dividends.update({(i, j): 2 * w[i] * w[j] / n", "game.dividends.update({(i, j): w[i] * w[j] / n"),
    # (not listed: "nearest-centroid ties go to class 1", an equivalent mutant: exact distance ties do not occur
    # on the bundled data, so no test can observe it)
    ("empty coalition worth 0 in data valuation", "creditlib/games.py",
     "return np.where(counts.sum(axis=1) > 0, accuracy, 0.5)", "return np.where(counts.sum(axis=1) > 0, accuracy, 0.0)"),
    ("digits labels swapped", "creditlib/datasets.py",
     "y = torch.tensor((digits.target[order] == second).astype(np.float64))",
     "y = torch.tensor((digits.target[order] == first).astype(np.float64))"),
    ("game scaling loses exactness", "creditlib/games.py",
     "exact = _is_exact(scale)\n", "exact = False\n"),
    ("bitmask table game with one player too many", "creditlib/games.py",
     "n = len(raw).bit_length() - 1\n", "n = len(raw).bit_length()\n"),
    ("bitmask table game keeps NaN utilities", "creditlib/games.py",
     "        if not _finite(table).all():\n            bad", "        if False:\n            bad"),
    ("sgd minibatches ignore the subset", "creditlib/datamodels.py",
     "scores.topk(k, dim=1).indices, 1.0) * subsets", "scores.topk(k, dim=1).indices, 1.0)"),
    ("sgd minibatch of one point too many", "creditlib/datamodels.py",
     "k = min(batch_size, masks.shape[1])", "k = min(batch_size + 1, masks.shape[1])"),
    # --- the answer checker
    ("expression checker accepts float agreement within 1e-4", "creditlib/checking.py",
     "return abs(a - e) > sp.Float(10) ** -20 * max(1, abs(e))", "return abs(a - e) > sp.Float(10) ** -4 * max(1, abs(e))"),
    ("exact values compared within 1e-4", "creditlib/checking.py",
     "    if a.is_Rational and e.is_Rational:\n        return a != e",
     "    if a.is_Rational and e.is_Rational:\n        return abs(a - e) > sp.Rational(1, 10**4)"),
    ("number tolerance x100", "creditlib/checking.py",
     "if abs(float(a_val) - float(e)) <= tol * max(1.0, abs(float(e))):",
     "if abs(float(a_val) - float(e)) <= 100 * tol * max(1.0, abs(float(e))):"),
    ("function check rtol 1e-3", "creditlib/exercises/influence_functions.py",
     "same=make_allclose(rtol=1e-8, atol=1e-10)", "same=make_allclose(rtol=1e-3, atol=1e-10)"),
    ("Neumann exercise reference one term short", "creditlib/exercises/neumann_series.py",
     "    return partial.get(r, result.x)\n", "    return partial.get(r - 1, v) if r > 1 else v.clone()\n"),
    ("function-check diagnosis dropped", "creditlib/exercises/feedback.py",
     'return Verdict(INCORRECT, f"{verdict.message} {hint}".strip())', "return verdict"),
    ("logistic influence reference without weight decay", "creditlib/exercises/influence_functions.py",
     'y_z.reshape(1), weight_decay=weight_decay,', 'y_z.reshape(1), weight_decay=0.0,'),
    ("efficiency diagnosis tolerance 0.1", "creditlib/exercises/feedback.py",
     "abs(float(gap)) > 1e-9 * max(1.0,", "abs(float(gap)) > 0.1 * max(1.0,"),
    ("checker worker keeps torch multi-threaded after fork", "creditlib/checking.py",
     "        _single_threaded_torch()\n", ""),
    ("a seed alone earns correct (no fresh inputs)", "creditlib/checking.py",
     "seeds = ([asked] if asked is not None else []) + [secrets.randbelow(2**31)]",
     "seeds = [asked] if asked is not None else [secrets.randbelow(2**31)]"),
    ("answers judged without their plain copy", "creditlib/checking.py",
     "    budget = [MAX_ITEMS, MAX_TEXT]\n", "    return value\n"),
    ("checks judged in a fork of the kernel (no judge process)", "creditlib/exercises/core.py",
     '    if sys.platform.startswith("linux"):        # a clean judge process', '    if False:        # a clean judge process'),
    ("a function answer runs unconfined", "creditlib/checking.py",
     "        _confine_reader_code()\n", ""),
    ("the filter lets fork through", "creditlib/sandbox.py",
     "(_JSET_K, 1, 0, values), (_RET_K, 0, 0, eperm)", "(_JSET_K, 1, 0, values), (_RET_K, 0, 0, _ALLOW)"),
    # --- saliency and matched pair
    ("vanilla gradient of the wrong sign", "creditlib/saliency.py",
     "return torch.zeros_like(x) if g is None else g", "return torch.zeros_like(x) if g is None else -g"),
    ("trapezoid weights 1/n (Captum's, summing to (n−1)/n)", "creditlib/saliency.py",
     "weights = np.full(n, 1.0 / (n - 1))", "weights = np.full(n, 1.0 / n)"),
    ("Gauss–Legendre weights not halved", "creditlib/saliency.py",
     "return (1 + xi) / 2, omega / 2", "return (1 + xi) / 2, omega"),
    ("right Riemann sum uses left endpoints", "creditlib/saliency.py",
     '{"riemann_left": 0.0, "riemann_right": 1.0,', '{"riemann_left": 0.0, "riemann_right": 0.0,'),
    ("IG quadrature weights dropped", "creditlib/saliency.py",
     "total.index_add_(0, example, w[step].view(shape) * g)", "total.index_add_(0, example, g / n)"),
    ("IG accumulates by indexed += (repeated examples in a chunk lost)", "creditlib/saliency.py",
     "total.index_add_(0, example, w[step].view(shape) * g)", "total[example] += w[step].view(shape) * g"),
    ("completeness gap of the wrong sign", "creditlib/saliency.py",
     "delta = attributions.flatten(1).sum(1) - gap", "delta = gap - attributions.flatten(1).sum(1)"),
    ("baseline shape not checked", "creditlib/saliency.py",
     "    if b.shape != x.shape:\n", "    if False:\n"),
    ("non-differentiable model not detected", "creditlib/saliency.py",
     "        if not out.requires_grad:\n", "        if False:\n"),
    ("target range check off by one", "creditlib/saliency.py",
     "int(t.max()) >= n_classes", "int(t.max()) > n_classes"),
    ("SmoothGrad σ in absolute units", "creditlib/saliency.py",
     "sigma = (noise_level * (flat.max(1).values - flat.min(1).values))",
     "sigma = (noise_level + 0 * flat.max(1).values)"),
    ("randomize_layers from the input up", "creditlib/saliency.py",
     "for name in reversed(names[len(names) - n_top:]):", "for name in names[:n_top]:"),
    ("rank correlation ignores absolute", "creditlib/saliency.py",
     "    if absolute:\n        a, b = np.abs(a), np.abs(b)", "    if False:\n        a, b = np.abs(a), np.abs(b)"),
    ("CAV points away from the concept", "creditlib/saliency.py",
     "y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]", "y = np.r_[np.zeros(len(pos)), np.ones(len(neg))]"),
    ("TCAV without Bonferroni", "creditlib/saliency.py",
     "p < alpha / n_concepts)", "p < alpha)"),
    ("erasure importance of the wrong sign", "creditlib/saliency.py",
     "return full[:, None] - erased.view(b, length)", "return erased.view(b, length) - full[:, None]"),
    ("rollout without the residual identity", "creditlib/saliency.py",
     "rolled = (0.5 * a + 0.5 * eye) @ rolled", "rolled = a @ rolled"),
    ("removals_to_flip records the last flip, not the first", "creditlib/saliency.py",
     "flipped = (model(tokens, keep=keep).argmax(-1) != pred) & (out == length)",
     "flipped = model(tokens, keep=keep).argmax(-1) != pred"),
    ("top-k precision ranks lowest first", "creditlib/saliency.py",
     "top = np.argsort(-imp, axis=1, kind=\"stable\")[:, :k]", "top = np.argsort(imp, axis=1, kind=\"stable\")[:, :k]"),
    ("top-k precision divides by the number of positions", "creditlib/saliency.py",
     "return np.take_along_axis(rel, top, axis=1).sum(1) / k",
     "return np.take_along_axis(rel, top, axis=1).sum(1) / imp.shape[1]"),
    ("mean-difference CAV points to the random mean", "creditlib/saliency.py",
     "diff = pos.mean(0) - neg.mean(0)", "diff = neg.mean(0) - pos.mean(0)"),
    ("mean-difference CAV without the random mean", "creditlib/saliency.py",
     "diff = pos.mean(0) - neg.mean(0)", "diff = pos.mean(0) - 0 * neg.mean(0)"),
    ("matched pair gap not validated", "creditlib/matched_pair.py",
     "    if gap >= 1.8 * box:", "    if False:"),
    # --- devices (issue 21): allocations that do not take the device from the inputs
    ("exact inverse HVP: torch.eye on the CPU", "creditlib/influence.py",
     "torch.eye(len(H), dtype=H.dtype, device=H.device)", "torch.eye(len(H), dtype=H.dtype)"),
    ("SmoothGrad draws its noise with a generator on the inputs' device", "creditlib/saliency.py",
     "noise = cpu_draw(torch.randn, x.shape, generator=gen, dtype=x.dtype, device=x.device)",
     "noise = torch.randn(x.shape, generator=gen, dtype=x.dtype)"),
    ("TinyAttention positions on the CPU", "creditlib/models.py",
     "self.position(torch.arange(tokens.shape[1], device=tokens.device))",
     "self.position(torch.arange(tokens.shape[1]))"),
    ("rank correlation: np.asarray of a device tensor", "creditlib/saliency.py",
     "a, b = as_numpy(a, dtype=np.float64), as_numpy(b, dtype=np.float64)",
     "a, b = (np.asarray(t.detach() if isinstance(t, torch.Tensor) else t, dtype=np.float64) for t in (a, b))"),
    ("seeded initialisation reseeds every GPU", "creditlib/validation.py",
     "        torch.default_generator.manual_seed(torch_seed)\n", "        torch.manual_seed(torch_seed)\n"),
    ("CG trusts its recurrence residual", "creditlib/influence.py",
     "    if converged and not residual <= CG_TRUE_RESIDUAL_SLACK * tol:", "    if False:"),
]


def copy_of_repository(target: Path) -> Path:
    """The files the unit tests read (library, tests, tools, notebooks, environment files), copied to target."""
    ignore = shutil.ignore_patterns(".venv", ".git", "__pycache__", ".hypothesis", "*.egg-info", "build")
    shutil.copytree(ROOT, target, ignore=ignore, symlinks=True)
    return target


def _die_with_parent() -> None:
    """In the pytest child: be killed when this script dies (Linux), so an interrupted run leaves nothing behind."""
    try:
        import ctypes
        import signal
        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL), 0, 0, 0)     # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def test_files(root: Path) -> list[str]:
    """Every test file, the library's fast ones first and the checker's (which fork per check) last, so that
    a caught mutant is usually caught within seconds; a surviving one still runs them all."""
    files = sorted(str(p.relative_to(root)) for p in (root / "tests").glob("test_*.py"))
    return sorted(files, key=lambda f: ("check" in f or "exercise" in f, f))


def run(selected: list[tuple]) -> int:
    survived = []
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        root = copy_of_repository(Path(tmp) / "repo")
        env = {**os.environ, "PYTHONPATH": str(root)}     # import the mutated copy, not the editable install
        for name, path, old, new in selected:
            file = root / path
            original = file.read_text(encoding="utf-8")
            if original.count(old) != 1:
                print(f"??        {name}: the text to mutate occurs {original.count(old)} times in {path}; "
                      "update the mutant")
                survived.append(name)
                continue
            start = time.time()
            try:
                file.write_text(original.replace(old, new), encoding="utf-8")
                try:                                    # the run dies with this script (Ctrl-C) or its time limit
                    result = subprocess.run([sys.executable, "-m", "pytest", *test_files(root), "-x", "-q",
                                             "--no-header"], cwd=root, env=env, capture_output=True, text=True,
                                            timeout=TIMEOUT, preexec_fn=_die_with_parent)
                except subprocess.TimeoutExpired:       # a mutant that makes the tests hang is caught, loudly
                    print(f"caught    {name}  by a hang (the tests ran past {TIMEOUT} s)", flush=True)
                    continue
            finally:
                file.write_text(original, encoding="utf-8")
            failed = [line.split(" ")[1] for line in result.stdout.splitlines() if line.startswith("FAILED ")]
            if result.returncode == 0:
                survived.append(name)
                print(f"SURVIVED  {name}  ({time.time() - start:.0f} s)", flush=True)
            else:
                caught_by = failed[0] if failed else f"an error (exit code {result.returncode})"
                print(f"caught    {name}  by {caught_by}", flush=True)
    print(f"\n{len(selected) - len(survived)} of {len(selected)} mutants caught" +
          (f"; surviving: {survived}" if survived else ""))
    return 1 if survived else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--list"]:
        for name, path, _, _ in MUTANTS:
            print(f"{path:28} {name}")
        return 0
    selected = [m for m in MUTANTS if not argv or any(word.lower() in m[0].lower() for word in argv)]
    return run(selected)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
