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
# # 00 · A mini LLM versus a world model (solutions)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/solutions/00_llm_vs_world_model_solutions.ipynb)
#
# Two exercises for chapter 00 (`notebooks/00_llm_vs_world_model.ipynb`), each a step beyond what the
# chapter shows: read an episode log back into positions and actions (the chapter only writes it), and
# the physics rule for *any* map of walls (the chapter's rule knows only Two-Room's wall and door).
# Each exercise is one function; the cell after it checks your answer and prints PASS, or FAIL with a
# hint, or "not implemented yet".
#
# **Prerequisites:** chapter 00, section 1.
#
# **Time:** about 15 min of work; compute: under 10 s on CPU (2 cores, cpu profile) and in the ci profile.

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
# The grid of chapter 00: positions in cells of one agent step (1.43 px at 64 px), 40 x 40 cells, the
# wall in two columns except for the door rows. Coordinates 0..39 are tokens 0..39; an action value
# v in {-1, 0, +1} is token `ACT0 + 1 + v` (40, 41, 42).

# %%
import matplotlib.pyplot as plt
import numpy as np

from lewm_mini.checks.ch00 import check_parse_episode, check_physics_violations, episode_tokens
from lewm_mini.world import Geometry

GEO = Geometry(64)
N_CELLS = int((GEO.hi - GEO.lo) / GEO.speed) + 1
px = GEO.lo + GEO.speed * np.arange(N_CELLS)  # cell centres in pixels
WALL_X = np.flatnonzero((px >= GEO.wall[0]) & (px <= GEO.wall[1]))
DOOR_Y = np.flatnonzero((px >= GEO.door[0]) & (px <= GEO.door[1]))
ACT0 = N_CELLS
print(f"{N_CELLS} cells per axis; wall columns {WALL_X.tolist()}; door rows {DOOR_Y.tolist()}; ACT0 = {ACT0}")

# %% [markdown]
# ## Exercise 0.1: read a log back
#
# The chapter writes an episode as tokens: `x0 y0 ax0 ay0 x1 y1 ax1 ay1 ... xT yT` (each step: where the
# agent is, then the action it takes; the episode ends with the last position), with action value v
# written as token `ACT0 + 1 + v`. A model that writes logs (the mini LLM of section 2) has to be read
# back. Write the inverse: from the flat token array (4T + 2,) return `cells` (T+1, 2) and `actions`
# (T, 2) with values in {-1, 0, +1}, both integer arrays. An episode of 0 steps is just `x0 y0`.

# %%
def parse_episode(tokens):
    """tokens (4T+2,) int -> (cells (T+1, 2) int, actions (T, 2) in {-1, 0, 1})."""
    ### BEGIN SOLUTION
    tokens = np.asarray(tokens)
    steps = tokens[:-2].reshape(-1, 4)  # (T, 4): x y ax ay
    cells = np.concatenate([steps[:, :2], tokens[-2:][None]], axis=0)
    return cells.astype(np.int64), (steps[:, 2:] - ACT0 - 1).astype(np.int64)
    ### END SOLUTION


# %%
check_parse_episode(parse_episode)

# %% [markdown]
# Use it: a round trip through the chapter's format. (Prints a note until `parse_episode` is written.)

# %%
try:
    cells = np.array([[18, 3], [17, 3], [17, 4], [16, 5]])
    actions = np.array([[-1, 0], [0, 1], [-1, 1]])
    tokens = episode_tokens(cells, actions)
    back = parse_episode(tokens)
    print("tokens:", tokens.tolist())
    print("round trip exact:", np.array_equal(back[0], cells) and np.array_equal(back[1], actions))
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# ## Exercise 0.2: physics on any map
#
# The chapter's `physics_violations` knows one wall with one door. Write it for any map of walls:
# `blocked` is a boolean array (n, n) **indexed [x, y]** (first index x, like the cells), True where a
# cell is wall. `prev` and `nxt` are arrays (B, 2) of cells: where a model says the agent was and where
# it says the agent is one step later. Return a boolean array (B,), True where the step is impossible:
#
# - `nxt` lies outside the grid (a coordinate below 0 or above n - 1);
# - `nxt` is a blocked cell;
# - the agent moved more than one cell along x or along y (diagonal steps of one cell are fine).
#
# Careful with the order: `nxt` may be outside the grid, and numpy reads `blocked[-1, 3]` without
# complaint (the last column), so decide "outside" before you look a cell up.

# %%
def physics_violations(prev, nxt, blocked):
    """prev, nxt (B, 2) int cells, blocked (n, n) bool [x, y] -> (B,) bool, True where the step is impossible."""
    ### BEGIN SOLUTION
    prev, nxt = np.asarray(prev), np.asarray(nxt)
    n = blocked.shape[0]
    outside = ((nxt < 0) | (nxt > n - 1)).any(1)
    inside = np.clip(nxt, 0, n - 1)  # safe indices; the outside cells are flagged already
    on_wall = blocked[inside[:, 0], inside[:, 1]] & ~outside
    too_far = (np.abs(nxt - prev) > 1).any(1)
    return outside | on_wall | too_far
    ### END SOLUTION


# %%
check_physics_violations(physics_violations)

# %% [markdown]
# Use it: the Two-Room map gives the chapter's rule back, and a map of your own (here two walls with
# gaps at opposite ends) needs no new code. Every single step from a free cell is classified; the
# pictures show, for each free cell, how many of the 8 one-cell moves are impossible.
# (Prints a note until `physics_violations` is written.)

# %%
try:
    two_room = np.zeros((N_CELLS, N_CELLS), bool)
    two_room[np.ix_(WALL_X, np.setdiff1d(np.arange(N_CELLS), DOOR_Y))] = True
    maze = np.zeros((20, 20), bool)
    maze[6, :15], maze[13, 5:] = True, True
    moves = np.array([(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy])
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
    for ax, (name, blocked) in zip(axes, (("Two-Room", two_room), ("two walls", maze))):
        n = blocked.shape[0]
        free = np.argwhere(~blocked)
        prev = np.repeat(free, len(moves), 0)
        bad = physics_violations(prev, prev + np.tile(moves, (len(free), 1)), blocked).reshape(len(free), -1)
        img = np.full((n, n), np.nan)
        img[free[:, 1], free[:, 0]] = bad.sum(1)  # image rows are y
        ax.imshow(img, cmap="magma_r", vmin=0, vmax=8)
        ax.set_title(f"{name}: impossible moves per cell", fontsize=9), ax.axis("off")
    plt.tight_layout()
    plt.show()
except NotImplementedError as err:
    plt.close("all")
    print(f"(write {err} first)")

# %% [markdown]
# ## Going further
#
# - In chapter 00, write the log with the action *after* the position it led to, retrain the mini LLM,
#   and measure its "what if" accuracy again.
# - Add a `goal gx gy` prefix to each episode of the log (the target is known to the recorder). Does
#   the mini LLM then head for *your* goal on its own? What kind of model have you built?
