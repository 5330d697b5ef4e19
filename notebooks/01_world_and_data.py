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
# # 01 · The Two-Room world and its data
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/notebooks/01_world_and_data.ipynb)
#
# A world model learns from recorded experience. Before any network, this chapter looks hard at the
# world and at the experience: what a frame is, how it is drawn, how the agent moves, which behaviour
# produced the data, where in the world that data lies, and how raw actions become the "action blocks"
# LeWorldModel (LeWM, arXiv 2603.19312) is trained on.
#
# **What you build:** the Two-Room renderer and physics, inline in numpy, checked pixel for pixel
# against `lewm_mini.world`; coverage heat maps and episode statistics of the behaviour policies; the
# frameskip action blocks with z-scoring; a small widget to drive the agent.
#
# **Objectives.** After this chapter you can
# - drive the world through the Gymnasium API (`reset`, `step`, `info`, the goal *image*);
# - explain every pixel of a frame (border, wall, door, Gaussian agent blob) and every rule of a step;
# - say what the noisy "door, then target" data covers and what it does not, with numbers;
# - turn 5 raw 2-D actions into one z-scored 10-D action block and back.
#
# **Prerequisites:** Python, numpy, matplotlib. No deep learning yet.
#
# **Time:** reading about 40 min.
#
# **Compute** (measured by `tools/execute_notebooks.py`, in a fresh kernel): CPU, cpu profile 6 s on 2 cores
# of AMD EPYC (torch 2.13.0+cpu, 2026-12-02, reusing what earlier runs left in the cache, machine busy: load
# 1.6).

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
# Where this chapter sits in LeWorldModel: it builds the inputs, the frames and the action blocks
# (highlighted).

# %%
import matplotlib.pyplot as plt

from lewm_mini.viz import pipeline_figure

pipeline_figure(["frames", "actions"])
plt.show()

# %%
import time

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

import lewm_mini.world  # noqa: F401  (importing registers "LeWM/TwoRoom-v0" with Gymnasium)
from lewm_mini.data import STRAIGHT_FRACTION, ActionStats, ClipSampler, heuristic_actions, load_or_collect, random_actions
from lewm_mini.notebook import expect
from lewm_mini.world import ENV_ID, BatchedTwoRoom, Geometry, TwoRoomEnv, room_of

T0 = time.perf_counter()
plt.rcParams["figure.dpi"] = 90

# %% [markdown]
# ## 1. The world through the Gymnasium API
#
# Two-Room is LeWM's simplest environment: a square arena split by a wall with one door, and an
# agent (a red blob) that moves where the action pushes it. We use the 64x64 version of the released
# 224x224 world: every length is the released one divided by 3.5.
#
# The package registers the world with [Gymnasium](https://gymnasium.farama.org/), the standard
# interface for reinforcement-learning environments, so `gym.make` works like for any other task.
# An observation is an RGB image, an action is a point of $[-1, 1]^2$.

# %%
env = gym.make(ENV_ID)
print("observation space:", env.observation_space)
print("action space:     ", env.action_space)

obs, info = env.reset(seed=0, options={"start": (12.0, 44.0), "goal": (50.0, 40.0)})
print("obs:", obs.shape, obs.dtype, "| info keys:", sorted(info))
print(f"agent at {info['pos']}, goal at {info['goal']}, distance {info['distance']:.1f} px")
goal_image = info["goal_image"]

# %% [markdown]
# There is no goal *coordinate* for the model: `info["goal_image"]` is a frame of the agent standing
# at the goal, exactly as LeWM receives its goals. The world model only ever sees pixels.
#
# Let us push the agent right for 12 steps and look at every third frame.

# %%
frames = [obs]
for t in range(12):
    obs, reward, terminated, truncated, info = env.step(np.array([1.0, 0.0], np.float32))
    frames.append(obs)
print(f"after 12 steps: agent at {info['pos']}, reward={reward}, terminated={terminated}, truncated={truncated}")

fig, axes = plt.subplots(1, 6, figsize=(12, 2.4))
axes[0].imshow(goal_image)
axes[0].set_title("goal image")
for ax, t in zip(axes[1:], range(0, 13, 3)):
    ax.imshow(frames[t])
    ax.set_title(f"t = {t}")
for ax in axes:
    ax.axis("off")
plt.suptitle("Action (1, 0) for 12 steps: the wall stops the agent below the door")
plt.tight_layout()
plt.show()

