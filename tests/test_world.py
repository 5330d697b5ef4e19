import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lewm_mini.world import (ENV_ID, against_wall, BatchedTwoRoom, Geometry, TwoRoomEnv, background, in_wall, moved_door, render,
                             random_start_goal_in_rooms, room_of, step_positions)

GEO = Geometry(64)


def test_geometry_scaled_from_released_224px():
    assert GEO.border == pytest.approx(4.0)
    assert GEO.wall == pytest.approx((30.571, 33.429), abs=1e-3)
    assert GEO.door == pytest.approx((10.0, 18.0))
    assert GEO.speed == pytest.approx(1.4286, abs=1e-3)
    assert GEO.success_radius == pytest.approx(4.571, abs=1e-3)


actions_st = arrays(np.float32, (30, 4, 2), elements=st.floats(-1, 1, width=32))


@settings(max_examples=60, deadline=None)
@given(actions=actions_st, seed=st.integers(0, 2**16))
def test_agent_never_in_wall_or_outside_border(actions, seed):
    world = BatchedTwoRoom(4, seed=seed)
    for a in actions:
        pos = world.step(a)
        assert not in_wall(pos, GEO).any()
        assert (pos >= GEO.lo).all() and (pos <= GEO.hi).all()


@settings(max_examples=40, deadline=None)
@given(actions=actions_st, seed=st.integers(0, 2**16))
def test_room_changes_only_through_the_door(actions, seed):
    world = BatchedTwoRoom(4, seed=seed)
    for a in actions:
        before = world.pos.copy()
        after = world.step(a)
        crossed = room_of(before, GEO) != room_of(after, GEO)
        y = np.where(crossed, after[:, 1], GEO.door[0])
        assert ((y >= GEO.door[0]) & (y <= GEO.door[1])).all()


def test_wall_blocks_and_door_lets_through():
    pos = np.array([[25.0, 40.0], [25.0, 14.0]], np.float32)  # below the door / level with it
    for _ in range(20):
        pos = step_positions(pos, np.array([[1.0, 0.0], [1.0, 0.0]], np.float32), GEO)
    assert pos[0, 0] < GEO.wall[0]  # blocked
    assert pos[1, 0] > GEO.wall[1]  # went through the door


def test_step_moves_by_speed():
    world = BatchedTwoRoom(1, seed=0)
    world.reset(np.array([[15.0, 40.0]]), np.array([[50.0, 40.0]]))
    world.step(np.array([[1.0, 0.0]]))
    assert world.pos[0] == pytest.approx([15.0 + GEO.speed, 40.0])


@pytest.mark.parametrize("bad, match", [
    (np.array([[np.nan, 0.0]]), "NaN"),
    (np.array([[1.5, 0.0]]), r"\[-1, 1\]"),
    (np.zeros((1, 3)), "shape"),
    (np.zeros((2, 2)), "shape"),
])
def test_bad_actions_raise_clear_errors(bad, match):
    world = BatchedTwoRoom(1, seed=0)
    with pytest.raises(ValueError, match=match):
        world.step(bad)


def test_render_matches_full_image_gaussian_blend():
    pos = np.random.default_rng(0).uniform(4, 60, (20, 2)).astype(np.float32)
    frames = render(pos, GEO)
    c = np.arange(64) + 0.5
    k = -0.5 / GEO.blob_sigma**2
    w = np.exp(k * (c[None, :, None] - pos[:, None, None, 1]) ** 2) * np.exp(k * (c[None, None, :] - pos[:, None, None, 0]) ** 2)
    ref = background(GEO)[None] * (1 - w[..., None])
    ref[..., 0] += w
    ref = (ref * 255 + 0.5).astype(np.uint8)
    assert np.abs(frames.astype(int) - ref).max() <= 1
    assert frames.dtype == np.uint8 and frames.shape == (20, 64, 64, 3)


def test_scene_layout_pixels():
    img = render(np.array([[10.5, 50.5]]), GEO)[0]
    assert (img[0, :, :] == 0).all() and (img[:, 0, :] == 0).all()  # border
    assert (img[40, 31] == 0).all()  # wall
    assert (img[14, 31] == 255).all()  # door
    assert img[50, 10, 0] == 255 and img[50, 10, 1] < 10  # red agent centre


