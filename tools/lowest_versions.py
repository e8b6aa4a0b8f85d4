#!/usr/bin/env python
"""The lowest versions that ``pyproject.toml`` allows: pins to install them, and a check that they are installed.

``make test-lowest`` installs ``creditlib`` into a separate virtual environment (``.venv-lowest``) with every
dependency of ``[project].dependencies`` at its lower bound (``numpy>=1.24`` becomes ``numpy==1.24``; what those
need comes at whatever version pip then resolves, as uv's ``--resolution lowest-direct`` does), and runs the unit
tests there. The test tools (``pytest``, ``hypothesis``, ``nbformat``) are not the library's dependencies: they come
at the course lock's versions (``requirements.txt``).

Usage (with Python 3.11 or newer, for ``tomllib``):

* ``python tools/lowest_versions.py pins``: print the pins, one per line (the library's lower bounds, then the
  test tools at the lock's versions); every dependency must have a ``>=`` lower bound.
* ``python tools/lowest_versions.py verify``: with the interpreter of the environment, exit 1 unless each
  dependency is installed at its lower bound exactly (a local label such as ``+cpu`` aside).
"""
from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_TOOLS = ("pytest", "hypothesis", "nbformat")
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*?)\s*$")


def lower_bounds(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    """``{name: lowest version}`` for each entry of ``[project].dependencies``.

    Parameters
    ----------
    pyproject : Path
        The project file.

    Returns
    -------
    dict of str to str
        Each dependency's name and the version of its ``>=`` bound. A dependency without one (or with an
        environment marker, which this check does not evaluate) raises ``ValueError``.
    """
    deps = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    out = {}
    for dep in deps:
        match = _REQUIREMENT.match(dep)
        name, spec = match.group(1), match.group(3)
        if ";" in spec:
            raise ValueError(f"{dep!r}: environment markers are not handled by {Path(__file__).name}")
        lows = [clause.strip()[2:].strip() for clause in spec.split(",") if clause.strip().startswith(">=")]
        if len(lows) != 1 or not re.fullmatch(r"\d+(\.\d+)*", lows[0]):
            raise ValueError(f"{dep!r}: every dependency needs exactly one lower bound 'name>=X.Y'")
        out[name.lower().replace("_", "-")] = lows[0]
    return out


def lock_pins(requirements: Path = ROOT / "requirements.txt") -> dict[str, str]:
    """``{name: version}`` of the ``name==version`` lines of the course lock.

    Parameters
    ----------
    requirements : Path
        The lock file.

    Returns
    -------
    dict of str to str
        Lower-cased names (``_`` as ``-``) and their pinned versions.
    """
    out = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            out[name.strip().lower().replace("_", "-")] = version.strip()
    return out


def pins() -> list[str]:
    """The requirement lines that install the lowest allowed versions and the locked test tools.

    Returns
    -------
    list of str
        ``name==version`` lines.
    """
    lock = lock_pins()
    return ([f"{name}=={version}" for name, version in lower_bounds().items()]
            + [f"{tool}=={lock[tool]}" for tool in TEST_TOOLS])


def _release(version: str) -> tuple[int, ...]:
    """``"1.24"`` and ``"1.24.0+cpu"`` both as ``(1, 24)``: the release part, trailing zeros dropped."""
    parts = [int(p) for p in re.match(r"\d+(\.\d+)*", version).group(0).split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def verify() -> list[str]:
    """The dependencies not installed at their lower bound in the running interpreter's environment.

    Returns
    -------
    list of str
        One line per mismatch (empty when every dependency is at its lower bound).
    """
    wrong = []
    for name, low in lower_bounds().items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = "not installed"
        status = "ok" if have != "not installed" and _release(have) == _release(low) else "WRONG"
        print(f"  {name:14} lower bound {low:8} installed {have}  {status}")
        if status != "ok":
            wrong.append(f"{name}: lower bound {low}, installed {have}")
    return wrong


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["pins"]:
        print("\n".join(pins()))
        return 0
    if argv == ["verify"]:
        wrong = verify()
        if wrong:
            print("not the lowest versions:", "; ".join(wrong), file=sys.stderr)
        return 1 if wrong else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
