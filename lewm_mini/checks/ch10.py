"""Checkers for chapter 10 (a world with momentum: the puck's physics step, and the history the predictor reads),
and the helper exercise 10.1 provides (``door_edges``)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..momentum import MomentumGeometry
from ..world import in_wall
from . import CheckFailed, as_tensor, run_check
from .answers import ch10 as _answers  # reference answers, kept out of this module


def door_edges(x: np.ndarray, y: np.ndarray, vy: np.ndarray, geo) -> tuple[np.ndarray, np.ndarray]:
    """After the y move: pucks (x, y) that the move took into the wall are reflected off the door's edge they met.

    Only a puck inside the doorway (its x within the wall's span) can meet one: moving down (vy > 0) it meets the
    doorway's lower edge, y = door[1], moving up the upper edge, y = door[0]. It ends as far inside the doorway as
    it would have gone into the wall, and its vy is reversed. Returns the new (y, vy), each (N,).
    """
    hit = in_wall(np.stack([x, y], 1), geo)
    y = np.where(hit, np.where(vy > 0, np.minimum(2 * geo.door[1] - y, geo.door[1] - 1e-3),
                               np.maximum(2 * geo.door[0] - y, geo.door[0] + 1e-3)), y)
    return y, np.where(hit, -vy, vy)


# ----------------------------------------------------------------------------- Exercise 10.1


def _f32(*arrays: np.ndarray) -> list[np.ndarray]:
    return [np.asarray(a, np.float32) for a in arrays]


def _open_positions(rng: np.random.Generator, n: int, geo, margin: float) -> np.ndarray:
    """Positions at least ``margin`` px from the border and from the wall (its whole x span), in either room."""
    left = rng.uniform(geo.lo + margin, geo.wall[0] - margin, n)
    right = rng.uniform(geo.wall[1] + margin, geo.hi - margin, n)
    x = np.where(rng.random(n) < 0.5, left, right)
    return np.stack([x, rng.uniform(geo.lo + margin, geo.hi - margin, n)], 1)


def _directions(rng: np.random.Generator, n: int) -> np.ndarray:
    angle = rng.uniform(0, 2 * np.pi, n)
    return np.stack([np.cos(angle), np.sin(angle)], 1)


def _case_open(seed: int, geo) -> tuple[np.ndarray, ...]:
    """Pushes in open space, every puck slower than the cap; the first four at rest and not pushed."""
    rng = np.random.default_rng(seed)
    n, m = 60, geo.max_speed
    pos = _open_positions(rng, n, geo, 2 * m)
    vel = _directions(rng, n) * rng.uniform(0.05, 0.35, (n, 1)) * m
    force = rng.uniform(-1, 1, (n, 2))
    vel[:8], force[:4] = 0.0, 0.0
    return _f32(pos, vel, force)


def _case_cap(seed: int, geo) -> tuple[np.ndarray, ...]:
    """Fast pucks pushed on in open space: the speed cap. A third move diagonally, each component under the cap."""
    rng = np.random.default_rng(seed)
    n, m = 60, geo.max_speed
    pos = _open_positions(rng, n, geo, 2 * m)
    d = _directions(rng, n)
    vel = d * rng.uniform(0.7, 1.0, (n, 1)) * m
    force = np.clip(d + 0.3 * rng.standard_normal((n, 2)), -1, 1)
    sign = rng.choice([-1.0, 1.0], (20, 2))
    vel[:20], force[:20] = 0.7 * m * sign, sign
    return _f32(pos, vel, force)


def _case_border(seed: int, geo) -> tuple[np.ndarray, ...]:
    """Pucks about to cross the border (a side or a corner), moving along it too; no force. A few move away."""
    rng = np.random.default_rng(seed)
    n, m = 48, geo.max_speed
    normal = rng.uniform(0.62, 0.72, (n, 2)) * m  # speed towards the border, per component
    gap = rng.uniform(0.05, 0.55, (n, 2)) * m  # how far from it: every puck crosses (after friction)
    side = rng.choice([-1.0, 1.0], (n, 2))
    pos = np.where(side < 0, geo.lo + gap, geo.hi - gap)
    vel = side * normal
    along = rng.integers(0, 3, n)  # 0: x meets the border, y slides along it; 1: the other way; 2: a corner
    free = _open_positions(rng, n, geo, 2 * m)
    slide = rng.choice([-1.0, 1.0], n) * rng.uniform(0.2, 0.6, n) * m
    pos[along == 0, 1], vel[along == 0, 1] = free[along == 0, 1], slide[along == 0]
    pos[along == 1, 0], vel[along == 1, 0] = free[along == 1, 0], slide[along == 1]
    vel[-4:] *= -1  # moving away from the border: no bounce
    return _f32(pos, vel, np.zeros((n, 2)))


def _case_wall(seed: int, geo) -> tuple[np.ndarray, ...]:
    """Pucks beside the wall, above or below the doorway, moving into it (and along it); no force."""
    rng = np.random.default_rng(seed)
    n, m = 48, geo.max_speed
    side = rng.choice([-1.0, 1.0], n)  # -1: left of the wall, moving right
    gap = rng.uniform(0.05, 0.55, n) * m
    x = np.where(side < 0, geo.wall[0] - gap, geo.wall[1] + gap)
    below = rng.random(n) < 0.7  # most of the wall is below the door
    y = np.where(below, rng.uniform(geo.door[1] + 2 * m, geo.hi - 2 * m, n),
                 rng.uniform(geo.lo + m, geo.door[0] - m, n))
    vx = -side * rng.uniform(0.62, 0.72, n) * m
    vy = np.where(below, rng.choice([-1.0, 1.0], n), 0.4) * rng.uniform(0.1, 0.6, n) * m
    vx[-4:] *= -1  # moving away from the wall
    return _f32(np.stack([x, y], 1), np.stack([vx, vy], 1), np.zeros((n, 2)))


def _case_door(seed: int, geo) -> tuple[np.ndarray, ...]:
    """The doorway: pucks inside it meeting its edges, pucks passing through it, and pucks at its corners."""
    rng = np.random.default_rng(seed)
    m, span = geo.max_speed, geo.wall[1] - geo.wall[0]
    # inside the doorway, moving up or down against its edges, a little sideways
    k = 16
    up = rng.random(k) < 0.5
    gap = rng.uniform(0.05, 0.55, k) * m
    inside = np.stack([geo.wall[0] + rng.uniform(0.3, 0.7, k) * span,
                       np.where(up, geo.door[0] + gap, geo.door[1] - gap)], 1)
    v_in = np.stack([rng.uniform(-0.1, 0.1, k) * m, np.where(up, -1, 1) * rng.uniform(0.62, 0.72, k) * m], 1)
    # through the doorway, sideways
    side = rng.choice([-1.0, 1.0], k)
    through = np.stack([np.where(side < 0, geo.wall[0], geo.wall[1]) + side * rng.uniform(0.1, 0.5, k) * m,
                        rng.uniform(geo.door[0] + m, geo.door[1] - m, k)], 1)
    v_through = np.stack([-side * rng.uniform(0.6, 0.9, k) * m, rng.uniform(-0.2, 0.2, k) * m], 1)
    # at a corner: beside the wall, just inside the door's band, moving diagonally into the wall and out of the band
    up = rng.random(k) < 0.5
    corner = np.stack([np.where(side < 0, geo.wall[0], geo.wall[1]) + side * rng.uniform(0.1, 0.4, k) * m,
                       np.where(up, geo.door[0] + rng.uniform(0.05, 0.2, k) * m,
                                geo.door[1] - rng.uniform(0.05, 0.2, k) * m)], 1)
    v_corner = np.stack([-side * rng.uniform(0.55, 0.65, k) * m,
                         np.where(up, -1, 1) * rng.uniform(0.55, 0.65, k) * m], 1)
    pos, vel = np.concatenate([inside, through, corner]), np.concatenate([v_in, v_through, v_corner])
    return _f32(pos, vel, np.zeros_like(pos))


def random_states(seed: int, n: int, geo) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n states (positions, velocities, forces) anywhere, many of them near the border, the wall and the doorway."""
    from ..world import sample_free_positions

    rng = np.random.default_rng(seed)
    m, span = geo.max_speed, geo.wall[1] - geo.wall[0]
    kind = rng.integers(0, 5, n)
    pos = sample_free_positions(rng, n, geo).astype(np.float64)
    near = rng.uniform(0, m, n)
    border = np.where(rng.random(n) < 0.5, geo.lo + near, geo.hi - near)
    axis = rng.integers(0, 2, n)
    pos[(kind == 1) & (axis == 0), 0] = border[(kind == 1) & (axis == 0)]
    pos[(kind == 1) & (axis == 1), 1] = border[(kind == 1) & (axis == 1)]
    face = np.where(rng.random(n) < 0.5, geo.wall[0] - near - 1e-3, geo.wall[1] + near + 1e-3)
    pos[kind == 2, 0] = face[kind == 2]  # beside the wall (or the doorway)
    doorway = np.stack([geo.wall[0] + rng.uniform(0.02, 0.98, n) * span, rng.uniform(geo.door[0], geo.door[1], n)], 1)
    pos[kind == 3] = doorway[kind == 3]
    edge = np.where(rng.random(n) < 0.5, geo.door[0] + rng.uniform(0, m, n), geo.door[1] - rng.uniform(0, m, n))
    pos[kind == 4] = np.stack([face, edge], 1)[kind == 4]  # at the door's corners
    pos = np.clip(pos, geo.lo, geo.hi)
    bad = in_wall(pos, geo)
    pos[bad] = sample_free_positions(rng, int(bad.sum()), geo)
    vel = _directions(rng, n) * rng.uniform(0, 1, (n, 1)) * m
    force = rng.uniform(-1, 1, (n, 2))
    vel[rng.random(n) < 0.05] = 0.0
    force[rng.random(n) < 0.1] = 0.0
    corners = rng.random(n) < 0.1
    force[corners] = rng.choice([-1.0, 1.0], (int(corners.sum()), 2))
    return _f32(pos, vel, force)


def _cases_step() -> list[tuple[str, object, np.ndarray, np.ndarray, np.ndarray]]:
    """(what it tests, geometry, positions, velocities, forces), each case aimed at one part of the step."""
    geo, big = MomentumGeometry(64), MomentumGeometry(224)
    return [("pushes in open space, every puck slower than the cap (some at rest)", geo, *_case_open(0, geo)),
            ("fast pucks pushed on in open space: the speed cap", geo, *_case_cap(1, geo)),
            ("pucks crossing the border, no force", geo, *_case_border(2, geo)),
            ("pucks meeting the wall's faces, no force", geo, *_case_wall(3, geo)),
            ("the doorway: its edges, passing through, its corners; no force", geo, *_case_door(4, geo)),
            ("4000 random states, many near the border, the wall and the doorway", geo, *random_states(5, 4000, geo)),
            ("1000 random states at image size 224: read every constant from geo", big,
             *random_states(6, 1000, big))]


HINTS_101 = {
    "friction first": "friction came before the force. Push first, then friction takes its fraction of the whole new "
                      "velocity: v = (1 - friction) * (v + accel * force)",
    "no friction": "the velocity lost nothing to friction: after the force, v = (1 - geo.friction) * v",
    "no accel": "a force of 1 adds geo.accel pixels per step to the velocity, not 1: v + geo.accel * force",
    "no cap": "a puck got faster than geo.max_speed: after friction, slow a puck that is too fast down to exactly "
              "max_speed, keeping its direction",
    "cap per component": "you capped each component on its own (a clip): the cap is on the speed, the norm |v|. A "
                         "diagonal velocity whose components are both under max_speed can still be too fast: scale "
                         "the whole vector by min(1, max_speed / |v|)",
    "cap before friction": "the cap came before friction: force, then friction, then the cap, so that a puck pushed "
                           "on at full force moves at exactly max_speed",
    "always at max speed": "every puck now moves at max_speed: the cap only slows a puck that is too fast, a slower "
                           "one keeps its speed: scale by min(1, max_speed / |v|)",
    "old velocity": "the puck moved with its old velocity, before the force: move it with the new one (after the "
                    "force, friction and the cap, the velocity the step returns)",
    "uncapped move": "the puck moved with its velocity before the cap: move it with the capped one, the velocity the "
                     "step returns",
    "move before friction": "the puck moved with its velocity before friction: move it with the new velocity after "
                            "friction and the cap, the one the step returns",
    "clamped": "a puck that reached the border stopped at it (a clamp, np.clip): it must bounce. One that would end "
               "a distance d beyond the border ends d inside it (x -> 2 * lo - x, or 2 * hi - x), and the velocity "
               "component normal to the border is reversed",
    "velocity kept": "the position bounced but the velocity did not: a bounce reverses the velocity component normal "
                     "to what the puck met, so that it moves away afterwards",
    "both reversed": "a bounce reversed both components of the velocity: only the component normal to what the puck "
                     "met changes sign (vx at the left and right borders and the wall's faces, vy at the top and "
                     "bottom borders and the door's edges); the component along it is kept",
    "swapped faces": "a puck came out on the far side of the wall: a puck moving right meets the wall's LEFT face, "
                     "geo.wall[0] (x -> 2 * wall[0] - x), one moving left its right face, geo.wall[1]",
    "wall ignores door": "pucks in the doorway bounced off the wall: the wall is open between geo.door[0] and "
                         "geo.door[1]. Test with in_wall, which knows the door",
    "new y": "the x move was tested against the wall at the NEW y. Move one axis at a time: the x move at the old y, "
             "in_wall(np.stack([x, pos[:, 1]], 1), geo), then the y move from the new x. A puck at the door's "
             "corner shows the difference: its x move enters the doorway, then its y move meets the door's edge",
    "no door edges": "a puck in the doorway went into the wall above or below it: after the y move and its border "
                     "bounce, call the helper door_edges(x, y, vy, geo)",
    "no wall": "a puck went into the wall: after the x move (and its border bounce), test in_wall at (new x, old y) "
               "and reflect off the face it met, as off the border, reversing vx",
}
HINTS_101["both reversed, returned"] = HINTS_101["both reversed"]


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=0, atol=1e-4))


