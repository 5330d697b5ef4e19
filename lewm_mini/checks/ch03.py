"""Checkers for chapter 03 (the predictor: causal attention, AdaLN-zero, teacher forcing, rollout)."""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from . import CheckFailed, as_tensor, require, run_check


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
            got = as_tensor(fn(q.clone(), k.clone(), v.clone()), "causal_attention")
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


def _windowed(predictor, z: torch.Tensor, blocks: torch.Tensor, history: int, feed_truth: bool,
              z_shift: int = 0, a_shift: int = 0, newest_block_only: bool = False) -> torch.Tensor:
    """Rollout-like loops for the hints: feed_truth uses the true latents z[:, :k+1] as context (teacher
    forcing); z_shift / a_shift move the context window of latents / action blocks; newest_block_only pairs
    every context latent with blocks[:, k]."""
    seq, out = [z[:, 0]], []
    for k in range(blocks.shape[1]):
        lo = max(0, k + 1 - history)
        ctx = z[:, lo + z_shift : k + 1 + z_shift] if feed_truth else torch.stack(seq[lo:], dim=1)
        a = blocks[:, max(0, lo + a_shift) : k + 1 + a_shift]
        if newest_block_only:
            a = blocks[:, k : k + 1].expand(-1, ctx.shape[1], -1)
        if 0 < a.shape[1] < ctx.shape[1]:  # ran past the last block: repeat it
            a = torch.cat([a, a[:, -1:].expand(-1, ctx.shape[1] - a.shape[1], -1)], dim=1)
        if a.shape[1] != ctx.shape[1]:
            return torch.full_like(z[:, 1:], float("nan"))
        out.append(predictor(ctx, a)[:, -1])
        seq.append(out[-1])
    return torch.stack(out, dim=1)


def check_rollout(fn: Callable, strict: bool | None = None) -> bool:
    """fn(predictor, z (B, H+1, D), blocks (B, H, A), history) -> (B, H, D): the autoregressive rollout from
    z[:, 0] alone (z[:, 1:] are the true future latents, for comparison only), as ``lewm_mini.rollout``."""
    from ..rollout import rollout as reference

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        for history, horizon in ((3, 6), (2, 5), (1, 4), (3, 2), (3, 1)):
            pred, cfg = toy_predictor(history)
            z = torch.randn(4, horizon + 1, cfg.latent, generator=g)
            blocks = torch.randn(4, horizon, cfg.action_dim * cfg.frameskip, generator=g)
            with torch.no_grad():
                got = as_tensor(fn(pred, z.clone(), blocks.clone(), history), "rollout")
                want = reference(pred, z[:, 0], blocks, history)
            require(tuple(got.shape) == tuple(want.shape),
                    f"with z {tuple(z.shape)} and blocks {tuple(blocks.shape)} expected one imagined latent per "
                    f"action block, shape {tuple(want.shape)} (z[:, 0] itself is not part of the output); "
                    f"got {tuple(got.shape)}")
            if torch.allclose(got, want, atol=1e-5):
                continue
            with torch.no_grad():
                hints = [
                    (_windowed(pred, z, blocks, history, feed_truth=True),
                     "you fed the true latents z[:, 1:] back in (teacher forcing): a rollout only knows z[:, 0]; "
                     "every later input must be one of its own predictions"),
                    (_windowed(pred, z, blocks, history, feed_truth=True, z_shift=1),
                     "a future frame leaks in: the latent you are predicting (or a later one) is part of the "
                     "context; a rollout only ever sees z[:, 0] and its own predictions"),
                    (_windowed(pred, z, blocks, history, feed_truth=False, a_shift=1),
                     "off by one in the action index: the prediction of z_{k+1} uses the block that leads from "
                     "z_k to z_{k+1}, blocks[:, k], paired with the newest latent (blocks[:, lo : k + 1])"),
                    (_windowed(pred, z, blocks, history, feed_truth=False, newest_block_only=True),
                     "each context latent needs its own block: blocks[:, lo : k + 1], not the newest block repeated"),
                    (reference(pred, z[:, 0], blocks, 1),
                     f"use up to `history` = {history} latents of context (z0 and your latest predictions), "
                     "not only the newest one"),
                ]
            for alt, hint in hints:
                if torch.allclose(got, alt, atol=1e-5, equal_nan=False):
                    raise CheckFailed(hint)
            raise CheckFailed("step k: context = the last `history` latents of [z0, your predictions so far], with "
                              "blocks[:, lo : k + 1] (lo = max(0, k + 1 - history)); keep the newest output [:, -1] "
                              "and append it to the sequence")
        # z[:, 1:] must never be read: replace it by NaN, the answer must not change
        pred, cfg = toy_predictor(3)
        z = torch.randn(2, 5, cfg.latent, generator=g)
        blocks = torch.randn(2, 4, cfg.action_dim * cfg.frameskip, generator=g)
        z_nan = z.clone()
        z_nan[:, 1:] = float("nan")
        with torch.no_grad():
            got = as_tensor(fn(pred, z_nan, blocks.clone(), 3), "rollout")
        require(bool(torch.isfinite(got).all()),
                "your rollout reads z[:, 1:] (set to NaN in this test): only z[:, 0] may be used")

    return run_check("Exercise 3.2 rollout", test, strict)


