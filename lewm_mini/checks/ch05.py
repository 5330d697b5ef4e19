"""Checkers for chapter 05 (training LeWM: the two-term loss, one training step)."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from . import CheckFailed, require, run_check
from .answers import ch05 as _answers  # reference answers, kept out of this module


def _close(a, b, tol: float = 1e-5) -> bool:
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-4, atol=tol)


# ----------------------------------------------------------------------------- Exercise 5.1


def tiny_lewm(seed: int = 0):
    """A small lewm_mini LeWM on 16x16 frames whose predictor uses its actions (eval mode)."""
    from ..config import ModelConfig
    from ..jepa import LeWM

    cfg = ModelConfig(image_size=16, channels=(4, 8), enc_width=12, latent=6, proj_hidden=16, pred_width=16,
                      pred_depth=1, pred_heads=2, pred_mlp=32, history=3, frameskip=2, dropout=0.0)
    torch.manual_seed(seed)
    model = LeWM(cfg, num_proj=32)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():  # AdaLN-zero starts as the identity: give the blocks some modulation
        for blk in model.predictor.blocks:
            blk.ada[1].weight.copy_(0.3 * torch.randn(blk.ada[1].weight.shape, generator=g))
    return model.eval()


class LossParts:
    """The three callables handed to ``two_term_loss``, recording how they are called.

    encoder(frames (N, 3, H, W)) -> (N, D); predictor(z (B, T, D), a (B, T, A)) -> (B, T, D);
    sigreg(z (T, B, D)) -> scalar, with fixed random directions so that its value is reproducible.
    """

    def __init__(self, model, batch: int):
        self.model, self.batch = model, batch
        self.sigreg_inputs: list[torch.Tensor] = []
        self.predictor_inputs: list[tuple[torch.Tensor, torch.Tensor]] = []

    def encoder(self, frames: torch.Tensor) -> torch.Tensor:
        if frames.ndim != 4:
            raise CheckFailed(f"encoder takes a plain batch of frames (N, 3, H, W); it got shape {tuple(frames.shape)}. "
                              "Flatten time and batch first (frames.flatten(0, 1)) and reshape the latents after")
        return self.model.projector(self.model.encoder(frames))

    def predictor(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        if z.ndim != 3 or z.shape[0] != self.batch:
            raise CheckFailed(f"predictor takes batch-major latents (B, T, D) with B = {self.batch}; it got shape "
                              f"{tuple(z.shape)}. The data is time-major (T, B, ...): transpose(0, 1) first")
        self.predictor_inputs.append((z.detach().clone(), a.detach().clone()))
        return self.model.predictor(z, a)

    def sigreg(self, z: torch.Tensor) -> torch.Tensor:
        self.sigreg_inputs.append(z.detach().clone())
        return self.model.sigreg(z, generator=torch.Generator().manual_seed(0))


def check_two_term_loss(fn: Callable, strict: bool | None = None) -> bool:
    """fn(encoder, predictor, sigreg, frames (T, B, 3, H, W), actions (T, B, A), lam) -> {"loss", "pred", "sigreg"}."""

    def test() -> None:
        model = tiny_lewm()
        g = torch.Generator().manual_seed(0)
        for t, b, lam in ((4, 8, 0.09), (3, 5, 0.5), (4, 6, 2.0)):
            frames = torch.rand(t, b, 3, 16, 16, generator=g)
            actions = torch.randn(t, b, 4, generator=g)
            ref_parts = LossParts(model, b)
            want = _answers.two_term_loss_reference(ref_parts.encoder, ref_parts.predictor, ref_parts.sigreg, frames, actions, lam)
            parts = LossParts(model, b)
            got = fn(parts.encoder, parts.predictor, parts.sigreg, frames.clone(), actions.clone(), lam)
            require(isinstance(got, dict) and {"loss", "pred", "sigreg"} <= set(got),
                    'return a dict with the keys "loss", "pred" and "sigreg" (like LeWM.loss)')
            for k in ("loss", "pred", "sigreg"):
                require(isinstance(got[k], torch.Tensor) and got[k].numel() == 1,
                        f'got["{k}"] must be a scalar tensor, got {type(got[k]).__name__}')
            require(got["loss"].grad_fn is not None,
                    'got["loss"] has no gradient: keep it a tensor built from the modules\' outputs (no .item(), '
                    "no torch.no_grad()), training calls backward() on it")
            z_tb = ref_parts.sigreg_inputs[0]  # the encoder's latents, (T, B, D)
            # the same latents after unflatten(0, (b, t)) on time-major data: the shape of (B, T, D), but
            # the rows are still in time-major order, so each "clip" mixes frames of different clips
            z_scrambled = z_tb.flatten(0, 1).unflatten(0, (b, t))
            scrambled_hint = ("the latents come out of the encoder in the order of frames.flatten(0, 1): time-major, "
                              "all B frames of step 1, then all B of step 2, ... unflatten(0, (b, t)) gives the "
                              "shape (B, T, D) but reads them as if batch-major, so the right shape holds the "
                              "wrong frames: each 'clip' mixes frames of different clips. Unflatten in the order "
                              "the data has, unflatten(0, (t, b)) -> (T, B, D), then transpose(0, 1) for the predictor")

            # --- which latents went into SIGReg, and in which layout
            require(parts.sigreg_inputs, "call sigreg on the latents of every frame, shaped (T, B, D)")
            s_in = parts.sigreg_inputs[-1]
            if not _close(s_in, z_tb):
                if _close(s_in, z_tb.transpose(0, 1)):
                    raise CheckFailed(f"SIGReg over the wrong axis: sigreg expects (T, B, D) = {tuple(z_tb.shape)} and "
                                      "tests each time step over the batch; you passed (B, T, D), which tests each clip "
                                      "over its T frames")
                with torch.no_grad():
                    p = model.predictor(z_tb.transpose(0, 1)[:, :-1], actions.transpose(0, 1)[:, :-1])
                if _close(s_in, p) or _close(s_in, p.transpose(0, 1)):
                    raise CheckFailed("SIGReg is applied to the predictions; it belongs on the encoder's latents of "
                                      "all T frames (that is what must not collapse)")
                if _close(s_in, z_scrambled.transpose(0, 1)) or _close(s_in, z_scrambled):
                    raise CheckFailed(scrambled_hint)
                if s_in.ndim == 3 and s_in.shape[0] == t - 1:
                    raise CheckFailed(f"sigreg got {t - 1} time steps; give it the latents of all {t} frames")
                if tuple(s_in.shape) == tuple(z_tb.shape):
                    raise CheckFailed("sigreg got a tensor of the right shape (T, B, D) but not the encoder's latents "
                                      "in the right order: check that each frame's latent sits at its (time step, "
                                      "clip), given that the data are time-major")
                raise CheckFailed("sigreg should get the encoder's latents of every frame, shaped (T, B, D)")

            # --- what went into the predictor
            require(parts.predictor_inputs, "call predictor on the latents and action blocks of the first T-1 steps")
            pz, pa = parts.predictor_inputs[-1]
            if not _close(pz, z_tb.transpose(0, 1)[:, :-1]):
                if _close(pz, z_scrambled[:, :-1]):
                    raise CheckFailed(scrambled_hint)
                if pz.shape[1] == t:
                    raise CheckFailed("predict from the first T-1 latents only (z[:, :-1] batch-major): the last frame "
                                      "has no next frame to be compared with")
                raise CheckFailed("feed the predictor the encoder's latents of steps 1..T-1, batch-major (B, T-1, D)")
            if not _close(pa, actions.transpose(0, 1)[:, :-1]):
                raise CheckFailed("the action block of step t goes with the latent of step t: give the predictor "
                                  "actions[:-1] (time-major), transposed to (B, T-1, A)")

            # --- the two terms and their sum
            if not _close(got["pred"], want["pred"]):
                with torch.no_grad():
                    p = model.predictor(z_tb.transpose(0, 1)[:, :-1], actions.transpose(0, 1)[:, :-1])
                    same_step = F.mse_loss(p, z_tb.transpose(0, 1)[:, :-1])
                if _close(got["pred"], same_step):
                    raise CheckFailed("targets not shifted: the prediction made from z_t is a guess of z_{t+1}, so "
                                      "compare it with the latents of frames 2..T, not 1..T-1")
                d = z_tb.shape[-1]
                summed = {d: f"summed the squared error over the D = {d} latent dimensions",
                          (t - 1) * d: "summed the squared error over the predicted steps and the dimensions",
                          b * (t - 1) * d: "summed the squared error over every element"}
                for factor, what in summed.items():
                    if _close(got["pred"], want["pred"] * factor):
                        raise CheckFailed(f"pred is {factor} times too large: you {what}. pred is the mean over "
                                          "every element, batch, time step and dimension alike: "
                                          "F.mse_loss(pred, target), or (pred - target).pow(2).mean()")
                raise CheckFailed("pred should be the mean squared error between the predictions (B, T-1, D) and the "
                                  "encoder's latents of frames 2..T")
            require(_close(got["sigreg"], want["sigreg"]), 'got["sigreg"] should be the value sigreg returned')
            if not _close(got["loss"], want["loss"]):
                if _close(got["loss"], lam * want["pred"] + want["sigreg"]):
                    raise CheckFailed("lambda multiplies the wrong term: loss = pred + lam * sigreg")
                if _close(got["loss"], want["pred"] + want["sigreg"]):
                    raise CheckFailed("multiply SIGReg by lam: loss = pred + lam * sigreg")
                raise CheckFailed("loss = pred + lam * sigreg")

            # --- the gradient: no stop-gradient anywhere
            def grads(loss: torch.Tensor) -> list[torch.Tensor]:
                model.zero_grad(set_to_none=True)
                loss.backward()
                return [torch.zeros_like(q) if q.grad is None else q.grad.clone() for q in model.parameters()]

            if not all(_close(a, b) for a, b in zip(grads(got["loss"]), grads(want["loss"]))):
                raise CheckFailed("the loss has the right value but not the right gradient: LeWM has no "
                                  "stop-gradient, so do not detach the targets (or anything else); the error's "
                                  "gradient must reach the encoder through the targets too")

    return run_check("Exercise 5.1 two_term_loss", test, strict)


# ----------------------------------------------------------------------------- Exercise 5.2


def toy_regression(seed: int = 0, sizes: tuple[int, ...] = (8, 8, 8, 8)):
    """(model, loss_fn, micro_batches): a small MLP without BatchNorm, and micro-batches (x, y) of the given sizes."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 2))
    g = torch.Generator().manual_seed(seed + 1)
    batches = [(torch.randn(n, 4, generator=g), torch.randn(n, 2, generator=g)) for n in sizes]

    def loss_fn(m: nn.Module, batch) -> torch.Tensor:
        x, y = batch
        return F.mse_loss(m(x), y)

    return model, loss_fn, batches


