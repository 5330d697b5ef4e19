"""iCEM's options in lewm_mini.cem: each one does what it says, and all off is plain CEM."""

import dataclasses

import numpy as np
import pytest
import torch

import lewm_mini.planning as planning_module
from lewm_mini.cem import cem, coloured_noise, shift_plan
from lewm_mini.config import PlanConfig, get_config
from lewm_mini.planning import Planner
from lewm_mini.jepa import LeWM
from lewm_mini.data import ActionStats

LO, HI = torch.full((4,), -3.0), torch.full((4,), 3.0)
TARGET = torch.linspace(-1, 1, 12).view(3, 4)  # (H, A)


def quadratic(c):  # (P, N, H, A) -> (P, N)
    return ((c - TARGET) ** 2).sum((-1, -2))


def recording(cost):
    calls = []

    def f(c):
        out = cost(c)
        calls.append((c.clone(), out.clone()))
        return out

    return f, calls


def plain_cem_reference(cost, problems, horizon, action_dim, cfg, lo, hi, generator):
    """CEM as it was before iCEM's options: the mean of the last elites."""
    mean = torch.zeros(problems, horizon, action_dim)
    std = torch.full_like(mean, cfg.init_std)
    for _ in range(cfg.iterations):
        eps = torch.randn((problems, cfg.samples, horizon, action_dim), generator=generator)
        cand = torch.maximum(torch.minimum(mean[:, None] + std[:, None] * eps, hi), lo)
        idx = cost(cand).topk(cfg.elites, dim=1, largest=False).indices
        elites = torch.gather(cand, 1, idx[:, :, None, None].expand(-1, -1, horizon, action_dim))
        mean, std = elites.mean(1), elites.std(1)
    return mean


def test_all_options_off_is_plain_cem():
    cfg = PlanConfig(samples=40, elites=6, iterations=4)
    ours, _ = cem(quadratic, 2, 3, 4, cfg, LO, HI, torch.Generator().manual_seed(3))
    ref = plain_cem_reference(quadratic, 2, 3, 4, cfg, LO, HI, torch.Generator().manual_seed(3))
    assert torch.allclose(ours, ref, atol=1e-6)


def test_shift_plan_drops_exactly_the_executed_blocks_and_pads_with_the_prior_mean():
    plan = torch.arange(2 * 5 * 4, dtype=torch.float32).view(2, 5, 4)
    shifted = shift_plan(plan, 1)
    assert torch.equal(shifted[:, :4], plan[:, 1:]) and torch.equal(shifted[:, 4], torch.zeros(2, 4))
    assert torch.equal(shift_plan(plan, 5), torch.zeros_like(plan))
    assert torch.equal(shift_plan(plan, 0), plan)


def test_warm_start_is_the_first_mean():
    init = TARGET.expand(2, -1, -1).clone()
    cost, calls = recording(quadratic)
    cem(cost, 2, 3, 4, PlanConfig(samples=400, elites=10, iterations=1, init_std=0.01), LO, HI,
        torch.Generator().manual_seed(0), init=init)
    assert torch.allclose(calls[0][0].mean(1), init, atol=0.01)  # candidates centred on the warm start


def test_carried_elites_are_the_previous_iterations_best():
    cfg = PlanConfig(samples=50, elites=10, iterations=3, keep_elites=0.3)
    cost, calls = recording(quadratic)
    cem(cost, 2, 3, 4, cfg, LO, HI, torch.Generator().manual_seed(0))
    for (cand, costs), (nxt, _) in zip(calls[:-2], calls[1:-1]):  # the last call scores the final mean
        best = costs.argsort(1)[:, :3]
        expected = torch.gather(cand, 1, best[:, :, None, None].expand(-1, -1, 3, 4))
        assert nxt.shape[1] == 50 + 3 and torch.equal(nxt[:, -3:], expected)


