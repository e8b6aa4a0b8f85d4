#!/usr/bin/env python
"""Your working copies of the course notebooks, in my-notebooks/ (git-ignored).

``python tools/workspace.py seed`` (``make lab`` and ``make progress`` run it): copies each
``chapters/*.ipynb`` that has no working copy yet. It never overwrites a notebook you have
changed: when ``chapters/`` holds a newer version of one (after ``git pull``), it says where the
fresh version is. A copy you never changed is simply brought up to date. Which version of each
chapter a copy started from is kept in ``my-notebooks/.course-versions.json``.

``python tools/workspace.py fresh NOTEBOOK`` (``make fresh NOTEBOOK=03_shapley_axioms``): moves
your copy to ``my-notebooks/old/NOTEBOOK.<date-time>.ipynb`` and copies in the current version.

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
    stem = Path(name).name
    stem = stem[:-len(".ipynb")] if stem.endswith(".ipynb") else stem
    src = chapters / f"{stem}.ipynb"
    if not src.exists():
        known = ", ".join(p.stem for p in sorted(chapters.glob("*.ipynb")))
        raise FileNotFoundError(f"there is no chapters/{stem}.ipynb; the notebooks are: {known}")
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Your working copies of the course notebooks.")
    parser.add_argument("command", choices=["seed", "fresh"])
    parser.add_argument("notebook", nargs="?", help="for fresh: the notebook, e.g. 03_shapley_axioms")
    parser.add_argument("--work", type=Path, default=WORK, help="the working folder (default: my-notebooks/)")
    parser.add_argument("--chapters", type=Path, default=CHAPTERS, help=argparse.SUPPRESS)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_intermixed_args(argv)     # make fresh passes: fresh --work DIR NOTEBOOK
    if args.command == "seed":
        seed(args.work, args.chapters, args.quiet)
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
