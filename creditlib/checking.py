"""Verification primitives for the exercise checker: exact numbers, vectors, symbolic expressions, functions.

Each primitive compares a reader's answer with an expected value that
``creditlib`` computed, and returns a :class:`Verdict`: a status and a message
that says what is off without giving the answer away.

Rules, in order of importance:

* Never evaluate a string. ``sympify``/``parse_expr`` call ``eval``; a string
  answer gets a message asking for a number or a sympy expression.
* Never raise on garbage: ``None``, wrong types, wrong shapes, NaN all become
  an ``invalid`` verdict with an explanation.
* Layer the symbolic comparison (sympy's ``==`` is structural, ``simplify``
  may not terminate): structural match, then evaluation at seeded random
  points, then ``simplify(a − b) == 0`` under a time limit.
"""
from __future__ import annotations

import math
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import sympy as sp

CORRECT, INCORRECT, INVALID, UNDECIDED, NOT_ATTEMPTED = (
    "correct", "incorrect", "invalid", "undecided", "not attempted")


@dataclass(frozen=True)
class Verdict:
    """The outcome of one comparison: ``status`` is one of the five statuses above."""

    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == CORRECT


class _Invalid(Exception):
    """Raised inside this module when an answer cannot be read; becomes an ``invalid`` verdict."""


class _NotAttempted(Exception):
    """Raised when the answer is still the chapter's stub."""


# ---------------------------------------------------------------------------- reading answers
EXACT_HINT = "use integers, fractions.Fraction or sp.Rational(p, q), not floats."
STRING_HINT = ("Strings are never evaluated. Give a number or a sympy expression instead, "
               "e.g. sp.Rational(1, 3) rather than '1/3', or sp.Symbol('x')**2 rather than 'x**2'.")


def is_stub(answer: Any) -> bool:
    """The chapters' stub for an unanswered exercise is ``...`` (Ellipsis)."""
    return answer is Ellipsis


def _reject_non_answers(value: Any, what: str) -> None:
    """The checks every reader of answers starts with: the stub, None, and strings (never evaluated)."""
    if is_stub(value):
        raise _NotAttempted()
    if value is None:
        raise _Invalid(f"{what} is None: did the cell assign it (and does your function return it)?")
    if isinstance(value, (str, bytes)):
        raise _Invalid(f"{what} is the string {value!r}. {STRING_HINT}")


def to_sympy(value: Any, what: str = "your answer") -> sp.Expr:
    """Read one number or sympy expression exactly; floats become ``sp.Float``.

    Raises ``_Invalid`` with a readable reason for anything else.
    """
    _reject_non_answers(value, what)
    if isinstance(value, (bool, np.bool_)):
        raise _Invalid(f"{what} is a boolean ({value}); a number was expected.")
    if hasattr(value, "detach") and hasattr(value, "numel"):  # a torch tensor
        if value.numel() != 1:
            raise _Invalid(f"{what} is a tensor of shape {tuple(value.shape)}; one number was expected.")
        value = value.detach().cpu().item()
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise _Invalid(f"{what} is an array of shape {value.shape}; one number was expected.")
        value = value.reshape(()).item()
    if isinstance(value, (int, np.integer)):
        return sp.Integer(int(value))
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise _Invalid(f"{what} is {float(value)}, not a finite number.")
        return sp.Float(float(value))
    if isinstance(value, (complex, np.complexfloating)):
        raise _Invalid(f"{what} is the complex number {value}; a real number was expected.")
    if isinstance(value, sp.MatrixBase):
        raise _Invalid(f"{what} is a matrix of shape {value.shape}; one number or expression was expected.")
    if isinstance(value, sp.Basic):
        if not isinstance(value, sp.Expr):
            raise _Invalid(f"{what} is a sympy {type(value).__name__}, not an expression "
                           "(an equation or a set?). Give the expression itself.")
        if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise _Invalid(f"{what} contains nan or infinity ({value}).")
        return value
    raise _Invalid(f"{what} has type {type(value).__name__}; a number or a sympy expression was expected.")


