"""Chapter 07 checker accepts right answers and rejects plausible wrong answers, each with its own hint."""

from __future__ import annotations

import numpy as np
import pytest

from reference import accepts, solutions_of

from lewm_mini.checks.ch07 import check_choose_subgoal, path_from_tree
from lewm_mini.checks.answers.ch07 import choose_subgoal_reference


solution = solutions_of("07_planning_round_walls")


def _path(pred, goal):
    return path_from_tree(pred, goal)


def _closest(dist, nodes, reach):  # the first of ``nodes`` whose distance is closest to reach
    return nodes[int(np.argmin(np.abs(dist[nodes] - reach)))]


# ----------------------------------------------------------------------------- right answers


def walk_then_compare(dist, pred, goal, reach):
    """Walk down the path to the first node at or past reach, then keep the one before it if that is as close."""
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    path = _path(pred, goal)
    for i in range(1, len(path)):
        if dist[path[i]] >= reach:
            if i > 1 and (dist[path[i - 1]] - reach) ** 2 <= (dist[path[i]] - reach) ** 2:
                return path[i - 1]
            return path[i]
    return goal


def strict_goal_test(dist, pred, goal, reach):  # "<": a goal exactly at reach is the closest node anyway
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] < reach:
        return goal
    return _closest(dist, _path(pred, goal)[1:], reach)


CORRECT = {
    "the reference solution": lambda: solution("choose_subgoal"),
    "the checker's reference": lambda: choose_subgoal_reference,
    "walk to the first node past reach, then compare with the one before": lambda: walk_then_compare,
    "strict < for the goal within reach": lambda: strict_goal_test,
}


# ----------------------------------------------------------------------------- wrong answers


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


def _first_past(strict: bool):
    def first_past(dist, pred, goal, reach):  # the first path node past (or at) the reach
        if not np.isfinite(dist[goal]):
            return -1
        if dist[goal] <= reach:
            return goal
        return next(k for k in _path(pred, goal)[1:] if (dist[k] > reach if strict else dist[k] >= reach))
    return first_past


def counts_hops(dist, pred, goal, reach):  # reach read as a number of edges, not of blocks
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    path = _path(pred, goal)
    return path[min(int(reach), len(path) - 1)]


def old_rule(dist, pred, goal, reach):  # the rule before: the farthest path node within reach, at least one hop
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    path = _path(pred, goal)
    within = [k for k in path[1:] if dist[k] <= reach]
    return within[-1] if within else path[1]


def farthest_anywhere(dist, pred, goal, reach):  # the old rule without the path: any node within reach
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    return int(np.argmax(np.where(dist <= reach, dist, -1)))


def closest_anywhere(dist, pred, goal, reach):  # closest to reach, but not necessarily on the path to the goal
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    return int(np.argmin(np.abs(dist - reach)))


def start_included(dist, pred, goal, reach):  # the current node among the candidates
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    return _closest(dist, _path(pred, goal), reach)


def tie_farther(dist, pred, goal, reach):  # the farther node on a tie
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    return _closest(dist, _path(pred, goal)[1:][::-1], reach)


def from_goal(dist, pred, goal, reach):  # reach counted back from the goal (the chapter's tree is rooted there)
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    ahead = _path(pred, goal)[1:]
    return ahead[int(np.argmin(np.abs(dist[goal] - dist[ahead] - reach)))]


def never_goal(dist, pred, goal, reach):  # the goal left out of the candidates while it lies beyond reach
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    path = _path(pred, goal)
    return _closest(dist, path[1:-1], reach) if len(path) > 2 else path[1]


def no_goal_check(dist, pred, goal, reach):  # the new rule with no "goal within reach" branch: fails at the goal
    if not np.isfinite(dist[goal]):
        return -1
    return _closest(dist, _path(pred, goal)[1:], reach)


def unreachable_gives_goal(dist, pred, goal, reach):
    return goal if not np.isfinite(dist[goal]) else choose_subgoal_reference(dist, pred, goal, reach)


def returns_path(dist, pred, goal, reach):
    return _path(pred, goal) if np.isfinite(dist[goal]) else []


# each wrong answer, and words its hint must contain
MUTANTS = {
    "always the final goal": (always_goal, "you returned the final goal"),
    "the first node of the path (next hop)": (first_hop, "the first hop"),
    "the current node": (current_node, "the current node"),
    "the first node past the reach": (_first_past(strict=True), "on either side of it"),
    "the first node at or past the reach": (_first_past(strict=False), "on either side of it"),
    "counts hops instead of blocks": (counts_hops, "not numbers of hops"),
    "the old rule: the farthest path node within reach": (old_rule, "CLOSEST to reach, even a little beyond"),
    "farthest node within reach, off the path": (farthest_anywhere, "CLOSEST to reach, even a little beyond"),
    "closest node to reach, off the path": (closest_anywhere, "not on the shortest path"),
    "the current node among the candidates": (start_included, "the current node"),
    "tie broken towards the farther node": (tie_farther, "on a tie, take the nearer one"),
    "reach counted back from the goal": (from_goal, "before the GOAL"),
    "the goal never chosen while beyond reach": (never_goal, "even though it lies a little beyond reach"),
    "no goal-within-reach branch (fails at the goal)": (no_goal_check, "already stands at the goal"),
    "unreachable goal returned instead of -1": (unreachable_gives_goal, "return -1"),
    "returns the path, not a node": (returns_path, "one node index"),
}


@pytest.mark.parametrize("name", CORRECT)
def test_accepts(name):
    assert accepts(check_choose_subgoal, CORRECT[name]())


@pytest.mark.parametrize("name", MUTANTS)
def test_rejects_mutant_with_its_hint(name, capsys):
    mutant, words = MUTANTS[name]
    assert not accepts(check_choose_subgoal, mutant)
    out = capsys.readouterr().out
    assert "FAIL. Hint:" in out and words in out, out


def test_stub_and_strict():
    def stub(*args):
        raise NotImplementedError("choose_subgoal")

    assert not accepts(check_choose_subgoal, stub)
    with pytest.raises(AssertionError):
        check_choose_subgoal(stub, strict=True)
    assert check_choose_subgoal(solution("choose_subgoal"), strict=True)


@pytest.mark.parametrize("w", [[1.0, 0.5, 2.0, 1.0, 0.5, 1.5, 1.0],  # mixed steps
                               [0.25, 2.0, 0.25, 2.0, 1.0, 0.5, 2.0]])  # lumpy: tiny hops, then long ones
def test_reference_agrees_with_the_package_waypoint(w):
    """On a chain, the start-rooted subgoal equals lewm_mini.graph.choose_waypoint's goal-rooted waypoint."""
    import torch
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    from lewm_mini.graph import LatentGraph, choose_waypoint, goal_trees

    n = len(w) + 1
    adj = csr_matrix((np.array(w), (np.arange(n - 1), np.arange(1, n))), shape=(n, n))
    adj = adj.maximum(adj.T)
    g = LatentGraph(torch.zeros(n, 2), np.zeros((n, 2)), np.zeros(n, int), adj, csr_matrix((n, n)), 1.0, 0.5)
    tree = goal_trees(g, np.array([n - 1]))[0]
    for start in range(n - 1):
        dist, pred = dijkstra(adj, directed=False, indices=start, return_predecessors=True)
        for reach in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0):
            wp = choose_waypoint(tree, start, reach)
            assert choose_subgoal_reference(dist, pred, n - 1, reach) == (n - 1 if wp is None else wp)
