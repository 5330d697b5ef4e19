"""Checkers for chapter 08 (a distance in time: the head's training targets, and the cost that plugs it into CEM)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from scipy.sparse import csr_matrix

from . import CheckFailed, as_tensor, require, run_check
from .answers import ch08 as _answers  # reference answers, kept out of this module

# ----------------------------------------------------------------------------- Exercise 8.1


def one_triangle(edges: list[tuple[int, int, float]], n: int, lower: bool = False) -> csr_matrix:
    """An undirected weighted graph stored as a sparse (n, n) matrix holding each edge once (i < j, or i > j)."""
    r, c, w = (np.array(x) for x in zip(*edges))
    r, c = np.minimum(r, c), np.maximum(r, c)
    if lower:
        r, c = c, r
    return csr_matrix((w.astype(float), (r, c)), shape=(n, n))


def _geometric(seed: int, n: int = 50) -> csr_matrix:
    """A random geometric graph, both triangles stored, with a few nodes left unconnected."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 10, (n, 2))
    d = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
    r, c = np.nonzero((d < 2.0) & (d > 0))
    return csr_matrix((d[r, c], (r, c)), shape=(n, n))


def _cases_targets() -> list[tuple[str, csr_matrix, object]]:
    """(what it tests, adjacency, sources)."""
    # A chain 0-1-2-3-4 (5 blocks end to end) with a direct but long edge 0-4 (10 blocks); 5-6 apart from it.
    edges = [(0, 1, 1.0), (1, 2, 2.0), (2, 3, 0.5), (3, 4, 1.5), (0, 4, 10.0), (5, 6, 1.0)]
    cases = [("a chain stored once per edge (row < column), sources [4, 0, 5]", one_triangle(edges, 7),
              np.array([4, 0, 5])),
             ("the same graph stored the other way (row > column), sources [2, 6]",
              one_triangle(edges, 7, lower=True), np.array([2, 6])),
             ("one source, given as a list", one_triangle(edges, 7), [3])]
    for seed in range(3):
        cases.append((f"random graph {seed}, both triangles stored", _geometric(seed),
                      np.random.default_rng(seed).choice(50, 6, replace=False)))
    return cases


def check_graph_distance_targets(fn: Callable, strict: bool | None = None) -> bool:
    """fn(adj (N, N) sparse, sources (S,)) -> (S, N): shortest-path distances in blocks on the undirected graph."""

    def test() -> None:
        for what, adj, sources in _cases_targets():
            out = fn(adj.copy(), list(sources) if isinstance(sources, list) else sources.copy())
            info = f" (case: {what})"
            if isinstance(out, tuple):
                raise CheckFailed("return the distances only, one array (S, N): with return_predecessors=True "
                                  "scipy returns (distances, predecessors)" + info)
            if isinstance(out, torch.Tensor):
                out = out.detach().cpu().numpy()
            got = np.asarray(out)
            want = _answers.graph_distance_targets_reference(adj, sources)
            s, n = want.shape
            if got.shape != (s, n):
                hint = ("that is (N, S): one row per source, one column per node" if got.shape == (n, s) and s != n
                        else "that is every node to every node: pass indices=sources" if got.shape == (n, n)
                        else "one row per source, in the order given" if got.ndim == 1
                        else "one row per source, one column per node")
                raise CheckFailed(f"return an array of shape (S, N) = {(s, n)}, got {got.shape}: {hint}" + info)
            if np.issubdtype(got.dtype, np.integer):
                raise CheckFailed("these are integers: node indices (predecessors) or hop counts? Return the "
                                  "distances in blocks, the sums of edge weights (floats)" + info)
            got = got.astype(float)
            lost = np.isinf(want) & np.isfinite(got)
            if lost.any():
                raise CheckFailed("some nodes cannot be reached from a source (another component): their distance "
                                  "is inf, as scipy returns it; keep it (train_distance drops such pairs with "
                                  "isfinite)" + info)
            if np.array_equal(np.isinf(got), np.isinf(want)) and np.allclose(got, want, rtol=1e-5, atol=1e-6):
                continue
            wrong = _answers.graph_distance_targets_wrong(adj, sources)
            for name, alt in wrong.items():
                if np.array_equal(np.isinf(got), np.isinf(alt)) and np.allclose(np.nan_to_num(got, posinf=-1),
                                                                               np.nan_to_num(alt, posinf=-1)):
                    raise CheckFailed({
                        "directed": "edges stored once (row < column) were walked only one way: the graph is "
                                    "undirected, every edge can be walked both ways (directed=False)",
                        "unweighted": "these are hop counts: an edge weighs its length in blocks, so a path of "
                                      "short edges can beat one long edge; use the weights (no unweighted=True)",
                        "sorted": "row k must belong to sources[k], in the order given: you sorted (or "
                                  "reordered) the sources",
                        "one hop": "that is only the direct edge (one hop); the distance in time is the length "
                                   "of the shortest PATH, summed over its edges",
                        "doubled": "where both triangles are stored, adding the matrix to its transpose doubles "
                                   "those edges' weights; make it symmetric without adding (directed=False does it, "
                                   "or adj.maximum(adj.T))",
                    }[name] + info)
            if (np.isfinite(want) & np.isinf(got)).any():
                raise CheckFailed("you return inf for nodes that can be reached: do not cap the search (no limit=), "
                                  "and walk every edge both ways" + info)
            raise CheckFailed("the distances differ from the shortest paths: row k holds, for every node, the "
                              "smallest sum of edge weights on a path from sources[k] (Dijkstra)" + info)

    return run_check("Exercise 8.1 graph_distance_targets", test, strict)


