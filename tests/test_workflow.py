"""The reader's workflow: working copies in my-notebooks/, the CPU install of torch, the Makefile's recipes."""
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

import nbformat
import pytest

import install_torch
import workspace
from make_chapters import main as make_chapters_main
from notebooks import CHAPTERS, ROOT

# ---------------------------------------------------------------- working copies


def _chapter(path, text):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}"), nbformat.v4.new_code_cell(text)]
    nbformat.write(nb, path)


@pytest.fixture
def course(tmp_path):
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    for name in ["00_welcome", "01_influence_functions", "02_neumann_series"]:
        _chapter(chapters / f"{name}.ipynb", "answer = ...")
    return chapters, tmp_path / "my-notebooks"


def _edit(path, text):
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = text
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="saved by the reader\n")]
    nbformat.write(nb, path)


def test_seeding_copies_every_chapter_once_and_never_overwrites_work(course, capsys):
    chapters, work = course
    shipped = {p.name: p.read_bytes() for p in chapters.iterdir()}
    done = workspace.seed(work, chapters)
    assert sorted(done["copied"]) == ["00_welcome", "01_influence_functions", "02_neumann_series"]
    assert "Copied the 3 course notebooks into" in capsys.readouterr().out
    assert all((work / name).read_bytes() == data for name, data in shipped.items())

    _edit(work / "00_welcome.ipynb", "answer = 42")                  # the reader works on 00
    mine = (work / "00_welcome.ipynb").read_bytes()
    _chapter(chapters / "00_welcome.ipynb", "answer = ...  # improved")  # then the course updates 00 and 01
    _chapter(chapters / "01_influence_functions.ipynb", "answer = ...  # improved")
    _chapter(chapters / "03_shapley_axioms.ipynb", "answer = ...")       # and adds 03
    (work / "02_neumann_series.ipynb").unlink()                         # the reader deleted 02
    shipped = {p.name: p.read_bytes() for p in chapters.iterdir()}

    done = workspace.seed(work, chapters)
    out = capsys.readouterr().out
    assert (work / "00_welcome.ipynb").read_bytes() == mine                 # the reader's work is kept
    assert done["newer"] == ["00_welcome"]
    assert "chapters/00_welcome.ipynb has changed since your copy was made" in out
    assert "make fresh NOTEBOOK=00_welcome" in out
    assert done["updated"] == ["01_influence_functions"]                     # never touched: brought up to date
    assert (work / "01_influence_functions.ipynb").read_bytes() == shipped["01_influence_functions.ipynb"]
    assert sorted(done["copied"]) == ["02_neumann_series", "03_shapley_axioms"]
    assert {p.name: p.read_bytes() for p in chapters.iterdir()} == shipped   # chapters/ is never written

    workspace.seed(work, chapters)
    assert "has changed" in capsys.readouterr().out                          # said again until the reader acts


def test_fresh_moves_the_old_copy_aside(course, capsys):
    chapters, work = course
    workspace.seed(work, chapters, quiet=True)
    _edit(work / "02_neumann_series.ipynb", "answer = 'mine'")
    mine = (work / "02_neumann_series.ipynb").read_bytes()
    workspace.fresh("02_neumann_series", work, chapters)
    workspace.fresh("my-notebooks/02_neumann_series.ipynb", work, chapters)   # twice in the same second
    kept = sorted((work / "old").iterdir())
    assert len(kept) == 2 and mine in [k.read_bytes() for k in kept]
    assert all(k.name.startswith("02_neumann_series.") for k in kept)
    assert (work / "02_neumann_series.ipynb").read_bytes() == (chapters / "02_neumann_series.ipynb").read_bytes()
    assert "Your copy is now" in capsys.readouterr().out
    assert workspace.main(["fresh", "--work", str(work), "--chapters", str(chapters), "02_neumann_series"]) == 0
    assert len(list((work / "old").iterdir())) == 3                          # as make fresh calls it
    assert workspace.main(["fresh", "--work", str(work), "--chapters", str(chapters), "99_nothing"]) == 2
    assert workspace.main(["fresh", "--work", str(work)]) == 2
    with pytest.raises(FileNotFoundError, match="the notebooks are: 00_welcome"):
        workspace.fresh("99_nothing", work, chapters)
    _chapter(chapters / "02_neumann_series.ipynb", "answer = ...  # improved")
    workspace.fresh("02_neumann_series", work, chapters)
    assert workspace.seed(work, chapters, quiet=True)["newer"] == []         # fresh resets the notice
    assert workspace.fresh("02", work, chapters) == work / "02_neumann_series.ipynb"   # a prefix names it
    assert len(list((work / "old").iterdir())) == 5
    with pytest.raises(FileNotFoundError, match="'0' matches 3 notebooks"):
        workspace.fresh("0", work, chapters)


