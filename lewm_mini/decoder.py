"""Decoder: draw a latent as a frame, to see what the model keeps and what it imagines.

LeWM never reconstructs pixels: its loss is latent prediction plus SIGReg. To *look* at latents the
paper trains a decoder afterwards, on frozen latents; the decoder never touches the encoder:

    frame (3, 64, 64) --encoder, projector (frozen: eval mode, no gradient)--> z (D,)
    z --decoder--> drawn frame (3, 64, 64) in [0, 1]         loss = MSE(drawn frame, frame)

A decoder can only draw what z holds. Whatever the latent keeps (the agent's position) comes back;
whatever it dropped comes back as its average over the training frames. Decoding the predictor's
imagined latents shows a plan's imagined future as frames.

Also here: ``PixelAutoEncoder``, the same encoder and decoder trained end to end on pixels (a
latent that must keep every pixel, for comparison), ``read_position``, which finds the red agent
in a frame from its pixels, and ``cached_decoder``, which trains a run's decoder once and keeps it
in the run's folder beside the checkpoint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .config import Config, ModelConfig, show_progress
from .data import ActionStats, Episodes, frames_to_tensor, load_or_collect
from .encoder import build_encoder
from .probe import encode_frames
from .projector import Projector
from .train import load_trained, lr_lambda, save_trained
from .world import Geometry


class Decoder(nn.Module):
    """(B, D) latents -> (B, 3, S, S) frames in [0, 1]: the CNN encoder run backwards.

    A linear map to a (C, S / 16, S / 16) grid, then 4x4 transposed convolutions that each double the
    height and width (widths ``channels``, then 3 colours), plus a learned frame ``base`` that holds
    what every frame shares (the static scene: the layers only have to draw what varies), then a sigmoid.
    """

    def __init__(self, latent: int, image_size: int = 64, channels: tuple[int, ...] = (64, 64, 32, 16)):
        super().__init__()
        self.channels, self.grid = channels[0], image_size // 2 ** len(channels)
        self.fc = nn.Linear(latent, channels[0] * self.grid**2)
        layers = []
        for c_in, c_out in zip(channels, [*channels[1:], 3]):
            layers += [nn.GELU(), nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1)]
        self.net = nn.Sequential(*layers)
        self.base = nn.Parameter(torch.zeros(3, image_size, image_size))  # in logits, before the sigmoid

    @classmethod
    def for_model(cls, m: ModelConfig) -> Decoder:
        """The decoder that mirrors a model's CNN widths: (16, 32, 64, 64) -> (64, 64, 32, 16)."""
        return cls(m.latent, m.image_size, tuple(m.channels[::-1]))

    @torch.no_grad()
    def start_from(self, frames: torch.Tensor) -> Decoder:
        """Set ``base`` so that the decoder starts by drawing the mean of frames (N, 3, S, S) in [0, 1]."""
        self.base.copy_(torch.logit(frames.mean(0).clamp(0.01, 0.99)))
        return self

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(self.fc(z).view(-1, self.channels, self.grid, self.grid)) + self.base)


class PixelAutoEncoder(nn.Module):
    """LeWM's encoder and projector to a D-dim latent, then a ``Decoder``, trained end to end on pixels.

    (B, 3, S, S) -> latents (B, D) (``encode``) -> frames (B, 3, S, S) in [0, 1] (``forward``).
    The same sizes as LeWM's encoder and a post-hoc decoder: only the loss differs.
    """

    def __init__(self, m: ModelConfig):
        super().__init__()
        self.cfg = m
        self.encoder = build_encoder(m)
        self.projector = Projector(m.enc_width, m.proj_hidden, m.latent)
        self.decoder = Decoder.for_model(m)

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        return self.projector(self.encoder(frames))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(frames))


# ----------------------------------------------------------------------------- training


@dataclass
class DecoderConfig:
    """How a decoder is trained: ``frames`` random training frames, ``steps`` AdamW steps of ``batch``."""

    frames: int = 12_000
    steps: int = 1000
    batch: int = 128
    lr: float = 2e-3
    warmup: int = 50
    seed: int = 0

    def key(self) -> str:
        """A short hash of the settings: the decoder's file name in the run's folder."""
        return hashlib.sha1(json.dumps(dataclasses.asdict(self), sort_keys=True).encode()).hexdigest()[:10]


