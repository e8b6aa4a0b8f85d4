"""Reading answers: the plain copy and the readers. No step of reading an answer runs code that a reader's
object or its type defines (traps record any hook that runs), nothing reaches ``sympify``, strings are never
evaluated; every form of an answer is read (rows, columns, NumPy integer types, 1×1 matrices, folded names);
garbage, subclasses and oversized answers are ``invalid`` with a reason. Statuses are asserted exactly.

Most tests judge in the test's process (``judged_in_process``: the same reading and deciding code, without the
judge's processes); those that test what happens in the worker or the kernel-side checks of a request use the
real path.
"""
import numbers
import os
import sys
import time
import warnings
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
import torch

from creditlib.exercises import check, get_exercise, list_exercises
from creditlib.exercises.checker.comparing import compare_expression, compare_number
from creditlib.exercises.checker.plain_copy import subclass_of
from creditlib.exercises.checker.verdicts import CORRECT, INCORRECT, INVALID, type_name
from creditlib.exercises.checker.worker import judge_answer
from creditlib.exercises.symbols import lam, r, u_A, u_AB, u_B
from creditlib.exercises.symbols import lam as lam1, m2, theta, x, x_z, y, y_z

S_A = (u_A + u_AB - u_B) / 2
RIDGE = -x * x_z * (theta * x - y) * (theta * x_z - y_z) / (m2 + lam1)


# ------------------------------------------------------------------ traps: objects whose every hook records that it ran
RAN: list[str] = []          # hooks of a trap append their name here (in-process judging)


def _ran(name: str) -> None:
    RAN.append(name)
    marker = os.environ.get("TRAP_MARKER")
    if marker:                                     # a forked worker cannot append to RAN: it writes a file
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.write(fd, name.encode() + b"\n")
        os.close(fd)


class Meta(type):
    """A metaclass whose every hook records that it ran."""

    def __instancecheck__(cls, obj):
        _ran("Meta.__instancecheck__")
        return True

    def __subclasscheck__(cls, sub):
        _ran("Meta.__subclasscheck__")
        return True

    def __eq__(cls, other):
        _ran("Meta.__eq__")
        return True

    def __hash__(cls):
        _ran("Meta.__hash__")
        return 0

    @property
    def __mro__(cls):
        _ran("Meta.__mro__")
        return (int, object)

    @property
    def __name__(cls):
        _ran("Meta.__name__")
        return "int"


def _hooks(prefix):
    def hook(name, result):
        def method(self, *args, **kwargs):
            _ran(f"{prefix}.{name}")
            return result
        return method
    return {name: hook(name, result) for name, result in [
        ("__eq__", True), ("__ne__", False), ("__hash__", 0), ("__len__", 2), ("__iter__", iter([0, 0])),
        ("__index__", 0), ("__int__", 0), ("__float__", 0.0), ("__bool__", True), ("__repr__", "0"),
        ("__str__", "0"), ("__format__", "0"), ("__lt__", False), ("__array__", np.zeros(2)),
        ("__getitem__", 0), ("_sympy_", sp.Integer(0)), ("__sympy__", True), ("__reduce__", (int, ())),
        ("__deepcopy__", 0), ("__copy__", 0), ("__abs__", 0), ("__neg__", 0), ("__add__", 0), ("__radd__", 0),
        ("__mul__", 0), ("__rmul__", 0), ("__sub__", 0), ("__truediv__", 0), ("__contains__", True)]}


class _ClassProperty:
    def __get__(self, obj, owner=None):
        _ran("__class__")
        return int


Trap = Meta("Trap", (), {**_hooks("Trap"), "__class__": _ClassProperty(),
                         "__getattr__": lambda self, name: _ran(f"Trap.__getattr__({name})")})


def _subclass_trap(base):
    return type(f"Trap{base.__name__.title()}", (base,), {**{k: v for k, v in _hooks(base.__name__).items()
                                                            if k not in ("__iter__", "__array__")},
                                                         "__class__": _ClassProperty()})


class VirtualNumber:
    """Registered as a virtual subclass of numbers.Rational: an ABC would call it a number."""

    def __eq__(self, other):
        _ran("VirtualNumber.__eq__")
        return True

    __hash__ = object.__hash__


