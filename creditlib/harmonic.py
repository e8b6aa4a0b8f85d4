"""Harmonic analysis on the p-biased hypercube: why datamodels work (Section 10.3; Saunshi, Gupta, Braverman &
Arora, ICLR 2023; O'Donnell, *Analysis of Boolean Functions*, 2014, Chapter 8).

A function of which training points are present, ``f(S)``, is a table indexed by bitmask (as in
:mod:`creditlib.shapley`: bit i set ⇔ point i present ⇔ ``x_i = +1``). Its p-biased Fourier expansion
``f = Σ_T f̂(T) φ_T`` has the best linear datamodel ``θ_i = f̂({i})/σ`` as its degree-1 part, and the linear fit's
error is the Fourier weight of degree 2 and higher.

* :func:`p_biased_fourier` and :func:`inverse_p_biased_fourier`, exactly or in floats;
* :func:`fourier_weight_by_degree`;
* :func:`noise_stability` (exact, from the coefficients) and :func:`noise_stability_estimate` (from correlated pairs
  of subsets drawn by :func:`correlated_masks`, without the table).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import numpy as np
import sympy as sp

from .coalitions import check_enumerable, coalition_codes_and_sizes, table_players
from .rationals import to_sympy
from .validation import as_numpy, check_int, check_open_unit, check_positive, check_random_state

__all__ = ["p_biased_fourier", "inverse_p_biased_fourier", "fourier_weight_by_degree", "noise_stability",
           "correlated_masks", "NoiseStabilityEstimate", "noise_stability_estimate"]


# ---------------------------------------------------------------------------- harmonic analysis
def _p_and_sigma(p, exact: bool):
    """``(p, 1 − p, σ)`` as floats, or exactly (sympy) when ``exact``; p may then be a sympy symbol."""
    if exact:
        if isinstance(p, sp.Basic):
            q = p
        elif isinstance(p, Fraction):
            q = to_sympy(p)
        elif isinstance(p, numbers.Real) and not isinstance(p, bool):
            q = sp.Rational(p)                         # a float at its exact binary value
        else:
            raise ValueError(f"p must be a number strictly between 0 and 1; got {p!r}.")
        if q.is_number:
            check_open_unit(float(q), "p")
        return q, 1 - q, 2 * sp.sqrt(q * (1 - q))
    p = check_open_unit(float(p) if isinstance(p, (Fraction, sp.Rational)) else p, "p")
    return p, 1.0 - p, 2.0 * math.sqrt(p * (1.0 - p))


def _as_table(table, exact: bool) -> np.ndarray:
    table = as_numpy(table, dtype=object if exact else None)
    if table.ndim != 1:
        raise ValueError(f"A coalition table is one-dimensional (2^N entries indexed by bitmask); got shape "
                         f"{table.shape}.")
    check_enumerable(table_players(table))
    if exact:
        return np.array([to_sympy(v) for v in table], dtype=object)
    if not np.issubdtype(table.dtype, np.number):
        raise ValueError(f"A float coalition table must hold numbers; got dtype {table.dtype} (exact=True for "
                         "Fractions or sympy values).")
    return table.astype(np.float64)


def p_biased_fourier(table, p, *, exact: bool = False) -> np.ndarray:
    """All ``2^N`` p-biased Fourier coefficients ``f̂(S) = E_{x∼B_p}[f(x) φ_S(x)]`` of a coalition table.

    ``φ_S(x) = Π_{i∈S} (x_i − μ)/σ`` with ``μ = 2p − 1``, ``σ = 2√(p(1−p))`` (Saunshi et al. 2023): an
    orthonormal basis under B_p (``x_i = +1`` with probability p). Entry ``m`` of the input is ``f`` on the
    coalition with bitmask ``m`` (bit i set ⇔ ``x_i = +1``); entry ``m`` of the output is ``f̂(S)`` for the set
    S with bitmask ``m``. A fast transform in ``O(N · 2^N)``: for each coordinate, the pair
    ``(f₋, f₊)`` becomes ``((1−p) f₋ + p f₊, σ/2 · (f₊ − f₋))``.

    Parameters
    ----------
    table : array of 2^N numbers
    p : float (or, with ``exact``, a Fraction, a sympy Rational or a sympy symbol)
    exact : bool, default=False
        Compute in sympy: rationals times square roots (as ``shapley_exact(exact=True)``); symbolic tables
        and a symbolic p work too.

    Returns
    -------
    ndarray of shape (2^N,)
        float64, or sympy objects when ``exact``.

    Raises
    ------
    ValueError
        A table whose length is not a power of two, or too large to enumerate; p outside (0, 1).
    """
    f = _as_table(table, exact)
    p, q, sigma = _p_and_sigma(p, exact)
    n = table_players(f)
    for i in range(n):
        view = f.reshape(-1, 2, 2**i)                           # axis 1 is bit i
        low, high = view[:, 0, :].copy(), view[:, 1, :].copy()
        view[:, 0, :] = q * low + p * high
        view[:, 1, :] = sigma / 2 * (high - low)
    return np.array([sp.expand(v) for v in f], dtype=object) if exact else f


def inverse_p_biased_fourier(coefficients, p, *, exact: bool = False) -> np.ndarray:
    """The table ``f(x) = Σ_S f̂(S) φ_S(x)`` from its p-biased Fourier coefficients (inverse of
    :func:`p_biased_fourier`): per coordinate, ``f₋ = a₀ − p · 2a₁/σ``, ``f₊ = a₀ + (1−p) · 2a₁/σ``.

    Parameters
    ----------
    coefficients : array_like
        ``2^N`` coefficients indexed by the bitmask of S, as returned by :func:`p_biased_fourier`.
    p : float or Fraction
        The bias, strictly between 0 and 1.
    exact : bool, default=False
        Compute in exact sympy arithmetic (object array).

    Returns
    -------
    numpy.ndarray
        The table ``f`` of ``2^N`` values indexed by coalition bitmask.

    Raises
    ------
    ValueError
        When the length is not a power of two or ``p`` is not in (0, 1).
    """
    f = _as_table(coefficients, exact)
    p, q, sigma = _p_and_sigma(p, exact)
    n = table_players(f)
    for i in range(n):
        view = f.reshape(-1, 2, 2**i)
        a0, a1 = view[:, 0, :].copy(), view[:, 1, :].copy()
        view[:, 0, :] = a0 - p * 2 * a1 / sigma
        view[:, 1, :] = a0 + q * 2 * a1 / sigma
    return np.array([sp.expand(v) for v in f], dtype=object) if exact else f


def fourier_weight_by_degree(coefficients) -> np.ndarray:
    """``B_k = Σ_{|S|=k} f̂(S)²`` for ``k = 0 .. N`` (floats, or exact sympy values for an object array).

    By Parseval, ``Σ_k B_k = E_{B_p}[f²]``; the best linear datamodel's mean squared error is
    ``B_{≥2} = Σ_{k≥2} B_k`` (Saunshi et al. 2023).

    Parameters
    ----------
    coefficients : array_like
        ``2^N`` p-biased Fourier coefficients indexed by the bitmask of S.

    Returns
    -------
    numpy.ndarray
        ``[B_0, B_1, …, B_N]``.

    Raises
    ------
    ValueError
        When the length is not a power of two.
    """
    c = as_numpy(coefficients)
    n = table_players(c)
    _, sizes = coalition_codes_and_sizes(n)
    if c.dtype == object:
        weights = [sp.Integer(0)] * (n + 1)
        for value, k in zip(c, sizes):
            weights[k] = weights[k] + value**2
        return np.array([sp.simplify(w) for w in weights], dtype=object)
    return np.bincount(sizes, weights=c.astype(np.float64) ** 2, minlength=n + 1)


def noise_stability(coefficients, rho) -> float:
    """``Stab_ρ[f] = E[f(x) f(x')] = Σ_k ρ^k B_k`` exactly, for x ∼ B_p and x' ρ-correlated with x (each
    coordinate kept with probability ρ, else re-drawn from B_p), from the Fourier coefficients.

    Parameters
    ----------
    coefficients : array_like
        ``2^N`` p-biased Fourier coefficients of f.
    rho : float or sympy expression
        The correlation, in [0, 1] (a sympy symbol gives the polynomial in ρ).

    Returns
    -------
    float or sympy expression
        ``Σ_k ρ^k B_k``.

    Raises
    ------
    ValueError
        When a numeric ``rho`` lies outside [0, 1].
    """
    weights = fourier_weight_by_degree(coefficients)
    if not isinstance(rho, sp.Basic):
        rho = check_positive(rho, "rho", allow_zero=True)
        if rho > 1:
            raise ValueError(f"rho must lie in [0, 1]; got {rho}.")
    return sum(w * rho**k for k, w in enumerate(weights))


def correlated_masks(masks: np.ndarray, p: float, rho: float, rng: np.random.Generator) -> np.ndarray:
    """x' from x: each coordinate kept with probability ρ, otherwise re-drawn from B_p (so x' ∼ B_p too).

    Parameters
    ----------
    masks : numpy.ndarray
        Boolean subsets x, shape ``(m, N)``, drawn from B_p.
    p : float
        Probability that a re-drawn coordinate is present.
    rho : float
        Probability that a coordinate is kept, in [0, 1].
    rng : numpy.random.Generator
        The random stream.

    Returns
    -------
    numpy.ndarray
        Boolean partners x', same shape: ``E[φ_i(x) φ_i(x')] = ρ`` per coordinate (Saunshi et al. 2023).
    """
    redraw = rng.random(masks.shape) >= rho
    return np.where(redraw, rng.random(masks.shape) < p, masks)


@dataclass(frozen=True)
class NoiseStabilityEstimate:
    """Estimated Fourier weights of f from ρ-correlated pairs (arrays over test points, or floats).

    ``weight_above_1`` is ``B_{≥2}``, the best linear datamodel's mean squared error;
    ``r_squared = B₁ / (B₁ + B_{≥2})``; ``n_evaluations`` the number of times f was evaluated (models trained).
    """

    weight_above_1: np.ndarray
    weight_0: np.ndarray
    weight_1: np.ndarray
    second_moment: np.ndarray
    r_squared: np.ndarray
    n_evaluations: int


def noise_stability_estimate(utility: Callable[[np.ndarray], np.ndarray], n_train: int, p: float, *,
                             n_pairs: int, rho: float = 0.1, seed=None) -> NoiseStabilityEstimate:
    """Estimate ``B_{≥2}`` (the best linear datamodel's irreducible error) without fitting any regression.

    Saunshi et al. (2023) read the spectrum off noise stability: ``h(ρ) = E[f(x) f(x')] = Σ_k B_k ρ^k`` for
    ρ-correlated pairs. The three-point estimator below is this library's variant. Draw ``n_pairs``
    subsets x ∼ B_p and, for each, one partner at correlation ρ and one at 2ρ. Then
    ``h(1) = E f²`` (all ``3·n_pairs`` evaluations), ``h(0) = B₀ = (E f)²`` (unbiased, from the independent
    x's), ``B₁ ≈ (4h(ρ) − h(2ρ) − 3h(0)) / (2ρ)`` (the slope at 0 of the parabola through the three points:
    the ``B₂`` term cancels, the bias of ``B₁`` is ``−Σ_{k≥3} (2^{k−1} − 2) ρ^{k−1} B_k = −2ρ²B₃ − 6ρ³B₄ − …``),
    and ``B_{≥2} = h(1) − B₀ − B₁``, whose bias is therefore ``+2ρ²B₃ + 6ρ³B₄ + … ≥ 0``: it overestimates.
    The number of evaluations does not depend on N. f is first centred by its sample mean (the B_k with k ≥ 1
    do not change; the products then have far smaller variance), at the price of a bias of order 1/n_pairs.
    ``weight_0`` is reported as the squared sample mean.

    Parameters
    ----------
    utility : callable
        ``utility(masks)`` for a boolean ``(k, n_train)`` array returns ``(k,)`` or ``(k, n_test)`` values: e.g.
        ``lambda m: train_on_subsets(..., m, ...)``, or a lookup in a coalition table.
    n_train : int
    p : float in (0, 1)
    n_pairs : int, at least 2
    rho : float in (0, 1/2]
        The smaller correlation ρ₀ (2ρ₀ is used too).
    seed : None, int or Generator

    Returns
    -------
    NoiseStabilityEstimate
        With ``n_evaluations = 3 · n_pairs``.

    Raises
    ------
    ValueError
        Bad counts, p or rho; a utility returning the wrong shape.
    """
    n_train = check_int(n_train, "n_train", low=1)
    n_pairs = check_int(n_pairs, "n_pairs", low=2)
    p = check_open_unit(p, "p")
    rho = check_open_unit(rho, "rho")
    if rho > 0.5:
        raise ValueError(f"rho must be at most 1/2 (the estimator also uses 2·rho); got {rho}.")
    rng = check_random_state(seed)
    x = rng.random((n_pairs, n_train)) < p
    near, far = correlated_masks(x, p, rho, rng), correlated_masks(x, p, 2 * rho, rng)
    values = as_numpy(utility(np.concatenate([x, near, far])), dtype=np.float64)
    if values.shape[0] != 3 * n_pairs or values.ndim not in (1, 2):
        raise ValueError(f"utility must return one value (or one row) per mask: shape ({3 * n_pairs},) or "
                         f"({3 * n_pairs}, n_test); got {values.shape}.")
    shift = values.mean(axis=0)          # centre f: B_k (k ≥ 1) do not change, the variance of the products drops
    g = values - shift
    f, f_near, f_far = g[:n_pairs], g[n_pairs:2 * n_pairs], g[2 * n_pairs:]
    h1 = (g**2).mean(axis=0)
    h0 = (f.sum(axis=0) ** 2 - (f**2).sum(axis=0)) / (n_pairs * (n_pairs - 1))
    h_rho, h_2rho = (f * f_near).mean(axis=0), (f * f_far).mean(axis=0)
    b1 = (4 * h_rho - h_2rho - 3 * h0) / (2 * rho)
    above = h1 - h0 - b1                 # B_{≥2} of f − shift, which is that of f
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = b1 / (b1 + above)
    return NoiseStabilityEstimate(above, values.mean(axis=0) ** 2, b1, (values**2).mean(axis=0), r2, 3 * n_pairs)
