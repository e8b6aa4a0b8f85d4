"""Models trained per second: creditlib.datamodels.train_on_subsets (all models of a chunk together; its batched
Newton method, the default for this 65-parameter model, and its batched L-BFGS) against a 25-line batched Newton
method written for this model alone (``newton_anchor.py``, the reference of issue 21), the same torch code one model
at a time in a Python loop, and scikit-learn's LogisticRegression in a loop.

L2 logistic regression on 100 digits (3 vs 5, 64 pixels + bias), weight decay 0.01, random halves (p = ½),
every model to gradient norm 1e-6, float64. Rates are best of 3 runs, on one torch thread and on all of them
(``threads=``), on the CPU and, when torch sees one, on CUDA (2,000 and 100,000 models at once). Then the LDS of
datamodels and of influence functions against the number of models. Prints figures; asserts nothing. Peak memory
is the process's peak resident set size (torch allocations included). Timings depend on the load of the machine:
run it alone.
Run: .venv/bin/python benchmarks/datamodels_training.py
"""
from __future__ import annotations

import resource
import time
import warnings
from functools import partial

import numpy as np
import torch

from creditlib.datamodels import fit_datamodels, lds, subset_masks
from creditlib.subset_training import train_on_subsets
from creditlib.training import logistic_loss
from creditlib.datasets import digit_pair
from creditlib.influence import influence_matrix
from creditlib.training import train_to_convergence
from newton_anchor import newton_anchor

torch.set_default_dtype(torch.float64)
X, y, Xt, yt = digit_pair(3, 5, n_train=100, seed=0)
Xt, yt = Xt[:20], yt[:20]
n, decay, tol = 100, 0.01, 1e-6
torch.manual_seed(0)
model = torch.nn.Linear(64, 1)


def rate(run, count):
    start = time.perf_counter()
    run()
    return count / (time.perf_counter() - start)


def best_rate(run, count, device, repeats=3):
    """Models per second, best of ``repeats`` runs (after one warm-up run), waiting for the device to finish."""
    run()
    best = 0.0
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        best = max(best, rate(lambda: (run(), torch.cuda.synchronize(device) if device.type == "cuda" else None),
                              count))
    return best


def solver_rates(device, n_models, thread_counts):
    """Rows (threads, anchor, newton, lbfgs) in models per second for ``n_models`` random halves on ``device``."""
    here = torch.nn.Linear(64, 1).to(device)
    with torch.no_grad():
        here.load_state_dict(model.state_dict())
    Xd, yd, Xtd, ytd = X.to(device), y.to(device), Xt.to(device), yt.to(device)
    m = subset_masks(n, 0.5, n_models, seed=1)
    md = torch.as_tensor(m, device=device)
    theta0 = torch.cat([here.weight.detach()[0], here.bias.detach()])
    rows = []
    for threads in thread_counts:
        torch.set_num_threads(threads)
        anchor = best_rate(lambda: newton_anchor(Xd, yd, md, decay, theta0, tol=tol), n_models, device)
        ours = {method: best_rate(partial(train_on_subsets, here, logistic_loss, Xd, yd, m, Xtd, ytd,
                                          weight_decay=decay, seed=None, tol=tol, method=method, threads=threads,
                                          memory_budget=2**34), n_models, device)
                for method in ("newton", "lbfgs")}
        rows.append((threads, anchor, ours["newton"], ours["lbfgs"]))
    torch.set_num_threads(max(thread_counts))
    return rows


print(f"models per second, {n} digits, 65 parameters, random halves, float64, each to gradient norm {tol:g}")
print(f"{'device':>8} {'models':>8} {'threads':>8} {'Newton anchor':>14} {'train_on_subsets Newton':>24} "
      f"{'train_on_subsets L-BFGS':>24}")
cores = torch.get_num_threads()
settings = [(torch.device("cpu"), 2000, sorted({1, cores}))]
if torch.cuda.is_available():
    settings += [(torch.device("cuda"), 2000, [cores]), (torch.device("cuda"), 100_000, [cores])]
for device, n_models, thread_counts in settings:
    for threads, anchor, newton, lbfgs in solver_rates(device, n_models, thread_counts):
        print(f"{device.type:>8} {n_models:8,d} {threads:8d} {anchor:14,.0f} {newton:24,.0f} {lbfgs:24,.0f}")
if not torch.cuda.is_available():
    print("no CUDA device found: CPU figures only")

masks = subset_masks(n, 0.5, 2000, seed=1)
batched = rate(lambda: train_on_subsets(model, logistic_loss, X, y, masks, Xt, yt, weight_decay=decay, seed=None,
                                        tol=tol).outputs, len(masks))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
few = masks[:100]
loop = rate(lambda: [train_on_subsets(model, logistic_loss, X, y, m[None], Xt, yt, weight_decay=decay, seed=None,
                                      tol=tol, method="lbfgs", threads=1) for m in few], len(few))     # one at a time


def sklearn_loop():
    from sklearn.linear_model import LogisticRegression

    for m in few:                       # C = 1/(decay·|S|): the same objective, except sklearn leaves the bias unpenalised
        LogisticRegression(C=1 / (decay * m.sum()), tol=tol, max_iter=1000).fit(X[m].numpy(), y[m].numpy())


sk = rate(sklearn_loop, len(few))
print(f"train_on_subsets (default method), 2000 models, one thread: {batched:,.0f} models/s (peak RSS {peak:,.0f} MiB)")
print(f"same torch code (L-BFGS), one model at a time: {loop:,.0f} models/s  -> batched is {batched / loop:.0f}x")
print(f"scikit-learn LogisticRegression loop: {sk:,.0f} models/s  -> batched is {batched / sk:.1f}x")

held = subset_masks(n, 0.5, 500, seed=2)
outputs = train_on_subsets(model, logistic_loss, X, y, np.concatenate([masks, held]), Xt, yt, weight_decay=decay,
                           seed=None, tol=1e-8).outputs
train_to_convergence(model, logistic_loss, X, y, weight_decay=decay)
influence = influence_matrix(model, logistic_loss, X, y, Xt, yt, weight_decay=decay, method="exact").T.numpy()
print(f"LDS of influence functions (one model): {lds(-influence, held, outputs[2000:])[0]:.3f}")
for m in [100, 250, 500, 1000, 2000]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_datamodels(masks[:m], outputs[:m], seed=0)
    print(f"LDS of datamodels from {m:5d} models: {lds(fit.coef, held, outputs[2000:])[0]:.3f}")