def to_list(value: Any, length: int, labels: Sequence[str] | None = None, what: str = "your answer") -> list:
    """Read a vector answer: list, tuple, 1-D array, sympy Matrix, or a dict keyed by ``labels``."""
    _reject_non_answers(value, what)
    if isinstance(value, Mapping):
        if labels is None:
            raise _Invalid(f"{what} is a dict; give a list of {length} values instead.")
        keys = [str(k) for k in value]
        missing = [l for l in labels if l not in keys]
        extra = [k for k in keys if k not in labels]
        if missing or extra:
            raise _Invalid(f"{what} is a dict with keys {sorted(keys)}; expected exactly the keys {list(labels)}"
                           + (f" (missing {missing})" if missing else "") + (f" (unexpected {extra})" if extra else "") + ".")
        by_key = {str(k): v for k, v in value.items()}
        return [by_key[l] for l in labels]
    if isinstance(value, sp.MatrixBase):
        if 1 not in value.shape:
            raise _Invalid(f"{what} is a {value.shape} matrix; a vector of {length} values was expected.")
        items = list(value)
    elif hasattr(value, "detach") and hasattr(value, "numel"):
        items = value.detach().cpu().reshape(-1).tolist() if value.dim() == 1 else None
        if items is None:
            raise _Invalid(f"{what} is a tensor of shape {tuple(value.shape)}; a vector of {length} values was expected.")
    elif isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise _Invalid(f"{what} has shape {value.shape}; a 1-D vector of {length} values was expected.")
        items = list(value)
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise _Invalid(f"{what} has type {type(value).__name__}; a list of {length} values was expected.")
    if len(items) != length:
        named = f" (one per player: {', '.join(labels)})" if labels else ""
        raise _Invalid(f"{what} has {len(items)} values; expected {length}{named}.")
    return items


# ---------------------------------------------------------------------------- comparing numbers
def compare_number(answer: Any, expected: Any, *, tol: float | None = None, what: str = "your answer") -> Verdict:
    """Compare one number with an exact expected value.

    ``tol=None`` asks for an exact answer: ints, fractions and sympy rationals
    or expressions equal to the expected value pass, floats do not (the
    message says whether the float is numerically right). With ``tol``,
    floats within ``tol·max(1, |expected|)`` pass too.
    """
    try:
        a = to_sympy(answer, what)
    except _NotAttempted:
        return Verdict(NOT_ATTEMPTED, "Not attempted yet: replace ... with your answer and run the cell again.")
    except _Invalid as err:
        return Verdict(INVALID, str(err))
    if a.free_symbols:
        return Verdict(INVALID, f"{what} contains the symbol(s) {sorted(map(str, a.free_symbols))}; "
                                "a number was expected.")
    e = to_sympy(expected, "the expected value")
    a_val, e_val = _evaluate(a, {}), _evaluate(e, {})
    if a_val is None:
        return Verdict(INVALID, f"{what} ({a}) does not evaluate to a real number.")
    close = abs(a_val - e_val) <= (tol if tol is not None else 1e-12) * max(1.0, abs(e_val))
    if a.has(sp.Float):
        if tol is not None:
            return Verdict(CORRECT, f"Correct (within the tolerance {tol:g}).") if close else \
                Verdict(INCORRECT, f"{what} ({a_val:.6g}) is off by more than the tolerance {tol:g}.")
        if close:
            return Verdict(INCORRECT, f"{what} ({a_val:.6g}) is numerically right, but this exercise asks for the "
                                      f"exact value: {EXACT_HINT}")
        return Verdict(INCORRECT, f"{what} ({a_val:.6g}) is not right (and the exercise asks for an exact value).")
    if a == e or (close and _is_zero(a - e)):
        return Verdict(CORRECT, "Correct.")
    return Verdict(INCORRECT, f"{what} ({a}) is not right.")


def _is_zero(expr: sp.Expr, seconds: float = 5.0) -> bool:
    """``simplify(expr) == 0`` under a time limit (False when undecided)."""
    with time_limit(seconds) as expired:
        try:
            result = sp.simplify(expr)
        except _Timeout:
            return False
    return result == 0 and not expired()