# ----------------------------------------------------------------------------- Exercise 3.3


def check_adaln_block(cls: Callable, strict: bool | None = None) -> bool:
    """cls(width, heads, mlp, dropout) -> an nn.Module with forward(x (B, T, width), c (B, T, width)): the
    AdaLN-zero block of ``lewm_mini.predictor.AdaLNBlock`` (same submodule names: norm1, attn, norm2, mlp, ada)."""
    from ..predictor import AdaLNBlock as Reference

    def test() -> None:
        width, heads, mlp = 16, 2, 32
        torch.manual_seed(0)
        ours = cls(width, heads, mlp, 0.0)
        require(isinstance(ours, torch.nn.Module),
                f"AdaLNBlock(...) must build an nn.Module, got {type(ours).__name__}")
        torch.manual_seed(0)
        ref = Reference(width, heads, mlp, 0.0)
        keys, want_keys = set(ours.state_dict()), set(ref.state_dict())
        require(keys == want_keys,
                f"parameter names differ from the layout asked for: missing {sorted(want_keys - keys)}, "
                f"unexpected {sorted(keys - want_keys)} (norm1, attn, norm2, mlp, ada = SiLU then Linear)")
        ours.eval()
        g = torch.Generator().manual_seed(1)
        x = torch.randn(3, 4, width, generator=g)
        c = torch.randn(3, 4, width, generator=g)
        with torch.no_grad():
            out0 = as_tensor(ours(x.clone(), c.clone()), "AdaLNBlock.forward")
        require(tuple(out0.shape) == tuple(x.shape), f"the block keeps the shape of x {tuple(x.shape)}, got "
                f"{tuple(out0.shape)}")
        with torch.no_grad():
            modulation = ours.ada(c)
        require(bool((modulation == 0).all()),
                "the modulation is not zero at the start: initialise the last Linear of `ada` (weight and bias) "
                "to zero, so every shift, scale and gate starts at 0")
        require(torch.equal(out0, x), "with a zero modulation the block must be exactly the identity (x + 0 * ...): "
                                      "multiply each sublayer's output by its gate before adding it to x")
        # the computation, with non-zero modulation: copy random weights into both blocks
        with torch.no_grad():
            ref.ada[1].weight.copy_(0.3 * torch.randn(ref.ada[1].weight.shape, generator=g))
            ref.ada[1].bias.copy_(0.3 * torch.randn(ref.ada[1].bias.shape, generator=g))
        ours.load_state_dict(ref.state_dict())
        ref.eval()
        with torch.no_grad():
            got, want = ours(x.clone(), c.clone()), ref(x, c)
        if not torch.allclose(got, want, atol=1e-5):
            raise CheckFailed("right at the start, wrong once the modulation is non-zero. ada(c) gives six vectors, "
                              "in this order: shift1, scale1, gate1, shift2, scale2, gate2 (chunk(6, dim=-1)); "
                              "h = norm(x) * (1 + scale) + shift; x = x + gate * sublayer(h), first attention with "
                              "norm1, then the MLP with norm2 (pre-norm: normalise the input of each sublayer)")
        # the first gradient goes to the modulation only
        torch.manual_seed(0)
        fresh = cls(width, heads, mlp, 0.0)
        loss = (fresh(x, c) - torch.randn(x.shape, generator=g)).pow(2).mean()
        loss.backward()
        ada_grad = sum(float(p.grad.abs().sum()) for p in fresh.ada.parameters() if p.grad is not None)
        require(ada_grad > 0, "at initialisation the modulation layer must receive a gradient (the gates' gradient "
                              "is the sublayers' output): is `ada` used in forward?")

    return run_check("Exercise 3.3 AdaLNBlock", test, strict)
