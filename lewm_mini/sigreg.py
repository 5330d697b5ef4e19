"""SIGReg: Sketched Isotropic Gaussian Regularisation (LeJEPA), as released with LeWM.

Collapse means all frames map to (nearly) the same latent. SIGReg prevents it by testing whether
the batch of latents looks like samples of an isotropic Gaussian N(0, I) and penalising the test
statistic. In high dimension the test is "sketched": project the latents on M random unit
directions (Cramer-Wold: a distribution is Gaussian iff all its 1-D projections are) and apply the
1-D Epps-Pulley test to each projection. Epps-Pulley compares the empirical characteristic
function phi_hat(t) = mean_b exp(i t x_b) with the Gaussian's exp(-t^2 / 2), integrated over t
with weight exp(-t^2 / 2); the integrand is even in t, so we integrate over [0, 3] and double.

Sanity values for D = 192: N(0, I) data gives ~1.06, collapsed (all-zero) data ~0.40 * B.

Under data parallelism (several processes, each with a share of the batch) SIGReg must still test
the whole batch: in training mode, inside a torch.distributed group of more than one process, the
empirical characteristic function is averaged over all processes with a differentiable all-reduce
(as in LeJEPA's reference; LeWM's released code regularises each share alone, which its authors
report hurts planning).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn
from torch import nn


class SIGReg(nn.Module):
    """SIGReg(z) for embeddings z of shape (T, B, D) or (B, D); returns a scalar.

    The statistic is computed per time step over the batch B, then averaged over time steps and
    the ``num_proj`` random directions, which are drawn afresh at each call (pass a
    ``torch.Generator`` for reproducible directions).

    Distributed (training mode, torch.distributed initialised, W > 1 processes, each passing its
    own share z_r of shape (T, B_r, D), all B_r equal): every process uses the same directions
    (from its generator, which must be seeded alike on every process, or broadcast from rank 0
    when no generator is given), the means of cos and sin are averaged over the W processes, and
    the batch factor is W * B_r. Then the value on every process equals the single-process value
    on the concatenated batch, and the gradient with respect to z_r is **W times** the matching
    slice of the single-process gradient: the all-reduce's backward sums the W processes' equal
    upstream gradients. DistributedDataParallel divides parameter gradients by W, so the parameter
    gradients equal the single-process ones. In eval mode the statistic is local (no collective),
    so one process can evaluate alone.
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

    def world_size(self) -> int:
        """Processes sharing the batch: more than 1 only in training mode inside a torch.distributed group."""
        return dist.get_world_size() if self.training and dist.is_available() and dist.is_initialized() else 1

    def statistic(self, z: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        batch, dim = z.shape[1], z.shape[2]
        world = self.world_size()
        u = torch.randn(dim, self.num_proj, generator=generator, device=z.device if generator is None else generator.device)
        u = (u / u.norm(dim=0, keepdim=True)).to(device=z.device, dtype=z.dtype)
        if world > 1 and generator is None:
            dist.broadcast(u, src=0)  # one set of directions for all processes
        x = z @ u  # (T, B, M) projections
        tx = x.unsqueeze(-1) * self.t.to(z.dtype)  # (T, B, M, K)
        cos_mean = torch.cos(tx).mean(dim=1)  # (T, M, K) empirical characteristic function
        sin_mean = torch.sin(tx).mean(dim=1)
        if world > 1:  # the whole batch's characteristic function: the average of the equal-sized shares'
            both = dist_fn.all_reduce(torch.stack([cos_mean, sin_mean])) / world
            cos_mean, sin_mean = both[0], both[1]
            batch = batch * world
        err = (cos_mean - self.gauss_cf) ** 2 + sin_mean**2
        statistic = (err @ self.weights.to(z.dtype)) * batch  # (T, M) Epps-Pulley
        return statistic.mean()