# %% [markdown]
# The agent stopped at the wall: it started below the door. A step moves it by at most
# `speed` pixels per unit of action; the wall is thicker than one step, so it can never tunnel through.
#
# **Think.** Why does LeWM receive the goal as an image and not as an (x, y) coordinate? What would it
# take to give a pixel-trained model a coordinate goal?
#
# <details><summary>Answer</summary>
#
# LeWM never sees coordinates: its whole world is the latent of a frame, so a goal has to be something it
# can encode, an image of the agent at the goal, and the planner compares latents. To use an (x, y) goal
# you would need a map from coordinates to latents: render a goal image from the coordinates (easy in a
# simulator, impossible in the real world), or learn that map, for instance by training a small network
# from positions to the latents of frames where the agent stood there.
#
# </details>

# %% [markdown]
# ## 2. How a frame is drawn, and how a step moves the agent
#
# The whole scene is defined by a handful of lengths. `Geometry` holds them at the chosen image size.

# %%
geo = Geometry(cfg.data.size)
SIZE = geo.size
print(f"image {SIZE}x{SIZE}  (released 224; scale {geo.scale:.4f})")
print(f"inner area [{geo.lo:.2f}, {geo.hi:.2f}] px   wall x in [{geo.wall[0]:.2f}, {geo.wall[1]:.2f}]   "
      f"door y in [{geo.door[0]:.2f}, {geo.door[1]:.2f}]")
print(f"agent blob sigma {geo.blob_sigma:.2f} px   speed {geo.speed:.3f} px/step   "
      f"success radius {geo.success_radius:.2f} px")

# %% [markdown]
# ### 2.1 The background
# A pixel $(i, j)$ (row $i$ = y, column $j$ = x) covers the square whose centre is $(j + 0.5, i + 0.5)$.
# It is white when its centre lies inside the inner area, black on the border, and black inside the
# wall's x span unless its y is inside the door span. Images are floats in $[0, 1]$ until the very end.

# %%
def draw_background(geo: Geometry) -> np.ndarray:
    """The static scene (H, W, 3) float32 in [0, 1]: white floor, black border, wall with a door."""
    c = np.arange(geo.size, dtype=np.float32) + 0.5  # pixel centres
    inner = (c >= geo.lo) & (c <= geo.hi)
    img = np.outer(inner, inner).astype(np.float32)  # img[y, x]
    wall_x = (c >= geo.wall[0]) & (c <= geo.wall[1])
    door_y = (c >= geo.door[0]) & (c <= geo.door[1])
    img[np.ix_(~door_y, wall_x)] = 0.0  # rows outside the door, columns of the wall
    return np.repeat(img[:, :, None], 3, axis=2)


BG = draw_background(geo)

# %% [markdown]
# ### 2.2 The agent: a Gaussian blob blended towards red
# Each pixel is pulled towards pure red $(1, 0, 0)$ by a weight
# $w = \exp\!\left(-\frac{(x_c - x)^2 + (y_c - y)^2}{2\sigma^2}\right)$, where $(x_c, y_c)$ is the pixel
# centre and $(x, y)$ the agent:
# $\text{pixel} = (1 - w)\,\text{background} + w\,(1, 0, 0)$. The blob is smooth, so a sub-pixel move
# changes the image a little: position is *visible* at sub-pixel precision.
# The final step rounds to uint8, the format every frame is stored in.

# %%
def draw_frame(pos: np.ndarray, bg: np.ndarray = BG) -> np.ndarray:
    """One frame (H, W, 3) uint8 with the agent at pos = (x, y) in pixels."""
    c = np.arange(bg.shape[0]) + 0.5
    k = -0.5 / geo.blob_sigma**2
    gx = np.exp(k * (c - pos[0]) ** 2)  # one factor per column ...
    gy = np.exp(k * (c - pos[1]) ** 2)  # ... and one per row: the 2-D Gaussian is separable
    w = (gy[:, None] * gx[None, :])[:, :, None]  # (H, W, 1)
    img = bg * (1.0 - w) + w * np.array([1.0, 0.0, 0.0])
    return (img * 255.0 + 0.5).astype(np.uint8)  # round to the nearest integer


pos_demo = np.array([20.3, 40.7], np.float32)
c = np.arange(SIZE) + 0.5
w_demo = np.exp(-((c[None, :] - pos_demo[0]) ** 2 + (c[:, None] - pos_demo[1]) ** 2) / (2 * geo.blob_sigma**2))
frame_demo = draw_frame(pos_demo)

fig, axes = plt.subplots(1, 4, figsize=(12, 3))
axes[0].imshow(BG), axes[0].set_title("background", fontsize=10)
axes[1].imshow(w_demo, cmap="magma"), axes[1].set_title("blend weight w", fontsize=10)
axes[2].imshow(frame_demo), axes[2].set_title(f"frame, agent at\n({pos_demo[0]:.1f}, {pos_demo[1]:.1f})", fontsize=10)
y0, x0 = int(pos_demo[1]) - 6, int(pos_demo[0]) - 6
axes[3].imshow(frame_demo[y0 : y0 + 13, x0 : x0 + 13], interpolation="nearest")
axes[3].set_title("13x13 zoom: the blob", fontsize=10)
for ax in axes:
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# ### 2.3 A step
# The rules, in the order the code applies them:
# 1. the proposed position is `pos + speed * action`, clamped to the inner area;
# 2. if it is inside the wall, try moving along y only, then along x only (the agent slides along the
#    wall instead of sticking to it); if all three are inside the wall, stay.
#
# There is no velocity and no inertia: **the current position is the whole state**, and the current
# frame shows it. Keep that in mind when we later give the predictor a history of three frames.

