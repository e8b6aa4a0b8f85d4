"""solutions/ is the single source; chapters/ must match it exactly and must not leak solutions."""
import ast
import re

import pytest

from creditlib.exercises import list_exercises
from creditlib.exercises.checker.verdicts import CORRECT, STATUSES
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


# ---- Stored verdicts: a shipped solution never grades its own answer wrong -------------------------------------
FEEDBACK_TAG = "shows-feedback"
"""Tag of a code cell that checks a wrong answer on purpose, to show the reader what feedback looks like."""
_ID = r"(nb\d\d\.\d+|10\.\d+\.\d+[a-z]?)"
_STATUS = "|".join(sorted(STATUSES, key=len, reverse=True))
VERDICT_SHOWN = [re.compile(rf"\[{_ID}\] ({_STATUS}):"),              # str(verdict), print(verdict)
                 re.compile(rf"\*\*{_ID} — ({_STATUS})\.\*\*")]       # verdict._repr_markdown_()


def _output_texts(output) -> list[str]:
    data = output.get("data", {})
    return [output.get("text", ""), data.get("text/plain", ""), data.get("text/markdown", "")]


def stored_verdicts(nb) -> list[tuple[int, str, str, bool]]:
    """(cell index, exercise id, status, on purpose?) for every verdict stored in a notebook's outputs."""
    found = []
    for index, cell in enumerate(nb.cells):
        on_purpose = FEEDBACK_TAG in cell.get("metadata", {}).get("tags", [])
        for output in cell.get("outputs", []):
            shown = {}                                   # one verdict is shown as text and as markdown
            for text in _output_texts(output):
                for pattern in VERDICT_SHOWN:
                    for exercise_id, status in pattern.findall(text):
                        shown.setdefault((index, exercise_id, status, on_purpose))
            found += shown
    return found


def wrong_stored_verdicts(nb) -> list[str]:
    """Stored verdicts that are not `correct` in cells not tagged as showing feedback, and tagged cells that
    show no wrong verdict (a tag must not outlive its purpose)."""
    verdicts = stored_verdicts(nb)
    wrong = [f"cell {i}: [{ex}] {status}" for i, ex, status, on_purpose in verdicts
             if status != CORRECT and not on_purpose]
    tagged = {i for i, cell in enumerate(nb.cells) if FEEDBACK_TAG in cell.get("metadata", {}).get("tags", [])}
    shown = {i for i, _, status, _ in verdicts if status != CORRECT}
    wrong += [f"cell {i}: tagged {FEEDBACK_TAG!r} but shows no wrong verdict" for i in sorted(tagged - shown)]
    return wrong


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.stem)
def test_every_stored_verdict_is_correct(path):
    """A worked solution's check stores `correct`; only cells tagged `shows-feedback` store other verdicts."""
    assert wrong_stored_verdicts(read(path)) == [], f"{path.name}: stored verdicts that are not `correct`"


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.stem)
def test_every_check_call_stores_its_verdict(path):
    """A check whose verdict is not stored cannot be held to `correct`: each cell that calls check("id", ...)
    stores a verdict for that id."""
    nb = read(path)
    shown = {(i, ex) for i, ex, _, _ in stored_verdicts(nb)}
    missing = [f"cell {i}: {ex}" for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
               for ex in CHECK_CALL.findall(cell.source) if (i, ex) not in shown]
    assert missing == [], f"{path.name}: checks whose verdict is not in the stored outputs"


def test_the_verdict_test_catches_a_wrong_verdict_and_a_stale_tag():
    import nbformat
    from creditlib.exercises.checker.verdicts import Verdict

    def cell_showing(verdict, tags=()):
        cell = nbformat.v4.new_code_cell("check(...)", metadata={"tags": list(tags)})
        cell.outputs = [nbformat.v4.new_output("execute_result", data={
            "text/plain": str(verdict), "text/markdown": verdict._repr_markdown_()})]
        return cell

    nb = nbformat.v4.new_notebook()
    nb.cells = [cell_showing(Verdict(CORRECT, "Correct.", "nb04.2")),
                cell_showing(Verdict("incorrect", "differs at B = 9/2.", "nb04.2")),
                cell_showing(Verdict("undecided", "could not decide.", "10.5.2a"), tags=[FEEDBACK_TAG]),
                cell_showing(Verdict(CORRECT, "Correct.", "nb00.1"), tags=[FEEDBACK_TAG])]
    nb.cells.append(nbformat.v4.new_code_cell("print(check('nb00.2', 1))"))
    nb.cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                   text=str(Verdict("invalid", "a float.", "nb00.2")) + "\n")]
    assert wrong_stored_verdicts(nb) == ["cell 1: [nb04.2] incorrect", "cell 4: [nb00.2] invalid",
                                         "cell 3: tagged 'shows-feedback' but shows no wrong verdict"]


