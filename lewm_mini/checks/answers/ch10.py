"""Reference answers for the checkers of chapter 10 (``lewm_mini.checks.ch10``), and the wrong answers the
checkers recognise to give a precise hint."""

from __future__ import annotations

import numpy as np
import torch

from ...world import in_wall

# ----------------------------------------------------------------------------- Exercise 10.1


def momentum_step_reference(pos: np.ndarray, vel: np.ndarray, force: np.ndarray, geo) -> tuple[np.ndarray, np.ndarray]:
    """One step of N pucks, as ``lewm_mini.momentum.momentum_step`` (the tests check that they agree)."""
    from ..ch10 import door_edges  # the helper the exercise provides

    v = (vel + geo.accel * force) * (1 - geo.friction)  # the force, then friction
    speed = np.linalg.norm(v, axis=1, keepdims=True)
    v = v * np.minimum(1.0, geo.max_speed / np.maximum(speed, 1e-12))  # the cap, on the speed
    # x: the border, then the wall's faces, tested at the old y
    x, vx = pos[:, 0] + v[:, 0], v[:, 0]
    out = (x < geo.lo) | (x > geo.hi)
    x = np.where(x < geo.lo, 2 * geo.lo - x, np.where(x > geo.hi, 2 * geo.hi - x, x))
    vx = np.where(out, -vx, vx)
    hit = in_wall(np.stack([x, pos[:, 1]], 1), geo)
    x = np.where(hit, np.where(vx > 0, np.minimum(2 * geo.wall[0] - x, geo.wall[0] - 1e-3),
                               np.maximum(2 * geo.wall[1] - x, geo.wall[1] + 1e-3)), x)
    vx = np.where(hit, -vx, vx)
    # y: the border, then the door's edges
    y, vy = pos[:, 1] + v[:, 1], v[:, 1]
    out = (y < geo.lo) | (y > geo.hi)
    y = np.where(y < geo.lo, 2 * geo.lo - y, np.where(y > geo.hi, 2 * geo.hi - y, y))
    vy = np.where(out, -vy, vy)
    y, vy = door_edges(x, y, vy, geo)
    return np.stack([x, y], 1).astype(np.float32), np.stack([vx, vy], 1).astype(np.float32)


def _cap(v: np.ndarray, m: float) -> np.ndarray:
    return v * np.minimum(1.0, m / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12))


