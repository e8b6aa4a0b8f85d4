"""The exercise registry and :func:`check`, the one call a reader makes.

An :class:`Exercise` has an id (the chapter's problem number plus a letter for
the part, e.g. ``"10.5.1b"``, or ``"nb03.2"`` for the course's own exercises),
a title, a statement of the expected form of the answer, and a verifier built
from the answer checker (:mod:`creditlib.exercises.checker`). Expected values are computed by ``creditlib``
inside the verifier, never typed in.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import sympy as sp

from . import symbols as _symbols
from .checker import judge_process
from .checker.comparing import compare_expression, compare_number
from .checker.function_answers import compare_function, make_allclose, read_values
from .checker.plain_copy import NP_INTS
from .checker.verdicts import CORRECT, INVALID, NOT_ATTEMPTED, Verdict, not_attempted
from .checker.worker import TIME_LIMIT, judge_answer, run_isolated
from .progress import recorded

__all__ = ["Exercise", "CheckResult", "register", "freeze_builtins", "builtin_exercise", "builtin_exercises",
           "expected_is_cached", "number_exercise", "expression_exercise", "array_function_exercise",
           "get_exercise", "list_exercises", "describe", "check", "rebound_symbols_note"]

_SYMBOL_NAMES = {getattr(_symbols, name): name for name in _symbols.__all__}
"""Each exercise symbol and the name it has in :mod:`creditlib.exercises.symbols` (``lambda`` is ``lam``)."""


@dataclass(frozen=True)
class Exercise:
    """One checkable exercise.

    Parameters
    ----------
    id : str
        Unique id used in ``check(id, answer)``.
    title : str
        A short name.
    expects : str
        The expected form of the answer (type, order, exactness).
    verify : callable
        ``verify(answer, expected) -> Verdict``; runs in the checker's worker.
    notebook : str
        The notebook that poses it (e.g. ``"00_welcome"``).
    reference : callable
        ``reference() -> answer``: a correct answer (used by the tests to show
        the checker accepts it).
    expected : callable
        ``expected() -> value``: what ``verify`` compares with, computed by
        ``creditlib`` (for a function exercise, the reference function). ``check``
        computes it in its worker, within the time limit (a value already cached
        in this process is reused).
    wrong_answers : callable
        ``wrong_answers() -> [(answer, hint_fragment), ...]``: plausible wrong
        answers and a fragment that the checker's message must contain.
    symbols : tuple of sympy.Symbol
        An expression exercise's symbols (empty for the others).
    domain : dict
        An expression exercise's domain, ``name → (low, high)`` or ``sp.Interval`` (see
        :func:`creditlib.exercises.checker.deciding.decide`); the symbols' assumptions bound it too.
    """

    id: str
    title: str
    expects: str
    verify: Callable[[Any, Any], Verdict]
    notebook: str
    reference: Callable[[], Any]
    expected: Callable[[], Any]
    wrong_answers: Callable[[], list] = field(default=lambda: [])
    symbols: tuple = ()
    domain: dict = field(default_factory=dict)

    def expected_value(self) -> Any:
        """``expected()``, computed once per session."""
        if self.id not in _EXPECTED:
            _EXPECTED[self.id] = self.expected()
        return _EXPECTED[self.id]


CheckResult = Verdict
"""What :func:`check` returns: the one result type, :class:`~creditlib.exercises.checker.verdicts.Verdict`, with its
``exercise_id`` set."""


_REGISTRY: dict[str, Exercise] = {}
_EXPECTED: dict[str, Any] = {}
_BUILTIN: dict[str, Exercise] = {}


def freeze_builtins() -> None:
    """Remember the exercises registered by importing :mod:`creditlib.exercises` (the judge process has the same
    ones, so a check sends only their id; an exercise registered later is sent whole)."""
    _BUILTIN.update(_REGISTRY)


def builtin_exercise(exercise_id: str) -> Exercise | None:
    """The exercise of this id as registered when :mod:`creditlib.exercises` was imported (None if none was).

    Parameters
    ----------
    exercise_id : str
        An exercise id.

    Returns
    -------
    Exercise or None
    """
    return _BUILTIN.get(exercise_id)


def builtin_exercises() -> list[Exercise]:
    """The exercises registered when :mod:`creditlib.exercises` was imported, sorted by id (the judge process
    computes their expected values while it waits)."""
    return [_BUILTIN[key] for key in sorted(_BUILTIN)]


def expected_is_cached(exercise_id: str) -> bool:
    """Whether this process has computed the expected value of the exercise already (:meth:`Exercise.expected_value`).

    Parameters
    ----------
    exercise_id : str
        The id, ``"nb04.2"`` say.

    Returns
    -------
    bool
        True once computed here.
    """
    return exercise_id in _EXPECTED


def register(exercise: Exercise) -> Exercise:
    """Add an exercise to the registry; ids must be unique.

    Parameters
    ----------
    exercise : Exercise
        With an id not registered yet.

    Returns
    -------
    Exercise
        The same exercise.

    Raises
    ------
    ValueError
        When its id is registered already.
    """
    if exercise.id in _REGISTRY:
        raise ValueError(f"Exercise id {exercise.id!r} is registered twice.")
    _REGISTRY[exercise.id] = exercise
    return exercise


def number_exercise(id: str, title: str, notebook: str, expects: str, answer: Callable[[], Any],
                    wrong_answers: Callable[[], list]) -> Exercise:
    """Register an exercise whose answer is one exact number computed by ``answer()``.

    Parameters
    ----------
    id, title, notebook, expects : str
        As for :class:`Exercise`.
    answer : callable
        ``answer() -> number``, computed by ``creditlib``: both the reference and the expected value.
    wrong_answers : callable
        ``wrong_answers() -> [(number, hint fragment), ...]``: plausible slips and a piece of the feedback each must get.

    Returns
    -------
    Exercise
        The registered exercise (checked by :func:`~creditlib.exercises.checker.comparing.compare_number`).
    """
    return register(Exercise(id=id, title=title, expects=expects, notebook=notebook,
                             verify=lambda a, expected: compare_number(a, expected),
                             reference=answer, expected=answer, wrong_answers=wrong_answers))


def expression_exercise(id: str, title: str, notebook: str, expects: str, symbols: list,
                        reference: Callable[[], Any], expected: Callable[[], Any],
                        wrong_answers: Callable[[], list], domain: dict | None = None) -> Exercise:
    """Register an exercise whose answer is a sympy expression in ``symbols``, over ``domain``.

    ``reference()`` is a correct answer as a reader would write it; ``expected()``
    is the value computed by ``creditlib`` that the checker compares with.

    Parameters
    ----------
    id, title, notebook, expects : str
        As for :class:`Exercise`.
    symbols : list of sympy.Symbol
        The symbols of the answer (from :mod:`creditlib.exercises.symbols`).
    reference, expected : callable
        A correct answer as a reader writes it; the value ``creditlib`` computes.
    wrong_answers : callable
        ``wrong_answers() -> [(answer, hint fragment), ...]``.
    domain : dict, optional
        The values the exercise is about, beyond the symbols' assumptions: ``name → (low, high)`` (inclusive for
        integers, open for reals, a bound may be an expression in other symbols) or ``name → sp.Interval``
        (see :func:`~creditlib.exercises.checker.deciding.decide`). The checker tries its ends first.

    Returns
    -------
    Exercise
        The registered exercise (checked by :func:`~creditlib.exercises.checker.comparing.compare_expression`).
    """
    domain = dict(domain or {})
    return register(Exercise(id=id, title=title, expects=expects, notebook=notebook,
                             verify=lambda a, exp: compare_expression(a, exp, symbols, domain=domain),
                             reference=reference, expected=expected, wrong_answers=wrong_answers,
                             symbols=tuple(symbols), domain=domain))


def array_function_exercise(id: str, title: str, notebook: str, expects: str, draw_input: Callable,
                            reference: Callable[[], Callable], *, expected: Callable[[], Callable] | None = None,
                            rtol: float = 1e-10, atol: float = 1e-12,
                            wrong_answers: Callable[[], list]) -> Exercise:
    """Register an exercise whose answer is a function returning an array of floats.

    The reader's function is compared with the reference function on random inputs
    ``draw_input(rng) -> args`` (:func:`~creditlib.exercises.checker.function_answers.compare_function`), to
    ``rtol``/``atol``. Its output is read by :func:`~creditlib.exercises.checker.function_answers.read_values`,
    the one rule for array outputs (arrays, tensors, numbers and lists or tuples of them).

    Parameters
    ----------
    id, title, notebook, expects : str
        As for :class:`Exercise`.
    draw_input : callable
        ``draw_input(rng) -> tuple of arguments`` for one random trial.
    reference : callable
        ``reference() -> function``: a correct answer (e.g. written from scratch, as a reader would).
    expected : callable, optional
        ``expected() -> function``: ``creditlib``'s implementation that the checker compares with;
        ``reference`` when omitted.
    rtol, atol : float, default=1e-10, 1e-12
        Tolerances of the comparison (:func:`~creditlib.exercises.checker.function_answers.make_allclose`).
    wrong_answers : callable
        ``wrong_answers() -> [(function, hint fragment), ...]``: plausible wrong functions.

    Returns
    -------
    Exercise
        The registered exercise.
    """
    same = make_allclose(rtol=rtol, atol=atol)
    return register(Exercise(
        id=id, title=title, expects=expects, notebook=notebook,
        verify=lambda a, function: compare_function(a, function, draw_input, read_output=read_values, same=same),
        reference=reference, expected=expected or reference, wrong_answers=wrong_answers))


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise with this id (``KeyError`` listing the ids when unknown).

    Parameters
    ----------
    exercise_id : str
        E.g. ``"10.5.1b"`` or ``"nb03.2"``.

    Returns
    -------
    Exercise

    Raises
    ------
    KeyError
        For an unknown id, listing the known ones.
    """
    if type(exercise_id) is str and exercise_id.strip() in _REGISTRY:
        return _REGISTRY[exercise_id.strip()]
    shown = repr(exercise_id[:40]) if type(exercise_id) is str else "of this type"
    raise KeyError(f"No exercise has the id {shown}; known ids: {', '.join(sorted(_REGISTRY))}.")


