"""What a latent leaves out: chapter 02's distractor floor, drawn back by decoders.

Chapter 02 gives every frame a fresh random floor texture (a "noisy TV": large, changing, unrelated
to the agent), trains LeWM and a pixel autoencoder of the same size on such frames for the same small
budget, and finds with a probe that LeWM's latent keeps the agent while the autoencoder's keeps the
texture. Here the same two models are trained the same way and then *drawn*: LeWM's frozen latents
through a decoder trained afterwards (``lewm_mini.decoder``), the autoencoder's through its own
decoder. ``floor_r2`` measures how much of the texture comes back, ``decoder.read_position`` where the
agent is drawn.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import Config, cache_dir, pick_device
from .data import ActionStats, ClipSampler, frames_to_tensor, load_or_collect
from .decoder import Decoder, DecoderConfig, PixelAutoEncoder, train_decoder
from .train import load_trained, save_trained
from .jepa import LeWM
from .world import Geometry, background, render, textured_backgrounds


@dataclass
class DistractorConfig:
    """Chapter 02's budget: ``steps`` AdamW steps of ``clips`` clips (4 frames each) for each model,
    then a decoder on LeWM's frozen latents of ``decoder.frames`` distractor frames."""

    steps: int = 300
    clips: int = 32
    lr: float = 1e-3
    alpha: float = 0.3  # texture strength: the floor's brightness varies between 1 - alpha and 1
    episodes: int = 1000  # training episodes used (at most)
    decoder: DecoderConfig = field(default_factory=lambda: DecoderConfig(frames=8000, steps=500))
    seed: int = 0


DISTRACTOR_SIZES = {
    "ci": DistractorConfig(steps=10, clips=4, decoder=DecoderConfig(frames=128, steps=10, batch=16, warmup=2)),
    "cpu": DistractorConfig(),
    "gpu": DistractorConfig(steps=2000, clips=64, decoder=DecoderConfig(frames=20_000, steps=2000)),
}


def distractor_frames(pos: np.ndarray, rng: np.random.Generator, geo: Geometry, alpha: float = 0.3) -> np.ndarray:
    """uint8 frames (..., H, W, 3) of agents at positions (..., 2), each on a fresh random floor texture."""
    flat = pos.reshape(-1, 2)
    frames = render(flat, geo, textured_backgrounds(len(flat), rng, geo, alpha))
    return frames.reshape(*pos.shape[:-1], *frames.shape[1:])


