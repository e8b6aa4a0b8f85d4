"""Verification primitives for the exercise checker: exact numbers, vectors, names, expressions, functions.

Each primitive compares a reader's answer with an expected value that
``creditlib`` computed, and returns a :class:`Verdict`: a status and a message
that says what is off without giving the answer away.

Rules, in order of importance:

* The reader's objects never run and never decide. The first step of every
  check is :func:`plain_copy`: every type is decided by identity over the real
  MRO (``type(x) is int``, never ``isinstance``, ``==`` or a hash of a reader's
  object), only exact built-in containers are walked, sympy objects of sympy's
  own classes are rebuilt from their ``.args``, tensors and arrays are copied to
  plain numbers, and sizes are checked before anything is expanded; everything
  after it reads the copy. Nothing a reader gives reaches ``sympify``, and
  strings are never evaluated.
* Sound: ``correct`` needs a proof (structural equality, exact rational
  arithmetic, or ``simplify(answer − expected) == 0``). Evaluation at random
  points over the whole domain can only refute (``incorrect``); when the
  checker can neither prove nor refute, the status is ``undecided``.
* One float policy: where no tolerance is stated, floats are ``invalid`` and
  the message says whether the values would be right written exactly.
* Never raise on garbage; every step runs under a time limit (see
  :func:`run_isolated`, which :func:`creditlib.exercises.check` uses). Any
  failure while reading or evaluating an answer makes it ``invalid``, with its
  reason (:func:`judge_answer`); only a failure to compute the expected value
  is the checker's and makes it ``undecided``.
* Code that ran the reader's code never judges. ``check`` judges in a forked
  worker; a reader's *function* runs in a child of that worker
  (:func:`_call_in_child`) that closes every inherited file descriptor but its
  result pipe, runs under the seccomp filter of :mod:`creditlib.sandbox` (no
  signals, processes, file writes or sockets) and returns plain JSON, which
  the worker decodes (never unpickles) and compares with the reference it
  computes itself. A given seed never earns ``correct`` alone: a fresh set of
  inputs is always tried too.

Known limitations. Code in the reader's own kernel is not defended against: it
can patch this module before calling ``check``, and a process of the same user
can open another process's pipes through ``/proc/<pid>/fd``. Where seccomp is
refused, a function answer is held only by the process boundary. Integrals,
sums and derivatives in answers are evaluated with sympy's ``doit()``, whose
result is trusted: a sympy integration bug could make a wrong ``Integral``
answer pass (no numerical cross-check is made).
"""
from __future__ import annotations

import copy
import functools
import gc
import json
import math
import os
import re
import secrets
import select
import signal
import sys
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
import html
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import sympy as sp
from sympy.core.singleton import Singleton

from .sandbox import confine

CORRECT, INCORRECT, INVALID, UNDECIDED, NOT_ATTEMPTED = (
    "correct", "incorrect", "invalid", "undecided", "not attempted")
STATUSES = (CORRECT, INCORRECT, INVALID, UNDECIDED, NOT_ATTEMPTED)
TIME_LIMIT = 10.0
"""Seconds one ``check`` may take (sympy work and the reader's code together)."""


_ICONS = {CORRECT: "✅", NOT_ATTEMPTED: "✏️", INVALID: "⚠️", UNDECIDED: "❔"}


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: what every comparison here and ``exercises.check`` return.

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


class _Invalid(Exception):
    """Raised inside this module when an answer cannot be read; becomes an ``invalid`` verdict."""


class _NotAttempted(Exception):
    """Raised when the answer is still the chapters' stub."""


class _Timeout(BaseException):
    """The time limit expired (a BaseException, so a reader's ``except Exception`` cannot swallow it)."""


class _Run:
    """Settings of the current ``check`` (set in its worker): the time limit and the seed for function inputs."""

    seconds: float = TIME_LIMIT
    seed: int | None = None
    deadline: float = math.inf


# ---------------------------------------------------------------------------- showing values
def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 25] + " … " + text[-20:]


def _show(x: Any) -> str:
    """A short rendering of a *plain* value (never call this on a reader's object)."""
    if type(x) is tuple:
        return "(" + ", ".join(_show(v) for v in x) + ")"
    if type(x) is list:
        return "[" + ", ".join(_show(v) for v in x) + "]"
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
        return _short(sp.sstr(x) if _size(x) < 500 else f"a sympy {type(x).__name__} of {_size(x)}+ nodes")
    return _short(repr(x))


def _size(expr: sp.Basic, cap: int = 500) -> int:
    count, stack = 0, [expr]
    while stack and count < cap:
        count += 1
        stack.extend(stack.pop().args)
    return count


def _type_name(x: Any) -> str:
    """The name of ``x``'s type, read from ``type`` itself (a metaclass's ``__name__`` never runs)."""
    if type(x) is Opaque or type(x) is FunctionAnswer:
        return x.type_name
    name = type.__dict__["__name__"].__get__(type(x))
    return name if type(name) is str else "unknown"


# ---------------------------------------------------------------------------- reading answers
EXACT_HINT = "use integers, fractions.Fraction or sp.Rational(p, q), not floats"
STRING_HINT = ("Strings are never evaluated. Give a number or a sympy expression instead, "
               "e.g. sp.Rational(1, 3) rather than '1/3', or sp.Symbol('x')**2 rather than 'x**2'.")
NP_INTS = tuple({np.dtype(code).type for code in np.typecodes["AllInteger"]})
"""numpy's own integer scalar types (np.intc and np.longlong are types of their own)."""
_NP_FLOATS = tuple({np.dtype(code).type for code in np.typecodes["Float"]})
_MATRICES = (sp.MutableDenseMatrix, sp.ImmutableDenseMatrix)
MAX_NODES = 5000


def _is(t: type, classes: Sequence[type]) -> bool:
    return any(t is c for c in classes)


def _sympy_classes() -> dict[int, type]:
    """sympy's own ``Basic`` subclasses, by id (looked up by identity: a reader's class never matches)."""
    found = {}
    for name, module in list(sys.modules.items()):
        if name == "sympy" or name.startswith("sympy."):
            for value in list(vars(module).values()):
                if (isinstance(value, type) and issubclass(value, sp.Basic)
                        and str(value.__module__).startswith("sympy")):
                    found[id(value)] = value
    return found


_SYMPY = _sympy_classes()
_ATOMS_REJECTED = (sp.Dummy, sp.Wild)
_NOT_VALUES = {sp.Order: "an order term O(...), which stands for a set of functions, not a value"}


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


_is_stub = is_stub


def _reject_non_answers(value: Any, what: str) -> None:
    """The checks every reader of answers starts with: the stub, None, and strings (never evaluated)."""
    if value is Ellipsis:
        raise _NotAttempted()
    if value is None:
        raise _Invalid(f"{what} is None: did the cell assign it (and does your function return it)?")
    if type(value) is str or type(value) is bytes:
        raise _Invalid(f"{what} is the string {_short(repr(value), 40)}. {STRING_HINT}")


def _tensor_type() -> type | None:
    torch = sys.modules.get("torch")
    return getattr(torch, "Tensor", None)


def _instance_dict(x: Any) -> dict:
    """``x``'s instance ``__dict__``, read without running ``x``'s code (``{}`` when it has none)."""
    try:
        d = object.__getattribute__(x, "__dict__")
    except AttributeError:
        return {}
    if type(d) is not dict or not all(type(k) is str for k in d):     # iterating a dict runs no code of the reader
        raise _Invalid(f"your answer contains a {_type_name(x)} with damaged attributes.")
    return d


def _plain_instance(x: Any, allowed: tuple = (), what: str = "your answer", shadowing_only: bool = False) -> None:
    """Refuse an object with attributes set on it beyond ``allowed`` (which its class sets itself): reading the
    object would run them. With ``shadowing_only`` (sympy objects, whose classes set attributes such as
    ``_argset`` that the checker never reads) only attributes hiding one of the class's are refused."""
    extra = sorted(k for k in _instance_dict(x) if k not in allowed
                   and (not shadowing_only or any(k in vars(c) for c in type(x).__mro__)))
    if extra:
        raise _Invalid(f"{what} is a {_type_name(x)} with attributes set on it ({_short(', '.join(extra), 60)}), "
                       "which the checker does not read; give a freshly built one.")


def _matrix_entries(m: Any, what: str) -> tuple[int, int, list]:
    """The shape and entries of an exact sympy matrix, read from its storage without calling its methods."""
    from sympy.polys.matrices import DomainMatrix
    from sympy.polys.matrices.sdm import SDM
    from sympy.external.pythonmpq import PythonMPQ
    d = _instance_dict(m)
    names = ("rows", "cols") if "rows" in d else ("_rows", "_cols")
    _plain_instance(m, names + ("_rep",), what)
    rows, cols, rep = d.get(names[0]), d.get(names[1]), d.get("_rep")
    damaged = _Invalid(f"{what} is a sympy matrix the checker cannot read; build it with sp.Matrix([...]) "
                       "or give a list.")
    if type(rows) is not int or type(cols) is not int or type(rep) is not DomainMatrix:
        raise damaged
    _plain_instance(rep, ("rep", "shape", "domain"), what)
    storage = _instance_dict(rep).get("rep")
    if type(storage) is not SDM:
        raise damaged
    _plain_instance(storage, ("shape", "rows", "cols", "domain"), what)
    entries = {}
    for i, row in dict.items(storage):
        if type(i) is not int or type(row) is not dict or not 0 <= i < rows:
            raise damaged
        for j, e in dict.items(row):
            if type(j) is not int or not 0 <= j < cols:
                raise damaged
            if type(e) is PythonMPQ:
                e = Fraction(e.numerator, e.denominator) if type(e.numerator) is int is type(e.denominator) else None
            if not (type(e) is int or type(e) is Fraction or _SYMPY.get(id(type(e))) is type(e)):
                raise damaged
            entries[i, j] = e
    return rows, cols, [entries.get((i, j), 0) for i in range(rows) for j in range(cols)]


