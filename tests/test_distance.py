"""The learned distance in time: the head, its cache, the planner that scores with it, and the wall test."""

import dataclasses

import numpy as np
import pytest
import torch
from scipy.sparse import csr_matrix
from scipy.stats import spearmanr

from lewm_mini.config import cache_dir, get_config
from lewm_mini.data import collect, load_or_collect
from lewm_mini.distance import DISTANCE_SIZES, DistanceConfig, DistanceHead, cached_distance, train_distance
from lewm_mini.evaluate import evaluate
from lewm_mini.graph import LatentGraph, build_graph
from lewm_mini.notebook import cached_run
from lewm_mini.planning import DistancePlanner, Planner, planner_parts
from lewm_mini.walltest import pressing_fraction, wall_starts, wall_test
from lewm_mini.world import Geometry, in_wall, room_of

SMALL = DistanceConfig(width=64, out=16, sources=40, steps=400, batch=256, noise=0.0)


def u_graph(n: int = 20) -> LatentGraph:
    """Two arms of a U, n nodes each, joined at the bottom: arm a at (i, 0), arm b at (i, 1) in latent space.

    Across the U the latents are one unit apart, but the only path between a_i and b_i runs down one arm
    and up the other: 2 (n - 1 - i) + 1 blocks. A wall in miniature.
    """
    z = torch.cat([torch.stack([torch.arange(n), torch.zeros(n)], 1), torch.stack([torch.arange(n), torch.ones(n)], 1)])
    r = [*range(n - 1), *range(n, 2 * n - 1), n - 1]
    c = [*range(1, n), *range(n + 1, 2 * n), 2 * n - 1]
    adj = csr_matrix((np.ones(len(r)), (r, c)), shape=(2 * n, 2 * n))
    adj = adj.maximum(adj.T)
    return LatentGraph(z.float(), np.zeros((2 * n, 2)), np.zeros(2 * n, int), adj, csr_matrix((2 * n, 2 * n)), 1.0, 0.5)


def test_head_learns_the_distance_in_time_not_the_latent_distance():
    g, n = u_graph(), 20
    head, losses = train_distance(g, SMALL, progress=False)
    assert np.mean(losses[-20:]) < 0.3 * np.mean(losses[:20])
    with torch.inference_mode():
        across = head(g.z[:5], g.z[n : n + 5]).numpy()  # a_i to b_i: latents 1 apart, paths 39..31 blocks
        along = head(g.z[:5], g.z[5:10]).numpy()  # a_i to a_{i+5}: latents 5 apart, 5 blocks
    true_across = 2 * (n - 1 - np.arange(5)) + 1
    assert np.all(across > 15) and np.abs(across - true_across).mean() < 6
    assert np.abs(along - 5).mean() < 2.5
    i, j = np.random.default_rng(0).integers(0, 2 * n, (2, 300))
    from scipy.sparse.csgraph import dijkstra
    true = dijkstra(g.adj, directed=False)[i, j]
    with torch.inference_mode():
        assert spearmanr(head(g.z[i], g.z[j]).numpy(), true)[0] > 0.9


def test_head_is_a_symmetric_distance():
    head = DistanceHead(8)
    z, g = torch.randn(5, 8), torch.randn(5, 8)
    with torch.inference_mode():
        assert torch.allclose(head(z, g), head(g, z)) and torch.all(head(z, z) < 1e-3)
        assert head(z[:, None], g[None]).shape == (5, 5)  # broadcasts


@pytest.fixture(scope="module")
def ci_run():
    cfg = get_config("ci")
    run = cached_run(cfg, progress=False)
    graph = build_graph(run.model, load_or_collect(cfg.data, "train", progress=False), cfg.model.frameskip,
                        n_episodes=10, seed=0)
    return cfg, run, graph


