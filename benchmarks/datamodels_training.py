"""Models trained per second: creditlib.datamodels.train_on_subsets (all models of a chunk together) against the
same torch code one model at a time in a Python loop, and against scikit-learn's LogisticRegression in a loop.

L2 logistic regression on 100 digits (3 vs 5, 64 pixels + bias), weight decay 0.01, random halves (p = ½),
every model to gradient norm 1e-6. Then the LDS of datamodels and of influence functions against the number of
models. Prints figures; asserts nothing. Peak memory is the process's peak resident set size (torch allocations
included). Timings depend on the load of the machine: run it alone.
"""
from __future__ import annotations

import resource
import time
import warnings

import numpy as np
import torch

from creditlib.datamodels import _train_chunk, fit_datamodels, lds, logistic_loss, subset_masks, train_on_subsets
from creditlib.datasets import digit_pair
from creditlib.influence import influence_matrix, train_to_convergence

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


masks = subset_masks(n, 0.5, 2000, seed=1)
batched = rate(lambda: train_on_subsets(model, logistic_loss, X, y, masks, Xt, yt, weight_decay=decay, seed=None,
                                        tol=tol), len(masks))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
few = masks[:100]
loop = rate(lambda: [_train_chunk(model, logistic_loss, X, y, m[None], Xt, yt, decay, None, tol, 1000, 10, 1)
                     for m in few], len(few))


def sklearn_loop():
    from sklearn.linear_model import LogisticRegression

    for m in few:                       # C = 1/(decay·|S|): the same objective, except sklearn leaves the bias unpenalised
        LogisticRegression(C=1 / (decay * m.sum()), tol=tol, max_iter=1000).fit(X[m].numpy(), y[m].numpy())


sk = rate(sklearn_loop, len(few))
print(f"train_on_subsets, 2000 models: {batched:,.0f} models/s (peak RSS {peak:,.0f} MiB)")
print(f"same torch code, one model at a time: {loop:,.0f} models/s  -> batched is {batched / loop:.0f}x")
print(f"scikit-learn LogisticRegression loop: {sk:,.0f} models/s  -> batched is {batched / sk:.1f}x")

held = subset_masks(n, 0.5, 500, seed=2)
outputs = train_on_subsets(model, logistic_loss, X, y, np.concatenate([masks, held]), Xt, yt, weight_decay=decay,
                           seed=None, tol=1e-8)
train_to_convergence(model, logistic_loss, X, y, weight_decay=decay)
influence = influence_matrix(model, logistic_loss, X, y, Xt, yt, weight_decay=decay, method="exact").T.numpy()
print(f"LDS of influence functions (one model): {lds(-influence, held, outputs[2000:])[0]:.3f}")
for m in [100, 250, 500, 1000, 2000]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_datamodels(masks[:m], outputs[:m], seed=0)
    print(f"LDS of datamodels from {m:5d} models: {lds(fit.coef, held, outputs[2000:])[0]:.3f}")