def plain_array(value: Any, what: str) -> np.ndarray:
    """A copy of an exact ``torch.Tensor`` or numeric ``np.ndarray``: floats as float64, integers exactly
    (in their own dtype: ``tolist`` gives Python ints, so uint64 never wraps), objects as objects.

    Tensor subclasses, tensors with attributes set on them, sparse, nested, meta, quantized, complex and
    boolean tensors are refused; tensor methods are called unbound (``torch.Tensor.detach(t)``).

    Parameters
    ----------
    value : torch.Tensor or numpy.ndarray
        A reader's array.
    what : str
        How the message names the answer (e.g. ``"your answer"``).

    Returns
    -------
    numpy.ndarray
        A copy owned by the checker.

    Raises
    ------
    _Invalid
        For a tensor the checker refuses (a subclass, sparse, complex, ...): an ``invalid`` verdict.
    """
    t, tensor = type(value), _tensor_type()
    if tensor is not None and t is tensor:
        import torch
        _plain_instance(value, (), what)
        if value.layout != torch.strided:
            raise _Invalid(f"{what} is a sparse tensor; give a dense one (.to_dense()).")
        if value.is_nested:
            raise _Invalid(f"{what} is a nested tensor; give a plain tensor.")
        if value.device.type == "meta":
            raise _Invalid(f"{what} is a tensor on the 'meta' device, which holds no values.")
        if value.is_quantized:
            raise _Invalid(f"{what} is a quantized tensor; give t.dequantize().")
        if tensor.is_complex(value) or value.dtype == torch.bool:
            raise _Invalid(f"{what} is a tensor of dtype {value.dtype}; real numbers were expected.")
        value = tensor.resolve_neg(tensor.resolve_conj(tensor.to(tensor.detach(value), "cpu")))
        value = tensor.numpy(tensor.double(value) if tensor.is_floating_point(value) else value)
        return value.copy()
    if t is np.ndarray:
        if value.dtype.kind == "f":
            return value.astype(np.float64)
        if value.dtype.kind in "iuO":
            return value.copy()
        raise _Invalid(f"{what} is an array of dtype {value.dtype}; real numbers were expected.")
    if tensor is not None and _subclass_of(t, (tensor,)) is not None:
        raise _Invalid(f"{what} is a {_type_name(value)} (a subclass of torch.Tensor); give a plain torch.Tensor.")
    raise _Invalid(f"{what} has type {_type_name(value)}; a tensor or an array was expected.")


def _rebuild(x: Any, budget: list[int], depth: int = 0) -> sp.Basic:
    """A copy of a sympy object made only of sympy's own classes; anything else raises ``_Invalid``."""
    t = type(x)
    budget[0] -= 1
    if budget[0] < 0 or depth > 200:
        raise _Invalid(f"your answer is too large (more than {MAX_NODES} sympy nodes or nested too deep).")
    if _SYMPY.get(id(t)) is not t:
        raise _Invalid(f"your answer contains an object of type {_type_name(x)}, which is not one of sympy's own "
                       "classes. Build it from sympy symbols, numbers and functions (sp.exp, sp.log, ...).")
    _plain_instance(x, ("nargs",), shadowing_only=True)        # sympy's functions set nargs themselves
    if isinstance(t, Singleton):
        return t()
    if t is sp.Symbol:
        name = x.name
        if type(name) is not str:
            raise _Invalid("your answer contains a symbol whose name is not a string.")
        return sp.Symbol(name)
    if t is sp.Integer or t is sp.Rational:
        p, q = x.p, x.q
        if type(p) is not int or type(q) is not int or q <= 0:
            raise _Invalid("your answer contains a sympy number whose parts are not integers.")
        return sp.Rational(p, q)
    if t is sp.Float:
        mpf, prec = x._mpf_, x._prec
        if type(mpf) is not tuple or len(mpf) != 4 or type(prec) is not int or not all(type(v) is int for v in mpf):
            raise _Invalid("your answer contains a damaged sympy Float.")
        number = sp.Float._new(mpf, prec)
        if not math.isfinite(float(number)):
            raise _Invalid("your answer contains a float too large for a float (like 1e400); give an exact number.")
        return number
    if t in _NOT_VALUES:
        raise _Invalid(f"your answer contains {_NOT_VALUES[t]}; give an expression without it.")
    if t.is_Atom or _is(t, _ATOMS_REJECTED):
        raise _Invalid(f"your answer contains a sympy {_type_name(x)}, which the checker does not read; "
                       "use sp.Symbol, numbers and functions.")
    args = x.args
    if type(args) is not tuple:
        raise _Invalid("your answer contains a damaged sympy object.")
    rebuilt = [_rebuild(a, budget, depth + 1) for a in args]
    try:
        with sp.evaluate(False):
            return t(*rebuilt)
    except Exception:
        raise _Invalid(f"your answer contains a sympy {_type_name(x)} that the checker cannot read; "
                       "give an expression built from symbols, numbers and functions.") from None


# ---------------------------------------------------------------------------- a plain copy of an answer
MAX_ITEMS = 100_000
"""The most numbers, names, entries and sympy nodes one answer may hold (more is refused before it is read)."""
MAX_TEXT = 10_000
"""The most characters in all the strings of one answer together."""
MAX_DEPTH = 60


def _real_mro(t: type) -> tuple:
    """``t.__mro__`` read from ``type`` itself, so a metaclass's ``__mro__`` or ``__getattribute__`` never runs."""
    mro = type.__dict__["__mro__"].__get__(t)
    return mro if type(mro) is tuple else ()


def _subclass_of(t: type, classes: Sequence[type]) -> type | None:
    """The first of ``classes`` in ``t``'s real MRO, by identity (``issubclass`` may consult ABCs and metaclasses)."""
    for base in _real_mro(t):
        for c in classes:
            if base is c:
                return c
    return None


class Opaque:
    """A reader's object of a type the checker does not read, kept unread: a function answer, or a top-level
    object whose type name a message reports. Only :func:`compare_function` unwraps it (to run it in a child)."""

    __slots__ = ("value", "type_name")

    def __init__(self, value: Any, type_name: str) -> None:
        self.value, self.type_name = value, type_name


class FunctionAnswer:
    """A reader's function sent to the judge process as bytes (``cloudpickle``), rebuilt and called only in the
    confined child that runs it (:func:`_trials`); ``type_name`` names what the reader gave."""

    __slots__ = ("payload", "type_name")

    def __init__(self, payload: bytes, type_name: str) -> None:
        self.payload, self.type_name = payload, type_name


def copy_answer(answer: Any) -> Any:
    """:func:`plain_copy` of ``answer``, or the ``invalid`` :class:`Verdict` that says why it cannot be copied.

    Parameters
    ----------
    answer : object
        A reader's answer.

    Returns
    -------
    object or Verdict
    """
    try:
        return plain_copy(answer)
    except _Invalid as err:
        return Verdict(INVALID, str(err))
    except Exception as err:
        return _unreadable("your answer", err)


class SympyTree(tuple):
    """A sympy object of a plain copy as data, ``(kind, class key, data)``, so that it crosses to the judge process
    unevaluated (unpickling a sympy object evaluates it again: ``Pow(3, 10**12, evaluate=False)`` would hang)."""

    __slots__ = ()


_SYMPY_BY_KEY = {f"{c.__module__}.{c.__qualname__}": c for c in _SYMPY.values()}   # as _class_key names them


def _map_plain(x: Any, leaf: Callable[[Any], Any]) -> Any:
    """``x`` (a plain copy, or its encoding) with ``leaf`` applied below its lists, tuples, sets, dicts and object
    arrays, which are rebuilt around the results."""
    t = type(x)
    if t is list:
        return [_map_plain(v, leaf) for v in x]
    if t is tuple:
        return tuple(_map_plain(v, leaf) for v in x)
    if t is set or t is frozenset:
        return t(_map_plain(v, leaf) for v in x)
    if t is dict:
        return {_map_plain(k, leaf): _map_plain(v, leaf) for k, v in x.items()}
    if t is np.ndarray and x.dtype == object:
        out = np.empty(x.size, dtype=object)
        out[:] = [_map_plain(v, leaf) for v in x.ravel().tolist()] if x.size else []
        return out.reshape(x.shape)
    return leaf(x)


def _class_key(t: type) -> str:
    return f"{t.__module__}.{t.__qualname__}"


def encode_plain(x: Any) -> Any:
    """A plain copy (:func:`plain_copy`) with every sympy object and matrix replaced by a :class:`SympyTree`.

    Parameters
    ----------
    x : object
        A plain copy.

    Returns
    -------
    object
        Picklable without sympy objects; :func:`decode_plain` inverts it.
    """
    return _map_plain(x, _encode_leaf)


def _encode_leaf(x: Any) -> Any:
    t = type(x)
    if _is(t, _MATRICES):
        return SympyTree(("matrix", _class_key(t), (x.rows, x.cols, tuple(encode_plain(e) for e in x))))
    if _SYMPY.get(id(t)) is not t:
        return x
    if isinstance(t, Singleton):
        return SympyTree(("singleton", _class_key(t), ()))
    if t is sp.Symbol:
        return SympyTree(("symbol", _class_key(t), x.name))
    if t is sp.Integer or t is sp.Rational:
        return SympyTree(("rational", _class_key(t), (x.p, x.q)))
    if t is sp.Float:
        return SympyTree(("float", _class_key(t), (x._mpf_, x._prec)))
    return SympyTree(("node", _class_key(t), tuple(encode_plain(a) for a in x.args)))


