"""solutions/ is the single source; chapters/ must match it exactly and must not leak solutions."""
import ast
import re

import pytest

from creditlib.exercises import list_exercises
from make_chapters import BEGIN, END, assigned_names, strip_solutions
from make_chapters import main as make_chapters_main
from notebooks import CHAPTERS, read, solution_notebooks

PLAN = ["00_welcome", "01_influence_functions", "02_neumann_series", "03_shapley_axioms",
        "04_shapley_estimators", "05_datamodels", "06_saliency", "07_limitations",
        "08_credit_side_by_side"]
SOLUTION_NOTEBOOKS = solution_notebooks()
CHECK_CALL = re.compile(r"""check\(\s*["']([^"']+)["']""")


def test_the_planned_notebooks_exist_in_both_folders():
    assert [p.stem for p in SOLUTION_NOTEBOOKS] == PLAN
    assert sorted(p.stem for p in CHAPTERS.glob("*.ipynb")) == PLAN


def test_chapters_are_in_sync_with_solutions(capsys):
    assert make_chapters_main(["--check"]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("path", sorted(CHAPTERS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_chapter_has_no_solution_markers_cells_or_outputs(path):
    text = path.read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    for cell in read(path).cells:
        assert "solution" not in cell.get("metadata", {}).get("tags", [])
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.stem)
def test_solution_cells_were_all_executed(path):
    """nbval never compares a cell whose execution_count is null: every code cell must have run."""
    for index, cell in enumerate(read(path).cells):
        if cell.cell_type == "code" and cell.source.strip():
            assert cell.execution_count is not None, f"{path.name} cell {index} was not executed (make solutions)"
            for output in cell.outputs:
                assert output.output_type != "error", f"{path.name} cell {index} stored an error"


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.stem)
def test_solutions_were_refreshed_by_the_tool(path):
    """tools/run_solutions.py merges stream chunks so stored notebooks do not churn from run to run."""
    for index, cell in enumerate(read(path).cells):
        outputs = cell.get("outputs", [])
        for first, second in zip(outputs, outputs[1:]):
            assert not (first.output_type == second.output_type == "stream" and first.name == second.name), \
                f"{path.name} cell {index}: unmerged stream chunks; refresh with `make solutions`"


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opens_with_title_and_what_it_covers(path):
    cells = read(path).cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    opening = "\n".join(c.source for c in cells[:2] if c.cell_type == "markdown")
    assert "covers" in opening


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.stem)
def test_no_svg_figures_in_stored_outputs(path):
    """nbval compares image/svg+xml, which changes on every run: figures must be PNG."""
    for cell in read(path).cells:
        for output in cell.get("outputs", []):
            assert "image/svg+xml" not in output.get("data", {})


def test_every_checked_id_is_registered_and_every_exercise_is_posed():
    used = {}
    for path in SOLUTION_NOTEBOOKS:
        for cell in read(path).cells:
            if cell.cell_type == "code":
                for exercise_id in CHECK_CALL.findall(cell.source):
                    used.setdefault(exercise_id, path.stem)
    registered = {ex.id: ex.notebook for ex in list_exercises()}
    assert set(used) <= set(registered), f"unregistered ids in notebooks: {set(used) - set(registered)}"
    unposed = {i for i in registered if i not in used}
    assert not unposed, f"exercises registered but never checked in a notebook: {unposed}"
    for exercise_id, notebook in used.items():
        assert registered[exercise_id] == notebook, f"{exercise_id} is registered for {registered[exercise_id]}"


def _answer_names_and_chapter_code(nb):
    """Names assigned by top-level solution blocks, and each code cell as the reader gets it (stubs in place)."""
    answers, cells = set(), []
    for cell in nb.cells:
        if cell.cell_type != "code" or "solution" in cell.get("metadata", {}).get("tags", []):
            continue
        block = None
        for line in cell.source.splitlines():
            if BEGIN.match(line):
                block = [] if not BEGIN.match(line)["indent"] else None   # function bodies stay local
            elif END.match(line):
                answers.update(assigned_names("\n".join(block)) if block is not None else [])
                block = None
            elif block is not None:
                block.append(line)
        cells.append(strip_solutions(cell.source))
    return answers, cells


def _uses_of_answers(nb) -> list[tuple[int, list[str]]]:
    answers, cells = _answer_names_and_chapter_code(nb)
    found = []
    for index, source in enumerate(cells):
        tree = ast.parse(source)
        inside_check = {id(n) for call in ast.walk(tree) if isinstance(call, ast.Call)
                        and getattr(call.func, "id", None) == "check" for n in ast.walk(call)}
        used = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                       and n.id in answers and id(n) not in inside_check})
        if used:
            found.append((index, used))
    return found


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.stem)
def test_later_cells_never_use_the_readers_answers(path):
    """In chapters/ an answer is still `...`: outside check(...) no cell may compute with it."""
    assert _uses_of_answers(read(path)) == [], f"{path.name}: cells compute with the reader's answers"


def test_the_answer_use_check_catches_a_leak():
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("# BEGIN SOLUTION\nr = 3\n# END SOLUTION\ncheck('x', r)"),
                nbformat.v4.new_code_cell("def f(a):\n    # BEGIN SOLUTION\n    b = a\n    return b\n    # END SOLUTION\n"),
                nbformat.v4.new_code_cell("print(r + 1, check('x', f))")]
    assert _uses_of_answers(nb) == [(2, ["r"])]
