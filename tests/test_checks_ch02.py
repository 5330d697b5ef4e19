"""Chapter 02 checkers accept the reference solutions and reject plausible wrong answers."""

from __future__ import annotations


import pytest
import torch
import torch.nn.functional as F

from reference import load_solution

from lewm_mini.checks.ch02 import check_batch_norm, check_patchify, check_pearson_r



def solution(name: str, stem: str = "02_jepa_encoder"):
    return load_solution(name, stem)


def accepts(check, fn) -> bool:
    return check(fn, strict=False)


# ----------------------------------------------------------------------------- 2.1


def _grid(x, p):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // p, p, w // p, p)


PATCHIFY_MUTANTS = {
    "pixels in (y, x, c) order": lambda x, p: _grid(x, p).permute(0, 2, 4, 3, 5, 1).reshape(
        x.shape[0], -1, x.shape[1] * p * p),
    "patches column by column": lambda x, p: _grid(x, p).permute(0, 4, 2, 1, 3, 5).reshape(
        x.shape[0], -1, x.shape[1] * p * p),
    "plain reshape, no permute": lambda x, p: x.reshape(x.shape[0], -1, x.shape[1] * p * p),
    "unfold without transpose": lambda x, p: F.unfold(x, p, stride=p),
    "overlapping patches (stride p // 2)": lambda x, p: F.unfold(x, p, stride=max(1, p // 2)).transpose(1, 2),
    "rows and columns swapped inside a patch": lambda x, p: _grid(x, p).permute(0, 2, 4, 1, 5, 3).reshape(
        x.shape[0], -1, x.shape[1] * p * p),
}


def test_patchify_accepts_reference_and_unfold():
    assert accepts(check_patchify, solution("patchify"))
    assert accepts(check_patchify, lambda x, p: F.unfold(x, p, stride=p).transpose(1, 2))  # a valid alternative


@pytest.mark.parametrize("name", PATCHIFY_MUTANTS)
def test_patchify_rejects_mutant(name):
    assert not accepts(check_patchify, PATCHIFY_MUTANTS[name])


def test_patchify_stub_and_strict_mode():
    def stub(x, p):
        raise NotImplementedError("patchify")

    assert not accepts(check_patchify, stub)
    with pytest.raises(AssertionError):
        check_patchify(stub, strict=True)
    assert check_patchify(solution("patchify"), strict=True)


# ----------------------------------------------------------------------------- 2.2


BN_MUTANTS = {
    "LayerNorm (over features)": lambda x, eps=1e-5: (x - x.mean(1, keepdim=True)) / torch.sqrt(
        x.var(1, unbiased=False, keepdim=True) + eps),
    "unbiased variance": lambda x, eps=1e-5: (x - x.mean(0)) / torch.sqrt(x.var(0) + eps),
    "no eps": lambda x, eps=1e-5: (x - x.mean(0)) / x.std(0, unbiased=False),
    "eps outside the square root": lambda x, eps=1e-5: (x - x.mean(0)) / (x.std(0, unbiased=False) + eps),
    "forgets to subtract the mean": lambda x, eps=1e-5: x / torch.sqrt(x.var(0, unbiased=False) + eps),
    "divides by the variance": lambda x, eps=1e-5: (x - x.mean(0)) / (x.var(0, unbiased=False) + eps),
    "ignores the given eps": lambda x, eps=1e-5: (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + 1e-5),
}


def test_batch_norm_accepts_reference():
    assert accepts(check_batch_norm, solution("batch_norm"))
    assert accepts(check_batch_norm, lambda x, eps=1e-5: F.batch_norm(x, None, None, training=True, eps=eps))


@pytest.mark.parametrize("name", BN_MUTANTS)
def test_batch_norm_rejects_mutant(name):
    assert not accepts(check_batch_norm, BN_MUTANTS[name])


# ----------------------------------------------------------------------------- 2.3


def _r(pred, y, centre=True, square=False, reduce="mean"):
    p, t = (pred - pred.mean(0), y - y.mean(0)) if centre else (pred, y)
    r = (p * t).sum(0) / (p.norm(dim=0) * t.norm(dim=0))
    if square:
        r = r**2
    return float(r.mean() if reduce == "mean" else r[0])


R_MUTANTS = {
    "not centred (cosine similarity)": lambda p, y: _r(p, y, centre=False),
    "r squared": lambda p, y: _r(p, y, square=True),
    "pooled over both columns": lambda p, y: _r(p.reshape(-1, 1), y.reshape(-1, 1)),
    "first column only": lambda p, y: _r(p, y, reduce="first"),
    "corrcoef over samples": lambda p, y: float(torch.corrcoef(torch.cat([p, y], 1))[0, 1]),
    "absolute value of r": lambda p, y: float(
        ((p - p.mean(0)) * (y - y.mean(0))).sum(0).div((p - p.mean(0)).norm(dim=0) * (y - y.mean(0)).norm(dim=0))
        .abs().mean()),
}


def test_pearson_accepts_reference():
    assert accepts(check_pearson_r, solution("pearson_r"))


@pytest.mark.parametrize("name", R_MUTANTS)
def test_pearson_rejects_mutant(name):
    assert not accepts(check_pearson_r, R_MUTANTS[name])
