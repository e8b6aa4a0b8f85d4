"""The sandbox: code that ran a reader's code never judges. A function answer runs in a confined child (the
seccomp filter of ``creditlib.exercises.checker.sandbox``): it cannot forge a verdict or progress, patch the
checker, signal or stop the reader's kernel, fork, write files, reach the worker's pipes or outlive the check;
a verdict counts only from a worker that exited by itself. Every test uses the real path.
"""
import builtins
import fractions
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
import torch

import creditlib.exercises.checker.comparing as comparing
import creditlib.exercises.checker.deciding as deciding
from creditlib.exercises import check
from creditlib.exercises.checker.sandbox import confine
from creditlib.exercises.checker.verdicts import CORRECT, INCORRECT, INVALID, Verdict
from creditlib.exercises.checker.worker import run_child
from creditlib.influence import function_hvp
from creditlib.exercises.welcome import two_player_shapley_reference


# ---------------------------------------------------------------------------- the filter
def test_confine_refuses_what_a_computation_never_needs():
    """In a forked child: the filter is in force; forking, signalling, writing a file, sockets and exec fail
    with EPERM; reading a file, threads, NumPy and autograd still work."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        results = {"confined": confine()}
        for name, attempt in [("fork", os.fork), ("kill", lambda: os.kill(os.getppid(), 0)),
                              ("write", lambda: open(os.devnull + "-not-there", "w")),
                              ("append", lambda: open(__file__, "a")),
                              ("socket", lambda: __import__("socket").socket()),
                              ("exec", lambda: os.execv("/bin/true", ["true"])), ("setsid", os.setsid)]:
            try:
                attempt()
                results[name] = "allowed"
            except PermissionError:
                results[name] = "denied"
            except Exception as err:          # noqa: BLE001 - report anything else
                results[name] = type(err).__name__
        import threading
        ran = []
        thread = threading.Thread(target=lambda: ran.append(1))
        thread.start()
        thread.join()
        results["thread"] = ran == [1]
        results["read"] = len(open(__file__).read()) > 0
        x = torch.ones(3, requires_grad=True)
        (x * x).sum().backward()
        results["autograd"] = x.grad.tolist() == [2.0, 2.0, 2.0]
        os.write(write_end, repr(results).encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    results = eval(os.read(read_end, 4096).decode())       # our own child's repr of a dict of str and bool
    os.close(read_end)
    assert results == {"confined": True, "fork": "denied", "kill": "denied", "write": "denied",
                       "append": "denied", "socket": "denied", "exec": "denied", "setsid": "denied",
                       "thread": True, "read": True, "autograd": True}


# ---------------------------------------------------------------------------- forging and patching
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


@pytest.mark.parametrize("exercise_id, answer", [
    ("nb00.3", _forge), ("nb01.5", _forge), ("nb00.3", _patch_builtins_all), ("nb00.3", _patch_fraction_eq),
    ("nb00.3", _patch_reference)], ids=["forge-nb00.3", "forge-nb01.5", "builtins.all", "Fraction.__eq__",
                                        "reference"])
def test_a_reader_function_cannot_forge_or_patch_the_verdict(exercise_id, answer):
    assert check(exercise_id, answer).status in (INCORRECT, INVALID)     # invalid: garbage in its own result pipe
    assert check("nb00.3", two_player_shapley_reference).status == CORRECT


def test_answer_monkeypatching_the_checker_cannot_pass_later_checks(tmp_path):
    marker = tmp_path / "patched"

    class Patcher:
        def _patch(self, *args):
            marker.touch()
            comparing.compare_vector = lambda *a, **k: Verdict(CORRECT, "hacked")
            deciding.decide = lambda *a, **k: Verdict(CORRECT, "hacked")
            return 1
        __int__ = __index__ = __float__ = __eq__ = __hash__ = __len__ = __iter__ = _patch

    assert check("nb00.1", [Patcher(), Patcher()]).status == INVALID
    assert check("10.5.1d", Patcher()).status == INVALID
    assert check("nb00.1", [50, 25]).status == INCORRECT
    assert not marker.exists()


def test_function_patching_numpy_cannot_pass_its_own_check():
    def patching(f, t, v):
        np.all = lambda *a, **k: True
        np.allclose = lambda *a, **k: True
        torch.allclose = lambda *a, **k: True
        return torch.zeros_like(t)
    assert check("nb01.5", patching).status == INCORRECT
    assert check("nb01.5", lambda f, t, v: function_hvp(f, t, v)).status == CORRECT


def _peeking(fallback, looks_expected):
    """A function that returns any expected value it can find in the frames above it."""
    def peek(*args):
        frame = sys._getframe(1)
        while frame is not None:
            for value in frame.f_locals.values():
                if looks_expected(value, args):
                    return value
            frame = frame.f_back
        return fallback(*args)
    return peek


def _pair_of_numbers(value, args):
    return type(value) is tuple and len(value) == 2 and all(isinstance(v, (Fraction, int, sp.Rational)) for v in value)


def _tensor_like_theta(value, args):
    return (isinstance(value, torch.Tensor) and value.shape == args[1].shape
            and not any(value is a for a in args[1:]))


def test_frame_peeking_function_fails():
    assert check("nb00.3", _peeking(lambda *a: (Fraction(0), Fraction(0)), _pair_of_numbers)).status == INCORRECT
    assert check("nb01.5", _peeking(lambda f, t, v: torch.zeros_like(t), _tensor_like_theta)).status == INCORRECT


def test_a_verdict_counts_only_from_a_worker_that_exited_by_itself():
    """A line in the verdict pipe from a worker that was then killed (by anyone) is not a verdict."""
    def forged_then_killed(write_end):
        os.write(write_end, b'["correct", "Correct."]\n')
        os.kill(os.getpid(), signal.SIGKILL)

    data, finished, clean = run_child(forged_then_killed, 5)
    assert data and finished and not clean

    def honest(write_end):
        os.write(write_end, b'["correct", "Correct."]\n')

    assert run_child(honest, 5)[1:] == (True, True)


# ---------------------------------------------------------------------------- the reader's kernel, files and processes
def _run_check_in_a_kernel(body: str, tmp_path, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``body`` (which calls check) in a fresh Python process standing in for the reader's kernel."""
    script = tmp_path / "kernel.py"
    script.write_text("import os, signal, sys, time\nimport numpy as np\nfrom creditlib.exercises import check\n"
                      + textwrap.dedent(body))
    env = {**os.environ, "CREDITLIB_PROGRESS_FILE": str(tmp_path / "progress.jsonl")}
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=os.getcwd())


