"""Checked exercises: ``from creditlib.exercises import check`` then ``check("10.5.1b", answer)``.

Importing this package registers every exercise of the course, one module per notebook.
"""
from .core import CheckResult, Exercise, check, describe, get_exercise, list_exercises, register
from . import limitations, shapley_axioms, shapley_estimators, welcome  # noqa: F401  (each module registers its notebook's exercises)

__all__ = ["check", "describe", "get_exercise", "list_exercises", "register", "Exercise", "CheckResult"]
