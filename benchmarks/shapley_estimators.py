"""Error at equal budget: the naive permutation estimator against the difference estimator (both anchors).

The games of notebook 04 at N = 12 (exact values by enumeration) and closed-form games at N = 30 and 50.
For each: the l2 error over 20 seeds (mean ± standard deviation) and the ratio of mean errors.
Prints a table; asserts nothing. Run: .venv/bin/python benchmarks/shapley_estimators.py
"""
import numpy as np

from creditlib.chapter_games import data_valuation_game, squared_sum_game
from creditlib.game_builders import random_dividend_game, random_game
from creditlib.estimators import shapley_difference, shapley_permutation
from creditlib.shapley import shapley_exact, shapley_from_dividends

METHODS = {
    "permutation": lambda g, b, s: shapley_permutation(g, b, seed=s),
    "diff/naive": lambda g, b, s: shapley_difference(g, b, seed=s),
    "diff/efficiency": lambda g, b, s: shapley_difference(g, b, seed=s, anchor="efficiency"),
}


def cases():
    for name, game in [("random", random_game(12, seed=0)),
                       ("data valuation", data_valuation_game(12, flip_fraction=0.25, seed=0)),
                       ("interactions", random_dividend_game(12, n_terms=40, max_order=6, seed=0)),
                       ("squared sum", squared_sum_game(np.linspace(0.1, 1, 12)))]:
        yield name, 12, game, shapley_exact(game), 8000
    for n in (30, 50):
        for name, game in [("interactions", random_dividend_game(n, n_terms=4 * n, max_order=6, seed=n)),
                           ("squared sum", squared_sum_game(np.linspace(0.1, 1, n)))]:
            yield name, n, game, shapley_from_dividends(game.dividends, n), 20 * n * n


def main(seeds: int = 20) -> None:
    header = "".join(f"{m:>22}" for m in METHODS)
    print(f"{'game':>15} {'N':>3} {'budget':>7}{header} {'naive/perm':>11} {'effic/perm':>11}")
    for name, n, game, truth, budget in cases():
        errors = {m: np.array([np.linalg.norm(f(game, budget, s).values - truth) for s in range(seeds)])
                  for m, f in METHODS.items()}
        cells = "".join(f"{e.mean():>13.4f} ± {e.std(ddof=1):<6.4f}" for e in errors.values())
        base = errors["permutation"].mean()
        print(f"{name:>15} {n:>3} {budget:>7}{cells} {errors['diff/naive'].mean() / base:>11.2f} "
              f"{errors['diff/efficiency'].mean() / base:>11.2f}")


if __name__ == "__main__":
    main()
