"""The decoder's figures (chapter 09, section 6), on a profile's cached model.

    python benchmarks/decoder.py --profile cpu --fresh --out lewm_mini/results/decoder_cpu.json

(a) Reconstruction error of held-out frames, and the agent's position read off the decoded frames
    (``decoder.read_position``) against the true one, beside two readers of the latent itself: the
    nearest encoded frame of a 1 px grid (chapter 06) and a linear probe.
(b) Imagined frames: the same readers on the latents of 5-block rollouts of held-out episodes (their
    own actions), error per block.
(c) What the latent leaves out: LeWM and a pixel autoencoder of the same size trained on chapter 02's
    distractor floor (its budget), decoded: how much of the floor texture comes back (R^2 over floor
    pixels) and where the agent is drawn. A control: a decoder trained afterwards on the autoencoder's
    frozen latents, with the settings of LeWM's.

``--fresh`` deletes the cached decoders first, so that their training is timed on this machine (target
for the cpu profile: at most 5 minutes on 2 cores); they stay in the cache for chapter 09.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from lewm_mini.config import cache_dir, get_config, usable_cpus
from lewm_mini.costmap import grid_latents, nearest_grid_position
from lewm_mini.data import frames_to_tensor, held_out_episodes
from lewm_mini.decoder import (DECODER_SIZES, cached_decoder, decode, imagine_along_episodes, read_position, redness,
                               train_decoder, training_frames)
from lewm_mini.distractor import (DISTRACTOR_SIZES, distractor_frames, distractor_key, distractor_models,
                                  distractor_training_frames, floor_r2)
from lewm_mini.notebook import cached_run
from lewm_mini.probe import apply_probe, encode_frames, fit_linear_probe
from lewm_mini.train import load_trained
from lewm_mini.world import Geometry, render


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    except OSError:
        names = []
    return names[0] if names else platform.processor()


def px(err: np.ndarray) -> dict:
    """Median, mean and 90th percentile of position errors in pixels."""
    return {"median": float(np.median(err)), "mean": float(np.mean(err)), "p90": float(np.percentile(err, 90))}


def errors(xy: np.ndarray, true: np.ndarray) -> np.ndarray:
    return np.linalg.norm(xy - true, axis=-1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--n", type=int, default=2000, help="held-out frames for (a)")
    ap.add_argument("--rollouts", type=int, default=1000, help="held-out rollouts for (b)")
    ap.add_argument("--distractor-frames", type=int, default=1000, help="held-out distractor frames for (c)")
    ap.add_argument("--fresh", action="store_true", help="retrain the cached decoders (timed here)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(usable_cpus())
    cfg = get_config(args.profile)
    geo = Geometry(cfg.data.size)
    load = os.getloadavg()
    out = {"machine": f"{cpu_model()}, {usable_cpus()} usable CPUs, torch {torch.__version__}",
           "load_average_at_start": [round(v, 2) for v in load], "profile": cfg.profile, "seconds": {}}
    t_all = time.perf_counter()
    run = cached_run(cfg, progress=False)
    model, stats = run.model.eval(), run.stats
    settings = DECODER_SIZES[cfg.profile]
    path = Path(run.checkpoint).parent / f"decoder-{settings.key()}.pt"
    if args.fresh:
        path.unlink(missing_ok=True)
    decoder = cached_decoder(run, cfg, settings, progress=False)
    out["decoder"] = {"settings": dataclasses.asdict(settings),
                      "training_seconds": load_trained(path, dataclasses.asdict(settings))["seconds"],
                      "trained_here": args.fresh, "parameters": sum(p.numel() for p in decoder.parameters())}
    print(f"decoder training: {out['decoder']['training_seconds']:.0f} s", flush=True)

    # (a) held-out frames
    t = time.perf_counter()
    held = held_out_episodes(cfg.data)
    rng = np.random.default_rng(0)
    e, ts = rng.integers(0, len(held), args.n), rng.integers(0, held.pos.shape[1], args.n)
    frames, true = np.asarray(held.frames[e, ts]), held.pos[e, ts]
    z = encode_frames(model, frames)
    drawn = decode(decoder, z)
    x, x_hat = frames_to_tensor(frames), frames_to_tensor(drawn)
    fit_frames, fit_pos = training_frames(cfg, 4000, seed=1)
    w = fit_linear_probe(encode_frames(model, fit_frames).cpu(), torch.as_tensor(fit_pos))
    grid = grid_latents(model, cfg.data.size)
    mean_frame = frames_to_tensor(fit_frames).mean(0)
    out["a_held_out_frames"] = {
        "n": args.n,
        "mse": float((x_hat - x).pow(2).mean()),
        "mse_of_the_mean_training_frame": float((mean_frame - x).pow(2).mean()),
        "peak_redness_of_the_drawn_agent": float(redness(x_hat).flatten(1).max(1).values.median()),
        "position_error_px": {
            "decoded frame, read from its pixels": px(errors(read_position(drawn), true)),
            "real frame, read from its pixels": px(errors(read_position(frames), true)),
            "nearest grid frame (1 px grid)": px(errors(nearest_grid_position(z, grid), true)),
            "linear probe": px(errors(apply_probe(w, z.cpu()).numpy(), true)),
        },
    }
    out["seconds"]["a"] = time.perf_counter() - t
    print(json.dumps(out["a_held_out_frames"], indent=1), flush=True)

    # (b) imagined rollouts of held-out episodes, 5 blocks
    t = time.perf_counter()
    history = cfg.plan.history or cfg.model.history
    z_im, true_im, _ = imagine_along_episodes(model, stats, held, args.rollouts, blocks=5, history=history, seed=1)
    drawn_im = decode(decoder, z_im)  # (n, 5, H, W, 3)
    z_real = encode_frames(model, render(true_im.reshape(-1, 2), geo))  # the real frames after each block
    readers = {
        "decoded imagined frame": read_position(drawn_im.reshape(-1, *drawn_im.shape[2:])).reshape(true_im.shape),
        "nearest grid frame": nearest_grid_position(z_im, grid),
        "linear probe": apply_probe(w, z_im.reshape(-1, z_im.shape[-1]).cpu()).reshape(true_im.shape).numpy(),
        "decoded real frame (the decoder's own error)": read_position(decode(decoder, z_real)).reshape(true_im.shape),
    }
    out["b_imagined_rollouts"] = {
        "n": args.rollouts, "history": history,
        "median_error_px_per_block": {k: [float(np.median(errors(v, true_im)[:, b])) for b in range(5)]
                                      for k, v in readers.items()},
    }
    out["seconds"]["b"] = time.perf_counter() - t
    print(json.dumps(out["b_imagined_rollouts"], indent=1), flush=True)

    # (c) the distractor floor
    t = time.perf_counter()
    dset = DISTRACTOR_SIZES[cfg.profile]
    dpath = cache_dir() / "models" / f"{cfg.profile}-distractor-{distractor_key(cfg, dset)}.pt"
    if args.fresh:
        dpath.unlink(missing_ok=True)
    models = distractor_models(cfg, dset, progress=False)
    d_seconds = load_trained(dpath, dataclasses.asdict(dset))["seconds"]
    fit_noisy, fit_noisy_pos = distractor_training_frames(cfg, dset)
    t_control = time.perf_counter()
    control, _ = train_decoder(models["autoencoder"], fit_noisy, dset.decoder, progress=False)
    control_seconds = time.perf_counter() - t_control
    rng = np.random.default_rng(3)
    n = args.distractor_frames
    e, ts = rng.integers(0, len(held), n), rng.integers(0, held.pos.shape[1], n)
    pos = held.pos[e, ts]
    noisy = distractor_frames(pos, rng, geo, dset.alpha)
    latents = {k: encode_frames(models[k], noisy) for k in ("lewm", "autoencoder")}
    decoded = {
        "LeWM, decoder trained afterwards": decode(models["decoder"], latents["lewm"]),
        "pixel autoencoder, its own decoder": decode(models["autoencoder"].decoder, latents["autoencoder"]),
        "pixel autoencoder, decoder trained afterwards (control)": decode(control, latents["autoencoder"]),
    }
    probes = {}  # chapter 02's measurement: a linear probe of the position on each latent
    for k in ("lewm", "autoencoder"):
        w_k = fit_linear_probe(encode_frames(models[k], fit_noisy).cpu(), torch.as_tensor(fit_noisy_pos))
        probes[k] = px(errors(apply_probe(w_k, latents[k].cpu()).numpy(), pos))
    out["c_distractor"] = {
        "settings": dataclasses.asdict(dset), "training_seconds": d_seconds,
        "control_decoder_seconds": control_seconds, "n": args.distractor_frames,
        "reader_on_the_originals_px": px(errors(read_position(noisy), pos)),
        "by_model": {k: {"floor_r2": floor_r2(v, noisy, pos, geo),
                         "mse": float((frames_to_tensor(v) - frames_to_tensor(noisy)).pow(2).mean()),
                         "agent_position_error_px": px(errors(read_position(v), pos)),
                         "peak_redness_median": float(redness(frames_to_tensor(v)).flatten(1).max(1).values.median())}
                     for k, v in decoded.items()},
        "linear_probe_of_the_latent_px": probes,
    }
    out["seconds"]["c"] = time.perf_counter() - t
    print(json.dumps(out["c_distractor"], indent=1), flush=True)
    out["seconds"]["total"] = time.perf_counter() - t_all
    out["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
