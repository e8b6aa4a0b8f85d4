"""Comparing numbers, vectors and names: exact values pass in every exact form, floats follow the one float
policy (right, only rounded, or wrong, never a fraction that is wrong), a stated tolerance is the one applied,
and hints explain a mistake without handing over the answer (one axiom hint or the wrong entries, never both).

Every test judges in the test's process (``judged_in_process``), but for the hash-seed test, which runs two
fresh interpreters.
"""
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
import torch

from creditlib.exercises import check, describe, get_exercise
from creditlib.exercises.checker.comparing import compare_expression, compare_number, compare_vector
from creditlib.exercises.checker.verdicts import CORRECT, INCORRECT, INVALID, NOT_ATTEMPTED
from creditlib.exercises.symbols import lam

THIRD = sp.Rational(1, 3)
R = sp.Rational


# ---------------------------------------------------------------------------- numbers
@pytest.mark.usefixtures("judged_in_process")
@pytest.mark.parametrize("answer", [sp.Rational(1, 3), 1 / sp.Integer(3), Fraction(1, 3),
                                    sp.Integer(2) / 6, (sp.sqrt(2) / sp.sqrt(2)) / 3, np.array(Fraction(1, 3))])
def test_equivalent_exact_forms_pass(answer):
    assert compare_number(answer, THIRD).status == CORRECT


@pytest.mark.usefixtures("judged_in_process")
def test_floats_need_a_tolerance():
    v = compare_number(1 / 3, THIRD)
    assert v.status == INVALID and "right" in v.message and "sp.Rational(1, 3)" in v.message
    assert compare_number(1 / 3, THIRD, tol=1e-9).status == CORRECT
    assert compare_number(0.34, THIRD, tol=1e-9).status == INCORRECT
    assert compare_number(torch.tensor(1 / 3), THIRD, tol=1e-6).status == CORRECT


@pytest.mark.usefixtures("judged_in_process")
def test_number_tolerance_is_the_stated_one():
    e, tol = sp.Rational(1, 3), 1e-6
    assert compare_number(float(e) + 2 * tol, e, tol=tol).status == INCORRECT
    assert compare_number(float(e) + tol / 2, e, tol=tol).status == CORRECT
    assert compare_number(100 + 2 * 100 * tol, 100, tol=tol).status == INCORRECT      # relative to |expected|
    assert compare_number(100 + 0.5 * 100 * tol, 100, tol=tol).status == CORRECT
    assert compare_vector([float(e) + 2 * tol, 0], [e, 0], tol=tol).status == INCORRECT
    assert compare_vector([float(e) + tol / 2, 0], [e, 0], tol=tol).status == CORRECT


@pytest.mark.usefixtures("judged_in_process")
def test_a_stub_is_not_attempted_in_every_comparison():
    assert compare_number(..., THIRD).status == NOT_ATTEMPTED
    assert compare_vector(..., [1, 2]).status == NOT_ATTEMPTED
    assert compare_expression(..., sp.Symbol("x"), [sp.Symbol("x")]).status == NOT_ATTEMPTED


# ---------------------------------------------------------------------------- vectors and the float policy
@pytest.mark.usefixtures("judged_in_process")
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


@pytest.mark.usefixtures("judged_in_process")
def test_floats_in_exact_vector_exercises_are_invalid():
    right = check("nb00.1", [115 / 2, 65 / 2])
    assert right.status == INVALID and "are right" in right.message and "sp.Rational(115, 2)" in right.message
    wrong = check("nb00.1", [0.6, 0.4])            # an axiom hint, not the names of the entries (issue 20)
    assert wrong.status == INVALID and "efficiency axiom fails" in wrong.message
    split = check("nb00.1", [57.0, 33.0])
    assert split.status == INVALID and "not right yet for: A, B" in split.message
    assert check("10.5.1d", 80.0).status == INVALID and "right" in check("10.5.1d", 80.0).message


