"""Checkers for chapter 02 (from pixels to one latent: the JEPA encoder)."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from . import CheckFailed, as_tensor, require, run_check
from .answers import ch02 as _answers  # reference answers, kept out of this module


# ----------------------------------------------------------------------------- Exercise 2.1


def check_patchify(fn: Callable, strict: bool | None = None) -> bool:
    """fn(images (N, C, H, W), patch) -> (N, L, C * patch * patch), patches row by row, each in (c, y, x) order."""

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        for shape, patch in (((2, 3, 16, 16), 4), ((1, 3, 64, 64), 8), ((3, 2, 12, 18), 6)):
            x = torch.rand(shape, generator=g)
            got = as_tensor(fn(x.clone(), patch), "patchify")
            want = _answers.patchify_reference(x, patch)
            require(tuple(got.shape) == tuple(want.shape),
                    f"images {shape} with patch {patch} should give {tuple(want.shape)} (N, number of patches, "
                    f"C * patch * patch), got {tuple(got.shape)}")
            if torch.allclose(got, want):
                continue
            same_patches = torch.allclose(got.sort(-1).values, want.sort(-1).values)
            if same_patches:
                raise CheckFailed("each patch holds the right pixels but in the wrong order: flatten a patch as "
                                  "(channel, row, column), the order of nn.Conv2d's weight (out, C, p, p)")
            if torch.allclose(got.sort(1).values, want.sort(1).values):
                raise CheckFailed("right patches, wrong patch order: go row by row (top-left, then to the right), "
                                  "as conv(x).flatten(2) does")
            raise CheckFailed("the patches do not contain the right pixels: patch (i, j) covers rows "
                              "i*p..(i+1)*p and columns j*p..(j+1)*p, with no overlap")
        # the point of the exercise: a linear map of the patches is the Conv2d patch embedding
        conv = torch.nn.Conv2d(3, 5, 4, stride=4)
        x = torch.rand(2, 3, 16, 16, generator=g)
        with torch.no_grad():
            lin = as_tensor(fn(x, 4), "patchify") @ conv.weight.reshape(5, -1).T + conv.bias
            require(torch.allclose(lin, conv(x).flatten(2).transpose(1, 2), atol=1e-5),
                    "patchify(x) @ W.T + b should equal the Conv2d patch embedding")

    return run_check("Exercise 2.1 patchify", test, strict)


# ----------------------------------------------------------------------------- Exercise 2.2


def _bn_call(fn, x, rm, rv, training, momentum=0.1, eps=1e-5):
    out = fn(x.clone(), rm, rv, training, momentum, eps)
    return as_tensor(out, "batch_norm")


def check_batch_norm(fn: Callable, strict: bool | None = None) -> bool:
    """fn(x (N, F), running_mean (F,), running_var (F,), training, momentum, eps) -> normalised x; in training
    mode it also updates the running statistics in place, as ``nn.BatchNorm1d`` does (no affine)."""

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        scale = torch.tensor([1.0, 3.0, 0.1, 10.0, 0.003, 1.0])
        shift = torch.tensor([0.0, 5.0, -2.0, 1.0, 4.0, 0.0])
        x = torch.randn(8, 6, generator=g) * scale + shift
        x[:, 5] = 2.5  # a feature that is constant over the batch
        rm0, rv0 = torch.randn(6, generator=g), torch.rand(6, generator=g) + 0.5
        # training mode: batch statistics, running statistics updated in place
        rm, rv = rm0.clone(), rv0.clone()
        got = _bn_call(fn, x, rm, rv, True)
        want_rm, want_rv = rm0.clone(), rv0.clone()
        want = F.batch_norm(x, want_rm, want_rv, training=True, momentum=0.1, eps=1e-5)
        require(tuple(got.shape) == tuple(x.shape), f"the output must keep the input's shape {tuple(x.shape)}")
        require(bool(torch.isfinite(got).all()),
                "NaN or inf: a feature that is constant over the batch has variance 0; add eps inside the square root")
        if torch.allclose(got, F.layer_norm(x, (6,), eps=1e-5), atol=1e-4):
            raise CheckFailed("this is LayerNorm (statistics over the features of one sample); BatchNorm takes "
                              "the statistics of each feature over the batch (dim 0)")
        if torch.allclose(got, (x - rm0) / torch.sqrt(rv0 + 1e-5), atol=1e-4):
            raise CheckFailed("in training mode normalise with the statistics of the current batch; the running "
                              "statistics are only used in eval mode")
        if not torch.allclose(got, want, atol=1e-4):
            if torch.allclose(got, want * (7 / 8) ** 0.5, atol=1e-4):
                raise CheckFailed("normalise with the biased variance of the batch (divide by N), as BatchNorm does")
            raise CheckFailed("training mode: (x - mean) / sqrt(var + eps), mean and biased var over the batch (dim 0)")
        if torch.equal(rm, rm0) and torch.equal(rv, rv0):
            raise CheckFailed("training mode must update running_mean and running_var *in place* (e.g. "
                              "running_mean.mul_(1 - momentum).add_(momentum * mean)): the caller's tensors did not "
                              "change")
        if not torch.allclose(rm, want_rm, atol=1e-5):
            if torch.allclose(rm, 0.1 * rm0 + 0.9 * x.mean(0), atol=1e-5):
                raise CheckFailed("momentum is the weight of the *new* batch: running = (1 - momentum) * running + "
                                  "momentum * batch statistic")
            raise CheckFailed("running_mean <- (1 - momentum) * running_mean + momentum * batch mean")
        if not torch.allclose(rv, want_rv, atol=1e-5):
            if torch.allclose(rv, 0.9 * rv0 + 0.1 * x.var(0, unbiased=False), atol=1e-5):
                raise CheckFailed("the running variance is updated with the *unbiased* batch variance (divide by "
                                  "N - 1), even though the normalisation uses the biased one: PyTorch's convention")
            raise CheckFailed("running_var <- (1 - momentum) * running_var + momentum * unbiased batch variance")
        # eval mode: running statistics, nothing updated
        rm, rv = rm0.clone(), rv0.clone()
        got = _bn_call(fn, x, rm, rv, False)
        want = F.batch_norm(x, rm0.clone(), rv0.clone(), training=False, eps=1e-5)
        if not torch.allclose(got, want, atol=1e-4):
            raise CheckFailed("eval mode: normalise with the running statistics, (x - running_mean) / "
                              "sqrt(running_var + eps), not with the batch's")
        require(torch.equal(rm, rm0) and torch.equal(rv, rv0), "eval mode must not change the running statistics")
        # a batch of one frame: fine in eval mode
        got1 = _bn_call(fn, x[:1], rm0.clone(), rv0.clone(), False)
        require(torch.allclose(got1, want[:1], atol=1e-4), "eval mode must work on a batch of one frame")
        got2 = _bn_call(fn, x[:, :3], rm0[:3].clone(), rv0[:3].clone(), True, 0.5, 0.5)
        want2 = F.batch_norm(x[:, :3], rm0[:3].clone(), rv0[:3].clone(), training=True, momentum=0.5, eps=0.5)
        require(torch.allclose(got2, want2, atol=1e-4), "use the momentum and eps you are given")

    return run_check("Exercise 2.2 batch_norm", test, strict)


# ----------------------------------------------------------------------------- Exercise 2.3


def _ridge_predict(z_tr, y_tr, z_te, ridge, standardise="train", bias=True):
    if standardise == "train":
        mu, sd = z_tr.mean(0), z_tr.std(0).clamp_min(1e-8)
        z_tr, z_te = (z_tr - mu) / sd, (z_te - mu) / sd
    elif standardise == "own":
        z_tr = (z_tr - z_tr.mean(0)) / z_tr.std(0).clamp_min(1e-8)
        z_te = (z_te - z_te.mean(0)) / z_te.std(0).clamp_min(1e-8)
    ones = (lambda z: torch.ones(len(z), 1, dtype=torch.float64)) if bias else (lambda z: torch.zeros(len(z), 0))
    x_tr = torch.cat([z_tr.double(), ones(z_tr)], 1)
    x_te = torch.cat([z_te.double(), ones(z_te)], 1)
    w = torch.linalg.solve(x_tr.T @ x_tr + ridge * len(x_tr) * torch.eye(x_tr.shape[1], dtype=torch.float64),
                           x_tr.T @ y_tr.double())
    return x_tr @ w, x_te @ w


def _pearson(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    p, t = p - p.mean(0), t - t.mean(0)
    return (p * t).sum(0) / (p.norm(dim=0) * t.norm(dim=0))


def check_probe_r(fn: Callable, strict: bool | None = None) -> bool:
    """fn(z_train (N, D), y_train (N, K), z_test (M, D), y_test (M, K), ridge) -> float: the held-out Pearson r of a
    ridge probe fitted on standardised training latents, averaged over the K columns."""

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        for n, m, d, ridge in ((300, 120, 8, 1e-3), (60, 200, 12, 0.1), (400, 100, 5, 1e-3)):
            y = torch.rand(n + m, 2, generator=g) * torch.tensor([50.0, 10.0]) + torch.tensor([5.0, 30.0])
            mix = torch.randn(2, d, generator=g)
            z = (y - y.mean(0)) @ mix + 3.0 * torch.randn(n + m, d, generator=g)
            z = z * torch.logspace(-2, 2, d) + 7.0  # badly scaled features: standardising matters
            z[n:] += 0.5 * z[:n].std(0)  # the test set is shifted a little: its own statistics differ
            z_tr, y_tr, z_te, y_te = z[:n], y[:n], z[n:], y[n:]
            got = fn(z_tr.clone(), y_tr.clone(), z_te.clone(), y_te.clone(), ridge)
            require(isinstance(got, (float, int)) or (isinstance(got, torch.Tensor) and got.numel() == 1),
                    f"return one number (the mean of the per-column r), got {type(got).__name__}")
            got = float(got)
            want = _answers.probe_r_reference(z_tr, y_tr, z_te, y_te, ridge)
            if abs(got - want) < 1e-4:
                continue
            near = lambda v: abs(got - float(v)) < 1e-4  # noqa: E731
            p_tr, p_te = _ridge_predict(z_tr, y_tr, z_te, ridge)
            if near(_pearson(p_tr, y_tr.double()).mean()):
                raise CheckFailed("you score the probe on the frames it was fitted on; report r on the test set")
            if near(_pearson(p_te, y_te.double()).mean() ** 2) or near((_pearson(p_te, y_te.double()) ** 2).mean()):
                raise CheckFailed("return r, not r squared")
            if near(_pearson(_ridge_predict(z_tr, y_tr, z_te, ridge, standardise="own")[1], y_te.double()).mean()):
                raise CheckFailed("standardise the test latents with the *training* mean and std: the probe is "
                                  "fixed once fitted, and test statistics are not known in advance")
            if near(_pearson(_ridge_predict(z_tr, y_tr, z_te, ridge, standardise="none")[1], y_te.double()).mean()):
                raise CheckFailed("standardise each latent dimension first (training mean and std): the ridge "
                                  "penalty must not depend on the latents' scale")
            pooled = _pearson(p_te.reshape(-1, 1), y_te.double().reshape(-1, 1))
            if near(pooled):
                raise CheckFailed("compute r per column (x and y separately), then average: pooling both columns "
                                  "rewards getting the columns' different means right")
            raise CheckFailed(f"expected r = {want:.4f}, got {got:.4f}. Standardise z with the training mean and "
                              "std, X = [z, 1], W = solve(X^T X + ridge * N * I, X^T y), predict the test set, "
                              "Pearson r per column, mean")

    return run_check("Exercise 2.3 probe_r", test, strict)