def test_head_is_cached_beside_the_run_and_retrained_when_the_model_changes(ci_run, tmp_path, capsys):
    cfg, run, graph = ci_run
    model = run.model
    a = cached_distance(model, tmp_path, graph, DISTANCE_SIZES["ci"], progress=False)
    assert "training it" in capsys.readouterr().out
    (path,) = tmp_path.glob("distance-*.pt")
    b = cached_distance(model, tmp_path, graph, DISTANCE_SIZES["ci"], progress=False)
    assert "loading it" in capsys.readouterr().out
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    other = type(model)(model.cfg)
    other.load_state_dict(model.state_dict())
    with torch.no_grad():
        next(other.parameters()).add_(0.01)
    cached_distance(other, tmp_path, graph, DISTANCE_SIZES["ci"], progress=False)
    assert "training it" in capsys.readouterr().out  # another model: its own head, trained
    assert len(list(tmp_path.glob("distance-*.pt"))) == 2
    cached_distance(model, tmp_path, graph, DISTANCE_SIZES["ci"], progress=False)
    assert "loading it" in capsys.readouterr().out  # the first model's head is still there
    path.write_bytes(b"not a checkpoint")
    cached_distance(model, tmp_path, graph, DISTANCE_SIZES["ci"], progress=False)
    out = capsys.readouterr().out
    assert "corrupt" in out and "training it" in out  # a broken file is named and replaced


def test_distance_planner_plans_with_the_head(ci_run, tmp_path):
    cfg, run, graph = ci_run
    with pytest.raises(ValueError, match="distance head"):
        Planner(run.model, run.stats, cfg.plan, planner="distance")  # the head is built outside the planner
    _, head = planner_parts(run.model, cfg, "distance", tmp_path, progress=False)
    planner = Planner(run.model, run.stats, cfg.plan, planner="distance", head=head)
    assert planner.horizon == cfg.plan.distance_horizon
    assert planner.steps_per_solve == min(cfg.plan.replan_every, cfg.plan.distance_horizon * cfg.model.frameskip)
    frames = np.asarray(load_or_collect(cfg.data, "eval", progress=False).frames[:3, 0])
    actions = planner.solve(frames, frames[::-1])
    assert actions.shape == (3, cfg.plan.distance_horizon * cfg.model.frameskip, 2) and np.abs(actions).max() <= 1
    result = evaluate(run.model, run.stats, cfg, "cross-room", episodes=3, seed=0, progress=False, timed_solves=1,
                      planner="distance", head=head)
    assert result["planner"] == "distance" and result["trajectories"].shape == (3, 101, 2)
    own = evaluate(run.model, run.stats, cfg, "paper", episodes=2, seed=0, progress=False, timed_solves=0,
                   planner="distance")  # no head given: evaluate trains (or loads) one in the cache
    assert own["planner"] == "distance" and list((cache_dir() / "distance").glob("distance-*.pt"))


def test_graph_distance_planner_aims_at_waypoints_and_scores_with_the_head(ci_run, tmp_path):
    cfg, run, graph = ci_run
    _, head = planner_parts(run.model, cfg, "distance", tmp_path, progress=False)
    with pytest.raises(ValueError, match="distance head"):
        Planner(run.model, run.stats, cfg.plan, planner="graph-distance", graph=graph)
    planner = Planner(run.model, run.stats, cfg.plan, planner="graph-distance", graph=graph, head=head)
    assert planner.kind == "graph-distance" and planner.horizon == cfg.plan.graph_horizon
    z, zg = torch.randn(2, cfg.model.latent), torch.randn(2, cfg.model.latent)
    target = torch.as_tensor(graph.z[:2])
    imagined = torch.randn(2, 3, planner.horizon, cfg.model.latent)
    with torch.inference_mode():  # the head's distance to the aim, not the latent cost
        assert torch.allclose(planner.goal_score(target)(imagined), head(imagined[:, :, -1], target[:, None]))
        graph_only = Planner(run.model, run.stats, cfg.plan, planner="graph", graph=graph)
        assert torch.equal(planner.targets(z, zg)[0], graph_only.targets(z, zg)[0])  # the same waypoints
    parts = planner_parts(run.model, cfg, "graph-distance", tmp_path, progress=False)
    assert parts[0] is not None and parts[1] is not None
    result = evaluate(run.model, run.stats, cfg, "cross-room", episodes=2, seed=0, progress=False, timed_solves=0,
                      planner="graph-distance", graph=graph, head=head)
    assert result["planner"] == "graph-distance" and result["trajectories"].shape == (2, 101, 2)


