"""Helpers for tests and notebooks, not part of the attribution API: problems whose answer we choose."""
from __future__ import annotations

import torch

from .validation import torch_generator

__all__ = ["matrix_with_spectrum"]


def matrix_with_spectrum(eigenvalues, seed=0) -> torch.Tensor:
    """A symmetric float64 matrix with the given eigenvalues and random orthonormal eigenvectors.

    For studying the solvers of :mod:`creditlib.influence` at a chosen condition number
    (notebook 02, Problems 10.1.3–10.1.4) and testing them against a dense solve.

    Parameters
    ----------
    eigenvalues : sequence of float
        The spectrum, one eigenvalue per dimension.
    seed : None, int or numpy.random.Generator, default=0
        Seed of the random rotation (via :func:`creditlib.validation.torch_generator`).

    Returns
    -------
    Tensor of shape (n, n)
        ``Q diag(eigenvalues) Qᵀ`` with Q the orthonormal factor of a Gaussian matrix.
    """
    n = len(eigenvalues)
    Q, _ = torch.linalg.qr(torch.randn(n, n, generator=torch_generator(seed), dtype=torch.float64))
    return Q @ torch.diag(torch.as_tensor(eigenvalues, dtype=torch.float64)) @ Q.T
