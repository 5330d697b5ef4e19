# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · A distance in time: how many steps to the goal, learned
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/notebooks/08_distance_in_time.ipynb)
#
# Chapter 07 went round the wall with a graph of stored frames: a memory that the planner searches
# at every replan. This chapter **learns** what the graph knows. A small head on top of the frozen
# latents reads off how many action blocks separate two states, round the wall, and CEM plans with
# that distance as its cost: no graph at plan time, one goal, a short horizon.
#
# **What you build:** how flat the latent cost goes far from the goal, measured against the 2D that
# SIGReg's target predicts; the wall test, whether the model's imagination walks through the wall
# (the course's model passes it, an earlier one did not); a distance head trained on the graph's
# shortest paths, built step by step (targets, metric embedding, near and far pairs, a weighted
# loss, latent noise) and checked against `lewm_mini.distance.train_distance`; how well it ranks
# true distances round the wall; its cost map beside chapter 06's; planning with it beside the
# graph planner, live and on the stored 200 tasks with ablations.
#
# **Objectives.** After this chapter you can
# - explain why an isotropic Gaussian latent space makes the Euclidean cost flat beyond a few blocks;
# - test whether a world model's rollouts respect an obstacle, and choose a planning horizon from it;
# - train a metric embedding on shortest-path distances, and judge it with rank correlations against
#   the true distance;
# - plug a learned cost into CEM, and read success rates with their intervals, ablations and the
#   random floor.
#
# **Prerequisites:** chapters 05 (the trained model), 06 (CEM, MPC, the cost map and its informative
# radius) and 07 (the waypoint graph, Dijkstra).
#
# **Time:** reading about 45 min.
#
# **Compute** (measured by `tools/execute_notebooks.py`, in a fresh kernel): CPU, cpu profile 33 s on 2
# cores of AMD EPYC (torch 2.13.0+cpu, 2026-12-02, reusing what earlier runs left in the cache, machine
# busy: load 2.2).

# %%
import subprocess, sys
REPO_URL = "https://github.com/lewm-mini/lewm-mini"  # set in lewm_mini/notebook.py
if "google.colab" in sys.modules:  # installs lewm_mini only: Colab's CUDA torch stays
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"git+{REPO_URL}"],
                         capture_output=True, text=True)
    if pip.returncode:
        raise SystemExit(f"Could not install lewm_mini from {REPO_URL}:\n{pip.stderr.strip()[-300:]}\n"
                         "Set REPO_URL to a copy you can reach, or upload the repository and "
                         "!pip install -q <its folder>.")
from lewm_mini.notebook import setup
cfg, device = setup(seed=0)

# %% [markdown]
# Where this chapter sits in LeWorldModel: the model is untouched. The planner (highlighted) keeps
# CEM and the predictor's rollouts, and changes how it scores an imagined state.

# %%
import matplotlib.pyplot as plt

from lewm_mini.viz import pipeline_figure

pipeline_figure("planner")
plt.show()

# %%
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import binomtest, spearmanr
from torch import nn

from lewm_mini.config import RESULTS
from lewm_mini.costmap import (cost_map, cost_profile, encode_positions, grid_image, grid_latents, informative_radius,
                               path_length)
from lewm_mini.data import load_or_collect
from lewm_mini.distance import DISTANCE_SIZES, cached_distance, graph_targets, train_distance
from lewm_mini.evaluate import evaluate
from lewm_mini.graph import build_graph, graph_distances
from lewm_mini.notebook import cached_run, expect
from lewm_mini.viz import plot_plan
from lewm_mini.walltest import pressing_fraction, wall_test
from lewm_mini.world import Geometry, background, geodesic_distance, room_of

# %% [markdown]
# The settings. Planning in this chapter uses the profile's iCEM (chapter 06, section 3), the
# package's default; the distance planner looks `P.distance_horizon` blocks ahead.

# %%
T0 = time.perf_counter()
plt.rcParams["figure.dpi"] = 90
SIZE = cfg.data.size
geo = Geometry(SIZE)
P, FS = cfg.plan, cfg.model.frameskip
BLOCK_PX = FS * geo.speed  # how far one action block moves the agent at full speed along an axis
print(f"iCEM {P.samples} samples x {P.iterations} iterations. Flat CEM: {P.horizon} blocks. Distance planner: "
      f"{P.distance_horizon} blocks, replanning every {P.replan_every} steps. One block: {FS} steps, at most "
      f"{BLOCK_PX:.1f} px along an axis")

# %% [markdown]
# Two helpers: one reads a stored benchmark run (the files ship with the package; a run that has not
# been made yet is reported, not fatal), the other draws the empty arena.

# %%
def stored(name: str) -> dict | None:
    """A stored benchmark run from lewm_mini/results, or None when it is not there (yet)."""
    path = RESULTS / name
    if path.exists():
        return json.loads(path.read_text())
    print(f"{name}: not in lewm_mini/results yet (benchmarks/graph_planner.py writes it)")
    return None


def arena(ax, title: str) -> None:
    """The empty arena (wall and door) in pixel coordinates."""
    ax.imshow(background(geo), extent=(0, SIZE, SIZE, 0))
    ax.set_xlim(0, SIZE), ax.set_ylim(SIZE, 0), ax.set_xticks([]), ax.set_yticks([])
    ax.set_title(title, fontsize=9)


# %% [markdown]
# The trained model from chapter 05 (loaded from the cache, or trained: chapter 05's **Compute**
# line says how long that takes).

# %%
run = cached_run(cfg)
model, stats = run.model.to(device).eval(), run.stats  # eval mode: BatchNorm running statistics
print(f"training loop in this session: {run.seconds:.0f} s (0: the trained model came from the cache)")

# %% [markdown]
# ## 1. Why the latent cost is flat far away
#
# Chapter 06 drew the planning cost $\lVert z - z_{\text{goal}} \rVert^2$ over the arena and found
# it informative only within a short radius of the goal; chapter 07 showed flat CEM failing behind
# the wall. SIGReg's target says what level to expect far away. SIGReg pushes the latents towards an
# isotropic standard Gaussian in D dimensions. For two independent draws from it, each coordinate of
# their difference has variance 2, so their squared distance is about **2D** on average (128 for the
# cpu profile's D = 64), whatever the two frames show. Only frames close enough to share structure
# should sit closer than that. The measurement below is consistent with this prediction; it cannot
# prove SIGReg is the cause, since this chapter has no model trained without SIGReg to compare.
#
# Measure it: encode the agent at every free position of a 1-px grid (chapter 06's `grid_latents`),
# draw random pairs of positions, and average the squared latent distance for pairs within one
# block of each other, pairs in the same room at least 25 px apart, and pairs in different rooms.

