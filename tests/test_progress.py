"""`make progress`: check records its results, and the runner turns a reader's notebooks into one table."""
import io
import json
import re

import nbformat
import pytest
import sympy as sp

import progress
from creditlib.exercises import list_exercises
from creditlib.exercises import check
from creditlib.exercises.progress import ENV_VAR, read_records, record

# ---------------------------------------------------------------- the record kept by check


def test_check_records_one_json_line_per_call_when_asked(tmp_path, monkeypatch):
    target = tmp_path / "records.jsonl"
    monkeypatch.setenv(ENV_VAR, str(target))
    right = check("nb00.1", [sp.Rational(115, 2), sp.Rational(65, 2)])
    wrong = check("nb00.1", [50, 25])
    check("nb00.1", ...)
    check("no.such.id", 1)
    records, offset = read_records(target)
    assert right.passed and not wrong.passed
    assert [(r["exercise"], r["status"]) for r in records] == [
        ("nb00.1", "correct"), ("nb00.1", "incorrect"), ("nb00.1", "not attempted"), ("no.such.id", "invalid")]
    assert records[0]["notebook"] == "00_welcome" and records[3]["notebook"] is None
    assert "efficiency" in records[1]["message"]
    assert offset == target.stat().st_size and read_records(target, offset) == ([], offset)


def test_without_the_variable_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    check("nb00.1", [50, 25])
    assert list(tmp_path.iterdir()) == []


def test_recording_never_breaks_or_changes_a_check(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "no" / "such" / "folder" / "file.jsonl"))
    result = check("nb00.1", [sp.Rational(115, 2), sp.Rational(65, 2)])
    assert result.passed and result.exercise_id == "nb00.1"
    record(object())          # not a CheckResult at all
    record(None)


def test_a_partial_last_line_waits_for_the_next_read(tmp_path):
    target = tmp_path / "r.jsonl"
    target.write_text('{"exercise": "a", "status": "correct"}\nnot json\n{"exercise": "b", "sta')
    records, offset = read_records(target)
    assert [r["exercise"] for r in records] == ["a"]
    with open(target, "a") as f:
        f.write('tus": "incorrect"}\n')
    assert read_records(target, offset)[0] == [{"exercise": "b", "status": "incorrect"}]


# ---------------------------------------------------------------- judging one run (no kernel)


