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

from .cem import cem, shift_plan
from .config import Config, DataConfig, PlanConfig, show_progress
from .data import ActionStats, frames_to_tensor, held_out_episodes
from .jepa import LeWM
from .world import BatchedTwoRoom, Geometry, random_start_goal_in_rooms, render, room_of

PROTOCOLS = {"paper": 50, "cross-room": 100}  # protocol -> step budget
PLANNERS = ("cem", "graph")  # what the CLI offers; "door-oracle" is an ablation (see Planner.targets)
GOAL_OFFSET = 25  # paper protocol: goal is the state 25 steps ahead


class Planner:
    """Plans action sequences towards goal images with CEM in the model's latent space.

    planner="cem": one CEM solve to the goal latent over ``plan.horizon`` blocks; MPC executes the
    whole plan, then replans. planner="graph": CEM to a latent waypoint ``plan.reach`` blocks down
    the shortest path of a graph over training frames (``lewm_mini.graph``), or to the goal once
    it is within reach, over ``plan.graph_horizon`` blocks; MPC replans every ``plan.replan_every``
    steps. ``graph`` is built from the cached training episodes when not given.
    """

    def __init__(self, model: LeWM, stats: ActionStats, plan: PlanConfig, seed: int = 0,
                 planner: str | None = None, graph=None, data: DataConfig | None = None):
        self.model = model.eval()  # BatchNorm running statistics, no dropout
        self.stats = stats
        self.cfg = plan
        self.planner = planner or plan.planner
        if self.planner not in (*PLANNERS, "door-oracle"):
            raise ValueError(f"unknown planner {self.planner!r}; use one of {PLANNERS}")
        self.fs = model.cfg.frameskip
        self.history = plan.history or model.cfg.history
        self.device = next(model.parameters()).device
        self.gen = torch.Generator(device=self.device).manual_seed(seed)
        lo, hi = stats.bounds()
        self.lo = torch.as_tensor(np.tile(lo, self.fs), device=self.device)  # (A,) per block dimension
        self.hi = torch.as_tensor(np.tile(hi, self.fs), device=self.device)
        self.graph, self._trees = graph, (None, None)
        self.evaluations = 0  # candidate plans rolled out by the model, summed over problems
        self.solves = 0  # CEM solves, one per problem per replan
        self._previous: torch.Tensor | None = None  # the last plans (P, H, A), for warm starts
        if self.planner == "graph" and graph is None:
            from .data import load_or_collect
            from .graph import build_graph

            if data is None:
                raise ValueError("planner='graph' needs the training data config (data=cfg.data) or a graph")
            episodes = load_or_collect(data, "train", progress=False)
            self.graph = build_graph(model, episodes, self.fs, n_episodes=plan.graph_episodes, seed=seed)

    @property
    def steps_per_solve(self) -> int:
        """Environment steps MPC executes from each plan before replanning."""
        if self.planner != "cem":
            return min(self.cfg.replan_every, self.cfg.graph_horizon * self.fs)
        return min(self.cfg.cem_replan_every or self.cfg.horizon * self.fs, self.cfg.horizon * self.fs)

    def reset(self) -> None:
        """Forget the previous plans (new tasks): the next solve starts cold."""
        self._previous = None

    @torch.inference_mode()
    def encode(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 frames (P, H, W, 3) -> latents (P, D), with the training preprocessing."""
        return self.model.encode(frames_to_tensor(frames, self.model.cfg.image_size).to(self.device))

    @torch.inference_mode()
    def targets(self, z0: torch.Tensor, zg: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
        """Graph planner: the latent each problem aims at now (P, D), and whether it is a waypoint (P,).

        planner="door-oracle" is a one-waypoint baseline with privileged information (for ablations
        only): it reads the true positions off the frames and aims at an image of the agent in the
        doorway while the agent is in the other room than the goal. It is no upper bound: the door is
        usually beyond the latent cost's informative radius (8% against the graph's 78% on 50 tasks).
        """
        if self.planner == "door-oracle":
            return self._door_targets(z0, zg)
        from .graph import choose_waypoint, goal_trees, snap

        goal_nodes = snap(self.graph, zg)
        if self._trees[0] is None or not np.array_equal(self._trees[0], goal_nodes):
            self._trees = (goal_nodes, goal_trees(self.graph, goal_nodes))
        out, is_wp = zg.clone(), np.zeros(len(zg), bool)
        for i, (node, tree) in enumerate(zip(snap(self.graph, z0), self._trees[1])):
            wp = choose_waypoint(tree, int(node), self.cfg.reach)
            if wp is not None:
                out[i], is_wp[i] = self.graph.z[wp], True
        return out, is_wp

    def _door_targets(self, z0: torch.Tensor, zg: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
        geo = Geometry(self.model.cfg.image_size)
        pos, goal = agent_position(self._frames), agent_position(self._goal_frames)
        door = geo.door_center
        is_wp = (room_of(pos, geo) != room_of(goal, geo)) & (np.linalg.norm(pos - door, axis=1) > geo.speed)
        z_door = self.encode(render(door[None], geo))  # (1, D)
        return torch.where(torch.as_tensor(is_wp, device=zg.device)[:, None], z_door, zg), is_wp

    @torch.inference_mode()
    def plan_latents(self, z0: torch.Tensor, target: torch.Tensor, horizon: int) -> np.ndarray:
        """CEM from latents z0 (P, D) to target latents (P, D) -> raw actions (P, horizon * frameskip, 2)."""
        p = z0.shape[0]

        def cost(cand: torch.Tensor) -> torch.Tensor:  # (P, N, H, A) -> (P, N)
            k = cand.shape[1]
            self.evaluations += p * k
            z = self.model.rollout(z0.repeat_interleave(k, 0), cand.flatten(0, 1), self.history)[:, -1]
            return ((z.view(p, k, -1) - target[:, None]) ** 2).sum(-1)

        cfg = dataclasses.replace(self.cfg, horizon=horizon)
        init = None
        executed = self.steps_per_solve // self.fs  # blocks of the last plan carried out since
        if (self.cfg.warm_start and executed < horizon and self._previous is not None
                and self._previous.shape[:2] == (p, horizon)):
            init = shift_plan(self._previous, executed)
            cfg = dataclasses.replace(cfg, iterations=min(self.cfg.warm_iterations or cfg.iterations, cfg.iterations))
        self.solves += p
        plan, _ = cem(cost, p, horizon, self.lo.shape[0], cfg, self.lo, self.hi, self.gen, self.device,
                      init=init, frameskip=self.fs)
        self._previous = plan
        return self.stats.unblock(plan.cpu().numpy(), self.fs)

    @torch.inference_mode()
    def solve(self, frames: np.ndarray, goal_frames: np.ndarray) -> np.ndarray:
        """One plan per problem: frames, goals (P, H, W, 3) -> raw actions (P, steps, 2)."""
        z0, zg = self.encode(frames), self.encode(goal_frames)
        self._frames, self._goal_frames = frames, goal_frames
        if self.planner == "cem":
            return self.plan_latents(z0, zg, self.cfg.horizon)
        target, _ = self.targets(z0, zg)
        return self.plan_latents(z0, target, self.cfg.graph_horizon)


def agent_position(frames: np.ndarray) -> np.ndarray:
    """Where the red agent is in uint8 frames (P, H, W, 3): the centroid of redness (R - G), (P, 2) as (x, y)."""
    red = np.clip(frames[..., 0].astype(np.float32) - frames[..., 1], 0, None)  # (P, H, W)
    red /= red.sum((1, 2), keepdims=True).clip(1e-6)
    h, w = frames.shape[1:3]
    centre = np.arange(w) + 0.5, np.arange(h) + 0.5  # pixel centres
    return np.stack([(red.sum(1) * centre[0]).sum(1), (red.sum(2) * centre[1]).sum(1)], 1).astype(np.float32)


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
        steps = max(cfg.data.steps, GOAL_OFFSET + 1)
        held_out = held_out_episodes(cfg.data, episodes, steps, seed)
        t0 = rng.integers(0, steps - GOAL_OFFSET + 1, episodes)
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
    """MPC for all tasks at once: plan, execute ``planner.steps_per_solve`` steps, replan, until the budget is spent.

    Returns success (P,) and trajectories (P, budget + 1, 2).
    """
    world = BatchedTwoRoom(len(tasks.start), size)
    world.reset(tasks.start, tasks.goal)
    goal_frames = world.goal_frames()
    planner.reset()
    traj, success, steps = [world.pos.copy()], world.success(), 0
    bar = tqdm(total=tasks.budget, desc=f"MPC {tasks.protocol} (env steps)", unit="step",
               disable=not show_progress(progress))
    while steps < tasks.budget:
        actions = planner.solve(world.render(), goal_frames)  # (P, horizon * frameskip, 2)
        for a in actions.transpose(1, 0, 2)[: min(planner.steps_per_solve, tasks.budget - steps)]:
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
        planner.reset()  # a cold solve: the first of an episode, the costliest
        t = time.perf_counter()
        planner.solve(frames[i : i + 1], goals[i : i + 1])
        times.append(time.perf_counter() - t)
    return times


def time_warm_solves(planner: Planner, tasks: Tasks, size: int, n: int = 5) -> list[float]:
    """Wall time of n warm-started solves (one problem each): plan cold, execute until the replan, time the next.

    Only meaningful with ``warm_start`` and a replan before the plan's end (MPC's usual solve after the first).
    """
    world = BatchedTwoRoom(len(tasks.start), size)
    world.reset(tasks.start, tasks.goal)
    goals, times = world.goal_frames(), []
    for i in range(min(n, len(goals))):
        one = BatchedTwoRoom(1, size)
        one.reset(tasks.start[i : i + 1], tasks.goal[i : i + 1])
        planner.reset()
        for a in planner.solve(one.render(), goals[i : i + 1])[0, : planner.steps_per_solve]:
            one.step(a[None])
        t = time.perf_counter()
        planner.solve(one.render(), goals[i : i + 1])
        times.append(time.perf_counter() - t)
    return times


def evaluate(model: LeWM, stats: ActionStats, cfg: Config, protocol: str = "paper", episodes: int = 50,
             seed: int = 0, progress: bool = True, timed_solves: int = 5, planner: str | None = None,
             graph=None) -> dict:
    """Success of MPC with the model and of a random policy on the same held-out tasks.

    planner: "cem" or "graph" (default ``cfg.plan.planner``); graph: a prebuilt ``LatentGraph``.
    """
    tasks = make_tasks(cfg, protocol, episodes, seed)
    planner = Planner(model, stats, cfg.plan, seed=seed, planner=planner, graph=graph, data=cfg.data)
    size = cfg.data.size
    t = time.perf_counter()
    success, traj = run_mpc(planner, tasks, size, progress)
    seconds = time.perf_counter() - t
    evaluations, solves = planner.evaluations, planner.solves
    rand_success, rand_traj = run_random(tasks, size, seed)
    times = time_solves(planner, tasks, size, timed_solves) if timed_solves else [float("nan")]
    return {
        "protocol": protocol,
        "planner": planner.planner,
        "episodes": episodes,
        "budget": tasks.budget,
        "success_rate": float(success.mean()),
        "success_ci95": wilson(int(success.sum()), len(success)),
        "random_success_rate": float(rand_success.mean()),
        "plan_seconds_median": statistics.median(times),
        "eval_seconds": seconds,
        "evaluations_per_solve": evaluations / max(solves, 1),
        "evaluations_per_episode": evaluations / len(success),
        "cem": dataclasses.asdict(cfg.plan),
        "device": str(planner.device),
        "trajectories": traj,
        "random_trajectories": rand_traj,
        "tasks": tasks,
        "success": success,
    }


def wilson(successes: int, n: int) -> list[float]:
    """The 95% Wilson interval of a success rate, [low, high]."""
    from scipy.stats import binomtest

    ci = binomtest(successes, n).proportion_ci(0.95, method="wilson")
    return [float(ci.low), float(ci.high)]


def summary(result: dict) -> dict:
    """The JSON-friendly part of an ``evaluate`` result (no arrays)."""
    return {k: v for k, v in result.items() if k not in ("trajectories", "random_trajectories", "tasks", "success")}
