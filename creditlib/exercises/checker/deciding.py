"""Deciding: whether a plain sympy answer equals the expected value, soundly.

``correct`` needs a proof (structural equality, exact rational arithmetic, or ``simplify(answer − expected)
== 0``); evaluation at random points over the whole domain can only refute (``incorrect``); when the checker
can neither prove nor refute, the status is ``undecided`` (:func:`decide`). The points tried are drawn over the
domain the symbols' assumptions and the exercise allow, its closed ends first (:func:`boundary_points`,
:func:`draw_point`).

One float policy (:func:`float_policy`): where no tolerance is stated, floats are ``invalid``, and the message
says whether the values are right read as the fractions they stand for, right to the digits printed (only
rounded), or wrong (:func:`float_status`), suggesting a fraction only when it is the right one.

Size caps: an answer read unevaluated is evaluated again from its leaves (:func:`reevaluated`, which exposes a
hidden ``0·∞``), and constant powers too large to compute with (``2**(2**100)``, towers included) are refused
before anything expands them (:data:`MAX_BITS`). Integrals, sums and derivatives are evaluated with sympy's
``doit()`` (:func:`evaluated`), whose result is trusted: a sympy integration bug could make a wrong
``Integral`` answer pass (no numerical cross-check is made).
"""
from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any, Mapping, Sequence

import numpy as np
import sympy as sp

from .verdicts import CORRECT, INCORRECT, INVALID, UNDECIDED, InvalidAnswer, Verdict, shorten, show_value
from .worker import CheckSettings, TimeLimitExceeded, time_limit

__all__ = ["EXACT_HINT", "MAX_BITS", "reevaluated", "evaluated", "RIGHT", "ROUNDED", "WRONG", "UNSURE",
           "float_status", "float_example", "rounded_note", "float_policy", "value_at", "LARGE_PRIMES",
           "NICE_POINTS", "draw_point", "boundary_points", "decide"]


# ---------------------------------------------------------------------------- size caps and evaluation
MAX_BITS = 2 * 10**6
"""A constant power whose value may need more bits than this is refused (``(2**(10**6))**(10**6)``)."""


def reevaluated(expr: sp.Basic, what: str = "your answer") -> sp.Basic:
    """``expr`` evaluated again from its leaves up, after refusing powers too large to compute with.

    An answer read unevaluated (``evaluate=False``) can hide an undefined term that evaluating its parent drops
    unseen: ``ref + Mul(0, Pow(0, -1))`` is ``ref + 0·∞ = nan``, but ``Add`` drops a term whose coefficient is 0.
    Evaluating every node from the leaves makes it ``nan``, which the readers refuse.

    Parameters
    ----------
    expr : sympy.Basic
        A plain sympy object (read unevaluated).
    what : str, default="your answer"
        How the message names the answer.

    Returns
    -------
    sympy.Basic
        ``expr`` evaluated node by node; integrals, sums, products, derivatives, limits, substitutions,
        Piecewise and Lambda are kept as they are.

    Raises
    ------
    InvalidAnswer
        For a constant power too large to compute with, or a node that cannot be evaluated.
    """
    _refuse_huge_powers(expr, what)

    def again(e: sp.Basic) -> sp.Basic:
        if not e.args or isinstance(e, (sp.Integral, sp.Sum, sp.Product, sp.Derivative, sp.Limit, sp.Subs,
                                        sp.Piecewise, sp.Lambda)):
            return e
        return e.func(*[again(a) for a in e.args])

    try:
        return again(expr)
    except (TypeError, ValueError, ZeroDivisionError, AttributeError, RecursionError) as err:
        raise InvalidAnswer(f"{what} cannot be evaluated ({type(err).__name__}: {shorten(str(err), 100)}).") from None


