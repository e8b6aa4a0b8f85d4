"""Integrated gradients on the digits CNN: wall time and peak memory against n_steps and chunk_size.

``chunk_size`` is the number of path points (rows) per forward/backward pass. With ``chunk_size = n_steps × batch``
every path point is materialised at once (what Captum does without ``internal_chunk_size``): memory grows with
``n_steps``. With a fixed ``chunk_size`` it stays flat. Each configuration runs in a forked child; its peak memory
is the growth of the child's maximum resident set size over what it inherited. Prints a table; asserts nothing.
Run: .venv/bin/python benchmarks/saliency.py
"""
import os
import resource
import time

import torch

from creditlib.datasets import digits_images
from creditlib.models import DigitsCNN
from creditlib.saliency import integrated_gradients

torch.set_num_threads(1)


def measure(model, x, n_steps: int, chunk_size: int) -> tuple[float, float]:
    """(seconds, peak MiB above the inherited resident set) of one IG call, in a forked child."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        integrated_gradients(model, x, target=0, n_steps=n_steps, chunk_size=chunk_size)
        seconds = time.perf_counter() - start
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        os.write(write, f"{seconds} {grown}".encode())
        os._exit(0)
    os.close(write)
    data = os.read(read, 100).decode().split()
    os.waitpid(pid, 0)
    return float(data[0]), float(data[1])


def main() -> None:
    X, _, _, _ = digits_images()
    x = X[:16]
    model = DigitsCNN(seed=0).eval()
    integrated_gradients(model, x, target=0, n_steps=4)         # warm up (allocator, first-call costs)
    print(f"16 digits, one thread. {'n_steps':>8} {'chunk_size':>12} {'seconds':>8} {'peak MiB':>9}")
    for n_steps in [50, 200, 1000]:
        for label, chunk_size in [("all at once", n_steps * len(x)), ("512", 512), ("64", 64)]:
            seconds, mib = measure(model, x, n_steps, chunk_size)
            print(f"{'':26s} {n_steps:8d} {label:>12s} {seconds:8.2f} {mib:9.1f}")


if __name__ == "__main__":
    main()