def _border(c: np.ndarray, lo: float, hi: float, how: str) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates c after the border ("reflect", "clamp" or "none"), and which of them met it."""
    out = (c < lo) | (c > hi)
    if how == "reflect":
        c = np.where(c < lo, 2 * lo - c, np.where(c > hi, 2 * hi - c, c))
    elif how == "clamp":
        c = np.clip(c, lo, hi)
    return c, out


def _variant(pos, vel, force, geo, *, velocity="force, friction", cap="norm", move="new", border="reflect",
             reverse="normal", wall="faces", door=True) -> tuple[np.ndarray, np.ndarray]:
    """The step with one thing done differently (the defaults are the reference)."""
    from ..ch10 import door_edges

    a, f, m = geo.accel, geo.friction, geo.max_speed
    pushed = {"force, friction": (vel + a * force) * (1 - f), "friction, force": vel * (1 - f) + a * force,
              "no friction": vel + a * force, "no accel": (vel + force) * (1 - f)}[velocity]
    if cap == "norm":
        v = _cap(pushed, m)
    elif cap == "none":
        v = pushed
    elif cap == "component":
        v = np.clip(pushed, -m, m)
    elif cap == "before friction":
        v = _cap(vel + a * force, m) * (1 - f)
    else:  # "always": every puck at max_speed
        v = pushed * m / np.maximum(np.linalg.norm(pushed, axis=1, keepdims=True), 1e-12)
    step = {"new": v, "old": vel, "uncapped": pushed, "before friction": vel + a * force}[move]
    vx, vy = v[:, 0].copy(), v[:, 1].copy()
    late_flip = np.zeros(len(pos), bool)  # "both, returned": the whole velocity of a puck that bounced, reversed

    def reversed_at(hit, normal, other):
        if reverse in ("keep", "both, returned"):  # "both, returned": reversed at the end
            return normal, other
        normal = np.where(hit, -normal, normal)
        if reverse == "both":
            other = np.where(hit, -other, other)
        return normal, other

    # x
    x, out = _border(pos[:, 0] + step[:, 0], geo.lo, geo.hi, border)
    vx, vy = reversed_at(out, vx, vy)
    hit = np.zeros(len(pos), bool)
    if wall != "none":
        y_seen = pos[:, 1] + step[:, 1] if wall == "new y" else pos[:, 1]
        hit = ((x >= geo.wall[0]) & (x <= geo.wall[1]) if wall == "ignores door"
               else in_wall(np.stack([x, y_seen], 1), geo))
        if wall == "swapped faces":  # moving right, reflected off the right face: out on the other side
            x = np.where(hit, np.where(vx > 0, 2 * geo.wall[1] - x, 2 * geo.wall[0] - x), x)
        else:
            x = np.where(hit, np.where(vx > 0, np.minimum(2 * geo.wall[0] - x, geo.wall[0] - 1e-3),
                                       np.maximum(2 * geo.wall[1] - x, geo.wall[1] + 1e-3)), x)
        vx, vy = reversed_at(hit, vx, vy)
    if reverse == "both, returned":
        late_flip |= out | hit
    # y
    y, out = _border(pos[:, 1] + (vy if move == "new" else step[:, 1]), geo.lo, geo.hi, border)
    vy, vx = reversed_at(out, vy, vx)
    hit = np.zeros(len(pos), bool)
    if door:
        hit = in_wall(np.stack([x, y], 1), geo)
        y = door_edges(x, y, vy, geo)[0]
        vy, vx = reversed_at(hit, vy, vx)
    if reverse == "both, returned":
        late_flip |= out | hit
        vx, vy = np.where(late_flip, -vx, vx), np.where(late_flip, -vy, vy)
    return np.stack([x, y], 1), np.stack([vx, vy], 1)


# What each wrong answer gets wrong, and what the checker compares: "both" (positions and velocities) or "pos".
STEP_VARIANTS = {
    "friction first": ({"velocity": "friction, force"}, "both"),
    "no friction": ({"velocity": "no friction"}, "both"),
    "no accel": ({"velocity": "no accel"}, "both"),
    "no cap": ({"cap": "none"}, "both"),
    "cap per component": ({"cap": "component"}, "both"),
    "cap before friction": ({"cap": "before friction"}, "both"),
    "always at max speed": ({"cap": "always"}, "both"),
    "old velocity": ({"move": "old"}, "both"),
    "uncapped move": ({"move": "uncapped"}, "both"),
    "move before friction": ({"move": "before friction"}, "both"),
    "clamped": ({"border": "clamp"}, "pos"),  # the velocity: kept, reversed or zeroed
    "velocity kept": ({"reverse": "keep"}, "both"),
    "both reversed": ({"reverse": "both"}, "both"),
    "both reversed, returned": ({"reverse": "both, returned"}, "both"),
    "swapped faces": ({"wall": "swapped faces"}, "both"),
    "wall ignores door": ({"wall": "ignores door"}, "both"),
    "new y": ({"wall": "new y"}, "both"),
    "no door edges": ({"door": False}, "both"),
    "no wall": ({"wall": "none"}, "both"),
}


def momentum_step_wrong(pos, vel, force, geo) -> dict[str, tuple[np.ndarray, np.ndarray, str]]:
    """Plausible wrong answers, by what they get wrong: name -> (positions, velocities, what to compare)."""
    return {name: (*_variant(pos, vel, force, geo, **kw), what) for name, (kw, what) in STEP_VARIANTS.items()}


# ----------------------------------------------------------------------------- Exercise 10.2


def history_input_reference(z: torch.Tensor, raw_actions: torch.Tensor, next_block: torch.Tensor, history: int,
                            frameskip: int) -> tuple[torch.Tensor, torch.Tensor]:
    b, c = raw_actions.shape[0], raw_actions.shape[1] // frameskip
    blocks = raw_actions.reshape(b, c, frameskip * raw_actions.shape[-1])  # step-major, as ActionStats.block
    a = torch.cat([blocks, next_block[:, None]], dim=1)  # block i: executed after latent i
    h = min(history, z.shape[1])
    return z[:, -h:], a[:, -h:]


def history_input_wrong_z(z: torch.Tensor, h: int) -> dict[str, torch.Tensor]:
    """Plausible wrong z_in of the right shape (B, h, D), by what they get wrong."""
    return {"reversed": z[:, -h:].flip(1), "reversed, first": z.flip(1)[:, -h:], "first h": z[:, :h]}


def history_input_wrong_a(raw_actions: torch.Tensor, next_block: torch.Tensor, h: int,
                          frameskip: int) -> dict[str, torch.Tensor]:
    """Plausible wrong a_in of the right shape (B, h, A), by what they get wrong."""
    b, c, a0 = raw_actions.shape[0], raw_actions.shape[1] // frameskip, raw_actions.shape[-1]
    per_dim = raw_actions.reshape(b, c, frameskip, a0).transpose(2, 3).reshape(b, c, a0 * frameskip)
    whole = raw_actions.transpose(1, 2).reshape(b, c, a0 * frameskip)
    step_major = raw_actions.reshape(b, c, frameskip * a0)
    nxt = next_block[:, None]
    nxt_dim = next_block.reshape(b, frameskip, a0).transpose(1, 2).reshape(b, 1, -1)
    right = torch.cat([step_major, nxt], 1)[:, -h:]
    return {"dimension-major": torch.cat([per_dim, nxt], 1)[:, -h:],
            "dimension-major, next too": torch.cat([per_dim, nxt_dim], 1)[:, -h:],
            "transposed sequence": torch.cat([whole, nxt], 1)[:, -h:],
            "reversed": right.flip(1),
            "first h": torch.cat([step_major, nxt], 1)[:, :h]}
