"""Exact numbers: the one home for converting between ints, floats, ``Fraction`` and sympy ``Rational``.

Exact methods (``exact=True``) compute with ``Fraction`` (fast, stdlib) and hand their results to the reader as sympy
``Rational`` (printable, and what the exercises compare with). Float methods compute in float64.
"""
from __future__ import annotations

import sys
from fractions import Fraction
from numbers import Rational

import numpy as np
import sympy as sp

from .validation import as_numpy

__all__ = ["as_fraction", "is_exact", "exact_or_float", "to_sympy", "rationals_if_exact", "reciprocal",
           "as_value_array"]


def to_sympy(value):
    """A ``Fraction`` as a sympy ``Rational``; anything else through ``sympy.sympify``.

    Parameters
    ----------
    value : Fraction, int, sympy expression or number
        The value.

    Returns
    -------
    sympy.Basic
    """
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    return sp.sympify(value)


def as_fraction(value) -> Fraction:
    """A number as a ``Fraction``: sympy ``Rational`` by its numerator and denominator, ints and numpy
    integers exactly, floats at their exact binary value. The one converter of exact utilities and payments.

    Parameters
    ----------
    value : int, numpy integer, float, Fraction, Decimal or sympy Rational
        The number.

    Returns
    -------
    fractions.Fraction

    Raises
    ------
    TypeError
        ``value`` is not a real number.
    ValueError
        A NaN or infinite float.
    """
    if hasattr(value, "p") and hasattr(value, "q") and getattr(value, "is_Rational", False):   # sympy Rational
        return Fraction(int(value.p), int(value.q))
    return Fraction(value)


def as_value_array(values) -> np.ndarray:
    """Utilities as float64 when they are floats; as an object array of ``Fraction`` when all are exact.

    Parameters
    ----------
    values : sequence of numbers, ndarray or Tensor
        The utilities of a batch of coalitions (a tensor, on any device, is read from a CPU copy).

    Returns
    -------
    ndarray of shape (k,)
        float64, or object of ``Fraction`` when every value is exact (:func:`is_exact`).

    Raises
    ------
    TypeError
        A value that is not a number.
    """
    torch = sys.modules.get("torch")                    # imported only if the caller uses it
    if torch is not None and isinstance(values, torch.Tensor):
        values = as_numpy(values)                       # a tensor (on any device): a CPU copy
    if isinstance(values, np.ndarray) and values.dtype != object:
        return values.astype(np.float64) if values.dtype.kind in "biuf" else values
    items = list(values.tolist() if isinstance(values, np.ndarray) else values)
    if items and all(is_exact(v) for v in items):
        out = np.empty(len(items), dtype=object)
        out[:] = [as_fraction(v) for v in items]
        return out
    try:
        return np.asarray([float(v) for v in items], dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"Utilities must be numbers; got {items[:3]!r}... ({err}).") from None


def is_exact(v) -> bool:
    """Whether ``v`` is an exact number: an int, numpy integer, ``Fraction`` or sympy ``Rational`` (not a bool).

    Parameters
    ----------
    v : object
        The value.

    Returns
    -------
    bool
    """
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, np.integer, Rational)):
        return True
    return bool(getattr(v, "is_Rational", False))  # sympy Integer / Rational


def exact_or_float(x):
    """A number as ``Fraction`` when it is exact (:func:`is_exact`), else as float.

    Parameters
    ----------
    x : number
        The value.

    Returns
    -------
    Fraction or float
    """
    return as_fraction(x) if is_exact(x) else float(x)


def rationals_if_exact(values: np.ndarray, exact: bool) -> np.ndarray:
    """Exact results (``Fraction`` objects) as sympy ``Rational``; float results as float64.

    Parameters
    ----------
    values : ndarray
        Results of a table function: ``Fraction`` objects when ``exact``, else numbers.
    exact : bool
        Which of the two the values are.

    Returns
    -------
    ndarray
        An object array of sympy ``Rational`` (same length) when ``exact``, else a float64 copy.
    """
    if exact:
        return np.array([to_sympy(v) for v in values], dtype=object)
    return values.astype(np.float64)


def reciprocal(k: int, like):
    """``1/k`` in the arithmetic of ``like`` (float, Fraction or sympy).

    Parameters
    ----------
    k : int
        The denominator.
    like : float, Fraction or sympy.Basic
        A value of the arithmetic wanted.

    Returns
    -------
    float, Fraction or sympy.Rational
    """
    if isinstance(like, sp.Basic):
        return sp.Rational(1, k)
    if isinstance(like, Fraction):
        return Fraction(1, k)
    return 1.0 / k
