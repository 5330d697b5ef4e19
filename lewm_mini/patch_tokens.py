"""Patch tokens: the same predictor with many tokens per frame, to time planning (the "48x" story).

LeWM encodes a frame as ONE latent token. DINO-WM keeps one token per image patch (about 196
DINOv2 patch tokens of 384 numbers at 224 px). Its predictor then processes P tokens per frame,
and every imagined step of every CEM candidate costs about P times more (attention over P tokens
adds a P^2 term). LeWM reports 0.98 s per CEM solve against 47 s for DINO-WM on the same GPU.

``PatchPredictor`` is ``lewm_mini.predictor.Predictor`` with a frame made of P tokens: the same
AdaLN-zero blocks (width, depth, heads, MLP), the action of frame t modulating all its tokens, and
attention over every token of frames <= t. ``planning_speed`` times one CEM solve with each, at
the same CEM settings. Timing does not depend on the weights, so both models are untrained.
"""

from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from .cem import cem
from .config import Config, PlanConfig
from .planning import latent_cost
from .predictor import AdaLNBlock, CausalSelfAttention, Predictor
from .rollout import rollout


class FrameCausalAttention(CausalSelfAttention):
    """x (B, T, P, width) -> same shape: every token sees all P tokens of its own and earlier frames."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, p, w = x.shape
        q, k, v = self.qkv(x.reshape(b, t * p, w)).view(b, t * p, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        frame = torch.arange(t, device=x.device).repeat_interleave(p)
        mask = None if t == 1 else frame[:, None] >= frame[None, :]  # (T * P, T * P) block-causal
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0)
        return self.out(y.transpose(1, 2).reshape(b, t, p, w))


class PatchBlock(AdaLNBlock):
    """The AdaLN-zero block on (B, T, P, width) tokens, conditioned by c (B, T, 1, width)."""

    def __init__(self, width: int, heads: int, mlp: int, dropout: float):
        super().__init__(width, heads, mlp, dropout)
        self.attn = FrameCausalAttention(width, heads, dropout)


class PatchPredictor(Predictor):
    """(z (B, T, P, D), a (B, T, A)) -> predicted next patch tokens (B, T, P, D); T <= history.

    ``Predictor`` with P tokens per frame: its blocks become ``PatchBlock``s, and a learned embedding says which
    patch a token is, beside the one that says which frame."""

    def __init__(self, cfg, tokens_per_frame: int):
        super().__init__(cfg)
        w = cfg.pred_width
        self.pos = nn.Parameter(torch.randn(1, cfg.history, 1, w) * 0.02)  # which frame
        self.patch_pos = nn.Parameter(torch.randn(1, 1, tokens_per_frame, w) * 0.02)  # which patch
        self.blocks = nn.ModuleList(PatchBlock(w, cfg.pred_heads, cfg.pred_mlp, cfg.dropout)
                                    for _ in range(cfg.pred_depth))

    def forward(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        t = z.shape[1]
        if t > self.history:
            raise ValueError(f"predictor takes at most {self.history} frames, got {t}")
        x = self.inp(z) + self.pos[:, :t] + self.patch_pos
        c = self.action_encoder(a)[:, :, None]  # (B, T, 1, width): one condition for all tokens of a frame
        for block in self.blocks:
            x = block(x, c)
        return self.pred_proj(self.norm(x))


def patch_tokens_per_frame(image_size: int = 64, patch: int = 8) -> int:
    return (image_size // patch) ** 2


def solve_seconds(predictor: nn.Module, z0: torch.Tensor, zg: torch.Tensor, plan: PlanConfig, action_dim: int,
                  history: int, seed: int = 0) -> float:
    """Wall time of one CEM solve from current latent(s) z0 to goal zg, each (1, D) or (1, P, D)."""
    gen = torch.Generator(device=z0.device).manual_seed(seed)
    lo, hi = torch.full((action_dim,), -3.0, device=z0.device), torch.full((action_dim,), 3.0, device=z0.device)

    def cost(cand: torch.Tensor) -> torch.Tensor:  # (1, N, H, A) -> (1, N): last imagined latent vs goal
        n = cand.shape[1]
        z = rollout(predictor, z0.expand(n, *z0.shape[1:]), cand[0], history)[:, -1]
        return latent_cost(z.flatten(1), zg.flatten(1))[None]  # every token of the frame

    if z0.is_cuda:
        torch.cuda.synchronize()
    t = time.perf_counter()
    with torch.inference_mode():
        cem(cost, 1, plan.horizon, action_dim, plan, lo, hi, gen, z0.device)
    if z0.is_cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - t


def planning_speed(cfg: Config, repeats: int = 3, patch: int | None = None, plan: PlanConfig | None = None,
                   device: str | torch.device = "cpu", seed: int = 0) -> dict:
    """Time one CEM solve with one token per frame and with patch tokens, same predictor sizes and CEM.

    Solves alternate (one-token, patch, one-token, ...) after one warm-up each, so a change in the
    machine's load hits both; the medians of ``repeats`` solves and their ratio are returned.
    """
    m, plan = cfg.model, plan or cfg.plan
    history = plan.history or m.history
    p = patch_tokens_per_frame(m.image_size, patch or m.patch)
    a_dim = m.action_dim * m.frameskip
    torch.manual_seed(seed)
    one = Predictor(m).to(device).eval()
    many = PatchPredictor(m, p).to(device).eval()
    g = torch.Generator().manual_seed(seed)
    z0, zg = (torch.randn(1, m.latent, generator=g).to(device) for _ in range(2))
    p0, pg = (torch.randn(1, p, m.latent, generator=g).to(device) for _ in range(2))
    runs = {"one": lambda: solve_seconds(one, z0, zg, plan, a_dim, history, seed),
            "patch": lambda: solve_seconds(many, p0, pg, plan, a_dim, history, seed)}
    times = {k: [] for k in runs}
    for k in runs:
        runs[k]()  # warm-up
    for _ in range(repeats):
        for k in runs:
            times[k].append(runs[k]())
    one_s, patch_s = statistics.median(times["one"]), statistics.median(times["patch"])
    return {
        "profile": cfg.profile,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "tokens_per_frame": p,
        "one_token_seconds": one_s,
        "patch_tokens_seconds": patch_s,
        "ratio": patch_s / one_s,
        "repeats": repeats,
        "one_token_times": times["one"],
        "patch_tokens_times": times["patch"],
        "cem": {"samples": plan.samples, "elites": plan.elites, "iterations": plan.iterations,
                "horizon": plan.horizon, "rollout_history": history},
        "predictor": {"width": m.pred_width, "depth": m.pred_depth, "heads": m.pred_heads, "mlp": m.pred_mlp,
                      "latent": m.latent},
        "parameters": {"one_token": sum(q.numel() for q in one.parameters()),
                       "patch_tokens": sum(q.numel() for q in many.parameters())},
    }
