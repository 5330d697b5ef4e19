"""Projector: the small MLP after the encoder (and after the predictor, as "pred_proj").

Linear -> BatchNorm1d -> GELU -> Linear. The encoder ends in LayerNorm, which pins every latent
to a fixed scale; SIGReg wants latents distributed like N(0, I), so it needs the scale to move.
The BatchNorm'd hidden layer lets it. BatchNorm means: plan in eval mode (running statistics).
"""

from __future__ import annotations

import torch
from torch import nn


class Projector(nn.Module):
    """(..., d_in) -> (..., d_out); leading dimensions are flattened for BatchNorm and restored."""

    def __init__(self, d_in: int, hidden: int, d_out: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.BatchNorm1d(hidden), nn.GELU(), nn.Linear(hidden, d_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        return self.net(x.reshape(-1, x.shape[-1])).reshape(*lead, -1)
