"""One CEM solve with one latent token per frame (LeWM) against patch tokens (DINO-WM style).

    python benchmarks/planning_speed.py --json                      # cpu profile sizes, 5 solves each
    python benchmarks/planning_speed.py --profile ci --repeats 2 --samples 8 --iterations 2 --json

The same predictor (width, depth, heads, MLP) and the same CEM settings; only the number of tokens
per frame differs (64 at 64x64 with patch 8). Both models are untrained: timing does not depend on
the weights. LeWM reports 0.98 s against 47 s for DINO-WM per solve on one GPU (~48x).
"""

from __future__ import annotations

import argparse
import dataclasses
import json

import torch

from lewm_mini.config import get_config, plain_cem, set_cpu_threads
from lewm_mini.patch_tokens import planning_speed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--repeats", type=int, default=5, help="timed solves of each kind (the median is reported)")
    ap.add_argument("--patch", type=int, default=8, help="patch size in pixels (64 tokens per 64x64 frame at 8)")
    ap.add_argument("--samples", type=int, help="override CEM samples (elites become a tenth)")
    ap.add_argument("--iterations", type=int, help="override CEM iterations")
    ap.add_argument("--device", default=None)
    ap.add_argument("--json", action="store_true", help="print one JSON object only")
    args = ap.parse_args()
    set_cpu_threads()
    cfg = get_config(args.profile)
    plan = plain_cem(cfg).plan  # LeWM's CEM on both models: the comparison the paper makes
    if args.samples:
        plan = dataclasses.replace(plan, samples=args.samples, elites=max(2, args.samples // 10))
    if args.iterations:
        plan = dataclasses.replace(plan, iterations=args.iterations)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    out = planning_speed(cfg, repeats=args.repeats, patch=args.patch, plan=plan, device=device)
    if args.json:
        print(json.dumps(out))
        return
    print(f"{cfg.profile} profile, {out['threads']} threads, CEM {plan.samples} x {plan.iterations}, "
          f"horizon {plan.horizon}, rollout history {out['cem']['rollout_history']}")
    print(f"one token per frame : {out['one_token_seconds']:.3f} s per solve (median of {args.repeats})")
    print(f"{out['tokens_per_frame']} patch tokens     : {out['patch_tokens_seconds']:.3f} s per solve")
    print(f"ratio {out['ratio']:.1f}x (LeWM paper: 47 s / 0.98 s = 48x on one GPU)")


if __name__ == "__main__":
    main()
