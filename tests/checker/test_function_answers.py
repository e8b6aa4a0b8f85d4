"""Function answers: the reader's function is compared with ``creditlib``'s on fresh random inputs over the
stated ranges; a failure names the input and the seed that draws it again, a seed never earns ``correct``
alone, every array form of an output is read, and slips that hold only on small inputs or to single precision
are caught. The references of the implementation exercises are checked against independent oracles.

Most tests judge in the test's process (``judged_in_process``: the same comparison, the function called on the
same inputs and its outputs sent through JSON, without the confined child); a few use the real path. What the
confined child refuses is tested in ``test_sandbox.py``.
"""
import re
from fractions import Fraction
from math import factorial

import numpy as np
import pytest
import torch
from oracles import neumann_partial_sum

from creditlib.exercises import check, get_exercise, list_exercises
from creditlib.exercises.checker.function_answers import compare_function, make_allclose, read_values
from creditlib.exercises.checker.verdicts import CORRECT, INCORRECT, INVALID, NOT_ATTEMPTED
from creditlib.influence import function_hvp
from creditlib.exercises.welcome import two_player_shapley_reference


# ---------------------------------------------------------------------------- failures name their input and its seed
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


def test_reported_seed_reproduces_the_failing_input():
    wrong = lambda e, a, b, ab: (a, b)
    first = check("nb00.3", wrong)
    seed = int(re.search(r"seed (\d+)", first.message).group(1))
    assert check("nb00.3", wrong, seed=seed).message == first.message


def _draw(rng):
    return (rng.normal(size=3),)


def _reference(v):
    return np.cumsum(v)


def _compare(func, seed=None):
    return compare_function(func, _reference, _draw, read_output=read_values, same=make_allclose(1e-10, 1e-12),
                            seed=seed)


@pytest.mark.usefixtures("judged_in_process")
def test_a_seed_reproduces_a_failure():
    verdict = _compare(lambda v: np.zeros(3), seed=123)
    assert verdict.status == INCORRECT and "seed 123" in verdict.message


@pytest.mark.usefixtures("judged_in_process")
def test_a_table_of_one_seeds_outputs_does_not_pass():
    """What 20 failure messages give a reader: the reference's output on every input of seed 123."""
    rng = np.random.default_rng(123)
    table = {tuple(args[0]): _reference(*args) for args in (_draw(rng) for _ in range(20))}

    def lookup(v):
        return table.get(tuple(v), np.zeros(3))

    verdict = _compare(lookup, seed=123)
    assert verdict.status == INCORRECT
    # failed on the fresh inputs, whose seed is random (it may begin with the digits 123: match the whole number)
    assert not re.search(r"\bseed 123\b", verdict.message) and "seed" in verdict.message
    right = _compare(lambda v: np.cumsum(v), seed=123)
    assert right.status == CORRECT and "seed 123" in right.message and "fresh" in right.message


@pytest.mark.usefixtures("judged_in_process")
def test_lookup_table_built_from_messages_fails():
    """B2: the reference's output is the answer of nb00.3, so a failure names the wrong components instead."""
    # 10**9 is wrong on every input (|s| ≤ 40 here); 0 would be right whenever the drawn s_B happens to be 0
    messages = [check("nb00.3", lambda *a: (Fraction(10**9), Fraction(10**9))).message for _ in range(5)]
    assert all("s_A and s_B are wrong" in m and "reference returns" not in m for m in messages)
    half = check("nb00.3", lambda e, a, b, ab: ((a + ab - b - e) / 2, Fraction(10**9))).message
    assert "s_B is wrong" in half and "s_A" not in half
    seeds = {re.search(r"seed (\d+)", m).group(1) for m in messages[:3]}
    assert len(seeds) == 3                                      # fresh inputs per call
    assert "reference returns tensor" in check("nb01.5", lambda f, t, v: t * 0).message   # not the answer there


@pytest.mark.usefixtures("judged_in_process")
def test_the_kernels_print_options_do_not_reach_the_message():
    old = np.get_printoptions()
    np.set_printoptions(floatmode="unique", precision=17)
    try:
        verdict = _compare(lambda v: np.zeros(3), seed=5)
    finally:
        np.set_printoptions(**old)
    shown = verdict.message.split("the reference returns")[1].split("(inputs")[0]
    digits = [len(part.split(".")[1]) for part in shown.replace("[", " ").replace("]", " ").split() if "." in part]
    assert digits and max(digits) <= 4, shown


