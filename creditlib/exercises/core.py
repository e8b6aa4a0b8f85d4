"""The exercise registry and :func:`check`, the one call a reader makes.

An :class:`Exercise` has an id (the chapter's problem number plus a letter for
the part, e.g. ``"10.5.1b"``, or ``"nb03.2"`` for the course's own exercises),
a title, a statement of the expected form of the answer, and a verifier built
from :mod:`creditlib.checking`. Expected values are computed by ``creditlib``
inside the verifier, never typed in.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Callable

from ..checking import CORRECT, INVALID, NOT_ATTEMPTED, UNDECIDED, Verdict, is_stub


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
        ``verify(answer) -> Verdict``.
    notebook : str
        The notebook that poses it (e.g. ``"00_welcome"``).
    reference : callable
        ``reference() -> answer``: a correct answer, computed by ``creditlib``
        (used by the tests to show the checker accepts it).
    wrong_answers : callable
        ``wrong_answers() -> [(answer, hint_fragment), ...]``: plausible wrong
        answers and a fragment that the checker's message must contain.
    """

    id: str
    title: str
    expects: str
    verify: Callable[[Any], Verdict]
    notebook: str
    reference: Callable[[], Any]
    wrong_answers: Callable[[], list] = field(default=lambda: [])


_ICONS = {CORRECT: "✅", NOT_ATTEMPTED: "✏️", INVALID: "⚠️", UNDECIDED: "❔"}


@dataclass(frozen=True)
class CheckResult:
    """What :func:`check` returns: ``passed``, ``status`` and a message that teaches."""

    exercise_id: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == CORRECT

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return f"[{self.exercise_id}] {self.status}: {self.message}"

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        icon = _ICONS.get(self.status, "❌")
        return f"{icon} **{self.exercise_id} — {self.status}.** {_escape_markdown(self.message)}"


def _escape_markdown(text: str) -> str:
    out = html.escape(text, quote=False)
    for ch in "*_`[]#|":
        out = out.replace(ch, "\\" + ch)
    return out


_REGISTRY: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    """Add an exercise to the registry; ids must be unique."""
    if exercise.id in _REGISTRY:
        raise ValueError(f"Exercise id {exercise.id!r} is registered twice.")
    _REGISTRY[exercise.id] = exercise
    return exercise


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise with this id (``KeyError`` listing the ids when unknown)."""
    try:
        return _REGISTRY[exercise_id]
    except (KeyError, TypeError):
        raise KeyError(f"No exercise has the id {exercise_id!r}; known ids: {', '.join(sorted(_REGISTRY))}.") from None


def list_exercises(notebook: str | None = None) -> list[Exercise]:
    """All registered exercises (of one notebook if given), sorted by id."""
    return [ex for key, ex in sorted(_REGISTRY.items()) if notebook is None or ex.notebook == notebook]


def describe(exercise_id: str) -> str:
    """A one-paragraph statement of what the exercise expects."""
    ex = get_exercise(exercise_id)
    return f"{ex.id}: {ex.title}. Expected: {ex.expects}"


@__import__("creditlib.exercises.progress", fromlist=["recorded"]).recorded  # issue 10: make progress
def check(exercise_id: str, answer: Any) -> CheckResult:
    """Check a reader's answer; never raises, whatever ``answer`` is.

    Returns a :class:`CheckResult` whose status is ``correct``, ``incorrect``,
    ``invalid`` (the answer cannot be read: a string, None, a wrong shape),
    ``undecided`` or ``not attempted`` (the chapters' stub ``...``).
    """
    try:
        exercise = get_exercise(exercise_id)
    except KeyError as err:
        return CheckResult(str(exercise_id), INVALID, str(err.args[0]))
    if is_stub(answer):
        return CheckResult(exercise.id, NOT_ATTEMPTED,
                           f"Not attempted yet. Expected: {exercise.expects}")
    try:
        verdict = exercise.verify(answer)
    except Exception as err:  # a checker bug must not hide behind the reader's answer
        return CheckResult(exercise.id, UNDECIDED,
                           f"The checker could not judge this answer ({type(err).__name__}: {err}). "
                           f"Expected: {exercise.expects}")
    message = verdict.message
    if verdict.status == INVALID:
        message += f" Expected: {exercise.expects}"
    return CheckResult(exercise.id, verdict.status, message)
