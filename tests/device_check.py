"""A CPU-only detector of code that allocates a tensor without taking the device from its inputs (issue 21).

:class:`DeviceLeakRecorder` is a ``torch.overrides.TorchFunctionMode`` that, while a public creditlib function
runs, records every call *made directly by creditlib's own code* (the caller's frame is a file of the
``creditlib`` package) of

* a tensor factory (``torch.zeros``, ``ones``, ``eye``, ``arange``, ``rand``, ``randn``, ``randperm``, ``tensor``,
  ``as_tensor`` of a non-tensor, ...) without an explicit ``device=``: on a GPU it would put a tensor on the CPU;
* ``torch.Generator(...)`` without ``device=`` and ``torch.from_numpy`` (always the CPU);
* ``Tensor.numpy()`` or ``np.asarray(tensor)`` (``Tensor.__array__``) on a tensor that did not come out of an
  explicit ``.cpu()`` (or ``.to("cpu")``): it fails on a GPU tensor;
* ``torch.manual_seed`` / ``torch.cuda.manual_seed(_all)`` / ``torch.seed``: they change global generators
  (``torch.manual_seed`` reseeds every GPU too).

Allocations inside torch itself (``nn.Linear`` building its weights, an optimiser's step counter) are not
creditlib's and are not recorded. Everything runs on the CPU: no GPU is needed to see the bug.
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch.overrides import TorchFunctionMode

import creditlib

PACKAGE = Path(creditlib.__file__).resolve().parent
HARNESS = PACKAGE / "exercises"
"""The course harness (the exercises and the answer checker, which copies tensors to NumPy on purpose): not watched."""
EXCLUDED = {PACKAGE / "testing.py"}

FACTORIES = {torch.zeros, torch.ones, torch.empty, torch.full, torch.eye, torch.arange, torch.linspace,
             torch.logspace, torch.rand, torch.randn, torch.randint, torch.randperm, torch.tensor, torch.as_tensor,
             torch.scalar_tensor, torch.empty_strided, torch.tril_indices, torch.triu_indices, torch.normal,
             torch.asarray}
"""Functions that create a tensor from sizes or data (the ``*_like`` ones take the device of their input)."""

TO_CPU = {torch.Tensor.cpu}
KEEPS_CPU_COPY = {torch.Tensor.detach, torch.Tensor.resolve_conj, torch.Tensor.resolve_neg, torch.Tensor.float,
                  torch.Tensor.double, torch.Tensor.contiguous}


def _creditlib_file(frame) -> str | None:
    path = Path(frame.f_code.co_filename).resolve()
    if PACKAGE in path.parents and path not in EXCLUDED and HARNESS not in path.parents:
        return f"{path.relative_to(PACKAGE.parent)}:{frame.f_lineno}"
    return None


def _first_outside_torch(frame):
    torch_dir = Path(torch.__file__).resolve().parent
    while frame is not None and torch_dir in Path(frame.f_code.co_filename).resolve().parents:
        frame = frame.f_back
    return frame


class DeviceLeakRecorder(TorchFunctionMode):
    """Record device-less allocations, NumPy conversions without a CPU copy and global reseeding by creditlib.

    Use as a context manager around one public call; ``leaks`` then lists ``"what at file:line"``.
    """

    def __init__(self):
        super().__init__()
        self.leaks: list[str] = []
        self._cpu_copies: list[torch.Tensor] = []        # kept alive, so their ids stay theirs
        self._patched: list[tuple[object, str, object]] = []

    def _is_cpu_copy(self, t) -> bool:
        return any(t is c for c in self._cpu_copies)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        caller = sys._getframe(1)
        where = _creditlib_file(caller)
        if where and func in FACTORIES and kwargs.get("device") is None:
            data_is_tensor = func in (torch.as_tensor, torch.asarray, torch.tensor) and args \
                and isinstance(args[0], torch.Tensor)
            if not data_is_tensor:
                self.leaks.append(f"torch.{func.__name__} without device= at {where}")
        out = func(*args, **kwargs)
        if func in TO_CPU or (func is torch.Tensor.to and isinstance(out, torch.Tensor) and out.device.type == "cpu"
                              and any(isinstance(a, (str, torch.device)) for a in (*args[1:], kwargs.get("device")))):
            self._cpu_copies.append(out)
        elif func in KEEPS_CPU_COPY and args and self._is_cpu_copy(args[0]):
            self._cpu_copies.append(out)
        elif func in (torch.Tensor.numpy, torch.Tensor.__array__) and args and not self._is_cpu_copy(args[0]):
            origin = _creditlib_file(caller) if func is torch.Tensor.numpy else \
                _creditlib_file(_first_outside_torch(caller) or caller)
            if origin:
                self.leaks.append(f"Tensor.{func.__name__} of a tensor not copied to the CPU at {origin}")
        return out

    # ------------------------------------------------------------------ Python-level patches
    def _patch(self, owner, name, replacement):
        self._patched.append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)

    def __enter__(self):
        recorder = self
        real_generator = torch.Generator

        class RecordingGenerator(real_generator):
            def __new__(cls, *args, **kwargs):
                where = _creditlib_file(sys._getframe(1))
                if where and not args and kwargs.get("device") is None:
                    recorder.leaks.append(f"torch.Generator() without device= at {where}")
                return super().__new__(cls, *args, **kwargs)

        self._patch(torch, "Generator", RecordingGenerator)
        real_from_numpy = torch.from_numpy

        def from_numpy(array):
            where = _creditlib_file(sys._getframe(1))
            if where:
                recorder.leaks.append(f"torch.from_numpy (always the CPU) at {where}")
            return real_from_numpy(array)

        self._patch(torch, "from_numpy", from_numpy)
        for owner, name in [(torch, "manual_seed"), (torch, "seed"), (torch.random, "manual_seed"),
                            (torch.cuda, "manual_seed"), (torch.cuda, "manual_seed_all"), (torch.cuda, "seed_all")]:
            real = getattr(owner, name)

            def reseeding(*args, _real=real, _name=f"{owner.__name__}.{name}", **kwargs):
                frame = sys._getframe(1)
                while frame is not None and not _creditlib_file(frame) and "site-packages" in frame.f_code.co_filename:
                    frame = frame.f_back
                recorder.leaks.append(f"{_name} (changes a global generator) called"
                                      + (f" from {_creditlib_file(frame)}" if frame and _creditlib_file(frame) else ""))
                return _real(*args, **kwargs)

            self._patch(owner, name, reseeding)
        return super().__enter__()

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        finally:
            for owner, name, real in reversed(self._patched):
                setattr(owner, name, real)
            self._patched.clear()