def _stale_grads(model: nn.Module) -> None:
    """Gradients left over from an earlier step, as they would be without zero_grad."""
    for p in model.parameters():
        p.grad = torch.full_like(p, 0.5)


def _after(variant: dict, sizes: tuple[int, ...], max_norm: float) -> tuple[list[torch.Tensor], tuple[float, float]]:
    model, loss_fn, batches = toy_regression(sizes=sizes)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    _stale_grads(model)
    out = _answers.accumulated_step_reference(model, opt, loss_fn, batches, max_norm, **variant)
    return [p.detach().clone() for p in model.parameters()], out


MISTAKES = {
    "no zero_grad": ({"zero_grad": "never"}, "the gradients of the previous step were still there: call "
                     "opt.zero_grad() once, before the first backward"),
    "zero_grad in the loop": ({"zero_grad": "each"}, "only the last micro-batch counted: zero the gradients once "
                              "before the loop, not inside it (backward adds to .grad, which is what we want here)"),
    "no clipping": ({"clip": False}, "clip the total gradient norm before stepping: "
                    "torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)"),
    "step before backward": ({"step": "first"}, "opt.step() ran before the gradients of this batch existed: "
                             "backward on every micro-batch, clip, and only then step"),
    "step with old gradients": ({"step": "stale"}, "opt.step() used gradients left over from before this call: "
                                "zero_grad, backward on every micro-batch, clip, and only then step"),
    "divided by the number of micro-batches": (
        {"weights": "count"}, "right when the micro-batches are equal, wrong here: these differ in size, and "
        "dividing each loss by their number gives a short micro-batch's samples more weight than the others'. "
        "Weight each micro-batch's mean loss by its share of the samples, len(batch[0]) / (all samples)"),
    "sum, not mean": ({"weights": "none"}, "the gradient must be that of the mean loss over all samples: weight "
                      "each micro-batch's mean loss by its share of the samples, len(batch[0]) / (all samples), "
                      "before backward"),
}


