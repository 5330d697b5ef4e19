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
# # 10 · A world with momentum (solutions)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/solutions/10_world_with_momentum_solutions.ipynb)
#
# The two pieces of chapter 10 (`notebooks/10_world_with_momentum.ipynb`) that you write yourself: the
# physics step of the Momentum world, and the window of history the predictor reads in it. Write each
# where it says `# YOUR CODE HERE`, then run the check cell below it: it prints PASS, or FAIL with a
# hint.
#
# **Prerequisites:** chapters 01 (the Two-Room world), 03 (the predictor's interface) and 10.
#
# **Time:** about 40 min. Compute: CPU (2 cores, cpu profile) a few seconds; ci profile a few seconds
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

from lewm_mini.checks.ch10 import check_history_input, check_momentum_step, door_edges
from lewm_mini.momentum import BatchedMomentum, MomentumGeometry, heuristic_forces
from lewm_mini.world import background, in_wall

# %% [markdown]
# ## Exercise 10.1 · The physics step
#
# Two-Room's agent moves by the action and stops. The Momentum world's puck keeps moving: the action
# is a **force**, and the state is the position *and* the velocity. Writing the step yourself shows
# exactly what a frame leaves out.
#
# Write `momentum_step(pos, vel, force, geo)` for N pucks at once: `pos`, `vel`, `force` are (N, 2)
# arrays (x, y in pixels, pixels per step, and forces in [-1, 1]); `geo` is a `MomentumGeometry`.
# Return `(new_pos, new_vel)`, each (N, 2). In this order:
#
# 1. **the force**: `v = vel + geo.accel * force`;
# 2. **friction**: the velocity loses the fraction `geo.friction` of itself;
# 3. **the speed cap**: a puck faster than `geo.max_speed` (its speed is the norm of v) is slowed to
#    exactly `max_speed`, keeping its direction; a slower one is left alone;
# 4. **the move, one axis at a time**, with the new velocity. First x: `x = pos[:, 0] + vx`; a puck
#    that would end a distance d beyond the border (`geo.lo`, `geo.hi`) ends d inside it, and its `vx`
#    is reversed. Then the wall: where the new x and the **old** y lie in the wall
#    (`in_wall(points, geo)` knows the door), reflect x off the face the puck met (`geo.wall[0]`, the
#    left face, when it moves right; `geo.wall[1]` when it moves left) and reverse `vx`. Then y:
#    `y = pos[:, 1] + vy`, the same border bounce, and the door's edges, which the helper
#    `door_edges(x, y, vy, geo)` handles for you (it returns the new `y, vy`).
#
# A bounce reverses only the component of the velocity normal to what the puck met; the other is kept,
# so a puck never gains speed without a force.
#
# <details><summary>Hint</summary>
#
# `door_edges` does for y at the door what you do for x at the wall's faces: `door_edges??` shows its
# code. For the cap, `np.linalg.norm(v, axis=1, keepdims=True)` is the speed of each puck, and mind
# the pucks at rest (speed 0).
# </details>

# %%
def momentum_step(pos: np.ndarray, vel: np.ndarray, force: np.ndarray, geo) -> tuple[np.ndarray, np.ndarray]:
    """Positions, velocities, forces (N, 2) -> (new positions, new velocities) (N, 2), one step."""
    ### BEGIN SOLUTION
    v = (vel + geo.accel * force) * (1 - geo.friction)  # the force, then friction
    speed = np.linalg.norm(v, axis=1, keepdims=True)
    v = v * np.minimum(1.0, geo.max_speed / np.maximum(speed, 1e-12))  # the cap, on the speed
    # x: the border, then the wall's faces, tested at the old y
    x, vx = pos[:, 0] + v[:, 0], v[:, 0]
    out = (x < geo.lo) | (x > geo.hi)
    x = np.where(x < geo.lo, 2 * geo.lo - x, np.where(x > geo.hi, 2 * geo.hi - x, x))
    vx = np.where(out, -vx, vx)
    hit = in_wall(np.stack([x, pos[:, 1]], 1), geo)
    x = np.where(hit, np.where(vx > 0, 2 * geo.wall[0] - x, 2 * geo.wall[1] - x), x)
    vx = np.where(hit, -vx, vx)
    # y: the border, then the door's edges
    y, vy = pos[:, 1] + v[:, 1], v[:, 1]
    out = (y < geo.lo) | (y > geo.hi)
    y = np.where(y < geo.lo, 2 * geo.lo - y, np.where(y > geo.hi, 2 * geo.hi - y, y))
    vy = np.where(out, -vy, vy)
    y, vy = door_edges(x, y, vy, geo)
    return np.stack([x, y], 1), np.stack([vx, vy], 1)
    ### END SOLUTION


