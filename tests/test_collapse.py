"""Collapse is real and SIGReg prevents it (chapter 04's claim), on the ci profile with fixed seeds.

Two short runs of ``lewm_mini.train.train`` that differ only in lambda: 0 (no regulariser) and the
released 0.09. Measured on this setup (seeds 0, 1, 2; 120 steps; 144 held-out frames):

    run          last pred loss   last train SIGReg (B=16)   held-out total variance
    lambda=0     0.004 - 0.009    6.41 - 6.48 (0.4 B = 6.4)    0.016 - 0.053
    lambda=0.09  0.084 - 0.102    2.25 - 2.34                  4.0 - 5.6

The thresholds below sit between the two groups with a wide margin, so the test fails if the
unregularised run stops collapsing or the regularised one starts to.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from lewm_mini.config import get_config
from lewm_mini.data import held_out_episodes
from lewm_mini.probe import encode_frames
from lewm_mini.train import train

STEPS = 120


def _run(lam: float, out):
    cfg = get_config("ci")
    cfg.train = dataclasses.replace(cfg.train, steps=STEPS, lam=lam, seed=0, checkpoint_every=10_000)
    result = train(cfg, out, resume=False, progress=False)
    ev = held_out_episodes(cfg.data, episodes=16)
    frames = np.asarray(ev.frames[:, :: cfg.model.frameskip]).reshape(-1, *ev.frames.shape[2:])
    z = encode_frames(result.model, frames).cpu()  # eval mode, held-out frames
    last = result.history[-10:]
    return {
        "pred": float(np.mean([h["pred"] for h in last])),
        "sigreg": float(np.mean([h["sigreg"] for h in last])),
        "total_var": float(z.var(dim=0).sum()),
        "batch": cfg.train.batch,
        "finite": bool(torch.isfinite(z).all()),
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("collapse")
    return {"none": _run(0.0, root / "none"), "sigreg": _run(0.09, root / "sigreg")}


def test_without_regulariser_the_latents_collapse(runs):
    r = runs["none"]
    assert r["finite"]
    assert r["pred"] < 0.03, f"the unregularised prediction loss should go to ~0, got {r['pred']:.4f}"
    collapsed = 0.40 * r["batch"]  # SIGReg of a batch of identical latents
    assert r["sigreg"] > 0.85 * collapsed, f"training batch should look collapsed: {r['sigreg']:.2f} vs {collapsed:.2f}"
    assert r["total_var"] < 0.3, f"held-out latents should have (almost) no spread, got {r['total_var']:.4f}"


def test_with_sigreg_the_latents_do_not_collapse(runs):
    r = runs["sigreg"]
    assert r["finite"]
    assert r["sigreg"] < 0.6 * 0.40 * r["batch"], f"SIGReg should keep the batch off collapse, got {r['sigreg']:.2f}"
    assert r["total_var"] > 1.0, f"held-out latents should keep their spread, got {r['total_var']:.4f}"


def test_the_two_runs_are_far_apart(runs):
    assert runs["sigreg"]["total_var"] > 20 * runs["none"]["total_var"]
    assert runs["sigreg"]["pred"] > 3 * runs["none"]["pred"]  # the "better" loss is the collapsed one
