"""Planning round walls: a graph over latents of training frames, and latent waypoints for CEM.

The planning cost (the squared distance between the last imagined latent and the goal latent) is
informative only near the goal: a goal in the other room gives CEM nothing to follow. Search on the
Replay Buffer (Eysenbach et al., 2019) supplies the missing long-range part with a graph:

- nodes: latents of frames from the training episodes, one every action block;
- episode edges: frames of the same episode up to ``max_gap`` blocks apart (transitions that really
  happened), weighted by their distance in blocks;
- latent edges: pairs closer in latent space than a tight threshold, a low quantile of the
  one-block latent steps, weighted by their latent distance in units of the median block step.

At each replan the planner snaps the current and goal latents to their nearest nodes, follows the
shortest path (scipy.sparse.csgraph) and hands CEM a waypoint about ``reach`` blocks down the path,
or the real goal once the path says it is within reach. True positions are stored beside the nodes
for pictures and diagnostics only; planning never reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra

from .data import Episodes
from .probe import encode_frames


@dataclass
class LatentGraph:
    z: torch.Tensor  # (N, D) node latents
    pos: np.ndarray  # (N, 2) true agent positions (pictures and diagnostics only)
    episode: np.ndarray  # (N,) episode index of each node
    adj: csr_matrix  # (N, N) symmetric edge weights, in action blocks
    latent_edge: csr_matrix  # (N, N) 1 where an edge came from latent proximity (not from an episode)
    block_step: float  # median latent distance between frames one block apart
    threshold: float  # latent-edge threshold

    @property
    def edges(self) -> np.ndarray:
        """(E, 2) node pairs (i < j) of every edge."""
        a = self.adj.tocoo()
        keep = a.row < a.col
        return np.stack([a.row[keep], a.col[keep]], 1)



def build_graph(model: torch.nn.Module, episodes: Episodes, frameskip: int, n_episodes: int = 250,
                max_gap: int = 3, quantile: float = 0.3, latent_edges: bool = True, seed: int = 0) -> LatentGraph:
    """Encode one frame per action block of ``n_episodes`` training episodes and connect them.

    Returns a ``LatentGraph`` with E episode edges (gaps 1..max_gap blocks) and, when
    ``latent_edges``, every pair closer than the ``quantile`` of the one-block latent steps.
    """
    rng = np.random.default_rng(seed)
    eps = np.sort(rng.choice(len(episodes), min(n_episodes, len(episodes)), replace=False))
    t = np.arange(0, episodes.frames.shape[1], frameskip)  # one frame per block
    frames = np.asarray(episodes.frames[eps[:, None], t[None]])  # (E, T, H, W, 3)
    n_ep, n_t = frames.shape[:2]
    z = encode_frames(model, frames.reshape(-1, *frames.shape[2:]))  # (E * T, D)
    idx = np.arange(n_ep * n_t).reshape(n_ep, n_t)
    zz = z.view(n_ep, n_t, -1)
    step = (zz[:, 1:] - zz[:, :-1]).norm(dim=-1).flatten()
    block_step = float(step.median())
    threshold = float(step.quantile(quantile))

    rows, cols, w = [], [], []
    for gap in range(1, max_gap + 1):  # episode edges: these transitions really happened
        rows.append(idx[:, :-gap].ravel()), cols.append(idx[:, gap:].ravel())
        w.append(np.full(rows[-1].size, float(gap)))
    n_episode_edges = sum(r.size for r in rows)
    if latent_edges:
        for i in range(0, len(z), 2048):  # pairwise distances in chunks: (chunk, N)
            d = torch.cdist(z[i : i + 2048], z)
            r, c = torch.nonzero(d < threshold, as_tuple=True)
            keep = (r + i) < c
            rows.append((r[keep] + i).cpu().numpy()), cols.append(c[keep].cpu().numpy())
            w.append((d[r[keep], c[keep]] / block_step).clamp_min(0.05).cpu().numpy())
    r, c, wt = np.concatenate(rows), np.concatenate(cols), np.concatenate(w).astype(np.float64)
    is_latent = np.arange(r.size) >= n_episode_edges
    n = len(z)
    # Duplicated pairs (an episode pair that is also close in latent space) keep the smaller weight.
    adj = _min_duplicates(r, c, wt, n)
    adj = adj.maximum(adj.T)
    lat = coo_matrix((np.ones(is_latent.sum()), (r[is_latent], c[is_latent])), shape=(n, n)).tocsr()
    lat = ((lat + lat.T) > 0).astype(np.float32)
    pos = np.asarray(episodes.pos[eps[:, None], t[None]]).reshape(-1, 2)
    return LatentGraph(z, pos, np.repeat(eps, n_t), adj, lat, block_step, threshold)


def _min_duplicates(r: np.ndarray, c: np.ndarray, w: np.ndarray, n: int) -> csr_matrix:
    """A sparse (n, n) matrix with one entry per (r, c) pair: the smallest of its weights."""
    order = np.lexsort((w, c, r))
    r, c, w = r[order], c[order], w[order]
    first = np.ones(r.size, bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    return coo_matrix((w[first], (r[first], c[first])), shape=(n, n)).tocsr()


def snap(graph: LatentGraph, z: torch.Tensor) -> np.ndarray:
    """Nearest node of each latent (P, D) -> (P,) node indices."""
    return torch.cdist(z.to(graph.z.dtype), graph.z).argmin(1).cpu().numpy()


@dataclass
class GoalTree:
    """Shortest paths from every node to one goal node: ``dist`` (N,) in blocks, ``next`` (N,) hop."""

    goal: int
    dist: np.ndarray
    next: np.ndarray


def goal_trees(graph: LatentGraph, goal_nodes: np.ndarray) -> list[GoalTree]:
    """One Dijkstra per distinct goal node on the undirected graph (predecessors point to the goal)."""
    uniq, inv = np.unique(goal_nodes, return_inverse=True)
    dist, pred = dijkstra(graph.adj, directed=False, indices=uniq, return_predecessors=True)
    trees = [GoalTree(int(g), dist[k], pred[k]) for k, g in enumerate(uniq)]
    return [trees[k] for k in inv]


def path_to_goal(tree: GoalTree, node: int) -> list[int]:
    """Nodes from ``node`` to the goal along the shortest path (empty when unreachable)."""
    if not np.isfinite(tree.dist[node]):
        return []
    path = [node]
    while path[-1] != tree.goal:
        path.append(int(tree.next[path[-1]]))
    return path


def choose_waypoint(tree: GoalTree, node: int, reach: float) -> int | None:
    """The node about ``reach`` blocks down the path to the goal: the farthest path node at most ``reach``
    blocks down, or, when that one lies less than ``reach / 2`` blocks down, the path node after it.

    Returns None when the goal itself is within reach (plan to the real goal) or unreachable.

    Why the second case: paths are lumpy. A latent edge of a quarter block leads to a node where the agent
    already stands, then an episode edge of 2 blocks leads on; the farthest node within reach 2 is the first,
    so CEM would aim where the agent stands, the agent would stay, and the next replan would pick the same
    node (60% of the replans of the graph planner's misses on the cpu profile before this rule; README "The
    graph planner's misses"). Taking the node after it guarantees progress.
    """
    if not np.isfinite(tree.dist[node]) or tree.dist[node] <= reach:
        return None
    path = path_to_goal(tree, node)[1:]  # at least one hop, even a long one
    down = tree.dist[node] - tree.dist[np.array(path)]  # (L,) blocks down the path, increasing
    k = max(int(np.searchsorted(down, reach, side="right")) - 1, 0)  # the farthest within reach (or the first)
    if down[k] < reach / 2 and k + 1 < len(path):
        k += 1
    return int(path[k])


# ----------------------------------------------------------------------------- diagnostics


def illegal_edges(graph: LatentGraph, geo, margin: float = 2.0) -> np.ndarray:
    """(E,) True for edges whose endpoints sit in different rooms and neither is near the door.

    Such an edge is a shortcut through the wall: a path using it cannot be executed.
    """
    from .world import in_doorway, room_of

    e = graph.edges
    p, q = graph.pos[e[:, 0]], graph.pos[e[:, 1]]
    near_door = lambda x: in_doorway(x, geo, dx=margin + geo.speed, dy=margin)  # noqa: E731
    return (room_of(p, geo) != room_of(q, geo)) & ~(near_door(p) | near_door(q))


def graph_distances(graph: LatentGraph, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Shortest-path distance in blocks between node pairs src[i], dst[i] (inf when unconnected)."""
    uniq, inv = np.unique(src, return_inverse=True)
    dist = dijkstra(graph.adj, directed=False, indices=uniq)
    return dist[inv, dst]