# %%
def inside_wall(p: np.ndarray) -> bool:
    return bool(geo.wall[0] <= p[0] <= geo.wall[1] and not geo.door[0] <= p[1] <= geo.door[1])


def move(pos: np.ndarray, action: np.ndarray) -> np.ndarray:
    """One step of one agent: pos (2,) float32, action (2,) in [-1, 1] -> new pos (2,) float32."""
    new = np.clip(pos + geo.speed * action, geo.lo, geo.hi).astype(np.float32)
    for cand in (new, np.array([pos[0], new[1]], np.float32), np.array([new[0], pos[1]], np.float32)):
        if not inside_wall(cand):
            return cand
    return pos.copy()


# The same push as in section 1, now with our own functions: 30 steps of (1, 0.25).
p = np.array([12.0, 44.0], np.float32)
path = [p]
for _ in range(30):
    p = move(p, np.array([1.0, 0.25], np.float32))
    path.append(p)
path = np.array(path)

plt.figure(figsize=(3.6, 3.6))
plt.imshow(draw_frame(path[-1]), extent=(0, SIZE, SIZE, 0))
plt.plot(path[:, 0], path[:, 1], ".-", color="tab:blue", ms=3)
plt.title("30 steps of (1, 0.25): blocked, then slides")
plt.axis("off")
plt.show()

# %% [markdown]
# The blue path runs diagonally until the wall, then slides down along it: the x part of the move is
# refused, the y part is kept. The last section checks that `draw_frame` and `move` agree with
# `lewm_mini.world` to the last pixel and the last bit.
#
# **Think.** The agent is a blob with $\sigma = 2$ px but it moves up to 1.43 px per step. Would a
# one-pixel dot (like PLDM's 64x64 Two-Rooms) make learning position from pixels easier or harder for a
# convolutional network? Think of what a small shift does to the pixels.
#
# <details><summary>Answer</summary>
#
# Harder. A one-pixel dot that moves by 1.43 px lands on entirely different pixels: two nearby positions
# share no lit pixel, so the image changes abruptly and the network must learn a separate response for
# every pixel (and a strided convolution can miss a dot that falls between its samples). A blob with sigma
# = 2 px overlaps itself after a step, so the pixels change smoothly with the position: small shifts give
# small, graded changes that a convolution can turn into a position.
#
# </details>

# %% [markdown]
# ## 3. Behaviour policies
#
# LeWM learns from *offline* data: episodes recorded by some behaviour, never from its own actions.
# Two-Room's released data comes from a noisy "door, then target" heuristic: head for the door while
# the target is in the other room, then for the target. The direction is a unit vector, to which
# independent $\mathcal{N}(0, \text{noise}^2)$ noise is added per component before clipping to
# $[-1, 1]$. The released noise is 2.0: much larger than the signal. The other policy we compare is
# uniform random actions.
#
# The course's own data adds one twist, `"heuristic-straight"`: a quarter of the agents (drawn once per
# episode) ignore the door and head straight for their target, so while the target is behind the wall
# they press into it. The plain heuristic touches the wall only in passing, sliding along it to the
# door, so a model trained on it has rarely seen "push the wall, nothing moves": chapter 08 shows such a
# model imagining the agent walking through the wall, and the model trained on this data keeping it on
# its side.
#
# You write the heuristic yourself in **Exercise 1.1** (`exercises/01_world_and_data_exercises.ipynb`).
# Here we use the package's `heuristic_actions` and `random_actions`, which act on a batch of worlds.
# A small helper runs many worlds together and keeps only positions and actions (no rendering, so
# it takes milliseconds).