def _refuse_huge_powers(expr: sp.Basic, what: str) -> None:
    for power in expr.atoms(sp.Pow):
        if not power.exp.free_symbols and not power.base.free_symbols and (_huge(power.exp)
                                                                           or _bits(power) > MAX_BITS):
            raise InvalidAnswer(f"{what} contains the power {show_value(power)}, far too large to compute with; "
                                "simplify it.")


def evaluated(expr: sp.Basic, what: str = "your answer") -> sp.Basic:
    """``expr`` with its integrals, sums, products, derivatives, limits and substitutions evaluated;
    refused when it holds a power too large to compute with, such as ``2**(2**100)``.

    Parameters
    ----------
    expr : sympy.Basic
        A plain sympy object.
    what : str, default="your answer"
        How the message names the answer.

    Returns
    -------
    sympy.Basic
        :func:`reevaluated` ``(expr)``, then ``doit()`` if it holds one of those operations.

    Raises
    ------
    InvalidAnswer
        For a constant power too large to compute with, or a node that cannot be evaluated.
    """
    expr = reevaluated(expr, what)
    for power in expr.atoms(sp.Pow):
        if not power.exp.free_symbols and not power.base.free_symbols and (_huge(power.exp)
                                                                           or _bits(power) > MAX_BITS):
            raise InvalidAnswer(f"{what} contains the power {show_value(power)}, far too large to compute with; "
                                "simplify it.")
    if expr.has(sp.Integral, sp.Sum, sp.Product, sp.Derivative, sp.Limit, sp.Subs):
        return expr.doit()
    return expr


def _huge(exponent: sp.Basic) -> bool:
    try:
        value = exponent.evalf(5)
        return not value.is_Number or abs(value) > 10**6
    except Exception:
        return True


def _bits(e: sp.Basic, depth: int = 0) -> float:
    """An upper estimate of log2 max(|e|, 1/|e|, 2) for a constant built from numbers, sums, products and powers
    (towers included, which a check of each exponent alone misses); ``inf`` when in doubt."""
    if depth > 60:
        return math.inf
    if e.is_Integer or e.is_Rational:
        return float(max(abs(int(e.p)).bit_length(), int(e.q).bit_length(), 1))
    if e.is_Pow:
        exponent = _bits(e.exp, depth + 1)
        size = 2.0 ** exponent if exponent < 1000 else math.inf
        return size * _bits(e.base, depth + 1)
    if e.is_Add or e.is_Mul:
        return sum(_bits(a, depth + 1) for a in e.args) + 1
    if e.is_Number or e.is_NumberSymbol or not e.args:
        return 2.0
    return max([_bits(a, depth + 1) for a in e.args] + [2.0])


# ---------------------------------------------------------------------------- values at a point
def value_at(expr: sp.Expr, point: Mapping) -> sp.Expr | None:
    """``expr`` at ``point``: an exact Rational when possible, else a 30-digit Float; None if undefined or not real.

    Parameters
    ----------
    expr : sympy.Expr
        A plain sympy expression.
    point : mapping
        ``{symbol: Rational}`` (empty for a constant).

    Returns
    -------
    sympy.Expr or None
    """
    v = expr.xreplace(point) if point else expr
    if v.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    if v.is_Rational:
        return v
    try:
        n = v.evalf(30, strict=True)
    except (sp.core.evalf.PrecisionExhausted, TypeError, ValueError, ZeroDivisionError, ArithmeticError):
        return None
    if not n.is_Number or n.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    return n


def _differ(a: sp.Expr, e: sp.Expr) -> bool:
    """True when two values (exact, or accurate to 30 digits) certainly differ."""
    if a.is_Rational and e.is_Rational:
        return a != e
    return abs(a - e) > sp.Float(10) ** -20 * max(1, abs(e))


# ---------------------------------------------------------------------------- points of the domain
LARGE_PRIMES = (10007, 100003, 1000003, 10000019, 100000007)
NICE_POINTS = 6
"""How many of the points tried first have small denominators (readable in a message)."""


