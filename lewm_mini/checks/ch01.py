"""Checkers for chapter 01 (the Two-Room world and its data)."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..data import ActionStats, heuristic_actions
from ..world import Geometry
from . import CheckFailed, require, run_check

GEO = Geometry(64)


def _as_array(x, name: str) -> np.ndarray:
    try:
        return np.asarray(x)
    except Exception as err:  # noqa: BLE001
        raise CheckFailed(f"{name} must return a numpy array, got {type(x).__name__}") from err


# ----------------------------------------------------------------------------- Exercise 1.1


def _heuristic_cases() -> tuple[np.ndarray, np.ndarray]:
    door = GEO.door_center
    pos = np.array([
        [10.0, 50.0],  # left room, far below the door; target right -> head for the door
        [50.0, 12.0],  # right room; target left -> door
        [10.0, 50.0],  # left room; target in the same room -> target
        [door[0], door[1]],  # exactly at the door's centre (counts as the right room); target left -> target
        [door[0] - 1.0, 12.0],  # inside the door band, left room; target right -> target
        [20.0, 30.0],  # left; target left -> target
        [45.0, 45.0],  # right; target right -> target
        [29.0, 14.0],  # just left of the door band (|dx| > speed); target right -> door
    ], np.float32)
    target = np.array([
        [55.0, 50.0], [12.0, 40.0], [20.0, 20.0], [8.0, 40.0], [55.0, 30.0], [8.0, 8.0], [55.0, 10.0],
        [50.0, 14.5],
    ], np.float32)
    return pos, target


def check_heuristic_actions(fn: Callable, strict: bool | None = None) -> bool:
    """fn(pos (N, 2), target (N, 2), geo, noise, rng) -> actions (N, 2) of the door-then-target policy."""

    def test() -> None:
        pos, target = _heuristic_cases()
        got = _as_array(fn(pos.copy(), target.copy(), GEO, 0.0, np.random.default_rng(0)), "heuristic_actions")
        want = heuristic_actions(pos, target, GEO, 0.0, np.random.default_rng(0))
        require(got.shape == want.shape, f"expected shape {want.shape} (one 2-D action per world), got {got.shape}")
        require(np.isfinite(got).all(), "actions contain NaN or inf (divide by max(norm, 1e-6))")
        norms = np.linalg.norm(got, axis=1)
        require(np.allclose(norms, 1.0, atol=1e-4),
                f"with noise=0 every action should be a unit vector; norms were {np.round(norms, 3)}")
        bad = np.where(~np.isclose(got, want, atol=1e-4).all(1))[0]
        if bad.size:
            i = int(bad[0])
            raise CheckFailed(
                f"with noise=0, agent at {pos[i]} with target {target[i]} should move {np.round(want[i], 3)}, "
                f"got {np.round(got[i], 3)}. Head for geo.door_center only while the target is in the other "
                "room AND the agent is not yet in the door band (|x - door_x| <= geo.speed and y inside "
                "geo.door); otherwise head straight for the target.")
        # noise: statistics over many identical worlds
        n = 20_000
        p = np.tile(np.array([[20.0, 30.0]], np.float32), (n, 1))
        tgt = np.tile(np.array([[20.0, 50.0]], np.float32), (n, 1))  # same room, straight down: d = (0, 1)
        for noise in (0.3, 2.0):
            got = _as_array(fn(p, tgt, GEO, noise, np.random.default_rng(1)), "heuristic_actions")
            want = heuristic_actions(p, tgt, GEO, noise, np.random.default_rng(1))
            require(got.shape == (n, 2), f"expected shape {(n, 2)}, got {got.shape}")
            require(np.abs(got).max() <= 1.0 + 1e-6, "actions must be clipped to [-1, 1] after adding the noise")
            require(got[:, 0].std() > 0.05,
                    "with noise > 0 the actions should vary: add noise * rng.standard_normal((N, 2))")
            require(abs(got[:, 0].std() - want[:, 0].std()) < 0.03 and abs(got[:, 1].mean() - want[:, 1].mean()) < 0.03,
                    f"with noise={noise} the spread of the actions is off (x std {got[:, 0].std():.3f}, "
                    f"expected {want[:, 0].std():.3f}): noise is the standard deviation, not the variance, and "
                    "it is added to the unit direction before clipping")

    return run_check("Exercise 1.1 heuristic_actions", test, strict)


# ----------------------------------------------------------------------------- Exercise 1.2


def first_success_step_reference(pos: np.ndarray, target: np.ndarray, radius: float) -> np.ndarray:
    dist = np.linalg.norm(pos - target[:, None], axis=-1)
    hit = dist <= radius
    return np.where(hit.any(1), hit.argmax(1), -1)


def check_first_success_step(fn: Callable, strict: bool | None = None) -> bool:
    """fn(pos (N, T+1, 2), target (N, 2), radius) -> (N,) int: first frame index within radius, -1 if never."""

    def test() -> None:
        target = np.array([[0.0, 0.0]] * 5, np.float32)
        pos = np.zeros((5, 6, 2), np.float32)
        pos[0] = [[10, 0], [8, 0], [3, 4], [1, 0], [0, 0], [9, 0]]  # exactly at radius 5 at t=2
        pos[1] = [[10, 0], [9, 0], [8, 0], [7, 0], [6, 0], [5.5, 0]]  # never
        pos[2] = [[1, 1], [9, 0], [9, 0], [9, 0], [9, 0], [9, 0]]  # at t=0, then leaves
        pos[3] = [[9, 0], [9, 0], [9, 0], [9, 0], [9, 0], [2, 2]]  # at the last frame
        pos[4] = [[0, 9], [0, 7], [0, 4.9], [0, 9], [0, 1], [0, 0]]  # first at t=2, again later
        got = _as_array(fn(pos.copy(), target.copy(), 5.0), "first_success_step")
        want = first_success_step_reference(pos, target, 5.0)
        require(got.shape == want.shape, f"expected one index per episode, shape {want.shape}, got {got.shape}")
        if not np.array_equal(got.astype(np.int64), want):
            i = int(np.where(got != want)[0][0])
            hints = {
                0: "an agent exactly at distance == radius counts as a success (use <=)",
                1: "an episode that never gets within the radius must give -1 (argmax of all-False is 0!)",
                2: "frame 0 counts: if the agent starts inside the radius the answer is 0",
                3: "index frames from 0: the last of T+1 frames has index T",
                4: "return the FIRST frame within the radius, not the last or the number of such frames",
            }
            raise CheckFailed(f"episode {i}: expected {want[i]}, got {got[i]}. {hints[i]}")
        rng = np.random.default_rng(0)
        pos = rng.uniform(0, 64, (50, 30, 2)).astype(np.float32)
        target = rng.uniform(0, 64, (50, 2)).astype(np.float32)
        got = _as_array(fn(pos, target, 12.0), "first_success_step")
        require(np.array_equal(got.astype(np.int64), first_success_step_reference(pos, target, 12.0)),
                "correct on the hand-made cases but wrong on random episodes: use the Euclidean distance "
                "between pos[:, t] and the episode's own target")

    return run_check("Exercise 1.2 first_success_step", test, strict)


# ----------------------------------------------------------------------------- Exercise 1.3


def check_action_blocks(fn: Callable, strict: bool | None = None) -> bool:
    """fn(raw (..., K * frameskip, 2), mean (2,), std (2,), frameskip) -> z-scored blocks (..., K, 2 * frameskip)."""

    def test() -> None:
        rng = np.random.default_rng(0)
        stats = ActionStats(np.array([0.1, -0.2], np.float32), np.array([0.5, 0.8], np.float32))
        for shape, fs in (((3, 20, 2), 5), ((12, 2), 4), ((2, 2, 6, 2), 3)):
            raw = rng.uniform(-1, 1, shape).astype(np.float32)
            got = _as_array(fn(raw.copy(), stats.mean.copy(), stats.std.copy(), fs), "action_blocks")
            want = stats.block(raw, fs)
            require(got.shape == want.shape,
                    f"raw actions {shape} with frameskip {fs} should give blocks {want.shape}, got {got.shape}")
            if np.allclose(got, raw.reshape(want.shape), atol=1e-5):
                raise CheckFailed("the blocks are not z-scored: subtract mean and divide by std per component first")
            same_numbers = np.allclose(np.sort(got, axis=-1), np.sort(want, axis=-1), atol=1e-5)
            if same_numbers and not np.allclose(got, want, atol=1e-5):
                raise CheckFailed("right numbers, wrong order inside a block: it must read (x1, y1, x2, y2, ...), "
                                  "which is what reshaping the (..., K * fs, 2) array to (..., K, fs * 2) gives")
            require(np.allclose(got, want, atol=1e-5),
                    "wrong values: z = (raw - mean) / std per component (std, not variance), then reshape")

    return run_check("Exercise 1.3 action_blocks", test, strict)
