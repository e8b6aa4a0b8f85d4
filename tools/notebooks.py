"""Shared notebook paths and I/O for the course tools (make_chapters, run_solutions) and tests."""
from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
CHAPTERS = ROOT / "chapters"
NBFORMAT_VERSION = 4


def solution_notebooks() -> list[Path]:
    """The source notebooks, sorted by name."""
    return sorted(SOLUTIONS.glob("*.ipynb"))


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=NBFORMAT_VERSION)


def dumps(nb: nbformat.NotebookNode) -> str:
    """The exact text a notebook is written as (so files can be compared byte for byte)."""
    return nbformat.writes(nb, version=NBFORMAT_VERSION) + "\n"


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    path.write_text(dumps(nb), encoding="utf-8")
