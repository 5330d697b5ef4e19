"""Chapter 01 checkers accept the reference solutions and reject plausible wrong answers."""

from __future__ import annotations


import numpy as np
import pytest

from reference import load_solution

from lewm_mini.checks.ch01 import check_action_blocks, check_first_success_step, check_heuristic_actions
from lewm_mini.world import room_of



def solution(name: str, stem: str = "01_world_and_data"):
    return load_solution(name, stem)


def accepts(check, fn) -> bool:
    return check(fn, strict=False)


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


def _first(pos, target, radius, op=np.less_equal, never=-1, last=False, offset=0):
    hit = op(np.linalg.norm(pos - target[:, None], axis=-1), radius)
    idx = (hit.shape[1] - 1 - hit[:, ::-1].argmax(1)) if last else hit.argmax(1)
    return np.where(hit.any(1), idx + offset, never)


FIRST_MUTANTS = {
    "strict <": lambda p, t, r: _first(p, t, r, op=np.less),
    "argmax without the never case": lambda p, t, r: np.linalg.norm(p - t[:, None], axis=-1).__le__(r).argmax(1),
    "last hit instead of first": lambda p, t, r: _first(p, t, r, last=True),
    "counts steps from 1": lambda p, t, r: _first(p, t, r, offset=1),
    "number of hits": lambda p, t, r: (np.linalg.norm(p - t[:, None], axis=-1) <= r).sum(1),
    "squared distance against radius": lambda p, t, r: _first(p, t, r ** 0.5),
    "never reached is 0": lambda p, t, r: _first(p, t, r, never=0),
}


def test_first_success_accepts_reference():
    assert accepts(check_first_success_step, solution("first_success_step"))


@pytest.mark.parametrize("name", FIRST_MUTANTS)
def test_first_success_rejects_mutant(name):
    assert not accepts(check_first_success_step, FIRST_MUTANTS[name])


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