@pytest.mark.parametrize("seed", range(5))
def test_the_returned_plan_is_never_worse_than_any_candidate_scored(seed):
    bumpy = lambda c: quadratic(c) + torch.sin(5 * c).sum((-1, -2))  # many local minima
    cfg = PlanConfig(samples=30, elites=5, iterations=6, noise_beta=2.0, keep_elites=0.2, shrink=1.3,
                     return_best=True)
    cost, calls = recording(bumpy)
    plan, plan_cost = cem(cost, 3, 3, 4, cfg, LO, HI, torch.Generator().manual_seed(seed), frameskip=2)
    seen = torch.cat([c for _, c in calls], 1).min(1).values
    assert (plan_cost <= seen + 1e-5).all()
    assert torch.allclose(bumpy(plan[:, None])[:, 0], plan_cost, atol=1e-5)


def test_plain_cem_can_return_worse_than_it_has_seen():
    # why return_best exists: the elites' mean of a two-basin cost sits between the basins
    two_basins = lambda c: torch.minimum(((c - 1) ** 2).sum((-1, -2)), ((c + 1) ** 2).sum((-1, -2)))
    cfg = PlanConfig(samples=30, elites=10, iterations=1)
    cost, calls = recording(two_basins)
    _, plain = cem(cost, 8, 1, 4, cfg, LO, HI, torch.Generator().manual_seed(0))
    best_seen = calls[0][1].min(1).values
    _, best = cem(two_basins, 8, 1, 4, dataclasses.replace(cfg, return_best=True), LO, HI,
                  torch.Generator().manual_seed(0))
    assert (plain > best_seen).any() and torch.allclose(best, best_seen)


def test_population_shrinks_but_never_below_twice_the_elites():
    cost, calls = recording(quadratic)
    cem(cost, 1, 3, 4, PlanConfig(samples=100, elites=10, iterations=6, shrink=2.0), LO, HI,
        torch.Generator().manual_seed(0))
    assert [c.shape[1] for c, _ in calls[:-1]] == [100, 50, 25, 20, 20, 20]


def test_early_stop_when_the_best_cost_stalls():
    cost, calls = recording(lambda c: torch.ones(c.shape[:2]))
    cem(cost, 2, 3, 4, PlanConfig(samples=20, elites=4, iterations=10, stop_tol=0.01), LO, HI,
        torch.Generator().manual_seed(0))
    assert len(calls) == 2 + 1  # the first iteration always improves on "nothing seen", the second stalls
    cost, calls = recording(quadratic)
    cem(cost, 2, 3, 4, PlanConfig(samples=20, elites=4, iterations=10), LO, HI, torch.Generator().manual_seed(0))
    assert len(calls) == 10 + 1  # stop_tol = 0: never


@pytest.mark.parametrize("beta", [0.0, 1.0, 2.5])
def test_coloured_noise_has_unit_variance_and_smoothness_grows_with_beta(beta):
    noise = coloured_noise((4000, 5, 10), beta, 5, torch.Generator().manual_seed(0))
    assert noise.shape == (4000, 5, 10) and abs(noise.std().item() - 1) < 0.03
    steps = noise.view(4000, 25, 2)  # step-major inside a block: the 25 raw steps of x and y
    lag1 = torch.corrcoef(torch.stack([steps[:, :-1, 0].flatten(), steps[:, 1:, 0].flatten()]))[0, 1].item()
    xy = torch.corrcoef(torch.stack([steps[..., 0].flatten(), steps[..., 1].flatten()]))[0, 1].item()
    assert abs(xy) < 0.05  # x and y are independent series
    assert {0.0: abs(lag1) < 0.05, 1.0: 0.2 < lag1 < 0.7, 2.5: lag1 > 0.8}[beta], lag1


