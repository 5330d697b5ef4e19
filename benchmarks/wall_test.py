"""The wall test (lewm_mini.walltest) for the profile's model and for one trained on "heuristic-straight" data.

    python benchmarks/wall_test.py --profile cpu --out lewm_mini/results/wall_test_cpu.json

For each training policy: the fraction of training action blocks that press into the wall, and the imagined
crossings when pushing into the wall (both sides) and down open floor for 2, 5 and 8 blocks, 200 starts per
side, with the profile's planning context (one latent on cpu). Models missing from the cache are trained
(cpu profile: 10-40 min each).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import torch

from lewm_mini.config import get_config, usable_cpus
from lewm_mini.costmap import grid_latents
from lewm_mini.data import load_or_collect
from lewm_mini.notebook import cached_run
from lewm_mini.walltest import pressing_fraction, wall_test
from lewm_mini.world import Geometry


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--policies", default="heuristic,heuristic-straight")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(usable_cpus())
    out = {"profile": args.profile, "n_per_side": args.n, "results": {}}
    geo = Geometry(get_config(args.profile).data.size)
    for policy in args.policies.split(","):
        cfg = get_config(args.profile)
        cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, policy=policy))
        run = cached_run(cfg, progress=False)
        grid = grid_latents(run.model, cfg.data.size)
        res = {"pressing_block_fraction": pressing_fraction(load_or_collect(cfg.data, "train", progress=False),
                                                            cfg.model.frameskip, cfg.data.size)}
        for blocks in (2, 5, 8):
            r = wall_test(run.model, run.stats, n=args.n, blocks=blocks, history=cfg.plan.history, grid=grid)
            s = r.summary()
            crossed = r.crossed() & (r.side < 2)
            past = np.where(r.side == 0, r.imagined[:, 0] - geo.wall[1], geo.wall[0] - r.imagined[:, 0])[crossed]
            s["crossed_past_wall_px_median"] = float(np.median(past)) if past.size else None
            res[f"{blocks}_blocks"] = s
        out["results"][policy] = res
        print(policy, json.dumps(res), flush=True)
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