numbers.Rational.register(VirtualNumber)


def _sympy_with_trap_args():
    return sp.Basic.__new__(sp.Tuple, Trap(), sp.Integer(1))


def _symbol_with_trap_name():
    name = _subclass_trap(str)("u_A")
    s = sp.Symbol.__xnew__(sp.Symbol, "a_symbol_of_this_test")      # not the cached instance
    sp.Symbol.name.__set__(s, name)
    return s


def _fraction_with_trap_numerator():
    f = Fraction(1, 3)
    Fraction._numerator.__set__(f, _subclass_trap(int)(1))
    return f


def _tensor_with_attribute():
    t = torch.zeros(2)
    t.payload = Trap()
    return t


def _object_array():
    a = np.empty(2, dtype=object)
    a[0], a[1] = Trap(), 0
    return a


TRAPS = {
    "trap": lambda: Trap(),
    "trap in a list": lambda: [Trap(), 0],
    "trap in a tuple": lambda: (0, Trap()),
    "trap as a dict value": lambda: {"A": Trap(), "B": 0},
    "trap as a dict key": lambda: {Trap(): 0},
    "trap in a set": lambda: {Trap()},
    "trap in an object array": _object_array,
    "trap in sympy args": _sympy_with_trap_args,
    "symbol with a trap name": _symbol_with_trap_name,
    "fraction with a trap numerator": _fraction_with_trap_numerator,
    "tensor with an attribute": _tensor_with_attribute,
    "virtual number": lambda: [VirtualNumber(), 0],
    "int subclass": lambda: [_subclass_trap(int)(1), 0],
    "float subclass": lambda: _subclass_trap(float)(0.5),
    "str subclass": lambda: {_subclass_trap(str)("A")},
    "list subclass": lambda: _subclass_trap(list)([0, 0]),
    "dict subclass": lambda: _subclass_trap(dict)({"A": 0, "B": 0}),
    "tuple subclass": lambda: _subclass_trap(tuple)((0, 0)),
    "ndarray subclass": lambda: np.zeros(2).view(_subclass_trap(np.ndarray)),
    "tensor subclass": lambda: torch.zeros(2).as_subclass(_subclass_trap(torch.Tensor)),
    "Fraction subclass": lambda: [_subclass_trap(Fraction)(1, 2), 0],
    "sympy subclass": lambda: _subclass_trap(sp.Integer)(1),
}


@pytest.mark.parametrize("trap", sorted(TRAPS))
def test_no_hook_of_a_trap_runs_while_any_exercise_is_judged(trap):
    """Every exercise (its verifier, in this process) with every trap: the verdict is never `correct` and not
    one of the trap's hooks runs."""
    for exercise in list_exercises():
        RAN.clear()
        answer = TRAPS[trap]()
        RAN.clear()                       # building the trap may run its own hooks: only judging counts
        verdict = judge_answer(answer, exercise.verify, exercise.expected_value)
        assert verdict.status != CORRECT, (exercise.id, verdict)
        assert RAN == [], (exercise.id, trap, RAN[:3], verdict)


def test_a_class_property_cannot_forge_correct_in_the_worker(tmp_path, monkeypatch):
    """The reproduction of issue 20 §1: a ``__class__`` property that patches ``json.dumps`` in the worker."""
    marker = tmp_path / "ran"
    a_set_of_traps = {Trap()}                    # hashing it here is the reader's kernel's business

    class Sneaky:
        @property
        def __class__(self):
            _ran("Sneaky.__class__")
            import json
            real = json.dumps
            json.dumps = lambda o, *a, **k: (real(["correct", "Correct."]) if type(o) is list and len(o) == 2
                                             else real(o, *a, **k))
            return Sneaky

    monkeypatch.setenv("TRAP_MARKER", str(marker))
    for answer in ([Sneaky(), 0], Sneaky(), {"A": Sneaky(), "B": 0}, (Sneaky(), Sneaky())):
        assert check("nb00.1", answer).status == INVALID
    assert check("nb00.2", Trap()).status == INVALID
    assert check("10.5.2a", a_set_of_traps).status == INVALID
    assert not marker.exists(), marker.read_text()


