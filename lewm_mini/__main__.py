"""Command line: train, evaluate, or run the whole pipeline.

    python -m lewm_mini run                       # data, training (auto profile), both protocols, table, picture
    python -m lewm_mini run --world momentum      # the same in the world with momentum (chapter 10)
    python -m lewm_mini train --profile cpu --out runs/cpu
    torchrun --nproc_per_node=4 -m lewm_mini train --profile gpu --out runs/gpu   # 4 GPUs, DDP
    python -m lewm_mini evaluate --checkpoint runs/cpu/checkpoint.pt --episodes 50 --seed 0 --protocol paper --json
    python -m lewm_mini check exercises/03_predictor_exercises.ipynb   # your answers, every checker strict
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import sys
from pathlib import Path

import torch

from . import cache
from .config import PROFILES, for_world, get_config, override, pick_device, plain_cem, with_icem
from .distributed import process_group, rank
from .evaluate import PROTOCOLS, evaluate, summary
from .planning import PLANNERS, planner_parts
from .train import CHECKPOINT, load_model, train
from .world import WORLDS

SOLVERS = ("icem", "plain")
SOLVER_HELP = ("icem: CEM with iCEM's options (lewm_mini.config.ICEM: 100 x 10, warm starts, a replan every "
               "10 steps); plain: LeWM's CEM, 300 x 30, the whole plan executed (default: %(default)s)")
CI_NOTE = ("note: ci profile (a tiny model trained for seconds): success is expected to equal the random "
           "policy's; ci only proves the code runs. Use --profile cpu or gpu for results that mean something.")


# ----------------------------------------------------------------------------- argument types
# Each raises argparse.ArgumentTypeError, so argparse names the argument and exits with code 2
# before any data collection or training.


def at_least(least: int):
    """An argparse type: a whole number >= ``least``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
        return value

    return parse


def device(text: str) -> str:
    """An argparse type: cpu, cuda, cuda:N or mps, and only one this machine has."""
    try:
        dev = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a device; use cpu, cuda, cuda:N or mps") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise argparse.ArgumentTypeError("CUDA is not available on this machine; use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise argparse.ArgumentTypeError(f"no {text}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise argparse.ArgumentTypeError("MPS is not available on this machine; use --device cpu")
    elif dev.type != "cpu":
        raise argparse.ArgumentTypeError(f"{text!r} is not supported; use cpu, cuda, cuda:N or mps")
    return text


def checkpoint_file(text: str) -> Path:
    """An argparse type: an existing checkpoint file."""
    path = Path(text).expanduser()
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no checkpoint at {path}; train one with "
                                         "`python -m lewm_mini train --out DIR`")
    return path


def writable_dir(text: str) -> Path:
    """An argparse type: a folder, created if needed, that this process can write to (probed)."""
    path = Path(text).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".lewm_write_test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise argparse.ArgumentTypeError(f"cannot write to {path} ({err.strerror or err})") from None
    return path


def chosen_planner(cfg, planner: str | None) -> str:
    """--planner, else the config's; the Momentum world plans with flat CEM only (a clear error otherwise)."""
    planner = planner or cfg.plan.planner
    if cfg.data.world == "momentum" and planner != "cem":
        raise ValueError(f"argument --planner: the momentum world plans with 'cem' (its graph and distance head would "
                         f"be built on single frames, which do not show the velocity), not {planner!r}")
    return planner


def cmd_train(args: argparse.Namespace) -> int:
    cfg = override(for_world(get_config(args.profile), args.world), args.set)
    if args.steps is not None:
        cfg.train.steps = args.steps
    with process_group():  # under torchrun: DistributedDataParallel, one process per GPU (gloo on CPUs)
        result = train(cfg, args.out, device=args.device, resume=not args.fresh)
        main_process = rank() == 0
    if not main_process:
        return 0
    last = result.history[-1] if result.history else {}
    print(f"trained {cfg.profile} profile: {len(result.history)} steps in {result.seconds:.0f} s, "
          f"pred {last.get('pred', float('nan')):.4f}, sigreg {last.get('sigreg', float('nan')):.3f}", file=sys.stderr)
    print(result.checkpoint)
    return 0


def with_solver(cfg, solver: str):
    """cfg with the plan's CEM as chosen: "icem" (the profile's, lewm_mini.config.ICEM) or "plain" (LeWM's)."""
    return plain_cem(cfg) if solver == "plain" else with_icem(cfg)


