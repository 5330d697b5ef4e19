"""Chapter 08 checkers accept the reference solutions and reject plausible wrong answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from reference import load_solution

from lewm_mini.checks.ch08 import check_detection_auc, check_straightness, check_surprise_score
from lewm_mini.rollout import rollout
from lewm_mini.surprise import roc_auc, surprise, velocity_cosines


def solution(name: str):
    return load_solution(name, "08_probing_and_surprise")


def accepts(check, fn) -> bool:
    return check(fn, strict=False)


# ----------------------------------------------------------------------------- 8.1


def _one_step(p, z, b):
    n, l, d = z.shape[0], b.shape[1], z.shape[2]
    return p(z[:, :-1].reshape(n * l, 1, d), b.reshape(n * l, 1, -1))[:, 0].reshape(n, l, d)


def _teacher_forced_history(p, z, b):  # the full history of context instead of one latent
    out = []
    for t in range(b.shape[1]):
        lo = max(0, t + 1 - 3)
        out.append(p(z[:, lo : t + 1], b[:, lo : t + 1])[:, -1])
    return (torch.stack(out, 1) - z[:, 1:]).pow(2).mean(-1)


SURPRISE_MUTANTS = {
    "error against the current frame, not the next": lambda p, z, b: (_one_step(p, z, b) - z[:, :-1]).pow(2).mean(-1),
    "mean over the episode instead of per step": lambda p, z, b: (_one_step(p, z, b) - z[:, 1:]).pow(2).mean((1, 2)),
    "episode mean broadcast to every step": lambda p, z, b: (_one_step(p, z, b) - z[:, 1:]).pow(2).mean(
        (1, 2), keepdim=True).expand(-1, b.shape[1], 1)[..., 0],
    "sum over D instead of mean": lambda p, z, b: (_one_step(p, z, b) - z[:, 1:]).pow(2).sum(-1),
    "Euclidean norm instead of squared error": lambda p, z, b: (_one_step(p, z, b) - z[:, 1:]).norm(dim=-1),
    "a rollout instead of one step from each true latent": lambda p, z, b: (
        rollout(p, z[:, 0], b, 1) - z[:, 1:]).pow(2).mean(-1),
    "action of the next step": lambda p, z, b: (_one_step(p, z, torch.roll(b, -1, 1)) - z[:, 1:]).pow(2).mean(-1),
    "three latents of context": _teacher_forced_history,
    "the whole episode as context (crashes past history)": lambda p, z, b: (p(z[:, :-1], b) - z[:, 1:]).pow(2).mean(-1),
}


def test_surprise_accepts_reference_and_package():
    assert accepts(check_surprise_score, solution("surprise_score"))
    assert accepts(check_surprise_score, surprise)


@pytest.mark.parametrize("name", SURPRISE_MUTANTS)
def test_surprise_rejects_mutant(name):
    assert not accepts(check_surprise_score, SURPRISE_MUTANTS[name])


def test_surprise_hints_name_the_mistake(capsys):
    check_surprise_score(SURPRISE_MUTANTS["error against the current frame, not the next"], strict=False)
    assert "next" in capsys.readouterr().out
    check_surprise_score(SURPRISE_MUTANTS["mean over the episode instead of per step"], strict=False)
    assert "per step" in capsys.readouterr().out
    check_surprise_score(SURPRISE_MUTANTS["the whole episode as context (crashes past history)"], strict=False)
    out = capsys.readouterr().out
    assert "FAIL. Hint" in out and "at most `history` latents" in out
    check_surprise_score(SURPRISE_MUTANTS["three latents of context"], strict=False)
    assert "use one latent" in capsys.readouterr().out


def test_surprise_stub_and_strict():
    def stub(p, z, b):
        raise NotImplementedError("surprise_score")

    assert not accepts(check_surprise_score, stub)
    with pytest.raises(AssertionError):
        check_surprise_score(stub, strict=True)
    assert check_surprise_score(solution("surprise_score"), strict=True)


# ----------------------------------------------------------------------------- 8.2


def _auc(scores, labels, swap=False, tie=0.5):
    s, y = np.asarray(scores, float), np.asarray(labels).astype(bool)
    if swap:
        y = ~y
    pos, neg = s[y], s[~y]
    return float(((pos[:, None] > neg[None]).sum() + tie * (pos[:, None] == neg[None]).sum()) / (len(pos) * len(neg)))


AUC_MUTANTS = {
    "labels swapped": lambda s, y: _auc(s, y, swap=True),
    "ties count 0": lambda s, y: _auc(s, y, tie=0.0),
    "ties count 1": lambda s, y: _auc(s, y, tie=1.0),
    "accuracy at the median threshold": lambda s, y: float(((s > np.median(s)) == y.astype(bool)).mean()),
    "divided by all pairs, not event x normal pairs": lambda s, y: _auc(s, y) * y.sum() * (1 - y).sum() / len(y) ** 2,
    "difference of mean scores": lambda s, y: float(s[y == 1].mean() - s[y == 0].mean()),
}


def test_auc_accepts_reference_and_package():
    assert accepts(check_detection_auc, solution("detection_auc"))
    assert accepts(check_detection_auc, lambda s, y: roc_auc(s[y == 1], s[y == 0]))


@pytest.mark.parametrize("name", AUC_MUTANTS)
def test_auc_rejects_mutant(name):
    assert not accepts(check_detection_auc, AUC_MUTANTS[name])


def test_auc_swapped_labels_hint(capsys):
    check_detection_auc(AUC_MUTANTS["labels swapped"], strict=False)
    assert "wrong way round" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["ties count 0", "ties count 1"])
def test_auc_ties_hint(name, capsys):
    check_detection_auc(AUC_MUTANTS[name], strict=False)
    out = capsys.readouterr().out
    assert "one half" in out and "(with ties)" not in out


# ----------------------------------------------------------------------------- 8.3


def _v(z):
    return z[:, 1:] - z[:, :-1]


STRAIGHT_MUTANTS = {
    "cosine of consecutive latents, not velocities": lambda z: float(
        F.cosine_similarity(z[:, :-1], z[:, 1:], dim=-1).mean()),
    "dot product without normalising": lambda z: float((_v(z)[:, :-1] * _v(z)[:, 1:]).sum(-1).mean()),
    "1 - cosine (a curvature)": lambda z: 1 - float(F.cosine_similarity(_v(z)[:, :-1], _v(z)[:, 1:], dim=-1).mean()),
    "velocities two steps apart": lambda z: float(F.cosine_similarity(_v(z)[:, :-2], _v(z)[:, 2:], dim=-1).mean()),
    "mean angle in radians": lambda z: float(torch.arccos(
        F.cosine_similarity(_v(z)[:, :-1], _v(z)[:, 1:], dim=-1).clamp(-1, 1)).mean()),
    "cosine over the time axis": lambda z: float(F.cosine_similarity(_v(z)[:, :-1], _v(z)[:, 1:], dim=1).mean()),
    "F.cosine_similarity without dim (default dim=1)": lambda z: float(F.cosine_similarity(_v(z)[:, :-1], _v(z)[:, 1:]).mean()),
}


def test_straightness_accepts_reference_and_package():
    assert accepts(check_straightness, solution("straightness"))
    assert accepts(check_straightness, lambda z: float(velocity_cosines(z).mean()))


@pytest.mark.parametrize("name", STRAIGHT_MUTANTS)
def test_straightness_rejects_mutant(name):
    assert not accepts(check_straightness, STRAIGHT_MUTANTS[name])


def test_straightness_default_dim_hint(capsys):
    check_straightness(STRAIGHT_MUTANTS["F.cosine_similarity without dim (default dim=1)"], strict=False)
    assert "dim=-1" in capsys.readouterr().out
