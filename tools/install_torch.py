#!/usr/bin/env python
"""Install the CPU build of torch on Linux, before the rest of the course environment.

On Linux, PyPI's torch wheels are CUDA builds that pull several GB of GPU libraries. PyTorch
publishes CPU-only wheels on its own index. On Linux this script installs the torch version
pinned in requirements.txt from that index (``TORCH_INDEX_URL``, default
https://download.pytorch.org/whl/cpu), without dependencies, since requirements.txt pins those.
Then ``pip install -r requirements.txt`` finds torch already installed (``2.13.0+cpu`` satisfies
``torch==2.13.0``). macOS and Windows keep PyPI's default wheels, which are CPU builds there.

It never hangs where that index cannot be reached. It first asks the index for torch with a
short timeout (5 s, no retries). If that fails, it prints one line and leaves torch to the
normal install from PyPI.

Set ``TORCH_INDEX_URL`` to another index (e.g. https://download.pytorch.org/whl/cu126 for a GPU
build) or to an empty string to skip this step. Usage, with the course environment's interpreter:
``python tools/install_torch.py [requirements.txt]`` (``make install`` does it).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from importlib import metadata
from pathlib import Path

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PROBE_TIMEOUT = 5.0


def pinned_version(requirements: Path) -> str | None:
    """The version of ``torch==X`` in a requirements file (None when torch is not pinned)."""
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*torch\s*==\s*([^\s;#]+)", line)
        if match:
            return match.group(1)
    return None


def installed_version() -> str | None:
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return None


def probe(index: str, timeout: float = PROBE_TIMEOUT) -> str | None:
    """None when the index answers for torch within ``timeout`` seconds, else why not (one line)."""
    url = index.rstrip("/") + "/torch/"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "pip"}),
                                    timeout=timeout) as response:
            response.read(1024)
        return None
    except Exception as err:    # DNS failure, refused, timeout, HTTP error, bad certificate: all mean "not here"
        reason = getattr(err, "reason", None) or err
        return " ".join(f"{type(err).__name__}: {reason}".split())[:120]


def main(argv=None, platform: str = sys.platform, env=None, run=subprocess.call) -> int:
    argv = sys.argv[1:] if argv is None else argv
    env = os.environ if env is None else env
    version = pinned_version(Path(argv[0] if argv else "requirements.txt"))
    index = env.get("TORCH_INDEX_URL", CPU_INDEX)
    if not version or not index:
        return 0
    if not platform.startswith("linux"):
        print(f"torch {version}: PyPI's default wheel ({platform} wheels are CPU builds).")
        return 0
    have = installed_version()
    if have and have.split("+")[0] == version:
        print(f"torch {have} is already installed.")
        return 0
    why = probe(index, float(env.get("TORCH_PROBE_TIMEOUT", PROBE_TIMEOUT)))
    if why is None:
        print(f"Installing torch {version}, the CPU build, from {index} (about 190 MB) ...", flush=True)
        code = run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-deps",
                    "--timeout", "30", "--retries", "1", "--index-url", index, f"torch=={version}"])
        if code == 0:
            return 0
        why = f"pip exited with status {code}"
    print(f"Could not use PyTorch's CPU index {index} ({why}); torch {version} will come from the default "
          f"index instead (on Linux that can be the CUDA build, several GB). See README, 'Setup'.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
