"""Leverage SHAP: KernelSHAP's regression with coalitions sampled by leverage score (Musco & Witter, ICLR 2025)."""
from __future__ import annotations

import numpy as np

from ..games import Game
from ._base import ShapleyEstimate
from ._kernel import regression_estimate

__all__ = ["shapley_leverage"]


def shapley_leverage(game: Game, budget: int, *, seed=None, chunk_size: int = 4096) -> ShapleyEstimate:
    """Leverage SHAP: the Shapley-kernel regression with coalitions drawn by their leverage scores.

    Musco & Witter (ICLR 2025, arXiv 2410.01917) remove KernelSHAP's constraint by projection and show that the
    leverage scores of the resulting regression are equal within a coalition size and the same for every size
    (their Lemma 3.3): sampling by leverage score draws each size ``s = 1 .. N−1`` equally often, a coalition
    uniformly within its size, paired with its complement and without replacement (their Algorithm 1), and
    reweights each coalition by its Shapley-kernel weight over its sampling rate. Here sizes the budget can pay
    for are enumerated in full and the rest drawn without replacement, then the constrained weighted least squares
    of :func:`shapley_kernel` is solved. Exact on games with interactions of order at most 2; consistent but not
    unbiased, and without an honest standard error of its own: ``std_errors`` are NaN.

    Parameters
    ----------
    game : Game
        The game; its utility is called on batches of coalitions.
    budget : int
        Maximum number of utility evaluations (at least 4; 2 for a single player).
    seed : None, int or numpy.random.Generator, default=None
        Seed of the random generator (no global state is touched); see
        :func:`creditlib.validation.check_random_state`.
    chunk_size : int, default=4096
        Coalitions per utility call (at least 1); bounds memory, does not change the estimate.

    Returns
    -------
    ShapleyEstimate
        ``values`` (float64), ``std_errors`` NaN (zero for a single player), ``n_evaluations`` at most
        ``budget``, ``method`` ``"leverage"``.

    Raises
    ------
    TypeError
        ``budget`` or ``chunk_size`` not an integer, or a bad ``seed``.
    ValueError
        ``budget`` below the minimum, or ``chunk_size`` < 1.
    """
    n = game.n_players
    share = np.full(n - 1, 1.0 / max(n - 1, 1))
    return regression_estimate(game, budget, seed, chunk_size, share, "shapley_leverage", "leverage")
