"""Influence of every training point on 100 test points (logistic regression of notebook 01), by each solver.

For exact, cg, neumann and lissa: wall time, relative error of the influence matrix against exact, and the
Pearson correlation of −I/n with leave-one-out retraining (all 250 × 100 pairs). Prints a table; asserts nothing.
Run: .venv/bin/python benchmarks/influence_methods.py
"""
import time

import torch
from scipy.stats import pearsonr

from creditlib.datasets import digit_pair
from creditlib.influence import influence_matrix, leave_one_out
from creditlib.training import train_to_convergence

torch.set_default_dtype(torch.float64)


def bce(outputs, targets):
    return torch.nn.functional.binary_cross_entropy_with_logits(outputs[:, 0], targets, reduction="none")


def main() -> None:
    X_train, y_train, X_test, y_test = digit_pair(3, 5, n_train=250, seed=0)
    X_test, y_test = X_test[:100], y_test[:100]
    torch.manual_seed(0)
    model = torch.nn.Linear(64, 1)
    train_to_convergence(model, bce, X_train, y_train, weight_decay=0.01)
    start = time.perf_counter()
    loo = leave_one_out(model, bce, X_train, y_train, X_test, y_test, weight_decay=0.01)
    print(f"leave-one-out retraining of 250 models (batched Newton): {time.perf_counter() - start:.2f} s")
    settings = {"exact": {}, "cg": {"tol": 1e-8}, "neumann": {"tol": 1e-6},
                "lissa": {"batch_size": 100, "depth": 1000, "repeats": 4}}
    reference = None
    print(f"{'method':>8} {'seconds':>8} {'rel. error vs exact':>20} {'Pearson vs LOO':>15}")
    for method, options in settings.items():
        start = time.perf_counter()
        I = influence_matrix(model, bce, X_train, y_train, X_test, y_test, weight_decay=0.01, method=method,
                             **options)
        seconds = time.perf_counter() - start
        reference = I if reference is None else reference
        error = float((I - reference).norm() / reference.norm())
        r = pearsonr((-I / 250).flatten(), loo.flatten())[0]
        print(f"{method:>8} {seconds:>8.2f} {error:>20.1e} {r:>15.4f}")


if __name__ == "__main__":
    main()