def test_gymnasium_api():
    env = gym.make(ENV_ID)
    obs, info = env.reset(seed=3, options={"start": (10.0, 40.0), "goal": (12.0, 40.0)})
    assert obs.shape == (64, 64, 3) and obs.dtype == np.uint8
    assert info["goal_image"].shape == (64, 64, 3)
    obs, reward, terminated, truncated, info = env.step(np.array([1.0, 0.0], np.float32))
    assert terminated and reward == 1.0 and info["is_success"]
    env2 = TwoRoomEnv(max_steps=2)
    env2.reset(seed=0)
    assert env2.step(env2.action_space.sample())[3] is False
    assert env2.step(env2.action_space.sample())[3] is True
    with pytest.raises(ValueError, match="shape"):
        env2.step(np.zeros(3))


def test_gym_reset_is_seeded():
    env = TwoRoomEnv()
    a, _ = env.reset(seed=7)
    b, _ = env.reset(seed=7)
    assert (a == b).all()


def test_cross_room_pairs():
    s, g = random_start_goal_in_rooms(np.random.default_rng(0), 100, GEO)
    assert (room_of(s, GEO) != room_of(g, GEO)).all()
    assert not in_wall(s, GEO).any() and not in_wall(g, GEO).any()


def test_reset_rejects_position_in_wall():
    world = BatchedTwoRoom(1, seed=0)
    with pytest.raises(ValueError, match="wall"):
        world.reset(np.array([[32.0, 40.0]]))


def test_render_colour_argument_keeps_red_by_default():
    pos = np.array([[20.0, 40.0], [45.5, 12.3]], np.float32)
    default = render(pos, GEO)
    np.testing.assert_array_equal(default, render(pos, GEO, color=(1.0, 0.0, 0.0)))
    blue = render(pos, GEO, color=(0.0, 0.0, 1.0))
    np.testing.assert_array_equal(blue, default[..., ::-1])  # grey-scale scene: only the agent changes
    per_agent = render(pos, GEO, color=np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    np.testing.assert_array_equal(per_agent, np.stack([default[0], blue[1]]))


def test_moved_door_moves_the_opening_for_physics_and_pictures_then_restores_it():
    def crosses(y: float) -> bool:  # walk right from the left room at height y: does the agent reach the right room?
        world = BatchedTwoRoom(1)
        world.reset(np.array([[25.0, y]]), np.array([[40.0, y]]))
        for _ in range(20):
            world.step(np.array([[1.0, 0.0]]))
        return bool(room_of(world.pos, GEO)[0] == 1)

    low = 47.0  # 64 px frames: inside a door at [150, 178] of 224 px (42.9 to 50.9), below the usual [10, 18]
    wall_x = int(np.mean(GEO.wall))
    assert crosses(14.0) and not crosses(low)
    with moved_door(150, 178):
        assert Geometry(64).door == pytest.approx((150 * 64 / 224, 178 * 64 / 224))
        assert crosses(low) and not crosses(14.0)
        bg = background(Geometry(64))
        assert bg[int(low), wall_x].max() == 1.0 and bg[14, wall_x].max() == 0.0  # white opening, black wall
    assert GEO.door == pytest.approx((10.0, 18.0))
    with pytest.raises(RuntimeError), moved_door(150, 178):
        raise RuntimeError("an error inside the block")
    assert GEO.door == pytest.approx((10.0, 18.0))  # restored on errors too
    with pytest.raises(ValueError, match="inner area"), moved_door(200, 230):
        pass


def test_two_ways_to_the_true_distance_round_the_wall_agree():
    """path_length (analytic, through the door's centre line) and geodesic_distance (a 1 px grid, 8 neighbours,
    which overestimates straight lines by up to ~8%) measure the same walk."""
    from lewm_mini.world import geodesic_distance, path_length, sample_free_positions

    rng = np.random.default_rng(0)
    for start in sample_free_positions(rng, 4, GEO):
        goals = sample_free_positions(rng, 200, GEO)
        grid, analytic = geodesic_distance(start, goals, GEO), path_length(start[None], goals)
        assert np.all(np.abs(grid - analytic) <= 0.1 * analytic + 2.0)
        assert np.all(grid >= analytic - 1.0)  # the grid never finds a shorter walk


def test_against_wall_is_beside_the_solid_wall_only():
    geo = Geometry(64)
    (x0, x1), (y0, y1) = geo.wall, geo.door
    below = y1 + 5
    pos = np.array([[x0 - 1, below], [x1 + 2, below], [x0 - 1, (y0 + y1) / 2], [x0 - 10, below], [20.0, 20.0]])
    assert against_wall(pos, geo).tolist() == [True, True, False, False, False]
    assert against_wall(pos[None], geo).shape == (1, 5)  # any leading shape
    assert against_wall(pos[3:4], geo, band=11).tolist() == [True]
