"""Command line: train, evaluate, or run the whole pipeline.

    python -m lewm_mini run                       # data, training (auto profile), both protocols, table, picture
    python -m lewm_mini train --profile cpu --out runs/cpu
    python -m lewm_mini evaluate --checkpoint runs/cpu/checkpoint.pt --episodes 50 --seed 0 --protocol paper --json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import PROFILES, get_config
from .evaluate import PROTOCOLS, evaluate, summary
from .train import load_model, train


def cmd_train(args: argparse.Namespace) -> int:
    cfg = get_config(args.profile)
    if args.steps:
        cfg.train.steps = args.steps
    result = train(cfg, args.out, device=args.device, resume=not args.fresh)
    last = result.history[-1] if result.history else {}
    print(f"trained {cfg.profile} profile: {len(result.history)} steps in {result.seconds:.0f} s, "
          f"pred {last.get('pred', float('nan')):.4f}, sigreg {last.get('sigreg', float('nan')):.3f}", file=sys.stderr)
    print(result.checkpoint)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    model, stats, cfg = load_model(args.checkpoint, args.device or "cpu")
    for key in ("horizon", "samples", "iterations"):
        if getattr(args, key):
            setattr(cfg.plan, key, getattr(args, key))
    result = summary(evaluate(model, stats, cfg, args.protocol, args.episodes, args.seed, progress=not args.json))
    if args.json:
        print(json.dumps(result))
    else:
        print(table([result]))
    return 0


def table(results: list[dict]) -> str:
    rows = ["| protocol | episodes | budget | LeWM success | random policy | CEM solve (median s) |",
            "|---|---|---|---|---|---|"]
    for r in results:
        rows.append(f"| {r['protocol']} | {r['episodes']} | {r['budget']} steps | {r['success_rate']:.0%} | "
                    f"{r['random_success_rate']:.0%} | {r['plan_seconds_median']:.3f} |")
    return "\n".join(rows)


def cmd_run(args: argparse.Namespace) -> int:
    from .viz import save_plan_figure

    cfg = get_config(args.profile)
    out = Path(args.out or f"runs/{cfg.profile}")
    print(f"profile {cfg.profile}: {cfg.data.episodes} episodes, {cfg.train.steps} training steps -> {out}")
    result = train(cfg, out, device=args.device)
    print(f"checkpoint: {result.checkpoint} ({result.seconds:.0f} s of training this run)")
    results = []
    for protocol in PROTOCOLS:
        r = evaluate(result.model, result.stats, cfg, protocol, args.episodes, args.seed)
        fig = save_plan_figure(r, out / f"plan_{protocol}.png", cfg.data.size, random_traj=r["random_trajectories"])
        print(f"picture: {fig}")
        results.append(summary(r))
    (out / "results.json").write_text(json.dumps(results, indent=1))
    print(table(results))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lewm_mini", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("train", help="train a model and print the checkpoint path")
    p.add_argument("--profile", choices=(*PROFILES, "auto"), default="auto")
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, help="override the profile's number of training steps")
    p.add_argument("--fresh", action="store_true", help="start over instead of resuming a checkpoint in --out")
    p.add_argument("--device")
    p.set_defaults(fn=cmd_train)
    p = sub.add_parser("evaluate", help="plan with a checkpoint and report success beside a random policy")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--episodes", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--protocol", choices=list(PROTOCOLS), default="paper")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--horizon", type=int, help="CEM horizon in action blocks (default: the profile's, 5)")
    p.add_argument("--samples", type=int, help="CEM samples per iteration (default 300)")
    p.add_argument("--iterations", type=int, help="CEM iterations (default 30)")
    p.add_argument("--device")
    p.set_defaults(fn=cmd_evaluate)
    p = sub.add_parser("run", help="collect data, train, evaluate both protocols, print a table, save pictures")
    p.add_argument("--profile", choices=(*PROFILES, "auto"), default="auto")
    p.add_argument("--out")
    p.add_argument("--episodes", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device")
    p.set_defaults(fn=cmd_run)
    args = ap.parse_args(argv)
    try:
        return args.fn(args)
    except (FileNotFoundError, ValueError, FloatingPointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
