"""Plain CEM against iCEM: success, model evaluations and seconds, on the same held-out tasks, in one run.

    python benchmarks/icem.py --profile cpu --episodes 200 --seed 0 --out benchmarks/results/icem_cpu_200.json
    python benchmarks/icem.py --profile ci --episodes 4 --out /tmp/icem_ci.json     # seconds: the code runs

For each protocol (paper, cross-room) and each planner that uses CEM (flat "cem" and "graph"), three
solver settings on the same tasks:
- plain: CEM 300 x 30 as released (white noise, elites' mean returned, no warm start);
- icem:  the chosen iCEM settings (``ICEM`` below, chosen on other task seeds by ``--tune``);
- icem-100: the same at 100 samples.
Per row: success with its 95% Wilson interval, the random floor on the same tasks, model rollouts per
solve (candidate plans scored, one problem), rollouts per episode, the median seconds of one cold solve
for one problem, and the wall time of the whole evaluation. The JSON is rewritten after every row,
so an interrupted run keeps what it measured.

``--tune``: a grid of iCEM settings for the flat planner on the paper protocol (and cross-room),
at ``--episodes`` tasks of ``--seed`` (use a seed the report does not use).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch

from lewm_mini.cem import ICEM
from lewm_mini.config import PlanConfig, get_config, usable_cpus
from lewm_mini.evaluate import Planner, evaluate, summary
from lewm_mini.notebook import cached_run

SETTINGS = {
    "plain": {k: getattr(PlanConfig(), k) for k in ICEM},
    "icem": ICEM,
    "icem-100": ICEM | {"samples": 100, "elites": 10},
}
KEYS = ("success_rate", "success_ci95", "random_success_rate", "evaluations_per_solve", "evaluations_per_episode",
        "plan_seconds_median", "eval_seconds")


def row(model, stats, cfg, protocol: str, planner: str, setting: dict, episodes: int, seed: int, graph) -> dict:
    run = dataclasses.replace(cfg, plan=dataclasses.replace(cfg.plan, **setting))
    r = summary(evaluate(model, stats, run, protocol, episodes, seed, progress=False, timed_solves=10,
                         planner=planner, graph=graph))
    return {k: r[k] for k in KEYS} | {"successes": round(r["success_rate"] * episodes)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0, help="evaluation seed (tasks)")
    ap.add_argument("--protocols", default="paper,cross-room")
    ap.add_argument("--planners", default="cem,graph")
    ap.add_argument("--settings", default=",".join(SETTINGS))
    ap.add_argument("--tune", action="store_true", help="a grid of iCEM settings (flat planner) instead")
    ap.add_argument("--out", type=Path, required=True, help="JSON file")
    args = ap.parse_args()
    torch.set_num_threads(usable_cpus())
    cfg = get_config(args.profile)
    trained = cached_run(cfg, progress=False)
    model, stats = trained.model, trained.stats
    graph = Planner(model, stats, cfg.plan, planner="graph", data=cfg.data).graph
    settings = tune_grid() if args.tune else {k: SETTINGS[k] for k in args.settings.split(",")}
    planners = ["cem"] if args.tune else args.planners.split(",")
    out = {"machine": f"{usable_cpus()} usable CPUs, torch {torch.__version__}", "profile": cfg.profile,
           "episodes": args.episodes, "seed": args.seed, "plan": dataclasses.asdict(cfg.plan),
           "settings": settings, "results": {}}
    for protocol in args.protocols.split(","):
        for planner in planners:
            for name, setting in settings.items():
                t = time.perf_counter()
                r = row(model, stats, cfg, protocol, planner, setting, args.episodes, args.seed, graph)
                out["results"].setdefault(protocol, {}).setdefault(planner, {})[name] = r
                args.out.write_text(json.dumps(out, indent=1))
                lo, hi = r["success_ci95"]
                print(f"{protocol:10s} {planner:5s} {name:28s} {r['success_rate']:6.1%} ({lo:.0%}-{hi:.0%})  "
                      f"random {r['random_success_rate']:4.0%}  {r['evaluations_per_solve']:6.0f} rollouts/solve  "
                      f"{r['evaluations_per_episode']:7.0f}/episode  {r['plan_seconds_median']:.3f} s/solve  "
                      f"eval {r['eval_seconds']:.0f} s  ({time.perf_counter() - t:.0f} s)", flush=True)


def tune_grid() -> dict:
    """Settings tried when choosing ``ICEM``: plain CEM, then iCEM, one change at a time from a base."""
    plain = SETTINGS["plain"]
    base = ICEM | {"samples": 100, "elites": 10}
    grid = {"plain": plain, "plain + best-ever": plain | {"return_best": True},
            "iCEM 300 samples": ICEM, "iCEM 300 samples, 10 cold iterations": ICEM | {"iterations": 10},
            "base (100 samples)": base}
    for key, values in {"iterations": [10], "noise_beta": [0.0, 3.0], "warm_iterations": [3, 10],
                        "keep_elites": [0.0], "shrink": [1.0], "return_best": [False], "warm_start": [False],
                        "cem_replan_every": [10]}.items():
        for v in values:
            grid[f"base, {key}={v}"] = base | {key: v}
    return grid


if __name__ == "__main__":
    main()
