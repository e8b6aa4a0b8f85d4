"""Tiny models for the saliency notebook (Section 10.4), each trained in seconds on a CPU.

* :class:`DigitsCNN`: a small CNN on scikit-learn's 8×8 digits, split into ``features`` (layer l, for TCAV)
  and ``head`` (layer l to the logits).
* :class:`TinyAttention`: token embeddings, one or two self-attention layers and an attention-pooling
  classifier, with the hooks :mod:`creditlib.saliency` needs (erasure, given embeddings, given attention).
* :func:`token_task`: sequences whose label is "token A occurs before token B".
* :func:`train_classifier`: mini-batch Adam on the cross-entropy.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .validation import check_int, check_positive, check_random_state, cpu_draw, seeded_torch_rng, torch_generator

__all__ = ["DigitsCNN", "train_classifier", "accuracy", "token_task", "TinyAttention"]


class DigitsCNN(nn.Module):
    """Conv(1→8, 3×3) → ReLU → 2×2 average pool → flatten (``features``, layer l: 128 numbers)
    → Linear(256→32) → ReLU → Linear(32→10) (``head``); float64, inputs ``(batch, 1, 8, 8)``.

    Parameters
    ----------
    seed : None, int or numpy.random.Generator, default=0
        Seed of the initialisation, made on the CPU (move the model afterwards: ``DigitsCNN(seed).to(device)``,
        the same weights on every device); no global torch RNG, of the CPU or of a GPU, changes
        (:func:`creditlib.validation.seeded_torch_rng`).
    """

    def __init__(self, seed=0):
        super().__init__()
        with seeded_torch_rng(seed):
            self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten())
            self.head = nn.Sequential(nn.Linear(128, 32), nn.ReLU(), nn.Linear(32, 10))
        self.double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def train_classifier(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, epochs: int = 30, lr: float = 0.01,
                     batch_size: int = 64, weight_decay: float = 0.0, seed=0) -> nn.Module:
    """Train ``model`` in place by mini-batch Adam on the cross-entropy; returns it in eval mode.

    Parameters
    ----------
    model : nn.Module
        Maps ``X`` to logits ``(n, classes)``.
    X, y : Tensor
        Inputs and int64 labels.
    epochs, lr, batch_size, weight_decay
        Adam's settings.
    seed : None, int or numpy.random.Generator, default=0
        Seed of the shuffling (drawn on the CPU, so the same batches on every device).

    Returns
    -------
    nn.Module
        ``model`` itself, trained, in eval mode.
    """
    epochs = check_int(epochs, "epochs", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    gen = torch_generator(seed)
    opt = torch.optim.Adam(model.parameters(), lr=check_positive(lr, "lr"), weight_decay=weight_decay)
    model.train()
    for _ in range(epochs):
        order = cpu_draw(torch.randperm, len(y), generator=gen, device=y.device)
        for idx in order.split(batch_size):
            loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of ``X`` whose arg-max logit is ``y``.

    Parameters
    ----------
    model : nn.Module
        Maps ``X`` to logits.
    X : torch.Tensor
        Inputs.
    y : torch.Tensor
        int64 labels.

    Returns
    -------
    float
    """
    with torch.no_grad():
        return float((model(X).argmax(-1) == y).double().mean())


# ---------------------------------------------------------------------------- a token task and an attention model
A_TOKEN, B_TOKEN = 1, 2


