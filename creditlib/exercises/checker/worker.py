"""The worker: one check, judged within its time limit in a forked process of its own.

:func:`run_isolated` forks a worker (from the judge process, :mod:`~creditlib.exercises.checker.judge_process`)
in a process group of its own, which is killed when the check ends; the worker runs :func:`judge_answer`
(compute the expected value, copy the answer, verify: any failure becomes a verdict) under a SIGALRM time
limit (:func:`time_limit`) and sends back one JSON line, which counts only if the worker exited by itself.
:func:`run_child` is the fork-and-collect step it shares with the child that runs a reader's function.

Known limitations. Code in the reader's own kernel is not defended against: it can patch the checker before
calling ``check``, and a process of the same user can open another process's pipes through
``/proc/<pid>/fd``. Forking is used on Linux only; elsewhere (and in tests, under :func:`judged_in_process`)
the same code runs in the calling process.
"""
from __future__ import annotations

import gc
import json
import math
import os
import select
import signal
import sys
import threading
import time
import warnings
from contextlib import contextmanager
from typing import Any, Callable

from .plain_copy import plain_copy
from .verdicts import (INVALID, STATUSES, UNDECIDED, InvalidAnswer, NotAttemptedAnswer, Verdict, exception_text,
                       not_attempted, type_name)

__all__ = ["TIME_LIMIT", "WORKER_SHARE", "TimeLimitExceeded", "CheckSettings", "judge_answer", "time_limit",
           "run_isolated", "run_child", "die_with_parent", "forks", "judged_in_process"]


TIME_LIMIT = 10.0
"""Seconds one ``check`` may take (sympy work and the reader's code together)."""
WORKER_SHARE = 0.9
"""The worker stops itself after this share of the time limit, keeping the rest to report."""


class TimeLimitExceeded(BaseException):
    """The time limit expired (a BaseException, so a reader's ``except Exception`` cannot swallow it)."""


class CheckSettings:
    """Settings of the current ``check`` (set in its worker): the time limit and the seed for function inputs."""

    seconds: float = TIME_LIMIT
    seed: int | None = None
    deadline: float = math.inf


# ---------------------------------------------------------------------------- where checks run
_IN_PROCESS: list[bool] = []


def forks() -> bool:
    """Whether checks run in processes of their own: a judge process, a forked worker per check, a confined child
    per function answer (Linux), rather than in the calling process (elsewhere, and under
    :func:`judged_in_process`)."""
    return sys.platform.startswith("linux") and not _IN_PROCESS


@contextmanager
def judged_in_process():
    """For tests only: within the block, :func:`creditlib.exercises.check` judges in the calling process.

    The same code decides (the request the kernel would send is built, pickled and read back, the expected
    value computed, the answer copied, read and compared, a function answer called on the same inputs and its
    outputs sent through JSON), but without the judge process, the fork of a worker, the child and its seccomp
    filter; the time limit is a SIGALRM in this process. A reader's code then runs in the test's process:
    use it only with answers that behave (the registry's right and wrong answers), never to test the sandbox.

    Returns
    -------
    contextmanager
    """
    _IN_PROCESS.append(True)
    try:
        yield
    finally:
        _IN_PROCESS.pop()


# ---------------------------------------------------------------------------- time limits
_DEADLINES: list[float] = []