def _draw(rng: np.random.Generator, symbol: sp.Symbol, interval: tuple | None, nice: bool = False) -> sp.Rational:
    """A random value over the domain of ``symbol``: its assumptions (sign, integer) cut by ``interval``.

    ``interval`` is ``(low, high)`` with numbers or None (unbounded): inclusive for an integer symbol, open for a
    real one. ``nice`` points (small numerators and denominators) come first, so that a refuting point shown to
    the reader is readable; the others have large prime denominators and magnitudes from 1e-2 to 1e3, which
    terms such as ``sin(10**6*pi*x)`` or ``frac(10**6*x)`` cannot vanish on.
    """
    low, high = interval if interval is not None else (None, None)
    if symbol.is_nonnegative:
        low = 0 if low is None else max(low, 0)
    if nice and not symbol.is_integer:
        if low is not None and high is not None:
            return sp.Rational(Fraction(low) + (Fraction(high) - Fraction(low)) * Fraction(int(rng.integers(1, 10)), 10))
        q = int(rng.choice([1, 2, 3, 4, 5, 10]))
        size = Fraction(int(rng.integers(1, 5 * q + 1)), q)
        if low is not None:
            return sp.Rational(Fraction(low) + size)
        if high is not None:
            return sp.Rational(Fraction(high) - size)
        return sp.Rational(size if rng.random() < 0.5 else -size)
    if symbol.is_integer:
        lo = -1000 if low is None else math.ceil(low) + (1 if symbol.is_positive and low <= 0 else 0)
        hi = (lo + 1000 if low is not None else 1000) if high is None else math.floor(high)
        span = [lo, min(hi, lo + 10)] if rng.random() < 0.5 else [lo, hi]
        return sp.Integer(int(rng.integers(span[0], max(span) + 1)))
    q = int(rng.choice(LARGE_PRIMES))
    if low is not None and high is not None:
        low, high = Fraction(low), Fraction(high)
        return sp.Rational(low + (high - low) * Fraction(int(rng.integers(1, q)), q))
    size = Fraction(int(rng.integers(1, 10 * q)), q) * Fraction(10) ** int(rng.integers(-2, 3))
    if low is not None:
        return sp.Rational(Fraction(low) + size)
    if high is not None:
        return sp.Rational(Fraction(high) - size)
    return sp.Rational(size if rng.random() < 0.5 else -size)


def _limits(symbol: sp.Symbol, spec: Any, point: Mapping) -> tuple:
    """``(low, high, low_closed, high_closed)`` of ``symbol`` at ``point`` (the symbols it depends on drawn already).

    ``spec`` is None, ``(low, high)`` (inclusive for an integer symbol, open for a real one) or a ``sp.Interval``
    (its own ends); a bound may be an expression in other symbols (``N - 2``) or None/±oo (unbounded). The
    symbol's assumptions cut it further: an integer is at least 0 if nonnegative, 1 if positive; a nonnegative
    real at least 0 (closed), a positive real more than 0. Bounds come back as Rationals or None.
    """
    if spec is None:
        low, high, low_closed, high_closed = None, None, False, False
    elif isinstance(spec, sp.Interval):
        low, high, low_closed, high_closed = spec.start, spec.end, not spec.left_open, not spec.right_open
    else:
        low, high = spec
        low_closed = high_closed = bool(symbol.is_integer)

    def concrete(bound):
        if bound is None or type(bound) in (int, float, Fraction):
            return None if bound is None else Fraction(bound)
        bound = sp.sympify(bound).xreplace(dict(point))
        if bound in (sp.oo, -sp.oo):
            return None
        bound = sp.Rational(bound)
        return Fraction(int(bound.p), int(bound.q))

    low, high = concrete(low), concrete(high)
    if symbol.is_integer:
        floor = 1 if symbol.is_positive else 0 if symbol.is_nonnegative else None
        if floor is not None and (low is None or low < floor):
            low = floor
        low = None if low is None else math.ceil(low)
        high = None if high is None else math.floor(high)
        return low, high, True, True
    if symbol.is_positive and (low is None or low <= 0):
        low, low_closed = Fraction(0), False
    elif symbol.is_nonnegative and (low is None or low < 0):
        low, low_closed = Fraction(0), True
    return low, high, low_closed, high_closed


