"""Chapter 03 checkers accept the reference solutions and reject plausible wrong answers."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from reference import accepts, solutions_of

from lewm_mini.checks.ch03 import check_adaln_block, check_causal_attention, check_rollout, toy_predictor
from lewm_mini.predictor import AdaLNBlock, CausalSelfAttention, modulate
from lewm_mini.rollout import rollout as package_rollout



solution = solutions_of("03_predictor")


def solution_class(name: str, stem: str = "03_predictor"):
    """A class from the solutions file, with the file's imports (load_solution keeps functions only)."""
    import ast

    from reference import ROOT

    tree = ast.parse((ROOT / "solutions" / f"{stem}_solutions.py").read_text())
    keep = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
            or (isinstance(n, ast.ClassDef) and n.name == name)]
    ns: dict = {}
    exec(compile(ast.Module(keep, type_ignores=[]), f"{stem}_solutions.py", "exec"), ns)
    return ns[name]


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


def _roll(p, z, b, h, truth=False, z_shift=0, a_shift=0, window=None, take=-1, newest_block=False):
    """Rollout variants: truth feeds the true latents (teacher forcing); shifts move the windows."""
    window = h if window is None else window
    seq, out = [z[:, 0]], []
    for k in range(b.shape[1]):
        lo = max(0, k + 1 - window)
        ctx = z[:, lo + z_shift : k + 1 + z_shift] if truth else torch.stack(seq[lo:], 1)
        a = b[:, max(0, lo + a_shift) : k + 1 + a_shift]
        if newest_block:
            a = b[:, k : k + 1].expand(-1, ctx.shape[1], -1)
        a = torch.cat([a, a[:, -1:].expand(-1, ctx.shape[1] - a.shape[1], -1)], 1) if a.shape[1] < ctx.shape[1] else a
        out.append(p(ctx, a[:, -ctx.shape[1]:])[:, take])
        seq.append(out[-1])
    return torch.stack(out, 1)


ROLLOUT_MUTANTS = {
    "feeds the true latents instead of its predictions": lambda p, z, b, h: _roll(p, z, b, h, truth=True),
    "leaks the future frame it predicts": lambda p, z, b, h: _roll(p, z, b, h, truth=True, z_shift=1),
    "action index one step ahead": lambda p, z, b, h: _roll(p, z, b, h, a_shift=1),
    "the newest block for every context latent": lambda p, z, b, h: _roll(p, z, b, h, newest_block=True),
    "only the newest latent as context": lambda p, z, b, h: _roll(p, z, b, h, window=1),
    "keeps the oldest output": lambda p, z, b, h: _roll(p, z, b, h, take=0),
    "returns z0 as well": lambda p, z, b, h: torch.cat([z[:, :1], package_rollout(p, z[:, 0], b, h)], 1),
    "starts from the last true latent": lambda p, z, b, h: package_rollout(p, z[:, -1], b, h),
    "one pass over the true latents": lambda p, z, b, h: torch.cat(
        [p(z[:, max(0, k - h + 1) : k + 1], b[:, max(0, k - h + 1) : k + 1])[:, -1:] for k in range(b.shape[1])], 1),
}


def test_rollout_accepts_reference_and_package():
    assert accepts(check_rollout, solution("rollout"))
    assert accepts(check_rollout, lambda p, z, b, h: package_rollout(p, z[:, 0], b, h))


@pytest.mark.parametrize("name", ROLLOUT_MUTANTS)
def test_rollout_rejects_mutant(name, capsys):
    assert not accepts(check_rollout, ROLLOUT_MUTANTS[name])
    assert "FAIL" in capsys.readouterr().out


def test_rollout_hints_name_the_mistake(capsys):
    for name, words in (("feeds the true latents instead of its predictions", "teacher forcing"),
                        ("leaks the future frame it predicts", "future frame"),
                        ("action index one step ahead", "action index")):
        accepts(check_rollout, ROLLOUT_MUTANTS[name])
        assert words in capsys.readouterr().out, name


def test_rollout_stub_and_strict():
    def stub(p, z, b, h):
        raise NotImplementedError("rollout")

    assert not accepts(check_rollout, stub)
    with pytest.raises(AssertionError):
        check_rollout(stub, strict=True)
    assert check_rollout(solution("rollout"), strict=True)


