"""The checker's promises under attack (issue 20, sections 1–4): no step of reading or judging an answer runs
code that a reader's object or its type defines; a seed reproduces a failure but never earns `correct`; a
function answer cannot forge progress, signal or stop the reader's kernel, or outlive the limit by forking;
oversized answers and checker crashes come back `invalid` with a reason.

A trap is an object whose every hook (``__class__``, ``__eq__``, ``__hash__``, ``__len__``, ``__iter__``, a
metaclass's ``__instancecheck__``, ``__subclasscheck__``, ``__mro__``, ``__name__``, ...) records that it ran;
the oracle is simply that no hook ever ran and the verdict is not `correct`.
"""
import numbers
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

import creditlib.checking as checking
from creditlib.checking import CORRECT, INCORRECT, INVALID, UNDECIDED, compare_function, judge_answer, make_allclose
from creditlib.exercises import check, list_exercises
from creditlib.exercises.core import read_values
from creditlib.sandbox import confine

RAN: list[str] = []          # hooks of a trap append their name here (in-process judging)


def _ran(name: str) -> None:
    RAN.append(name)
    marker = os.environ.get("TRAP_MARKER")
    if marker:                                     # a forked worker cannot append to RAN: it writes a file
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.write(fd, name.encode() + b"\n")
        os.close(fd)


class Meta(type):
    """A metaclass whose every hook records that it ran."""

    def __instancecheck__(cls, obj):
        _ran("Meta.__instancecheck__")
        return True

    def __subclasscheck__(cls, sub):
        _ran("Meta.__subclasscheck__")
        return True

    def __eq__(cls, other):
        _ran("Meta.__eq__")
        return True

    def __hash__(cls):
        _ran("Meta.__hash__")
        return 0

    @property
    def __mro__(cls):
        _ran("Meta.__mro__")
        return (int, object)

    @property
    def __name__(cls):
        _ran("Meta.__name__")
        return "int"


def _hooks(prefix):
    def hook(name, result):
        def method(self, *args, **kwargs):
            _ran(f"{prefix}.{name}")
            return result
        return method
    return {name: hook(name, result) for name, result in [
        ("__eq__", True), ("__ne__", False), ("__hash__", 0), ("__len__", 2), ("__iter__", iter([0, 0])),
        ("__index__", 0), ("__int__", 0), ("__float__", 0.0), ("__bool__", True), ("__repr__", "0"),
        ("__str__", "0"), ("__format__", "0"), ("__lt__", False), ("__array__", np.zeros(2)),
        ("__getitem__", 0), ("_sympy_", sp.Integer(0)), ("__sympy__", True), ("__reduce__", (int, ())),
        ("__deepcopy__", 0), ("__copy__", 0), ("__abs__", 0), ("__neg__", 0), ("__add__", 0), ("__radd__", 0),
        ("__mul__", 0), ("__rmul__", 0), ("__sub__", 0), ("__truediv__", 0), ("__contains__", True)]}


class _ClassProperty:
    def __get__(self, obj, owner=None):
        _ran("__class__")
        return int


Trap = Meta("Trap", (), {**_hooks("Trap"), "__class__": _ClassProperty(),
                         "__getattr__": lambda self, name: _ran(f"Trap.__getattr__({name})")})


def _subclass_trap(base):
    return type(f"Trap{base.__name__.title()}", (base,), {**{k: v for k, v in _hooks(base.__name__).items()
                                                            if k not in ("__iter__", "__array__")},
                                                         "__class__": _ClassProperty()})


class VirtualNumber:
    """Registered as a virtual subclass of numbers.Rational: an ABC would call it a number."""

    def __eq__(self, other):
        _ran("VirtualNumber.__eq__")
        return True

    __hash__ = object.__hash__


numbers.Rational.register(VirtualNumber)


def _sympy_with_trap_args():
    return sp.Basic.__new__(sp.Tuple, Trap(), sp.Integer(1))


def _symbol_with_trap_name():
    name = _subclass_trap(str)("u_A")
    s = sp.Symbol.__xnew__(sp.Symbol, "a_symbol_of_this_test")      # not the cached instance
    sp.Symbol.name.__set__(s, name)
    return s


def _fraction_with_trap_numerator():
    f = Fraction(1, 3)
    Fraction._numerator.__set__(f, _subclass_trap(int)(1))
    return f


def _tensor_with_attribute():
    t = torch.zeros(2)
    t.payload = Trap()
    return t


def _object_array():
    a = np.empty(2, dtype=object)
    a[0], a[1] = Trap(), 0
    return a


