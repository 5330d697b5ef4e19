"""Checkers for chapter 06 (planning: the CEM update, the MPC loop)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from . import CheckFailed, require, run_check
from .answers import ch06 as _answers  # reference answers, kept out of this module


def _pair(out, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise CheckFailed(f"{name} must return a pair of tensors (mean, std), got {type(out).__name__}")
    for part, value in zip(("mean", "std"), out):
        if not isinstance(value, torch.Tensor):
            raise CheckFailed(f"{name} must return a pair of tensors (mean, std); its {part} is a "
                              f"{type(value).__name__}: make it a tensor of shape (P, H, A) (torch.full_like)")
    return out[0], out[1]


# ----------------------------------------------------------------------------- Exercise 6.1


def check_cem_update(fn: Callable, strict: bool | None = None) -> bool:
    """fn(mean (P, H, A), std (P, H, A), candidates (P, N, H, A), costs (P, N), elites K) -> (mean, std):
    the Gaussian refit, for every problem separately, to its K lowest-cost candidates."""

    def close(x, y) -> bool:
        return tuple(x.shape) == tuple(y.shape) and torch.allclose(x, y, atol=1e-5)

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        for p, n, h, a, k in ((3, 40, 4, 2, 6), (1, 25, 5, 10, 5), (2, 12, 1, 3, 3)):
            mean = torch.randn(p, h, a, generator=g)
            std = torch.full((p, h, a), 2.0)
            cand = mean[:, None] + std[:, None] * torch.randn(p, n, h, a, generator=g)
            costs = torch.rand(p, n, generator=g) * 10
            args = (mean.clone(), std.clone(), cand.clone(), costs.clone(), k)
            new_mean, new_std = _pair(fn(*args), "cem_update")
            want_mean, want_std = _answers.cem_update_reference(mean, std, cand, costs, k)
            if tuple(new_mean.shape) != (p, h, a) or tuple(new_std.shape) != (p, h, a):
                hint = ("an index tensor of shape (P, K) used as candidates[:, idx] picks every problem's elites "
                        "for every problem, shape (P, P, K, H, A): pair each problem with its own row of idx, "
                        "candidates[torch.arange(P)[:, None], idx] or torch.take_along_dim"
                        if new_mean.ndim == 4 and p > 1 else
                        "average over the candidate axis, dim=1" if new_mean.ndim != 3 else
                        "the elites you averaged are not whole plans: an index of shape (P, K) must select "
                        "every (H, A) entry of each elite (candidates[torch.arange(P)[:, None], idx], or "
                        "torch.gather with the index expanded to (P, K, H, A))")
                raise CheckFailed(f"mean and std must keep the shape (P, H, A) = {(p, h, a)}; got "
                                  f"{tuple(new_mean.shape)} and {tuple(new_std.shape)}: {hint}")
            biased = want_std * ((k - 1) / k) ** 0.5  # std with unbiased=False is fine too
            if close(new_mean, want_mean) and (close(new_std, want_std) or close(new_std, biased)):
                continue
            worst = _answers.cem_update_reference(mean, std, cand, -costs, k)
            if close(new_mean, worst[0]):
                raise CheckFailed("you refit to the K highest costs: the elites are the K LOWEST costs (topk with "
                                  "largest=False, or argsort ascending)")
            if close(new_mean, mean) and close(new_std, std):
                raise CheckFailed("the distribution did not change: return the mean and std of the elites")
            if close(new_mean, cand.mean(1)):
                raise CheckFailed("that is the mean of all N candidates: keep only the K elites of each problem")
            if close(new_mean, want_mean):
                if close(new_std, std) or bool((new_std >= std - 1e-6).all()):
                    raise CheckFailed("the std never shrinks: set it to the std of the elites, so that the search "
                                      "narrows around what worked")
                raise CheckFailed("the mean is right; the std should be the elites' std over the candidate axis "
                                  "(dim=1)")
            flat = costs.flatten().topk(k, largest=False).indices
            if p > 1 and close(new_mean, cand.flatten(0, 1)[flat].mean(0).expand(p, h, a)):
                raise CheckFailed("elites are chosen per problem (topk over dim=1 of costs (P, N)), not across all "
                                  "problems together")
            raise CheckFailed("for each problem p, take the K candidates with the lowest costs[p] and return their "
                              "mean and std over the candidate axis")

    return run_check("Exercise 6.1 cem_update", test, strict)


# ----------------------------------------------------------------------------- Exercise 6.2


@dataclass
class MPCToolkit:
    """A one-agent Two-Room world and a small stand-in world model for the MPC exercise.

    The "model" reads the agent's position off the frame (latent = position / 10) and imagines
    moves ``gain`` times as long as the true ones, turned by ``turn`` degrees, with no walls: an
    imperfect model, as real ones are. ``encode`` and ``solve`` count their calls; ``solve`` keeps the costs.
    """

    world: object
    horizon: int
    frameskip: int
    gain: float
    turn: float = 0.0
    samples: int = 64
    iterations: int = 4
    seed: int = 0
    calls: dict = field(default_factory=lambda: {"encode": 0, "solve": 0})
    costs: list = field(default_factory=list)

    def __post_init__(self):
        from ..config import PlanConfig

        self.plan = PlanConfig(samples=self.samples, elites=max(2, self.samples // 8), iterations=self.iterations,
                               horizon=self.horizon)
        self.gen = torch.Generator().manual_seed(self.seed)
        self.std = 0.6  # action z-scoring: raw = block * std, raw mean 0

    def encode(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 frames (1, H, W, 3) -> latents (1, 2): the red blob's centre of mass / 10."""
        self.calls["encode"] += 1
        f = np.asarray(frames, np.float32)
        w = np.clip(f[..., 0] - f[..., 1], 0, None)  # redness (1, H, W)
        ys, xs = np.mgrid[: f.shape[1], : f.shape[2]] + 0.5
        pos = np.stack([(w * xs).sum((1, 2)), (w * ys).sum((1, 2))], -1) / w.sum((1, 2))[:, None]
        return torch.as_tensor(pos / 10.0, dtype=torch.float32)

    def moves(self, blocks: torch.Tensor) -> torch.Tensor:
        """Z-scored blocks (..., 2 * frameskip) -> imagined displacement per block (..., 2), latent units."""
        raw = (blocks * self.std).clamp(-1, 1).unflatten(-1, (self.frameskip, 2))
        c, s = np.cos(np.deg2rad(self.turn)), np.sin(np.deg2rad(self.turn))
        rot = torch.tensor([[c, -s], [s, c]], dtype=blocks.dtype)
        return raw.sum(-2) @ rot.T * (self.world.geo.speed * self.gain / 10.0)

    def rollout(self, z0: torch.Tensor, blocks: torch.Tensor) -> torch.Tensor:
        """z0 (N, D), blocks (N, H, A) -> imagined latents (N, H, D)."""
        return z0[:, None] + self.moves(blocks).cumsum(1)

    def solve(self, cost: Callable) -> torch.Tensor:
        """CEM on cost: candidates (N, H, A) -> costs (N,). Returns the plan (H, A)."""
        from ..cem import cem

        self.calls["solve"] += 1
        self.costs.append(cost)

        def batched(cand: torch.Tensor) -> torch.Tensor:
            c = cost(cand[0])
            if not (isinstance(c, torch.Tensor) and tuple(c.shape) == (cand.shape[1],)):
                raise CheckFailed(f"cost(candidates) must return one number per candidate, shape ({cand.shape[1]},); "
                                  f"got {getattr(c, 'shape', type(c).__name__)}")
            return c[None]

        a = 2 * self.frameskip
        lo, hi = torch.full((a,), -1 / self.std), torch.full((a,), 1 / self.std)
        return cem(batched, 1, self.horizon, a, self.plan, lo, hi, self.gen)[0][0]

    def to_actions(self, blocks: torch.Tensor) -> np.ndarray:
        """Plan blocks (k, A) -> raw actions (k * frameskip, 2) in [-1, 1] for world.step."""
        return (blocks.detach() * self.std).clamp(-1, 1).reshape(-1, 2).numpy()


