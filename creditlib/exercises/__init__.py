"""Checked exercises: ``from creditlib.exercises import check`` then ``check("10.5.1b", answer)``.

Importing this package registers every exercise of the course, one module per notebook.
"""
from .core import CheckResult, Exercise, check, describe, get_exercise, list_exercises, register
from . import welcome  # noqa: F401  (registers nb00.*)

__all__ = ["check", "describe", "get_exercise", "list_exercises", "register", "Exercise", "CheckResult"]