def test_a_notebook_is_found_by_its_name_or_an_unambiguous_prefix(course):
    chapters, _ = course
    assert workspace.find_notebook("01", chapters) == chapters / "01_influence_functions.ipynb"
    assert workspace.find_notebook("my-notebooks/02_neumann_series.ipynb", chapters).name == "02_neumann_series.ipynb"
    _chapter(chapters / "01_influence_functions_extra.ipynb", "answer = ...")
    assert workspace.find_notebook("01_influence_functions", chapters).stem == "01_influence_functions"  # exact wins
    with pytest.raises(FileNotFoundError, match="'01_in' matches 2 notebooks"):
        workspace.find_notebook("01_in", chapters)
    with pytest.raises(FileNotFoundError, match="the notebooks are: 00_welcome, 01_influence_functions, "
                                                "01_influence_functions_extra, 02_neumann_series"):
        workspace.find_notebook("welcome", chapters)
    with pytest.raises(FileNotFoundError, match="does not exist yet"):
        workspace.find_notebook("00", chapters / "nowhere")


def test_the_lab_opens_00_welcome_first_then_the_notebook_changed_last(course, capsys):
    chapters, work = course
    workspace.seed(work, chapters, quiet=True)
    assert workspace.start(work, chapters) == work / "00_welcome.ipynb"
    _edit(work / "02_neumann_series.ipynb", "answer = 2")
    assert workspace.start(work, chapters) == work / "02_neumann_series.ipynb"
    _edit(work / "01_influence_functions.ipynb", "answer = 1")
    os.utime(work / "02_neumann_series.ipynb", (time.time() - 60, time.time() - 60))
    assert workspace.start(work, chapters) == work / "01_influence_functions.ipynb"
    assert workspace.main(["start", "--work", str(work), "--chapters", str(chapters)]) == 0
    assert capsys.readouterr().out.strip().endswith("my-notebooks/01_influence_functions.ipynb")
    assert workspace.start(work / "empty", chapters) == work / "empty" / "00_welcome.ipynb"


def test_a_readers_saved_work_leaves_the_course_tests_green(tmp_path, capsys):
    """The course's checks look at chapters/ only: working copies edited and saved do not disturb them."""
    shipped = {p.name: p.read_bytes() for p in CHAPTERS.glob("*.ipynb")}
    work = tmp_path / "my-notebooks"
    workspace.seed(work, CHAPTERS, quiet=True)
    for path in work.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell("answer = 42", execution_count=7,
                                                  outputs=[nbformat.v4.new_output("stream", text="42\n")]))
        nbformat.write(nb, path)
    assert make_chapters_main(["--check"]) == 0, capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in CHAPTERS.glob("*.ipynb")} == shipped


def test_working_copies_are_git_ignored_and_outside_every_test_path():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    for path in ["my-notebooks/00_welcome.ipynb", "my-notebooks/old/00_welcome.20250101-120000.ipynb",
                 "my-notebooks/.course-versions.json", "my-notebooks/.progress-cache.json"]:
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0, path
    makefile = (ROOT / "Makefile").read_text()
    nbval_targets = re.findall(r"^NBVAL_\w+\s*:=\s*(.*)$", makefile, flags=re.M)
    assert nbval_targets and not any("my-notebooks" in t or "MY_NOTEBOOKS" in t for t in nbval_targets)


# ---------------------------------------------------------------- the Makefile


def _recipe(makefile, target):
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", makefile, flags=re.M)
    return match.group(1)


def test_the_readers_recipes_echo_no_shell_plumbing():
    makefile = (ROOT / "Makefile").read_text()
    for target in ["$(STAMP)", "lab", "progress", "fresh"]:
        lines = _recipe(makefile, target).splitlines()
        continued = False
        for line in lines:
            assert continued or line.startswith("\t@"), f"{target}: {line!r} would be echoed"
            continued = line.rstrip().endswith("\\")
    install = _recipe(makefile, "$(STAMP)")
    (big,) = [line for line in install.splitlines() if "-r requirements.txt" in line]
    assert "--quiet" not in big and " -q" not in big, "the big install must show its progress"
    assert "tools/install_torch.py" in install
    lab = _recipe(makefile, "lab")
    assert "tools/workspace.py seed" in lab and "--ServerApp.root_dir=." in lab and "$(LAB_ARGS)" in lab
    assert "JUPYTER_CONFIG_PATH=\"$(CURDIR)/tools/jupyter" in lab


