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


def test_run_solutions_merges_stream_chunks():
    from run_solutions import merge_streams

    out = [nbformat.v4.new_output("stream", name="stdout", text="a"),
           nbformat.v4.new_output("stream", name="stdout", text="b\n"),
           nbformat.v4.new_output("stream", name="stderr", text="warn\n"),
           nbformat.v4.new_output("display_data", data={"text/plain": "x"}),
           nbformat.v4.new_output("stream", name="stdout", text="c\n")]
    merged = merge_streams(out)
    assert [o.get("text") for o in merged] == ["ab\n", "warn\n", None, "c\n"]
