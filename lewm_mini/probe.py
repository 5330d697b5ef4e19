"""Probing: how much of the world's state can be read off the frozen latents?

A linear probe is a least-squares map from latents z (N, D) to the agent's position (N, 2). If it
predicts held-out positions well (Pearson r near 1, as LeWM reports: 0.996 on Two-Room), the
encoder has organised its latent space around the state, without ever being told the state.
"""

from __future__ import annotations

import torch


def fit_linear_probe(z: torch.Tensor, y: torch.Tensor, ridge: float = 1e-3) -> torch.Tensor:
    """Ridge regression with a bias: returns W (D + 1, K) so that [z, 1] @ W ~ y."""
    x = torch.cat([z, torch.ones(len(z), 1, dtype=z.dtype)], dim=1).double()
    a = x.T @ x + ridge * len(x) * torch.eye(x.shape[1], dtype=x.dtype)
    return torch.linalg.solve(a, x.T @ y.double()).to(z.dtype)


def apply_probe(w: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    return torch.cat([z, torch.ones(len(z), 1, dtype=z.dtype)], dim=1) @ w


def pearson_r(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Mean over output dimensions of the Pearson correlation between pred and y (N, K)."""
    p, t = pred - pred.mean(0), y - y.mean(0)
    r = (p * t).sum(0) / (p.norm(dim=0) * t.norm(dim=0)).clamp_min(1e-12)
    return float(r.mean())


def probe_report(z_train: torch.Tensor, y_train: torch.Tensor, z_test: torch.Tensor, y_test: torch.Tensor) -> dict:
    """Fit on train, score on test: {"r": Pearson r, "rmse": error in the units of y}."""
    w = fit_linear_probe(z_train, y_train)
    pred = apply_probe(w, z_test)
    return {"r": pearson_r(pred, y_test), "rmse": float(((pred - y_test) ** 2).sum(1).mean().sqrt())}


def position_probe(model: torch.nn.Module, train_eps, test_eps, n: int = 4000, seed: int = 0) -> dict:
    """Linear probe of the agent position from frozen latents of n random frames of each split."""
    import numpy as np

    from .train import latent_stats

    def sample(eps, rng):
        e = rng.integers(0, eps.frames.shape[0], n)
        t = rng.integers(0, eps.frames.shape[1], n)
        return latent_stats(model, np.asarray(eps.frames[e, t])), torch.as_tensor(eps.pos[e, t])

    rng = np.random.default_rng(seed)
    z_tr, y_tr = sample(train_eps, rng)
    z_te, y_te = sample(test_eps, rng)
    return probe_report(z_tr, y_tr, z_te, y_te)
