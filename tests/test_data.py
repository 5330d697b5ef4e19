import dataclasses

import numpy as np
import pytest
import torch

from lewm_mini.config import DataConfig
from lewm_mini.data import (ActionStats, ClipSampler, RenderedFrames, collect, config_hash, frames_to_tensor,
                            heuristic_actions, load_or_collect)
from lewm_mini.world import BatchedTwoRoom, Geometry, in_wall, render

CFG = DataConfig(episodes=12, steps=30)


def test_collect_shapes_and_consistency():
    eps = collect(CFG, progress=False)
    assert eps.frames.shape == (12, 31, 64, 64, 3) and eps.frames.dtype == np.uint8
    assert eps.actions.shape == (12, 30, 2) and eps.pos.shape == (12, 31, 2)
    assert np.abs(eps.actions).max() <= 1.0
    assert not in_wall(eps.pos, Geometry(64)).any()
    assert (render(eps.pos[3], Geometry(64)) == eps.frames[3]).all()  # frames show the stored positions


def test_collect_is_seeded():
    a, b = collect(CFG, progress=False), collect(CFG, progress=False)
    c = collect(dataclasses.replace(CFG, seed=1), progress=False)
    assert (a.pos == b.pos).all() and not np.allclose(a.pos, c.pos)


def test_random_policy_and_bad_policy():
    eps = collect(dataclasses.replace(CFG, policy="random"), progress=False)
    assert eps.actions.std() > 0.4
    with pytest.raises(ValueError, match="policy"):
        collect(dataclasses.replace(CFG, policy="nope"), progress=False)


def test_heuristic_heads_for_the_door_first():
    geo = Geometry(64)
    pos = np.array([[10.0, 50.0]], np.float32)  # left room, far below the door
    a = heuristic_actions(pos, np.array([[55.0, 50.0]], np.float32), geo, 0.0, np.random.default_rng(0))
    d = geo.door_center - pos[0]
    assert np.dot(a[0], d / np.linalg.norm(d)) > 0.99


def test_low_noise_heuristic_reaches_more_targets_than_released_noise():
    geo = Geometry(64)
    reach = {}
    for noise in (0.3, 2.0):
        eps = collect(DataConfig(episodes=200, steps=100, noise=noise), progress=False)
        dist = np.linalg.norm(eps.pos[:, 1:] - eps.targets, axis=-1)
        reach[noise] = (dist <= geo.success_radius).any(1).mean()
    assert reach[0.3] > 0.9 and reach[0.3] > reach[2.0]


def test_heuristic_draws_a_new_target_on_arrival():
    eps = collect(DataConfig(episodes=50, steps=100, noise=0.3), progress=False)
    changes = (np.abs(np.diff(eps.targets, axis=1)).sum(-1) > 0).sum(1)
    assert (changes >= 1).mean() > 0.9
    arrived = np.linalg.norm(eps.pos[:, 1:-1] - eps.targets[:, :-1], axis=-1) <= Geometry(64).success_radius
    changed = np.abs(np.diff(eps.targets, axis=1)).sum(-1) > 0
    assert np.array_equal(arrived, changed)


def test_cache_reuses_and_rebuilds(tmp_path, monkeypatch):
    monkeypatch.setenv("LEWM_CACHE", str(tmp_path))
    a = load_or_collect(CFG, progress=False)
    folder = tmp_path / "data" / config_hash(CFG, CFG.seed)
    assert (folder / "pos.npy").exists() and not (folder / "frames.npy").exists()  # positions, not pixels
    b = load_or_collect(CFG, progress=False)
    assert isinstance(b.frames, RenderedFrames) and (np.asarray(b.frames) == np.asarray(a.frames)).all()
    (folder / "actions.npy").write_bytes(b"garbage")  # a corrupt cache file is rebuilt
    c = load_or_collect(CFG, progress=False)
    assert (c.actions == a.actions).all()
    ev = load_or_collect(CFG, "eval", progress=False)  # held-out split: another seed
    assert not np.allclose(ev.pos, a.pos)


def test_action_blocks_round_trip():
    raw = np.random.default_rng(0).uniform(-1, 1, (7, 10, 2)).astype(np.float32)
    stats = ActionStats.fit(raw)
    blocks = stats.block(raw, 5)
    assert blocks.shape == (7, 2, 10)
    assert blocks.reshape(-1, 5, 2).mean((0, 1)) == pytest.approx([0, 0], abs=1e-5)
    assert np.allclose(stats.unblock(blocks, 5), raw, atol=1e-5)
    lo, hi = stats.bounds()
    assert np.allclose(lo * stats.std + stats.mean, -1) and np.allclose(hi * stats.std + stats.mean, 1)
    assert blocks[0, 1, :2] == pytest.approx((raw[0, 5] - stats.mean) / stats.std)