def decode_plain(x: Any) -> Any:
    """The inverse of :func:`encode_plain` (sympy objects rebuilt unevaluated, from sympy's own classes only).

    Parameters
    ----------
    x : object
        What :func:`encode_plain` returned.

    Returns
    -------
    object
        The plain copy.
    """
    return _map_plain(x, _decode_leaf)


def _decode_leaf(x: Any) -> Any:
    if type(x) is not SympyTree:
        return x
    kind, key, data = x
    classes = {_class_key(c): c for c in _MATRICES} if kind == "matrix" else _SYMPY_BY_KEY
    cls = classes.get(key)
    if cls is None:
        raise _Invalid("your answer contains a sympy object the checker cannot rebuild.")
    if kind == "matrix":
        rows, cols, entries = data
        return cls(rows, cols, [decode_plain(e) for e in entries])
    if kind == "singleton":
        return cls()
    if kind == "symbol":
        return sp.Symbol(data)
    if kind == "rational":
        return sp.Rational(*data)
    if kind == "float":
        return sp.Float._new(*data)
    with sp.evaluate(False):
        return cls(*[decode_plain(a) for a in data])


_SCALARS = (type(None), type(Ellipsis), bool, int, float, complex, np.bool_, np.complex64, np.complex128) \
    + NP_INTS + _NP_FLOATS
_PLAIN = (int, float, complex, str, bytes, list, tuple, dict, set, frozenset, Fraction, np.ndarray, np.generic)


def plain_copy(value: Any) -> Any:
    """A copy of a reader's answer made only of plain Python, NumPy and sympy objects, read without running
    anything the answer's objects or their types define.

    This is the first step of every check (in the checker's worker): everything after it reads the copy.
    Types are decided by identity (``type(x) is list``), never by ``isinstance``, ``==`` or hashing of the
    reader's objects; containers are walked with the exact types' own methods; sympy objects are rebuilt
    from sympy's own classes (:func:`_rebuild`); a tensor becomes a NumPy copy (:func:`plain_array`). Sizes
    are checked before anything is expanded: more than ``MAX_ITEMS`` entries or ``MAX_TEXT`` characters
    is refused. A top-level object of any other type (a function, say) comes back as an :class:`Opaque`;
    nested, it is refused.

    Parameters
    ----------
    value : object
        A reader's answer.

    Returns
    -------
    object
        The plain copy (immutable scalars are returned as they are).

    Raises
    ------
    _Invalid
        For an object of a foreign type inside a container, a subclass of a plain type, or an answer too large.
    """
    budget = [MAX_ITEMS, MAX_TEXT]
    if _copy_kind(value) is None:
        return Opaque(value, _type_name(value))
    return _copy(value, budget, 0)


def _copy_kind(x: Any) -> str | None:
    t = type(x)
    if _is(t, _SCALARS) or t is str or t is bytes or t is Fraction:
        return "scalar"
    if t is Opaque:
        return "opaque"
    if t is list or t is tuple or t is dict or t is set or t is frozenset:
        return "container"
    if t is np.ndarray or (_tensor_type() is not None and t is _tensor_type()):
        return "array"
    if _is(t, _MATRICES) or _SYMPY.get(id(t)) is t:
        return "sympy"
    return None


def _too_large() -> _Invalid:
    return _Invalid(f"your answer is too large for this checker (more than {MAX_ITEMS} entries or {MAX_TEXT} "
                    "characters); no exercise asks for that much.")


def _copy(x: Any, budget: list[int], depth: int) -> Any:
    t = type(x)
    budget[0] -= 1
    if budget[0] < 0:
        raise _too_large()
    if depth > MAX_DEPTH:
        raise _Invalid("your answer is nested too deep (a list that contains itself?).")
    if t is str or t is bytes:
        budget[1] -= len(x)
        if budget[1] < 0:
            raise _too_large()
        return x
    if t is Fraction:
        p, q = x.numerator, x.denominator            # Fraction's own properties
        if type(p) is not int or type(q) is not int or q <= 0:
            raise _Invalid("your answer contains a Fraction whose numerator or denominator is not an int.")
        return Fraction(p, q)
    if _is(t, _SCALARS):
        if t is int and x.bit_length() > 100_000:
            raise _too_large()
        return x
    if t is Opaque:
        if depth > 0:
            raise _Invalid(f"your answer contains an object of type {x.type_name}, which the checker does not read.")
        return x
    if t is list or t is tuple:
        if len(x) > budget[0]:
            raise _too_large()
        items = [_copy(v, budget, depth + 1) for v in x]
        return items if t is list else tuple(items)
    if t is set or t is frozenset:
        if len(x) > budget[0]:
            raise _too_large()
        return t(_copy(v, budget, depth + 1) for v in x)
    if t is dict:
        if len(x) > budget[0]:
            raise _too_large()
        return {_copy(k, budget, depth + 1): _copy(v, budget, depth + 1) for k, v in dict.items(x)}
    if t is np.ndarray:
        if x.size > budget[0]:
            raise _too_large()
        budget[0] -= x.size
        if x.dtype.kind == "O":
            items = [_copy(v, budget, depth + 1) for v in x.ravel().tolist()]
            out = np.empty(len(items), dtype=object)
            out[:] = items if items else []
            return out.reshape(x.shape)
        if x.dtype.kind in "biufc":
            return x.copy()
        raise _Invalid(f"your answer contains an array of dtype {x.dtype}, which the checker does not read; "
                       "give numbers.")
    tensor = _tensor_type()
    if tensor is not None and t is tensor:
        if tensor.numel(x) > budget[0]:
            raise _too_large()
        budget[0] -= tensor.numel(x)
        return plain_array(x, "your answer")
    if _is(t, _MATRICES):
        d = _instance_dict(x)
        rows, cols = d.get("rows", d.get("_rows")), d.get("cols", d.get("_cols"))
        if type(rows) is int and type(cols) is int and rows * cols > budget[0]:
            raise _too_large()
        rows, cols, entries = _matrix_entries(x, "your answer")
        return t(rows, cols, [_copy(e, budget, depth + 1) for e in entries])
    if _SYMPY.get(id(t)) is t:
        nodes = [MAX_NODES]
        copied = _rebuild(x, nodes)
        budget[0] -= MAX_NODES - nodes[0]
        if budget[0] < 0:
            raise _too_large()
        return copied
    plain = _subclass_of(t, _PLAIN)
    if plain is not None:
        raise _Invalid(f"your answer contains a {_type_name(x)}, a subclass of {plain.__name__}; give a plain "
                       f"{plain.__name__} (the checker does not read subclasses: their methods are the reader's).")
    if tensor is not None and _subclass_of(t, (tensor,)):
        raise _Invalid(f"your answer contains a {_type_name(x)} (a subclass of torch.Tensor); give a plain "
                       "torch.Tensor (e.g. t.detach() for a Parameter, or torch.tensor(values)).")
    raise _Invalid(f"your answer contains an object of type {_type_name(x)}, which the checker does not read: "
                   "give numbers, lists, tuples, dicts, sets, NumPy arrays, torch tensors or sympy objects.")



def _reads_a_plain_copy(compare: Callable[..., Verdict]) -> Callable[..., Verdict]:
    """Make ``compare(answer, ...)`` read :func:`plain_copy` ``(answer)`` (an answer that cannot be copied is
    ``invalid``), so that nothing it does runs code of the reader's objects."""
    @functools.wraps(compare)
    def reading_a_copy(answer: Any, *args: Any, **kwargs: Any) -> Verdict:
        try:
            answer = plain_copy(answer)
        except _Invalid as err:
            return Verdict(INVALID, str(err))
        return compare(answer, *args, **kwargs)
    return reading_a_copy