def list_exercises(notebook: str | None = None) -> list[Exercise]:
    """All registered exercises (of one notebook if given), sorted by id.

    Parameters
    ----------
    notebook : str, optional
        A notebook's name, e.g. ``"03_shapley_axioms"``.

    Returns
    -------
    list of Exercise
    """
    return [ex for key, ex in sorted(_REGISTRY.items()) if notebook is None or ex.notebook == notebook]


def describe(exercise_id: str) -> str:
    """A one-paragraph statement of what the exercise expects.

    Parameters
    ----------
    exercise_id : str
        A registered id.

    Returns
    -------
    str
        ``"<id>: <title> Expected: <form of the answer>"``.

    Raises
    ------
    KeyError
        For an unknown id.
    """
    ex = get_exercise(exercise_id)
    title = ex.title if ex.title.endswith(("?", ".", "!")) else ex.title + "."
    return f"{ex.id}: {title} Expected: {ex.expects}"


@recorded                      # make progress: a JSON line per check when CREDITLIB_PROGRESS_FILE is set
def check(exercise_id: str, answer: Any, *, seconds: float = TIME_LIMIT, seed: int | None = None) -> Verdict:
    """Check a reader's answer; never raises, whatever ``answer`` is, and returns within ``seconds``.

    Returns a :class:`~creditlib.exercises.checker.verdicts.Verdict` (alias ``CheckResult``) whose status is
    ``correct``, ``incorrect``, ``invalid`` (the answer cannot be read: a string, None, a float where an
    exact value is asked, a wrong shape), ``undecided`` (the checker could
    neither prove nor refute it) or ``not attempted`` (the chapters' stub).
    The answer is judged in a forked worker of the judge process (see
    :mod:`~creditlib.exercises.checker.judge_process`); ``seed`` redraws the random
    inputs of a function exercise that a message reported.

    Parameters
    ----------
    exercise_id : str
        E.g. ``"10.5.1b"``; see :func:`list_exercises`.
    answer : object
        The reader's answer (a number, a sympy expression, a list, a set of names, a function...);
        it is never evaluated as text and never reaches ``sympify``.
    seconds : float, default=TIME_LIMIT
        The time limit, in (0, 3600].
    seed : int, optional
        Redraws the random inputs of a function exercise (the seed a message reported).

    Returns
    -------
    Verdict
        With ``exercise_id`` set; its message explains without revealing the answer.
    """
    if type(exercise_id) is not str:
        return Verdict(INVALID, "The exercise id should be a string such as 'nb00.1'.", "?")
    exercise = _REGISTRY.get(exercise_id.strip())
    if exercise is None:
        return Verdict(INVALID, f"No exercise has the id {exercise_id[:40]!r}; "
                                f"known ids: {', '.join(sorted(_REGISTRY))}.", exercise_id[:40])
    if answer is Ellipsis:
        return replace(not_attempted(exercise.expects), exercise_id=exercise.id)
    if type(seed) in NP_INTS:
        seed = int(seed)
    if type(seconds) not in (int, float) or not 0 < seconds <= 3600 or (
            seed is not None and (type(seed) is not int or not 0 <= seed < 2**63)):
        return Verdict(INVALID, "seconds should be a number of seconds in (0, 3600] and seed a non-negative int "
                                "below 2**63 (the seed a message reported).", exercise.id)
    if sys.platform.startswith("linux"):        # a clean judge process, never a fork of this kernel (judge_process.py)
        verdict = judge_process.judge(exercise, answer, float(seconds), seed)
    else:
        verdict = run_isolated(lambda: judge_answer(answer, exercise.verify, exercise.expected_value), float(seconds),
                               seed)
    message = verdict.message
    if verdict.status == NOT_ATTEMPTED and "Expected:" not in message:
        message = not_attempted(exercise.expects).message
    elif verdict.status == INVALID:
        message += f" Expected: {exercise.expects}"
    if verdict.status not in (CORRECT, NOT_ATTEMPTED):
        message += rebound_symbols_note(exercise, _callers_globals())
    return Verdict(verdict.status, message, exercise.id)