# ---- Exercise symbols: a later cell must not rebind the name an answer is written in -----------------------------
SYMBOLS_MODULE = "creditlib.exercises.symbols"
_NEW_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
               ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def top_level_bindings(tree: ast.AST) -> list[tuple[str, int]]:
    """(name, line) of every name a cell binds in the notebook's global namespace: assignments, loop and `with`
    targets, imports, definitions, `except ... as`, `del`, and walrus targets (also inside comprehensions)."""
    bound: list[tuple[str, int]] = []

    def targets(node):
        if isinstance(node, ast.Name):
            bound.append((node.id, node.lineno))
        elif isinstance(node, (ast.Tuple, ast.List)):
            for element in node.elts:
                targets(element)
        elif isinstance(node, ast.Starred):
            targets(node.value)

    def visit(node, top: bool):
        if isinstance(node, (ast.Assign, ast.Delete)):
            for target in getattr(node, "targets", []):
                targets(target) if top else None
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)) and top:
            targets(node.target)
        elif isinstance(node, ast.withitem) and top and node.optional_vars is not None:
            targets(node.optional_vars)
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and top:
            if not (isinstance(node, ast.ImportFrom) and node.module == SYMBOLS_MODULE):
                bound.extend(((a.asname or a.name).split(".")[0], node.lineno) for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and top and node.name:
            bound.append((node.name, node.lineno))
        elif isinstance(node, ast.NamedExpr):              # binds in the enclosing function or the notebook
            targets(node.target) if top or isinstance(scope_of[id(node)], _COMPREHENSIONS) else None
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and top:
            bound.append((node.name, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child, top and not isinstance(node, _NEW_SCOPES))

    _COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
    scope_of: dict[int, ast.AST] = {}
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            scope_of[id(child)] = parent
    visit(tree, True)
    return bound


def symbol_rebindings(nb) -> list[str]:
    """Cells that rebind, after it was imported, a name bound to an exercise symbol (`for k in range(11)` after
    `from creditlib.exercises.symbols import k` turns every later answer written in k into one in 10)."""
    symbols: dict[str, int] = {}                  # local name -> cell that imported it
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        for name, line in top_level_bindings(tree):
            if name in symbols:
                found.append(f"cell {index}, line {line}: rebinds {name!r}, imported from {SYMBOLS_MODULE} "
                             f"in cell {symbols[name]}")
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == SYMBOLS_MODULE:
                symbols.update({a.asname or a.name: index for a in node.names})
    return found


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.stem)
def test_no_cell_rebinds_an_exercise_symbol(path):
    """An answer written in `k` must mean the symbol k: no cell after the import binds the name to anything else."""
    assert symbol_rebindings(read(path)) == [], f"{path.name}: rename these variables"


def test_the_rebinding_lint_catches_every_kind_of_binding():
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from creditlib.exercises.symbols import B, N, k, p as p_"),
                nbformat.v4.new_code_cell("for k in range(11):\n    pass"),
                nbformat.v4.new_code_cell("def f(N):\n    k = 2\n    return [p_ for p_ in range(3)]\n"
                                          "xs = [k for k in range(3)]\nB2 = 1"),
                nbformat.v4.new_code_cell("N, (a, *B) = 1, (2, 3)\nwith open('f') as p_:\n    pass"),
                nbformat.v4.new_code_cell("ys = [(k := j) for j in range(2)]\nimport numpy as N"),
                nbformat.v4.new_code_cell("def k():\n    pass\ntry:\n    pass\nexcept ValueError as B:\n    pass")]
    assert symbol_rebindings(nb) == [
        "cell 1, line 1: rebinds 'k', imported from creditlib.exercises.symbols in cell 0",
        "cell 3, line 1: rebinds 'N', imported from creditlib.exercises.symbols in cell 0",
        "cell 3, line 1: rebinds 'B', imported from creditlib.exercises.symbols in cell 0",
        "cell 3, line 2: rebinds 'p_', imported from creditlib.exercises.symbols in cell 0",
        "cell 4, line 1: rebinds 'k', imported from creditlib.exercises.symbols in cell 0",
        "cell 4, line 2: rebinds 'N', imported from creditlib.exercises.symbols in cell 0",
        "cell 5, line 1: rebinds 'k', imported from creditlib.exercises.symbols in cell 0",
        "cell 5, line 5: rebinds 'B', imported from creditlib.exercises.symbols in cell 0"]


def _id_key(exercise_id: str) -> tuple:
    """nb04.10 after nb04.9; 10.5.1b after 10.5.1a."""
    return tuple(int(part) if part.isdigit() else part for part in re.findall(r"\d+|[a-z]+", exercise_id))


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises_are_numbered_in_the_order_they_appear(path):
    """A notebook's exercises are checked in the order of their numbers, and its own ids nbNN.1, nbNN.2, ...
    have no gaps."""
    seen = []
    for cell in read(path).cells:
        if cell.cell_type == "code":
            seen += [i for i in CHECK_CALL.findall(cell.source) if i not in seen and i in REGISTERED]
    own = [i for i in seen if i.startswith("nb")]
    chapters = [i for i in seen if not i.startswith("nb")]
    assert chapters == sorted(chapters, key=_id_key), f"{path.name}: the chapter's problems appear as {chapters}"
    assert own == [f"nb{path.stem[:2]}.{k}" for k in range(1, len(own) + 1)], own


REGISTERED = {ex.id for ex in list_exercises()}


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.stem)
def test_every_model_answer_has_a_place_to_answer_before_it(path):
    """The reader's copy drops a model answer but keeps the `**Your answer.**` cell before it
    (`python tools/answer_cells.py` adds them)."""
    from answer_cells import is_answer_cell, is_model_answer

    cells = read(path).cells
    missing = [i for i, cell in enumerate(cells) if is_model_answer(cell) and not (i and is_answer_cell(cells[i - 1]))]
    assert missing == [], f"{path.name}: model answers without an answer cell before them: cells {missing}"
