"""Reading answers, step 2: a plain copy read as what the exercise asks for (a number, an expression, a vector).

The readers here take a plain copy (:mod:`~creditlib.exercises.checker.plain_copy`) and return plain sympy
objects or lists, or raise :class:`~creditlib.exercises.checker.verdicts.InvalidAnswer` with a message that
says what is wrong with the form (a string, None, a boolean, a wrong shape, a symbol the exercise does not
define). An expression is re-evaluated from its leaves and its integrals, sums and products are evaluated
(:func:`~creditlib.exercises.checker.deciding.evaluated`), after powers too large to compute with are refused.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Sequence

import numpy as np
import sympy as sp

from .deciding import evaluated, reevaluated
from .plain_copy import (MAX_NODES, NP_FLOATS, NP_INTS, SYMPY_CLASSES, SYMPY_MATRICES, is_one_of, matrix_entries,
                         plain_array, rebuild_sympy, refuse_instance_attributes, subclass_of, tensor_type)
from .verdicts import InvalidAnswer, NotAttemptedAnswer, shorten, show_value, type_name

__all__ = ["STRING_HINT", "is_stub", "reject_non_answers", "read_sympy", "read_expression", "read_number",
           "read_list", "fold"]

STRING_HINT = ("Strings are never evaluated. Give a number or a sympy expression instead, "
               "e.g. sp.Rational(1, 3) rather than '1/3', or sp.Symbol('x')**2 rather than 'x**2'.")
"""What a message adds when an answer is a string."""


def is_stub(value: Any) -> bool:
    """Whether ``value`` is still the chapters' stub ``...`` (the exercise is not attempted).

    Parameters
    ----------
    value : object
        A reader's answer.

    Returns
    -------
    bool
        ``value is Ellipsis``.
    """
    return value is Ellipsis


def reject_non_answers(value: Any, what: str) -> None:
    """The checks every reader of answers starts with: the stub, None, and strings (never evaluated).

    Parameters
    ----------
    value : object
        A plain copy (or, in the child that runs a function, a function's output).
    what : str
        How the message names the answer.

    Raises
    ------
    NotAttemptedAnswer
        For the stub ``...``.
    InvalidAnswer
        For None, a str or bytes.
    """
    if value is Ellipsis:
        raise NotAttemptedAnswer()
    if value is None:
        raise InvalidAnswer(f"{what} is None: did the cell assign it (and does your function return it)?")
    if type(value) is str or type(value) is bytes:
        raise InvalidAnswer(f"{what} is the string {shorten(repr(value), 40)}. {STRING_HINT}")


def read_sympy(value: Any, what: str = "your answer") -> sp.Basic:
    """Read one number, sympy object or 1×1 matrix into a plain sympy object (floats become ``sp.Float``).

    Parameters
    ----------
    value : object
        A reader's answer: int, Fraction, float, NumPy scalar, sympy object, 1×1 matrix or a one-element array.
    what : str
        How the message names the answer (e.g. ``"your answer"``).

    Returns
    -------
    sympy.Basic

    Raises
    ------
    InvalidAnswer
        When the value is not one number or sympy object (a string, None, a list, a boolean...).
    """
    reject_non_answers(value, what)
    t = type(value)
    if t is bool or t is np.bool_:
        raise InvalidAnswer(f"{what} is a boolean ({bool(value)}); a number was expected.")
    if t is int or is_one_of(t, NP_INTS):
        return sp.Integer(int(value))
    if t is Fraction:
        p, q = value.numerator, value.denominator
        if type(p) is not int or type(q) is not int:
            raise InvalidAnswer(f"{what} is a Fraction whose numerator or denominator is not an int.")
        return sp.Rational(p, q)
    if t is float or is_one_of(t, NP_FLOATS):
        f = float(value)
        if not math.isfinite(f):
            raise InvalidAnswer(f"{what} is {f}, not a finite number.")
        return sp.Float(f)
    if t is complex or is_one_of(t, (np.complex64, np.complex128)):
        raise InvalidAnswer(f"{what} is a complex number; a real number was expected.")
    if t is np.ndarray or (tensor_type() is not None and t is tensor_type()):
        array = plain_array(value, what)
        if array.size != 1:
            raise InvalidAnswer(f"{what} has shape {array.shape}; one number was expected.")
        return read_sympy(array.reshape(-1).tolist()[0], what)
    if is_one_of(t, SYMPY_MATRICES):
        rows, cols, entries = matrix_entries(value, what)
        if (rows, cols) != (1, 1):
            raise InvalidAnswer(f"{what} is a matrix of shape {(rows, cols)}; one number or expression was expected.")
        return read_sympy(entries[0], what)
    if SYMPY_CLASSES.get(id(t)) is t:
        return rebuild_sympy(value, [MAX_NODES])
    if subclass_of(t, (int, float, Fraction)) is not None:
        raise InvalidAnswer(f"{what} has type {type_name(value)}, a subclass of a number type; give a plain "
                            "int, Fraction or sympy number.")
    raise InvalidAnswer(f"{what} has type {type_name(value)}; a number or a sympy expression was expected.")


def _is_expression(expr: sp.Basic) -> bool:
    """A scalar sympy expression (a Lambda or a matrix expression is an Expr to sympy, not to us)."""
    return isinstance(expr, sp.Expr) and not isinstance(expr, (sp.Lambda, sp.MatrixExpr))


def read_expression(value: Any, symbols: Sequence[sp.Symbol], what: str = "your expression") -> sp.Expr:
    """Read an expression and map its symbols, by name, to ``symbols``; evaluates Integral/Sum/Product.

    Parameters
    ----------
    value : object
        A reader's expression.
    symbols : sequence of sympy.Symbol
        The exercise's symbols; the reader's symbols of the same names are replaced by them.
    what : str
        How the message names the answer (e.g. ``"your answer"``).

    Returns
    -------
    sympy.Expr
        Real, finite, in ``symbols`` only.

    Raises
    ------
    InvalidAnswer
        When it is not a real expression in ``symbols`` (another symbol, an equation, infinity, ``I``).
    """
    expr = read_sympy(value, what)
    if not _is_expression(expr):
        raise InvalidAnswer(f"{what} is a sympy {type(expr).__name__}, not an expression (an equation, a set, a "
                            "Lambda?). Give the expression itself.")
    by_name = {s.name: s for s in symbols}
    expr = reevaluated(expr, what)           # before any rebuilding: it refuses huge powers and exposes 0·∞
    expr = evaluated(expr.xreplace({s: by_name[s.name] for s in expr.free_symbols if s.name in by_name}), what)
    unknown = sorted(s.name for s in expr.free_symbols if s.name not in by_name)
    if unknown:
        raise InvalidAnswer(f"{what} uses the symbol(s) {unknown}, which this exercise does not define; "
                            f"use only {sorted(by_name)}.")
    if isinstance(expr, sp.Piecewise) and len(expr.args) > 1 and (
            expr.has(sp.Sum, sp.Integral, sp.Product, sp.oo, -sp.oo, sp.zoo, sp.nan)):
        conditions = "; ".join(f"{sp.sstr(c)}" for _, c in expr.args[:-1])
        raise InvalidAnswer(f"{what} is a Piecewise: sympy found that its value depends on a condition "
                            f"({shorten(conditions)}), and it stays unevaluated (a sum or integral that does not "
                            "converge) otherwise. Give the expression for the case the exercise asks about: "
                            "expr.args[0][0] is the first piece.")
    if expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise InvalidAnswer(f"{what} contains nan or infinity ({show_value(expr)}).")
    if expr.has(sp.I):
        raise InvalidAnswer(f"{what} contains the imaginary unit I; a real expression was expected.")
    return expr


def read_number(value: Any, what: str = "your answer") -> sp.Expr:
    """Read one real number: exact, a float, or a constant sympy expression (integrals and sums evaluated).

    Parameters
    ----------
    value : object
        A reader's number.
    what : str
        How the message names the answer (e.g. ``"your answer"``).

    Returns
    -------
    sympy.Expr
        A constant real number.

    Raises
    ------
    InvalidAnswer
        When the value is not a constant real number.
    """
    number = evaluated(read_sympy(value, what), what)
    if not _is_expression(number) or number.free_symbols or number.has(sp.nan, sp.zoo, sp.oo, -sp.oo, sp.I):
        raise InvalidAnswer(f"{what} ({show_value(number)}) is not a real number (a symbol, infinity or a "
                            "non-expression?).")
    return number


def read_list(value: Any, length: int, labels: Sequence[str] | None = None, what: str = "your answer") -> list:
    """Read a vector answer: list, tuple, 1-D array or tensor, n×1 sympy Matrix, or a dict keyed by ``labels``.

    Parameters
    ----------
    value : object
        A reader's vector.
    length : int
        The number of entries expected.
    labels : sequence of str, optional
        Entry names (for a dict answer and for messages).
    what : str
        How the message names the answer (e.g. ``"your answer"``).

    Returns
    -------
    list
        The ``length`` entries, not yet read as numbers.

    Raises
    ------
    InvalidAnswer
        When the value is not a vector of ``length`` entries.
    """
    reject_non_answers(value, what)
    t = type(value)
    names = f" ({', '.join(labels)})" if labels else ""
    if t is dict:
        if labels is None:
            raise InvalidAnswer(f"{what} is a dict; give a list of {length} values instead.")
        folded = {fold(label): label for label in labels}
        by_label = {}
        for key, item in dict.items(value):
            if type(key) is not str or fold(key) not in folded:
                raise InvalidAnswer(f"{what} is a dict with a key that is not one of {list(labels)}.")
            if folded[fold(key)] in by_label:
                raise InvalidAnswer(f"{what} has two keys for {folded[fold(key)]}.")
            by_label[folded[fold(key)]] = item
        missing = [label for label in labels if label not in by_label]
        if missing:
            raise InvalidAnswer(f"{what} is a dict without the key(s) {missing}; give exactly the keys {list(labels)}.")
        return [by_label[label] for label in labels]
    if is_one_of(t, SYMPY_MATRICES):
        rows, cols, items = matrix_entries(value, what)
        if 1 not in (rows, cols):
            raise InvalidAnswer(f"{what} is a {(rows, cols)} matrix; a vector of {length} values was expected.")
    elif t is np.ndarray or (tensor_type() is not None and t is tensor_type()):
        array = plain_array(value, what)
        if array.ndim == 2 and 1 in array.shape:          # a row or a column, as for a sympy Matrix
            array = array.reshape(-1)
        if array.ndim != 1:
            raise InvalidAnswer(f"{what} has shape {array.shape}; a 1-D vector of {length} values was expected.")
        items = array.tolist()
    elif t is list or t is tuple:
        items = list(value)
    elif t is sp.Tuple:
        refuse_instance_attributes(value, (), what)
        items = list(value.args)
    else:
        raise InvalidAnswer(f"{what} has type {type_name(value)}; a list of {length} values{names} was expected.")
    if len(items) != length:
        raise InvalidAnswer(f"{what} has {len(items)} values; expected {length}{names}.")
    return items


def fold(name: str) -> str:
    """Names compare with case, surrounding spaces, '_' and '-' folded: ' Null_player' == 'null player'.

    Parameters
    ----------
    name : str
        A name as a reader typed it.

    Returns
    -------
    str
        Lower case, single spaces, '_' and '-' as spaces.
    """
    return " ".join(name.replace("_", " ").replace("-", " ").split()).lower()
