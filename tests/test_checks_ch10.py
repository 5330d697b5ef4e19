"""Chapter 10 checkers accept the reference solutions and reject plausible wrong answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reference import accepts, solutions_of

from lewm_mini.checks.answers.ch10 import STEP_VARIANTS, history_input_reference, momentum_step_reference
from lewm_mini.checks.ch03 import toy_predictor
from lewm_mini.checks.ch10 import HINTS_101, check_history_input, check_momentum_step, door_edges, random_states
from lewm_mini.data import ActionStats
from lewm_mini.momentum import BatchedMomentum, MomentumGeometry, heuristic_forces, momentum_step
from lewm_mini.rollout import rollout
from lewm_mini.world import in_wall

STEM = "10_world_with_momentum"


solution = solutions_of(STEM)


# ----------------------------------------------------------------------------- Exercise 10.1


def learner_step(pos, vel, force, geo, friction="after", cap="norm", move="new", bounce="reflect", reverse="normal",
                 wall="old y", door=True):
    """A learner's step written axis by axis in a loop, with one thing done wrong when asked (the defaults are
    right)."""
    a, f, m = geo.accel, geo.friction, geo.max_speed
    v = {"after": (vel + a * force) * (1 - f), "before": vel * (1 - f) + a * force, "none": vel + a * force,
         "no accel": (vel + force) * (1 - f)}[friction].astype(np.float64)
    pushed = v.copy()
    if cap in ("norm", "always"):
        speed = np.linalg.norm(v, axis=1)
        scale = m / np.maximum(speed, 1e-12)
        if cap == "norm":
            scale = np.where(speed > m, scale, 1.0)
        v *= scale[:, None]
    elif cap == "clip":
        v = np.clip(v, -m, m)
    elif cap == "unguarded":  # v / |v| * min(|v|, max_speed): 0 / 0 for a puck at rest
        speed = np.linalg.norm(v, axis=1, keepdims=True)
        with np.errstate(all="ignore"):
            v = v / speed * np.minimum(speed, m)
    elif cap == "before friction":
        v = (vel + a * force).astype(np.float64)
        speed = np.linalg.norm(v, axis=1)
        v *= np.where(speed > m, m / np.maximum(speed, 1e-12), 1)[:, None] * (1 - f)
    step = {"new": v, "old": vel, "uncapped": pushed}[move]  # "new" is v itself: a bounce before the y move shows
    new = pos.astype(np.float64).copy()

    def flip(hit, axis):
        if reverse == "keep":
            return
        if reverse == "both":
            v[hit] *= -1
        else:
            v[hit, axis] *= -1

    for axis in (0, 1):
        c = new[:, axis] + step[:, axis]
        low, high = c < geo.lo, c > geo.hi
        if bounce == "reflect":
            c = np.where(low, 2 * geo.lo - c, np.where(high, 2 * geo.hi - c, c))
        else:
            c = np.clip(c, geo.lo, geo.hi)
        new[:, axis] = c
        if bounce == "clamp, stop":
            v[low | high, axis] = 0.0
        else:
            flip(low | high, axis)
        if axis == 0 and wall != "none":
            y = pos[:, 1] if wall != "new y" else pos[:, 1] + step[:, 1]
            inside = ((new[:, 0] >= geo.wall[0]) & (new[:, 0] <= geo.wall[1]) if wall == "ignores door"
                      else in_wall(np.stack([new[:, 0], y], 1), geo))
            near, far = (geo.wall[1], geo.wall[0]) if wall == "swapped faces" else geo.wall
            new[:, 0] = np.where(inside, np.where(v[:, 0] > 0, 2 * near - new[:, 0], 2 * far - new[:, 0]), new[:, 0])
            flip(inside, 0)
        if axis == 1 and door:
            new[:, 1], v[:, 1] = door_edges(new[:, 0], new[:, 1], v[:, 1], geo)
    return new, v


def _with(**mistake):
    return lambda pos, vel, force, geo: learner_step(pos, vel, force, geo, **mistake)


def moved_at_once(pos, vel, force, geo):
    """Both axes moved together, the border per component, then one wall test at the new position."""
    v = (vel + geo.accel * force) * (1 - geo.friction)
    speed = np.linalg.norm(v, axis=1, keepdims=True)
    v = v * np.minimum(1.0, geo.max_speed / np.maximum(speed, 1e-12))
    p = pos + v
    out = (p < geo.lo) | (p > geo.hi)
    p = np.where(p < geo.lo, 2 * geo.lo - p, np.where(p > geo.hi, 2 * geo.hi - p, p))
    v = np.where(out, -v, v)
    hit = in_wall(p, geo)
    p[:, 0] = np.where(hit, np.where(v[:, 0] > 0, 2 * geo.wall[0] - p[:, 0], 2 * geo.wall[1] - p[:, 0]), p[:, 0])
    v[:, 0] = np.where(hit, -v[:, 0], v[:, 0])
    y, vy = door_edges(p[:, 0], p[:, 1], v[:, 1], geo)
    return np.stack([p[:, 0], y], 1), np.stack([v[:, 0], vy], 1)


def both_reversed_vectorised(pos, vel, force, geo):
    """Right, except that any bounce reverses the whole velocity (in the output)."""
    p, v = learner_step(pos, vel, force, geo)
    right_v = learner_step(pos, vel, force, geo, reverse="keep")[1]
    bounced = (np.sign(v) != np.sign(right_v)).any(1)
    return p, np.where(bounced[:, None], -right_v, v)


def in_float64(pos, vel, force, geo):
    return solution("momentum_step")(pos.astype(np.float64), vel.astype(np.float64), force.astype(np.float64), geo)


STEP_CORRECT = {
    "the reference solution": lambda: solution("momentum_step"),
    "lewm_mini.momentum.momentum_step": lambda: momentum_step,
    "the reference, in float64": lambda: in_float64,
    "a loop over the axes": lambda: learner_step,
    "returns torch tensors": lambda: lambda *a: tuple(torch.from_numpy(np.asarray(x)) for x in momentum_step(*a)),
}

# each wrong answer, and words its hint must contain
STEP_MUTANTS = {
    "friction applied before the force": (_with(friction="before"), "friction came before the force"),
    "no friction": (_with(friction="none"), "friction"),
    "the force not scaled by accel": (_with(friction="no accel"), "geo.accel"),
    "velocity not capped": (_with(cap="none"), "faster than geo.max_speed"),
    "cap per component (a clip)": (_with(cap="clip"), "each component"),
    "cap before friction": (_with(cap="before friction"), "the cap came before friction"),
    "every puck scaled to max_speed": (_with(cap="always"), "every puck now moves at max_speed"),
    "position updated with the old velocity": (_with(move="old"), "old velocity"),
    "moved with the velocity before the cap": (_with(move="uncapped"), "before the cap"),
    "clamped at the border instead of reflected": (_with(bounce="clamp"), "clamp"),
    "clamped and stopped at the border": (_with(bounce="clamp, stop"), "clamp"),
    "a bounce reverses both components": (_with(reverse="both"), "both components"),
    "any bounce reverses the whole velocity (vectorised)": (both_reversed_vectorised, "both components"),
    "the velocity not reversed at a bounce": (_with(reverse="keep"), "the velocity did not"),
    "no wall": (_with(wall="none"), "went into the wall"),
    "reflected off the far face of the wall": (_with(wall="swapped faces"), "far side of the wall"),
    "own wall test, blind to the door": (_with(wall="ignores door"), "doorway"),
    "the x move tested at the new y": (_with(wall="new y"), "NEW y"),
    "both axes moved at once": (moved_at_once, "NEW y"),
    "door_edges not called": (_with(door=False), "door_edges"),
    "returns (new_vel, new_pos)": (lambda *a: momentum_step(*a)[::-1], "in that order"),
    "returns one array (N, 4)": (lambda *a: np.concatenate(momentum_step(*a), 1), "two arrays"),
    "nan for a puck at rest (speed 0)": (_with(cap="unguarded"), "divides by zero"),
}


@pytest.mark.parametrize("name", STEP_CORRECT)
def test_step_accepts(name):
    assert accepts(check_momentum_step, STEP_CORRECT[name]())


@pytest.mark.parametrize("name", STEP_MUTANTS)
def test_step_rejects_mutant_with_its_hint(name, capsys):
    mutant, words = STEP_MUTANTS[name]
    assert not accepts(check_momentum_step, mutant)
    out = capsys.readouterr().out
    assert "FAIL. Hint:" in out and words in out, out


def test_every_recognised_step_has_a_hint():
    assert set(STEP_VARIANTS) <= set(HINTS_101)


@pytest.mark.parametrize("size,seed", [(64, 0), (64, 1), (224, 2), (96, 3)])
def test_step_reference_is_the_package(size, seed):
    """momentum_step_reference (with the door_edges helper the exercise provides) is the world's own step, on
    states near every wall and on whole episodes of the data's policy."""
    geo = MomentumGeometry(size)
    pos, vel, force = random_states(seed, 3000, geo)
    for got, want in zip(momentum_step_reference(pos, vel, force, geo), momentum_step(pos, vel, force, geo)):
        np.testing.assert_array_equal(got, want)
    world = BatchedMomentum(64, size, seed=seed)
    world.reset()
    rng = np.random.default_rng(seed)
    p, v = world.pos.copy(), world.vel.copy()
    for _ in range(100):
        f = heuristic_forces(world.pos, world.vel, world.goal, geo, 0.5, rng)
        world.step(f)
        p, v = momentum_step_reference(p, v, f, geo)
        np.testing.assert_array_equal(p, world.pos)
        np.testing.assert_array_equal(v, world.vel)


