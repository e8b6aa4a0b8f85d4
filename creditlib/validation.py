"""Input validation at the boundary of the public API, in scikit-learn's style: fail early, name the fix.

One home for the small checks every module needs: seeds, counts, indices, probabilities,
and the warning class for iterative methods that stop before they converge.

Seeds. Every ``seed`` argument accepts ``None``, a non-negative int or a
``numpy.random.Generator`` (:func:`check_random_state`; torch code converts with
:func:`torch_generator`). The defaults follow one rule:

* ``seed=None`` where drawing at random *is* the method and a fresh draw is what a
  user wants by default: the Shapley estimators, the random-game builders,
  ``subset_masks`` and ``noise_stability_estimate`` (as scikit-learn's
  ``random_state=None``);
* ``seed=0`` where randomness is an implementation detail of a deterministic
  question, so that the same call gives the same answer: data sets and their splits
  (``digit_pair``, ``breast_cancer_players``, ``matched_pair_data``, ``data_valuation_game``), model
  initialisation in ``train_on_subsets``, the validation split of ``fit_datamodels``,
  power iteration and LiSSA's sampling in ``creditlib.influence``, and the game
  families of ``violated_axioms``.

Devices and dtypes. Every public function that takes a model or tensors runs where they are, as Captum and
minGPT do: it allocates on their device (``device=`` taken from the inputs or the model's parameters) and in
their dtype, and returns tensors there. Results that are NumPy arrays come from explicit CPU copies
(:func:`as_numpy`). Two rules keep seeded results the same on every device and leave global state alone:

* **Seeded draws are made on the CPU, then moved.** Noise, start vectors, mini-batches and shuffles are drawn
  from a CPU ``torch.Generator`` (:func:`torch_generator`) into a CPU tensor of the target dtype and then moved
  to the inputs' device (:func:`cpu_draw`), so a seed gives the same numbers on a CPU, a GPU or any other
  accelerator (a CUDA generator would give different ones), and the CPU results are those drawn before
  devices were supported.
* **No global RNG is changed.** Seeded model initialisation (``DigitsCNN``, ``TinyAttention``,
  ``randomize_layers``) runs on CPU modules under :func:`seeded_torch_rng`, which seeds only torch's CPU
  generator (never ``torch.manual_seed``, which also reseeds every GPU) and restores the CPU's generator and
  those of the devices involved (every CUDA device torch has initialised) on exit; a layer of a model on a GPU
  is re-initialised on a CPU copy and its values copied back, so it gets the CPU's numbers.
"""
from __future__ import annotations

import contextlib
import math
import numbers
import sys
import warnings
from typing import TYPE_CHECKING, Iterator

import numpy as np

__all__ = ["ConvergenceWarning", "warn_unconverged", "check_random_state", "torch_generator", "cpu_draw",
           "tensor_devices", "seeded_torch_rng", "as_numpy", "check_int", "check_index", "check_open_unit",
           "check_positive", "check_masks_outputs", "check_tensor_pair", "progress_bar"]

if TYPE_CHECKING:
    import torch


class ConvergenceWarning(UserWarning):
    """An iterative method (a solver, a training loop) stopped at its iteration limit before reaching its tolerance.

    Filter it like scikit-learn's: ``warnings.simplefilter("error", ConvergenceWarning)`` turns it into an error.

    Attributes
    ----------
    args : tuple
        The message, as for any warning: what stopped, how far from its tolerance, and what to change.
    """


def warn_unconverged(message: str) -> None:
    """Issue a :class:`ConvergenceWarning` attributed to the caller's caller (the user's line).

    Parameters
    ----------
    message : str
        What stopped, the tolerance it missed, and the fix.

    Warns
    -----
    ConvergenceWarning
        Always (``stacklevel=3``).
    """
    warnings.warn(message, ConvergenceWarning, stacklevel=3)