def test_a_function_answer_cannot_forge_progress(tmp_path):
    """It neither sees the progress file's name nor can it write to any file."""
    result = _run_check_in_a_kernel(f"""
        def forge(v):
            path = os.environ.get("CREDITLIB_PROGRESS_FILE", {str(tmp_path / "progress.jsonl")!r})
            with open(path, "a") as f:
                f.write('{{"id": "nb03.4", "status": "correct"}}\\n')
            return v
        print(check("nb03.1", forge).message)
        print("env", "CREDITLIB_PROGRESS_FILE" in os.environ)
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "raised PermissionError" in result.stdout, result.stdout
    records = (tmp_path / "progress.jsonl").read_text().splitlines()
    assert len(records) == 1 and '"nb03.1"' in records[0] and "nb03.4" not in records[0]


def test_a_function_answer_cannot_signal_the_kernel(tmp_path):
    """SIGINT would make check raise KeyboardInterrupt; SIGSTOP would freeze the kernel past the limit."""
    result = _run_check_in_a_kernel("""
        kernel = os.getpid()
        def interrupt(v):
            os.kill(kernel, signal.SIGINT)
            return v
        def stop(v):
            os.kill(kernel, signal.SIGSTOP)
            return v
        check("nb00.1", [0, 0])                    # the judge has started
        start = time.monotonic()
        print(check("nb03.1", interrupt, seconds=3).status)
        print(check("nb03.1", stop, seconds=3).status)
        print("elapsed", time.monotonic() - start)
    """, tmp_path, timeout=30)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["incorrect", "incorrect"], result.stdout
    assert float(lines[2].split()[1]) < 8      # two checks of 3 s at most: a stopped kernel would wait forever


def test_a_function_that_forks_is_refused_the_fork(tmp_path):
    """Since issue 20 a function answer runs confined (creditlib.exercises.checker.sandbox): its fork fails,
    nothing outlives it."""
    pid_file = tmp_path / "child.pid"

    def forker(e, a, b, ab):
        if not pid_file.exists() and os.fork() == 0:
            pid_file.write_text(str(os.getpid()))
            time.sleep(60)
            os._exit(0)
        return (a + ab - b - e) / 2, (b + ab - a - e) / 2
    start = time.monotonic()
    verdict = check("nb00.3", forker, seconds=5)
    assert verdict.status == INCORRECT and "PermissionError" in verdict.message
    assert time.monotonic() - start < 3
    assert not pid_file.exists()


def test_a_fork_bomb_cannot_start_and_the_limit_holds():
    def bomb(v):
        while True:
            os.fork()

    start = time.monotonic()
    verdict = check("nb03.1", bomb, seconds=3)
    assert time.monotonic() - start < 3.3
    assert verdict.status == INCORRECT and "PermissionError" in verdict.message

    def spin(v):
        while True:
            pass

    start = time.monotonic()
    assert check("nb03.1", spin, seconds=2).status == INCORRECT
    assert time.monotonic() - start < 2.3


def _libc():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _take_the_workers_pipe(*args):
    """pidfd_getfd on the worker's file descriptors, to write a verdict into its verdict pipe."""
    import json
    parent = os.getppid()
    pidfd = os.pidfd_open(parent)
    for name in os.listdir(f"/proc/{parent}/fd"):
        fd = _libc().syscall(438, pidfd, int(name), 0)
        if fd >= 0:
            os.write(fd, json.dumps(["correct", "Correct on all 20 random inputs."]).encode() + b"\n")
    return None


def _signal_through_a_file_owner(*args):
    """F_SETOWN + F_SETSIG on an O_ASYNC pipe: the kernel would deliver SIGKILL to the worker."""
    import fcntl
    r, w = os.pipe()
    fcntl.fcntl(r, fcntl.F_SETOWN, os.getppid())
    fcntl.fcntl(r, 10, 9)
    fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_ASYNC)
    os.write(w, b"x")
    return None


