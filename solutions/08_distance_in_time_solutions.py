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
# # 08 · A distance in time (solutions)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/solutions/08_distance_in_time_solutions.ipynb)
#
# The two pieces of chapter 08's distance head (`notebooks/08_distance_in_time.ipynb`) that you write
# yourself: the training targets (shortest paths on the waypoint graph) and the cost that plugs the
# head into CEM. Write each where it says `# YOUR CODE HERE`, then run the check cell below it: it
# prints PASS, or FAIL with a hint.
#
# **Prerequisites:** chapters 07 (the waypoint graph) and 08.
#
# **Time:** about 30 min. Compute: CPU (2 cores, cpu profile) a few seconds; ci profile a few seconds
# (no trained model needed).

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

# %%
import contextlib
import io

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.sparse.csgraph import dijkstra
from scipy.stats import spearmanr

from lewm_mini.checks.ch07 import position_graph
from lewm_mini.checks.ch08 import check_distance_score, check_graph_distance_targets
from lewm_mini.data import load_or_collect
from lewm_mini.distance import DistanceConfig, train_distance
from lewm_mini.graph import LatentGraph
from lewm_mini.world import Geometry, background, geodesic_distance, step_positions

# %% [markdown]
# ## Exercise 8.1 · The targets: distances in time on the graph
#
# The head learns from the waypoint graph of chapter 07: nodes are training frames (one per action
# block), edges are transitions that happened (weight: the gap in blocks) or near-identical latents
# (weight: their latent distance in blocks). The distance in time between two nodes is the length of
# the shortest path between them, in action blocks.
#
# Write `graph_distance_targets(adj, sources)`:
# - `adj`: the graph as a scipy sparse matrix (N, N), `adj[i, j]` the weight of the edge between i
#   and j. The graph is **undirected**, but a matrix may store each edge only once (in one triangle);
# - `sources`: node indices (S,), in any order;
# - returns an array (S, N): row k holds the shortest-path distance from `sources[k]` to every node,
#   in blocks; `inf` where no path exists (another component).
#
# Write it yourself, before you read the package code that the chapter calls.
#
# <details><summary>Hint</summary>
#
# `scipy.sparse.csgraph.dijkstra` computes shortest paths from the nodes given as `indices`. Read
# its `directed` argument carefully.
# </details>

# %%
def graph_distance_targets(adj, sources) -> np.ndarray:
    """Undirected weighted graph adj (N, N) sparse, source nodes (S,) -> shortest-path distances (S, N)."""
    ### BEGIN SOLUTION
    return dijkstra(adj, directed=False, indices=np.asarray(sources))
    ### END SOLUTION


# %%
check_graph_distance_targets(graph_distance_targets)

# %% [markdown]
# Use it on a graph that needs no trained model, as in chapter 07's exercises: the **true positions**
# of frames from the training episodes, one per action block, with episode edges (frames 1 to 3
# blocks apart, weighted by the gap) and edges between frames of different episodes less than 2 px
# apart (the wall is thicker, so none crosses it; weight: distance over the median block step).
# Each edge is stored once (row < column); `position_graph` (chapter 07's exercises) builds it.

# %%
geo = Geometry(cfg.data.size)
episodes = load_or_collect(cfg.data, "train", progress=False)
fs = cfg.model.frameskip
xy, adj, ep, block = position_graph(episodes, fs)  # (N, 2), (N, N) sparse, one triangle: rows < columns
source = int(np.argmin(np.linalg.norm(xy - [24.0, 50.0], axis=1)))  # left room, near the wall, far below the door
print(f"{len(xy)} nodes, {adj.nnz} edges (each stored once); median block step {block:.1f} px; source at {xy[source]}")

# %% [markdown]
# The distance in time from one node in the left room, near the wall, to every node, beside the true
# walking distance round the wall (`geodesic_distance`; pictures only). Nodes just across the wall
# should be far in blocks although close in a straight line. (Prints a note until written.)

# %%
try:
    with contextlib.redirect_stdout(io.StringIO()):  # the check cell above printed the verdict already
        passed = check_graph_distance_targets(graph_distance_targets, strict=False)
    blocks = np.asarray(graph_distance_targets(adj, [source]), float)[0]  # (N,)
    reach = np.isfinite(blocks)
    walk = geodesic_distance(xy[source], xy[reach], geo)
    print(f"reachable from the source: {reach.mean():.0%} of the nodes; rank correlation of the distance in time "
          f"with the walking distance round the wall: {spearmanr(blocks[reach], walk)[0]:.2f}")
    fig, ax = plt.subplots(figsize=(4.8, 4.5))
    ax.imshow(background(geo), extent=(0, geo.size, geo.size, 0))
    ax.scatter(*xy[~reach].T, s=2, color="0.8")
    sc = ax.scatter(*xy[reach].T, s=4, c=blocks[reach], cmap="viridis")
    ax.scatter(*xy[source], marker="*", s=150, color="tab:red", edgecolor="k", zorder=3)
    plt.colorbar(sc, ax=ax, fraction=0.046, label="distance in time (blocks)")
    ax.set_xticks([]), ax.set_yticks([]), ax.set_title("from the red star (grey: no path)", fontsize=9)
    plt.show()
    if not passed:
        print("Your graph_distance_targets does not pass the check above yet: the picture shows its answers.")
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# ## Exercise 8.2 · The score that plugs the head into CEM
#
# CEM rolls out N candidate plans for each of P problems and needs one number per candidate: lower is
# better. With the distance head, that number is the head's distance, in action blocks, from the
# imagined state to the goal.
#
# Write `distance_score(head, z, target, sum_cost)`:
# - `head`: a `DistanceHead`; `head(a, b)` returns the distance between latents a (..., D) and
#   b (..., D), broadcasting like `a - b` (`head.embed` is its embedding, if you want it);
# - `z`: imagined latents (P, N, H, D), H action blocks per candidate;
# - `target`: goal latents (P, D), one per problem;
# - returns (P, N): the distance from the **last** imagined latent to the problem's target, or, when
#   `sum_cost`, the **mean** of the distances of all H imagined latents.
#
# <details><summary>Hint</summary>
#
# Give `target` the axes it lacks so that it broadcasts against (P, N, D) or (P, N, H, D).
# </details>

