"""Checkers for chapter 09 (probing, surprise and temporal straightening)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from . import CheckFailed, as_tensor, require, run_check
from .answers import ch09 as _answers  # reference answers, kept out of this module
from .ch03 import toy_predictor


def _scalar(x, name: str) -> float:
    if isinstance(x, (torch.Tensor, np.ndarray)):
        require(np.size(x) == 1, f"{name} must return one number, got an array of shape {tuple(np.shape(x))}")
        return float(x.item() if hasattr(x, "item") else x)
    if isinstance(x, (float, int, np.floating, np.integer)):
        return float(x)
    raise CheckFailed(f"{name} must return a float, got {type(x).__name__}")


# ----------------------------------------------------------------------------- Exercise 9.1


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, atol=1e-5, rtol=1e-4)


def _diagnose_surprise(got: torch.Tensor, pred, z: torch.Tensor, blocks: torch.Tensor, history: int) -> str:
    """The hint for a per-step answer of the right shape that differs from the reference."""
    from ..rollout import rollout

    want = _answers.surprise_reference(pred, z, blocks)
    forecast = _answers.forecasts_reference(pred, z, blocks)
    length = blocks.shape[1]
    if length > 1 and _close(got, want.mean(1, keepdim=True).expand_as(want)):
        return "every step has the same value: that is the mean over the episode; keep one surprise per step"
    if _close(got, (forecast - z[:, :-1]).pow(2).mean(-1)):
        return ("you compared the forecast with the latent of frame t, the frame it was made from. Surprise is "
                "about what comes next: compare it with the latent of the frame it forecasts, frame t+1")
    if _close(got, want * z.shape[-1]):
        return ("you summed the squared error over the D latent dimensions: a sum grows with D. Average it, as "
                "the training loss does")
    if _close(got, want.sqrt()) or _close(got, (forecast - z[:, 1:]).norm(dim=-1)):
        return ("you took a square root (a distance): measure the error as the training loss does, the squared "
                "error averaged over D, with no square root")
    if _close(got, (forecast - z[:, 1:]).abs().mean(-1)):
        return "you averaged the absolute error: the training loss squares the error, so should the surprise"
    if length > 1 and _close(got, _answers.windowed_context_surprise(pred, z, blocks, history)):
        return ("each forecast saw several earlier frames of the episode (up to `history`). Give it frame t only, "
                "so that each step is judged on its own: Two-Room has no inertia, one frame is the whole state")
    if length > 1 and _close(got, (rollout(pred, z[:, 0], blocks, 1) - z[:, 1:]).pow(2).mean(-1)):
        return ("each forecast started from your previous forecast (a rollout, chapter 03). Start every step "
                "from the encoder's latent of the frame actually seen, frame t")
    for shift, which in ((-1, "t+1"), (1, "t-1")):
        moved = (_answers.forecasts_reference(pred, z, torch.roll(blocks, shift, 1)) - z[:, 1:]).pow(2).mean(-1)
        if length > 1 and _close(got, moved):
            return (f"frame t was paired with block {which}. Block t is the action taken at frame t, the one that "
                    "leads from frame t to frame t+1")
    return ("for every step t: forecast the latent after frame t from frame t and block t alone, then average "
            "over the D dimensions the squared difference with the encoder's latent of frame t+1")


def check_surprise_score(fn: Callable, strict: bool | None = None) -> bool:
    """fn(predictor, z (N, L+1, D), blocks (N, L, A)) -> (N, L): per-step latent prediction error of the next frame."""

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        pred, cfg = toy_predictor(history=3)
        a_dim = cfg.action_dim * cfg.frameskip
        for n, length in ((4, 6), (2, 3), (5, 1)):
            z = torch.randn(n, length + 1, cfg.latent, generator=g)
            blocks = torch.randn(n, length, a_dim, generator=g)
            with torch.no_grad():
                try:
                    got = as_tensor(fn(pred, z.clone(), blocks.clone()), "surprise_score")
                except ValueError as err:
                    if "at most" not in str(err):
                        raise
                    raise CheckFailed(
                        f"your code raised ValueError: {err}. The predictor takes at most `history` latents "
                        f"({cfg.history} for this check's predictor), and your code gave it a longer window of "
                        f"this episode of {length} steps. Each forecast needs frame t only: a window of length 1 "
                        "per step (in a loop over t, or all N x L steps as one batch of windows)"
                    ) from None
                want = _answers.surprise_reference(pred, z, blocks)
                if tuple(got.shape) == (n,) or (got.shape == (n, 1) and length > 1):
                    raise CheckFailed(f"return one surprise per step, shape (N, L) = {(n, length)}, not one number "
                                      "per episode: an average over the episode hides a one-step spike")
                if tuple(got.shape) == (length,) and n != length:
                    raise CheckFailed(f"return one row per episode, shape (N, L) = {(n, length)}: you averaged "
                                      "over the N episodes")
                require(tuple(got.shape) == (n, length),
                        f"with z {tuple(z.shape)} and blocks {tuple(blocks.shape)} expected one number per action "
                        f"block, shape {(n, length)}; got {tuple(got.shape)}")
                if not _close(got, want):
                    raise CheckFailed(_diagnose_surprise(got, pred, z, blocks, cfg.history))

    return run_check("Exercise 9.1 surprise_score", test, strict)


# ----------------------------------------------------------------------------- Exercise 9.2


def check_detection_auc(fn: Callable, strict: bool | None = None) -> bool:
    """fn(scores (N,), labels (N,) with 1 = event, 0 = normal) -> area under the ROC curve (float)."""

    def test() -> None:
        rng = np.random.default_rng(0)
        cases = [
            (np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]), "4 scores, one pair out of order"),
            (np.array([3.0, 2.0, 1.0]), np.array([1, 0, 0]), "the event scores highest"),
            (np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 1, 0, 0]), "the events score lowest"),
            (np.array([1.0, 1.0, 1.0, 2.0]), np.array([1, 0, 0, 0]), "ties between an event and normal steps"),
            (rng.normal(size=40) + np.repeat([0.0, 1.0], 20), np.repeat([0, 1], 20), "40 random scores"),
            (np.round(rng.normal(size=60), 1), (rng.random(60) < 0.2).astype(int), "60 rounded scores, 20% events"),
        ]
        for scores, labels, what in cases:
            got = _scalar(fn(scores.copy(), labels.copy()), "detection_auc")
            want = _answers.auc_reference(scores, labels)
            if abs(got - want) < 1e-6:
                continue
            # ties first: on a case with ties, counting them as 1 can equal 1 - AUC by chance
            y = labels.astype(bool)
            pos, neg = scores[y], scores[~y]
            if abs(got - float((pos[:, None] > neg[None]).mean())) < 1e-6 or \
                    abs(got - float((pos[:, None] >= neg[None]).mean())) < 1e-6:
                raise CheckFailed(f"on {what} expected {want:.3f}, got {got:.3f}: count a tie between an event "
                                  "and a normal step as one half, not as 0 or 1")
            if abs(got - (1 - want)) < 1e-6:
                raise CheckFailed(f"on {what} expected {want:.3f}, got {got:.3f} = 1 - AUC: the labels are the wrong "
                                  "way round. An event (label 1) should score higher than a normal step: "
                                  "AUC = P(score of an event > score of a normal step)")
            raise CheckFailed(f"on {what} (labels {labels.tolist()[:8]}...) expected {want:.3f}, got {got:.3f}. "
                              "Compare every event with every normal step: AUC = (number of pairs where the event "
                              "scores higher + half the ties) / (number of events x number of normal steps)")

    return run_check("Exercise 9.2 detection_auc", test, strict)


# ----------------------------------------------------------------------------- Exercise 9.3


def check_straightness(fn: Callable, strict: bool | None = None) -> bool:
    """fn(z (N, T, D)) -> the mean cosine similarity between consecutive velocities z_{t+1} - z_t (float)."""

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        t = torch.arange(6.0)[None, :, None]
        line = torch.tensor([1.0, -2.0, 0.5])[None, None] * (t**2 + 1) + 3.0  # straight, speeding up
        zigzag = torch.stack([torch.arange(7.0), (torch.arange(7) % 2).float() * 2], -1)[None]  # turns every step
        cases = [
            (line, "a straight line walked at growing speed"),
            (zigzag, "a zigzag"),
            (torch.randn(5, 8, 4, generator=g), "5 random trajectories"),
            (torch.randn(3, 10, 2, generator=g).cumsum(1) * 3.0 + 5.0, "3 random walks, far from the origin"),
        ]
        for z, what in cases:
            got = _scalar(fn(z.clone()), "straightness")
            want = _answers.straightness_reference(z)
            if abs(got - want) < 1e-5:
                continue
            v = z[:, 1:] - z[:, :-1]
            if abs(got - float(F.cosine_similarity(v[:, :-1], v[:, 1:], dim=1).mean())) < 1e-5:
                raise CheckFailed(f"on {what} expected {want:.4f}, got {got:.4f}: that is the cosine along dim=1, "
                                  "the time axis of (N, T, D), which is F.cosine_similarity's default. Compare the "
                                  "D-dimensional velocities: F.cosine_similarity(v[:, :-1], v[:, 1:], dim=-1)")
            if abs(got - float(F.cosine_similarity(z[:, :-1], z[:, 1:], dim=-1).mean())) < 1e-5:
                raise CheckFailed(f"on {what}: take the cosine between consecutive *velocities* v_t = z_{{t+1}} - z_t, "
                                  "not between consecutive latents")
            if abs(got - float((v[:, :-1] * v[:, 1:]).sum(-1).mean())) < 1e-4:
                raise CheckFailed(f"on {what}: divide the dot product by both norms (cosine similarity), so that the "
                                  "speed does not matter, only the direction")
            if abs(got - (1 - want)) < 1e-5 or abs(got + want) < 1e-5:
                raise CheckFailed(f"on {what} expected {want:.3f}, got {got:.3f}: a straight line should give +1 "
                                  "(the cosine itself, not 1 - cosine or its negative)")
            if v.shape[1] > 2 and abs(got - float(F.cosine_similarity(v[:, :-2], v[:, 2:], dim=-1).mean())) < 1e-5:
                raise CheckFailed(f"on {what}: compare each velocity with the next one, v_t with v_{{t+1}}")
            raise CheckFailed(f"on {what} (shape {tuple(z.shape)}) expected {want:.4f}, got {got:.4f}: the mean over "
                              "all trajectories and steps of cos(v_t, v_{t+1}), with v_t = z[:, t+1] - z[:, t]")

    return run_check("Exercise 9.3 straightness", test, strict)


# ----------------------------------------------------------------------------- Exercise 9.4


def toy_decoder_problem(enc_width: int = 8, latent: int = 8, seed: int = 0):
    """A small LeWM (16x16 frames) in eval mode, a ``Decoder`` for its latents, and 6 uint8 frames (6, 16, 16, 3)."""
    from ..config import ModelConfig
    from ..decoder import Decoder
    from ..jepa import LeWM

    m = ModelConfig(image_size=16, channels=(4, 8), enc_width=enc_width, latent=latent, proj_hidden=16, pred_width=16,
                    pred_depth=1, pred_heads=2, pred_mlp=32)
    torch.manual_seed(seed)
    model, decoder = LeWM(m, num_proj=8).eval(), Decoder(latent, 16, (8, 4))
    frames = np.random.default_rng(seed).integers(0, 256, (6, 16, 16, 3), dtype=np.uint8)
    return model, decoder, frames


_PROJECTOR_HINT = ("the decoder draws the latent z that LeWM plans with, model.encode's output: the encoder's "
                   "features go through the projector first. You decoded the projector's input")
_SCALE_HINT = ("the decoder draws frames in [0, 1] (it ends in a sigmoid) and the model was trained on frames in "
               "[0, 1]; {what} [0, 255]. Convert the uint8 frames with frames_to_tensor, and use that one tensor "
               "both as the model's input and as the target")


def _near(got: float, want: torch.Tensor) -> bool:
    return abs(got - float(want)) <= 1e-5 * max(1.0, abs(float(want)))


def _recorded_inputs(fn: Callable, model, decoder, frames: np.ndarray):
    """Call fn(model, decoder, frames) and record the input of the model's encoder and of the decoder."""
    seen = {}

    def record(key: str):
        def hook(module, args) -> None:  # returns None: the input goes on unchanged
            seen.setdefault(key, args[0].detach())
        return hook

    hooks = [m.register_forward_pre_hook(record(key)) for key, m in (("frames", model.encoder), ("latents", decoder))]
    try:
        return fn(model, decoder, frames.copy()), seen
    finally:
        for h in hooks:
            h.remove()


