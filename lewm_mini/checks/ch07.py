"""Checkers for chapter 07 (planning round walls: choosing the subgoal from a shortest-path tree)."""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from . import CheckFailed, require, run_check
from .answers import ch07 as _answers  # reference answers, kept out of this module

# ----------------------------------------------------------------------------- a graph without a model


def position_graph(episodes, frameskip: int, n_episodes: int = 150):
    """A waypoint graph built from **true positions**, for exercises that need no trained model (07 and 08).

    Nodes: the frames of the first ``n_episodes`` episodes, one per action block. Edges, each stored once
    (row < column): frames 1 to 3 blocks apart in an episode (weight: the gap in blocks), and frames of
    different episodes less than 2 px apart (thinner than the wall, so none crosses it; weight: their distance
    over the median block step, at least 0.05). Returns xy (N, 2) float32, adj (N, N) sparse, ep (N,) the
    episode of each node, and block, the median block step in px.
    """
    from scipy.sparse import coo_matrix

    pos = episodes.pos[: min(n_episodes, len(episodes)), ::frameskip]  # (E, T, 2): one frame per block
    n_ep, n_t = pos.shape[:2]
    xy = pos.reshape(-1, 2).astype(np.float32)
    idx = np.arange(n_ep * n_t).reshape(n_ep, n_t)
    block = float(np.median(np.linalg.norm(np.diff(pos, axis=1), axis=-1)))
    rows, cols, w = [], [], []
    for gap in (1, 2, 3):
        rows.append(idx[:, :-gap].ravel()), cols.append(idx[:, gap:].ravel()), w.append(np.full(idx[:, gap:].size, gap))
    d = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
    ep = idx.ravel() // n_t
    r, c = np.nonzero((d < 2.0) & (np.arange(len(xy))[:, None] < np.arange(len(xy))) & (ep[:, None] != ep[None]))
    rows.append(r), cols.append(c), w.append(np.maximum(d[r, c] / block, 0.05))
    adj = coo_matrix((np.concatenate(w).astype(float), (np.concatenate(rows), np.concatenate(cols))),
                     shape=(len(xy), len(xy))).tocsr()
    return xy, adj, ep, block


# ----------------------------------------------------------------------------- Exercise 7.1


def path_from_tree(pred: np.ndarray, goal: int) -> list[int]:
    """Nodes from the tree's root to ``goal`` (walk the predecessors back from the goal, then reverse)."""
    path = [int(goal)]
    while pred[path[-1]] >= 0:
        path.append(int(pred[path[-1]]))
    return path[::-1]


def tree_of(edges: list[tuple[int, int, float]], n: int, root: int) -> tuple[np.ndarray, np.ndarray]:
    """dist (n,), pred (n,) of scipy's Dijkstra from ``root`` on an undirected weighted graph."""
    r, c, w = (np.array(x) for x in zip(*edges))
    adj = csr_matrix((w.astype(float), (r, c)), shape=(n, n))
    dist, pred = dijkstra(adj, directed=False, indices=root, return_predecessors=True)
    return dist, pred


def _line_and_branch(step: float, branch: tuple[float, float]) -> list[tuple[int, int, float]]:
    """Path 0-1-...-6 with edges of length ``step``, and a dead-end branch 0-7-8 with edge lengths ``branch``."""
    return [(i, i + 1, step) for i in range(6)] + [(0, 7, branch[0]), (7, 8, branch[1])]


def _random_tree(seed: int) -> tuple[np.ndarray, np.ndarray, int, float]:
    """A random geometric graph's Dijkstra tree from node 0, a reachable far goal and a reach."""
    rng = np.random.default_rng(seed)
    n = 60
    xy = rng.uniform(0, 10, (n, 2))
    d = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
    r, c = np.nonzero((d < 2.2) & (d > 0))
    dist, pred = tree_of(list(zip(r, c, d[r, c])), n, 0)
    ok = np.flatnonzero(np.isfinite(dist))
    goal = int(ok[np.argmax(dist[ok])])
    return dist, pred, goal, float(rng.uniform(1.5, 4.0))