def _nb(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def _rec(exercise, status):
    return {"exercise": exercise, "status": status, "message": f"{exercise} is {status}"}


def test_the_answer_cell_decides_and_demonstrations_are_ignored():
    nb = _nb("import x",
             "# YOUR ANSWER HERE: a list\nanswer = [1, 2]\ncheck('nb00.1', answer)",
             "check('nb00.1', [50, 25])            # a demonstration of a wrong answer",
             "s = 1\ncheck('nb00.2', s)")          # marker deleted by the reader, cell id unknown
    nb.cells[3]["id"] = "shipped-answer-cell"
    records = [(1, _rec("nb00.1", "correct")), (2, _rec("nb00.1", "incorrect")), (3, _rec("nb00.2", "invalid"))]
    rows = progress.judge(nb, records, {"shipped-answer-cell"}, "00_welcome", None)
    assert [(e, s) for e, s, _ in rows] == [("nb00.1", "correct"), ("nb00.2", "invalid"), ("nb00.3", "not checked")]


def test_without_an_answer_cell_the_first_check_counts():
    nb = _nb("check('nb00.1', mine)", "check('nb00.1', [50, 25])")
    records = [(0, _rec("nb00.1", "correct")), (1, _rec("nb00.1", "incorrect"))]
    assert progress.judge(nb, records, set(), "00_welcome", None)[0][:2] == ("nb00.1", "correct")


def test_a_stopped_run_reports_the_error_and_what_was_not_reached():
    nb = _nb("# YOUR ANSWER HERE\na = 1\ncheck('nb00.1', a)",
             "# YOUR ANSWER HERE\nb = 1/0\ncheck('nb00.2', b)",
             "# YOUR CODE HERE\ncheck('nb00.3', f)")
    rows = progress.judge(nb, [(0, _rec("nb00.1", "incorrect"))], set(), "00_welcome", stopped_at=1)
    assert [(e, s) for e, s, _ in rows] == [("nb00.1", "incorrect"), ("nb00.2", "error"), ("nb00.3", "not reached")]


def test_a_raising_answer_cell_is_an_error_and_the_later_exercises_are_still_judged():
    nb = _nb("import creditlib",
             "# YOUR ANSWER HERE\na = votng\ncheck('nb00.1', a)",          # a typo: NameError before the check
             "undefined + 1",                                               # not an answer cell
             "# YOUR ANSWER HERE\nb = 1\ncheck('nb00.2', b)\nprnt(b)",       # raises after its check
             "# YOUR CODE HERE\ncheck('nb00.3', f)")
    raised = {1: ("NameError", "name 'votng' is not defined"), 2: ("NameError", "name 'undefined' is not defined"),
              3: ("NameError", "name 'prnt' is not defined")}
    records = [(3, _rec("nb00.2", "incorrect")), (4, _rec("nb00.3", "correct"))]
    rows = progress.judge(nb, records, set(), "00_welcome", None, raised)
    assert rows == [("nb00.1", "error", "cell 2 raised NameError: name 'votng' is not defined"),
                    ("nb00.2", "incorrect", "nb00.2 is incorrect"), ("nb00.3", "correct", "nb00.3 is correct")]
    lines = progress.raised_lines(nb, raised, set(), rows)        # the error row is not repeated
    assert lines == ['cell 3 of 5 ("undefined + 1") raised NameError: name \'undefined\' is not defined',
                     'cell 4 of 5 ("# YOUR ANSWER HERE") (the answer cell of nb00.2, after its check) raised '
                     "NameError: name 'prnt' is not defined"]
    table = progress.format_table([progress.Report("00_welcome", 1.0, rows, raised=lines)])
    assert "nb00.1    error: cell 2 raised NameError: name 'votng' is not defined" in table   # shown without -v
    assert "RAISED: cell 3 of 5" in table and "Cells raised in: 00_welcome" in table
    assert "STOPPED" not in table and "not reached" not in table


def test_the_table_has_one_row_per_exercise_and_totals():
    reports = [progress.Report("00_welcome", 2.0, [("nb00.1", "correct", ""), ("nb00.2", "incorrect", "off by 1")]),
               progress.Report("05_datamodels", 0.5, []),
               progress.Report("07_limitations", 1.0, [("10.5.1a", "not reached", "")], error="cell 3 raised X")]
    table = progress.format_table(reports, verbose=True)
    assert "nb00.2    incorrect: off by 1" in table
    assert "no exercises" in table and "STOPPED: cell 3 raised X" in table
    assert "Total: 1 of 3 exercises correct (1 correct, 1 incorrect, 1 not reached) in 3 notebooks" in table


# ---------------------------------------------------------------- a working copy, run for real


ANSWER = "# YOUR ANSWER HERE: the answer\n"


def _write(path, *sources):
    nbformat.write(_nb(*sources), path)


@pytest.fixture
def working_copy(tmp_path):
    work = tmp_path / "my-notebooks"
    work.mkdir()
    _write(work / "00_welcome.ipynb",
           "import sympy as sp\nfrom creditlib.exercises import check\nfrom creditlib.exercises.symbols import u_AB",
           ANSWER + "shapley_answer = [sp.Rational(115, 2), sp.Rational(65, 2)]\ncheck('nb00.1', shapley_answer)",
           "check('nb00.1', [50, 25])",                                    # the notebook's own demonstration
           ANSWER + "s_A_formula = u_AB / 2\ncheck('nb00.2', s_A_formula)",
           "def two_player_shapley(u_empty, u_a, u_b, u_ab):\n    # YOUR CODE HERE\n"
           "    raise NotImplementedError\n\n\ncheck('nb00.3', two_player_shapley)")
    _write(work / "03_shapley_axioms.ipynb",
           "from creditlib.exercises import check",
           ANSWER + "voting = [1, 2]\ncheck('nb03.2', voting)",
           ANSWER + "shapley_values = votng\ncheck('nb03.3', shapley_values)",      # a typo in an answer cell
           "print('about to fail')\nundefined_name + 1",                        # a cell that is not an answer
           ANSWER + "voting_dividends = ...\ncheck('nb03.5', voting_dividends)")
    _write(work / "08_scratch.ipynb", "x = 1")               # a notebook with no registered exercises
    return work


def _rows(out):
    return {tuple(line.split()[-3:]) if "not" in line else tuple(line.split()[-2:]) for line in out.splitlines()}


@pytest.mark.slow
def test_progress_reports_a_working_copy_with_a_mix_of_answers(working_copy, tmp_path, capsys):
    snapshot = {p.name: p.read_bytes() for p in working_copy.iterdir()}
    assert progress.main([str(working_copy), "--chapters", str(tmp_path / "none"), "--timeout", "120",
                          "--cache", str(tmp_path / "cache.json")]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    for exercise, status in [("nb00.1", "correct"), ("nb00.2", "incorrect"), ("nb00.3", "not attempted"),
                             ("nb03.2", "invalid"), ("nb03.5", "not attempted"), ("nb03.1", "not checked")]:
        assert tuple([exercise] + status.split()) in rows, out
    # the typo is reported on its exercise, with the error, and the run went on past it and past cell 4
    assert "nb03.3    error: cell 3 raised NameError: name 'votng' is not defined" in out
    assert 'RAISED: cell 4 of 5 ("print(\'about to fail\')") raised NameError' in out
    assert "STOPPED" not in out and "not reached" not in out
    assert re.search(r"^08_scratch +- +no exercises", out, flags=re.M), out
    n03 = len(list_exercises("03_shapley_axioms"))                  # nb03.2/.3/.5 answered, the rest not checked
    assert (f"Total: 1 of {3 + n03} exercises correct (1 correct, 1 incorrect, 1 invalid, 2 not attempted, "
            f"1 error, {n03 - 3} not checked)") in out
    assert re.search(r"^  \[2/3\] 03_shapley_axioms: [\d.]+ s, 0 of 5 correct, 2 cells raised$", out, flags=re.M), out
    assert {p.name: p.read_bytes() for p in working_copy.iterdir()} == snapshot     # nothing written back


def test_a_notebook_over_its_time_limit_is_stopped_and_reported(tmp_path):
    path = tmp_path / "07_limitations.ipynb"
    _write(path, "import time\ntime.sleep(60)", ANSWER + "a = ...\ncheck('10.5.1a', a)")
    report = progress.run_notebook(path, timeout=2, chapters=tmp_path)
    assert report.seconds < 30
    assert "time limit (2 s) ran out in cell 1 of 2" in report.error
    assert dict((e, s) for e, s, _ in report.rows)["10.5.1a"] == "not reached"


def test_a_file_that_is_not_a_notebook_is_reported(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text(json.dumps({"cells": "nope"})[:-3])
    assert progress.run_notebook(path).error.startswith("could not be read as a notebook")


# ---------------------------------------------------------------- what the reader sees while it runs


class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_on_a_terminal_one_line_shows_the_notebook_and_its_cell():
    out, clock = io.StringIO(), _Clock()
    ticker = progress.Ticker(out, tty=True, clock=clock)
    ticker.start("  [3/9] 03_shapley_axioms", 58)
    clock.now += 14
    ticker.cell(11)
    clock.now += 100
    ticker.tick()                                  # a long cell: the seconds still move
    ticker.done("7 s, ok")
    text = out.getvalue()
    assert "\n" not in text[:-1] and text.endswith("\n")          # one line, rewritten in place
    shown = [part.rstrip() for part in text.split("\r") if part]
    assert shown == ["  [3/9] 03_shapley_axioms: starting the kernel, 0 s",
                     "  [3/9] 03_shapley_axioms: cell 12/58, 14 s",
                     "  [3/9] 03_shapley_axioms: cell 12/58, 114 s",
                     "  [3/9] 03_shapley_axioms: 7 s, ok"]
    last, before = text.split("\r")[-1], text.split("\r")[-2]
    assert len(last.rstrip("\n")) >= len(before) and last.startswith("  [3/9] 03_shapley_axioms: 7 s, ok   ")


def test_in_a_log_it_prints_whole_lines_and_a_line_after_each_quiet_stretch():
    out, clock = io.StringIO(), _Clock()
    ticker = progress.Ticker(out, tty=False, every=30, clock=clock)
    ticker.start("  [5/9] 05_datamodels", 40)
    for index in range(10):                        # quick cells: no line each
        ticker.cell(index)
        clock.now += 1
        ticker.tick()
    clock.now += 25                                # 35 s since the last line
    ticker.tick()
    ticker.tick()                                  # not again at once
    ticker.done("95.0 s, 4 of 9 correct")
    ticker.tick()                                  # idle between notebooks: silent
    assert out.getvalue().splitlines() == ["  [5/9] 05_datamodels: 40 cells, running",
                                           "  [5/9] 05_datamodels: cell 10/40, 35 s",
                                           "  [5/9] 05_datamodels: 95.0 s, 4 of 9 correct"]
    assert "\r" not in out.getvalue()


# ---------------------------------------------------------------- only what changed is run again


@pytest.fixture
def fake_runs(monkeypatch):
    """run_notebook replaced by a record of the calls and a report that names the run (no kernel)."""
    runs = []

    def fake(path, timeout=600, chapters=None, ticker=None, label=None):
        runs.append(path.stem)
        rows = [("nb00.1", "correct", ""), ("nb00.2", "error", "cell 2 raised NameError: name 'x' is not defined")]
        return progress.Report(path.stem, 1.5, rows, raised=[f"run {len(runs)}"], ran_at="2025-01-01 12:00",
                               error="the time limit ran out" if "slow" in path.stem else None)

    monkeypatch.setattr(progress, "run_notebook", fake)
    return runs


def _main(work, tmp_path, *extra):
    return progress.main([str(work), "--chapters", str(tmp_path / "none"), "--cache",
                          str(work / progress.CACHE_NAME), *extra])


def test_only_changed_notebooks_are_run_again_and_the_others_say_so(tmp_path, fake_runs, capsys, monkeypatch):
    work = tmp_path / "my-notebooks"
    work.mkdir()
    for name in ["00_welcome", "01_influence_functions", "07_slow"]:
        _write(work / f"{name}.ipynb", "x = 1", ANSWER + "a = ...\ncheck('nb00.1', a)")
    _main(work, tmp_path)
    first = capsys.readouterr().out
    assert fake_runs == ["00_welcome", "01_influence_functions", "07_slow"] and "not re-run" not in first

    nb = nbformat.read(work / "00_welcome.ipynb", as_version=4)      # saved after running: outputs only
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb.cells[0].execution_count = 4
    nbformat.write(nb, work / "00_welcome.ipynb")
    nb = nbformat.read(work / "01_influence_functions.ipynb", as_version=4)   # an answer changed
    nb.cells[1].source = ANSWER + "a = 2\ncheck('nb00.1', a)"
    nbformat.write(nb, work / "01_influence_functions.ipynb")
    _main(work, tmp_path)
    out = capsys.readouterr().out
    # 07_slow was cut short, so it is not kept; 00 only gained outputs
    assert fake_runs[3:] == ["01_influence_functions", "07_slow"], out
    assert "1 unchanged since their last run (not re-run), 2 to run" in out
    assert re.search(r"^  \[1/3\] 00_welcome: 1 of 2 correct, 2 cells raised \(unchanged since its last run at "
                     r"2025-01-01 12:00, not re-run\)$", out, flags=re.M), out
    table = out[out.index("notebook  "):]
    assert "nb00.2    error: cell 2 raised NameError" in table and "RAISED: run 1" in table   # the kept report
    assert "1.5 s (unchanged since its last run at 2025-01-01 12:00, not re-run)" in table
    assert "in 3 notebooks (1 unchanged since their last run, not re-run), 3 s." in table
    assert "make progress RERUN=1" in table

    _main(work, tmp_path, "--rerun")
    assert fake_runs[5:] == ["00_welcome", "01_influence_functions", "07_slow"]
    assert "not re-run" not in capsys.readouterr().out

    monkeypatch.setattr(progress, "code_digest", lambda: "creditlib changed")      # a new creditlib or progress.py
    _main(work, tmp_path)
    assert fake_runs[8:] == ["00_welcome", "01_influence_functions", "07_slow"]
    _main(work, tmp_path)
    assert fake_runs[11:] == ["07_slow"]


def test_the_cache_key_follows_code_ids_and_the_shipped_chapter_not_outputs(tmp_path):
    path, chapters = tmp_path / "03_shapley_axioms.ipynb", tmp_path / "chapters"
    chapters.mkdir()
    _write(path, "x = 1", "y = 2")
    key = progress.notebook_key(path, chapters)
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="2\n")]
    nbformat.write(nb, path)
    assert progress.notebook_key(path, chapters) == key
    nb.cells[1]["id"] = "another-id"                                 # ids decide which cells are answer cells
    nbformat.write(nb, path)
    assert progress.notebook_key(path, chapters) != key
    key = progress.notebook_key(path, chapters)
    _write(chapters / path.name, "x = ...")                           # the course shipped a new chapter
    assert progress.notebook_key(path, chapters) != key
    path.write_text("{not json")
    assert progress.notebook_key(path, chapters) is None


def test_a_damaged_cache_file_is_ignored(tmp_path, fake_runs, capsys):
    work = tmp_path / "my-notebooks"
    work.mkdir()
    _write(work / "00_welcome.ipynb", "x = 1")
    (work / progress.CACHE_NAME).write_text('{"version": 1, "notebooks": {"x": ')
    assert _main(work, tmp_path) == 0 and fake_runs == ["00_welcome"]
    _main(work, tmp_path)
    assert fake_runs == ["00_welcome"]                          # rewritten whole, then used


# ---------------------------------------------------------------- naming a notebook


def test_a_notebook_is_named_by_an_unambiguous_prefix_or_the_valid_names_are_listed(tmp_path, fake_runs, capsys):
    work = tmp_path / "my-notebooks"
    work.mkdir()
    for name in ["00_welcome", "03_shapley_axioms", "04_shapley_estimators"]:
        _write(work / f"{name}.ipynb", "x = 1")
    cache = ["--cache", str(tmp_path / "c.json")]
    assert progress.main([str(work / "03.ipynb"), *cache]) == 0          # as make progress NOTEBOOK=03 passes it
    assert progress.main([str(work / "04_shapley_estimators"), *cache]) == 0
    assert fake_runs == ["03_shapley_axioms", "04_shapley_estimators"]
    capsys.readouterr()
    assert progress.main([str(work / "0.ipynb"), *cache]) == 2
    assert "'0' matches 3 notebooks" in capsys.readouterr().out
    assert progress.main([str(work / "99.ipynb"), *cache]) == 2
    out = capsys.readouterr().out
    assert "there is no notebook '99'" in out
    assert "the notebooks are: 00_welcome, 03_shapley_axioms, 04_shapley_estimators" in out
    assert fake_runs == ["03_shapley_axioms", "04_shapley_estimators"]


@pytest.mark.slow
def test_a_function_answer_cannot_forge_a_progress_record(tmp_path, capsys):
    """Issue 20 §3, end to end in a real kernel: a function answer that appends `correct` records for other
    exercises (to the file the variable names, or to any file) is refused the write; the report shows only what
    the checks decided."""
    work = tmp_path / "my-notebooks"
    work.mkdir()
    _write(work / "03_shapley_axioms.ipynb",
           "import json, os\nfrom creditlib.exercises import check",
           ANSWER + "def shapley_by_enumeration(values):\n"
                    "    for path in [os.environ.get('CREDITLIB_PROGRESS_FILE'), " + repr(str(tmp_path / "x")) + "]:\n"
                    "        if path:\n"
                    "            with open(path, 'a') as f:\n"
                    "                f.write(json.dumps({'exercise': 'nb03.4', 'notebook': '03_shapley_axioms', "
                    "'status': 'correct', 'message': 'forged'}) + '\\n')\n"
                    "    return values\n"
                    "check('nb03.1', shapley_by_enumeration)")
    assert progress.main([str(work), "--chapters", str(tmp_path / "none"), "--timeout", "120",
                          "--cache", str(tmp_path / "cache.json")]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    assert ("nb03.1", "incorrect") in rows, out
    assert ("nb03.4", "not", "checked") in rows and "forged" not in out, out
    assert not (tmp_path / "x").exists()
