"""Reading answers, step 1: the plain copy, made without running anything a reader's objects define.

This is the checker's first line of defence. :func:`plain_copy` turns a reader's answer into a copy made only
of plain Python, NumPy and sympy objects: every type is decided by identity over the real MRO
(``type(x) is int``, never ``isinstance``, ``==`` or a hash of a reader's object), only exact built-in
containers are walked, sympy objects of sympy's own classes are rebuilt from their ``.args``
(:func:`rebuild_sympy`), tensors and arrays are copied to plain numbers (:func:`plain_array`), and sizes are
checked before anything is expanded (:data:`MAX_ITEMS`, :data:`MAX_TEXT`). Everything after it reads the copy;
nothing a reader gives reaches ``sympify``, and strings are never evaluated.

The copy is made in the reader's kernel and crosses to the judge process as data: :func:`encode_plain` turns
its sympy objects into :class:`SympyTree` tuples (unpickling a sympy object would evaluate it again) and
:func:`decode_plain` rebuilds them, unevaluated, from sympy's own classes only. The helpers that read a
reader's object field by field (:func:`matrix_entries`, :func:`refuse_instance_attributes`,
:func:`subclass_of`, ...) are public because :mod:`~creditlib.exercises.checker.reading` reads with them too.
"""
from __future__ import annotations

import math
import sys
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np
import sympy as sp
from sympy.core.singleton import Singleton

from .verdicts import INVALID, InvalidAnswer, Opaque, Verdict, shorten, type_name, unreadable_verdict

__all__ = ["NP_INTS", "NP_FLOATS", "SYMPY_MATRICES", "SYMPY_CLASSES", "MAX_NODES", "MAX_ITEMS", "MAX_TEXT",
           "MAX_DEPTH", "is_one_of", "tensor_type", "refuse_instance_attributes", "matrix_entries", "plain_array",
           "rebuild_sympy", "subclass_of", "plain_copy", "copy_answer", "SympyTree", "encode_plain", "decode_plain"]


NP_INTS = tuple({np.dtype(code).type for code in np.typecodes["AllInteger"]})
"""numpy's own integer scalar types (np.intc and np.longlong are types of their own)."""
NP_FLOATS = tuple({np.dtype(code).type for code in np.typecodes["Float"]})
"""numpy's own float scalar types."""
SYMPY_MATRICES = (sp.MutableDenseMatrix, sp.ImmutableDenseMatrix)
"""The sympy matrix classes an answer may be (read from their storage by :func:`matrix_entries`)."""
MAX_NODES = 5000
"""The most nodes one sympy object of an answer may have."""
MAX_ITEMS = 100_000
"""The most numbers, names, entries and sympy nodes one answer may hold (more is refused before it is read)."""
MAX_TEXT = 10_000
"""The most characters in all the strings of one answer together."""
MAX_DEPTH = 60
"""The deepest nesting of containers in one answer."""


# ---------------------------------------------------------------------------- types, decided by identity
def is_one_of(t: type, classes: Sequence[type]) -> bool:
    """Whether ``t`` is one of ``classes``, by identity (never ``==`` or ``issubclass``, which a metaclass defines).

    Parameters
    ----------
    t : type
        A type, perhaps a reader's.
    classes : sequence of type
        The checker's own types.

    Returns
    -------
    bool
    """
    return any(t is c for c in classes)


def _real_mro(t: type) -> tuple:
    """``t.__mro__`` read from ``type`` itself, so a metaclass's ``__mro__`` or ``__getattribute__`` never runs."""
    mro = type.__dict__["__mro__"].__get__(t)
    return mro if type(mro) is tuple else ()


def subclass_of(t: type, classes: Sequence[type]) -> type | None:
    """The first of ``classes`` in ``t``'s real MRO, by identity (``issubclass`` may consult ABCs and metaclasses).

    Parameters
    ----------
    t : type
        A type, perhaps a reader's (its MRO is read from ``type`` itself).
    classes : sequence of type
        The checker's own types.

    Returns
    -------
    type or None
        The first of ``classes`` that ``t`` derives from, to name it in a message; None if none.
    """
    for base in _real_mro(t):
        for c in classes:
            if base is c:
                return c
    return None


