"""The Two-Room world: a procedural pixel navigation task, after LeWM's released Two-Room.

Geometry is given at the released 224 px scale and scaled to ``size`` (64 by default): a white
square with a black border, a vertical black wall with one door, and a red Gaussian blob for the
agent. An action in [-1, 1]^2 moves the agent by ``speed * action`` pixels (no inertia); the
agent is clamped to the inner area and cannot enter the wall except through the door.

Two forms share one set of numpy functions:

- ``BatchedTwoRoom`` steps and renders N worlds at once (fast data collection, batched MPC).
- ``TwoRoomEnv`` is the single-world ``gymnasium.Env`` (registered as ``LeWM/TwoRoom-v0``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

ENV_ID = "LeWM/TwoRoom-v0"


@dataclass(frozen=True)
class Geometry:
    """Two-Room layout in pixels at image size ``size`` (released values are for 224 px)."""

    size: int = 64

    @property
    def scale(self) -> float:
        return self.size / 224.0

    @property
    def border(self) -> float:  # inner area starts here
        return 14 * self.scale

    @property
    def wall(self) -> tuple[float, float]:  # x span of the wall
        return 107 * self.scale, 117 * self.scale

    @property
    def door(self) -> tuple[float, float]:  # y span of the opening
        return 35 * self.scale, 63 * self.scale

    @property
    def blob_sigma(self) -> float:
        return 7 * self.scale

    @property
    def speed(self) -> float:  # pixels per step at |action| = 1
        return 5 * self.scale

    @property
    def success_radius(self) -> float:
        return 16 * self.scale

    @property
    def lo(self) -> float:
        return self.border

    @property
    def hi(self) -> float:
        return self.size - self.border

    @property
    def door_center(self) -> np.ndarray:
        return np.array([sum(self.wall) / 2, sum(self.door) / 2], dtype=np.float32)


@contextmanager
def moved_door(y0: float, y1: float) -> Iterator[None]:
    """Inside the ``with`` block, every Two-Room world has its door at y in [y0, y1] (released 224 px units;
    the usual door is [35, 63]); on leaving the block the door is back where it was.

    The door is a property of ``Geometry``, read each time the world is stepped, rendered or asked for
    a room, so everything made inside the block (``BatchedTwoRoom``, ``collect``, ``evaluate``'s tasks
    and worlds) sees the moved door; a world made before the block keeps the background it drew. The
    data cache does not know about the door: collect new episodes with ``lewm_mini.data.collect``
    (never cached), not ``load_or_collect``, which returns the cached ones.
    """
    lo, hi = Geometry(224).lo, Geometry(224).hi
    if not lo <= y0 < y1 <= hi:
        raise ValueError(f"the door must lie within the inner area, {lo:g} <= y0 < y1 <= {hi:g}; got [{y0}, {y1}]")
    original = Geometry.__dict__["door"]
    Geometry.door = property(lambda geo: (y0 * geo.scale, y1 * geo.scale))
    try:
        yield
    finally:
        Geometry.door = original


# ----------------------------------------------------------------------------- physics


def in_wall(pos: np.ndarray, geo: Geometry) -> np.ndarray:
    """True where a position (..., 2) lies inside the wall (in its x span, outside the door)."""
    x, y = pos[..., 0], pos[..., 1]
    in_x = (x >= geo.wall[0]) & (x <= geo.wall[1])
    in_door = (y >= geo.door[0]) & (y <= geo.door[1])
    return in_x & ~in_door


def in_doorway(pos: np.ndarray, geo: Geometry, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    """True where a position (..., 2) lies in the doorway (the wall's x span, the door's y span), widened by
    ``dx`` on each side in x and ``dy`` in y: the one near-the-door test (policies, the graph's shortcut check)."""
    x, y = pos[..., 0], pos[..., 1]
    return (x >= geo.wall[0] - dx) & (x <= geo.wall[1] + dx) & (y >= geo.door[0] - dy) & (y <= geo.door[1] + dy)


def against_wall(pos: np.ndarray, geo: Geometry, band: float = 3.0) -> np.ndarray:
    """(...) bool: positions (..., 2) within ``band`` px of a face of the wall's solid part (not level with the door)."""
    x, y = pos[..., 0], pos[..., 1]
    beside = (np.abs(x - geo.wall[0]) < band) | (np.abs(x - geo.wall[1]) < band)
    return beside & ((y < geo.door[0]) | (y > geo.door[1]))


def room_of(pos: np.ndarray, geo: Geometry) -> np.ndarray:
    """0 for the left room, 1 for the right room, per position (..., 2)."""
    return (pos[..., 0] >= geo.door_center[0]).astype(np.int64)


def check_actions(actions: np.ndarray, n: int | None = None) -> np.ndarray:
    """Validate a batch of actions (N, 2): finite, in [-1, 1]. Returns float32."""
    a = np.asarray(actions, dtype=np.float32)
    want = (n, 2) if n is not None else "(N, 2)"
    if a.ndim != 2 or a.shape[1] != 2 or (n is not None and a.shape[0] != n):
        raise ValueError(f"action must have shape {want}, got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("action contains NaN or inf")
    if np.abs(a).max(initial=0.0) > 1.0 + 1e-5:
        raise ValueError(f"action must lie in [-1, 1], got max |a| = {np.abs(a).max():.3f}")
    return np.clip(a, -1.0, 1.0)


def step_positions(pos: np.ndarray, actions: np.ndarray, geo: Geometry) -> np.ndarray:
    """Move N agents (N, 2) by actions (N, 2) with clamping and wall collisions.

    The agent's move is tried whole, then its y part alone, then its x part alone, and the first
    that does not end inside the wall is taken (so the agent slides along the wall). A step is
    shorter than the wall is thick, so it can never jump across the wall.
    """
    new = np.clip(pos + geo.speed * actions, geo.lo, geo.hi).astype(np.float32)
    only_y = np.stack([pos[:, 0], new[:, 1]], axis=1)
    only_x = np.stack([new[:, 0], pos[:, 1]], axis=1)
    out = pos.copy()
    for cand in (only_x, only_y, new):  # later candidates take priority
        ok = ~in_wall(cand, geo)
        out = np.where(ok[:, None], cand, out)
    return out


def sample_free_positions(rng: np.random.Generator, n: int, geo: Geometry, room: np.ndarray | None = None) -> np.ndarray:
    """Uniform positions (n, 2) in the inner area, outside the wall; optionally inside given rooms (n,)."""
    out = np.empty((n, 2), dtype=np.float32)
    todo = np.arange(n)
    while todo.size:
        cand = rng.uniform(geo.lo, geo.hi, size=(todo.size, 2)).astype(np.float32)
        ok = ~in_wall(cand, geo)
        if room is not None:
            ok &= room_of(cand, geo) == room[todo]
        out[todo[ok]] = cand[ok]
        todo = todo[~ok]
    return out


def random_start_goal_in_rooms(rng: np.random.Generator, n: int, geo: Geometry) -> tuple[np.ndarray, np.ndarray]:
    """n (start, goal) pairs (n, 2) each: start anywhere in a random room, goal in the other one."""
    room = rng.integers(0, 2, n)
    return sample_free_positions(rng, n, geo, room), sample_free_positions(rng, n, geo, 1 - room)


def geodesic_distance(start: np.ndarray, goals: np.ndarray, geo: Geometry, cell: float = 1.0) -> np.ndarray:
    """True shortest-path length in pixels, round the wall, from one start (2,) to goals (G, 2).

    A breadth-first search over free cells of side ``cell`` with 8-neighbour moves (diagonals cost
    sqrt 2): the world's own distance, against which the planner's distances are judged.
    """
    from scipy.sparse.csgraph import dijkstra
    from scipy.sparse import coo_matrix

    n = int(np.ceil(geo.size / cell))
    centres = (np.arange(n) + 0.5) * cell
    xy = np.stack(np.meshgrid(centres, centres, indexing="xy"), -1)  # (n, n, 2): [row=y, col=x]
    free = ~in_wall(xy, geo) & (xy >= geo.lo - cell).all(-1) & (xy <= geo.hi + cell).all(-1)
    ids = -np.ones((n, n), np.int64)
    ids[free] = np.arange(free.sum())
    rows, cols, w = [], [], []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = ids[max(0, -dy): n - max(0, dy), max(0, -dx): n - max(0, dx)]
        b = ids[max(0, dy):, max(0, dx):][: a.shape[0], : a.shape[1]] if dx >= 0 else \
            ids[max(0, dy):, : n + dx][: a.shape[0], : a.shape[1]]
        ok = (a >= 0) & (b >= 0)
        rows.append(a[ok]), cols.append(b[ok]), w.append(np.full(ok.sum(), cell * np.hypot(dx, dy)))
    m = free.sum()
    graph = coo_matrix((np.concatenate(w), (np.concatenate(rows), np.concatenate(cols))), shape=(m, m)).tocsr()

    def cell_of(p: np.ndarray) -> np.ndarray:
        p = np.atleast_2d(p)
        cand = xy[free]  # (m, 2)
        return np.argmin(((cand[None] - p[:, None]) ** 2).sum(-1), 1)

    dist = dijkstra(graph, directed=False, indices=cell_of(start)[0])
    return dist[cell_of(goals)]


def path_length(a: np.ndarray, b: np.ndarray, size: int = 64, door_points: int = 21) -> np.ndarray:
    """Length of the shortest walk from a to b (..., 2): straight in one room, else through the door.

    The analytic twin of ``geodesic_distance``, for any number of pairs at once (cost maps over thousands of
    positions): the door is 21 points on its centre line. The two agree within a few pixels (a test checks it).
    """
    geo = Geometry(size)
    a, b = np.broadcast_arrays(np.asarray(a, np.float32), np.asarray(b, np.float32))
    direct = np.linalg.norm(a - b, axis=-1)
    door = np.stack([np.full(door_points, geo.door_center[0]), np.linspace(*geo.door, door_points)], -1)
    via = (np.linalg.norm(a[..., None, :] - door, axis=-1) + np.linalg.norm(b[..., None, :] - door, axis=-1)).min(-1)
    return np.where(room_of(a, geo) == room_of(b, geo), direct, via)


# ----------------------------------------------------------------------------- rendering


def background(geo: Geometry) -> np.ndarray:
    """The static scene (H, W, 3) float32 in [0, 1]: white floor, black border and wall."""
    c = np.arange(geo.size, dtype=np.float32) + 0.5  # pixel centres
    inner = (c >= geo.lo) & (c <= geo.hi)
    img = np.outer(inner, inner).astype(np.float32)  # [y, x]
    wall_x = (c >= geo.wall[0]) & (c <= geo.wall[1])
    door_y = (c >= geo.door[0]) & (c <= geo.door[1])
    img[np.ix_(~door_y, wall_x)] = 0.0
    return np.repeat(img[:, :, None], 3, axis=2)


def textured_backgrounds(n: int, rng: np.random.Generator, geo: Geometry, alpha: float = 0.3) -> np.ndarray:
    """n random floors (n, H, W, 3) float32 in [0, 1], chapter 02's distractor ("a noisy TV").

    Smooth grey noise: 5x5 uniform values upsampled (bicubic) to the frame, the same grey in the three
    channels; the floor's brightness varies between 1 - ``alpha`` and 1, walls and border stay black.
    Pass them to ``render`` as ``bg`` (one per frame) to draw the agent on them.
    """
    import torch
    import torch.nn.functional as F

    low = torch.from_numpy(rng.uniform(0, 1, (n, 1, 5, 5)).astype(np.float32))
    tex = F.interpolate(low, size=(geo.size, geo.size), mode="bicubic", align_corners=False).clamp(0, 1)
    tex = tex.permute(0, 2, 3, 1).numpy()  # (n, H, W, 1)
    return background(geo)[None] * (1 - alpha + alpha * tex)


def render(pos: np.ndarray, geo: Geometry, bg: np.ndarray | None = None,
           color: np.ndarray | None = None) -> np.ndarray:
    """Render agents at positions (N, 2) as uint8 frames (N, H, W, 3).

    The agent is a red Gaussian blob: each pixel is blended towards pure red by
    w = exp(-d^2 / 2 sigma^2). Beyond 4 sigma, w * 255 < 0.1 cannot change a uint8 pixel, so only a
    small window around each agent is blended; the rest is a copy of the background.
    ``bg`` may be one shared (H, W, 3) float image in [0, 1] or one per world (N, H, W, 3).
    ``color`` (RGB in [0, 1], shape (3,) or one per agent (N, 3)) paints the blob another colour;
    None keeps the red of the training data (chapter 09 uses a blue agent as a visual-only change).
    """
    pos = np.asarray(pos, dtype=np.float32).reshape(-1, 2)
    n, size = pos.shape[0], geo.size
    bg = background(geo) if bg is None else np.asarray(bg, dtype=np.float32)
    bg_u8 = (bg * 255.0 + 0.5).astype(np.uint8)
    out = np.empty((n, size, size, 3), dtype=np.uint8)
    out[:] = bg_u8
    half = int(np.ceil(4 * geo.blob_sigma))
    k = min(2 * half + 1, size)
    x0 = np.clip(np.floor(pos[:, 0]).astype(np.int64) - half, 0, size - k)  # window corners (N,)
    y0 = np.clip(np.floor(pos[:, 1]).astype(np.int64) - half, 0, size - k)
    xs = x0[:, None] + np.arange(k)  # (N, k) pixel columns
    ys = y0[:, None] + np.arange(k)  # (N, k) pixel rows
    g = -0.5 / geo.blob_sigma**2
    gx = np.exp(g * (xs + 0.5 - pos[:, :1]) ** 2)
    gy = np.exp(g * (ys + 0.5 - pos[:, 1:]) ** 2)
    w = (gy[:, :, None] * gx[:, None, :])[..., None]  # (N, k, k, 1)
    idx = (np.arange(n)[:, None, None], ys[:, :, None], xs[:, None, :])
    patch = bg[idx[1:]] if bg.ndim == 3 else bg[idx]  # (N, k, k, 3)
    patch = patch * (1.0 - w)
    if color is None:
        patch[..., 0] += w[..., 0]  # pure red (1, 0, 0)
    else:
        patch += w * np.broadcast_to(np.asarray(color, np.float32), (n, 3))[:, None, None, :]
    out[idx] = patch * 255.0 + 0.5
    return out


# ----------------------------------------------------------------------------- batched world


class BatchedTwoRoom:
    """N Two-Room worlds stepped and rendered together in numpy.

    State: ``pos`` (N, 2) agent centres in pixels, ``goal`` (N, 2). All methods are vectorised.
    ``frame_is_state``: one frame shows everything that decides the next (no inertia), so MPC's rollouts start
    from the current frame alone.
    """

    frame_is_state = True

    def __init__(self, n: int, size: int = 64, seed: int | None = None):
        self.geo = Geometry(size)
        self.n = n
        self.rng = np.random.default_rng(seed)
        self.pos = sample_free_positions(self.rng, n, self.geo)
        self.goal = sample_free_positions(self.rng, n, self.geo)
        self._bg = background(self.geo)

    def reset(self, start: np.ndarray | None = None, goal: np.ndarray | None = None) -> np.ndarray:
        """Place agents (random free positions when not given) and return frames (N, H, W, 3)."""
        self.pos = self._checked(start) if start is not None else sample_free_positions(self.rng, self.n, self.geo)
        self.goal = self._checked(goal) if goal is not None else sample_free_positions(self.rng, self.n, self.geo)
        return self.render()

    def _checked(self, p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=np.float32)
        if p.shape != (self.n, 2):
            raise ValueError(f"positions must have shape ({self.n}, 2), got {p.shape}")
        if in_wall(p, self.geo).any():
            raise ValueError("a position lies inside the wall")
        return np.clip(p, self.geo.lo, self.geo.hi)

    def step(self, actions: np.ndarray) -> np.ndarray:
        """Apply actions (N, 2) in [-1, 1]; returns the new positions (N, 2)."""
        self.pos = step_positions(self.pos, check_actions(actions, self.n), self.geo)
        return self.pos

    def render(self, pos: np.ndarray | None = None, color: np.ndarray | None = None) -> np.ndarray:
        return render(self.pos if pos is None else pos, self.geo, self._bg, color)

    def goal_frames(self) -> np.ndarray:
        """The goal as LeWM gives it: an image of the agent standing at the goal (N, H, W, 3)."""
        return render(self.goal, self.geo, self._bg)

    def distance_to_goal(self) -> np.ndarray:
        return np.linalg.norm(self.pos - self.goal, axis=1)

    def success(self) -> np.ndarray:
        return self.distance_to_goal() <= self.geo.success_radius


# ----------------------------------------------------------------------------- gymnasium


class TwoRoomEnv(gym.Env):
    """Single Two-Room world with the Gymnasium API.

    Observation: uint8 RGB frame (size, size, 3). Action: float32 (2,) in [-1, 1].
    ``reset(options={"start": (x, y), "goal": (x, y)})`` fixes the layout; ``info["goal_image"]``
    is the goal frame. Reward is 1 on reaching the goal (which terminates), 0 otherwise.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, size: int = 64, max_steps: int = 100, render_mode: str | None = "rgb_array"):
        self.world = BatchedTwoRoom(1, size)
        self.max_steps = max_steps
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0, 255, (size, size, 3), dtype=np.uint8)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
        self.t = 0

    def _info(self) -> dict:
        return {
            "pos": self.world.pos[0].copy(),
            "goal": self.world.goal[0].copy(),
            "distance": float(self.world.distance_to_goal()[0]),
            "is_success": bool(self.world.success()[0]),
        }

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.world.rng = self.np_random
        options = options or {}
        start = options.get("start")
        goal = options.get("goal")
        self.world.reset(
            None if start is None else np.asarray(start, np.float32)[None],
            None if goal is None else np.asarray(goal, np.float32)[None],
        )
        self.t = 0
        info = self._info() | {"goal_image": self.world.goal_frames()[0]}
        return self.world.render()[0], info

    def step(self, action):
        a = np.asarray(action, dtype=np.float32)
        if a.shape != (2,):
            raise ValueError(f"action must have shape (2,), got {a.shape}")
        self.world.step(a[None])
        self.t += 1
        info = self._info()
        terminated = info["is_success"]
        truncated = self.t >= self.max_steps
        return self.world.render()[0], float(terminated), terminated, truncated, info

    def render(self):
        return self.world.render()[0]


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point=TwoRoomEnv)


# ----------------------------------------------------------------------------- the worlds

WORLDS = ("two-room", "momentum")  # Two-Room (here) and the puck with momentum (lewm_mini.momentum)


def make_world(name: str, n: int, size: int = 64, seed: int | None = None) -> BatchedTwoRoom:
    """N batched worlds of kind ``name``: the one place data, planning and evaluation make a world.

    Every world has Two-Room's interface: ``reset(start, goal)``, ``step(actions)``, ``render()``,
    ``goal_frames()``, ``success()``, ``pos``, ``goal`` and ``geo`` (the layout, for tasks and success).
    """
    check_world(name)
    if name == "momentum":
        from .momentum import BatchedMomentum

        return BatchedMomentum(n, size, seed)
    return BatchedTwoRoom(n, size, seed)


def check_world(name: str) -> str:
    """``name`` if it names a world, else a ValueError that lists the worlds."""
    if name not in WORLDS:
        raise ValueError(f"unknown world {name!r}; use one of {WORLDS}")
    return name
