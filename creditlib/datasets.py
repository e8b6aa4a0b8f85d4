"""Small data sets that ship with scikit-learn, prepared as the notebooks use them (no downloads)."""
from __future__ import annotations

import numpy as np
import torch


def digit_pair(first: int = 3, second: int = 5, n_train: int = 250, seed: int = 0):
    """Two classes of scikit-learn's 8×8 handwritten digits, pixels in [0, 1], as float64 tensors.

    Label 1 means ``second``, 0 means ``first``. Shuffled with ``seed``; the first
    ``n_train`` images train, the rest test. Returns ``X_train, y_train, X_test, y_test``.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    keep = np.flatnonzero((digits.target == first) | (digits.target == second))
    if n_train >= len(keep):
        raise ValueError(f"Only {len(keep)} images of {first} and {second}; n_train must be smaller.")
    order = np.random.default_rng(seed).permutation(keep)
    X = torch.tensor(digits.data[order] / 16.0, dtype=torch.float64)
    y = torch.tensor((digits.target[order] == second).astype(np.float64))
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]