# %%
grid = grid_latents(model, SIZE)  # every free position (M, 2) and its latent (M, D)
gpos, gz = grid
D = gz.shape[1]
i, j = np.random.default_rng(0).integers(0, len(gpos), (2, 20_000))
sq = ((gz[i] - gz[j]) ** 2).sum(1).numpy()  # squared latent distance of each pair
walk_ij = path_length(gpos[i], gpos[j], SIZE)  # walking distance, through the door between rooms
same = room_of(gpos[i], geo) == room_of(gpos[j], geo)
print(f"D = {D}: SIGReg's target puts independent latents at a squared distance 2D = {2 * D}; this model's "
      f"grid latents have total variance {gz.var(0).sum():.3g} (the target: D = {D})")
for name, m in (("same room, within one block", same & (walk_ij <= BLOCK_PX)),
                ("same room, 25 px or more apart", same & (walk_ij >= 25)), ("other room", ~same)):
    print(f"  {name:31s} ({m.sum():5d} pairs): mean squared distance {sq[m].mean():6.3g} "
          f"= {sq[m].mean() / (2 * D):.2f} x 2D")
radius_pairs = informative_radius(walk_ij, sq)
print(f"the mean squared distance reaches 90% of its far level at {radius_pairs:.0f} px of walking distance "
      f"(chapter 06's informative radius, over all pairs); one flat-CEM plan moves at most "
      f"{P.horizon * BLOCK_PX:.0f} px")

# %%
centres, mean_sq = cost_profile(walk_ij, sq)
show = np.random.default_rng(1).choice(len(sq), 3000, replace=False)
fig, ax = plt.subplots(figsize=(7, 3.6))
ax.scatter(walk_ij[show][same[show]], sq[show][same[show]], s=3, alpha=0.3, label="same room")
ax.scatter(walk_ij[show][~same[show]], sq[show][~same[show]], s=3, alpha=0.3, color="tab:red", label="other room")
ax.plot(centres, mean_sq, "k-", lw=2, label="mean in 2-px bins")
ax.axhline(2 * D, color="tab:green", ls="--", label=f"2D = {2 * D}")
ax.axvline(radius_pairs, color="tab:cyan", ls="--", label="informative radius")
ax.set_xlabel("walking distance between the two positions (px)"), ax.set_ylabel("squared latent distance")
ax.set_title("random pairs of grid frames", fontsize=9)
ax.legend(fontsize=7, markerscale=4)
plt.tight_layout()
plt.show()

# %% [markdown]
# Pairs within one block sit far below 2D; from a short distance on, the mean levels off close to 2D
# and stays there whatever the distance (the printed ratios; the black line). The cost that the planner
# minimises is this squared distance to the goal's latent, so beyond the informative radius every
# state looks about equally far from the goal. Nothing in training asked for more: the prediction
# loss compares a latent with the next block's, a few pixels away, and SIGReg spreads everything
# else out like noise. A longer horizon does not help a cost that cannot tell far from farther.
#
# What the planner needs instead is a **distance in time**: how many action blocks it takes to get
# from here to the goal. Before building one, a second limit of long plans.

# %% [markdown]
# ## 2. The wall test: does imagination respect the wall?
#
# A planner scores plans by imagining them with the predictor. If the predictor lets the agent pass
# through the wall, a plan that pushes into the wall looks like a shortcut. `lewm_mini.walltest.wall_test`
# measures it: start the agent a few pixels from the wall's solid part (below the door), push straight
# into it at full speed for a number of blocks, really (the agent stops at the wall) and in
# imagination (a rollout from the start's latent, with the history the planner uses). The imagined
# last latent is read as the position of the nearest grid frame (chapter 06's reader). If that lies in
# the other room, the model walked through the wall. The control pushes the same way through open
# floor, far from any wall. 200 starts per side, pushes of 2 and 5 blocks:

# %%
expect(3, 20, 10, cfg.profile)
walls = {b: wall_test(model, stats, n=200, blocks=b, history=P.history, grid=grid) for b in (2, 5)}
for b, wt in walls.items():
    print(f"push of {b} blocks ({b * FS} steps): " + "; ".join(
        f"{side} {v['crossed']:.0%} crossed (median error {v['median_error_px']:.1f} px)"
        for side, v in wt.summary().items()))

# %% [markdown]
# The picture: for 40 starts per side, a line from the start to where the model imagines the agent
# after the push (a cross); red where that is in the other room. Black dots: where the agent really
# ends.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 5))
for ax, (b, wt) in zip(axes, walls.items()):
    arena(ax, f"pushing for {b} blocks ({b * FS} steps)")
    crossed = wt.crossed()
    for side, color in ((0, "tab:blue"), (1, "tab:orange"), (2, "tab:purple")):
        k = np.flatnonzero(wt.side == side)[:40]
        for s, e, c in zip(wt.start[k], wt.imagined[k], crossed[k]):
            ax.plot([s[0], e[0]], [s[1], e[1]], color="tab:red" if c else color, lw=0.8, alpha=0.7)
        ax.scatter(*wt.start[k].T, s=8, color=color, label=["left start", "right start", "open-floor start"][side])
        ax.scatter(*wt.imagined[k].T, s=14, marker="x", c=np.where(crossed[k], "tab:red", color))
        ax.scatter(*wt.real[k].T, s=6, color="k")
    ax.plot([], [], color="tab:red", marker="x", label="imagined end in the other room")
    ax.scatter([], [], s=6, color="k", label="real end")
axes[0].legend(fontsize=7, loc="upper right")
plt.tight_layout()
plt.show()

# %% [markdown]
# The course's model passes the test (under the cpu profile; the ci profile's model has trained for
# seconds and shows nothing): the imagined agent stays on its side of the wall after 2 and after 5
# blocks of pushing, and the open-floor control never changes room (the printed rates). It was not
# always so. A planner that trusts rollouts which walk through the wall scores "push into the wall"
# as a way to reach a goal on the other side, and then executes it, while the real agent stays stuck
# against the wall. An earlier version of this course trained the same model, with the same settings,
# on data from chapter 01's plain heuristic, in which every agent heads for the door; that model failed
# the test. What differs is how often the data shows the agent pressing against the wall.
# `lewm_mini.walltest.pressing_fraction` counts, in a data set, the action blocks that start within
# 4 px of the wall's solid part and push into it, here for the course's data (`"heuristic-straight"`:
# a quarter of the agents ignore the door, chapter 01) and for the plain heuristic's:

# %%
episodes = load_or_collect(cfg.data, "train", progress=False)  # the profile's training data
door_eps = load_or_collect(dataclasses.replace(cfg.data, policy="heuristic"), "train",
                           progress=False)  # every agent takes the door; collected in seconds when not in the cache
for name, eps in ((cfg.data.policy, episodes), ("heuristic", door_eps)):
    print(f"policy {name!r} ({len(eps):,} episodes): {pressing_fraction(eps, FS, SIZE):.1%} of the action "
          "blocks push into the wall")

# %% [markdown]
# On the cpu profile the course's data pushes into the wall in 8.5% of its action blocks, the plain
# heuristic's in 4.3% (the printed lines), and only briefly: its agents slide along the wall to the
# door. Two stored benchmark runs ran the wall test (same settings, n = 200) on the model trained on
# each data set (same architecture, training steps and seed) and planned with both on the same 200
# cross-room tasks (chapters 07 and 08's planners; section 7 below has the whole table):