# %%
def run_policy(policy: str, n: int, steps: int, noise: float = 2.0, seed: int = 0, start=None, target=None):
    """Positions (n, steps+1, 2), actions (n, steps, 2) and each step's target (n, steps, 2) of n episodes.

    Like lewm_mini.data.collect, without rendering: an agent that reaches its target gets a new random
    one and keeps going. Start and first target are random unless given as (n, 2) arrays.
    """
    rng = np.random.default_rng(seed)
    world = BatchedTwoRoom(n, size=SIZE, seed=seed)
    straight = None  # "heuristic-straight": which agents ignore the door, drawn as lewm_mini.data.collect does
    if policy == "heuristic-straight":
        straight = np.random.default_rng([seed, 1]).random(n) < STRAIGHT_FRACTION
    if start is not None:
        world.reset(start, target)
    pos, acts, targets = [world.pos.copy()], [], []
    for _ in range(steps):
        if policy in ("heuristic", "heuristic-straight"):
            a = heuristic_actions(world.pos, world.goal, world.geo, noise, rng, straight)
        else:
            a = random_actions(n, rng)
        targets.append(world.goal.copy())
        acts.append(a)
        pos.append(world.step(a).copy())
        reached = world.success()
        if reached.any():  # a new target for those who arrived
            world.goal[reached] = lewm_mini.world.sample_free_positions(rng, int(reached.sum()), world.geo)
    return np.stack(pos, 1), np.stack(acts, 1), np.stack(targets, 1)


POLICIES = {  # name -> (policy, noise)
    "heuristic, noise 0.3": ("heuristic", 0.3),
    "heuristic, noise 1.0": ("heuristic", 1.0),
    "heuristic, noise 2.0 (released)": ("heuristic", 2.0),
    "heuristic-straight, noise 2.0 (ours)": ("heuristic-straight", 2.0),
    "uniform random": ("random", 0.0),
}
STEPS = 100
DEMO_START = np.array([[10.0, 50.0], [12.0, 14.0], [24.0, 30.0]], np.float32)  # all in the left room
DEMO_TARGET = np.array([[50.0, 48.0], [52.0, 12.0], [44.0, 28.0]], np.float32)  # all in the right room
fig, axes = plt.subplots(1, 5, figsize=(16, 3.4))
for ax, (name, (policy, noise)) in zip(axes, POLICIES.items()):
    pos, _, targets = run_policy(policy, 3, STEPS, noise, seed=4, start=DEMO_START, target=DEMO_TARGET)
    ax.imshow(BG, extent=(0, SIZE, SIZE, 0))
    for i, colour in enumerate(["tab:blue", "tab:orange", "tab:purple"]):
        ax.plot(pos[i, :, 0], pos[i, :, 1], color=colour, lw=1)
        ax.scatter(*pos[i, 0], color=colour, s=15)
        ax.add_patch(plt.Circle(tuple(targets[i, 0]), geo.success_radius, fill=False, color=colour, ls="--"))
    ax.set_title(name, fontsize=9)
    ax.axis("off")
plt.suptitle("Three 100-step episodes per policy (dot = start, dashed circle = first target)")
plt.tight_layout()
plt.show()

# %% [markdown]
# At noise 0.3 the agent walks almost straight to its target, through the door, and on to the next
# one (an agent that arrives gets a new random target, as in the package's data); at 2.0 the path is
# a jittery, biased random walk that may not arrive within 100 steps. The world model does not care whether the target is reached: it only needs to see
# many different (frame, action, next frame) triples. That is why the released data is so noisy. In the
# fourth panel the purple agent is one of the quarter that head straight for their target: it walks into
# the wall and stays pressed against it for the rest of the episode, jittering up and down, while in the
# third panel the same agent heads for the door (which agents go straight is drawn at random per
# episode; here the blue and orange ones do not).

# %% [markdown]
# ## 4. Where the data goes: coverage heat maps and episode statistics
#
# A world model can only be right where it has seen data. We run 1,000 episodes of 100 steps per
# policy (positions only) and count how often each pixel is visited.

# %%
N_EPISODES = 1000
runs = {name: run_policy(policy, N_EPISODES, STEPS, noise, seed=1) for name, (policy, noise) in POLICIES.items()}

fig, axes = plt.subplots(1, 5, figsize=(16, 3.4))
for ax, (name, (pos, _, _)) in zip(axes, runs.items()):
    # histogram2d counts H[x_bin, y_bin]; an image wants [row = y, column = x], hence the .T
    counts, _, _ = np.histogram2d(pos[..., 0].ravel(), pos[..., 1].ravel(), bins=SIZE // 2,
                                  range=[[0, SIZE], [0, SIZE]])
    share = counts.T / counts.sum()
    free = BG[::2, ::2, 0] > 0  # bins whose corner pixel is floor
    ratio = np.where(free, share / (1.0 / free.sum()), np.nan)  # 1 = visited as often as under uniform coverage
    im = ax.imshow(np.log2(ratio + 1e-3), cmap="RdBu_r", vmin=-3, vmax=3, extent=(0, SIZE, SIZE, 0))
    ax.set_title(name, fontsize=9)
    ax.axis("off")
fig.colorbar(im, ax=axes, shrink=0.8, label="log2(visits / uniform share)")
plt.suptitle("Coverage: red = visited more than uniformly, blue = less (2x2 px bins)")
plt.show()

