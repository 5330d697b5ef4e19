"""Violation of expectation: is the world model surprised when physics breaks?

Developmental psychologists show infants events that break physics (an object passing through a
wall) and measure how long they look: longer looking means the event violated an expectation.
LeWM's version of "looking time" is its **surprise**, the latent prediction error of the next frame:

    s_t = mean_d (predictor(z_t, a_t) - z_{t+1})_d^2        z_t = encoder(frame_t)

This module makes scripted held-out episodes in which, in the middle, the agent teleports, passes
through the wall, or (a visual-only control) turns blue, together with the unperturbed version of
each episode (same start, same actions); it scores them per step, and measures detection with ROC
curves. It also holds the curvature measure of "temporal straightening".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .probe import encode_frames  # (public here too: lewm_mini.surprise.encode_frames)
from .world import Geometry, in_wall, render, room_of, sample_free_positions, step_positions

KINDS = ("teleport", "wall", "colour")  # the three events; "normal" is the unperturbed version
BLUE = (0.0, 0.0, 1.0)  # the colour-change event repaints the agent in this colour


# ----------------------------------------------------------------------------- scripted episodes


@dataclass
class VoEEpisodes:
    """Scripted episodes in four versions that share start and actions.

    frames[v]: (N, L + 1, H, W, 3) uint8, one frame per action block, for v in ("normal",) + KINDS.
    pos[v]: (N, L + 1, 2) agent positions at those frames. actions: (N, L * frameskip, 2) raw actions.
    The event happens during action block ``event``: frame ``event`` is the last frame before it,
    frame ``event + 1`` the first after it.
    """

    frames: dict[str, np.ndarray]
    pos: dict[str, np.ndarray]
    actions: np.ndarray
    event: int
    frameskip: int

    def __len__(self) -> int:
        return self.actions.shape[0]


def _walk(pos0: np.ndarray, actions: np.ndarray, geo: Geometry, kind: str, event_step: int, event_len: int,
          rng: np.random.Generator, min_jump: float) -> np.ndarray:
    """Positions (N, S + 1, 2) after raw actions (N, S, 2), with the event of ``kind`` starting at
    ``event_step`` (a wall crossing lasts ``event_len`` steps, longer while the agent is in the wall)."""
    n, s = actions.shape[:2]
    pos = np.empty((n, s + 1, 2), np.float32)
    pos[:, 0] = p = pos0
    ghost = np.zeros(n, bool)  # agents for which the wall does not exist right now
    for t in range(s):
        if t == event_step and kind == "teleport":  # jump to a free spot at least min_jump away
            far = sample_free_positions(rng, n, geo)
            while (bad := np.linalg.norm(far - p, axis=1) < min_jump).any():
                far[bad] = sample_free_positions(rng, int(bad.sum()), geo)
            p = far
        if kind == "wall" and event_step <= t < event_step + event_len:
            ghost[:] = True
        walked = np.clip(p + geo.speed * actions[:, t], geo.lo, geo.hi).astype(np.float32)  # no wall
        p = np.where(ghost[:, None], walked, step_positions(p, actions[:, t], geo))
        ghost &= in_wall(p, geo)  # after the event steps, a ghost stays one until it is out of the wall
        pos[:, t + 1] = p
    return pos


def voe_episodes(n: int, blocks: int = 8, frameskip: int = 5, size: int = 64, seed: int = 0,
                 min_jump: float = 15.0) -> VoEEpisodes:
    """``n`` scripted episodes of ``blocks`` action blocks, in the four versions of ``VoEEpisodes``.

    The agent starts in the lower half of a room (below the door), walks to the wall (x action
    0.8-1.0 towards it, small noise in y), arrives during the block before the event block, pushes
    against the wall during the event block, then walks back. So in the normal version every step
    but one or two moves the agent by several pixels. During the event block: ``teleport`` puts the
    agent at a random free spot at least ``min_jump`` px away; ``wall`` switches the wall off until
    the agent has crossed it; ``colour`` paints the agent blue from frame ``event + 1`` on.
    """
    geo = Geometry(size)
    rng = np.random.default_rng(seed)
    event = blocks // 2
    steps, block_px = blocks * frameskip, geo.speed * frameskip
    d_lo, d_hi = (event - 2) * block_px, (event - 1) * 0.8 * block_px  # arrival during block event - 1
    if not 0 <= d_lo < d_hi <= geo.wall[0] - geo.lo:
        raise ValueError(f"{blocks} blocks of {frameskip} steps do not fit this script; use 6 to 10 blocks")
    keep_start, keep_actions, have = [], [], 0
    while have < n:
        m = 2 * n
        side = rng.integers(0, 2, m)  # 0: left room, walks right; 1: right room, walks left
        towards = np.where(side == 0, 1.0, -1.0).astype(np.float32)[:, None]
        d = rng.uniform(d_lo, d_hi, m)
        x = np.where(side == 0, geo.wall[0] - d, geo.wall[1] + d)
        y = rng.uniform(geo.door[1] + 8.0, geo.hi - 2.0, m)
        back = np.arange(steps) >= (event + 1) * frameskip  # walk back after the event block
        ax = np.where(back, -towards, towards) * rng.uniform(0.8, 1.0, (m, steps))
        ay = np.clip(0.2 * rng.standard_normal((m, steps)), -1, 1)
        acts = np.stack([ax, ay], -1).astype(np.float32)
        start = np.stack([x, y], -1).astype(np.float32)
        normal = _walk(start, acts, geo, "normal", -1, 0, rng, min_jump)
        ok = (room_of(normal, geo) == side[:, None]).all(1)  # never slipped through the door
        wall_x = np.where(side == 0, geo.wall[0], geo.wall[1])
        ok &= np.abs(normal[:, event * frameskip, 0] - wall_x) < geo.speed  # at the wall when the event starts
        keep_start.append(start[ok]), keep_actions.append(acts[ok])
        have += int(ok.sum())
    start, actions = np.concatenate(keep_start)[:n], np.concatenate(keep_actions)[:n]
    frames, pos = {}, {}
    for kind in ("normal",) + KINDS:
        walk = _walk(start, actions, geo, kind, event * frameskip, frameskip, rng, min_jump)
        pos[kind] = walk[:, ::frameskip]  # (n, blocks + 1, 2)
        colour = np.zeros((n, blocks + 1, 3), np.float32)
        colour[:] = (1.0, 0.0, 0.0)
        if kind == "colour":
            colour[:, event + 1 :] = BLUE
        flat = render(pos[kind].reshape(-1, 2), geo, color=colour.reshape(-1, 3))
        frames[kind] = flat.reshape(n, blocks + 1, size, size, 3)
    return VoEEpisodes(frames, pos, actions, event, frameskip)


# ----------------------------------------------------------------------------- surprise



@torch.no_grad()
def surprise(predictor: torch.nn.Module, z: torch.Tensor, blocks: torch.Tensor, history: int = 1) -> torch.Tensor:
    """Per-step surprise (N, L): the squared error, averaged over the D dimensions, between the
    prediction of z_{t+1} from (z_t, block_t) and the encoder's z_{t+1}.

    z: (N, L + 1, D) latents of consecutive frames; blocks: (N, L, A) the z-scored action blocks
    between them. history = 1 (Two-Room has no inertia: one frame is the whole state) scores every
    step independently, all in one batch; history = h reads z_{t-h+1..t} and their blocks (fewer at
    the start), as a world with momentum needs (``lewm_mini.momentum``).
    """
    n, l, d = z.shape[0], blocks.shape[1], z.shape[2]
    if history == 1:
        pred = predictor(z[:, :-1].reshape(n * l, 1, d), blocks.reshape(n * l, 1, -1))[:, 0].reshape(n, l, d)
    else:
        pred = torch.stack([predictor(z[:, max(0, t + 1 - history) : t + 1], blocks[:, max(0, t + 1 - history) : t + 1])[:, -1]
                            for t in range(l)], dim=1)
    return (pred - z[:, 1:]).pow(2).mean(-1)


def frame_difference(frames: np.ndarray) -> np.ndarray:
    """The pixel baseline (N, L): squared error of a "nothing moves" predictor that copies the
    current frame, mean over pixels and channels of (frame_{t+1} - frame_t)^2, frames in [0, 1]."""
    f = np.asarray(frames, np.float32) / 255.0
    return ((f[:, 1:] - f[:, :-1]) ** 2).mean(axis=(2, 3, 4))


# ----------------------------------------------------------------------------- detection


def roc_curve(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ROC of the detector "score > threshold" for every threshold: (false-positive rates,
    true-positive rates), both from 0 to 1. pos: scores of events, neg: scores of non-events."""
    pos, neg = np.asarray(pos, float).ravel(), np.asarray(neg, float).ravel()
    thr = np.unique(np.concatenate([pos, neg]))[::-1]  # from the highest score down
    tpr = np.concatenate([[0.0], (pos[None] >= thr[:, None]).mean(1)])
    fpr = np.concatenate([[0.0], (neg[None] >= thr[:, None]).mean(1)])
    return fpr, tpr