# %%
MAIN = ("cem", "graph", "distance")  # flat CEM, chapter 07's graph planner, this chapter's planner
door_model = stored("distance_planner_cpu_heuristic_200.json")  # the model trained on "heuristic" data
base = stored("planners_cpu_200.json")  # the profile's model, the one every chapter loads
for bench_ in (door_model, base):
    if bench_ is None:
        continue
    print(f"training data: policy {bench_['training_policy']!r}")
    for b, v in bench_["wall_test"].items():
        print(f"  wall test, {b.replace('_', ' ')}: " + ", ".join(f"{side} {v[side]['crossed']:.0%} crossed"
                                                               for side in ("left", "right", "open")))
    print("  cross-room success, 200 tasks: " + ", ".join(
        f"{k} {r['success_rate']:.1%}" for k, r in bench_["results"]["cross-room"].items() if k in MAIN))

# %% [markdown]
# Read the two blocks above row by row. With the plain heuristic's data, pushing 5 blocks into the wall
# ends on the far side for 30% of the starts on the left and 42% on the right; with the course's data,
# for 0% on both sides (the open-floor control stays at 0% for both). One run per data set, and the
# data also changes the graph built from it, so this is one comparison, not a measured cause. A
# plausible reading: a predictor that has rarely seen "push the wall, nothing moves" extrapolates the
# open-floor motion, and the errors add up block by block.
#
# The planners change too: on the same 200 cross-room tasks the distance planner of this chapter
# solves 92.0% with the earlier model and 96.5% with the course's, the graph planner 82.0% and 88.0%
# (chapter 07's waypoint rule also changed between the two runs), flat CEM 34.5% and 33.0%. Even with a
# model that respects the wall, short plans stay the rule: section 7 measures the distance planner at
# 5 blocks, and it does worse. The rest of the chapter uses the course's model, the one every chapter
# loads.

# %% [markdown]
# ## 3. A distance in time
#
# The **distance in time** from state s to state g is the number of action blocks it takes to get
# from s to g, round the wall. Chapter 07's waypoint graph already measures it, between stored
# frames: the shortest path over episode edges (transitions that happened) and latent edges
# (near-identical frames) is a number of blocks. A planner cannot look up an imagined state in the
# graph, though. So we **learn** the graph's distance as a function of two latents, one that accepts
# any latent, imagined ones included.
#
# The graph (`lewm_mini.graph.build_graph`, built step by step in chapter 07), over the frames of
# `P.graph_episodes` of the training episodes loaded in section 2:

# %%
expect(2, 10, 10, cfg.profile)
graph = build_graph(model, episodes, FS, n_episodes=P.graph_episodes, seed=0)
N = len(graph.z)
print(f"{N} nodes, {len(graph.edges)} edges; median one-block latent step {graph.block_step:.3g}")

# %% [markdown]
# **Step 1, the targets.** Shortest-path distances, in blocks, from `sources` random nodes to every
# node: one Dijkstra per source. Each (source, node) pair with a finite distance is a training
# example. **Exercise 8.1** asks you to write the shortest-path part yourself: try it before you read
# `lewm_mini.distance.graph_targets`, which the cell below calls.

# %%
DCFG = DISTANCE_SIZES[cfg.profile]  # the head's size and training for this profile
dist, src = graph_targets(graph, DCFG.sources, DCFG.seed)  # (S, N) blocks, (S,) source nodes
finite = np.isfinite(dist)
NEAR = 6  # blocks: "near", where the planner works
print(f"targets {dist.shape}: {finite.mean():.1%} finite; median {np.median(dist[finite]):.1f} blocks, "
      f"largest {dist[finite].max():.1f}; within {NEAR} blocks: {(dist[finite] <= NEAR).mean():.1%} of the pairs")

# %% [markdown]
# From one source in the left room, near the wall and below the door (true positions for the picture
# only), and all targets together:

# %%
k = int(np.argmin(np.linalg.norm(graph.pos[src] - [24.0, 50.0], axis=1)))  # the source nearest (24, 50)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1, 1.2]})
arena(axes[0], "graph distance from one source (star), in blocks")
ok = finite[k]
sc = axes[0].scatter(*graph.pos[ok].T, c=dist[k, ok], s=3, cmap="viridis")
axes[0].scatter(*graph.pos[src[k]], marker="*", s=150, color="tab:red", edgecolor="k", zorder=3)
plt.colorbar(sc, ax=axes[0], fraction=0.046, label="graph distance (blocks)")
axes[1].hist(dist[finite], bins=60, color="0.5")
axes[1].axvline(NEAR, color="tab:red", ls="--", label=f"{NEAR} blocks")
axes[1].set_xlabel("graph distance (blocks)"), axes[1].set_ylabel("(source, node) pairs"), axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# The distance grows round the wall, through the door: nodes just across the wall from the source
# are among the farthest. Near pairs, at most 6 blocks apart, are already most of the pairs here
# (printed: the share within 6 blocks, and a median below 6 blocks).
#
# **Step 2, the head.** A small MLP embeds a latent, e(z), and the distance is the Euclidean
# distance between embeddings, $d(z, g) = \lVert e(z) - e(g) \rVert$. Three reasons, one sentence
# each: it is symmetric and zero from a state to itself, as a walking distance in an arena without
# one-way doors is; it obeys the triangle inequality, so it cannot say a detour is shorter than the
# way; and the planner embeds the goal once per solve and each imagined latent once, which costs
# little inside CEM. The encoder and predictor stay frozen: the head reads their latents.

