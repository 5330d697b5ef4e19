"""The Momentum world: physics properties, data, history in rollouts and planning, the CLI's --world."""

import dataclasses
import json
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lewm_mini.config import get_config, for_world
from lewm_mini.data import collect, config_hash
from lewm_mini.momentum import ENV_ID, VOE_KINDS, BatchedMomentum, MomentumGeometry, momentum_step, voe_episodes
from lewm_mini.world import in_wall, make_world

GEO = MomentumGeometry(64)
forces_st = arrays(np.float32, (40, 6, 2), elements=st.floats(-1, 1, width=32))


@settings(max_examples=60, deadline=None)
@given(forces=forces_st, seed=st.integers(0, 2**16))
def test_no_puck_inside_the_wall_or_outside_the_border(forces, seed):
    world = BatchedMomentum(6, seed=seed)
    for a in forces:
        pos = world.step(a)
        assert not in_wall(pos, GEO).any()
        assert (pos >= GEO.lo).all() and (pos <= GEO.hi).all()
        assert (world.speed() <= GEO.max_speed + 1e-5).all()


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**16), speed=st.floats(0.0, 1.0))
def test_speed_never_grows_without_a_force(seed, speed):
    world = BatchedMomentum(64, seed=seed)
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, 64)
    world.vel = (np.stack([np.cos(angle), np.sin(angle)], 1) * speed * GEO.max_speed).astype(np.float32)
    for _ in range(60):  # many bounces on the way
        before = world.speed()
        world.step(np.zeros((64, 2), np.float32))
        assert (world.speed() <= before + 1e-6).all()


def test_force_then_friction_then_cap():
    pos, vel = np.array([[20.0, 40.0]], np.float32), np.zeros((1, 2), np.float32)
    _, v = momentum_step(pos, vel, np.array([[1.0, 0.0]], np.float32), GEO)
    assert v[0] == pytest.approx([GEO.accel * (1 - GEO.friction), 0.0])  # friction applies to the new velocity
    for _ in range(30):
        pos, vel = momentum_step(pos, vel, np.array([[1.0, 1.0]], np.float32), GEO)
        pos = np.array([[20.0, 40.0]], np.float32)  # stay in open space
    assert np.linalg.norm(vel) == pytest.approx(GEO.max_speed, rel=1e-5)


@pytest.mark.parametrize("pos, vel, flipped", [
    ((GEO.wall[0] - 0.5, 50.0), (1.0, 0.3), 0),  # the wall's left face, below the door
    ((GEO.wall[1] + 0.5, 50.0), (-1.0, 0.3), 0),  # its right face
    ((GEO.lo + 0.3, 30.0), (-1.0, -0.4), 0),  # the border
    ((20.0, GEO.hi - 0.3), (0.2, 1.0), 1),
    ((sum(GEO.wall) / 2, GEO.door[1] - 0.3), (0.0, 1.0), 1),  # inside the doorway, meeting its lower edge
])
def test_a_bounce_reverses_the_normal_component_only(pos, vel, flipped):
    p, v = np.array([pos], np.float32), np.array([vel], np.float32)
    new_p, new_v = momentum_step(p, v, np.zeros((1, 2), np.float32), GEO)
    want = v[0] * (1 - GEO.friction)
    want[flipped] *= -1
    assert new_v[0] == pytest.approx(want, abs=1e-6)
    assert not in_wall(new_p, GEO).any()


def test_success_means_arrived_and_stopped():
    world = BatchedMomentum(2)
    goal = np.array([[20.0, 40.0], [20.0, 40.0]], np.float32)
    world.reset(goal.copy(), goal)
    world.vel = np.array([[0.0, 0.0], [GEO.max_speed, 0.0]], np.float32)
    assert world.success().tolist() == [True, False]  # on the goal, but the second one is passing through


def test_gymnasium_registration_and_bad_input():
    env = gym.make(ENV_ID)
    obs, info = env.reset(seed=0, options={"start": (20.0, 40.0), "goal": (50.0, 40.0)})
    assert obs.shape == (64, 64, 3) and obs.dtype == np.uint8 and info["vel"].tolist() == [0.0, 0.0]
    for _ in range(3):
        obs, _, _, _, info = env.step(np.array([1.0, 0.0], np.float32))
    assert info["vel"][0] > 0 and info["pos"][0] > 20.0
    with pytest.raises(ValueError, match="NaN"):
        env.step(np.array([np.nan, 0.0], np.float32))
    world = BatchedMomentum(2)
    with pytest.raises(ValueError, match="shape"):
        world.reset(vel=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="unknown world"):
        make_world("ice-rink", 2)


