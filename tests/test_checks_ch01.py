"""Chapter 01 checkers accept the reference solutions and reject plausible wrong answers."""

from __future__ import annotations


import numpy as np
import pytest

from reference import accepts, solutions_of

from lewm_mini.checks.ch01 import check_action_blocks, check_cut_clip, check_heuristic_actions
from lewm_mini.checks.answers.ch01 import cut_clip_reference
from lewm_mini.data import ClipSampler, Episodes
from lewm_mini.world import room_of



solution = solutions_of("01_world_and_data")


# ----------------------------------------------------------------------------- 1.1


def _heuristic(pos, target, geo, noise, rng, band=True, via_door=True, normalise=True, clip=True, variance=False):
    door = geo.door_center
    in_band = (np.abs(pos[:, 0] - door[0]) <= geo.speed) & (pos[:, 1] >= geo.door[0]) & (pos[:, 1] <= geo.door[1])
    other = room_of(pos, geo) != room_of(target, geo)
    use_door = (other & ~in_band) if band else other
    waypoint = np.where(use_door[:, None], door, target) if via_door else target
    d = waypoint - pos
    if normalise:
        d = d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-6)
    a = d + (noise**2 if variance else noise) * rng.standard_normal(d.shape)
    return (np.clip(a, -1, 1) if clip else a).astype(np.float32)


HEURISTIC_MUTANTS = {
    "ignores the door band": lambda *a: _heuristic(*a, band=False),
    "always heads for the target": lambda *a: _heuristic(*a, via_door=False),
    "direction not normalised": lambda *a: _heuristic(*a, normalise=False),
    "no clipping": lambda *a: _heuristic(*a, clip=False),
    "noise used as variance": lambda *a: _heuristic(*a, variance=True),
    "noise ignored": lambda pos, target, geo, noise, rng: _heuristic(pos, target, geo, 0.0, rng),
    "x and y swapped": lambda *a: _heuristic(*a)[:, ::-1],
}


def test_heuristic_accepts_reference():
    assert accepts(check_heuristic_actions, solution("heuristic_actions"))


@pytest.mark.parametrize("name", HEURISTIC_MUTANTS)
def test_heuristic_rejects_mutant(name):
    assert not accepts(check_heuristic_actions, HEURISTIC_MUTANTS[name])


def test_heuristic_stub_and_strict_mode():
    def stub(*args):
        raise NotImplementedError("heuristic_actions")

    assert not accepts(check_heuristic_actions, stub)
    with pytest.raises(AssertionError):
        check_heuristic_actions(HEURISTIC_MUTANTS["no clipping"], strict=True)
    assert check_heuristic_actions(solution("heuristic_actions"), strict=True)


# ----------------------------------------------------------------------------- 1.2


def _clip(frames, actions, start, history, fs, t_off=1, step=None, a_off=0, check=True, lo_ok=True):
    t = history + t_off
    if check and (start < 0 or start + (history + 1) * fs > len(actions) - (0 if lo_ok else 1)):
        raise ValueError("does not fit")
    idx = start + (fs if step is None else step) * np.arange(t)
    a0 = start + a_off
    return frames[idx], actions[a0 : a0 + t * fs].reshape(t, fs, -1)


def _clip_led_to(frames, actions, start, history, fs):  # the block that leads *to* each frame
    f, _ = _clip(frames, actions, start, history, fs)
    a = np.concatenate([np.zeros((fs, 2), actions.dtype), actions])[start : start + (history + 1) * fs]
    return f, a.reshape(history + 1, fs, -1)


CLIP_MUTANTS = {
    "history frames, not history + 1": lambda f, a, s, h, fs: _clip(f, a, s, h, fs, t_off=0),
    "consecutive frames (frameskip ignored)": lambda f, a, s, h, fs: _clip(f, a, s, h, fs, step=1),
    "actions start one step late": lambda f, a, s, h, fs: _clip(f, a, s, h, fs, a_off=1),
    "blocks that lead to each frame": _clip_led_to,
    "no bounds check": lambda f, a, s, h, fs: _clip(f, a, s, h, fs, check=False),
    "rejects the last start that fits": lambda f, a, s, h, fs: _clip(f, a, s, h, fs, lo_ok=False),
    "flat actions (T * fs, 2)": lambda f, a, s, h, fs: (_clip(f, a, s, h, fs)[0],
                                                        _clip(f, a, s, h, fs)[1].reshape(-1, 2)),
}


def test_cut_clip_reference_is_what_clip_sampler_does():
    rng = np.random.default_rng(0)
    n, steps = 3, 30
    eps = Episodes(frames=rng.integers(0, 255, (n, steps + 1, 4, 4, 3), dtype=np.uint8),
                   actions=rng.uniform(-1, 1, (n, steps, 2)).astype(np.float32),
                   pos=np.zeros((n, steps + 1, 2), np.float32), targets=np.zeros((n, steps, 2), np.float32))
    sampler = ClipSampler(eps, history=3, frameskip=5)
    for ep, start in ((0, 0), (2, 7), (1, sampler.max_start)):
        frames, blocks = sampler.get(np.array([ep]), np.array([start]))
        f, a = cut_clip_reference(eps.frames[ep], eps.actions[ep], start, 3, 5)
        assert np.allclose(f / 255.0, frames[0].permute(0, 2, 3, 1).numpy(), atol=1e-6)
        assert np.allclose(sampler.stats.block(a.reshape(-1, 2), 5), blocks[0].numpy(), atol=1e-6)


def test_cut_clip_accepts_reference():
    assert accepts(check_cut_clip, solution("cut_clip"))
    assert check_cut_clip(solution("cut_clip"), strict=True)


@pytest.mark.parametrize("name", CLIP_MUTANTS)
def test_cut_clip_rejects_mutant(name, capsys):
    assert not accepts(check_cut_clip, CLIP_MUTANTS[name])
    assert "FAIL" in capsys.readouterr().out


# ----------------------------------------------------------------------------- 1.3


def _blocks(raw, mean, std, fs):
    z = (raw - mean) / std
    return z.reshape(*z.shape[:-2], z.shape[-2] // fs, fs * 2)


BLOCK_MUTANTS = {
    "not z-scored": lambda raw, mean, std, fs: raw.reshape(*raw.shape[:-2], raw.shape[-2] // fs, 2 * fs),
    "x's then y's": lambda raw, mean, std, fs: np.swapaxes(
        ((raw - mean) / std).reshape(*raw.shape[:-2], raw.shape[-2] // fs, fs, 2), -1, -2
    ).reshape(*raw.shape[:-2], raw.shape[-2] // fs, 2 * fs),
    "divides by the variance": lambda raw, mean, std, fs: _blocks(raw, mean, std**2, fs),
    "forgets the mean": lambda raw, mean, std, fs: _blocks(raw, 0.0, std, fs),
    "forgets the std": lambda raw, mean, std, fs: _blocks(raw, mean, 1.0, fs),
    "flattens the leading dims": lambda raw, mean, std, fs: ((raw - mean) / std).reshape(-1, 2 * fs),
    "mean and std swapped per component": lambda raw, mean, std, fs: _blocks(raw, mean[::-1], std[::-1], fs),
}


def test_action_blocks_accepts_reference():
    assert accepts(check_action_blocks, solution("action_blocks"))


@pytest.mark.parametrize("name", BLOCK_MUTANTS)
def test_action_blocks_rejects_mutant(name):
    assert not accepts(check_action_blocks, BLOCK_MUTANTS[name])