DECODER_SIZES = {"ci": DecoderConfig(frames=256, steps=20, batch=32, warmup=5),
                 "cpu": DecoderConfig(),
                 "gpu": DecoderConfig(frames=50_000, steps=4000, batch=256)}


def train_decoder(model: nn.Module, frames: np.ndarray, settings: DecoderConfig,
                  progress: bool = True) -> tuple[Decoder, list[float]]:
    """Fit a ``Decoder`` to the frozen latents of uint8 frames (N, H, W, 3); returns it and the losses.

    The model is only read: it is put in eval mode (the projector's BatchNorm uses its running
    statistics and updates nothing) and every frame is encoded once, without gradients; the decoder
    then trains on (latent, frame) pairs: the mean squared pixel error of its drawings (Exercise 9.4).
    """

    dev = next(model.parameters()).device
    z = encode_frames(model, frames)  # (N, D) on dev, eval mode, no gradient
    torch.manual_seed(settings.seed)  # the decoder's initial weights
    decoder = Decoder.for_model(model.cfg).start_from(frames_to_tensor(frames[:1000])).to(dev)
    opt = torch.optim.AdamW(decoder.parameters(), lr=settings.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(settings.warmup, settings.steps))
    rng = np.random.default_rng(settings.seed)
    losses = []
    for _ in tqdm(range(settings.steps), desc="train decoder", disable=not show_progress(progress)):
        i = rng.integers(0, len(frames), settings.batch)
        loss = F.mse_loss(decoder(z[i]), frames_to_tensor(frames[i]).to(dev))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return decoder.eval(), losses