# ---------------------------------------------------------------------------- comparing vectors
def compare_vector(answer: Any, expected: Sequence, *, labels: Sequence[str] | None = None,
                   tol: float | None = None, diagnose: Callable[[list], list[str]] | None = None,
                   what: str = "your answer") -> Verdict:
    """Compare a vector of numbers entry by entry (exactly, or within ``tol``).

    ``diagnose(values) -> [hints]`` runs first on the reader's values (as sympy
    numbers) and explains structural problems, e.g. an axiom that fails.
    The message names the entries that are wrong, never their right values.
    """
    names = list(labels) if labels is not None else [str(i) for i in range(len(expected))]
    try:
        items = to_list(answer, len(expected), labels, what)
        values = [to_sympy(v, f"the entry for {n}") for v, n in zip(items, names)]
    except _NotAttempted:
        return Verdict(NOT_ATTEMPTED, "Not attempted yet: replace ... with your answer and run the cell again.")
    except _Invalid as err:
        return Verdict(INVALID, str(err))
    verdicts = [compare_number(v, e, tol=tol, what=f"the entry for {n}") for v, e, n in zip(values, expected, names)]
    for v in verdicts:
        if v.status == INVALID:
            return v
    wrong = [n for n, v in zip(names, verdicts) if not v.passed]
    if not wrong:
        return Verdict(CORRECT, "Correct: every entry is right.")
    hints = list(diagnose(values)) if diagnose is not None else []
    floats = [n for n, v in zip(names, values) if v.has(sp.Float)]
    if tol is None and floats:
        hints.append(f"The exercise asks for exact values; the entries for {', '.join(floats)} are floats: {EXACT_HINT}")
    hints.append(f"Not right yet for: {', '.join(wrong)}.")
    return Verdict(INCORRECT, " ".join(hints))


# ---------------------------------------------------------------------------- comparing choices
def compare_choices(answer: Any, expected: Mapping[str, set], vocabulary: Sequence[str], *,
                    explain: Callable[[str, str, bool], str] | None = None,
                    what: str = "your answer") -> Verdict:
    """Compare a mapping ``{item: set of labels}`` with the expected sets, labels from a fixed vocabulary.

    Labels are matched as names from ``vocabulary`` (case and spaces folded),
    never evaluated. ``explain(item, label, wrongly_named)`` may return a hint for
    a label the reader named but should not have (``True``) or missed (``False``).
    """
    if is_stub(answer):
        return Verdict(NOT_ATTEMPTED, "Not attempted yet: replace ... with your answer and run the cell again.")
    if not isinstance(answer, Mapping):
        return Verdict(INVALID, f"{what} should be a dict {{item: set of names}}; got {type(answer).__name__}.")
    fold = {v.lower().replace("_", " ").strip(): v for v in vocabulary}
    items = {str(k).lower().strip(): v for k, v in answer.items()}
    missing = [k for k in expected if k.lower() not in items]
    if missing:
        return Verdict(INVALID, f"{what} has no entry for {missing}; give one for each of {list(expected)}.")
    hints, wrong = [], []
    for item, labels in expected.items():
        given = items[item.lower()]
        if isinstance(given, str) or not isinstance(given, (set, frozenset, list, tuple)):
            return Verdict(INVALID, f"the entry for {item!r} should be a set of names such as {{{vocabulary[0]!r}}} "
                                    f"(use set() for none); got {given!r}.")
        named = set()
        for label in given:
            key = str(label).lower().replace("_", " ").strip() if isinstance(label, str) else None
            if key not in fold:
                return Verdict(INVALID, f"{label!r} (for {item!r}) is not one of {list(vocabulary)}.")
            named.add(fold[key])
        if named != set(labels):
            wrong.append(item)
            if explain is not None:
                hints += [explain(item, x, True) for x in sorted(named - set(labels))]
                hints += [explain(item, x, False) for x in sorted(set(labels) - named)]
    if not wrong:
        return Verdict(CORRECT, "Correct for every item.")
    return Verdict(INCORRECT, " ".join([h for h in hints if h] + [f"Not right yet for: {', '.join(wrong)}."]))