def test_toy_predictor_is_not_the_identity():
    pred, cfg = toy_predictor(2)
    z = torch.randn(3, 2, cfg.latent)
    with torch.no_grad():
        assert not torch.allclose(pred(z, torch.randn(3, 2, cfg.action_dim * cfg.frameskip)), z)


# ----------------------------------------------------------------------------- 3.3


def _block_class(random_ada=False, one_plus=True, gate_attn=True, order=(0, 1, 2, 3, 4, 5), post_norm=False,
                 silu=True, zero_mlp_instead=False):
    class Block(nn.Module):
        def __init__(self, width, heads, mlp, dropout):
            super().__init__()
            self.norm1 = nn.LayerNorm(width, elementwise_affine=False)
            self.attn = CausalSelfAttention(width, heads, dropout)
            self.norm2 = nn.LayerNorm(width, elementwise_affine=False)
            self.mlp = nn.Sequential(nn.Linear(width, mlp), nn.GELU(), nn.Dropout(dropout), nn.Linear(mlp, width))
            self.ada = nn.Sequential(nn.SiLU() if silu else nn.Identity(), nn.Linear(width, 6 * width))
            if zero_mlp_instead:
                nn.init.zeros_(self.mlp[3].weight), nn.init.zeros_(self.mlp[3].bias)
                nn.init.zeros_(self.attn.out.weight), nn.init.zeros_(self.attn.out.bias)
            elif not random_ada:
                nn.init.zeros_(self.ada[1].weight), nn.init.zeros_(self.ada[1].bias)

        def forward(self, x, c):
            parts = self.ada(c).chunk(6, dim=-1)
            shift1, scale1, gate1, shift2, scale2, gate2 = (parts[i] for i in order)
            mod = modulate if one_plus else (lambda h, shift, scale: h * scale + shift)
            if post_norm:
                x = self.norm1(x + gate1 * self.attn(mod(x, shift1, scale1)))
                return self.norm2(x + gate2 * self.mlp(mod(x, shift2, scale2)))
            a = self.attn(mod(self.norm1(x), shift1, scale1))
            x = x + (gate1 * a if gate_attn else a)
            return x + gate2 * self.mlp(mod(self.norm2(x), shift2, scale2))

    return Block


BLOCK_MUTANTS = {
    "modulation not zero at the start": _block_class(random_ada=True),
    "zero-initialises the sublayers' outputs instead of the modulation": _block_class(zero_mlp_instead=True),
    "scale without the 1 + (h * scale + shift)": _block_class(one_plus=False),
    "attention output not gated": _block_class(gate_attn=False),
    "shift and scale swapped": _block_class(order=(1, 0, 2, 4, 3, 5)),
    "the two triples swapped": _block_class(order=(3, 4, 5, 0, 1, 2)),
    "post-norm instead of pre-norm": _block_class(post_norm=True),
    "no SiLU before the modulation's Linear": _block_class(silu=False),
}


def test_adaln_block_accepts_reference_and_package():
    assert accepts(check_adaln_block, solution_class("AdaLNBlock"))
    assert accepts(check_adaln_block, AdaLNBlock)


@pytest.mark.parametrize("name", BLOCK_MUTANTS)
def test_adaln_block_rejects_mutant(name, capsys):
    assert not accepts(check_adaln_block, BLOCK_MUTANTS[name])
    assert "FAIL" in capsys.readouterr().out


def test_adaln_block_hint_for_a_non_zero_start(capsys):
    accepts(check_adaln_block, BLOCK_MUTANTS["modulation not zero at the start"])
    assert "not zero at the start" in capsys.readouterr().out


def test_adaln_block_wrong_names_and_stub(capsys):
    class Renamed(nn.Module):
        def __init__(self, width, heads, mlp, dropout):
            super().__init__()
            self.modulation = nn.Linear(width, 6 * width)

        def forward(self, x, c):
            return x

    assert not accepts(check_adaln_block, Renamed)
    assert "names" in capsys.readouterr().out

    class Stub(nn.Module):
        def __init__(self, width, heads, mlp, dropout):
            super().__init__()
            raise NotImplementedError("__init__")

    assert not accepts(check_adaln_block, Stub)
    assert "not implemented yet" in capsys.readouterr().out
    with pytest.raises(AssertionError):
        check_adaln_block(Stub, strict=True)
