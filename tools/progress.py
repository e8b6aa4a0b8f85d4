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

A cell that raises does not stop the notebook: the course's later cells use ``creditlib``, never
your answers, so the run goes on and every later exercise is still judged. Each cell that raised
is reported with its number, first line and error; when it is an exercise's answer cell, that
exercise's status is ``error``. A cell that is not an answer cell (an import, a setup cell, a cell
you added) is reported under its notebook, since the cells after it may depend on it.

Statuses: correct, incorrect, invalid, undecided, not attempted (the stub is still there),
error (its answer cell raised), not reached (the time limit ran out or the kernel died before it),
not checked (the notebook ran but no check of it ran).

Only notebooks that changed since their last report are run again: a report is kept in
``--cache`` (``my-notebooks/.progress-cache.json``) under a key made of the notebook's code and
cell ids, its shipped chapter, and the source of ``creditlib`` and of this script. Reports of runs
that were cut short (time limit, dead kernel) are not kept. ``--rerun`` runs every notebook again.

Usage: ``python tools/progress.py [NOTEBOOK_OR_FOLDER ...] [--timeout SECONDS] [--rerun] [--verbose]``
(default: ``my-notebooks/``; a notebook may be named by a prefix, ``03``). Run it with the course
environment's interpreter (``make progress``).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notebooks import CHAPTERS, ROOT, read  # noqa: E402
from workspace import find_notebook  # noqa: E402

import creditlib  # noqa: E402
from creditlib.exercises import list_exercises  # noqa: E402
from creditlib.exercises.progress import ENV_VAR, read_records  # noqa: E402