def _io_uring(*args):
    if _libc().syscall(425, 8, bytes(120)) < 0:
        raise PermissionError("io_uring_setup refused")
    return None


def _outlive_the_check(*args):
    if _libc().prctl(1, 0, 0, 0, 0) != 0:                   # PR_SET_PDEATHSIG = 0
        raise PermissionError("prctl refused")
    return None


def _truncate_the_callers_stdout(*args):
    os.ftruncate(1, 0)
    os.pwrite(1, b"OVERWRITTEN", 0)
    return None


def _change_a_files_mode(*args):
    fd = os.open(__file__, os.O_RDONLY)
    os.fchmod(fd, 0)
    return None


@pytest.mark.parametrize("attack", [_take_the_workers_pipe, _signal_through_a_file_owner, _io_uring,
                                    _outlive_the_check, _truncate_the_callers_stdout, _change_a_files_mode],
                         ids=lambda f: f.__name__.strip("_"))
def test_routes_out_of_the_sandbox_are_closed(attack):
    mode = os.stat(__file__).st_mode
    start = time.monotonic()
    verdict = check("nb08.1", attack, seconds=4)
    assert verdict.status == INCORRECT and "PermissionError" in verdict.message, verdict
    assert "may not write files" in verdict.message            # the message says why
    assert time.monotonic() - start < 4.5
    assert os.stat(__file__).st_mode == mode
