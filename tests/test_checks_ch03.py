"""Chapter 03 checkers accept the reference solutions and reject plausible wrong answers."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from reference import load_solution

from lewm_mini.checks.ch03 import check_causal_attention, check_teacher_forced



def solution(name: str, stem: str = "03_predictor"):
    return load_solution(name, stem)


def accepts(check, fn) -> bool:
    return check(fn, strict=False)


# ----------------------------------------------------------------------------- 3.1


def _attn(q, k, v, mask="tril", scale=True, dim=-1):
    t, d = q.shape[-2], q.shape[-1]
    s = q @ k.transpose(-2, -1) / (math.sqrt(d) if scale else 1.0)
    ones = torch.ones(t, t, dtype=torch.bool)
    if mask == "tril":
        s = s.masked_fill(~ones.tril(), float("-inf"))
    elif mask == "triu":
        s = s.masked_fill(~ones.triu(), float("-inf"))
    elif mask == "strict":
        s = s.masked_fill(~ones.tril(-1), float("-inf"))
    elif mask == "zero":  # masked scores set to 0 instead of -inf
        s = s.masked_fill(~ones.tril(), 0.0)
    return s.softmax(dim) @ v


ATTN_MUTANTS = {
    "no mask": lambda q, k, v: _attn(q, k, v, mask=None),
    "mask the wrong way round (sees the future)": lambda q, k, v: _attn(q, k, v, mask="triu"),
    "strict mask (a token cannot see itself)": lambda q, k, v: _attn(q, k, v, mask="strict"),
    "no 1/sqrt(d) scaling": lambda q, k, v: _attn(q, k, v, scale=False),
    "softmax over the queries": lambda q, k, v: _attn(q, k, v, dim=-2),
    "masked scores set to 0, not -inf": lambda q, k, v: _attn(q, k, v, mask="zero"),
    "scaled by sqrt(T) instead of sqrt(d)": lambda q, k, v: F.scaled_dot_product_attention(
        q, k, v, is_causal=True, scale=1 / math.sqrt(q.shape[-2])),
}


def test_causal_attention_accepts_reference_and_sdpa():
    assert accepts(check_causal_attention, solution("causal_attention"))
    assert accepts(check_causal_attention, lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True))


@pytest.mark.parametrize("name", ATTN_MUTANTS)
def test_causal_attention_rejects_mutant(name):
    assert not accepts(check_causal_attention, ATTN_MUTANTS[name])


def test_causal_attention_stub_and_strict_mode():
    def stub(q, k, v):
        raise NotImplementedError("causal_attention")

    assert not accepts(check_causal_attention, stub)
    with pytest.raises(AssertionError):
        check_causal_attention(stub, strict=True)
    assert check_causal_attention(solution("causal_attention"), strict=True)


# ----------------------------------------------------------------------------- 3.2


def _tf(pred, z, blocks, history, window=None, act_shift=0, take=-1, z_shift=0):
    out = []
    window = history if window is None else window
    for t in range(blocks.shape[1]):
        lo = max(0, t + 1 - window)
        zz = z[:, lo + z_shift : t + 1 + z_shift]
        aa = blocks[:, max(0, lo + act_shift) : t + 1 + act_shift]
        out.append(pred(zz, aa[:, -zz.shape[1]:] if aa.shape[1] >= zz.shape[1] else torch.cat(
            [aa, aa[:, -1:]], 1)[:, -zz.shape[1]:])[:, take])
    return torch.stack(out, 1)


TF_MUTANTS = {
    "only the current latent (history 1)": lambda p, z, b, h: _tf(p, z, b, h, window=1),
    "keeps the oldest token's output": lambda p, z, b, h: _tf(p, z, b, h, take=0),
    "the target leaks into the input": lambda p, z, b, h: _tf(p, z, b, h, z_shift=1),
    "actions one step late": lambda p, z, b, h: _tf(p, z, b, h, act_shift=-1),
    "one pass over the first `history` latents": lambda p, z, b, h: p(z[:, :h], b[:, :h]),
    "the rollout instead (its own predictions as inputs)": lambda p, z, b, h: __import__(
        "lewm_mini.rollout", fromlist=["rollout"]).rollout(p, z[:, 0], b, h),
}


def test_teacher_forced_accepts_reference():
    assert accepts(check_teacher_forced, solution("teacher_forced"))


@pytest.mark.parametrize("name", TF_MUTANTS)
def test_teacher_forced_rejects_mutant(name):
    assert not accepts(check_teacher_forced, TF_MUTANTS[name])


def test_teacher_forced_stub_and_strict():
    def stub(p, z, b, h):
        raise NotImplementedError("teacher_forced")

    assert not accepts(check_teacher_forced, stub)
    with pytest.raises(AssertionError):
        check_teacher_forced(stub, strict=True)
