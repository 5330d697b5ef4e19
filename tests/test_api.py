"""The public API: submodules stay reachable, one helper per job."""

import types

import numpy as np
import torch

import lewm_mini
import lewm_mini.cem  # noqa: F401  (modules named like their main function)
import lewm_mini.evaluate  # noqa: F401
from lewm_mini.config import DataConfig, get_config
from lewm_mini.data import collect, held_out_episodes
from lewm_mini.jepa import LeWM
from lewm_mini.probe import encode_frames


def test_a_small_top_level_and_submodules_never_hidden():
    for name in ("train", "evaluate", "cem", "rollout"):
        assert isinstance(getattr(lewm_mini, name), types.ModuleType), name  # a module, not a function of its name
    assert callable(lewm_mini.train.load_model) and isinstance(lewm_mini.evaluate.Planner, type)
    assert set(lewm_mini.__all__) == {"LeWM", "MomentumEnv", "SIGReg", "TwoRoomEnv", "for_world", "get_config",
                                      "load_model"}
    assert all(hasattr(lewm_mini, name) for name in lewm_mini.__all__)
    for alias in ("train_lewm", "evaluate_mpc", "cem_minimize", "rollout_latents"):  # one name for each thing
        assert not hasattr(lewm_mini, alias)
    assert lewm_mini.load_model is lewm_mini.train.load_model and lewm_mini.LeWM is lewm_mini.jepa.LeWM


def test_encode_frames_is_one_function_for_any_leading_shape():
    import lewm_mini.graph
    import lewm_mini.surprise

    assert lewm_mini.graph.encode_frames is encode_frames is lewm_mini.surprise.encode_frames
    torch.manual_seed(0)
    model = LeWM(get_config("ci").model).train()
    frames = np.asarray(collect(DataConfig(episodes=2, steps=4), seed=0, progress=False).frames)  # (2, 5, H, W, 3)
    z_flat = encode_frames(model, frames.reshape(-1, *frames.shape[2:]), batch=3)  # (10, D)
    z = encode_frames(model, frames)  # (2, 5, D)
    assert not model.training and z_flat.shape == (10, model.cfg.latent) and z.shape == (2, 5, model.cfg.latent)
    torch.testing.assert_close(z.reshape(10, -1), z_flat)
    assert not z.requires_grad and not z.is_inference()


def test_held_out_episodes_use_the_evaluation_seed():
    cfg = DataConfig(episodes=3, steps=6)
    small = held_out_episodes(cfg, episodes=2, steps=5)
    np.testing.assert_array_equal(small.pos, collect(DataConfig(episodes=2, steps=5), seed=cfg.eval_seed,
                                                     progress=False).pos)
    other = held_out_episodes(cfg, episodes=2, steps=5, seed=1)
    assert not np.array_equal(small.pos, other.pos)
    train = collect(DataConfig(episodes=2, steps=5), seed=cfg.seed, progress=False)
    assert not np.array_equal(small.pos, train.pos)


def test_frame_sizes_must_agree():
    import pytest

    from lewm_mini.config import Config

    with pytest.raises(ValueError, match="must agree"):
        Config(data=DataConfig(size=32))