def roc_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Area under the ROC curve = P(score of a random event > score of a random non-event), ties 1/2."""
    fpr, tpr = roc_curve(pos, neg)
    return float(np.trapezoid(tpr, fpr) if hasattr(np, "trapezoid") else np.trapz(tpr, fpr))


# ----------------------------------------------------------------------------- straightening


def velocity_cosines(z: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Cosine similarity of consecutive velocities of trajectories z (N, T, D) -> (N, T - 2).

    v_t = z_{t+1} - z_t; the cosine of (v_t, v_{t+1}) is 1 on a straight line at any speed, 0 for a
    right-angle turn, -1 when the trajectory turns back. Its mean measures "temporal straightening".
    """
    v = z[:, 1:] - z[:, :-1]
    return F.cosine_similarity(v[:, :-1], v[:, 1:], dim=-1, eps=eps)


def event_scores(model: torch.nn.Module, stats, episodes, history: int = 1) -> dict[str, dict[str, np.ndarray]]:
    """Scores of the event block of scripted episodes (``VoEEpisodes``, or the Momentum world's ``MomentumVoE``):
    {kind: {"surprise": (N,), "frame_difference": (N,)}}, the model's surprise with ``history`` latents of
    context and the pixel baseline, both at the block during which the event happens."""
    blocks = torch.as_tensor(stats.block(episodes.actions, episodes.frameskip))
    out = {}
    for kind, frames in episodes.frames.items():
        z = encode_frames(model, frames)
        s = surprise(model.predictor, z, blocks.to(z.device), history)
        out[kind] = {"surprise": s[:, episodes.event].cpu().numpy(),
                     "frame_difference": frame_difference(frames)[:, episodes.event]}
    return out