def test_types_are_decided_by_the_real_mro():
    """``subclass_of`` reads the MRO from ``type`` (a metaclass's ``__mro__`` property never runs) and names a
    subclass as such; ``type_name`` reads the name the same way."""
    RAN.clear()
    trap = Trap()
    assert subclass_of(type(trap), (int,)) is None
    assert subclass_of(_subclass_trap(int), (float, int)) is int
    assert type_name(trap) == "Trap"
    assert RAN == []


@pytest.mark.usefixtures("judged_in_process")
def test_a_subclass_is_named_in_the_message():
    verdict = check("nb00.1", [_subclass_trap(int)(1), 0])
    assert verdict.status == INVALID and "a subclass of int" in verdict.message


class Hostile:
    """Any use of it would run the reader's code: it records that and claims everything."""
    used = []

    def _use(self, *args):
        Hostile.used.append(1)
        return True
    __bool__ = __eq__ = __ne__ = __index__ = __int__ = __mul__ = __call__ = _use
    __hash__ = object.__hash__


def _with(obj, name, value):
    setattr(obj, name, value)
    return obj


@pytest.mark.usefixtures("judged_in_process")
@pytest.mark.parametrize("exercise_id, make", [
    ("nb00.2", lambda: _with(sp.sin(u_A), "is_Atom", Hostile())),
    ("nb00.1", lambda: [_with(sp.exp(u_A), "is_Atom", Hostile()), 1]),
    ("nb00.2", lambda: _with(sp.Matrix([[0]]), "rows", Hostile())),
    ("nb00.1", lambda: _with(sp.Matrix([[0, 0]]), "cols", Hostile())),
    ("nb00.1", lambda: _with(sp.Matrix([[0, 0]]), "_rep", Hostile())),
    ("10.5.1d", lambda: (lambda m: (vars(m).__setitem__("rows", Hostile()), m)[1])(sp.ImmutableMatrix([[80]]))),
    ("10.5.1a", lambda: _with(torch.tensor([30, 70]), "is_complex", Hostile())),
    ("10.5.1d", lambda: _with(torch.tensor(80), "detach", Hostile())),
], ids=["sin.is_Atom", "exp.is_Atom", "Matrix.rows", "Matrix.cols", "Matrix._rep", "ImmutableMatrix.rows",
        "tensor.is_complex", "tensor.detach"])
def test_attributes_set_on_answers_are_refused_unread(exercise_id, make):
    Hostile.used.clear()
    result = check(exercise_id, make())
    assert result.status == INVALID and ("attributes set on it" in result.message or "cannot read" in result.message)
    assert not Hostile.used
    assert check("nb00.2", sp.Max(0, u_A) - sp.Max(0, u_A) + (u_A + u_AB - u_B) / 2).status == CORRECT   # _argset


class AlwaysEqual(sp.Expr):
    def __eq__(self, other):
        return True

    __hash__ = sp.Expr.__hash__

    def __ne__(self, other):
        return False


@pytest.mark.usefixtures("judged_in_process")
@pytest.mark.parametrize("exercise_id, answer", [
    ("10.5.1d", AlwaysEqual()), ("nb00.1", [AlwaysEqual(), AlwaysEqual()]), ("nb00.2", AlwaysEqual()),
    ("nb00.2", u_A + AlwaysEqual()), ("10.1.3b", [0, AlwaysEqual()])])
def test_expr_subclass_with_eq_true_is_invalid(exercise_id, answer):
    assert check(exercise_id, answer).status == INVALID


@pytest.mark.usefixtures("judged_in_process")
def test_tensor_subclass_with_allclose_true_is_invalid():
    class Liar(torch.Tensor):
        def allclose(self, *args, **kwargs):
            return True

        def __eq__(self, other):
            return True
    result = check("nb01.5", lambda f, t, v: torch.zeros_like(t).as_subclass(Liar))
    assert result.status == INVALID and "subclass" in result.message


# ----------------------------------------------------------------- nothing reaches sympify; strings are never evaluated
def _payload(marker):
    return f"__import__('pathlib').Path({str(marker)!r}).touch()"


def _evil_fraction(marker):
    class EvilFraction(Fraction):
        @property
        def numerator(self):
            return [_payload(marker)]
    return EvilFraction(1, 2)


