"""Every registered exercise: accepts its reference answer, rejects plausible wrong ones with a hint,
reports the chapters' stub as not attempted, and survives garbage."""
import numpy as np
import pytest

from creditlib.checking import INCORRECT, INVALID, NOT_ATTEMPTED
from creditlib.exercises import check, describe, list_exercises
from creditlib.exercises.core import Exercise, register
from oracles import neumann_partial_sum

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


# --- notebooks 01 and 02: the implementation exercises nb01.4 and nb02.1 -----------------------------------
def _logistic_from_scratch(X, y, theta, x_z, y_z, weight_decay):
    """nb01.4 written as a reader would: closed-form gradients and Hessian of L2-logistic regression."""
    import torch
    p = torch.sigmoid(X @ theta)
    H = (X.T * (p * (1 - p))) @ X / len(y) + weight_decay * torch.eye(X.shape[1], dtype=X.dtype)
    g_z = (torch.sigmoid(x_z @ theta) - y_z) * x_z
    return -((p - y)[:, None] * X) @ torch.linalg.solve(H, g_z)




def test_nb01_4_reference_is_the_derivative_of_definition_10_1_1():
    # Oracle: Definition 10.1.1 itself. Retrain with x_i's weight 1/n ± h (Newton to machine precision, in
    # NumPy) and take the central difference of the test loss; no influence formula is involved.
    import torch
    from creditlib.exercises.influence_functions import logistic_influence_reference
    rng = np.random.default_rng(0)
    n, d, wd = 12, 3, 0.1
    X, y = rng.normal(size=(n, d)), (rng.random(n) < 0.5).astype(float)
    x_z, y_z = rng.normal(size=d), 1.0

    def minimiser(weights):
        theta = np.zeros(d)
        for _ in range(50):
            p = 1 / (1 + np.exp(-X @ theta))
            grad = X.T @ (weights * (p - y)) + wd * theta
            hess = (X.T * (weights * p * (1 - p))) @ X + wd * np.eye(d)
            theta = theta - np.linalg.solve(hess, grad)
        return theta

    def test_loss(theta):
        logit = x_z @ theta
        return np.logaddexp(0, logit) - y_z * logit

    theta_star = minimiser(np.full(n, 1 / n))
    h = 1e-5
    finite_difference = np.array([
        (test_loss(minimiser(np.full(n, 1 / n) + h * np.eye(n)[i])) -
         test_loss(minimiser(np.full(n, 1 / n) - h * np.eye(n)[i]))) / (2 * h) for i in range(n)])
    T = lambda a: torch.tensor(a, dtype=torch.float64)
    reference = logistic_influence_reference(T(X), T(y), T(theta_star), T(x_z), T(y_z), wd).numpy()
    assert np.allclose(reference, finite_difference, rtol=1e-6, atol=1e-9)
    assert np.abs(reference).max() > 1e-3                       # not trivially zero
    by_hand = _logistic_from_scratch(T(X), T(y), T(theta_star), T(x_z), T(y_z), wd).numpy()
    assert np.allclose(by_hand, finite_difference, rtol=1e-6, atol=1e-9)


def test_nb02_1_reference_is_the_dense_partial_sum():
    import torch
    from creditlib.exercises.neumann_series import SymmetricOperator, neumann_partial_sum_reference
    rng = np.random.default_rng(1)
    A = rng.normal(size=(4, 4))
    A = (A + A.T) / 8 + np.eye(4)
    v = rng.normal(size=4)
    for r in [0, 1, 2, 7]:
        dense = sum(np.linalg.matrix_power(np.eye(4) - A, i) @ v for i in range(r + 1))
        got = neumann_partial_sum_reference(SymmetricOperator(torch.tensor(A)), torch.tensor(v), r).numpy()
        assert np.allclose(got, dense, rtol=1e-12, atol=1e-12), r


@pytest.mark.parametrize("exercise_id, written_by_hand", [("nb01.4", _logistic_from_scratch),
                                                          ("nb02.1", neumann_partial_sum)])
def test_function_exercises_accept_a_from_scratch_answer(exercise_id, written_by_hand):
    result = check(exercise_id, written_by_hand)
    assert result.passed, result.message


@pytest.mark.parametrize("exercise_id, buggy, hint", [
    ("nb01.4", lambda *a: -_logistic_from_scratch(*a), "opposite sign"),
    ("nb01.4", lambda X, y, t, xz, yz, wd: _logistic_from_scratch(X, y, t, xz, yz, 0.0), "weight-decay term"),
    ("nb02.1", lambda A, v, r: neumann_partial_sum(A, v, r - 1) if r else v, "One term short"),
])
def test_function_exercises_diagnose_a_plausible_bug(exercise_id, buggy, hint):
    result = check(exercise_id, buggy)
    assert result.status == INCORRECT and hint in result.message and "is wrong on input" in result.message


@pytest.fixture(scope="module", autouse=True)
def _warm_torch_func():
    """The first torch.func transform of a process costs 2–3 s. Checks run in forked workers, which inherit
    the parent's state; in a notebook earlier cells have already used creditlib.influence. Warm this process
    the same way, so that on a loaded machine the double cold start of test_reference_answer_passes[nb01.4]
    (the reference runs both as the answer and as the oracle) cannot push the check past its time limit."""
    from creditlib.exercises.influence_functions import _draw_logistic_problem, logistic_influence_reference
    logistic_influence_reference(*_draw_logistic_problem(np.random.default_rng(0)))


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
