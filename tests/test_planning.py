import dataclasses

import numpy as np
import pytest
import torch

from lewm_mini.cem import cem
from lewm_mini.config import PlanConfig, get_config
from lewm_mini.evaluate import Planner, evaluate, make_tasks, run_random
from lewm_mini.train import train
from lewm_mini.world import Geometry, room_of


def test_cem_finds_the_minimum_of_a_quadratic():
    target = torch.tensor([[0.5, -1.0], [1.5, 0.2]])

    def cost(c):  # (P, N, H, A) -> (P, N)
        return ((c - target) ** 2).sum((-1, -2))

    seen = []

    def counting(c):
        seen.append(c.shape)
        return cost(c)

    plans, costs = cem(counting, 3, 2, 2, PlanConfig(samples=200, elites=20, iterations=15),
                       torch.full((2,), -3.0), torch.full((2,), 3.0), torch.Generator().manual_seed(0))
    assert plans.shape == (3, 2, 2) and torch.allclose(plans, target.expand(3, -1, -1), atol=0.05)
    assert seen[0] == (3, 200, 2, 2)  # all candidates of all problems scored in one call
    assert (costs < 0.01).all()


def test_cem_respects_bounds():
    plans, _ = cem(lambda c: -c.sum((-1, -2)), 1, 3, 2, PlanConfig(samples=50, elites=5, iterations=5),
                   torch.tensor([-1.0, -2.0]), torch.tensor([1.0, 0.5]), torch.Generator().manual_seed(0))
    assert (plans[..., 0] <= 1.0 + 1e-6).all() and (plans[..., 1] <= 0.5 + 1e-6).all()


def test_tasks_follow_the_protocols():
    cfg = get_config("ci")
    paper = make_tasks(cfg, "paper", 20, seed=0)
    assert paper.budget == 50 and paper.start.shape == (20, 2)
    gap = np.linalg.norm(paper.goal - paper.start, axis=1)
    assert gap.max() <= 25 * Geometry(64).speed * np.sqrt(2) + 1e-4
    cross = make_tasks(cfg, "cross-room", 20, seed=0)
    assert cross.budget == 100 and (room_of(cross.start, Geometry(64)) != room_of(cross.goal, Geometry(64))).all()
    again = make_tasks(cfg, "paper", 20, seed=0)
    assert np.array_equal(again.start, paper.start)
    # the tasks do not depend on the policy that collected a model's training data (evaluate.TASK_POLICY)
    for policy in ("heuristic", "random"):
        other = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, policy=policy))
        assert np.array_equal(make_tasks(other, "paper", 20, seed=0).goal, paper.goal)
    assert cfg.data.policy == "heuristic-straight"  # so the loop above compared three policies
    with pytest.raises(ValueError, match="protocol"):
        make_tasks(cfg, "nope", 3, 0)


def test_random_floor_is_seeded():
    cfg = get_config("ci")
    tasks = make_tasks(cfg, "paper", 30, 0)
    a, ta = run_random(tasks, 64, 0)
    b, tb = run_random(tasks, 64, 0)
    assert np.array_equal(a, b) and np.array_equal(ta, tb) and ta.shape == (30, 51, 2)


def test_ci_train_then_plan_smoke(tmp_path):
    cfg = get_config("ci")
    result = train(cfg, tmp_path, progress=False)
    planner = Planner(result.model, result.stats, cfg.plan, seed=0, planner="cem")
    tasks = make_tasks(cfg, "paper", 3, 0)
    from lewm_mini.world import BatchedTwoRoom

    world = BatchedTwoRoom(3)
    world.reset(tasks.start, tasks.goal)
    actions = planner.solve(world.render(), world.goal_frames())
    assert actions.shape == (3, cfg.plan.horizon * cfg.model.frameskip, 2)
    assert np.abs(actions).max() <= 1.0
    assert not result.model.training  # BatchNorm running statistics at plan time
    out = evaluate(result.model, result.stats, cfg, "paper", episodes=4, progress=False, timed_solves=2)
    for key in ("success_rate", "random_success_rate", "episodes", "plan_seconds_median"):
        assert key in out
    assert out["episodes"] == 4 and 0 <= out["success_rate"] <= 1 and out["trajectories"].shape == (4, 51, 2)
    again = evaluate(result.model, result.stats, cfg, "paper", episodes=4, progress=False, timed_solves=0)
    assert np.array_equal(again["trajectories"], out["trajectories"])  # reproducible on CPU


def test_planner_rejects_wrong_image_size(tmp_path):
    cfg = get_config("ci")
    result = train(cfg, tmp_path, progress=False)
    planner = Planner(result.model, result.stats, cfg.plan, planner="cem")
    with pytest.raises(ValueError, match="64x64"):
        planner.solve(np.zeros((1, 32, 32, 3), np.uint8), np.zeros((1, 32, 32, 3), np.uint8))


def test_a_kind_names_a_small_planner_class():
    """Planner(..., planner=kind) makes the class of that kind; each overrides only its aim, score or horizon."""
    from lewm_mini.config import get_config
    from lewm_mini.data import ActionStats
    from lewm_mini.distance import DistanceHead
    from lewm_mini.jepa import LeWM
    from lewm_mini.planning import KINDS, DistancePlanner, DoorOraclePlanner, GraphPlanner, Planner

    cfg = get_config("ci")
    model, stats = LeWM(cfg.model), ActionStats(np.zeros(2, np.float32), np.ones(2, np.float32))
    assert type(Planner(model, stats, cfg.plan, planner="cem")) is Planner
    head = DistanceHead(cfg.model.latent)
    distance = Planner(model, stats, cfg.plan, planner="distance", head=head)
    assert type(distance) is DistancePlanner and distance.horizon == cfg.plan.distance_horizon
    assert type(Planner(model, stats, cfg.plan, planner="door-oracle")) is DoorOraclePlanner
    assert {k: c.kind for k, c in KINDS.items()} == {k: k for k in KINDS}
    assert issubclass(GraphPlanner, Planner) and issubclass(DistancePlanner, Planner)
    default = Planner(model, stats, dataclasses.replace(cfg.plan, planner="distance"), head=head)
    assert type(default) is DistancePlanner  # the plan's kind when none is named
    with pytest.raises(ValueError, match="unknown planner"):
        Planner(model, stats, cfg.plan, planner="a-star")