@pytest.mark.usefixtures("judged_in_process")
@pytest.mark.parametrize("seed", [2**20000, -1, 2**63, 1.5, "3"], ids=["2**20000", "-1", "2**63", "1.5", "str"])
def test_a_bad_seed_is_invalid(seed):
    verdict = check("nb03.1", lambda v: v, seed=seed)
    assert verdict.status == INVALID and "seed" in verdict.message


@pytest.mark.usefixtures("judged_in_process")
def test_a_negative_seed_is_invalid_not_a_checker_failure():
    result = check("nb08.1", lambda t: t, seed=-1)
    assert result.status == INVALID and "non-negative" in result.message


@pytest.mark.usefixtures("judged_in_process")
def test_not_implemented_after_the_first_input_is_not_not_attempted():
    calls = []

    def partly(e, a, b, ab):
        calls.append(1)                                    # in the child that runs it: its second call raises
        if len(calls) > 1:
            raise NotImplementedError
        return (a + ab - b - e) / 2, (b + ab - a - e) / 2

    verdict = check("nb00.3", partly)
    assert verdict.status == INCORRECT and "NotImplementedError" in verdict.message


# ---------------------------------------------------------------------------- the forms of an output
FUNCTIONS = [ex for ex in list_exercises() if callable(ex.reference())]


ARRAY_FUNCTIONS = [ex for ex in FUNCTIONS if ex.id != "nb00.3"]          # nb00.3 returns an exact pair


def _as_lists(output):
    plain = output.detach().numpy() if isinstance(output, torch.Tensor) else np.asarray(output)
    forms = [plain.tolist()]
    if plain.ndim >= 1:
        forms.append(list(plain))                                   # NumPy scalars or rows
        forms.append(tuple(plain.tolist()))
    if isinstance(output, torch.Tensor) and output.ndim >= 1:
        forms.append(list(output))                                  # 0-d tensors or row tensors
    return forms


@pytest.mark.usefixtures("judged_in_process")
@pytest.mark.parametrize("exercise", ARRAY_FUNCTIONS, ids=[ex.id for ex in ARRAY_FUNCTIONS])
def test_every_array_function_exercise_accepts_its_output_as_a_list(exercise):
    reference = exercise.reference()
    for j in range(4 if exercise.id != "nb06.8" else 2):
        def answer(*args, j=j):
            forms = _as_lists(reference(*args))
            return forms[min(j, len(forms) - 1)]
        result = check(exercise.id, answer, seed=j)
        assert result.status == CORRECT, (exercise.id, j, result.message)


@pytest.mark.usefixtures("judged_in_process")
def test_function_returning_a_list_is_read_as_an_array():
    # Issue 20: one rule for array outputs (creditlib.exercises.checker.function_answers.read_values); a ragged
    # list gets a hint.
    assert check("nb01.5", lambda f, t, v: function_hvp(f, t, v).tolist()).status == CORRECT
    assert check("nb01.5", lambda f, t, v: function_hvp(f, t, v).numpy()).status == CORRECT
    ragged = check("nb01.5", lambda f, t, v: [function_hvp(f, t, v).tolist(), [0.0]])
    assert ragged.status == INVALID and "ragged" in ragged.message


@pytest.mark.usefixtures("judged_in_process")
def test_a_ragged_list_is_invalid_with_a_reason():
    from creditlib.estimators import banzhaf_msr
    result = check("nb05.8", lambda masks, u: [banzhaf_msr(masks, u).tolist(), [0.0]])
    assert result.status == INVALID and "ragged" in result.message
    assert check("nb05.8", lambda masks, u: [str(v) for v in banzhaf_msr(masks, u)]).status == INVALID
    assert check("nb05.8", lambda masks, u: [True] * masks.shape[1]).status == INVALID


@pytest.mark.usefixtures("judged_in_process")
def test_a_column_instead_of_a_vector_is_called_a_shape_mismatch():
    from creditlib.estimators import banzhaf_msr
    result = check("nb05.8", lambda masks, u: np.asarray(banzhaf_msr(masks, u))[:, None], seed=1)
    assert result.status == INCORRECT and "shape" in result.message and "reshape(-1)" in result.message


