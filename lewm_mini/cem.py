"""CEM: the cross-entropy method, searching action blocks in z-scored action space.

For each of P problems keep a Gaussian over action sequences (H blocks of A numbers). Each
iteration samples N candidates, scores them all in one batched call, and refits the Gaussian to
the best K (the elites). The mean after the last iteration is the plan.
"""

from __future__ import annotations

from typing import Callable

import torch

from .config import PlanConfig


def cem(cost: Callable[[torch.Tensor], torch.Tensor], problems: int, horizon: int, action_dim: int,
        cfg: PlanConfig, lo: torch.Tensor, hi: torch.Tensor, generator: torch.Generator | None = None,
        device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Minimise ``cost`` over action sequences.

    cost: candidates (P, N, H, A) -> costs (P, N). lo, hi: (A,) bounds in z-scored space.
    Returns the plans (P, H, A) and their costs (P,).
    """
    mean = torch.zeros(problems, horizon, action_dim, device=device)
    std = torch.full_like(mean, cfg.init_std)
    shape = (problems, cfg.samples, horizon, action_dim)
    for _ in range(cfg.iterations):
        eps = torch.randn(shape, generator=generator, device=device)
        cand = torch.maximum(torch.minimum(mean[:, None] + std[:, None] * eps, hi), lo)
        costs = cost(cand)  # (P, N)
        idx = costs.topk(cfg.elites, dim=1, largest=False).indices  # (P, K)
        elites = torch.gather(cand, 1, idx[:, :, None, None].expand(-1, -1, horizon, action_dim))
        mean, std = elites.mean(1), elites.std(1)
    return mean, cost(mean[:, None])[:, 0]
