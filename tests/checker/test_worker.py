"""The worker: one check within its time limit, whatever the answer. Slow sympy work, an endless function and a
single long C call all stop within the limit (also off the main thread); a failure while judging is ``invalid``,
a failure to compute the expected value ``undecided``; the reader's exceptions never escape; Ctrl-C still
interrupts; torch work survives the fork. Time-limit tests use limits of about a second, through the real path.
"""
import os
import re
import signal
import threading
import time

import pytest
import sympy as sp

from creditlib.exercises import check, core
from creditlib.exercises.checker.verdicts import INCORRECT, INVALID, UNDECIDED
from creditlib.exercises.checker.worker import TimeLimitExceeded, judge_answer, time_limit


# ---------------------------------------------------------------------------- time limits
def test_time_limit_interrupts_a_slow_block():
    import time
    with pytest.raises(TimeLimitExceeded):
        with time_limit(0.05):
            time.sleep(1)
    with pytest.raises(TimeLimitExceeded):          # an inner limit never extends an outer one
        with time_limit(0.05):
            with time_limit(5):
                time.sleep(1)


def test_the_expected_value_is_computed_within_the_time_limit(monkeypatch):
    hanging = core.Exercise(id="test.hang", title="t", expects="e", notebook="n", verify=lambda a, e: None,
                            reference=lambda: 0, expected=lambda: time.sleep(60))
    monkeypatch.setitem(core._REGISTRY, "test.hang", hanging)
    start = time.monotonic()
    result = check("test.hang", 0, seconds=1)
    assert time.monotonic() - start < 2 and result.status == UNDECIDED and "longer than" in result.message
    assert not core.expected_is_cached("test.hang")


def _timed(call):
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start


def _reported_limit(message):
    """The limit a timeout message reports: the one actually applied, never more than the time taken."""
    return float(re.search(r"took longer than ([0-9.e-]+) s", message).group(1))


@pytest.mark.parametrize("answer", [sp.exp(sp.exp(sp.exp(sp.exp(sp.exp(1))))),
                                    sp.Product(1 + 1 / sp.Symbol("n") ** 2, (sp.Symbol("n"), 1, 10**7)),
                                    sp.Pow(3, 10**12, evaluate=False)], ids=["exp-tower", "Product", "big-power"])
def test_slow_numbers_stop_within_the_time_limit(answer):
    result, took = _timed(lambda: check("10.5.1d", answer, seconds=1))
    assert took < 2 and result.status in (UNDECIDED, INCORRECT, INVALID) and not result.passed


def test_time_limit_holds_off_the_main_thread():
    box = {}
    slow = lambda e, a, b, ab: sum(range(10**12))             # one C call: SIGALRM could not interrupt it
    worker = threading.Thread(target=lambda: box.update(r=_timed(lambda: check("nb00.3", slow, seconds=1))))
    worker.start()
    worker.join(10)
    result, took = box["r"]
    assert took < 2 and result.status == INCORRECT and _reported_limit(result.message) <= 1
    result, took = _timed(lambda: check("10.5.1d", sp.Pow(3, 10**12, evaluate=False), seconds=1))
    assert took < 2 and result.status == INVALID and "too large" in result.message


def test_endless_function_took_longer_than_the_limit():
    def endless(*args):
        while True:
            pass
    result, took = _timed(lambda: check("nb00.3", endless, seconds=1))
    assert took < 2 and result.status == INCORRECT and _reported_limit(result.message) <= took


# ---------------------------------------------------------------------------- failures become verdicts
def test_a_crash_while_judging_is_invalid_and_a_crash_of_the_expected_value_undecided():
    def crashing_verify(answer, expected):
        raise TypeError("cannot evaluate this")

    verdict = judge_answer(1, crashing_verify, lambda: 1)
    assert verdict.status == INVALID and "TypeError: cannot evaluate this" in verdict.message
    verdict = judge_answer(1, lambda a, e: None, lambda: 1 / 0)
    assert verdict.status == UNDECIDED and "expected value" in verdict.message


@pytest.mark.parametrize("exception", [SystemExit, GeneratorExit, KeyboardInterrupt, StopIteration])
def test_reader_exceptions_never_escape(exception):
    def raising(*args):
        raise exception("from the reader")
    result = check("nb00.3", raising)
    assert result.status == INCORRECT and exception.__name__ in result.message


def test_ctrl_c_still_interrupts():
    def endless(*args):
        while True:
            pass
    # a shell that starts pytest in the background ignores SIGINT; a reader's kernel turns it into KeyboardInterrupt
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            check("nb00.3", endless, seconds=20)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - start < 5


def test_function_checks_using_torch_survive_the_fork_after_parallel_torch_work():
    """torch's OpenMP pool deadlocks in a forked child unless the worker goes single-threaded: a correct torch
    answer checked after the parent ran multi-threaded torch work must still be correct (a deadlock ends in the
    time limit and is reported as such, so the status alone tells; no timing is asserted)."""
    import torch

    from creditlib.exercises import check
    from creditlib.influence import function_hvp
    a = torch.randn(1500, 1500, dtype=torch.float64)
    (a @ a).sum()                                  # the parent's OpenMP pool is now in use
    function_hvp(lambda t: (t ** 3).sum(), torch.ones(2), torch.ones(2))   # torch.func warm, as in notebook 01

    parallel_work_done = []

    def answer(f, theta, v):
        if not parallel_work_done:                 # one parallel region in the process that runs it is enough
            parallel_work_done.append((a @ a).sum())
        return function_hvp(f, theta, v)

    result = check("nb01.5", answer, seconds=30)
    assert result.status == "correct", result.message
