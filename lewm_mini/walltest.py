"""The wall test: does the model's imagination respect the wall?

Start the agent a few pixels from the wall, beside its solid part (not the door), and push straight
into it for a few action blocks. The real agent stops against the wall. The model's imagined last
latent is read as the position of the nearest encoded frame on a 1 px grid (``costmap``): if that
position lies in the other room, the model walked through the wall in imagination. A planner that
trusts such rollouts pushes into the wall (chapter 08).

The same push in open space, far from any wall, is the control: there the reading is off by well
under a pixel and never changes room.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .costmap import grid_latents, nearest_grid_position
from .data import ActionStats, frames_to_tensor
from .world import Geometry, render, room_of, step_positions


@dataclass
class WallTest:
    """Starts (N, 2), real and imagined end positions (N, 2), and which side each start is on (N,)."""

    start: np.ndarray
    real: np.ndarray
    imagined: np.ndarray
    side: np.ndarray  # 0: left room pushing right, 1: right room pushing left; 2: open space (control)
    size: int = 64  # image size (the geometry)

    def crossed(self) -> np.ndarray:
        """(N,) True where the imagined end lies in another room than the real end."""
        geo = Geometry(self.size)
        return room_of(self.imagined, geo) != room_of(self.real, geo)

    def summary(self) -> dict:
        """Crossing rate and median end error (px) for each side: left, right, open."""
        err = np.linalg.norm(self.imagined - self.real, axis=1)
        out = {}
        for k, name in enumerate(("left", "right", "open")):
            m = self.side == k
            out[name] = {"crossed": float(self.crossed()[m].mean()), "median_error_px": float(np.median(err[m])),
                         "n": int(m.sum())}
        return out


def wall_starts(n: int, geo: Geometry, rng: np.random.Generator, near: tuple[float, float] = (3.0, 11.0)) -> np.ndarray:
    """n starts (n, 2) per side: left of the wall, right of it, and in open space, (3n, 2) in that order.

    Wall starts lie ``near`` px from the wall's face, level with its solid part below the door (at
    least 3 px from the door's edge and from the border); open-space starts lie in the left room's
    upper-left part, 20 px of push away from any wall.
    """
    y = rng.uniform(geo.door[1] + 3, geo.hi - 3, (2, n))
    gap = rng.uniform(*near, (2, n))
    left = np.stack([geo.wall[0] - gap[0], y[0]], 1)
    right = np.stack([geo.wall[1] + gap[1], y[1]], 1)
    open_ = np.stack([rng.uniform(geo.lo + 6, geo.wall[0] - 6, n), rng.uniform(geo.lo + 1, geo.lo + 5, n)], 1)
    return np.concatenate([left, right, open_]).astype(np.float32)


@torch.inference_mode()
def wall_test(model: torch.nn.Module, stats: ActionStats, n: int = 100, blocks: int = 5, history: int | None = None,
              seed: int = 0, grid=None) -> WallTest:
    """Push into the wall (and, as a control, into open space) for ``blocks`` action blocks, really and in imagination.

    n starts per side; ``history`` latents of context in the rollout (None: the model's own); ``grid``
    reuses ``costmap.grid_latents(model)``. Returns a ``WallTest``.
    """
    model.eval()
    size, fs = model.cfg.image_size, model.cfg.frameskip
    geo = Geometry(size)
    start = wall_starts(n, geo, np.random.default_rng(seed))
    side = np.repeat([0, 1, 2], n)
    push = np.array([[1, 0], [-1, 0], [0, 1]], np.float32)[side]  # (3n, 2): right, left, down
    raw = np.repeat(push[:, None], blocks * fs, 1)  # full speed into the wall (or down through open floor)
    pos = start.copy()
    for t in range(blocks * fs):
        pos = step_positions(pos, raw[:, t], geo)
    device = next(model.parameters()).device
    z0 = model.encode(frames_to_tensor(render(start, geo)).to(device))
    z = model.rollout(z0, torch.as_tensor(stats.block(raw, fs), device=device), history)[:, -1]
    grid = grid if grid is not None else grid_latents(model, size)
    return WallTest(start, pos, nearest_grid_position(z, grid), side, size)


def pressing_fraction(episodes, frameskip: int, size: int = 64, near: float = 4.0) -> float:
    """Fraction of the action blocks of ``episodes`` that push into the wall's solid part from within ``near`` px.

    A block pushes when it starts level with the solid wall, ``near`` px or less from a face, and its summed
    x action points into the wall by more than 1.5 (of at most ``frameskip``): the data the predictor learns
    "a wall stops you" from.
    """
    geo = Geometry(size)
    pos = np.asarray(episodes.pos)[:, : -1 : frameskip]  # (N, K, 2) block starts
    k = pos.shape[1]
    push = np.asarray(episodes.actions)[:, : k * frameskip, 0].reshape(len(pos), k, frameskip).sum(-1)  # (N, K)
    x, y = pos[..., 0], pos[..., 1]
    solid = (y < geo.door[0]) | (y > geo.door[1])
    left = (x < geo.wall[0]) & (x > geo.wall[0] - near) & (push > 1.5)
    right = (x > geo.wall[1]) & (x < geo.wall[1] + near) & (push < -1.5)
    return float((solid & (left | right)).mean())
