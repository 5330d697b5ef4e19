"""Autoregressive rollout in latent space: imagine the consequences of an action sequence."""

from __future__ import annotations

import torch


def rollout(predictor: torch.nn.Module, z0: torch.Tensor, blocks: torch.Tensor, history: int,
            context: torch.Tensor | None = None, context_blocks: torch.Tensor | None = None) -> torch.Tensor:
    """Roll the predictor forward from the current latent.

    z0: (B, D) latent of the current frame; blocks: (B, H, A) z-scored action blocks, the first
    applied to z0. Step k feeds the last ``history`` latents (z0 and earlier predictions) with
    their action blocks and keeps the newest prediction. Returns the H predicted latents (B, H, D).

    context: (B, C, D) latents of the C frames before z0 (oldest first) and context_blocks (B, C, A)
    the blocks executed after each of them: the recent past, which shows a velocity that one frame
    cannot (the Momentum world). Without it the rollout starts from z0 alone.
    """
    seq = [z0] if context is None else [*context.unbind(1), z0]
    acts = blocks if context is None else torch.cat([context_blocks, blocks], dim=1)
    c = len(seq) - 1  # index of z0
    for k in range(blocks.shape[1]):
        now = c + k  # index of the newest latent
        lo = max(0, now + 1 - history)
        ctx = torch.stack(seq[lo:], dim=1)  # (B, <= history, D)
        seq.append(predictor(ctx, acts[:, lo : now + 1])[:, -1])
    return torch.stack(seq[c + 1 :], dim=1)
