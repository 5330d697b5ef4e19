"""Reference answers for the checkers of chapter 02 (``lewm_mini.checks.ch02``)."""

from __future__ import annotations

import torch

from .. import ch02 as _checks  # helpers the checkers also use


def patchify_reference(images: torch.Tensor, patch: int) -> torch.Tensor:
    n, c, h, w = images.shape
    x = images.reshape(n, c, h // patch, patch, w // patch, patch)  # (n, c, gy, py, gx, px)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(n, (h // patch) * (w // patch), c * patch * patch)


def probe_r_reference(z_tr, y_tr, z_te, y_te, ridge: float = 1e-3) -> float:
    """Standardise with the training statistics, ridge with a bias, Pearson r per column on the test set, mean."""
    return float(_checks._pearson(_checks._ridge_predict(z_tr, y_tr, z_te, ridge)[1], y_te.double()).mean())
