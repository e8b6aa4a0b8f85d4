"""The judge process (issue 21, item 1): a check's worker is never a fork of the reader's kernel, so whatever the
kernel did before (autograd's device threads on a GPU machine) cannot break the judging of an answer.

The GPU failure cannot happen on a CPU-only machine, so its mechanism is reproduced: torch marks a process
"bad for autograd" from a ``pthread_atfork`` child handler registered in the kernel once its device threads
start; here the kernel registers an ``os.register_at_fork`` child handler that sets a flag, and the answer
raises, as autograd would, when it runs in a process that carries the flag. With the old design (the worker a
fork of the kernel) these tests fail.
"""
import os
import subprocess
import sys
import textwrap
import threading
import time
from fractions import Fraction

import numpy as np
import pytest
import torch

from creditlib.exercises import check, get_exercise
from creditlib.exercises.checker import judge_process
from creditlib.exercises.checker.verdicts import CORRECT, INVALID
def _kernel(body: str, tmp_path, timeout: float = 120) -> list[str]:
    """Run ``body`` in a fresh Python process standing in for the reader's kernel; its printed lines."""
    script = tmp_path / "kernel.py"
    script.write_text("import os, sys, time\nimport numpy as np\nimport torch\n"
                      "from creditlib.exercises import check, get_exercise\n" + textwrap.dedent(body))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=timeout,
                            cwd=os.getcwd())
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.splitlines()


def test_an_answer_never_runs_in_a_fork_of_the_kernel(tmp_path):
    lines = _kernel("""
        os.register_at_fork(after_in_child=lambda: setattr(sys, "forked_from_the_kernel", True))
        x = torch.ones(3, requires_grad=True)
        (x * x).sum().backward()                           # what starts autograd's device threads on a GPU

        def answer(e, a, b, ab):
            if getattr(sys, "forked_from_the_kernel", False):
                raise RuntimeError("Unable to handle autograd's threading in combination with fork-based "
                                   "multiprocessing")
            return (a + ab - b - e) / 2, (b + ab - a - e) / 2

        print(check("nb00.3", answer).status)
        print(check("nb01.4", get_exercise("nb01.4").reference()).status)     # autograd in the judge's child
    """, tmp_path)
    assert lines == ["correct", "correct"]


def test_the_judge_sees_no_gpu_and_none_of_the_course_variables(tmp_path):
    def answer(e, a, b, ab):
        if os.environ.get("CUDA_VISIBLE_DEVICES") != "" or torch.cuda.is_available():
            raise RuntimeError("the judge sees a GPU")
        if any(name.startswith("CREDITLIB_") for name in os.environ):
            raise RuntimeError("the judge sees a course variable")
        return (a + ab - b - e) / 2, (b + ab - a - e) / 2

    assert check("nb00.3", answer).status == CORRECT


HALF = Fraction(1, 2)


def test_a_function_answer_may_use_the_notebooks_globals_and_functions():
    """The function is sent by value (cloudpickle): what it uses from the notebook goes with it."""
    model = torch.nn.Linear(1, 1)
    weights = np.array([HALF, HALF], dtype=object)

    def gains(x, y):
        return np.array([x, y], dtype=object)

    def answer(e, a, b, ab):
        assert model.in_features == 1
        return weights @ gains(a - e, ab - b), weights @ gains(b - e, ab - a)

    assert check("nb00.3", answer).status == CORRECT


def test_a_function_that_cannot_be_sent_is_invalid_and_says_why():
    lock = threading.Lock()

    def answer(e, a, b, ab):
        with lock:
            return (a + ab - b - e) / 2, (b + ab - a - e) / 2

    verdict = check("nb00.3", answer)
    assert verdict.status == INVALID and "could not be sent" in verdict.message


def test_checks_from_several_threads_at_once_each_get_their_verdict():
    reference = get_exercise("nb00.3").reference()
    results = []
    threads = [threading.Thread(target=lambda: results.append(check("nb00.3", reference).status)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert results == [CORRECT] * 3


def test_ctrl_c_kills_the_judge_and_the_next_check_starts_a_fresh_one():
    import signal
    slow = lambda e, a, b, ab: time.sleep(30)                              # noqa: E731
    check("nb00.1", [0, 0])                                                # a judge is running and idle
    judges = list(judge_process._IDLE)
    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        check("nb00.3", slow, seconds=20)
    killed = [j for j in judges if not j.alive()]
    assert killed, "the judge that was interrupted still runs"
    assert check("nb00.3", get_exercise("nb00.3").reference()).status == CORRECT


def test_the_kernels_torch_settings_reach_the_function(tmp_path):
    """A notebook that sets float64 as torch's default expects its function to build float64 tensors in the
    judge too (notebook 01's nb01.4 answer uses torch.eye(d) beside float64 inputs)."""
    lines = _kernel("""
        torch.set_default_dtype(torch.float64)
        reference = get_exercise("nb00.3").reference()
        def answer(e, a, b, ab):
            if torch.eye(2).dtype != torch.float64:
                raise RuntimeError("float32 in the judge")
            return reference(e, a, b, ab)
        print(check("nb00.3", answer).status)
        print(check("nb01.4", get_exercise("nb01.4").reference()).status)
    """, tmp_path)
    assert lines == ["correct", "correct"]
