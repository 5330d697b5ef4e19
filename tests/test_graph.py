"""The graph planner: graph construction, shortest paths, waypoints, and planning with it."""

import numpy as np
import pytest
import torch
from scipy.sparse import csr_matrix

from lewm_mini.config import get_config
from lewm_mini.data import load_or_collect
from lewm_mini.evaluate import Planner, evaluate
from lewm_mini.planning import planner_parts
from lewm_mini.graph import (LatentGraph, build_graph, choose_waypoint, goal_trees, graph_distances,
                             illegal_edges, path_to_goal, snap)
from lewm_mini.notebook import trained_model
from lewm_mini.world import Geometry, geodesic_distance


def chain_graph(n: int = 6) -> LatentGraph:
    """Nodes 0-1-...-(n-1) on a line, one block apart."""
    r, c = np.arange(n - 1), np.arange(1, n)
    adj = csr_matrix((np.ones(n - 1), (r, c)), shape=(n, n))
    adj = adj.maximum(adj.T)
    z = torch.arange(n, dtype=torch.float32)[:, None].repeat(1, 3)
    return LatentGraph(z, np.zeros((n, 2)), np.zeros(n, int), adj, csr_matrix((n, n)), 1.0, 0.5)


def test_waypoints_walk_down_the_shortest_path():
    g = chain_graph(6)
    (tree,) = goal_trees(g, np.array([5]))
    assert tree.dist.tolist() == [5, 4, 3, 2, 1, 0]
    assert path_to_goal(tree, 1) == [1, 2, 3, 4, 5]
    assert choose_waypoint(tree, 0, reach=2) == 2  # two blocks down the path, not the goal, not the next node
    assert choose_waypoint(tree, 3, reach=2) is None  # the goal is within reach: aim at it directly
    assert snap(g, torch.full((1, 3), 3.2)).tolist() == [3]


def test_waypoint_is_at_least_one_hop_and_unreachable_goals_give_none():
    adj = csr_matrix((np.array([5.0, 5.0]), (np.array([0, 1]), np.array([1, 0]))), shape=(3, 3))
    g = LatentGraph(torch.zeros(3, 2), np.zeros((3, 2)), np.zeros(3, int), adj, csr_matrix((3, 3)), 1.0, 0.5)
    tree = goal_trees(g, np.array([1]))[0]
    assert choose_waypoint(tree, 0, reach=2) == 1  # the next hop is 5 blocks away: still take it
    assert choose_waypoint(tree, 2, reach=2) is None and path_to_goal(tree, 2) == []


def test_geodesic_distance_goes_round_the_wall():
    geo = Geometry(64)
    start = np.array([20.0, 50.0])
    d = geodesic_distance(start, np.array([[20.0, 50.0], [45.0, 50.0], [20.0, 30.0]]), geo)
    assert d[0] == pytest.approx(0, abs=1.5)
    assert d[2] == pytest.approx(20, abs=2)
    straight = 25.0
    assert d[1] > 2 * straight  # through the door, not through the wall


@pytest.fixture(scope="module")
def ci_model():
    cfg = get_config("ci")
    model, stats = trained_model(cfg, progress=False)
    return cfg, model, stats


def test_build_graph_connects_episodes_and_close_latents(ci_model):
    cfg, model, _ = ci_model
    eps = load_or_collect(cfg.data, "train", progress=False)
    g = build_graph(model, eps, cfg.model.frameskip, n_episodes=10, max_gap=2)
    per_ep = len(range(0, eps.frames.shape[1], cfg.model.frameskip))
    assert g.z.shape == (10 * per_ep, cfg.model.latent) and g.pos.shape == (10 * per_ep, 2)
    assert (g.adj != g.adj.T).nnz == 0  # undirected
    assert g.adj[0, 1] <= 1.0 and g.adj[0, 2] <= 2.0  # episode edges, weighted in blocks
    assert g.latent_edge.nnz > 0 and g.threshold < g.block_step
    assert illegal_edges(g, Geometry(cfg.data.size)).shape == (len(g.edges),)
    d = graph_distances(g, np.array([0, 0]), np.array([0, 1]))
    assert d[0] == 0 and d[1] <= 1.0
    no_latent = build_graph(model, eps, cfg.model.frameskip, n_episodes=10, max_gap=2, latent_edges=False)
    assert no_latent.latent_edge.nnz == 0 and no_latent.adj.nnz < g.adj.nnz


def test_graph_planner_plans_and_reports_itself(ci_model):
    cfg, model, stats = ci_model
    graph, _ = planner_parts(model, cfg, "graph", None, progress=False)
    planner = Planner(model, stats, cfg.plan, planner="graph", graph=graph)
    assert planner.steps_per_solve == min(cfg.plan.replan_every, cfg.plan.graph_horizon * cfg.model.frameskip)
    frames = np.asarray(load_or_collect(cfg.data, "eval", progress=False).frames[:3, 0])
    actions = planner.solve(frames, frames[::-1])
    assert actions.shape == (3, cfg.plan.graph_horizon * cfg.model.frameskip, 2) and np.abs(actions).max() <= 1
    result = evaluate(model, stats, cfg, "cross-room", episodes=3, seed=0, progress=False, timed_solves=1,
                      planner="graph")
    assert result["planner"] == "graph" and result["trajectories"].shape == (3, 101, 2)
    with pytest.raises(ValueError, match="planner"):
        Planner(model, stats, cfg.plan, planner="dijkstra")
    with pytest.raises(ValueError, match="needs a waypoint graph"):  # built outside, never with a task's seed
        Planner(model, stats, cfg.plan, planner="graph")