def cmd_evaluate(args: argparse.Namespace) -> int:
    if any(not a.startswith("plan.") for a in args.set):
        raise ValueError("argument --set: a trained model's data, model and training settings are fixed; evaluate "
                         "takes plan.* settings only, e.g. --set plan.horizon=3")
    model, stats, cfg = load_model(args.checkpoint, args.device or str(pick_device()))  # as train: the best device here
    if args.world is not None and args.world != cfg.data.world:
        raise ValueError(f"argument --world: {args.checkpoint} was trained in the {cfg.data.world} world; a model "
                         f"knows only the world it was trained in, so it cannot be evaluated in {args.world}")
    cfg = override(with_solver(cfg, args.cem), args.set)
    planner = chosen_planner(cfg, args.planner)
    for key in ("horizon", "samples", "iterations"):
        if getattr(args, key) is not None:
            setattr(cfg.plan, key, getattr(args, key))
    if cfg.plan.samples < cfg.plan.elites:
        raise ValueError(f"argument --samples: must be at least the {cfg.plan.elites} elites CEM keeps")
    with contextlib.redirect_stdout(sys.stderr):  # what is loaded or trained is said on stderr; stdout is the result
        graph, head = planner_parts(model, cfg, planner, Path(args.checkpoint).parent, not args.json)
    result = honest(summary(evaluate(model, stats, cfg, args.protocol, args.episodes, args.seed,
                                     progress=not args.json, planner=planner, graph=graph, head=head)),
                    cfg.profile)
    if args.json:
        print(json.dumps(result))
    else:
        print(table([result]))
    return 0


def honest(result: dict, profile: str) -> dict:
    """Add the profile, and under ci the note that its results are expected to be the random policy's."""
    return result | {"profile": profile} | ({"note": CI_NOTE} if profile == "ci" else {})


def table(results: list[dict]) -> str:
    rows = ["| protocol | planner | episodes | budget | LeWM success (95% CI) | random policy | one plan (median s) "
            "| rollouts per plan |",
            "|---|---|---|---|---|---|---|---|"]
    for r in results:
        lo, hi = r["success_ci95"]
        rows.append(f"| {r['protocol']} | {r['planner']} | {r['episodes']} | {r['budget']} steps | {r['success_rate']:.0%} "
                    f"({lo:.0%}-{hi:.0%}) | {r['random_success_rate']:.0%} | {r['plan_seconds_median']:.3f} "
                    f"| {r['evaluations_per_solve']:.0f} |")
    notes = sorted({r["note"] for r in results if r.get("note")})
    return "\n".join(rows + ([""] + notes if notes else []))


def cmd_check(args: argparse.Namespace) -> int:
    from .notebook_runner import check_main

    return check_main(args.notebooks, args.profile)


def cmd_run(args: argparse.Namespace) -> int:
    from .viz import save_plan_figure

    cfg = override(for_world(get_config(args.profile), args.world), args.set)
    planner = chosen_planner(cfg, args.planner)
    try:  # the report's folder; without --out, the model lives in the cache, where the chapters find it too
        report = writable_dir(args.out or f"runs/{cfg.profile}" + ("" if args.world == "two-room" else f"-{args.world}"))
    except argparse.ArgumentTypeError as err:
        raise ValueError(f"argument --out: {err}") from None
    run_folder = args.run_dir = Path(args.out) if args.out else cache.run_dir(cfg)
    print(f"profile {cfg.profile}, world {cfg.data.world}: {cfg.data.episodes} episodes, {cfg.train.steps} training "
          f"steps -> {run_folder}")
    result = train(cfg, run_folder, device=args.device)
    cfg = override(with_solver(cfg, args.cem), [a for a in args.set if a.startswith("plan.")])
    print(f"checkpoint: {result.checkpoint} ({result.seconds:.0f} s of training this run)")
    results = []
    graph, head = planner_parts(result.model, cfg, planner, Path(result.checkpoint).parent)  # once
    for protocol in PROTOCOLS:
        r = evaluate(result.model, result.stats, cfg, protocol, args.episodes, args.seed, planner=planner,
                     graph=graph, head=head)
        fig = save_plan_figure(r, report / f"plan_{protocol}.png", cfg.data.size, random_traj=r["random_trajectories"])
        print(f"picture: {fig}")
        results.append(honest(summary(r), cfg.profile))
    (report / "results.json").write_text(json.dumps(results, indent=1))
    print(f"results: {report / 'results.json'}")
    print(table(results))
    return 0