def compare_names(answer: Any, expected: set, vocabulary: Sequence[str], *, pairs: bool = False,
                  explain: Callable[[set], list[str]] | None = None, what: str = "your answer") -> Verdict:
    """Compare a set of names (a single name may be given alone) or, with ``pairs=True``, a set of
    unordered pairs of names, with the expected set. Names are matched against ``vocabulary``,
    never evaluated. ``explain(given_set) -> [hints]`` may add feedback for a wrong set.
    """
    if is_stub(answer):
        return Verdict(NOT_ATTEMPTED, "Not attempted yet: replace ... with your answer and run the cell again.")
    if answer is None:
        return Verdict(INVALID, f"{what} is None: did the cell assign it?")
    names = {str(v): v for v in vocabulary}
    items = [answer] if isinstance(answer, str) or (pairs and isinstance(answer, tuple) and len(answer) == 2
                                                    and all(isinstance(a, str) for a in answer)) else answer
    if not isinstance(items, (set, frozenset, list, tuple)):
        return Verdict(INVALID, f"{what} should be a set of names from {list(vocabulary)}; got {type(answer).__name__}.")
    given = set()
    for item in items:
        members = tuple(item) if pairs and not isinstance(item, str) else (item,)
        if pairs and len(members) != 2:
            return Verdict(INVALID, f"{item!r} is not a pair: give pairs like ({vocabulary[0]!r}, {vocabulary[1]!r}).")
        for m in members:
            if not isinstance(m, str) or m not in names:
                return Verdict(INVALID, f"{m!r} is not one of the names {list(vocabulary)}.")
        given.add(frozenset(members) if pairs else members[0])
    target = {frozenset(e) for e in expected} if pairs else set(expected)
    if given == target:
        return Verdict(CORRECT, "Correct.")
    hints = list(explain(given)) if explain is not None else []
    if len(given) != len(target):
        hints.append(f"Your answer has {len(given)} {'pair' if pairs else 'name'}(s); the right one has {len(target)}.")
    return Verdict(INCORRECT, " ".join(hints + ["Not right yet."]))


# ---------------------------------------------------------------------------- comparing expressions
def compare_expression(answer: Any, expected: sp.Expr, symbols: Sequence[sp.Symbol], *,
                       domain: Mapping[str, tuple[float, float]] | None = None, n_points: int = 12,
                       seed: int = 0, seconds: float = 5.0, what: str = "your expression") -> Verdict:
    """Compare a symbolic expression with the expected one.

    Symbols are matched by *name*, so a reader's ``sp.Symbol('rho')`` matches the
    exercise's ``sp.Symbol('rho', positive=True)``. Layers: structural equality;
    evaluation at ``n_points`` seeded random rational points drawn from
    ``domain`` (name → (low, high); default (0.5, 2.5)), which decides
    "incorrect"; then ``simplify(answer − expected) == 0`` under a time limit,
    which proves "correct". Agreement at every point without a symbolic proof
    still counts as correct (random evaluation of rational expressions is
    strong evidence), and the message says so.
    """
    try:
        a = to_sympy(answer, what)
    except _NotAttempted:
        return Verdict(NOT_ATTEMPTED, "Not attempted yet: replace ... with your expression and run the cell again.")
    except _Invalid as err:
        return Verdict(INVALID, str(err))
    by_name = {s.name: s for s in symbols}
    unknown = sorted(s.name for s in a.free_symbols if s.name not in by_name)
    if unknown:
        return Verdict(INVALID, f"{what} uses the symbol(s) {unknown}, which this exercise does not define; "
                                f"use only {sorted(by_name)}.")
    a = a.xreplace({s: by_name[s.name] for s in a.free_symbols})
    if a == expected:
        return Verdict(CORRECT, "Correct (identical to the expected expression).")
    rng = np.random.default_rng(seed)
    domain = dict(domain or {})
    agreed = undefined = 0
    for _ in range(n_points):
        point = {s: _random_rational(rng, *domain.get(s.name, (0.5, 2.5))) for s in symbols}
        e_val = _evaluate(expected, point)
        if e_val is None:
            undefined += 1
            continue
        a_val = _evaluate(a, point)
        shown = ", ".join(f"{s.name} = {v}" for s, v in point.items())
        if a_val is None:
            return Verdict(INCORRECT, f"{what} is undefined (or not real) at {shown}, where the expected one is fine.")
        if abs(a_val - e_val) > 1e-12 * max(1.0, abs(e_val)):
            return Verdict(INCORRECT, f"{what} differs from the expected one: at {shown} it gives {a_val:.6g}.")
        agreed += 1
    if agreed == 0:
        return Verdict(UNDECIDED, "The checker could not evaluate the expressions at any test point; "
                                  "ask an instructor to look at this answer.")
    if _is_zero(a - expected, seconds):
        return Verdict(CORRECT, f"Correct: sympy simplifies the difference to 0 (and the two agree at {agreed} random points).")
    return Verdict(CORRECT, f"Correct: the two expressions agree at {agreed} random points "
                            "(sympy could not reduce their difference to 0 within its time limit).")


