"""Checkers for chapter 04 (collapse, and SIGReg built from characteristic functions)."""

from __future__ import annotations

import math
from typing import Callable

import torch

from . import CheckFailed, require, run_check


def _scalar(x, name: str) -> float:
    if isinstance(x, torch.Tensor):
        require(x.numel() == 1, f"{name} must return one number (a scalar), got a tensor of shape {tuple(x.shape)}")
        return float(x)
    if isinstance(x, (float, int)):
        return float(x)
    raise CheckFailed(f"{name} must return a scalar tensor or a float, got {type(x).__name__}")


def epps_pulley_reference(x: torch.Tensor, knots: int = 17, t_max: float = 3.0) -> float:
    """N * trapezoid-integral over [0, t_max] (doubled) of |ecf(t) - exp(-t^2/2)|^2 exp(-t^2/2)."""
    t = torch.linspace(0, t_max, knots, dtype=torch.float64)
    dt = t_max / (knots - 1)
    w = torch.full((knots,), 2 * dt, dtype=torch.float64)
    w[[0, -1]] = dt
    tx = x.double()[:, None] * t
    err = (torch.cos(tx).mean(0) - torch.exp(-t**2 / 2)) ** 2 + torch.sin(tx).mean(0) ** 2
    return float((err * w * torch.exp(-t**2 / 2)).sum() * len(x))


def _ep_variant(x, knots=17, t_max=3.0, n_factor=True, double=True, sin=True, weight=True):
    t = torch.linspace(0, t_max, knots, dtype=torch.float64)
    dt = t_max / (knots - 1)
    w = torch.full((knots,), (2 if double else 1) * dt, dtype=torch.float64)
    w[[0, -1]] = dt
    tx = x.double()[:, None] * t
    err = (torch.cos(tx).mean(0) - torch.exp(-t**2 / 2)) ** 2 + (torch.sin(tx).mean(0) ** 2 if sin else 0)
    return float((err * w * (torch.exp(-t**2 / 2) if weight else 1)).sum() * (len(x) if n_factor else 1))


# ----------------------------------------------------------------------------- Exercise 4.1


def check_epps_pulley(fn: Callable, strict: bool | None = None) -> bool:
    """fn(x (N,), knots=17, t_max=3.0) -> the Epps-Pulley statistic of the samples x against N(0, 1)."""

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        cases = [
            (torch.randn(128, generator=g), {}, "128 Gaussian samples"),
            (torch.randn(200, generator=g) + 0.7, {}, "Gaussian samples with mean 0.7"),
            ((torch.rand(64, generator=g) - 0.5) * math.sqrt(12), {}, "64 uniform samples"),
            (torch.full((32,), 0.25), {}, "32 identical (collapsed) samples"),
            (0.5 * torch.randn(96, generator=g), {"knots": 9, "t_max": 4.0}, "knots=9, t_max=4"),
        ]
        for x, kw, what in cases:
            got = _scalar(fn(x.clone(), **kw), "epps_pulley")
            want = epps_pulley_reference(x, **kw)
            if math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6):
                continue
            near = lambda v: math.isclose(got, v, rel_tol=1e-4, abs_tol=1e-6)  # noqa: E731
            if near(_ep_variant(x, **kw, n_factor=False)):
                raise CheckFailed(f"for {what} you return the integral; the statistic is N times it (N = number of "
                                  "samples), which keeps it about 1 for Gaussian data at any N")
            if near(_ep_variant(x, **kw, double=False)):
                raise CheckFailed("the inner knots' weight is 2 * dt: dt from the trapezoid rule, doubled because we "
                                  "integrate over [0, t_max] only and the integrand is even (the mirrored half)")
            if near(_ep_variant(x, **kw, sin=False)):
                raise CheckFailed(f"for {what}: the imaginary part counts too; add (mean sin(t x))^2 to the error "
                                  "(the Gaussian's characteristic function has imaginary part 0)")
            if near(_ep_variant(x, **kw, weight=False)):
                raise CheckFailed("multiply each knot's error by the weight w(t) = exp(-t^2 / 2) as well as by the "
                                  "trapezoid weight")
            if kw:
                raise CheckFailed(f"right for the defaults, wrong for {what}: use the knots and t_max you are given "
                                  "(t = linspace(0, t_max, knots), dt = t_max / (knots - 1))")
            raise CheckFailed(f"for {what} expected {want:.4f}, got {got:.4f}. Per knot t_k: error = (mean cos(t_k x) "
                              "- exp(-t_k^2/2))^2 + (mean sin(t_k x))^2; weight = trapezoid (dt ends, 2 dt inside) "
                              "times exp(-t_k^2/2); sum over knots, times N")

    return run_check("Exercise 4.1 epps_pulley", test, strict)


# ----------------------------------------------------------------------------- Exercise 4.2


