"""Function answers: a reader's function compared with ``creditlib``'s on random inputs.

:func:`compare_function` draws the inputs (a fresh seed per call, reported; a given seed is tried *and* a
fresh set, so a seed never earns ``correct`` alone), has the reader's function run on them in a confined child
(:mod:`~creditlib.exercises.checker.function_runner`), computes the reference itself and compares. It never
runs the reader's code: the child sends plain JSON back. The readers of a function's output
(:func:`read_values`, :func:`read_float_array`, :func:`read_exact_tuple`) run in that child, on the reader's
object; the comparisons (:func:`make_allclose`, :func:`make_exact_equal`) run here, on plain values.
"""
from __future__ import annotations

import secrets
import time
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np
import sympy as sp

from .function_runner import call_in_child
from .plain_copy import NP_FLOATS, NP_INTS, plain_array
from .reading import read_list, read_sympy, reject_non_answers
from .verdicts import (CORRECT, INCORRECT, INVALID, FunctionAnswer, InvalidAnswer, Opaque, Verdict, not_attempted,
                       shorten, show_value, type_name)
from .worker import WORKER_SHARE, CheckSettings

__all__ = ["compare_function", "read_values", "read_float_array", "read_exact_tuple", "make_allclose",
           "make_exact_equal"]

# ---------------------------------------------------------------------------- comparing functions
def compare_function(func: Any, reference: Callable, draw_input: Callable[[np.random.Generator], tuple], *,
                     read_output: Callable[[Any], Any], same: Callable[[Any, Any], bool], n_trials: int = 20,
                     seed: int | None = None, show_expected: bool = True, labels: Sequence[str] | None = None,
                     what: str = "your function") -> Verdict:
    """Call the reader's function on ``n_trials`` fresh random inputs, then compare with the reference.

    Inputs are drawn with a fresh seed per call (reported, so a failure can be
    reproduced with ``check(..., seed=...)``). A given ``seed`` draws its inputs
    again *and* a fresh set: it reproduces a failure but never earns ``correct``
    alone (the messages show the reference's outputs, so a table of them would
    otherwise pass). The reader's function runs in a confined process of its
    own (:func:`~creditlib.exercises.checker.function_runner.call_in_child`), which reads each output into
    plain values with ``read_output`` (raising ``InvalidAnswer``) and sends them as
    JSON; this process never runs the reader's code: it computes the reference
    and decides with ``same(plain, expected)``. A function still raising
    ``NotImplementedError`` is "not attempted"; one running past the time limit
    is incorrect. With ``show_expected=False`` (when the reference's output *is*
    the answer) a failure names the wrong components (``labels``) instead of
    showing the reference's output.

    Parameters
    ----------
    func : callable
        The reader's function (not called in this process).
    reference : callable
        ``creditlib``'s implementation.
    draw_input : callable
        ``draw_input(rng) -> args``: one random input.
    read_output : callable
        Reads the reader's output into plain values (e.g. :func:`read_float_array`).
    same : callable
        ``same(plain, expected) -> bool`` (e.g. :func:`make_allclose`).
    n_trials : int, default=20
        Random inputs tried.
    seed : int, optional
        Seed of inputs to draw again (tried before a fresh set); ``None``: only a fresh set, whose seed is reported.
    show_expected : bool, default=True
        Show the reference's output when they differ.
    labels : sequence of str, optional
        Names of the output's components (with ``show_expected=False``).
    what : str
        How the message names the answer (e.g. ``"your answer"``).

    Returns
    -------
    Verdict
        ``correct`` when every input agrees; otherwise the first input where the function
        differs, raises, runs too long or returns something unreadable.
    """
    given = type_name(func)
    if type(func) is Opaque:
        func = func.value
    if func is Ellipsis:
        return not_attempted()
    if not (callable(func) or type(func) is FunctionAnswer):
        return Verdict(INVALID, f"{what} should be a function (pass it without calling it); got {given}.")
    asked = seed if seed is not None else CheckSettings.seed
    seeds = ([asked] if asked is not None else []) + [secrets.randbelow(2**31)]   # a seed alone never passes
    inputs, seed_of = [], []
    for s in seeds:
        rng = np.random.default_rng(s)
        inputs += [draw_input(rng) for _ in range(n_trials)]
        seed_of += [s] * n_trials

    def redo(index: int) -> str:
        return (f"(inputs drawn with seed {seed_of[index]}; check(..., seed={seed_of[index]}) draws them again)")

    limit = max(0.05, min(CheckSettings.deadline - time.monotonic(), CheckSettings.seconds * WORKER_SHARE)
                - 0.2 * CheckSettings.seconds)
    records, finished = call_in_child(func, inputs, read_output, limit)
    outputs = []
    for index, (args, record) in enumerate(zip(inputs, records)):
        kind = record[0]
        if kind == "output":
            outputs.append(record[1])
        elif kind == "not attempted" and index == 0:         # the stub raises at once; a function that raises
            return not_attempted()                           # NotImplementedError later has been attempted
        elif kind == "not attempted":
            return Verdict(INCORRECT, f"{what} raised NotImplementedError on input {show_value(args)} {redo(index)}.")
        elif kind == "invalid":
            return Verdict(INVALID, f"{what} returned something the checker cannot read on input {show_value(args)}: "
                                    f"{shorten(record[1], 300)}")
        else:
            confined = (" (The checker runs your function where it may not write files, start processes, send "
                        "signals or open sockets: compute and return the result instead.)"
                        if record[1] in ("PermissionError", "BlockingIOError") or "Operation not permitted" in record[2]
                        else "")
            return Verdict(INCORRECT, f"{what} raised {shorten(record[1], 60)}{shorten(record[2], 300)} on input "
                                      f"{show_value(args)} {redo(index)}.{confined}")
    if len(outputs) < len(inputs):
        index = len(outputs)
        args = show_value(inputs[index])
        if not finished:
            return Verdict(INCORRECT, f"{what} took longer than {limit:.2g} s on input {args} (an endless loop?) "
                                      f"{redo(index)}.")
        return Verdict(INCORRECT, f"{what} ended its process (os._exit, a crash, out of memory?) on input {args} "
                                  f"{redo(index)}.")
    for index, (args, got) in enumerate(zip(inputs, outputs)):
        expected = reference(*args)
        if not same(got, expected):
            if show_expected:
                shown = f", the reference returns {show_value(expected)}"
            else:
                wrong = [n for n, g, e in zip(labels or [], got, expected) if not same((g,), (e,))]
                shown = f": {' and '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong" if wrong else ""
            return Verdict(INCORRECT, f"{what} is wrong on input {show_value(args)}: it returned "
                                      f"{show_value(got)}{shown} {redo(index)}." + _array_hint(got, expected))
    if asked is not None:
        return Verdict(CORRECT, f"Correct on the {n_trials} inputs of seed {asked} and on {n_trials} fresh random "
                                "inputs.")
    return Verdict(CORRECT, f"Correct on all {n_trials} random inputs.")


