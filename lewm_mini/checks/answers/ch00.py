"""Reference answers for the checkers of chapter 00 (``lewm_mini.checks.ch00``)."""

from __future__ import annotations

import numpy as np

from .. import ch00 as _checks  # helpers the checkers also use


def reference_parse_episode(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tokens (4T+2,) of one episode -> cells (T+1, 2), actions (T, 2) in {-1, 0, 1}: inverse of the above."""
    tokens = np.asarray(tokens)
    steps = tokens[:-2].reshape(-1, 4)
    cells = np.concatenate([steps[:, :2], tokens[-2:][None]], axis=0)
    return cells.astype(np.int64), (steps[:, 2:] - _checks.ACT0 - 1).astype(np.int64)


def reference_physics_violations(prev: np.ndarray, nxt: np.ndarray, blocked: np.ndarray) -> np.ndarray:
    """True where the step prev -> nxt (B, 2) ends outside the grid or on a blocked cell of the map
    ``blocked`` (n, n) indexed [x, y], or moves more than one cell along an axis."""
    prev, nxt = np.asarray(prev), np.asarray(nxt)
    n = blocked.shape[0]
    outside = ((nxt < 0) | (nxt > n - 1)).any(1)
    inside = np.clip(nxt, 0, n - 1)  # index only after the bounds are known
    on_wall = blocked[inside[:, 0], inside[:, 1]] & ~outside
    too_far = (np.abs(nxt - prev) > 1).any(1)
    return on_wall | outside | too_far