def check_accumulated_step(fn: Callable, strict: bool | None = None) -> bool:
    """fn(model, opt, loss_fn, micro_batches, max_norm) -> (mean loss, gradient norm before clipping), one step."""

    def test() -> None:
        for sizes, max_norm in (((8, 8, 8, 8), 0.05), ((8, 8, 8, 8), 1e6), ((8,), 0.05), ((12, 12, 5), 1e6),
                                ((12, 12, 5), 0.05)):
            k = len(sizes)
            want_params, (want_loss, want_norm) = _after({}, sizes, max_norm)
            model, loss_fn, batches = toy_regression(sizes=sizes)
            start = [p.detach().clone() for p in model.parameters()]
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            _stale_grads(model)
            got = fn(model, opt, loss_fn, batches, max_norm)
            params = [p.detach().clone() for p in model.parameters()]
            if not all(_close(p, q, 1e-6) for p, q in zip(params, want_params)):
                if all(torch.equal(p, q) for p, q in zip(params, start)):
                    raise CheckFailed("the parameters did not change: call opt.step() once, after the backward "
                                      "passes and the clipping (a step taken before backward finds no gradients)")
                for name, (variant, hint) in MISTAKES.items():
                    alt, _ = _after(variant, sizes, max_norm)
                    if all(_close(p, q, 1e-6) for p, q in zip(params, alt)):
                        raise CheckFailed(hint)
                raise CheckFailed(f"with micro-batches of sizes {sizes} and max_norm={max_norm} the parameters moved "
                                  "differently from one step on the mean loss over all samples: zero_grad, backward "
                                  "on each (its loss times its share of the samples), clip, step")
            require(isinstance(got, tuple) and len(got) == 2,
                    "return a tuple (mean loss, gradient norm before clipping)")
            loss, norm = (float(x) for x in got)
            if not _close(loss, want_loss):
                if k > 1 and _close(loss, _after({"weights": "none"}, sizes, max_norm)[1][0]):
                    raise CheckFailed("return the mean loss over all samples, not the sum of the micro-batch losses")
                if _close(loss, _after({"weights": "count"}, sizes, max_norm)[1][0]):
                    raise CheckFailed("return the mean loss over all samples: the plain mean of the micro-batch "
                                      "losses weights a short micro-batch's samples too much")
                raise CheckFailed(f"the returned loss should be the mean loss over all samples ({want_loss:.5f})")
            if not _close(norm, want_norm):
                require(not _close(norm, min(want_norm, max_norm)),
                        "return the norm before clipping: it is what clip_grad_norm_ returns")
                raise CheckFailed(f"the returned gradient norm should be the total norm before clipping ({want_norm:.5f})")

    return run_check("Exercise 5.2 accumulated_step", test, strict)
