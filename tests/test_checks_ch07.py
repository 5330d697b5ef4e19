"""Chapter 07 checker accepts the reference solution and rejects plausible wrong answers."""

from __future__ import annotations

import numpy as np
import pytest

from reference import accepts, solutions_of

from lewm_mini.checks.ch07 import check_choose_subgoal, path_from_tree
from lewm_mini.checks.answers.ch07 import choose_subgoal_reference


solution = solutions_of("07_planning_round_walls")


def _path(pred, goal):
    return path_from_tree(pred, goal)


def always_goal(dist, pred, goal, reach):
    return -1 if not np.isfinite(dist[goal]) else goal


def first_hop(dist, pred, goal, reach):
    if not np.isfinite(dist[goal]):
        return -1
    path = _path(pred, goal)
    return path[1] if len(path) > 1 else goal


def current_node(dist, pred, goal, reach):
    if not np.isfinite(dist[goal]):
        return -1
    return goal if dist[goal] <= reach else _path(pred, goal)[0]


def beyond_reach(dist, pred, goal, reach):  # one node too far: the first path node past the reach
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    path = _path(pred, goal)
    return next(k for k in path if dist[k] > reach)


def counts_hops(dist, pred, goal, reach):  # reach read as a number of edges, not of blocks
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    path = _path(pred, goal)
    return path[min(int(reach), len(path) - 1)]


def farthest_anywhere(dist, pred, goal, reach):  # within reach, but not necessarily on the path to the goal
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    return int(np.argmax(np.where(dist <= reach, dist, -1)))


def strict_boundary(dist, pred, goal, reach):  # "< reach" instead of "<= reach"
    return choose_subgoal_reference(dist, pred, goal, np.nextafter(reach, -np.inf))


def no_minimum_hop(dist, pred, goal, reach):  # stays put when the first hop is longer than the reach
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    path = _path(pred, goal)
    return [k for k in path if dist[k] <= reach][-1]


def unreachable_gives_goal(dist, pred, goal, reach):
    return goal if not np.isfinite(dist[goal]) else choose_subgoal_reference(dist, pred, goal, reach)


def returns_path(dist, pred, goal, reach):
    return _path(pred, goal) if np.isfinite(dist[goal]) else []


MUTANTS = {
    "always the final goal": always_goal,
    "the first node of the path (next hop)": first_hop,
    "the current node": current_node,
    "a node beyond the reach": beyond_reach,
    "counts hops instead of blocks": counts_hops,
    "farthest node within reach, off the path": farthest_anywhere,
    "strict < at the boundary": strict_boundary,
    "no minimum of one hop": no_minimum_hop,
    "unreachable goal returned instead of -1": unreachable_gives_goal,
    "returns the path, not a node": returns_path,
}


def test_accepts_reference():
    assert accepts(check_choose_subgoal, solution("choose_subgoal"))
    assert accepts(check_choose_subgoal, choose_subgoal_reference)


@pytest.mark.parametrize("name", MUTANTS)
def test_rejects_mutant(name):
    assert not accepts(check_choose_subgoal, MUTANTS[name])


def test_stub_and_strict():
    def stub(*args):
        raise NotImplementedError("choose_subgoal")

    assert not accepts(check_choose_subgoal, stub)
    with pytest.raises(AssertionError):
        check_choose_subgoal(stub, strict=True)
    assert check_choose_subgoal(solution("choose_subgoal"), strict=True)


def test_reference_agrees_with_the_package_waypoint():
    """On a chain, the start-rooted subgoal equals lewm_mini.graph.choose_waypoint's goal-rooted waypoint."""
    import torch
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    from lewm_mini.graph import LatentGraph, choose_waypoint, goal_trees

    n = 8
    w = np.array([1.0, 0.5, 2.0, 1.0, 0.5, 1.5, 1.0])
    adj = csr_matrix((w, (np.arange(n - 1), np.arange(1, n))), shape=(n, n))
    adj = adj.maximum(adj.T)
    g = LatentGraph(torch.zeros(n, 2), np.zeros((n, 2)), np.zeros(n, int), adj, csr_matrix((n, n)), 1.0, 0.5)
    tree = goal_trees(g, np.array([n - 1]))[0]
    for start in range(n - 1):
        dist, pred = dijkstra(adj, directed=False, indices=start, return_predecessors=True)
        for reach in (0.5, 1.0, 2.0, 3.0):
            wp = choose_waypoint(tree, start, reach)
            assert choose_subgoal_reference(dist, pred, n - 1, reach) == (n - 1 if wp is None else wp)