# ----------------------------------------------------------------------------- Exercise 8.2


def _cases_score() -> list[tuple[str, object, torch.Tensor, torch.Tensor, bool]]:
    """(what it tests, head, imagined latents z (P, N, H, D), targets (P, D), sum_cost)."""
    from lewm_mini.distance import DistanceHead

    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    cases = []
    for p, n, h, d, e in ((4, 4, 3, 6, 6), (3, 5, 4, 6, 5), (2, 7, 2, 5, 3)):
        head = DistanceHead(d, width=16, out=e).eval()
        z, target = torch.randn(p, n, h, d, generator=g), torch.randn(p, d, generator=g)
        for sum_cost in (False, True):
            cases.append((f"P={p}, N={n}, H={h}, D={d}, sum_cost={sum_cost}", head, z, target, sum_cost))
    return cases


HINTS_82 = {
    "first block": "you scored the FIRST imagined block: score the last one, z[:, :, -1], where the plan ends",
    "squared latent": "that is LeWM's squared latent distance: score with the head, head(z, g), the distance in "
                      "action blocks",
    "squared head": "you squared the head's distance: the score is the distance itself (blocks), not its square",
    "ignores sum_cost": "read sum_cost: False scores the last imagined block only, True the mean over all H blocks",
    "sum": "the sum over the H blocks grows with the horizon: take the mean over the blocks",
    "head of the mean latent": "you averaged the latents, then measured: measure every imagined block's distance "
                               "to the target, then average the distances",
    "target axis": "target (P, D) must line up with the problems (axis 0): target[:, None] (or [:, None, None]), "
                   "not target[None], which lines it up with the candidates",
    "one side": "embed both sides: the head's distance is ||e(z) - e(g)||, and head(z, g) embeds both for you",
    "min over blocks": "you took the smallest distance over the H blocks: score the last block (or, with sum_cost, "
                       "the mean over the blocks); the minimum rewards a plan that passes the goal and moves on",
}


def _call_score(fn: Callable, head, z: torch.Tensor, target: torch.Tensor, sum_cost: bool, info: str):
    """fn's answer; an error from inside it (a shape mismatch, a bad index) fails with a hint on the shapes."""
    try:
        return fn(head, z.clone(), target.clone(), sum_cost)
    except NotImplementedError:
        raise
    except (RuntimeError, IndexError, ValueError) as err:
        p, n, h, d = z.shape
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise CheckFailed(
            f"your code raised {type(err).__name__} ({first}). The shapes: z is (P, N, H, D) = {(p, n, h, d)}, "
            f"target (P, D) = {(p, d)}, and the head reads latents on the LAST axis (..., D). The last imagined "
            "block is z[:, :, -1], shape (P, N, D); z[..., -1] indexes the latent axis and gives (P, N, H). Give "
            "target the axes it lacks (target[:, None] or target[:, None, None]) to broadcast" + info) from err


def check_distance_score(fn: Callable, strict: bool | None = None) -> bool:
    """fn(head, z (P, N, H, D), target (P, D), sum_cost) -> (P, N): the learned distance of each candidate plan."""

    def test() -> None:
        for what, head, z, target, sum_cost in _cases_score():
            info = f" (case: {what})"
            with torch.inference_mode():
                out = as_tensor(_call_score(fn, head, z, target, sum_cost, info), "distance_score")
                want = _answers.distance_score_reference(head, z, target, sum_cost)
                p, n, h = z.shape[:3]
                if tuple(out.shape) != (p, n):
                    hint = ("that is (N, P): one row per problem" if tuple(out.shape) == (n, p) else
                            "reduce over the blocks: the last one, or the mean over H with sum_cost"
                            if tuple(out.shape) == (p, n, h) else
                            "you reduced over the candidates (axis 1): reduce over the blocks (axis 2)"
                            if tuple(out.shape) == (p, h) else
                            "return a distance per candidate, not an embedding" if out.ndim == 3 else
                            "one score per problem and candidate")
                    raise CheckFailed(f"return a tensor of shape (P, N) = {(p, n)}, got {tuple(out.shape)}: {hint}"
                                      + info)
                if torch.allclose(out, want, rtol=1e-4, atol=1e-5):
                    continue
                if p == n and torch.allclose(out, want.T, rtol=1e-4, atol=1e-5):
                    raise CheckFailed("rows and columns are swapped: row p must hold problem p's N candidates" + info)
                for name, alt in _answers.distance_score_wrong(head, z, target, sum_cost).items():
                    if torch.allclose(out, alt, rtol=1e-4, atol=1e-5):
                        raise CheckFailed(HINTS_82[name] + info)
                require(False, "each candidate's score is the head's distance from its imagined latents to its "
                        "problem's target: the last block's, or with sum_cost the mean over the H blocks" + info)

    return run_check("Exercise 8.2 distance_score", test, strict)
