"""The Momentum world: Two-Room's rooms with a puck that keeps moving.

Two-Room's agent moves by the action and stops, so one frame is the whole state. Here the action is
a force: each step

    v <- v + accel * a          (the force, a in [-1, 1]^2)
    v <- (1 - friction) * v     (friction, after the force)
    v <- v * min(1, max_speed / |v|)   (a speed cap)
    p <- p + v, bouncing off the border and the wall (the normal component of v is reversed)

so a frame shows where the puck is but not where it is going: the state is (position, velocity),
and a world model must read the velocity from a history of frames. Geometry, rendering and the door
are Two-Room's (``lewm_mini.world``); the constants below are at the released 224 px scale.

Success ("arrive and stop"): within the success radius of the goal *and* slower than ``stop_speed``.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from .world import BatchedTwoRoom, Geometry, TwoRoomEnv, check_actions, in_doorway, in_wall, room_of

ENV_ID = "LeWM/Momentum-v0"


@dataclass(frozen=True)
class MomentumGeometry(Geometry):
    """Two-Room's layout plus the puck's physics, in pixels (per step) at image size ``size``."""

    @property
    def accel(self) -> float:  # speed gained per step at |a| = 1
        return 1.0 * self.scale

    @property
    def friction(self) -> float:  # fraction of the velocity lost per step
        return 0.05

    @property
    def max_speed(self) -> float:  # pixels per step; below half the wall's thickness, so no jump across
        return 5 * self.scale

    @property
    def stop_speed(self) -> float:  # "stopped" for success: slower than this, pixels per step
        return 1.0 * self.scale


# ----------------------------------------------------------------------------- physics


def _bounce(x: np.ndarray, v: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Reflect coordinates x (N,) that left [lo, hi] back inside, reversing their velocity v (N,)."""
    below, above = x < lo, x > hi
    x = np.where(below, np.minimum(2 * lo - x, hi), np.where(above, np.maximum(2 * hi - x, lo), x))
    return x, np.where(below | above, -v, v)


def momentum_step(pos: np.ndarray, vel: np.ndarray, actions: np.ndarray,
                  geo: MomentumGeometry) -> tuple[np.ndarray, np.ndarray]:
    """One step of N pucks: positions, velocities, forces (N, 2) each -> new (positions, velocities).

    Force, then friction, then the speed cap; then the move, one axis at a time (x, then y), each
    reflected off the border and off the wall's faces or the door's edges. A reflection reverses the
    normal component and keeps the tangential one, so speed is never gained without a force.
    """
    v = (vel + geo.accel * actions) * (1.0 - geo.friction)
    speed = np.linalg.norm(v, axis=1, keepdims=True)
    v = (v * np.minimum(1.0, geo.max_speed / np.maximum(speed, 1e-12))).astype(np.float32)
    eps = 1e-3
    # x: the border, then the wall's faces (a step is shorter than the wall is thick)
    x, vx = _bounce(pos[:, 0] + v[:, 0], v[:, 0], geo.lo, geo.hi)
    hit = in_wall(np.stack([x, pos[:, 1]], 1), geo)
    x = np.where(hit, np.where(vx > 0, np.minimum(2 * geo.wall[0] - x, geo.wall[0] - eps),
                               np.maximum(2 * geo.wall[1] - x, geo.wall[1] + eps)), x)
    vx = np.where(hit, -vx, vx)
    # y: the border, then the door's edges (only a puck inside the doorway can meet them)
    y, vy = _bounce(pos[:, 1] + v[:, 1], v[:, 1], geo.lo, geo.hi)
    hit = in_wall(np.stack([x, y], 1), geo)
    y = np.where(hit, np.where(vy > 0, np.minimum(2 * geo.door[1] - y, geo.door[1] - eps),
                               np.maximum(2 * geo.door[0] - y, geo.door[0] + eps)), y)
    vy = np.where(hit, -vy, vy)
    return np.stack([x, y], 1).astype(np.float32), np.stack([vx, vy], 1).astype(np.float32)