def _array_hint(got: Any, expected: Any) -> str:
    """Why an array output that looks right is not: its shape, or float32 round-off ("" otherwise)."""
    if type(got) is not np.ndarray or got.dtype == object:
        return ""
    try:
        want = np.asarray(expected.detach().cpu().numpy() if hasattr(expected, "detach") else expected,
                          dtype=np.float64)
    except (TypeError, ValueError):
        return ""
    if got.shape != want.shape:
        same_size = got.size == want.size
        return (f" Its shape is {got.shape}, the expected shape {want.shape}"
                + (" (the same numbers? return a 1-D array: .reshape(-1))." if same_size else "."))
    if np.all(np.isfinite(got)) and np.allclose(got, want, rtol=1e-4, atol=1e-6):
        return (" The values agree only to about single precision: compute in float64 "
                "(torch.float64 tensors, torch.set_default_dtype(torch.float64), or NumPy's default).")
    return ""


# ---------------------------------------------------------------------------- reading a function's output, in the child
_PLAIN_NUMBERS = (int, float) + NP_INTS + NP_FLOATS
"""Python and NumPy integers and floats, by exact type (``bool`` is not a number here)."""


def read_values(got) -> np.ndarray:
    """A function's output as a float64 array: the one rule for every exercise whose answer returns an array.

    A NumPy array, a ``torch.Tensor``, a number (for a 0-d output) or a list or tuple of any of these (nested
    for a 2-D output: ``out.tolist()``, ``list(out)``, ``[f(x) for x in xs]``) are the same answer, read to the
    same array; the exercise's comparison then checks its shape and values. Types are decided by identity
    (``type(x) is list``), never by the reader's objects. Runs in the checker's child process, on the reader's
    object.

    Parameters
    ----------
    got : object
        What the reader's function returned.

    Returns
    -------
    ndarray of float64
        The values.

    Raises
    ------
    InvalidAnswer
        The output is not numbers in one of these forms, or its lists are ragged (the message says what to return).
    """
    return _stacked(got, "the returned value", 0)


