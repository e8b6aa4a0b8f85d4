"""`make progress`: check records its results, and the runner turns a reader's notebooks into one table."""
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
           "print('about to fail')\nundefined_name + 1",
           ANSWER + "voting_dividends = ...\ncheck('nb03.5', voting_dividends)")
    _write(work / "08_scratch.ipynb", "x = 1")               # a notebook with no registered exercises
    return work


def test_progress_reports_a_working_copy_with_a_mix_of_answers(working_copy, tmp_path, capsys):
    snapshot = {p.name: p.read_bytes() for p in working_copy.iterdir()}
    assert progress.main([str(working_copy), "--chapters", str(tmp_path / "none"), "--timeout", "120"]) == 0
    out = capsys.readouterr().out
    rows = {tuple(line.split()[-3:]) if "not" in line else tuple(line.split()[-2:])
            for line in out.splitlines()}
    for exercise, status in [("nb00.1", "correct"), ("nb00.2", "incorrect"), ("nb00.3", "not attempted"),
                             ("nb03.2", "invalid"), ("nb03.5", "not reached"), ("nb03.3", "not reached")]:
        assert tuple([exercise] + status.split()) in rows, out
    assert 'STOPPED: cell 3 of 4 ("print(\'about to fail\')") raised NameError' in out
    assert re.search(r"^08_scratch +- +no exercises", out, flags=re.M), out
    n03 = len(list_exercises("03_shapley_axioms"))                  # nb03.2 is answered, the rest not reached
    assert (f"Total: 1 of {3 + n03} exercises correct (1 correct, 1 incorrect, 1 invalid, 1 not attempted, "
            f"{n03 - 1} not reached)") in out
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