TRAPS = {
    "trap": lambda: Trap(),
    "trap in a list": lambda: [Trap(), 0],
    "trap in a tuple": lambda: (0, Trap()),
    "trap as a dict value": lambda: {"A": Trap(), "B": 0},
    "trap as a dict key": lambda: {Trap(): 0},
    "trap in a set": lambda: {Trap()},
    "trap in an object array": _object_array,
    "trap in sympy args": _sympy_with_trap_args,
    "symbol with a trap name": _symbol_with_trap_name,
    "fraction with a trap numerator": _fraction_with_trap_numerator,
    "tensor with an attribute": _tensor_with_attribute,
    "virtual number": lambda: [VirtualNumber(), 0],
    "int subclass": lambda: [_subclass_trap(int)(1), 0],
    "float subclass": lambda: _subclass_trap(float)(0.5),
    "str subclass": lambda: {_subclass_trap(str)("A")},
    "list subclass": lambda: _subclass_trap(list)([0, 0]),
    "dict subclass": lambda: _subclass_trap(dict)({"A": 0, "B": 0}),
    "tuple subclass": lambda: _subclass_trap(tuple)((0, 0)),
    "ndarray subclass": lambda: np.zeros(2).view(_subclass_trap(np.ndarray)),
    "tensor subclass": lambda: torch.zeros(2).as_subclass(_subclass_trap(torch.Tensor)),
    "Fraction subclass": lambda: [_subclass_trap(Fraction)(1, 2), 0],
    "sympy subclass": lambda: _subclass_trap(sp.Integer)(1),
}

@pytest.mark.parametrize("trap", sorted(TRAPS))
def test_no_hook_of_a_trap_runs_while_any_exercise_is_judged(trap):
    """Every exercise (its verifier, in this process) with every trap: the verdict is never `correct` and not
    one of the trap's hooks runs."""
    for exercise in list_exercises():
        RAN.clear()
        answer = TRAPS[trap]()
        RAN.clear()                       # building the trap may run its own hooks: only judging counts
        verdict = judge_answer(answer, exercise.verify, exercise.expected_value)
        assert verdict.status != CORRECT, (exercise.id, verdict)
        assert RAN == [], (exercise.id, trap, RAN[:3], verdict)


def test_the_issues_class_property_cannot_forge_correct_in_the_worker(tmp_path, monkeypatch):
    """The reproduction of issue 20 §1: a ``__class__`` property that patches ``json.dumps`` in the worker."""
    marker = tmp_path / "ran"
    a_set_of_traps = {Trap()}                    # hashing it here is the reader's kernel's business

    class Sneaky:
        @property
        def __class__(self):
            _ran("Sneaky.__class__")
            import json
            real = json.dumps
            json.dumps = lambda o, *a, **k: (real(["correct", "Correct."]) if type(o) is list and len(o) == 2
                                             else real(o, *a, **k))
            return Sneaky

    monkeypatch.setenv("TRAP_MARKER", str(marker))
    for answer in ([Sneaky(), 0], Sneaky(), {"A": Sneaky(), "B": 0}, (Sneaky(), Sneaky())):
        assert check("nb00.1", answer).status == INVALID
    assert check("nb00.2", Trap()).status == INVALID
    assert check("10.5.2a", a_set_of_traps).status == INVALID
    assert not marker.exists(), marker.read_text()


def test_types_are_decided_by_the_real_mro():
    """``_subclass_of`` reads the MRO from ``type`` (a metaclass's ``__mro__`` property never runs) and names a
    subclass as such; ``_type_name`` reads the name the same way."""
    RAN.clear()
    trap = Trap()
    assert checking._subclass_of(type(trap), (int,)) is None
    assert checking._subclass_of(_subclass_trap(int), (float, int)) is int
    assert checking._type_name(trap) == "Trap"
    assert RAN == []


def test_a_subclass_is_named_in_the_message():
    verdict = check("nb00.1", [_subclass_trap(int)(1), 0])
    assert verdict.status == INVALID and "a subclass of int" in verdict.message


# ---------------------------------------------------------------------------- 2. seeds
def _draw(rng):
    return (rng.normal(size=3),)


def _reference(v):
    return np.cumsum(v)


def _compare(func, seed=None):
    return compare_function(func, _reference, _draw, read_output=read_values, same=make_allclose(1e-10, 1e-12),
                            seed=seed)


def test_a_seed_reproduces_a_failure():
    verdict = _compare(lambda v: np.zeros(3), seed=123)
    assert verdict.status == INCORRECT and "seed 123" in verdict.message


def test_a_table_of_one_seeds_outputs_does_not_pass():
    """What 20 failure messages give a reader: the reference's output on every input of seed 123."""
    rng = np.random.default_rng(123)
    table = {tuple(args[0]): _reference(*args) for args in (_draw(rng) for _ in range(20))}

    def lookup(v):
        return table.get(tuple(v), np.zeros(3))

    verdict = _compare(lookup, seed=123)
    assert verdict.status == INCORRECT
    assert "seed 123" not in verdict.message and "seed" in verdict.message      # failed on the fresh inputs
    right = _compare(lambda v: np.cumsum(v), seed=123)
    assert right.status == CORRECT and "seed 123" in right.message and "fresh" in right.message


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


# ---------------------------------------------------------------------------- 3. a function answer, confined
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


