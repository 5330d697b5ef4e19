"""Chapter 05 checkers accept the reference solutions and reject plausible wrong answers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from reference import accepts, solutions_of

from lewm_mini.checks.ch05 import check_accumulated_step, check_two_term_loss


solution = solutions_of("05_training_lewm")


# ----------------------------------------------------------------------------- 5.1


def _loss(encoder, predictor, sigreg, frames, actions, lam, shift=1, sig_on="z", sig_layout="tb",
          lam_on="sigreg", item=False, detach=False, reduce="mean"):
    t, b = frames.shape[:2]
    z = encoder(frames.flatten(0, 1)).unflatten(0, (t, b))  # (T, B, D)
    z_bt, a_bt = z.transpose(0, 1), actions.transpose(0, 1)
    pred = predictor(z_bt[:, :-1], a_bt[:, :-1])
    target = z_bt[:, 1:] if shift else z_bt[:, :-1]
    err = (pred - (target.detach() if detach else target)) ** 2
    pred_loss = {"mean": err.mean(), "sum over D": err.sum(-1).mean(), "sum": err.sum()}[reduce]
    src = {"z": z, "pred": pred.transpose(0, 1), "targets": z[1:]}[sig_on]
    sig = sigreg(src if sig_layout == "tb" else src.transpose(0, 1))
    loss = pred_loss + lam * sig if lam_on == "sigreg" else lam * pred_loss + sig
    out = {"loss": loss, "pred": pred_loss, "sigreg": sig}
    return {k: torch.tensor(v.item()) for k, v in out.items()} if item else out


def _per_step_encoding(encoder, predictor, sigreg, frames, actions, lam):
    """Encodes each time step separately: the same latents in eval mode, so it must pass."""
    z = torch.stack([encoder(f) for f in frames])
    z_bt, a_bt = z.transpose(0, 1), actions.transpose(0, 1)
    pred = predictor(z_bt[:, :-1], a_bt[:, :-1])
    pred_loss = ((pred - z_bt[:, 1:]) ** 2).mean()
    sig = sigreg(z)
    return {"loss": pred_loss + lam * sig, "pred": pred_loss, "sigreg": sig}


def _time_major_predictor(encoder, predictor, sigreg, frames, actions, lam):
    t, b = frames.shape[:2]
    z = encoder(frames.flatten(0, 1)).unflatten(0, (t, b))
    pred = predictor(z[:-1], actions[:-1])  # forgot the transpose
    pred_loss = F.mse_loss(pred, z[1:])
    sig = sigreg(z)
    return {"loss": pred_loss + lam * sig, "pred": pred_loss, "sigreg": sig}


def _unflatten_b_t(encoder, predictor, sigreg, frames, actions, lam):
    """unflatten(0, (b, t)) on time-major data: the right shape, the frames of different clips mixed."""
    t, b = frames.shape[:2]
    z = encoder(frames.flatten(0, 1)).unflatten(0, (b, t))  # wrong order: (B, T, D) in shape only
    a_bt = actions.transpose(0, 1)
    pred = predictor(z[:, :-1], a_bt[:, :-1])
    pred_loss = F.mse_loss(pred, z[:, 1:])
    sig = sigreg(z.transpose(0, 1))
    return {"loss": pred_loss + lam * sig, "pred": pred_loss, "sigreg": sig}


def _batch_major_flatten(encoder, predictor, sigreg, frames, actions, lam):
    """Transposes to batch-major before flattening, so unflatten(0, (b, t)) is right: must pass."""
    t, b = frames.shape[:2]
    z = encoder(frames.transpose(0, 1).flatten(0, 1)).unflatten(0, (b, t))  # (B, T, D)
    a_bt = actions.transpose(0, 1)
    pred = predictor(z[:, :-1], a_bt[:, :-1])
    pred_loss = F.mse_loss(pred, z[:, 1:])
    sig = sigreg(z.transpose(0, 1))
    return {"loss": pred_loss + lam * sig, "pred": pred_loss, "sigreg": sig}


def _actions_late(encoder, predictor, sigreg, frames, actions, lam):
    t, b = frames.shape[:2]
    z = encoder(frames.flatten(0, 1)).unflatten(0, (t, b)).transpose(0, 1)
    pred = predictor(z[:, :-1], actions.transpose(0, 1)[:, 1:])
    pred_loss = F.mse_loss(pred, z[:, 1:])
    sig = sigreg(z.transpose(0, 1))
    return {"loss": pred_loss + lam * sig, "pred": pred_loss, "sigreg": sig}


LOSS_MUTANTS = {
    "targets not shifted": lambda *a: _loss(*a, shift=0),
    "SIGReg over the wrong axis (B, T, D)": lambda *a: _loss(*a, sig_layout="bt"),
    "lambda on the wrong term": lambda *a: _loss(*a, lam_on="pred"),
    "SIGReg on the predictions": lambda *a: _loss(*a, sig_on="pred"),
    "SIGReg on the targets only (T-1 steps)": lambda *a: _loss(*a, sig_on="targets"),
    "returns floats (no gradient)": lambda *a: _loss(*a, item=True),
    "targets detached (a stop-gradient)": lambda *a: _loss(*a, detach=True),
    "squared error summed over D": lambda *a: _loss(*a, reduce="sum over D"),
    "squared error summed over every element": lambda *a: _loss(*a, reduce="sum"),
    "predictor fed time-major tensors": _time_major_predictor,
    "action blocks one step late": _actions_late,
    "unflatten(0, (b, t)) on time-major latents": _unflatten_b_t,
}


def test_two_term_loss_accepts_reference_and_variants():
    assert accepts(check_two_term_loss, solution("two_term_loss"))
    assert accepts(check_two_term_loss, _loss)
    assert accepts(check_two_term_loss, _per_step_encoding)
    assert accepts(check_two_term_loss, _batch_major_flatten)


@pytest.mark.parametrize("name", LOSS_MUTANTS)
def test_two_term_loss_rejects_mutant(name):
    assert not accepts(check_two_term_loss, LOSS_MUTANTS[name])


def test_two_term_loss_hints_name_the_mistake(capsys):
    expect = {"targets not shifted": "not shifted", "SIGReg over the wrong axis (B, T, D)": "wrong axis",
              "lambda on the wrong term": "wrong term", "SIGReg on the predictions": "predictions",
              "squared error summed over D": "over the D", "squared error summed over every element": "every element",
              "targets detached (a stop-gradient)": "stop-gradient",
              "unflatten(0, (b, t)) on time-major latents": "unflatten(0, (t, b))"}
    for name, word in expect.items():
        accepts(check_two_term_loss, LOSS_MUTANTS[name])
        assert word in capsys.readouterr().out, name


def test_two_term_loss_stub_and_strict():
    def stub(*args):
        raise NotImplementedError("two_term_loss")

    assert not accepts(check_two_term_loss, stub)
    with pytest.raises(AssertionError):
        check_two_term_loss(stub, strict=True)
    assert check_two_term_loss(solution("two_term_loss"), strict=True)


# ----------------------------------------------------------------------------- 5.2


def _step(model, opt, loss_fn, micro_batches, max_norm, zero="first", clip=True, order="normal", weights="size",
          norm_after=False, loss_sum=False, loss_unweighted=False):
    if zero == "first":
        opt.zero_grad()
    if order == "step first":
        opt.step()
    n = sum(len(b[0]) for b in micro_batches)
    total = 0.0
    for b in micro_batches:
        if zero == "each":
            opt.zero_grad()
        raw = loss_fn(model, b)
        loss = raw * {"size": len(b[0]) / n, "count": 1 / len(micro_batches), "none": 1.0}[weights]
        loss.backward()
        total += raw.item() / len(micro_batches) if loss_unweighted else loss.item() * (len(micro_batches) if loss_sum else 1)
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm) if clip else torch.tensor(0.0)
    if norm_after:
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), float("inf"))
    if order == "normal":
        opt.step()
    elif order == "stale step":  # steps with the previous gradients, then computes new ones
        pass
    return total, float(norm)


def _stale_step(model, opt, loss_fn, micro_batches, max_norm):
    opt.step()  # uses whatever .grad holds
    opt.zero_grad()
    for b in micro_batches:
        (loss_fn(model, b) / len(micro_batches)).backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    return 0.0, float(norm)


STEP_MUTANTS = {
    "no zero_grad": lambda *a: _step(*a, zero="never"),
    "no clipping": lambda *a: _step(*a, clip=False),
    "step before backward": lambda *a: _step(*a, order="step first"),
    "step with the previous gradients": _stale_step,
    "zero_grad inside the loop": lambda *a: _step(*a, zero="each"),
    "sum of micro-batch losses, not mean": lambda *a: _step(*a, weights="none"),
    "divides by the number of micro-batches (unequal sizes)": lambda *a: _step(*a, weights="count"),
    "returns the unweighted mean of the micro-batch losses": lambda *a: _step(*a, loss_unweighted=True),
    "never steps": lambda *a: _step(*a, order="never"),
    "returns the norm after clipping": lambda *a: _step(*a, norm_after=True),
    "returns the summed loss": lambda *a: _step(*a, loss_sum=True),
}


def test_accumulated_step_accepts_reference():
    assert accepts(check_accumulated_step, solution("accumulated_step"))
    assert accepts(check_accumulated_step, _step)


@pytest.mark.parametrize("name", STEP_MUTANTS)
def test_accumulated_step_rejects_mutant(name):
    assert not accepts(check_accumulated_step, STEP_MUTANTS[name])


def test_accumulated_step_hints_name_the_mistake(capsys):
    expect = {"no zero_grad": "zero_grad", "no clipping": "clip", "step before backward": "before",
              "zero_grad inside the loop": "once", "divides by the number of micro-batches (unequal sizes)": "share",
              "returns the unweighted mean of the micro-batch losses": "mean loss over all samples"}
    for name, word in expect.items():
        accepts(check_accumulated_step, STEP_MUTANTS[name])
        assert word in capsys.readouterr().out, name


def test_accumulated_step_stub_and_strict():
    def stub(*args):
        raise NotImplementedError("accumulated_step")

    assert not accepts(check_accumulated_step, stub)
    with pytest.raises(AssertionError):
        check_accumulated_step(stub, strict=True)