# %%
class Head(nn.Module):
    """d(z, g) = ||e(z) - e(g)||: estimated action blocks between latents z and g (..., D)."""

    def __init__(self, latent: int, width: int, out: int):
        super().__init__()
        self.embed = nn.Sequential(nn.Linear(latent, width), nn.GELU(), nn.Linear(width, width), nn.GELU(),
                                   nn.Linear(width, out))

    def forward(self, z: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return ((self.embed(z) - self.embed(g)) ** 2).sum(-1).add(1e-8).sqrt()  # 1e-8: a finite gradient at 0


print(f"head for this profile: {D} -> {DCFG.width} -> {DCFG.width} -> {DCFG.out}, "
      f"{sum(p.numel() for p in Head(D, DCFG.width, DCFG.out).parameters()):,} parameters")

# %% [markdown]
# **Step 3, the pairs.** Each batch is half **near** pairs (at most 6 blocks apart) and half pairs
# drawn uniformly from all finite targets. Uniform pairs alone would already be mostly near (above);
# the near half raises that share further (printed below), concentrating the fit on short
# distances, where the planner closes in on the goal comparing 2-block plans. This is a design
# choice: the chapter does not compare it with uniform pairs alone.

# %%
def pair_pools(dist: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Targets (S, N) -> the (source row, node) index pairs within NEAR blocks, and all finite ones, (K, 2) each."""
    ok = torch.isfinite(dist)
    return torch.nonzero(ok & (dist <= NEAR)), torch.nonzero(ok)


def sample_pairs(near: torch.Tensor, far: torch.Tensor, batch: int, gen: torch.Generator) -> torch.Tensor:
    """A batch (batch, 2) of (source row, node) pairs: half near, half uniform."""
    half = batch // 2
    return torch.cat([near[torch.randint(len(near), (half,), generator=gen)],
                      far[torch.randint(len(far), (batch - half,), generator=gen)]])


near, far = pair_pools(torch.from_numpy(dist))
share = len(near) / len(far)  # the near share of uniform pairs
print(f"near pairs {len(near):,} of {len(far):,} finite ones ({share:.1%}); each batch: {DCFG.batch} pairs, "
      f"near ones about 0.5 + 0.5 x {share:.3f} = {0.5 + 0.5 * share:.0%} of them")

# %% [markdown]
# **Units.** Three lengths meet in this chapter. A **block** is a time: one action block, 5 environment
# steps (at most 7.1 px of movement along an axis). A **block step** is a latent length: the median
# latent distance between frames one block apart in the training episodes (`graph.block_step`). A
# **pixel** is a position. The graph measures distance in blocks: an episode edge weighs its gap in
# blocks, a latent edge its latent length divided by the block step.
#
# **Step 4, the loss and the noise.** The loss is $(\hat d - d)^2 / (1 + d)$: an error of one block
# matters more near the goal than across the arena, and the far pairs' large errors do not swamp
# the near ones. Each latent gets Gaussian noise of standard deviation 0.1 median block steps **per
# coordinate** (`DCFG.noise`), because imagined latents are never exactly the encoded training frames
# the head sees. Over D coordinates the noise vector's length is about 0.1 x sqrt(D) block steps
# (printed below the training code): most of one block's latent step. AdamW with a one-cycle
# schedule (a short warm-up, then a decay to zero) fits it in `DCFG.steps` steps.

# %%
def train_inline(graph, dist: np.ndarray, src: np.ndarray, dc) -> tuple[Head, list[float]]:
    """Fit a Head to the targets dist (S, N) from nodes src (S,), with the settings dc (a DistanceConfig)."""
    gen = torch.Generator().manual_seed(dc.seed)  # pairs and noise
    torch.manual_seed(dc.seed)  # the head's initial weights
    near, far = pair_pools(torch.from_numpy(dist))
    dist, src, z = torch.from_numpy(dist), torch.from_numpy(src), graph.z.float().cpu()
    head = Head(z.shape[1], dc.width, dc.out)
    opt = torch.optim.AdamW(head.parameters(), lr=dc.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, dc.lr, total_steps=dc.steps, pct_start=0.05)
    sigma = dc.noise * graph.block_step  # latent noise, in latent units
    losses = []
    for _ in range(dc.steps):
        pairs = sample_pairs(near, far, dc.batch, gen)
        d = dist[pairs[:, 0], pairs[:, 1]]
        za, zb = z[src[pairs[:, 0]]], z[pairs[:, 1]]
        za = za + sigma * torch.randn(za.shape, generator=gen)
        zb = zb + sigma * torch.randn(zb.shape, generator=gen)
        loss = ((head(za, zb) - d) ** 2 / (1 + d)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return head.eval(), losses


sigma = DCFG.noise * graph.block_step
print(f"latent noise: {sigma:.3g} per coordinate ({DCFG.noise} x the block step {graph.block_step:.3g}); "
      f"its length over D = {D}: about {sigma * D ** 0.5:.3g} = {DCFG.noise * D ** 0.5:.1f} block steps")


# %% [markdown]
# ### Check: our head is `lewm_mini`'s
#
# `lewm_mini.distance.train_distance` does steps 1 to 4. With the same settings and seed it must
# give the same losses and weights, draw for draw; a short run (at most 200 steps) is enough to show
# it. From here on the chapter uses the package's head.

# %%
check = dataclasses.replace(DCFG, steps=min(DCFG.steps, 200))
expect(3, 20, 10, cfg.profile)
t = time.perf_counter()
ours, losses = train_inline(graph, dist, src, check)
theirs, their_losses = train_distance(graph, check, progress=False)
np.testing.assert_allclose(losses, their_losses, rtol=1e-5)
for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
    torch.testing.assert_close(a, b, msg=name)
print(f"inline training == lewm_mini.distance.train_distance ({check.steps} steps, seed {check.seed}); "
      f"loss {np.mean(losses[:10]):.2f} -> {np.mean(losses[-10:]):.2f}; {time.perf_counter() - t:.0f} s for both")

# %%
fig, ax = plt.subplots(figsize=(6, 2.8))
ax.plot(losses, label="inline")
ax.plot(their_losses, ls="--", label="lewm_mini.distance.train_distance")
ax.set_yscale("log"), ax.set_xlabel("step"), ax.set_ylabel("loss"), ax.legend(fontsize=8)
ax.set_title(f"the first {check.steps} steps, both runs", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# The full head trains for `DCFG.steps` steps. `cached_distance` keeps it beside the model's
# checkpoint, and trains it again if the model or the graph changes:

# %%
expect(5, 120, 60, cfg.profile)  # training when not in the cache; loading takes a second
head = cached_distance(model, Path(run.checkpoint).parent, graph, DCFG).to(device)

# %% [markdown]
# ## 4. Does it measure distance?
#
# Judge the head against the world's own distance: the true shortest walk round the wall between the
# positions of two graph nodes (`lewm_mini.world.geodesic_distance`, a search over the arena's free
# cells; the planner never sees it). Rank correlation (Spearman) for random node pairs, in the same
# room and across rooms, beside the plain latent distance and the graph's distance. The head was
# trained on these nodes (from its sources); section 5 scores frames rendered at grid positions, not
# taken from the training episodes.

# %%
PAIRS = {"ci": 200, "cpu": 1500, "gpu": 1500}[cfg.profile]
expect(2, 10, 10, cfg.profile)
rng = np.random.default_rng(1)
a = rng.integers(0, N, PAIRS // 20).repeat(20)  # 20 destinations per source
b = rng.integers(0, N, len(a))
true_d = np.concatenate([geodesic_distance(graph.pos[s], graph.pos[b[i : i + 20]], geo)
                         for i, s in zip(range(0, len(a), 20), a[::20])])
with torch.inference_mode():
    measures = {"latent": (graph.z[a] - graph.z[b]).norm(dim=1).cpu().numpy(),
                "graph": graph_distances(graph, a, b),
                "head": head(graph.z[a], graph.z[b]).cpu().numpy()}
same_ab = room_of(graph.pos[a], geo) == room_of(graph.pos[b], geo)
rho = {}
for kind, m in (("same room", same_ab), ("cross room", ~same_ab)):
    rho[kind] = {k: spearmanr(v[m & np.isfinite(v)], true_d[m & np.isfinite(v)])[0] for k, v in measures.items()}
    print(f"{kind:10s} ({m.sum():4d} pairs): rank correlation with the true distance: "
          + ", ".join(f"{k} {r:.2f}" for k, r in rho[kind].items()))

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
names = {"latent": "latent distance ||z_a - z_b||", "graph": "graph distance (blocks)",
         "head": "head distance (blocks)"}
for ax, (key, v) in zip(axes, measures.items()):
    for kind, m, color in (("same room", same_ab, "tab:blue"), ("cross room", ~same_ab, "tab:red")):
        m = m & np.isfinite(v)
        ax.scatter(true_d[m], v[m], s=4, alpha=0.4, color=color, label=f"{kind}: rho {rho[kind][key]:.2f}")
    ax.set_xlabel("true walking distance round the wall (px)"), ax.set_ylabel(names[key])
    ax.legend(fontsize=7, markerscale=3)
axes[2].plot([0, true_d.max()], [0, true_d.max() / BLOCK_PX], "k:", lw=1, label="walking at full speed")
axes[2].legend(fontsize=7, markerscale=3)
plt.tight_layout()
plt.show()

# %% [markdown]
# The latent distance saturates (section 1): it ranks far pairs poorly (its printed correlations, higher
# across rooms than within one, are both far below the graph's; why the across-room one is higher was not
# measured). The graph's distance is a sum
# of short, trustworthy steps and grows with the true distance, across the wall too. The head
# learned a smooth version of it from a sample of its shortest paths (compare the printed
# correlations). The dotted line in the right panel, for scale, is the walking distance in blocks at
# full speed. The graph's blocks are those of the recorded episodes and of latent edges weighted in
# median block steps, so the head's scale need not match it. For a planner only the order matters:
# which of two states is closer.
#
# **Think.** Why train on the graph's distances, and not on the true distances that
# `geodesic_distance` computes for us?
#
# <details><summary>Answer</summary>
#
# Because a planner that works from pixels has no true positions: only frames, actions and the
# encoder's latents. The graph is built from those alone (recorded transitions and close latents), so
# a head trained on it needs nothing a real robot would lack. The true distance is the referee here,
# as the true positions were in chapter 07.
# </details>

# %% [markdown]
# ## 5. The head's cost map beside chapter 06's
#
# For one goal in the right room, behind the wall from a start in the left room (chapter 07's task),
# the latent cost of every free grid position next to the head's distance to the goal. The grid
# frames are rendered at grid positions, not taken from the training episodes (which cover those
# positions densely): new frames, not new places. The informative radius of each (chapter 06's rule,
# with the walking distance to the goal as the distance) says how far from the goal it still says
# "closer is better"; each line also prints where the map's binned mean is highest.

# %%
START, GOAL = np.array([12.0, 30.0], np.float32), np.array([50.0, 30.0], np.float32)
pos, cost = cost_map(model, GOAL, SIZE, grid=grid)  # ||z(p) - z(goal)||^2, every free position p
zg = encode_positions(model, GOAL[None], SIZE).to(device)
with torch.inference_mode():
    hmap = head(gz.to(device), zg).cpu().numpy()  # the head's distance to the goal, every free position
walk = path_length(pos, GOAL, SIZE)
left = room_of(pos, geo) == 0  # the start's room
maps = {"latent cost": cost, "distance head": hmap}
radius = {name: informative_radius(walk, v) for name, v in maps.items()}
for name, v in maps.items():
    c, m = cost_profile(walk, v)  # binned means over the walking distance
    print(f"{name:13s}: informative radius {radius[name]:.0f} px, binned mean highest at {c[np.argmax(m)]:.0f} "
          f"px (farthest: {walk.max():.0f} px); rank correlation with the walking distance: start's room "
          f"{spearmanr(v[left], walk[left])[0]:.2f}, goal's room {spearmanr(v[~left], walk[~left])[0]:.2f}")


def head_at(p: np.ndarray) -> float:
    """The head's distance to the goal at the grid position nearest to p (2,)."""
    return float(hmap[np.argmin(np.linalg.norm(pos - p, axis=1))])


print(f"head: {head_at(START):.1f} blocks from the start, {head_at(geo.door_center):.1f} from the door's centre; "
      f"walking from the start through the door at full speed takes "
      f"{path_length(START, GOAL, SIZE) / BLOCK_PX:.1f} blocks")

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 4))
units = {"latent cost": "squared latent distance", "distance head": "blocks"}
for ax, (name, v) in zip(axes, maps.items()):
    img, extent = grid_image(pos, v)
    ax.set_facecolor("k")  # the wall: no free position there
    im = ax.imshow(img, extent=extent, cmap="magma_r")
    plt.colorbar(im, ax=ax, fraction=0.046, label=units[name])
    ax.scatter(*START, color="tab:red", s=30, zorder=3, label="start")
    ax.scatter(*GOAL, marker="*", s=150, color="tab:green", edgecolor="k", zorder=3, label="goal")
    ax.annotate("door", geo.door_center, xytext=(geo.door_center[0] - 8, geo.door[0] - 3), color="tab:cyan", fontsize=8)
    ax.set_xlim(0, SIZE), ax.set_ylim(SIZE, 0), ax.set_xticks([]), ax.set_yticks([])
    ax.set_title(f"{name} to the goal", fontsize=9)
