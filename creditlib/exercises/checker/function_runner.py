"""The child that runs a reader's function answer, and the plain records it sends back.

Code that ran the reader's code never judges. A reader's *function* runs in a child of the checker's worker
(:func:`call_in_child`) that closes every inherited file descriptor but its result pipe, dies with the worker,
drops the course's ``CREDITLIB_*`` variables and its terminal, and runs under the seccomp filter of
:mod:`~creditlib.exercises.checker.sandbox` (no signals, processes, file writes or sockets). It calls the
function on each input, reads each output into plain values there, and sends one JSON line per call, which the
worker decodes field by field (never unpickles) before comparing with the reference it computes itself
(:func:`~creditlib.exercises.checker.function_answers.compare_function`). Where seccomp is refused, a function
answer is held only by the process boundary.
"""
from __future__ import annotations

import copy
import json
import math
import os
import re
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from .sandbox import confine
from .verdicts import FunctionAnswer, InvalidAnswer, exception_text, type_name, unreadable_verdict
from .worker import TimeLimitExceeded, die_with_parent, forks, run_child, time_limit

__all__ = ["call_in_child"]

def _trials(func: Callable, inputs: list, read_output: Callable, emit: Callable[[list], None]) -> None:
    """Call ``func`` on each input (copies) and ``emit`` one plain record per call; stop at the first failure.

    Runs the reader's code: only in :func:`call_in_child`'s child (or, off Linux, under a time limit). A
    :class:`FunctionAnswer` is rebuilt here first (unpickling may run the reader's code too).
    """
    if type(func) is FunctionAnswer:
        try:
            import cloudpickle
            func = cloudpickle.loads(func.payload)
        except TimeLimitExceeded:
            raise
        except BaseException as err:
            return emit(["raised", type_name(err), f" (while the checker rebuilt your function in its own process)"
                                                    f"{exception_text(err)}"])
    for args in inputs:
        try:
            got = func(*copy.deepcopy(args))
        except NotImplementedError:
            return emit(["not attempted"])
        except TimeLimitExceeded:
            raise
        except BaseException as err:  # the reader's code failed (SystemExit and KeyboardInterrupt too): say where
            return emit(["raised", type_name(err), exception_text(err)])
        try:
            emit(["output", _to_json(read_output(got))])
        except InvalidAnswer as err:
            return emit(["invalid", str(err)])
        except Exception as err:
            return emit(["invalid", unreadable_verdict("it", err).message])


def call_in_child(func: Callable, inputs: list, read_output: Callable, seconds: float) -> tuple[list, bool]:
    """Call ``func`` on each input in a confined child process; the decoded records and whether it finished.

    The child closes every file descriptor it inherited except its result pipe (so it cannot write to the
    pipe that carries this process's verdict), and dies with this process (``PR_SET_PDEATHSIG``). Its records
    come back as JSON lines and are decoded by :func:`_from_json` (never unpickled). Off Linux (and under
    :func:`~creditlib.exercises.checker.worker.judged_in_process`) the trials run here, under ``time_limit``.

    Parameters
    ----------
    func : callable or FunctionAnswer
        The reader's function (a :class:`~creditlib.exercises.checker.verdicts.FunctionAnswer` is rebuilt in
        the child).
    inputs : list of tuple
        The arguments of each call.
    read_output : callable
        Reads one output into plain values, in the child (raising ``InvalidAnswer``).
    seconds : float
        How long the calls may take together.

    Returns
    -------
    records : list of list
        One per call until the first failure: ``["output", value]``, ``["not attempted"]``,
        ``["invalid", message]`` or ``["raised", exception type name, text]``.
    finished : bool
        Whether the child ended within ``seconds``.
    """
    if not forks():
        records: list = []
        try:
            with time_limit(seconds):
                _trials(func, inputs, read_output, records.append)
            finished = True
        except TimeLimitExceeded:
            finished = False
        return [_decoded(json.dumps(r).encode()) for r in records], finished

    def child(write_end: int) -> None:
        os.closerange(3, write_end)
        os.closerange(write_end + 1, 1 << 20)
        die_with_parent()
        _confine_reader_code()
        _trials(func, inputs, read_output, lambda record: os.write(write_end, json.dumps(record).encode() + b"\n"))

    data, finished, _ = run_child(child, seconds)
    lines = data.split(b"\n")[:-1]               # a last line without its newline was cut off
    return [_decoded(line) for line in lines[:len(inputs)]], finished


def _confine_reader_code() -> None:
    """In the child that runs a reader's function, before it runs: no terminal, none of the course's
    settings in the environment (``CREDITLIB_PROGRESS_FILE``), and the seccomp filter of
    :mod:`~creditlib.exercises.checker.sandbox` (no signals to other processes, no new processes, no writes to
    files, no sockets)."""
    try:                          # no terminal input; output to nowhere (the caller's stdout is not its to write)
        for fd, mode in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY)):
            null = os.open(os.devnull, mode)
            os.dup2(null, fd)
            os.close(null)
    except OSError:
        pass
    for name in [n for n in os.environ if n.startswith("CREDITLIB_")]:
        del os.environ[name]
    import tempfile
    try:
        tempfile.gettempdir()         # found (by writing a probe file) now: torch's lazy imports ask for it later
    except OSError:
        pass
    confine()


def _decoded(line: bytes) -> list:
    """One record from the child, checked field by field; anything malformed becomes an "invalid" record."""
    try:
        record = json.loads(line.decode())
        kind = record[0]
        if kind == "output" and len(record) == 2:
            return ["output", _from_json(record[1])]
        if kind == "not attempted" and len(record) == 1:
            return record
        if kind == "invalid" and len(record) == 2 and type(record[1]) is str:
            return record
        if kind == "raised" and len(record) == 3 and type(record[1]) is str and type(record[2]) is str:
            return record
    except (ValueError, TypeError, IndexError, KeyError, RecursionError, OverflowError):
        pass
    return ["invalid", "its output could not be read back."]


_FRACTION = re.compile(r"(-?[0-9]+)/([0-9]+)")


def _to_json(x: Any) -> Any:
    """A plain value (ints, Fractions, floats, float64 arrays, tuples of them) as JSON-able data."""
    if type(x) is Fraction:
        return f"{x.numerator}/{x.denominator}"
    if type(x) is tuple or type(x) is list:
        return [_to_json(v) for v in x]
    if type(x) is np.ndarray and x.dtype == np.float64:
        return {"shape": list(x.shape), "values": x.ravel().tolist()}
    if type(x) is int or type(x) is float:
        return x
    raise InvalidAnswer(f"it has type {type_name(x)}, which the checker cannot read.")


def _from_json(j: Any) -> Any:
    """The inverse of :func:`_to_json`, accepting nothing else (``ValueError`` otherwise)."""
    if type(j) is str:
        match = _FRACTION.fullmatch(j)
        if match is None or int(match.group(2)) == 0:
            raise ValueError("not a fraction")
        return Fraction(int(match.group(1)), int(match.group(2)))
    if type(j) is list:
        return tuple(_from_json(v) for v in j)
    if type(j) is dict and sorted(j) == ["shape", "values"]:
        shape, values = j["shape"], j["values"]
        if (type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape)
                or type(values) is not list or not all(type(v) in (int, float) for v in values)
                or len(values) != math.prod(shape)):
            raise ValueError("not an array")
        return np.array(values, dtype=np.float64).reshape(shape)
    if type(j) is int or type(j) is float:
        return j
    raise ValueError("not a plain value")
