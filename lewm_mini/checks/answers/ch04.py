"""Reference answers for the checkers of chapter 04 (``lewm_mini.checks.ch04``)."""

from __future__ import annotations

import math
import torch

from .. import ch04 as _checks  # helpers the checkers also use


def epps_pulley_reference(x: torch.Tensor, knots: int = 17, t_max: float = 3.0) -> float:
    """N * trapezoid-integral over [0, t_max] (doubled) of |ecf(t) - exp(-t^2/2)|^2 exp(-t^2/2)."""
    t = torch.linspace(0, t_max, knots, dtype=torch.float64)
    dt = t_max / (knots - 1)
    w = torch.full((knots,), 2 * dt, dtype=torch.float64)
    w[[0, -1]] = dt
    tx = x.double()[:, None] * t
    err = (torch.cos(tx).mean(0) - torch.exp(-t**2 / 2)) ** 2 + torch.sin(tx).mean(0) ** 2
    return float((err * w * torch.exp(-t**2 / 2)).sum() * len(x))


def epps_pulley_exact_reference(x: torch.Tensor) -> float:
    """N * integral over the real line of |ecf(t) - exp(-t^2/2)|^2 exp(-t^2/2) dt, in closed form."""
    x = x.double().flatten()
    n = len(x)
    pair = torch.exp(-(x[:, None] - x[None, :]) ** 2 / 2).sum() / n**2
    cross = torch.exp(-x**2 / 4).sum() / n
    return float(n * (math.sqrt(2 * math.pi) * pair - 2 * math.sqrt(math.pi) * cross + math.sqrt(2 * math.pi / 3)))


def all_reduced_sigreg_reference(chunks: list[torch.Tensor], directions: torch.Tensor) -> float:
    """SIGReg of the concatenated batch, computed from per-chunk sums of cos and sin (an all-reduce)."""
    n = sum(len(c) for c in chunks)
    cos_sum = sum(_checks._local_means(c, directions)[0] * len(c) for c in chunks)
    sin_sum = sum(_checks._local_means(c, directions)[1] * len(c) for c in chunks)
    return float(_checks._sigreg_from_means(cos_sum / n, sin_sum / n, n).mean())
