"""Every registered exercise: accepts its reference answer and its equivalent forms, rejects plausible wrong
ones with a hint, reports the chapters' stub as not attempted, and survives garbage; the registry's ids are
unique, unknown ids are reported, one result type, answers written in the shared symbols, a rebound symbol
named in the feedback.

Every test judges in the test's process (``judged_in_process``): what they test is each exercise's verifier,
not the sandbox (``test_sandbox.py``, ``test_worker.py`` and ``test_judge_process.py`` use the real path).
"""
import numpy as np
import pytest

from creditlib.exercises import check, describe, list_exercises
from creditlib.exercises.checker.verdicts import INCORRECT, INVALID, NOT_ATTEMPTED, not_attempted
from creditlib.exercises.core import Exercise, register

pytestmark = pytest.mark.usefixtures("judged_in_process")

EXERCISES = list_exercises()
IDS = [ex.id for ex in EXERCISES]


# ---------------------------------------------------------------------------- the registry
def test_registry_is_not_empty_and_ids_are_unique():
    assert IDS and len(IDS) == len(set(IDS))
    with pytest.raises(ValueError, match="registered twice"):
        register(Exercise(id=IDS[0], title="", expects="", verify=lambda a, e: None, notebook="",
                          reference=lambda: 0, expected=lambda: 0))


def test_unknown_id_and_describe():
    result = check("99.9z", 1)
    assert not result.passed and "known ids" in result.message
    assert "Expected:" in describe(IDS[0])


def test_exercise_id_whose_hash_raises():
    class BadId(str):
        def __hash__(self):
            raise RuntimeError("no hash")
    assert check(BadId("nb00.1"), [1, 2]).status == INVALID
    assert check(["nb00.1"], [1, 2]).status == INVALID


def test_one_result_type_for_checks_and_comparisons():
    from creditlib.exercises.checker.verdicts import Verdict
    from creditlib.exercises import CheckResult
    result = check("nb00.2", ...)
    assert CheckResult is Verdict and type(result) is Verdict
    assert result.exercise_id == "nb00.2" and result.status == "not attempted" and not result
    assert str(result).startswith("[nb00.2] not attempted:")
    bare = Verdict("correct", "fine")
    assert bare and str(bare) == "correct: fine" and "correct" in bare._repr_markdown_()


def test_markdown_display_escapes_and_labels_status():
    result = check("nb00.2", "u_A*2 [x](http://a) <b>#")
    md = result._repr_markdown_()
    assert md.startswith("⚠️") and "invalid" in md
    assert "u\\_A\\*2" in md and "\\[x\\]" in md and "&lt;b&gt;" in md and "<b>" not in md
    assert "u_A*2" not in md


def test_not_attempted_is_built_in_one_place():
    def stub(*args):
        raise NotImplementedError
    assert check("nb00.3", stub).message == check("nb00.3", ...).message
    assert not_attempted().status == NOT_ATTEMPTED


def test_stub_comment_is_the_same_for_functions_and_values():
    from make_chapters import strip_solutions
    function = strip_solutions("def f(x):\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION")
    value = strip_solutions("# BEGIN SOLUTION\nx = 1\n# END SOLUTION")
    assert "# YOUR ANSWER HERE" in function and "# YOUR ANSWER HERE" in value


# -------------------------------------------------------------------------- every exercise: right, wrong, stub, garbage
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


# ---------------------------------------------------------------------------- symbols
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


def _run_as_notebook(code: str) -> dict:
    namespace = {"__name__": "__main__"}
    exec(compile(code, "<notebook cell>", "exec"), namespace)
    return namespace


def test_a_rebound_symbol_is_named_in_the_feedback():
    """`for k in range(11)` after importing the symbol k turns a correct answer into a wrong one (notebook 04's
    bug); the verdict then says which symbol no name holds any more, and how to get it back."""
    head = "from creditlib.exercises import check\nfrom creditlib.exercises.symbols import B, N, k\n"
    answer = "verdict = check('nb04.5', B / ((N - 1) * (N - k)))\n"
    rebound = _run_as_notebook(head + "for k in range(11):\n    pass\n" + answer)["verdict"]
    assert rebound.status == "incorrect"
    assert "symbol k any more" in rebound.message
    assert "from creditlib.exercises.symbols import k" in rebound.message
    assert _run_as_notebook(head + answer)["verdict"].status == "correct"
    wrong = _run_as_notebook(head + "verdict = check('nb04.5', B / ((N - 1) * (N + k)))\n")["verdict"]
    assert wrong.status == "incorrect" and "Note:" not in wrong.message       # k is still held: no note
    aliased = _run_as_notebook("from creditlib.exercises import check\n"
                               "from creditlib.exercises.symbols import p as p_\n"
                               "p = 0.3\nverdict = check('nb05.3', 1 - 2 * p_)\n")["verdict"]
    assert aliased.status == "incorrect" and "Note:" not in aliased.message  # p_ holds the symbol p
