"""Planning in latent space: CEM towards a goal image, towards graph waypoints, or down a learned distance.

Every planner is the same loop: encode the current and goal frames, pick what to aim at, and let
CEM (``lewm_mini.cem``) search action blocks whose imagined rollout scores best. They differ in
the aim and in the score:

- "cem": the goal latent, scored by the squared latent distance of the last imagined latent (LeWM's).
- "graph": a waypoint a few blocks down the shortest path of a graph over training frames
  (``lewm_mini.graph``), or the goal once it is within reach; same score, shorter plans.
- "distance": the goal latent, scored by a learned distance in time (``lewm_mini.distance``): how
  many action blocks separate the imagined state from the goal, round the wall. No graph at plan time.
- "graph-distance": the graph's waypoints, scored by the learned distance instead of the latent cost.
- "door-oracle" (an ablation with privileged information): a waypoint in the doorway read off the
  true position.

One class per kind (``Planner`` is LeWM's, the others override its aim, score or horizon); ``Planner(...,
planner=kind)`` makes the one a kind names.

The graph and the distance head are built outside and passed in (``build_graph``,
``cached_distance``); ``evaluate`` runs the planners with MPC on held-out tasks.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from .cem import cem, shift_plan
from .config import Config, PlanConfig
from .data import ActionStats
from .probe import encode_frames
from .jepa import LeWM
from .world import Geometry, render, room_of

PLANNERS = ("cem", "graph", "distance", "graph-distance")  # the CLI's; "door-oracle" is an ablation (DoorOraclePlanner)


def latent_cost(z: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """LeWM's planning cost: squared distance between latents z (..., D) and target (..., D) -> (...)."""
    return ((z - target) ** 2).sum(-1)