def heuristic_forces(pos: np.ndarray, vel: np.ndarray, target: np.ndarray, geo: MomentumGeometry, noise: float,
                     rng: np.random.Generator) -> np.ndarray:
    """The noisy "door, then target, then brake" policy (N, 2) for pucks.

    It wants a velocity towards its waypoint (the door while the target is in the other room, then
    the target), at full speed when far and slowing down near it, and pushes towards that velocity;
    plus N(0, noise^2) per component, clipped to [-1, 1]. So the data holds pucks that speed up,
    coast, brake and stop.
    """
    door = geo.door_center
    in_door_band = in_doorway(pos, geo, dx=2 * geo.max_speed)  # within 3 x max_speed of the door's centre line
    other_room = (room_of(pos, geo) != room_of(target, geo)) & ~in_door_band
    waypoint = np.where(other_room[:, None], door, target)
    d = waypoint - pos
    dist = np.linalg.norm(d, axis=1, keepdims=True)
    want = d / np.maximum(dist, 1e-6) * np.minimum(geo.max_speed, 0.15 * dist)  # brake as it gets close
    force = (want - vel) / geo.accel
    return np.clip(force + noise * rng.standard_normal(force.shape), -1, 1).astype(np.float32)


# ----------------------------------------------------------------------------- batched world


class BatchedMomentum(BatchedTwoRoom):
    """N Momentum worlds stepped and rendered together in numpy.

    State: ``pos`` (N, 2) and ``vel`` (N, 2) in pixels and pixels per step, ``goal`` (N, 2). Frames
    show the position only (Two-Room's renderer). ``reset`` puts pucks at rest unless given ``vel``. A frame does
    not show the velocity (``frame_is_state`` False), so MPC gives the planner the frames of the last blocks.
    """

    frame_is_state = False

    def __init__(self, n: int, size: int = 64, seed: int | None = None):
        super().__init__(n, size, seed)
        self.geo = MomentumGeometry(size)
        self.vel = np.zeros((n, 2), np.float32)

    def reset(self, start: np.ndarray | None = None, goal: np.ndarray | None = None,
              vel: np.ndarray | None = None) -> np.ndarray:
        frames = super().reset(start, goal)
        self.vel = np.zeros((self.n, 2), np.float32) if vel is None else self._checked_vel(vel)
        return frames

    def _checked_vel(self, v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=np.float32)
        if v.shape != (self.n, 2):
            raise ValueError(f"velocities must have shape ({self.n}, 2), got {v.shape}")
        if not np.isfinite(v).all():
            raise ValueError("velocity contains NaN or inf")
        return v.copy()

    def step(self, actions: np.ndarray) -> np.ndarray:
        """Apply forces (N, 2) in [-1, 1]; returns the new positions (N, 2)."""
        self.pos, self.vel = momentum_step(self.pos, self.vel, check_actions(actions, self.n), self.geo)
        return self.pos

    def speed(self) -> np.ndarray:
        return np.linalg.norm(self.vel, axis=1)

    def success(self) -> np.ndarray:
        """Arrived and stopped: within the success radius and slower than ``geo.stop_speed`` (N,)."""
        return (self.distance_to_goal() <= self.geo.success_radius) & (self.speed() <= self.geo.stop_speed)


class MomentumEnv(TwoRoomEnv):
    """Single Momentum world with the Gymnasium API (as ``TwoRoomEnv``; ``info`` adds ``vel``)."""

    def __init__(self, size: int = 64, max_steps: int = 100, render_mode: str | None = "rgb_array"):
        super().__init__(size, max_steps, render_mode)
        self.world = BatchedMomentum(1, size)

    def _info(self) -> dict:
        return super()._info() | {"vel": self.world.vel[0].copy()}


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point=MomentumEnv)



# ----------------------------------------------------------------------------- violation of expectation

VOE_KINDS = ("bounce", "reverse", "stop")  # an ordinary bounce, and two events no physics allows


@dataclass
class MomentumVoE:
    """Scripted episodes of a puck sliding with no force, one set per kind in ``VOE_KINDS``.

    frames[k]: (N, L + 1, H, W, 3) uint8, one frame per action block; pos[k], vel[k]: (N, L + 1, 2) at those
    frames; actions: (N, L * frameskip, 2) raw forces (all zero). The event happens during block ``event``
    (between frames ``event`` and ``event + 1``): "bounce", the puck meets a wall (its only contact);
    "reverse", in open space its velocity turns back; "stop", in open space it stops dead.
    """

    frames: dict[str, np.ndarray]
    pos: dict[str, np.ndarray]
    vel: dict[str, np.ndarray]
    actions: np.ndarray
    event: int
    frameskip: int