def _in_order(symbols: Sequence[sp.Symbol], domain: Mapping) -> list:
    """``symbols`` ordered so that a symbol comes after those its bounds depend on (``k`` after ``N`` for
    ``k ≤ N − 2``)."""
    def needs(s):
        spec = domain.get(s.name)
        ends = (spec.start, spec.end) if isinstance(spec, sp.Interval) else spec or ()
        return set().union(*(sp.sympify(b).free_symbols for b in ends if b is not None)) & set(symbols) - {s}
    ordered, left = [], list(symbols)
    while left:
        ready = [s for s in left if needs(s) <= set(ordered)]
        if not ready:
            raise ValueError(f"the bounds of {[s.name for s in left]} depend on each other")
        ordered += ready
        left = [s for s in left if s not in ready]
    return ordered


def draw_point(rng: np.random.Generator, symbols: Sequence[sp.Symbol], domain: Mapping, nice: bool = False,
               pinned: Mapping | None = None) -> dict | None:
    """One point of the domain; ``pinned`` maps symbols to ``"low"``/``"high"``: those sit at that end of their
    range (None if the end is open, infinite or the range empty there).

    Parameters
    ----------
    rng : numpy.random.Generator
        The source of the values drawn.
    symbols : sequence of sympy.Symbol
        The exercise's symbols.
    domain : mapping
        ``name → (low, high)`` or ``sp.Interval`` (see :func:`decide`); a bound may depend on other symbols.
    nice : bool, default=False
        Draw values with small numerators and denominators (readable in a message).
    pinned : mapping, optional
        ``{symbol: "low" or "high"}``: symbols placed at that end of their range.

    Returns
    -------
    dict or None
        ``{symbol: Rational}`` in the order of ``symbols``; None when a pinned end is open or infinite, or a
        range is empty.
    """
    point: dict = {}
    for s in _in_order(symbols, domain):
        low, high, low_closed, high_closed = _limits(s, domain.get(s.name), point)
        if low is not None and high is not None and (low > high or (low == high and not (low_closed and high_closed))):
            return None
        end = (pinned or {}).get(s)
        if end is not None:
            value, closed = (low, low_closed) if end == "low" else (high, high_closed)
            if value is None or not closed:
                return None
            point[s] = sp.Rational(value.numerator, value.denominator) if type(value) is Fraction else sp.Integer(value)
        else:
            point[s] = _draw(rng, s, (low, high), nice=nice)
    return {s: point[s] for s in symbols}


def boundary_points(symbols: Sequence[sp.Symbol], domain: Mapping | None = None, seed: int = 0) -> list[dict]:
    """The points at the closed ends of the domain, tried before any other: each symbol at its lowest and at its
    highest value (``k = 0``, ``k = N − 2``, ``N = 2``, ``r = 0`` …), the others drawn (nice) inside, then every
    symbol at its lowest and every symbol at its highest value at once.

    Parameters
    ----------
    symbols : sequence of sympy.Symbol
        The exercise's symbols.
    domain : mapping, optional
        ``name → (low, high)`` or ``sp.Interval`` (see :func:`decide`).
    seed : int, default=0
        Seed of the values drawn inside.

    Returns
    -------
    list of dict
        Points ``{symbol: Rational}``; none when no symbol has a closed end.
    """
    domain = dict(domain or {})
    rng = np.random.default_rng([seed, 2])              # a stream of its own: the other points stay as they were
    pins = [{s: end} for s in symbols for end in ("low", "high")]
    pins += [{s: end for s in symbols} for end in ("low", "high")]
    points: list[dict] = []
    for pin in pins:
        point = draw_point(rng, symbols, domain, nice=True, pinned=pin)
        if point is not None and point not in points:
            points.append(point)
    return points


