import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))


def pytest_generate_tests(metafunc):
    """``device``: "cpu" always, "cuda" when torch sees a GPU (issue 21: creditlib runs where its inputs are).

    torch is imported only for the tests that ask for a device.
    """
    if "device" in metafunc.fixturenames:
        import torch

        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        metafunc.parametrize("device", devices)
