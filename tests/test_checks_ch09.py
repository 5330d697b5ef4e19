"""Chapter 09 checkers accept the reference solutions and reject plausible wrong answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from reference import ROOT, accepts, solutions_of

from lewm_mini.checks.ch09 import check_decoder_loss, check_detection_auc, check_straightness, check_surprise_score
from lewm_mini.data import frames_to_tensor
from lewm_mini.rollout import rollout
from lewm_mini.surprise import roc_auc, surprise, velocity_cosines


solution = solutions_of("09_probing_and_surprise")


# ----------------------------------------------------------------------------- 9.1


def _one_step(p, z, b):
    n, l, d = z.shape[0], b.shape[1], z.shape[2]
    return p(z[:, :-1].reshape(n * l, 1, d), b.reshape(n * l, 1, -1))[:, 0].reshape(n, l, d)


def _loop(p, z, b, context=1):
    """A learner's loop: the forecast after frame t from the last `context` true frames and their blocks."""
    out = []
    for t in range(b.shape[1]):
        lo = max(0, t + 1 - context)
        out.append(p(z[:, lo : t + 1], b[:, lo : t + 1])[:, -1])
    return (torch.stack(out, 1) - z[:, 1:]).pow(2).mean(-1)


def _loop_numpy(p, z, b):  # correct, one step at a time, returned as a numpy array
    out = [(p(z[:, t : t + 1], b[:, t : t + 1])[:, -1] - z[:, t + 1]).pow(2).mean(-1) for t in range(b.shape[1])]
    return torch.stack(out, 1).numpy()


def _previous_block(p, z, b):  # frame t with blocks[:, t - 1] (at t = 0 Python's -1 picks the last block)
    out = [p(z[:, t : t + 1], b[:, t - 1][:, None])[:, -1] for t in range(b.shape[1])]
    return (torch.stack(out, 1) - z[:, 1:]).pow(2).mean(-1)


SURPRISE_CORRECT = {
    "the reference solution": lambda: solution("surprise_score"),
    "lewm_mini.surprise.surprise": lambda: surprise,
    "a loop over t": lambda: _loop,
    "a loop returning numpy": lambda: _loop_numpy,
}

# each wrong answer, and words its hint must contain
SURPRISE_MUTANTS = {
    "error against the current frame, not the next": (
        lambda p, z, b: (_one_step(p, z, b) - z[:, :-1]).pow(2).mean(-1), "frame t+1"),
    "mean over the episode instead of per step": (
        lambda p, z, b: (_one_step(p, z, b) - z[:, 1:]).pow(2).mean((1, 2)), "per step"),
    "episode mean broadcast to every step": (
        lambda p, z, b: (_one_step(p, z, b) - z[:, 1:]).pow(2).mean((1, 2), keepdim=True).expand(
            -1, b.shape[1], 1)[..., 0], "same value"),
    "mean over the episodes instead of one row each": (
        lambda p, z, b: (_one_step(p, z, b) - z[:, 1:]).pow(2).mean((0, 2)), "one row per episode"),
    "sum over D instead of mean": (
        lambda p, z, b: (_one_step(p, z, b) - z[:, 1:]).pow(2).sum(-1), "grows with D"),
    "Euclidean norm instead of squared error": (
        lambda p, z, b: (_one_step(p, z, b) - z[:, 1:]).norm(dim=-1), "square root"),
    "root of the mean squared error": (
        lambda p, z, b: (_one_step(p, z, b) - z[:, 1:]).pow(2).mean(-1).sqrt(), "square root"),
    "absolute error instead of squared": (
        lambda p, z, b: (_one_step(p, z, b) - z[:, 1:]).abs().mean(-1), "absolute"),
    "a rollout instead of one step from each true latent": (
        lambda p, z, b: (rollout(p, z[:, 0], b, 1) - z[:, 1:]).pow(2).mean(-1), "rollout"),
    "action of the next step": (
        lambda p, z, b: (_one_step(p, z, torch.roll(b, -1, 1)) - z[:, 1:]).pow(2).mean(-1), "block t+1"),
    "action of the previous step": (_previous_block, "block t-1"),
    "three latents of context": (lambda p, z, b: _loop(p, z, b, context=3), "frame t only"),
    "the whole episode as context (crashes past history)": (
        lambda p, z, b: (p(z[:, :-1], b) - z[:, 1:]).pow(2).mean(-1), "at most `history` latents"),
    "the episode so far as context (crashes past history)": (
        lambda p, z, b: _loop(p, z, b, context=10**6), "at most `history` latents"),
}


@pytest.mark.parametrize("name", SURPRISE_CORRECT)
def test_surprise_accepts_correct_answers(name, capsys):
    assert accepts(check_surprise_score, SURPRISE_CORRECT[name]())
    assert "PASS" in capsys.readouterr().out


@pytest.mark.parametrize("name", SURPRISE_MUTANTS)
def test_surprise_rejects_mutant_with_its_hint(name, capsys):
    mutant, hint = SURPRISE_MUTANTS[name]
    assert not accepts(check_surprise_score, mutant)
    out = capsys.readouterr().out
    assert "FAIL. Hint" in out and hint in out, out


