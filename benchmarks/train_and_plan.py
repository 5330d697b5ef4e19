"""Train a profile from scratch, then evaluate both protocols; prints and saves the figures.

    python benchmarks/train_and_plan.py --profile cpu --episodes 50 --out runs/bench_cpu

Reports: training wall time, success on the paper and cross-room protocols with the random
floor on the same tasks, and the median time of one solve, with the profile's default planner and CEM
(the JSON's "planner" and "cem" say which).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from lewm_mini.config import get_config
from lewm_mini.evaluate import evaluate, summary
from lewm_mini.data import load_or_collect
from lewm_mini.probe import position_probe
from lewm_mini.train import train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--episodes", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=None, help="override the profile's training steps")
    ap.add_argument("--out", default="runs/bench")
    args = ap.parse_args()
    cfg = get_config(args.profile)
    if args.steps:
        cfg.train.steps = args.steps
    t = time.perf_counter()
    result = train(cfg, args.out, resume=False)
    train_s = time.perf_counter() - t
    report = {
        "profile": cfg.profile,
        "machine": f"{platform.machine()} {os.cpu_count()} cores, torch {torch.__version__}, "
        + (torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"),
        "train_seconds_total": train_s,
        "train_seconds_loop": result.seconds,
        "train_steps": cfg.train.steps,
        "final": result.history[-1],
    }
    test = load_or_collect(cfg.data, "eval")
    report["linear_probe_position"] = position_probe(result.model, load_or_collect(cfg.data), test)
    for protocol in ("paper", "cross-room"):
        r = evaluate(result.model, result.stats, cfg, protocol, args.episodes, args.seed)
        report[protocol] = summary(r)
    print(json.dumps(report, indent=1))
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "report.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
