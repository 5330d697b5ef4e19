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
from .answers import ch00 as _answers  # reference answers, kept out of this module


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


def episode_tokens(cells: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """One episode: cells (T+1, 2), actions (T, 2) -> tokens (4T+2,): x0 y0 ax0 ay0 x1 y1 ... xT yT."""
    cells, actions = np.asarray(cells), np.asarray(actions)
    steps = np.concatenate([cells[:-1], ACT0 + 1 + actions], axis=1)  # (T, 4)
    return np.concatenate([steps.reshape(-1), cells[-1]]).astype(np.int64)


def two_room_map(n: int = N_CELLS) -> np.ndarray:
    """(n, n) bool, indexed [x, y]: True where a cell is wall (the wall columns outside the door rows)."""
    blocked = np.zeros((n, n), bool)
    blocked[np.ix_(WALL_X, np.setdiff1d(np.arange(n), DOOR_Y))] = True
    return blocked


# ----------------------------------------------------------------------------- exercise 0.1


def _episode(seed: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, N_CELLS, (steps + 1, 2))
    actions = rng.integers(-1, 2, (steps, 2))
    return cells, actions


def check_parse_episode(fn: Callable, strict: bool | None = None) -> bool:
    """Exercise 0.1: ``parse_episode(tokens (4T+2,)) -> (cells (T+1, 2), actions (T, 2))``."""

    def test():
        cases = [_episode(0, 5), _episode(1, 1), _episode(2, 12), _episode(3, 0)]
        cases.append((np.array([[0, 39], [39, 0], [19, 7]]), np.array([[-1, 1], [1, -1]])))
        for cells, actions in cases:
            steps = len(actions)
            tokens = episode_tokens(cells, actions)
            out = fn(tokens.copy())
            require(isinstance(out, tuple) and len(out) == 2, "return a pair (cells, actions)")
            got_cells, got_actions = np.asarray(out[0]), np.asarray(out[1])
            require(got_cells.shape == (steps + 1, 2),
                    f"{len(tokens)} tokens hold {steps} steps, so {steps + 1} positions (the last one after the "
                    f"final action): cells of shape ({steps + 1}, 2), got {got_cells.shape}")
            require(got_actions.reshape(-1, 2).shape == (steps, 2) if got_actions.size else steps == 0,
                    f"{steps} actions of 2 components: shape ({steps}, 2), got {got_actions.shape}")
            got_actions = got_actions.reshape(steps, 2)
            require(np.issubdtype(got_cells.dtype, np.integer) and np.issubdtype(got_actions.dtype, np.integer),
                    "cells and actions are integers")
            if steps and np.array_equal(got_actions, actions + 1):
                require(False, "action token ACT0 + 1 + v stands for v: subtract ACT0 + 1, so the tokens 40, 41, "
                               "42 give -1, 0, +1")
            if np.array_equal(got_cells, cells[:, ::-1]):
                require(False, "each position is written x then y: keep that order (column 0 = x)")
            bad_c = np.flatnonzero((got_cells != cells).any(1))
            if bad_c.size:
                i = int(bad_c[0])
                require(False, f"position {i} should be {tuple(cells[i])}, got {tuple(got_cells[i])}. Step t is the "
                               "four words x y ax ay at 4t..4t+3; the last two tokens are the final position")
            bad_a = np.flatnonzero((got_actions != actions).any(1))
            if bad_a.size:
                i = int(bad_a[0])
                require(False, f"action {i} should be {tuple(actions[i])}, got {tuple(got_actions[i])}: words 2 and "
                               "3 of step i, minus ACT0 + 1")

    return run_check("Exercise 0.1 parse_episode", test, strict)


# ----------------------------------------------------------------------------- exercise 0.2


def _maps() -> list[tuple[np.ndarray, str]]:
    rng = np.random.default_rng(0)
    maze = np.zeros((12, 12), bool)
    maze[4, :9] = True  # a wall with a gap at the bottom
    maze[8, 3:] = True  # a wall with a gap at the top
    random_map = rng.random((9, 9)) < 0.3
    random_map[0, :] = True  # walls along the first column x = 0
    return [(two_room_map(), "the Two-Room map"), (maze, "a 12 x 12 maze"), (random_map, "a random 9 x 9 map")]


def _physics_cases(n: int, blocked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n)
    p = rng.integers(0, n, (300, 2))
    nxt = p + rng.integers(-2, 3, (300, 2))
    edges = np.array([[0, 0], [0, n - 1], [n - 1, 0], [n - 1, n - 1], [0, 3], [3, 0]])
    steps = np.array([[-1, 0], [0, -1], [-1, -1], [1, 0], [0, 1], [1, 1], [-1, 1], [1, -1]])
    e_prev = np.repeat(edges, len(steps), 0)
    e_next = e_prev + np.tile(steps, (len(edges), 1))
    walls = np.argwhere(blocked)[:20]  # steps onto blocked cells from a neighbour
    w_prev = np.clip(walls + np.array([1, 0]), 0, n - 1)
    return np.concatenate([p, e_prev, w_prev]), np.concatenate([nxt, e_next, walls])


def check_physics_violations(fn: Callable, strict: bool | None = None) -> bool:
    """Exercise 0.2: ``physics_violations(prev (B, 2), nxt (B, 2), blocked (n, n) indexed [x, y]) -> bool (B,)``."""

    def test():
        for blocked, what in _maps():
            n = blocked.shape[0]
            prev, nxt = _physics_cases(n, blocked)
            out = np.asarray(fn(prev.copy(), nxt.copy(), blocked.copy()))
            require(out.shape == (len(prev),), f"return one flag per step, shape ({len(prev)},), got {out.shape}")
            require(out.dtype == bool, f"return a boolean array, got dtype {out.dtype}")
            want = _answers.reference_physics_violations(prev, nxt, blocked)
            bad = np.flatnonzero(out != want)
            if not bad.size:
                continue
            i = int(bad[0])
            p, q = tuple(int(v) for v in prev[i]), tuple(int(v) for v in nxt[i])
            outside = bool(((nxt[i] < 0) | (nxt[i] > n - 1)).any())
            if outside and not want[i] == out[i]:
                hint = ("it ends outside the grid" + (": a negative index wraps round to the other side of the "
                        "map in numpy, so test the bounds before you look a cell up" if (nxt[i] < 0).any() else
                        f": coordinates run from 0 to {n - 1}"))
            elif want[i] and not (np.abs(nxt[i] - prev[i]) > 1).any():
                hint = f"the cell {q} is blocked: blocked[x, y] (first index x), here blocked{list(q)} is True"
            elif want[i]:
                hint = "it moves more than one cell along an axis"
            elif blocked[q[1], q[0]] if max(q) < n and min(q) >= 0 else False:
                hint = "blocked is indexed [x, y] (first index x, as the cells are (x, y)), not [y, x]"
            else:
                hint = "it is legal: inside the grid, on a free cell, at most one cell per axis (diagonals are fine)"
            require(False, f"on {what}, the step {p} -> {q} {'breaks physics' if want[i] else 'is legal'}, you said "
                           f"the opposite: {hint}")

    return run_check("Exercise 0.2 physics_violations", test, strict)
