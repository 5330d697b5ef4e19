"""Chapter 02 checkers accept the reference solutions and reject plausible wrong answers."""

from __future__ import annotations


import pytest
import torch
import torch.nn.functional as F

from reference import accepts, solutions_of

from lewm_mini.checks.ch02 import check_batch_norm, check_patchify, check_probe_r
from lewm_mini.checks.answers.ch02 import probe_r_reference



solution = solutions_of("02_jepa_encoder")


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


def _bn(x, rm, rv, training, momentum=0.1, eps=1e-5, running_biased=False, momentum_swapped=False,
        eval_batch=False, in_place=True, norm_unbiased=False, layer=False):
    if layer:
        return (x - x.mean(1, keepdim=True)) / torch.sqrt(x.var(1, unbiased=False, keepdim=True) + eps)
    if training or eval_batch:
        mean, var = x.mean(0), x.var(0, unbiased=norm_unbiased)
        if training:
            new_var = x.var(0, unbiased=not running_biased)
            m = 1 - momentum if momentum_swapped else momentum
            new_rm, new_rv = (1 - m) * rm + m * mean, (1 - m) * rv + m * new_var
            if in_place:
                rm.copy_(new_rm), rv.copy_(new_rv)
    else:
        mean, var = rm, rv
    return (x - mean) / torch.sqrt(var + eps)


BN_MUTANTS = {
    "LayerNorm (over features)": lambda x, rm, rv, tr, m=0.1, e=1e-5: _bn(x, rm, rv, tr, m, e, layer=True),
    "running variance fed the biased variance": lambda x, rm, rv, tr, m=0.1, e=1e-5: _bn(
        x, rm, rv, tr, m, e, running_biased=True),
    "momentum the wrong way round": lambda x, rm, rv, tr, m=0.1, e=1e-5: _bn(x, rm, rv, tr, m, e,
                                                                            momentum_swapped=True),
    "eval mode uses the batch statistics": lambda x, rm, rv, tr, m=0.1, e=1e-5: _bn(x, rm, rv, tr, m, e,
                                                                                   eval_batch=True),
    "running statistics not updated in place": lambda x, rm, rv, tr, m=0.1, e=1e-5: _bn(x, rm, rv, tr, m, e,
                                                                                       in_place=False),
    "normalises with the unbiased variance": lambda x, rm, rv, tr, m=0.1, e=1e-5: _bn(x, rm, rv, tr, m, e,
                                                                                     norm_unbiased=True),
    "training mode uses the running statistics": lambda x, rm, rv, tr, m=0.1, e=1e-5: _bn(x, rm, rv, False, m, e),
    "ignores the given eps": lambda x, rm, rv, tr, m=0.1, e=1e-5: _bn(x, rm, rv, tr, m, 1e-5),
}


def test_batch_norm_accepts_reference_and_torch():
    assert accepts(check_batch_norm, solution("batch_norm"))
    assert accepts(check_batch_norm, lambda x, rm, rv, tr, m=0.1, e=1e-5: F.batch_norm(x, rm, rv, training=tr,
                                                                                       momentum=m, eps=e))
    assert check_batch_norm(solution("batch_norm"), strict=True)


@pytest.mark.parametrize("name", BN_MUTANTS)
def test_batch_norm_rejects_mutant(name, capsys):
    assert not accepts(check_batch_norm, BN_MUTANTS[name])
    assert "FAIL" in capsys.readouterr().out


# ----------------------------------------------------------------------------- 2.3


def _probe(z_tr, y_tr, z_te, y_te, ridge=1e-3, score_on="test", square=False, standardise="train", bias=True,
           pooled=False):
    from lewm_mini.checks.ch02 import _pearson, _ridge_predict

    p_tr, p_te = _ridge_predict(z_tr, y_tr, z_te, ridge, standardise=standardise, bias=bias)
    p, t = (p_te, y_te) if score_on == "test" else (p_tr, y_tr)
    if pooled:
        p, t = p.reshape(-1, 1), t.reshape(-1, 1)
    r = _pearson(p, t.double())
    return float((r**2 if square else r).mean())


PROBE_MUTANTS = {
    "scored on the training frames": lambda *a: _probe(*a, score_on="train"),
    "r squared": lambda *a: _probe(*a, square=True),
    "test set standardised with its own statistics": lambda *a: _probe(*a, standardise="own"),
    "no standardisation": lambda *a: _probe(*a, standardise="none"),
    "both columns pooled": lambda *a: _probe(*a, pooled=True),
    "ignores the ridge it is given": lambda z_tr, y_tr, z_te, y_te, ridge=1e-3: _probe(z_tr, y_tr, z_te, y_te, 1e-3),
}


def test_probe_r_accepts_reference():
    assert accepts(check_probe_r, solution("probe_r"))
    assert accepts(check_probe_r, probe_r_reference)
    assert check_probe_r(solution("probe_r"), strict=True)


@pytest.mark.parametrize("name", PROBE_MUTANTS)
def test_probe_r_rejects_mutant(name, capsys):
    assert not accepts(check_probe_r, PROBE_MUTANTS[name])
    assert "FAIL" in capsys.readouterr().out


