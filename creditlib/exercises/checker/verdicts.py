"""Verdicts, and how the checker's messages name values without running a reader's code.

Every check ends in a :class:`Verdict`: a status among :data:`STATUSES` and a message that explains without
giving the answer away. This module also holds what every other part of the checker builds its messages and
verdicts from: :func:`show_value` (a short rendering of a *plain* value: never a reader's object),
:func:`type_name` (read from ``type`` itself, so a metaclass's ``__name__`` never runs), the two exceptions a
reading step raises (:class:`InvalidAnswer` becomes an ``invalid`` verdict, :class:`NotAttemptedAnswer` a
``not attempted`` one), and the two wrappers of an answer the checker keeps unread (:class:`Opaque`,
:class:`FunctionAnswer`), whose type name a message may report.

It imports no other part of the checker; every other module of :mod:`creditlib.exercises.checker` builds on it.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

__all__ = ["CORRECT", "INCORRECT", "INVALID", "UNDECIDED", "NOT_ATTEMPTED", "STATUSES", "Verdict", "not_attempted",
           "InvalidAnswer", "NotAttemptedAnswer", "Opaque", "FunctionAnswer", "shorten", "show_value", "type_name",
           "exception_text", "unreadable_verdict"]


CORRECT, INCORRECT, INVALID, UNDECIDED, NOT_ATTEMPTED = (
    "correct", "incorrect", "invalid", "undecided", "not attempted")
STATUSES = (CORRECT, INCORRECT, INVALID, UNDECIDED, NOT_ATTEMPTED)


_ICONS = {CORRECT: "✅", NOT_ATTEMPTED: "✏️", INVALID: "⚠️", UNDECIDED: "❔"}


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: what every comparison of the checker and ``exercises.check`` return.

    Parameters
    ----------
    status : str
        One of :data:`STATUSES`.
    message : str
        Feedback that explains without revealing the answer.
    exercise_id : str, optional
        The exercise judged (set by :func:`creditlib.exercises.check`; empty
        for a bare comparison).

    Notes
    -----
    ``bool(verdict)`` is ``verdict.passed``; Jupyter shows a verdict as one
    line with an icon.
    """

    status: str
    message: str
    exercise_id: str = ""

    @property
    def passed(self) -> bool:
        """Whether the answer was judged correct."""
        return self.status == CORRECT

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return (f"[{self.exercise_id}] " if self.exercise_id else "") + f"{self.status}: {self.message}"

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        icon = _ICONS.get(self.status, "❌")
        head = f"{self.exercise_id} — {self.status}" if self.exercise_id else self.status
        return f"{icon} **{head}.** {_escape_markdown(self.message)}"


def _escape_markdown(text: str) -> str:
    out = html.escape(text, quote=False)
    for ch in "*_`[]#|":
        out = out.replace(ch, "\\" + ch)
    return out


def not_attempted(expects: str | None = None) -> Verdict:
    """The one "not attempted" verdict (the answer is still the chapters' stub).

    Parameters
    ----------
    expects : str, optional
        The expected form of the answer, appended to the message.

    Returns
    -------
    Verdict
        Status ``not attempted``.
    """
    message = "Replace the ... (or the raise NotImplementedError) with your answer and run the cell again."
    return Verdict(NOT_ATTEMPTED, message + (f" Expected: {expects}" if expects else ""))


class InvalidAnswer(Exception):
    """Raised by the checker's reading steps when an answer cannot be read; becomes an ``invalid`` verdict
    whose message is the exception's."""


class NotAttemptedAnswer(Exception):
    """Raised by the checker's reading steps when the answer is still the chapters' stub; becomes the
    ``not attempted`` verdict (:func:`not_attempted`)."""


def shorten(text: str, limit: int = 80) -> str:
    """``text``, its middle cut out when it is longer than ``limit`` characters.

    Parameters
    ----------
    text : str
        What a message would show.
    limit : int, default=80
        The most characters kept.

    Returns
    -------
    str
        ``text``, or its start, " … " and its last 20 characters.
    """
    return text if len(text) <= limit else text[:limit - 25] + " … " + text[-20:]


