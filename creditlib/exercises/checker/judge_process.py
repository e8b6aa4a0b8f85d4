"""The judge: a clean process, started once per kernel, that forks a worker for every check (Linux).

Why not fork the reader's kernel, as the checker did before? Once torch sees a GPU, the first backward pass in
a process starts autograd's device threads, and from then on a child made by ``fork`` refuses autograd
("Unable to handle autograd's threading in combination with fork-based multiprocessing"; see
``torch/csrc/autograd/engine.cpp``). After any cell that trained a model, a correct function answer that uses
autograd would come back ``incorrect``. So the judge is a fresh interpreter (``subprocess``, never a fork of the
kernel) that imports ``creditlib.exercises`` and then only forks: it never runs autograd itself, and it sees no
GPU (``CUDA_VISIBLE_DEVICES=""``), so neither it nor its children start device threads, and every reference is
computed on the CPU whatever the reader's machine.

What crosses from the kernel to the judge is data, never a reader's object:

* an object answer as its :func:`~creditlib.exercises.checker.plain_copy.plain_copy`, made in the kernel
  (nothing of the reader's objects runs there either), encoded
  (:func:`~creditlib.exercises.checker.plain_copy.encode_plain`) and pickled: plain Python, NumPy and sympy
  objects only;
* a function answer as ``cloudpickle`` bytes, opaque to the judge and its worker, rebuilt only in the confined
  child that runs it (:mod:`~creditlib.exercises.checker.function_runner`), on the CPU;
* the exercise's id (or, for an exercise registered after import, e.g. by a test, the exercise itself).

The judge forks a worker per request (:func:`~creditlib.exercises.checker.worker.run_isolated`: the time limit,
the process group, the confined child for a function) and sends back one JSON line. The kernel waits at most the
time limit plus a margin; on Ctrl-C, a time-out or anything unexpected it kills the judge (its worker and the worker's
child die with it: ``PR_SET_PDEATHSIG``) and starts a fresh one at the next check. Idle judges are kept for
the next check; concurrent checks (from several threads) each get one.
"""
from __future__ import annotations

import json
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .plain_copy import copy_answer, decode_plain, encode_plain
from .verdicts import INVALID, STATUSES, UNDECIDED, FunctionAnswer, Opaque, Verdict
from .worker import forks, judge_answer, run_isolated, time_limit

__all__ = ["judge", "start_in_background", "serve", "JudgeProcess", "STARTUP_SECONDS", "MARGIN_SECONDS",
           "MAX_PAYLOAD"]

STARTUP_SECONDS = 120.0
"""How long a judge may take to start (import torch, sympy and the exercises); not counted in a check's limit."""
MARGIN_SECONDS = 3.0
"""How long past a check's limit the kernel waits for the judge's answer before it kills the judge."""
MAX_PAYLOAD = 64 * 2**20
"""The largest answer (pickled) or function (cloudpickled) sent to the judge, in bytes."""


# ---------------------------------------------------------------------------- messages on a pipe
def _send(fd: int, data: bytes) -> None:
    message = struct.pack("<Q", len(data)) + data
    while message:
        message = message[os.write(fd, message):]


def _receive(fd: int, deadline: float) -> bytes | None:
    """One length-prefixed message, or None at end of file or when ``deadline`` (time.monotonic) passes."""
    header = _read_exactly(fd, 8, deadline)
    if header is None:
        return None
    return _read_exactly(fd, struct.unpack("<Q", header)[0], deadline)