def _cases() -> list[tuple[str, np.ndarray, np.ndarray, int, float]]:
    """(what it tests, dist, pred, goal, reach), in the order they are tried: each recognised mistake fails first
    on a case that shows it (the tests hold each mutant to its hint)."""
    cases = []
    d, p = tree_of(_line_and_branch(1.0, (1.0, 1.0)), 9, 0)
    cases += [("unit steps, goal 6 blocks away, reach 2.5", d, p, 6, 2.5),
              ("unit steps, goal 6 blocks away, a path node exactly at reach 2", d, p, 6, 2.0),
              ("unit steps, goal exactly at reach", d, p, 3, 3.0),
              ("unit steps, the goal 1 block away, within reach 3 and less than reach / 2 away", d, p, 1, 3.0),
              ("already at the goal", d, p, 0, 2.0)]
    d, p = tree_of([(0, 1, 4.0), (1, 2, 1.0), (2, 3, 1.0), (0, 4, 1.0)], 6, 0)
    cases += [("the goal cannot be reached", d, p, 5, 2.0)]
    d, p = tree_of(_line_and_branch(0.5, (1.0, 1.0)), 9, 0)
    cases += [("steps of half a block, reach 2.5", d, p, 6, 2.5)]
    d, p = tree_of([(0, 1, 1.8), (1, 2, 1.2), (2, 3, 1.5), (3, 4, 1.5)], 5, 0)
    cases += [("the farthest node within reach 2 lies 1.8 blocks down, the next 3.0", d, p, 4, 2.0)]
    d, p = tree_of(_line_and_branch(1.5, (1.0, 1.2)), 9, 0)
    cases += [("steps of 1.5 blocks, reach 2.5, a dead-end branch with a node 2.2 blocks away", d, p, 6, 2.5)]
    d, p = tree_of([(0, 1, 1.2), (1, 2, 1.4), (2, 3, 1.5), (3, 4, 1.5)], 5, 0)
    cases += [("the farthest node within reach 2 lies 1.2 blocks down (at least reach / 2), the next 2.6, closer "
               "to reach", d, p, 4, 2.0)]
    d, p = tree_of([(0, 1, 1.0), (1, 2, 2.5), (2, 3, 1.0)], 4, 0)
    cases += [("the farthest node within reach 2 lies exactly reach / 2 = 1 block down, the next 3.5", d, p, 3, 2.0)]
    d, p = tree_of([(0, 1, 0.25), (1, 2, 2.0), (2, 3, 2.0), (3, 4, 2.0)], 5, 0)
    cases += [("a lumpy path: a quarter-block hop (a node showing where the agent already stands), then hops of "
               "2 blocks, reach 2", d, p, 4, 2.0),
              ("a lumpy path whose goal, 2.25 blocks away, is the node after the quarter-block hop", d, p, 2, 2.0)]
    d, p = tree_of([(0, 1, 0.25), (1, 2, 3.75), (2, 3, 1.0)], 4, 0)
    cases += [("a quarter-block hop, then a hop of 3.75 blocks, reach 2", d, p, 3, 2.0)]
    d, p = tree_of([(0, 1, 4.0), (1, 2, 1.0), (2, 3, 1.0), (0, 4, 1.0)], 6, 0)
    cases += [("the first hop is longer than the reach", d, p, 3, 2.0)]
    d, p = tree_of([(3, 2, 1.0), (2, 5, 1.0), (5, 0, 1.0), (0, 1, 1.0), (1, 4, 1.0)], 6, 3)  # root 3, not 0
    cases += [("the tree's root is node 3", d, p, 4, 2.0)]
    for seed in range(4):
        d, p, g, reach = _random_tree(seed)
        cases.append((f"random graph {seed}", d, p, g, reach))
    return cases


