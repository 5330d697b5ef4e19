import numpy as np
import pytest
import torch
from scipy import stats

from lewm_mini.checks.ch03 import toy_predictor
from lewm_mini.surprise import (KINDS, frame_difference, roc_auc, roc_curve, surprise, velocity_cosines,
                                voe_episodes)
from lewm_mini.world import Geometry, in_wall, room_of

GEO = Geometry(64)


@pytest.fixture(scope="module")
def voe():
    return voe_episodes(40, blocks=8, seed=3)


def test_voe_versions_share_start_and_differ_only_from_the_event(voe):
    e = voe.event
    assert e == 4 and voe.actions.shape == (40, 40, 2)
    for kind in ("normal",) + KINDS:
        assert voe.frames[kind].shape == (40, 9, 64, 64, 3) and voe.pos[kind].shape == (40, 9, 2)
        np.testing.assert_array_equal(voe.frames[kind][:, : e + 1], voe.frames["normal"][:, : e + 1])
        assert not in_wall(voe.pos[kind], GEO).any()
    assert (voe.frames["wall"][:, e + 1] != voe.frames["normal"][:, e + 1]).any((1, 2, 3)).all()


def test_voe_normal_agent_is_at_the_wall_and_stays_in_its_room(voe):
    p, e = voe.pos["normal"], voe.event
    assert (room_of(p, GEO) == room_of(p[:, :1], GEO)).all()
    gap = np.minimum(np.abs(p[:, e, 0] - GEO.wall[0]), np.abs(p[:, e, 0] - GEO.wall[1]))
    assert (gap < GEO.speed).all()
    assert (p[:, e, 1] > GEO.door[1]).all()  # below the door: the wall is there


def test_voe_events(voe):
    e = voe.event
    crossed = room_of(voe.pos["wall"][:, e + 1], GEO) != room_of(voe.pos["wall"][:, e], GEO)
    assert crossed.all()
    jump = np.linalg.norm(voe.pos["teleport"][:, e + 1] - voe.pos["teleport"][:, e], axis=1)
    assert (jump > 10).all()
    np.testing.assert_array_equal(voe.pos["colour"], voe.pos["normal"])
    blue = voe.frames["colour"][..., 2].astype(int) - voe.frames["colour"][..., 0].astype(int)
    assert (blue[:, e + 1 :].max((2, 3)) > 100).all() and (blue[:, : e + 1].max((2, 3)) <= 0).all()


def test_voe_is_deterministic():
    a, b = voe_episodes(5, seed=1), voe_episodes(5, seed=1)
    for kind in a.frames:
        np.testing.assert_array_equal(a.frames[kind], b.frames[kind])


def test_surprise_is_the_one_step_error_of_the_next_latent():
    pred, cfg = toy_predictor(history=1)
    g = torch.Generator().manual_seed(0)
    z = torch.randn(3, 6, cfg.latent, generator=g)
    blocks = torch.randn(3, 5, cfg.action_dim * cfg.frameskip, generator=g)
    got = surprise(pred, z, blocks)
    with torch.no_grad():
        want = torch.stack([(pred(z[:, t : t + 1], blocks[:, t : t + 1])[:, -1] - z[:, t + 1]).pow(2).mean(-1)
                            for t in range(5)], 1)
    torch.testing.assert_close(got, want)


def test_frame_difference():
    f = np.zeros((2, 3, 4, 4, 3), np.uint8)
    f[:, 1] = 255
    np.testing.assert_allclose(frame_difference(f), [[1.0, 1.0], [1.0, 1.0]])


def test_roc_auc_is_the_mann_whitney_probability():
    rng = np.random.default_rng(0)
    pos, neg = np.round(rng.normal(1, 1, 50), 1), np.round(rng.normal(0, 1, 80), 1)  # with ties
    u = stats.mannwhitneyu(pos, neg).statistic
    assert roc_auc(pos, neg) == pytest.approx(u / (len(pos) * len(neg)))
    assert roc_auc([2, 3], [0, 1]) == 1.0 and roc_auc([0, 1], [2, 3]) == 0.0 and roc_auc([1, 1], [1]) == 0.5
    fpr, tpr = roc_curve(pos, neg)
    assert fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1 and (np.diff(fpr) >= 0).all()


def test_velocity_cosines():
    t = torch.arange(5.0)[None, :, None]
    line = t**2 * torch.tensor([1.0, 2.0])  # straight, accelerating
    assert torch.allclose(velocity_cosines(line), torch.ones(1, 3))
    back_and_forth = torch.tensor([[[0.0], [1.0], [0.0], [1.0]]])
    assert torch.allclose(velocity_cosines(back_and_forth), -torch.ones(1, 2))
