"""The planning cost map: what the planner's cost looks like over the whole arena.

The planner scores a plan by the squared distance between its last imagined latent and the latent
of the goal image. Render the agent at every free position of a grid, encode each frame, and take
that same distance to the goal latent: the result is the cost the planner would see if its
imagination were perfect, as a map over the arena (chapter 06; chapter 07 starts from it).
"""

from __future__ import annotations

import numpy as np
import torch

from .planning import latent_cost
from .world import Geometry, in_wall, path_length, render, room_of  # noqa: F401  (path_length: chapters import it from here)


def grid_positions(size: int = 64, step: float = 1.0) -> np.ndarray:
    """Free agent positions (N, 2) on a square grid of spacing ``step`` px over the inner area."""
    geo = Geometry(size)
    ticks = np.arange(geo.lo, geo.hi + 1e-6, step, dtype=np.float32)
    xy = np.stack(np.meshgrid(ticks, ticks), -1).reshape(-1, 2)  # (x, y) pairs, row-major in y
    return xy[~in_wall(xy, geo)]


@torch.inference_mode()
def encode_positions(model: torch.nn.Module, pos: np.ndarray, size: int = 64, batch: int = 512) -> torch.Tensor:
    """Render the agent at positions (N, 2) and encode the frames in eval mode -> latents (N, D); rendered a batch
    at a time, so a fine grid never holds all its frames at once."""
    from .probe import encode_frames

    geo = Geometry(size)
    return torch.cat([encode_frames(model, render(pos[i : i + batch], geo), batch).cpu() for i in range(0, len(pos), batch)])


def grid_latents(model: torch.nn.Module, size: int = 64, step: float = 1.0) -> tuple[np.ndarray, torch.Tensor]:
    """(positions (N, 2), latents (N, D)) for the agent at every free grid position."""
    pos = grid_positions(size, step)
    return pos, encode_positions(model, pos, size)


def nearest_grid_position(z: torch.Tensor, grid: tuple[np.ndarray, torch.Tensor]) -> np.ndarray:
    """Latents (..., D) -> positions (..., 2) of the nearest encoded grid frames (``grid_latents`` output).

    Chapter 06's reader of imagined latents: it can only answer with a position the grid holds.
    """
    pos, gz = grid
    near = torch.cdist(z.reshape(-1, z.shape[-1]).float().cpu(), gz.float()).argmin(1).numpy()
    return pos[near].reshape(*z.shape[:-1], 2)


def cost_map(model: torch.nn.Module, goal_pos, size: int = 64, step: float = 1.0,
             grid: tuple[np.ndarray, torch.Tensor] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Planning cost ||z(agent at p) - z(goal image)||^2 for every free grid position p.

    goal_pos: (2,) the agent's position in the goal image. ``grid`` reuses ``grid_latents`` output.
    Returns positions (N, 2) and costs (N,).
    """
    pos, z = grid if grid is not None else grid_latents(model, size, step)
    zg = encode_positions(model, np.asarray(goal_pos, np.float32).reshape(1, 2), size)
    return pos, latent_cost(z, zg).numpy()


def grid_image(pos: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Values at grid positions (N, 2), (N,) -> an image (rows = y) with NaN where there is no
    position (the wall), and its extent for ``imshow(img, extent=extent)`` in pixel coordinates."""
    xs, ys = np.unique(pos[:, 0]), np.unique(pos[:, 1])
    img = np.full((len(ys), len(xs)), np.nan)
    img[np.searchsorted(ys, pos[:, 1]), np.searchsorted(xs, pos[:, 0])] = values
    half = (xs[1] - xs[0]) / 2 if len(xs) > 1 else 0.5
    return img, (xs[0] - half, xs[-1] + half, ys[-1] + half, ys[0] - half)


def cost_profile(dist: np.ndarray, cost: np.ndarray, bin_px: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Mean cost in bins of distance: (bin centres (K,), mean cost (K,)), empty bins dropped."""
    edges = np.arange(0.0, float(dist.max()) + bin_px, bin_px)
    idx = np.digitize(dist, edges) - 1
    keep = [k for k in range(len(edges) - 1) if (idx == k).any()]
    return edges[keep] + bin_px / 2, np.array([cost[idx == k].mean() for k in keep])


def informative_radius(dist: np.ndarray, cost: np.ndarray, frac: float = 0.9, bin_px: float = 2.0) -> float:
    """Distance (px) at which the binned mean cost first reaches ``frac`` of its far-field plateau.

    The plateau is the median of the binned means beyond half the largest distance. Inside this
    radius the cost says "closer is better"; beyond it every position looks about equally far.
    """
    centres, mean = cost_profile(dist, cost, bin_px)
    plateau = float(np.median(mean[centres > centres.max() / 2]))
    return float(centres[np.argmax(mean >= frac * plateau)])
