"""Datamodels (Section 10.3): predict a model's output from which training points it was trained on.

Ilyas, Park, Engstrom, Leclerc & Madry (2022) train many models, each on a random subset S of the training set
(every point present with probability p), record an output ``f(z; S)`` on each test point z, and fit
``f(z; S) ≈ θ₀ + Σ_i θ_i x_i`` with ``x_i = +1`` if point i is in S and ``−1`` otherwise. Why that works is the
p-biased harmonic analysis of :mod:`creditlib.harmonic`; the training is :mod:`creditlib.subset_training`.

* :func:`subset_masks` draws the subsets; :func:`fit_datamodels` fits the linear datamodels (ℓ1-regularised least
  squares by scikit-learn); :func:`lds` scores any attribution by the linear datamodeling score of Park et al. (2023).

Sign convention: a positive datamodel coefficient means the point's presence *raises* the margin on
the test point (it helps); a positive influence ``I(x, z)`` of :mod:`creditlib.influence` means
up-weighting x *raises the loss* on z (it hurts). Compare datamodels with ``−I``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .validation import as_numpy, check_int, check_masks_outputs, check_open_unit, check_positive, check_random_state

__all__ = ["subset_masks", "Datamodels", "fit_datamodels", "LDSScore", "lds"]


# ---------------------------------------------------------------------------- subsets
def subset_masks(n_train: int, p: float, n_subsets: int, *, seed=None, fixed_size: bool = False) -> np.ndarray:
    """Random training subsets as a boolean ``(n_subsets, n_train)`` array (row k: which points model k sees).

    Parameters
    ----------
    n_train : int
        Number of training points (columns), at least 1.
    p : float
        The subsampling fraction, strictly between 0 and 1.
    n_subsets : int
        Number of subsets (rows), at least 1.
    seed : None, int or numpy.random.Generator
    fixed_size : bool, default=False
        False: each point present independently with probability p (Ilyas et al. 2022; the
        measure B_p of the harmonic analysis). True: every subset has exactly ``round(p·n_train)``
        points, uniformly among such subsets (the LDS convention of TRAK and dattri).

    Returns
    -------
    ndarray of bool, shape (n_subsets, n_train)

    Raises
    ------
    ValueError, TypeError
        ``p`` outside (0, 1), counts that are not positive integers, a bad seed.
    """
    n_train = check_int(n_train, "n_train", low=1)
    n_subsets = check_int(n_subsets, "n_subsets", low=1)
    p = check_open_unit(p, "p")
    rng = check_random_state(seed)
    if not fixed_size:
        return rng.random((n_subsets, n_train)) < p
    size = int(round(p * n_train))
    ranks = np.argsort(rng.random((n_subsets, n_train)), axis=1)      # a uniform permutation per row
    masks = np.zeros((n_subsets, n_train), dtype=bool)
    np.put_along_axis(masks, ranks[:, :size], True, axis=1)
    return masks


# ---------------------------------------------------------------------------- fitting datamodels
@dataclass(frozen=True)
class Datamodels:
    """Linear datamodels ``f(z_j; S) ≈ intercept[j] + Σ_i coef[j, i] x_i`` for every test point.

    Attributes
    ----------
    intercept : ndarray of shape (n_test,)
    coef : ndarray of shape (n_test, n_train)
        In the stated encoding: ``"pm1"``: ``x_i = ±1`` (present/absent), the chapter's convention;
        ``"01"``: ``x_i = 1[i ∈ S]``. The same model has ``coef_01 = 2 · coef_pm1``.
    alpha : ndarray of shape (n_test,)
        The ℓ1 penalty used for each test point (scikit-learn's scaling: ``‖y − Xw‖²/(2n) + α‖w‖₁``).
    encoding : str
    """

    intercept: np.ndarray
    coef: np.ndarray
    alpha: np.ndarray
    encoding: str

    def predict(self, masks) -> np.ndarray:
        """Predicted outputs ``(n_subsets, n_test)`` for boolean masks."""
        return _encode(as_numpy(masks), self.encoding) @ self.coef.T + self.intercept


def _encode(masks: np.ndarray, encoding: str) -> np.ndarray:
    if encoding == "pm1":
        return 2.0 * masks - 1.0
    if encoding == "01":
        return masks.astype(np.float64)
    raise ValueError(f"encoding must be 'pm1' (x_i = ±1, the chapter's) or '01'; got {encoding!r}.")


def fit_datamodels(masks, outputs, *, encoding: str = "pm1", alpha: float | None = None, n_alphas: int = 50,
                   eps: float = 1e-3, val_fraction: float = 0.1, seed=0, max_iter: int = 10_000,
                   lasso_tol: float = 1e-4) -> Datamodels:
    """Fit a linear datamodel per test point by ℓ1-regularised least squares (Ilyas et al. 2022).

    For test point j: minimise ``‖outputs[:, j] − θ₀ − X θ‖² / (2m) + α ‖θ‖₁`` over θ₀, θ, with X the masks
    in ``encoding``. scikit-learn does the fitting (``lasso_path``, ``Lasso``).

    Parameters
    ----------
    masks : array of bool, shape (m, n_train)
    outputs : array, shape (m, n_test) or (m,)
    encoding : {"pm1", "01"}
    alpha : float, optional
        None: choose α per test point on held-out masks along a geometric path from α_max (the smallest α
        giving θ = 0) down to ``eps · α_max`` (``n_alphas`` values), then refit on all masks with that α, as
        Ilyas et al. do. 0: ordinary least squares (``numpy.linalg.lstsq``). A positive number: that α for
        every test point.
    n_alphas, eps : int, float
        The path's length and its ratio (Ilyas et al. use 100 and 1e-6 on their far larger problems).
    val_fraction : float, default=0.1
        Share of the masks held out to choose α (only when ``alpha`` is None).
    seed : None, int or Generator
        Which masks are held out.
    max_iter, lasso_tol : int, float
        Passed to scikit-learn's coordinate descent.

    Returns
    -------
    Datamodels

    Raises
    ------
    ValueError
        Masks not boolean, outputs of the wrong shape or not finite, an unknown encoding, a negative α,
        ``val_fraction`` outside (0, 1), too few masks to hold some out.
    """
    from sklearn.linear_model import Lasso, lasso_path

    masks, outputs = check_masks_outputs(masks, outputs)
    X = _encode(masks, encoding)
    m, n_test = outputs.shape
    if alpha is not None:
        alpha = check_positive(alpha, "alpha", allow_zero=True)
    n_alphas = check_int(n_alphas, "n_alphas", low=1)
    eps = check_open_unit(eps, "eps")
    if alpha == 0:
        design = np.hstack([np.ones((m, 1)), X])
        solution = np.linalg.lstsq(design, outputs, rcond=None)[0]
        return Datamodels(solution[0].copy(), solution[1:].T.copy(), np.zeros(n_test), encoding)
    chosen = np.full(n_test, np.nan if alpha is None else alpha)
    if alpha is None:
        val_fraction = check_open_unit(val_fraction, "val_fraction")
        n_val = int(round(val_fraction * m))
        if n_val < 1 or m - n_val < 2:
            raise ValueError(f"{m} masks with val_fraction={val_fraction} leave {n_val} held out and {m - n_val} to "
                             "fit: give more masks or a fixed alpha.")
        order = check_random_state(seed).permutation(m)
        val, fit = order[:n_val], order[n_val:]
        X_mean = X[fit].mean(axis=0)
        Xc = X[fit] - X_mean
        for j in range(n_test):
            y_mean = outputs[fit, j].mean()
            yc = outputs[fit, j] - y_mean
            alpha_max = np.abs(Xc.T @ yc).max() / len(fit)                   # the smallest α with θ = 0
            if alpha_max == 0:                                                # constant outputs: nothing to fit
                chosen[j] = 1.0
                continue
            grid = alpha_max * np.geomspace(1.0, eps, n_alphas)
            alphas, coefs, _ = lasso_path(Xc, yc, alphas=grid, max_iter=max_iter, tol=lasso_tol)
            predictions = (X[val] - X_mean) @ coefs + y_mean               # (n_val, n_alphas)
            errors = ((predictions - outputs[val, j][:, None]) ** 2).mean(axis=0)
            chosen[j] = alphas[int(np.argmin(errors))]
    intercept, coef = np.empty(n_test), np.empty((n_test, X.shape[1]))
    for j in range(n_test):
        fit_j = Lasso(alpha=chosen[j], max_iter=max_iter, tol=lasso_tol).fit(X, outputs[:, j])
        intercept[j], coef[j] = fit_j.intercept_, fit_j.coef_
    return Datamodels(intercept, coef, chosen, encoding)


# ---------------------------------------------------------------------------- LDS
class LDSScore(NamedTuple):
    """The linear datamodeling score: its mean over test points and each test point's value.

    Attributes
    ----------
    mean : float
        The mean over the test points that have a value (NaN when none has).
    per_test : ndarray of shape (n_test,)
        Each test point's Spearman correlation (NaN where undefined).
    """

    mean: float
    per_test: np.ndarray


def lds(scores, masks, outputs) -> LDSScore:
    """The linear datamodeling score (Park et al. 2023, TRAK): how well additive scores rank subsets.

    For each test point j: the Spearman correlation, over the given (held-out) masks S_k, between the
    additive prediction ``Σ_{i∈S_k} scores[j, i]`` and the actual output ``outputs[k, j]``.

    Parameters
    ----------
    scores : array, shape (n_test, n_train)
        Any attribution scores with "positive helps the output": datamodel coefficients (either encoding:
        Spearman only sees the ranking), ``−I.T`` for an influence matrix ``I`` of :mod:`creditlib.influence`,
        leave-one-out changes in the margin, Banzhaf values.
    masks : array of bool, shape (m, n_train)
    outputs : array, shape (m, n_test)

    Returns
    -------
    LDSScore
        The named pair ``(mean, per_test)``: the mean over test points and the per-test-point values. A test point whose outputs or predictions
        are constant over the masks has no ranking: its value is NaN and the mean skips it.

    Raises
    ------
    ValueError
        Shapes that disagree, fewer than 3 masks.
    """
    from scipy.stats import spearmanr

    masks, outputs = check_masks_outputs(masks, outputs)
    scores = as_numpy(scores, dtype=np.float64)      # e.g. −I.T of an influence matrix on a GPU
    if scores.ndim == 1:
        scores = scores[None, :]
    if scores.shape != (outputs.shape[1], masks.shape[1]):
        raise ValueError(f"scores must have shape (n_test, n_train) = ({outputs.shape[1]}, {masks.shape[1]}); "
                         f"got {scores.shape}.")
    if masks.shape[0] < 3:
        raise ValueError(f"A rank correlation needs at least 3 masks; got {masks.shape[0]}.")
    predicted = masks.astype(np.float64) @ scores.T
    values = np.full(outputs.shape[1], np.nan)
    for j in range(outputs.shape[1]):
        if np.ptp(predicted[:, j]) > 0 and np.ptp(outputs[:, j]) > 0:
            values[j] = spearmanr(predicted[:, j], outputs[:, j]).statistic
    finite = values[np.isfinite(values)]
    return LDSScore(float(finite.mean()) if finite.size else float("nan"), values)


