"""Planning with the world model (MPC over CEM) and its evaluation beside a random policy.

Protocols (start, goal, budget):
- "paper": start at a random step of a held-out recorded episode, goal = the agent 25 steps later,
  50-step budget (LeWM's Two-Room protocol, with held-out episodes instead of training ones).
- "cross-room": start anywhere in one room, goal anywhere in the other, 100-step budget.
Success = the agent is ever within the success radius of the goal.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from .cem import cem
from .config import Config, PlanConfig, show_progress
from .data import ActionStats, collect, frames_to_tensor
from .jepa import LeWM
from .world import BatchedTwoRoom, Geometry, random_start_goal_in_rooms

PROTOCOLS = {"paper": 50, "cross-room": 100}  # protocol -> step budget
GOAL_OFFSET = 25  # paper protocol: goal is the state 25 steps ahead


class Planner:
    """Plans action sequences towards goal images with CEM in the model's latent space."""

    def __init__(self, model: LeWM, stats: ActionStats, plan: PlanConfig, seed: int = 0):
        self.model = model.eval()  # BatchNorm running statistics, no dropout
        self.stats = stats
        self.cfg = plan
        self.fs = model.cfg.frameskip
        self.history = plan.history or model.cfg.history
        self.device = next(model.parameters()).device
        self.gen = torch.Generator(device=self.device).manual_seed(seed)
        lo, hi = stats.bounds()
        self.lo = torch.as_tensor(np.tile(lo, self.fs), device=self.device)  # (A,) per block dimension
        self.hi = torch.as_tensor(np.tile(hi, self.fs), device=self.device)

    @torch.inference_mode()
    def encode(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 frames (P, H, W, 3) -> latents (P, D), with the training preprocessing."""
        return self.model.encode(frames_to_tensor(frames, self.model.cfg.image_size).to(self.device))

    @torch.inference_mode()
    def solve(self, frames: np.ndarray, goal_frames: np.ndarray) -> np.ndarray:
        """One CEM solve per problem: frames, goals (P, H, W, 3) -> raw actions (P, horizon * frameskip, 2)."""
        z0, zg = self.encode(frames), self.encode(goal_frames)
        p = z0.shape[0]

        def cost(cand: torch.Tensor) -> torch.Tensor:  # (P, N, H, A) -> (P, N)
            k = cand.shape[1]
            z = self.model.rollout(z0.repeat_interleave(k, 0), cand.flatten(0, 1), self.history)[:, -1]
            return ((z.view(p, k, -1) - zg[:, None]) ** 2).sum(-1)

        a_dim = self.lo.shape[0]
        plan, _ = cem(cost, p, self.cfg.horizon, a_dim, self.cfg, self.lo, self.hi, self.gen, self.device)
        return self.stats.unblock(plan.cpu().numpy(), self.fs)


@dataclass
class Tasks:
    start: np.ndarray  # (P, 2)
    goal: np.ndarray  # (P, 2)
    budget: int
    protocol: str


def make_tasks(cfg: Config, protocol: str, episodes: int, seed: int) -> Tasks:
    """Start/goal pairs for a protocol, from data and seeds never used in training."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; use one of {list(PROTOCOLS)}")
    rng = np.random.default_rng(cfg.data.eval_seed + seed)
    geo = Geometry(cfg.data.size)
    if protocol == "paper":
        dc = dataclasses.replace(cfg.data, episodes=episodes, steps=max(cfg.data.steps, GOAL_OFFSET + 1))
        held_out = collect(dc, seed=cfg.data.eval_seed + seed, progress=False)
        t0 = rng.integers(0, dc.steps - GOAL_OFFSET + 1, episodes)
        idx = np.arange(episodes)
        return Tasks(held_out.pos[idx, t0], held_out.pos[idx, t0 + GOAL_OFFSET], PROTOCOLS[protocol], protocol)
    start, goal = random_start_goal_in_rooms(rng, episodes, geo)
    return Tasks(start, goal, PROTOCOLS[protocol], protocol)


def run_random(tasks: Tasks, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The random-policy floor on the same tasks: (success (P,), trajectories (P, budget + 1, 2))."""
    rng = np.random.default_rng(seed)
    world = BatchedTwoRoom(len(tasks.start), size)
    world.reset(tasks.start, tasks.goal)
    traj, success = [world.pos.copy()], world.success()
    for _ in range(tasks.budget):
        world.step(rng.uniform(-1, 1, (len(tasks.start), 2)))
        traj.append(world.pos.copy())
        success |= world.success()
    return success, np.stack(traj, 1)


def run_mpc(planner: Planner, tasks: Tasks, size: int, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """MPC for all tasks at once: plan, execute the whole plan, replan, until the budget is spent.

    Returns success (P,) and trajectories (P, budget + 1, 2).
    """
    world = BatchedTwoRoom(len(tasks.start), size)
    world.reset(tasks.start, tasks.goal)
    goal_frames = world.goal_frames()
    traj, success, steps = [world.pos.copy()], world.success(), 0
    bar = tqdm(total=tasks.budget, desc=f"MPC {tasks.protocol}", disable=not show_progress(progress))
    while steps < tasks.budget:
        actions = planner.solve(world.render(), goal_frames)  # (P, horizon * frameskip, 2)
        for a in actions.transpose(1, 0, 2)[: tasks.budget - steps]:
            world.step(a)
            traj.append(world.pos.copy())
            success |= world.success()
            steps += 1
            bar.update(1)
    bar.close()
    return success, np.stack(traj, 1)


def time_solves(planner: Planner, tasks: Tasks, size: int, n: int = 5) -> list[float]:
    """Wall time of n single CEM solves (one problem each, as LeWM reports its 0.98 s)."""
    world = BatchedTwoRoom(len(tasks.start), size)
    world.reset(tasks.start, tasks.goal)
    frames, goals = world.render(), world.goal_frames()
    planner.solve(frames[:1], goals[:1])  # warm-up
    times = []
    for i in range(min(n, len(frames))):
        t = time.perf_counter()
        planner.solve(frames[i : i + 1], goals[i : i + 1])
        times.append(time.perf_counter() - t)
    return times


def evaluate(model: LeWM, stats: ActionStats, cfg: Config, protocol: str = "paper", episodes: int = 50,
             seed: int = 0, progress: bool = True, timed_solves: int = 5) -> dict:
    """Success of MPC with the model and of a random policy on the same held-out tasks."""
    tasks = make_tasks(cfg, protocol, episodes, seed)
    planner = Planner(model, stats, cfg.plan, seed=seed)
    size = cfg.data.size
    t = time.perf_counter()
    success, traj = run_mpc(planner, tasks, size, progress)
    seconds = time.perf_counter() - t
    rand_success, rand_traj = run_random(tasks, size, seed)
    times = time_solves(planner, tasks, size, timed_solves) if timed_solves else [float("nan")]
    return {
        "protocol": protocol,
        "episodes": episodes,
        "budget": tasks.budget,
        "success_rate": float(success.mean()),
        "random_success_rate": float(rand_success.mean()),
        "plan_seconds_median": statistics.median(times),
        "eval_seconds": seconds,
        "cem": dataclasses.asdict(cfg.plan),
        "device": str(planner.device),
        "trajectories": traj,
        "random_trajectories": rand_traj,
        "tasks": tasks,
        "success": success,
    }


def summary(result: dict) -> dict:
    """The JSON-friendly part of an ``evaluate`` result (no arrays)."""
    return {k: v for k, v in result.items() if k not in ("trajectories", "random_trajectories", "tasks", "success")}
