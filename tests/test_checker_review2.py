"""Issue 9, second review: one test per finding (A1 … E7). Statuses are asserted exactly."""
import builtins
import fractions
import json
import os
import time
from fractions import Fraction

import pytest

from creditlib.checking import CORRECT, INCORRECT, INVALID, UNDECIDED
from creditlib.exercises import check, core
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
    ("nb00.3", _forge), ("nb01.3", _forge), ("nb00.3", _patch_builtins_all), ("nb00.3", _patch_fraction_eq),
    ("nb00.3", _patch_reference)], ids=["forge-nb00.3", "forge-nb01.3", "builtins.all", "Fraction.__eq__",
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
def test_c2_function_that_forks_is_judged_and_its_child_killed(tmp_path):
    pid_file = tmp_path / "child.pid"

    def forker(e, a, b, ab):
        if not pid_file.exists() and os.fork() == 0:
            pid_file.write_text(str(os.getpid()))
            time.sleep(60)
            os._exit(0)
        return (a + ab - b - e) / 2, (b + ab - a - e) / 2
    start = time.monotonic()
    assert check("nb00.3", forker, seconds=5).status == CORRECT
    assert time.monotonic() - start < 3
    deadline = time.monotonic() + 2
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    state = f"/proc/{pid_file.read_text()}/stat"
    time.sleep(0.2)
    assert not os.path.exists(state) or open(state).read().split(") ")[1][0] == "Z"     # gone, or a dead zombie