@pytest.mark.usefixtures("judged_in_process")
def test_single_precision_gets_a_float64_hint():
    from creditlib.saliency import integrated_gradients

    def ig32(model, x, baseline, target, n_steps):
        attributions, _ = integrated_gradients(model, x, baseline, target=target, n_steps=n_steps,
                                               method="riemann_middle")
        return attributions.float()                  # right to about 1e-7 only
    result = check("nb06.5", ig32, seed=2)
    assert result.status == INCORRECT and "float64" in result.message


@pytest.mark.usefixtures("judged_in_process")
def test_function_checks_are_tight():
    assert check("nb01.5", lambda f, t, v: function_hvp(f, t, v) * (1 + 1e-5)).status == INCORRECT
    assert check("nb01.5", lambda f, t, v: function_hvp(f, t, v) + 1e-6).status == INCORRECT
    off = lambda *u: tuple(s * (1 + Fraction(1, 10**5)) for s in two_player_shapley_reference(*u))
    assert check("nb00.3", off).status == INCORRECT


# ------------------------------------------------------------------- input ranges: slips that hold only on small inputs
def _int8_factorial(m):
    return int(np.prod(np.arange(1, m + 1), dtype=np.int8))       # wraps silently from 6! = 720 on


def _shapley_int8(values):
    n = len(values).bit_length() - 1
    s = np.zeros(n)
    for i in range(n):
        for S in range(2**n):
            if not S >> i & 1:
                size = bin(S).count("1")
                s[i] += (_int8_factorial(size) * _int8_factorial(n - size - 1) / _int8_factorial(n)
                         * (values[S | 1 << i] - values[S]))
    return s


def _shapley_exact_loop(values):
    n = len(values).bit_length() - 1
    s = np.zeros(n)
    for i in range(n):
        for S in range(2**n):
            if not S >> i & 1:
                size = bin(S).count("1")
                s[i] += factorial(size) * factorial(n - size - 1) / factorial(n) * (values[S | 1 << i] - values[S])
    return s


def test_int8_factorials_are_right_up_to_5_players_and_wrong_at_6():
    # The premise: the slip is invisible on the old range N ≤ 4.
    for n in range(1, 6):
        values = np.arange(2.0**n) ** 2
        assert np.allclose(_shapley_int8(values), _shapley_exact_loop(values))
    values = np.arange(64.0) ** 2
    assert not np.allclose(_shapley_int8(values), _shapley_exact_loop(values))


def _codes_in_a_byte(masks):
    """A plausible small-range slip: coalition codes by np.packbits, which keeps the first 8 players only."""
    return np.packbits(masks, axis=-1, bitorder="little")[..., 0].astype(np.int64)


def _permutation_estimate_bytes(values, orders):
    n = orders.shape[1]
    total = np.zeros(n)
    for order in orders:
        prefix = np.zeros(n, dtype=bool)
        for i in order:
            before = _codes_in_a_byte(prefix)
            prefix[i] = True
            total[i] += values[_codes_in_a_byte(prefix)] - values[before]
    return total / len(orders)


def _difference_estimate_bytes(values, subsets):
    n = len(subsets) + 1
    D = np.zeros(n)
    for size, draws in enumerate(subsets):
        outside = ~draws
        codes = _codes_in_a_byte(draws)[:, None] | (1 << np.arange(n))[None, :]
        v = np.where(outside, values[np.minimum(codes, len(values) - 1)], 0.0)
        v_out = v.sum(axis=1, keepdims=True) / (n - size)
        D += (outside * (v - v_out) / (n - size - 1)).mean(axis=0)
    return D


def _loo_bytes(table):
    n = len(table).bit_length() - 1
    return table[-1] - table[_codes_in_a_byte(~np.eye(n, dtype=bool))]


def _weighted_banzhaf_bytes(table, p):
    n = len(table).bit_length() - 1
    values = np.zeros(n)
    masks = ((np.arange(len(table))[:, None] >> np.arange(n)) & 1).astype(bool)
    codes = _codes_in_a_byte(masks)
    for i in range(n):
        without = ~masks[:, i]
        size = masks[without].sum(axis=1)
        gain = table[codes[without] | 1 << min(i, 7)] - table[codes[without]]
        values[i] = np.sum(p**size * (1 - p) ** (n - 1 - size) * gain)
    return values


