"""Offline data: episodes collected in the batched world, cached on disk, served as clips.

An episode is ``steps`` actions and ``steps + 1`` uint8 frames. LeWM trains on clips of
``history + 1`` frames taken every ``frameskip`` steps; the ``frameskip`` raw 2-D actions between
two frames form one action block (a 2 * frameskip vector), z-scored per dimension with dataset
statistics.

A frame is a pure function of the agent's position (the scene is static), so the cache stores
positions, not pixels: ``Episodes.frames`` renders the frames that are indexed (``RenderedFrames``),
bit-identical to the frames rendered while collecting. 8 bytes a frame instead of 12,288: the gpu
profile's 10,000 episodes take 24 MB on disk instead of 12 GB.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from .cache import config_hash, data_dir  # noqa: F401  (config_hash: the capstone imports it from here)
from .config import DataConfig, show_progress
from .world import Geometry, background, in_doorway, make_world, render, room_of, sample_free_positions

CHUNK = 1000  # episodes collected at once
STRAIGHT_FRACTION = 0.25  # policy "heuristic-straight": agents that head straight for the target, into the wall

# ----------------------------------------------------------------------------- policies


def heuristic_actions(pos: np.ndarray, target: np.ndarray, geo: Geometry, noise: float,
                      rng: np.random.Generator, straight: np.ndarray | None = None) -> np.ndarray:
    """The noisy "door, then target" policy (N, 2): head for the door while the target is in the
    other room, then for the target; unit direction plus N(0, noise^2) per component, clipped.

    ``straight`` (N,) bool: those agents head straight for their target, ignoring the door, and so
    press into the wall for as long as the target is behind it (policy "heuristic-straight")."""
    door = geo.door_center
    in_door_band = in_doorway(pos, geo)  # the wall is 2 x speed thick: within one step of the door's centre line
    other_room = room_of(pos, geo) != room_of(target, geo)
    if straight is not None:
        other_room &= ~straight
    waypoint = np.where((other_room & ~in_door_band)[:, None], door, target)
    d = waypoint - pos
    d = d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-6)
    return np.clip(d + noise * rng.standard_normal(d.shape), -1, 1).astype(np.float32)


def random_actions(n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform actions in [-1, 1]^2, shape (n, 2)."""
    return rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)


# ----------------------------------------------------------------------------- episodes


class RenderedFrames:
    """Frames (N, T+1, H, W, 3) uint8 of episodes, rendered from agent positions (N, T+1, 2) when indexed.

    Behaves like the uint8 array it stands for: ``shape``, ``dtype``, ``nbytes`` (of that array),
    ``len``, and numpy indexing on the episode and time axes (ints, slices, index arrays, masks);
    indices on the pixel axes are applied after rendering. ``np.asarray(frames)`` renders every
    frame: fine for small sets, 12 GB for the gpu profile's, so index what you need.
    """

    dtype = np.dtype(np.uint8)

    def __init__(self, pos: np.ndarray, size: int):
        self.pos = pos
        self.geo = Geometry(size)
        self.background = background(self.geo)
        self.shape = (*pos.shape[:-1], size, size, 3)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        if any(k is None for k in key):
            raise IndexError("RenderedFrames does not take np.newaxis; index first, then add axes")
        if any(k is Ellipsis for k in key):
            i = next(i for i, k in enumerate(key) if k is Ellipsis)
            key = key[:i] + (slice(None),) * (self.ndim - len(key) + 1) + key[i + 1 :]
        head, tail = key[:2], key[2:]
        if tail and any(isinstance(k, (list, np.ndarray)) for k in head) and \
                any(isinstance(k, (list, np.ndarray)) for k in tail):
            raise IndexError("index arrays on both the episode/time axes and the pixel axes: index them in two steps")
        pos = np.asarray(self.pos[head])  # (..., 2)
        frames = render(pos.reshape(-1, 2), self.geo, self.background).reshape(*pos.shape[:-1], *self.shape[2:])
        return frames[(slice(None),) * (pos.ndim - 1) + tail] if tail else frames

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        frames = self[:]
        return frames if dtype is None else frames.astype(dtype)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return f"RenderedFrames(shape={self.shape}, dtype=uint8, rendered from positions)"


@dataclass
class Episodes:
    """A set of episodes: frames (N, T+1, H, W, 3) uint8, actions (N, T, 2), pos (N, T+1, 2),
    targets (N, T, 2), the heuristic's target at each step (it draws a new one on reaching it), and in
    the Momentum world vel (N, T+1, 2), the puck's velocity at each frame (None in Two-Room).

    ``frames`` is usually a ``RenderedFrames`` (rendered from ``pos`` when indexed); any uint8 array
    of that shape works too."""

    frames: np.ndarray | RenderedFrames
    actions: np.ndarray
    pos: np.ndarray
    targets: np.ndarray
    vel: np.ndarray | None = None

    def __len__(self) -> int:
        return self.frames.shape[0]


