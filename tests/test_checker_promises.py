"""Issue 20, sections 4 and 5: each exercise is judged over the domain and the input range it states, array
outputs have one accepted form, and the float and Shapley feedback neither misleads nor hands over the answer."""
from fractions import Fraction
from math import factorial

import numpy as np
import pytest
import sympy as sp
import torch

from creditlib.checking import CORRECT, INCORRECT, INVALID, _draw_point, boundary_points
from creditlib.exercises import check, list_exercises
from creditlib.exercises.symbols import B, N, k

EXERCISES = list_exercises()
EXPRESSIONS = [ex for ex in EXERCISES if ex.symbols]
FUNCTIONS = [ex for ex in EXERCISES if callable(ex.reference())]
ARRAY_FUNCTIONS = [ex for ex in FUNCTIONS if ex.id != "nb00.3"]          # nb00.3 returns an exact pair


# ---------------------------------------------------------------------------- symbol domains
def _ends(exercise, symbol):
    """The closed ends of ``symbol``'s range in this exercise, read here from the registry's domain and the
    symbol's assumptions (not from the checker's code): [(bound expression, "low"/"high")]."""
    spec = exercise.domain.get(symbol.name)
    ends = []
    if isinstance(spec, sp.Interval):
        if not spec.left_open and spec.start.is_finite:
            ends.append((spec.start, "low"))
        if not spec.right_open and spec.end.is_finite:
            ends.append((spec.end, "high"))
        return ends
    if not symbol.is_integer:
        return ends                                  # a real range given as (low, high) is open
    low, high = spec if spec is not None else (None, None)
    floor = 1 if symbol.is_positive else 0 if symbol.is_nonnegative else None
    if floor is not None and (low is None or (sp.sympify(low).is_number and low < floor)):
        low = floor
    if low is not None:
        ends.append((sp.sympify(low), "low"))
    if high is not None:
        ends.append((sp.sympify(high), "high"))
    return ends


BOUNDED = [(ex, s, bound, side) for ex in EXPRESSIONS for s in ex.symbols for bound, side in _ends(ex, s)]


def test_every_bounded_symbol_is_listed():
    # The integer symbols of notebooks 01, 02 and 04, and ρ of nb05.9, have ends the checker must try.
    named = {(ex.id, s.name, side) for ex, s, _, side in BOUNDED}
    for expected in [("nb04.2", "k", "low"), ("nb04.2", "k", "high"), ("nb04.2", "N", "low"),
                     ("nb04.3", "k", "high"), ("nb04.5", "k", "low"), ("nb04.5", "N", "low"),
                     ("nb04.6", "N", "low"), ("nb01.3", "n_train", "low"), ("10.1.4a", "r", "low"),
                     ("nb05.9", "rho", "high")]:
        assert expected in named, expected


@pytest.mark.parametrize("exercise, symbol, bound, side", BOUNDED,
                         ids=[f"{ex.id}-{s.name}={b}" for ex, s, b, _ in BOUNDED])
def test_an_answer_wrong_only_at_an_end_of_the_domain_is_incorrect(exercise, symbol, bound, side):
    reference = exercise.reference()
    spike = check(exercise.id, reference + sp.KroneckerDelta(symbol, bound))
    assert spike.status == INCORRECT, spike
    assert f"{symbol.name} = " in spike.message
    if symbol.is_integer:
        # sign and Heaviside of the distance to the end are 1 inside the range, 0 and ½ at its end: these answers
        # are right everywhere but there (the forms of the issue, which relied on k > 0)
        distance = symbol - bound if side == "low" else bound - symbol
        assert check(exercise.id, reference + 1 - sp.sign(distance)).status == INCORRECT
        assert check(exercise.id, reference + 2 - 2 * sp.Heaviside(distance)).status == INCORRECT


@pytest.mark.parametrize("exercise", EXPRESSIONS, ids=[ex.id for ex in EXPRESSIONS])
def test_points_drawn_lie_in_the_stated_domain_and_its_ends_are_tried(exercise):
    symbols = list(exercise.symbols)
    rng = np.random.default_rng(0)
    points = [_draw_point(rng, symbols, exercise.domain, nice=bool(i % 2)) for i in range(200)]
    edges = boundary_points(symbols, exercise.domain)
    for point in points + edges:
        assert point is not None
        for s in symbols:
            value = point[s]
            assert value.is_Rational and (value.is_Integer or not s.is_integer)
            if s.is_positive:
                assert value > 0
            if s.is_nonnegative:
                assert value >= 0
            spec = exercise.domain.get(s.name)
            if spec is None:
                continue
            if isinstance(spec, sp.Interval):
                assert spec.xreplace(point).contains(value) == sp.true, (s, value)
                continue
            low, high = (None if b is None else sp.sympify(b).xreplace(point) for b in spec)
            if s.is_integer:
                assert (low is None or value >= low) and (high is None or value <= high), (s, value, point)
            else:
                assert (low is None or value > low) and (high is None or value < high), (s, value, point)
    for symbol, bound, side in [(s, b, side) for ex, s, b, side in BOUNDED if ex is exercise]:
        assert any(edge[symbol] == sp.sympify(bound).xreplace(edge) for edge in edges), (symbol, bound)


