"""Chapter 00 checkers accept the reference answers and reject plausible wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from lewm_mini.checks.ch00 import (ACT0, DOOR_Y, N_CELLS, WALL_X, check_episode_tokens, check_physics_violations,
                                   grid_constants, reference_episode_tokens, reference_physics_violations)


def test_grid_constants_match_the_chapter():
    n, wall_x, door_y = grid_constants()
    assert n == 40 and wall_x.tolist() == [19, 20] and door_y.tolist() == [5, 6, 7, 8, 9]


# ----------------------------------------------------------------------------- exercise 0.1


def tokens_actions_after_position(cells, actions):  # x0 y0, then x1 y1 ax0 ay0, ...: action after its result
    out = [*cells[0]]
    for t in range(len(actions)):
        out += [*cells[t + 1], *(ACT0 + 1 + actions[t])]
    return np.array(out[:4 * len(actions) + 2])


def tokens_action_shifted(cells, actions):  # each step carries the next step's action
    return reference_episode_tokens(cells, np.roll(actions, -1, axis=0))


def tokens_offset_actions(cells, actions):  # action v as ACT0 + v
    steps = np.concatenate([cells[:-1], ACT0 + actions], axis=1)
    return np.concatenate([steps.reshape(-1), cells[-1]])


def tokens_no_final_position(cells, actions):
    return reference_episode_tokens(cells, actions)[:-2]


def tokens_xy_swapped(cells, actions):
    return reference_episode_tokens(cells[:, ::-1], actions[:, ::-1])


def tokens_action_before_position(cells, actions):  # ax ay x y per step
    steps = np.concatenate([ACT0 + 1 + actions, cells[:-1]], axis=1)
    return np.concatenate([steps.reshape(-1), cells[-1]])


def tokens_float(cells, actions):
    return reference_episode_tokens(cells, actions).astype(np.float32)


def tokens_2d(cells, actions):
    return reference_episode_tokens(cells, actions)[None]


def test_episode_tokens_accepts_reference():
    assert check_episode_tokens(reference_episode_tokens, strict=False)


@pytest.mark.parametrize("mutant", [tokens_actions_after_position, tokens_action_shifted, tokens_offset_actions,
                                    tokens_no_final_position, tokens_xy_swapped, tokens_action_before_position,
                                    tokens_float, tokens_2d])
def test_episode_tokens_rejects(mutant, capsys):
    assert not check_episode_tokens(mutant, strict=False)
    assert "FAIL" in capsys.readouterr().out


# ----------------------------------------------------------------------------- exercise 0.2


def violations_no_door(prev, nxt):  # the whole column is wall
    nxt = np.asarray(nxt)
    wall = np.isin(nxt[:, 0], WALL_X)
    return wall | ((nxt < 0) | (nxt > N_CELLS - 1)).any(1) | (np.abs(nxt - prev) > 1).any(1)


def _violations(prev, nxt, wall_x=WALL_X, door_y=DOOR_Y, hi=N_CELLS - 1, far=True, outside=True, l2=False):
    prev, nxt = np.asarray(prev), np.asarray(nxt)
    bad = np.isin(nxt[:, 0], wall_x) & ~np.isin(nxt[:, 1], door_y)
    if outside:
        bad |= ((nxt < 0) | (nxt > hi)).any(1)
    if far:
        bad |= (np.linalg.norm(nxt - prev, axis=1) > 1) if l2 else (np.abs(nxt - prev) > 1).any(1)
    return bad


MUTANTS_02 = {
    "no door": violations_no_door,
    "wall one column too wide": lambda p, n: _violations(p, n, wall_x=np.array([18, 19, 20])),
    "wall one column": lambda p, n: _violations(p, n, wall_x=np.array([19])),
    "door one row too tall": lambda p, n: _violations(p, n, door_y=np.arange(4, 11)),
    "door one row short": lambda p, n: _violations(p, n, door_y=np.arange(5, 9)),
    "border allows 40": lambda p, n: _violations(p, n, hi=N_CELLS),
    "diagonals are too far (L2)": lambda p, n: _violations(p, n, l2=True),
    "no speed limit": lambda p, n: _violations(p, n, far=False),
    "no border": lambda p, n: _violations(p, n, outside=False),
    "checks prev instead of nxt": lambda p, n: _violations(n, p),
    "returns ints": lambda p, n: reference_physics_violations(p, n).astype(int),
    "inverted": lambda p, n: ~reference_physics_violations(p, n),
}


def test_physics_violations_accepts_reference():
    assert check_physics_violations(reference_physics_violations, strict=False)


@pytest.mark.parametrize("name", list(MUTANTS_02))
def test_physics_violations_rejects(name, capsys):
    assert not check_physics_violations(MUTANTS_02[name], strict=False)
    assert "FAIL" in capsys.readouterr().out


# ----------------------------------------------------------------------------- learner mode and strict mode


def stub(*args):
    raise NotImplementedError("stub")


@pytest.mark.parametrize("check", [check_episode_tokens, check_physics_violations])
def test_stub_is_not_implemented_and_never_raises(check, capsys):
    assert not check(stub, strict=False)
    assert "not implemented yet" in capsys.readouterr().out


@pytest.mark.parametrize("check", [check_episode_tokens, check_physics_violations])
def test_crash_is_reported(check, capsys):
    assert not check(lambda *a: 1 / 0, strict=False)
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_strict_mode_raises_on_a_wrong_answer():
    with pytest.raises(AssertionError):
        check_physics_violations(MUTANTS_02["no door"], strict=True)
    with pytest.raises(AssertionError):
        check_episode_tokens(tokens_offset_actions, strict=True)
    assert check_episode_tokens(reference_episode_tokens, strict=True)