def train_on_distractors(kind: str, cfg: Config, settings: DistractorConfig, device: str | None = None
                         ) -> tuple[nn.Module, list[float]]:
    """Train "lewm" (latent prediction + SIGReg) or "autoencoder" (pixel MSE) on distractor clips.

    Both see the same clips with the same textures (one random stream, seeded alike), as in chapter 02:
    AdamW (lr ``settings.lr``, weight decay 1e-3), gradients clipped at 1. The autoencoder's decoder starts
    from the mean distractor frame, like a decoder trained afterwards. Returns (model in eval mode, losses).
    """
    dev = pick_device(device)
    data = dataclasses.replace(cfg.data, episodes=min(cfg.data.episodes, settings.episodes))
    episodes = load_or_collect(data, "train", progress=False)
    sampler = ClipSampler(episodes, cfg.model.history, cfg.model.frameskip, ActionStats.fit(episodes.actions),
                          seed=settings.seed + 1)
    rng, geo = np.random.default_rng(settings.seed + 1), Geometry(cfg.data.size)
    torch.manual_seed(settings.seed)
    if kind == "lewm":
        model = LeWM(cfg.model, num_proj=cfg.train.num_proj).to(dev)
    else:  # its decoder starts from the mean frame, as a decoder trained afterwards does (train_decoder)
        model = PixelAutoEncoder(cfg.model)
        some = episodes.pos[:, ::10].reshape(-1, 2)[:1000]
        model.decoder.start_from(frames_to_tensor(distractor_frames(some, np.random.default_rng(settings.seed + 3),
                                                                    geo, settings.alpha)))
        model = model.to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=1e-3)
    losses = []
    for _ in range(settings.steps):
        ep, start = sampler.indices(settings.clips)
        pos = episodes.pos[ep[:, None], start[:, None] + sampler.fs * np.arange(sampler.t)]  # (B, T, 2)
        x = frames_to_tensor(distractor_frames(pos, rng, geo, settings.alpha)).to(dev)  # (B, T, 3, H, W)
        if kind == "lewm":
            loss = model.loss(x, sampler.blocks(ep, start).to(dev), lam=cfg.train.lam)["loss"]
        else:
            x = x.flatten(0, 1)
            loss = F.mse_loss(model(x), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return model.eval(), losses


def distractor_key(cfg: Config, settings: DistractorConfig) -> str:
    blob = {"data": dataclasses.asdict(cfg.data), "model": dataclasses.asdict(cfg.model), "lam": cfg.train.lam,
            "num_proj": cfg.train.num_proj, "settings": dataclasses.asdict(settings)}
    return hashlib.sha1(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:10]


def distractor_models(cfg: Config, settings: DistractorConfig | None = None, progress: bool = True
                      ) -> dict[str, nn.Module]:
    """{"lewm", "autoencoder", "decoder"} trained on distractor frames, cached in ``cache_dir()/models``.

    "decoder" draws LeWM's frozen latents; it is trained after LeWM on ``settings.decoder.frames``
    distractor frames of the training episodes. ``settings`` defaults to the profile's
    ``DISTRACTOR_SIZES``. All in eval mode, on the default device.
    """
    settings = settings or DISTRACTOR_SIZES[cfg.profile]
    path = cache_dir() / "models" / f"{cfg.profile}-distractor-{distractor_key(cfg, settings)}.pt"
    dev = pick_device()
    models = {"lewm": LeWM(cfg.model, num_proj=cfg.train.num_proj), "autoencoder": PixelAutoEncoder(cfg.model),
              "decoder": Decoder.for_model(cfg.model)}
    saved = load_trained(path, dataclasses.asdict(settings))
    if saved is not None:
        for name, m in models.items():
            m.load_state_dict(saved["state"][name])
        print(f"distractor models: in the cache ({path.name}, trained in {saved['seconds']:.0f} s): loading them")
        return {name: m.to(dev).eval() for name, m in models.items()}
    t0, losses = time.perf_counter(), {}
    for kind in ("lewm", "autoencoder"):
        models[kind], losses[kind] = train_on_distractors(kind, cfg, settings)
        print(f"distractor models: {kind} trained for {settings.steps} steps ({time.perf_counter() - t0:.0f} s so far)")
    frames, _ = distractor_training_frames(cfg, settings)
    models["decoder"], losses["decoder"] = train_decoder(models["lewm"], frames, settings.decoder, progress)
    seconds = time.perf_counter() - t0
    print(f"distractor models: decoder on LeWM's frozen latents trained; {seconds:.0f} s in all, saved as {path.name}")
    save_trained(path, dataclasses.asdict(settings), models, losses=losses, seconds=seconds)
    return models


def distractor_training_frames(cfg: Config, settings: DistractorConfig) -> tuple[np.ndarray, np.ndarray]:
    """The decoder's training frames: ``settings.decoder.frames`` random frames of the training episodes,
    each on its own texture, uint8 (N, H, W, 3), and the agent's positions (N, 2)."""
    data = dataclasses.replace(cfg.data, episodes=min(cfg.data.episodes, settings.episodes))
    episodes = load_or_collect(data, "train", progress=False)
    rng = np.random.default_rng(settings.seed + 2)
    n = settings.decoder.frames
    pos = episodes.pos[rng.integers(0, len(episodes), n), rng.integers(0, episodes.pos.shape[1], n)]
    return distractor_frames(pos, rng, Geometry(cfg.data.size), settings.alpha), pos


def floor_r2(decoded: np.ndarray, original: np.ndarray, pos: np.ndarray, geo: Geometry) -> float:
    """How much of the floor texture's variance the decoded frames reproduce: R^2 over floor pixels.

    decoded, original: uint8 frames (N, H, W, 3); pos: the agent's positions (N, 2). Floor pixels are
    those the clean background draws white, farther than 4 blob widths from the agent. R^2 = 1 - (squared
    error of the decoded floor) / (squared deviation of the original floor from its mean over the N
    frames, pixel by pixel): 1 draws every texture back, 0 is no better than drawing the average floor.
    """
    d, o = (frames_to_tensor(f).mean(-3).double() for f in (decoded, original))  # grey levels (N, H, W)
    h = o.shape[-1]
    centres = torch.arange(h, dtype=torch.float64) + 0.5
    p = torch.as_tensor(pos, dtype=torch.float64)
    dist2 = (centres[None, None, :] - p[:, 0, None, None]) ** 2 + (centres[None, :, None] - p[:, 1, None, None]) ** 2
    floor = torch.from_numpy(background(geo)[..., 0] == 1.0)  # (H, W)
    mask = (floor[None] & (dist2 > (4 * geo.blob_sigma) ** 2)).double()  # (N, H, W)
    mean = (o * mask).sum(0) / mask.sum(0).clamp_min(1)
    sse = ((d - o) ** 2 * mask).sum()
    sst = ((o - mean) ** 2 * mask).sum()
    return float(1 - sse / sst)