# ---------------------------------------------------------------------------- deciding equality
def decide(answer: sp.Expr, expected: sp.Expr, symbols: Sequence[sp.Symbol] = (), *,
           domain: Mapping[str, Any] | None = None, n_points: int = 24, seed: int = 0,
           what: str = "your expression") -> Verdict:
    """Decide ``answer == expected`` on the domain: prove (correct), refute at a point (incorrect) or undecided.

    Both arguments are plain sympy objects. Points are drawn over the domain the
    symbols' assumptions allow (both signs for real symbols, integers for integer
    ones), cut by ``domain``. The points at the domain's closed ends (:func:`boundary_points`: ``k = 0`` and
    ``k = N − 2``, ``N = 2``, ``r = 0``) are tried first, before any proof: an answer that is wrong or
    undefined only there (``sign(k)``, ``0**k``, ``Heaviside(k)``, a removable singularity) is refuted.

    Parameters
    ----------
    answer, expected : sympy.Expr
        Plain sympy objects (already read).
    symbols : sequence of sympy.Symbol
        The symbols both may use.
    domain : mapping, optional
        ``name → (low, high)``, inclusive for an integer symbol and open for a real one (None for unbounded),
        or ``name → sp.Interval`` for other ends (``sp.Interval(0, 1)`` is closed). A bound may be an expression
        in the other symbols: ``{"N": (2, None), "k": (0, N - 2)}``.
    n_points : int, default=24
        Points tried before a verdict of ``undecided``.
    seed : int, default=0
        Seed of the random points (after the nice points).
    what : str
        How the message names the answer (e.g. ``"your answer"``).

    Returns
    -------
    Verdict
        ``correct`` when proved equal, ``incorrect`` with a point where they differ, else ``undecided``.
    """
    if answer == expected:
        return Verdict(CORRECT, "Correct (identical to the expected expression).")
    domain = dict(domain or {})

    def refuted(points):
        for point in points:
            e_val = value_at(expected, point)
            if e_val is None:
                continue
            a_val = value_at(answer, point)
            shown = ", ".join(f"{s.name} = {show_value(v)}" for s, v in point.items())
            where = f" at {shown}" if shown else ""
            if a_val is None:
                return Verdict(INCORRECT, f"{what} is undefined (or not real){where}, where the expected one is "
                                          "defined.")
            if _differ(a_val, e_val):
                shown_val = show_value(a_val) if a_val.is_Rational else f"{float(a_val):.6g}"
                return Verdict(INCORRECT, f"{what} differs from the expected one{where}: it gives {shown_val}.")
        return None

    edge = refuted(boundary_points(symbols, domain, seed) if symbols else [])
    if edge is not None:
        return edge
    difference = answer - expected
    try:
        with time_limit(max(0.05, CheckSettings.seconds / 4)):
            if sp.cancel(sp.together(difference)) == 0:
                return Verdict(CORRECT, "Correct: the difference with the expected expression cancels exactly.")
    except TimeLimitExceeded:
        pass
    rational = (not difference.has(sp.Float) and not difference.atoms(sp.Function, sp.NumberSymbol)
                and all(p.exp.is_Integer for p in difference.atoms(sp.Pow)))
    rng = np.random.default_rng(seed)
    nice = np.random.default_rng([seed, 1])                 # its own stream: the other points stay as they were
    points = [draw_point(nice, symbols, domain, nice=True) for _ in range(NICE_POINTS)]
    points += [draw_point(rng, symbols, domain) for _ in range(n_points)]
    verdict = refuted([pt for pt in points if pt is not None] if symbols else [{}])
    if verdict is not None:
        return verdict
    if not rational:
        try:
            with time_limit(max(0.05, CheckSettings.seconds / 2)):
                if sp.simplify(difference) == 0:
                    return Verdict(CORRECT, "Correct: sympy simplifies the difference with the expected "
                                            "expression to 0.")
        except TimeLimitExceeded:
            pass
    return Verdict(UNDECIDED, f"{what} agrees with the expected one at every point tried, but the checker could "
                              "neither prove nor refute that they are equal everywhere. Try a simpler form, or "
                              "ask an instructor to look at this answer.")


