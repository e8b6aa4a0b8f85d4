"""The same three calls on every device torch sees: the CPU, and CUDA when there is one (issue 21, item 4).

- ``train_on_subsets``: models per second, L2 logistic regression on 100 digits (64 pixels + bias), random halves,
  float64, each model to gradient norm 1e-6 (2,000 models at once; 100,000 on CUDA as well);
- ``integrated_gradients``: seconds for 16 digits through the notebooks' CNN, 200 steps, float32;
- ``influence_matrix``: seconds for 250 training and 100 test points of the logistic regression of notebook 01,
  float64, by conjugate gradients and by the exact Hessian.

Each figure is the best of 3 runs after a warm-up run, the device synchronised before the clock stops.
``train_on_subsets`` runs on one CPU thread (its default ``threads=1``), the others on all of torch's threads
(printed). Prints a table; asserts nothing. Timings depend on the load of the machine: run it
alone. Run: .venv/bin/python benchmarks/devices.py
"""
import time

import torch

from creditlib.datamodels import subset_masks
from creditlib.subset_training import train_on_subsets
from creditlib.training import logistic_loss
from creditlib.datasets import digit_pair, digits_images
from creditlib.influence import influence_matrix
from creditlib.training import train_to_convergence
from creditlib.models import DigitsCNN
from creditlib.saliency import integrated_gradients


def best_seconds(run, device, repeats=3):
    """Fastest of ``repeats`` timed calls of ``run`` after one warm-up call, waiting for ``device``."""
    def timed():
        start = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter() - start

    timed()
    return min(timed() for _ in range(repeats))


def train_rate(device, n_models):
    X, y, Xt, yt = (t.to(device) for t in digit_pair(3, 5, n_train=100, seed=0))
    torch.manual_seed(0)
    model = torch.nn.Linear(64, 1).double().to(device)
    masks = subset_masks(100, 0.5, n_models, seed=1)
    run = lambda: train_on_subsets(model, logistic_loss, X, y, masks, Xt[:20], yt[:20], weight_decay=0.01,
                                   seed=None, tol=1e-6, memory_budget=2**36).outputs
    return n_models / best_seconds(run, device)


def ig_seconds(device):
    X, _, _, _ = digits_images()
    model = DigitsCNN(seed=0).eval().to(device)
    x = X[:16].to(device)
    return best_seconds(lambda: integrated_gradients(model, x, target=0, n_steps=200, chunk_size=512), device)


def influence_seconds(device, method):
    X, y, Xt, yt = (t.to(device) for t in digit_pair(3, 5, n_train=250, seed=0))
    torch.manual_seed(0)
    model = torch.nn.Linear(64, 1).double().to(device)
    train_to_convergence(model, logistic_loss, X, y, weight_decay=0.01)
    options = {"tol": 1e-8} if method == "cg" else {}
    return best_seconds(lambda: influence_matrix(model, logistic_loss, X, y, Xt[:100], yt[:100], weight_decay=0.01,
                                                 method=method, **options), device)


def main() -> None:
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"CPU: {torch.get_num_threads()} torch threads", end="; ")
    print(f"CUDA: {torch.cuda.get_device_name()}" if torch.cuda.is_available() else "no CUDA device found: CPU only")
    print(f"{'device':>8} {'what':>46} {'figure':>12}")
    for device in devices:
        for n_models in [2000] + ([100_000] if device.type == "cuda" else []):
            print(f"{device.type:>8} {f'train_on_subsets, {n_models:,} models (models/s)':>46} "
                  f"{train_rate(device, n_models):12,.0f}")
        print(f"{device.type:>8} {'integrated_gradients, 16 digits, 200 steps (s)':>46} {ig_seconds(device):12.3f}")
        for method in ["cg", "exact"]:
            print(f"{device.type:>8} {f'influence_matrix, 250 x 100, {method} (s)':>46} "
                  f"{influence_seconds(device, method):12.3f}")


if __name__ == "__main__":
    main()
