"""The verification primitives: exact, symbolic, functional; never raising, never evaluating strings."""
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
import torch

from creditlib.checking import (CORRECT, INCORRECT, INVALID, NOT_ATTEMPTED, compare_expression,
                                compare_function, compare_number, compare_vector, time_limit)
from creditlib.checking import _Timeout

THIRD = sp.Rational(1, 3)


@pytest.mark.parametrize("answer", [sp.Rational(1, 3), 1 / sp.Integer(3), Fraction(1, 3),
                                    sp.Integer(2) / 6, (sp.sqrt(2) / sp.sqrt(2)) / 3, np.array(Fraction(1, 3))])
def test_equivalent_exact_forms_pass(answer):
    assert compare_number(answer, THIRD).status == CORRECT


def test_floats_need_a_tolerance():
    v = compare_number(1 / 3, THIRD)
    assert v.status == INVALID and "right" in v.message and "sp.Rational(1, 3)" in v.message
    assert compare_number(1 / 3, THIRD, tol=1e-9).status == CORRECT
    assert compare_number(0.34, THIRD, tol=1e-9).status == INCORRECT
    assert compare_number(torch.tensor(1 / 3), THIRD, tol=1e-6).status == CORRECT


@pytest.mark.parametrize("garbage, fragment", [
    ("1/3", "never evaluated"), (None, "None"), (float("nan"), "finite"), (True, "boolean"),
    ([1, 2], "has type list"), (np.ones(3), "shape"), (sp.Symbol("x"), "not a real number"), (1j, "complex"),
    (sp.oo, "infinity"), (object(), "has type object")])
def test_garbage_is_invalid_not_an_exception(garbage, fragment):
    v = compare_number(garbage, THIRD)
    assert v.status == INVALID and fragment in v.message


def test_strings_are_never_evaluated(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("sympify called")
    monkeypatch.setattr(sp, "sympify", boom)
    monkeypatch.setattr(sp, "parse_expr", boom, raising=False)
    assert compare_number("__import__('os').system('echo hacked')", THIRD).status == INVALID
    assert compare_expression("x**2", sp.Symbol("x") ** 2, [sp.Symbol("x")]).status == INVALID


def test_stub_is_not_attempted():
    assert compare_number(..., THIRD).status == NOT_ATTEMPTED
    assert compare_vector(..., [1, 2]).status == NOT_ATTEMPTED
    assert compare_expression(..., sp.Symbol("x"), [sp.Symbol("x")]).status == NOT_ATTEMPTED


def test_vector_reports_length_entries_and_diagnosis():
    expected = [sp.Rational(1, 2), sp.Rational(1, 2)]
    assert compare_vector([1, 2, 3], expected, labels=["A", "B"]).status == INVALID
    assert "expected 2 (A, B)" in compare_vector([1, 2, 3], expected, labels=["A", "B"]).message
    v = compare_vector([sp.Rational(1, 2), 1], expected, labels=["A", "B"],
                       diagnose=lambda vals: ["sum is off"])
    assert v.status == INCORRECT and "Not right yet for: B" in v.message and "sum is off" in v.message
    assert "1/2" not in v.message  # never reveals the expected value
    assert compare_vector({"B": sp.Rational(1, 2), "A": Fraction(1, 2)}, expected, labels=["A", "B"]).passed
    assert compare_vector(sp.Matrix([THIRD, THIRD]), [THIRD, THIRD]).passed
    assert compare_vector(np.array([[1, 2]]), [1, 2]).passed          # a row, like sp.Matrix([[1, 2]])
    assert compare_vector(np.array([[1, 2], [3, 4]]), [1, 2]).status == INVALID
    assert compare_vector([1, "2"], [1, 2]).status == INVALID


def test_expression_matching_by_name_and_randomized_evaluation():
    eps, rho = sp.symbols("epsilon rho", positive=True)
    expected = sp.log(1 / eps) / sp.log(1 / rho) - 1
    plain_eps, plain_rho = sp.symbols("epsilon rho")  # no assumptions: different objects in sympy
    rewritten = (sp.log(plain_eps) - sp.log(plain_rho)) / sp.log(plain_rho)
    domain = {"epsilon": (0.01, 0.5), "rho": (0.1, 0.9)}
    assert compare_expression(rewritten, expected, [eps, rho], domain=domain).passed
    wrong = compare_expression(sp.log(1 / plain_eps) / sp.log(1 / plain_rho), expected, [eps, rho], domain=domain)
    assert wrong.status == INCORRECT and "epsilon =" in wrong.message
    assert compare_expression(sp.Symbol("t"), expected, [eps, rho]).status == INVALID
    assert compare_expression(sp.Eq(eps, 1), expected, [eps, rho]).status == INVALID


def test_function_answers_show_the_failing_input():
    reference = lambda a, b: a + b
    draw = lambda rng: (int(rng.integers(0, 10)), int(rng.integers(0, 10)))
    same = lambda x, y: x == y
    read = lambda got: got if type(got) is int else 0
    assert compare_function(lambda a, b: b + a, reference, draw, read_output=read, same=same).passed
    v = compare_function(lambda a, b: a - b, reference, draw, read_output=read, same=same, seed=3)
    assert v.status == INCORRECT and "on input (" in v.message and "reference returns" in v.message
    assert "seed 3" in v.message

    def stub(a, b):
        raise NotImplementedError
    assert compare_function(stub, reference, draw, read_output=read, same=same).status == NOT_ATTEMPTED
    assert "raised KeyError" in compare_function(lambda a, b: {}[a], reference, draw, read_output=read,
                                                 same=same).message
    assert compare_function(3, reference, draw, read_output=read, same=same).status == INVALID


def test_time_limit_interrupts_a_slow_block():
    import time
    with pytest.raises(_Timeout):
        with time_limit(0.05):
            time.sleep(1)
    with pytest.raises(_Timeout):          # an inner limit never extends an outer one
        with time_limit(0.05):
            with time_limit(5):
                time.sleep(1)
