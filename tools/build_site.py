#!/usr/bin/env python
"""Build the course website (``make site``): stage its sources in build/site-src, then run Sphinx into build/site.

What is staged (docs/site.md says why):
* ``site/``: conf.py, the landing page, the creditlib page.
* ``chapters/NAME.ipynb``: the reader's notebook, made from ``solutions/NAME.ipynb`` by make_chapters' own
  ``make_chapter(keep_outputs=True)``: the stubs of chapters/, the stored outputs of solutions/ (which nbval checks)
  on every cell without a solution block, no output on the cells with one. Stripped of its outputs it must be
  chapters/NAME.ipynb byte for byte, or the build stops (``make chapters``).
* ``answers/NAME.ipynb``: the worked notebook, solutions/NAME.ipynb with its stored outputs, title prefixed.
* ``_generated/``: the README's table of notebooks and docs/architecture.md's module map, for the pages to include.
* ``api/MODULE.rst``: one autodoc page per public module of creditlib (found by walking the package).
* ``_static/mathjax``: MathJax 3 from the django-static-mathjax wheel, so that pages typeset offline.

``SITE_EXECUTE=1`` instead executes the reader's notebooks with MyST-NB (cached in build/site-cache), then checks
that every cell outside the solution blocks printed what solutions/ stores, under the nbval sanitizers of
tests/nbval_sanitize.cfg: slow (minutes per notebook), the check that the default build's reuse is sound.

Usage: ``python tools/build_site.py [sphinx-build options]``.
"""
from __future__ import annotations

import configparser
import importlib.util
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_chapters import SOLUTION_TAG, has_solution_block, make_chapter  # noqa: E402
from notebooks import CHAPTERS, ROOT, dumps, read, solution_notebooks  # noqa: E402

SITE = ROOT / "site"
SRC = ROOT / "build" / "site-src"
OUT = ROOT / "build" / "site"
ANSWERS_TITLE = "Worked answers · "
LINK = re.compile(r"\[([^\]]+)\]\((?!https?:|#)([^)]+)\)")


class SiteError(RuntimeError):
    """The sources cannot make a sound site."""


def write_if_changed(path: Path, content: str | bytes) -> None:
    """Write only when the content differs, so Sphinx rebuilds only what changed."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def section(text: str, start: str, end: str | None = None) -> str:
    """The lines of ``text`` from the heading ``start`` (included) to the heading ``end`` (excluded)."""
    lines = text.splitlines()
    try:
        first = lines.index(start)
    except ValueError:
        raise SiteError(f"heading {start!r} not found") from None
    last = lines.index(end, first) if end else len(lines)
    return "\n".join(lines[first:last]) + "\n"


def plain_links(markdown: str, folder: str) -> str:
    """Relative links (to files that are not pages of the site) become their repository path in code."""
    return LINK.sub(lambda m: f"{m[1]} (`{os.path.normpath(os.path.join(folder, m[2]))}` in the repository)",
                    markdown)


def check_outputs(nb, name: str) -> None:
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                raise SiteError(f"{name}, cell {index}: a stored error output ({output.get('ename')}).")


def stage_notebooks(execute: bool) -> list[str]:
    names = []
    for path in solution_notebooks():
        solution = read(path)
        check_outputs(solution, f"solutions/{path.name}")
        reader = make_chapter(solution, keep_outputs=not execute)
        chapter = CHAPTERS / path.name
        if not chapter.exists() or dumps(make_chapter(solution)) != chapter.read_text(encoding="utf-8"):
            raise SiteError(f"chapters/{path.name} is out of date with solutions/: run `make chapters`.")
        write_if_changed(SRC / "chapters" / path.name, dumps(reader))
        answers = solution
        first = answers.cells[0]
        if first.cell_type != "markdown" or not first.source.startswith("# "):
            raise SiteError(f"solutions/{path.name} does not open with a title (# ...).")
        first.source = "# " + ANSWERS_TITLE + first.source[2:]
        write_if_changed(SRC / "answers" / path.name, dumps(answers))
        names.append(path.stem)
    for folder in ("chapters", "answers"):
        for stale in (SRC / folder).glob("*.ipynb"):
            if stale.stem not in names:
                stale.unlink()
    return names


def public_modules() -> list[str]:
    """Every module of creditlib whose dotted name has no private part (private ones are re-exported)."""
    import creditlib

    names = ["creditlib"] + [m.name for m in pkgutil.walk_packages(creditlib.__path__, "creditlib.")]
    return [n for n in names if not any(part.startswith("_") for part in n.split("."))]


def stage_api() -> None:
    modules = public_modules()
    for name in modules:
        title = f"``{name}``"
        write_if_changed(SRC / "api" / f"{name}.rst",
                         f"{title}\n{'=' * len(title)}\n\n.. automodule:: {name}\n   :members:\n")
    for stale in (SRC / "api").glob("*.rst"):
        if stale.stem not in modules:
            stale.unlink()


def stage_includes() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = section(readme, "## The notebooks", "## Setup").split("\n", 1)[1]
    write_if_changed(SRC / "_generated" / "notebooks.md", plain_links(table, "."))
    architecture = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    module_map = section(architecture, "## The module map").split("\n", 1)[1]
    write_if_changed(SRC / "_generated" / "module_map.md", plain_links(module_map, "docs"))


def stage_mathjax() -> None:
    spec = importlib.util.find_spec("mathjax")
    folders = spec.submodule_search_locations if spec else None
    es5 = Path(folders[0]) / "static" / "mathjax" / "es5" if folders else None
    if es5 is None or not (es5 / "tex-chtml.js").exists():
        raise SiteError("MathJax not found: install the course environment (django-static-mathjax), `make install`.")
    target = SRC / "_static" / "mathjax"
    if not (target / "tex-chtml.js").exists():
        # tex-chtml.js and what it loads (fonts, extensions, menu); not the other bundles
        def others(folder, names):
            return [n for n in names if Path(folder) == es5 and n.endswith(".js") and n != "tex-chtml.js"]
        shutil.copytree(es5, target, ignore=others, dirs_exist_ok=True)


def sanitizers() -> list[tuple[re.Pattern, str]]:
    """The regex/replace pairs with which nbval compares outputs (tests/nbval_sanitize.cfg)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "tests" / "nbval_sanitize.cfg", encoding="utf-8")
    return [(re.compile(parser[name]["regex"]), parser[name]["replace"]) for name in parser.sections()]