# %% [markdown]
# Read the maps as "where will the world model have seen enough examples?"
# - Every heuristic funnels its traffic through the door (red) and under-visits the edges and corners
#   of the rooms (blue): its paths are noisy straight lines between random points, and those bunch up
#   in the middle of the arena and at the door.
# - More noise spreads the visits a little and makes the paths wiggle (compare the door's share in the
#   table below).
# - The straight variant keeps more of its visits right beside the wall: below the door, where the
#   released data's map turns blue next to the wall's left face, ours stays red down to about half the
#   room's height, and pale below. Its agents wait there, pressing. (Beside the right face the strip
#   falls in the blank column of bins that straddle the wall.)
# - Random actions cover the floor evenly, but almost never take the agent into the other room.
#
# Now numbers. For each policy: how many episodes reach a target (come within the success radius of
# their current target at least once) and how many targets an episode reaches on average, how many
# episodes cross from one room to the other, how far a step moves the agent on average, how many
# action components are saturated (clipped at $\pm 1$), how much more often than under uniform
# coverage the agent is near the door, and how often it is against the wall's solid part (within one step
# of a face, away from the door: where the model learns that the wall stops it).

# %%
def episode_stats(pos: np.ndarray, acts: np.ndarray, targets: np.ndarray) -> dict:
    arrived = np.linalg.norm(pos[:, 1:] - targets, axis=-1) <= geo.success_radius  # (n, steps)
    rooms = room_of(pos, geo)
    return {
        "reach a target": arrived.any(1).mean(),
        "targets / episode": arrived.sum(1).mean(),
        "cross the door": (rooms != rooms[:, :1]).any(1).mean(),
        "px per step": np.linalg.norm(np.diff(pos, axis=1), axis=-1).mean(),
        "saturated |a|=1": (np.abs(acts) >= 1.0 - 1e-6).mean(),
        "near door / uniform": near_door(pos).mean() / near_door(UNIFORM).mean(),
        "against the wall": against_wall(pos).mean(),
    }


def near_door(p: np.ndarray) -> np.ndarray:
    """True where a position is within 6 px of the door's centre."""
    return np.linalg.norm(p - geo.door_center, axis=-1) <= 6.0


def against_wall(p: np.ndarray) -> np.ndarray:
    """True where a position is within one step (1.43 px) of the wall's faces, beside its solid part."""
    x, y = p[..., 0], p[..., 1]
    at_face = (np.abs(x - geo.wall[0]) <= geo.speed) | (np.abs(x - geo.wall[1]) <= geo.speed)
    return at_face & ((y < geo.door[0]) | (y > geo.door[1]))


# Reference: positions spread uniformly over the free floor
UNIFORM = lewm_mini.world.sample_free_positions(np.random.default_rng(0), 200_000, geo)


stats_table = {name: episode_stats(*run) for name, run in runs.items()}
print(f"{'policy':34s}" + "".join(f"{k:>20s}" for k in next(iter(stats_table.values()))))
for name, s in stats_table.items():
    print(f"{name:34s}" + "".join(f"{v:20.2f}" for v in s.values()))

# %%
keys = ["reach a target", "cross the door", "saturated |a|=1", "against the wall"]
x = np.arange(len(keys))
plt.figure(figsize=(8, 3))
for i, (name, s) in enumerate(stats_table.items()):
    plt.bar(x + 0.16 * (i - 2), [s[k] for k in keys], width=0.16, label=name)
plt.xticks(x, keys)
plt.ylabel("fraction")
plt.legend(fontsize=7)
plt.title(f"Episode statistics, {N_EPISODES} episodes x {STEPS} steps")
plt.show()

# %% [markdown]
# Compare with what is reported for the released 224 px data (same geometry, scaled): about 64% of
# action components saturate at noise 2.0 (the saturation depends only on the noise, and ours
# matches), and with noise 1.0, 98% of episodes reach the target (ours: 0.99). At noise 2.0 the
# released data reaches its target in only about 40% of episodes, our 100-step episodes in about
# three quarters: the released episodes differ in details we do not copy (how starts and targets are
# drawn; they end at the target, ours draw a new target and go on), so compare the trend, not the
# digits.
#
# The last column is what the straight variant is for: it is against the wall's solid part in 0.10 of
# its steps, the released heuristic in 0.06, random actions in 0.05. It pays for it with fewer door
# crossings (0.54 against 0.64) and a little less often reaching a target (0.72 against 0.77).
#
# **Think.** The random policy covers the floor most evenly, but only a few percent of its episodes
# cross the door. A planner will be asked to go from one room to the other. Which column of the table
# matters more for that, and why? (PLDM reports 97.8% success with good data and 34% when no training
# trajectory crosses the door.)
#
# <details><summary>Answer</summary>
#
# "Cross the door". To plan from one room to the other the model must have seen how the agent goes through
# the door, and that is a narrow, rare event; an even coverage of each room's floor teaches nothing about
# it. PLDM's numbers say the same: 97.8% success with door crossings in the data, 34% without.
#
# </details>