def test_clip_sampler_lines_up_frames_and_actions():
    eps = collect(CFG, progress=False)
    s = ClipSampler(eps, history=3, frameskip=5, seed=0)
    ep, start = np.array([2, 5]), np.array([0, 7])
    frames, actions = s.get(ep, start)
    assert frames.shape == (2, 4, 3, 64, 64) and actions.shape == (2, 4, 10)
    assert torch.equal(frames[1, 2], frames_to_tensor(eps.frames[5, 17]))
    expect = (eps.actions[5, 12:17] - s.stats.mean) / s.stats.std
    assert np.allclose(actions[1, 1].numpy(), expect.reshape(-1))
    with pytest.raises(ValueError, match="too short"):
        ClipSampler(eps, history=10, frameskip=5)


@pytest.mark.parametrize("bad, exc, match", [
    (np.zeros((2, 64, 64, 3), np.float32), TypeError, "uint8"),
    (np.zeros((2, 64, 64), np.uint8), ValueError, "shape"),
    (np.zeros((2, 32, 32, 3), np.uint8), ValueError, "64x64"),
])
def test_frames_to_tensor_rejects_bad_images(bad, exc, match):
    with pytest.raises(exc, match=match):
        frames_to_tensor(bad, 64)


def test_large_sets_are_collected_in_chunks(tmp_path, monkeypatch):
    import lewm_mini.data as data

    monkeypatch.setenv("LEWM_CACHE", str(tmp_path))
    monkeypatch.setattr(data, "CHUNK", 5)
    eps = load_or_collect(DataConfig(episodes=12, steps=10), progress=False)
    assert isinstance(eps.frames, RenderedFrames) and eps.frames.shape == (12, 11, 64, 64, 3)
    assert eps.actions.shape == (12, 10, 2) and eps.targets.shape == (12, 10, 2)
    for i in (0, 6, 11):  # every chunk's frames match its positions
        assert (render(eps.pos[i], Geometry(64)) == eps.frames[i]).all()
    assert not np.allclose(eps.pos[0], eps.pos[5])  # chunks use different seeds


def test_rendered_frames_are_bit_identical_to_frames_rendered_while_collecting():
    """What the cache held before (frames rendered by the world after every step) is what we render now."""
    cfg = DataConfig(episodes=20, steps=30)
    eps = collect(cfg, progress=False)
    world = BatchedTwoRoom(cfg.episodes, cfg.size, seed=cfg.seed)  # replay the stored actions
    stored = [world.render()]
    for t in range(cfg.steps):
        world.step(eps.actions[:, t])
        stored.append(world.render())
    stored = np.stack(stored, axis=1)  # (N, T + 1, H, W, 3), the former frames.npy
    assert np.array_equal(world.pos, eps.pos[:, -1])
    assert np.array_equal(np.asarray(eps.frames), stored)


@pytest.mark.parametrize("key", [
    3, -1, (2, 5), (slice(1, 4), slice(None, None, 5)), (np.array([0, 4, 4]), np.array([1, 2, 30])),
    (np.array([[1], [2]]), np.array([[0, 5, 10]])), (Ellipsis, 0), (1, 2, slice(3, 9), 7), np.arange(20) % 3 == 0,
])
def test_rendered_frames_index_like_the_array(key):
    eps = collect(DataConfig(episodes=20, steps=30), progress=False)
    full = np.asarray(eps.frames)
    assert eps.frames.shape == full.shape and eps.frames.dtype == full.dtype and len(eps.frames) == len(full)
    assert eps.frames.nbytes == full.nbytes
    got = eps.frames[key]
    assert got.dtype == np.uint8 and np.array_equal(got, full[key])


def test_caches_with_a_frames_file_still_load(tmp_path, monkeypatch):
    """Caches written before frames were rendered on demand hold a frames.npy: it is ignored, not needed."""
    monkeypatch.setenv("LEWM_CACHE", str(tmp_path))
    a = load_or_collect(CFG, progress=False)
    folder = tmp_path / "data" / config_hash(CFG, CFG.seed)
    np.save(folder / "frames.npy", np.asarray(a.frames))
    b = load_or_collect(CFG, progress=False)
    assert np.array_equal(b.pos, a.pos) and np.array_equal(b.frames[:, ::7], np.load(folder / "frames.npy")[:, ::7])