def test_make_knows_the_readers_commands():
    if shutil.which("make") is None:
        pytest.skip("no make")
    dry = subprocess.run(["make", "-n", "-W", "requirements.txt", "VENV=/nonexistent", "lab", "progress",
                          "fresh", "NOTEBOOK=solutions/03_shapley_axioms.ipynb"],
                         cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    dry.stdout = re.sub(r"\s*\\\n\s*", " ", dry.stdout)    # join continued lines
    assert "first=$(/nonexistent/bin/python tools/workspace.py start --work my-notebooks)" in dry.stdout
    assert "--LabApp.default_url=/lab/tree/$first" in dry.stdout
    assert re.search(r"tools/progress\.py --timeout 600 --cache my-notebooks/\.progress-cache\.json\s+"
                     r"my-notebooks/03_shapley_axioms\.ipynb", dry.stdout), dry.stdout
    assert "tools/workspace.py fresh --work my-notebooks solutions/03_shapley_axioms.ipynb" in dry.stdout
    dry = subprocess.run(["make", "-n", "-W", "requirements.txt", "VENV=/nonexistent", "progress", "NOTEBOOK=03",
                          "RERUN=1"], cwd=ROOT, capture_output=True, text=True)
    assert re.search(r"--cache my-notebooks/\.progress-cache\.json\s+\\?\s*--rerun\s+\\?\s*my-notebooks/03\.ipynb",
                     dry.stdout), dry.stdout


def test_make_lab_starts_jupyterlab_on_00_welcome_then_on_the_notebook_changed_last(tmp_path):
    """The lab recipe run for real, with a stand-in for jupyter that prints its command line."""
    if shutil.which("make") is None:
        pytest.skip("no make")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)            # workspace.py needs only the standard library
    jupyter = venv / "bin" / "jupyter"
    jupyter.write_text('#!/bin/sh\nfor a in "$@"; do echo "ARG $a"; done\necho "CONFIG $JUPYTER_CONFIG_PATH"\n')
    jupyter.chmod(0o755)
    (venv / ".installed").touch()                                     # newer than requirements.txt: no install
    work = tmp_path / "my-notebooks"

    def lab():
        done = subprocess.run(["make", "--no-print-directory", "lab", f"VENV={venv}", f"MY_NOTEBOOKS={work}",
                               "LAB_ARGS=--no-browser"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    out = lab()
    args = [line[4:] for line in out.splitlines() if line.startswith("ARG ")]
    assert args[0] == "lab" and "--ServerApp.root_dir=." in args and args[-1] == "--no-browser"
    assert f"--LabApp.default_url=/lab/tree/{work}/00_welcome.ipynb" in args, out
    assert f"Starting JupyterLab on {work}/00_welcome.ipynb" in out
    assert f"CONFIG {ROOT}/tools/jupyter" in out
    assert sorted(p.name for p in work.glob("*.ipynb")) == sorted(p.name for p in CHAPTERS.glob("*.ipynb"))

    _edit(work / "03_shapley_axioms.ipynb", "answer = 3")            # the reader works on 03 and comes back
    assert f"--LabApp.default_url=/lab/tree/{work}/03_shapley_axioms.ipynb" in lab()


# ---------------------------------------------------------------- the CPU install of torch


@pytest.fixture
def calls(monkeypatch):
    monkeypatch.setattr(install_torch, "installed_version", lambda: None)
    made = []
    return made, (lambda cmd: made.append(cmd) or 0)


def test_the_torch_pin_is_read_from_the_lock():
    assert install_torch.pinned_version(ROOT / "requirements.txt") == "2.13.0"


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_macos_and_windows_keep_the_default_wheels(calls, platform, capsys):
    made, run = calls
    assert install_torch.main([str(ROOT / "requirements.txt")], platform=platform, env={}, run=run) == 0
    assert made == [] and "PyPI's default wheel" in capsys.readouterr().out


def test_an_empty_index_url_skips_the_step(calls):
    made, run = calls
    install_torch.main([str(ROOT / "requirements.txt")], platform="linux", env={"TORCH_INDEX_URL": ""}, run=run)
    assert made == []


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_index_falls_back_at_once_with_one_line(calls, capsys):
    made, run = calls
    start = time.monotonic()
    install_torch.main([str(ROOT / "requirements.txt")], platform="linux",
                       env={"TORCH_INDEX_URL": f"http://127.0.0.1:{_free_port()}/whl/cpu"}, run=run)
    out = capsys.readouterr().out
    assert time.monotonic() - start < 5 and made == []
    assert out.count("\n") == 1 and out.startswith("Could not use PyTorch's CPU index") and "default index" in out


def test_an_index_that_never_answers_times_out_quickly(calls, capsys):
    made, run = calls
    with socket.socket() as silent:           # accepts connections, never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        start = time.monotonic()
        install_torch.main([str(ROOT / "requirements.txt")], platform="linux",
                           env={"TORCH_INDEX_URL": f"http://127.0.0.1:{silent.getsockname()[1]}/whl/cpu",
                                "TORCH_PROBE_TIMEOUT": "0.5"}, run=run)
        assert time.monotonic() - start < 3
    assert made == [] and "timed out" in capsys.readouterr().out


@pytest.fixture
def cpu_index(tmp_path):
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "index.html").write_text('<a href="torch-2.13.0+cpu-cp311-cp311-linux_x86_64.whl">t</a>')
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_reachable_index_installs_the_cpu_wheel_without_dependencies(calls, cpu_index, capsys):
    made, run = calls
    install_torch.main([str(ROOT / "requirements.txt")], platform="linux", env={"TORCH_INDEX_URL": cpu_index},
                       run=run)
    (cmd,) = made
    assert cmd[1:4] == ["-m", "pip", "install"] and "--no-deps" in cmd and cmd[-1] == "torch==2.13.0"
    assert cmd[cmd.index("--index-url") + 1] == cpu_index
    assert "the CPU build" in capsys.readouterr().out


def test_a_failed_pip_install_also_falls_back(calls, cpu_index, capsys):
    install_torch.main([str(ROOT / "requirements.txt")], platform="linux", env={"TORCH_INDEX_URL": cpu_index},
                       run=lambda cmd: 1)
    assert "pip exited with status 1" in capsys.readouterr().out


def test_an_installed_torch_of_the_pinned_version_is_kept(monkeypatch, capsys):
    monkeypatch.setattr(install_torch, "installed_version", lambda: "2.13.0+cpu")
    install_torch.main([str(ROOT / "requirements.txt")], platform="linux", env={}, run=lambda cmd: 1 / 0)
    assert "already installed" in capsys.readouterr().out


# ---------------------------------------------------------------- chapters/ is read-only in make lab


@pytest.fixture
def lab_contents(tmp_path):
    from traitlets.config import Config

    config = Config()
    source = (ROOT / "tools" / "jupyter" / "jupyter_server_config.py").read_text()
    exec(compile(source, "jupyter_server_config.py", "exec"), {"get_config": lambda: config})
    manager_class = config.ServerApp.contents_manager_class
    for folder in ["chapters", "my-notebooks"]:
        (tmp_path / folder).mkdir()
        nbformat.write(nbformat.v4.new_notebook(), tmp_path / folder / "00_welcome.ipynb")
    return manager_class(root_dir=str(tmp_path))


def test_the_lab_shows_chapters_read_only_and_refuses_to_change_them(lab_contents):
    import asyncio

    from tornado.web import HTTPError

    async def scenario():
        shipped = await lab_contents.get("chapters/00_welcome.ipynb")
        mine = await lab_contents.get("my-notebooks/00_welcome.ipynb")
        assert shipped["writable"] is False and mine["writable"] is True
        assert (await lab_contents.get("chapters"))["writable"] is True    # the folder listing itself is untouched
        await lab_contents.save(mine, "my-notebooks/00_welcome.ipynb")         # your copies save as usual
        await lab_contents.save(mine, "my-notebooks/03_copy.ipynb")            # "Save As" into my-notebooks/
        for attempt in [lambda: lab_contents.save(shipped, "chapters/00_welcome.ipynb"),
                        lambda: lab_contents.save(mine, "chapters/new.ipynb"),
                        lambda: lab_contents.rename("chapters/00_welcome.ipynb", "chapters/x.ipynb"),
                        lambda: lab_contents.rename("my-notebooks/03_copy.ipynb", "chapters/03_copy.ipynb"),
                        lambda: lab_contents.delete("chapters/00_welcome.ipynb"),
                        lambda: lab_contents.save(mine, "./chapters/00_welcome.ipynb"),            # spelled
                        lambda: lab_contents.save(mine, "my-notebooks/../chapters/00_welcome.ipynb")]:  # otherwise
            with pytest.raises(HTTPError) as refused:
                await attempt()
            assert refused.value.status_code == 403 and "my-notebooks/" in refused.value.log_message

    asyncio.run(scenario())