# %% [markdown]
# ## 5. The training data, frameskip action blocks and z-scoring
#
# The training set is produced once by `lewm_mini.data.load_or_collect` (rendered frames included)
# and cached on disk, so later chapters reuse it. Its size follows the profile.

# %%
expect(2, 15, 60, cfg.profile)
t = time.perf_counter()
episodes = load_or_collect(cfg.data, "train", progress=False)
print(f"{len(episodes)} episodes: frames {episodes.frames.shape} {episodes.frames.dtype}, "
      f"actions {episodes.actions.shape}  ({episodes.frames.nbytes / 2**20:.0f} MiB of frames, "
      f"{time.perf_counter() - t:.1f} s)")
pos_check, acts_check, _ = run_policy(cfg.data.policy, cfg.data.episodes, cfg.data.steps, cfg.data.noise, cfg.data.seed)
print("our run_policy reproduces the stored positions:", np.array_equal(pos_check, episodes.pos))

# %% [markdown]
# **Frameskip.** One environment step moves the agent by at most 1.43 px: consecutive frames are
# almost identical. LeWM therefore looks at every 5th frame and treats the 5 raw actions in between as
# one **action block**: 5 steps x 2 components concatenated into one 10-D vector,
# $(a^x_1, a^y_1, a^x_2, a^y_2, \dots, a^x_5, a^y_5)$. A training clip is `history + 1 = 4` frames,
# 5 steps apart, with the 4 action blocks that start at them (the last block is unused, kept so
# frames and blocks line up).
#
# **Z-scoring.** Before blocking, each raw component is standardised with the dataset's mean and std:
# $\tilde a = (a - \mu) / \sigma$. The networks then see unit-scale inputs, and the planner can search
# in a space where "std 1" means "as varied as the data".

# %%
stats = ActionStats.fit(episodes.actions)
print("per-component mean", stats.mean.round(3), " std", stats.std.round(3))
lo_z, hi_z = stats.bounds()
print("raw -1 and +1 become", lo_z.round(2), "and", hi_z.round(2), "after z-scoring")

sampler = ClipSampler(episodes, cfg.model.history, cfg.model.frameskip, stats, seed=0)
clip_frames, clip_blocks = sampler.get(np.array([0]), np.array([0]))
print("one clip: frames", tuple(clip_frames.shape), " action blocks", tuple(clip_blocks.shape))

raw = episodes.actions[0, : sampler.span]  # the 20 raw actions of the clip
print("round trip raw -> blocks -> raw exact:", np.allclose(stats.unblock(stats.block(raw, 5), 5), raw, atol=1e-6))

# %%
fs = cfg.model.frameskip
fig, axes = plt.subplots(1, sampler.t + 1, figsize=(12, 2.8), gridspec_kw={"width_ratios": [1] * sampler.t + [1.6]})
for k in range(sampler.t):
    axes[k].imshow(clip_frames[0, k].permute(1, 2, 0).numpy())
    p0 = episodes.pos[0, k * fs]
    step_sum = episodes.actions[0, k * fs : (k + 1) * fs].sum(0) * geo.speed  # where the block pushes
    axes[k].arrow(p0[0], p0[1], step_sum[0], step_sum[1], color="tab:blue", width=0.6, length_includes_head=True)
    axes[k].set_title(f"frame {k * fs}" + ("  (target)" if k == sampler.t - 1 else ""), fontsize=9)
    axes[k].axis("off")
axes[-1].imshow(clip_blocks[0].numpy(), cmap="coolwarm", vmin=-2, vmax=2)
axes[-1].set_xticks(range(2 * fs), [f"{'xy'[j % 2]}{j // 2 + 1}" for j in range(2 * fs)], fontsize=7)
axes[-1].set_yticks(range(sampler.t), [f"block {k}" for k in range(sampler.t)], fontsize=7)
axes[-1].set_title("z-scored action blocks", fontsize=9)
plt.suptitle("One training clip: 4 frames, 5 steps apart; arrows = summed raw actions of each block")
plt.tight_layout()
plt.show()

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 2.8))
axes[0].hist(episodes.actions[..., 0].ravel(), bins=41, color="tab:gray")
axes[0].set_title("raw action x-component")
axes[1].hist(((episodes.actions - stats.mean) / stats.std)[..., 0].ravel(), bins=41, color="tab:blue")
axes[1].set_title("after z-scoring")
for ax in axes:
    ax.set_yticks([])
plt.tight_layout()
plt.show()