# %%
check_momentum_step(momentum_step)

# %% [markdown]
# Use it: twelve pucks leave the same spot at full speed in twelve directions and coast for 60 steps,
# with no force. Friction slows them, the border and the wall turn them back, and some pass through the
# doorway. Your paths are compared with the package's world (`lewm_mini.momentum.BatchedMomentum`).
# (Prints a note until written.)

# %%
geo = MomentumGeometry(cfg.data.size)
angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
start = np.tile(np.array([[20.0, 30.0]], np.float32) * geo.size / 64, (12, 1))  # left room, below the door
v0 = (np.stack([np.cos(angles), np.sin(angles)], 1) * geo.max_speed).astype(np.float32)
world = BatchedMomentum(12, geo.size)
world.reset(start, vel=v0)
package = [world.pos.copy()] + [world.step(np.zeros((12, 2), np.float32)).copy() for _ in range(60)]
package = np.stack(package, 1)  # (12, 61, 2)
try:
    with contextlib.redirect_stdout(io.StringIO()):  # the check cell above printed the verdict already
        passed = check_momentum_step(momentum_step, strict=False)
    p, v, path = start.copy(), v0.copy(), [start.copy()]
    for _ in range(60):
        p, v = momentum_step(p, v, np.zeros((12, 2), np.float32), geo)
        path.append(np.asarray(p, np.float32))
    path = np.stack(path, 1)  # (12, 61, 2)
    print(f"largest gap between your paths and the package's world: {np.abs(path - package).max():.2g} px; "
          f"speed after 60 steps: {np.linalg.norm(v, axis=1).mean():.2f} px/step (from {geo.max_speed:.2f})")
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.imshow(background(geo), extent=(0, geo.size, geo.size, 0))
    for k in range(12):
        ax.plot(*path[k].T, lw=1.2)
        ax.plot(*path[k, -1], "o", ms=3, color="k")
    ax.scatter(*start[0], marker="*", s=150, color="tab:red", edgecolor="k", zorder=3)
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title("12 pucks coasting from the red star (dots: after 60 steps)", fontsize=9)
    plt.show()
    if not passed:
        print("Your momentum_step does not pass the check above yet: the picture shows its paths.")
except NotImplementedError as err:
    print(f"(write {err} first)")
except Exception as err:  # a wrong answer that crashes: the check above says what to fix
    print(f"(your function raised {type(err).__name__}: {err}; see the check above)")

# %% [markdown]
# **Think:** every puck passes through the red star at step 0. A frame taken then shows twelve identical
# pictures, yet the next frames differ in every direction. What must a model see, besides the current
# frame, to tell where a puck goes next?

# %% [markdown]
# ## Exercise 10.2 · The history the predictor reads
#
# One frame holds the position, not the velocity; two frames one action block apart hold both. So in
# this world the predictor reads a short history: the latents of the last few frames, each paired with
# the action block executed after it (chapter 03's interface: position i of the window forecasts the
# latent that follows latent i, given its block). To imagine a candidate block from now, the window
# ends with the current latent and that candidate.
#
# Write `history_input(z, raw_actions, next_block, history, frameskip)`:
# - `z`: latents (B, C+1, D) of frames one action block apart, oldest first; the last one is now;
# - `raw_actions`: the (already z-scored) per-step actions (B, C·frameskip, A0) executed since the
#   oldest frame: block i, the frameskip steps after frame i, led from frame i to frame i+1;
# - `next_block`: the candidate block (B, A0·frameskip) to imagine from now;
# - returns `(z_in, a_in)`, shapes (B, h, D) and (B, h, A0·frameskip) with h = min(history, C+1): the
#   last h latents, each paired with the block executed after it.
#
# A block is frameskip consecutive steps in one vector, laid out as the package lays it out
# (`lewm_mini.data.ActionStats.block`): (..., K·frameskip, A0) -> (..., K, frameskip·A0), step by step.
#
# <details><summary>Hint</summary>
#
# Cut `raw_actions` into its C blocks, put `next_block` after them: that is one block per latent of
# `z`. Then keep the last h of each.
# </details>