def _directions(dim: int, num: int, seed: int) -> torch.Tensor:
    u = torch.randn(dim, num, generator=torch.Generator().manual_seed(seed))
    return u / u.norm(dim=0, keepdim=True)


def check_sketched_sigreg(fn: Callable, strict: bool | None = None) -> bool:
    """fn(z (B, D), directions (D, M) unit columns) -> mean over the M directions of Epps-Pulley(z @ u)."""
    from ..sigreg import SIGReg

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        scale = torch.linspace(0.2, 2.0, 12)
        cases = [
            (torch.randn(64, 12, generator=g), 32, "64 Gaussian latents in 12-D"),
            (torch.randn(48, 12, generator=g) * scale + 0.3, 16, "anisotropic, shifted latents"),
            (torch.randn(100, 3, generator=g) @ torch.randn(3, 20, generator=g), 24, "a rank-3 cloud in 20-D"),
            (torch.zeros(32, 8), 8, "collapsed (all-zero) latents"),
        ]
        for seed, (z, m, what) in enumerate(cases):
            u = _directions(z.shape[1], m, seed)
            got = _scalar(fn(z.clone(), u.clone()), "sketched_sigreg")
            want = float(SIGReg(num_proj=m)(z, generator=torch.Generator().manual_seed(seed)))
            if math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-5):
                continue
            x = z @ u
            per_dir = [epps_pulley_reference(x[:, j]) for j in range(m)]
            near = lambda v: math.isclose(got, v, rel_tol=1e-4, abs_tol=1e-5)  # noqa: E731
            if near(sum(per_dir)):
                raise CheckFailed("average over the directions (mean), do not sum: the value must not depend on M")
            if near(max(per_dir)):
                raise CheckFailed("SIGReg averages the statistic over the directions; the maximum is another test")
            if near(want / len(z)):
                raise CheckFailed("each direction's statistic is N times the integral, N = batch size")
            raise CheckFailed(f"for {what} expected {want:.4f}, got {got:.4f}. Project: x = z @ directions (B, M); "
                              "run the 1-D Epps-Pulley test over the batch (dim 0) for each of the M columns; average")

    return run_check("Exercise 4.2 sketched_sigreg", test, strict)


# ----------------------------------------------------------------------------- Exercise 4.3


def vicreg_reference(z: torch.Tensor, gamma: float = 1.0, eps: float = 1e-4) -> tuple[float, float]:
    std = torch.sqrt(z.var(dim=0) + eps)
    variance = torch.relu(gamma - std).mean()
    zc = z - z.mean(dim=0)
    cov = zc.T @ zc / (len(z) - 1)
    off = cov - torch.diag(torch.diag(cov))
    return float(variance), float(off.pow(2).sum() / z.shape[1])


def check_vicreg_terms(fn: Callable, strict: bool | None = None) -> bool:
    """fn(z (N, D), gamma=1.0, eps=1e-4) -> (variance hinge, covariance penalty), VICReg's two regularisers."""

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        base = torch.randn(64, 6, generator=g)
        cases = [
            (base * torch.tensor([0.1, 0.5, 1.0, 2.0, 0.3, 1.5]), {}, "dimensions with different spreads"),
            (base[:, :1].expand(64, 6) + 0.1 * base, {}, "strongly correlated dimensions"),
            (torch.zeros(16, 4), {}, "collapsed (all-zero) latents"),
            (base * 0.5, {"gamma": 2.0, "eps": 0.01}, "gamma=2, eps=0.01"),
        ]
        for z, kw, what in cases:
            got = fn(z.clone(), **kw)
            require(isinstance(got, (tuple, list)) and len(got) == 2,
                    "return a pair: (variance term, covariance term)")
            v, c = _scalar(got[0], "the variance term"), _scalar(got[1], "the covariance term")
            require(math.isfinite(v) and math.isfinite(c),
                    f"NaN or inf for {what}: put eps inside the square root, sqrt(var + eps)")
            want_v, want_c = vicreg_reference(z, **kw)
            if not math.isclose(v, want_v, rel_tol=1e-4, abs_tol=1e-6):
                raise CheckFailed(f"variance term for {what}: expected {want_v:.5f}, got {v:.5f}. It is the mean over "
                                  "dimensions of relu(gamma - std), std = sqrt(var over the batch + eps) (unbiased "
                                  "var, torch's default): a hinge on the standard deviation, not on the variance")
            if not math.isclose(c, want_c, rel_tol=1e-4, abs_tol=1e-6):
                raise CheckFailed(f"covariance term for {what}: expected {want_c:.5f}, got {c:.5f}. Centre z, "
                                  "cov = zc^T zc / (N - 1), zero its diagonal (the variances), sum the squares of the "
                                  "rest and divide by D")

    return run_check("Exercise 4.3 vicreg_terms", test, strict)