# %%
def distance_score(head, z: torch.Tensor, target: torch.Tensor, sum_cost: bool) -> torch.Tensor:
    """head, imagined latents z (P, N, H, D), targets (P, D) -> cost (P, N) in blocks."""
    ### BEGIN SOLUTION
    if sum_cost:
        return head(z, target[:, None, None]).mean(-1)
    return head(z[:, :, -1], target[:, None])
    ### END SOLUTION


# %%
check_distance_score(distance_score)

# %% [markdown]
# Use it with a perfect imagination. Train a small head (`lewm_mini.distance.train_distance`) on the
# graph above with the **true positions** as its "latents" (scaled to about unit size; a few seconds),
# then score sixteen 2-block plans from the source: each pushes in one direction at full speed, and
# the "imagined" states are where the agent really ends after each block. The goal is in the other
# room, at the same height. The straight-line distance prefers the plan that pushes into the wall; the
# distance in time should prefer one that heads up, towards the door. (Prints a note until written.)

# %%
scale = geo.size / 4  # positions / 16: "latents" of about unit size
graph = LatentGraph(torch.from_numpy(xy / scale), xy, ep, adj.maximum(adj.T), adj * 0, block / scale, 0.0)
steps = 100 if cfg.profile == "ci" else 1000  # the ci profile only proves the code runs
head, losses = train_distance(graph, DistanceConfig(width=64, out=16, sources=200, steps=steps, batch=256),
                              progress=False)
goal = np.array([50.0, 50.0], np.float32)
angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
push = np.stack([np.cos(angles), np.sin(angles)], 1).astype(np.float32)  # (16, 2) unit directions
push /= np.abs(push).max(1, keepdims=True)  # full speed: one component at +-1
ends, p = [], np.repeat(xy[source][None], 16, 0)
for _ in range(2):  # two blocks
    for _ in range(fs):
        p = step_positions(p, push, geo)
    ends.append(p.copy())
ends = np.stack(ends, 1)  # (16, 2 blocks, 2)
print(f"head trained on the position graph: loss {np.mean(losses[:20]):.2f} -> {np.mean(losses[-20:]):.2f}")

# %%
try:
    with contextlib.redirect_stdout(io.StringIO()):
        passed = check_distance_score(distance_score, strict=False)
    z = torch.from_numpy(ends / scale)[None]  # (P=1, N=16, H=2, D=2)
    with torch.inference_mode():
        score = distance_score(head, z, torch.from_numpy(goal / scale)[None], False)[0].numpy()
    straight = np.linalg.norm(ends[:, -1] - goal, axis=1)
    walk = np.array([geodesic_distance(e, goal[None], geo)[0] for e in ends[:, -1]])  # the referee
    print(f"lowest cost: straight line {np.degrees(angles[np.argmin(straight)]):.0f} deg, distance_score "
          f"{np.degrees(angles[np.argmin(score)]):.0f} deg; shortest true walk left: "
          f"{np.degrees(angles[np.argmin(walk)]):.0f} deg (0 deg: right, 270 deg: up); rank correlation of "
          f"distance_score with the true walk {spearmanr(score, walk)[0]:.2f}")
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
    for ax, s, name in ((axes[0], straight, "straight-line distance (px)"),
                        (axes[1], score, "distance_score (blocks)")):
        ax.imshow(background(geo), extent=(0, geo.size, geo.size, 0))
        sc = ax.scatter(*ends[:, -1].T, c=s, cmap="viridis_r", s=40, edgecolor="k", zorder=3)
        best = ends[np.argmin(s), -1]
        ax.plot([xy[source][0], best[0]], [xy[source][1], best[1]], color="tab:red", lw=2, label="lowest cost")
        ax.scatter(*goal, marker="*", s=150, color="tab:green", edgecolor="k", zorder=3)
        plt.colorbar(sc, ax=ax, fraction=0.046, label=name)
        ax.set_xticks([]), ax.set_yticks([]), ax.legend(fontsize=7, loc="upper right")
    axes[0].set_title("ends of 16 two-block pushes, scored by the straight line", fontsize=9)
    axes[1].set_title("the same ends, scored by the distance head", fontsize=9)
    plt.tight_layout()
    plt.show()
    if not passed:
        print("Your distance_score does not pass the check above yet: the right panel shows its answers.")
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# With a perfect imagination the straight line sends the agent into the wall, while the distance in
# time points up, towards the door (with the cpu profile's data; the ci profile's few episodes and
# steps leave the head untrained in effect). In the chapter the "imagined states" come from the
# predictor instead, and the wall test shows why the plans there are kept short.
