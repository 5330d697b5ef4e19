"""The Momentum world (chapter 10): why a world model needs history, measured.

    python benchmarks/momentum.py --profile cpu --tasks 200 --out lewm_mini/results/momentum_cpu.json

Two models trained with the profile's settings in the Momentum world, one reading 1 frame of context and one
reading 3 (ModelConfig.history), same data, steps and batch; models missing from the cache are trained and
their training time recorded. For each: the imagined position error 1-5 blocks ahead (pixels, through an MLP
position probe), linear probes of the puck's velocity from one latent and from the history of latents,
planning to "arrive and stop" on the paper protocol (held-out tasks, goal 25 steps ahead, 50-step budget,
the recorded past as the first history) beside a random policy, and the surprise AUC of two violations
(reverse, stop dead) against ordinary bounces, beside the frame-difference baseline. One ablation, same tasks:
the history-3 model scoring only the last imagined block (sum_cost off).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch

from lewm_mini.config import for_world, get_config, usable_cpus
from lewm_mini.data import held_out_episodes, load_or_collect
from lewm_mini.evaluate import evaluate, summary
from lewm_mini.momentum import voe_episodes
from lewm_mini.notebook import cached_run
from lewm_mini.probe import rollout_position_error, velocity_probe
from lewm_mini.surprise import event_scores, roc_auc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0, help="task seed (held-out episodes of eval_seed + seed)")
    ap.add_argument("--voe", type=int, default=200, help="scripted episodes per kind")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(usable_cpus())
    out = {"profile": args.profile, "tasks": args.tasks, "task_seed": args.seed, "models": {}}
    voe = voe_episodes(args.voe, seed=args.seed)
    for history in (1, 3):
        cfg = for_world(get_config(args.profile), "momentum", history)
        t = time.perf_counter()
        run = cached_run(cfg, progress=False)
        res = {"run_key": cfg.run_key(), "trained_seconds_this_run": run.seconds if run.seconds > 1 else None,
               "final_pred_loss": run.history[-1]["pred"] if run.history else None}
        train_eps, test_eps = load_or_collect(cfg.data, "train", progress=False), held_out_episodes(cfg.data)
        res["rollout_position_error_px"] = rollout_position_error(run.model, run.stats, train_eps, test_eps,
                                                                  history)["imagined"].round(3).tolist()
        res["velocity_probe"] = velocity_probe(run.model, train_eps, test_eps, history=3)
        scores = event_scores(run.model, run.stats, voe, history)
        res["surprise_auc"] = {k: roc_auc(scores[k]["surprise"], scores["bounce"]["surprise"]) for k in ("reverse", "stop")}
        res["frame_difference_auc"] = {k: roc_auc(scores[k]["frame_difference"], scores["bounce"]["frame_difference"])
                                       for k in ("reverse", "stop")}
        planners = {"cem, mean over blocks": cfg}
        if history == 3:
            planners["cem, last block only"] = dataclasses.replace(cfg, plan=dataclasses.replace(cfg.plan, sum_cost=False))
        res["paper"] = {}
        for name, c in planners.items():
            r = summary(evaluate(run.model, run.stats, c, "paper", args.tasks, args.seed, progress=False, timed_solves=3))
            res["paper"][name] = r
            print(f"history {history} {name}: {r['success_rate']:.1%} {r['success_ci95']} random "
                  f"{r['random_success_rate']:.1%} ({r['eval_seconds']:.0f} s)", flush=True)
        res["seconds"] = time.perf_counter() - t
        out["models"][f"history_{history}"] = res
        print(json.dumps({k: v for k, v in res.items() if k != "paper"}), flush=True)
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