def training_frames(cfg: Config, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n random frames (n, H, W, 3) uint8 of the cached training episodes, and the agent's positions (n, 2)."""
    episodes = load_or_collect(cfg.data, "train", progress=False)
    rng = np.random.default_rng(seed)
    e, t = rng.integers(0, len(episodes), n), rng.integers(0, episodes.pos.shape[1], n)
    return np.asarray(episodes.frames[e, t]), episodes.pos[e, t]


def cached_decoder(run, cfg: Config, settings: DecoderConfig | None = None, progress: bool = True) -> Decoder:
    """The decoder of a trained run (``cached_run``'s result): loaded from the run's folder, or trained on
    ``settings.frames`` random training frames and saved there as ``decoder-<settings.key()>.pt``.

    ``settings`` defaults to the profile's ``DECODER_SIZES``. Returns the decoder on the model's device, in
    eval mode; it prints whether it loads or trains, and how long training took.
    """
    settings = settings or DECODER_SIZES[cfg.profile]
    path = Path(run.checkpoint).parent / f"decoder-{settings.key()}.pt"
    dev = next(run.model.parameters()).device
    decoder = Decoder.for_model(cfg.model).to(dev)
    saved = load_trained(path, dataclasses.asdict(settings))
    if saved is not None:
        decoder.load_state_dict(saved["state"]["decoder"])
        print(f"decoder: in the cache ({path.name}, trained in {saved['seconds']:.0f} s): loading it")
        return decoder.eval()
    print(f"decoder: not in the cache: training it on {settings.frames} frames for {settings.steps} steps")
    t0 = time.perf_counter()
    frames, _ = training_frames(cfg, settings.frames, settings.seed)
    decoder, losses = train_decoder(run.model, frames, settings, progress)
    seconds = time.perf_counter() - t0
    save_trained(path, dataclasses.asdict(settings), {"decoder": decoder}, losses=losses, seconds=seconds)
    print(f"decoder: trained in {seconds:.0f} s (final loss {np.mean(losses[-20:]):.2e}), saved as {path.name}")
    return decoder


@torch.no_grad()
def decode(decoder: Decoder, z: torch.Tensor, batch: int = 512) -> np.ndarray:
    """Latents (..., D) -> uint8 frames (..., H, W, 3), the decoder's drawing of each."""
    dev = next(decoder.parameters()).device
    flat = z.reshape(-1, z.shape[-1])
    x = torch.cat([decoder(flat[i : i + batch].to(dev)).cpu() for i in range(0, len(flat), batch)])
    frames = (x.movedim(1, -1) * 255 + 0.5).clamp(0, 255).to(torch.uint8).numpy()
    return frames.reshape(*z.shape[:-1], *frames.shape[1:])


# ----------------------------------------------------------------------------- reading a frame


def redness(frames: torch.Tensor) -> torch.Tensor:
    """(..., 3, H, W) in [0, 1] -> (..., H, W): R - (G + B) / 2.

    ``world.render`` blends each pixel towards pure red by the blob's weight w: a grey pixel g becomes
    (g (1 - w) + w, g (1 - w), g (1 - w)), so R - (G + B) / 2 = w on any grey, the white floor, the black
    walls and chapter 02's textured floors alike.
    """
    return frames[..., 0, :, :] - (frames[..., 1, :, :] + frames[..., 2, :, :]) / 2


def read_position(frames: np.ndarray | torch.Tensor, half: int | None = None) -> np.ndarray:
    """Where the red agent is drawn: frames (N, H, W, 3) uint8 or (N, 3, H, W) floats in [0, 1] -> (N, 2) (x, y).

    Find the reddest spot (redness smoothed over 3x3 pixels, so one stray pixel cannot win), then take
    the centroid of the redness within ``half`` pixels of it (default: 4 blob widths, the whole blob).
    On rendered frames this is the agent's position to a few hundredths of a pixel (a little more
    where the image edge cuts the blob); on a decoded frame it is where the decoder drew the agent.
    """
    x = frames_to_tensor(frames) if isinstance(frames, np.ndarray) else frames.detach().float().cpu()
    r = redness(x).clamp_min(0)  # (N, H, W)
    h, w = r.shape[1:]
    peak = F.avg_pool2d(r[:, None], 3, stride=1, padding=1)[:, 0].flatten(1).argmax(1)  # (N,)
    py, px = peak // w, peak % w
    half = half or math.ceil(4 * Geometry(w).blob_sigma)
    ys, xs = torch.arange(h), torch.arange(w)
    near_y = (ys[None, :, None] - py[:, None, None]).abs() <= half  # (N, H, 1)
    near_x = (xs[None, None, :] - px[:, None, None]).abs() <= half  # (N, 1, W)
    r = r * (near_y & near_x)
    total = r.sum((1, 2)).clamp_min(1e-8)
    cx = (r.sum(1) * (xs + 0.5)).sum(1) / total
    cy = (r.sum(2) * (ys + 0.5)).sum(1) / total
    return torch.stack([cx, cy], 1).numpy()


# ----------------------------------------------------------------------------- imagination


@torch.no_grad()
def imagine_along_episodes(model: nn.Module, stats: ActionStats, episodes: Episodes, n: int, blocks: int = 5,
                           history: int | None = None, seed: int = 0) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Imagine n random stretches of recorded episodes with their own actions.

    From a random frame t of a random episode, the model encodes frame t and rolls out the ``blocks``
    action blocks the episode took next. Returns the imagined latents (n, blocks, D), the true
    positions after each block (n, blocks, 2), and the start frames (n, H, W, 3) uint8.
    """
    fs = model.cfg.frameskip
    rng = np.random.default_rng(seed)
    e = rng.integers(0, len(episodes), n)
    t = rng.integers(0, episodes.actions.shape[1] - blocks * fs + 1, n)
    start = np.asarray(episodes.frames[e, t])
    raw = episodes.actions[e[:, None], t[:, None] + np.arange(blocks * fs)]  # (n, blocks * fs, 2)
    dev = next(model.parameters()).device
    z0 = encode_frames(model, start)
    z = model.rollout(z0, torch.from_numpy(stats.block(raw, fs)).to(dev), history)
    true = episodes.pos[e[:, None], t[:, None] + fs * np.arange(1, blocks + 1)]
    return z, true, start
