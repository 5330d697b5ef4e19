"""Chapter 06 checkers accept the reference solutions and reject plausible wrong answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reference import accepts, solutions_of

from lewm_mini.checks.ch06 import check_cem_update, check_mpc
from lewm_mini.checks.answers.ch06 import mpc_reference


solution = solutions_of("06_planning_cem_mpc")


# ----------------------------------------------------------------------------- 6.1


def _elites(cand, costs, k, largest=False):
    idx = costs.topk(k, dim=1, largest=largest).indices
    return torch.take_along_dim(cand, idx[:, :, None, None], dim=1)


def _pooled(m, c, f, k):  # one set of elites for all problems
    e = c.flatten(0, 1)[f.flatten().topk(k, largest=False).indices]
    return e.mean(0).expand_as(m), e.std(0).expand_as(m)


CEM_MUTANTS = {
    "refit to the worst samples": lambda m, s, c, f, k: (_elites(c, f, k, True).mean(1), _elites(c, f, k, True).std(1)),
    "never refit": lambda m, s, c, f, k: (m, s),
    "std never shrinks (kept)": lambda m, s, c, f, k: (_elites(c, f, k).mean(1), s),
    "std never shrinks (max with the old one)": lambda m, s, c, f, k: (
        _elites(c, f, k).mean(1), torch.maximum(s, _elites(c, f, k).std(1))),
    "mean of all samples": lambda m, s, c, f, k: (c.mean(1), _elites(c, f, k).std(1)),
    "mean and std of all samples": lambda m, s, c, f, k: (c.mean(1), c.std(1)),
    "elites across all problems together": lambda m, s, c, f, k: _pooled(m, c, f, k),
    "the single best sample, std unchanged": lambda m, s, c, f, k: (_elites(c, f, 1)[:, 0], s),
}


def test_cem_update_accepts_reference_and_biased_std():
    assert accepts(check_cem_update, solution("cem_update"))
    biased = lambda m, s, c, f, k: (_elites(c, f, k).mean(1), _elites(c, f, k).std(1, unbiased=False))  # noqa: E731
    assert accepts(check_cem_update, biased)


@pytest.mark.parametrize("name", CEM_MUTANTS)
def test_cem_update_rejects_mutant(name):
    assert not accepts(check_cem_update, CEM_MUTANTS[name])


def test_cem_update_gather_without_expand_gets_the_index_hint(capsys):
    def gather_no_expand(m, s, c, f, k):
        el = torch.gather(c, 1, f.topk(k, dim=1, largest=False).indices[:, :, None, None])  # (P, K, 1, 1)
        return el.mean(1), el.std(1)

    assert not accepts(check_cem_update, gather_no_expand)
    assert "whole plans" in capsys.readouterr().out


def test_cem_update_stub_and_strict():
    def stub(*args):
        raise NotImplementedError("cem_update")

    assert not accepts(check_cem_update, stub)
    with pytest.raises(AssertionError):
        check_cem_update(stub, strict=True)
    assert check_cem_update(solution("cem_update"), strict=True)


# ----------------------------------------------------------------------------- 6.2


def _cost_last(rollout, z0, zg):
    return lambda c: ((rollout(z0.expand(len(c), -1), c)[:, -1] - zg) ** 2).sum(-1)


def never_replan(world, encode, rollout, solve, to_actions, budget, execute):
    zg = encode(world.goal_frames())
    traj = [world.pos[0].copy()]
    plan = solve(_cost_last(rollout, encode(world.render()), zg))
    while len(traj) <= budget:  # the same plan, again and again
        for a in to_actions(plan[:execute])[: budget + 1 - len(traj)]:
            traj.append(world.step(a[None])[0].copy())
    return np.stack(traj)


def no_reencode(world, encode, rollout, solve, to_actions, budget, execute):
    zg = encode(world.goal_frames())
    z0 = encode(world.render())
    traj = [world.pos[0].copy()]
    while len(traj) <= budget:
        plan = solve(_cost_last(rollout, z0, zg))
        for a in to_actions(plan[:execute])[: budget + 1 - len(traj)]:
            traj.append(world.step(a[None])[0].copy())
        z0 = rollout(z0, plan[None, :execute])[:, -1]  # where the model thinks we are
    return np.stack(traj)


def summed_cost(world, encode, rollout, solve, to_actions, budget, execute):
    zg = encode(world.goal_frames())
    traj = [world.pos[0].copy()]
    while len(traj) <= budget:
        z0 = encode(world.render())
        plan = solve(lambda c, z0=z0: ((rollout(z0.expand(len(c), -1), c) - zg) ** 2).sum((-1, -2)))
        for a in to_actions(plan[:execute])[: budget + 1 - len(traj)]:
            traj.append(world.step(a[None])[0].copy())
    return np.stack(traj)


def whole_plan(world, encode, rollout, solve, to_actions, budget, execute):
    return mpc_reference(world, encode, rollout, solve, to_actions, budget, 10**6)


def first_latent_cost(world, encode, rollout, solve, to_actions, budget, execute):
    zg = encode(world.goal_frames())
    traj = [world.pos[0].copy()]
    while len(traj) <= budget:
        z0 = encode(world.render())
        plan = solve(lambda c, z0=z0: ((rollout(z0.expand(len(c), -1), c)[:, 0] - zg) ** 2).sum(-1))
        for a in to_actions(plan[:execute])[: budget + 1 - len(traj)]:
            traj.append(world.step(a[None])[0].copy())
    return np.stack(traj)


def no_start_position(world, encode, rollout, solve, to_actions, budget, execute):
    return mpc_reference(world, encode, rollout, solve, to_actions, budget, execute)[1:]


MPC_MUTANTS = {
    "never replans": never_replan,
    "executes without re-encoding (plans from the imagined latent)": no_reencode,
    "cost summed over the horizon": summed_cost,
    "executes the whole plan": whole_plan,
    "cost of the first imagined latent": first_latent_cost,
    "forgets the start position": no_start_position,
}


def test_mpc_accepts_reference():
    assert accepts(check_mpc, solution("mpc"))
    assert accepts(check_mpc, mpc_reference)


@pytest.mark.parametrize("name", MPC_MUTANTS)
def test_mpc_rejects_mutant(name):
    assert not accepts(check_mpc, MPC_MUTANTS[name])


def test_mpc_stub_and_strict():
    def stub(*args):
        raise NotImplementedError("mpc")

    assert not accepts(check_mpc, stub)
    with pytest.raises(AssertionError):
        check_mpc(stub, strict=True)
    assert check_mpc(solution("mpc"), strict=True)


# ----------------------------------------------------------------------------- 6.3

from lewm_mini.checks.ch06 import check_warm_start  # noqa: E402


def _pad(x, k, value=0.0):
    return torch.cat([x[:, k:], torch.full_like(x[:, :k], value)], 1)


def _by_step(m, s, k, init):  # shifts the flattened plan by one raw 2-D action
    flat = m.flatten(1)
    return torch.cat([flat[:, 2:], torch.zeros_like(flat[:, :2])], 1).view_as(m), torch.full_like(s, init)


WARM_MUTANTS = {
    "shift by a step instead of a block": _by_step,
    "no padding at the end (roll wraps round)": lambda m, s, k, init: (torch.roll(m, -k, 1), torch.full_like(s, init)),
    "shift the std instead of the mean": lambda m, s, k, init: (m, _pad(s, k, init)),
    "keep the old narrowed std": lambda m, s, k, init: (_pad(m, k), s),
    "shift the wrong way": lambda m, s, k, init: (torch.cat([torch.zeros_like(m[:, :k]), m[:, :-k]], 1),
                                                  torch.full_like(s, init)),
    "pad with the last block repeated": lambda m, s, k, init: (
        torch.cat([m[:, k:], m[:, -1:].expand(-1, k, -1)], 1), torch.full_like(s, init)),
    "always shift by one block": lambda m, s, k, init: (_pad(m, 1), torch.full_like(s, init)),
    "cold start (zeros)": lambda m, s, k, init: (torch.zeros_like(m), torch.full_like(s, init)),
    "shorter plan (no padding at all)": lambda m, s, k, init: (m[:, k:], torch.full_like(s[:, k:], init)),
}


def test_warm_start_accepts_the_reference_and_matches_the_package():
    from lewm_mini.cem import shift_plan

    assert accepts(check_warm_start, solution("warm_start"))
    assert accepts(check_warm_start, lambda m, s, k, init: (shift_plan(m, k), torch.full_like(s, init)))


@pytest.mark.parametrize("name", WARM_MUTANTS)
def test_warm_start_rejects_mutant(name):
    assert not accepts(check_warm_start, WARM_MUTANTS[name])


@pytest.mark.parametrize("name, hint", [("shift by a step instead of a block", "raw step"),
                                        ("no padding at the end (roll wraps round)", "wraps"),
                                        ("shift the std instead of the mean", "shifted the std"),
                                        ("keep the old narrowed std", "narrowed std")])
def test_warm_start_hints_name_the_mistake(name, hint, capsys):
    accepts(check_warm_start, WARM_MUTANTS[name])
    assert hint in capsys.readouterr().out


def test_warm_start_stub_and_strict():
    def stub(*args):
        raise NotImplementedError("warm_start")

    assert not accepts(check_warm_start, stub)
    with pytest.raises(AssertionError):
        check_warm_start(stub, strict=True)


def test_cem_update_broadcast_index_gets_the_indexing_hint(capsys):
    def broadcast_index(m, s, c, f, k):
        idx = f.topk(k, dim=1, largest=False).indices  # (P, K)
        el = c[:, idx]  # (P, P, K, H, A): every problem's elites for every problem
        return el.mean(1), el.std(1)

    assert not accepts(check_cem_update, broadcast_index)
    out = capsys.readouterr().out
    assert "pair each problem with its own row" in out and "average over" not in out


def test_warm_start_a_float_std_is_named(capsys):
    assert not accepts(check_warm_start, lambda m, s, k, init: (_pad(m, k), init))
    assert "its std is a float" in capsys.readouterr().out
