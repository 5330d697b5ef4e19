"""Predictor: a causal transformer that maps (latent, action) histories to next latents.

Each latent z_t is one token. The action block a_t conditions every layer through AdaLN-zero
(as in DiT): from the action embedding c_t a linear layer produces a shift, a scale and a gate for
the attention and the MLP sublayers. That layer starts at zero, so every gate is 0 and each block
starts as the identity; the network learns how much each action should matter.

Token t attends to tokens <= t (causal), so one pass over a clip predicts z_2..z_T from z_1..z_{T-1}
(teacher forcing); planning feeds predictions back in (autoregressive rollout).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .projector import Projector


class ActionEncoder(nn.Module):
    """Z-scored action block (..., 2 * frameskip) -> embedding (..., width)."""

    def __init__(self, action_dim: int, width: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(action_dim, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return self.net(a)


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale) + shift


class CausalSelfAttention(nn.Module):
    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.dropout = dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, w = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0)
        return self.out(y.transpose(1, 2).reshape(b, t, w))


class AdaLNBlock(nn.Module):
    """Pre-norm transformer block whose norms are modulated by the action embedding c (B, T, width)."""

    def __init__(self, width: int, heads: int, mlp: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(width, elementwise_affine=False)
        self.attn = CausalSelfAttention(width, heads, dropout)
        self.norm2 = nn.LayerNorm(width, elementwise_affine=False)
        self.mlp = nn.Sequential(nn.Linear(width, mlp), nn.GELU(), nn.Dropout(dropout), nn.Linear(mlp, width))
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(width, 6 * width))
        nn.init.zeros_(self.ada[1].weight)  # AdaLN-zero: gates start at 0, the block is the identity
        nn.init.zeros_(self.ada[1].bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.ada(c).chunk(6, dim=-1)
        x = x + gate1 * self.attn(modulate(self.norm1(x), shift1, scale1))
        return x + gate2 * self.mlp(modulate(self.norm2(x), shift2, scale2))


class Predictor(nn.Module):
    """(z (B, T, D), a (B, T, A)) -> predicted next latents (B, T, D); T <= history."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        w = cfg.pred_width
        self.history = cfg.history
        self.action_encoder = ActionEncoder(cfg.action_dim * cfg.frameskip, w)
        self.inp = nn.Linear(cfg.latent, w)
        self.pos = nn.Parameter(torch.randn(1, cfg.history, w) * 0.02)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(AdaLNBlock(w, cfg.pred_heads, cfg.pred_mlp, cfg.dropout) for _ in range(cfg.pred_depth))
        self.norm = nn.LayerNorm(w)
        self.pred_proj = Projector(w, cfg.proj_hidden, cfg.latent)

    def forward(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        t = z.shape[1]
        if t > self.history:
            raise ValueError(f"predictor takes at most {self.history} latents, got {t}")
        x = self.drop(self.inp(z) + self.pos[:, :t])
        c = self.action_encoder(a)
        for block in self.blocks:
            x = block(x, c)
        return self.pred_proj(self.norm(x))
