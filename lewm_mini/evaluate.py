"""Planning with the world model (MPC over CEM) and its evaluation beside a random policy.

Protocols (start, goal, budget):
- "paper": start at a random step of a held-out recorded episode, goal = the agent 25 steps later,
  50-step budget (LeWM's Two-Room protocol, with held-out episodes instead of training ones).
- "cross-room": start anywhere in one room, goal anywhere in the other, 100-step budget.
Success = the agent is ever within the success radius of the goal (in the Momentum world: and slower
than its stop speed, "arrive and stop").
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from .config import Config, cache_dir, show_progress
from .data import ActionStats, held_out_episodes
from .jepa import LeWM
from .planning import Planner, planner_parts  # Planner is re-exported: chapters import it from here
from .world import BatchedTwoRoom, Geometry, make_world, random_start_goal_in_rooms

PROTOCOLS = {"paper": 50, "cross-room": 100}  # protocol -> step budget
GOAL_OFFSET = 25  # paper protocol: goal is the state 25 steps ahead
PAST_STEPS = 10  # momentum, paper protocol: recorded steps before the start, the planner's first history
TASK_POLICY = "heuristic"  # paper protocol: goals from held-out episodes of this policy, whatever a model trained on


@dataclass
class Tasks:
    start: np.ndarray  # (P, 2)
    goal: np.ndarray  # (P, 2)
    budget: int
    protocol: str
    world: str = "two-room"
    start_vel: np.ndarray | None = None  # (P, 2) momentum: the puck's velocity at the start (None: at rest)
    past_pos: np.ndarray | None = None  # (P, S, 2) momentum, paper protocol: the recorded positions of the S
    past_actions: np.ndarray | None = None  # (P, S, 2) steps before the start, and the actions taken there

    def world_at_start(self, size: int) -> BatchedTwoRoom:
        """The P worlds, reset to the tasks' starts and goals (and velocities)."""
        world = make_world(self.world, len(self.start), size)
        world.reset(self.start, self.goal)
        if self.start_vel is not None:
            world.vel = self.start_vel.astype(np.float32).copy()
        return world


def make_tasks(cfg: Config, protocol: str, episodes: int, seed: int) -> Tasks:
    """Start/goal pairs for a protocol, from data and seeds never used in training.

    Paper protocol: the goal is the state ``GOAL_OFFSET`` steps ahead on a held-out episode of the
    ``TASK_POLICY`` agent, so every model is judged on the same tasks whatever policy collected its
    training data. Cross-room: a random start in one room, a random goal in the other.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; use one of {list(PROTOCOLS)}")
    rng = np.random.default_rng(cfg.data.eval_seed + seed)
    geo = Geometry(cfg.data.size)
    world = cfg.data.world
    if protocol == "paper":
        steps = max(cfg.data.steps, GOAL_OFFSET + 1)
        held_out = held_out_episodes(dataclasses.replace(cfg.data, policy=TASK_POLICY), episodes, steps, seed)
        idx = np.arange(episodes)
        if world == "two-room":
            t0 = rng.integers(0, steps - GOAL_OFFSET + 1, episodes)
            return Tasks(held_out.pos[idx, t0], held_out.pos[idx, t0 + GOAL_OFFSET], PROTOCOLS[protocol], protocol)
        # momentum: the puck starts moving, as recorded; the recorded past (PAST_STEPS) is the planner's history
        t0 = rng.integers(PAST_STEPS, steps - GOAL_OFFSET + 1, episodes)
        past = t0[:, None] + np.arange(-PAST_STEPS, 0)  # (P, S)
        return Tasks(held_out.pos[idx, t0], held_out.pos[idx, t0 + GOAL_OFFSET], PROTOCOLS[protocol], protocol,
                     world, held_out.vel[idx, t0], held_out.pos[idx[:, None], past], held_out.actions[idx[:, None], past])
    start, goal = random_start_goal_in_rooms(rng, episodes, geo)
    return Tasks(start, goal, PROTOCOLS[protocol], protocol, world)


def run_random(tasks: Tasks, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The random-policy floor on the same tasks: (success (P,), trajectories (P, budget + 1, 2))."""
    rng = np.random.default_rng(seed)
    world = tasks.world_at_start(size)
    traj, success = [world.pos.copy()], world.success()
    for _ in range(tasks.budget):
        world.step(rng.uniform(-1, 1, (len(tasks.start), 2)))
        traj.append(world.pos.copy())
        success |= world.success()
    return success, np.stack(traj, 1)