def _read_exactly(fd: int, n: int, deadline: float) -> bytes | None:
    chunks, left = [], n
    while left:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], None if remaining == float("inf") else remaining)[0]:
            return None
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------------------- the judge's side
def serve(requests: int, replies: int) -> None:
    """The judge's main loop: import the exercises, say ready, then judge one request at a time until the request
    pipe reaches its end (the kernel closed it, or died: a kernel's threads come and go, so ``PR_SET_PDEATHSIG``,
    which follows the thread that started the judge, is not used here). The exercises are registered before it
    runs: importing this module imports :mod:`creditlib.exercises`, its parent package.

    Parameters
    ----------
    requests, replies : int
        The file descriptors of the two pipes shared with the kernel.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)         # Ctrl-C is the kernel's; it kills the judge if it must
    try:                                                  # and its forks: /proc/<pid>/{mem,fd,environ} closed to
        import ctypes                                     # other processes of the user (root aside)
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)            # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass
    from .. import core
    _warm_imports()
    _send(replies, b"ready")
    pending = [ex for ex in core.builtin_exercises() if not core.expected_is_cached(ex.id)]
    while True:
        while pending and not select.select([requests], [], [], 0)[0]:
            _cache_expected(pending.pop(), core, 10.0)        # while idle: every later worker inherits them
        request = _receive(requests, float("inf"))
        if request is None:
            os._exit(0)
        try:
            verdict = _judge_request(pickle.loads(request), core)
        except Exception as err:                          # a malformed request is the kernel's bug: say so
            verdict = Verdict(UNDECIDED, f"The judge could not read the request ({type(err).__name__}).")
        _send(replies, json.dumps([verdict.status, verdict.message]).encode())


def _warm_imports() -> None:
    """Import once, in the judge, what checks would otherwise import in every forked child; torch on one thread
    (its OpenMP pool does not survive ``fork``)."""
    import cloudpickle  # noqa: F401
    try:
        import torch
        import torch._dynamo  # noqa: F401 - torch.func imports it lazily (seconds per check otherwise)
        import torch.func  # noqa: F401
        torch.set_num_threads(1)
    except Exception:
        pass


def _cache_expected(exercise: Any, core: Any, seconds: float) -> float:
    """Compute a built-in exercise's expected value in the judge itself, once, within half the limit, so that
    every later worker inherits it; returns the time left for the worker."""
    if exercise is None or core.expected_is_cached(exercise.id):
        return seconds
    start = time.monotonic()
    try:
        with time_limit(seconds / 2):
            exercise.expected_value()
    except BaseException:          # too slow or failing here: the worker computes it again and says what happened
        pass
    return max(seconds - (time.monotonic() - start), 0.05)


def _judge_request(request: dict, core: Any) -> Verdict:
    exercise = core.builtin_exercise(request["id"]) if request["exercise"] is None else None

    def work() -> Verdict:
        import cloudpickle
        sys.path.extend(p for p in request["sys_path"] if type(p) is str and p not in sys.path)   # the kernel's modules
        _adopt_torch_settings(request.get("torch", {}))
        chosen = exercise if exercise is not None else cloudpickle.loads(request["exercise"])
        kind, payload = request["kind"], request["answer"]
        if kind == "plain":
            try:
                answer = decode_plain(pickle.loads(payload))
            except Exception as err:
                return Verdict(INVALID, f"your answer could not be rebuilt in the checker's process "
                                        f"({type(err).__name__}).")
        elif kind == "function":
            answer = FunctionAnswer(payload, request["type_name"])
        else:
            answer = Opaque(None, request["type_name"])
        return judge_answer(answer, chosen.verify, chosen.expected_value)

    return run_isolated(work, _cache_expected(exercise, core, request["seconds"]), request["seed"])


_DTYPES = ("float16", "bfloat16", "float32", "float64")


def _torch_settings() -> dict:
    """The kernel's global torch settings that change what a function computes (a notebook that calls
    ``torch.set_default_dtype(torch.float64)`` expects ``torch.eye(3)`` to be float64 in its function too)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return {}
    return {"default_dtype": str(torch.get_default_dtype()).removeprefix("torch."),
            "grad_enabled": bool(torch.is_grad_enabled())}


def _adopt_torch_settings(settings: dict) -> None:
    """In the worker (and so in the child that runs the reader's function): the kernel's torch settings."""
    if not settings:
        return
    import torch
    if settings.get("default_dtype") in _DTYPES:
        torch.set_default_dtype(getattr(torch, settings["default_dtype"]))
    if type(settings.get("grad_enabled")) is bool:
        torch.set_grad_enabled(settings["grad_enabled"])


