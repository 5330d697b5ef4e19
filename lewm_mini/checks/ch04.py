"""Checkers for chapter 04 (collapse, and SIGReg built from characteristic functions)."""

from __future__ import annotations

import math
from typing import Callable

import torch

from . import CheckFailed, require, run_check
from .answers import ch04 as _answers  # reference answers, kept out of this module


def _scalar(x, name: str) -> float:
    if isinstance(x, torch.Tensor):
        require(x.numel() == 1, f"{name} must return one number (a scalar), got a tensor of shape {tuple(x.shape)}")
        return float(x)
    if isinstance(x, (float, int)):
        return float(x)
    raise CheckFailed(f"{name} must return a scalar tensor or a float, got {type(x).__name__}")


# ----------------------------------------------------------------------------- Exercise 4.1


def _exact_variant(x, n_factor=True, diagonal=True, cross_exp=4.0, cross_factor=2.0, constant=True) -> float:
    x = x.double().flatten()
    n = len(x)
    k = torch.exp(-(x[:, None] - x[None, :]) ** 2 / 2)
    pair = k.sum() / n**2 if diagonal else (k.sum() - n) / (n * (n - 1))
    cross = torch.exp(-x**2 / cross_exp).sum() / n
    value = (math.sqrt(2 * math.pi) * pair - cross_factor * math.sqrt(math.pi) * cross
             + (math.sqrt(2 * math.pi / 3) if constant else 0.0))
    return float(value * (n if n_factor else 1))


def check_epps_pulley_exact(fn: Callable, strict: bool | None = None) -> bool:
    """fn(x (N,)) -> the Epps-Pulley statistic of x against N(0, 1), integrated exactly (no knots)."""

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        cases = [
            (torch.randn(128, generator=g), "128 Gaussian samples"),
            (torch.randn(200, generator=g) + 0.7, "Gaussian samples with mean 0.7"),
            ((torch.rand(64, generator=g) - 0.5) * math.sqrt(12), "64 uniform samples"),
            (torch.full((32,), 0.0), "32 samples all at 0 (collapsed)"),
            (0.5 * torch.randn(7, generator=g), "7 samples with std 0.5"),
        ]
        for x, what in cases:
            got = _scalar(fn(x.clone()), "epps_pulley_exact")
            want = _answers.epps_pulley_exact_reference(x)
            if math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6):
                continue
            near = lambda v: math.isclose(got, v, rel_tol=1e-4, abs_tol=1e-6)  # noqa: E731
            if near(_exact_variant(x, n_factor=False)):
                raise CheckFailed(f"for {what} you return the integral; the statistic is N times it")
            if near(_exact_variant(x, diagonal=False)):
                raise CheckFailed("|ecf(t)|^2 = (1/N^2) sum over ALL pairs (j, k), including j = k (each gives "
                                  "cos(0) = 1): do not drop the diagonal")
            if near(_exact_variant(x, cross_exp=2.0)):
                raise CheckFailed("the cross term integrates cos(t x) exp(-t^2/2) * exp(-t^2/2) = cos(t x) exp(-t^2): "
                                  "that gives sqrt(pi) exp(-x^2 / 4), not exp(-x^2 / 2)")
            if near(_exact_variant(x, cross_factor=1.0)):
                raise CheckFailed("|a - b|^2 = |a|^2 - 2 Re(a b) + |b|^2: the cross term has a factor 2")
            if near(_exact_variant(x, constant=False)):
                raise CheckFailed("add the integral of |exp(-t^2/2)|^2 exp(-t^2/2) = exp(-3 t^2 / 2), sqrt(2 pi / 3)")
            if near(_answers.epps_pulley_reference(x)):
                raise CheckFailed("this is the 17-knot quadrature of the chapter; the exercise asks for the exact "
                                  "integral over the whole real line, as a double sum over the samples")
            raise CheckFailed(f"for {what} expected {want:.5f}, got {got:.5f}. N * [sqrt(2 pi) mean_jk "
                              "exp(-(x_j - x_k)^2 / 2) - 2 sqrt(pi) mean_j exp(-x_j^2 / 4) + sqrt(2 pi / 3)]")

    return run_check("Exercise 4.1 epps_pulley_exact", test, strict)


# ----------------------------------------------------------------------------- Exercise 4.2


def _directions(dim: int, num: int, seed: int) -> torch.Tensor:
    u = torch.randn(dim, num, generator=torch.Generator().manual_seed(seed))
    return u / u.norm(dim=0, keepdim=True)


def _sigreg_from_means(cos_mean, sin_mean, n, knots: int = 17, t_max: float = 3.0) -> torch.Tensor:
    """Epps-Pulley per direction from the mean cos / sin (M, K) of n samples, averaged over directions."""
    t = torch.linspace(0, t_max, knots, dtype=torch.float64)
    dt = t_max / (knots - 1)
    w = torch.full((knots,), 2 * dt, dtype=torch.float64)
    w[[0, -1]] = dt
    err = (cos_mean - torch.exp(-t**2 / 2)) ** 2 + sin_mean**2
    return (err @ (w * torch.exp(-t**2 / 2))) * n


