"""Reference answers for the checkers of chapter 07 (``lewm_mini.checks.ch07``)."""

from __future__ import annotations

import numpy as np

from .. import ch07 as _checks  # helpers the checkers also use


def choose_subgoal_reference(dist: np.ndarray, pred: np.ndarray, goal: int, reach: float) -> int:
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return int(goal)
    path = _checks.path_from_tree(pred, goal)
    within = [k for k in path[1:] if dist[k] <= reach]
    return within[-1] if within else path[1]
