"""Every registered exercise: accepts its reference answer, rejects plausible wrong ones with a hint,
reports the chapters' stub as not attempted, and survives garbage."""
import numpy as np
import pytest

from creditlib.checking import INCORRECT, INVALID, NOT_ATTEMPTED
from creditlib.exercises import check, describe, list_exercises
from creditlib.exercises.core import Exercise, register

EXERCISES = list_exercises()
IDS = [ex.id for ex in EXERCISES]


def test_registry_is_not_empty_and_ids_are_unique():
    assert IDS and len(IDS) == len(set(IDS))
    with pytest.raises(ValueError, match="registered twice"):
        register(Exercise(id=IDS[0], title="", expects="", verify=lambda a, e: None, notebook="",
                          reference=lambda: 0, expected=lambda: 0))


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_reference_answer_passes(exercise):
    result = check(exercise.id, exercise.reference())
    assert result.passed, result.message


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_plausible_wrong_answers_fail_with_a_hint(exercise):
    wrong = exercise.wrong_answers()
    assert wrong, f"{exercise.id} lists no wrong answers to test its checker with"
    for answer, fragment in wrong:
        result = check(exercise.id, answer)
        assert not result.passed, f"{exercise.id} accepted the wrong answer {answer!r}"
        assert fragment in result.message, f"{exercise.id}: {result.message!r} lacks {fragment!r}"


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_stub_is_not_attempted(exercise):
    assert check(exercise.id, ...).status == NOT_ATTEMPTED

    def stub(*args, **kwargs):
        raise NotImplementedError
    if callable(exercise.reference()):
        assert check(exercise.id, stub).status == NOT_ATTEMPTED


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
@pytest.mark.parametrize("garbage", [None, "1/2", float("nan"), [], [None, None], np.zeros((2, 2)), object(),
                                     {"x": 1}, lambda *a: None, b"\x00", 10**400])
def test_garbage_never_raises_and_never_passes(exercise, garbage):
    result = check(exercise.id, garbage)
    # A number is a (wrong) number where a number is asked and [] an empty set where a set is; the rest is unreadable.
    readable = type(garbage) is int or (type(garbage) is list and not garbage)
    assert result.status in ((INVALID, INCORRECT) if readable else (INVALID,)), result
    assert result.message and str(result) and result._repr_markdown_() and len(result.message) < 1000


def test_unknown_id_and_describe():
    result = check("99.9z", 1)
    assert not result.passed and "known ids" in result.message
    assert "Expected:" in describe(IDS[0])


def test_markdown_display_escapes_and_labels_status():
    result = check("nb00.2", "u_A*2 [x](http://a) <b>#")
    md = result._repr_markdown_()
    assert md.startswith("⚠️") and "invalid" in md
    assert "u\\_A\\*2" in md and "\\[x\\]" in md and "&lt;b&gt;" in md and "<b>" not in md
    assert "u_A*2" not in md


def equivalent_forms(answer):
    """Other ways a reader may write a correct answer: Fractions, ints, expanded or factored expressions, lists."""
    import sympy as sp
    from fractions import Fraction

    def as_fraction(v):
        return Fraction(int(v.p), int(v.q)) if getattr(v, "is_Rational", False) else v

    if isinstance(answer, (list, tuple)) or (isinstance(answer, np.ndarray) and answer.dtype == object):
        items = list(answer)
        forms = [[as_fraction(v) for v in items], tuple(items)]
        if all(getattr(v, "is_Integer", False) for v in items):
            forms.append([int(v) for v in items])
        return forms
    if isinstance(answer, (set, frozenset)):
        return [sorted(answer, key=str), tuple(sorted(answer, key=str))] if all(isinstance(a, str) for a in answer) else []
    if isinstance(answer, sp.Basic):
        forms = [sp.expand(answer), sp.factor(answer), answer * 2 / 2]
        if answer.is_Rational:
            forms.append(as_fraction(answer))
        return forms
    return []


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_equivalent_forms_of_the_answer_pass(exercise):
    for form in equivalent_forms(exercise.reference()):
        result = check(exercise.id, form)
        assert result.passed, f"{exercise.id} rejected the equivalent form {form!r}: {result.message}"


def test_one_result_type_for_checks_and_comparisons():
    from creditlib import checking
    from creditlib.exercises import CheckResult
    result = check("nb00.2", ...)
    assert CheckResult is checking.Verdict and type(result) is checking.Verdict
    assert result.exercise_id == "nb00.2" and result.status == "not attempted" and not result
    assert str(result).startswith("[nb00.2] not attempted:")
    bare = checking.Verdict("correct", "fine")
    assert bare and str(bare) == "correct: fine" and "correct" in bare._repr_markdown_()


def test_every_symbolic_answer_is_written_in_the_shared_symbols():
    # A reader writes answers with creditlib.exercises.symbols: every symbol of every
    # reference answer must be one of them (same name *and* assumptions), or the reader's
    # correct answer would not match.
    import sympy as sp
    import creditlib.exercises.symbols as symbols
    shared = {v for v in vars(symbols).values() if isinstance(v, sp.Symbol)}
    assert len(shared) == len(symbols.__all__)
    seen = 0
    for exercise in list_exercises():
        answer = exercise.reference()
        if isinstance(answer, sp.Basic):
            seen += 1
            assert answer.free_symbols <= shared, (exercise.id, answer.free_symbols - shared)
    assert seen >= 8