def collect(cfg: DataConfig, seed: int | None = None, progress: bool = True) -> Episodes:
    """Run ``cfg.episodes`` worlds in parallel for ``cfg.steps`` steps with the configured policy.

    Episodes have a fixed length. A heuristic agent that reaches its target gets a new one, so it
    keeps travelling instead of hovering (LeWM's released episodes end at the target instead).
    """
    seed = cfg.seed if seed is None else seed
    rng = np.random.default_rng(seed)
    world = make_world(cfg.world, cfg.episodes, cfg.size, seed=seed)
    momentum = cfg.world == "momentum"
    if momentum and cfg.policy not in ("heuristic", "random"):
        raise ValueError(f"the momentum world has the policies 'heuristic' and 'random', not {cfg.policy!r}")
    n, t_max = cfg.episodes, cfg.steps
    pos = np.empty((n, t_max + 1, 2), np.float32)
    vel = np.zeros((n, t_max + 1, 2), np.float32) if momentum else None
    actions = np.empty((n, t_max, 2), np.float32)
    targets = np.empty((n, t_max, 2), np.float32)
    pos[:, 0] = world.pos
    # "heuristic-straight": a quarter of the agents ignore the door (wall contact for the model to learn from)
    straight = np.random.default_rng(np.append(seed, 1)).random(n) < STRAIGHT_FRACTION if cfg.policy == "heuristic-straight" else None
    for t in tqdm(range(t_max), desc=f"collect {n} {cfg.policy} episodes (env steps)", unit="step",
                  disable=not show_progress(progress)):
        if momentum and cfg.policy == "heuristic":
            from .momentum import heuristic_forces

            a = heuristic_forces(world.pos, world.vel, world.goal, world.geo, cfg.noise, rng)
        elif cfg.policy in ("heuristic", "heuristic-straight"):
            a = heuristic_actions(world.pos, world.goal, world.geo, cfg.noise, rng, straight)
        elif cfg.policy == "random":
            a = random_actions(n, rng)
        else:
            raise ValueError(f"unknown policy {cfg.policy!r}; use 'heuristic', 'heuristic-straight' or 'random'")
        targets[:, t] = world.goal
        actions[:, t] = a
        pos[:, t + 1] = world.step(a)
        if momentum:
            vel[:, t + 1] = world.vel
        reached = world.success()
        if reached.any():
            world.goal[reached] = sample_free_positions(rng, int(reached.sum()), world.geo)
    return Episodes(RenderedFrames(pos, cfg.size), actions, pos, targets, vel)


def load_or_collect(cfg: DataConfig, split: str = "train", progress: bool = True) -> Episodes:
    """Episodes for ``split`` ("train" uses cfg.seed, "eval" cfg.eval_seed), cached by config hash.

    Files live in ``lewm_mini.cache.data_dir(cfg, seed)`` as .npy arrays: actions, positions, targets (and velocities in the Momentum world); the
    frames are rendered from the positions when indexed. (Caches written before that also hold a
    frames.npy, 1.2 GB for the cpu profile, which is no longer read; delete it to free the space.)
    """
    if split not in ("train", "eval"):
        raise ValueError(f"split must be 'train' or 'eval', got {split!r}")
    seed = cfg.seed if split == "train" else cfg.eval_seed
    folder = data_dir(cfg, seed)
    names = ("actions", "pos", "targets") + (("vel",) if cfg.world == "momentum" else ())
    if all((folder / f"{k}.npy").exists() for k in names):
        try:
            arrays = {k: np.load(folder / f"{k}.npy") for k in names}
            if arrays["pos"].shape == (cfg.episodes, cfg.steps + 1, 2):
                return Episodes(RenderedFrames(arrays["pos"], cfg.size), **arrays)
        except (ValueError, OSError):
            pass  # a broken cache is simply rebuilt
    folder.mkdir(parents=True, exist_ok=True)
    # Collect in chunks (the seeds of the chunks define the data set); temp names until complete.
    n = cfg.episodes
    parts = []
    for lo in range(0, n, CHUNK):
        chunk = dataclasses.replace(cfg, episodes=min(CHUNK, n - lo))
        parts.append(collect(chunk, seed=seed if n <= CHUNK else [seed, lo], progress=progress))
    for k in names:
        np.save(folder / f"{k}.tmp.npy", np.concatenate([getattr(p, k) for p in parts]))
    for k in names:
        (folder / f"{k}.tmp.npy").replace(folder / f"{k}.npy")
    (folder / "config.json").write_text(json.dumps(asdict(cfg) | {"seed": seed}, indent=1))
    return load_or_collect(cfg, split, progress)


def held_out_episodes(cfg: DataConfig, episodes: int | None = None, steps: int | None = None, seed: int = 0,
                      progress: bool = False) -> Episodes:
    """Episodes never used in training, from the evaluation seed ``cfg.eval_seed + seed``.

    With the defaults: the cached held-out split of ``cfg``'s size (``load_or_collect(cfg, "eval")``).
    ``episodes``, ``steps`` or ``seed`` ask for another, uncached set (a few episodes for a figure,
    longer ones for planning tasks).
    """
    if episodes is None and steps is None and seed == 0:
        return load_or_collect(cfg, "eval", progress)
    dc = dataclasses.replace(cfg, episodes=episodes or cfg.episodes, steps=steps or cfg.steps)
    return collect(dc, seed=cfg.eval_seed + seed, progress=progress)


