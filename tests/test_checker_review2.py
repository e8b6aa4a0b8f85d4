"""Issue 9, second review: one test per finding (A1 … E7). Statuses are asserted exactly."""
import builtins
import fractions
import json
import os
import time
import warnings
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
import torch

from creditlib.checking import CORRECT, INCORRECT, INVALID, UNDECIDED
from creditlib.exercises import check, core
from creditlib.exercises.symbols import u_A, u_AB, u_B
from creditlib.exercises.welcome import two_player_shapley_reference


def _forge(*args):
    """Write a "correct" verdict to every pipe this process holds, then end the process."""
    for fd in os.listdir("/proc/self/fd"):
        try:
            if int(fd) > 2 and os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                os.write(int(fd), json.dumps(["correct", "Correct on all 20 random inputs."]).encode() + b"\n")
        except OSError:
            pass
    os._exit(0)


def _patch_builtins_all(e, a, b, ab):
    builtins.all = lambda items: True
    return Fraction(0), Fraction(0)


def _patch_fraction_eq(e, a, b, ab):
    fractions.Fraction.__eq__ = lambda self, other: True
    return Fraction(0), Fraction(0)


def _patch_reference(e, a, b, ab):
    import creditlib.exercises.welcome as welcome
    import sympy as sp
    welcome.shapley_exact = lambda game, exact=True: [sp.Integer(0), sp.Integer(0)]
    return Fraction(0), Fraction(0)


# ---------------------------------------------------------------------------- A1. code that ran reader code never judges
@pytest.mark.parametrize("exercise_id, answer", [
    ("nb00.3", _forge), ("nb01.5", _forge), ("nb00.3", _patch_builtins_all), ("nb00.3", _patch_fraction_eq),
    ("nb00.3", _patch_reference)], ids=["forge-nb00.3", "forge-nb01.5", "builtins.all", "Fraction.__eq__",
                                        "reference"])
def test_a1_reader_function_cannot_forge_or_patch_the_verdict(exercise_id, answer):
    assert check(exercise_id, answer).status in (INCORRECT, INVALID)     # invalid: garbage in its own result pipe
    assert check("nb00.3", two_player_shapley_reference).status == CORRECT


# ---------------------------------------------------------------------------- C1. expected value inside the limit
def test_c1_expected_value_is_computed_within_the_time_limit(monkeypatch):
    hanging = core.Exercise(id="test.hang", title="t", expects="e", notebook="n", verify=lambda a, e: None,
                            reference=lambda: 0, expected=lambda: time.sleep(60))
    monkeypatch.setitem(core._REGISTRY, "test.hang", hanging)
    start = time.monotonic()
    result = check("test.hang", 0, seconds=1)
    assert time.monotonic() - start < 2 and result.status == UNDECIDED and "longer than" in result.message
    assert "test.hang" not in core._EXPECTED


# ---------------------------------------------------------------------------- C2. a forking function
def test_c2_function_that_forks_is_refused_the_fork(tmp_path):
    """Since issue 20 a function answer runs confined (creditlib.sandbox): its fork fails, nothing outlives it."""
    pid_file = tmp_path / "child.pid"

    def forker(e, a, b, ab):
        if not pid_file.exists() and os.fork() == 0:
            pid_file.write_text(str(os.getpid()))
            time.sleep(60)
            os._exit(0)
        return (a + ab - b - e) / 2, (b + ab - a - e) / 2
    start = time.monotonic()
    verdict = check("nb00.3", forker, seconds=5)
    assert verdict.status == INCORRECT and "PermissionError" in verdict.message
    assert time.monotonic() - start < 3
    assert not pid_file.exists()


# ---------------------------------------------------------------------------- A2. attributes set on sympy objects, matrices, tensors
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
def test_a2_attributes_set_on_answers_are_refused_unread(exercise_id, make):
    Hostile.used.clear()
    result = check(exercise_id, make())
    assert result.status == INVALID and ("attributes set on it" in result.message or "cannot read" in result.message)
    assert not Hostile.used
    assert check("nb00.2", sp.Max(0, u_A) - sp.Max(0, u_A) + (u_A + u_AB - u_B) / 2).status == CORRECT   # _argset


# ---------------------------------------------------------------------------- A3. uint64 never wraps
def test_a3_uint64_is_read_exactly():
    dividends = {"A": 0, "B": 0, "C": 0, "AB": 1, "AC": 1, "BC": 0}
    bigs = [np.array(2**64 - 1, dtype=np.uint64), np.uint64(2**64 - 1)]
    if hasattr(torch, "uint64"):        # torch 2.3 and later (pyproject allows 2.2, where no such tensor exists)
        bigs.append(torch.tensor(-1).to(torch.uint64))
    for big in bigs:
        assert check("nb03.5", {**dividends, "ABC": big}).status == INCORRECT
    assert check("nb03.5", {**dividends, "ABC": np.array(-1, dtype=np.int64)}).status == CORRECT
    assert check("10.5.1a", np.array([30 + 2**64, 70], dtype=object)).status == INCORRECT