@pytest.mark.parametrize("exercise", EXPRESSIONS, ids=[ex.id for ex in EXPRESSIONS])
def test_the_reference_and_its_equivalent_forms_stay_correct(exercise):
    reference = exercise.reference()
    for form in [reference, sp.expand(reference), sp.factor(reference), sp.together(reference)]:
        assert check(exercise.id, form).status == CORRECT, form


def test_the_three_answers_of_the_issue_are_refuted_at_k_0():
    draws = check("nb04.5", B / ((N - 1) * (N - k)) * sp.sign(k))
    weight = check("nb04.3", sp.Heaviside(k) / (N - k - 1))
    both_out = check("nb04.2", (N - k) * (N - k - 1) / (N * (N - 1)) + sp.Integer(0) ** k)
    for verdict in (draws, weight, both_out):
        assert verdict.status == INCORRECT and "k = 0" in verdict.message, verdict
    # the sizes of Theorem 10.2.8 reach k = N − 2 (w_k = 1 there) and N = 2
    assert check("nb04.3", 1 / (N - k - 1) + sp.KroneckerDelta(k, N - 2)).status == INCORRECT
    assert check("nb04.3", 1 / (N - k - 1) + sp.KroneckerDelta(N, 2)).status == INCORRECT
    # an answer undefined only at an end (a removable singularity at k = 0) is not proved by cancel
    undefined = check("nb04.3", k / (k * (N - k - 1)) + (k**2 - k) / (k * (k - 1)) - 1)
    assert undefined.status in (INCORRECT, CORRECT)        # sympy may cancel k/k itself; never undecided here
    assert check("nb04.3", (k + 1) / ((k + 1) * (N - k - 1))).status == CORRECT


def test_symbol_assumptions_leave_k_equal_0_open():
    # k = 0 is a size (the empty coalition): sympy must not simplify sign(k), 0**k or Heaviside(k) away.
    assert k.is_integer and k.is_nonnegative and not k.is_positive
    assert N.is_integer and N.is_positive
    assert sp.sign(k) != 1 and sp.Integer(0) ** k != 0


# ---------------------------------------------------------------------------- input ranges of function exercises
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
    from creditlib.exercises import get_exercise
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


# ---------------------------------------------------------------------------- one form for array outputs
def _as_lists(output):
    plain = output.detach().numpy() if isinstance(output, torch.Tensor) else np.asarray(output)
    forms = [plain.tolist()]
    if plain.ndim >= 1:
        forms.append(list(plain))                                   # NumPy scalars or rows
        forms.append(tuple(plain.tolist()))
    if isinstance(output, torch.Tensor) and output.ndim >= 1:
        forms.append(list(output))                                  # 0-d tensors or row tensors
    return forms


@pytest.mark.parametrize("exercise", ARRAY_FUNCTIONS, ids=[ex.id for ex in ARRAY_FUNCTIONS])
def test_every_array_function_exercise_accepts_its_output_as_a_list(exercise):
    reference = exercise.reference()
    for j in range(4 if exercise.id != "nb06.8" else 2):
        answer = lambda *args, j=j: _as_lists(reference(*args))[min(j, len(_as_lists(reference(*args))) - 1)]
        result = check(exercise.id, answer, seed=j)
        assert result.status == CORRECT, (exercise.id, j, result.message)


def test_a_ragged_list_is_invalid_with_a_reason():
    from creditlib.datamodels import banzhaf_msr
    result = check("nb05.8", lambda masks, u: [banzhaf_msr(masks, u).tolist(), [0.0]])
    assert result.status == INVALID and "ragged" in result.message
    assert check("nb05.8", lambda masks, u: [str(v) for v in banzhaf_msr(masks, u)]).status == INVALID
    assert check("nb05.8", lambda masks, u: [True] * masks.shape[1]).status == INVALID


# ---------------------------------------------------------------------------- floats and hints
R = sp.Rational


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


def test_rounded_coefficients_in_an_expression():
    from creditlib.exercises.symbols import u_A, u_AB, u_B
    rounded = check("nb00.2", 0.5 * u_A + 0.5 * u_AB - 0.49999999999 * u_B)
    assert rounded.status == INVALID and "agree with the right ones" in rounded.message
    assert "sp.Rational(49999999999" not in rounded.message.split("so is the fraction")[0]
    wrong = check("nb00.2", 0.3 * u_A + 0.5 * u_AB - 0.5 * u_B)
    assert wrong.status == INVALID and "it is not right" in wrong.message and "write e.g." not in wrong.message


SHAPLEY_VECTORS = ["nb00.1", "nb03.2", "10.5.1b", "10.5.2a"]


@pytest.mark.parametrize("exercise_id", SHAPLEY_VECTORS)
def test_a_shapley_answer_gets_an_axiom_hint_or_the_wrong_entries_never_both(exercise_id):
    from creditlib.exercises import get_exercise
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


def test_nb03_2_no_longer_hands_over_the_answer():
    # B and C right, A off: the efficiency hint alone, without "Not right yet for: A".
    result = check("nb03.2", [R(1, 2), R(1, 6), R(1, 6)])
    assert result.status == INCORRECT and "efficiency axiom fails" in result.message
    assert "Not right yet" not in result.message
    names = check("nb03.2", [R(1, 2), R(1, 4), R(1, 4)])              # the axioms hold: the entries are named
    assert names.status == INCORRECT and "Not right yet for: A, B, C." in names.message