def test_data_records_velocities_and_keeps_two_room_keys():
    cfg = for_world(get_config("ci"), "momentum")
    eps = collect(cfg.data, progress=False)
    assert eps.vel.shape == eps.pos.shape
    step = np.diff(eps.pos, axis=1)  # a move is the new velocity, except where it bounced
    close = np.isclose(step, eps.vel[:, 1:], atol=1e-4).all(-1)
    assert close.mean() > 0.9
    assert collect(get_config("ci").data, progress=False).vel is None
    # adding the world to the config did not change the keys of Two-Room's cached data and runs
    cpu = get_config("cpu")
    door_only = dataclasses.replace(cpu, data=dataclasses.replace(cpu.data, policy="heuristic"))
    assert door_only.run_key() == "b7c797b3c9"
    assert config_hash(door_only.data, 0) == "3446fa444875"
    # nor did the switch of Two-Room's data to "heuristic-straight" change the momentum world's (chapter 10's runs)
    assert cpu.data.policy == "heuristic-straight" and cpu.run_key() == "89ede56d6e"
    assert for_world(cpu, "momentum", history=3).run_key() == "7078011270"
    assert for_world(cpu, "momentum").run_key() != cpu.run_key()


def test_rollout_reads_the_context_it_is_given():
    cfg = get_config("ci").model
    from lewm_mini.jepa import LeWM

    torch.manual_seed(0)
    model = LeWM(cfg, num_proj=8).eval()
    for block in model.predictor.blocks:  # AdaLN-zero starts as the identity: give the actions some effect
        torch.nn.init.normal_(block.ada[1].weight, std=0.1)
    z = torch.randn(4, 3, cfg.latent)
    a = torch.randn(4, 5, cfg.action_dim * cfg.frameskip)
    with torch.no_grad():
        with_past = model.rollout(z[:, -1], a[:, 2:], 3, z[:, :2], a[:, :2])
        alone = model.rollout(z[:, -1], a[:, 2:], 3)
        first = model.predictor(z, a[:, :3])[:, -1]  # the teacher-forced prediction from the same three latents
        assert torch.allclose(with_past[:, 0], first, atol=1e-5)
        assert not torch.allclose(with_past, alone)
        assert torch.allclose(model.rollout(z[:, -1], a[:, 2:], 1, z[:, :2], a[:, :2]),
                              model.rollout(z[:, -1], a[:, 2:], 1))  # history 1 ignores the past


def test_voe_episodes_follow_their_script():
    voe = voe_episodes(20, seed=1)
    e = voe.event
    for kind in VOE_KINDS:
        assert voe.frames[kind].shape == (20, 6, 64, 64, 3)
        speed = np.linalg.norm(voe.vel[kind], axis=-1)
        assert (speed[:, e] > 0.5).all()
    assert (np.linalg.norm(voe.vel["stop"][:, e + 1], axis=-1) == 0).all()
    v_before, v_after = voe.vel["reverse"][:, e], voe.vel["reverse"][:, e + 1]
    assert ((v_before * v_after).sum(-1) < 0).all()  # turned back


def run(*args):
    return subprocess.run([sys.executable, "-m", "lewm_mini", *args], capture_output=True, text=True)


@pytest.mark.slow  # trains a model through the CLI
def test_cli_trains_and_evaluates_in_the_momentum_world(tmp_path):
    r = run("train", "--profile", "ci", "--world", "momentum", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    ckpt = r.stdout.strip().splitlines()[-1]
    r = run("evaluate", "--checkpoint", ckpt, "--episodes", "3", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["world"] == "momentum" and out["planner"] == "cem" and out["cem"]["sum_cost"]
    assert {"success_rate", "random_success_rate", "success_ci95"} <= set(out)
    r = run("evaluate", "--checkpoint", ckpt, "--episodes", "3", "--world", "two-room")
    assert r.returncode == 2 and "trained in the momentum world" in r.stderr
    r = run("evaluate", "--checkpoint", ckpt, "--episodes", "3", "--planner", "distance")
    assert r.returncode == 2 and "--planner" in r.stderr


class RecordingPlanner:
    """A planner stand-in that pushes nowhere and records the history MPC hands it."""

    fs, context_frames, steps_per_solve = 5, 2, 10

    def __init__(self):
        self.seen = []

    def reset(self):
        pass

    def solve(self, frames, goal_frames, past_frames=None, past_actions=None):
        self.seen.append(None if past_frames is None else (past_frames.shape, past_actions.shape))
        return np.zeros((len(frames), 10, 2), np.float32)


def test_mpc_hands_the_past_to_the_planner_only_where_a_frame_is_not_the_state():
    from lewm_mini.evaluate import make_tasks, run_mpc

    cfg = for_world(get_config("ci"), "momentum")
    tasks = make_tasks(cfg, "paper", 3, 0)  # the recorded 10 steps before each start come with the tasks
    planner = RecordingPlanner()
    run_mpc(planner, tasks, 64, progress=False)
    assert planner.seen[0] == ((3, 2, 64, 64, 3), (3, 10, 2))  # two past frames, one block apart, and their actions
    assert all(s == planner.seen[0] for s in planner.seen)
    two_room = make_tasks(get_config("ci"), "paper", 3, 0)
    planner = RecordingPlanner()
    run_mpc(planner, two_room, 64, progress=False)
    assert set(planner.seen) == {None}  # Two-Room: every rollout starts from the current frame
