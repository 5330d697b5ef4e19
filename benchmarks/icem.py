"""Plain CEM against iCEM: success, model rollouts and seconds, on the same held-out tasks, in one run.

    python benchmarks/icem.py --profile cpu --episodes 200 --seed 0 --out lewm_mini/results/icem_cpu_200.json
    python benchmarks/icem.py --profile ci --episodes 4 --out /tmp/icem_ci.json     # seconds: the code runs
    python benchmarks/icem.py --tune --protocols paper --episodes 50 --seed 7 --out /tmp/tune.json

For each protocol (paper, cross-room) and each planner that uses CEM (flat "cem" and "graph"), three
solver settings on the same tasks:
- plain:     LeWM's CEM, 300 x 30 (white noise, the elites' mean returned, no warm start, flat CEM
             executes its whole 5-block plan);
- icem:      the profile's iCEM (``lewm_mini.config.ICEM`` with 100 samples x 10 iterations);
- icem-300:  the same at 300 samples (30 elites).
Per row: success with its 95% Wilson interval, the random floor on the same tasks, model rollouts per
solve (candidate plans scored for one problem), rollouts per episode, the median seconds of one cold
solve for one problem (10 timed), and the wall time of the whole evaluation. The JSON is rewritten
after every row, so an interrupted run keeps what it measured.

``--tune``: the grid of settings tried when choosing ``ICEM`` (flat planner), at ``--episodes`` tasks
of ``--seed`` (use a seed the report does not use).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch

from lewm_mini.config import ICEM, ICEM_SIZES, PlanConfig, get_config, plain_cem, usable_cpus
from lewm_mini.evaluate import evaluate, summary
from lewm_mini.planning import planner_parts
from lewm_mini.notebook import cached_run

PLAIN = {k: getattr(PlanConfig(), k) for k in (*ICEM, *ICEM_SIZES)}  # as plain_cem(), at LeWM's sizes


def settings(cfg) -> dict:
    """name -> PlanConfig overrides, on top of the profile's plan (which is iCEM)."""
    return {"plain": {k: getattr(plain_cem(cfg).plan, k) for k in PLAIN}, "icem": {},
            "icem-300": {"samples": 300, "elites": 30}}


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
    ap.add_argument("--settings", default="plain,icem,icem-300")
    ap.add_argument("--rows", help="protocol:planner:setting,... in this order, instead of every combination")
    ap.add_argument("--tune", action="store_true", help="a grid of iCEM settings (flat planner) instead")
    ap.add_argument("--out", type=Path, required=True, help="JSON file")
    ap.add_argument("--table", action="store_true", help="print the README's markdown table from --out, run nothing")
    args = ap.parse_args()
    if args.table:
        print(markdown_table(json.loads(args.out.read_text())))
        return
    torch.set_num_threads(usable_cpus())
    cfg = get_config(args.profile)
    trained = cached_run(cfg, progress=False)
    model, stats = trained.model, trained.stats
    graph, _ = planner_parts(model, cfg, "graph", None, progress=False)
    chosen = tune_grid() if args.tune else {k: settings(cfg)[k] for k in args.settings.split(",")}
    planners = ["cem"] if args.tune else args.planners.split(",")
    out = {"machine": f"{usable_cpus()} usable CPUs, torch {torch.__version__}", "profile": cfg.profile,
           "episodes": args.episodes, "seed": args.seed, "plan": dataclasses.asdict(cfg.plan),
           "settings": chosen, "results": {}}
    rows = ([r.split(":") for r in args.rows.split(",")] if args.rows else
            [(protocol, planner, name) for protocol in args.protocols.split(",") for planner in planners
             for name in chosen])
    if args.rows:
        chosen = settings(cfg)
    out["settings"] = chosen
    for protocol, planner, name in rows:
        t = time.perf_counter()
        r = row(model, stats, cfg, protocol, planner, chosen[name], args.episodes, args.seed, graph)
        out["results"].setdefault(protocol, {}).setdefault(planner, {})[name] = r
        args.out.write_text(json.dumps(out, indent=1))
        lo, hi = r["success_ci95"]
        print(f"{protocol:10s} {planner:5s} {name:28s} {r['success_rate']:6.1%} ({lo:.0%}-{hi:.0%})  "
              f"random {r['random_success_rate']:4.0%}  {r['evaluations_per_solve']:6.0f} rollouts/solve  "
              f"{r['evaluations_per_episode']:7.0f}/episode  {r['plan_seconds_median']:.3f} s/solve  "
              f"eval {r['eval_seconds']:.0f} s  ({time.perf_counter() - t:.0f} s)", flush=True)


def markdown_table(out: dict) -> str:
    """The README's table: one row per protocol, planner and setting, with plain CEM's figures beside."""
    names = {"plain": "plain CEM 300 x 30", "icem": "iCEM 100 x 10 (chosen)", "icem-300": "iCEM 300 x 10"}
    rows = ["| protocol | planner | CEM | success (95% CI) | random | rollouts per solve | rollouts per episode "
            "| one cold solve (median s) | whole evaluation (s) |", "|---|---|---|---|---|---|---|---|---|"]
    for protocol, planners in out["results"].items():
        for planner, by_setting in planners.items():
            for name in ("plain", "icem", "icem-300"):
                if name not in by_setting:
                    continue
                r = by_setting[name]
                lo, hi = r["success_ci95"]
                rows.append(f"| {protocol} | {planner} | {names[name]} | {r['success_rate']:.1%} ({lo:.0%}-{hi:.0%}) "
                            f"| {r['random_success_rate']:.1%} | {r['evaluations_per_solve']:,.0f} "
                            f"| {r['evaluations_per_episode']:,.0f} | {r['plan_seconds_median']:.3f} "
                            f"| {r['eval_seconds']:,.0f} |")
    return "\n".join(rows)


def tune_grid() -> dict:
    """Settings tried when choosing ``ICEM`` (flat planner): plain CEM, iCEM at 300 samples, then one change at a
    time from a base of 100 samples. Overrides of the profile's plan; the measurements are in the README."""
    base = PLAIN | ICEM | {"cem_replan_every": 5, "samples": 100, "elites": 10}
    grid = {"plain": PLAIN, "plain + best-ever": PLAIN | {"return_best": True},
            "iCEM 300 samples": base | {"samples": 300, "elites": 30},
            "iCEM 300 samples, 10 cold iterations": base | {"samples": 300, "elites": 30, "iterations": 10},
            "base (100 samples)": base}
    for key, values in {"iterations": [10], "noise_beta": [0.0, 3.0], "warm_iterations": [3, 10],
                        "keep_elites": [0.0], "shrink": [1.0], "return_best": [False], "warm_start": [False],
                        "cem_replan_every": [10]}.items():
        for v in values:
            grid[f"base, {key}={v}"] = base | {key: v}
    final = base | {"cem_replan_every": 10}  # second round: the best change, with the next best
    grid |= {"final: replan 10, 10 iterations (chosen)": final | {"iterations": 10},
             "final: replan 10, 30 iterations": final,
             "final: replan 10, 10 iterations, white noise": final | {"iterations": 10, "noise_beta": 0.0}}
    return grid


if __name__ == "__main__":
    main()