# ---------------------------------------------------------------------------- 4. oversized answers, crashes
@pytest.mark.parametrize("exercise_id, make", [
    ("nb00.1", lambda: np.zeros(7 * 10**8, np.int8)),
    ("nb00.1", lambda: sp.zeros(30000, 30000)),
    ("10.5.2a", lambda: "A" * 200_000_000),
    ("nb00.1", lambda: [0] * 10**7),
    ("nb00.1", lambda: torch.zeros(10**7)),
], ids=["int8 array", "sympy zeros", "200 MB string", "long list", "tensor"])
def test_oversized_answers_are_refused_before_they_are_read(exercise_id, make):
    answer = make()
    start = time.monotonic()
    verdict = check(exercise_id, answer)
    assert verdict.status == INVALID and "too large" in verdict.message
    assert time.monotonic() - start < 3


def test_a_sympy_order_term_is_invalid_with_a_reason():
    from creditlib.exercises.symbols import u_A, u_AB, u_B
    verdict = check("nb00.2", sp.O(u_A) + (u_AB - u_B) / 2)
    assert verdict.status == INVALID and "order term" in verdict.message


@pytest.mark.parametrize("seed", [2**20000, -1, 2**63, 1.5, "3"], ids=["2**20000", "-1", "2**63", "1.5", "str"])
def test_a_bad_seed_is_invalid(seed):
    verdict = check("nb03.1", lambda v: v, seed=seed)
    assert verdict.status == INVALID and "seed" in verdict.message


def test_a_crash_while_judging_is_invalid_and_a_crash_of_the_expected_value_undecided():
    def crashing_verify(answer, expected):
        raise TypeError("cannot evaluate this")

    verdict = judge_answer(1, crashing_verify, lambda: 1)
    assert verdict.status == INVALID and "TypeError: cannot evaluate this" in verdict.message
    verdict = judge_answer(1, lambda a, e: None, lambda: 1 / 0)
    assert verdict.status == UNDECIDED and "expected value" in verdict.message


# ---------------------------------------------------------------------------- the adversary's routes (second review)
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
def test_the_second_reviews_routes_out_of_the_sandbox_are_closed(attack):
    mode = os.stat(__file__).st_mode
    start = time.monotonic()
    verdict = check("nb08.1", attack, seconds=4)
    assert verdict.status == INCORRECT and "PermissionError" in verdict.message, verdict
    assert "may not write files" in verdict.message            # the message says why
    assert time.monotonic() - start < 4.5
    assert os.stat(__file__).st_mode == mode


def test_a_verdict_counts_only_from_a_worker_that_exited_by_itself():
    """A line in the verdict pipe from a worker that was then killed (by anyone) is not a verdict."""
    def forged_then_killed(write_end):
        os.write(write_end, b'["correct", "Correct."]\n')
        os.kill(os.getpid(), signal.SIGKILL)

    data, finished, clean = checking._run_child(forged_then_killed, 5)
    assert data and finished and not clean

    def honest(write_end):
        os.write(write_end, b'["correct", "Correct."]\n')

    assert checking._run_child(honest, 5)[1:] == (True, True)


@pytest.mark.parametrize("exercise_id", ["nb00.2", "nb01.1", "10.1.3a", "nb05.3"])
@pytest.mark.parametrize("undefined", ["0/0", "0*log(0)"])
def test_an_unevaluated_undefined_term_is_not_correct(exercise_id, undefined):
    """ref + Mul(0, Pow(0, -1)) read unevaluated: Add would drop the term with coefficient 0 unseen (review 2)."""
    from creditlib.exercises import get_exercise
    reference = get_exercise(exercise_id).reference()
    zero_times = {"0/0": sp.Pow(0, -1, evaluate=False), "0*log(0)": sp.log(0, evaluate=False)}[undefined]
    answer = sp.Add(reference, sp.Mul(0, zero_times, evaluate=False), evaluate=False)
    verdict = check(exercise_id, answer)
    assert verdict.status == INVALID and "nan" in verdict.message


def test_a_tower_of_powers_is_refused_at_once():
    from creditlib.exercises.symbols import u_A
    check("nb00.1", [0, 0])                                      # the judge has started
    tower = sp.Mul(u_A, sp.Pow(sp.Pow(3, 999999, evaluate=False), 999999, evaluate=False), evaluate=False)
    start = time.monotonic()
    verdict = check("nb00.2", tower, seconds=4)
    assert verdict.status == INVALID and "far too large" in verdict.message
    assert time.monotonic() - start < 2


def test_not_implemented_after_the_first_input_is_not_not_attempted():
    calls = []

    def partly(e, a, b, ab):
        calls.append(1)                                    # in the child that runs it: its second call raises
        if len(calls) > 1:
            raise NotImplementedError
        return (a + ab - b - e) / 2, (b + ab - a - e) / 2

    verdict = check("nb00.3", partly)
    assert verdict.status == INCORRECT and "NotImplementedError" in verdict.message