def tensor_type() -> type | None:
    """``torch.Tensor`` if torch is imported already, else None (the checker never imports torch for a reader)."""
    torch = sys.modules.get("torch")
    return getattr(torch, "Tensor", None)


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


SYMPY_CLASSES = _sympy_classes()
_ATOMS_REJECTED = (sp.Dummy, sp.Wild)
_NOT_VALUES = {sp.Order: "an order term O(...), which stands for a set of functions, not a value"}


# ---------------------------------------------------------------------------- reading a reader's object
def _instance_dict(x: Any) -> dict:
    """``x``'s instance ``__dict__``, read without running ``x``'s code (``{}`` when it has none)."""
    try:
        d = object.__getattribute__(x, "__dict__")
    except AttributeError:
        return {}
    if type(d) is not dict or not all(type(k) is str for k in d):     # iterating a dict runs no code of the reader
        raise InvalidAnswer(f"your answer contains a {type_name(x)} with damaged attributes.")
    return d


def refuse_instance_attributes(x: Any, allowed: tuple = (), what: str = "your answer",
                               shadowing_only: bool = False) -> None:
    """Refuse an object with attributes set on it beyond ``allowed`` (which its class sets itself): reading the
    object would run them. With ``shadowing_only`` (sympy objects, whose classes set attributes such as
    ``_argset`` that the checker never reads) only attributes hiding one of the class's are refused.

    Parameters
    ----------
    x : object
        A reader's object (its instance ``__dict__`` is read without running its code).
    allowed : tuple of str, default=()
        The attributes its class sets itself.
    what : str, default="your answer"
        How the message names the answer.
    shadowing_only : bool, default=False
        Refuse only attributes that hide one of the class's.

    Raises
    ------
    InvalidAnswer
        When ``x`` has other attributes set on it, or a damaged ``__dict__``.
    """
    extra = sorted(k for k in _instance_dict(x) if k not in allowed
                   and (not shadowing_only or any(k in vars(c) for c in type(x).__mro__)))
    if extra:
        raise InvalidAnswer(f"{what} is a {type_name(x)} with attributes set on it ({shorten(', '.join(extra), 60)}), "
                            "which the checker does not read; give a freshly built one.")


