"""Reference answers for the checkers of chapter 06 (``lewm_mini.checks.ch06``)."""

from __future__ import annotations

import numpy as np
import torch


def cem_update_reference(mean, std, candidates, costs, elites):
    idx = costs.topk(elites, dim=1, largest=False).indices  # (P, K)
    h, a = candidates.shape[2:]
    el = torch.gather(candidates, 1, idx[:, :, None, None].expand(-1, -1, h, a))
    return el.mean(1), el.std(1)


def mpc_reference(world, encode, rollout, solve, to_actions, budget: int, execute: int) -> np.ndarray:
    zg = encode(world.goal_frames())
    traj = [world.pos[0].copy()]
    while len(traj) <= budget:
        z0 = encode(world.render())

        def cost(cand, z0=z0):
            return ((rollout(z0.expand(len(cand), -1), cand)[:, -1] - zg) ** 2).sum(-1)

        plan = solve(cost)
        for a in to_actions(plan[:execute])[: budget + 1 - len(traj)]:
            traj.append(world.step(a[None])[0].copy())
    return np.stack(traj)