def judge_answer(answer: Any, verify: Callable[[Any, Any], Verdict], expected: Callable[[], Any]) -> Verdict:
    """Judge one answer: compute the expected value, copy the answer (:func:`plain_copy`), then ``verify``.

    What goes wrong becomes a verdict: the expected value cannot be computed (the checker's fault:
    ``undecided``); the answer cannot be copied, or reading or evaluating the copy fails (``invalid``, with
    the reason: e.g. a sympy object that cannot be evaluated at a point).

    Parameters
    ----------
    answer : object
        The reader's answer, as given.
    verify : callable
        ``verify(copy, expected) -> Verdict`` (an exercise's verifier).
    expected : callable
        ``expected() -> value``.

    Returns
    -------
    Verdict
    """
    try:
        value = expected()
    except Exception as err:
        return Verdict(UNDECIDED, f"The checker could not compute the expected value ({_type_name(err)}"
                                  f"{_exception_text(err)}); ask an instructor to look at this exercise.")
    try:
        copied = plain_copy(answer)
    except _Invalid as err:
        return Verdict(INVALID, str(err))
    try:
        return verify(copied, value)
    except (_Invalid, _NotAttempted) as err:
        return Verdict(INVALID, str(err)) if type(err) is _Invalid else not_attempted()
    except Exception as err:
        return Verdict(INVALID, f"The checker could not read or evaluate your answer ({_type_name(err)}"
                                f"{_exception_text(err)}). Give numbers or an expression built from the exercise's "
                                "symbols, numbers and elementary functions.")

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
    _Invalid
        When the value is not one number or sympy object (a string, None, a list, a boolean...).
    """
    _reject_non_answers(value, what)
    t = type(value)
    if t is bool or t is np.bool_:
        raise _Invalid(f"{what} is a boolean ({bool(value)}); a number was expected.")
    if t is int or _is(t, NP_INTS):
        return sp.Integer(int(value))
    if t is Fraction:
        p, q = value.numerator, value.denominator
        if type(p) is not int or type(q) is not int:
            raise _Invalid(f"{what} is a Fraction whose numerator or denominator is not an int.")
        return sp.Rational(p, q)
    if t is float or _is(t, _NP_FLOATS):
        f = float(value)
        if not math.isfinite(f):
            raise _Invalid(f"{what} is {f}, not a finite number.")
        return sp.Float(f)
    if t is complex or _is(t, (np.complex64, np.complex128)):
        raise _Invalid(f"{what} is a complex number; a real number was expected.")
    if t is np.ndarray or (_tensor_type() is not None and t is _tensor_type()):
        array = plain_array(value, what)
        if array.size != 1:
            raise _Invalid(f"{what} has shape {array.shape}; one number was expected.")
        return read_sympy(array.reshape(-1).tolist()[0], what)
    if _is(t, _MATRICES):
        rows, cols, entries = _matrix_entries(value, what)
        if (rows, cols) != (1, 1):
            raise _Invalid(f"{what} is a matrix of shape {(rows, cols)}; one number or expression was expected.")
        return read_sympy(entries[0], what)
    if _SYMPY.get(id(t)) is t:
        return _rebuild(value, [MAX_NODES])
    if _subclass_of(t, (int, float, Fraction)) is not None:
        raise _Invalid(f"{what} has type {_type_name(value)}, a subclass of a number type; give a plain "
                       "int, Fraction or sympy number.")
    raise _Invalid(f"{what} has type {_type_name(value)}; a number or a sympy expression was expected.")


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
    _Invalid
        When it is not a real expression in ``symbols`` (another symbol, an equation, infinity, ``I``).
    """
    expr = read_sympy(value, what)
    if not _is_expression(expr):
        raise _Invalid(f"{what} is a sympy {type(expr).__name__}, not an expression (an equation, a set, a "
                       "Lambda?). Give the expression itself.")
    by_name = {s.name: s for s in symbols}
    expr = _reevaluated(expr, what)           # before any rebuilding: it refuses huge powers and exposes 0·∞
    expr = _evaluated(expr.xreplace({s: by_name[s.name] for s in expr.free_symbols if s.name in by_name}), what)
    unknown = sorted(s.name for s in expr.free_symbols if s.name not in by_name)
    if unknown:
        raise _Invalid(f"{what} uses the symbol(s) {unknown}, which this exercise does not define; "
                       f"use only {sorted(by_name)}.")
    if isinstance(expr, sp.Piecewise) and len(expr.args) > 1 and (
            expr.has(sp.Sum, sp.Integral, sp.Product, sp.oo, -sp.oo, sp.zoo, sp.nan)):
        conditions = "; ".join(f"{sp.sstr(c)}" for _, c in expr.args[:-1])
        raise _Invalid(f"{what} is a Piecewise: sympy found that its value depends on a condition ({_short(conditions)}), "
                       "and it stays unevaluated (a sum or integral that does not converge) otherwise. "
                       "Give the expression for the case the exercise asks about: expr.args[0][0] is the first piece.")
    if expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise _Invalid(f"{what} contains nan or infinity ({_show(expr)}).")
    if expr.has(sp.I):
        raise _Invalid(f"{what} contains the imaginary unit I; a real expression was expected.")
    return expr


def _reevaluated(expr: sp.Basic, what: str = "your answer") -> sp.Basic:
    """``expr`` evaluated again from its leaves up, after refusing powers too large to compute with.

    An answer read unevaluated (``evaluate=False``) can hide an undefined term that evaluating its parent drops
    unseen: ``ref + Mul(0, Pow(0, -1))`` is ``ref + 0·∞ = nan``, but ``Add`` drops a term whose coefficient is 0.
    Evaluating every node from the leaves makes it ``nan``, which the readers refuse."""
    _refuse_huge_powers(expr, what)

    def again(e: sp.Basic) -> sp.Basic:
        if not e.args or isinstance(e, (sp.Integral, sp.Sum, sp.Product, sp.Derivative, sp.Limit, sp.Subs,
                                        sp.Piecewise, sp.Lambda)):
            return e
        return e.func(*[again(a) for a in e.args])

    try:
        return again(expr)
    except (TypeError, ValueError, ZeroDivisionError, AttributeError, RecursionError) as err:
        raise _Invalid(f"{what} cannot be evaluated ({type(err).__name__}: {_short(str(err), 100)}).") from None


def _refuse_huge_powers(expr: sp.Basic, what: str) -> None:
    for power in expr.atoms(sp.Pow):
        if not power.exp.free_symbols and not power.base.free_symbols and (_huge(power.exp)
                                                                           or _bits(power) > MAX_BITS):
            raise _Invalid(f"{what} contains the power {_show(power)}, far too large to compute with; "
                           "simplify it.")