def test_fraction_subclass_never_reaches_sympify(tmp_path, monkeypatch):
    for exercise_id in ["10.5.1d", "nb00.1", "nb00.2"]:        # warm the expected values before sympify breaks
        get_exercise(exercise_id).expected_value()
    marker, called = tmp_path / "hacked", tmp_path / "sympify-called"

    def no_sympify(*args, **kwargs):
        called.touch()
        raise AssertionError("sympify called")
    monkeypatch.setattr(sp, "sympify", no_sympify)
    monkeypatch.setattr(sys.modules["sympy.core.sympify"], "sympify", no_sympify)
    evil = _evil_fraction(marker)
    tensor_like = type("Duck", (), {"detach": lambda s: s, "numel": lambda s: 1, "item": lambda s: evil,
                                    "cpu": lambda s: s})()
    answers = {"10.5.1d": [evil, np.array([evil], dtype=object), tensor_like],
               "nb00.1": [[evil, 1], np.array([evil, evil], dtype=object), {"A": evil, "B": 1}],
               "nb00.2": [evil, [evil]]}
    for exercise_id, items in answers.items():
        for answer in items:
            assert check(exercise_id, answer).status == INVALID, (exercise_id, type(answer))
    assert not marker.exists() and not called.exists()


def test_a_string_answer_is_never_evaluated(tmp_path):
    marker = tmp_path / "hacked"
    for exercise_id in ["10.5.1d", "nb00.1", "nb00.2", "nb03.5"]:
        assert check(exercise_id, _payload(marker)).status == INVALID
    assert not marker.exists()


THIRD = sp.Rational(1, 3)