def show_value(x: Any) -> str:
    """A short rendering of a *plain* value for a message (never call this on a reader's object).

    Parameters
    ----------
    x : object
        A plain value: a number, a Fraction, a sympy object, a NumPy array, or a tuple or list of them.

    Returns
    -------
    str
        Integers and fractions of more than 60 digits described, arrays printed with NumPy's default
        options (never the kernel's), sympy objects of 500 nodes or more described, all shortened.
    """
    if type(x) is tuple:
        return "(" + ", ".join(show_value(v) for v in x) + ")"
    if type(x) is list:
        return "[" + ", ".join(show_value(v) for v in x) + "]"
    if type(x) is int:
        return str(x) if x.bit_length() < 200 else f"an integer of about {int(x.bit_length() * 0.30103) + 1} digits"
    if type(x) is Fraction or isinstance(x, sp.Rational):
        p, q = int(x.numerator), int(x.denominator)
        if max(p.bit_length(), q.bit_length()) > 200:
            return "a fraction with a numerator or denominator of more than 60 digits"
        return f"{p}/{q}" if q != 1 else str(p)
    if type(x) is float:
        return f"{x:.6g}"
    if type(x) is np.ndarray:
        return np.array2string(x, precision=4, threshold=20, edgeitems=3, max_line_width=75, suppress_small=False,
                               sign="-", floatmode="maxprec", legacy=False, formatter={})   # not the kernel's options
    if isinstance(x, sp.Basic):
        return shorten(sp.sstr(x) if _size(x) < 500 else f"a sympy {type(x).__name__} of {_size(x)}+ nodes")
    return shorten(repr(x))


def _size(expr: sp.Basic, cap: int = 500) -> int:
    count, stack = 0, [expr]
    while stack and count < cap:
        count += 1
        stack.extend(stack.pop().args)
    return count


def type_name(x: Any) -> str:
    """The name of ``x``'s type, read from ``type`` itself (a metaclass's ``__name__`` never runs).

    Parameters
    ----------
    x : object
        Any object, a reader's included; for an :class:`Opaque` or a :class:`FunctionAnswer`, the type name of
        what the reader gave.

    Returns
    -------
    str
        The type's name (``"unknown"`` if it is not a string).
    """
    if type(x) is Opaque or type(x) is FunctionAnswer:
        return x.type_name
    name = type.__dict__["__name__"].__get__(type(x))
    return name if type(name) is str else "unknown"

class Opaque:
    """A reader's object of a type the checker does not read, kept unread: a function answer, or a top-level
    object whose type name a message reports. Only
    :func:`~creditlib.exercises.checker.function_answers.compare_function` unwraps it (to run it in a child)."""

    __slots__ = ("value", "type_name")

    def __init__(self, value: Any, type_name: str) -> None:
        self.value, self.type_name = value, type_name


class FunctionAnswer:
    """A reader's function sent to the judge process as bytes (``cloudpickle``), rebuilt and called only in the
    confined child that runs it (:mod:`~creditlib.exercises.checker.function_runner`); ``type_name`` names what
    the reader gave."""

    __slots__ = ("payload", "type_name")

    def __init__(self, payload: bytes, type_name: str) -> None:
        self.payload, self.type_name = payload, type_name


def unreadable_verdict(what: str, err: Exception) -> Verdict:
    """The verdict when reading an answer failed in a way no check foresaw (not a checker bug: the answer).

    Parameters
    ----------
    what : str
        How the message names the answer (e.g. ``"your answer"``).
    err : Exception
        What reading it raised.

    Returns
    -------
    Verdict
        ``invalid``, naming the exception and the forms the checker reads.
    """
    return Verdict(INVALID, f"{what} could not be read ({type_name(err)}{exception_text(err)}). Give plain ints, "
                            "fractions.Fraction, sympy numbers, symbols and functions in the form below.")


def exception_text(err: BaseException) -> str:
    """``": <the exception's text>"``, shortened, for a message; ``""`` when it has none or ``str`` fails.

    Parameters
    ----------
    err : BaseException
        An exception, perhaps the reader's (its ``__str__`` may raise: that is caught).

    Returns
    -------
    str
    """
    try:
        text = str(err)
        return f": {shorten(text)}" if type(text) is str and text else ""
    except BaseException:
        return ""