axes[0].legend(fontsize=7, loc="lower center")
for name, v in maps.items():
    c, m = cost_profile(walk, v)
    axes[2].plot(c, m / np.median(m[c > c.max() / 2]), lw=2, label=name)
    axes[2].axvline(radius[name], ls="--", color=axes[2].lines[-1].get_color())
axes[2].set_xlabel("walking distance to the goal (px)"), axes[2].set_ylabel("mean, / far level")
axes[2].set_title("binned means, each over its own far level\n(dashed: informative radius)", fontsize=9)
axes[2].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# The latent cost (left) is a small light basin round the goal, ringed by dark, in a nearly flat
# field (chapter 06's map, chapter 07's failure). A head that has learned the distance in time draws
# the walking distance instead: a slope from the start's room down to the door and on to the goal.
# The printed rank correlations say how closely each map follows the walking distance, room by room,
# and the radii how far from the goal each still ranks positions; the right panel shows where each
# profile stops rising. For the head the radius is only a lower bound: the rule takes the far level as the
# median of the binned means beyond half the largest distance, and a cost that keeps rising past
# that point (the right panel; where its mean is highest, printed) crosses 90% of it early. A slope
# is what CEM needs: from any state, a plan that moves the agent a block along the way round scores
# better than one that does not.

# %% [markdown]
# ## 6. Planning with the distance
#
# The distance planner is CEM with one change, the score: a candidate plan is imagined with the
# predictor as before, and scored by the head's distance from its **last** imagined latent to the
# goal's latent (`Planner.goal_score`; with `P.sum_cost`, the mean over every imagined block).
# **Exercise 8.2** writes that score.
#
# The horizon is short: `P.distance_horizon` = 2 blocks (10 steps), replanning every `P.replan_every`
# = 10 steps. Two reasons. The head supplies the long range, so the plan needs only to find which way
# is down the slope. And short plans plan better: section 7 measures 5 blocks and finds them worse,
# although this model's imagination respects the wall over 5 blocks too (section 2). For the earlier
# model there was a second reason: over 5 blocks its imagination often walked through the wall, and a
# planner that trusts a rollout through the wall pushes into it.
#
# Live, the distance planner and chapter 07's graph planner on the same held-out cross-room tasks
# (start in one room, goal in the other, 100 steps; `lewm_mini.evaluate.evaluate`), with the random
# policy on the same tasks as the floor:

