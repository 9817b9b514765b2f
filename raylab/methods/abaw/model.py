"""The dual-branch audio-visual transformer: per-modality temporal encoders, safe
cross-attention between them, a per-frame head, modality dropout and the focal loss.

"Safe" (our reading, the paper's text is not available): attention whose keys are all masked returns
exactly zero, so the residual passes the query through (PyTorch's MultiheadAttention and SDPA return
NaN rows there), and invalid query positions get no attention output either.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from raylab.methods.abaw.config import ModelConfig


class SafeAttention(nn.Module):
    """Multi-head attention with key / query validity masks; output LN(q + gate * attention)."""

    def __init__(self, width: int, heads: int, dropout: float = 0.0):
        super().__init__()
        self.heads, self.head_dim = heads, width // heads
        self.query, self.key, self.value = (nn.Linear(width, width) for _ in range(3))
        self.out = nn.Linear(width, width)
        self.gate = nn.Parameter(torch.ones(width))
        self.norm = nn.LayerNorm(width)
        self.dropout = nn.Dropout(dropout)

    def _heads(self, projection: nn.Linear, x: torch.Tensor) -> torch.Tensor:
        return projection(x).view(x.shape[0], x.shape[1], self.heads, self.head_dim).transpose(1, 2)

    def weights(self, query: torch.Tensor, keys: torch.Tensor, key_valid: torch.Tensor) -> torch.Tensor:
        """Attention weights (B, heads, T, S), the reference for `forward`: masked keys get exactly 0,
        and a row without any valid key is all 0 (its scores are softmaxed unmasked, then zeroed, so
        no all -inf row ever reaches the softmax)."""
        q, k = self._heads(self.query, query), self._heads(self.key, keys)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)
        has_key = key_valid.any(dim=1)[:, None, None, None]
        masked = scores.masked_fill(~key_valid[:, None, None, :], float("-inf"))
        return torch.where(has_key, masked, torch.zeros_like(scores)).softmax(dim=-1) * has_key

    def attend(self, query, keys, key_valid) -> torch.Tensor:
        """`weights(...) @ values` by the fused kernel: rows without a valid key attend to every key
        (finite), and their output is then set to exactly 0."""
        b, t, width = query.shape
        has_key = key_valid.any(dim=1)
        allowed = (key_valid | ~has_key[:, None])[:, None, None, :]
        attended = F.scaled_dot_product_attention(
            self._heads(self.query, query),
            self._heads(self.key, keys),
            self._heads(self.value, keys),
            allowed,
        )
        return attended.transpose(1, 2).reshape(b, t, width) * has_key[:, None, None]

    def forward(self, query, keys, key_valid, query_valid) -> torch.Tensor:
        """LN(q + gate * out(attention)); zero (the output projection's bias included) at invalid
        queries and wherever there is no valid key, so the query passes through unchanged."""
        passes = query_valid & key_valid.any(dim=1)[:, None]
        attended = self.out(self.attend(query, keys, key_valid)) * passes[..., None]
        return self.norm(query + self.gate * self.dropout(attended))


class EncoderLayer(nn.Module):
    """Safe self-attention then a feed-forward block, both post-norm residuals."""

    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.attention = SafeAttention(width, heads, dropout)
        self.feed_forward = nn.Sequential(
            nn.Linear(width, 2 * width), nn.GELU(), nn.Dropout(dropout), nn.Linear(2 * width, width)
        )
        self.norm = nn.LayerNorm(width)

    def forward(self, x, valid):
        x = self.attention(x, x, valid, valid)
        return self.norm(x + self.feed_forward(x))


def sinusoidal(length: int, width: int, device) -> torch.Tensor:
    position = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    rate = torch.exp(torch.arange(0, width, 2, device=device) * (-math.log(10000.0) / width))
    table = torch.zeros(length, width, device=device)
    table[:, 0::2], table[:, 1::2] = torch.sin(position * rate), torch.cos(position * rate)
    return table


class ModalityEncoder(nn.Module):
    """Linear(D -> d) + LayerNorm + sinusoidal positions, then `layers` safe encoder layers."""

    def __init__(self, in_dim: int, cfg: ModelConfig):
        super().__init__()
        self.project = nn.Sequential(nn.Linear(in_dim, cfg.width), nn.LayerNorm(cfg.width))
        self.layers = nn.ModuleList(
            EncoderLayer(cfg.width, cfg.heads, cfg.dropout) for _ in range(cfg.layers)
        )

    def forward(self, x, valid):
        # (torch types a Sequential's item as a plain Module)
        h = self.project(x) + sinusoidal(x.shape[1], cast(nn.Linear, self.project[0]).out_features, x.device)
        for layer in self.layers:
            h = layer(h, valid)
        return h * valid[..., None]


class AVTransformer(nn.Module):
    """Visual and audio encoders, cross-attention each way, a per-frame head on [v', a'] -> 8 logits.

    Missing modality frames are zero in [v', a'], so the head learns the audio-only regime from
    modality dropout (one head, not an auxiliary audio head, so a model trained without dropout keeps an
    audio path too and the dropout comparison measures robustness, not an untrained head).
    """

    def __init__(self, visual_dim: int, audio_dim: int, cfg: ModelConfig, classes: int = 8):
        super().__init__()
        self.visual, self.audio = ModalityEncoder(visual_dim, cfg), ModalityEncoder(audio_dim, cfg)
        self.visual_from_audio = SafeAttention(cfg.width, cfg.heads, cfg.dropout)
        self.audio_from_visual = SafeAttention(cfg.width, cfg.heads, cfg.dropout)
        self.head = nn.Sequential(
            nn.Linear(2 * cfg.width, cfg.width), nn.GELU(), nn.Linear(cfg.width, classes)
        )

    def forward(self, visual, vis_valid, audio, aud_valid) -> torch.Tensor:
        v, a = self.visual(visual, vis_valid), self.audio(audio, aud_valid)
        v2 = self.visual_from_audio(v, a, aud_valid, vis_valid) * vis_valid[..., None]
        a2 = self.audio_from_visual(a, v, vis_valid, aud_valid) * aud_valid[..., None]
        return self.head(torch.cat([v2, a2], dim=-1))


def focal_loss(
    logits, labels, gamma: float, alpha: torch.Tensor | None = None, normaliser=None
) -> torch.Tensor:
    """FL = -alpha_y (1 - p_y)^gamma log p_y summed over frames with a label != -1, divided by
    `normaliser` (default: their count). gamma = 0 and alpha = 1 give cross-entropy."""
    valid = labels >= 0
    log_p = F.log_softmax(logits[valid], dim=-1).gather(1, labels[valid][:, None])[:, 0]
    terms = -((1 - log_p.exp()) ** gamma) * log_p
    if alpha is not None:
        terms = terms * alpha[labels[valid]]
    return terms.sum() / (valid.sum().clamp(min=1) if normaliser is None else normaliser)


def class_weights(labels: np.ndarray, classes: int = 8) -> np.ndarray:
    """alpha_c proportional to 1 / frequency (count + 1), normalised to mean 1 over the classes."""
    counts = np.bincount(labels[labels >= 0], minlength=classes) + 1.0
    inverse = 1.0 / counts
    return inverse * classes / inverse.sum()


def modality_dropout(
    rng: np.random.Generator, windows: int, p_visual: float, p_audio: float, frame_mask: float, length: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per window: drop all visual frames with probability p_v, else all audio with p_a (never both);
    then mask a `frame_mask` fraction of visual frames. Returns keep masks (windows, length) for each."""
    u = rng.random(windows)
    keep_visual = np.repeat((u >= p_visual)[:, None], length, axis=1) & (
        rng.random((windows, length)) >= frame_mask
    )
    keep_audio = np.repeat(~((u >= p_visual) & (u < p_visual + p_audio))[:, None], length, axis=1)
    return keep_visual, keep_audio