def test_surprise_hints_do_not_hand_out_the_call(capsys):
    """The statement asks for the idea; no hint gives the exact predictor call away."""
    for mutant, _ in SURPRISE_MUTANTS.values():
        check_surprise_score(mutant, strict=False)
    assert "z[:, t:t+1]" not in capsys.readouterr().out


def test_surprise_statement_asks_for_the_idea():
    text = (ROOT / "solutions" / "09_probing_and_surprise_solutions.py").read_text()
    statement = text[text.index("## Exercise 9.1"):text.index("def surprise_score")]
    assert "z[:, t:t+1]" not in statement and "$$" not in statement, "9.1 must not give the call or the formula"


def test_surprise_stub_and_strict(capsys):
    def stub(p, z, b):
        raise NotImplementedError("surprise_score")

    assert not accepts(check_surprise_score, stub)
    assert "not implemented yet" in capsys.readouterr().out
    with pytest.raises(AssertionError):
        check_surprise_score(stub, strict=True)
    with pytest.raises(AssertionError):
        check_surprise_score(SURPRISE_MUTANTS["sum over D instead of mean"][0], strict=True)
    assert check_surprise_score(solution("surprise_score"), strict=True)


# ----------------------------------------------------------------------------- 9.2


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


# ----------------------------------------------------------------------------- 9.3


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


# ----------------------------------------------------------------------------- 9.4


def _as_floats(frames, scale=1.0):
    return torch.from_numpy(frames).float().permute(0, 3, 1, 2) * scale / 255


def _frozen(encode, x):
    with torch.no_grad():
        return encode(x)


def _in_train_mode(model, decoder, frames):
    model.train()
    return F.mse_loss(decoder(_frozen(model.encode, frames_to_tensor(frames))), frames_to_tensor(frames))


DECODER_CORRECT = {
    "the reference solution": lambda: solution("decoder_loss"),
    "detach instead of no_grad": lambda: lambda m, d, f: F.mse_loss(d(m.encode(frames_to_tensor(f)).detach()),
                                                                   frames_to_tensor(f)),
    "encoder and projector by hand, frames converted by hand": lambda: lambda m, d, f: (
        d(_frozen(lambda x: m.projector(m.encoder(x)), _as_floats(f))) - _as_floats(f)).pow(2).mean(),
}

# each wrong answer, and words its hint must contain
DECODER_MUTANTS = {
    "gradients flow into the encoder": (
        lambda m, d, f: F.mse_loss(d(m.encode(frames_to_tensor(f))), frames_to_tensor(f)), "gradients into the world"),
    "decodes the projector's input": (
        lambda m, d, f: F.mse_loss(d(_frozen(m.encoder, frames_to_tensor(f))), frames_to_tensor(f)),
        "projector's input"),
    "target frames in [0, 255]": (
        lambda m, d, f: F.mse_loss(d(_frozen(m.encode, frames_to_tensor(f))), _as_floats(f, 255)), "[0, 255]"),
    "frames in [0, 255] everywhere": (
        lambda m, d, f: F.mse_loss(d(_frozen(m.encode, _as_floats(f, 255))), _as_floats(f, 255)), "[0, 255]"),
    "encoded in [0, 255], target in [0, 1]": (
        lambda m, d, f: F.mse_loss(d(_frozen(m.encode, _as_floats(f, 255))), _as_floats(f)), "[0, 255]"),
    "everything under no_grad": (
        lambda m, d, f: _frozen(lambda x: F.mse_loss(d(m.encode(x)), x), frames_to_tensor(f)),
        "no gradient"),
    "sum of squared errors": (
        lambda m, d, f: F.mse_loss(d(_frozen(m.encode, frames_to_tensor(f))), frames_to_tensor(f), reduction="sum"),
        "summed"),
    "absolute error": (
        lambda m, d, f: (d(_frozen(m.encode, frames_to_tensor(f))) - frames_to_tensor(f)).abs().mean(), "absolute"),
    "target in (B, H, W, 3) layout": (
        lambda m, d, f: F.mse_loss(d(_frozen(m.encode, frames_to_tensor(f))), torch.from_numpy(f).float() / 255),
        "layout"),
    "the model in train mode": (_in_train_mode, "eval mode"),
}


@pytest.mark.parametrize("name", DECODER_CORRECT)
def test_decoder_loss_accepts_correct_answers(name, capsys):
    assert accepts(check_decoder_loss, DECODER_CORRECT[name]())
    assert "PASS" in capsys.readouterr().out


@pytest.mark.parametrize("name", DECODER_MUTANTS)
def test_decoder_loss_rejects_mutant_with_its_hint(name, capsys):
    mutant, hint = DECODER_MUTANTS[name]
    assert not accepts(check_decoder_loss, mutant)
    out = capsys.readouterr().out
    assert "FAIL. Hint" in out and hint in out, out


def test_decoder_loss_stub_and_strict(capsys):
    def stub(model, decoder, frames):
        raise NotImplementedError("decoder_loss")

    assert not accepts(check_decoder_loss, stub)
    assert "not implemented yet" in capsys.readouterr().out
    with pytest.raises(AssertionError):
        check_decoder_loss(DECODER_MUTANTS["gradients flow into the encoder"][0], strict=True)
    assert check_decoder_loss(solution("decoder_loss"), strict=True)
