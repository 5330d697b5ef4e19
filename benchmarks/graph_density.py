"""Shortcuts through the wall as the waypoint graph grows: why a head trained on a bigger graph can plan worse.

    python benchmarks/graph_density.py --profile cpu --out lewm_mini/results/graph_density_cpu.json
    python benchmarks/graph_density.py --profile cpu --policy heuristic-straight --episodes 250 \
        --out lewm_mini/results/graph_density_cpu_straight.json

For graphs of 50, 250 and 1,000 training episodes (lewm_mini.graph.build_graph, the planner's settings): nodes,
edges, edges across the wall away from the door (all, and those from latent proximity), and, for 1,200 node pairs
in different rooms, the graph distance against the fewest blocks the true path round the wall needs (its length
over 7.14 px, the farthest one block moves): a ratio under 0.5 is a path the world does not allow.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import torch

from lewm_mini.config import get_config, usable_cpus
from lewm_mini.data import load_or_collect
from lewm_mini.graph import build_graph, graph_distances, illegal_edges
from lewm_mini.notebook import cached_run
from lewm_mini.world import Geometry, geodesic_distance, room_of


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--episodes", default="50,250,1000")
    ap.add_argument("--policy", default=None, help="the training data's policy (default: the profile's), e.g. "
                    "heuristic-straight: the wall-respecting model of README's wall test")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(usable_cpus())
    cfg = get_config(args.profile)
    if args.policy:
        cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, policy=args.policy))
    run = cached_run(cfg, progress=False)
    geo = Geometry(cfg.data.size)
    block_px = geo.speed * cfg.model.frameskip
    episodes = load_or_collect(cfg.data, "train", progress=False)
    out = {"profile": cfg.profile, "policy": cfg.data.policy, "graphs": {}}
    for n in map(int, args.episodes.split(",")):
        g = build_graph(run.model, episodes, cfg.model.frameskip, n_episodes=n, seed=0)
        illegal = illegal_edges(g, geo)
        latent = np.asarray(g.latent_edge[g.edges[:, 0], g.edges[:, 1]]).ravel() > 0
        rng = np.random.default_rng(0)
        src = rng.integers(0, len(g.z), 60).repeat(20)
        dst = rng.integers(0, len(g.z), len(src))
        true = np.concatenate([geodesic_distance(g.pos[s], g.pos[dst[i:i + 20]], geo)
                               for i, s in zip(range(0, len(src), 20), src[::20])])
        cross = room_of(g.pos[src], geo) != room_of(g.pos[dst], geo)
        ratio = graph_distances(g, src, dst)[cross] / (true[cross] / block_px)
        out["graphs"][n] = {"nodes": len(g.z), "edges": len(g.edges), "illegal_edges": int(illegal.sum()),
                            "illegal_latent_edges": int((illegal & latent).sum()), "cross_room_pairs": int(cross.sum()),
                            "graph_over_fewest_blocks_median": float(np.median(ratio)),
                            "share_under_half": float((ratio < 0.5).mean())}
        print(n, json.dumps(out["graphs"][n]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