def _example(got_p, got_v, want_p, want_v, pos, vel, force) -> str:
    """The first puck whose answer differs, as numbers the learner can reproduce."""
    bad = ~(np.isclose(got_p, want_p, rtol=0, atol=1e-4).all(1) & np.isclose(got_v, want_v, rtol=0, atol=1e-4).all(1))
    i = int(np.argmax(bad))
    r = lambda a: np.array2string(np.asarray(a, np.float64), precision=4, separator=", ")  # noqa: E731
    return (f"for example, the puck at pos={r(pos[i])} with vel={r(vel[i])}, pushed by force={r(force[i])}, should "
            f"end at {r(want_p[i])} with velocity {r(want_v[i])}; yours ends at {r(got_p[i])} with {r(got_v[i])}")


def _diagnose_step(got_p, got_v, want_p, want_v, pos, vel, force, geo) -> str:
    """The hint for an answer of the right shape that differs from the reference on one case."""
    if _close(got_p, want_v) and _close(got_v, want_p):
        return "return (new_pos, new_vel), in that order"
    for name, (alt_p, alt_v, what) in _answers.momentum_step_wrong(pos, vel, force, geo).items():
        differs = {"pos": not _close(alt_p, want_p), "vel": not _close(alt_v, want_v),
                   "both": not (_close(alt_p, want_p) and _close(alt_v, want_v))}[what]
        same = {"pos": _close(got_p, alt_p), "vel": _close(got_v, alt_v),
                "both": _close(got_p, alt_p) and _close(got_v, alt_v)}[what]
        if differs and same:
            return HINTS_101[name]
    if in_wall(got_p, geo).any():
        return ("a puck ended inside the wall: reflect the x move off the wall's faces (in_wall at the new x and the "
                "old y) and the y move off the door's edges (door_edges)")
    if (got_p < geo.lo - 1e-4).any() or (got_p > geo.hi + 1e-4).any():
        return (f"a puck left the inner area [geo.lo, geo.hi] = [{geo.lo:g}, {geo.hi:g}]: reflect it off the border "
                "(x -> 2 * lo - x below it, 2 * hi - x above it) and reverse the velocity's normal component")
    if (np.linalg.norm(got_v, axis=1) > geo.max_speed + 1e-4).any():
        return "a puck is faster than geo.max_speed: cap the speed (the norm of v) after friction"
    if _close(np.abs(got_v), np.abs(want_v)):
        return ("the velocity's components have the right sizes but some have the wrong sign: a bounce reverses "
                "exactly the component normal to the border, face or edge the puck met, and keeps the other")
    return ("the step differs from the world's: the force, then friction, then the cap on the speed, then the move, x "
            "then y, each reflected off the border and the wall; " + _example(got_p, got_v, want_p, want_v, pos, vel,
                                                                               force))


