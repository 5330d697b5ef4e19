"""LeWM: the whole joint-embedding predictive world model in one place.

    frames (B, T, 3, H, W) --encoder--> features --projector--> z (B, T, D)
    (z_1..z_{T-1}, a_1..a_{T-1}) --predictor--> predicted z_2..z_T
    loss = MSE(predicted, z_2..z_T) + lambda * SIGReg(z)

No stop-gradient, no EMA target, no pretrained encoder, no reconstruction: two terms.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .encoder import build_encoder
from .predictor import Predictor
from .projector import Projector
from .rollout import rollout
from .sigreg import SIGReg


class LeWM(nn.Module):
    def __init__(self, cfg: ModelConfig, num_proj: int = 1024):
        super().__init__()
        self.cfg = cfg
        self.encoder = build_encoder(cfg)
        self.projector = Projector(cfg.enc_width, cfg.proj_hidden, cfg.latent)
        self.predictor = Predictor(cfg)
        self.sigreg = SIGReg(num_proj=num_proj)

    def check_frames(self, frames: torch.Tensor, finite: bool = True) -> None:
        """Shape and dtype always; with ``finite``, also that no value is NaN or inf.

        The finite check reads a value back from the device: on a GPU that is a host sync (the CPU
        waits for all queued work). The training loop skips it (its frames come from uint8, finite by
        construction, and its loss is checked at every sync); calls on user data keep it.
        """
        s = self.cfg.image_size
        if not torch.is_floating_point(frames):
            raise TypeError(f"frames must be a float tensor in [0, 1] (see frames_to_tensor), got {frames.dtype}")
        if frames.ndim < 4 or tuple(frames.shape[-3:]) != (3, s, s):
            raise ValueError(f"frames must have shape (..., 3, {s}, {s}), got {tuple(frames.shape)}")
        if finite and not torch.isfinite(frames).all():
            raise ValueError("frames contain NaN or inf")

    def encode(self, frames: torch.Tensor, check_finite: bool = True) -> torch.Tensor:
        """(..., 3, H, W) float frames -> latents (..., D). ``check_finite``: see ``check_frames``."""
        self.check_frames(frames, finite=check_finite)
        lead = frames.shape[:-3]
        z = self.projector(self.encoder(frames.reshape(-1, *frames.shape[-3:])))
        return z.reshape(*lead, -1)

    def predict(self, z: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Teacher-forced prediction: (B, T, D), (B, T, A) -> next latents (B, T, D)."""
        a_dim = self.cfg.action_dim * self.cfg.frameskip
        if actions.shape[:-1] != z.shape[:-1] or actions.shape[-1] != a_dim:
            raise ValueError(f"actions must have shape {tuple(z.shape[:-1]) + (a_dim,)}, got {tuple(actions.shape)}")
        return self.predictor(z, actions)

    def rollout(self, z0: torch.Tensor, blocks: torch.Tensor, history: int | None = None,
                context: torch.Tensor | None = None, context_blocks: torch.Tensor | None = None) -> torch.Tensor:
        """Imagined latents (B, H, D) after action blocks (B, H, A) from current latents z0 (B, D), optionally
        after the past latents ``context`` (B, C, D) and their blocks ``context_blocks`` (B, C, A)."""
        return rollout(self.predictor, z0, blocks, history or self.cfg.history, context, context_blocks)

    def loss(self, frames: torch.Tensor, actions: torch.Tensor, lam: float = 0.09,
             generator: torch.Generator | None = None, check_finite: bool = True) -> dict[str, torch.Tensor]:
        """frames (B, T, 3, H, W), actions (B, T, A) -> {"loss", "pred", "sigreg"} scalars.

        ``check_finite=False`` (the training loop) skips the finite check of the frames, a host sync
        per call on a GPU: see ``check_frames``.
        """
        z = self.encode(frames, check_finite=check_finite)  # (B, T, D)
        pred = self.predict(z[:, :-1], actions[:, :-1])
        pred_loss = F.mse_loss(pred, z[:, 1:])
        sig = self.sigreg(z.transpose(0, 1), generator=generator)  # (T, B, D): per time step
        return {"loss": pred_loss + lam * sig, "pred": pred_loss, "sigreg": sig}


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def parameter_table(model: LeWM) -> dict[str, int]:
    """Parameters per part: encoder, projector, predictor (with its action encoder and pred_proj)."""
    return {name: count_parameters(getattr(model, name)) for name in ("encoder", "projector", "predictor")} | {
        "total": count_parameters(model)
    }