# ---------------------------------------------------------------------------- the kernel's side
class JudgeProcess:
    """One judge process, seen from the kernel: start it, send it one request at a time, kill it.

    Parameters
    ----------
    startup_seconds : float, default=STARTUP_SECONDS
        How long to wait for it to be ready.
    """

    def __init__(self, startup_seconds: float = STARTUP_SECONDS) -> None:
        request_read, self.requests = os.pipe()
        self.replies, reply_write = os.pipe()
        root = str(Path(__file__).resolve().parents[3])      # the folder that holds creditlib/
        env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITLIB_")}
        env["CUDA_VISIBLE_DEVICES"] = ""                  # the judge never sees a GPU (see the module docstring)
        code = (f"import sys; sys.path.insert(0, {root!r}); from creditlib.exercises.checker.judge_process "
                f"import serve; serve({request_read}, {reply_write})")
        try:
            self.process = subprocess.Popen([sys.executable, "-c", code], pass_fds=(request_read, reply_write),
                                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env,
                                            start_new_session=True, close_fds=True)
        finally:
            os.close(request_read)
            os.close(reply_write)
        ready = _receive(self.replies, time.monotonic() + startup_seconds)
        if ready != b"ready":
            self.kill()
            raise RuntimeError("the checker's judge process did not start")

    def ask(self, request: dict, seconds: float) -> Verdict | None:
        """Send ``request`` and wait for the verdict at most ``seconds`` plus the margin; None when none came
        (the judge is then killed)."""
        try:
            _send(self.requests, pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))
            reply = _receive(self.replies, time.monotonic() + seconds + MARGIN_SECONDS)
        except BaseException:
            self.kill()
            raise
        if reply is None:
            self.kill()
            return None
        try:
            status, message = json.loads(reply.decode())
            if status in STATUSES and type(message) is str:
                return Verdict(status, message)
        except (ValueError, TypeError):
            pass
        self.kill()
        return None

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None

    def kill(self) -> None:
        """Kill the judge (its worker and the worker's child die with it) and close the pipes."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self.requests, self.replies):
            try:
                os.close(fd)
            except OSError:
                pass
        self.requests = self.replies = -1


_IDLE: list[JudgeProcess] = []
_LOCK = threading.Lock()
_STARTING: list[threading.Event] = []


def start_in_background() -> None:
    """Start a judge in a background thread, so that the first check does not wait for it (done on import of
    :mod:`creditlib.exercises` in a Jupyter kernel). A check that comes first waits for it."""
    with _LOCK:
        if _STARTING or _IDLE:
            return
        started = threading.Event()
        _STARTING.append(started)

    def start() -> None:
        try:
            _give_back(JudgeProcess())
        except Exception:
            pass
        finally:
            started.set()

    threading.Thread(target=start, name="creditlib-judge-start", daemon=True).start()


def _take() -> JudgeProcess:
    for started in list(_STARTING):
        started.wait(STARTUP_SECONDS)
    with _LOCK:
        while _IDLE:
            process = _IDLE.pop()
            if process.alive():
                return process
            process.kill()
    return JudgeProcess()


def _give_back(process: JudgeProcess) -> None:
    with _LOCK:
        if process.requests >= 0 and process.alive():
            _IDLE.append(process)


def _request(exercise: Any, answer: Any, seconds: float, seed: int | None) -> dict | Verdict:
    """The request for one check, made in the kernel, or the verdict when the answer cannot be sent."""
    from .. import core
    request: dict[str, Any] = {"id": exercise.id, "seconds": seconds, "seed": seed, "exercise": None,
                               "type_name": "", "sys_path": [p for p in sys.path if type(p) is str],
                               "torch": _torch_settings()}
    if core.builtin_exercise(exercise.id) is not exercise:
        import cloudpickle
        request["exercise"] = cloudpickle.dumps(exercise)
    copied = copy_answer(answer)
    if type(copied) is Verdict:
        return copied
    if type(copied) is Opaque:
        request["type_name"] = copied.type_name
        if callable(copied.value):
            import cloudpickle
            try:
                request["kind"], request["answer"] = "function", cloudpickle.dumps(copied.value)
            except Exception as err:
                return Verdict(INVALID, f"your function could not be sent to the checker's process "
                                        f"({type(err).__name__}: {str(err)[:200]}). A function answer may use "
                                        "modules, numbers, arrays, tensors and other functions; not open files, "
                                        "generators, locks or the like.")
        else:
            request["kind"], request["answer"] = "opaque", b""
    else:
        request["kind"], request["answer"] = "plain", pickle.dumps(encode_plain(copied),
                                                                   protocol=pickle.HIGHEST_PROTOCOL)
    if len(request["answer"]) > MAX_PAYLOAD:
        return Verdict(INVALID, f"your answer is too large to send to the checker (more than {MAX_PAYLOAD >> 20} "
                                "MB pickled).")
    return request


def judge(exercise: Any, answer: Any, seconds: float, seed: int | None) -> Verdict:
    """Judge ``answer`` to ``exercise`` in a judge process (see the module docstring); never raises but for
    ``KeyboardInterrupt``.

    Parameters
    ----------
    exercise : creditlib.exercises.Exercise
        The exercise.
    answer : object
        The reader's answer, as given.
    seconds : float
        The time limit of the check (a judge's start is not counted).
    seed : int or None
        The seed of a function check's inputs.

    Returns
    -------
    Verdict
    """
    request = _request(exercise, answer, seconds, seed)
    if type(request) is Verdict:
        return request
    if not forks():                       # tests (judged_in_process): the judge's own steps, in this process
        from .. import core
        return _judge_request(pickle.loads(pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)), core)
    try:
        process = _take()
    except (OSError, RuntimeError) as err:
        return Verdict(UNDECIDED, f"The checker could not start its judge process ({err}); run the check again.")
    verdict = process.ask(request, seconds)
    if verdict is None:
        return Verdict(UNDECIDED, f"The check took longer than {seconds:.2g} s and was stopped (or the checker's "
                                  "judge process ended). Run it again; for a function, make sure it ends quickly.")
    _give_back(process)
    return verdict
