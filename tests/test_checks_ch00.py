"""Chapter 00 checkers accept the reference answers and reject plausible wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from lewm_mini.checks.answers.ch00 import reference_parse_episode, reference_physics_violations
from lewm_mini.checks.ch00 import (ACT0, DOOR_Y, N_CELLS, WALL_X, check_parse_episode, check_physics_violations,
                                   episode_tokens, grid_constants, two_room_map)


def test_grid_constants_match_the_chapter():
    n, wall_x, door_y = grid_constants()
    assert n == 40 and wall_x.tolist() == [19, 20] and door_y.tolist() == [5, 6, 7, 8, 9]


# ----------------------------------------------------------------------------- exercise 0.1


def parse_offset_actions(tokens):  # action token read as ACT0 + v
    cells, actions = reference_parse_episode(tokens)
    return cells, actions + 1


def parse_xy_swapped(tokens):
    cells, actions = reference_parse_episode(tokens)
    return cells[:, ::-1], actions[:, ::-1]


def parse_no_final_position(tokens):
    cells, actions = reference_parse_episode(tokens)
    return cells[:-1], actions


def parse_actions_from_positions(tokens):  # reads words 0, 1 as actions
    steps = np.asarray(tokens)[:-2].reshape(-1, 4)
    cells = np.concatenate([steps[:, :2], np.asarray(tokens)[-2:][None]])
    return cells, steps[:, :2] - ACT0 - 1


def parse_stride_two(tokens):  # treats the log as x y pairs
    pairs = np.asarray(tokens).reshape(-1, 2)
    return pairs[::2], pairs[1::2][:-1] - ACT0 - 1 if len(pairs) > 1 else np.zeros((0, 2), int)


def parse_swapped_outputs(tokens):
    cells, actions = reference_parse_episode(tokens)
    return actions, cells


def parse_float(tokens):
    cells, actions = reference_parse_episode(tokens)
    return cells.astype(np.float32), actions.astype(np.float32)


PARSE_MUTANTS = [parse_offset_actions, parse_xy_swapped, parse_no_final_position, parse_actions_from_positions,
                 parse_stride_two, parse_swapped_outputs, parse_float]


def test_parse_episode_accepts_reference_and_inverts_the_writer():
    assert check_parse_episode(reference_parse_episode, strict=False)
    rng = np.random.default_rng(0)
    cells, actions = rng.integers(0, N_CELLS, (8, 2)), rng.integers(-1, 2, (7, 2))
    back = reference_parse_episode(episode_tokens(cells, actions))
    assert np.array_equal(back[0], cells) and np.array_equal(back[1], actions)


@pytest.mark.parametrize("mutant", PARSE_MUTANTS, ids=lambda f: f.__name__)
def test_parse_episode_rejects(mutant, capsys):
    assert not check_parse_episode(mutant, strict=False)
    out = capsys.readouterr().out
    assert "FAIL" in out or "raised" in out


# ----------------------------------------------------------------------------- exercise 0.2


def _violations(prev, nxt, blocked, transpose=False, hi_off=0, l2=False, wall_on_prev=False, wrap=False,
                far=True):
    prev, nxt = np.asarray(prev), np.asarray(nxt)
    n = blocked.shape[0]
    outside = ((nxt < 0) | (nxt > n - 1 + hi_off)).any(1)
    if wrap:  # no bounds check at all: negative indices wrap round, too-large ones are clipped to avoid a crash
        outside = np.zeros(len(nxt), bool)
    look = prev if wall_on_prev else nxt
    idx = np.minimum(look, n - 1) if wrap else np.clip(look, 0, n - 1)
    on_wall = (blocked.T if transpose else blocked)[idx[:, 0], idx[:, 1]] & ~outside
    bad = on_wall | outside
    if far:
        bad |= (np.linalg.norm(nxt - prev, axis=1) > 1) if l2 else (np.abs(nxt - prev) > 1).any(1)
    return bad


def two_room_only(prev, nxt, blocked):  # the chapter's rule, copied: ignores the map it is given
    prev, nxt = np.asarray(prev), np.asarray(nxt)
    in_wall = np.isin(nxt[:, 0], WALL_X) & ~np.isin(nxt[:, 1], DOOR_Y)
    return in_wall | ((nxt < 0) | (nxt > N_CELLS - 1)).any(1) | (np.abs(nxt - prev) > 1).any(1)


MUTANTS_02 = {
    "no bounds check (negative indices wrap round)": lambda p, n, b: _violations(p, n, b, wrap=True),
    "blocked read as [y, x]": lambda p, n, b: _violations(p, n, b, transpose=True),
    "upper border allows n": lambda p, n, b: _violations(p, n, b, hi_off=1),
    "diagonals are too far (L2)": lambda p, n, b: _violations(p, n, b, l2=True),
    "checks the wall at prev instead of nxt": lambda p, n, b: _violations(p, n, b, wall_on_prev=True),
    "no speed limit": lambda p, n, b: _violations(p, n, b, far=False),
    "the Two-Room wall whatever the map": two_room_only,
    "returns ints": lambda p, n, b: reference_physics_violations(p, n, b).astype(int),
    "inverted": lambda p, n, b: ~reference_physics_violations(p, n, b),
}


def test_two_room_map_matches_the_chapter():
    blocked = two_room_map()
    assert blocked.shape == (N_CELLS, N_CELLS) and blocked[WALL_X[0], 0] and not blocked[WALL_X[0], DOOR_Y[0]]
    assert blocked.sum() == len(WALL_X) * (N_CELLS - len(DOOR_Y))


def test_physics_violations_accepts_reference():
    assert check_physics_violations(reference_physics_violations, strict=False)


@pytest.mark.parametrize("name", list(MUTANTS_02))
def test_physics_violations_rejects(name, capsys):
    assert not check_physics_violations(MUTANTS_02[name], strict=False)
    assert "FAIL" in capsys.readouterr().out


def test_physics_violations_hint_for_wrapping_indices(capsys):
    check_physics_violations(MUTANTS_02["no bounds check (negative indices wrap round)"], strict=False)
    out = capsys.readouterr().out
    assert "outside the grid" in out


# ----------------------------------------------------------------------------- learner mode and strict mode


def stub(*args):
    raise NotImplementedError("stub")


@pytest.mark.parametrize("check", [check_parse_episode, check_physics_violations])
def test_stub_is_not_implemented_and_never_raises(check, capsys):
    assert not check(stub, strict=False)
    assert "not implemented yet" in capsys.readouterr().out


@pytest.mark.parametrize("check", [check_parse_episode, check_physics_violations])
def test_crash_is_reported(check, capsys):
    assert not check(lambda *a: 1 / 0, strict=False)
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_strict_mode_raises_on_a_wrong_answer():
    with pytest.raises(AssertionError):
        check_physics_violations(MUTANTS_02["blocked read as [y, x]"], strict=True)
    with pytest.raises(AssertionError):
        check_parse_episode(parse_offset_actions, strict=True)
    assert check_parse_episode(reference_parse_episode, strict=True)
    assert check_physics_violations(reference_physics_violations, strict=True)
