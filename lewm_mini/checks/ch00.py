"""Checkers for chapter 00 (a mini LLM versus a world model).

The chapter writes Two-Room episodes as a text log in *cell* units (one cell = one step of the agent):
a 40 x 40 grid, the wall in columns 19-20 except the door rows 5-9. Coordinates 0..39 are tokens
0..39; an action value v in {-1, 0, 1} is token 40 + 1 + v. A step is written ``x y ax ay``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..world import Geometry
from . import require, run_check


def grid_constants(size: int = 64) -> tuple[int, np.ndarray, np.ndarray]:
    """(number of cells per axis, wall columns, door rows) of the Two-Room world in cell units."""
    geo = Geometry(size)
    n = int((geo.hi - geo.lo) / geo.speed) + 1
    px = geo.lo + geo.speed * np.arange(n)
    wall_x = np.flatnonzero((px >= geo.wall[0]) & (px <= geo.wall[1]))
    door_y = np.flatnonzero((px >= geo.door[0]) & (px <= geo.door[1]))
    return n, wall_x, door_y


N_CELLS, WALL_X, DOOR_Y = grid_constants()
ACT0 = N_CELLS  # action value v is token ACT0 + 1 + v


def reference_episode_tokens(cells: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """One episode: cells (T+1, 2), actions (T, 2) -> tokens (4T+2,): x0 y0 ax0 ay0 x1 y1 ... xT yT."""
    cells, actions = np.asarray(cells), np.asarray(actions)
    steps = np.concatenate([cells[:-1], ACT0 + 1 + actions], axis=1)  # (T, 4)
    return np.concatenate([steps.reshape(-1), cells[-1]]).astype(np.int64)


def reference_physics_violations(prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
    """True where the step prev -> nxt (B, 2) puts the agent in the wall, outside the grid, or moves
    it more than one cell along an axis."""
    prev, nxt = np.asarray(prev), np.asarray(nxt)
    in_wall = np.isin(nxt[:, 0], WALL_X) & ~np.isin(nxt[:, 1], DOOR_Y)
    outside = ((nxt < 0) | (nxt > N_CELLS - 1)).any(1)
    too_far = (np.abs(nxt - prev) > 1).any(1)
    return in_wall | outside | too_far


# ----------------------------------------------------------------------------- exercise 0.1


def _episode(seed: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, N_CELLS, (steps + 1, 2))
    actions = rng.integers(-1, 2, (steps, 2))
    return cells, actions


def _describe(t: int, steps: int) -> str:
    if t >= 4 * steps:
        return f"the final position ({'xy'[t - 4 * steps]})"
    return f"step {t // 4}, word {t % 4} ({['x', 'y', 'ax', 'ay'][t % 4]})"


def check_episode_tokens(fn: Callable, strict: bool | None = None) -> bool:
    """Exercise 0.1: ``episode_tokens(cells (T+1, 2), actions (T, 2)) -> tokens (4T+2,)``."""

    def test():
        cases = [_episode(0, 5), _episode(1, 1), _episode(2, 12)]
        cases.append((np.array([[0, 39], [39, 0], [19, 7]]), np.array([[-1, 1], [1, -1]])))
        for cells, actions in cases:
            steps = len(actions)
            out = np.asarray(fn(cells.copy(), actions.copy()))
            require(out.ndim == 1, f"return a flat 1-D array of tokens, got shape {out.shape}")
            require(out.shape[0] == 4 * steps + 2,
                    f"an episode of {steps} steps has {4 * steps + 2} tokens (4 per step + the last x y), "
                    f"got {out.shape[0]}")
            require(np.issubdtype(out.dtype, np.integer), f"tokens are integers, got dtype {out.dtype}")
            want = reference_episode_tokens(cells, actions)
            bad = np.flatnonzero(out != want)
            if bad.size:
                t = int(bad[0])
                raise_hint = (f"first wrong token at index {t}, {_describe(t, steps)}: got {out[t]}, want {want[t]}. "
                              "A step is `x y ax ay` with the action written *before* the next position; "
                              "action v is token ACT0 + 1 + v (40, 41, 42 for -1, 0, +1).")
                require(False, raise_hint)

    return run_check("Exercise 0.1 episode_tokens", test, strict)


# ----------------------------------------------------------------------------- exercise 0.2


def _physics_cases() -> tuple[np.ndarray, np.ndarray]:
    w0, w1, d0, d1 = int(WALL_X[0]), int(WALL_X[-1]), int(DOOR_Y[0]), int(DOOR_Y[-1])
    pairs = [
        ((5, 5), (6, 6)),  # diagonal step in free space: legal
        ((5, 5), (5, 5)),  # staying: legal
        ((w0 - 1, d0), (w0, d0)),  # entering the door at its first row: legal
        ((w0, d1), (w1, d1)),  # inside the door at its last row: legal
        ((w1, (d0 + d1) // 2), (w1 + 1, (d0 + d1) // 2 + 1)),  # leaving the door diagonally: legal
        ((w0 - 1, d0 - 1), (w0, d0 - 1)),  # the row just above the door is wall
        ((w1 + 1, d1 + 1), (w1, d1 + 1)),  # the row just below the door is wall
        ((w0 - 1, 30), (w0, 30)),  # into the wall from the left
        ((w1 + 1, 0), (w1, 0)),  # into the wall at the top edge
        ((w0 - 1, 30), (w1 + 1, 30)),  # jumping across the wall: too far
        ((0, 3), (-1, 3)),  # left of the border
        ((N_CELLS - 1, 3), (N_CELLS, 3)),  # right of the border
        ((3, N_CELLS - 1), (3, N_CELLS)),  # below the border
        ((N_CELLS - 1, N_CELLS - 1), (N_CELLS - 1, N_CELLS - 1)),  # the last cell: legal
        ((0, 0), (0, 0)),  # the first cell: legal
        ((3, 3), (5, 3)),  # two cells in one step
        ((3, 3), (3, 1)),  # two cells up
        ((3, 3), (5, 5)),  # two cells diagonally
        ((w0 - 2, 20), (w0 - 1, 21)),  # diagonal next to the wall: legal
    ]
    prev = np.array([p for p, _ in pairs])
    nxt = np.array([n for _, n in pairs])
    rng = np.random.default_rng(0)  # plus random steps of up to two cells, some outside the grid
    p = rng.integers(0, N_CELLS, (200, 2))
    return np.concatenate([prev, p]), np.concatenate([nxt, p + rng.integers(-2, 3, (200, 2))])


def check_physics_violations(fn: Callable, strict: bool | None = None) -> bool:
    """Exercise 0.2: ``physics_violations(prev (B, 2), nxt (B, 2)) -> bool (B,)``."""

    def test():
        prev, nxt = _physics_cases()
        out = np.asarray(fn(prev.copy(), nxt.copy()))
        require(out.shape == (len(prev),), f"return one flag per step, shape ({len(prev)},), got {out.shape}")
        require(out.dtype == bool, f"return a boolean array, got dtype {out.dtype}")
        want = reference_physics_violations(prev, nxt)
        bad = np.flatnonzero(out != want)
        if bad.size:
            i = int(bad[0])
            verdict = "breaks physics" if want[i] else "is legal"
            require(False, f"the step {tuple(prev[i])} -> {tuple(nxt[i])} {verdict}, you said the opposite. "
                           f"Wall: columns {WALL_X.tolist()} except door rows {DOOR_Y.tolist()}; "
                           f"grid 0..{N_CELLS - 1}; at most one cell per axis per step (diagonals are fine).")

    return run_check("Exercise 0.2 physics_violations", test, strict)