WORK = ROOT / "my-notebooks"
CACHE_NAME = ".progress-cache.json"
CACHE_VERSION = 1
MARKER = re.compile(r"#\s*YOUR (ANSWER|CODE) HERE")
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([^"']+)["']""")
ORDER = ["correct", "incorrect", "invalid", "undecided", "not attempted", "error", "not reached", "not checked"]
DEFAULT_TIMEOUT = 600
RAISED_SHOWN = 5                                   # cells that raised, listed per notebook (all with --verbose)
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
    raised: list = field(default_factory=list)    # cells that raised and are not an 'error' row: descriptions
    kept: bool = False                            # taken from the cache: the notebook did not change
    ran_at: str = ""                              # when the run that produced it ended (local time)

    def count(self, status: str) -> int:
        return sum(1 for _, s, _ in self.rows if s == status)

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("kept")
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Report":
        report = cls(**{k: data[k] for k in ("name", "seconds", "rows", "error", "raised", "ran_at")})
        report.rows = [tuple(row) for row in report.rows]
        return report


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


# ---------------------------------------------------------------- showing progress while a notebook runs


class Ticker:
    """One line per notebook while it runs, readable in a terminal and in a CI log.

    On a terminal the line is rewritten in place (``[3/9] 03_shapley_axioms: cell 12/58, 14 s``).
    Elsewhere (a pipe, a CI log) it prints the start, a line whenever ``every`` seconds passed
    without one, and the end. ``tick`` is called by a background thread once a second.
    """

    def __init__(self, stream=None, tty: bool | None = None, every: float = 30.0, clock=time.monotonic):
        self.stream = stream if stream is not None else sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.every, self.clock = every, clock
        self.lock = threading.Lock()
        self.label, self.cells, self.cell_index = "", 0, None
        self.started = self.last_line = 0.0
        self.width = 0                                 # of the line now shown on the terminal

    def _show(self, text: str, final: bool = False) -> None:
        self.last_line = self.clock()
        try:
            if self.tty:
                pad = " " * max(0, self.width - len(text))
                self.stream.write("\r" + text + pad + ("\n" if final else ""))
                self.width = 0 if final else len(text)
            else:
                self.stream.write(text + "\n")
            self.stream.flush()
        except (OSError, ValueError):          # a closed pipe or stream: progress lines are not worth a crash
            pass

    def _where(self) -> str:
        cell = "starting the kernel" if self.cell_index is None else f"cell {self.cell_index + 1}/{self.cells}"
        return f"{self.label}: {cell}, {self.clock() - self.started:.0f} s"

    def start(self, label: str, cells: int) -> None:
        with self.lock:
            self.label, self.cells, self.cell_index = label, cells, None
            self.started = self.clock()
            self._show(self._where() if self.tty else f"{label}: {cells} cell{'s' if cells != 1 else ''}, running")

    def cell(self, index: int) -> None:
        with self.lock:
            self.cell_index = index
            if self.tty:
                self._show(self._where())

    def tick(self) -> None:
        with self.lock:
            if not self.label:
                return
            if self.tty or self.clock() - self.last_line >= self.every:
                self._show(self._where())

    def done(self, text: str) -> None:
        with self.lock:
            self._show(f"{self.label}: {text}" if self.label else text, final=True)
            self.label = ""

    def note(self, text: str) -> None:
        """A line of its own (a notebook that was not run)."""
        with self.lock:
            self._show(text, final=True)

    def __enter__(self):
        self._stop = threading.Event()

        def beat():
            while not self._stop.wait(1.0):
                self.tick()

        self._thread = threading.Thread(target=beat, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------- running and judging one notebook


def answer_cells_of(nb, shipped_answer_ids) -> tuple[set, dict, list]:
    """The answer cells, the first answer cell of each exercise, and the exercise ids in notebook order."""
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
    return answer_cells, answer_cell_of, ids


def run_notebook(path: Path, timeout: float = DEFAULT_TIMEOUT, chapters: Path = CHAPTERS,
                 ticker: Ticker | None = None, label: str | None = None) -> Report:
    """Execute one notebook in a fresh kernel and judge each of its exercises.

    A cell that raises does not stop the run; the time limit and a dead kernel do. ``ticker``
    shows which cell runs, under ``label`` (default: the notebook's name).
    """
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
    raised: dict = {}                        # cell index -> (exception name, message)
    state = {"cell": None, "offset": 0}

    def collect(index):
        new, state["offset"] = read_records(record_file, state["offset"])
        records.extend((index, r) for r in new)

    def on_cell_execute(cell, cell_index, **_):
        state["cell"] = cell_index
        if ticker is not None:
            ticker.cell(cell_index)

    def on_cell_error(cell, cell_index, execute_reply, **_):
        content = execute_reply.get("content", {}) if isinstance(execute_reply, dict) else {}
        raised[cell_index] = (str(content.get("ename", "an error")), str(content.get("evalue", "")))

    def on_cell_executed(cell, cell_index, **_):
        collect(cell_index)

    deadline = time.monotonic() + timeout
    client = NotebookClient(
        nb, kernel_name="python3", record_timing=False, allow_errors=True, interrupt_on_timeout=False,
        timeout_func=lambda cell: max(1, int(deadline - time.monotonic())), shutdown_kernel="immediate",
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_execute=on_cell_execute, on_cell_error=on_cell_error, on_cell_executed=on_cell_executed,
        log=QUIET)
    env = dict(os.environ, **{ENV_VAR: record_file, "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    if ticker is not None:
        ticker.start(label or path.stem, len(nb.cells))
    start = time.monotonic()
    stopped_at = None
    try:
        with os.fdopen(fd, "w") as log_file:
            client.execute(env=env, stderr=log_file)
    except CellTimeoutError:
        stopped_at = state["cell"]
        report.error = (f"the notebook's time limit ({timeout:g} s) ran out in {describe_cell(nb, stopped_at)}; "
                        f"raise it with --timeout (make progress TIMEOUT=...)")
    except CellExecutionError as err:        # not expected with allow_errors, kept as a safety net
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
        report.ran_at = time.strftime("%Y-%m-%d %H:%M")
        collect(state["cell"])
        for leftover in (record_file, kernel_log):
            try:
                os.remove(leftover)
            except OSError:
                pass

    shipped = answer_cell_ids(chapters / path.name)
    report.rows = judge(nb, records, shipped, path.stem, stopped_at if report.error else None, raised)
    report.raised = raised_lines(nb, raised, shipped, report.rows)
    return report


def _error_message(index: int, ename: str, evalue: str) -> str:
    return f"cell {index + 1} raised {ename}" + (f": {one_line(evalue, 120)}" if evalue.strip() else "")


def raised_lines(nb, raised: dict, shipped_answer_ids, rows) -> list:
    """One line per cell that raised, except the answer cells already shown as an 'error' row."""
    _, answer_cell_of, _ = answer_cells_of(nb, shipped_answer_ids)
    in_rows = {answer_cell_of.get(e) for e, status, _ in rows if status == "error"}
    lines = []
    for index, (ename, evalue) in sorted(raised.items()):
        if index in in_rows:
            continue
        whose = [e for e, i in answer_cell_of.items() if i == index]
        what = f" (the answer cell of {', '.join(whose)}, after its check)" if whose else ""
        lines.append(f"{describe_cell(nb, index)}{what} raised {ename}"
                     + (f": {one_line(evalue, 120)}" if evalue.strip() else ""))
    return lines


def judge(nb, records, shipped_answer_ids, notebook_name, stopped_at, raised=None):
    """One row (exercise id, status, message) per exercise, from the records of one run.

    ``stopped_at``: the cell where the run was cut short (time limit, dead kernel), or None.
    ``raised``: cell index -> (exception name, message) for the cells that raised.
    """
    raised = raised or {}
    answer_cells, answer_cell_of, ids = answer_cells_of(nb, shipped_answer_ids)
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
        cell = answer_cell_of.get(exercise_id)
        if mine:
            rows.append((exercise_id, mine[-1].get("status", "undecided"), mine[-1].get("message", "")))
        elif cell in raised:
            rows.append((exercise_id, "error", _error_message(cell, *raised[cell])))
        elif stopped_at is not None and cell == stopped_at:
            rows.append((exercise_id, "error", "the notebook stopped in its answer cell (see STOPPED below)"))
        elif stopped_at is not None and (len(nb.cells) if cell is None else cell) >= stopped_at:
            rows.append((exercise_id, "not reached", "the notebook stopped before it"))
        else:
            rows.append((exercise_id, "not checked", "no check(...) of it ran"))
    return rows


# ---------------------------------------------------------------- the kept reports


def _tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


_CODE_DIGEST: list = []


def code_digest() -> str:
    """What the reports depend on besides the notebook: creditlib (version and source) and this script."""
    if not _CODE_DIGEST:
        h = hashlib.sha256()
        h.update(str(getattr(creditlib, "__version__", "")).encode() + b"\0")
        h.update(_tree_digest(Path(creditlib.__file__).resolve().parent).encode())
        h.update(Path(__file__).resolve().read_bytes())
        _CODE_DIGEST.append(h.hexdigest())
    return _CODE_DIGEST[0]


def notebook_key(path: Path, chapters: Path = CHAPTERS) -> str | None:
    """The cache key of one notebook: its cells' types, ids and sources (not their outputs, so saving
    after a run changes nothing), its shipped chapter and :func:`code_digest`. None if unreadable."""
    try:
        cells = json.loads(path.read_bytes())["cells"]
        content = [[c.get("cell_type"), c.get("id"),
                    "".join(c["source"]) if isinstance(c.get("source"), list) else c.get("source")]
                   for c in cells]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    chapter = chapters / path.name
    shipped = hashlib.sha256(chapter.read_bytes()).hexdigest() if chapter.is_file() else ""
    h = hashlib.sha256(json.dumps(content, ensure_ascii=False).encode())
    h.update(b"\0" + shipped.encode() + b"\0" + code_digest().encode())
    return h.hexdigest()


class Cache:
    """Reports of earlier runs, by notebook path, in one JSON file (the reader's workspace)."""

    def __init__(self, file: Path | None):
        self.file = file
        self.entries: dict = {}
        if file is not None:
            try:
                data = json.loads(Path(file).read_text(encoding="utf-8"))
                if isinstance(data, dict) and data.get("version") == CACHE_VERSION:
                    self.entries = dict(data.get("notebooks", {}))
            except (OSError, ValueError):
                pass

    def get(self, path: Path, key: str | None) -> Report | None:
        entry = self.entries.get(str(path.resolve()))
        if key is None or not isinstance(entry, dict) or entry.get("key") != key:
            return None
        try:
            report = Report.from_json(entry["report"])
        except (KeyError, TypeError):
            return None
        report.kept = True
        return report

    def put(self, path: Path, key: str | None, report: Report) -> None:
        if key is None or report.error:         # runs cut short are never kept
            self.entries.pop(str(path.resolve()), None)
        else:
            self.entries[str(path.resolve())] = {"key": key, "report": report.to_json()}

    def save(self) -> None:
        if self.file is None or not Path(self.file).parent.is_dir():
            return
        self.entries = {p: e for p, e in self.entries.items() if Path(p).exists()}
        tmp = Path(self.file).with_name(Path(self.file).name + ".tmp")
        try:
            tmp.write_text(json.dumps({"version": CACHE_VERSION, "notebooks": self.entries}, indent=1,
                                      ensure_ascii=False) + "\n", encoding="utf-8")
            os.replace(tmp, self.file)
        except OSError as err:
            print(f"(could not keep the results in {self.file}: {err})")


# ---------------------------------------------------------------- the table


def summary(counts: dict) -> str:
    return ", ".join(f"{counts[s]} {s}" for s in ORDER if counts.get(s))


def kept_note(report: Report) -> str:
    return "unchanged since its last run" + (f" at {report.ran_at}" if report.ran_at else "") + ", not re-run"


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
            if message and (status == "error" or (verbose and status != "correct")):
                line += f": {one_line(message, 100)}"
            lines.append(line)
            name = ""
        pad = " " * (w_nb + 2)
        kept = f" ({kept_note(r)})" if r.kept else ""
        if r.rows:
            lines.append(f"{pad}{' ' * w_ex}  {r.count('correct')} of {len(r.rows)} correct, {r.seconds:.1f} s{kept}")
        else:
            lines.append(f"{name:<{w_nb}}  {'-':<{w_ex}}  no exercises, {r.seconds:.1f} s{kept}")
        shown = r.raised if verbose else r.raised[:RAISED_SHOWN]
        for text in shown:
            lines.append(f"{pad}RAISED: {text}")
        if len(shown) < len(r.raised):
            lines.append(f"{pad}RAISED: {len(r.raised) - len(shown)} more cells (-v lists them)")
        if r.raised:
            lines.append(f"{pad}(the cells after it still ran; later errors may follow from it)")
        if r.error:
            lines.append(f"{pad}STOPPED: {r.error}")
    n = sum(len(r.rows) for r in reports)
    broken = [r.name for r in reports if r.error]
    raising = [r.name for r in reports if r.raised or r.count("error")]
    kept = [r for r in reports if r.kept]
    lines.append("")
    lines.append(f"Total: {totals.get('correct', 0)} of {n} exercises correct"
                 + (f" ({summary(totals)})" if n else "") + f" in {len(reports)} notebook{'s' if len(reports) != 1 else ''}"
                 + (f" ({len(kept)} unchanged since their last run, not re-run)" if kept else "")
                 + f", {sum(r.seconds for r in reports if not r.kept):.0f} s.")
    if raising:
        lines.append(f"Cells raised in: {', '.join(raising)} (see 'error' and RAISED above); "
                     "each notebook ran on past them.")
    if broken:
        lines.append(f"Stopped early: {', '.join(broken)} (see STOPPED above; exercises after it "
                     "are 'not reached').")
    if kept:
        lines.append("make progress RERUN=1 (tools/progress.py --rerun) runs every notebook again.")
    return "\n".join(lines)


# ---------------------------------------------------------------- command line


def notebooks_in(targets: list) -> list:
    """The notebooks that ``targets`` name: folders, files, or names (a prefix is enough) in their folder
    or in my-notebooks/. Raises FileNotFoundError, listing the valid names, when one matches nothing."""
    paths = []
    for target in targets:
        target = Path(target)
        if target.is_dir():
            paths.extend(sorted(p for p in target.glob("*.ipynb") if not p.name.endswith("-checkpoint.ipynb")))
        elif target.suffix != ".ipynb" and target.with_suffix(".ipynb").exists():
            paths.append(target.with_suffix(".ipynb"))
        elif target.exists():
            paths.append(target)
        else:                                  # make progress NOTEBOOK=03 or NOTEBOOK=03_shapley_axioms
            folder = target.parent if str(target.parent) not in ("", ".") else WORK
            paths.append(find_notebook(target.name, folder))
    return paths


def _shown(target) -> str:
    path = Path(target).resolve()
    try:
        return str(path.relative_to(Path.cwd())) + ("/" if path.is_dir() else "")
    except ValueError:
        return str(path)


def _result(report: Report) -> str:
    text = f"{report.count('correct')} of {len(report.rows)} correct" if report.rows else "no exercises"
    errors = report.count("error") + len(report.raised)
    if errors:
        text += f", {errors} cell{'s' if errors != 1 else ''} raised"
    if report.error:
        text += " (stopped early)"
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", default=[str(WORK)],
                        help="notebooks, names (03 is enough) or folders (default: my-notebooks/)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds allowed for each notebook (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--chapters", type=Path, default=CHAPTERS,
                        help="the shipped notebooks, to recognise answer cells by id (default: chapters/)")
    parser.add_argument("--cache", type=Path, default=WORK / CACHE_NAME,
                        help=f"where the reports are kept between runs (default: my-notebooks/{CACHE_NAME}); "
                             "written only if its folder exists")
    parser.add_argument("--rerun", action="store_true", help="run every notebook again, even an unchanged one")
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
    folders = [t for t in args.targets if Path(t).is_dir()]
    where = ", ".join([_shown(t) for t in folders]
                      + [_shown(p) for p in paths if not any(p.parent == Path(f) for f in folders)])
    cache = Cache(args.cache)
    keys = {path: notebook_key(path, args.chapters) for path in paths}
    kept = {} if args.rerun else {path: cache.get(path, keys[path]) for path in paths}
    to_run = [path for path in paths if kept.get(path) is None]
    unchanged = len(paths) - len(to_run)
    print(f"{len(paths)} notebook(s) in {where}"
          + ((f": {unchanged} unchanged since their last run (not re-run), {len(to_run)} to run" if to_run else
              ": all unchanged since their last run, not re-run") if unchanged else "")
          + (f"; each runs in a fresh kernel, at most {args.timeout:g} s" if to_run else "")
          + ". Your notebooks are not modified.")
    reports = []
    with Ticker() as ticker:
        for k, path in enumerate(paths):
            label = f"  [{k + 1}/{len(paths)}] {path.stem}"
            if kept.get(path) is not None:
                report = kept[path]
                ticker.note(f"{label}: {_result(report)} ({kept_note(report)})")
            else:
                report = run_notebook(path, args.timeout, args.chapters, ticker, label)
                if ticker.label:
                    ticker.done(f"{report.seconds:.1f} s, {_result(report)}")
                else:
                    ticker.note(f"{label}: {_result(report)}")
                cache.put(path, keys[path], report)
                cache.save()                     # after each notebook: an interrupted run keeps what it did
            reports.append(report)
    print()
    print(format_table(reports, verbose=args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
