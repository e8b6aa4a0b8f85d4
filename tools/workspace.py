#!/usr/bin/env python
"""Your working copies of the course notebooks, in my-notebooks/ (git-ignored).

``python tools/workspace.py seed`` (``make lab`` and ``make progress`` run it): copies each
``chapters/*.ipynb`` that has no working copy yet. It never overwrites a notebook you have
changed: when ``chapters/`` holds a newer version of one (after ``git pull``), it says where the
fresh version is. A copy you never changed is simply brought up to date. Which version of each
chapter a copy started from is kept in ``my-notebooks/.course-versions.json``.

``python tools/workspace.py fresh NOTEBOOK`` (``make fresh NOTEBOOK=03_shapley_axioms``): moves
your copy to ``my-notebooks/old/NOTEBOOK.<date-time>.ipynb`` and copies in the current version.

``python tools/workspace.py start`` (``make lab`` runs it): prints the notebook JupyterLab opens
first: ``my-notebooks/00_welcome.ipynb`` until you have worked on a notebook, then the one you
changed last.

Names may be shortened to an unambiguous prefix: ``03`` is ``03_shapley_axioms``.

``chapters/`` is never written: it stays as shipped, so the course's tests stay green.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
WORK = ROOT / "my-notebooks"
MANIFEST = ".course-versions.json"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load(work: Path) -> dict:
    try:
        data = json.loads((work / MANIFEST).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save(work: Path, manifest: dict) -> None:
    (work / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def find_notebook(name: str, folder: Path) -> Path:
    """The notebook in ``folder`` that ``name`` designates: its stem, or a prefix of just one stem.

    ``name`` may carry a folder and the ``.ipynb`` suffix (only its last part counts). Raises
    FileNotFoundError, with the valid names, when nothing or more than one notebook matches.
    """
    stem = Path(name).name
    stem = stem[:-len(".ipynb")] if stem.endswith(".ipynb") else stem
    stems = sorted(p.stem for p in folder.glob("*.ipynb") if not p.name.endswith("-checkpoint.ipynb"))
    if stem in stems:
        return folder / f"{stem}.ipynb"
    matches = [s for s in stems if stem and s.startswith(stem)]
    if len(matches) == 1:
        return folder / f"{matches[0]}.ipynb"
    where = _rel(folder) + "/"
    if not folder.is_dir():
        raise FileNotFoundError(f"there is no notebook {stem!r}: {where} does not exist yet (`make lab` or "
                                f"`make progress` creates it)")
    if not stems:
        raise FileNotFoundError(f"there is no notebook {stem!r} in {where}: the folder holds no notebooks")
    if matches:
        raise FileNotFoundError(f"{stem!r} matches {len(matches)} notebooks in {where}: {', '.join(matches)}; "
                                f"give more of the name")
    raise FileNotFoundError(f"there is no notebook {stem!r} in {where}; the notebooks are: {', '.join(stems)} "
                            f"(a prefix such as {stems[-1][:2]} is enough)")


def seed(work: Path = WORK, chapters: Path = CHAPTERS, quiet: bool = False) -> dict:
    """Bring the working folder up to date without losing work; return what was done, by kind."""
    first_time = not work.exists()
    work.mkdir(parents=True, exist_ok=True)
    manifest = _load(work)
    done = {"copied": [], "updated": [], "newer": [], "kept": []}
    for src in sorted(chapters.glob("*.ipynb")):
        dst, shipped = work / src.name, digest(src)
        if not dst.exists():
            shutil.copyfile(src, dst)
            manifest[src.name] = shipped
            done["copied"].append(src.stem)
            continue
        started_from = manifest.get(src.name)
        if started_from is None:              # a copy made by hand: take today's chapter as its origin
            manifest[src.name] = shipped
            done["kept"].append(src.stem)
        elif started_from == shipped:
            done["kept"].append(src.stem)
        elif digest(dst) == started_from:     # never changed by the reader: safe to bring up to date
            shutil.copyfile(src, dst)
            manifest[src.name] = shipped
            done["updated"].append(src.stem)
        else:
            done["newer"].append(src.stem)
    _save(work, manifest)

    if quiet:
        return done
    w = _rel(work)
    if first_time:
        print(f"Copied the {len(done['copied'])} course notebooks into {w}/: these are your working copies "
              f"(git-ignored). chapters/ stays as shipped; the worked answers are in solutions/.")
    elif done["copied"]:
        print(f"New in the course, copied into {w}/: {', '.join(done['copied'])}.")
    if done["updated"]:
        print(f"Brought up to date (you had not changed them): {', '.join(done['updated'])}.")
    for name in done["newer"]:
        print(f"chapters/{name}.ipynb has changed since your copy was made; your {w}/{name}.ipynb is untouched. "
              f"Open chapters/{name}.ipynb to see the new version, or run `make fresh NOTEBOOK={name}` "
              f"to start over from it (your copy is kept in {w}/old/).")
    return done


def fresh(name: str, work: Path = WORK, chapters: Path = CHAPTERS) -> Path:
    """Replace the working copy of one notebook by the current chapter; the old copy moves to old/."""
    src = find_notebook(name, chapters)
    stem = src.stem
    work.mkdir(parents=True, exist_ok=True)
    dst = work / src.name
    if dst.exists():
        kept = work / "old" / f"{stem}.{time.strftime('%Y%m%d-%H%M%S')}.ipynb"
        kept.parent.mkdir(exist_ok=True)
        n = 1
        while kept.exists():
            n += 1
            kept = kept.with_name(f"{stem}.{time.strftime('%Y%m%d-%H%M%S')}-{n}.ipynb")
        dst.rename(kept)
        print(f"Your copy is now {_rel(kept)}.")
    shutil.copyfile(src, dst)
    manifest = _load(work)
    manifest[src.name] = digest(src)
    _save(work, manifest)
    print(f"{_rel(dst)} is a fresh copy of chapters/{src.name}. If it is open in JupyterLab, close its tab "
          f"without saving and open it again.")
    return dst


def start(work: Path = WORK, chapters: Path = CHAPTERS) -> Path:
    """The notebook ``make lab`` opens: the working copy changed last, or the first one (00_welcome).

    A copy counts as changed when it differs from the chapter it started from (see :func:`seed`);
    saving a notebook after running it counts.
    """
    manifest = _load(work)
    copies = sorted(p for p in work.glob("*.ipynb") if not p.name.endswith("-checkpoint.ipynb"))
    changed = [p for p in copies if manifest.get(p.name) not in (None, digest(p))]
    if changed:
        return max(changed, key=lambda p: p.stat().st_mtime)
    if (work / "00_welcome.ipynb").exists() or not copies:
        return work / "00_welcome.ipynb"
    return copies[0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Your working copies of the course notebooks.")
    parser.add_argument("command", choices=["seed", "fresh", "start"])
    parser.add_argument("notebook", nargs="?", help="for fresh: the notebook, e.g. 03_shapley_axioms")
    parser.add_argument("--work", type=Path, default=WORK, help="the working folder (default: my-notebooks/)")
    parser.add_argument("--chapters", type=Path, default=CHAPTERS, help=argparse.SUPPRESS)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_intermixed_args(argv)     # make fresh passes: fresh --work DIR NOTEBOOK
    if args.command == "seed":
        seed(args.work, args.chapters, args.quiet)
        return 0
    if args.command == "start":
        print(_rel(start(args.work, args.chapters)))
        return 0
    if not args.notebook:
        print("Say which notebook: make fresh NOTEBOOK=03_shapley_axioms")
        return 2
    try:
        fresh(args.notebook, args.work, args.chapters)
    except FileNotFoundError as err:
        print(f"make fresh: {err}.")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