def test_strings_never_reach_sympify_in_a_comparison(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("sympify called")
    monkeypatch.setattr(sp, "sympify", boom)
    monkeypatch.setattr(sp, "parse_expr", boom, raising=False)
    assert compare_number("__import__('os').system('echo hacked')", THIRD).status == INVALID
    assert compare_expression("x**2", sp.Symbol("x") ** 2, [sp.Symbol("x")]).status == INVALID


# ---------------------------------------------------------------------------- every form of an answer is read
@pytest.mark.usefixtures("judged_in_process")
def test_uint64_is_read_exactly():
    dividends = {"A": 0, "B": 0, "C": 0, "AB": 1, "AC": 1, "BC": 0}
    bigs = [np.array(2**64 - 1, dtype=np.uint64), np.uint64(2**64 - 1)]
    if hasattr(torch, "uint64"):        # torch 2.3 and later (pyproject allows 2.2, where no such tensor exists)
        bigs.append(torch.tensor(-1).to(torch.uint64))
    for big in bigs:
        assert check("nb03.5", {**dividends, "ABC": big}).status == INCORRECT
    assert check("nb03.5", {**dividends, "ABC": np.array(-1, dtype=np.int64)}).status == CORRECT
    assert check("10.5.1a", np.array([30 + 2**64, 70], dtype=object)).status == INCORRECT


@pytest.mark.usefixtures("judged_in_process")
def test_a_tensor_with_its_negative_bit_set_is_read():
    neg = torch.tensor([-30. - 30j, -70. - 70j], dtype=torch.complex128).conj().imag
    result = check("10.5.1a", neg)
    assert result.status == INVALID and "your values are right" in result.message     # floats, but read


@pytest.mark.usefixtures("judged_in_process")
def test_integrals_sums_and_derivatives_are_evaluated():
    x, t = sp.symbols("x t")
    i = sp.Symbol("i", integer=True)
    assert check("nb00.1", [sp.Integral(sp.Rational(115, 2), (x, 0, 1)), sp.Rational(65, 2)]).status == CORRECT
    assert check("nb00.1", [sp.Sum(sp.Rational(1, 2), (i, 1, 115)), sp.Rational(65, 2)]).status == CORRECT
    assert check("10.5.1d", sp.Integral(80, (x, 0, 1))).status == CORRECT
    s_a = (sp.Symbol("u_A") + sp.Symbol("u_AB") - sp.Symbol("u_B")) / 2
    assert check("nb00.2", sp.Derivative(t * s_a, t)).status == CORRECT
    assert check("nb00.2", sp.Subs(s_a + t, t, 0)).status == CORRECT


@pytest.mark.usefixtures("judged_in_process")
def test_integral_and_sum_forms_are_accepted():
    t, i = sp.Symbol("t"), sp.Symbol("i", integer=True)
    plain_lambda = sp.Symbol("lambda")
    assert check("10.1.3a", sp.Integral(sp.exp(-plain_lambda * t), (t, 0, sp.oo))).status == CORRECT
    assert check("10.1.4a", 1 / lam - sp.Sum((1 - lam) ** i, (i, 0, r))).status == CORRECT
    assert check("10.1.4a", 1 / plain_lambda - sp.Sum((1 - plain_lambda) ** i, (i, 0, sp.Symbol("r")))).passed


@pytest.mark.usefixtures("judged_in_process")
@pytest.mark.parametrize("number", [np.longlong(80), np.ulonglong(80), np.intc(80), np.uint64(80), np.int8(80)])
def test_every_numpy_integer_type_is_accepted(number):
    assert check("10.5.1d", number).status == CORRECT


@pytest.mark.usefixtures("judged_in_process")
@pytest.mark.parametrize("row", [np.array([[30, 70]]), np.array([[30], [70]]), torch.tensor([[30, 70]]),
                                 sp.Matrix([[30, 70]]), sp.ImmutableMatrix([30, 70]), sp.Tuple(30, 70)])
def test_rows_columns_and_sympy_tuples_are_vectors(row):
    assert check("10.5.1a", row).status == CORRECT


@pytest.mark.usefixtures("judged_in_process")
def test_one_by_one_matrix_is_a_scalar():
    assert check("nb01.1", sp.Matrix([[RIDGE]])).status == CORRECT
    assert check("nb00.2", sp.ImmutableMatrix([S_A])).status == CORRECT
    assert check("10.5.1d", sp.Matrix([80])).status == CORRECT


@pytest.mark.usefixtures("judged_in_process")
@pytest.mark.parametrize("exercise_id, answer", [
    ("nb01.2", "Down"), ("nb01.2", " down "), ("nb01.2", ["down"]), ("nb01.2", {"DOWN"}), ("10.5.1c", "a"),
    ("10.5.1c", {"A"}), ("10.5.2b", {"br"}), ("10.5.2b", "BR"), ("10.5.2b", " Br "), ("10.5.1e", "BC"),
    ("10.5.1e", ["c", "b"]), ("10.5.2c", {("tl", "TR"), ("BL", "tr"), ("TL", "bl")}),
    ("nb03.3", {"Equal Split": {"Null-Player"}, "individual_worth": "efficiency", " leave one out ": ["EFFICIENCY"],
                "proportional split": {"linearity"}}),
    ("nb03.5", {"a": 0, "B": 0, "c": 0, "ab": 1, ("A", "c"): 1, "B, C": 0, frozenset("ABC"): -1}),
])
def test_names_are_folded_everywhere(exercise_id, answer):
    assert check(exercise_id, answer).status == CORRECT


@pytest.mark.usefixtures("judged_in_process")
def test_keys_folding_to_one_name_are_invalid():
    result = check("nb00.1", {"a": 0, "A": sp.Rational(115, 2), "b": sp.Rational(65, 2)})
    assert result.status == INVALID and "two keys for A" in result.message
    choices = {"equal split": {"null player"}, "individual worth": {"efficiency"}, "leave one out": {"efficiency"},
               "proportional split": set(), "Proportional Split": {"linearity"}}
    assert "two keys for" in check("nb03.3", choices).message


@pytest.mark.usefixtures("judged_in_process")
def test_a_numpy_seed_counts_as_its_int_and_comma_joined_names_are_invalid():
    wrong = lambda e, a, b, ab: (a, b)
    assert check("nb00.3", wrong, seed=np.int64(3)).message == check("nb00.3", wrong, seed=3).message
    result = check("10.5.1e", "B,C")
    assert result.status == INVALID and "{'B', 'C'}" in result.message


# ---------------------------------------------------------------------------- garbage is invalid, with a reason
@pytest.mark.parametrize("garbage, fragment", [
    ("1/3", "never evaluated"), (None, "None"), (float("nan"), "finite"), (True, "boolean"),
    ([1, 2], "has type list"), (np.ones(3), "shape"), (sp.Symbol("x"), "not a real number"), (1j, "complex"),
    (sp.oo, "infinity"), (object(), "has type object")])
def test_garbage_is_invalid_in_a_comparison_not_an_exception(garbage, fragment):
    v = compare_number(garbage, THIRD)
    assert v.status == INVALID and fragment in v.message


@pytest.mark.usefixtures("judged_in_process")
@pytest.mark.parametrize("exercise_id, garbage", [
    ("10.5.2c", [1, 2]), ("10.5.2c", [None, None]), ("nb03.5", {1: 0}), ("nb03.5", {(): 0}),
    ("nb00.2", sp.Lambda(sp.Symbol("t"), sp.Symbol("t"))), ("nb00.2", sp.Eq(u_A, 1)),
    ("10.5.1d", torch.empty(1, device="meta")), ("10.5.1d", torch.tensor([[0.0, 80.0]]).to_sparse()),
    ("10.5.1d", torch.nested.nested_tensor([torch.ones(1)])), ("10.5.1d", sp.Function("f")(1)),
    ("nb00.1", [None, 1]), ("nb03.3", "equal split"), ("nb01.2", 1), ("nb01.2", {"up", "down"}),
], ids=lambda v: type(v).__name__ if not isinstance(v, str) else v)
def test_garbage_is_invalid_with_a_hint(exercise_id, garbage):
    result = check(exercise_id, garbage)
    assert result.status == INVALID and "Expected:" in result.message


@pytest.mark.usefixtures("judged_in_process")
@pytest.mark.parametrize("exercise_id, make", [
    ("nb00.1", lambda: [sp.Float("1e400"), 1]),
    ("10.5.1d", lambda: sp.Float("1e400")),
    ("10.5.1d", lambda: (lambda a: (a.__setitem__(0, a), a)[1])(np.empty(1, dtype=object))),
    ("10.5.1a", lambda: torch.quantize_per_tensor(torch.tensor([30., 70.], dtype=torch.float32), 1.0, 0, torch.qint32)),
    ("nb00.2", lambda: sp.Pow(2, sp.Pow(2, 2**100, evaluate=False), evaluate=False) * u_A),
], ids=["Float-1e400-vector", "Float-1e400", "self-referential-array", "quantized", "power-tower"])
def test_unreadable_answers_are_invalid(exercise_id, make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        answer = make()
    assert check(exercise_id, answer).status == INVALID


@pytest.mark.usefixtures("judged_in_process")
@pytest.mark.parametrize("garbage", [10**4300, Fraction(1, 10**100000), -10**400], ids=["1e4300", "1e-100000", "-1e400"])
def test_huge_numbers_are_judged_with_short_messages(garbage):
    result = check("10.5.1d", garbage)
    assert result.status == INCORRECT and len(result.message) < 300
    assert check("nb00.1", [garbage, 1]).status == INCORRECT


@pytest.mark.usefixtures("judged_in_process")
def test_a_sympy_order_term_is_invalid_with_a_reason():
    from creditlib.exercises.symbols import u_A, u_AB, u_B
    verdict = check("nb00.2", sp.O(u_A) + (u_AB - u_B) / 2)
    assert verdict.status == INVALID and "order term" in verdict.message


@pytest.mark.parametrize("exercise_id, make", [
    ("nb00.1", lambda: np.zeros(7 * 10**8, np.int8)),
    ("nb00.1", lambda: sp.zeros(30000, 30000)),
    ("10.5.2a", lambda: "A" * 200_000_000),
    ("nb00.1", lambda: [0] * 10**7),
    ("nb00.1", lambda: torch.zeros(10**7)),
], ids=["int8 array", "sympy zeros", "200 MB string", "long list", "tensor"])
def test_oversized_answers_are_refused_before_they_are_read(exercise_id, make):
    answer = make()
    start = time.monotonic()
    verdict = check(exercise_id, answer)
    assert verdict.status == INVALID and "too large" in verdict.message
    assert time.monotonic() - start < 3
