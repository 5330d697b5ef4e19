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


def _rule(choose):
    """A whole answer from ``choose(down, reach) -> index``: -1 when unreachable, the goal when within reach,
    else ahead[choose(...)] with ahead the path after the current node and down = dist[ahead]."""
    def answer(dist, pred, goal, reach):
        if not np.isfinite(dist[goal]):
            return -1
        if dist[goal] <= reach:
            return goal
        ahead = _path(pred, goal)[1:]
        return ahead[choose(dist[ahead], reach)]
    return answer


def _farthest(down, reach):  # the last index with down <= reach, 0 when there is none
    within = np.flatnonzero(down <= reach)
    return int(within[-1]) if len(within) else 0


def _hybrid(threshold, strict=True):  # the farthest within reach, then the node after it when short of threshold
    def choose(down, reach):
        k = _farthest(down, reach)
        short = down[k] < threshold(reach) if strict else down[k] <= threshold(reach)
        return k + 1 if short and k + 1 < len(down) else k
    return choose


# ----------------------------------------------------------------------------- right answers


def walk_down(dist, pred, goal, reach):
    """Walk down the path while the next node is within reach; then one more step if progress is short."""
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    path = _path(pred, goal)
    i = 1
    while dist[path[i + 1]] <= reach:  # the goal lies beyond reach, so the walk stops before it
        i += 1
    return path[i + 1] if dist[path[i]] < reach / 2 else path[i]


def with_current_node(dist, pred, goal, reach):
    """The current node kept among the candidates: it lies 0 < reach / 2 down, so the step past it gives the
    first hop when nothing else is within reach."""
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    path = _path(pred, goal)
    k = _farthest(dist[path], reach)
    return path[k + 1] if 2 * dist[path[k]] < reach else path[k]


def no_bounds_check(dist, pred, goal, reach):
    """No `k + 1 < len(ahead)` test: with the goal beyond reach the node within reach is never the last one."""
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    ahead = _path(pred, goal)[1:]
    k = _farthest(dist[ahead], reach)
    return ahead[k + 1] if dist[ahead[k]] < reach / 2 else ahead[k]


def strict_goal_test(dist, pred, goal, reach):  # "<": a goal exactly at reach is the farthest node within reach
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] < reach:
        return goal
    ahead = _path(pred, goal)[1:]
    return ahead[_hybrid(lambda r: r / 2)(dist[ahead], reach)]


CORRECT = {
    "the reference solution": lambda: solution("choose_subgoal"),
    "the checker's reference": lambda: choose_subgoal_reference,
    "walk down while within reach, then one more step if short": lambda: walk_down,
    "the current node among the candidates (the step past moves off it)": lambda: with_current_node,
    "no bounds check on the step past": lambda: no_bounds_check,
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


def _first_past(strict: bool):  # the first path node past (or at) the reach
    def choose(down, reach):
        return int(np.flatnonzero(down > reach if strict else down >= reach)[0])
    return _rule(choose)


def counts_hops(dist, pred, goal, reach):  # reach read as a number of edges, not of blocks
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    path = _path(pred, goal)
    return path[min(int(reach), len(path) - 1)]


old_rule = _rule(_farthest)  # the farthest path node within reach (at least one hop): never steps past
closest_rule = _rule(lambda down, reach: int(np.argmin(np.abs(down - reach))))  # closest to reach, either side


def strictly_within(down, reach):  # "within reach" read as < reach: a node exactly reach down is left out
    within = np.flatnonzero(down < reach)
    k = int(within[-1]) if len(within) else 0
    return k + 1 if down[k] < reach / 2 and k + 1 < len(down) else k


def last_within_or_minus_one(down, reach):  # no node within reach leaves k at -1: ahead[-1] is the goal
    k = int(np.searchsorted(down, reach, side="right")) - 1
    return k + 1 if down[k] < reach / 2 and k + 1 < len(down) else k


def farthest_anywhere(dist, pred, goal, reach):  # the rule without the path: any node within reach
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


def from_goal(dist, pred, goal, reach):  # reach counted back from the goal (the chapter's tree is rooted there)
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    ahead = _path(pred, goal)[1:]
    rem = dist[goal] - dist[ahead]  # blocks left to the goal
    return ahead[int(np.flatnonzero(rem <= reach)[0])]


def never_goal(dist, pred, goal, reach):  # the goal left out of the candidates while it lies beyond reach
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return goal
    path = _path(pred, goal)
    before = path[1:-1] if len(path) > 2 else path[1:]
    return before[_hybrid(lambda r: r / 2)(dist[before], reach)]


def _no_goal_check(bounds: bool):  # the rule with no "goal within reach" branch
    def answer(dist, pred, goal, reach):
        if not np.isfinite(dist[goal]):
            return -1
        ahead = _path(pred, goal)[1:]
        down = dist[ahead]
        k = _farthest(down, reach)  # fails on an empty path: the agent at the goal
        if down[k] < reach / 2 and (k + 1 < len(ahead) or not bounds):
            k += 1  # without the bounds test: an IndexError past the goal
        return ahead[k]
    return answer


def unreachable_gives_goal(dist, pred, goal, reach):
    return goal if not np.isfinite(dist[goal]) else choose_subgoal_reference(dist, pred, goal, reach)


def returns_path(dist, pred, goal, reach):
    return _path(pred, goal) if np.isfinite(dist[goal]) else []


# each wrong answer, and words its hint must contain
MUTANTS = {
    "always the final goal": (always_goal, "you returned the final goal"),
    "the first node of the path (next hop)": (first_hop, "the first hop"),
    "the current node": (current_node, "the current node"),
    "the first node past the reach": (_first_past(strict=True), "first node beyond reach"),
    "the first node at or past the reach": (_first_past(strict=False), "first node beyond reach"),
    "stepping past when short of reach, not of reach / 2": (_rule(_hybrid(lambda r: r)), "first node beyond reach"),
    "stepping past at exactly reach / 2 too (<=)": (_rule(_hybrid(lambda r: r / 2, strict=False)),
                                                    "exactly reach / 2 down is kept"),
    "counts hops instead of blocks": (counts_hops, "not numbers of hops"),
    "OLD: the farthest path node within reach, never stepping past": (old_rule, "less than reach / 2: take the path"),
    "CLOSEST: the path node closest to reach": (closest_rule, "closer to reach"),
    "'within reach' read as strictly less than reach": (_rule(strictly_within), "counts as within reach"),
    "no node within reach leaves the index at -1 (the goal)": (_rule(last_within_or_minus_one),
                                                               "no path node lies within reach"),
    "farthest node within reach, off the path": (farthest_anywhere, "not on the shortest path"),
    "closest node to reach, off the path": (closest_anywhere, "not on the shortest path"),
    "reach counted back from the goal": (from_goal, "before the GOAL"),
    "the goal never chosen while beyond reach": (never_goal, "even though it lies beyond reach"),
    "no goal-within-reach branch (fails at the goal)": (_no_goal_check(bounds=True), "already stands at the goal"),
    "no goal-within-reach branch, no bounds check": (_no_goal_check(bounds=False), "no path node after the goal"),
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
                               [0.25, 2.0, 0.25, 2.0, 1.0, 0.5, 2.0],  # lumpy: tiny hops, then long ones
                               [0.25, 2.0, 2.0, 2.0],  # the checker's lumpy path
                               [0.25, 3.75, 1.0],  # a tiny hop, then one far beyond reach
                               [1.0, 2.5, 1.0],  # a node exactly reach / 2 down (reach 2)
                               [1.2, 1.4, 1.5, 1.5]])  # within reach and at least reach / 2, the next closer
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
