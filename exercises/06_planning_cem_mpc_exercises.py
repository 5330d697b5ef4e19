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
# # 06 · Planning with CEM and MPC (exercises)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/exercises/06_planning_cem_mpc_exercises.ipynb)
#
# Three pieces of the planner from chapter 06 (`notebooks/06_planning_cem_mpc.ipynb`), each in a form the
# chapter did not write out. Write each one where it says `# YOUR CODE HERE`, then run the check cell
# below it: it prints PASS, or FAIL with a hint.
#
# **Prerequisites:** chapter 06.
#
# **Time:** about 55 min. Compute: CPU (2 cores, cpu profile) a few seconds; ci profile a few seconds.

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
import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import torch

from lewm_mini.checks.ch06 import check_cem_update, check_mpc, check_warm_start, mpc_toolkit
from lewm_mini.world import Geometry, background

# %% [markdown]
# ## Exercise 6.1 · The CEM update, for many problems at once
#
# The chapter refit CEM's Gaussian for one problem. The package plans for P problems at once (every
# task of an evaluation in one batch): the candidates are (P, N, H, A), N action sequences of H
# blocks of A numbers per problem, and their costs (P, N). Write the refit:
# 1. for each problem, the indices of its K lowest costs (the elites);
# 2. those candidates, (P, K, H, A);
# 3. the new mean and std over the candidate axis, each (P, H, A).
#
# The old `mean` and `std` are given because an update may use them (smoothed variants do); this one
# does not need them. Hint: `costs.topk(K, dim=1, largest=False)` and `torch.gather`, or
# `torch.take_along_dim`.