@contextmanager
def time_limit(seconds: float):
    """Raise ``TimeLimitExceeded`` in the block after ``seconds`` (SIGALRM: main thread only; elsewhere no limit).

    Nests: an inner limit never extends an outer one. :func:`run_isolated` is the
    limit that holds everywhere (it runs the work in a forked worker).

    Parameters
    ----------
    seconds : float
        The limit.

    Returns
    -------
    contextmanager

    Raises
    ------
    TimeLimitExceeded
        When the block runs longer (a ``BaseException``, so a reader's ``except Exception`` cannot swallow it).
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return
    now = time.monotonic()
    deadline = min([now + seconds] + _DEADLINES)

    def handler(signum, frame):
        raise TimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, handler)
    _DEADLINES.append(deadline)
    signal.setitimer(signal.ITIMER_REAL, max(deadline - now, 1e-4))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _DEADLINES.pop()
        signal.signal(signal.SIGALRM, previous)
        if _DEADLINES:
            signal.setitimer(signal.ITIMER_REAL, max(_DEADLINES[-1] - time.monotonic(), 1e-4))


def _timeout_verdict(seconds: float) -> Verdict:
    return Verdict(UNDECIDED, f"The check took longer than {seconds:.2g} s and was stopped. Give a simpler form of "
                              "your answer (or, for a function, make sure it ends quickly).")


# ---------------------------------------------------------------------------- one check
def judge_answer(answer: Any, verify: Callable[[Any, Any], Verdict], expected: Callable[[], Any]) -> Verdict:
    """Judge one answer: compute the expected value, copy the answer
    (:func:`~creditlib.exercises.checker.plain_copy.plain_copy`), then ``verify``.

    What goes wrong becomes a verdict: the expected value cannot be computed (the checker's fault:
    ``undecided``); the answer cannot be copied, or reading or evaluating the copy fails (``invalid``, with
    the reason: e.g. a sympy object that cannot be evaluated at a point).

    Parameters
    ----------
    answer : object
        The reader's answer, as given.
    verify : callable
        ``verify(copy, expected) -> Verdict`` (an exercise's verifier).
    expected : callable
        ``expected() -> value``.

    Returns
    -------
    Verdict
    """
    try:
        value = expected()
    except Exception as err:
        return Verdict(UNDECIDED, f"The checker could not compute the expected value ({type_name(err)}"
                                  f"{exception_text(err)}); ask an instructor to look at this exercise.")
    try:
        copied = plain_copy(answer)
    except InvalidAnswer as err:
        return Verdict(INVALID, str(err))
    try:
        return verify(copied, value)
    except (InvalidAnswer, NotAttemptedAnswer) as err:
        return Verdict(INVALID, str(err)) if type(err) is InvalidAnswer else not_attempted()
    except Exception as err:
        return Verdict(INVALID, f"The checker could not read or evaluate your answer ({type_name(err)}"
                                f"{exception_text(err)}). Give numbers or an expression built from the exercise's "
                                "symbols, numbers and elementary functions.")


def _guarded(work: Callable[[], Verdict], seconds: float, seed: int | None) -> Verdict:
    """Run ``work`` with the run settings; any escape from the reader's objects becomes a verdict."""
    CheckSettings.seconds, CheckSettings.seed = seconds, seed
    CheckSettings.deadline = time.monotonic() + seconds * WORKER_SHARE
    try:
        with time_limit(seconds * WORKER_SHARE):
            verdict = work()
        if type(verdict) is not Verdict or verdict.status not in STATUSES or type(verdict.message) is not str:
            return Verdict(UNDECIDED, "The checker returned no verdict; ask an instructor to look at this answer.")
        return verdict
    except TimeLimitExceeded:
        return _timeout_verdict(seconds * WORKER_SHARE)
    except BaseException as err:  # a checker bug: never raise, never pass
        return Verdict(UNDECIDED, f"The checker could not judge this answer ({type_name(err)}"
                                  f"{exception_text(err)}).")


def run_isolated(work: Callable[[], Verdict], seconds: float = TIME_LIMIT, seed: int | None = None) -> Verdict:
    """Run ``work()`` in a forked worker and return its verdict within ``seconds``, on any thread.

    The worker runs in a process group of its own, which is killed when the check
    ends; the verdict is read until the worker itself exits (a process it started
    cannot hold the check open). The worker gets the time limit as a SIGALRM (it
    is the main thread there). Only the status and message come back, as one JSON
    line. Ctrl-C in the caller stops the worker and propagates. The worker runs
    torch single-threaded (its OpenMP pool does not survive ``fork``). Forking is
    used on Linux only (:func:`forks`): elsewhere (macOS, where system libraries are not
    fork-safe, and Windows) the work runs in this process under SIGALRM on the
    main thread, or in a daemon thread that is abandoned after the time limit.

    Parameters
    ----------
    work : callable
        ``work() -> Verdict``.
    seconds : float, default=TIME_LIMIT
        The time limit for the whole check.
    seed : int, optional
        Passed to function checks to redraw their random inputs.

    Returns
    -------
    Verdict
        ``work``'s verdict, or ``undecided`` after the time limit or when the worker died.
    """
    if not forks():
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
            return _guarded(work, seconds, seed)
        return _run_in_thread(work, seconds, seed)

    def worker(write_end: int) -> None:
        die_with_parent()
        _default_signal_handlers()
        _single_threaded_torch()
        gc.freeze()                       # garbage left by the reader's session is never collected (no __del__) here
        sys.settrace(None)
        sys.setprofile(None)
        verdict = _guarded(work, seconds, seed)
        os.write(write_end, json.dumps([verdict.status, verdict.message[:4000]]).encode() + b"\n")

    data, finished, clean_exit = run_child(worker, seconds)
    if not finished:
        return _timeout_verdict(seconds)
    try:
        status, message = json.loads(data.decode())
        if status in STATUSES and type(message) is str and data.count(b"\n") == 1 and clean_exit:
            return Verdict(status, message)
    except (ValueError, TypeError):
        pass
    return Verdict(UNDECIDED, "The checker's worker ended without a verdict (out of memory?); "
                              "ask an instructor to look at this answer.")


def _run_in_thread(work: Callable[[], Verdict], seconds: float, seed: int | None) -> Verdict:
    result: list[Verdict] = []
    worker = threading.Thread(target=lambda: result.append(_guarded(work, seconds, seed)), daemon=True)
    worker.start()
    worker.join(seconds)
    return result[0] if result else _timeout_verdict(seconds)


# ---------------------------------------------------------------------------- forked processes
def _pipe() -> tuple[int, int]:
    """``os.pipe()`` with both ends above 2 (a child keeps 0, 1 and 2: they must never be a verdict pipe)."""
    import fcntl
    ends = []
    for fd in os.pipe():
        if fd < 3:
            fd, old = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3), fd
            os.close(old)
        ends.append(fd)
    return ends[0], ends[1]