# ----------------------------------------------------------------------------- action blocks


@dataclass
class ActionStats:
    """Per-dimension mean and std of raw actions (2,), used to z-score action blocks."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, actions: np.ndarray) -> ActionStats:
        a = np.asarray(actions, np.float64).reshape(-1, actions.shape[-1])
        return cls(a.mean(0).astype(np.float32), np.maximum(a.std(0), 1e-6).astype(np.float32))

    def block(self, raw: np.ndarray, frameskip: int) -> np.ndarray:
        """Raw actions (..., K * frameskip, 2) -> z-scored blocks (..., K, 2 * frameskip)."""
        z = (np.asarray(raw, np.float32) - self.mean) / self.std
        return z.reshape(*z.shape[:-2], z.shape[-2] // frameskip, frameskip * z.shape[-1])

    def unblock(self, blocks: np.ndarray, frameskip: int) -> np.ndarray:
        """Z-scored blocks (..., K, 2 * frameskip) -> raw actions (..., K * frameskip, 2) in [-1, 1]."""
        b = np.asarray(blocks, np.float32)
        raw = b.reshape(*b.shape[:-2], b.shape[-2] * frameskip, -1) * self.std + self.mean
        return np.clip(raw, -1, 1)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The z-scored images of -1 and +1 per raw dimension (2,)."""
        return (-1 - self.mean) / self.std, (1 - self.mean) / self.std

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> ActionStats:
        return cls(np.asarray(d["mean"], np.float32), np.asarray(d["std"], np.float32))


def frames_to_tensor(frames: np.ndarray, image_size: int | None = None) -> torch.Tensor:
    """uint8 frames (..., H, W, 3) -> float tensor (..., 3, H, W) in [0, 1].

    The one preprocessing used for training frames, current frames and goal frames alike.
    """
    f = np.asarray(frames)
    if f.dtype != np.uint8:
        raise TypeError(f"frames must be uint8 RGB images, got dtype {f.dtype}")
    if f.ndim < 3 or f.shape[-1] != 3:
        raise ValueError(f"frames must have shape (..., H, W, 3), got {f.shape}")
    if image_size is not None and f.shape[-3:-1] != (image_size, image_size):
        raise ValueError(f"frames must be {image_size}x{image_size}, got {f.shape[-3]}x{f.shape[-2]}")
    t = torch.from_numpy(np.ascontiguousarray(f)).float().div_(255.0)
    return t.movedim(-1, -3)


class ClipSampler:
    """Random clips of ``history + 1`` frames, ``frameskip`` apart, with their action blocks.

    ``sample(batch)`` returns frames (B, T, 3, H, W) float in [0, 1] and z-scored action blocks
    (B, T, 2 * frameskip) with T = history + 1; the last block belongs to the last frame and is
    never used for prediction (kept so frames and actions line up).
    """

    def __init__(self, episodes: Episodes, history: int, frameskip: int, stats: ActionStats | None = None,
                 seed: int = 0):
        self.eps = episodes
        self.t = history + 1
        self.fs = frameskip
        self.stats = stats or ActionStats.fit(episodes.actions)
        self.span = self.t * frameskip  # raw steps covered by a clip (actions)
        n_steps = episodes.actions.shape[1]
        if n_steps < self.span:
            raise ValueError(f"episodes of {n_steps} steps are too short for clips of {self.span} steps")
        self.max_start = n_steps - self.span
        self.rng = np.random.default_rng(seed)

    def indices(self, batch: int) -> tuple[np.ndarray, np.ndarray]:
        ep = self.rng.integers(0, len(self.eps), batch)
        start = self.rng.integers(0, self.max_start + 1, batch)
        return ep, start

    def get_uint8(self, ep: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, torch.Tensor]:
        """Clips at episodes ``ep`` (B,) from steps ``start`` (B,): uint8 frames (B, T, H, W, 3), blocks (B, T, A).

        Training keeps frames as uint8 until they reach the device (4x less to copy than floats).
        """
        frame_t = start[:, None] + self.fs * np.arange(self.t)  # (B, T)
        frames = np.asarray(self.eps.frames[ep[:, None], frame_t])  # (B, T, H, W, 3)
        return frames, self.blocks(ep, start)

    def blocks(self, ep: np.ndarray, start: np.ndarray) -> torch.Tensor:
        """The z-scored action blocks (B, T, A) of the clips at episodes ``ep`` (B,) from steps ``start`` (B,)."""
        act_t = start[:, None] + np.arange(self.span)  # (B, T * fs)
        raw = self.eps.actions[ep[:, None], act_t]  # (B, T * fs, 2)
        return torch.from_numpy(self.stats.block(raw, self.fs))

    def get(self, ep: np.ndarray, start: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Like ``get_uint8``, with frames as floats (B, T, 3, H, W) in [0, 1] (``frames_to_tensor``)."""
        frames, actions = self.get_uint8(ep, start)
        return frames_to_tensor(frames), actions

    def sample(self, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.get(*self.indices(batch))

    def state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state