def output_text(cell, rules) -> str:
    """A code cell's outputs as text (streams merged, a figure as <image>), sanitized."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append("<image>" if "image/png" in output.data else output.data.get("text/plain", ""))
        else:
            parts.append(f"<{output.output_type}>")
    text = "".join(parts)
    for regex, replace in rules:
        text = regex.sub(replace, text)
    return text


def compare_executed() -> list[str]:
    """Cells outside the solution blocks whose executed outputs (the cache of SITE_EXECUTE=1) differ from the stored."""
    from jupyter_cache import get_cache

    cache, rules, differences = get_cache(ROOT / "build" / "site-cache"), sanitizers(), []
    for path in solution_notebooks():
        solution = read(path)
        exercise = [has_solution_block(cell.source) for cell in solution.cells if cell.cell_type == "code"
                    and SOLUTION_TAG not in cell.get("metadata", {}).get("tags", [])]
        stored = [cell for cell in make_chapter(solution, keep_outputs=True).cells if cell.cell_type == "code"]
        try:
            record = cache.match_cache_notebook(read(SRC / "chapters" / path.name))
        except KeyError:
            differences.append(f"chapters/{path.name}: not in the execution cache")
            continue
        executed = [cell for cell in cache.get_cache_bundle(record.pk).nb.cells if cell.cell_type == "code"]
        for index, (mine, theirs, answer) in enumerate(zip(stored, executed, exercise)):
            if not answer and output_text(mine, rules) != output_text(theirs, rules):
                differences.append(f"chapters/{path.name}, code cell {index + 1}: stored "
                                   f"{output_text(mine, rules)[:200]!r}, executed {output_text(theirs, rules)[:200]!r}")
    return differences


def stage(execute: bool) -> None:
    SRC.mkdir(parents=True, exist_ok=True)
    for path in SITE.rglob("*"):
        if path.is_file():
            write_if_changed(SRC / path.relative_to(SITE), path.read_bytes())
    stage_notebooks(execute)
    stage_api()
    stage_includes()
    stage_mathjax()


def main(argv: list[str]) -> int:
    execute = os.environ.get("SITE_EXECUTE", "") not in ("", "0")
    try:
        stage(execute)
    except SiteError as error:
        print(f"make site: {error}", file=sys.stderr)
        return 1
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-n", "-q", *argv,
               str(SRC), str(OUT)]
    print(" ".join(command))
    rc = subprocess.call(command, cwd=ROOT)
    if rc == 0 and execute:
        differences = compare_executed()
        for line in differences:
            print(line, file=sys.stderr)
        if differences:
            print(f"make site: {len(differences)} cell(s) print other outputs in the reader's copy than solutions/ "
                  "stores: the default build's pages would be wrong there (docs/site.md).", file=sys.stderr)
            return 1
        print("Every cell outside the solution blocks printed what solutions/ stores (nbval's sanitizers applied).")
    if rc == 0:
        print(f"The site is in {OUT.relative_to(ROOT)}/: open {OUT.relative_to(ROOT)}/index.html")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
