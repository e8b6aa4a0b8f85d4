"""Small data sets that ship with scikit-learn, prepared as the notebooks and games use them (no downloads).

* :func:`digit_pair`: two classes of the 8×8 digits, as float64 torch tensors (influence notebooks).
* :func:`digits_images`: all ten digits as ``(n, 1, 8, 8)`` images (the saliency notebook's CNN).
* :func:`breast_cancer_players`: a balanced draw of training points with optional label noise, as
  NumPy arrays (the data behind :func:`creditlib.chapter_games.data_valuation_game`).
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .validation import check_random_state

__all__ = ["Split", "NoisyLabels", "digit_pair", "digits_images", "breast_cancer_players"]


class Split(NamedTuple):
    """A training set and a test set: ``X_train, y_train, X_test, y_test = digit_pair()`` unpacks it.

    Attributes
    ----------
    X_train, y_train, X_test, y_test : Tensor
        Inputs and labels of each part.
    """

    X_train: Any
    y_train: Any
    X_test: Any
    y_test: Any


class NoisyLabels(NamedTuple):
    """A training set with some labels flipped, its clean labels, a test set and which labels were flipped.

    Attributes
    ----------
    X_train, y_train : ndarray
        Training inputs and their (possibly flipped) labels.
    y_clean : ndarray
        The training labels before flipping.
    X_test, y_test : ndarray
        The test set.
    flipped : ndarray of int
        Indices of the flipped training labels, sorted.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    y_clean: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    flipped: np.ndarray


def digit_pair(first: int = 3, second: int = 5, n_train: int = 250, seed=0) -> Split:
    """Two classes of scikit-learn's 8×8 handwritten digits, pixels in [0, 1], as float64 tensors.

    Label 1 means ``second``, 0 means ``first``. Shuffled with ``seed``; the first
    ``n_train`` images train, the rest test.

    Parameters
    ----------
    first, second : int, default=3, 5
        The two digits (0 .. 9) to keep.
    n_train : int, default=250
        Training images; the remaining images of the two classes are the test set.
    seed : None, int or numpy.random.Generator, default=0
        Seed of the shuffle; see :func:`creditlib.validation.check_random_state`.

    Returns
    -------
    Split
        ``(X_train, y_train, X_test, y_test)``, float64 CPU tensors: images of shape ``(n, 64)``, labels of shape
        ``(n,)`` in {0., 1.}.

    Raises
    ------
    ValueError
        ``n_train`` is not smaller than the number of images of the two digits.
    """
    import torch
    from sklearn.datasets import load_digits

    digits = load_digits()
    keep = np.flatnonzero((digits.target == first) | (digits.target == second))
    if n_train >= len(keep):
        raise ValueError(f"Only {len(keep)} images of {first} and {second}; n_train must be smaller.")
    order = check_random_state(seed).permutation(keep)
    X = torch.tensor(digits.data[order] / 16.0, dtype=torch.float64)
    y = torch.tensor((digits.target[order] == second).astype(np.float64))
    return Split(X[:n_train], y[:n_train], X[n_train:], y[n_train:])


def breast_cancer_players(n_train: int = 12, n_test: int = 200, flip_fraction: float = 0.0, seed=0) -> NoisyLabels:
    """The data of the data-valuation game (Example 10.2.1): scikit-learn's breast-cancer set, standardised,
    ``n_train`` training points with balanced classes, ``n_test`` test points, and optional label flips.

    The draws, in this order from one generator: a permutation of all 569 points; the first
    ``n_train // 2`` of class 1 and ``(n_train + 1) // 2`` of class 0 in it, shuffled, are the
    training points; ``n_test`` test points from the rest, without replacement; then
    ``round(flip_fraction · n_train)`` training points whose label is flipped. The features are
    standardised with statistics of the whole set.

    Parameters
    ----------
    n_train : int, default=12
        Training points (the players of the game).
    n_test : int, default=200
        Test points, disjoint from the training points.
    flip_fraction : float, default=0.0
        Fraction of training labels to flip, in [0, 1).
    seed : None, int or numpy.random.Generator, default=0
        Seed of all the draws; see :func:`creditlib.validation.check_random_state`.

    Returns
    -------
    NoisyLabels
        The named tuple of these six arrays:

    X_train : ndarray of float64, shape (n_train, 30)
    y_train : ndarray of int64, shape (n_train,)
        Labels in {0, 1} after the flips.
    y_clean : ndarray of int64, shape (n_train,)
        The true labels.
    X_test : ndarray of float64, shape (n_test, 30)
    y_test : ndarray of int64, shape (n_test,)
    flipped : ndarray of int64
        The sorted indices (into the training points) of the flipped labels.

    Raises
    ------
    ValueError
        ``flip_fraction`` is outside [0, 1).
    """
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    if not 0.0 <= flip_fraction < 1.0:
        raise ValueError(f"flip_fraction must be in [0, 1), got {flip_fraction}.")
    rng = check_random_state(seed)
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    order = rng.permutation(len(y))
    per_class = [order[y[order] == c][: (n_train + 1 - c) // 2] for c in (0, 1)]
    train = rng.permutation(np.concatenate(per_class))
    rest = np.setdiff1d(order, train)
    test = rng.choice(rest, size=n_test, replace=False)
    X_train, y_clean, X_test, y_test = X[train], y[train], X[test], y[test]
    y_train = y_clean.copy()
    flipped = rng.choice(n_train, size=int(round(flip_fraction * n_train)), replace=False)
    y_train[flipped] = 1 - y_train[flipped]
    return NoisyLabels(X_train, y_train, y_clean, X_test, y_test, np.sort(flipped))


def digits_images(test_fraction: float = 0.25, seed=0) -> Split:
    """scikit-learn's 8×8 digits as float64 images ``(n, 1, 8, 8)`` in [0, 1], shuffled and split.

    Parameters
    ----------
    test_fraction : float, default=0.25
        Share of the images held out, in (0, 1).
    seed : None, int or numpy.random.Generator, default=0
        Seed of the shuffle.

    Returns
    -------
    Split
        ``(X_train, y_train, X_test, y_test)``: images and int64 labels 0–9 (CPU tensors).
    """
    import torch
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = check_random_state(seed).permutation(len(digits.target))
    X = torch.tensor(digits.images[order] / 16.0, dtype=torch.float64)[:, None]
    y = torch.tensor(digits.target[order], dtype=torch.long)
    n_test = int(round(test_fraction * len(y)))
    return Split(X[n_test:], y[n_test:], X[:n_test], y[:n_test])