# %% [markdown]
# The spikes at $\pm 1$ are the saturated components (section 4). Z-scoring shifts and rescales, it
# does not remove them. You cut a clip out of an episode yourself in **Exercise 1.2**, and write the
# blocking in **Exercise 1.3**.
#
# **Think.** With frameskip 5, one action block can move the agent up to $5 \times 1.43 = 7.1$ px,
# more than the door is wide (8 px). What would frameskip 1 change for the predictor? And for a
# planner with a horizon of 5 blocks?
#
# <details><summary>Answer</summary>
#
# For the predictor: consecutive frames would differ by at most 1.43 px, so the next latent would be
# almost the current one; "nothing moves" would already be a good prediction, and the effect of the action
# would be a tiny part of the error, hard to learn. Covering the same time would take 5 times as many
# predictor calls, and a rollout 5 times as long accumulates more error. For the planner: a horizon of 5
# blocks would look only 5 steps (about 7 px) ahead instead of 25 steps, too short to reach most goals
# without a much longer, more expensive horizon.
#
# </details>

# %% [markdown]
# ## 6. Drive the agent yourself
#
# Below, first a static picture (drawn once, with the default action), then a widget: set an action
# with the sliders and press *step* (one step) or *step x5* (one action block). The dashed circle is
# the success radius around the goal; the title shows the Gymnasium `info`.

# %%
def draw_env(ax, env: TwoRoomEnv, trail: list) -> None:
    ax.clear()
    ax.imshow(env.render(), extent=(0, SIZE, SIZE, 0))
    tr = np.array(trail)
    ax.plot(tr[:, 0], tr[:, 1], ".-", color="tab:blue", ms=2, lw=1)
    goal = env.world.goal[0]
    ax.add_patch(plt.Circle(tuple(goal), geo.success_radius, fill=False, color="tab:green", ls="--"))
    dist, ok = env.world.distance_to_goal()[0], env.world.success()[0]
    ax.set_title(f"t={env.t}  distance {dist:.1f} px  success={ok}", fontsize=9)
    ax.axis("off")


DEFAULT_ACTION = (0.6, -0.3)
START, GOAL = (12.0, 44.0), (50.0, 40.0)
demo_env = TwoRoomEnv(size=SIZE)
demo_env.reset(seed=0, options={"start": START, "goal": GOAL})
demo_trail = [demo_env.world.pos[0].copy()]
for _ in range(10):
    demo_env.step(np.array(DEFAULT_ACTION, np.float32))
    demo_trail.append(demo_env.world.pos[0].copy())
fig, ax = plt.subplots(figsize=(3.6, 3.8))
draw_env(ax, demo_env, demo_trail)
plt.show()

# %%
try:
    import ipywidgets as widgets
    from IPython.display import display

    w_env = TwoRoomEnv(size=SIZE)
    w_env.reset(seed=0, options={"start": START, "goal": GOAL})
    w_trail = [w_env.world.pos[0].copy()]
    sx = widgets.FloatSlider(value=DEFAULT_ACTION[0], min=-1, max=1, step=0.05, description="action x")
    sy = widgets.FloatSlider(value=DEFAULT_ACTION[1], min=-1, max=1, step=0.05, description="action y")
    b1, b5, br = (widgets.Button(description=d) for d in ("step", "step x5", "reset"))
    out = widgets.Output()

    def redraw() -> None:
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(3.6, 3.8))
            draw_env(ax, w_env, w_trail)
            plt.show()

    def do_steps(n: int) -> None:
        for _ in range(n):
            w_env.step(np.array([sx.value, sy.value], np.float32))
            w_trail.append(w_env.world.pos[0].copy())
        redraw()

    def do_reset(_=None) -> None:
        w_env.reset(options={"start": START, "goal": GOAL})
        w_trail[:] = [w_env.world.pos[0].copy()]
        redraw()

    b1.on_click(lambda _: do_steps(1))
    b5.on_click(lambda _: do_steps(5))
    br.on_click(do_reset)
    display(widgets.VBox([widgets.HBox([sx, sy]), widgets.HBox([b1, b5, br]), out]))
    redraw()
except Exception as err:  # no ipywidgets, or no widget front end: the static figure above stands
    print(f"(interactive widget unavailable: {type(err).__name__}: {err}; the static figure shows the default)")

# %% [markdown]
# Try to reach the goal through the door. Then try the same with *step x5* only: you are now planning
# with action blocks, like LeWM's planner.

# %% [markdown]
# ## 7. Check: our world is `lewm_mini.world`
#
# Everything later in the course uses the package. Here we check, on a fixed seed, that the inline
# `draw_background`, `draw_frame` and `move` give exactly the package's positions and frames:
# 16 worlds, 200 random steps, every position compared bit for bit, frames compared every 10 steps.

