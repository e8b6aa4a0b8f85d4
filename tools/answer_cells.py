#!/usr/bin/env python
"""Give every discussion question a place to answer: a ``**Your answer.**`` markdown cell before each model answer.

A model answer is a ``solution``-tagged markdown cell that starts with ``**Model answer.**``, ``*Model answer.*`` or
``**Answer.**``; the reader's copy drops it and keeps the answer cell. Idempotent.

Usage: ``python tools/answer_cells.py [solutions/NAME.ipynb ...]`` (default: all of solutions/).
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notebooks import read, solution_notebooks, write  # noqa: E402

MODEL_ANSWER = ("**Model answer.**", "*Model answer.*", "**Answer.**")
ANSWER_CELL = ("**Your answer.** *(Double-click this cell and write your answer here; then compare it with the "
               "model answer in `solutions/{name}`.)*")


def is_model_answer(cell) -> bool:
    return (cell.cell_type == "markdown" and "solution" in cell.get("metadata", {}).get("tags", [])
            and cell.source.lstrip().startswith(MODEL_ANSWER))


def is_answer_cell(cell) -> bool:
    return cell.cell_type == "markdown" and cell.source.lstrip().startswith(("**Your answer", "*Your answer"))


def add_answer_cells(nb, name: str) -> int:
    """Insert (or normalise) the answer cell before each model answer; return how many were inserted."""
    cells, added = [], 0
    for cell in nb.cells:
        if is_answer_cell(cell):
            cell.source = ANSWER_CELL.format(name=name)
        if is_model_answer(cell) and not (cells and is_answer_cell(cells[-1])):
            cells.append(nbformat.v4.new_markdown_cell(ANSWER_CELL.format(name=name)))
            added += 1
        cells.append(cell)
    nb.cells = cells
    return added


def main(argv: list[str]) -> int:
    for path in [Path(a) for a in argv] or solution_notebooks():
        nb = read(path)
        added = add_answer_cells(nb, path.name)
        write(nb, path)
        print(f"{path.name}: {added} answer cell(s) added")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
