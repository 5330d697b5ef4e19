"""Reference answers for the checkers of chapter 08 (``lewm_mini.checks.ch08``), and the wrong answers the
checkers recognise to give a precise hint."""

from __future__ import annotations

import numpy as np
import torch
from scipy.sparse.csgraph import dijkstra

# ----------------------------------------------------------------------------- Exercise 8.1


def graph_distance_targets_reference(adj, sources) -> np.ndarray:
    return dijkstra(adj, directed=False, indices=np.asarray(sources))


def graph_distance_targets_wrong(adj, sources) -> dict[str, np.ndarray]:
    """Plausible wrong answers, by what they get wrong (the checker names the first one a learner's matches)."""
    src = np.asarray(sources)
    one_hop = np.full((len(src), adj.shape[0]), np.inf)
    sym = adj.maximum(adj.T).toarray()
    for k, s in enumerate(src):
        one_hop[k, sym[s] > 0] = sym[s][sym[s] > 0]
        one_hop[k, s] = 0.0
    return {"directed": dijkstra(adj, directed=True, indices=src),
            "unweighted": dijkstra(adj, directed=False, unweighted=True, indices=src),
            "sorted": dijkstra(adj, directed=False, indices=np.sort(src)),
            "one hop": one_hop,
            "doubled": dijkstra(adj + adj.T, directed=False, indices=src)}


# ----------------------------------------------------------------------------- Exercise 8.2


def distance_score_reference(head, z: torch.Tensor, target: torch.Tensor, sum_cost: bool) -> torch.Tensor:
    if sum_cost:
        return head(z, target[:, None, None]).mean(-1)
    return head(z[:, :, -1], target[:, None])


def distance_score_wrong(head, z: torch.Tensor, target: torch.Tensor, sum_cost: bool) -> dict[str, torch.Tensor]:
    """Plausible wrong answers that keep the shape (P, N), by what they get wrong."""
    from lewm_mini.distance import between

    last, every = head(z[:, :, -1], target[:, None]), head(z, target[:, None, None])
    out = {"first block": head(z[:, :, 0], target[:, None]),
           "squared latent": ((z[:, :, -1] - target[:, None]) ** 2).sum(-1),
           "squared head": (every.mean(-1) if sum_cost else last) ** 2,
           "ignores sum_cost": every.mean(-1) if not sum_cost else last,
           "min over blocks": every.min(-1).values}
    if sum_cost:
        out |= {"sum": every.sum(-1), "head of the mean latent": head(z.mean(2), target[:, None])}
    if z.shape[0] == z.shape[1]:  # (P, D) read as (1, P, D) lines the targets up with the candidates
        out["target axis"] = head(z, target[None, :, None]).mean(-1) if sum_cost else head(z[:, :, -1], target[None])
    if z.shape[-1] == head.embed[-1].out_features:  # one side embedded, the other raw: same width, no error
        zl = z if sum_cost else z[:, :, -1:]
        one = between(head.embed(zl), target[:, None, None])
        out["one side"] = one.mean(-1) if sum_cost else one[..., 0]
    return out
