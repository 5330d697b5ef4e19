"""CEM: the cross-entropy method, searching action blocks in z-scored action space, with iCEM's options.

For each of P problems keep a Gaussian over action sequences (H blocks of A numbers). Each
iteration samples N candidates, scores them all in one batched call, and refits the Gaussian to
the best K (the elites). Plain CEM returns the mean after the last iteration.

iCEM (Pinneri et al., 2020) changes five things, each switchable in ``PlanConfig``:
- ``noise_beta``: coloured sampling noise, power spectrum 1/f^beta along the time axis (0 = white):
  neighbouring steps move together, so a candidate is a smooth push rather than jitter;
- ``keep_elites``: a fraction of the elites carried into the next iteration's candidates;
- ``shrink``: the population shrinks by this factor every iteration (never below 2K);
- ``return_best``: return the best candidate ever scored (or the final mean, if that scores lower);
- ``init`` (a warm start, see ``shift_plan``): the previous plan shifted by the executed blocks.
``stop_tol`` stops early when the best cost improved by less than this fraction in an iteration.
The settings every profile plans with are ``lewm_mini.config.ICEM``; ``config.plain_cem`` turns them off.
"""

from __future__ import annotations

from typing import Callable

import torch

from .config import PlanConfig


def coloured_noise(shape: tuple[int, ...], beta: float, frameskip: int, generator: torch.Generator | None = None,
                   device: str | torch.device = "cpu") -> torch.Tensor:
    """Unit-variance Gaussian noise (..., H, A), correlated in time with power spectrum 1/f^beta.

    A block holds ``frameskip`` raw steps of A // frameskip numbers each; the noise is drawn over the
    H * frameskip steps of the sequence, one independent series per raw action dimension, then folded
    back into blocks. beta = 0 is white noise; iCEM uses about 2-3 (brown-ish: slow, smooth pushes).
    """
    *lead, h, a = shape
    steps, dims = h * frameskip, a // frameskip
    if beta == 0:
        return torch.randn(shape, generator=generator, device=device)
    freqs = torch.fft.rfftfreq(steps, device=device)
    scale = freqs.clamp(min=freqs[1]) ** (-beta / 2)  # the zero frequency gets the lowest one's power
    re = torch.randn((*lead, dims, len(freqs)), generator=generator, device=device)
    im = torch.randn((*lead, dims, len(freqs)), generator=generator, device=device)
    series = torch.fft.irfft(torch.complex(re, im) * scale, n=steps)  # (..., dims, steps)
    # irfft keeps only the real part of the zero (and, for even lengths, the last) frequency
    weight = torch.full_like(scale, 4.0)
    weight[0] = 1.0
    if steps % 2 == 0:
        weight[-1] = 1.0
    series = series * steps / (weight * scale**2).sum().sqrt()  # unit variance at every step
    return series.transpose(-1, -2).reshape(shape)  # step-major: block b holds steps b*fs .. b*fs+fs-1


def shift_plan(plan: torch.Tensor, blocks: int) -> torch.Tensor:
    """Warm start: a plan (P, H, A) with its first ``blocks`` blocks executed -> the next initial mean.

    Drops the executed blocks and pads the end with zeros (the prior mean in z-scored space).
    """
    blocks = min(blocks, plan.shape[1])
    return torch.cat([plan[:, blocks:], torch.zeros_like(plan[:, :blocks])], 1)


def cem(cost: Callable[[torch.Tensor], torch.Tensor], problems: int, horizon: int, action_dim: int,
        cfg: PlanConfig, lo: torch.Tensor, hi: torch.Tensor, generator: torch.Generator | None = None,
        device: str | torch.device = "cpu", init: torch.Tensor | None = None, init_std: torch.Tensor | None = None,
        frameskip: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Minimise ``cost`` over action sequences.

    cost: candidates (P, N, H, A) -> costs (P, N). lo, hi: (A,) bounds in z-scored space.
    init, init_std: (P, H, A) initial mean and std (a warm start); zeros and ``cfg.init_std`` when None.
    frameskip: raw steps per block
    (only shapes the coloured noise). Returns the plans (P, H, A) and their costs (P,).
    """
    mean = torch.zeros(problems, horizon, action_dim, device=device) if init is None else init.clone()
    std = torch.full_like(mean, cfg.init_std) if init_std is None else init_std.clone()
    best, best_cost = mean.clone(), torch.full((problems,), float("inf"), device=device)
    kept = None  # elites carried over from the previous iteration (P, k, H, A)
    samples = float(cfg.samples)
    for _ in range(cfg.iterations):
        n = max(round(samples), 2 * cfg.elites)
        eps = coloured_noise((problems, n, horizon, action_dim), cfg.noise_beta, frameskip, generator, device)
        cand = torch.maximum(torch.minimum(mean[:, None] + std[:, None] * eps, hi), lo)
        if kept is not None:
            cand = torch.cat([cand, kept], 1)
        costs = cost(cand)  # (P, N)
        order = costs.argsort(dim=1)[:, : cfg.elites]  # (P, K), best first
        elites = torch.gather(cand, 1, order[:, :, None, None].expand(-1, -1, horizon, action_dim))
        top = costs.gather(1, order[:, :1])[:, 0]
        improved = top < best_cost
        gain = torch.where(best_cost.isfinite(), (best_cost - top) / best_cost.abs().clamp(min=1e-9), 1.0)
        best = torch.where(improved[:, None, None], elites[:, 0], best)
        best_cost = torch.minimum(top, best_cost)
        mean, std = elites.mean(1), elites.std(1)
        kept = elites[:, : round(cfg.keep_elites * cfg.elites)] if cfg.keep_elites > 0 else None
        samples /= cfg.shrink
        if cfg.stop_tol > 0 and bool((gain < cfg.stop_tol).all()):
            break
    mean_cost = cost(mean[:, None])[:, 0]
    if not cfg.return_best:
        return mean, mean_cost
    use_mean = mean_cost <= best_cost
    return torch.where(use_mean[:, None, None], mean, best), torch.minimum(mean_cost, best_cost)