def _slide(pos: np.ndarray, vel: np.ndarray, steps: int, geo: MomentumGeometry, kind: str = "none",
           at: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pucks sliding with no force for ``steps`` steps: positions, velocities (N, steps + 1, 2) and the number
    of bounces (N,). ``kind`` "reverse" or "stop" changes the velocity at step ``at`` (N,)."""
    n = len(pos)
    p_all, v_all = np.empty((n, steps + 1, 2), np.float32), np.empty((n, steps + 1, 2), np.float32)
    p_all[:, 0], v_all[:, 0] = pos, vel
    bounces = np.zeros(n, np.int64)
    zero = np.zeros((n, 2), np.float32)
    for t in range(steps):
        if kind != "none":
            hit = at == t
            vel = np.where(hit[:, None], -vel if kind == "reverse" else 0.0, vel).astype(np.float32)
        free = (vel * (1 - geo.friction))  # what the velocity is without a bounce
        pos, vel = momentum_step(pos, vel, zero, geo)
        bounces += (np.sign(vel) != np.sign(free)).any(1) & (np.abs(free) > 0).any(1)
        p_all[:, t + 1], v_all[:, t + 1] = pos, vel
    return p_all, v_all, bounces


def voe_episodes(n: int, blocks: int = 5, frameskip: int = 5, size: int = 64, seed: int = 0,
                 min_speed: float = 0.5, event: int = 2) -> MomentumVoE:
    """``n`` scripted episodes of each kind (``MomentumVoE``), the event during block ``event``.

    Block 2 is the earliest at which a model with 3 frames of context has seen all three before the event; a
    sliding puck loses 5% of its speed a step, so an early event is a visible one (about 0.6 of the start speed).

    Starts and velocities are drawn at random and kept when they fit the script: a "bounce" puck meets
    exactly one wall, during the event block; a "reverse" or "stop" puck meets none in the whole episode
    and its event comes at a random step of the event block. Every puck is faster than ``min_speed`` px per
    step when the event begins, so every event changes what the frames show.
    """
    from .world import render, sample_free_positions

    geo = MomentumGeometry(size)
    rng = np.random.default_rng(seed)
    if not 0 < event < blocks:
        raise ValueError(f"the event block must lie inside the episode, 0 < event < {blocks}; got {event}")
    steps = blocks * frameskip
    lo, hi = event * frameskip, (event + 1) * frameskip
    out_pos, out_vel = {}, {}
    for kind in VOE_KINDS:
        keep_p, keep_v, have = [], [], 0
        while have < n:
            m = 8 * n
            p0 = sample_free_positions(rng, m, geo)
            angle = rng.uniform(0, 2 * np.pi, m)
            v0 = (np.stack([np.cos(angle), np.sin(angle)], 1) * rng.uniform(0.7, 1.0, (m, 1)) * geo.max_speed)
            v0 = v0.astype(np.float32)
            p, v, bounces = _slide(p0, v0, steps, geo)
            ok = np.linalg.norm(v[:, lo], axis=1) > min_speed
            if kind == "bounce":
                _, _, before = _slide(p0, v0, lo, geo)
                _, _, within = _slide(p0, v0, hi, geo)
                ok &= (before == 0) & (within == 1) & (bounces == 1)
            else:
                ok &= bounces == 0
                at = rng.integers(lo, hi, m)
                p, v, again = _slide(p0, v0, steps, geo, kind, at)
                ok &= again == 0
            keep_p.append(p[ok]), keep_v.append(v[ok])
            have += int(ok.sum())
        out_pos[kind] = np.concatenate(keep_p)[:n, ::frameskip]
        out_vel[kind] = np.concatenate(keep_v)[:n, ::frameskip]
    frames = {k: render(out_pos[k].reshape(-1, 2), geo).reshape(n, blocks + 1, size, size, 3) for k in VOE_KINDS}
    return MomentumVoE(frames, out_pos, out_vel, np.zeros((n, steps, 2), np.float32), event, frameskip)
