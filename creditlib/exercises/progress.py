"""A machine-readable record of :func:`~creditlib.exercises.check` results, for ``make progress``.

When the environment variable ``CREDITLIB_PROGRESS_FILE`` names a file, every call to ``check``
appends one JSON line to it::

    {"exercise": "nb00.1", "notebook": "00_welcome", "status": "correct", "message": "..."}

``tools/progress.py`` sets the variable for the fresh kernel it runs each of the reader's
notebooks in, reads the new lines after every cell (so each result is attributed to the cell
that produced it) and prints the table. When the variable is unset, recording does nothing.

Recording can never break a check: :func:`record` swallows every error, and :func:`recorded`
returns exactly what the wrapped ``check`` returned.
"""
from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any, Callable

__all__ = ["ENV_VAR", "entry", "record", "recorded", "read_records"]

ENV_VAR = "CREDITLIB_PROGRESS_FILE"


def entry(result: Any) -> dict:
    """The JSON-ready record of one check's :class:`~creditlib.exercises.checker.verdicts.Verdict`.

    Parameters
    ----------
    result : Verdict
        What :func:`creditlib.exercises.check` returned (for anything else the fields are empty).

    Returns
    -------
    dict
        ``exercise``, ``notebook`` (None for an unknown id), ``status`` and ``message``.
    """
    exercise_id = str(getattr(result, "exercise_id", ""))
    notebook = None
    try:
        from .core import get_exercise  # late: core imports this module while it is being defined
        notebook = get_exercise(exercise_id).notebook
    except Exception:
        pass
    return {"exercise": exercise_id, "notebook": notebook,
            "status": str(getattr(result, "status", "")), "message": str(getattr(result, "message", ""))}


def record(result: Any) -> None:
    """Append ``result`` to the file named by ``CREDITLIB_PROGRESS_FILE``, if it is set. Never raises.

    Parameters
    ----------
    result : Verdict
        What :func:`creditlib.exercises.check` returned.
    """
    try:
        path = os.environ.get(ENV_VAR)
        if not path:
            return
        line = json.dumps(entry(result), ensure_ascii=False)
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    except Exception:
        pass


def recorded(check: Callable) -> Callable:
    """Decorate ``check`` so that each result is also passed to :func:`record`.

    Parameters
    ----------
    check : callable
        The function to wrap.

    Returns
    -------
    callable
        ``check`` with the same signature, recording each result.
    """
    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        result = check(*args, **kwargs)
        record(result)
        return result
    return wrapper


def read_records(path: str | os.PathLike, offset: int = 0) -> tuple[list[dict], int]:
    """The records appended to ``path`` from byte ``offset`` on, and the offset after them.

    Lines that are not JSON objects (a partial write) are skipped.

    Parameters
    ----------
    path : str or os.PathLike
        The progress file (a missing file has no records).
    offset : int, default=0
        Byte offset to start from.

    Returns
    -------
    records : list of dict
    offset : int
        Where the next read should start.
    """
    path = Path(path)
    if not path.exists():
        return [], offset
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    end = data.rfind(b"\n") + 1          # only whole lines; a partial last line waits for the next read
    records = []
    for line in data[:end].decode("utf-8", errors="replace").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict):
            records.append(item)
    return records, offset + end
