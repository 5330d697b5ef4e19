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
# # 07 · Planning round walls (solutions)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/solutions/07_planning_round_walls_solutions.ipynb)
#
# The subgoal choice of chapter 07's graph planner (`notebooks/07_planning_round_walls.ipynb`), from a
# shortest-path tree in a form the chapter did not use. Write it where it says `# YOUR CODE HERE`,
# then run the check cell below it: it prints PASS, or FAIL with a hint.
#
# **Prerequisites:** chapter 07.
#
# **Time:** about 25 min. Compute: CPU (2 cores, cpu profile) a few seconds; ci profile a few seconds
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
from scipy.sparse.csgraph import dijkstra

from lewm_mini.checks.ch07 import check_choose_subgoal, position_graph
from lewm_mini.data import load_or_collect
from lewm_mini.world import Geometry, background

# %% [markdown]
# ## Exercise 7.1 · The subgoal, from a tree rooted where you stand
#
# The chapter ran one Dijkstra **from the goal** (`lewm_mini.graph.goal_trees`) and reused it at every
# replan: the goal stays put, the agent moves. Here the tree is rooted at the **current node**
# instead, as scipy returns it for `dijkstra(adj, directed=False, indices=node,
# return_predecessors=True)`:
#
# - `dist` (N,): the shortest-path distance in action blocks from the current node to every node
#   (`inf` where there is no path; 0 at the current node);
# - `pred` (N,): the node *before* k on the shortest path from the current node to k (a negative
#   number, -9999, at the current node and at nodes that cannot be reached).
#
# Write `choose_subgoal(dist, pred, goal, reach)`, the node the planner should aim at now:
# 1. `-1` when the goal cannot be reached;
# 2. the goal itself when it is at most `reach` blocks away;
# 3. otherwise, a node **about `reach` blocks down the shortest path**. Among the path's nodes after
#    the current one, take the **farthest one at most `reach` blocks away** (`dist[k] <= reach`).
#    When none is that close (the first hop is longer than `reach`), take the first hop: never the
#    current node. And when the one you took lies **less than `reach / 2`** blocks away, take the
#    path node after it instead, even though that one lies beyond `reach` (it may even be the goal).
#    A node exactly `reach / 2` away is kept.
#
# Edges weigh between a fraction of a block and several blocks, so compare distances, not numbers of
# hops.
#
# Why the extra step? Paths are lumpy. A latent edge can join the current node to a node a quarter of
# a block away, a frame showing the agent where it already stands, and the next edge, from an
# episode, can be 2 blocks long. With `reach` 2 the farthest node within reach is the near one: CEM
# would aim where the agent already is, the agent would not move, and the next replan would pick the
# same node. The node after it, 2.25 blocks down the path, moves the agent on. Why not always take
# the node closest to `reach`, on either side? Because a node beyond `reach` can be too far for CEM's
# short plan (2 blocks in the chapter), so the planner goes past `reach` only when the node within it
# would give too little progress. Chapter 07's planner (`lewm_mini.graph.choose_waypoint`) uses this
# rule.
#
# <details><summary>Hint, if you are stuck on getting the path</summary>
#
# The path comes out backwards: start at `goal`, follow `pred` until it turns negative, and reverse.
# </details>

# %%
def choose_subgoal(dist: np.ndarray, pred: np.ndarray, goal: int, reach: float) -> int:
    """dist, pred (N,): Dijkstra from the current node; goal node; reach in blocks -> the node to aim at (-1: none)."""
    ### BEGIN SOLUTION
    if not np.isfinite(dist[goal]):
        return -1
    if dist[goal] <= reach:
        return int(goal)
    path = [int(goal)]
    while pred[path[-1]] >= 0:  # walk back from the goal to the current node
        path.append(int(pred[path[-1]]))
    ahead = path[::-1][1:]  # the path after the current node, up to the goal: at least one hop
    within = [i for i, k in enumerate(ahead) if dist[k] <= reach]  # dist grows down the path
    i = within[-1] if within else 0  # the farthest node within reach, or the first hop
    if dist[ahead[i]] < reach / 2:  # too little progress: the node after it (the goal lies beyond reach,
        i += 1  # so node i is not the last one)
    return ahead[i]
    ### END SOLUTION


# %%
check_choose_subgoal(choose_subgoal)

# %% [markdown]
# Use it on a graph that needs no trained model: the **true positions** of frames from the training
# episodes, one per action block, with the chapter's episode edges (frames 1 to 3 blocks apart in the
# same episode, weighted by the gap) and edges between frames of different episodes less than 2 px
# apart (the wall is thicker than that, so none of them crosses it; weight: distance over the median
# block step); `position_graph` builds it. Dijkstra with `directed=False` walks every edge both ways. Then
# the subgoal for one start and goal in different rooms at three reaches. (Prints a note until
# written.)

# %%
geo = Geometry(cfg.data.size)
episodes = load_or_collect(cfg.data, "train", progress=False)
fs = cfg.model.frameskip
xy, adj, ep, block = position_graph(episodes, fs)  # (N, 2), (N, N) sparse, one triangle: rows < columns
start_node = int(np.argmin(np.linalg.norm(xy - [12.0, 50.0], axis=1)))  # left room, far below the door
goal_node = int(np.argmin(np.linalg.norm(xy - [50.0, 50.0], axis=1)))  # right room
dist, pred = dijkstra(adj, directed=False, indices=start_node, return_predecessors=True)
print(f"{len(xy)} nodes, {adj.nnz} edges; the goal is {dist[goal_node]:.1f} blocks away")

# %%
from lewm_mini.checks.ch07 import path_from_tree  # the walk back along pred, as in your answer

path = np.array(path_from_tree(pred, goal_node))  # the shortest path, start to goal
try:
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.imshow(background(geo), extent=(0, geo.size, geo.size, 0))
    ax.scatter(xy[:, 0], xy[:, 1], s=1, color="0.75")
    ax.plot(xy[path, 0], xy[path, 1], "-", color="tab:blue", lw=1, label="shortest path")
    for reach, color in ((2.0, "tab:orange"), (5.0, "tab:purple"), (10.0, "tab:red")):
        sub = choose_subgoal(dist, pred, goal_node, reach)
        ax.scatter(*xy[sub], s=60, color=color, edgecolor="k", zorder=3,
                   label=f"subgoal, reach {reach:g}: {dist[sub]:.1f} blocks")
    ax.scatter(*xy[start_node], color="tab:red", marker="o", s=30, zorder=3)
    ax.scatter(*xy[goal_node], color="tab:green", marker="*", s=120, zorder=3)
    ax.set_xticks([]), ax.set_yticks([]), ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.01))
    plt.show()
    with contextlib.redirect_stdout(io.StringIO()):  # the check cell above printed the verdict already
        passed = check_choose_subgoal(choose_subgoal, strict=False)
    if not passed:
        print("Your choose_subgoal does not pass the check above yet: the subgoals drawn are its answers, "
              "not the right ones.")
except NotImplementedError as err:
    plt.close(fig)
    print(f"(write {err} first)")

# %% [markdown]
# The subgoals sit on the way to the door, not towards the goal's side of the wall: the tree knows the
# way round because the episodes went round. With `reach` 2 the planner would need a new subgoal every
# couple of blocks; too large a reach gives CEM a target beyond the few blocks its cost can see
# (chapter 06's cost map), which is the failure the chapter started from.