def matrix_entries(m: Any, what: str) -> tuple[int, int, list]:
    """The shape and entries of an exact sympy matrix, read from its storage without calling its methods.

    Parameters
    ----------
    m : sympy.Matrix or sympy.ImmutableMatrix
        A reader's matrix (one of :data:`SYMPY_MATRICES`).
    what : str
        How the message names the answer.

    Returns
    -------
    rows, cols : int
        The shape.
    entries : list
        The entries row by row: ints, Fractions or objects of sympy's own classes (not yet copied).

    Raises
    ------
    InvalidAnswer
        For a matrix with attributes set on it or a storage the checker does not know.
    """
    from sympy.polys.matrices import DomainMatrix
    from sympy.polys.matrices.sdm import SDM
    from sympy.external.pythonmpq import PythonMPQ
    d = _instance_dict(m)
    names = ("rows", "cols") if "rows" in d else ("_rows", "_cols")
    refuse_instance_attributes(m, names + ("_rep",), what)
    rows, cols, rep = d.get(names[0]), d.get(names[1]), d.get("_rep")
    damaged = InvalidAnswer(f"{what} is a sympy matrix the checker cannot read; build it with sp.Matrix([...]) "
                            "or give a list.")
    if type(rows) is not int or type(cols) is not int or type(rep) is not DomainMatrix:
        raise damaged
    refuse_instance_attributes(rep, ("rep", "shape", "domain"), what)
    storage = _instance_dict(rep).get("rep")
    if type(storage) is not SDM:
        raise damaged
    refuse_instance_attributes(storage, ("shape", "rows", "cols", "domain"), what)
    entries = {}
    for i, row in dict.items(storage):
        if type(i) is not int or type(row) is not dict or not 0 <= i < rows:
            raise damaged
        for j, e in dict.items(row):
            if type(j) is not int or not 0 <= j < cols:
                raise damaged
            if type(e) is PythonMPQ:
                e = Fraction(e.numerator, e.denominator) if type(e.numerator) is int is type(e.denominator) else None
            if not (type(e) is int or type(e) is Fraction or SYMPY_CLASSES.get(id(type(e))) is type(e)):
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
    InvalidAnswer
        For a tensor the checker refuses (a subclass, sparse, complex, ...): an ``invalid`` verdict.
    """
    t, tensor = type(value), tensor_type()
    if tensor is not None and t is tensor:
        import torch
        refuse_instance_attributes(value, (), what)
        if value.layout != torch.strided:
            raise InvalidAnswer(f"{what} is a sparse tensor; give a dense one (.to_dense()).")
        if value.is_nested:
            raise InvalidAnswer(f"{what} is a nested tensor; give a plain tensor.")
        if value.device.type == "meta":
            raise InvalidAnswer(f"{what} is a tensor on the 'meta' device, which holds no values.")
        if value.is_quantized:
            raise InvalidAnswer(f"{what} is a quantized tensor; give t.dequantize().")
        if tensor.is_complex(value) or value.dtype == torch.bool:
            raise InvalidAnswer(f"{what} is a tensor of dtype {value.dtype}; real numbers were expected.")
        value = tensor.resolve_neg(tensor.resolve_conj(tensor.to(tensor.detach(value), "cpu")))
        value = tensor.numpy(tensor.double(value) if tensor.is_floating_point(value) else value)
        return value.copy()
    if t is np.ndarray:
        if value.dtype.kind == "f":
            return value.astype(np.float64)
        if value.dtype.kind in "iuO":
            return value.copy()
        raise InvalidAnswer(f"{what} is an array of dtype {value.dtype}; real numbers were expected.")
    if tensor is not None and subclass_of(t, (tensor,)) is not None:
        raise InvalidAnswer(f"{what} is a {type_name(value)} (a subclass of torch.Tensor); give a plain torch.Tensor.")
    raise InvalidAnswer(f"{what} has type {type_name(value)}; a tensor or an array was expected.")


def rebuild_sympy(x: Any, budget: list[int], depth: int = 0) -> sp.Basic:
    """A copy of a sympy object made only of sympy's own classes, rebuilt unevaluated from its ``.args``.

    Parameters
    ----------
    x : sympy.Basic
        A reader's sympy object.
    budget : list of int
        ``[nodes left]``, decreased by one per node (shared across an answer's objects).
    depth : int, default=0
        The depth of ``x`` in the object being copied.

    Returns
    -------
    sympy.Basic
        The copy.

    Raises
    ------
    InvalidAnswer
        For an object of a class that is not sympy's own, attributes set on it, an order term, a Dummy or Wild,
        more than ``budget`` nodes or a nesting deeper than 200.
    """
    t = type(x)
    budget[0] -= 1
    if budget[0] < 0 or depth > 200:
        raise InvalidAnswer(f"your answer is too large (more than {MAX_NODES} sympy nodes or nested too deep).")
    if SYMPY_CLASSES.get(id(t)) is not t:
        raise InvalidAnswer(f"your answer contains an object of type {type_name(x)}, which is not one of sympy's own "
                            "classes. Build it from sympy symbols, numbers and functions (sp.exp, sp.log, ...).")
    refuse_instance_attributes(x, ("nargs",), shadowing_only=True)        # sympy's functions set nargs themselves
    if isinstance(t, Singleton):
        return t()
    if t is sp.Symbol:
        name = x.name
        if type(name) is not str:
            raise InvalidAnswer("your answer contains a symbol whose name is not a string.")
        return sp.Symbol(name)
    if t is sp.Integer or t is sp.Rational:
        p, q = x.p, x.q
        if type(p) is not int or type(q) is not int or q <= 0:
            raise InvalidAnswer("your answer contains a sympy number whose parts are not integers.")
        return sp.Rational(p, q)
    if t is sp.Float:
        mpf, prec = x._mpf_, x._prec
        if type(mpf) is not tuple or len(mpf) != 4 or type(prec) is not int or not all(type(v) is int for v in mpf):
            raise InvalidAnswer("your answer contains a damaged sympy Float.")
        number = sp.Float._new(mpf, prec)
        if not math.isfinite(float(number)):
            raise InvalidAnswer("your answer contains a float too large for a float (like 1e400); give an exact "
                                "number.")
        return number
    if t in _NOT_VALUES:
        raise InvalidAnswer(f"your answer contains {_NOT_VALUES[t]}; give an expression without it.")
    if t.is_Atom or is_one_of(t, _ATOMS_REJECTED):
        raise InvalidAnswer(f"your answer contains a sympy {type_name(x)}, which the checker does not read; "
                            "use sp.Symbol, numbers and functions.")
    args = x.args
    if type(args) is not tuple:
        raise InvalidAnswer("your answer contains a damaged sympy object.")
    rebuilt = [rebuild_sympy(a, budget, depth + 1) for a in args]
    try:
        with sp.evaluate(False):
            return t(*rebuilt)
    except Exception:
        raise InvalidAnswer(f"your answer contains a sympy {type_name(x)} that the checker cannot read; "
                            "give an expression built from symbols, numbers and functions.") from None


# ---------------------------------------------------------------------------- the plain copy
_SCALARS = (type(None), type(Ellipsis), bool, int, float, complex, np.bool_, np.complex64, np.complex128) \
    + NP_INTS + NP_FLOATS
_PLAIN = (int, float, complex, str, bytes, list, tuple, dict, set, frozenset, Fraction, np.ndarray, np.generic)


def plain_copy(value: Any) -> Any:
    """A copy of a reader's answer made only of plain Python, NumPy and sympy objects, read without running
    anything the answer's objects or their types define.

    This is the first step of every check (in the checker's worker): everything after it reads the copy.
    Types are decided by identity (``type(x) is list``), never by ``isinstance``, ``==`` or hashing of the
    reader's objects; containers are walked with the exact types' own methods; sympy objects are rebuilt
    from sympy's own classes (:func:`rebuild_sympy`); a tensor becomes a NumPy copy (:func:`plain_array`). Sizes
    are checked before anything is expanded: more than ``MAX_ITEMS`` entries or ``MAX_TEXT`` characters
    is refused. A top-level object of any other type (a function, say) comes back as an :class:`Opaque`;
    nested, it is refused.

    Parameters
    ----------
    value : object
        The answer as the reader gave it (or a part of it).

    Returns
    -------
    object
        The plain copy (immutable scalars are returned as they are).

    Raises
    ------
    InvalidAnswer
        For an object of a foreign type inside a container, a subclass of a plain type, or an answer too large.
    """
    budget = [MAX_ITEMS, MAX_TEXT]
    if _copy_kind(value) is None:
        return Opaque(value, type_name(value))
    return _copy(value, budget, 0)


def _copy_kind(x: Any) -> str | None:
    t = type(x)
    if is_one_of(t, _SCALARS) or t is str or t is bytes or t is Fraction:
        return "scalar"
    if t is Opaque:
        return "opaque"
    if t is list or t is tuple or t is dict or t is set or t is frozenset:
        return "container"
    if t is np.ndarray or (tensor_type() is not None and t is tensor_type()):
        return "array"
    if is_one_of(t, SYMPY_MATRICES) or SYMPY_CLASSES.get(id(t)) is t:
        return "sympy"
    return None


def _too_large() -> InvalidAnswer:
    return InvalidAnswer(f"your answer is too large for this checker (more than {MAX_ITEMS} entries or {MAX_TEXT} "
                         "characters); no exercise asks for that much.")


def _copy(x: Any, budget: list[int], depth: int) -> Any:
    t = type(x)
    budget[0] -= 1
    if budget[0] < 0:
        raise _too_large()
    if depth > MAX_DEPTH:
        raise InvalidAnswer("your answer is nested too deep (a list that contains itself?).")
    if t is str or t is bytes:
        budget[1] -= len(x)
        if budget[1] < 0:
            raise _too_large()
        return x
    if t is Fraction:
        p, q = x.numerator, x.denominator            # Fraction's own properties
        if type(p) is not int or type(q) is not int or q <= 0:
            raise InvalidAnswer("your answer contains a Fraction whose numerator or denominator is not an int.")
        return Fraction(p, q)
    if is_one_of(t, _SCALARS):
        if t is int and x.bit_length() > 100_000:
            raise _too_large()
        return x
    if t is Opaque:
        if depth > 0:
            raise InvalidAnswer(f"your answer contains an object of type {x.type_name}, which the checker does not "
                                "read.")
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
        raise InvalidAnswer(f"your answer contains an array of dtype {x.dtype}, which the checker does not read; "
                            "give numbers.")
    tensor = tensor_type()
    if tensor is not None and t is tensor:
        if tensor.numel(x) > budget[0]:
            raise _too_large()
        budget[0] -= tensor.numel(x)
        return plain_array(x, "your answer")
    if is_one_of(t, SYMPY_MATRICES):
        d = _instance_dict(x)
        rows, cols = d.get("rows", d.get("_rows")), d.get("cols", d.get("_cols"))
        if type(rows) is int and type(cols) is int and rows * cols > budget[0]:
            raise _too_large()
        rows, cols, entries = matrix_entries(x, "your answer")
        return t(rows, cols, [_copy(e, budget, depth + 1) for e in entries])
    if SYMPY_CLASSES.get(id(t)) is t:
        nodes = [MAX_NODES]
        copied = rebuild_sympy(x, nodes)
        budget[0] -= MAX_NODES - nodes[0]
        if budget[0] < 0:
            raise _too_large()
        return copied
    plain = subclass_of(t, _PLAIN)
    if plain is not None:
        raise InvalidAnswer(f"your answer contains a {type_name(x)}, a subclass of {plain.__name__}; give a plain "
                            f"{plain.__name__} (the checker does not read subclasses: their methods are the reader's).")
    if tensor is not None and subclass_of(t, (tensor,)):
        raise InvalidAnswer(f"your answer contains a {type_name(x)} (a subclass of torch.Tensor); give a plain "
                            "torch.Tensor (e.g. t.detach() for a Parameter, or torch.tensor(values)).")
    raise InvalidAnswer(f"your answer contains an object of type {type_name(x)}, which the checker does not read: "
                        "give numbers, lists, tuples, dicts, sets, NumPy arrays, torch tensors or sympy objects.")


def copy_answer(answer: Any) -> Any:
    """:func:`plain_copy` of ``answer``, or the ``invalid`` :class:`Verdict` that says why it cannot be copied.

    Parameters
    ----------
    answer : object
        What the reader passed to ``check``, as it is.

    Returns
    -------
    object or Verdict
    """
    try:
        return plain_copy(answer)
    except InvalidAnswer as err:
        return Verdict(INVALID, str(err))
    except Exception as err:
        return unreadable_verdict("your answer", err)


# ---------------------------------------------------------------------------- crossing to the judge process
class SympyTree(tuple):
    """A sympy object of a plain copy as data, ``(kind, class key, data)``, so that it crosses to the judge process
    unevaluated (unpickling a sympy object evaluates it again: ``Pow(3, 10**12, evaluate=False)`` would hang)."""

    __slots__ = ()


_SYMPY_BY_KEY = {f"{c.__module__}.{c.__qualname__}": c for c in SYMPY_CLASSES.values()}   # as _class_key names them


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
    if is_one_of(t, SYMPY_MATRICES):
        return SympyTree(("matrix", _class_key(t), (x.rows, x.cols, tuple(encode_plain(e) for e in x))))
    if SYMPY_CLASSES.get(id(t)) is not t:
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
    classes = {_class_key(c): c for c in SYMPY_MATRICES} if kind == "matrix" else _SYMPY_BY_KEY
    cls = classes.get(key)
    if cls is None:
        raise InvalidAnswer("your answer contains a sympy object the checker cannot rebuild.")
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