def _stacked(x: Any, what: str, depth: int) -> np.ndarray:
    t = type(x)
    if t is list or t is tuple:
        if depth > 8:
            raise InvalidAnswer(f"{what} is a list nested more than 8 deep; return an array of numbers.")
        parts = [_stacked(v, what, depth + 1) for v in x]
        if not parts:
            return np.zeros(0)
        if any(part.shape != parts[0].shape for part in parts):
            raise InvalidAnswer(f"{what} is a ragged {t.__name__}: its entries have the shapes "
                                f"{sorted({part.shape for part in parts})[:4]}; return an array of numbers.")
        return np.stack(parts)
    if t in _PLAIN_NUMBERS:
        try:
            return np.array(float(x))
        except OverflowError:
            raise InvalidAnswer(f"{what} contains an integer too large for a float.") from None
    return read_float_array(x, what)


def read_exact_tuple(value: Any, length: int, what: str = "it") -> tuple:
    """A function's output read as ``length`` exact numbers (Fractions); floats are refused with a hint.

    Parameters
    ----------
    value : object
        The output of a reader's function.
    length : int
        The number of entries expected.
    what : str
        How the message names the answer (e.g. ``"your answer"``).

    Returns
    -------
    tuple of Fraction

    Raises
    ------
    InvalidAnswer
        When an entry is a float or not rational (the message says how to stay exact).
    """
    items = read_list(value, length, what=what)
    out = []
    for v in items:
        number = read_sympy(v, what)
        if isinstance(number, sp.Float) or (isinstance(number, sp.Basic) and number.has(sp.Float)):
            raise InvalidAnswer(f"{what} contains the float {float(number):.6g}; the inputs are exact Fractions and "
                                "+, −, * and / keep them exact: avoid float constants such as 0.5.")
        if not number.is_Rational:
            raise InvalidAnswer(f"{what} contains {show_value(number)}, which is not an exact rational number.")
        out.append(Fraction(int(number.p), int(number.q)))
    return tuple(out)


def read_float_array(value: Any, what: str = "it") -> np.ndarray:
    """A function's output read as a float64 array (tensors and numeric arrays; a list gets a hint).

    Parameters
    ----------
    value : object
        The output of a reader's function.
    what : str
        How the message names the answer (e.g. ``"your answer"``).

    Returns
    -------
    numpy.ndarray
        float64.

    Raises
    ------
    InvalidAnswer
        When the output is a list, a tuple or an object array instead of a tensor of numbers.
    """
    if type(value) is list or type(value) is tuple:
        raise InvalidAnswer(f"{what} is a {type_name(value)}; return an array of numbers: a torch.Tensor (e.g. "
                            "torch.stack(...) of the pieces) or a NumPy array (np.array(...)), as the exercise asks.")
    reject_non_answers(value, what)
    array = plain_array(value, what)
    if array.dtype == object:
        raise InvalidAnswer(f"{what} is an array of Python objects; return a tensor of numbers.")
    return array.astype(np.float64)


# ---------------------------------------------------------------------------- comparing outputs, on plain values
def make_allclose(rtol: float, atol: float) -> Callable[[np.ndarray, Any], bool]:
    """``same(got, expected)`` for arrays: equal shapes and ``|got − expected| ≤ atol + rtol·|expected|``.

    Parameters
    ----------
    rtol, atol : float
        Relative and absolute tolerances.

    Returns
    -------
    callable
        ``same(got, expected) -> bool``; non-finite values never match.
    """
    def same(got: Any, expected: Any) -> bool:
        expected = np.asarray(expected.detach().cpu().numpy() if hasattr(expected, "detach") else expected,
                              dtype=np.float64)
        return (type(got) is np.ndarray and got.shape == expected.shape and bool(np.all(np.isfinite(got)))
                and bool(np.all(np.abs(got - expected) <= atol + rtol * np.abs(expected))))
    return same


def make_exact_equal() -> Callable[[tuple, tuple], bool]:
    """``same(got, expected)`` for tuples of Fractions: exact equality, entry by entry."""
    def same(got: Any, expected: tuple) -> bool:
        return (type(got) is tuple and len(got) == len(expected)
                and all(type(g) is Fraction and g == Fraction(e) for g, e in zip(got, expected)))
    return same
