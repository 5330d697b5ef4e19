"""Autoregressive rollout in latent space: imagine the consequences of an action sequence."""

from __future__ import annotations

import torch


def rollout(predictor: torch.nn.Module, z0: torch.Tensor, blocks: torch.Tensor, history: int) -> torch.Tensor:
    """Roll the predictor forward from the current latent.

    z0: (B, D) latent of the current frame; blocks: (B, H, A) z-scored action blocks, the first
    applied to z0. Step k feeds the last ``history`` latents (z0 and earlier predictions) with
    their action blocks and keeps the newest prediction. Returns the H predicted latents (B, H, D).
    """
    seq = [z0]
    for k in range(blocks.shape[1]):
        lo = max(0, k + 1 - history)
        ctx = torch.stack(seq[lo:], dim=1)  # (B, <= history, D)
        seq.append(predictor(ctx, blocks[:, lo : k + 1])[:, -1])
    return torch.stack(seq[1:], dim=1)