# ----------------------------------------------------------------------------- Exercise 10.2


def _blocks(raw, fs):
    return raw.reshape(raw.shape[0], raw.shape[1] // fs, fs * raw.shape[-1])


def _all_blocks(raw, nxt, fs):
    return torch.cat([_blocks(raw, fs), nxt[:, None]], 1)


def _h(z, history):
    return min(history, z.shape[1])


def reversed_frames(z, raw, nxt, history, fs):
    h = _h(z, history)
    return z[:, -h:].flip(1), _all_blocks(raw, nxt, fs)[:, -h:]


def everything_reversed(z, raw, nxt, history, fs):
    h = _h(z, history)
    return z.flip(1)[:, :h], _all_blocks(raw, nxt, fs).flip(1)[:, :h]


def block_before(z, raw, nxt, history, fs):  # the oldest latent has no block before it: zeros
    h = _h(z, history)
    b = _blocks(raw, fs)
    return z[:, -h:], torch.cat([torch.zeros_like(nxt[:, None]), b], 1)[:, -h:]


def block_before_sliced(z, raw, nxt, history, fs):
    h = _h(z, history)
    return z[:, -h:], _all_blocks(raw, nxt, fs)[:, -h - 1 : -1]


def next_block_first(z, raw, nxt, history, fs):
    h = _h(z, history)
    return z[:, -h:], torch.cat([nxt[:, None], _blocks(raw, fs)], 1)[:, -h:]


def first_h(z, raw, nxt, history, fs):
    h = _h(z, history)
    return z[:, :h], _all_blocks(raw, nxt, fs)[:, :h]


def first_h_latents_only(z, raw, nxt, history, fs):
    h = _h(z, history)
    return z[:, :h], _all_blocks(raw, nxt, fs)[:, -h:]


def dimension_major(z, raw, nxt, history, fs):
    h = _h(z, history)
    b, c, a0 = raw.shape[0], raw.shape[1] // fs, raw.shape[-1]
    blocks = raw.reshape(b, c, fs, a0).transpose(2, 3).reshape(b, c, a0 * fs)
    return z[:, -h:], torch.cat([blocks, nxt[:, None]], 1)[:, -h:]


def transposed_then_cut(z, raw, nxt, history, fs):
    h = _h(z, history)
    b, c = raw.shape[0], raw.shape[1] // fs
    return z[:, -h:], torch.cat([raw.transpose(1, 2).reshape(b, c, -1), nxt[:, None]], 1)[:, -h:]


def past_blocks_only(z, raw, nxt, history, fs):
    h = _h(z, history)
    return z[:, -h:], _blocks(raw, fs)[:, -h:]


def ignores_history(z, raw, nxt, history, fs):
    return z, _all_blocks(raw, nxt, fs)


def leaves_out_now(z, raw, nxt, history, fs):
    h = _h(z, history)
    return z[:, -h - 1 : -1], _all_blocks(raw, nxt, fs)[:, -h:]


def single_steps(z, raw, nxt, history, fs):
    h = _h(z, history)
    steps = torch.cat([raw, nxt.reshape(nxt.shape[0], fs, -1)], 1)
    return z[:, -h:], steps[:, -h * fs :]


def reshape_with_minus_one(z, raw, nxt, history, fs):  # fails with no past: 0 elements, -1 ambiguous
    h = _h(z, history)
    blocks = raw.reshape(raw.shape[0], raw.shape[1] // fs, -1)
    return z[:, -h:], torch.cat([blocks, nxt[:, None]], 1)[:, -h:]


def with_action_stats(z, raw, nxt, history, fs):  # the package's block layout, through numpy
    stats = ActionStats(np.zeros(raw.shape[-1], np.float32), np.ones(raw.shape[-1], np.float32))
    blocks = torch.from_numpy(stats.block(raw.numpy(), fs))
    h = _h(z, history)
    return z[:, -h:].numpy(), torch.cat([blocks, nxt[:, None]], 1)[:, -h:].numpy()


def with_unflatten(z, raw, nxt, history, fs):
    h = min(history, z.shape[1])
    a = torch.cat([raw.unflatten(1, (raw.shape[1] // fs, fs)).flatten(2), nxt.unsqueeze(1)], 1)
    return z[:, z.shape[1] - h :], a[:, a.shape[1] - h :]


HISTORY_CORRECT = {
    "the reference solution": lambda: solution("history_input"),
    "the checker's reference": lambda: history_input_reference,
    "ActionStats.block, returned as numpy": lambda: with_action_stats,
    "unflatten and flatten": lambda: with_unflatten,
}

# each wrong answer, and words its hint must contain
HISTORY_MUTANTS = {
    "frames reversed": (reversed_frames, "reverse order"),
    "frames and blocks reversed": (everything_reversed, "reverse order"),
    "each latent with the block before it (zero-padded)": (block_before, "BEFORE"),
    "each latent with the block before it (sliced)": (block_before_sliced, "next_block"),
    "next_block put first": (next_block_first, "BEFORE"),
    "the first h latents and blocks": (first_h, "FIRST h"),
    "the first h latents": (first_h_latents_only, "FIRST h"),
    "blocks dimension-major (transposed before the reshape)": (dimension_major, "dimension-major"),
    "the whole sequence transposed, then cut": (transposed_then_cut, "transposed"),
    "next_block left out (past blocks only)": (past_blocks_only, "next_block"),
    "history ignored (all C+1 latents)": (ignores_history, "last h"),
    "now left out": (leaves_out_now, "now"),
    "single steps, not blocks": (single_steps, "single steps"),
    "reshape(..., -1) with no past": (reshape_with_minus_one, "frameskip * A0"),
}


@pytest.mark.parametrize("name", HISTORY_CORRECT)
def test_history_accepts(name):
    assert accepts(check_history_input, HISTORY_CORRECT[name]())


@pytest.mark.parametrize("name", HISTORY_MUTANTS)
def test_history_rejects_mutant_with_its_hint(name, capsys):
    mutant, words = HISTORY_MUTANTS[name]
    assert not accepts(check_history_input, mutant)
    out = capsys.readouterr().out
    assert "FAIL. Hint:" in out and words in out, out


@pytest.mark.parametrize("past,history", [(0, 3), (1, 3), (2, 3), (4, 3), (3, 2), (2, 1)])
def test_history_input_is_what_the_rollout_feeds(past, history):
    """The predictor on (z_in, a_in) forecasts what lewm_mini.rollout.rollout forecasts first from the same past,
    with the package's blocks (ActionStats.block) as context_blocks."""
    pred, cfg = toy_predictor(history=3)
    fs, a0, b = cfg.frameskip, cfg.action_dim, 4
    g = torch.Generator().manual_seed(past * 10 + history)
    z = torch.randn(b, past + 1, cfg.latent, generator=g)
    raw = torch.randn(b, past * fs, a0, generator=g)
    nxt = torch.randn(b, a0 * fs, generator=g)
    stats = ActionStats(np.zeros(a0, np.float32), np.ones(a0, np.float32))  # raw is z-scored already
    context_blocks = torch.from_numpy(stats.block(raw.numpy(), fs))
    with torch.no_grad():
        want = rollout(pred, z[:, -1], nxt[:, None], history, context=z[:, :-1], context_blocks=context_blocks)[:, 0]
        for fn in (history_input_reference, solution("history_input")):
            z_in, a_in = fn(z, raw, nxt, history, fs)
            torch.testing.assert_close(pred(z_in, a_in)[:, -1], want)


# ----------------------------------------------------------------------------- both


@pytest.mark.parametrize("check,name", [(check_momentum_step, "momentum_step"),
                                        (check_history_input, "history_input")])
def test_stub_and_strict(check, name, capsys):
    def stub(*args):
        raise NotImplementedError(name)

    assert not accepts(check, stub)
    assert "not implemented" in capsys.readouterr().out
    with pytest.raises(AssertionError):
        check(stub, strict=True)
    assert check(solution(name), strict=True)


@pytest.mark.parametrize("check,mutant", [(check_momentum_step, STEP_MUTANTS["velocity not capped"][0]),
                                          (check_history_input, HISTORY_MUTANTS["frames reversed"][0])])
def test_strict_raises_on_a_wrong_answer(check, mutant):
    with pytest.raises(AssertionError, match="FAIL"):
        check(mutant, strict=True)
