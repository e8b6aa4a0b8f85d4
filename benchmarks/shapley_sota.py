"""creditlib's Shapley estimators against shapiq's approximators, at equal budgets of utility evaluations (issue 23).

Games with exact values: an additive-plus-pairwise game (N = 12), a sum of high-order unanimity games (N = 30), an
airport game (N = 30) and the noisy data-valuation utility (N = 14, exact values by enumeration). For each game and
budget, every estimator runs on seeds 0 .. S−1; the metric is the mean squared error over players, averaged over
seeds (MSE). Printed: each creditlib estimator's MSE as a ratio to the best shapiq approximator's (≤ 1: creditlib's
is at least as accurate), the best of creditlib, and which shapiq approximator was best with its MSE. shapiq's
evaluations are counted by wrapping the game (every coalition it evaluates, the empty and full ones included), and
the largest count per budget is checked against the budget. MSEs below 1e-20 (round-off: an estimator that is
exact on the game) are floored there, so two exact estimators have the ratio 1, and a cell reads "exact" where
creditlib's estimator is. Asserts nothing.

shapiq is not a course dependency; run this in an environment that has it and creditlib, e.g.::

    /root/.pyenv/versions/3.12.1/bin/python -m venv /work/venvs/shapiq312     # shapiq ≥ 1.5 needs Python ≥ 3.12
    /work/venvs/shapiq312/bin/pip install shapiq sympy && /work/venvs/shapiq312/bin/pip install -e . --no-deps
    /work/venvs/shapiq312/bin/python benchmarks/shapley_sota.py [--seeds 10] [--budgets 500 1000 ...] [--games ...]

Without shapiq it prints creditlib's MSEs alone.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from creditlib.chapter_games import data_valuation_game
from creditlib.estimators import (shapley_antithetic, shapley_kernel, shapley_leverage, shapley_permutation,
                                  shapley_regression_adjusted, shapley_stratified)
from creditlib.game_builders import airport_game, pairwise_game, sparse_unanimity_game
from creditlib.shapley import shapley_exact

BUDGETS = (500, 1000, 2000, 5000, 10000, 20000)
ROUND_OFF = 1e-20   # an MSE below this is round-off (an exact method): MSEs are floored here before the ratio
CREDITLIB = {
    "permutation": shapley_permutation,
    "antithetic": shapley_antithetic,
    "stratified": shapley_stratified,
    "kernel": shapley_kernel,
    "leverage": shapley_leverage,
    "regr_adj": lambda game, budget, seed: shapley_regression_adjusted(game, budget, seed=seed, proxy="linear"),
    "regr_sized": lambda game, budget, seed: shapley_regression_adjusted(game, budget, seed=seed, proxy="sized"),
    "regr_forest": lambda game, budget, seed: shapley_regression_adjusted(game, budget, seed=seed, proxy="forest"),
}
SHAPIQ = {  # class name: options (those missing from the installed shapiq are skipped)
    "PermutationSamplingSV": {},
    "StratifiedSamplingSV": {},
    "SVARM": {},
    "KernelSHAP": {"pairing_trick": True},
    "UnbiasedKernelSHAP": {"pairing_trick": True},
    "LeverageSHAP": {"pairing_trick": True},
    "RegressionMSR": {"pairing_trick": True},
}


def games(names):
    """(name, game, exact values) for each game family."""
    made = {
        "pairwise N=12": lambda: pairwise_game(12, seed=0),
        "unanimity N=30": lambda: sparse_unanimity_game(30, 40, 4, 12, seed=0),
        "airport N=30": lambda: airport_game(np.random.default_rng(0).uniform(size=30)),
        "data valuation N=14": lambda: data_valuation_game(14, flip_fraction=0.2, seed=0),
    }
    for name in names:
        game = made[name]()
        exact = game.info.get("shapley_values")
        yield name, game, (np.asarray(shapley_exact(game), float) if exact is None else exact)


def shapiq_approximators(n):
    """shapiq's Shapley-value approximators that the installed version has, by name (empty without shapiq)."""
    try:
        import shapiq.approximator as approximators
    except ImportError:
        return {}
    found = {}
    for name, options in SHAPIQ.items():
        cls = getattr(approximators, name, None)
        if cls is not None:
            found[name] = (cls, options)
    return found