# %%
EPISODES = {"ci": 3, "cpu": 50, "gpu": 50}[cfg.profile]
NAMES = {"graph": "graph planner", "distance": "distance planner"}
expect(15, 150, 60, cfg.profile)
live = {}
for name in ("graph", "distance"):
    t = time.perf_counter()
    r = live[name] = evaluate(model, stats, cfg, "cross-room", episodes=EPISODES, seed=0, progress=False,
                              timed_solves=0, planner=name, graph=graph if name == "graph" else None,
                              head=head if name == "distance" else None)
    lo, hi = r["success_ci95"]
    print(f"{NAMES[name]:16s} ({P.distance_horizon if name == 'distance' else P.graph_horizon} blocks): success "
          f"{r['success_rate']:.0%} ({int(r['success'].sum())}/{EPISODES}; 95% interval {lo:.0%} to {hi:.0%}); "
          f"random policy {r['random_success_rate']:.0%}; {r['evaluations_per_episode']:,.0f} rollouts per task; "
          f"{time.perf_counter() - t:.0f} s")

# %% [markdown]
# The intervals are Wilson intervals (`lewm_mini.evaluate.wilson`): with 50 tasks they are wide (the
# printed intervals), and two rates whose intervals overlap are not told apart by them. Both planners
# ran on the same tasks, though, which allows a sharper, paired comparison. First the tasks the graph
# planner missed: how many of them does the distance planner solve, and the other way round?

# %%
g_ok, d_ok = live["graph"]["success"], live["distance"]["success"]
print(f"graph planner missed {(~g_ok).sum()} of {EPISODES}; the distance planner solves {(~g_ok & d_ok).sum()} of them")
print(f"distance planner missed {(~d_ok).sum()}; the graph planner solves {(~d_ok & g_ok).sum()} of them; "
      f"both miss {(~g_ok & ~d_ok).sum()}")

# %% [markdown]
# The paired test (McNemar's exact test) looks only at the tasks where the two planners disagree. If
# neither planner were better, each such task would be solved by the distance planner alone or by
# the graph planner alone with equal chance, like a fair coin: a binomial test on those tasks.

# %%
only_d, only_g = int((~g_ok & d_ok).sum()), int((g_ok & ~d_ok).sum())
if only_d + only_g:
    p_value = binomtest(k=only_d, n=only_d + only_g, p=0.5).pvalue
    print(f"{only_d + only_g} tasks with one planner only: the distance planner's {only_d}, the graph "
          f"planner's {only_g}; McNemar exact test, two-sided p = {p_value:.2f}")
else:
    print("the two planners solve the same tasks: nothing to test")

# %% [markdown]
# On the stored run p = 0.73 (printed), far above the usual 5% level: these 50 tasks do not tell the
# two planners apart. They disagree on 8 tasks, 5 solved by the distance planner alone and 3 by the
# graph planner alone: a split a fair coin gives easily. Had the disagreements gone mostly
# one way, the paired test could have told the planners apart even with overlapping Wilson
# intervals; here it cannot. Section 7 has 200 tasks per planner.

# %%
def where_it_ends(r: dict, i: int) -> str:
    """'reached', or how far from the goal and the door task i's path ends, and in which room."""
    end, goal = r["trajectories"][i][-1], r["tasks"].goal[i]
    if r["success"][i]:
        return "reached"
    room = "goal's" if room_of(end[None], geo)[0] == room_of(goal[None], geo)[0] else "start's"
    return (f"missed, ends {np.linalg.norm(end - goal):.0f} px from the goal, "
            f"{np.linalg.norm(end - geo.door_center):.0f} px from the door's centre, in the {room} room")


# two graph-planner misses that the distance planner solved, then two distance-planner misses
shown = [*np.flatnonzero(~g_ok & d_ok)[:2], *np.flatnonzero(~d_ok)[:2], *np.flatnonzero(g_ok & d_ok)][:4]
for i in shown:
    print(f"task {i}: graph planner {where_it_ends(live['graph'], i)}; "
          f"distance planner {where_it_ends(live['distance'], i)}")

# %% [markdown]
# Those tasks drawn: the distance planner's path in blue, the graph planner's in orange (first two
# graph-planner misses that the distance planner solved, then two distance-planner misses; the
# titles say which planner reached the goal).

# %%
fig, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 3.6), squeeze=False)
for ax, i in zip(axes[0], shown):
    plot_plan(live["distance"]["trajectories"][i], live["distance"]["tasks"].goal[i], SIZE, ax=ax)
    g = live["graph"]["trajectories"][i]
    ax.plot(g[:, 0], g[:, 1], color="tab:orange", lw=1.2, label="graph planner")
    ax.set_title(f"task {i}: graph {'reached' if g_ok[i] else 'missed'}, distance "
                 f"{'reached' if d_ok[i] else 'missed'}", fontsize=8)
handles, labels = axes[0, 0].get_legend_handles_labels()
labels = ["distance planner" if lab == "MPC with LeWM" else lab for lab in labels]
fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
plt.tight_layout(rect=(0, 0.08, 1, 1))
plt.show()

# %% [markdown]
# Read the paths with the lines printed above. Where the distance planner reaches the goal, its path
# heads for the door first, as the head's map slopes; where it misses, see where it stops. On the
# stored run both drawn misses are tasks the graph planner reached, and both stop in the start's
# room: one in the top corner beside the wall above the door, 10 px from the door's centre, the other
# in a bottom corner of the arena, 52 px from it. The graph planner's two drawn misses both end in
# the goal's room, 21 and 14 px from the goal.
# (Under the ci profile the model and the head have trained for seconds and these paths mean
# nothing.)
#
# **Think.** The graph planner and the distance planner both use the graph. What does each need at
# plan time?
#
# <details><summary>Answer</summary>
#
# The graph planner needs the whole graph at every replan: snap the current and goal frames to nodes,
# run (or reuse) Dijkstra from the goal's node, walk the path to a waypoint. The distance planner
# needed the graph only to train the head; at plan time it needs the head alone (28,960 weights for
# the cpu profile, printed in section 3), and embeds the goal once per solve. It also never snaps: it
# scores the imagined latents themselves, so there is no error from a start or goal that lies between
# stored frames.
# </details>