def _callers_globals() -> dict:
    """The global namespace of the code that called :func:`check` (a notebook's, in Jupyter)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] in ("creditlib", "functools"):
        frame = frame.f_back
    return frame.f_globals if frame is not None else {}


def rebound_symbols_note(exercise: Exercise, namespace: dict) -> str:
    """A note when a symbol the answer is written in is no longer bound to any name of the reader's namespace.

    ``for k in range(11):`` after ``from creditlib.exercises.symbols import k`` rebinds ``k`` to 10, and a
    correct ``B/((N-1)*(N-k))`` then reaches the checker as ``B/((N-1)*(N-10))``. The checker cannot see the
    name the reader typed, but it can see that no name holds the symbol any more. Only identities are compared
    (``is``): nothing of the reader's objects runs.

    Parameters
    ----------
    exercise : Exercise
        An expression exercise (others get no note).
    namespace : dict
        The reader's global namespace.

    Returns
    -------
    str
        ``""``, or a sentence naming the symbols to re-import.
    """
    reference = exercise.reference()
    if not isinstance(reference, sp.Basic):
        return ""
    held = {id(value) for value in namespace.values()}
    lost = sorted((s for s in reference.free_symbols if id(s) not in held), key=lambda s: s.name)
    if not lost:
        return ""
    names = ", ".join(_SYMBOL_NAMES.get(s, s.name) for s in lost)
    return (f" Note: no name in your notebook holds the symbol{'s' * (len(lost) > 1)} {names} any more: a cell may "
            f"have rebound {'them' if len(lost) > 1 else 'it'} (a loop `for {_SYMBOL_NAMES.get(lost[0], 'k')} in "
            f"...`, say). Re-import with `from creditlib.exercises.symbols import {names}` and run your answer "
            f"again.")