def check_choose_subgoal(fn: Callable, strict: bool | None = None) -> bool:
    """fn(dist (N,), pred (N,), goal, reach) -> node: the subgoal for the node at the root of a shortest-path tree,
    the path node about ``reach`` blocks down the path (``lewm_mini.graph.choose_waypoint``'s rule): the farthest
    path node at most ``reach`` blocks down, or the node after it when that one lies less than ``reach / 2`` down."""

    def test() -> None:
        for what, dist, pred, goal, reach in _cases():
            try:
                out = fn(dist.copy(), pred.copy(), goal, reach)
            except NotImplementedError:
                raise
            except Exception as err:
                if dist[goal] == 0:  # the path is [goal]: nothing after the current node to choose from
                    raise CheckFailed(f"your code raised {type(err).__name__} ({err}) when the agent already stands "
                                      "at the goal (dist[goal] = 0, the path is just [goal]): when the goal is "
                                      f"within reach, return the goal itself (case: {what})") from err
                if dist[goal] <= reach:  # e.g. stepping past a short-progress node that is the goal: none after it
                    raise CheckFailed(f"your code raised {type(err).__name__} ({err}) when the goal is within reach "
                                      f"({dist[goal]:.2f} blocks away, reach = {reach}): there is no path node after "
                                      "the goal to step on to. When the goal is within reach, return the goal itself, "
                                      f"before choosing among the path's nodes (case: {what})") from err
                raise
            require(out is not None and np.ndim(out) == 0 and float(out) == int(out),
                    f"return one node index (an int), got {out!r}")
            got, want = int(out), _answers.choose_subgoal_reference(dist, pred, goal, reach)
            if got == want:
                continue
            ok = 0 <= got < len(dist)
            info = f" (case: {what}; you returned {got}, distance {dist[got] if ok else 'n/a'})"
            if want == -1:
                raise CheckFailed("the goal is unreachable (dist[goal] is inf): return -1" + info)
            if got == -1:
                raise CheckFailed(f"the goal can be reached (dist[goal] = {dist[goal]:.2f}): return -1 only when "
                                  "dist[goal] is inf" + info)
            require(ok, f"{got} is not a node: node indices run from 0 to {len(dist) - 1}" + info)
            path = path_from_tree(pred, goal)
            if dist[goal] <= reach:
                raise CheckFailed(f"the goal is {dist[goal]:.2f} blocks away, within reach = {reach} (at most reach "
                                  "counts): return the goal itself" + info)
            if got == path[0]:
                raise CheckFailed("you returned the current node (the tree's root): the agent is already there. "
                                  "Choose among the path's nodes after it (at least the first hop)" + info)
            if got not in path:
                raise CheckFailed("that node is not on the shortest path to the goal: walk the path back from the "
                                  "goal with pred, then choose among its nodes" + info)
            ahead = path[1:]
            down = dist[ahead]  # blocks down the path, increasing
            far = max(int(np.sum(down <= reach)) - 1, 0)  # the farthest path node within reach (or the first hop)
            i_got, i_want = ahead.index(got), ahead.index(want)
            from_goal = _answers.choose_subgoal_wrong_from_goal(dist, pred, goal, reach)
            from_goal_hint = ("you chose the node about `reach` blocks before the GOAL: dist counts blocks from the "
                              f"current node (the tree's root), so compare dist[k] with reach = {reach}, counting "
                              "from the start of the path")
            if i_got > i_want:  # too far down the path
                if down[0] > reach:
                    raise CheckFailed(f"no path node lies within reach = {reach} here: the first hop is already "
                                      f"{down[0]:.2f} blocks long. Then the subgoal is the first hop (if you looked "
                                      "for the last node within reach and found none, check what your index was "
                                      "left at)" + info)
                if i_want == far and i_got == far + 1:  # stepped past a node it should have kept
                    if np.isclose(down[far], reach / 2):
                        raise CheckFailed(f"the farthest node within reach lies exactly reach / 2 blocks down "
                                          f"({down[far]:.2f}): step past it only when it lies LESS than reach / 2 down "
                                          "(strictly); a node exactly reach / 2 down is kept" + info)
                    if abs(down[i_got] - reach) < abs(down[far] - reach):
                        raise CheckFailed(f"that node, {down[i_got]:.2f} blocks down, is closer to reach = {reach} "
                                          f"than the farthest node within reach ({down[far]:.2f}), but it lies "
                                          "beyond reach. Keep the farthest node within reach unless it lies less "
                                          "than reach / 2 down the path: CEM's short horizon can get there, while a "
                                          "node beyond reach may be too far" + info)
                    raise CheckFailed(f"you went on to the first node beyond reach ({down[i_got]:.2f} blocks down), "
                                      f"past the farthest node within reach ({down[far]:.2f} blocks down). Step past "
                                      "that node only when it lies less than reach / 2 down the path (short "
                                      "progress); otherwise it is the subgoal" + info)
                if got == from_goal:
                    raise CheckFailed(from_goal_hint + info)
                if got == goal:
                    raise CheckFailed(f"you returned the final goal, {dist[goal]:.2f} blocks away, far beyond reach = "
                                      f"{reach}: aim at the path node about `reach` blocks down the path" + info)
                raise CheckFailed(f"that node is {dist[got]:.2f} blocks down the path, beyond reach = {reach}: the "
                                  "subgoal is the farthest path node within reach (or the node after it when that "
                                  "one lies less than reach / 2 down); compare distances dist[k], not numbers of "
                                  "hops" + info)
            # not far enough down the path
            if i_want == far + 1 and i_got == far:  # kept a short-progress node
                if want == goal:
                    raise CheckFailed(f"the farthest node within reach lies only {down[far]:.2f} blocks down, less "
                                      "than reach / 2, and the node after it is the goal itself "
                                      f"({dist[goal]:.2f} blocks away): return it, even though it lies beyond "
                                      "reach" + info)
                raise CheckFailed(f"that node is the farthest within reach = {reach}, but it lies only "
                                  f"{down[far]:.2f} blocks down the path, less than reach / 2: take the path node "
                                  "after it. On a lumpy path such a node can show the agent where it already "
                                  "stands; aiming there, the agent would not move" + info)
            if i_want == far and i_got == far - 1 and np.isclose(down[far], reach):
                raise CheckFailed(f"the path node {down[far]:.2f} blocks down, exactly reach = {reach}, counts as "
                                  "within reach (at most reach): it is the farthest node within reach" + info)
            if got == from_goal:
                raise CheckFailed(from_goal_hint + info)
            if got == path[1]:
                raise CheckFailed("you returned the next node on the path (the first hop): go further, to the "
                                  "farthest path node within reach" + info)
            raise CheckFailed(f"that node is only {dist[got]:.2f} blocks down the path, and nodes farther along "
                              f"are still within reach = {reach}: compare distances dist[k], not numbers of hops "
                              "(edges can be shorter or longer than one block)" + info)

    return run_check("Exercise 7.1 choose_subgoal", test, strict)