@pytest.mark.usefixtures("judged_in_process")
@pytest.mark.parametrize("exercise_id, slip", [
    ("nb03.1", _shapley_int8),
    ("nb04.1", _permutation_estimate_bytes),
    ("nb04.4", _difference_estimate_bytes),
    ("nb08.1", _loo_bytes),
    ("nb08.3", _weighted_banzhaf_bytes),
    ("nb05.8", lambda masks, u: np.squeeze(np.array([u[masks[:, i]].mean() - u[~masks[:, i]].mean()
                                                      for i in range(masks.shape[1])]))),   # shape () at N = 1
])
def test_slips_that_hold_only_on_small_inputs_are_incorrect(exercise_id, slip):
    for seed in range(3):
        assert check(exercise_id, slip, seed=seed).status == INCORRECT


@pytest.mark.parametrize("exercise_id, slip", [
    ("nb04.1", _permutation_estimate_bytes), ("nb04.4", _difference_estimate_bytes), ("nb08.1", _loo_bytes),
])
def test_the_byte_slips_are_right_up_to_8_players(exercise_id, slip):
    # The premise: these answers pass on the old ranges (N ≤ 4 and N ≤ 6).
    reference = get_exercise(exercise_id).reference()
    rng = np.random.default_rng(0)
    for n in range(2, 9):
        values = rng.normal(size=2**n)
        if exercise_id == "nb04.1":
            args = (values, rng.permuted(np.tile(np.arange(n), (3, 1)), axis=1))
        elif exercise_id == "nb04.4":
            args = (values, [rng.random((2, n)).argsort(axis=1).argsort(axis=1) < size for size in range(n - 1)])
        else:
            args = (values,)
        assert np.allclose(slip(*args), reference(*args))


def test_function_inputs_cover_the_stated_ranges():
    from creditlib.exercises import capstone, datamodels, saliency, shapley_axioms, shapley_estimators
    rng = np.random.default_rng(1)
    players = lambda draw, size: {size(draw(rng)) for _ in range(400)}         # noqa: E731
    table = lambda args: len(args[0]).bit_length() - 1                           # noqa: E731
    assert players(shapley_axioms._draw_shapley_table, table) == set(range(1, 9))
    assert players(shapley_axioms._draw_table, table) == set(range(1, 5))       # nb03.4 states "at most 4 players"
    assert players(shapley_estimators._draw_table_and_orders, table) == set(range(1, 13))
    assert players(shapley_estimators._draw_table_and_subsets, table) == set(range(2, 13))
    assert players(datamodels._draw_masks_and_utilities, lambda a: a[0].shape[1]) == set(range(1, 13))
    assert players(capstone._draw_table, table) == set(range(1, 15))
    assert players(capstone._draw_table_and_p, table) == set(range(1, 15))
    steps = players(saliency._draw_ig_problem, lambda a: a[4])
    assert 1 in steps and max(steps) == 39
    assert 1 in players(saliency._draw_ig_problem, lambda a: a[1].shape[1])


@pytest.mark.usefixtures("judged_in_process")
def test_neumann_exercise_catches_a_sum_wrong_only_at_r_zero():
    import torch  # noqa: F401

    def starts_at_one_term(matvec, v, r):          # S_1 v at r = 0: right for every r ≥ 1
        term = v - matvec(v)
        total = v + term
        for _ in range(r - 1):
            term = term - matvec(term)
            total = total + term
        return total
    for seed in range(3):
        assert check("nb02.1", starts_at_one_term, seed=seed).status == INCORRECT


# ------------------------------------------------------------------ the implementation exercises of notebooks 01 and 02
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


@pytest.mark.usefixtures("judged_in_process")
@pytest.mark.parametrize("exercise_id, written_by_hand", [("nb01.4", _logistic_from_scratch),
                                                          ("nb02.1", neumann_partial_sum)])
def test_function_exercises_accept_a_from_scratch_answer(exercise_id, written_by_hand):
    result = check(exercise_id, written_by_hand)
    assert result.passed, result.message


@pytest.mark.usefixtures("judged_in_process")
@pytest.mark.parametrize("exercise_id, buggy, hint", [
    ("nb01.4", lambda *a: -_logistic_from_scratch(*a), "opposite sign"),
    ("nb01.4", lambda X, y, t, xz, yz, wd: _logistic_from_scratch(X, y, t, xz, yz, 0.0), "weight-decay term"),
    ("nb02.1", lambda A, v, r: neumann_partial_sum(A, v, r - 1) if r else v, "One term short"),
])
def test_function_exercises_diagnose_a_plausible_bug(exercise_id, buggy, hint):
    result = check(exercise_id, buggy)
    assert result.status == INCORRECT and hint in result.message and "is wrong on input" in result.message
