"""Planning in latent space: CEM towards a goal image, towards graph waypoints, or down a learned distance.

Every planner is the same loop: encode the current and goal frames, pick what to aim at, and let
CEM (``lewm_mini.cem``) search action blocks whose imagined rollout scores best. They differ in
the aim and in the score:

- "cem": the goal latent, scored by the squared latent distance of the last imagined latent (LeWM's).
- "graph": a waypoint a few blocks down the shortest path of a graph over training frames
  (``lewm_mini.graph``), or the goal once it is within reach; same score, shorter plans.
- "distance": the goal latent, scored by a learned distance in time (``lewm_mini.distance``): how
  many action blocks separate the imagined state from the goal, round the wall. No graph at plan time.
- "door-oracle" (an ablation with privileged information): a waypoint in the doorway read off the
  true position.

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

PLANNERS = ("cem", "graph", "distance")  # what the CLI offers; "door-oracle" is an ablation (see Planner.targets)


def latent_cost(z: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """LeWM's planning cost: squared distance between latents z (..., D) and target (..., D) -> (...)."""
    return ((z - target) ** 2).sum(-1)


class Planner:
    """Plans action sequences towards goal images with CEM in the model's latent space.

    planner="cem": one CEM solve to the goal latent over ``plan.horizon`` blocks; MPC executes
    ``plan.cem_replan_every`` steps (0: the whole plan), then replans. planner="graph": CEM to a
    latent waypoint ``plan.reach`` blocks down the shortest path of a graph over training frames
    (``lewm_mini.graph``), or to the goal once it is within reach, over ``plan.graph_horizon``
    blocks (``graph``: built outside, e.g. by ``planner_parts``). planner="distance":
    CEM to the goal over ``plan.distance_horizon`` blocks, scored by the learned distance ``head``
    (``lewm_mini.distance``), averaged over the imagined blocks when ``plan.sum_cost``. Graph and
    distance planners replan every ``plan.replan_every`` steps.
    """

    def __init__(self, model: LeWM, stats: ActionStats, plan: PlanConfig, seed: int = 0,
                 planner: str | None = None, graph=None, head=None):
        self.model = model.eval()  # BatchNorm running statistics, no dropout
        self.stats = stats
        self.cfg = plan
        self.kind = planner or plan.planner  # "cem", "graph", "distance" (or the "door-oracle" ablation)
        if self.kind not in (*PLANNERS, "door-oracle"):
            raise ValueError(f"unknown planner {self.kind!r}; use one of {PLANNERS}")
        self.fs = model.cfg.frameskip
        self.history = plan.history or model.cfg.history
        self.device = next(model.parameters()).device
        self.gen = torch.Generator(device=self.device).manual_seed(seed)
        lo, hi = stats.bounds()
        self.lo = torch.as_tensor(np.tile(lo, self.fs), device=self.device)  # (A,) per block dimension
        self.hi = torch.as_tensor(np.tile(hi, self.fs), device=self.device)
        self.graph, self._trees = graph, (None, None)
        self.head = head.to(self.device) if head is not None else None
        self.evaluations = 0  # candidate plans rolled out by the model, summed over problems
        self.solves = 0  # CEM solves, one per problem per replan
        self._previous: torch.Tensor | None = None  # the last plans (P, H, A), for warm starts
        if self.kind == "graph" and graph is None:
            raise ValueError("planner='graph' needs a waypoint graph: graph=build_graph(...), or planner_parts")
        if self.kind == "distance" and self.head is None:
            raise ValueError("planner='distance' needs a distance head: head=cached_distance(...), or planner_parts")

    @property
    def steps_per_solve(self) -> int:
        """Environment steps MPC executes from each plan before replanning."""
        if self.kind != "cem":
            return min(self.cfg.replan_every, self.horizon * self.fs)
        return min(self.cfg.cem_replan_every or self.cfg.horizon * self.fs, self.cfg.horizon * self.fs)

    @property
    def horizon(self) -> int:
        """CEM horizon in action blocks: ``plan.horizon`` (cem), ``plan.distance_horizon`` (distance), else
        ``plan.graph_horizon``."""
        return {"cem": self.cfg.horizon, "distance": self.cfg.distance_horizon}.get(self.kind, self.cfg.graph_horizon)

    def reset(self) -> None:
        """Forget the previous plans (new tasks): the next solve starts cold."""
        self._previous = None

    @torch.inference_mode()
    def encode(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 frames (P, H, W, 3) -> latents (P, D), with the training preprocessing."""
        return encode_frames(self.model, frames)

    @torch.inference_mode()
    def targets(self, z0: torch.Tensor, zg: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
        """Graph planner: the latent each problem aims at now (P, D), and whether it is a waypoint (P,).

        planner="door-oracle" is a one-waypoint baseline with privileged information (for ablations
        only): it reads the true positions off the frames and aims at an image of the agent in the
        doorway while the agent is in the other room than the goal. It is no upper bound: the door is
        usually beyond the latent cost's informative radius (8% against the graph's 78% on 50 tasks).
        """
        if self.kind == "door-oracle":
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

    @property
    def context_frames(self) -> int:
        """How many past frames (one per action block) the rollouts read before the current one: history - 1."""
        return self.history - 1

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

    def goal_score(self, target: torch.Tensor):
        """The cost of imagined latents (P, N, H, D) against targets (P, D) -> (P, N): the one place a
        planner's score is written. Latent cost or learned distance, of the last latent or (``sum_cost``) averaged
        over the imagined blocks."""
        if self.kind != "distance":
            if self.cfg.sum_cost:
                return lambda z: latent_cost(z, target[:, None, None]).mean(-1)
            return lambda z: latent_cost(z[:, :, -1], target[:, None])
        from .distance import between

        eg = self.head.embed(target)[:, None, None]  # (P, 1, 1, E): the goal, embedded once per solve
        if self.cfg.sum_cost:
            return lambda z: between(self.head.embed(z), eg).mean(-1)
        return lambda z: between(self.head.embed(z[:, :, -1:]), eg)[..., 0]

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
        self._frames, self._goal_frames = frames, goal_frames
        context = self._context(past_frames, past_actions, len(frames))
        if self.kind in ("cem", "distance"):
            return self.plan_latents(z0, zg, self.horizon, context)
        target, _ = self.targets(z0, zg)
        return self.plan_latents(z0, target, self.horizon, context)

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


def planner_parts(model: LeWM, cfg: Config, planner: str, folder, progress: bool = True):
    """What ``planner`` needs built outside the ``Planner``: (graph, head), each None when it needs none.

    "graph": a ``LatentGraph`` over ``cfg.plan.graph_episodes`` cached training episodes. "distance": the
    distance head of the profile's size (``DISTANCE_SIZES``) trained on that graph, cached in ``folder``
    (the run's folder, or the cache; ``cached_distance``).
    """
    if planner not in ("graph", "distance"):
        return None, None
    from .data import load_or_collect
    from .distance import DISTANCE_SIZES, cached_distance
    from .graph import build_graph

    episodes = load_or_collect(cfg.data, "train", progress=False)
    graph = build_graph(model, episodes, model.cfg.frameskip, n_episodes=cfg.plan.graph_episodes, seed=0)
    if planner == "graph":
        return graph, None
    return None, cached_distance(model, folder, graph, DISTANCE_SIZES[cfg.profile], progress=progress)


def agent_position(frames: np.ndarray) -> np.ndarray:
    """Where the red agent is in uint8 frames (P, H, W, 3): the centroid of redness (R - G), (P, 2) as (x, y)."""
    red = np.clip(frames[..., 0].astype(np.float32) - frames[..., 1], 0, None)  # (P, H, W)
    red /= red.sum((1, 2), keepdims=True).clip(1e-6)
    h, w = frames.shape[1:3]
    centre = np.arange(w) + 0.5, np.arange(h) + 0.5  # pixel centres
    return np.stack([(red.sum(1) * centre[0]).sum(1), (red.sum(2) * centre[1]).sum(1)], 1).astype(np.float32)