def interrupted(args: argparse.Namespace, argv: list[str]) -> str:
    """What Ctrl-C leaves behind: the checkpoint, and the command that resumes from it."""
    folder = args.out if args.cmd == "train" else getattr(args, "run_dir", None)
    if args.cmd not in ("train", "run") or folder is None:
        return "interrupted."
    command = shlex.join(["python", "-m", "lewm_mini", *(a for a in argv if a != "--fresh")])
    path = Path(folder) / CHECKPOINT
    if path.exists():
        return f"interrupted: the last checkpoint is {path}. Resume with:\n  {command}"
    return f"interrupted before the first checkpoint ({path}). Start again with:\n  {command}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lewm_mini", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("train", help="train a model and print the checkpoint path")
    p.add_argument("--profile", choices=(*PROFILES, "auto"), default="auto")
    p.add_argument("--out", required=True, type=writable_dir)
    p.add_argument("--steps", type=at_least(1), help="override the profile's number of training steps")
    p.add_argument("--fresh", action="store_true", help="start over instead of resuming a checkpoint in --out")
    p.add_argument("--world", choices=WORLDS, default="two-room", help="two-room, or momentum: a puck that keeps "
                   "moving (chapter 10) (default: %(default)s)")
    p.add_argument("--device", type=device, help="cpu, cuda, cuda:N or mps (default: CUDA when present, else cpu)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                   help="any config field, e.g. --set train.steps=500 --set plan.horizon=3 (lewm_mini.config)")
    p.set_defaults(fn=cmd_train)
    p = sub.add_parser("evaluate", help="plan with a checkpoint and report success beside a random policy")
    p.add_argument("--checkpoint", required=True, type=checkpoint_file)
    p.add_argument("--episodes", type=at_least(1), default=50)
    p.add_argument("--seed", type=at_least(0), default=0)
    p.add_argument("--protocol", choices=list(PROTOCOLS), default="paper")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--horizon", type=at_least(1), help="CEM horizon in action blocks (default: the profile's, 5)")
    p.add_argument("--samples", type=at_least(1), help="CEM samples per iteration (default 300)")
    p.add_argument("--iterations", type=at_least(1), help="CEM iterations (default 30)")
    p.add_argument("--planner", choices=PLANNERS,
                   help="distance: CEM scored by a learned distance in time; graph: CEM to latent waypoints on a graph of "
                        "training frames; graph-distance: the graph's waypoints scored by the learned distance; cem: "
                        "flat CEM to the goal image (default: the checkpoint's, distance in two-room, cem in momentum)")
    p.add_argument("--world", choices=WORLDS, help="the world to evaluate in; must be the checkpoint's (default: the "
                   "checkpoint's)")
    p.add_argument("--cem", choices=SOLVERS, default="icem", help=SOLVER_HELP)
    p.add_argument("--device", type=device, help="cpu, cuda, cuda:N or mps (default: CUDA when present, else cpu)")
    p.add_argument("--set", action="append", default=[], metavar="plan.FIELD=VALUE",
                   help="any planning setting, e.g. --set plan.replan_every=5 (lewm_mini.config.PlanConfig)")
    p.set_defaults(fn=cmd_evaluate)
    p = sub.add_parser("run", help="collect data, train, evaluate both protocols, print a table, save pictures")
    p.add_argument("--profile", choices=(*PROFILES, "auto"), default="auto")
    p.add_argument("--out", type=writable_dir, help="the run's folder: checkpoint, results.json, pictures (default: "
                   "the model in the cache, lewm_mini.cache.run_dir, where the chapters find it; results.json and "
                   "pictures in runs/<profile>, runs/<profile>-momentum in the momentum world)")
    p.add_argument("--planner", choices=PLANNERS, help="cem, graph, distance or graph-distance (default: distance in two-room, cem in "
                   "momentum)")
    p.add_argument("--world", choices=WORLDS, default="two-room", help="two-room, or momentum: a puck that keeps "
                   "moving (chapter 10) (default: %(default)s)")
    p.add_argument("--episodes", type=at_least(1), default=50)
    p.add_argument("--seed", type=at_least(0), default=0)
    p.add_argument("--cem", choices=SOLVERS, default="icem", help=SOLVER_HELP)
    p.add_argument("--device", type=device, help="cpu, cuda, cuda:N or mps (default: CUDA when present, else cpu)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                   help="any config field, e.g. --set train.steps=500 --set plan.horizon=3 (lewm_mini.config)")
    p.set_defaults(fn=cmd_run)
    p = sub.add_parser("check", help="run exercise notebooks with every checker strict; say which exercises pass")
    p.add_argument("notebooks", nargs="*", help="exercise notebooks (.ipynb or .py; default: all of exercises/)")
    p.add_argument("--profile", choices=PROFILES, default="ci")
    p.set_defaults(fn=cmd_check)
    argv = sys.argv[1:] if argv is None else list(argv)
    args = ap.parse_args(argv)
    try:
        return args.fn(args)
    except (FileNotFoundError, ValueError, FloatingPointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass  # leaving the handler frees the traceback, so open progress bars close before the message
    print(f"\n{interrupted(args, argv)}", file=sys.stderr)
    return 130


if __name__ == "__main__":
    sys.exit(main())