def _evaluated(expr: sp.Basic, what: str = "your answer") -> sp.Basic:
    """``expr`` with its integrals, sums, products, derivatives, limits and substitutions evaluated;
    refused when it holds a power too large to compute with, such as ``2**(2**100)``."""
    expr = _reevaluated(expr, what)
    for power in expr.atoms(sp.Pow):
        if not power.exp.free_symbols and not power.base.free_symbols and (_huge(power.exp)
                                                                           or _bits(power) > MAX_BITS):
            raise _Invalid(f"{what} contains the power {_show(power)}, far too large to compute with; "
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


MAX_BITS = 2 * 10**6
"""A constant power whose value may need more bits than this is refused (``(2**(10**6))**(10**6)``)."""


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
    _Invalid
        When the value is not a constant real number.
    """
    number = _evaluated(read_sympy(value, what), what)
    if not _is_expression(number) or number.free_symbols or number.has(sp.nan, sp.zoo, sp.oo, -sp.oo, sp.I):
        raise _Invalid(f"{what} ({_show(number)}) is not a real number (a symbol, infinity or a non-expression?).")
    return number


def _unreadable(what: str, err: Exception) -> Verdict:
    """The verdict when reading an answer failed in a way no check foresaw (not a checker bug: the answer)."""
    return Verdict(INVALID, f"{what} could not be read ({_type_name(err)}{_exception_text(err)}). Give plain ints, "
                            "fractions.Fraction, sympy numbers, symbols and functions in the form below.")


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
    _Invalid
        When the value is not a vector of ``length`` entries.
    """
    _reject_non_answers(value, what)
    t = type(value)
    names = f" ({', '.join(labels)})" if labels else ""
    if t is dict:
        if labels is None:
            raise _Invalid(f"{what} is a dict; give a list of {length} values instead.")
        folded = {fold(label): label for label in labels}
        by_label = {}
        for key, item in dict.items(value):
            if type(key) is not str or fold(key) not in folded:
                raise _Invalid(f"{what} is a dict with a key that is not one of {list(labels)}.")
            if folded[fold(key)] in by_label:
                raise _Invalid(f"{what} has two keys for {folded[fold(key)]}.")
            by_label[folded[fold(key)]] = item
        missing = [label for label in labels if label not in by_label]
        if missing:
            raise _Invalid(f"{what} is a dict without the key(s) {missing}; give exactly the keys {list(labels)}.")
        return [by_label[label] for label in labels]
    if _is(t, _MATRICES):
        rows, cols, items = _matrix_entries(value, what)
        if 1 not in (rows, cols):
            raise _Invalid(f"{what} is a {(rows, cols)} matrix; a vector of {length} values was expected.")
    elif t is np.ndarray or (_tensor_type() is not None and t is _tensor_type()):
        array = plain_array(value, what)
        if array.ndim == 2 and 1 in array.shape:          # a row or a column, as for a sympy Matrix
            array = array.reshape(-1)
        if array.ndim != 1:
            raise _Invalid(f"{what} has shape {array.shape}; a 1-D vector of {length} values was expected.")
        items = array.tolist()
    elif t is list or t is tuple:
        items = list(value)
    elif t is sp.Tuple:
        _plain_instance(value, (), what)
        items = list(value.args)
    else:
        raise _Invalid(f"{what} has type {_type_name(value)}; a list of {length} values{names} was expected.")
    if len(items) != length:
        raise _Invalid(f"{what} has {len(items)} values; expected {length}{names}.")
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


# ---------------------------------------------------------------------------- deciding equality
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


def _float_example(expr: sp.Basic) -> str:
    """How to write the smallest float of ``expr`` exactly (only used when that fraction is right)."""
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


def _float_status(answer: sp.Basic, expected: sp.Basic, symbols: Sequence[sp.Symbol] = (),
                  domain: Mapping | None = None) -> str:
    """How an answer with floats compares with the exact ``expected``, never by a tolerance the exercise lacks.

    ``right``: read as the fractions its floats stand for (:func:`_float_as_fraction`: the double nearest to
    a small fraction, else its decimals), it is right. ``rounded``: it agrees to the digits printed (a number
    within :func:`_rounding` of the expected value; an expression right with each float read as the simplest
    fraction that prints as it), so only rounding is off. ``wrong``: neither. ``unsure``: the checker could not
    decide.
    """
    first = decide(_exactified(answer), expected, symbols, domain=domain)
    if first.status == CORRECT:
        return RIGHT
    if not answer.has(sp.Float):
        return UNSURE if first.status == UNDECIDED else WRONG
    if answer.is_Float:
        e_val = _value(expected, {})
        if e_val is None:
            return UNSURE
        width = sp.Rational(_rounding(float(answer)))
        return ROUNDED if abs(sp.Rational(Fraction(float(answer))) - e_val) <= width else WRONG
    second = decide(answer.xreplace({f: _rounded_as_fraction(f) for f in answer.atoms(sp.Float)}), expected,
                    symbols, domain=domain)
    if second.status == CORRECT:
        return ROUNDED
    return UNSURE if UNDECIDED in (first.status, second.status) else WRONG


def _rounded_note(floats: Sequence[sp.Float]) -> str:
    """What to do with rounded floats, naming one of them, without suggesting a fraction that is wrong."""
    f = float(floats[0])
    q = Fraction(repr(f))
    return (f"{f!r} is rounded, and so is the fraction of its digits, sp.Rational({q.numerator}, "
            f"{q.denominator}): work the exact values out (fractions.Fraction or sp.Rational arithmetic keeps "
            "them exact) instead of converting rounded decimals")


def _value(expr: sp.Expr, point: Mapping) -> sp.Expr | None:
    """``expr`` at ``point``: an exact Rational when possible, else a 30-digit Float; None if undefined or not real."""
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


def _draw_point(rng: np.random.Generator, symbols: Sequence[sp.Symbol], domain: Mapping, nice: bool = False,
                pinned: Mapping | None = None) -> dict | None:
    """One point of the domain; ``pinned`` maps symbols to ``"low"``/``"high"``: those sit at that end of their
    range (None if the end is open, infinite or the range empty there)."""
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
        point = _draw_point(rng, symbols, domain, nice=True, pinned=pin)
        if point is not None and point not in points:
            points.append(point)
    return points


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
            e_val = _value(expected, point)
            if e_val is None:
                continue
            a_val = _value(answer, point)
            shown = ", ".join(f"{s.name} = {_show(v)}" for s, v in point.items())
            where = f" at {shown}" if shown else ""
            if a_val is None:
                return Verdict(INCORRECT, f"{what} is undefined (or not real){where}, where the expected one is "
                                          "defined.")
            if _differ(a_val, e_val):
                shown_val = _show(a_val) if a_val.is_Rational else f"{float(a_val):.6g}"
                return Verdict(INCORRECT, f"{what} differs from the expected one{where}: it gives {shown_val}.")
        return None

    edge = refuted(boundary_points(symbols, domain, seed) if symbols else [])
    if edge is not None:
        return edge
    difference = answer - expected
    try:
        with time_limit(max(0.05, _Run.seconds / 4)):
            if sp.cancel(sp.together(difference)) == 0:
                return Verdict(CORRECT, "Correct: the difference with the expected expression cancels exactly.")
    except _Timeout:
        pass
    rational = (not difference.has(sp.Float) and not difference.atoms(sp.Function, sp.NumberSymbol)
                and all(p.exp.is_Integer for p in difference.atoms(sp.Pow)))
    rng = np.random.default_rng(seed)
    nice = np.random.default_rng([seed, 1])                 # its own stream: the other points stay as they were
    points = [_draw_point(nice, symbols, domain, nice=True) for _ in range(NICE_POINTS)]
    points += [_draw_point(rng, symbols, domain) for _ in range(n_points)]
    verdict = refuted([pt for pt in points if pt is not None] if symbols else [{}])
    if verdict is not None:
        return verdict
    if not rational:
        try:
            with time_limit(max(0.05, _Run.seconds / 2)):
                if sp.simplify(difference) == 0:
                    return Verdict(CORRECT, "Correct: sympy simplifies the difference with the expected "
                                            "expression to 0.")
        except _Timeout:
            pass
    return Verdict(UNDECIDED, f"{what} agrees with the expected one at every point tried, but the checker could "
                              "neither prove nor refute that they are equal everywhere. Try a simpler form, or "
                              "ask an instructor to look at this answer.")


def _float_policy(answer: sp.Basic, expected: sp.Basic, symbols: Sequence[sp.Symbol] = (),
                  domain: Mapping | None = None, what: str = "your answer") -> Verdict:
    """The one float policy where no tolerance is stated: ``invalid``, saying whether the floats are right, right
    to the digits printed (only rounded), or wrong, and suggesting a fraction only when it is the right one."""
    status = _float_status(answer, expected, symbols, domain)
    lead = f"{what} contains floats, and this exercise asks for exact values ({EXACT_HINT})."
    if status == RIGHT:
        return Verdict(INVALID, f"{lead} Read as the fractions they stand for, your values are right: write e.g. "
                                f"{_float_example(answer)}.")
    if status == ROUNDED:
        floats = sorted(answer.atoms(sp.Float), key=lambda v: float(v))
        return Verdict(INVALID, f"{lead} Your values agree with the right ones to the digits you gave, but "
                                f"{_rounded_note(floats)}.")
    if status == UNSURE:
        return Verdict(INVALID, f"{lead} The checker cannot tell whether your values are right, even allowing "
                                "for rounding: give them exactly.")
    how = "" if answer.is_Float else (" (each float read as the fraction it stands for, or as the simplest "
                                      "fraction that rounds to it)")
    return Verdict(INVALID, f"{lead} Even allowing for the rounding of the digits you gave{how}, it is not right.")


# ---------------------------------------------------------------------------- comparing numbers
def _reading(read: Callable[[], Any], what: str) -> Any:
    """Run one step that reads an answer; a stub, an unreadable answer or garbage comes back as its Verdict."""
    try:
        return read()
    except _NotAttempted:
        return not_attempted()
    except _Invalid as err:
        return Verdict(INVALID, str(err))
    except Exception as err:
        return _unreadable(what, err)


@_reads_a_plain_copy
def compare_number(answer: Any, expected: Any, *, tol: float | None = None, what: str = "your answer") -> Verdict:
    """Compare one number with an exact expected value.

    ``tol=None`` asks for an exact answer: ints, fractions and sympy numbers or
    constant expressions equal to the expected value pass; floats are
    ``invalid`` (the message says whether they are numerically right). With
    ``tol``, numbers within ``tol·max(1, |expected|)`` pass.

    Parameters
    ----------
    answer : object
        The reader's number.
    expected : number or sympy.Expr
        The exact value.
    tol : float, optional
        Relative tolerance; ``None`` asks for an exact value.
    what : str
        How the message names the answer (e.g. ``"your answer"``).

    Returns
    -------
    Verdict
        ``correct`` for the exact value (or one within ``tol``); floats without ``tol`` are ``invalid``.
    """
    a = _reading(lambda: read_number(answer, what), what)
    if type(a) is Verdict:
        return a
    e = read_sympy(expected, "the expected value")
    if tol is not None:
        a_val = _value(a, {})
        if a_val is None:
            return Verdict(INVALID, f"{what} ({_show(a)}) does not evaluate to a real number.")
        if abs(float(a_val) - float(e)) <= tol * max(1.0, abs(float(e))):
            return Verdict(CORRECT, f"Correct (within the tolerance {tol:g}).")
        return Verdict(INCORRECT, f"{what} ({float(a_val):.6g}) is off by more than the tolerance {tol:g}.")
    if a.has(sp.Float):
        return _float_policy(a, e, what=what)
    verdict = decide(a, e, what=what)
    if verdict.status == INCORRECT:
        return Verdict(INCORRECT, f"{what} ({_show(a)}) is not right.")
    return Verdict(verdict.status, "Correct." if verdict.passed else verdict.message)


# ---------------------------------------------------------------------------- comparing vectors
@_reads_a_plain_copy
def compare_vector(answer: Any, expected: Sequence, *, labels: Sequence[str] | None = None,
                   tol: float | None = None, diagnose: Callable[[list], list[str]] | None = None,
                   one_hint: bool = False, what: str = "your answer") -> Verdict:
    """Compare a vector of numbers entry by entry (exactly, or within ``tol``).

    ``diagnose(values) -> [hints]`` runs on the reader's values (plain sympy
    numbers) and explains structural problems, e.g. an axiom that fails. The
    message names the entries that are wrong (per-entry feedback, on purpose),
    never their right values. With ``one_hint`` a hint from ``diagnose`` replaces
    the names of the wrong entries: for Shapley values the two together hand over
    the answer (the right entries, then an axiom for the rest). Floats where
    ``tol`` is None are ``invalid``; the message names the entries that are wrong
    even allowing for the rounding of the digits given, or says that the values
    agree to those digits (:func:`_float_status`), and suggests a fraction only
    when it is the right one.

    Parameters
    ----------
    answer : object
        The reader's vector (see :func:`read_list`).
    expected : sequence
        The exact values.
    labels : sequence of str, optional
        Entry names used in messages and as dict keys.
    tol : float, optional
        Relative tolerance; ``None`` asks for exact values.
    diagnose : callable, optional
        ``diagnose(values) -> [hints]``.
    one_hint : bool, default=False
        Give a hint from ``diagnose`` instead of naming the wrong entries, never both (floats: no hint).
    what : str
        How messages name the vector (e.g. ``"your answer"``); entries are named by ``labels``.

    Returns
    -------
    Verdict
        ``correct`` when every entry is; otherwise the message names the wrong entries, not their values.
    """
    names = list(labels) if labels is not None else [str(i) for i in range(len(expected))]
    values = _reading(lambda: [read_number(v, f"the entry for {n}")
                               for v, n in zip(read_list(answer, len(expected), labels, what), names)], what)
    if type(values) is Verdict:
        return values
    expected = [read_sympy(e, "the expected value") for e in expected]
    hints = list(diagnose(values)) if diagnose is not None else []
    if tol is None and any(v.has(sp.Float) for v in values):
        status = [_float_status(v, e) for v, e in zip(values, expected)]
        wrong = [n for n, s in zip(names, status) if s == WRONG]
        unsure = [n for n, s in zip(names, status) if s == UNSURE]
        rounded = [f for v, s in zip(values, status) if s == ROUNDED for f in sorted(v.atoms(sp.Float), key=float)]
        lead = f"This exercise asks for exact values ({EXACT_HINT}), and floats are not exact."
        if wrong and one_hint and hints:
            return Verdict(INVALID, f"{lead} {hints[0]} The checker names the wrong entries once no such hint "
                                    "applies.")
        if wrong:
            judged = (f"Even allowing for the rounding of the digits you gave, your values are not right yet for: "
                      f"{', '.join(wrong)}.")
            return Verdict(INVALID, " ".join(hints + [lead, judged]))
        if unsure:
            return Verdict(INVALID, f"{lead} The checker cannot tell whether your values for {', '.join(unsure)} "
                                    "are right: give them exactly.")
        if rounded:
            return Verdict(INVALID, f"{lead} Your values agree with the right ones to the digits you gave, but "
                                    f"{_rounded_note(rounded)}.")
        example = _float_example(next(v for v in values if v.has(sp.Float)))
        return Verdict(INVALID, f"{lead} Read as the fractions they stand for, your values are right: write e.g. "
                                f"{example}.")
    verdicts = [compare_number(v, e, tol=tol, what=f"the entry for {n}") for v, e, n in zip(values, expected, names)]
    wrong = [n for n, v in zip(names, verdicts) if v.status == INCORRECT]
    unsure = [n for n, v in zip(names, verdicts) if v.status == UNDECIDED]
    if not wrong and not unsure:
        return Verdict(CORRECT, "Correct: every entry is right.")
    if wrong and one_hint and hints:
        return Verdict(INCORRECT, f"{hints[0]} The checker names the wrong entries once no such hint applies.")
    if wrong:
        return Verdict(INCORRECT, " ".join(hints + [f"Not right yet for: {', '.join(wrong)}."]))
    return Verdict(UNDECIDED, f"The checker could not decide the entries for {', '.join(unsure)}; give them as "
                              "exact fractions.")


# ---------------------------------------------------------------------------- comparing names
def _read_names(value: Any, vocabulary: Sequence[str], what: str, single: bool = False) -> set[str]:
    """A set of names from ``vocabulary`` (a single name counts as a set of one; with one-letter names,
    'BC' stands for {'B', 'C'}); never evaluated."""
    folded = {fold(v): v for v in vocabulary}
    letters = all(len(v) == 1 for v in vocabulary)

    def name(x: Any) -> str:
        if type(x) is not str:
            raise _Invalid(f"{what} contains a {_type_name(x)} where a name such as {vocabulary[0]!r} was expected.")
        if fold(x) not in folded:
            raise _Invalid(f"{_short(repr(x), 40)} is not one of the names {list(vocabulary)}.")
        return folded[fold(x)]

    if type(value) is str and "," in value:
        names = ", ".join(repr(folded.get(fold(part), part.strip())) for part in value.split(","))
        raise _Invalid(f"{what} is one string with commas in it; give a set of names such as "
                       f"{{{_short(names, 60)}}}.")
    if type(value) is str:
        if letters and not single and fold(value) not in folded and len(fold(value).replace(" ", "")) > 1:
            return {name(c) for c in fold(value).replace(" ", "")}
        return {name(value)}
    if not _is(type(value), (set, frozenset, list, tuple)):
        asked = "one name" if single else "a name or a set of names"
        raise _Invalid(f"{what} should be {asked} from {list(vocabulary)}, e.g. {vocabulary[0]!r}; "
                       f"got {_type_name(value)}.")
    return {name(x) for x in value}


@_reads_a_plain_copy
def compare_names(answer: Any, expected: set, vocabulary: Sequence[str], *, pairs: bool = False,
                  single: bool = False, explain: Callable[[set], list[str]] | None = None,
                  what: str = "your answer") -> Verdict:
    """Compare a set of names (a single name is a set of one, everywhere), or with ``pairs=True`` a set of
    unordered pairs of different names, with the expected set. With ``single=True`` exactly one name is asked.

    Names match ``vocabulary`` with case, spaces, '_' and '-' folded; they are never evaluated.
    The message says what kind of mistake was made (a name too many, one missing) and
    adds at most one of ``explain(given)``'s hints, so that it never lists the answer.

    Parameters
    ----------
    answer : object
        A name, or a set/list of names (pairs with ``pairs=True``).
    expected : set
        The expected names (or frozensets of two names).
    vocabulary : sequence of str
        Every name the exercise knows.
    pairs : bool, default=False
        Compare unordered pairs of names.
    single : bool, default=False
        Exactly one name is asked.
    explain : callable, optional
        ``explain(given) -> [hints]``.
    what : str
        How messages name the set of names.

    Returns
    -------
    Verdict
        ``correct`` for the expected set; otherwise the kind of mistake (a name too many, one missing).
    """
    def read() -> set:
        if answer is Ellipsis:
            raise _NotAttempted()
        if pairs:
            items = [answer] if type(answer) is tuple and len(answer) == 2 and type(answer[0]) is str else answer
            if not _is(type(items), (set, frozenset, list, tuple)):
                raise _Invalid(f"{what} should be a set of pairs such as {{({vocabulary[0]!r}, {vocabulary[1]!r})}}; "
                               f"got {_type_name(answer)}.")
            given = set()
            for item in items:
                if not _is(type(item), (set, frozenset, list, tuple)) or len(item) != 2:
                    raise _Invalid(f"{what} contains an item that is not a pair: give pairs like "
                                   f"({vocabulary[0]!r}, {vocabulary[1]!r}).")
                pair = frozenset(_read_names(list(item), vocabulary, what))
                if len(pair) != 2:
                    raise _Invalid(f"{what} pairs a name with itself; a pair has two different names.")
                given.add(pair)
        else:
            given = _read_names(answer, vocabulary, what, single)
            if single and len(given) != 1:
                raise _Invalid(f"{what} should be one name from {list(vocabulary)}; it has {len(given)}.")
        return given

    given = _reading(read, what)
    if type(given) is Verdict:
        return given
    target = {frozenset(e) for e in expected} if pairs else set(expected)
    if given == target:
        return Verdict(CORRECT, "Correct.")
    item = "pair" if pairs else "name"
    hints = sorted(h for h in (explain(given) if explain is not None else []) if h)[:1]
    if not single:
        if given - target:
            hints.append(f"Your answer includes a {item} that does not belong.")
        if target - given:
            hints.append(f"Your answer misses a {item}.")
    return Verdict(INCORRECT, " ".join(hints + ["Not right yet."]))


@_reads_a_plain_copy
def compare_choices(answer: Any, expected: Mapping[str, set], vocabulary: Sequence[str], *,
                    explain: Callable[[str, str, bool], str] | None = None,
                    what: str = "your answer") -> Verdict:
    """Compare a dict ``{item: set of labels}`` with the expected sets, labels from a fixed vocabulary.

    Items and labels are matched with case, spaces, '_' and '-' folded; a single label counts
    as a set of one. The message names the items that are not right (per-entry feedback) and
    adds at most one hint ``explain(item, label, wrongly_named)``.

    Parameters
    ----------
    answer : object
        The reader's dict ``{item: set of labels}``.
    expected : mapping
        ``{item: set of labels}``.
    vocabulary : sequence of str
        Every label the exercise knows.
    explain : callable, optional
        ``explain(item, label, wrongly_named) -> hint``.
    what : str
        How the message names the answer (e.g. ``"your answer"``).

    Returns
    -------
    Verdict
        ``correct`` when every item is; otherwise the items that are not right.
    """
    if answer is Ellipsis:
        return not_attempted()
    if type(answer) is not dict:
        return Verdict(INVALID, f"{what} should be a dict {{item: set of names}}; got {_type_name(answer)}.")
    items = {fold(k): k for k in expected}
    given: dict[str, set] = {}
    try:
        for key, labels in dict.items(answer):
            if type(key) is not str or fold(key) not in items:
                raise _Invalid(f"{what} has a key that is not one of {list(expected)}.")
            if items[fold(key)] in given:
                raise _Invalid(f"{what} has two keys for {items[fold(key)]!r}.")
            given[items[fold(key)]] = _read_names(labels, vocabulary, f"the entry for {items[fold(key)]!r}")
    except _Invalid as err:
        return Verdict(INVALID, f"{err} (Use set() for none.)")
    except Exception as err:
        return _unreadable(what, err)
    missing = [k for k in expected if k not in given]
    if missing:
        return Verdict(INVALID, f"{what} has no entry for {missing}; give one for each of {list(expected)}.")
    wrong = [k for k in expected if given[k] != set(expected[k])]
    if not wrong:
        return Verdict(CORRECT, "Correct for every item.")
    hints = []
    if explain is not None:
        k = wrong[0]
        extra, lacking = sorted(given[k] - set(expected[k])), sorted(set(expected[k]) - given[k])
        hints = [explain(k, extra[0], True) if extra else explain(k, lacking[0], False)]
    return Verdict(INCORRECT, " ".join([h for h in hints if h] + [f"Not right yet for: {', '.join(wrong)}."]))


# ---------------------------------------------------------------------------- comparing expressions
@_reads_a_plain_copy
def compare_expression(answer: Any, expected: sp.Expr, symbols: Sequence[sp.Symbol], *,
                       domain: Mapping[str, tuple] | None = None, seed: int = 0,
                       what: str = "your expression") -> Verdict:
    """Compare a symbolic expression with the expected one (see :func:`decide`).

    Symbols are matched by *name*, so a reader's ``sp.Symbol('rho')`` matches the
    exercise's ``sp.Symbol('rho', positive=True)`` and takes its assumptions.
    Integrals, sums and products are evaluated first; a 1×1 matrix counts as its entry.
    Floats are ``invalid`` (the message says whether the exact form would be right).

    Parameters
    ----------
    answer : object
        The reader's expression.
    expected : sympy.Expr
        The expected expression.
    symbols : sequence of sympy.Symbol
        The exercise's symbols (from :mod:`creditlib.exercises.symbols`).
    domain : mapping, optional
        ``name → (low, high)`` bounds of the points tried (see :func:`decide`).
    seed : int, default=0
        Seed of the random points.
    what : str
        How the message names the answer (e.g. ``"your answer"``).

    Returns
    -------
    Verdict
        ``correct`` only with a proof of equality (see :func:`decide`); floats are ``invalid``.
    """
    a = _reading(lambda: read_expression(answer, symbols, what), what)
    if type(a) is Verdict:
        return a
    if a.has(sp.Float):
        return _float_policy(a, expected, symbols, domain, what)
    return decide(a, expected, symbols, domain=domain, seed=seed, what=what)


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
    own (:func:`_call_in_child`), which reads each output into
    plain values with ``read_output`` (raising ``_Invalid``) and sends them as
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
    given = _type_name(func)
    if type(func) is Opaque:
        func = func.value
    if func is Ellipsis:
        return not_attempted()
    if not (callable(func) or type(func) is FunctionAnswer):
        return Verdict(INVALID, f"{what} should be a function (pass it without calling it); got {given}.")
    asked = seed if seed is not None else _Run.seed
    seeds = ([asked] if asked is not None else []) + [secrets.randbelow(2**31)]   # a seed alone never passes
    inputs, seed_of = [], []
    for s in seeds:
        rng = np.random.default_rng(s)
        inputs += [draw_input(rng) for _ in range(n_trials)]
        seed_of += [s] * n_trials

    def redo(index: int) -> str:
        return (f"(inputs drawn with seed {seed_of[index]}; check(..., seed={seed_of[index]}) draws them again)")

    limit = max(0.05, min(_Run.deadline - time.monotonic(), _Run.seconds * WORKER_SHARE) - 0.2 * _Run.seconds)
    records, finished = _call_in_child(func, inputs, read_output, limit)
    outputs = []
    for index, (args, record) in enumerate(zip(inputs, records)):
        kind = record[0]
        if kind == "output":
            outputs.append(record[1])
        elif kind == "not attempted" and index == 0:         # the stub raises at once; a function that raises
            return not_attempted()                           # NotImplementedError later has been attempted
        elif kind == "not attempted":
            return Verdict(INCORRECT, f"{what} raised NotImplementedError on input {_show(args)} {redo(index)}.")
        elif kind == "invalid":
            return Verdict(INVALID, f"{what} returned something the checker cannot read on input {_show(args)}: "
                                    f"{_short(record[1], 300)}")
        else:
            confined = (" (The checker runs your function where it may not write files, start processes, send "
                        "signals or open sockets: compute and return the result instead.)"
                        if record[1] in ("PermissionError", "BlockingIOError") or "Operation not permitted" in record[2]
                        else "")
            return Verdict(INCORRECT, f"{what} raised {_short(record[1], 60)}{_short(record[2], 300)} on input "
                                      f"{_show(args)} {redo(index)}.{confined}")
    if len(outputs) < len(inputs):
        index = len(outputs)
        args = _show(inputs[index])
        if not finished:
            return Verdict(INCORRECT, f"{what} took longer than {limit:.2g} s on input {args} (an endless loop?) "
                                      f"{redo(index)}.")
        return Verdict(INCORRECT, f"{what} ended its process (os._exit, a crash, out of memory?) on input {args} "
                                  f"{redo(index)}.")
    for index, (args, got) in enumerate(zip(inputs, outputs)):
        expected = reference(*args)
        if not same(got, expected):
            if show_expected:
                shown = f", the reference returns {_show(expected)}"
            else:
                wrong = [n for n, g, e in zip(labels or [], got, expected) if not same((g,), (e,))]
                shown = f": {' and '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong" if wrong else ""
            return Verdict(INCORRECT, f"{what} is wrong on input {_show(args)}: it returned {_show(got)}{shown} "
                                      f"{redo(index)}." + _array_hint(got, expected))
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


def _trials(func: Callable, inputs: list, read_output: Callable, emit: Callable[[list], None]) -> None:
    """Call ``func`` on each input (copies) and ``emit`` one plain record per call; stop at the first failure.

    Runs the reader's code: only in :func:`_call_in_child`'s child (or, off Linux, under a time limit). A
    :class:`FunctionAnswer` is rebuilt here first (unpickling may run the reader's code too).
    """
    if type(func) is FunctionAnswer:
        try:
            import cloudpickle
            func = cloudpickle.loads(func.payload)
        except _Timeout:
            raise
        except BaseException as err:
            return emit(["raised", _type_name(err), f" (while the checker rebuilt your function in its own process)"
                                                    f"{_exception_text(err)}"])
    for args in inputs:
        try:
            got = func(*copy.deepcopy(args))
        except NotImplementedError:
            return emit(["not attempted"])
        except _Timeout:
            raise
        except BaseException as err:  # the reader's code failed (SystemExit and KeyboardInterrupt too): say where
            return emit(["raised", _type_name(err), _exception_text(err)])
        try:
            emit(["output", _to_json(read_output(got))])
        except _Invalid as err:
            return emit(["invalid", str(err)])
        except Exception as err:
            return emit(["invalid", _unreadable("it", err).message])


def _call_in_child(func: Callable, inputs: list, read_output: Callable, seconds: float) -> tuple[list, bool]:
    """Run :func:`_trials` in a child process; returns the decoded records and whether the child finished.

    The child closes every file descriptor it inherited except its result pipe (so it cannot write to the
    pipe that carries this process's verdict), and dies with this process (``PR_SET_PDEATHSIG``). Its records
    come back as JSON lines and are decoded by :func:`_from_json` (never unpickled). Off Linux the trials run
    here, under ``time_limit``.
    """
    if not sys.platform.startswith("linux"):
        records: list = []
        try:
            with time_limit(seconds):
                _trials(func, inputs, read_output, records.append)
            finished = True
        except _Timeout:
            finished = False
        return [_decoded(json.dumps(r).encode()) for r in records], finished

    def child(write_end: int) -> None:
        os.closerange(3, write_end)
        os.closerange(write_end + 1, 1 << 20)
        _die_with_parent()
        _confine_reader_code()
        _trials(func, inputs, read_output, lambda record: os.write(write_end, json.dumps(record).encode() + b"\n"))

    data, finished, _ = _run_child(child, seconds)
    lines = data.split(b"\n")[:-1]               # a last line without its newline was cut off
    return [_decoded(line) for line in lines[:len(inputs)]], finished


def _confine_reader_code() -> None:
    """In the child that runs a reader's function, before it runs: no terminal, none of the course's
    settings in the environment (``CREDITLIB_PROGRESS_FILE``), and the seccomp filter of
    :mod:`creditlib.sandbox` (no signals to other processes, no new processes, no writes to files, no sockets)."""
    try:                          # no terminal input; output to nowhere (the caller's stdout is not its to write)
        for fd, mode in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY)):
            null = os.open(os.devnull, mode)
            os.dup2(null, fd)
            os.close(null)
    except OSError:
        pass
    for name in [n for n in os.environ if n.startswith("CREDITLIB_")]:
        del os.environ[name]
    import tempfile
    try:
        tempfile.gettempdir()         # found (by writing a probe file) now: torch's lazy imports ask for it later
    except OSError:
        pass
    confine()


