"""The chapter's own games (Section 10.2 and its problems): the squared-sum game, dataset pricing, the corner detector
of Section 10.5, a random game given by its dividends, and data valuation of a small classifier.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .game_builders import unanimity_game
from .games import Game, Utility
from .validation import as_numpy

__all__ = ["squared_sum_game", "DATASET_PRICING_TABLE", "dataset_pricing_game", "corner_detector_game",
           "data_valuation_game"]


def squared_sum_game(weights: Sequence[float], players: Sequence[str] | None = None) -> Game:
    """``U(S) = (Σ_{i∈S} w_i)² / N``: every pair interacts, marginal gains stay O(max w) for any N.

    Its dividends are ``c_{i} = w_i²/N`` and ``c_{ij} = 2 w_i w_j/N``, so the Shapley
    values are ``s_i = w_i · Σ_j w_j / N`` in closed form; ``game.dividends`` holds
    them for :func:`creditlib.shapley.shapley_from_dividends`.

    Parameters
    ----------
    weights : sequence of float
        ``w_i`` for each player; their number is N.
    players : sequence of str, optional
        Player names (default ``"0", "1", ...``).

    Returns
    -------
    Game
        Float utilities; ``game.dividends`` holds the ``c_{i}`` and ``c_{ij}`` above.
    """
    w = as_numpy(weights, dtype=np.float64)
    n = len(w)
    game = Game(n, lambda masks: (masks.astype(np.float64) @ w) ** 2 / n, players)
    game.dividends = {(i,): w[i] ** 2 / n for i in range(n)}
    game.dividends.update({(i, j): 2 * w[i] * w[j] / n for i in range(n) for j in range(i + 1, n)})
    return game


# ---------------------------------------------------------------------------- the chapter's games
DATASET_PRICING_TABLE = {(): 0, ("A",): 50, ("B",): 20, ("C",): 25, ("A", "B"): 75, ("A", "C"): 80,
                         ("B", "C"): 90, ("A", "B", "C"): 100}
"""Problem 10.5.1: performance (out of 100) of a model trained on each combination of datasets
A (web text), B (mathematics papers), C (source code)."""


def dataset_pricing_game() -> Game:
    """The dataset-pricing game of Problem 10.5.1 (exact integer utilities).

    Returns
    -------
    Game
        Players ``A, B, C``, utilities from :data:`DATASET_PRICING_TABLE`.
    """
    return Game.from_table(DATASET_PRICING_TABLE, players=["A", "B", "C"])


def corner_detector_game() -> Game:
    """The corner detector of Problem 10.5.2: ``U(S) = 1`` iff ``{P_TL, P_TR, P_BL} ⊆ S``.

    Players are the four pixels of a 2×2 image: ``TL, TR, BL, BR``. It is the
    single unanimity game ``u_{TL,TR,BL}``.

    Returns
    -------
    Game
        Exact 0/1 utilities; ``game.dividends == {(0, 1, 2): 1}``.
    """
    return unanimity_game([0, 1, 2], 4, players=["TL", "TR", "BL", "BR"])


def data_valuation_game(n_train: int = 12, n_test: int = 200, *, flip_fraction: float = 0.0,
                        seed=0) -> Game:
    """Data valuation (Example 10.2.1): ``U(S)`` = test accuracy of a nearest-centroid classifier trained on S.

    Data: scikit-learn's breast-cancer set (ships offline), standardised. The
    players are ``n_train`` training points drawn at random (balanced classes);
    ``flip_fraction`` of them get the wrong label, so data valuation has
    something to find. The model puts a centroid at the mean of each class's
    points in S and predicts the class of the nearest centroid; a class with no
    point in S is never predicted, and ``U(∅)`` is 1/2 (a coin flip). The model
    is trained for all coalitions of a batch at once (a matrix product).

    ``game.info`` holds the data: ``X_train, y_train, y_clean, X_test, y_test`` and
    ``flipped`` (the sorted indices of the points whose label was flipped), as drawn by
    :func:`creditlib.datasets.breast_cancer_players`.

    Parameters
    ----------
    n_train : int, default=12
        Number of players (training points).
    n_test : int, default=200
        Test points on which accuracy is measured.
    flip_fraction : float, default=0.0
        Fraction of training labels flipped, in [0, 1).
    seed : None, int or numpy.random.Generator, default=0
        Seed of the data draw; see :func:`creditlib.validation.check_random_state`.

    Returns
    -------
    Game
        Players ``x0, x1, ...``; float utilities in [0, 1]; coalitions are evaluated in
        chunks of 4096 to bound memory.

    Raises
    ------
    ValueError
        ``flip_fraction`` outside [0, 1).
    """
    from .datasets import breast_cancer_players

    X_train, y_train, y_clean, X_test, y_test, flipped = breast_cancer_players(n_train, n_test, flip_fraction, seed)
    onehot = np.eye(2)[y_train]                                  # (n_train, 2)

    test_sq = (X_test**2).sum(axis=1)                             # ||x||² for each test point

    def utility(masks: np.ndarray) -> np.ndarray:
        m = masks.astype(np.float64)
        counts = m @ onehot                                      # (k, 2) points of each class in S
        dist = []
        for c in (0, 1):                                         # ||x − μ_c||² = ||x||² − 2 x·μ_c + ||μ_c||²
            centroid = ((m * onehot[:, c]) @ X_train) / np.maximum(counts[:, c:c + 1], 1)   # (k, d)
            d = test_sq[None, :] - 2 * centroid @ X_test.T + (centroid**2).sum(axis=1, keepdims=True)
            dist.append(np.where(counts[:, c:c + 1] > 0, d, np.inf))
        prediction = (dist[1] < dist[0]).astype(np.int64)        # (k, n_test); ties go to class 0
        accuracy = (prediction == y_test).mean(axis=1)
        return np.where(counts.sum(axis=1) > 0, accuracy, 0.5)

    game = Game(n_train, _in_batches(utility, 4096), [f"x{i}" for i in range(n_train)])
    game.info.update(X_train=X_train, y_train=y_train, y_clean=y_clean, X_test=X_test, y_test=y_test,
                     flipped=flipped)
    return game


def _in_batches(utility: Utility, batch: int) -> Utility:
    """Evaluate a memory-hungry vectorised utility in chunks of ``batch`` coalitions."""
    def batched(masks: np.ndarray) -> np.ndarray:
        return np.concatenate([utility(masks[i:i + batch]) for i in range(0, len(masks), batch)]) \
            if len(masks) else np.zeros(0)
    return batched
