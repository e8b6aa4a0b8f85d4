#!/usr/bin/env python
"""``make progress``: run the reader's working notebooks headless and report every exercise.

Each notebook runs top to bottom in a fresh kernel, with its own folder as the working
directory and a time limit for the whole notebook. The notebooks are not modified. Every
``check(...)`` call appends a machine-readable record (see ``creditlib.exercises.progress``);
the records are read after each cell, so each result is tied to the cell that produced it.

Which check is *your* answer? Notebooks also call ``check`` on purpose with wrong answers, to
show what the checker says (notebook 00 does). Your answer is the check made in an answer cell:
a cell whose id is that of an exercise cell of the shipped notebook in ``chapters/`` (JupyterLab
keeps cell ids while you edit), or a cell that still holds a ``# YOUR ANSWER HERE`` /
``# YOUR CODE HERE`` line. An exercise with no answer cell is judged by its first check.

Statuses: correct, incorrect, invalid, undecided, not attempted (the stub is still there),
error (its answer cell raised), not reached (the notebook stopped before it), not checked
(the notebook ran but no check of it ran).

Usage: ``python tools/progress.py [NOTEBOOK_OR_FOLDER ...] [--timeout SECONDS] [--verbose]``
(default: ``my-notebooks/``). Run it with the course environment's interpreter (``make progress``).
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notebooks import CHAPTERS, ROOT, read  # noqa: E402

from creditlib.exercises import list_exercises  # noqa: E402
from creditlib.exercises.progress import ENV_VAR, read_records  # noqa: E402

WORK = ROOT / "my-notebooks"
MARKER = re.compile(r"#\s*YOUR (ANSWER|CODE) HERE")
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([^"']+)["']""")
ORDER = ["correct", "incorrect", "invalid", "undecided", "not attempted", "error", "not reached", "not checked"]
DEFAULT_TIMEOUT = 600
QUIET = logging.getLogger("creditlib.progress.nbclient")    # nbclient's own timeout log lines: we report instead
QUIET.addHandler(logging.NullHandler())
QUIET.propagate = False


@dataclass
class Report:
    """What happened to one notebook."""

    name: str
    seconds: float = 0.0
    rows: list = field(default_factory=list)      # (exercise id, status, message)
    error: str | None = None                      # where and why the notebook stopped

    def count(self, status: str) -> int:
        return sum(1 for _, s, _ in self.rows if s == status)


def answer_cell_ids(chapter: Path) -> set:
    """Ids of the shipped notebook's answer cells (cells with a YOUR ANSWER/CODE HERE line)."""
    try:
        return {cell.get("id") for cell in read(chapter).cells
                if cell.cell_type == "code" and MARKER.search(cell.source) and cell.get("id")}
    except Exception:
        return set()


def describe_cell(nb, index) -> str:
    if index is None:
        return "before the first cell"
    lines = [line.strip() for line in nb.cells[index].source.splitlines() if line.strip()]
    first = lines[0] if lines else ""
    if len(first) > 50:
        first = first[:47] + "..."
    return f'cell {index + 1} of {len(nb.cells)} ("{first}")'


def one_line(text: str, width: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 3] + "..."