def mpc_toolkit(start=(12.0, 44.0), goal=(24.0, 16.0), horizon: int = 4, frameskip: int = 3, gain: float = 0.7,
                turn: float = 40.0, seed: int = 0) -> MPCToolkit:
    """A fresh world (one agent at ``start``, goal at ``goal``) with its toolkit."""
    from ..world import BatchedTwoRoom

    world = BatchedTwoRoom(1, 64)
    world.reset(np.array([start], np.float32), np.array([goal], np.float32))
    return MPCToolkit(world, horizon, frameskip, gain, turn, seed=seed)


def run_mpc_with(fn: Callable, budget: int, execute: int, **task) -> tuple[np.ndarray, MPCToolkit]:
    kit = mpc_toolkit(**task)
    out = fn(kit.world, kit.encode, kit.rollout, kit.solve, kit.to_actions, budget, execute)
    return np.asarray(out), kit


def check_mpc(fn: Callable, strict: bool | None = None) -> bool:
    """fn(world, encode, rollout, solve, to_actions, budget, execute) -> positions (budget + 1, 2): plan with CEM
    on the last imagined latent, execute the first ``execute`` blocks, re-encode the real frame, replan."""

    def test() -> None:
        for budget, execute, task in ((24, 1, {}), (30, 2, {"start": (50.0, 50.0), "goal": (40.0, 30.0), "seed": 1}),
                                      (13, 4, {"horizon": 4, "seed": 2})):
            got, kit = run_mpc_with(fn, budget, execute, **task)
            want, ref = run_mpc_with(_answers.mpc_reference, budget, execute, **task)
            fs, plans, made = kit.frameskip, ref.calls["solve"], kit.calls["solve"]
            require(made > 0 and kit.costs, "call solve(cost) to plan")
            # The cost must score the LAST imagined latent only: a there-and-back candidate ends where
            # standing still ends, so both must cost the same.
            there_back = torch.zeros(2, kit.horizon, 2 * fs)
            there_back[0, 0], there_back[0, 1] = 1.0, -1.0
            c = kit.costs[0](there_back)
            require(torch.allclose(c[0], c[1], rtol=1e-4, atol=1e-6),
                    "the cost must use only the LAST imagined latent (rollout(...)[:, -1]): a plan that goes out "
                    "and comes back ends where standing still ends and must cost the same; summing over the "
                    "horizon scores the path, not the arrival")
            require(made > 1 or plans == 1,
                    f"you planned once; replan after every `execute` blocks ({execute} x {fs} steps): "
                    f"{plans} plans for a budget of {budget} steps")
            require(made >= plans, f"execute only the first `execute` = {execute} blocks of each plan, then replan "
                                   f"({plans} plans expected, you made {made})")
            require(kit.calls["encode"] >= made + 1,
                    "encode the real current frame (world.render()) before every plan: planning from an imagined "
                    "latent lets the model's errors pile up, re-encoding corrects them")
            require(got.shape == want.shape, f"return the agent's positions from the start, one per step: shape "
                                             f"({budget + 1}, 2) for budget {budget}; got {got.shape}")
            require(made == plans,
                    f"{plans} plans expected for budget {budget} with execute = {execute}, you made {made}")
            require(bool(np.allclose(got[0], want[0])), "the first position is the start, before any step")
            require(bool(np.allclose(got, want, atol=1e-4)),
                    "positions differ from the reference: encode the goal image once, then per plan encode "
                    "world.render(), solve, and step the world with to_actions(plan[:execute]) one action at a "
                    "time, stopping after `budget` steps")

    return run_check("Exercise 6.2 mpc", test, strict)