@pytest.mark.usefixtures("judged_in_process")
def test_rounded_floats_are_called_rounded_not_wrong():
    result = check("nb03.2", [0.6667, 0.1667, 0.1667])
    assert result.status == INVALID
    assert "agree with the right ones to the digits you gave" in result.message
    assert "axiom fails" not in result.message                        # only the rounding is off
    assert "as sp.Rational(6667, 10000)" not in result.message        # never offered as the exact value
    assert "is rounded, and so is the fraction of its digits, sp.Rational(6667, 10000)" in result.message
    for revealed in ["2, 3", "1, 6", "2/3", "1/6"]:
        assert revealed not in result.message.split("Expected:")[0]
    computed = check("nb03.2", [1 - 1 / 6 - 1 / 6, 1 / 6, 1 / 6])     # right up to round-off
    assert computed.status == INVALID and "agree with the right ones" in computed.message


@pytest.mark.usefixtures("judged_in_process")
def test_floats_exactly_right_or_wrong_beyond_rounding():
    right = check("nb03.2", [2 / 3, 1 / 6, 1 / 6])
    assert right.status == INVALID and "your values are right" in right.message
    wrong = check("nb03.2", [0.5, 0.25, 0.25])
    assert wrong.status == INVALID
    assert "Even allowing for the rounding of the digits you gave, your values are not right yet for: A, B, C" \
        in wrong.message
    assert check("10.5.1d", 79.99).message.count("not right") == 1
    assert "agree" in check("10.5.1d", 80.0001).message or "not right" in check("10.5.1d", 80.0001).message
    whole = check("nb00.1", [57.0, 33.0])                              # 57.0 claims exactly 57
    assert "not right yet for: A, B" in whole.message


# --------------------------------------------------------------------------- Shapley values: one hint, never the answer
@pytest.mark.usefixtures("judged_in_process")
def test_the_shapley_diagnosis_gives_one_hint_without_the_structure():
    message = check("10.5.2a", [1, 2, 3, 4]).message
    assert message.count("axiom fails") == 1 and "efficiency" in message
    for values in ([0, 0, 0, 1], [sp.Rational(1, 2), sp.Rational(1, 4), sp.Rational(1, 4), 0]):
        message = check("10.5.2a", values).message
        assert message.count("axiom fails") == 1 and "TL and" not in message and "BR is" not in message
    assert check("nb03.2", [1, 2, 3]).message.count("axiom fails") == 1
    assert "B and C are symmetric" in check("nb03.2", [sp.Rational(2, 3), sp.Rational(1, 3), 0]).message


@pytest.mark.usefixtures("judged_in_process")
@pytest.mark.parametrize("values", [[sp.Rational(115, 2) + sp.Rational(1, 100), sp.Rational(65, 2)],
                                    [57.51, 32.5]])
def test_efficiency_diagnosis_catches_a_small_gap(values):
    result = check("nb00.1", values)
    assert "efficiency axiom fails" in result.message
    assert result.status == (INCORRECT if isinstance(values[0], sp.Basic) else INVALID)


SHAPLEY_VECTORS = ["nb00.1", "nb03.2", "10.5.1b", "10.5.2a"]


@pytest.mark.usefixtures("judged_in_process")
@pytest.mark.parametrize("exercise_id", SHAPLEY_VECTORS)
def test_a_shapley_answer_gets_an_axiom_hint_or_the_wrong_entries_never_both(exercise_id):
    expected = list(get_exercise(exercise_id).expected_value())
    n = len(expected)
    answers = [[e + int(i == 0) for i, e in enumerate(expected)],                  # efficiency fails
               [e + int(i == 0) - int(i == n - 1) for i, e in enumerate(expected)],   # sum kept, two entries off
               [e + R(int(i == 1) - int(i == 2), 2) for i, e in enumerate(expected)],
               [float(e) + int(i == 0) for i, e in enumerate(expected)]]
    kinds = set()
    for answer in answers:
        message = check(exercise_id, answer).message
        hint, names = "axiom fails" in message, "not right yet for" in message.lower()
        assert not (hint and names), message
        assert hint or names, message
        kinds.add("hint" if hint else "names")
    assert "hint" in kinds and (kinds == {"hint", "names"} or exercise_id in ("nb03.2", "10.5.2a"))


