"""SIGReg: Sketched Isotropic Gaussian Regularisation (LeJEPA), as released with LeWM.

Collapse means all frames map to (nearly) the same latent. SIGReg prevents it by testing whether
the batch of latents looks like samples of an isotropic Gaussian N(0, I) and penalising the test
statistic. In high dimension the test is "sketched": project the latents on M random unit
directions (Cramer-Wold: a distribution is Gaussian iff all its 1-D projections are) and apply the
1-D Epps-Pulley test to each projection. Epps-Pulley compares the empirical characteristic
function phi_hat(t) = mean_b exp(i t x_b) with the Gaussian's exp(-t^2 / 2), integrated over t
with weight exp(-t^2 / 2); the integrand is even in t, so we integrate over [0, 3] and double.

Sanity values for D = 192: N(0, I) data gives ~1.06, collapsed (all-zero) data ~0.40 * B.
"""

from __future__ import annotations

import torch
from torch import nn


class SIGReg(nn.Module):
    """SIGReg(z) for embeddings z of shape (T, B, D) or (B, D); returns a scalar.

    The statistic is computed per time step over the batch B, then averaged over time steps and
    the ``num_proj`` random directions, which are drawn afresh at each call (pass a
    ``torch.Generator`` for reproducible directions).
    """

    def __init__(self, num_proj: int = 1024, knots: int = 17, t_max: float = 3.0):
        super().__init__()
        self.num_proj = num_proj
        t = torch.linspace(0.0, t_max, knots)
        dt = t_max / (knots - 1)
        trapezoid = torch.full((knots,), 2 * dt)  # doubled: the mirrored half t < 0
        trapezoid[[0, -1]] = dt
        gauss_cf = torch.exp(-0.5 * t**2)  # characteristic function of N(0, 1)
        self.register_buffer("t", t)
        self.register_buffer("gauss_cf", gauss_cf)
        self.register_buffer("weights", trapezoid * gauss_cf)

    def forward(self, z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if z.ndim == 2:
            z = z.unsqueeze(0)
        if z.ndim != 3:
            raise ValueError(f"SIGReg expects (T, B, D) or (B, D) embeddings, got shape {tuple(z.shape)}")
        with torch.autocast(z.device.type, enabled=False):  # cos/sin of t * x need float32, also under bf16/fp16
            return self.statistic(z.float(), generator)

    def statistic(self, z: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        batch, dim = z.shape[1], z.shape[2]
        u = torch.randn(dim, self.num_proj, generator=generator, device=z.device if generator is None else generator.device)
        u = (u / u.norm(dim=0, keepdim=True)).to(device=z.device, dtype=z.dtype)
        x = z @ u  # (T, B, M) projections
        tx = x.unsqueeze(-1) * self.t.to(z.dtype)  # (T, B, M, K)
        cos_mean = torch.cos(tx).mean(dim=1)  # (T, M, K) empirical characteristic function
        sin_mean = torch.sin(tx).mean(dim=1)
        err = (cos_mean - self.gauss_cf) ** 2 + sin_mean**2
        statistic = (err @ self.weights.to(z.dtype)) * batch  # (T, M) Epps-Pulley
        return statistic.mean()