def _wrong_inputs(seen: dict, model, frames: np.ndarray) -> str:
    """A hint when the encoder or the decoder received the wrong thing, else an empty string."""
    from ..data import frames_to_tensor

    x = frames_to_tensor(frames)
    if "frames" not in seen or "latents" not in seen:
        return "encode the frames with the model (model.encode) and draw the latents with the decoder"
    if seen["frames"].max() > 1.5:
        return _SCALE_HINT.format(what="the frames you encoded are in")
    with torch.no_grad():
        z, features = model.encode(x), model.encoder(x)
    got = seen["latents"]
    if got.shape == z.shape and torch.allclose(got, z, atol=1e-5):
        return ""
    if got.shape == features.shape and torch.allclose(got, features, atol=1e-5):
        return _PROJECTOR_HINT
    return "decode model.encode's latents of the frames themselves, as frames_to_tensor makes them"


def _diagnose_decoder_loss(got: float, model, decoder, frames: np.ndarray) -> str:
    """The hint for a loss of the wrong value, once the encoder and the decoder got the right inputs."""
    from ..data import frames_to_tensor

    x = frames_to_tensor(frames)
    with torch.no_grad():
        drawn = decoder(model.encode(x))
        if _near(got, F.mse_loss(drawn, x * 255)):
            return _SCALE_HINT.format(what="your target frames are in")
        if _near(got, F.mse_loss(drawn, x, reduction="sum")) or _near(got, (drawn - x).pow(2).sum((1, 2, 3)).mean()):
            return "you summed the squared errors: average them over every pixel and channel, as F.mse_loss does"
        if _near(got, (drawn - x).abs().mean()):
            return "you averaged the absolute error: the decoder's loss is the mean *squared* error"
    return ("the loss should be the mean squared error between the decoder's drawing of each frame's latent "
            "(model.encode, frozen) and the frame itself, both in [0, 1]")