# %%
def history_input(z: torch.Tensor, raw_actions: torch.Tensor, next_block: torch.Tensor, history: int,
                  frameskip: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Latents (B, C+1, D), raw actions (B, C*fs, A0), next block (B, A0*fs) -> (z_in (B, h, D), a_in (B, h, A))."""
    ### BEGIN SOLUTION
    b, c = raw_actions.shape[0], raw_actions.shape[1] // frameskip
    blocks = raw_actions.reshape(b, c, frameskip * raw_actions.shape[-1])  # block i: the steps after frame i
    a = torch.cat([blocks, next_block[:, None]], dim=1)  # one block per latent; now's is the candidate
    h = min(history, z.shape[1])
    return z[:, -h:], a[:, -h:]
    ### END SOLUTION


# %%
check_history_input(history_input)

# %% [markdown]
# Use it, with a predictor that needs no training: the **true positions** stand in for the latents
# (as in chapter 08's exercises), and a linear least-squares fit stands in for the predictor. 3000
# pucks of the package's world are pushed towards goals by the data's noisy policy; from each, the
# fit forecasts the position one block after now from `history_input`'s window, for `history` 1, 2
# and 3 (the forces go in as they are, not z-scored: a linear fit does not mind their scale). With one
# frame the fit cannot know the velocity; with two it can. (Prints a note until written.)

# %%
fs, past = cfg.model.frameskip, 2  # two past frames, as a model with history 3 reads
n = 3000
world = BatchedMomentum(n, geo.size, seed=0)
world.reset()
rng = np.random.default_rng(0)
positions, forces = [], []
for t in range(10 + (past + 1) * fs):  # 10 steps to get the pucks moving, then past + 1 blocks
    f = heuristic_forces(world.pos, world.vel, world.goal, geo, 0.5, rng)
    positions.append(world.pos.copy()), forces.append(f)
    world.step(f)
positions.append(world.pos.copy())
positions, forces = np.stack(positions, 1), np.stack(forces, 1)  # (n, steps + 1, 2), (n, steps, 2)
frames = positions[:, 10::fs]  # (n, past + 2, 2): the past frames, now, and the frame to forecast
scale = geo.size / 4  # "latents" of about unit size
z = torch.from_numpy(frames[:, : past + 1] / scale)
raw = torch.from_numpy(forces[:, 10 : 10 + past * fs])
nxt = torch.from_numpy(forces[:, 10 + past * fs : 10 + (past + 1) * fs].reshape(n, -1))
train, test = slice(0, 2400), slice(2400, n)

# %%
try:
    with contextlib.redirect_stdout(io.StringIO()):
        passed = check_history_input(history_input, strict=False)
    errors = {}
    for history in (1, 2, 3):
        z_in, a_in = history_input(z, raw, nxt, history, fs)
        x = np.concatenate([np.asarray(z_in).reshape(n, -1), np.asarray(a_in).reshape(n, -1), np.ones((n, 1))], 1)
        w, *_ = np.linalg.lstsq(x[train], frames[train, -1] / scale, rcond=None)
        errors[history] = np.linalg.norm((x[test] @ w) * scale - frames[test, -1], axis=1).mean()
        print(f"history {history}: the fit reads {z_in.shape[1]} position(s) and {a_in.shape[1]} block(s); "
              f"forecast error one block ahead {errors[history]:.2f} px")
    print(f"the error falls {errors[1] / errors[2]:.1f} fold from one frame to two, and {errors[2] / errors[3]:.2f} "
          "fold from two to three")
    plt.figure(figsize=(4, 2.6))
    plt.bar([str(k) for k in errors], list(errors.values()))
    plt.xlabel("history (frames read)"), plt.ylabel("mean error (px)")
    plt.title("forecasting the next frame's position", fontsize=9)
    plt.show()
    if not passed:
        print("Your history_input does not pass the check above yet: the numbers above come from its windows.")
except NotImplementedError as err:
    print(f"(write {err} first)")
except Exception as err:  # a wrong answer that crashes: the check above says what to fix
    print(f"(your function raised {type(err).__name__}: {err}; see the check above)")

# %% [markdown]
# One frame leaves the fit guessing the velocity: its error is about the distance a puck coasts in a
# block. Two frames give it the velocity, and the error falls about four fold (the printed ratio); a
# third adds little to a linear fit (what remains is the speed cap and the bounces, which are not
# linear). The chapter's predictor reads the same window, made by `lewm_mini.rollout.rollout` from
# `context` and `context_blocks`.
