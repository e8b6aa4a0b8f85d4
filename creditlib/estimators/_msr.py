"""Data Banzhaf's maximum-sample-reuse (MSR) estimator (Wang & Jia, AISTATS 2023)."""
from __future__ import annotations

import numpy as np

from ..validation import check_masks_outputs

__all__ = ["banzhaf_msr"]


# ---------------------------------------------------------------------------- Data Banzhaf from subsets
def banzhaf_msr(masks, utilities) -> np.ndarray:
    """The maximum-sample-reuse estimator of Banzhaf values (Wang & Jia 2023): for each player i, the mean
    utility over the masks that contain i minus the mean over the masks that do not. Every evaluation updates
    every player. With uniform random masks (p = ½) it is unbiased up to the chance that a side is empty.

    Parameters
    ----------
    masks : array of bool, shape (m, N)
    utilities : array, shape (m,)

    Returns
    -------
    ndarray of shape (N,)

    Raises
    ------
    ValueError
        Shapes that disagree, or a player that is present in every mask or in none.
    """
    masks, utilities = check_masks_outputs(masks, utilities)
    u = utilities[:, 0]
    inside = masks.sum(axis=0)
    if (inside == 0).any() or (inside == len(u)).any():
        raise ValueError("Every player must be present in some masks and absent from others.")
    return (masks.T @ u) / inside - ((~masks).T @ u) / (len(u) - inside)
