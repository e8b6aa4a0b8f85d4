#!/usr/bin/env python
"""Re-run solution notebooks in place so their stored outputs (what nbval compares) are fresh.

Usage: ``python tools/run_solutions.py [solutions/NAME.ipynb ...]`` (default: all of solutions/).
Run it with the course environment's interpreter (``make solutions`` does); the kernel is that
interpreter. Afterwards regenerate chapters/ with ``python tools/make_chapters.py``.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notebooks import SOLUTIONS, read, solution_notebooks, write  # noqa: E402

os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def merge_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) chunks into one output: how output is chunked depends on
    flush timing, and merged streams keep the stored notebooks identical from run to run."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.output_type == "stream" and previous is not None and previous.output_type == "stream"
                and previous.name == output.name):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def run(path: Path, timeout: int = 600) -> float:
    """Execute one notebook with its folder as working directory; return the seconds it took."""
    nb = read(path)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
    write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or solution_notebooks()
    for path in paths:
        if path.parent != SOLUTIONS:
            print(f"{path} is not in solutions/: only solution notebooks are run in place.")
            return 2
        print(f"{path.name}: {run(path):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
