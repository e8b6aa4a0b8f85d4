"""The latency of `check`, from a call to its verdict, in a warm process: an exact vector (nb00.1), an expression
(nb00.2), and function answers (nb03.1: NumPy; nb01.4: autograd, after this process has run a backward pass).

Median of repeated calls, after one warm-up call (which, with the judge server, also starts it: its start is
timed apart). Prints a table; asserts nothing.
Run: .venv/bin/python benchmarks/check_latency.py
"""
import statistics
import time
from functools import partial

import torch

from creditlib.exercises import check, get_exercise


def seconds(fn, repeats: int = 15) -> tuple[float, str]:
    """The median latency and the statuses seen (a correct answer that comes back otherwise is worth seeing)."""
    times, statuses = [], set()
    for _ in range(repeats):
        start = time.perf_counter()
        statuses.add(fn().status)
        times.append(time.perf_counter() - start)
    return statistics.median(times), ", ".join(sorted(statuses))


def main() -> None:
    x = torch.ones(3, requires_grad=True)
    (x * x).sum().backward()                        # as a notebook does before it checks an answer
    answers = {name: get_exercise(name).reference() for name in ("nb00.1", "nb00.2", "nb03.1", "nb01.4")}
    start = time.perf_counter()
    first = check("nb00.1", answers["nb00.1"])
    print(f"first check (starts whatever the checker needs): {time.perf_counter() - start:.2f} s ({first.status})")
    for name, kind in [("nb00.1", "exact vector"), ("nb00.2", "expression"), ("nb03.1", "function, NumPy"),
                       ("nb01.4", "function, autograd")]:
        answer = answers[name]
        median, statuses = seconds(partial(check, name, answer))
        print(f"{name:8} {kind:20} median {median * 1000:7.0f} ms  ({statuses})", flush=True)


if __name__ == "__main__":
    main()
