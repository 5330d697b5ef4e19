"""Chapter 08 checkers accept the reference solutions and reject plausible wrong answers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from scipy.sparse.csgraph import dijkstra, shortest_path

from reference import accepts, solutions_of

from lewm_mini.checks.answers.ch08 import distance_score_reference, graph_distance_targets_reference
from lewm_mini.checks.ch08 import check_distance_score, check_graph_distance_targets
from lewm_mini.distance import DistanceHead, between

STEM = "08_distance_in_time"


solution = solutions_of(STEM)


# ----------------------------------------------------------------------------- Exercise 8.1


def directed(adj, sources):  # edges stored one way are walked one way only
    return dijkstra(adj, directed=True, indices=sources)


def default_shortest_path(adj, sources):  # scipy's default is directed=True as well
    return shortest_path(adj, indices=sources)


def hop_counts(adj, sources):
    return dijkstra(adj, directed=False, unweighted=True, indices=sources)


def sorted_sources(adj, sources):
    return dijkstra(adj, directed=False, indices=np.sort(sources))


def with_predecessors(adj, sources):
    return dijkstra(adj, directed=False, indices=sources, return_predecessors=True)


def predecessors_only(adj, sources):
    return dijkstra(adj, directed=False, indices=sources, return_predecessors=True)[1]


def one_hop(adj, sources):  # the direct edge's weight: how close two nodes look, not how far apart they are
    sym = adj.maximum(adj.T).toarray()
    out = np.where(sym[sources] > 0, sym[sources], np.inf)
    out[np.arange(len(sources)), sources] = 0.0
    return out


def near_only(adj, sources):  # the search capped at 6 blocks, as if only near pairs mattered
    return dijkstra(adj, directed=False, indices=sources, limit=6.0)


def inf_as_zero(adj, sources):
    return np.nan_to_num(dijkstra(adj, directed=False, indices=sources), posinf=0.0)


def transposed(adj, sources):
    return dijkstra(adj, directed=False, indices=sources).T


def all_pairs(adj, sources):
    return dijkstra(adj, directed=False)


def doubled(adj, sources):  # symmetrised by adding: edges stored in both triangles count twice
    return dijkstra(adj + adj.T, directed=False, indices=sources)


def nearest_source(adj, sources):  # one row: the distance to the nearest source
    return dijkstra(adj, directed=False, indices=sources, min_only=True)


TARGET_MUTANTS = {
    "directed=True": directed,
    "shortest_path with its default directed=True": default_shortest_path,
    "unweighted (hop counts)": hop_counts,
    "sources sorted": sorted_sources,
    "returns (distances, predecessors)": with_predecessors,
    "returns the predecessors": predecessors_only,
    "the direct edge only (one hop)": one_hop,
    "search capped at 6 blocks": near_only,
    "unreachable as 0 instead of inf": inf_as_zero,
    "transposed (N, S)": transposed,
    "every node to every node": all_pairs,
    "distance to the nearest source (min_only)": nearest_source,
    "adj + adj.T (doubles edges stored twice)": doubled,
}


def test_doubled_weights_get_their_own_hint(capsys):
    check_graph_distance_targets(doubled, strict=False)
    assert "doubles" in capsys.readouterr().out


def test_targets_accept_reference():
    assert accepts(check_graph_distance_targets, solution("graph_distance_targets"))
    assert accepts(check_graph_distance_targets, graph_distance_targets_reference)


@pytest.mark.parametrize("name", TARGET_MUTANTS)
def test_targets_reject_mutant(name):
    assert not accepts(check_graph_distance_targets, TARGET_MUTANTS[name])


def test_targets_match_the_package():
    """graph_targets (lewm_mini.distance) is the reference on the sources it draws."""
    from scipy.sparse import csr_matrix

    from lewm_mini.distance import graph_targets
    from lewm_mini.graph import LatentGraph

    rng = np.random.default_rng(0)
    n = 40
    r, c = rng.integers(0, n, (2, 120))
    adj = csr_matrix((rng.uniform(0.1, 3, 120), (np.minimum(r, c), np.maximum(r, c))), shape=(n, n))
    g = LatentGraph(torch.zeros(n, 2), np.zeros((n, 2)), np.zeros(n, int), adj, csr_matrix((n, n)), 1.0, 0.5)
    dist, src = graph_targets(g, 10, seed=3)
    np.testing.assert_allclose(graph_distance_targets_reference(adj, src), dist, rtol=1e-6)


# ----------------------------------------------------------------------------- Exercise 8.2


def _last(z):
    return z[:, :, -1]


def first_block(head, z, target, sum_cost):
    return head(z, target[:, None, None]).mean(-1) if sum_cost else head(z[:, :, 0], target[:, None])


def squared_latent(head, z, target, sum_cost):
    d = ((z - target[:, None, None]) ** 2).sum(-1)
    return d.mean(-1) if sum_cost else d[:, :, -1]


def sum_not_mean(head, z, target, sum_cost):
    return head(z, target[:, None, None]).sum(-1) if sum_cost else head(_last(z), target[:, None])


def always_last(head, z, target, sum_cost):
    return head(_last(z), target[:, None])


def always_mean(head, z, target, sum_cost):
    return head(z, target[:, None, None]).mean(-1)


def wrong_target_axis(head, z, target, sum_cost):
    return head(z, target[None, :, None]).mean(-1) if sum_cost else head(_last(z), target[None])


def one_side_embedded(head, z, target, sum_cost):
    d = between(head.embed(z), target[:, None, None])
    return d.mean(-1) if sum_cost else d[:, :, -1]


def squared_head(head, z, target, sum_cost):
    return distance_score_reference(head, z, target, sum_cost) ** 2


def head_of_mean_latent(head, z, target, sum_cost):
    return head(z.mean(2), target[:, None]) if sum_cost else head(_last(z), target[:, None])


def transposed_score(head, z, target, sum_cost):
    return distance_score_reference(head, z, target, sum_cost).T


def mean_over_candidates(head, z, target, sum_cost):
    return head(z, target[:, None, None]).mean(1)


def every_block(head, z, target, sum_cost):  # forgets to reduce over the blocks
    return head(z, target[:, None, None])


def last_on_latent_axis(head, z, target, sum_cost):  # z[..., -1] indexes D, not H: the head raises
    return head(z, target[:, None, None]).mean(-1) if sum_cost else head(z[..., -1], target[:, None])


def min_over_blocks(head, z, target, sum_cost):
    return head(z, target[:, None, None]).min(-1).values


SCORE_MUTANTS = {
    "the first block instead of the last": first_block,
    "the squared latent distance (no head)": squared_latent,
    "the sum over blocks instead of the mean": sum_not_mean,
    "ignores sum_cost (always the last block)": always_last,
    "ignores sum_cost (always the mean)": always_mean,
    "target broadcast over the candidates' axis": wrong_target_axis,
    "only one side embedded": one_side_embedded,
    "the squared head distance": squared_head,
    "the head of the mean latent": head_of_mean_latent,
    "transposed (N, P)": transposed_score,
    "the mean over candidates": mean_over_candidates,
    "no reduction over the blocks": every_block,
    "z[..., -1]: the latent axis, not the blocks' (raises)": last_on_latent_axis,
    "the minimum over blocks": min_over_blocks,
}


def test_score_accepts_reference():
    assert accepts(check_distance_score, solution("distance_score"))
    assert accepts(check_distance_score, distance_score_reference)


@pytest.mark.parametrize("name", SCORE_MUTANTS)
def test_score_rejects_mutant(name):
    assert not accepts(check_distance_score, SCORE_MUTANTS[name])


@pytest.mark.parametrize("fn,words", [(last_on_latent_axis, "z[:, :, -1]"), (min_over_blocks, "smallest")])
def test_score_hints(fn, words, capsys):
    """A crash inside the learner's function and the minimum over blocks each get their own hint."""
    assert not accepts(check_distance_score, fn)
    out = capsys.readouterr().out
    assert "FAIL. Hint:" in out and words in out, out


def test_score_matches_the_planner():
    """The reference is lewm_mini.planning.DistancePlanner.goal_score."""
    from lewm_mini.config import get_config
    from lewm_mini.planning import DistancePlanner

    head = DistanceHead(6, width=16, out=4)
    z, target = torch.randn(3, 5, 2, 6), torch.randn(3, 6)
    planner = DistancePlanner.__new__(DistancePlanner)  # only the scoring: no model needed
    planner.head = head
    for sum_cost in (False, True):
        planner.cfg = dataclasses.replace(get_config("ci").plan, sum_cost=sum_cost)
        with torch.inference_mode():
            want = distance_score_reference(head, z, target, sum_cost)
            torch.testing.assert_close(planner.goal_score(target)(z), want)


# ----------------------------------------------------------------------------- both


@pytest.mark.parametrize("check,name", [(check_graph_distance_targets, "graph_distance_targets"),
                                        (check_distance_score, "distance_score")])
def test_stub_and_strict(check, name, capsys):
    def stub(*args):
        raise NotImplementedError(name)

    assert not accepts(check, stub)
    assert "not implemented" in capsys.readouterr().out
    with pytest.raises(AssertionError):
        check(stub, strict=True)
    assert check(solution(name), strict=True)