# ---------------------------------------------------------------------------- the float policy
EXACT_HINT = "use integers, fractions.Fraction or sp.Rational(p, q), not floats"


def _float_as_fraction(f: sp.Float) -> sp.Rational:
    """The fraction a float stands for: one with a small denominator that rounds to it, else its decimals."""
    value = float(f)
    near = Fraction(value).limit_denominator(1000)
    if float(near) == value:
        return sp.Rational(near.numerator, near.denominator)
    decimal = Fraction(repr(value))      # our own repr of a float, not the reader's text
    return sp.Rational(decimal.numerator, decimal.denominator)


def _exactified(expr: sp.Basic) -> sp.Basic:
    return expr.xreplace({f: _float_as_fraction(f) for f in expr.atoms(sp.Float)})


def float_example(expr: sp.Basic) -> str:
    """How to write the smallest float of ``expr`` exactly (only used when that fraction is right).

    Parameters
    ----------
    expr : sympy.Basic
        A plain sympy object with at least one ``sp.Float``.

    Returns
    -------
    str
        E.g. ``"0.5 as sp.Rational(1, 2)"``.
    """
    f = sorted(expr.atoms(sp.Float), key=lambda v: float(v))[0]
    q = _float_as_fraction(f)
    return f"{float(f)!r} as {q.p}" if q.q == 1 else f"{float(f)!r} as sp.Rational({q.p}, {q.q})"


def _rounding(value: float) -> Fraction:
    """How far from ``value`` a number may lie and still print as it does: half a unit of its last decimal
    (``0.6667``: 0.00005; a whole number such as ``57.0`` counts as exact), and never less than a relative 1e-9
    (the round-off of a computed float such as ``1 - 2/3 - 1/6``)."""
    text = repr(float(value))
    if "e" in text or "E" in text:
        half = Fraction(1, 2) * Fraction(10) ** Decimal(text).as_tuple().exponent
    else:
        decimals = text.partition(".")[2].rstrip("0")
        half = Fraction(1, 2) * Fraction(10) ** -len(decimals) if decimals else Fraction(0)
    return max(half, abs(Fraction(float(value))) / 10**9, Fraction(1, 10**12))


def _simplest_between(low: Fraction, high: Fraction) -> Fraction:
    """The fraction with the smallest denominator in ``[low, high]`` (continued fractions)."""
    if low <= 0 <= high:
        return Fraction(0)
    if high < 0:
        return -_simplest_between(-high, -low)
    whole = math.floor(low)
    if low == whole or whole + 1 <= high:
        return Fraction(math.ceil(low))
    return whole + 1 / _simplest_between(1 / (high - whole), 1 / (low - whole))


def _rounded_as_fraction(f: sp.Float) -> sp.Rational:
    """The simplest fraction that prints as ``f`` (within :func:`_rounding`): 1/3 for 0.3333."""
    value, width = Fraction(float(f)), _rounding(float(f))
    q = _simplest_between(value - width, value + width)
    return sp.Rational(q.numerator, q.denominator)


RIGHT, ROUNDED, WRONG, UNSURE = "right", "rounded", "wrong", "unsure"
"""What :func:`float_status` finds."""


