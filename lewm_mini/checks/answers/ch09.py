"""Reference answers for the checkers of chapter 09 (``lewm_mini.checks.ch09``)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def forecasts_reference(predictor, z: torch.Tensor, blocks: torch.Tensor) -> torch.Tensor:
    """(N, L + 1, D), (N, L, A) -> (N, L, D): the forecast of the latent after frame t from frame t and
    block t alone (a window of length 1 per step, all N x L windows in one batch)."""
    n, l, d = z.shape[0], blocks.shape[1], z.shape[2]
    return predictor(z[:, :-1].reshape(n * l, 1, d), blocks.reshape(n * l, 1, -1))[:, 0].reshape(n, l, d)


def surprise_reference(predictor, z: torch.Tensor, blocks: torch.Tensor) -> torch.Tensor:
    """(N, L + 1, D), (N, L, A) -> (N, L): mean over D of (predictor(z_t, a_t) - z_{t+1})^2."""
    return (forecasts_reference(predictor, z, blocks) - z[:, 1:]).pow(2).mean(-1)


def windowed_context_surprise(predictor, z: torch.Tensor, blocks: torch.Tensor, history: int) -> torch.Tensor:
    """A wrong answer the checker recognises: every forecast sees the last ``history`` true latents of the
    episode (fewer at its start) instead of frame t alone."""
    out = [predictor(z[:, max(0, t + 1 - history) : t + 1], blocks[:, max(0, t + 1 - history) : t + 1])[:, -1]
           for t in range(blocks.shape[1])]
    return (torch.stack(out, 1) - z[:, 1:]).pow(2).mean(-1)


def auc_reference(scores: np.ndarray, labels: np.ndarray) -> float:
    """P(score of a random positive > score of a random negative), ties counting 1/2."""
    s, y = np.asarray(scores, float), np.asarray(labels).astype(bool)
    pos, neg = s[y], s[~y]
    greater = (pos[:, None] > neg[None]).mean()
    ties = (pos[:, None] == neg[None]).mean()
    return float(greater + 0.5 * ties)


def straightness_reference(z: torch.Tensor) -> float:
    v = z[:, 1:] - z[:, :-1]
    return float(F.cosine_similarity(v[:, :-1], v[:, 1:], dim=-1).mean())


def decoder_loss_reference(model, decoder, frames: np.ndarray) -> torch.Tensor:
    """uint8 frames (B, H, W, 3) -> MSE between decoder(frozen model.encode(frames)) and the frames, in [0, 1]."""
    from ...data import frames_to_tensor

    x = frames_to_tensor(frames)
    with torch.no_grad():
        z = model.encode(x)
    return F.mse_loss(decoder(z), x)