def _as_array(x, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if not isinstance(x, np.ndarray):
        raise CheckFailed(f"{name} must be a numpy array, got {type(x).__name__}")
    return x.astype(np.float64)


def check_momentum_step(fn: Callable, strict: bool | None = None) -> bool:
    """fn(pos (N, 2), vel (N, 2), force (N, 2), geo) -> (new_pos, new_vel): one step of the Momentum world."""

    def test() -> None:
        for what, geo, pos, vel, force in _cases_step():
            info = f" (case: {what})"
            with np.errstate(all="ignore"):
                out = fn(pos.copy(), vel.copy(), force.copy(), geo)
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise CheckFailed("return two arrays, (new_pos, new_vel), each (N, 2)" + info)
            got_p, got_v = _as_array(out[0], "new_pos"), _as_array(out[1], "new_vel")
            n = len(pos)
            for got, name in ((got_p, "new_pos"), (got_v, "new_vel")):
                if got.shape != (n, 2):
                    raise CheckFailed(f"{name} must have shape (N, 2) = {(n, 2)}, got {got.shape}: one row per puck, "
                                      "x then y" + info)
            want_p, want_v = _answers.momentum_step_reference(pos, vel, force, geo)
            nan = ~np.isfinite(got_p).all(1) | ~np.isfinite(got_v).all(1)
            if nan.any():
                at_rest = (np.linalg.norm(vel + geo.accel * force, axis=1) == 0) & nan
                raise CheckFailed(("a puck at rest, and not pushed, got nan: its speed is 0 and max_speed / speed "
                                   "divides by zero. Guard it (np.maximum(speed, 1e-12)), or scale only the pucks "
                                   "faster than max_speed" if at_rest.any() else
                                   "some of your positions or velocities are nan or inf") + info)
            if _close(got_p, want_p) and _close(got_v, want_v):
                continue
            raise CheckFailed(_diagnose_step(got_p, got_v, want_p, want_v, pos, vel, force, geo) + info)

    return run_check("Exercise 10.1 momentum_step", test, strict)


# ----------------------------------------------------------------------------- Exercise 10.2


def _cases_history() -> list[tuple[str, torch.Tensor, torch.Tensor, torch.Tensor, int, int]]:
    """(what it tests, z (B, C+1, D), raw_actions (B, C*fs, A0), next_block (B, A0*fs), history, frameskip)."""
    g = torch.Generator().manual_seed(0)
    cases = []
    for b, c, d, a0, fs, history in ((3, 2, 5, 2, 3, 3), (4, 5, 6, 2, 2, 3), (3, 3, 4, 3, 2, 1), (2, 4, 3, 2, 4, 2),
                                     (2, 0, 4, 2, 5, 3)):
        z = torch.randn(b, c + 1, d, generator=g)
        raw = torch.randn(b, c * fs, a0, generator=g)
        nxt = torch.randn(b, a0 * fs, generator=g)
        h = min(history, c + 1)
        cases.append((f"B={b}, C={c} past frames, D={d}, A0={a0}, frameskip={fs}, history={history}: h={h}",
                      z, raw, nxt, history, fs))
    return cases


HINTS_102_Z = {
    "reversed": "z_in is in reverse order: the predictor reads the latents oldest first, like z, so the newest "
                "latent (now, z[:, -1]) comes last",
    "first h": "z_in holds the FIRST h latents: keep the last h, the most recent, ending with now (z[:, -1])",
}
HINTS_102_Z["reversed, first"] = HINTS_102_Z["reversed"]
HINTS_102_A = {
    "dimension-major": "the blocks are laid out dimension-major (all of one action dimension's steps, then the "
                       "next's): a block keeps the frameskip steps in order, step-major, [step 0's A0 numbers, step "
                       "1's, ...], as ActionStats.block does: a plain reshape of (B, C * frameskip, A0) to (B, C, "
                       "frameskip * A0), with no transpose",
    "transposed sequence": "you transposed the actions before cutting them into blocks, so the blocks mix steps from "
                           "different times: reshape (B, C * frameskip, A0) straight to (B, C, frameskip * A0)",
    "reversed": "a_in is in reverse order: the blocks go oldest first, like the latents they are paired with",
    "first h": "a_in holds the FIRST h blocks: keep the last h, those paired with the last h latents, ending with "
               "next_block",
}
HINTS_102_A["dimension-major, next too"] = HINTS_102_A["dimension-major"]


def _call_history(fn: Callable, z, raw, nxt, history: int, fs: int, info: str):
    try:
        return fn(z.clone(), raw.clone(), nxt.clone(), history, fs)
    except NotImplementedError:
        raise
    except (RuntimeError, IndexError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        b, c, a0 = raw.shape[0], raw.shape[1] // fs, raw.shape[-1]
        extra = (" With no past (C = 0) raw_actions is (B, 0, A0): a reshape with -1 cannot infer a size from 0 "
                 "elements, so give the block's width, frameskip * A0." if c == 0 else "")
        raise CheckFailed(
            f"your code raised {type(err).__name__} ({first}). The shapes: z is (B, C+1, D) = {tuple(z.shape)}, "
            f"raw_actions (B, C * frameskip, A0) = {tuple(raw.shape)}, next_block (B, A0 * frameskip) = "
            f"{tuple(nxt.shape)}; the past blocks are (B, C, frameskip * A0) = {(b, c, fs * a0)}." + extra + info
        ) from err


def check_history_input(fn: Callable, strict: bool | None = None) -> bool:
    """fn(z (B, C+1, D), raw_actions (B, C*fs, A0), next_block (B, A0*fs), history, frameskip) -> (z_in, a_in)."""

    def test() -> None:
        for what, z, raw, nxt, history, fs in _cases_history():
            info = f" (case: {what})"
            out = _call_history(fn, z, raw, nxt, history, fs, info)
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise CheckFailed("return two tensors, (z_in, a_in)" + info)
            z_in, a_in = as_tensor(out[0], "z_in"), as_tensor(out[1], "a_in")
            want_z, want_a = _answers.history_input_reference(z, raw, nxt, history, fs)
            b, c1, d = z.shape
            h, a_dim, a0 = want_z.shape[1], want_a.shape[-1], raw.shape[-1]
            # the latents
            if tuple(z_in.shape) != tuple(want_z.shape):
                hint = (f"keep only the last h = min(history, C+1) = {h} latents: the predictor reads at most history "
                        "of them" if tuple(z_in.shape) == (b, c1, d) else
                        "one latent short: the last latent the predictor reads is now, z[:, -1]"
                        if tuple(z_in.shape) == (b, h - 1, d) else "the last h latents, oldest first")
                raise CheckFailed(f"z_in must have shape (B, h, D) = {tuple(want_z.shape)}, got {tuple(z_in.shape)}: "
                                  f"{hint}" + info)
            if not torch.allclose(z_in, want_z):
                for name, alt in _answers.history_input_wrong_z(z, h).items():
                    if not torch.allclose(alt, want_z) and torch.allclose(z_in, alt):
                        raise CheckFailed(HINTS_102_Z[name] + info)
                if h < c1 and torch.allclose(z_in, z[:, -h - 1:-1]):
                    raise CheckFailed("z_in leaves out now: the last latent the predictor reads is the current one, "
                                      "z[:, -1]" + info)
                raise CheckFailed("z_in must be the last h latents of z, oldest first, as they are (no other "
                                  "change)" + info)
            # the action blocks
            if tuple(a_in.shape) != tuple(want_a.shape):
                if a_in.shape[:1] == (b,) and a_in.shape[-1:] == (a_dim,) and a_in.ndim == 3 and a_in.shape[1] == h - 1:
                    hint = ("one block short: next_block is missing. The newest latent, now, is paired with "
                            "next_block, the candidate block to imagine from now")
                elif a_in.ndim == 3 and a_in.shape[1] == h * fs and a_in.shape[2] == a0:
                    hint = "these are single steps: cut them into blocks, frameskip consecutive steps per vector"
                elif a_in.ndim == 4:
                    hint = "a block is one vector of frameskip * A0 numbers: reshape the (frameskip, A0) steps into it"
                elif a_in.ndim == 3 and a_in.shape[1] == c1 and a_in.shape[2] == a_dim:
                    hint = f"keep only the blocks of the last h = {h} latents"
                else:
                    hint = "one block per latent of z_in, each frameskip * A0 numbers"
                raise CheckFailed(f"a_in must have shape (B, h, frameskip * A0) = {tuple(want_a.shape)}, got "
                                  f"{tuple(a_in.shape)}: {hint}" + info)
            if torch.allclose(a_in, want_a):
                continue
            if h > 1 and torch.allclose(a_in[:, 1:], want_a[:, :-1]):
                raise CheckFailed("each latent was paired with the block executed BEFORE it (the one that led to it): "
                                  "pair it with the block executed AFTER it, the one whose outcome the predictor "
                                  "forecasts. So the newest latent, now, goes with next_block, and the latent before "
                                  "it with the last past block" + info)
            for name, alt in _answers.history_input_wrong_a(raw, nxt, h, fs).items():
                if not torch.allclose(alt, want_a) and torch.allclose(a_in, alt):
                    raise CheckFailed(HINTS_102_A[name] + info)
            if not torch.allclose(a_in[:, -1], nxt):
                raise CheckFailed("the last block of a_in must be next_block: the newest latent, now, is paired with "
                                  "the block to imagine from now" + info)
            raise CheckFailed("a_in must hold, for each latent of z_in, the block executed after it: the past "
                              "blocks (raw_actions cut into blocks of frameskip steps, step-major) followed by "
                              "next_block, the last h of them" + info)

    return run_check("Exercise 10.2 history_input", test, strict)