def test_the_score_is_the_head_distance_or_latent_cost_of_the_last_or_every_imagined_block():
    head = DistanceHead(4)
    plan = dataclasses.replace(get_config("ci").plan, sum_cost=False)
    planner = DistancePlanner.__new__(DistancePlanner)  # only the scoring: no model needed
    planner.head, planner.cfg = head, plan
    target = torch.randn(2, 4)
    z = torch.randn(2, 3, 5, 4)  # (P, N, H, D)
    with torch.inference_mode():
        last = planner.goal_score(target)(z)
        assert torch.allclose(last, head(z[:, :, -1], target[:, None]))
        planner.cfg = dataclasses.replace(plan, sum_cost=True)
        assert torch.allclose(planner.goal_score(target)(z), head(z, target[:, None, None]).mean(-1))
        planner = Planner.__new__(Planner)  # LeWM's latent cost: of every imagined block (arrive and stop) ...
        planner.cfg = dataclasses.replace(plan, sum_cost=True)
        assert type(planner) is Planner and planner.kind == "cem"
        assert torch.allclose(planner.goal_score(target)(z), ((z - target[:, None, None]) ** 2).sum(-1).mean(-1))
        planner.cfg = plan  # ... or of the last one (LeWM's)
        assert torch.allclose(planner.goal_score(target)(z), ((z[:, :, -1] - target[:, None]) ** 2).sum(-1))


def test_wall_test_starts_beside_the_solid_wall_and_the_real_push_stops_at_it(ci_run):
    cfg, run, _ = ci_run
    geo = Geometry(cfg.data.size)
    start = wall_starts(50, geo, np.random.default_rng(0))
    left, right, open_ = start[:50], start[50:100], start[100:]
    assert np.all(left[:, 0] < geo.wall[0]) and np.all(right[:, 0] > geo.wall[1])
    assert np.all(open_[:, 0] < geo.wall[0] - 5) and np.all(open_[:, 0] > geo.lo + 5)  # open floor: far from walls
    solid = lambda p: (p[:, 1] > geo.door[1]) | (p[:, 1] < geo.door[0])  # noqa: E731
    assert solid(left).all() and solid(right).all() and not in_wall(start, geo).any()
    r = wall_test(run.model, run.stats, n=20, blocks=3, history=1)
    assert np.all(room_of(r.real, geo) == room_of(r.start, geo))  # the real agent never crosses
    wall_face = np.where(r.side[:40] == 0, geo.wall[0], geo.wall[1])
    assert np.abs(r.real[:40, 0] - wall_face).max() < geo.speed  # pressed against the face
    assert np.abs(r.real[40:, 1] - r.start[40:, 1] - 15 * geo.speed).max() < 1e-3  # open floor: the full push
    s = r.summary()
    assert set(s) == {"left", "right", "open"} and all(0 <= v["crossed"] <= 1 for v in s.values())


def test_heuristic_straight_presses_into_the_wall_more_often():
    cfg = dataclasses.replace(get_config("cpu").data, episodes=200, steps=100)

    def pressing(policy: str) -> float:
        return pressing_fraction(collect(dataclasses.replace(cfg, policy=policy), progress=False), 5, cfg.size)

    assert 0 < pressing("heuristic") and pressing("heuristic-straight") > 1.5 * pressing("heuristic")
