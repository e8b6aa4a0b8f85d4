#!/usr/bin/env python
"""Derive the reader's notebooks chapters/*.ipynb from the single source solutions/*.ipynb.

Rules:
* Code between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` becomes a stub.
  - Indented (inside a function body): ``raise NotImplementedError`` at that indentation.
  - At top level: each name the block assigns becomes ``name = ...``, so the checker
    reports "not attempted yet" and the notebook still runs top to bottom.
  Text after the marker (``# BEGIN SOLUTION: a list of two exact numbers``) becomes the
  comment that tells the reader what to write.
* Cells tagged ``solution`` (worked-solution prose, solution-only demos) are dropped.
* Outputs and execution counts are cleared; everything else is kept identical.

Usage: ``python tools/make_chapters.py`` (write) or ``--check`` (exit 1 if chapters/ is stale).
"""
from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notebooks import CHAPTERS, dumps, read, solution_notebooks  # noqa: E402

BEGIN = re.compile(r"^(?P<indent>\s*)#\s*BEGIN SOLUTION\b:?\s*(?P<hint>.*)$")
END = re.compile(r"^\s*#\s*END SOLUTION\b")
SOLUTION_TAG = "solution"


class MarkerError(ValueError):
    """Unbalanced or misplaced solution markers."""


def assigned_names(block: str) -> list[str]:
    """Names assigned by the top-level statements of a code block, in order of first assignment."""
    names: list[str] = []

    def collect(target: ast.AST) -> None:
        if isinstance(target, ast.Name) and target.id not in names:
            names.append(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                collect(element)

    for node in ast.parse(block).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                collect(target)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            collect(node.target)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name not in names:
            names.append(node.name)
    return names


def stub_for(block_lines: list[str], indent: str, hint: str) -> list[str]:
    """The lines that replace one solution block."""
    if indent:
        return [f"{indent}# YOUR ANSWER HERE: {hint or 'write the body of this function'}",
                f'{indent}raise NotImplementedError("Exercise: replace this line with your code")']
    names = assigned_names(textwrap.dedent("\n".join(block_lines)))
    lines = [f"# YOUR ANSWER HERE: {hint or 'replace ... with your answer'}"]
    lines += [f"{name} = ..." for name in names]
    return lines


def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace every solution block of a code cell by its stub."""
    out: list[str] = []
    block: list[str] | None = None
    indent = hint = ""
    for number, line in enumerate(source.splitlines(), 1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if block is not None:
                raise MarkerError(f"{where}, line {number}: BEGIN SOLUTION inside another solution block.")
            block, indent, hint = [], begin["indent"], begin["hint"].strip()
        elif end:
            if block is None:
                raise MarkerError(f"{where}, line {number}: END SOLUTION without a BEGIN SOLUTION.")
            out += stub_for(block, indent, hint)
            block = None
        elif block is not None:
            block.append(line)
        else:
            out.append(line)
    if block is not None:
        raise MarkerError(f"{where}: BEGIN SOLUTION is never closed by END SOLUTION.")
    return "\n".join(out)


def has_solution_block(source: str) -> bool:
    """Whether a code cell holds a ``# BEGIN SOLUTION`` block (the reader gets a stub there)."""
    return any(BEGIN.match(line) for line in source.splitlines())


def make_chapter(solution, keep_outputs: bool = False):
    """The reader's copy of a solution notebook (a new notebook object).

    With ``keep_outputs`` (the website, tools/build_site.py), a code cell without a solution block keeps its
    stored outputs; a cell with one shows none, as in the reader's untouched copy.
    """
    nb = copy.deepcopy(solution)
    cells = []
    for index, cell in enumerate(nb.cells):
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "code":
            if not keep_outputs or has_solution_block(cell.source):
                cell.outputs = []
                cell.execution_count = None
            cell.source = strip_solutions(cell.source, where=f"cell {index}")
        cells.append(cell)
    nb.cells = cells
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify that chapters/ is up to date")
    args = parser.parse_args(argv)
    stale = []
    expected_names = set()
    for path in solution_notebooks():
        target = CHAPTERS / path.name
        expected_names.add(path.name)
        text = dumps(make_chapter(read(path)))
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            stale.append(target.name)
            if not args.check:
                CHAPTERS.mkdir(exist_ok=True)
                target.write_text(text, encoding="utf-8")
    orphans = sorted(p.name for p in CHAPTERS.glob("*.ipynb") if p.name not in expected_names)
    if args.check:
        if stale or orphans:
            print("chapters/ is out of date with solutions/: "
                  f"stale {stale}, without a solution {orphans}. Run `make chapters`.")
            return 1
        print(f"chapters/ is up to date ({len(expected_names)} notebooks).")
        return 0
    for name in orphans:
        (CHAPTERS / name).unlink()
    print(f"wrote {len(stale)} chapter notebook(s); removed {len(orphans)}; "
          f"{len(expected_names) - len(stale)} already up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
