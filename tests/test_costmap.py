"""The cost map: grid positions, costs, and the distance helpers."""

from __future__ import annotations

import numpy as np
import torch

from lewm_mini.config import get_config
from lewm_mini.costmap import cost_map, grid_image, grid_positions, informative_radius, path_length
from lewm_mini.jepa import LeWM
from lewm_mini.world import Geometry, in_wall


def test_grid_is_free_and_covers_the_inner_area():
    geo = Geometry(64)
    pos = grid_positions(64, 2.0)
    assert not in_wall(pos, geo).any() and pos.min() >= geo.lo and pos.max() <= geo.hi
    img, extent = grid_image(pos, np.ones(len(pos)))
    assert np.isnan(img).sum() > 0 and np.nansum(img) == len(pos) and extent[0] < geo.lo + 1e-6


def test_cost_is_zero_at_the_goal():
    torch.manual_seed(0)
    model = LeWM(get_config("ci").model).eval()
    pos, cost = cost_map(model, (20.0, 24.0), 64, step=4.0)
    assert cost.shape == (len(pos),) and (cost >= 0).all()
    at_goal = np.all(pos == (20.0, 24.0), axis=1)
    assert at_goal.sum() == 1 and cost[at_goal][0] < 1e-6


def test_path_length_goes_through_the_door():
    a, b = np.array([10.0, 50.0]), np.array([50.0, 50.0])
    assert path_length(a, b) > np.linalg.norm(a - b) + 30
    assert np.isclose(path_length(a, np.array([20.0, 40.0])), np.hypot(10, 10))


def test_informative_radius_of_a_saturating_cost():
    d = np.linspace(0, 40, 400)
    assert 8.0 <= informative_radius(d, np.minimum(d, 10.0)) <= 12.0  # 2-px bins
