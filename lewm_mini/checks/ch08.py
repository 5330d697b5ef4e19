"""Checkers for chapter 08 (probing, surprise and temporal straightening)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from . import CheckFailed, as_tensor, require, run_check
from .answers import ch08 as _answers  # reference answers, kept out of this module
from .ch03 import toy_predictor


def _scalar(x, name: str) -> float:
    if isinstance(x, (torch.Tensor, np.ndarray)):
        require(np.size(x) == 1, f"{name} must return one number, got an array of shape {tuple(np.shape(x))}")
        return float(x.item() if hasattr(x, "item") else x)
    if isinstance(x, (float, int, np.floating, np.integer)):
        return float(x)
    raise CheckFailed(f"{name} must return a float, got {type(x).__name__}")


# ----------------------------------------------------------------------------- Exercise 8.1


def _one_step(predictor, z, blocks) -> torch.Tensor:
    n, l, d = z.shape[0], blocks.shape[1], z.shape[2]
    return predictor(z[:, :-1].reshape(n * l, 1, d), blocks.reshape(n * l, 1, -1))[:, 0].reshape(n, l, d)


def _windowed_context(predictor, z, blocks, history: int) -> torch.Tensor:
    """The surprise with the last ``history`` true latents as context instead of one (all of them when
    the episode is shorter): what a whole-episode call to the predictor computes when it fits."""
    out = [predictor(z[:, max(0, t + 1 - history) : t + 1], blocks[:, max(0, t + 1 - history) : t + 1])[:, -1]
           for t in range(blocks.shape[1])]
    return (torch.stack(out, 1) - z[:, 1:]).pow(2).mean(-1)


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
                        f"of context ({cfg.history} for this check's predictor), and this episode has "
                        f"{length} steps: do not pass the whole episode. Give each prediction one latent, "
                        "predictor(z[:, t:t+1], blocks[:, t:t+1])[:, -1], in a loop over t or with the "
                        "N x L steps reshaped into one batch of windows of length 1") from None
                want = _answers.surprise_reference(pred, z, blocks)
                one = _one_step(pred, z, blocks)
                windowed = _windowed_context(pred, z, blocks, cfg.history)
            if tuple(got.shape) == (n,) or (got.ndim == 2 and got.shape == (n, 1) and length > 1):
                raise CheckFailed(f"return one surprise per step, shape (N, L) = {(n, length)}, not one number per "
                                  "episode: an average over the episode hides a one-step spike")
            require(tuple(got.shape) == (n, length),
                    f"with z {tuple(z.shape)} and blocks {tuple(blocks.shape)} expected one number per action block, "
                    f"shape {(n, length)}; got {tuple(got.shape)}")
            if torch.allclose(got, want, atol=1e-5, rtol=1e-4):
                continue
            if length > 1 and torch.allclose(got, want.mean(1, keepdim=True).expand_as(want), atol=1e-5, rtol=1e-4):
                raise CheckFailed("every step has the same value: that is the mean over the episode; keep one "
                                  "surprise per step")
            if torch.allclose(got, (one - z[:, :-1]).pow(2).mean(-1), atol=1e-5, rtol=1e-4):
                raise CheckFailed("compare the prediction with the *next* latent z[:, 1:], the frame it predicts, "
                                  "not with the current latent z[:, :-1] it was made from")
            if torch.allclose(got, want * cfg.latent, atol=1e-4, rtol=1e-4):
                raise CheckFailed("average the squared error over the D latent dimensions (mean), do not sum it")
            if torch.allclose(got, want.sqrt(), atol=1e-5, rtol=1e-4) or torch.allclose(
                    got, (one - z[:, 1:]).norm(dim=-1), atol=1e-5, rtol=1e-4):
                raise CheckFailed("use the squared error (no square root): mean over D of (prediction - z_{t+1})^2")
            if length > 1 and torch.allclose(got, windowed, atol=1e-5, rtol=1e-4):
                raise CheckFailed("each prediction saw several latents of context (the episode so far); use one "
                                  "latent, predictor(z[:, t:t+1], blocks[:, t:t+1])[:, -1], so that every step "
                                  "is scored on its own frame and action only")
            from ..rollout import rollout
            ro = rollout(pred, z[:, 0], blocks, 1)
            if torch.allclose(got, (ro - z[:, 1:]).pow(2).mean(-1), atol=1e-5, rtol=1e-4):
                raise CheckFailed("predict each step from the encoder's latent z_t of the frame actually seen, "
                                  "not from your previous prediction (that is a rollout)")
            raise CheckFailed("for every step t, predict z_{t+1} from one latent of context, "
                              "predictor(z[:, t:t+1], blocks[:, t:t+1])[:, -1], and take the mean over D of the "
                              "squared difference with z[:, t+1]; block t is the action between frames t and t+1")

    return run_check("Exercise 8.1 surprise_score", test, strict)


# ----------------------------------------------------------------------------- Exercise 8.2


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

    return run_check("Exercise 8.2 detection_auc", test, strict)


# ----------------------------------------------------------------------------- Exercise 8.3


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

    return run_check("Exercise 8.3 straightness", test, strict)