def test_planner_warm_start_shifts_the_previous_plan_by_the_executed_blocks(monkeypatch):
    cfg = get_config("ci")
    plan = dataclasses.replace(cfg.plan, planner="cem", warm_start=True, cem_replan_every=cfg.model.frameskip)
    model = LeWM(cfg.model).eval()
    stats = ActionStats(np.zeros(2, np.float32), np.ones(2, np.float32))
    planner = Planner(model, stats, plan)
    seen = []
    real = planning_module.cem

    def spy(*args, **kwargs):
        seen.append(kwargs.get("init"))
        return real(*args, **kwargs)

    monkeypatch.setattr(planning_module, "cem", spy)
    frames = np.full((2, 64, 64, 3), 255, np.uint8)
    planner.solve(frames, frames)
    first = planner._previous.clone()
    assert planner.steps_per_solve == cfg.model.frameskip
    planner.solve(frames, frames)
    assert seen[0] is None and torch.equal(seen[1], shift_plan(first, 1))
    planner.reset()
    planner.solve(frames, frames)
    assert seen[2] is None  # new tasks start cold
    assert planner.evaluations > 0


def test_profiles_plan_with_icem_and_plain_cem_turns_it_off():
    from lewm_mini.config import ICEM, plain_cem, with_icem

    for profile in ("ci", "cpu", "gpu"):
        cfg = get_config(profile)
        assert all(getattr(cfg.plan, k) == v for k, v in ICEM.items())
        plain = plain_cem(cfg).plan
        assert not plain.warm_start and not plain.return_best and plain.noise_beta == 0 and plain.shrink == 1
        assert plain.cem_replan_every == 0 and plain.keep_elites == 0
        assert (plain.samples, plain.iterations) == ((32, 3) if profile == "ci" else (300, 30))
        assert plain.history == cfg.plan.history and plain.planner == cfg.plan.planner  # nothing else changes
        assert with_icem(plain_cem(cfg)).plan == cfg.plan
    assert get_config("cpu").run_key() == plain_cem(get_config("cpu")).run_key()  # planning never changes the run


def test_a_warm_start_with_nothing_left_is_a_cold_start(monkeypatch):
    cfg = get_config("ci")
    plan = dataclasses.replace(cfg.plan, planner="cem", cem_replan_every=cfg.plan.horizon * cfg.model.frameskip)
    planner = Planner(LeWM(cfg.model).eval(), ActionStats(np.zeros(2, np.float32), np.ones(2, np.float32)), plan)
    seen = []
    real = planning_module.cem
    monkeypatch.setattr(planning_module, "cem", lambda *a, **k: seen.append((k.get("init"), a[4].iterations))
                        or real(*a, **k))
    frames = np.full((1, 64, 64, 3), 255, np.uint8)
    planner.solve(frames, frames)
    planner.solve(frames, frames)
    assert seen[1][0] is None and seen[1][1] == plan.iterations  # the whole plan ran: cold, full iterations


def test_time_warm_solves_times_a_warm_started_solve(monkeypatch):
    from lewm_mini.evaluate import make_tasks, time_warm_solves

    cfg = get_config("ci")
    planner = Planner(LeWM(cfg.model).eval(), ActionStats(np.zeros(2, np.float32), np.ones(2, np.float32)),
                      dataclasses.replace(cfg.plan, planner="cem"))
    inits = []
    real = planning_module.cem
    monkeypatch.setattr(planning_module, "cem", lambda *a, **k: inits.append(k.get("init")) or real(*a, **k))
    times = time_warm_solves(planner, make_tasks(cfg, "paper", 3, 0), 64, n=2)
    assert len(times) == 2 and all(t > 0 for t in times)
    assert [i is None for i in inits] == [True, False, True, False]  # cold, then the timed warm solve


def test_warm_start_std_is_used():
    cost, calls = recording(quadratic)
    cem(cost, 1, 3, 4, PlanConfig(samples=500, elites=10, iterations=1), LO, HI, torch.Generator().manual_seed(0),
        init=TARGET[None].clone(), init_std=torch.full((1, 3, 4), 0.1))
    assert abs(calls[0][0].std(1).mean().item() - 0.1) < 0.02