# ---------------------------------------------------------------------------- B1. one hint, no names for 10.5.2a
def test_b1_shapley_diagnosis_gives_one_hint_without_the_structure():
    message = check("10.5.2a", [1, 2, 3, 4]).message
    assert message.count("axiom fails") == 1 and "efficiency" in message
    for values in ([0, 0, 0, 1], [sp.Rational(1, 2), sp.Rational(1, 4), sp.Rational(1, 4), 0]):
        message = check("10.5.2a", values).message
        assert message.count("axiom fails") == 1 and "TL and" not in message and "BR is" not in message
    assert check("nb03.2", [1, 2, 3]).message.count("axiom fails") == 1
    assert "B and C are symmetric" in check("nb03.2", [sp.Rational(2, 3), sp.Rational(1, 3), 0]).message


# ---------------------------------------------------------------------------- D. garbage is invalid with a hint
@pytest.mark.parametrize("exercise_id, make", [
    ("nb00.1", lambda: [sp.Float("1e400"), 1]),
    ("10.5.1d", lambda: sp.Float("1e400")),
    ("10.5.1d", lambda: (lambda a: (a.__setitem__(0, a), a)[1])(np.empty(1, dtype=object))),
    ("10.5.1a", lambda: torch.quantize_per_tensor(torch.tensor([30., 70.], dtype=torch.float32), 1.0, 0, torch.qint32)),
    ("nb00.2", lambda: sp.Pow(2, sp.Pow(2, 2**100, evaluate=False), evaluate=False) * u_A),
], ids=["Float-1e400-vector", "Float-1e400", "self-referential-array", "quantized", "power-tower"])
def test_d_unreadable_answers_are_invalid(exercise_id, make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        answer = make()
    assert check(exercise_id, answer).status == INVALID


def test_d_negative_bit_tensor_is_read():
    neg = torch.tensor([-30. - 30j, -70. - 70j], dtype=torch.complex128).conj().imag
    result = check("10.5.1a", neg)
    assert result.status == INVALID and "your values are right" in result.message     # floats, but read


# ---------------------------------------------------------------------------- E. correct or ambiguous answers
def test_e1_e2_integrals_sums_and_derivatives_are_evaluated():
    x, t = sp.symbols("x t")
    i = sp.Symbol("i", integer=True)
    assert check("nb00.1", [sp.Integral(sp.Rational(115, 2), (x, 0, 1)), sp.Rational(65, 2)]).status == CORRECT
    assert check("nb00.1", [sp.Sum(sp.Rational(1, 2), (i, 1, 115)), sp.Rational(65, 2)]).status == CORRECT
    assert check("10.5.1d", sp.Integral(80, (x, 0, 1))).status == CORRECT
    s_a = (sp.Symbol("u_A") + sp.Symbol("u_AB") - sp.Symbol("u_B")) / 2
    assert check("nb00.2", sp.Derivative(t * s_a, t)).status == CORRECT
    assert check("nb00.2", sp.Subs(s_a + t, t, 0)).status == CORRECT


def test_e3_keys_folding_to_one_name_are_invalid():
    result = check("nb00.1", {"a": 0, "A": sp.Rational(115, 2), "b": sp.Rational(65, 2)})
    assert result.status == INVALID and "two keys for A" in result.message
    choices = {"equal split": {"null player"}, "individual worth": {"efficiency"}, "leave one out": {"efficiency"},
               "proportional split": set(), "Proportional Split": {"linearity"}}
    assert "two keys for" in check("nb03.3", choices).message


@pytest.mark.parametrize("number", [np.longlong(80), np.ulonglong(80), np.intc(80), np.uint64(80), np.int8(80)])
def test_e4_every_numpy_integer_type_is_accepted(number):
    assert check("10.5.1d", number).status == CORRECT


@pytest.mark.parametrize("row", [np.array([[30, 70]]), np.array([[30], [70]]), torch.tensor([[30, 70]]),
                                 sp.Matrix([[30, 70]]), sp.ImmutableMatrix([30, 70]), sp.Tuple(30, 70)])
def test_e5_e7_rows_columns_and_sympy_tuples_are_vectors(row):
    assert check("10.5.1a", row).status == CORRECT


def test_e6_piecewise_equal_on_the_domain_is_never_incorrect():
    lam = sp.Symbol("lambda")
    result = check("10.1.3a", sp.Piecewise((1 / lam, lam < 2), (0, True)))
    assert result.status in (CORRECT, UNDECIDED)
    assert result.passed or "could neither prove nor refute" in result.message


def test_e7_numpy_seed_and_comma_joined_names():
    wrong = lambda e, a, b, ab: (a, b)
    assert check("nb00.3", wrong, seed=np.int64(3)).message == check("nb00.3", wrong, seed=3).message
    result = check("10.5.1e", "B,C")
    assert result.status == INVALID and "{'B', 'C'}" in result.message
