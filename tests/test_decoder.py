"""The decoder: shapes, a frozen encoder, a falling loss, the cache, and the pixel reader of positions."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lewm_mini.config import get_config
from lewm_mini.costmap import nearest_grid_position
from lewm_mini.decoder import (Decoder, DecoderConfig, PixelAutoEncoder, cached_decoder, decode,
                               imagine_along_episodes, read_position, train_decoder)
from lewm_mini.distractor import DISTRACTOR_SIZES, distractor_models, floor_r2
from lewm_mini.jepa import LeWM
from lewm_mini.probe import single_thread
from lewm_mini.world import Geometry, background, render, sample_free_positions, textured_backgrounds

@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny convolutions: one thread is faster, and much faster on a busy machine."""
    with single_thread():
        yield


CFG = get_config("ci")
GEO = Geometry(64)
TINY = DecoderConfig(frames=64, steps=4, batch=8, warmup=2)


def frames(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    pos = sample_free_positions(np.random.default_rng(seed), n, GEO)
    return render(pos, GEO), pos


def tiny_model(seed: int = 0) -> LeWM:
    torch.manual_seed(seed)
    return LeWM(CFG.model, num_proj=16).eval()


def test_shapes():
    z = torch.randn(5, CFG.model.latent)
    x = Decoder.for_model(CFG.model)(z)
    assert x.shape == (5, 3, 64, 64) and 0 <= x.min() and x.max() <= 1
    ae = PixelAutoEncoder(CFG.model)
    f = torch.rand(2, 3, 64, 64)
    assert ae.encode(f).shape == (2, CFG.model.latent) and ae(f).shape == f.shape
    assert decode(Decoder.for_model(CFG.model), torch.randn(2, 3, CFG.model.latent)).shape == (2, 3, 64, 64, 3)


def test_the_encoder_gets_no_gradient_and_does_not_change():
    model = tiny_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}  # BatchNorm's running statistics included
    f, _ = frames(64)
    decoder, _ = train_decoder(model, f, TINY, progress=False)
    assert all(p.grad is None for p in model.parameters())
    assert all(p.grad is not None for p in decoder.parameters())
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)


class PixelProjection(torch.nn.Module):
    """A frozen stand-in encoder whose latents vary with the frame (an untrained LeWM's hardly do)."""

    def __init__(self):
        super().__init__()
        self.cfg = CFG.model
        torch.manual_seed(0)
        self.proj = torch.nn.Linear(3 * 64 * 64, CFG.model.latent)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x.flatten(1) - 0.8)


def test_the_loss_falls_on_a_tiny_problem():
    _, pos = frames(16)
    textured = render(pos, GEO, textured_backgrounds(16, np.random.default_rng(0), GEO, alpha=0.5))
    settings = DecoderConfig(frames=16, steps=100, batch=16, lr=1e-2, warmup=5)
    _, losses = train_decoder(PixelProjection(), textured, settings, progress=False)
    assert np.mean(losses[:5]) < 0.015  # it starts from the mean frame, then learns the textures
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:5])


def test_cache_round_trip_and_a_corrupt_file(tmp_path, capsys):
    model = tiny_model()
    run = SimpleNamespace(model=model, checkpoint=tmp_path / "checkpoint.pt")
    first = cached_decoder(run, CFG, TINY, progress=False)
    assert "training it" in capsys.readouterr().out
    (path,) = tmp_path.glob("decoder-*.pt")
    assert path.name == f"decoder-{TINY.key()}.pt"
    second = cached_decoder(run, CFG, TINY, progress=False)
    assert "loading it" in capsys.readouterr().out
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert dataclasses.replace(TINY, steps=5).key() != TINY.key()  # other settings, another file
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="corrupt.*delete it"):
        cached_decoder(run, CFG, TINY, progress=False)


def test_the_position_reader_is_exact_on_rendered_frames():
    f, pos = frames(500, seed=1)
    err = np.linalg.norm(read_position(f) - pos, axis=1)
    assert np.median(err) < 0.01 and err.max() < 0.15  # the most where the image edge cuts the blob
    textured = render(pos, GEO, textured_backgrounds(len(pos), np.random.default_rng(2), GEO))
    assert np.linalg.norm(read_position(textured) - pos, axis=1).max() < 0.15
    from lewm_mini.data import frames_to_tensor

    np.testing.assert_allclose(read_position(frames_to_tensor(f)), read_position(f))


def test_textures_floor_r2_and_the_nearest_grid_reader():
    rng = np.random.default_rng(0)
    bg = textured_backgrounds(20, rng, GEO, alpha=0.3)
    floor = background(GEO)[..., 0] == 1
    assert bg.shape == (20, 64, 64, 3) and bg[:, floor].min() >= 0.7 - 1e-6 and bg[:, ~floor].max() == 0
    _, pos = frames(20)
    textured = render(pos, GEO, bg)
    assert floor_r2(textured, textured, pos, GEO) == pytest.approx(1.0)
    assert floor_r2(render(pos, GEO, np.broadcast_to(bg.mean(0), bg.shape)), textured, pos, GEO) == pytest.approx(
        0.0, abs=0.05)  # the average floor reproduces none of the texture
    grid = (pos, torch.as_tensor(pos))  # latents that are the positions themselves
    np.testing.assert_allclose(nearest_grid_position(torch.as_tensor(pos[:3]) + 0.01, grid), pos[:3])


def test_imagined_rollouts_and_the_filmstrip():
    from lewm_mini.data import ActionStats, load_or_collect
    from lewm_mini.viz import filmstrip

    eps = load_or_collect(CFG.data, "train", progress=False)
    model = tiny_model()
    z, true, start = imagine_along_episodes(model, ActionStats.fit(eps.actions), eps, n=3, blocks=5, history=1)
    assert z.shape == (3, 5, CFG.model.latent) and true.shape == (3, 5, 2) and start.shape == (3, 64, 64, 3)
    fig = filmstrip(decode(Decoder.for_model(CFG.model), z[0]), render(true[0], GEO), title="t")
    assert len(fig.axes) == 10


def test_distractor_models_train_and_load(capsys):
    settings = dataclasses.replace(DISTRACTOR_SIZES["ci"], steps=2, decoder=DecoderConfig(frames=16, steps=2, batch=4))
    first = distractor_models(CFG, settings, progress=False)
    second = distractor_models(CFG, settings, progress=False)
    assert "loading them" in capsys.readouterr().out
    assert set(first) == {"lewm", "autoencoder", "decoder"}
    for name in first:
        for a, b in zip(first[name].state_dict().values(), second[name].state_dict().values()):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