def check_random_state(seed) -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``None`` (fresh entropy), an int or a Generator (used as is).

    The seed convention of the whole library, as in scikit-learn: every function that takes a
    ``seed`` passes it through here, so ``None``, a non-negative int and a Generator work everywhere.

    Parameters
    ----------
    seed : None, int or numpy.random.Generator
        ``None``: fresh OS entropy (not reproducible); an int ≥ 0: ``numpy.random.default_rng(seed)``,
        a reproducible stream; a Generator: returned itself, so the caller's stream advances.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    TypeError
        For anything else (e.g. a float, a bool or the legacy ``RandomState``).
    ValueError
        A negative int.
    """
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        if seed is not None and int(seed) < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}.")
        return np.random.default_rng(None if seed is None else int(seed))
    if isinstance(seed, np.random.Generator):
        return seed
    raise TypeError(f"seed must be None, an int or a numpy.random.Generator; got {type(seed).__name__} {seed!r}.")


def torch_generator(seed) -> "torch.Generator":
    """A ``torch.Generator`` from ``None``, an int (``manual_seed(seed)``) or a ``numpy.random.Generator``
    (which draws the torch seed), so torch code takes the same seeds as the NumPy code.

    Parameters
    ----------
    seed : None, int or numpy.random.Generator
        An int ≥ 0 seeds torch directly (``torch.Generator().manual_seed(seed)``); ``None`` or a
        Generator go through :func:`check_random_state`, which draws one integer below ``2**62``
        as the torch seed (advancing a given Generator by one draw).

    Returns
    -------
    torch.Generator
        A new generator on the CPU, whatever device the data live on: seeded draws are made on the CPU and
        then moved (:func:`cpu_draw`), so that a seed gives the same numbers on every device.

    Raises
    ------
    TypeError, ValueError
        As :func:`check_random_state`.
    """
    import torch

    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        check_random_state(seed)                      # same validation (non-negative)
        return torch.Generator(device="cpu").manual_seed(int(seed))
    rng = check_random_state(seed)
    return torch.Generator(device="cpu").manual_seed(int(rng.integers(2**62)))


def cpu_draw(sampler, *size, generator: "torch.Generator", dtype: "torch.dtype | None" = None,
             device=None, **options) -> "torch.Tensor":
    """A seeded draw made on the CPU and then moved to ``device``: the same numbers on every device.

    The library's rule for random tensors (see the module docstring): ``sampler`` (``torch.randn``,
    ``torch.rand``, ``torch.randperm``, ``torch.randint``, ...) runs with a CPU ``generator`` into a CPU tensor
    of ``dtype``, which is then copied to ``device``. A generator on the target device would give other
    numbers on a GPU than on the CPU.

    Parameters
    ----------
    sampler : callable
        A torch random factory taking ``generator=``, ``dtype=`` and ``device=`` keywords.
    *size
        Its positional arguments (a shape, or ``n`` for ``randperm``, ...).
    generator : torch.Generator
        A CPU generator, e.g. from :func:`torch_generator`.
    dtype : torch.dtype, optional
        The dtype of the draw (drawn in that dtype on the CPU); default the sampler's.
    device : torch.device or str, optional
        Where the result goes; default the CPU.
    **options
        Further keywords of ``sampler``.

    Returns
    -------
    torch.Tensor
        On ``device``, with the values drawn on the CPU.

    Raises
    ------
    ValueError
        ``generator`` is not a CPU generator.
    """
    if generator.device.type != "cpu":
        raise ValueError(f"Seeded draws use a CPU generator (then move the result); got one on {generator.device}.")
    if dtype is not None:
        options["dtype"] = dtype
    draw = sampler(*size, generator=generator, device="cpu", **options)
    return draw if device is None else draw.to(device)


def tensor_devices(*objects) -> list:
    """The devices of the tensors among ``objects`` and of the parameters and buffers of the modules among them.

    Parameters
    ----------
    *objects
        Tensors, ``torch.nn.Module`` objects, or anything else (ignored).

    Returns
    -------
    list of torch.device
        Each device once, in order of appearance.
    """
    torch = sys.modules.get("torch")
    found = []
    if torch is None:
        return found
    for obj in objects:
        if isinstance(obj, torch.Tensor):
            tensors = [obj]
        elif isinstance(obj, torch.nn.Module):
            tensors = [*obj.parameters(), *obj.buffers()]
        else:
            continue
        for t in tensors:
            if t.device not in found:
                found.append(t.device)
    return found


@contextlib.contextmanager
def seeded_torch_rng(seed, devices=()) -> Iterator[None]:
    """Inside: torch's global CPU generator seeded from ``seed``; on exit every global generator as it was.

    For code that draws from torch's global RNG and takes no generator (a module's ``reset_parameters``,
    PyTorch's own initialisation). Only the CPU generator is seeded (``torch.default_generator.manual_seed``,
    never ``torch.manual_seed``, which also reseeds every GPU, or queues that for when CUDA starts). On exit it
    restores the CPU generator and the generators of ``devices`` and of every CUDA device torch has
    initialised, so no global RNG of any device changes. Initialise modules on the CPU inside it: that is
    what makes the numbers the same on every machine.

    Parameters
    ----------
    seed : None, int or numpy.random.Generator
        As :func:`torch_generator` (the CPU generator is seeded with that generator's initial seed).
    devices : iterable of torch.device or str, optional
        Devices whose generators are also saved and restored (e.g. :func:`tensor_devices` of a model);
        the CPU and the meta device need nothing more.

    Returns
    -------
    context manager
        Use in a ``with`` statement; it yields nothing.
    """
    import torch

    torch_seed = int(torch_generator(seed).initial_seed())
    by_type: dict[str, set[int]] = {}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        by_type["cuda"] = set(range(torch.cuda.device_count()))
    for device in devices:
        device = torch.device(device)
        if device.type in ("cpu", "meta"):
            continue
        if device.index is None:
            module = getattr(torch, device.type, None)
            index = int(module.current_device()) if hasattr(module, "current_device") else 0
        else:
            index = device.index
        by_type.setdefault(device.type, set()).add(index)
    with contextlib.ExitStack() as stack:
        stack.enter_context(torch.random.fork_rng(devices=[]))
        for device_type, indices in by_type.items():
            stack.enter_context(torch.random.fork_rng(devices=sorted(indices), device_type=device_type))
        torch.default_generator.manual_seed(torch_seed)
        yield


def as_numpy(a, dtype=None) -> np.ndarray:
    """A NumPy array of ``a``; a torch tensor (on any device, with or without gradient) through a CPU copy.

    ``np.asarray`` of a tensor on a GPU fails, and of one that requires grad raises: every NumPy result of
    the library that may come from tensors goes through here.

    Parameters
    ----------
    a : array_like or torch.Tensor
        The values.
    dtype : numpy dtype, optional
        As in ``numpy.asarray``.

    Returns
    -------
    numpy.ndarray
        Shares memory with ``a`` when ``a`` is a CPU tensor or an array already of that dtype.
    """
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(a, torch.Tensor):
        a = a.detach().cpu()
        if a.dtype in (torch.bfloat16,):                # no NumPy dtype: widen
            a = a.float()
        a = a.resolve_conj().resolve_neg().numpy()
    return np.asarray(a, dtype=dtype)


def check_int(value, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (bounds inclusive, either may be None).

    Parameters
    ----------
    value : int
        The number to check (Python or NumPy integer).
    name : str
        The argument's name, for the message.
    low, high : int, optional
        Inclusive bounds; None for no bound.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        ``value`` is not an integer (bools and floats are refused).
    ValueError
        ``value`` lies outside the bounds; the message states them.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}.")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = (f"between {low} and {high}" if low is not None and high is not None
                  else f"at least {low}" if low is not None else f"at most {high}")
        raise ValueError(f"{name} must be {bounds}; got {value}.")
    return value


def check_index(value, name: str, size: int, what: str = "players") -> int:
    """A valid index into ``size`` items, ``0 .. size − 1`` (negative indices are refused: they hide mistakes).

    Parameters
    ----------
    value : int
        The index to check (Python or NumPy integer; bools are refused).
    name : str
        The argument's name, for the message (which also states the valid range).
    size : int
        Number of items.
    what : str, default="players"
        What the items are, for the message.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        ``value`` is not an integer in ``0 .. size − 1``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= int(value) < size:
        raise ValueError(f"{name} must be an index from 0 to {size - 1} (one of the {size} {what}); got {value!r}.")
    return int(value)


def check_open_unit(value, name: str) -> float:
    """A number strictly between 0 and 1 (a probability or a fraction that must leave something on each side).

    Parameters
    ----------
    value : float
        The number to check (any real number type; bools are refused).
    name : str
        The argument's name, for the message.

    Returns
    -------
    float
        ``value``, in (0, 1).

    Raises
    ------
    ValueError
        ``value`` is not a real number in the open interval (0, 1) (NaN included).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < float(value) < 1:
        raise ValueError(f"{name} must be a number strictly between 0 and 1; got {value!r}.")
    return float(value)


def check_positive(value, name: str, *, allow_zero: bool = False) -> float:
    """A finite real number > 0 (or ≥ 0 with ``allow_zero``).

    Parameters
    ----------
    value : float
        The number to check (any real number type except bool).
    name : str
        The argument's name, for the message.
    allow_zero : bool, default=False
        Accept 0 as well.

    Returns
    -------
    float
        ``value``, finite and > 0 (or ≥ 0).

    Raises
    ------
    ValueError
        ``value`` is not a finite real number above 0 (or at least 0).
    """
    ok = (not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(float(value))
          and (float(value) >= 0 if allow_zero else float(value) > 0))
    if not ok:
        raise ValueError(f"{name} must be a finite number {'≥' if allow_zero else '>'} 0; got {value!r}.")
    return float(value)


def check_masks_outputs(masks, outputs) -> tuple[np.ndarray, np.ndarray]:
    """Check subsets and the outputs measured on them (datamodels, Banzhaf MSR); return NumPy copies.

    Parameters
    ----------
    masks : array_like or Tensor of bool, shape (n_subsets, n_train)
        One subset of the training set per row.
    outputs : array_like or Tensor, shape (n_subsets,) or (n_subsets, n_test)
        The outputs measured on each subset.

    Returns
    -------
    masks : ndarray of bool, shape (n_subsets, n_train)
    outputs : ndarray of float64, shape (n_subsets, n_test)

    Raises
    ------
    ValueError
        Masks not a 2-D boolean array, outputs of the wrong shape, or not finite.
    """
    masks, outputs = as_numpy(masks), as_numpy(outputs, dtype=np.float64)    # CPU copies of tensors
    if masks.dtype != bool or masks.ndim != 2:
        raise ValueError(f"masks must be a 2-D boolean array (n_subsets, n_train); got dtype {masks.dtype}, "
                         f"shape {masks.shape}.")
    if outputs.ndim == 1:
        outputs = outputs[:, None]
    if outputs.ndim != 2 or outputs.shape[0] != masks.shape[0]:
        raise ValueError(f"outputs must have shape (n_subsets, n_test) with n_subsets = {masks.shape[0]} (one row "
                         f"per mask); got {outputs.shape}.")
    if not np.isfinite(outputs).all():
        raise ValueError("outputs contain NaN or infinite values.")
    return masks, outputs


def check_tensor_pair(X, y, what: str, device=None) -> None:
    """Check that inputs ``X`` and targets ``y`` are tensors with one row each per example (and on ``device``).

    Parameters
    ----------
    X, y : Tensor
        Inputs and targets.
    what : str
        What they are, for the message (e.g. ``"training data"``).
    device : torch.device, optional
        Where they must both be (the model's device); not checked when None.

    Raises
    ------
    TypeError
        ``X`` or ``y`` is not a tensor.
    ValueError
        Different numbers of rows, or a tensor not on ``device``.
    """
    import torch

    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"{what}: X and y must be torch tensors, got {type(X).__name__} and {type(y).__name__}.")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"{what}: X has {X.shape[0]} rows but y has {y.shape[0]}; give one target per example.")
    if device is not None and (X.device != device or y.device != device):
        raise ValueError(f"{what}: X is on {X.device} and y on {y.device}, but the model's parameters are on "
                         f"{device}: put the model and all data on one device.")


def progress_bar(iterable=None, *, show: bool, total: int | None = None, desc: str | None = None,
                 unit: str = "it"):
    """A tqdm progress bar, as text on stderr, that does nothing unless ``show``.

    Iterate over it (``for item in progress_bar(items, show=...)``) or ``update`` it by hand (``total=``).

    Parameters
    ----------
    iterable : iterable, optional
        What to iterate over.
    show : bool
        Whether to draw the bar.
    total : int, optional
        The number of steps, when there is no iterable (or it has no length).
    desc, unit : str, optional
        The bar's label and step name.

    Returns
    -------
    tqdm.tqdm
        Disabled when not ``show`` (iterating it then costs nothing extra).
    """
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not show)
