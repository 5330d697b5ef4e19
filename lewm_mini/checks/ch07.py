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
    cases += [("unit steps, goal 6 blocks away, a path node exactly at reach 2", d, p, 6, 2.0),
              ("unit steps, goal exactly at reach", d, p, 3, 3.0),
              ("already at the goal", d, p, 0, 2.0)]
    d, p = tree_of([(0, 1, 4.0), (1, 2, 1.0), (2, 3, 1.0), (0, 4, 1.0)], 6, 0)
    cases += [("the goal cannot be reached", d, p, 5, 2.0)]
    d, p = tree_of(_line_and_branch(0.5, (1.0, 1.0)), 9, 0)
    cases += [("steps of half a block, reach 2.5", d, p, 6, 2.5)]
    d, p = tree_of([(0, 1, 1.8), (1, 2, 1.2), (2, 3, 1.5), (3, 4, 1.5)], 5, 0)
    cases += [("a node a little short of reach (1.8 blocks) is closer to reach 2 than the next (3.0)", d, p, 4, 2.0)]
    d, p = tree_of([(0, 1, 0.25), (1, 2, 2.0), (2, 3, 2.0), (3, 4, 2.0)], 5, 0)
    cases += [("a lumpy path: a quarter-block hop (a node showing where the agent already stands), then hops of "
               "2 blocks, reach 2", d, p, 4, 2.0),
              ("a lumpy path whose goal, 2.25 blocks away, is the node closest to reach 2", d, p, 2, 2.0)]
    d, p = tree_of(_line_and_branch(1.0, (1.0, 1.0)), 9, 0)
    cases += [("unit steps, reach 2.5: two path nodes equally close to it (2 and 3 blocks)", d, p, 6, 2.5)]
    d, p = tree_of(_line_and_branch(1.5, (1.0, 1.2)), 9, 0)
    cases += [("steps of 1.5 blocks, reach 2.5, a dead-end branch with a node closer to reach", d, p, 6, 2.5)]
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
    the path node about ``reach`` blocks down the path (``lewm_mini.graph.choose_waypoint``'s rule)."""

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
            if want == goal:
                raise CheckFailed(f"the goal itself, {dist[goal]:.2f} blocks away, is the path node whose distance is "
                                  f"closest to reach = {reach}: return it, even though it lies a little beyond "
                                  "reach" + info)
            if got == goal:
                raise CheckFailed(f"you returned the final goal, {dist[goal]:.2f} blocks away, far beyond reach = "
                                  f"{reach}: aim at the path node about `reach` blocks down the path" + info)
            if np.isclose(abs(dist[got] - reach), abs(dist[want] - reach)):
                raise CheckFailed(f"two path nodes, {dist[want]:.2f} and {dist[got]:.2f} blocks away, are equally "
                                  f"close to reach = {reach}: on a tie, take the nearer one (the earlier on the "
                                  "path)" + info)
            if got == _answers.choose_subgoal_wrong_from_goal(dist, pred, goal, reach):
                raise CheckFailed(f"you chose the node about `reach` blocks before the GOAL: dist counts blocks from "
                                  f"the current node (the tree's root), so the subgoal is the path node with dist "
                                  f"closest to reach = {reach}" + info)
            if dist[got] < dist[want]:
                after = path[path.index(got) + 1]
                if dist[after] > reach:  # got is the farthest path node within reach: the old rule
                    raise CheckFailed(f"that node is the farthest within reach = {reach}, but the next path node, "
                                      f"{dist[after]:.2f} blocks away, is closer to reach: choose the node whose "
                                      "distance is CLOSEST to reach, even a little beyond it. On a lumpy path the "
                                      "farthest node within reach can be a tiny hop away, where the agent already "
                                      "stands, and the agent would not move" + info)
                if got == path[1]:
                    raise CheckFailed("you returned the next node on the path (the first hop): go further, to the "
                                      "path node whose distance is closest to reach" + info)
                raise CheckFailed(f"that node is only {dist[got]:.2f} blocks down the path, and nodes farther along "
                                  f"are closer to reach = {reach}: compare distances dist[k], not numbers of hops "
                                  "(edges can be shorter or longer than one block)" + info)
            raise CheckFailed(f"that node is {dist[got]:.2f} blocks down the path, but the path node "
                              f"{dist[want]:.2f} blocks away is closer to reach = {reach}: choose the path node "
                              "whose distance is closest to reach, on either side of it (the node just short of "
                              "reach can be closer than the first one past it)" + info)

    return run_check("Exercise 7.1 choose_subgoal", test, strict)