def run_child(body: Callable[[int], None], seconds: float, cap: int = 1 << 22) -> tuple[bytes, bool, bool]:
    """Fork a child in a new process group that runs ``body(write_end)``; collect what it writes until it
    exits or ``seconds`` pass, then kill its whole group.

    Parameters
    ----------
    body : callable
        ``body(write_end)``, run in the child (which then exits with status 0).
    seconds : float
        How long to wait for the child.
    cap : int, default=4 MiB
        The most bytes read.

    Returns
    -------
    data : bytes
        What the child wrote.
    finished : bool
        Whether the child exited within ``seconds``.
    clean_exit : bool
        Whether it exited by itself with status 0 (a worker killed by a signal sent no verdict, whatever its
        pipe holds).
    """
    read_end, write_end = _pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # "fork() in a multi-threaded process"
        for stream in (sys.stdout, sys.stderr):     # or the child would send the caller's unflushed output again
            try:
                stream.flush()
            except Exception:
                pass
        pid = os.fork()
    if pid == 0:                                              # the child: never returns
        try:
            os.setpgid(0, 0)
            os.close(read_end)
            body(write_end)
        finally:
            os._exit(0)
    try:
        os.setpgid(pid, pid)              # also here: the group exists before anyone kills it
    except OSError:
        pass
    os.close(write_end)
    status = None
    try:
        data, finished = _collect(pid, read_end, seconds, cap)
    finally:
        os.close(read_end)
        for kill in (os.killpg, os.kill):          # a zombie ignores this: its status stays its own
            try:
                kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            status = os.waitpid(pid, 0)[1]
        except ChildProcessError:
            pass
    clean_exit = finished and status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return data, finished, clean_exit


def _collect(pid: int, fd: int, seconds: float, cap: int) -> tuple[bytes, bool]:
    """Read ``fd`` until process ``pid`` exits (not until EOF: a process it forked may hold the pipe open),
    at most ``seconds`` and ``cap`` bytes. The exited child stays a zombie, so its group id is not reused."""
    deadline, data, reading = time.monotonic() + seconds, b"", True
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    try:
        while True:
            try:
                exited = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
            except ChildProcessError:
                exited = True
            remaining = deadline - time.monotonic()
            if remaining <= 0 and not exited:
                return data, False
            watch = ([fd] if reading else []) + ([pidfd] if pidfd is not None and not exited else [])
            wait = 0 if exited else remaining if pidfd is not None else min(remaining, 0.02)
            ready = select.select(watch, [], [], wait)[0]
            if fd in ready:
                chunk = os.read(fd, 65536)
                data += chunk
                reading = bool(chunk) and len(data) < cap
            elif exited:
                return data, True
    finally:
        if pidfd is not None:
            os.close(pidfd)


def die_with_parent() -> None:
    """In a child: be killed when the parent dies (Linux ``PR_SET_PDEATHSIG``), so nothing outlives a check.

    Exits at once if the parent is already gone.
    """
    parent = os.getppid()
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)   # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(0)


def _default_signal_handlers() -> None:
    """In a forked worker: the default action for every signal that has a Python handler (the reader's kernel
    may have installed its own; none of them runs in the worker)."""
    for signum in signal.valid_signals():
        try:
            if callable(signal.getsignal(signum)):
                signal.signal(signum, signal.SIG_DFL)
        except (OSError, ValueError, TypeError):
            pass


def _single_threaded_torch() -> None:
    """In a forked worker, torch's OpenMP thread pool (copied from the parent, its threads gone) deadlocks at the
    next parallel region: run torch on one thread there."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
