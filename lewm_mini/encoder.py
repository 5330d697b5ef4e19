"""Encoders: one frame (3, H, W) -> one feature vector (width,).

LeWM uses a ViT-Tiny and keeps only the CLS token, so a frame becomes a single token. The paper
also reports a ResNet-18 works about as well (the method is largely encoder-agnostic), so on CPU we
default to a small strided CNN, which is much cheaper at 64x64.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig


class CNNEncoder(nn.Module):
    """Strided 4x4 convolutions (each halves H and W), then a linear map of the flattened grid.

    (N, 3, S, S) -> (N, width). Flattening keeps *where* things are, which is what Two-Room needs.
    """

    def __init__(self, image_size: int, channels: tuple[int, ...], width: int):
        super().__init__()
        layers, c_in = [], 3
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 4, stride=2, padding=1), nn.GELU()]
            c_in = c
        self.conv = nn.Sequential(*layers)
        grid = image_size // 2 ** len(channels)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c_in * grid * grid, width), nn.LayerNorm(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x))


class ViTEncoder(nn.Module):
    """A small Vision Transformer: patches -> tokens, a CLS token, pre-norm blocks, final LayerNorm.

    (N, 3, S, S) -> (N, width), the CLS token's output.
    """

    def __init__(self, image_size: int, patch: int, width: int, depth: int, heads: int):
        super().__init__()
        if image_size % patch:
            raise ValueError(f"image size {image_size} is not a multiple of patch {patch}")
        n_tokens = (image_size // patch) ** 2
        self.patchify = nn.Conv2d(3, width, patch, stride=patch)  # one linear map per patch
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.randn(1, n_tokens + 1, width) * 0.02)
        layer = nn.TransformerEncoderLayer(width, heads, 4 * width, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patchify(x).flatten(2).transpose(1, 2)  # (N, n_tokens, width)
        tokens = torch.cat([self.cls.expand(len(x), -1, -1), tokens], dim=1) + self.pos
        return self.norm(self.blocks(tokens))[:, 0]


def build_encoder(cfg: ModelConfig) -> nn.Module:
    if cfg.encoder == "cnn":
        return CNNEncoder(cfg.image_size, cfg.channels, cfg.enc_width)
    if cfg.encoder == "vit":
        return ViTEncoder(cfg.image_size, cfg.patch, cfg.enc_width, cfg.enc_depth, cfg.enc_heads)
    raise ValueError(f"unknown encoder {cfg.encoder!r}; use 'cnn' or 'vit'")