# %% [markdown]
# ## 7. The stored benchmark: every planner on the same 200 tasks
#
# Fifty tasks leave wide intervals. The stored benchmark runs every planner on the same 200 held-out
# tasks per protocol, with the same cpu-profile model, in one invocation of
# `benchmarks/graph_planner.py` (its JSON says which CEM it used). Two protocols: **cross-room**, as
# live above, and the **paper protocol** (LeWM's Two-Room protocol, `lewm_mini.evaluate`): start at a
# random step of a held-out recorded episode, the goal is where that agent is 25 steps later, and
# the budget is 50 steps. Besides flat CEM, the graph planner and the distance planner, it runs
# ablations, each changing one setting of the distance planner:
# - **distance head at 5 blocks**: flat CEM's horizon, the head's cost; the wall test's 5 blocks;
# - **distance head, mean over blocks** (`sum_cost`): every imagined block scored, not only the last;
# - **heads trained on smaller or larger graphs**: 50 and 1000 training episodes instead of
#   `P.graph_episodes`;
# - the **random policy**, the floor, on the same tasks.
#
# The 5-block rows also differ in a second way: they run fewer model rollouts per task (3,625
# against 4,840 in the table below). MPC replans every 10 steps. A 2-block plan is 10 steps long, so
# every replan starts cold, with the full iterations; a 5-block plan still has 3 blocks left, and
# iCEM warm-starts the next solve from them with fewer iterations (printed below).
#
# The cells below read the stored file (it ships with the package); they do not rerun the benchmark.
# First what was run, and how:

# %%
bench = base  # lewm_mini/results/planners_cpu_200.json, read in section 2
if bench is not None:
    gi, hd, pc = bench["graph"], bench["distance_head"], bench["plan"]
    print(f"profile {bench['profile']}, {bench['episodes']} tasks per protocol, task seed {bench['seed']}, "
          f"CEM: {bench.get('cem', 'not recorded')}; training data: {bench['training_policy']!r}; "
          f"machine: {bench['machine']}")
    print(f"MPC replans every {pc['replan_every']} steps; a cold solve runs {pc['iterations']} iterations, a "
          f"warm-started one {pc['warm_iterations']} (warm start: {pc['warm_start']})")
    print(f"graph: {gi['nodes']} nodes, {gi['edges']} edges ({gi['latent_edges']} latent), built in "
          f"{gi['build_seconds']:.0f} s; the distance planner's head uses the graph of {hd['graph_episodes']} episodes")

# %% [markdown]
# How long one replan takes, timed apart from the benchmark, on idle cores:

# %%
times = stored("replan_times_cpu.json")
if times is not None:
    print(f"one replan, one problem, median of {times['n']} on idle cores (replan_times_cpu.json): "
          f"graph planner {times['graph']['cold_seconds_median']:.3f} s, "
          f"distance planner {times['distance']['cold_seconds_median']:.3f} s")

# %% [markdown]
# The benchmark's own rank correlations with the true distance (section 4's measure, on its own pairs):

# %%
if bench is not None:
    for kind, v in bench["distance_rank_correlation"].items():
        print(f"rank correlation with the true distance, {kind.replace('_', ' ')} ({v['pairs']} pairs): "
              f"graph {v['graph']:.2f}, latent {v['latent']:.2f}, head {v['learned']:.2f}")

# %% [markdown]
# One table per protocol: success with its 95% interval, the horizon CEM plans over, the model
# rollouts per task.

# %%
def row_name(key: str, graph_episodes: int) -> str:
    """A readable name for a benchmark row key such as "distance@50" or "distance:5"."""
    base_, _, _ = key.partition(":")
    base_, _, n_eps = base_.partition("@")
    name = {"cem": "flat CEM", "graph": "graph waypoints (chapter 07)", "distance": "distance head",
            "distance-sum": "distance head (mean)", "graph-episode-edges": "graph, episode edges only",
            "door-oracle": "door oracle (true positions)"}.get(base_, base_)
    return name + (f", {n_eps or graph_episodes}-episode graph" if base_.startswith("distance") else "")


def rows(res: dict) -> dict:
    """This chapter's rows of a protocol's results: flat CEM, the graph planner and every distance planner
    (the file also holds chapter 07's graph ablations)."""
    return {k: r for k, r in res.items() if k in ("cem", "graph") or k.startswith("distance")}


if bench is not None:
    for protocol, res in bench["results"].items():
        print(f"{protocol} protocol, {bench['episodes']} tasks; random policy {res['random']['success_rate']:.1%}")
        print(f"  {'planner':40s} {'horizon':>7s} {'solved':>6s} {'success':>8s} {'95% interval':>13s} "
              f"{'rollouts/task':>13s}")
        for key, r in rows(res).items():
            lo, hi = r["success_ci95"]
            print(f"  {row_name(key, hd['graph_episodes']):40s} {r['horizon_blocks']:7d} {r['successes']:6d} "
                  f"{r['success_rate']:8.1%} {lo:6.0%} - {hi:4.0%} {r['evaluations_per_episode']:13,.0f}")

# %% [markdown]
# Where the cross-room misses end: against the wall's solid part (within 3 px of its face), never in
# the goal's room, and the median distance left to the goal.

# %%
if bench is not None:
    cross = bench["results"]["cross-room"]
    print(f"  {'planner':40s} {'horizon':>7s} {'misses':>6s} {'at the wall':>11s} {'never in goal room':>18s} "
          f"{'median px left':>14s}")
    for key, r in rows(cross).items():
        m = r["misses"]
        left_px = "-" if m["final_distance_px_median"] is None else f"{m['final_distance_px_median']:.0f}"
        print(f"  {row_name(key, hd['graph_episodes']):40s} {r['horizon_blocks']:7d} {m['misses']:6d} "
              f"{m['end_at_wall']:11d} {m['never_in_goal_room']:18d} {left_px:>14s}")