def token_task(n: int, length: int = 8, vocab_size: int = 8, seed=0) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequences of ``length`` tokens; label 1 iff token A (=1) occurs and some B (=2) follows it.

    Tokens 0 and 3 … vocab_size−1 are fillers. Half the sequences are positive (one A, one B after it); the
    negatives are evenly: B before A, A only, B only.

    Parameters
    ----------
    n : int
        Number of sequences.
    length : int, default=8
        Tokens per sequence.
    vocab_size : int, default=8
        Tokens 0 … vocab_size−1 (at least 4).
    seed : None, int or numpy.random.Generator, default=0
        Seed of the draw.

    Returns
    -------
    tokens : Tensor of int64, shape (n, length)
    labels : Tensor of int64, shape (n,)
    """
    n = check_int(n, "n", low=1)
    length = check_int(length, "length", low=2)
    vocab_size = check_int(vocab_size, "vocab_size", low=4)
    rng = check_random_state(seed)
    fillers = np.r_[0, np.arange(3, vocab_size)]
    tokens = rng.choice(fillers, size=(n, length))
    kind = rng.integers(0, 6, size=n)               # 0–2 positive; 3 B before A; 4 A only; 5 B only
    for row, k in zip(tokens, kind):
        i, j = np.sort(rng.choice(length, size=2, replace=False))
        if k <= 2:
            row[i], row[j] = A_TOKEN, B_TOKEN
        elif k == 3:
            row[i], row[j] = B_TOKEN, A_TOKEN
        else:
            row[i] = A_TOKEN if k == 4 else B_TOKEN
    return torch.as_tensor(tokens), torch.as_tensor((kind <= 2).astype(np.int64))


class TinyAttention(nn.Module):
    """Embedding + positions → ``n_layers`` single-head self-attention layers (residual) → attention pooling
    ``α = softmax(h·q)`` over the tokens → linear head on ``Σ_j α_j h_j``.

    ``forward(tokens, keep=None, embeddings=None, pool_weights=None)``: ``keep`` (bool, (batch, length))
    erases tokens (masked out of every attention), ``embeddings`` replaces the input embeddings (for
    gradients), ``pool_weights`` replaces the pooling attention α (for adversarial attention).
    ``attention_maps(tokens)`` returns ``(α, [A_1, …])``; float64.

    Parameters
    ----------
    vocab_size, length : int
    d_model : int, default=16
    n_layers : int, default=1
    n_classes : int, default=2
    uniform : bool, default=False
        Freeze the pooling attention at uniform weights over the kept tokens (the baseline of
        Wiegreffe & Pinter 2019).
    seed : None, int or numpy.random.Generator, default=0
        Seed of the initialisation, made on the CPU as for :class:`DigitsCNN` (no global RNG changes).
    """

    def __init__(self, vocab_size: int, length: int, d_model: int = 16, n_layers: int = 1, n_classes: int = 2,
                 uniform: bool = False, seed=0):
        super().__init__()
        self.uniform = uniform
        with seeded_torch_rng(seed):
            self.embed = nn.Embedding(vocab_size, d_model)
            self.position = nn.Embedding(length, d_model)
            self.qkv = nn.ModuleList(nn.Linear(d_model, 3 * d_model) for _ in range(n_layers))
            self.query = nn.Linear(d_model, 1)
            self.out = nn.Linear(d_model, n_classes)
        self.double()

    def embed_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token plus position embeddings, shape ``(batch, length, d_model)``, on ``tokens``' device.

        Parameters
        ----------
        tokens : torch.Tensor
            int64, shape ``(batch, length)``.

        Returns
        -------
        torch.Tensor
        """
        return self.embed(tokens) + self.position(torch.arange(tokens.shape[1], device=tokens.device))

    def _encode(self, tokens, keep, embeddings):
        h = self.embed_tokens(tokens) if embeddings is None else embeddings
        keep = torch.ones(tokens.shape, dtype=torch.bool, device=tokens.device) if keep is None else keep
        maps = []
        for layer in self.qkv:
            q, k, v = layer(h).chunk(3, dim=-1)
            scores = (q @ k.transpose(1, 2)) / math.sqrt(q.shape[-1])
            a = torch.softmax(scores.masked_fill(~keep[:, None, :], -torch.inf), -1)
            maps.append(a)
            h = h + a @ v
        pool_scores = (torch.zeros(tokens.shape, dtype=h.dtype, device=h.device) if self.uniform
                       else self.query(h)[..., 0])
        alpha = torch.softmax(pool_scores.masked_fill(~keep, -torch.inf), -1)
        return h, alpha, maps

    def forward(self, tokens, keep=None, embeddings=None, pool_weights=None):
        h, alpha, _ = self._encode(tokens, keep, embeddings)
        alpha = alpha if pool_weights is None else pool_weights
        return self.out((alpha[..., None] * h).sum(1))

    def attention_maps(self, tokens, keep=None):
        """``(α, [A_1, …, A_L])``: pooling weights (batch, length) and each layer's attention (batch, length, length)."""
        _, alpha, maps = self._encode(tokens, keep, None)
        return alpha, maps
