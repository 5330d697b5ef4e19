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
    return int(ahead[int(np.argmin(np.abs(dist[ahead] - reach)))])  # argmin: the nearer one on a tie


def choose_subgoal_wrong_from_goal(dist: np.ndarray, pred: np.ndarray, goal: int, reach: float) -> int:
    """A mistake the checker recognises (the goal beyond reach): `reach` counted back from the goal, dist[goal] -
    dist[k], as if the tree were rooted at the goal like the chapter's."""
    ahead = _checks.path_from_tree(pred, goal)[1:]
    return int(ahead[int(np.argmin(np.abs(dist[goal] - dist[ahead] - reach)))])