def run_shapiq(cls, options, game, budget, seed):
    """shapiq's estimate and the evaluations it spent (counted on our side)."""
    n = game.n_players
    spent = [0]

    def utility(coalitions):
        coalitions = np.atleast_2d(np.asarray(coalitions, dtype=bool))
        spent[0] += len(coalitions)
        return np.asarray(game(coalitions), dtype=float)

    kwargs = dict(options)
    if cls.__name__ in ("SVARM", "RegressionMSR"):
        kwargs.setdefault("index", "SV")
    approximator = cls(n, random_state=seed, **kwargs)
    values = approximator.approximate(budget=budget, game=utility)
    return np.array([values[(i,)] for i in range(n)]), spent[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--shapiq-cache", help="a JSON file keeping shapiq's MSEs between runs (its results do not "
                        "change when creditlib's do)")
    parser.add_argument("--skip-creditlib", action="store_true", help="only fill the shapiq cache")
    parser.add_argument("--budgets", type=int, nargs="+", default=list(BUDGETS))
    parser.add_argument("--games", nargs="+", default=["pairwise N=12", "unanimity N=30", "airport N=30",
                                                       "data valuation N=14"])
    args = parser.parse_args()
    print(f"MSE over players, mean over seeds 0..{args.seeds - 1}; ratios: creditlib MSE / best shapiq MSE")
    header = None
    cache = {}
    if args.shapiq_cache and os.path.exists(args.shapiq_cache):
        with open(args.shapiq_cache, encoding="utf-8") as f:
            cache = json.load(f)
    for name, game, exact in games(args.games):
        n = game.n_players
        theirs = shapiq_approximators(n)
        if header is None:
            header = ("| game | budget | " + " | ".join(CREDITLIB) + " | creditlib best | shapiq best (MSE) | "
                      "shapiq max spent |")
            print(header)
            print("|" + "---|" * (header.count("|") - 1))
        for budget in args.budgets:
            start = time.perf_counter()
            ours = {}
            for label, estimator in ({} if args.skip_creditlib else CREDITLIB).items():
                errors = [np.mean((estimator(game, budget, seed=s).values - exact) ** 2) for s in range(args.seeds)]
                ours[label] = float(np.mean(errors))
            key = f"{name}|{budget}|{args.seeds}"
            other, spent_max = cache.get(key, ({}, 0))
            for label, (cls, options) in ({} if key in cache else theirs).items():
                errors = []
                for s in range(args.seeds):
                    try:
                        values, spent = run_shapiq(cls, options, game, budget, s)
                    except Exception as error:   # an approximator that fails on this game is reported, not fatal
                        print(f"  shapiq {label} failed on {name} at {budget}: {type(error).__name__}: {error}")
                        break
                    spent_max = max(spent_max, spent)
                    errors.append(np.mean((values - exact) ** 2))
                else:
                    other[label] = float(np.mean(errors))
            if args.shapiq_cache and other and key not in cache:
                cache[key] = (other, spent_max)
                with open(args.shapiq_cache, "w", encoding="utf-8") as f:
                    json.dump(cache, f, indent=1)
            if args.skip_creditlib:
                print(f"{name} {budget}: shapiq {other}", flush=True)
                continue
            if other:
                best_label = min(other, key=other.get)
                best = max(other[best_label], ROUND_OFF)
                cells = " | ".join("exact" if ours[m] <= ROUND_OFF else f"{ours[m] / best:.3g}" for m in CREDITLIB)
                ratio = f"{max(min(ours.values()), ROUND_OFF) / best:.3g}"
                best_label += " (exact)" if best <= ROUND_OFF else ""
                tail = f"{ratio} | {best_label} ({best:.2g}) | {spent_max}{' > budget!' if spent_max > budget else ''}"
            else:
                cells = " | ".join(f"{ours[m]:.2g}" for m in CREDITLIB)
                tail = f"{min(ours.values()):.2g} | shapiq not installed | –"
            print(f"| {name} | {budget} | {cells} | {tail} |  <!-- {time.perf_counter() - start:.0f} s -->",
                  flush=True)


if __name__ == "__main__":
    main()