def float_status(answer: sp.Basic, expected: sp.Basic, symbols: Sequence[sp.Symbol] = (),
                 domain: Mapping | None = None) -> str:
    """How an answer with floats compares with the exact ``expected``, never by a tolerance the exercise lacks.

    ``right``: read as the fractions its floats stand for (:func:`_float_as_fraction`: the double nearest to
    a small fraction, else its decimals), it is right. ``rounded``: it agrees to the digits printed (a number
    within :func:`_rounding` of the expected value; an expression right with each float read as the simplest
    fraction that prints as it), so only rounding is off. ``wrong``: neither. ``unsure``: the checker could not
    decide.

    Parameters
    ----------
    answer : sympy.Basic
        The reader's plain answer, with floats.
    expected : sympy.Basic
        The exact expected value.
    symbols : sequence of sympy.Symbol, default=()
        The symbols both may use.
    domain : mapping, optional
        As for :func:`decide`.

    Returns
    -------
    str
        One of :data:`RIGHT`, :data:`ROUNDED`, :data:`WRONG`, :data:`UNSURE`.
    """
    first = decide(_exactified(answer), expected, symbols, domain=domain)
    if first.status == CORRECT:
        return RIGHT
    if not answer.has(sp.Float):
        return UNSURE if first.status == UNDECIDED else WRONG
    if answer.is_Float:
        e_val = value_at(expected, {})
        if e_val is None:
            return UNSURE
        width = sp.Rational(_rounding(float(answer)))
        return ROUNDED if abs(sp.Rational(Fraction(float(answer))) - e_val) <= width else WRONG
    second = decide(answer.xreplace({f: _rounded_as_fraction(f) for f in answer.atoms(sp.Float)}), expected,
                    symbols, domain=domain)
    if second.status == CORRECT:
        return ROUNDED
    return UNSURE if UNDECIDED in (first.status, second.status) else WRONG


def rounded_note(floats: Sequence[sp.Float]) -> str:
    """What to do with rounded floats, naming one of them, without suggesting a fraction that is wrong.

    Parameters
    ----------
    floats : sequence of sympy.Float
        The rounded floats of an answer; the first is named.

    Returns
    -------
    str
        A clause for a message.
    """
    f = float(floats[0])
    q = Fraction(repr(f))
    return (f"{f!r} is rounded, and so is the fraction of its digits, sp.Rational({q.numerator}, "
            f"{q.denominator}): work the exact values out (fractions.Fraction or sp.Rational arithmetic keeps "
            "them exact) instead of converting rounded decimals")


def float_policy(answer: sp.Basic, expected: sp.Basic, symbols: Sequence[sp.Symbol] = (),
                 domain: Mapping | None = None, what: str = "your answer") -> Verdict:
    """The one float policy where no tolerance is stated: ``invalid``, saying whether the floats are right, right
    to the digits printed (only rounded), or wrong, and suggesting a fraction only when it is the right one.

    Parameters
    ----------
    answer, expected, symbols, domain
        As for :func:`float_status`.
    what : str, default="your answer"
        How the message names the answer.

    Returns
    -------
    Verdict
        Always ``invalid``; the message says which of :func:`float_status`'s cases it is.
    """
    status = float_status(answer, expected, symbols, domain)
    lead = f"{what} contains floats, and this exercise asks for exact values ({EXACT_HINT})."
    if status == RIGHT:
        return Verdict(INVALID, f"{lead} Read as the fractions they stand for, your values are right: write e.g. "
                                f"{float_example(answer)}.")
    if status == ROUNDED:
        floats = sorted(answer.atoms(sp.Float), key=lambda v: float(v))
        return Verdict(INVALID, f"{lead} Your values agree with the right ones to the digits you gave, but "
                                f"{rounded_note(floats)}.")
    if status == UNSURE:
        return Verdict(INVALID, f"{lead} The checker cannot tell whether your values are right, even allowing "
                                "for rounding: give them exactly.")
    how = "" if answer.is_Float else (" (each float read as the fraction it stands for, or as the simplest "
                                      "fraction that rounds to it)")
    return Verdict(INVALID, f"{lead} Even allowing for the rounding of the digits you gave{how}, it is not right.")
