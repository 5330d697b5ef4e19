"""The graph planner against flat CEM, its ablations, and the random floor, on the same held-out tasks.

    python benchmarks/graph_planner.py --profile cpu --episodes 200 --seed 1 --json

Prints one JSON object (and a table without --json): success per protocol and planner, the
random policy on the same tasks, graph size and build time, the fraction of illegal edges (across
the wall, away from the door), the rank correlation of graph and latent distances with the true
shortest-path distance round the wall, and the median time of one replan (graph query + CEM) for a
single problem. Planners: "cem" (flat), "graph", "graph-episode-edges" (no latent edges) and
"door-oracle" (one waypoint at the door, read from the true position: a privileged one-waypoint baseline),
"distance" (CEM to the goal scored by the learned distance in time, lewm_mini.distance; no graph at plan time),
"distance-sum" (the same, scored over every imagined block) and "distance@N" (the head trained on the graph of
N training episodes instead of the profile's graph_episodes).
A planner name may end in ":H" to plan H blocks instead of the profile's graph_horizon or distance_horizon
(e.g. "door-oracle:5" matches flat CEM's 5-block horizon: an ablation that varies one thing).
The JSON also holds the wall test (lewm_mini.walltest) and the distance head's training time.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from lewm_mini.config import get_config, plain_cem, usable_cpus, with_icem
from lewm_mini.data import load_or_collect
from lewm_mini.distance import DISTANCE_SIZES, cached_distance
from lewm_mini.evaluate import Planner, evaluate, make_tasks, time_solves
from lewm_mini.graph import build_graph, graph_distances, illegal_edges
from lewm_mini.notebook import cached_run
from lewm_mini.train import load_model
from lewm_mini.viz import save_plan_figure
from lewm_mini.walltest import wall_test
from lewm_mini.world import Geometry, against_wall, geodesic_distance, room_of


def distance_correlations(graph, geo: Geometry, head=None, pairs: int = 3000, seed: int = 0) -> dict:
    """Spearman rho of graph, latent and (with ``head``) learned distances against the true distance round the
    wall, for same-room and cross-room pairs of graph nodes."""
    rng = np.random.default_rng(seed)
    src = rng.integers(0, len(graph.z), pairs // 20).repeat(20)  # 20 destinations per source
    dst = rng.integers(0, len(graph.z), len(src))
    true = np.concatenate([geodesic_distance(graph.pos[s], graph.pos[dst[i:i + 20]], geo)
                           for i, s in zip(range(0, len(src), 20), src[::20])])
    g = graph_distances(graph, src, dst)
    lat = (graph.z[src] - graph.z[dst]).norm(dim=1).cpu().numpy()
    if head is not None:
        with torch.inference_mode():
            learned = head(graph.z[src], graph.z[dst]).cpu().numpy()
    same = room_of(graph.pos[src], geo) == room_of(graph.pos[dst], geo)
    out = {}
    for name, m in (("same_room", same), ("cross_room", ~same)):
        ok = m & np.isfinite(g)
        out[name] = {"graph": float(spearmanr(g[ok], true[ok])[0]), "latent": float(spearmanr(lat[m], true[m])[0]),
                     "pairs": int(m.sum())}
        if head is not None:
            out[name]["learned"] = float(spearmanr(learned[m], true[m])[0])
    return out


def misses(result: dict, geo: Geometry) -> dict:
    """Where the misses of an evaluation end: against the wall's solid part (within 3 px of its face), never in
    the goal's room, and how far from the goal."""
    ok, traj, tasks = result["success"], result["trajectories"], result["tasks"]
    end = traj[~ok, -1]
    reached_room = (room_of(traj[~ok], geo) == room_of(tasks.goal[~ok], geo)[:, None]).any(1)
    return {"misses": int((~ok).sum()), "end_at_wall": int(against_wall(end, geo).sum()),
            "never_in_goal_room": int((~reached_room).sum()),
            "final_distance_px_median": float(np.median(np.linalg.norm(end - tasks.goal[~ok], axis=1))) if len(end) else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--checkpoint", help="default: the cached run of the profile (trained when missing)")
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--cem", choices=("plain", "icem"), default="plain",
                    help="plain: LeWM's CEM, as the README's graph-planner figures (default); icem: the profile's")
    ap.add_argument("--seed", type=int, default=1, help="evaluation seed (tasks); tune on other seeds")
    ap.add_argument("--planners", default="cem,graph,graph-episode-edges,door-oracle",
                    help='comma-separated; "NAME:H" plans H blocks towards each waypoint (graph planners)')
    ap.add_argument("--protocols", default="cross-room,paper")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--figures", help="folder for a picture of planned trajectories per protocol (graph planner)")
    ap.add_argument("--head-episodes", type=int, nargs="*", default=[],
                    help='also build the graph of N training episodes for the planner "distance@N"')
    ap.add_argument("--out", help="also write the JSON here, updated after every evaluation (partial runs keep their results)")
    args = ap.parse_args()

    if args.checkpoint:
        model, stats, cfg = load_model(args.checkpoint)
    else:
        cfg = get_config(args.profile)
        run = cached_run(cfg, progress=not args.json)
        model, stats = run.model, run.stats
    cfg = plain_cem(cfg) if args.cem == "plain" else with_icem(cfg)
    geo = Geometry(cfg.data.size)
    episodes = load_or_collect(cfg.data, "train", progress=False)
    t = time.perf_counter()
    graph = build_graph(model, episodes, cfg.model.frameskip, n_episodes=cfg.plan.graph_episodes, seed=0)
    build_s = time.perf_counter() - t
    episode_only = build_graph(model, episodes, cfg.model.frameskip, n_episodes=cfg.plan.graph_episodes,
                               seed=0, latent_edges=False)
    folder = Path(args.checkpoint).parent if args.checkpoint else Path(run.checkpoint).parent
    head = cached_distance(model, folder, graph, DISTANCE_SIZES[cfg.profile], progress=not args.json)
    heads = {cfg.plan.graph_episodes: (graph, head)}
    for n in args.head_episodes:
        g_n = build_graph(model, episodes, cfg.model.frameskip, n_episodes=n, seed=0)
        heads[n] = (g_n, cached_distance(model, folder, g_n, DISTANCE_SIZES[cfg.profile], progress=not args.json))
    illegal = illegal_edges(graph, geo)
    train_policy = cfg.data.policy  # the tasks never depend on it (evaluate.TASK_POLICY)
    lat = np.asarray(graph.latent_edge[graph.edges[:, 0], graph.edges[:, 1]]).ravel() > 0
    out = {
        "machine": f"{platform.machine()}, {usable_cpus()} usable CPUs, torch {torch.__version__}",
        "profile": cfg.profile, "episodes": args.episodes, "seed": args.seed, "training_policy": train_policy,
        "graph": {"nodes": len(graph.z), "edges": len(graph.edges), "latent_edges": int(lat.sum()),
                  "build_seconds": build_s, "illegal_edge_fraction": float(illegal.mean()),
                  "illegal_latent_edge_fraction": float(illegal[lat].mean()) if lat.any() else 0.0},
        "distance_rank_correlation": distance_correlations(graph, geo, head),
        "distance_head": {"train_seconds": {n: h.train_seconds for n, (_, h) in heads.items()},
                          "graph_episodes": cfg.plan.graph_episodes},
        "wall_test": {f"{b}_blocks": wall_test(model, stats, n=200, blocks=b, history=cfg.plan.history).summary()
                      for b in (2, 5)},
        "cem": args.cem, "plan": dataclasses.asdict(cfg.plan),
        "results": {},
    }
    if args.out and Path(args.out).exists():  # add to an earlier run of the same settings (e.g. another protocol)
        old = json.loads(Path(args.out).read_text())
        if all(old.get(k) == out[k] for k in ("profile", "episodes", "seed")):
            out["results"] = old["results"]
    tasks = make_tasks(cfg, "cross-room", 20, args.seed)
    planner = Planner(model, stats, cfg.plan, planner="graph", graph=graph)
    out["replan_seconds_median"] = statistics.median(time_solves(planner, tasks, cfg.data.size, n=10))
    planner = Planner(model, stats, cfg.plan, planner="distance", head=head)
    out["distance_replan_seconds_median"] = statistics.median(time_solves(planner, tasks, cfg.data.size, n=10))
    main_planners = ("cem", "graph", "distance", "graph-distance")
    runs = [(p, n) for n in args.planners.split(",") for p in args.protocols.split(",")
            if n in main_planners or p == "cross-room"]  # ablations on the cross-room protocol only
    runs.sort(key=lambda r: (r[1] not in main_planners, r[0] != "cross-room"))
    for protocol, name in runs:
        res = out["results"].setdefault(protocol, {})
        base, _, h = name.partition(":")
        base, _, n_eps = base.partition("@")
        g_head = heads[int(n_eps)][1] if n_eps else head
        kind, g = {"cem": ("cem", None), "graph": ("graph", graph), "graph-episode-edges": ("graph", episode_only),
                   "door-oracle": ("door-oracle", None), "distance": ("distance", None),
                   "graph-distance": ("graph-distance", graph),
                   "distance-sum": ("distance", None)}[base]
        plan = dataclasses.replace(cfg.plan, sum_cost=base == "distance-sum")
        if h:
            plan = dataclasses.replace(plan, **{"distance_horizon" if kind == "distance" else "graph_horizon": int(h)})
        run_cfg = dataclasses.replace(cfg, plan=plan)
        t = time.perf_counter()
        r = evaluate(model, stats, run_cfg, protocol, args.episodes, args.seed, progress=not args.json,
                     timed_solves=0, planner=kind, graph=g, head=g_head)
        horizon = {"cem": plan.horizon, "distance": plan.distance_horizon}.get(kind, plan.graph_horizon)
        res[name] = {"success_rate": r["success_rate"], "successes": int(r["success"].sum()),
                     "success_ci95": r["success_ci95"], "eval_seconds": time.perf_counter() - t,
                     "horizon_blocks": horizon, "evaluations_per_episode": r["evaluations_per_episode"],
                     "misses": misses(r, geo)}
        res["random"] = {"success_rate": r["random_success_rate"]}
        if args.figures and name == "graph":
            save_plan_figure(r, Path(args.figures) / f"plan_{protocol}_graph.png", cfg.data.size,
                             random_traj=r["random_trajectories"])
        if not args.json:
            print(protocol, name, f"{r['success_rate']:.1%}", f"random {r['random_success_rate']:.1%}", flush=True)
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=None if args.json else 1))


if __name__ == "__main__":
    main()
