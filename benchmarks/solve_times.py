"""Seconds of one solve, cold (the first of an episode) and warm-started (every later one), per CEM setting.

    python benchmarks/solve_times.py --profile cpu --n 10 --out lewm_mini/results/solve_times_cpu.json
    python benchmarks/solve_times.py --profile cpu --n 10 --planners graph,distance --protocol cross-room \
        --out lewm_mini/results/replan_times_cpu.json

One problem per solve, the protocol's first tasks of seed 0. Without --planners, the flat planner: plain CEM
(300 x 30, every solve cold) against the profile's iCEM (cold: 10 iterations; warm: 5). With --planners, each
named planner with the profile's iCEM (a graph replan includes its graph query). Medians of ``--n`` solves each.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
from pathlib import Path

import torch

from lewm_mini.config import get_config, plain_cem, usable_cpus
from lewm_mini.evaluate import Planner, make_tasks, time_solves, time_warm_solves
from lewm_mini.notebook import cached_run
from lewm_mini.planning import planner_parts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--planners", help="comma-separated planners (cem, graph, distance) timed with the profile's iCEM")
    ap.add_argument("--protocol", default="paper")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(usable_cpus())
    cfg = get_config(args.profile)
    run = cached_run(cfg, progress=False)
    tasks = make_tasks(cfg, args.protocol, args.n, seed=0)
    out = {"machine": f"{usable_cpus()} usable CPUs, torch {torch.__version__}", "profile": cfg.profile, "n": args.n,
           "protocol": args.protocol}
    kinds = args.planners.split(",") if args.planners else ["cem", "cem"]
    names = kinds if args.planners else ["plain", "icem"]
    for name, kind in zip(names, kinds):
        plan = plain_cem(cfg).plan if name == "plain" else cfg.plan
        graph, head = planner_parts(run.model, dataclasses.replace(cfg, plan=plan), kind, Path(run.checkpoint).parent,
                                    progress=False)
        planner = Planner(run.model, run.stats, plan, planner=kind, graph=graph, head=head)
        cold = statistics.median(time_solves(planner, tasks, cfg.data.size, args.n))
        out[name] = {"cold_seconds_median": cold}
        if plan.warm_start:
            out[name]["warm_seconds_median"] = statistics.median(time_warm_solves(planner, tasks, cfg.data.size, args.n))
        print(name, {k: round(v, 3) for k, v in out[name].items()}, flush=True)
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
