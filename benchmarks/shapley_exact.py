"""Time and peak memory of shapley_exact (all 2^N coalitions, eq. (10.12)) for N = 10 .. 22.

Two utilities: a cheap vectorised one (tanh of a weighted sum), which measures the engine itself,
and the data-valuation game (nearest-centroid accuracy on 200 test points), which measures a
realistic utility. Prints a table; asserts nothing. Run: .venv/bin/python benchmarks/shapley_exact.py
"""
import time
import tracemalloc

import numpy as np

from creditlib.chapter_games import data_valuation_game
from creditlib.games import Game
from creditlib.shapley import shapley_exact


def tanh_utility(w: np.ndarray):
    """A cheap utility: tanh of the coalition's weighted sum, for masks of shape (batch, N)."""
    return lambda masks: np.tanh(masks.astype(np.float64) @ w)


def measure(game: Game) -> tuple[float, float]:
    tracemalloc.start()
    start = time.perf_counter()
    shapley_exact(game)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20


def main() -> None:
    print(f"{'N':>3} {'coalitions':>11} {'cheap utility':>22} {'data valuation':>22}")
    print(f"{'':>3} {'':>11} {'seconds':>10} {'peak MiB':>11} {'seconds':>10} {'peak MiB':>11}")
    for n in range(10, 23, 2):
        w = np.random.default_rng(n).normal(size=n)
        cheap = measure(Game(n, tanh_utility(w)))
        valuation = measure(data_valuation_game(n, seed=0)) if n <= 18 else (float("nan"), float("nan"))
        print(f"{n:>3} {2**n:>11,} {cheap[0]:>10.3f} {cheap[1]:>11.1f} {valuation[0]:>10.3f} {valuation[1]:>11.1f}")


if __name__ == "__main__":
    main()