def _decoded(line: bytes) -> list:
    """One record from the child, checked field by field; anything malformed becomes an "invalid" record."""
    try:
        record = json.loads(line.decode())
        kind = record[0]
        if kind == "output" and len(record) == 2:
            return ["output", _from_json(record[1])]
        if kind == "not attempted" and len(record) == 1:
            return record
        if kind == "invalid" and len(record) == 2 and type(record[1]) is str:
            return record
        if kind == "raised" and len(record) == 3 and type(record[1]) is str and type(record[2]) is str:
            return record
    except (ValueError, TypeError, IndexError, KeyError, RecursionError, OverflowError):
        pass
    return ["invalid", "its output could not be read back."]


_FRACTION = re.compile(r"(-?[0-9]+)/([0-9]+)")


def _to_json(x: Any) -> Any:
    """A plain value (ints, Fractions, floats, float64 arrays, tuples of them) as JSON-able data."""
    if type(x) is Fraction:
        return f"{x.numerator}/{x.denominator}"
    if type(x) is tuple or type(x) is list:
        return [_to_json(v) for v in x]
    if type(x) is np.ndarray and x.dtype == np.float64:
        return {"shape": list(x.shape), "values": x.ravel().tolist()}
    if type(x) is int or type(x) is float:
        return x
    raise _Invalid(f"it has type {_type_name(x)}, which the checker cannot read.")