def _random_rational(rng: np.random.Generator, low: float, high: float) -> sp.Rational:
    """A random rational in (low, high) with denominator at most 1000 times the range's."""
    low, high = Fraction(low).limit_denominator(1000), Fraction(high).limit_denominator(1000)
    value = low + (high - low) * Fraction(int(rng.integers(1, 1000)), 1000)
    return sp.Rational(value.numerator, value.denominator)


def _evaluate(expr: sp.Expr, point: Mapping) -> float | None:
    try:
        value = complex(expr.xreplace(point).evalf(30))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not math.isfinite(value.real) or abs(value.imag) > 1e-12 * max(1.0, abs(value.real)):
        return None
    return value.real


# ---------------------------------------------------------------------------- comparing functions
def compare_function(func: Any, reference: Callable, draw_input: Callable[[np.random.Generator], tuple], *,
                     same: Callable[[Any, Any], bool], n_trials: int = 20, seed: int = 0,
                     what: str = "your function") -> Verdict:
    """Call the reader's function and the reference on ``n_trials`` seeded random inputs.

    ``draw_input(rng) -> args`` draws one argument tuple; ``same(got, expected)``
    decides agreement. The first disagreement is shown with its input, the
    reader's output and the reference's output. A function that still raises
    ``NotImplementedError`` (the chapters' stub) is "not attempted".
    """
    if is_stub(func):
        return Verdict(NOT_ATTEMPTED, "Not attempted yet: write the function and run the cell again.")
    if not callable(func):
        return Verdict(INVALID, f"{what} should be a function (pass it without calling it); got {type(func).__name__}.")
    rng = np.random.default_rng(seed)
    for _ in range(n_trials):
        args = draw_input(rng)
        expected = reference(*args)
        try:
            got = func(*args)
        except NotImplementedError:
            return Verdict(NOT_ATTEMPTED, "Not attempted yet: the function still raises NotImplementedError.")
        except Exception as err:  # the reader's code failed: say where
            return Verdict(INCORRECT, f"{what} raised {type(err).__name__}: {err} on input {_show(args)}.")
        try:
            ok = same(got, expected)
        except Exception as err:
            ok = False
            got = f"{got!r} (which cannot be compared: {err})"
        if not ok:
            return Verdict(INCORRECT, f"{what} is wrong on input {_show(args)}: it returned {_show(got)}, "
                                      f"the reference returns {_show(expected)}.")
    return Verdict(CORRECT, f"Correct on all {n_trials} random inputs.")


def _show(x: Any) -> str:
    if isinstance(x, tuple):
        return "(" + ", ".join(_show(v) for v in x) + ")"
    if isinstance(x, np.ndarray):
        return np.array2string(x, precision=4, threshold=20)
    return repr(x) if not isinstance(x, Fraction) else str(x)


# ---------------------------------------------------------------------------- time limit
class _Timeout(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    """Interrupt the block after ``seconds`` with ``_Timeout`` (main thread on Unix; elsewhere no limit).

    Yields a function that tells whether the limit expired.
    """
    state = {"expired": False}
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield lambda: False
        return

    def handler(signum, frame):
        state["expired"] = True
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield lambda: state["expired"]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