class Planner:
    """Plans action sequences towards goal images with CEM in the model's latent space: LeWM's planner.

    Each solve encodes the frames, picks what to aim at (``aim``: here the goal latent), and lets CEM search
    ``horizon`` action blocks whose imagined rollout scores best (``goal_score``: the latent cost of the last
    block, or averaged over the blocks with ``plan.sum_cost``). MPC executes ``steps_per_solve`` steps of each
    plan (``plan.cem_replan_every``, 0: the whole plan), then solves again. The other planners change the aim,
    the score or the horizon, one method each: ``GraphPlanner``, ``DistancePlanner``, ``DoorOraclePlanner``.

    ``Planner(..., planner="graph")`` (or ``plan.planner``) makes the planner of that kind, so callers name a
    kind, not a class; the graph or the distance head it needs is built outside (``planner_parts``).
    """

    kind = "cem"

    def __new__(cls, model: LeWM | None = None, stats: ActionStats | None = None, plan: PlanConfig | None = None,
                seed: int = 0, planner: str | None = None, graph=None, head=None):
        if cls is Planner:  # the kind picks the class
            kind = planner or (plan.planner if plan is not None else "cem")
            if kind not in KINDS:
                raise ValueError(f"unknown planner {kind!r}; use one of {PLANNERS}")
            cls = KINDS[kind]
        return super().__new__(cls)

    def __init__(self, model: LeWM, stats: ActionStats, plan: PlanConfig, seed: int = 0,
                 planner: str | None = None, graph=None, head=None):
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
        self.evaluations = 0  # candidate plans rolled out by the model, summed over problems
        self.solves = 0  # CEM solves, one per problem per replan
        self._previous: torch.Tensor | None = None  # the last plans (P, H, A), for warm starts

    # ------------------------------------------------------------------ what differs between planners

    @property
    def horizon(self) -> int:
        """CEM horizon in action blocks (``plan.horizon``)."""
        return self.cfg.horizon

    @property
    def replan_every(self) -> int:
        """Environment steps between replans (``plan.cem_replan_every``; 0: the whole plan)."""
        return self.cfg.cem_replan_every

    def aim(self, z0: torch.Tensor, zg: torch.Tensor, frames: np.ndarray, goal_frames: np.ndarray) -> torch.Tensor:
        """The latent each problem aims at now (P, D): the goal's."""
        return zg

    def goal_score(self, target: torch.Tensor):
        """The cost of imagined latents (P, N, H, D) against targets (P, D) -> (P, N): the latent cost of the last
        latent or (``sum_cost``) averaged over the imagined blocks."""
        if self.cfg.sum_cost:
            return lambda z: latent_cost(z, target[:, None, None]).mean(-1)
        return lambda z: latent_cost(z[:, :, -1], target[:, None])

    # ------------------------------------------------------------------ shared by every planner

    @property
    def steps_per_solve(self) -> int:
        """Environment steps MPC executes from each plan before replanning."""
        return min(self.replan_every or self.horizon * self.fs, self.horizon * self.fs)

    @property
    def context_frames(self) -> int:
        """How many past frames (one per action block) the rollouts read before the current one: history - 1."""
        return self.history - 1

    def reset(self) -> None:
        """Forget the previous plans (new tasks): the next solve starts cold."""
        self._previous = None

    @torch.inference_mode()
    def encode(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 frames (P, H, W, 3) -> latents (P, D), with the training preprocessing."""
        return encode_frames(self.model, frames)

    @torch.inference_mode()
    def solve(self, frames: np.ndarray, goal_frames: np.ndarray, past_frames: np.ndarray | None = None,
              past_actions: np.ndarray | None = None) -> np.ndarray:
        """One plan per problem: frames, goals (P, H, W, 3) -> raw actions (P, steps, 2).

        past_frames (P, C, H, W, 3): the frames of the C action blocks before now, one per block, oldest
        first, and past_actions (P, C * frameskip, 2) the raw actions executed since the oldest of them;
        only the last ``context_frames`` are used. Needed where a frame does not show the whole state (the
        Momentum world); without them the rollouts start from the current frame alone.
        """
        z0, zg = self.encode(frames), self.encode(goal_frames)
        context = self._context(past_frames, past_actions, len(frames))
        return self.plan_latents(z0, self.aim(z0, zg, frames, goal_frames), self.horizon, context)

    @torch.inference_mode()
    def plan_latents(self, z0: torch.Tensor, target: torch.Tensor, horizon: int,
                     context: tuple[torch.Tensor, torch.Tensor] | None = None) -> np.ndarray:
        """CEM from latents z0 (P, D) to target latents (P, D) -> raw actions (P, horizon * frameskip, 2).

        context: the past latents (P, C, D) and their z-scored blocks (P, C, A), fed to every rollout."""
        p = z0.shape[0]
        score = self.goal_score(target)

        def cost(cand: torch.Tensor) -> torch.Tensor:  # (P, N, H, A) -> (P, N)
            k = cand.shape[1]
            self.evaluations += p * k
            past = (None, None) if context is None else (c.repeat_interleave(k, 0) for c in context)
            z = self.model.rollout(z0.repeat_interleave(k, 0), cand.flatten(0, 1), self.history, *past)  # (P*N, H, D)
            return score(z.view(p, k, horizon, -1))

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

    def _context(self, past_frames, past_actions, p: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Encoded past frames (P, C, D) and z-scored blocks (P, C, A), the last ``context_frames`` of them."""
        if past_frames is None or self.context_frames == 0 or past_frames.shape[1] == 0:
            return None
        c = min(self.context_frames, past_frames.shape[1])
        frames, raw = past_frames[:, -c:], np.asarray(past_actions, np.float32)[:, -c * self.fs :]
        if frames.shape[0] != p or raw.shape != (p, c * self.fs, 2):
            raise ValueError(f"past frames {past_frames.shape} and past actions {np.shape(past_actions)} do not match "
                             f"{p} problems with {c} blocks of {self.fs} actions")
        z = self.encode(frames.reshape(-1, *frames.shape[2:])).view(p, c, -1)
        return z, torch.as_tensor(self.stats.block(raw, self.fs), device=self.device)


class GraphPlanner(Planner):
    """CEM to a latent waypoint about ``plan.reach`` blocks down the shortest path of a graph over training frames
    (``lewm_mini.graph.choose_waypoint``: the farthest path node within reach, or the node after it when that one
    lies less than ``reach / 2`` down the path), or to the goal once it is within reach, over ``plan.graph_horizon``
    blocks; replans every ``plan.replan_every`` steps. ``graph``: built outside (``planner_parts``)."""

    kind = "graph"

    def __init__(self, model: LeWM, stats: ActionStats, plan: PlanConfig, seed: int = 0,
                 planner: str | None = None, graph=None, head=None):
        super().__init__(model, stats, plan, seed)
        if graph is None:
            raise ValueError("planner='graph' needs a waypoint graph: graph=build_graph(...), or planner_parts")
        self.graph, self._trees = graph, (None, None)

    @property
    def horizon(self) -> int:
        return self.cfg.graph_horizon

    @property
    def replan_every(self) -> int:
        return self.cfg.replan_every

    def aim(self, z0, zg, frames, goal_frames) -> torch.Tensor:
        return self.targets(z0, zg)[0]

    @torch.inference_mode()
    def targets(self, z0: torch.Tensor, zg: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
        """The latent each problem aims at now (P, D), and whether it is a waypoint (P,)."""
        from .graph import goal_trees, snap

        goal_nodes = snap(self.graph, zg)
        if self._trees[0] is None or not np.array_equal(self._trees[0], goal_nodes):
            self._trees = (goal_nodes, goal_trees(self.graph, goal_nodes))
        out, is_wp = zg.clone(), np.zeros(len(zg), bool)
        for i, (node, tree) in enumerate(zip(snap(self.graph, z0), self._trees[1])):
            wp = self.waypoint(tree, int(node))
            if wp is not None:
                out[i], is_wp[i] = self.graph.z[wp], True
        return out, is_wp

    def waypoint(self, tree, node: int) -> int | None:
        """The node to aim at from ``node`` on the shortest-path ``tree`` to the goal (None: aim at the goal)."""
        from .graph import choose_waypoint

        return choose_waypoint(tree, node, self.cfg.reach)


class DistancePlanner(Planner):
    """CEM to the goal over ``plan.distance_horizon`` blocks, scored by the learned distance in time ``head``
    (``lewm_mini.distance``), of the last block or averaged over the blocks (``plan.sum_cost``); replans every
    ``plan.replan_every`` steps. No graph at plan time."""

    kind = "distance"

    def __init__(self, model: LeWM, stats: ActionStats, plan: PlanConfig, seed: int = 0,
                 planner: str | None = None, graph=None, head=None):
        super().__init__(model, stats, plan, seed)
        if head is None:
            raise ValueError("planner='distance' needs a distance head: head=cached_distance(...), or planner_parts")
        self.head = head.to(self.device)

    @property
    def horizon(self) -> int:
        return self.cfg.distance_horizon

    @property
    def replan_every(self) -> int:
        return self.cfg.replan_every

    def goal_score(self, target: torch.Tensor):
        from .distance import between

        eg = self.head.embed(target)[:, None, None]  # (P, 1, 1, E): the goal, embedded once per solve
        if self.cfg.sum_cost:
            return lambda z: between(self.head.embed(z), eg).mean(-1)
        return lambda z: between(self.head.embed(z[:, :, -1:]), eg)[..., 0]


class GraphDistancePlanner(GraphPlanner):
    """The graph planner with the learned distance ``head`` as CEM's cost to the waypoint (or to the goal once it
    is within reach), instead of the latent cost: the two uses of the graph's distances together. ``graph`` and
    ``head``: built outside (``planner_parts``)."""

    kind = "graph-distance"

    def __init__(self, model: LeWM, stats: ActionStats, plan: PlanConfig, seed: int = 0,
                 planner: str | None = None, graph=None, head=None):
        super().__init__(model, stats, plan, seed, graph=graph)
        if head is None:
            raise ValueError("planner='graph-distance' needs a distance head as well: head=cached_distance(...), "
                             "or planner_parts")
        self.head = head.to(self.device)

    goal_score = DistancePlanner.goal_score


class DoorOraclePlanner(GraphPlanner):
    """An ablation with privileged information: one waypoint, an image of the agent in the doorway, while the
    true position (read off the frames) is in the other room than the goal's; the graph planner's horizon and
    replanning. No upper bound: the door is usually beyond the latent cost's informative radius (8% against the
    graph's 78% on 50 tasks)."""

    kind = "door-oracle"

    def __init__(self, model: LeWM, stats: ActionStats, plan: PlanConfig, seed: int = 0,
                 planner: str | None = None, graph=None, head=None):
        Planner.__init__(self, model, stats, plan, seed)

    def aim(self, z0, zg, frames, goal_frames) -> torch.Tensor:
        geo = Geometry(self.model.cfg.image_size)
        pos, goal = agent_position(frames), agent_position(goal_frames)
        door = geo.door_center
        is_wp = (room_of(pos, geo) != room_of(goal, geo)) & (np.linalg.norm(pos - door, axis=1) > geo.speed)
        z_door = self.encode(render(door[None], geo))  # (1, D)
        return torch.where(torch.as_tensor(is_wp, device=zg.device)[:, None], z_door, zg)


KINDS = {"cem": Planner, "graph": GraphPlanner, "distance": DistancePlanner, "graph-distance": GraphDistancePlanner,
         "door-oracle": DoorOraclePlanner}


def planner_parts(model: LeWM, cfg: Config, planner: str, folder, progress: bool = True):
    """What ``planner`` needs built outside the ``Planner``: (graph, head), each None when it needs none.

    "graph": a ``LatentGraph`` over ``cfg.plan.graph_episodes`` cached training episodes. "distance": the
    distance head of the profile's size (``DISTANCE_SIZES``) trained on that graph, cached in ``folder``
    (the run's folder, or the cache; ``cached_distance``). "graph-distance": both.
    """
    if planner not in ("graph", "distance", "graph-distance"):
        return None, None
    from .data import load_or_collect
    from .distance import DISTANCE_SIZES, cached_distance
    from .graph import build_graph

    episodes = load_or_collect(cfg.data, "train", progress=False)
    graph = build_graph(model, episodes, model.cfg.frameskip, n_episodes=cfg.plan.graph_episodes, seed=0)
    if planner == "graph":
        return graph, None
    head = cached_distance(model, folder, graph, DISTANCE_SIZES[cfg.profile], progress=progress)
    return (graph if planner == "graph-distance" else None), head


def agent_position(frames: np.ndarray) -> np.ndarray:
    """Where the red agent is in uint8 frames (P, H, W, 3): the centroid of redness (R - G), (P, 2) as (x, y)."""
    red = np.clip(frames[..., 0].astype(np.float32) - frames[..., 1], 0, None)  # (P, H, W)
    red /= red.sum((1, 2), keepdims=True).clip(1e-6)
    h, w = frames.shape[1:3]
    centre = np.arange(w) + 0.5, np.arange(h) + 0.5  # pixel centres
    return np.stack([(red.sum(1) * centre[0]).sum(1), (red.sum(2) * centre[1]).sum(1)], 1).astype(np.float32)