def _from_json(j: Any) -> Any:
    """The inverse of :func:`_to_json`, accepting nothing else (``ValueError`` otherwise)."""
    if type(j) is str:
        match = _FRACTION.fullmatch(j)
        if match is None or int(match.group(2)) == 0:
            raise ValueError("not a fraction")
        return Fraction(int(match.group(1)), int(match.group(2)))
    if type(j) is list:
        return tuple(_from_json(v) for v in j)
    if type(j) is dict and sorted(j) == ["shape", "values"]:
        shape, values = j["shape"], j["values"]
        if (type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape)
                or type(values) is not list or not all(type(v) in (int, float) for v in values)
                or len(values) != math.prod(shape)):
            raise ValueError("not an array")
        return np.array(values, dtype=np.float64).reshape(shape)
    if type(j) is int or type(j) is float:
        return j
    raise ValueError("not a plain value")


def _exception_text(err: BaseException) -> str:
    try:
        text = str(err)
        return f": {_short(text)}" if type(text) is str and text else ""
    except BaseException:
        return ""


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
    _Invalid
        When an entry is a float or not rational (the message says how to stay exact).
    """
    items = read_list(value, length, what=what)
    out = []
    for v in items:
        number = read_sympy(v, what)
        if isinstance(number, sp.Float) or (isinstance(number, sp.Basic) and number.has(sp.Float)):
            raise _Invalid(f"{what} contains the float {float(number):.6g}; the inputs are exact Fractions and "
                           "+, −, * and / keep them exact: avoid float constants such as 0.5.")
        if not number.is_Rational:
            raise _Invalid(f"{what} contains {_show(number)}, which is not an exact rational number.")
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
    _Invalid
        When the output is a list, a tuple or an object array instead of a tensor of numbers.
    """
    if type(value) is list or type(value) is tuple:
        raise _Invalid(f"{what} is a {_type_name(value)}; return an array of numbers: a torch.Tensor (e.g. "
                       "torch.stack(...) of the pieces) or a NumPy array (np.array(...)), as the exercise asks.")
    _reject_non_answers(value, what)
    array = plain_array(value, what)
    if array.dtype == object:
        raise _Invalid(f"{what} is an array of Python objects; return a tensor of numbers.")
    return array.astype(np.float64)


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