# %%
from lewm_mini.world import background, render

np.testing.assert_array_equal(BG, background(geo))
check_rng = np.random.default_rng(0)
world = BatchedTwoRoom(16, size=SIZE, seed=0)
ours = world.pos.copy()
for t in range(200):
    a = random_actions(16, check_rng)
    world.step(a)
    ours = np.stack([move(p, ai) for p, ai in zip(ours, a)])
    np.testing.assert_array_equal(ours, world.pos)
    if t % 10 == 0:
        np.testing.assert_array_equal(np.stack([draw_frame(p) for p in ours]), render(world.pos, geo))
print("inline world == lewm_mini.world: positions and frames identical on seed 0")
print(f"notebook compute time: {time.perf_counter() - T0:.1f} s")

# %% [markdown]
# ## Summary
#
# - Two-Room is a 64x64 RGB world (released: 224x224): border, a wall with one 8 px door, a red
#   Gaussian blob for the agent. It speaks Gymnasium; goals are **images**.
# - A step is `pos + 1.43 px * action`, clamped, with the wall refusing moves (sliding along it). No
#   inertia: one frame shows the whole state.
# - The released data comes from a "door, then target" heuristic drowned in noise (std 2): about two
#   thirds of the action components saturate and the paths are jittery, but the data covers both rooms
#   and crosses the door in most episodes, which is what a world model needs. Random actions cover the
#   floor evenly but rarely leave their room. Ours ("heuristic-straight") sends a quarter of the agents
#   straight at their target, into the wall, so that the model sees the wall stop the agent.
# - LeWM trains on clips of 4 frames taken every 5 steps; the 5 raw actions between two frames form one
#   z-scored 10-D action block.
#
# ## Check your understanding
#
# **1.** Why is a pixel's centre at $j + 0.5$, and what would go wrong in the checks of section 7 if you
# used $j$?
#
# <details><summary>Answer</summary>
#
# Pixel j covers the interval [j, j + 1), so its centre is at j + 0.5; positions are continuous
# coordinates on the same axis. Using j would shift every rendered blob by half a pixel against the
# package's renderer, and the exact comparisons of section 7 (inline renderer against `lewm_mini.world`)
# would fail.
#
# </details>
#
# **2.** The agent sits at $x = 29$, just left of the wall, at a height outside the door, and the action
# is $(1, 1)$. Where is it after one step?
#
# <details><summary>Answer</summary>
#
# The whole move would take it to x = 29 + 1.43 = 30.43, still left of the wall's x span [30.57, 33.43],
# so it moves diagonally to (30.43, y + 1.43). Had it started at x = 30, the whole move would end in the
# wall; the y-only move is tried next and is free, so the agent would slide along the wall to (30, y +
# 1.43).
#
# </details>
#
# **3.** Why does a world model prefer the noisy released data to clean expert demonstrations?
#
# <details><summary>Answer</summary>
#
# A world model must answer "what if" for many actions in many states. Noisy data tries many actions
# everywhere, including pushes into the wall and odd directions; an expert shows one (good) action per
# state, so the model never sees what the other actions do, and the planner, which searches over all
# actions, would query it exactly where it knows nothing.
#
# </details>
#
# **4.** What are the z-scored images of the raw actions $-1$ and $+1$ for a component with mean 0.05 and
# std 0.8? Why must the planner know them?
#
# <details><summary>Answer</summary>
#
# (-1 - 0.05) / 0.8 = -1.3125 and (1 - 0.05) / 0.8 = 1.1875. The planner searches in z-scored space; to
# turn its samples back into actions the environment accepts it must undo the z-scoring and clip to [-1,
# 1], and these two numbers are where that clipping starts.
#
# </details>
#
# **5.** A clip has 4 frames and 4 action blocks. Which block is never used to predict anything, and why
# is it kept?
#
# <details><summary>Answer</summary>
#
# The fourth: it leaves the last frame, and the frame it leads to is not in the clip, so there is no
# target for it. It is kept so that frames and blocks line up one to one (block t belongs to frame t),
# which keeps the indexing of the clip simple.
#
# </details>
#
# ## Further reading
#
# - L. Maes, Q. Le Lidec, D. Scieur, Y. LeCun, R. Balestriero. *LeWorldModel* (2026), arXiv 2603.19312:
#   the Two-Room environment and data protocol.
# - V. Sobal et al. *Learning from Reward-Free Offline Data: A Case for Planning with Latent Dynamics
#   Models* (PLDM, 2025), arXiv 2502.14819: the original Two-Rooms and how data quality changes what a
#   latent world model learns.
# - The Gymnasium documentation, *Basic usage* and *Make your own custom environment*:
#   https://gymnasium.farama.org/
# - Next: chapter 02 turns a frame into one latent vector.
