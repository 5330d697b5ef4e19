"""Why the graph planner misses: every waypoint it hands CEM, measured against the world's true geometry.

    python benchmarks/graph_misses.py --profile cpu --episodes 200 --seed 0 --out lewm_mini/results/graph_misses_cpu.json

Runs the graph planner (chapter 07) with MPC on the cross-room tasks, once per waypoint rule: the package's
(``lewm_mini.graph.choose_waypoint``: the farthest path node at most ``reach`` blocks down, or the node after
it when that one lies less than ``reach / 2`` down), the rule it replaced (the farthest path node at most
``reach`` blocks down, ``farthest_within_reach``) and one tried on the way (the path node closest to ``reach``
blocks down, ``closest_to_reach``). ``--cem plain`` plans with LeWM's CEM instead of the profile's iCEM. At every
replan it logs the agent's true position, the true position of the node it snapped to, the waypoint's (or the
goal's, once the path says it is within reach) and how many blocks down the path the waypoint lies. True
positions are read for this diagnosis only; the planner never sees them. Reported for successes and misses apart:

- snap error: how far the snapped node lies from the agent (px);
- waypoint distance: the true shortest path from the agent to its waypoint round the wall (px), against
  what ``reach`` blocks of the graph promise (``reach * frameskip * speed`` px at most);
- where the waypoint lies: against the wall (within 3 px of its solid part);
- progress: how many blocks down the graph's path the waypoint lies; under one block, CEM aims about where
  the agent already stands.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

import numpy as np
import torch

from lewm_mini.config import get_config, override, plain_cem
from lewm_mini.evaluate import make_tasks, run_mpc
from lewm_mini.graph import GoalTree, choose_waypoint, path_to_goal, snap
from lewm_mini.notebook import cached_run
from lewm_mini.planning import GraphPlanner, agent_position, planner_parts
from lewm_mini.world import Geometry, against_wall, path_length, room_of


def farthest_within_reach(tree: GoalTree, node: int, reach: float) -> int | None:
    """The waypoint rule before 2026-12-02: the farthest path node at most ``reach`` blocks down (at least one hop)."""
    if not np.isfinite(tree.dist[node]) or tree.dist[node] <= reach:
        return None
    path = path_to_goal(tree, node)
    best = path[1]
    for nxt in path[2:]:
        if tree.dist[node] - tree.dist[nxt] > reach:
            break
        best = nxt
    return best


def closest_to_reach(tree: GoalTree, node: int, reach: float) -> int | None:
    """A rule tried on 2026-12-02: the path node whose distance down the path is closest to ``reach``."""
    if not np.isfinite(tree.dist[node]) or tree.dist[node] <= reach:
        return None
    path = np.array(path_to_goal(tree, node)[1:])
    return int(path[np.argmin(np.abs(tree.dist[node] - tree.dist[path] - reach))])


RULES = {"farthest within reach, else the next node (the package's)": choose_waypoint,
         "farthest within reach (before)": farthest_within_reach,
         "closest to reach (tried)": closest_to_reach}


class LoggedGraphPlanner(GraphPlanner):
    """The graph planner with a given waypoint rule, writing down what it aimed at at every replan (true positions)."""

    rule = staticmethod(choose_waypoint)  # set per planner: planner.rule = farthest_within_reach, ...

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.log, self._picked = [], []

    def waypoint(self, tree, node):
        wp = self.rule(tree, node, self.cfg.reach)
        self._picked.append(None if wp is None else (wp, tree.dist[node] - tree.dist[wp]))
        return wp

    def aim(self, z0, zg, frames, goal_frames):
        self._picked = []
        target, is_wp = self.targets(z0, zg)
        wp_pos, progress = agent_position(goal_frames).copy(), np.full(len(is_wp), np.nan)
        for i, picked in enumerate(self._picked):
            if picked is not None:
                wp_pos[i], progress[i] = self.graph.pos[picked[0]], picked[1]
        self.log.append({"agent": agent_position(frames), "snapped": self.graph.pos[snap(self.graph, z0)],
                         "aim": wp_pos, "is_waypoint": is_wp, "progress": progress})
        return target


def describe(rows: dict, mask: np.ndarray) -> dict:
    """Medians and shares over the replans of the tasks in ``mask``."""
    sel = {k: v[mask[rows["task"]]] for k, v in rows.items()}
    if len(sel["task"]) == 0:
        return {"replans": 0}
    wp = sel["is_waypoint"]
    return {
        "replans": int(len(sel["task"])),
        "snap_error_px_median": float(np.median(sel["snap_error"])),
        "snap_error_over_5px": float((sel["snap_error"] > 5).mean()),
        "waypoint_share": float(wp.mean()),
        "waypoint_true_path_px_median": float(np.median(sel["aim_path"][wp])) if wp.any() else None,
        "waypoint_beyond_reach": float((sel["aim_path"][wp] > sel["reach_px"][wp]).mean()) if wp.any() else None,
        "waypoint_against_wall": float(sel["aim_at_wall"][wp].mean()) if wp.any() else None,
        "agent_against_wall": float(sel["agent_at_wall"].mean()),
        "waypoint_progress_blocks_median": float(np.median(sel["progress"][wp])) if wp.any() else None,
        "waypoint_progress_under_1_block": float((sel["progress"][wp] < 1).mean()) if wp.any() else None,
    }


def diagnose(log: list[dict], success: np.ndarray, traj: np.ndarray, tasks, geo: Geometry, reach_px: float) -> dict:
    """Success, where the misses end, and the replans of successes and misses described apart."""
    p = len(tasks.start)
    rows = {
        "task": np.tile(np.arange(p), len(log)),
        "snap_error": np.concatenate([np.linalg.norm(e["snapped"] - e["agent"], axis=1) for e in log]),
        "aim_path": np.concatenate([path_length(e["agent"], e["aim"], geo.size) for e in log]),
        "is_waypoint": np.concatenate([e["is_waypoint"] for e in log]),
        "aim_at_wall": np.concatenate([against_wall(e["aim"], geo) for e in log]),
        "agent_at_wall": np.concatenate([against_wall(e["agent"], geo) for e in log]),
        "progress": np.concatenate([e["progress"] for e in log]),
    }
    rows["reach_px"] = np.full(len(rows["task"]), reach_px)
    miss, end = ~success, traj[:, -1]
    in_goal_room = (room_of(traj.reshape(-1, 2), geo).reshape(p, -1) == room_of(tasks.goal, geo)[:, None]).any(1)
    return {
        "success_rate": float(success.mean()), "successes": int(success.sum()),
        "misses": {"n": int(miss.sum()), "end_against_wall": int((against_wall(end, geo) & miss).sum()),
                   "never_in_goal_room": int((miss & ~in_goal_room).sum())},
        "successes_replans": describe(rows, success),
        "misses_replans": describe(rows, miss),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                    help="config overrides of the model to diagnose (as the CLI's --set)")
    ap.add_argument("--cem", choices=("icem", "plain"), default="icem", help="plain: LeWM's CEM (300 x 30)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    cfg = override(get_config(args.profile), args.set)
    if args.cem == "plain":
        cfg = plain_cem(cfg)
    run = cached_run(cfg)
    model, stats = run.model, run.stats
    geo = Geometry(cfg.data.size)
    graph, _ = planner_parts(model, cfg, "graph", None, progress=False)
    tasks = make_tasks(cfg, "cross-room", args.episodes, args.seed)
    reach_px = cfg.plan.reach * model.cfg.frameskip * geo.speed
    out = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
        "profile": cfg.profile, "training_policy": cfg.data.policy, "episodes": len(tasks.start), "seed": args.seed,
        "cem": args.cem,
        "reach_blocks": cfg.plan.reach, "reach_px_at_most": reach_px,
        "graph": {"nodes": len(graph.z), "edges": len(graph.edges), "nodes_against_wall": float(against_wall(graph.pos, geo).mean())},
        "rules": {},
    }
    for name, rule in RULES.items():
        planner = LoggedGraphPlanner(model, stats, cfg.plan, seed=args.seed, graph=graph)
        planner.rule = rule
        success, traj = run_mpc(planner, tasks, cfg.data.size)
        out["rules"][name] = diagnose(planner.log, success, traj, tasks, geo, reach_px)
        print(name, f"{success.mean():.1%}", flush=True)
    print(json.dumps(out, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
