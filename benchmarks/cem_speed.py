"""Median wall time of one CEM solve (300 samples x 30 iterations, horizon 5) with a profile's model.

    python benchmarks/cem_speed.py --profile cpu [--checkpoint runs/cpu/checkpoint.pt]

Timing does not depend on the weights, so without a checkpoint a fresh model of the profile's
size is timed. LeWM reports 0.98 s per solve on an L40S GPU.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

from lewm_mini.config import get_config, plain_cem, set_cpu_threads
from lewm_mini.data import ActionStats
from lewm_mini.evaluate import Planner
from lewm_mini.jepa import LeWM
from lewm_mini.train import load_model
from lewm_mini.world import BatchedTwoRoom


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--checkpoint")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--device", default=None)
    args = ap.parse_args()
    set_cpu_threads()
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.checkpoint:
        model, stats, cfg = load_model(args.checkpoint, device)
    else:
        cfg = get_config(args.profile)
        torch.manual_seed(0)
        model = LeWM(cfg.model).to(device).eval()
        stats = ActionStats(np.zeros(2, np.float32), np.full(2, 0.7, np.float32))
    cfg = plain_cem(cfg)  # LeWM's CEM, as the README quotes it (benchmarks/icem.py times iCEM)
    planner = Planner(model, stats, cfg.plan, seed=0, planner="cem")
    world = BatchedTwoRoom(1, cfg.data.size, seed=0)
    frame, goal = world.render(), world.goal_frames()
    planner.solve(frame, goal)  # warm-up
    times = []
    for _ in range(args.repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t = time.perf_counter()
        planner.solve(frame, goal)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    print(json.dumps({"profile": cfg.profile, "device": device, "threads": torch.get_num_threads(),
                      "cem": {"samples": cfg.plan.samples, "elites": cfg.plan.elites,
                              "iterations": cfg.plan.iterations, "horizon": cfg.plan.horizon,
                              "rollout_history": planner.history},
                      "solve_seconds_median": statistics.median(times), "solve_seconds_min": min(times)}))


if __name__ == "__main__":
    main()
