"""Reference answers for the checkers of chapter 07 (``lewm_mini.checks.ch07``)."""

from __future__ import annotations

import numpy as np

from .. import ch07 as _checks  # helpers the checkers also use


def choose_subgoal_reference(dist: np.ndarray, pred: np.ndarray, goal: int, reach: float) -> int:
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return int(goal)
    ahead = _checks.path_from_tree(pred, goal)[1:]  # the path after the current node: at least one hop
    down = dist[ahead]  # (L,) blocks down the path, increasing
    k = max(int(np.searchsorted(down, reach, side="right")) - 1, 0)  # the farthest within reach (or the first hop)
    if down[k] < reach / 2 and k + 1 < len(ahead):  # short progress: the node after it (never past the goal:
        k += 1  # the goal lies beyond reach here, so the node k within reach is not the last)
    return int(ahead[k])


def choose_subgoal_wrong_from_goal(dist: np.ndarray, pred: np.ndarray, goal: int, reach: float) -> int:
    """A mistake the checker recognises (the goal beyond reach): `reach` counted back from the goal, dist[goal] -
    dist[k], as if the tree were rooted at the goal like the chapter's: the first path node at most `reach` blocks
    before the goal."""
    ahead = _checks.path_from_tree(pred, goal)[1:]
    return int(next(k for k in ahead if dist[goal] - dist[k] <= reach))