# ----------------------------------------------------------------------------- Exercise 6.3


def check_warm_start(fn: Callable, strict: bool | None = None) -> bool:
    """fn(mean (P, H, A), std (P, H, A), executed, init_std) -> (mean, std): the next solve's starting Gaussian
    after the first ``executed`` blocks of the plan ``mean`` were carried out."""

    def test() -> None:
        g = torch.Generator().manual_seed(0)
        for p, h, a, executed, init_std in ((2, 5, 10, 1, 1.0), (1, 4, 6, 2, 0.5), (3, 3, 4, 3, 1.0)):
            mean = torch.randn(p, h, a, generator=g) + 3.0  # nowhere near zero: padding shows
            std = torch.rand(p, h, a, generator=g) * 0.2 + 0.05  # a narrowed search
            new_mean, new_std = _pair(fn(mean.clone(), std.clone(), executed, init_std), "warm_start")
            require(tuple(new_mean.shape) == (p, h, a) and tuple(new_std.shape) == (p, h, a),
                    f"keep the shape (P, H, A) = {(p, h, a)} for both: drop the executed blocks from the front "
                    f"and pad the end back to H blocks; got {tuple(new_mean.shape)} and {tuple(new_std.shape)}")
            kept = h - executed
            if kept and torch.allclose(new_mean[:, :kept], mean[:, :kept]) and not torch.allclose(
                    new_mean[:, :kept], mean[:, executed:]):
                if torch.allclose(new_std[:, :kept], std[:, executed:]):
                    raise CheckFailed("you shifted the std and left the mean in place: the plan is the mean, so "
                                      "the mean is what moves forward in time")
                raise CheckFailed("the mean did not move: the first `executed` blocks are done, so block k of the "
                                  "new plan is block k + executed of the old one")
            flat = mean.flatten(1)
            by_step = torch.cat([flat[:, 2:], torch.zeros_like(flat[:, :2])], 1).view(p, h, a)  # one raw 2-D action
            if torch.allclose(new_mean, by_step):
                raise CheckFailed("you shifted by one raw step (a few numbers), not by whole blocks: the plan is "
                                  "(H, A) blocks, so shift along dim 1 by `executed`")
            if kept and torch.allclose(new_mean[:, kept:], mean[:, :executed]):
                raise CheckFailed("the end of the new plan holds the blocks you already executed (torch.roll wraps "
                                  "them round): pad the end with zeros, the prior mean in z-scored space")
            if kept and torch.allclose(new_mean[:, executed:], mean[:, :kept]):
                raise CheckFailed("shifted the wrong way: drop the FIRST `executed` blocks (done) and pad at the end")
            require(torch.allclose(new_mean[:, :kept], mean[:, executed:]),
                    f"block k of the new mean must be block k + executed of the old one (executed = {executed})")
            if torch.allclose(new_mean[:, kept:], mean[:, -1:].expand(-1, executed, -1)):
                raise CheckFailed("you repeated the last block at the end: pad with zeros, the prior mean, since "
                                  "nothing is known yet about those new blocks")
            require(torch.allclose(new_mean[:, kept:], torch.zeros(p, executed, a)),
                    "pad the end of the mean with zeros (the prior mean of z-scored actions), one block per "
                    "executed block")
            if torch.allclose(new_std, std) or (kept and torch.allclose(new_std[:, :kept], std[:, executed:])):
                raise CheckFailed("you kept the old, narrowed std: the search would start frozen around the old "
                                  "plan; reset the std to init_std everywhere, so the new solve can still move")
            require(torch.allclose(new_std, torch.full((p, h, a), init_std)),
                    f"the new std is init_std (= {init_std}) for every number of every block")

    return run_check("Exercise 6.3 warm_start", test, strict)
