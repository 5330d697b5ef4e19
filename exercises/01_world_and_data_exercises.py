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
# # 01 · The Two-Room world and its data (exercises)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/exercises/01_world_and_data_exercises.ipynb)
#
# Three functions from chapter 01 (`notebooks/01_world_and_data.ipynb`): the behaviour policy, cutting a
# training clip out of an episode, and the z-scored action blocks. The chapter uses the package's
# versions; here you write them. Write each one where it says `# YOUR CODE HERE`, then run the check
# cell below it: it prints PASS, or FAIL with a hint.
#
# **Prerequisites:** chapter 01.
#
# **Time:** about 30 min. Compute: CPU (2 cores, cpu profile) about 5 s measured; ci profile the same
# (no size depends on the profile).

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
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np

from lewm_mini.checks.ch01 import check_action_blocks, check_cut_clip, check_heuristic_actions
from lewm_mini.data import ClipSampler, collect
from lewm_mini.world import BatchedTwoRoom, Geometry, room_of

geo = Geometry(64)

# %% [markdown]
# ## Exercise 1.1 · The "door, then target" heuristic
#
# Write the behaviour policy that produced the released Two-Room data, for N worlds at once.
# For each world:
# 1. The waypoint is the door's centre `geo.door_center` if the target is in the other room
#    (`room_of(pos, geo) != room_of(target, geo)`) **and** the agent is not yet in the door band;
#    otherwise the waypoint is the target. The door band: `|x - door_x| <= geo.speed` and
#    `geo.door[0] <= y <= geo.door[1]`.
# 2. The direction is the unit vector from the agent to the waypoint (divide by
#    `max(norm, 1e-6)` so an agent standing on its waypoint gets 0, not NaN).
# 3. Add `noise * rng.standard_normal((N, 2))` and clip to $[-1, 1]$. Return float32.

# %%
def heuristic_actions(pos: np.ndarray, target: np.ndarray, geo: Geometry, noise: float,
                      rng: np.random.Generator) -> np.ndarray:
    """Actions (N, 2) of the noisy door-then-target policy for agents pos (N, 2) and targets (N, 2)."""
    # YOUR CODE HERE
    raise NotImplementedError("heuristic_actions")


# %%
check_heuristic_actions(heuristic_actions)

# %% [markdown]
# Use it: how long do episodes take to reach their target, for three noise levels? (This cell runs your
# heuristic; it prints a note instead while it is not written yet.)

# %%
def run_heuristic(noise: float, n: int = 500, steps: int = 100, seed: int = 1):
    rng = np.random.default_rng(seed)
    world = BatchedTwoRoom(n, seed=seed)
    pos = [world.pos.copy()]
    for _ in range(steps):
        pos.append(world.step(heuristic_actions(world.pos, world.goal, geo, noise, rng)).copy())
    return np.stack(pos, 1), world.goal.copy()


try:
    fig, ax = plt.subplots(figsize=(6, 3))
    for noise in (0.3, 1.0, 2.0):
        pos, goal = run_heuristic(noise)
        hit = np.linalg.norm(pos - goal[:, None], axis=-1) <= geo.success_radius  # (n, steps + 1)
        first = hit.argmax(1)[hit.any(1)]  # first frame within the radius, for the episodes that get there
        ax.hist(first, bins=np.arange(0, 102, 4), alpha=0.5,
                label=f"noise {noise}: {hit.any(1).mean():.0%} reach, mean {first.mean():.0f} steps")
    ax.set_xlabel("steps to reach the target")
    ax.legend(fontsize=8)
    plt.show()
except NotImplementedError as err:
    plt.close("all")
    print(f"(write {err} first)")

# %% [markdown]
# ## Exercise 1.2 · Cut a training clip
#
# LeWM trains on clips: `history + 1` frames, `frameskip` environment steps apart, each with the
# **block** of `frameskip` raw actions that *leaves* it (the last frame's block is never used to predict
# anything, but is kept so frames and blocks line up). For one episode with frames (S+1, ...) (frame t is
# the state *before* action t) and raw actions (S, 2), and a start step, return
#
# - the clip's frames, shape (T, ...) with T = history + 1: frames start, start + fs, ..., start + (T-1) fs;
# - its raw actions grouped per frame, shape (T, fs, 2): block k is actions start + k fs ... start + (k+1) fs - 1.
#
# A clip needs T fs actions from `start`; when it does not fit (start < 0, or start + T fs > S), raise a
# `ValueError`. `lewm_mini.data.ClipSampler` cuts clips this way; the cell after the check compares.

# %%
def cut_clip(frames: np.ndarray, actions: np.ndarray, start: int, history: int, frameskip: int):
    """(frames (S+1, ...), actions (S, 2)) -> (frames (T, ...), actions (T, frameskip, 2)), T = history + 1."""
    # YOUR CODE HERE
    raise NotImplementedError("cut_clip")


# %%
check_cut_clip(cut_clip)

# %% [markdown]
# Use it: cut a clip from a freshly collected episode and compare its frames with the ones the package's
# `ClipSampler` returns for the same episode and start. (Prints a note until `cut_clip` is written.)

# %%
try:
    eps = collect(replace(cfg.data, episodes=2), seed=5, progress=False)
    sampler = ClipSampler(eps, history=3, frameskip=5)
    start = 12
    ours_frames, ours_actions = cut_clip(np.asarray(eps.frames[0]), np.asarray(eps.actions[0]), start, 3, 5)
    theirs_frames, _ = sampler.get(np.array([0]), np.array([start]))  # float (1, T, 3, H, W)
    same = np.allclose(ours_frames / 255.0, theirs_frames[0].permute(0, 2, 3, 1).numpy(), atol=1e-6)
    print(f"clip frames {ours_frames.shape}, actions {ours_actions.shape}; same frames as ClipSampler: {same}")
    fig, axes = plt.subplots(1, 4, figsize=(9, 2.4))
    for k, ax in enumerate(axes):
        ax.imshow(ours_frames[k]), ax.axis("off"), ax.set_title(f"step {start + 5 * k}", fontsize=9)
    plt.show()
except NotImplementedError as err:
    plt.close("all")
    print(f"(write {err} first)")

# %% [markdown]
# ## Exercise 1.3 · Frameskip action blocks
#
# Turn raw actions (..., K * frameskip, 2) into z-scored action blocks (..., K, 2 * frameskip):
# standardise each component with the dataset's `mean` (2,) and `std` (2,), then group every
# `frameskip` consecutive actions into one vector ordered $(x_1, y_1, x_2, y_2, \dots)$.
# Leading dimensions (episodes, batch) must be kept.

# %%
def action_blocks(raw: np.ndarray, mean: np.ndarray, std: np.ndarray, frameskip: int) -> np.ndarray:
    """Raw actions (..., K * frameskip, 2) -> z-scored blocks (..., K, 2 * frameskip)."""
    # YOUR CODE HERE
    raise NotImplementedError("action_blocks")


# %%
check_action_blocks(action_blocks)

# %% [markdown]
# **Going further.** `lewm_mini.data.ActionStats.unblock` inverts the blocking and clips back to
# $[-1, 1]$. Why does the planner need the clip, when the data never leaves $[-1, 1]$?
