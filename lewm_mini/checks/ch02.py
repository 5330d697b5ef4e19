"""Checkers for chapter 02 (from pixels to one latent: the JEPA encoder)."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from . import CheckFailed, require, run_check


def _tensor(x, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(x)
        except Exception as err:  # noqa: BLE001
            raise CheckFailed(f"{name} must return a tensor, got {type(x).__name__}") from err
    return x


# ----------------------------------------------------------------------------- Exercise 2.1


def patchify_reference(images: torch.Tensor, patch: int) -> torch.Tensor:
    n, c, h, w = images.shape
    x = images.reshape(n, c, h // patch, patch, w // patch, patch)  # (n, c, gy, py, gx, px)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(n, (h // patch) * (w // patch), c * patch * patch)


def check_patchify(fn: Callable, strict: bool | None = None) -> bool:
    """fn(images (N, C, H, W), patch) -> (N, L, C * patch * patch), patches row by row, each in (c, y, x) order."""

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        for shape, patch in (((2, 3, 16, 16), 4), ((1, 3, 64, 64), 8), ((3, 2, 12, 18), 6)):
            x = torch.rand(shape, generator=g)
            got = _tensor(fn(x.clone(), patch), "patchify")
            want = patchify_reference(x, patch)
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
            lin = _tensor(fn(x, 4), "patchify") @ conv.weight.reshape(5, -1).T + conv.bias
            require(torch.allclose(lin, conv(x).flatten(2).transpose(1, 2), atol=1e-5),
                    "patchify(x) @ W.T + b should equal the Conv2d patch embedding")

    return run_check("Exercise 2.1 patchify", test, strict)


# ----------------------------------------------------------------------------- Exercise 2.2


def check_batch_norm(fn: Callable, strict: bool | None = None) -> bool:
    """fn(x (N, F), eps) -> x normalised per feature over the batch (training mode, no affine)."""

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        x = torch.randn(8, 6, generator=g) * torch.tensor([1.0, 3.0, 0.1, 10.0, 0.003, 1.0]) + torch.tensor(
            [0.0, 5.0, -2.0, 1.0, 4.0, 0.0])
        x[:, 5] = 2.5  # a constant feature
        got = _tensor(fn(x.clone(), 1e-5), "batch_norm")
        want = F.batch_norm(x, None, None, training=True, eps=1e-5)
        require(tuple(got.shape) == tuple(x.shape), f"the output must keep the input's shape {tuple(x.shape)}")
        require(bool(torch.isfinite(got).all()),
                "NaN or inf: a feature that is constant over the batch has variance 0; add eps inside the square root")
        if torch.allclose(got, F.layer_norm(x, (6,), eps=1e-5), atol=1e-4):
            raise CheckFailed("this is LayerNorm (statistics over the features of one sample); BatchNorm takes "
                              "the statistics of each feature over the batch (dim 0)")
        if torch.allclose(got, want * (7 / 8) ** 0.5, atol=1e-4):
            raise CheckFailed("use the biased variance (divide by N, unbiased=False), as BatchNorm does in training")
        require(torch.allclose(got, want, atol=1e-4),
                "expected (x - mean) / sqrt(var + eps) with mean and biased var over the batch (dim 0), per feature")
        got2 = _tensor(fn(x[:, :3].clone(), 0.5), "batch_norm")
        require(torch.allclose(got2, F.batch_norm(x[:, :3], None, None, training=True, eps=0.5), atol=1e-4),
                "use the eps you are given, inside the square root: sqrt(var + eps)")

    return run_check("Exercise 2.2 batch_norm", test, strict)


# ----------------------------------------------------------------------------- Exercise 2.3


def pearson_r_reference(pred: torch.Tensor, y: torch.Tensor) -> float:
    p, t = pred - pred.mean(0), y - y.mean(0)
    return float(((p * t).sum(0) / (p.norm(dim=0) * t.norm(dim=0))).mean())


def check_pearson_r(fn: Callable, strict: bool | None = None) -> bool:
    """fn(pred (N, K), y (N, K)) -> float: the Pearson correlation per column, averaged over the K columns."""

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        y = torch.stack([torch.rand(200, generator=g) * 50 + 5, torch.rand(200, generator=g) * 10 + 30], 1)
        noise = torch.randn(200, 2, generator=g)
        cases = [
            (y + noise * torch.tensor([2.0, 6.0]), "noisy predictions"),
            (2.0 * y + 7.0, "a perfect linear relation (r = 1)"),
            (-y + 3.0, "a perfect negative relation (r = -1)"),
            (y[:, [1, 0]] + noise, "predictions of the other coordinate"),
        ]
        for pred, what in cases:
            got = fn(pred.clone(), y.clone())
            require(isinstance(got, (float, int)) or (isinstance(got, torch.Tensor) and got.numel() == 1),
                    f"return one number (the mean of the per-column r), got {type(got).__name__}")
            got = float(got)
            want = pearson_r_reference(pred, y)
            if abs(got - want) > 1e-4:
                if abs(got - want**2) < 1e-4 or (want < 0 and got >= 0):
                    raise CheckFailed(f"for {what} expected r = {want:.4f}, got {got:.4f}: return r, not r squared "
                                      "(r keeps its sign)")
                raise CheckFailed(f"for {what} expected r = {want:.4f}, got {got:.4f}. Centre each column "
                                  "(subtract its mean), then r = sum(p*t) / (|p| |t|) per column, then average the "
                                  "columns: the x and y coordinates are scored separately")

    return run_check("Exercise 2.3 pearson_r", test, strict)