@pytest.mark.usefixtures("judged_in_process")
def test_nb03_2_feedback_does_not_hand_over_the_answer():
    # B and C right, A off: the efficiency hint alone, without "Not right yet for: A".
    result = check("nb03.2", [R(1, 2), R(1, 6), R(1, 6)])
    assert result.status == INCORRECT and "efficiency axiom fails" in result.message
    assert "Not right yet" not in result.message
    names = check("nb03.2", [R(1, 2), R(1, 4), R(1, 4)])              # the axioms hold: the entries are named
    assert names.status == INCORRECT and "Not right yet for: A, B, C." in names.message


# ---------------------------------------------------------------------------- names and choices
@pytest.mark.usefixtures("judged_in_process")
def test_naming_every_option_does_not_list_the_wrong_ones():
    everything = check("10.5.2b", {"TL", "TR", "BL", "BR"})
    assert everything.status == INCORRECT and sum(p in everything.message for p in ["TL", "TR", "BL"]) <= 1
    assert "name(s)" not in everything.message and "includes a name that does not belong" in everything.message
    pairs = {("TL", "TR"), ("TL", "BL"), ("TL", "BR"), ("TR", "BL"), ("TR", "BR"), ("BL", "BR")}
    assert check("10.5.2c", pairs).message.count("not symmetric") <= 1
    axioms = {"efficiency", "symmetry", "null player", "linearity"}
    result = check("nb03.3", {s: axioms for s in ["equal split", "individual worth", "leave one out",
                                                   "proportional split"]})
    assert result.status == INCORRECT and result.message.count("does not break") <= 1
    assert check("10.5.1c", {"A", "B", "C"}).status == INVALID
    assert "1" not in check("10.5.2b", set()).message


def test_hints_do_not_depend_on_the_hash_seed():
    # each interpreter judges in its own process (judged_in_process): the hints are computed under its hash seed
    code = ("from creditlib.exercises import check\nfrom creditlib.exercises.checker.worker import judged_in_process\n"
            "with judged_in_process():\n"
            "    print(check('10.5.2c', {('TL','BR'), ('TR','BR'), ('BL','BR'), ('TL','TR')}).message)\n"
            "    print(check('nb03.3', {'equal split': {'efficiency', 'symmetry', 'linearity'}, 'individual worth': "
            "set(), 'leave one out': set(), 'proportional split': set()}).message)")
    outputs = set()
    for seed in ["0", "1"]:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outputs.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                   check=True).stdout)
    assert len(outputs) == 1


@pytest.mark.usefixtures("judged_in_process")
def test_messages_are_well_formed():
    summed = check("10.1.3a", sp.summation((1 - lam) ** sp.Symbol("i", integer=True), (sp.Symbol("i", integer=True), 0, sp.oo)))
    assert summed.status == INVALID and "Abs(lambda - 1) < 1" in summed.message and "nan" not in summed.message
    empty = check("nb03.5", {(): 0, "A": 0})
    assert empty.status == INVALID and "∅" in empty.message
    assert "set of names" not in check("nb01.2", 1).message and "one name" in check("nb01.2", 1).message
    assert "two different names" in check("10.5.2c", {("TL", "TL")}).message
    assert "one per player" not in check("10.1.3b", [0, 2, 4]).message
    assert not describe("nb03.3").split(" Expected:")[0].endswith("?.")
    stub = str(check("nb00.1", ...))
    assert stub.lower().count("not attempted") == 1 and check("nb00.1", ...).status == NOT_ATTEMPTED
    assert all(name in describe("nb01.1") for name in ["xz", "yz", "lambda_", "theta", "m2"])
    assert len(check("10.5.1d", 10**400).message) < 300
