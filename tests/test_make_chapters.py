"""The chapters generator: solution blocks become stubs that run, solution cells vanish, outputs clear."""
import nbformat
import pytest

from make_chapters import MarkerError, assigned_names, make_chapter, strip_solutions


def test_top_level_block_becomes_ellipsis_assignments():
    src = "x = 1\n# BEGIN SOLUTION: a list of two numbers\nanswer = [1, 2]\na, (b, c) = 1, (2, 3)\n# END SOLUTION\ncheck('id', answer)"
    out = strip_solutions(src)
    assert out.splitlines() == ["x = 1", "# YOUR ANSWER HERE: a list of two numbers", "answer = ...", "a = ...",
                                "b = ...", "c = ...", "check('id', answer)"]
    exec(compile(out, "<stub>", "exec"), {"check": lambda *a: None})  # the stub runs


def test_indented_block_becomes_not_implemented():
    src = "def f(x):\n    '''doc'''\n    # BEGIN SOLUTION\n    return x + 1\n    # END SOLUTION\n\nf"
    out = strip_solutions(src)
    assert "return x + 1" not in out and 'raise NotImplementedError' in out
    namespace = {}
    exec(compile(out, "<stub>", "exec"), namespace)
    with pytest.raises(NotImplementedError):
        namespace["f"](1)


@pytest.mark.parametrize("src, fragment", [
    ("# BEGIN SOLUTION\nx = 1", "never closed"),
    ("x = 1\n# END SOLUTION", "without a BEGIN"),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "inside another"),
])
def test_unbalanced_markers_are_errors(src, fragment):
    with pytest.raises(MarkerError, match=fragment):
        strip_solutions(src)


def test_assigned_names_include_functions_and_annotations():
    assert assigned_names("def g(): pass\nz: int = 3\nz += 1\nclass K: pass") == ["g", "z", "K"]


def test_make_chapter_drops_solution_cells_and_clears_outputs():
    nb = nbformat.v4.new_notebook()
    keep = nbformat.v4.new_markdown_cell("intro")
    gone = nbformat.v4.new_markdown_cell("worked proof")
    gone.metadata["tags"] = ["solution"]
    gone_code = nbformat.v4.new_code_cell("print('demo')")
    gone_code.metadata["tags"] = ["solution"]
    code = nbformat.v4.new_code_cell("# BEGIN SOLUTION\ny = 2\n# END SOLUTION\nprint(y)")
    code.execution_count = 3
    code.outputs = [nbformat.v4.new_output("stream", text="2\n")]
    nb.cells = [keep, gone, gone_code, code]
    chapter = make_chapter(nb)
    assert [c.source for c in chapter.cells][:1] == ["intro"] and len(chapter.cells) == 2
    assert chapter.cells[1].outputs == [] and chapter.cells[1].execution_count is None
    assert nb.cells[3].outputs, "the solution notebook itself must not be modified"


def test_the_website_s_reader_copy_keeps_the_outputs_of_cells_without_a_solution_block():
    # make_chapter(keep_outputs=True), for make site: a plain cell keeps its stored output and count, a cell with a
    # solution block shows none (its stored output is the worked answer's verdict), a solution cell still vanishes.
    nb = nbformat.v4.new_notebook()
    plain = nbformat.v4.new_code_cell("print(1 + 1)")
    plain.execution_count = 1
    plain.outputs = [nbformat.v4.new_output("stream", text="2\n")]
    exercise = nbformat.v4.new_code_cell("# BEGIN SOLUTION\nanswer = 7\n# END SOLUTION\ncheck('id', answer)")
    exercise.execution_count = 2
    exercise.outputs = [nbformat.v4.new_output("stream", text="correct\n")]
    worked = nbformat.v4.new_code_cell("print(answer)")
    worked.metadata["tags"] = ["solution"]
    worked.outputs = [nbformat.v4.new_output("stream", text="7\n")]
    nb.cells = [plain, exercise, worked]
    page = make_chapter(nb, keep_outputs=True)
    assert [c.source for c in page.cells] == ["print(1 + 1)",
                                              "# YOUR ANSWER HERE: replace ... with your answer\nanswer = ...\n"
                                              "check('id', answer)"]
    assert [o.text for o in page.cells[0].outputs] == ["2\n"] and page.cells[0].execution_count == 1
    assert page.cells[1].outputs == [] and page.cells[1].execution_count is None
    assert make_chapter(nb).cells[0].outputs == [], "the default (chapters/) still clears every output"


def test_run_solutions_merges_stream_chunks():
    from run_solutions import merge_streams

    out = [nbformat.v4.new_output("stream", name="stdout", text="a"),
           nbformat.v4.new_output("stream", name="stdout", text="b\n"),
           nbformat.v4.new_output("stream", name="stderr", text="warn\n"),
           nbformat.v4.new_output("display_data", data={"text/plain": "x"}),
           nbformat.v4.new_output("stream", name="stdout", text="c\n")]
    merged = merge_streams(out)
    assert [o.get("text") for o in merged] == ["ab\n", "warn\n", None, "c\n"]
