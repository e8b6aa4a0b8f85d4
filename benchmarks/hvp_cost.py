"""The cost of a Hessian-vector product as a multiple of one gradient, for MLPs of growing width.

Forward-over-reverse (creditlib.influence.hvp: jvp of grad) and reverse-over-reverse (double backward) against
one full-batch gradient; median of repeated timings. Prints a table; asserts nothing.
Run: .venv/bin/python benchmarks/hvp_cost.py
"""
import statistics
import time

import torch
from torch.func import grad

from creditlib.influence import make_hvp
from creditlib.training import flatten, training_objective

torch.set_default_dtype(torch.float64)


def bce(outputs, targets):
    return torch.nn.functional.binary_cross_entropy_with_logits(outputs[:, 0], targets, reduction="none")


def median_seconds(fn, repeats: int = 30) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def costs(width: int, X: torch.Tensor, y: torch.Tensor) -> tuple[int, float, float, float]:
    """For an MLP of this width: its number of parameters and the median seconds of a gradient, an HVP by
    forward-over-reverse (creditlib's make_hvp) and an HVP by double backward."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, width), torch.nn.Tanh(), torch.nn.Linear(width, width),
                                torch.nn.Tanh(), torch.nn.Linear(width, 1))
    fm = flatten(model)
    objective = training_objective(fm, bce, X, y, 1e-3)
    v = torch.randn_like(fm.theta)
    gradient = grad(objective)
    hvp = make_hvp(model, bce, X, y, weight_decay=1e-3)

    def double_backward():
        theta = fm.theta.clone().requires_grad_(True)
        (first,) = torch.autograd.grad(objective(theta), theta, create_graph=True)
        torch.autograd.grad(first @ v, theta)

    return (fm.theta.numel(), median_seconds(lambda: gradient(fm.theta)), median_seconds(lambda: hvp(v)),
            median_seconds(double_backward))


def main() -> None:
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(512, 64, generator=g), (torch.rand(512, generator=g) > 0.5).double()
    print(f"{'width':>6} {'params':>8} {'gradient ms':>12} {'HVP fwd-over-rev':>17} {'HVP double backward':>20}")
    for width in [16, 64, 256, 512]:
        n_params, t_grad, t_fwd, t_dbl = costs(width, X, y)
        print(f"{width:>6} {n_params:>8,} {1e3 * t_grad:>12.2f} {t_fwd / t_grad:>16.1f}x {t_dbl / t_grad:>19.1f}x")


if __name__ == "__main__":
    main()
