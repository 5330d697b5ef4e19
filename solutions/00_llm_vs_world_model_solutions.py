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
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · A mini LLM versus a world model (solutions)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/solutions/00_llm_vs_world_model_solutions.ipynb)
#
# Two small exercises for chapter 00 (`notebooks/00_llm_vs_world_model.ipynb`): write the episode log
# as tokens, and write the rule that decides whether a predicted step breaks the world's physics.
# Each exercise is one function; the cell after it checks your answer and prints PASS, or FAIL with a
# hint, or "not implemented yet".
#
# **Prerequisites:** chapter 00, sections 1 and 5.
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
import numpy as np

from lewm_mini.checks.ch00 import check_episode_tokens, check_physics_violations
from lewm_mini.world import Geometry

GEO = Geometry(64)
N_CELLS = int((GEO.hi - GEO.lo) / GEO.speed) + 1
px = GEO.lo + GEO.speed * np.arange(N_CELLS)  # cell centres in pixels
WALL_X = np.flatnonzero((px >= GEO.wall[0]) & (px <= GEO.wall[1]))
DOOR_Y = np.flatnonzero((px >= GEO.door[0]) & (px <= GEO.door[1]))
ACT0 = N_CELLS
print(f"{N_CELLS} cells per axis; wall columns {WALL_X.tolist()}; door rows {DOOR_Y.tolist()}; ACT0 = {ACT0}")

# %% [markdown]
# ## Exercise 0.1: write an episode as tokens
#
# An episode is `cells` (T+1, 2) (integer x, y per time step) and `actions` (T, 2) with values in
# {-1, 0, +1}. Its log is `x0 y0 ax0 ay0 x1 y1 ax1 ay1 ... xT yT`: each step writes where the agent is,
# then the action it takes; the episode ends with the last position. Return a flat integer array of
# 4T + 2 tokens.
#
# Why the order matters: a next-token model can be *told* an action only if the action comes before
# the position it leads to.


# %%
def episode_tokens(cells, actions):
    """cells (T+1, 2) int, actions (T, 2) in {-1, 0, 1} -> tokens (4T+2,) int."""
    ### BEGIN SOLUTION
    cells, actions = np.asarray(cells), np.asarray(actions)
    steps = np.concatenate([cells[:-1], ACT0 + 1 + actions], axis=1)  # (T, 4): x y ax ay
    return np.concatenate([steps.reshape(-1), cells[-1]]).astype(np.int64)
    ### END SOLUTION


# %%
check_episode_tokens(episode_tokens)

# %% [markdown]
# ## Exercise 0.2: when does a predicted step break physics?
#
# `prev` and `nxt` are arrays (B, 2) of cells: where a model says the agent was and where it says the
# agent is one step later. Return a boolean array (B,), True where the step is impossible in Two-Room:
#
# - `nxt` lies inside the wall: its x is a wall column and its y is *not* a door row;
# - `nxt` lies outside the grid (a coordinate below 0 or above N_CELLS - 1);
# - the agent moved more than one cell along x or along y (diagonal steps of one cell are fine).
#
# A step can be legal and still wrong (the agent should have slid along the wall): this function only
# flags the impossible ones.


# %%
def physics_violations(prev, nxt):
    """prev, nxt (B, 2) int cells -> (B,) bool, True where the step breaks the world's physics."""
    ### BEGIN SOLUTION
    prev, nxt = np.asarray(prev), np.asarray(nxt)
    in_wall = np.isin(nxt[:, 0], WALL_X) & ~np.isin(nxt[:, 1], DOOR_Y)
    outside = ((nxt < 0) | (nxt > N_CELLS - 1)).any(1)
    too_far = (np.abs(nxt - prev) > 1).any(1)
    return in_wall | outside | too_far
    ### END SOLUTION


# %%
check_physics_violations(physics_violations)

# %% [markdown]
# ## Going further
#
# - In chapter 00, write the log with the action *after* the position it led to, retrain the mini LLM,
#   and measure its "what if" accuracy again.
# - Add a `goal gx gy` prefix to each episode of the log (the target is known to the recorder). Does
#   the mini LLM then head for *your* goal on its own? What kind of model have you built?
