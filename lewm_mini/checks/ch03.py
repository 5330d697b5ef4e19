"""Checkers for chapter 03 (the predictor: causal attention, AdaLN-zero, teacher forcing, rollout)."""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from . import CheckFailed, require, run_check


def _tensor(x, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise CheckFailed(f"{name} must return a tensor, got {type(x).__name__}")
    return x


# ----------------------------------------------------------------------------- Exercise 3.1


def _attention(q, k, v, mask: torch.Tensor | None, scale: float) -> torch.Tensor:
    s = q @ k.transpose(-2, -1) * scale
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf"))
    return s.softmax(-1) @ v


def check_causal_attention(fn: Callable, strict: bool | None = None) -> bool:
    """fn(q, k, v) with shapes (B, heads, T, d) -> (B, heads, T, d): softmax(q k^T / sqrt(d)) v, token i sees j <= i."""

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        for shape in ((2, 3, 5, 4), (1, 2, 3, 16), (1, 1, 1, 8), (3, 1, 6, 2)):
            q, k, v = (torch.randn(shape, generator=g) * 2 for _ in range(3))
            got = _tensor(fn(q.clone(), k.clone(), v.clone()), "causal_attention")
            want = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            require(tuple(got.shape) == tuple(want.shape),
                    f"q, k, v of shape {shape} should give {tuple(want.shape)}, got {tuple(got.shape)}")
            require(bool(torch.isfinite(got).all()),
                    "NaN or inf in the output: each token must at least see itself (mask j > i, keep j = i)")
            if torch.allclose(got, want, atol=1e-5):
                continue
            t, d = shape[-2], shape[-1]
            tril = torch.ones(t, t, dtype=torch.bool).tril()
            if torch.allclose(got, _attention(q, k, v, None, 1 / math.sqrt(d)), atol=1e-5):
                raise CheckFailed("no causal mask: token i must not attend to tokens j > i (set those scores to -inf "
                                  "before the softmax)")
            if torch.allclose(got, _attention(q, k, v, tril.T, 1 / math.sqrt(d)), atol=1e-5):
                raise CheckFailed("the mask is the wrong way round: token i may see j <= i (a lower-triangular mask, "
                                  "torch.tril), not j >= i")
            if torch.allclose(got, _attention(q, k, v, tril, 1.0), atol=1e-5):
                raise CheckFailed("scale the scores by 1 / sqrt(d), d being the size of one head (the last dimension)")
            raise CheckFailed("expected softmax over the keys (last dimension) of (q @ k^T) / sqrt(d), with scores for "
                              "j > i set to -inf, then @ v")

    return run_check("Exercise 3.1 causal_attention", test, strict)


# ----------------------------------------------------------------------------- Exercise 3.2


def toy_predictor(history: int = 3, seed: int = 0):
    """A small lewm_mini Predictor whose blocks are not the identity (random modulation), in eval mode."""
    from ..config import ModelConfig
    from ..predictor import Predictor

    torch.manual_seed(seed)
    cfg = ModelConfig(latent=6, proj_hidden=16, pred_width=16, pred_depth=2, pred_heads=2, pred_mlp=32,
                      history=history, frameskip=2, dropout=0.0)
    p = Predictor(cfg)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for blk in p.blocks:
            blk.ada[1].weight.copy_(0.3 * torch.randn(blk.ada[1].weight.shape, generator=g))
            blk.ada[1].bias.copy_(0.3 * torch.randn(blk.ada[1].bias.shape, generator=g))
    return p.eval(), cfg


def teacher_forced_reference(predictor, z: torch.Tensor, blocks: torch.Tensor, history: int) -> torch.Tensor:
    out = []
    for t in range(blocks.shape[1]):
        lo = max(0, t + 1 - history)
        out.append(predictor(z[:, lo : t + 1], blocks[:, lo : t + 1])[:, -1])
    return torch.stack(out, dim=1)


def check_teacher_forced(fn: Callable, strict: bool | None = None) -> bool:
    """fn(predictor, z (B, L+1, D), blocks (B, L, A), history) -> (B, L, D): the one-step prediction of each
    z_{t+1} from the true latents z_{t+1-history..t} and their action blocks."""

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        for history, length in ((3, 7), (2, 5), (1, 4), (3, 2)):
            pred, cfg = toy_predictor(history)
            z = torch.randn(4, length + 1, cfg.latent, generator=g)
            blocks = torch.randn(4, length, cfg.action_dim * cfg.frameskip, generator=g)
            with torch.no_grad():
                got = _tensor(fn(pred, z.clone(), blocks.clone(), history), "teacher_forced")
                want = teacher_forced_reference(pred, z, blocks, history)
            require(tuple(got.shape) == tuple(want.shape),
                    f"with z {tuple(z.shape)} and blocks {tuple(blocks.shape)} expected one prediction per action "
                    f"block, shape {tuple(want.shape)}; got {tuple(got.shape)}")
            if torch.allclose(got, want, atol=1e-5):
                continue
            with torch.no_grad():
                first = torch.stack([pred(z[:, max(0, t + 1 - history) : t + 1],
                                          blocks[:, max(0, t + 1 - history) : t + 1])[:, 0]
                                     for t in range(length)], 1)
                short = teacher_forced_reference(pred, z, blocks, 1)
            if torch.allclose(got, first, atol=1e-5):
                raise CheckFailed("keep the prediction of the newest token ([:, -1]): the output at the last position "
                                  "is the one that has seen the whole window")
            if history > 1 and torch.allclose(got, short, atol=1e-5):
                raise CheckFailed(f"use up to `history` = {history} latents of context, not only the current one")
            raise CheckFailed("for each t, feed the true latents z[:, lo : t + 1] with the action blocks "
                              "blocks[:, lo : t + 1], lo = max(0, t + 1 - history): latent and action of the same "
                              "step go together, and the target z_{t+1} is never an input")

    return run_check("Exercise 3.2 teacher_forced", test, strict)
