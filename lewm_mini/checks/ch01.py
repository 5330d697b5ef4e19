"""Checkers for chapter 01 (the Two-Room world and its data)."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..data import ActionStats, heuristic_actions
from ..world import Geometry
from . import CheckFailed, require, run_check
from .answers import ch01 as _answers  # reference answers, kept out of this module

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


def check_cut_clip(fn: Callable, strict: bool | None = None) -> bool:
    """fn(frames (S+1, ...), actions (S, 2), start, history, frameskip) -> (frames (T, ...), actions (T, fs, 2))."""

    def test() -> None:
        steps = 40
        frames = np.arange(steps + 1)[:, None] * np.array([1, 100])  # frame t "shows" (t, 100 t): easy to read
        actions = np.stack([np.arange(steps), -np.arange(steps)], 1).astype(np.float32)  # action t is (t, -t)
        for start, history, fs in ((0, 3, 5), (7, 3, 5), (3, 2, 4), (11, 1, 1), (steps - 20, 3, 5)):
            try:
                got = fn(frames.copy(), actions.copy(), start, history, fs)
            except ValueError as err:
                raise CheckFailed(f"start {start}, history {history}, frameskip {fs} fits in an episode of {steps} "
                                  f"actions (the clip needs {(history + 1) * fs}): do not reject it ({err})") from None
            require(isinstance(got, tuple) and len(got) == 2, "return a pair (clip frames, clip actions)")
            got_f, got_a = _as_array(got[0], "cut_clip"), _as_array(got[1], "cut_clip")
            want_f, want_a = _answers.cut_clip_reference(frames, actions, start, history, fs)
            require(got_f.shape == want_f.shape,
                    f"history {history} means a clip of history + 1 = {history + 1} frames; got {len(got_f)}")
            if not np.array_equal(got_f, want_f):
                shown = got_f[:, 0].tolist()
                require(False, f"start {start}, frameskip {fs}: the clip's frames should be steps "
                               f"{want_f[:, 0].tolist()}, got {shown}: one frame every `frameskip` steps")
            require(got_a.shape == want_a.shape,
                    f"the actions come as one block of {fs} per frame: shape {want_a.shape}, got {got_a.shape}")
            if not np.array_equal(got_a, want_a):
                first = got_a.reshape(-1, 2)[0, 0]
                require(False, f"start {start}: the block of frame k holds the {fs} actions that *leave* it, steps "
                               f"start + k fs ... start + (k+1) fs - 1 (the first is action {start}, yours starts "
                               f"with action {first:.0f}); the last frame's block is kept too")
        last_ok = steps - 4 * 5  # the last start at which a clip of 4 frames, 5 apart, and its blocks fit
        try:
            fn(frames.copy(), actions.copy(), last_ok, 3, 5)
        except ValueError as err:
            raise CheckFailed(f"start {last_ok} fits exactly ({steps} actions, a clip needs 20): do not reject it "
                              f"({err})") from None
        for bad in (last_ok + 1, -1):
            try:
                out = fn(frames.copy(), actions.copy(), bad, 3, 5)
            except ValueError:
                continue
            except IndexError:
                raise CheckFailed(f"start {bad}: raise a ValueError that says the clip does not fit, not an "
                                  "IndexError") from None
            raise CheckFailed(f"start {bad} does not fit in an episode of {steps} actions (clips need start >= 0 and "
                              f"start + (history + 1) * frameskip <= {steps}): raise ValueError; you returned "
                              f"{type(out).__name__}")

    return run_check("Exercise 1.2 cut_clip", test, strict)


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