def _local_means(chunk: torch.Tensor, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    tx = (chunk.double() @ u.double())[..., None] * torch.linspace(0, 3.0, 17, dtype=torch.float64)
    return torch.cos(tx).mean(0), torch.sin(tx).mean(0)  # (M, K)


def check_all_reduced_sigreg(fn: Callable, strict: bool | None = None) -> bool:
    """fn(chunks: list of (B_r, D) tensors, directions (D, M)) -> SIGReg of the whole batch, as if one GPU had it."""
    from ..sigreg import SIGReg

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        scale = torch.linspace(0.3, 1.8, 10)
        cases = [
            ([torch.randn(b, 10, generator=g) for b in (16, 16, 16, 16)], 32, "4 equal chunks of Gaussian latents"),
            ([torch.randn(b, 10, generator=g) * scale + 0.4 for b in (40, 8, 24)], 16, "3 unequal chunks"),
            ([torch.randn(b, 10, generator=g) + 2.0 * k for k, b in enumerate((12, 30))], 24,
             "2 chunks around different centres"),
            ([torch.randn(50, 10, generator=g)], 8, "a single chunk"),
        ]
        for seed, (chunks, m, what) in enumerate(cases):
            u = _directions(chunks[0].shape[1], m, seed)
            got = _scalar(fn([c.clone() for c in chunks], u.clone()), "all_reduced_sigreg")
            whole = torch.cat(chunks)
            want = float(SIGReg(num_proj=m)(whole, generator=torch.Generator().manual_seed(seed)))
            if math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-5):
                continue
            near = lambda v: math.isclose(got, v, rel_tol=1e-4, abs_tol=1e-5)  # noqa: E731
            per_chunk = [float(_sigreg_from_means(*_local_means(c, u), len(c)).mean()) for c in chunks]
            if near(sum(per_chunk) / len(per_chunk)):
                raise CheckFailed(f"for {what} you average each chunk's own statistic: that is the released multi-GPU "
                                  "code (every GPU tests its local batch). Sum the chunks' cos and sin sums first "
                                  "(the all-reduce), then compute one statistic")
            means = [_local_means(c, u) for c in chunks]
            equal = _sigreg_from_means(sum(c for c, _ in means) / len(means), sum(s for _, s in means) / len(means),
                                       len(whole)).mean()
            if near(float(equal)):
                raise CheckFailed(f"for {what}: the chunks have different sizes, so average their cos / sin with "
                                  "weights B_r / N (sum the per-chunk *sums*, then divide by the total N)")
            pooled = _sigreg_from_means(*_local_means(whole, u), len(whole))
            sizes = {len(c) for c in chunks} | {len(whole) / len(chunks)}
            if len(chunks) > 1 and any(near(float(pooled.mean()) / len(whole) * b) for b in sizes):
                raise CheckFailed("the factor N of the statistic is the total batch size (all chunks), not one chunk's")
            if near(float(pooled.sum())):
                raise CheckFailed("average over the directions (mean), do not sum")
            raise CheckFailed(f"for {what} expected {want:.4f}, got {got:.4f}. Per chunk: x = chunk @ directions, "
                              "sum over the chunk of cos(t_k x) and sin(t_k x), shape (M, K); add these over the "
                              "chunks, divide by the total N; then the Epps-Pulley error and weights (17 knots on "
                              "[0, 3]), times N, mean over the M directions")

    return run_check("Exercise 4.2 all_reduced_sigreg", test, strict)


# ----------------------------------------------------------------------------- Exercise 4.3


def check_effective_rank(fn: Callable, strict: bool | None = None) -> bool:
    """fn(z (N, D)) -> float: exp(entropy of the normalised singular values of the centred z) (RankMe)."""
    from ..probe import effective_rank as reference

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        basis = torch.linalg.qr(torch.randn(16, 16, generator=g))[0]
        cases = [
            (torch.randn(300, 16, generator=g), "300 isotropic Gaussian latents in 16-D"),
            (torch.randn(300, 16, generator=g) * torch.logspace(0, -2, 16), "latents with decaying variances"),
            (torch.randn(300, 2, generator=g) @ basis[:2] + 5.0, "a rank-2 cloud far from the origin"),
            (torch.randn(300, 16, generator=g) * 0.01 + 3.0, "a tiny cloud around (3, ..., 3)"),
            (torch.randn(40, 8, generator=g) @ torch.randn(8, 8, generator=g), "40 correlated latents in 8-D"),
        ]
        for z, what in cases:
            got = _scalar(fn(z.clone()), "effective_rank")
            want = reference(z)
            if math.isclose(got, want, rel_tol=1e-3, abs_tol=1e-4):
                continue
            zc = z - z.mean(0)
            s = torch.linalg.svdvals(zc.double())
            near = lambda v: math.isclose(got, float(v), rel_tol=1e-3, abs_tol=1e-4)  # noqa: E731

            def erank(vals):
                p = vals / vals.sum()
                return torch.exp(-(p * torch.log(p.clamp_min(1e-300))).sum())

            if near(erank(torch.linalg.svdvals(z.double()))):
                raise CheckFailed(f"for {what}: centre the latents first (subtract the mean over the batch); "
                                  "otherwise the mean itself counts as a direction")
            if near(erank(s**2)):
                raise CheckFailed("normalise the singular values themselves, not their squares (the covariance "
                                  "eigenvalues): RankMe uses p_i = s_i / sum_j s_j")
            p = s / s.sum()
            entropy = -(p * torch.log(p.clamp_min(1e-300))).sum()
            if near(entropy):
                raise CheckFailed("return exp(entropy), a number of directions between 1 and D, not the entropy")
            if near(2**entropy) or near(torch.exp(-(p * torch.log2(p.clamp_min(1e-300))).sum())):
                raise CheckFailed("use the natural logarithm and exp throughout")
            if near(erank(s) / z.shape[1]):
                raise CheckFailed("return the effective rank itself (between 1 and D), not divided by D")
            raise CheckFailed(f"for {what} expected {want:.4f}, got {got:.4f}: singular values s of the centred z, "
                              "p = s / sum(s), effective rank = exp(-sum p log p)")

    return run_check("Exercise 4.3 effective_rank", test, strict)