# ---------------------------------------------------------------------------- time limits and processes
_DEADLINES: list[float] = []


@contextmanager
def time_limit(seconds: float):
    """Raise ``_Timeout`` in the block after ``seconds`` (SIGALRM: main thread only; elsewhere no limit).

    Nests: an inner limit never extends an outer one. :func:`run_isolated` is the
    limit that holds everywhere (it runs the work in a forked worker).

    Parameters
    ----------
    seconds : float
        The limit.

    Returns
    -------
    contextmanager

    Raises
    ------
    _Timeout
        When the block runs longer (a ``BaseException``, so a reader's ``except Exception`` cannot swallow it).
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return
    now = time.monotonic()
    deadline = min([now + seconds] + _DEADLINES)

    def handler(signum, frame):
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, handler)
    _DEADLINES.append(deadline)
    signal.setitimer(signal.ITIMER_REAL, max(deadline - now, 1e-4))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _DEADLINES.pop()
        signal.signal(signal.SIGALRM, previous)
        if _DEADLINES:
            signal.setitimer(signal.ITIMER_REAL, max(_DEADLINES[-1] - time.monotonic(), 1e-4))


def _timeout_verdict(seconds: float) -> Verdict:
    return Verdict(UNDECIDED, f"The check took longer than {seconds:.2g} s and was stopped. Give a simpler form of "
                              "your answer (or, for a function, make sure it ends quickly).")


WORKER_SHARE = 0.9
"""The worker stops itself after this share of the time limit, keeping the rest to report."""


def _guarded(work: Callable[[], Verdict], seconds: float, seed: int | None) -> Verdict:
    """Run ``work`` with the run settings; any escape from the reader's objects becomes a verdict."""
    _Run.seconds, _Run.seed = seconds, seed
    _Run.deadline = time.monotonic() + seconds * WORKER_SHARE
    try:
        with time_limit(seconds * WORKER_SHARE):
            verdict = work()
        if type(verdict) is not Verdict or verdict.status not in STATUSES or type(verdict.message) is not str:
            return Verdict(UNDECIDED, "The checker returned no verdict; ask an instructor to look at this answer.")
        return verdict
    except _Timeout:
        return _timeout_verdict(seconds * WORKER_SHARE)
    except BaseException as err:  # a checker bug: never raise, never pass
        return Verdict(UNDECIDED, f"The checker could not judge this answer ({_type_name(err)}"
                                  f"{_exception_text(err)}).")


def run_isolated(work: Callable[[], Verdict], seconds: float = TIME_LIMIT, seed: int | None = None) -> Verdict:
    """Run ``work()`` in a forked worker and return its verdict within ``seconds``, on any thread.

    The worker runs in a process group of its own, which is killed when the check
    ends; the verdict is read until the worker itself exits (a process it started
    cannot hold the check open). The worker gets the time limit as a SIGALRM (it
    is the main thread there). Only the status and message come back, as one JSON
    line. Ctrl-C in the caller stops the worker and propagates. The worker runs
    torch single-threaded (its OpenMP pool does not survive ``fork``). Forking is
    used on Linux only: elsewhere (macOS, where system libraries are not
    fork-safe, and Windows) the work runs in this process under SIGALRM on the
    main thread, or in a daemon thread that is abandoned after the time limit.

    Parameters
    ----------
    work : callable
        ``work() -> Verdict``.
    seconds : float, default=TIME_LIMIT
        The time limit for the whole check.
    seed : int, optional
        Passed to function checks to redraw their random inputs.

    Returns
    -------
    Verdict
        ``work``'s verdict, or ``undecided`` after the time limit or when the worker died.
    """
    if not sys.platform.startswith("linux"):
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
            return _guarded(work, seconds, seed)
        return _run_in_thread(work, seconds, seed)

    def worker(write_end: int) -> None:
        _die_with_parent()
        _default_signal_handlers()
        _single_threaded_torch()
        gc.freeze()                       # garbage left by the reader's session is never collected (no __del__) here
        sys.settrace(None)
        sys.setprofile(None)
        verdict = _guarded(work, seconds, seed)
        os.write(write_end, json.dumps([verdict.status, verdict.message[:4000]]).encode() + b"\n")

    data, finished, clean_exit = _run_child(worker, seconds)
    if not finished:
        return _timeout_verdict(seconds)
    try:
        status, message = json.loads(data.decode())
        if status in STATUSES and type(message) is str and data.count(b"\n") == 1 and clean_exit:
            return Verdict(status, message)
    except (ValueError, TypeError):
        pass
    return Verdict(UNDECIDED, "The checker's worker ended without a verdict (out of memory?); "
                              "ask an instructor to look at this answer.")


def _pipe() -> tuple[int, int]:
    """``os.pipe()`` with both ends above 2 (a child keeps 0, 1 and 2: they must never be a verdict pipe)."""
    import fcntl
    ends = []
    for fd in os.pipe():
        if fd < 3:
            fd, old = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3), fd
            os.close(old)
        ends.append(fd)
    return ends[0], ends[1]


def _run_child(body: Callable[[int], None], seconds: float, cap: int = 1 << 22) -> tuple[bytes, bool, bool]:
    """Fork a child in a new process group that runs ``body(write_end)``; collect what it writes until it
    exits or ``seconds`` pass, then kill its whole group. Returns (data, whether the child exited, whether it
    exited by itself with status 0: a worker killed by a signal sent no verdict, whatever its pipe holds)."""
    read_end, write_end = _pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # "fork() in a multi-threaded process"
        for stream in (sys.stdout, sys.stderr):     # or the child would send the caller's unflushed output again
            try:
                stream.flush()
            except Exception:
                pass
        pid = os.fork()
    if pid == 0:                                              # the child: never returns
        try:
            os.setpgid(0, 0)
            os.close(read_end)
            body(write_end)
        finally:
            os._exit(0)
    try:
        os.setpgid(pid, pid)              # also here: the group exists before anyone kills it
    except OSError:
        pass
    os.close(write_end)
    status = None
    try:
        data, finished = _collect(pid, read_end, seconds, cap)
    finally:
        os.close(read_end)
        for kill in (os.killpg, os.kill):          # a zombie ignores this: its status stays its own
            try:
                kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            status = os.waitpid(pid, 0)[1]
        except ChildProcessError:
            pass
    clean_exit = finished and status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return data, finished, clean_exit


def _collect(pid: int, fd: int, seconds: float, cap: int) -> tuple[bytes, bool]:
    """Read ``fd`` until process ``pid`` exits (not until EOF: a process it forked may hold the pipe open),
    at most ``seconds`` and ``cap`` bytes. The exited child stays a zombie, so its group id is not reused."""
    deadline, data, reading = time.monotonic() + seconds, b"", True
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    try:
        while True:
            try:
                exited = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
            except ChildProcessError:
                exited = True
            remaining = deadline - time.monotonic()
            if remaining <= 0 and not exited:
                return data, False
            watch = ([fd] if reading else []) + ([pidfd] if pidfd is not None and not exited else [])
            wait = 0 if exited else remaining if pidfd is not None else min(remaining, 0.02)
            ready = select.select(watch, [], [], wait)[0]
            if fd in ready:
                chunk = os.read(fd, 65536)
                data += chunk
                reading = bool(chunk) and len(data) < cap
            elif exited:
                return data, True
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _die_with_parent() -> None:
    """In a child: be killed when the parent dies (Linux ``PR_SET_PDEATHSIG``), so nothing outlives a check."""
    parent = os.getppid()
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)   # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(0)


def _default_signal_handlers() -> None:
    """In a forked worker: the default action for every signal that has a Python handler (the reader's kernel
    may have installed its own; none of them runs in the worker)."""
    for signum in signal.valid_signals():
        try:
            if callable(signal.getsignal(signum)):
                signal.signal(signum, signal.SIG_DFL)
        except (OSError, ValueError, TypeError):
            pass


def _single_threaded_torch() -> None:
    """In a forked worker, torch's OpenMP thread pool (copied from the parent, its threads gone) deadlocks at the
    next parallel region: run torch on one thread there."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def _run_in_thread(work: Callable[[], Verdict], seconds: float, seed: int | None) -> Verdict:
    result: list[Verdict] = []
    worker = threading.Thread(target=lambda: result.append(_guarded(work, seconds, seed)), daemon=True)
    worker.start()
    worker.join(seconds)
    return result[0] if result else _timeout_verdict(seconds)