# %%
def cem_update(mean: torch.Tensor, std: torch.Tensor, candidates: torch.Tensor, costs: torch.Tensor,
               elites: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(P, H, A), (P, H, A), (P, N, H, A), (P, N), K -> new mean and std (P, H, A), fit to each problem's K best."""
    # YOUR CODE HERE
    raise NotImplementedError("cem_update")


# %%
check_cem_update(cem_update)

# %% [markdown]
# Use it: CEM with your update on three toy problems at once, where the cost is the squared distance
# of a 1-block, 2-number "plan" to a hidden target. The samples of a few iterations: the search
# narrows onto each target (black crosses). (Prints a note until written.)

# %%
try:
    g = torch.Generator().manual_seed(0)
    targets = torch.tensor([[1.5, -1.0], [-2.0, 2.0], [0.5, 0.5]])[:, None]  # (P, H=1, A=2)
    mean, std = torch.zeros(3, 1, 2), torch.full((3, 1, 2), 2.0)
    shown = (0, 1, 2, 4)
    fig, axes = plt.subplots(1, len(shown), figsize=(12, 3), sharex=True, sharey=True)
    for it in range(shown[-1] + 1):
        cand = mean[:, None] + std[:, None] * torch.randn(3, 60, 1, 2, generator=g)  # (P, N, H, A)
        costs = ((cand - targets[:, None]) ** 2).sum((-1, -2))
        if it in shown:
            ax = axes[shown.index(it)]
            for p in range(3):
                ax.scatter(cand[p, :, 0, 0], cand[p, :, 0, 1], s=6, alpha=0.5)
                ax.scatter(*targets[p, 0], marker="x", color="k")
            ax.set_title(f"iteration {it + 1}"), ax.set_xlabel("plan number 1")
        mean, std = cem_update(mean, std, cand, costs, 12)
    axes[0].set_ylabel("plan number 2")
    plt.tight_layout()
    plt.show()
    print("final means:", [[round(float(v), 2) for v in m] for m in mean[:, 0]], " targets:", targets[:, 0].tolist())
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# ## Exercise 6.2 · A receding-horizon MPC loop
#
# The chapter's MPC executes the whole plan before replanning (LeWM's choice). A common variant
# executes only the first `execute` blocks of each plan and then replans: more plans, fresher
# information. Write it for one world, with these tools (all given):
#
# - `world`: a `BatchedTwoRoom` with one agent: `world.render()` and `world.goal_frames()` give
#   frames (1, H, W, 3), `world.step(a)` takes actions (1, 2), `world.pos` is (1, 2);
# - `encode(frames) -> z` (1, D);
# - `rollout(z0, blocks) -> latents`: z0 (N, D), blocks (N, H, A) -> imagined latents (N, H, D);
# - `solve(cost) -> plan` (H, A): runs CEM on your `cost(candidates (N, H, A)) -> (N,)`;
# - `to_actions(blocks)`: blocks (k, A) -> raw actions (k * frameskip, 2) for `world.step`.
#
# The loop: encode the goal image once. Until `budget` steps are taken: encode the *current real*
# frame, plan with a cost that compares the *last* imagined latent with the goal latent (squared
# distance), execute the first `execute` blocks one raw action at a time, and stop at `budget`
# steps. Return the positions, start included: (budget + 1, 2).

# %%
def mpc(world, encode, rollout, solve, to_actions, budget: int, execute: int) -> np.ndarray:
    """Receding-horizon MPC: replan every `execute` blocks from the re-encoded real frame. -> (budget + 1, 2)."""
    # YOUR CODE HERE
    raise NotImplementedError("mpc")


# %%
check_mpc(mpc)

# %% [markdown]
# Use it: the tools above use a stand-in model that reads the position off the frame, imagines every
# move 30% too short and turned by 40 degrees, and knows nothing about walls. Compare replanning
# after every block with executing whole plans (4 blocks), in the same room and across the wall.
# (Prints a note until written.)

# %%
try:
    geo = Geometry(64)
    tasks = {"same room": ((12.0, 44.0), (24.0, 16.0)), "across the wall": ((12.0, 50.0), (52.0, 50.0))}
    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    for ax, (name, (start, goal)) in zip(axes, tasks.items()):
        ax.imshow(background(geo), extent=(0, 64, 64, 0))
        for execute, color in ((1, "tab:blue"), (4, "tab:orange")):
            kit = mpc_toolkit(start, goal, horizon=4)
            path = mpc(kit.world, kit.encode, kit.rollout, kit.solve, kit.to_actions, 48, execute)
            near = np.linalg.norm(path - np.array(goal), axis=1) <= geo.success_radius
            reached = f"reached at step {np.argmax(near)}" if near.any() else "not reached"
            print(f"{name}, execute {execute}: {kit.calls['solve']} plans, {reached}")
            ax.plot(path[:, 0], path[:, 1], ".-", ms=2, color=color,
                    label=f"execute {execute} block(s): {kit.calls['solve']} plans")
        ax.add_patch(plt.Circle(goal, geo.success_radius, fill=False, color="tab:green", lw=2))
        ax.set_title(name), ax.axis("off"), ax.legend(fontsize=7, loc="lower right")
    plt.tight_layout()
    plt.show()
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# With whole plans the turned moves pile up for 12 steps before anything is corrected, and the agent
# curves past the goal; replanning after every block corrects after 3 steps and gets there, at four
# times the number of plans. Across the wall neither helps: the cost points straight at the
# goal, through the wall. That is chapter 07's problem.
#
# **Going further.** Time both versions: each plan is a full CEM solve, so `execute = 1` costs
# `horizon` times more planning for the same budget. When is that worth it?

# %% [markdown]
# ## Exercise 6.3 · The warm start
#
# MPC replans after executing the first `executed` blocks of a plan. The old plan still says what to do
# next, so iCEM (the chapter's section 3) starts the next solve from it instead of from scratch: the
# remaining blocks move to the front, and the new blocks at the end, about which nothing is known yet,
# get the prior, mean 0 in z-scored space. The std goes back to `init_std` everywhere, so the new
# solve can still move away from the old plan.
#
# Write it: given the last solve's Gaussian, `mean` and `std` (P, H, A), return the next solve's
# starting `mean` and `std`, both (P, H, A), after `executed` blocks (1 <= executed <= H).

# %%
def warm_start(mean: torch.Tensor, std: torch.Tensor, executed: int, init_std: float
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """(P, H, A), (P, H, A), blocks executed, initial std -> the next solve's starting mean and std (P, H, A)."""
    # YOUR CODE HERE
    raise NotImplementedError("warm_start")


# %%
check_warm_start(warm_start)

# %% [markdown]
# Use it: a toy problem whose best plan is a ramp that slows down to a stop (the last block is 0, as
# when the agent arrives). After one block is executed, the best plan for the rest is the same ramp
# shifted by one block, ending at rest. CEM from a cold start (mean 0) against CEM from your
# warm start, 3 iterations each: the best cost after each iteration. (Prints a note until written.)

# %%
from lewm_mini.cem import cem
from lewm_mini.config import PlanConfig

try:
    H, A = 5, 4
    ramp = torch.cat([torch.linspace(2.0, 0.0, H), torch.zeros(1)])[:, None].expand(-1, A)  # ideal, H + 1 blocks
    lo, hi = torch.full((A,), -3.0), torch.full((A,), 3.0)
    toy = PlanConfig(samples=40, elites=6, iterations=3, return_best=True)
    first, _ = cem(lambda c: ((c - ramp[:H]) ** 2).sum((-1, -2)), 1, H, A, dataclasses.replace(toy, iterations=8),
                   lo, hi, torch.Generator().manual_seed(0))  # the plan of the last solve

    def traced(log):
        def cost(c):  # after one block: the ideal plan is the ramp from its second block on
            out = ((c - ramp[1:]) ** 2).sum((-1, -2))
            log.append(float(out.min()))
            return out
        return cost

    cold, warm = [], []
    cem(traced(cold), 1, H, A, toy, lo, hi, torch.Generator().manual_seed(1))
    init, init_std = warm_start(first, torch.full_like(first, 0.05), 1, toy.init_std)  # the last solve had narrowed
    cem(traced(warm), 1, H, A, toy, lo, hi, torch.Generator().manual_seed(1), init=init, init_std=init_std)
    print("best cost per iteration, cold start:", [round(c, 2) for c in cold[:-1]])
    print("best cost per iteration, warm start:", [round(c, 2) for c in warm[:-1]])
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# The warm start begins where the last solve left off, so its first iteration already samples near a
# good plan; the cold start spends its iterations finding the ramp again. That is why a warm-started
# MPC can replan often with few iterations per solve (the chapter's section 3 measures iCEM with and
# without its warm start).