def run_mpc(planner: Planner, tasks: Tasks, size: int, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """MPC for all tasks at once: plan, execute ``planner.steps_per_solve`` steps, replan, until the budget is spent.

    Returns success (P,) and trajectories (P, budget + 1, 2). Where a frame does not show the whole state
    (``world.frame_is_state`` False: the Momentum world), a planner whose rollouts read a history
    (``planner.context_frames`` > 0) gets the frames of the last blocks and the actions since (``past``); in
    Two-Room every rollout starts from the current frame.
    """
    world = tasks.world_at_start(size)
    goal_frames = world.goal_frames()
    planner.reset()
    traj, success, steps = [world.pos.copy()], world.success(), 0
    past_pos = [] if tasks.past_pos is None else list(tasks.past_pos.transpose(1, 0, 2))  # before the start
    done = [] if tasks.past_actions is None else list(tasks.past_actions.transpose(1, 0, 2))  # actions taken
    bar = tqdm(total=tasks.budget, desc=f"MPC {tasks.protocol} (env steps)", unit="step",
               disable=not show_progress(progress))
    while steps < tasks.budget:
        context = (None, None) if world.frame_is_state else past(planner, world, past_pos + traj, done)
        actions = planner.solve(world.render(), goal_frames, *context)  # (P, horizon * frameskip, 2)
        for a in actions.transpose(1, 0, 2)[: min(planner.steps_per_solve, tasks.budget - steps)]:
            world.step(a)
            done.append(a)
            traj.append(world.pos.copy())
            success |= world.success()
            steps += 1
            bar.update(1)
    bar.close()
    return success, np.stack(traj, 1)


def past(planner: Planner, world: BatchedTwoRoom, positions: list, actions: list) -> tuple:
    """The history a planner reads: frames one block apart before now (P, C, H, W, 3), oldest first, and
    the raw actions since the oldest (P, C * frameskip, 2), from the positions and actions so far (lists of
    (P, 2), the last position being now's). (None, None) when the planner reads none or none exists yet."""
    fs, c = planner.fs, min(planner.context_frames, len(actions) // planner.fs)
    if c == 0:
        return None, None
    frames = np.stack([world.render(pos=positions[-1 - fs * j]) for j in range(c, 0, -1)], 1)
    return frames, np.stack(actions[len(actions) - fs * c :], 1)


def time_solves(planner: Planner, tasks: Tasks, size: int, n: int = 5) -> list[float]:
    """Wall time of n single CEM solves (one problem each, as LeWM reports its 0.98 s)."""
    world = tasks.world_at_start(size)
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
    world = tasks.world_at_start(size)
    goals, times = world.goal_frames(), []
    for i in range(min(n, len(goals))):
        one = make_world(tasks.world, 1, size)
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
             graph=None, head=None) -> dict:
    """Success of MPC with the model and of a random policy on the same held-out tasks.

    planner: "cem", "graph", "distance" or "graph-distance" (default ``cfg.plan.planner``); graph: a prebuilt ``LatentGraph`` (when
    None, ``planner_parts`` builds it from the training episodes);
    head: the ``DistanceHead`` the "distance" planner scores with (``lewm_mini.distance.cached_distance``); when
    None it is loaded from, or trained into, ``cache_dir()/distance``.
    """
    tasks = make_tasks(cfg, protocol, episodes, seed)
    kind = planner or cfg.plan.planner
    if kind in ("distance", "graph-distance") and head is None:  # trained once per model, then cached
        _, head = planner_parts(model, cfg, "distance", cache_dir() / "distance", progress)
    if kind in ("graph", "graph-distance") and graph is None:  # the same graph whatever the task seed
        graph, _ = planner_parts(model, cfg, "graph", None, progress)
    planner = Planner(model, stats, cfg.plan, seed=seed, planner=kind, graph=graph, head=head)
    size = cfg.data.size
    t = time.perf_counter()
    success, traj = run_mpc(planner, tasks, size, progress)
    seconds = time.perf_counter() - t
    evaluations, solves = planner.evaluations, planner.solves
    rand_success, rand_traj = run_random(tasks, size, seed)
    times = time_solves(planner, tasks, size, timed_solves) if timed_solves else [float("nan")]
    return {
        "world": cfg.data.world,
        "protocol": protocol,
        "planner": planner.kind,
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