def run_notebook(path: Path, timeout: float = DEFAULT_TIMEOUT, chapters: Path = CHAPTERS) -> Report:
    """Execute one notebook in a fresh kernel and judge each of its exercises."""
    report = Report(path.stem)
    try:
        nb = read(path)
    except Exception as err:
        report.error = f"could not be read as a notebook ({type(err).__name__}: {one_line(err, 100)})"
        return report

    fd, record_file = tempfile.mkstemp(prefix="creditlib-progress-", suffix=".jsonl")
    os.close(fd)
    fd, kernel_log = tempfile.mkstemp(prefix="creditlib-kernel-", suffix=".log")
    records: list = []                       # (cell index, record)
    state = {"cell": None, "offset": 0}

    def collect(index):
        new, state["offset"] = read_records(record_file, state["offset"])
        records.extend((index, r) for r in new)

    def on_cell_execute(cell, cell_index, **_):
        state["cell"] = cell_index

    def on_cell_executed(cell, cell_index, **_):
        collect(cell_index)

    deadline = time.monotonic() + timeout
    client = NotebookClient(
        nb, kernel_name="python3", record_timing=False, allow_errors=False, interrupt_on_timeout=False,
        timeout_func=lambda cell: max(1, int(deadline - time.monotonic())), shutdown_kernel="immediate",
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_execute=on_cell_execute, on_cell_executed=on_cell_executed,
        log=QUIET)
    env = dict(os.environ, **{ENV_VAR: record_file, "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    start = time.monotonic()
    stopped_at = None
    try:
        with os.fdopen(fd, "w") as log_file:
            client.execute(env=env, stderr=log_file)
    except CellTimeoutError:
        stopped_at = state["cell"]
        report.error = (f"the notebook's time limit ({timeout:g} s) ran out in {describe_cell(nb, stopped_at)}; "
                        f"raise it with --timeout (make progress TIMEOUT=...)")
    except CellExecutionError as err:
        stopped_at = state["cell"]
        report.error = f"{describe_cell(nb, stopped_at)} raised {err.ename}: {one_line(err.evalue)}"
    except DeadKernelError:
        stopped_at = state["cell"]
        tail = Path(kernel_log).read_text(errors="replace").strip().splitlines()[-1:] or [""]
        report.error = f"the kernel died in {describe_cell(nb, stopped_at)} {one_line(tail[0], 100)}".rstrip()
    except Exception as err:   # the kernel could not start, or anything else: report, do not crash the run
        stopped_at = state["cell"]
        report.error = f"could not run ({type(err).__name__}: {one_line(err, 120)}) in {describe_cell(nb, stopped_at)}"
    finally:
        report.seconds = time.monotonic() - start
        collect(state["cell"])
        for leftover in (record_file, kernel_log):
            try:
                os.remove(leftover)
            except OSError:
                pass

    report.rows = judge(nb, records, answer_cell_ids(chapters / path.name), path.stem,
                        stopped_at if report.error else None)
    return report


def judge(nb, records, shipped_answer_ids, notebook_name, stopped_at):
    """One row (exercise id, status, message) per exercise, from the records of one run."""
    answer_cells = {i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
                    and (cell.get("id") in shipped_answer_ids or MARKER.search(cell.source))}
    answer_cell_of: dict = {}     # exercise id -> first answer cell that checks it
    ids: list = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for exercise_id in CHECK_CALL.findall(cell.source):
            if exercise_id not in ids:
                ids.append(exercise_id)
            if i in answer_cells:
                answer_cell_of.setdefault(exercise_id, i)
    for exercise in list_exercises(notebook_name):
        if exercise.id not in ids:
            ids.append(exercise.id)
    for _, record in records:
        if record.get("exercise") not in ids:
            ids.append(record.get("exercise"))

    rows = []
    for exercise_id in ids:
        mine = [r for i, r in records if r.get("exercise") == exercise_id and i in answer_cells]
        if not mine and exercise_id not in answer_cell_of:
            mine = [r for _, r in records if r.get("exercise") == exercise_id][:1]
        if mine:
            rows.append((exercise_id, mine[-1].get("status", "undecided"), mine[-1].get("message", "")))
        elif stopped_at is not None and answer_cell_of.get(exercise_id) == stopped_at:
            rows.append((exercise_id, "error", "its answer cell raised (see the error below)"))
        elif stopped_at is not None and answer_cell_of.get(exercise_id, len(nb.cells)) >= stopped_at:
            rows.append((exercise_id, "not reached", "the notebook stopped before it"))
        else:
            rows.append((exercise_id, "not checked", "no check(...) of it ran"))
    return rows


def summary(counts: dict) -> str:
    return ", ".join(f"{counts[s]} {s}" for s in ORDER if counts.get(s))


def format_table(reports: list, verbose: bool = False) -> str:
    w_nb = max([len("notebook")] + [len(r.name) for r in reports])
    w_ex = max([len("exercise")] + [len(e) for r in reports for e, _, _ in r.rows])
    lines = [f"{'notebook':<{w_nb}}  {'exercise':<{w_ex}}  result",
             f"{'-' * w_nb}  {'-' * w_ex}  {'-' * 13}"]
    totals: dict = {}
    for r in reports:
        name = r.name
        for exercise_id, status, message in r.rows:
            totals[status] = totals.get(status, 0) + 1
            line = f"{name:<{w_nb}}  {exercise_id:<{w_ex}}  {status}"
            if verbose and status != "correct" and message:
                line += f": {one_line(message, 100)}"
            lines.append(line)
            name = ""
        pad = " " * (w_nb + 2)
        if r.rows:
            lines.append(f"{pad}{' ' * w_ex}  {r.count('correct')} of {len(r.rows)} correct, {r.seconds:.1f} s")
        else:
            lines.append(f"{name:<{w_nb}}  {'-':<{w_ex}}  no exercises, {r.seconds:.1f} s")
        if r.error:
            lines.append(f"{pad}STOPPED: {r.error}")
    n = sum(len(r.rows) for r in reports)
    broken = [r.name for r in reports if r.error]
    lines.append("")
    lines.append(f"Total: {totals.get('correct', 0)} of {n} exercises correct"
                 + (f" ({summary(totals)})" if n else "") + f" in {len(reports)} notebook{'s' if len(reports) != 1 else ''}, "
                 f"{sum(r.seconds for r in reports):.0f} s.")
    if broken:
        lines.append(f"Stopped early: {', '.join(broken)} (see STOPPED above; exercises after the error "
                     "are 'not reached').")
    return "\n".join(lines)


def notebooks_in(targets: list) -> list:
    paths = []
    for target in targets:
        target = Path(target)
        if target.is_dir():
            paths.extend(sorted(p for p in target.glob("*.ipynb") if not p.name.endswith("-checkpoint.ipynb")))
        elif target.suffix != ".ipynb" and target.with_suffix(".ipynb").exists():
            paths.append(target.with_suffix(".ipynb"))
        elif target.exists():
            paths.append(target)
        elif (WORK / f"{target.name}.ipynb").exists():      # make progress NOTEBOOK=03_shapley_axioms
            paths.append(WORK / f"{target.name}.ipynb")
        else:
            raise FileNotFoundError(f"no notebook {target}")
    return paths


def _shown(target) -> str:
    path = Path(target).resolve()
    try:
        return str(path.relative_to(Path.cwd())) + ("/" if path.is_dir() else "")
    except ValueError:
        return str(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", default=[str(WORK)], help="notebooks or folders (default: my-notebooks/)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds allowed for each notebook (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--chapters", type=Path, default=CHAPTERS,
                        help="the shipped notebooks, to recognise answer cells by id (default: chapters/)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the checker's message for every answer "
                                                                       "that is not correct")
    args = parser.parse_args(argv)
    try:
        paths = notebooks_in(args.targets)
    except FileNotFoundError as err:
        print(f"make progress: {err}.")
        return 2
    if not paths:
        print(f"make progress: no notebooks in {', '.join(args.targets)} (`make lab` creates your working copies).")
        return 2
    where = ", ".join(_shown(t) for t in args.targets)
    print(f"Running {len(paths)} notebook(s) from {where}, each in a fresh kernel, "
          f"at most {args.timeout:g} s each. Your notebooks are not modified.")
    reports = []
    for path in paths:
        print(f"  {path.stem} ...", end="", flush=True)
        report = run_notebook(path, args.timeout, args.chapters)
        print(f" {report.seconds:.1f} s" + (" (stopped early)" if report.error else ""), flush=True)
        reports.append(report)
    print()
    print(format_table(reports, verbose=args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