def check_decoder_loss(fn: Callable, strict: bool | None = None) -> bool:
    """fn(model, decoder, frames (B, H, W, 3) uint8) -> the scalar MSE loss of one decoder step, gradients
    reaching the decoder only."""
    from ..data import frames_to_tensor

    def test() -> None:
        for enc_width, latent in ((8, 8), (12, 8)):  # equal widths first: decoding the projector's input runs
            model, decoder, frames = toy_decoder_problem(enc_width, latent)
            before = {k: v.clone() for k, v in model.state_dict().items()}
            try:
                loss, seen = _recorded_inputs(fn, model, decoder, frames)
            except RuntimeError as err:
                with torch.no_grad():
                    try:
                        decoder(model.encoder(frames_to_tensor(frames)))
                    except RuntimeError as wrong:
                        if str(wrong) == str(err):
                            raise CheckFailed(_PROJECTOR_HINT) from None
                if "must match the size" in str(err):
                    raise CheckFailed("the decoder draws frames of shape (B, 3, H, W); compare them with the "
                                      "frames in that layout, as frames_to_tensor returns them, not (B, H, W, 3)"
                                      ) from None
                raise
            if not isinstance(loss, torch.Tensor):
                raise CheckFailed("decoder_loss must return a tensor (to call .backward() on), got "
                                  f"{type(loss).__name__}")
            require(loss.numel() == 1, f"return one number, the mean over the batch; got shape {tuple(loss.shape)}")
            require(not model.training, "leave the model in eval mode: in train mode the projector's BatchNorm "
                    "normalises with this batch's statistics, and the latents are not the ones the model plans with")
            changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
            if changed:
                raise CheckFailed(f"the world model changed ({changed[0]}): the decoder's loss must only read it. Did "
                                  "it run in train mode (BatchNorm then updates its running statistics)?")
            hint = _wrong_inputs(seen, model, frames)  # a wrong input can change the loss too little to see
            if hint:
                raise CheckFailed(hint)
            with torch.no_grad():
                want, got = _answers.decoder_loss_reference(model, decoder, frames), float(loss.detach())
            if not _near(got, want):
                raise CheckFailed(f"expected {float(want):.5f}, got {got:.5f}: "
                                  + _diagnose_decoder_loss(got, model, decoder, frames))
            require(loss.requires_grad, "the loss carries no gradient, so the decoder cannot learn from it: keep only "
                    "the encoding under torch.no_grad(), not the decoder's drawing")
            model.zero_grad(set_to_none=True), decoder.zero_grad(set_to_none=True)
            loss.backward()
            leaked = [n for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0]
            if leaked:
                raise CheckFailed(f"the loss sends gradients into the world model ({leaked[0]} got one): training the "
                                  "decoder would change the encoder. Compute the latents under torch.no_grad() (or "
                                  ".detach() them)")
            require(all(p.grad is not None for p in decoder.parameters()),
                    "every decoder parameter should get a gradient")

    return run_check("Exercise 9.4 decoder_loss", test, strict)