# %%
if bench is not None:
    keys = list(rows(cross))
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(keys) + 1.2))
    for y, key in enumerate(keys):
        r = cross[key]
        lo, hi = r["success_ci95"]
        color = {"cem": "tab:blue", "graph": "tab:orange"}.get(key.partition(":")[0], "tab:green")
        ax.barh(y, r["success_rate"], color=color, xerr=[[r["success_rate"] - lo], [hi - r["success_rate"]]],
                capsize=3, edgecolor="k", lw=0.5)
        ax.text(hi + 0.01, y, f"{r['success_rate']:.1%}", va="center", fontsize=8)
    ax.axvline(cross["random"]["success_rate"], color="0.5", ls="--", lw=1, label="random policy")
    ax.set_yticks(range(len(keys)), [f"{row_name(k, hd['graph_episodes'])}, {cross[k]['horizon_blocks']} blocks"
                                     for k in keys], fontsize=8)
    ax.set_xlim(0, 1.1), ax.invert_yaxis(), ax.set_xlabel("success rate (bars: 95% interval)")
    ax.set_title(f"cross-room protocol, the same {bench['episodes']} tasks for every row (stored run)", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    plt.tight_layout()
    plt.show()

# %% [markdown]
# How to read the table (compare the printed rows; rows whose intervals overlap are not told apart):
#
# - **Distance head against the graph planner**, both at 2 blocks: the same information (the graph's
#   shortest paths), held once as a memory searched at every replan and once as a learned function.
#   Their misses differ: the graph planner's 24 all reach the goal's room (0 never in it), the head's
#   7 never do.
# - **Distance head at 2 blocks against 5 blocks**: the same cost, the horizon of flat CEM (and fewer
#   rollouts per task, see above). The misses table says where the misses end: at the wall, 1 of the
#   7 misses at 2 blocks and 2 of the 44 at 5 blocks; never in the goal's room, 7 of 7 and 35 of 44.
#   The 5-block head misses more often, and not by pushing into the wall (this model's imagination
#   respects it, section 2): most of its misses never reach the goal's room. A likely reason, not
#   tested: a 5-block plan is scored by its last block only, and only its first 2 blocks are executed
#   before the next replan, so the executed part is free to wander.
# - **Last block against the mean over blocks**: scoring the mean over the imagined blocks rewards
#   plans that approach the goal early, and keeps the score from depending on the last block alone.
# - **Graphs of 50, `P.graph_episodes` and 1000 episodes**: how much data the head's targets need.
#   A smaller graph covers fewer routes; one possible effect, which this chapter does not test, is
#   that its shortest paths overestimate distances where no episode went straight.
# - **Flat CEM** shows what the latent cost alone does on the same tasks; the random policy is the
#   floor.

# %% [markdown]
# ## Summary
#
# - Two unrelated frames sit at a squared latent distance of about 2D, the level SIGReg's Gaussian
#   target predicts for independent draws, whatever their true distance: the latent cost says
#   "closer" only within a short radius of the goal, and a longer horizon does not change that.
# - The wall test checks a second limit: imagination that carries the agent through the wall. The
#   course's model, trained on data where a quarter of the agents press into the wall, passes it (0%
#   crossed after 2 and 5 blocks of pushing, both sides). The earlier model, trained on the plain
#   heuristic, crossed in 30% (left) and 42% (right) of 5-block pushes, never over 2 blocks (one run
#   per data set; the data also changes the graph).
# - A **distance in time** counts the action blocks between two states, round the wall. The waypoint
#   graph measures it between stored frames; a small metric-embedding head, $\lVert e(z) - e(g)
#   \rVert$, learns it for any latent from the graph's shortest paths (half near pairs, a loss
#   weighted by $1/(1+d)$, latent noise).
# - The head is judged against the world's own distance round the wall (rank correlations, beside the
#   latent and graph distances) and on frames rendered at grid positions, not taken from the training
#   episodes (its cost map beside chapter 06's). CEM with it as the cost plans 2 blocks at a time,
#   with no graph at plan time.
# - On the same 200 cross-room tasks (section 7) it solves 96.5% against the graph planner's 88.0%
#   and flat CEM's 33.0%, and 100.0% of the paper protocol's (the earlier model: 92.0%, 82.0% and
#   34.5%, section 2). The 95% intervals of 96.5% and 88.0% (93% to 98%, 83% to 92%) do not overlap;
#   the stored run keeps no per-task record, so no paired test is possible there. On the live 50
#   tasks the paired test (section 6) does not tell the two apart (p = 0.73).
# - The horizon matters most: 78.0% at 5 blocks against 96.5% at 2, although this model's
#   imagination respects the wall over 5 blocks. The graph the head is trained on matters when it is
#   small: 86.0% on the graph of 50 episodes, 96.0% on that of 1,000. Scoring the mean over the
#   imagined blocks (95.5%) is not told apart from scoring the last.
#
# ## Check your understanding
#
# 1. Two latents drawn independently from N(0, I) in D dimensions: what is their mean squared
#    distance, and why does that make the latent cost flat far from the goal?
# 2. Why is the head a distance between embeddings, $\lVert e(z) - e(g) \rVert$, and not an MLP that
#    reads the pair (z, g) and outputs a number?
# 3. Why are half of each batch's pairs near ones?
# 4. Why does the distance planner plan 2 blocks ahead, when the head could score 5-block plans just
#    as well?
# 5. The head is trained on the nodes of the graph. What in the chapter tests it on inputs that are
#    not graph nodes?
#
# <details><summary>Answers</summary>
#
# 1. 2D: each coordinate of the difference has variance 2. Beyond the short range where frames share
#    structure, every latent sits about that far from the goal's, so the cost cannot rank far states.
# 2. A distance between embeddings is symmetric, zero from a state to itself and obeys the triangle
#    inequality by construction; a pair MLP must learn all three and may not. And the planner embeds
#    the goal once per solve and each imagined latent once, instead of running the MLP on every
#    (candidate, goal) pair.
# 3. To concentrate the fit on short distances, where the planner closes in on the goal comparing
#    2-block plans. With these targets near pairs (at most 6 blocks) are already about 67% of uniform
#    pairs; the near half raises their share of a batch to about 83%. The loss weight $1/(1+d)$ serves
#    the same end. It is a design choice the chapter does not ablate.
# 4. Because it plans better: on the stored 200 cross-room tasks 96.5% at 2 blocks against 78.0% at
#    5 (section 7), although this model's 5-block rollouts respect the wall. The head, not the
#    horizon, supplies the long range, so a short plan gives nothing up. With the earlier model the
#    wall test gave a second reason: its 5-block rollouts into the wall often ended on the other
#    side, so a 5-block plan could score a push into the wall as progress (section 2).
# 5. Section 5: the cost map is computed over frames rendered at every free position of a grid, not
#    taken from the training episodes (new frames, though the training frames cover those positions
#    densely). And in section 6 the head scores the predictor's imagined latents on held-out tasks:
#    no encoder ever produced those latents.
#
# </details>
#
# ## Further reading
#
# - B. Eysenbach, R. Salakhutdinov, S. Levine. *Search on the Replay Buffer: Bridging Planning and
#   Reinforcement Learning* (2019), arXiv 1906.05253: distances learned as values, and a graph of
#   stored observations (chapter 07's idea).
# - T. Wang, A. Torralba, P. Isola, A. Zhang. *Optimal Goal-Reaching Reinforcement Learning via
#   Quasimetric Learning* (2023), arXiv 2304.01203: distances in time that need not be symmetric
#   (one-way doors), learned as quasimetrics.
# - Temporal distance and reachability heads on LeWM: a learned pairwise reachability head with the
#   planner unchanged is reported by arXiv 2605.22164 to take LeWM from 7% to 97% on a hard Two-Room;
#   RC-aux (arXiv 2605.07278) reports 88.8% to 98.0% on Two-Room with a reachability term in training
#   and in the planning cost.
# - PLDM: V. Sobal et al. *Learning from Reward-Free Offline Data: A Case for Planning with Latent
#   Dynamics Models* (2025), arXiv 2502.14819: 97.8% on its own Two-Rooms is reported, with a flat
#   MPPI planner and seven loss terms.
# - eb_jepa (https://github.com/facebookresearch/eb_jepa), `examples/ac_video_jepa`: 96-97% reported
#   on a Two Rooms task with a flat planner over a 90-step horizon that scores every predicted step
#   (89% reported when it scores only the last one), on a latent trained with time-smoothness and
#   inverse-dynamics terms.
# - Next: chapter 09, what the latents know (probing) and what surprises the model.

# %%
print(f"notebook compute time: {time.perf_counter() - T0:.0f} s")
