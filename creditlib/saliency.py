"""Saliency on one input (Section 10.4): the vanilla gradient.

The gradient ``∂F(x)/∂x`` is the first-order (linear) picture of the model at x;
Section 10.4 and Problem 10.5.2 show what it misses.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch.func import grad


def vanilla_gradient(model: Callable[[torch.Tensor], torch.Tensor], x) -> np.ndarray:
    """``∂F(x)/∂x`` for a scalar-valued ``model`` of one input vector, by ``torch.func.grad``.

    The chapter's saliency map (Section 10.4, vanilla gradient) is its absolute value,
    ``S(x) = |∂F(x)/∂x|``; this returns the signed gradient.

    Parameters
    ----------
    model : callable
        ``model(x) -> scalar tensor`` F, differentiable by ``torch.func`` (no in-place
        tricks, no ``.item()``).
    x : array_like
        The input, converted to a float64 tensor.

    Returns
    -------
    ndarray of float64, same shape as ``x``
        The gradient ``∂F(x)/∂x``.

    Raises
    ------
    ValueError
        ``model(x)`` is not a scalar.
    """
    x = torch.as_tensor(np.asarray(x, dtype=np.float64))
    out = model(x)
    if out.ndim != 0:
        raise ValueError(f"The model must return a scalar for one input; got shape {tuple(out.shape)}.")
    return grad(model)(x).detach().numpy()
