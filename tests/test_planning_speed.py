"""The planning-speed benchmark runs and prints its JSON; the patch-token predictor behaves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

from lewm_mini.config import ModelConfig
from lewm_mini.patch_tokens import PatchPredictor, patch_tokens_per_frame
from lewm_mini.rollout import rollout

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_prints_json_with_the_figures():
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "planning_speed.py"), "--profile", "ci", "--repeats",
                        "1", "--samples", "8", "--iterations", "1", "--json"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for key in ("tokens_per_frame", "one_token_seconds", "patch_tokens_seconds", "ratio"):
        assert key in out, key
    assert out["tokens_per_frame"] == 64 and out["one_token_seconds"] > 0 and out["patch_tokens_seconds"] > 0
    assert abs(out["ratio"] - out["patch_tokens_seconds"] / out["one_token_seconds"]) < 1e-9


def test_patch_predictor_shapes_and_frame_causality():
    cfg = ModelConfig(latent=6, proj_hidden=16, pred_width=16, pred_depth=1, pred_heads=2, pred_mlp=32, history=3,
                      frameskip=2, dropout=0.0)
    p = patch_tokens_per_frame(16, 8)
    torch.manual_seed(0)
    pred = PatchPredictor(cfg, p).eval()
    for blk in pred.blocks:  # leave the identity at init: make every block do something
        torch.nn.init.normal_(blk.ada[1].weight, std=0.3)
    z, a = torch.randn(2, 3, p, 6), torch.randn(2, 3, 4)
    with torch.no_grad():
        out = pred(z, a)
        z2 = z.clone()
        z2[:, 2] += 1.0  # change the last frame: earlier frames' outputs must not move
        out2 = pred(z2, a)
        assert out.shape == (2, 3, p, 6)
        torch.testing.assert_close(out[:, :2], out2[:, :2])
        assert not torch.allclose(out[:, 2], out2[:, 2])
        assert rollout(pred, z[:, 0], torch.randn(2, 5, 4), 3).shape == (2, 5, p, 6)
