# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Collapse, and SIGReg: the one regulariser LeWM needs
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/notebooks/04_collapse_and_sigreg.ipynb)
#
# LeWM trains the encoder and the predictor together, on one objective: predict the next latent.
# But the encoder also *produces* the targets. The cheapest way to predict perfectly is to map every
# frame to the same vector. This chapter makes that happen, measures it, and then builds the fix LeWM
# uses, SIGReg, from first principles.
#
# **What you build:** an unregularised run that collapses (and the measurements that show it); the
# historical fixes (stop-gradient with an EMA target, VICReg) and their knobs; SIGReg from
# characteristic functions: the Epps-Pulley test in one dimension, then random projections
# (Cramér-Wold), checked against `lewm_mini.SIGReg`; a collapse lab comparing regularisers and strengths.
#
# **Objectives.** After this chapter you can
# - explain why a JEPA trained end to end collapses, and recognise collapse in a loss curve, an
#   eigenvalue spectrum and a histogram;
# - tell complete collapse (everything shrinks to a point) from dimensional collapse (a few directions
#   survive), and say what each diagnostic (total variance, effective rank) can and cannot see;
# - say what stop-gradient/EMA and VICReg do against collapse and which knobs they add;
# - derive SIGReg: the empirical characteristic function, the Epps-Pulley statistic, the
#   Cramér-Wold projections, and the factor of the batch size.
#
# **Prerequisites:** chapters 02 (encoder, projector) and 03 (predictor); a little probability (mean,
# variance, the Gaussian density).
#
# **Time:** reading about 60 min.
#
# **Compute** (measured by `tools/execute_notebooks.py`, in a fresh kernel): CPU, cpu profile 119 s on 2
# cores of AMD EPYC (torch 2.13.0+cpu, 2026-12-02, reusing what earlier runs left in the cache, machine
# busy: load 2.0).

# %%
import subprocess, sys
REPO_URL = "https://github.com/lewm-mini/lewm-mini"  # set in lewm_mini/notebook.py
if "google.colab" in sys.modules:  # installs lewm_mini only: Colab's CUDA torch stays
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"git+{REPO_URL}"],
                         capture_output=True, text=True)
    if pip.returncode:
        raise SystemExit(f"Could not install lewm_mini from {REPO_URL}:\n{pip.stderr.strip()[-300:]}\n"
                         "Set REPO_URL to a copy you can reach, or upload the repository and "
                         "!pip install -q <its folder>.")
from lewm_mini.notebook import setup
cfg, device = setup(seed=0)

# %% [markdown]
# Where this chapter sits in LeWorldModel: it builds the training loss, the prediction error and
# SIGReg (highlighted), and shows why the second term is needed.

# %%
import matplotlib.pyplot as plt

from lewm_mini.viz import pipeline_figure

pipeline_figure(["sigreg", "mse"])
plt.show()

# %%
import copy
import hashlib
import json
import math
import time
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from lewm_mini.config import cache_dir
from lewm_mini.data import ClipSampler, held_out_episodes, load_or_collect
from lewm_mini.jepa import LeWM
from lewm_mini.notebook import cached_run, expect
from lewm_mini.probe import effective_rank, encode_frames, probe_report
from lewm_mini.sigreg import SIGReg

T0 = time.perf_counter()
plt.rcParams["figure.dpi"] = 90
D, B = cfg.model.latent, cfg.train.batch
print(f"latent D={D}, batch B={B} clips of {cfg.model.history + 1} frames")

# %% [markdown]
# ## 1. Train without any regulariser and watch it collapse
#
# LeWM's loss is `MSE(predicted z_{t+1}, encoder's z_{t+1}) + λ · SIGReg(z)`. Set λ = 0 and nothing
# in the objective asks the latents to carry information: a constant encoder output and a predictor that
# returns that constant give a loss of exactly 0. Gradient descent finds this quickly, because shrinking
# all latents towards one point shrinks every error at once.
#
# We train twice with `lewm_mini.train.train`, same seed, same data, same short schedule as chapter 03:
# once with λ = 0, once with λ = 0.09 (the released value). The SIGReg run is the model chapter 03
# trained, so it is reused from the cache if you ran that chapter.

# %%
STEPS, WARMUP = {"ci": (cfg.train.steps, cfg.train.warmup), "cpu": (200, 20), "gpu": (3000, 300)}[cfg.profile]
cfg_sig = replace(cfg, train=replace(cfg.train, steps=STEPS, warmup=WARMUP))
cfg_none = replace(cfg_sig, train=replace(cfg_sig.train, lam=0.0))


run = cached_run  # lewm_mini.train.train, cached and shared with chapter 03 (same config, same run)


expect(8, 150, 600, cfg.profile)
runs = {"no regulariser (λ=0)": run(cfg_none), f"SIGReg (λ={cfg_sig.train.lam})": run(cfg_sig)}
for name, r in runs.items():
    h = r.history
    print(f"{name:22s} prediction loss: first {h[0]['pred']:.4f}, last {h[-1]['pred']:.6f};  "
          f"SIGReg statistic (measured in both runs): last {h[-1]['sigreg']:.2f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
for name, r in runs.items():
    steps = [h["step"] for h in r.history]
    axes[0].plot(steps, [h["pred"] for h in r.history], label=name)
    axes[1].plot(steps, [h["sigreg"] for h in r.history], label=name)
axes[0].set_yscale("log"), axes[1].set_yscale("log")
axes[0].set_title("prediction loss (the only term when λ = 0)")
axes[1].axhline(0.402 * B, color="tab:red", ls=":", lw=1, label=f"all latents equal (0.402 B = {0.402 * B:.0f})")
axes[1].axhline(1.06, color="k", ls=":", lw=1, label="Gaussian N(0, I) (1.06)")
axes[1].set_title("SIGReg statistic of the training batch")
for ax in axes:
    ax.set_xlabel("step"), ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# The unregularised run's prediction loss heads for zero, the "too good to be true" curve (a loss
# that reaches 0.0000 within an epoch is the classic sign of collapse, not of success). Its SIGReg
# statistic, measured but not optimised, climbs to the value of a batch of identical latents.
#
# What do the latents of held-out frames look like? We encode frames of fresh episodes (another seed)
# and compare the two models.

# %%
fs = cfg.model.frameskip
ev = held_out_episodes(cfg.data, episodes=32)
ev_frames = np.asarray(ev.frames[:, ::fs]).reshape(-1, *ev.frames.shape[2:])  # (N, H, W, 3)
ev_pos = np.asarray(ev.pos[:, ::fs]).reshape(-1, 2)
Z = {name: encode_frames(r.model, ev_frames).cpu() for name, r in runs.items()}  # eval mode, (N, D)
gen = torch.Generator().manual_seed(0)
sig = SIGReg(num_proj=256)


N_HALF = len(ev_frames) // 2  # frames of the first half of the episodes fit the probe, the other half test it


def probe_r(z: torch.Tensor) -> float:
    """Pearson r of a linear probe latent -> agent position, on standardised latents (scale-free)."""
    mu, sd = z[:N_HALF].mean(0), z[:N_HALF].std(0).clamp_min(1e-12)
    zs, y = (z - mu) / sd, torch.as_tensor(ev_pos, dtype=z.dtype)
    return probe_report(zs[:N_HALF], y[:N_HALF], zs[N_HALF:], y[N_HALF:])["r"]


def describe(z: torch.Tensor) -> dict:
    eig = torch.linalg.eigvalsh(torch.cov(z.T)).flip(0).clamp_min(0)
    return {"total variance": float(eig.sum()), "effective rank": effective_rank(z),
            "SIGReg (B=128)": float(sig(z[:128], generator=torch.Generator().manual_seed(0))),
            "probe r": probe_r(z), "eig": eig}


stats = {name: describe(z) for name, z in Z.items()}
stats["N(0, I) sample"] = describe(torch.randn(len(ev_frames), D, generator=gen))
print(f"{len(ev_frames)} held-out frames, D = {D}; probe r: linear probe of the agent position, fitted on the "
      f"frames of {len(ev.frames) // 2} episodes, scored on the other {len(ev.frames) - len(ev.frames) // 2}")
print(f"{'':22s}{'total variance':>16s}{'effective rank':>16s}{'SIGReg (B=128)':>16s}{'probe r':>10s}")
for name, s in stats.items():
    print(f"{name:22s}{s['total variance']:16.4f}{s['effective rank']:16.1f}{s['SIGReg (B=128)']:16.2f}"
          f"{s['probe r']:10.3f}")
for name, r in runs.items():  # how large is the predictor's error compared with the spread of the latents?
    print(f"{name:22s} last prediction loss / variance per latent dimension = "
          f"{r.history[-1]['pred'] / (stats[name]['total variance'] / D):.3f}")

# %%
fig, axes = plt.subplots(1, 4, figsize=(15, 3.4))
for name, s in stats.items():
    style = "k:" if name.startswith("N(0") else "-"
    axes[0].semilogy(s["eig"].numpy(), style, label=name)
    axes[1].semilogy((s["eig"] / s["eig"].sum()).numpy(), style, label=name)
axes[0].set_title("covariance eigenvalues (absolute)")
axes[1].set_title("eigenvalues / their sum (shape only)")
for ax in axes[:2]:
    ax.set_xlabel("index (largest first)"), ax.legend(fontsize=7)
for ax, (name, z) in zip(axes[2:], Z.items()):
    zc = z - z.mean(0)
    _, _, V = torch.linalg.svd(zc, full_matrices=False)
    pc = zc @ V[:2].T
    sc = ax.scatter(pc[:, 0], pc[:, 1], c=ev_pos[:, 0], s=5, cmap="coolwarm")
    ax.set_title(f"{name}\ntop-2 PCs, colour = agent x", fontsize=9)
plt.colorbar(sc, ax=axes[3], fraction=0.05)
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the four panels together:
# - **Absolute spectrum:** the SIGReg run's first 15 or so eigenvalues are of order 1 to 10, like or
#   above the Gaussian reference, and the rest fall off (this short training has not yet spread the
#   latents over all 64 directions); the unregularised run's eigenvalues all sit orders of magnitude
#   lower. That is **complete collapse**: every frame is mapped to (almost) the same point.
# - **Normalised spectrum and effective rank** (exp of the entropy of the normalised singular values,
#   `lewm_mini.probe.effective_rank`; you write it in **Exercise 4.3**)
#   only see the *shape* of the cloud, not its size. The tiny leftover spread of a collapsed model is
#   unstructured noise spread over many directions, so its effective rank is *not* small (in the
#   cpu-profile run that wrote this text: 30.3 collapsed, 29.7 with SIGReg, out of 64; total variance
#   0.0078 against 63.6042). A scale-free diagnostic alone can miss complete collapse: look at the scale too.
# - **Principal components coloured by the agent's x position:** compare how the colours are arranged
#   in the two clouds, and the axes: the collapsed cloud spans about ±0.1, the SIGReg cloud about ±7.
# - **Probe r and the last line of numbers.** Collapse does not mean the encoder became constant: on the
#   stored cpu-profile run a linear probe on the standardised latents still found the agent's position
#   in the collapsed latents (r 0.853, against 0.912 with SIGReg after this short training). What
#   collapse destroys is the model: the predictor's error was larger than the whole spread of the
#   collapsed latents (ratio 1.330), against 3% of it with SIGReg (0.034). A planner comparing predicted
#   latents would be comparing noise.
#
# The other failure, **dimensional collapse**, keeps a non-zero spread but squeezes it into a few
# directions: then the effective rank falls towards 1. You will produce it in the lab (section 4).
#
# **Think.** The predictor also reaches near-zero loss on the collapsed latents. Could a planner use
# this model at all? What would the CEM cost (distance to the goal latent) look like for every
# candidate action sequence?
#
# <details><summary>Answer</summary>
#
# Not usefully. Every frame, the goal included, maps to (almost) the same latent, and the predictor
# returns (almost) that latent whatever the actions. The cost, the distance between the last predicted
# latent and the goal latent, is then nearly the same tiny number for every candidate, and CEM ranks the
# candidates by noise: the agent acts at random.
#
# </details>

# %% [markdown]
# ## 2. The historical fixes and the knobs they add
#
# Joint-embedding methods have fought collapse for years. Each fix works, and each adds
# hyper-parameters that must be tuned together:
#
# | fix | how it prevents collapse | knobs it adds |
# |---|---|---|
# | **stop-gradient + EMA target** (BYOL, I-JEPA, V-JEPA) | targets come from a slowly moving copy of the encoder (exponential moving average of its weights) and carry no gradient, so the encoder cannot move the targets towards its predictions | EMA momentum τ and its schedule, predictor size and learning rate; no objective is minimised by the non-collapsed solution, it works through training dynamics |
# | **VICReg** (variance, invariance, covariance; used by PLDM) | a hinge keeps the std of every latent dimension above γ; a penalty on off-diagonal covariances decorrelates the dimensions | weights of the variance and covariance terms, target γ, ε; PLDM uses seven terms and six weights |
# | **a frozen pretrained encoder** (DINO-WM) | the encoder is not trained, so it cannot collapse | which foundation model; no end-to-end learning; many tokens per frame |
# | **SIGReg** (LeJEPA, LeWM) | the latents must look like samples of N(0, I), which has no collapsed direction | λ (the number of directions and knots barely matter) |
#
# Here are the first two in a few lines each (the lab in section 4 trains with them):

# %%
def vicreg_terms(z: torch.Tensor, gamma: float = 1.0, eps: float = 1e-4) -> tuple[torch.Tensor, torch.Tensor]:
    """VICReg's regularisers for latents (..., D): (variance hinge, covariance penalty)."""
    z = z.reshape(-1, z.shape[-1])
    std = torch.sqrt(z.var(dim=0) + eps)
    variance = F.relu(gamma - std).mean()  # every dimension should have std >= gamma
    zc = z - z.mean(dim=0)
    cov = zc.T @ zc / (len(z) - 1)
    off_diag = cov - torch.diag(torch.diag(cov))
    covariance = off_diag.pow(2).sum() / z.shape[-1]  # dimensions should be decorrelated
    return variance, covariance


@torch.no_grad()
def ema_update(target: torch.nn.Module, online: torch.nn.Module, tau: float) -> None:
    """target <- tau * target + (1 - tau) * online (buffers such as BatchNorm statistics are copied)."""
    for p_t, p_o in zip(target.parameters(), online.parameters()):
        p_t.lerp_(p_o, 1 - tau)
    for b_t, b_o in zip(target.buffers(), online.buffers()):
        b_t.copy_(b_o)


g = torch.Generator().manual_seed(0)
for name, z in (("N(0, I)", torch.randn(256, D, generator=g)), ("collapsed (zeros)", torch.zeros(256, D)),
                ("one direction copied", torch.randn(256, 1, generator=g).expand(256, D))):
    v, c = vicreg_terms(z)
    print(f"{name:22s} variance term {float(v):.3f}   covariance term {float(c):8.3f}")

# %% [markdown]
# The variance term sees complete collapse; only the covariance term sees "every dimension is the same
# number" (dimensional collapse). Drop either and VICReg lets that kind of collapse through, which is
# what PLDM's ablation shows (Two-Rooms success falls from 97% to 13% and 29%).
#
# **Think.** EMA with τ = 0 makes the target the encoder itself, behind a stop-gradient: that is SimSiam,
# which avoids collapse on images with a predictor and no EMA at all. Nothing in its loss forbids
# collapse, so what does it rely on? And what happens with τ = 1?
#
# <details><summary>Answer</summary>
#
# On training dynamics. The collapsed solution minimises SimSiam's loss too; it is avoided because the
# predictor and the stop-gradient change how the encoder is updated (the predictor keeps tracking the
# expected target, and the encoder is never pulled directly towards its own output), and it works only in
# a range of learning rates, weight decay and predictor sizes. With τ = 1 the target never moves: it stays
# the randomly initialised encoder. Nothing can collapse, but the targets are random features that never
# improve, so the online encoder learns to predict the dynamics of a fixed random representation.
#
# </details>

# %% [markdown]
# ## 3. SIGReg, built from characteristic functions
#
# SIGReg asks one question of a batch of latents: *could these be samples of N(0, I)?* It answers with
# a classical statistical test, in two steps: a test for one-dimensional samples, then a way to reduce D
# dimensions to many one-dimensional problems.
#
# **Why an isotropic Gaussian, and not just "spread out"?** Think of what the latents are used for.
# The planner (chapter 06) scores a plan by the squared Euclidean distance between the last predicted
# latent and the goal's latent, and a Euclidean distance weighs every direction the same. If the cloud
# of latents were stretched along a few directions and squashed along the others, the cost would mostly
# measure the stretched directions; whatever the squashed ones encode (say, the agent's height in the
# room) would barely count, and a direction with no variance carries nothing at all. In an isotropic
# cloud every direction has the same scale, none dominates the distance and none is wasted, so "close
# in latent space" means "similar in every way the encoder has learned". LeJEPA (Balestriero and LeCun,
# 2025) turns this intuition into a theorem about downstream use: with anisotropic embeddings, a linear
# probe trained on them has a larger bias (along the squashed directions, the classes or values it must
# separate are crammed together) and a larger variance (along the stretched ones, noise is amplified),
# and since we do not know in advance which directions a task will need, the distribution that
# minimises the worst case treats them all alike; among such distributions the isotropic Gaussian is
# the optimum, also for nearest-neighbour and kernel probes. SIGReg is the cheap way to push the latents
# there.
#
# ### 3.1 Characteristic functions
# The **characteristic function** of a random variable $X$ is $\varphi_X(t) = \mathbb{E}[e^{itX}] =
# \mathbb{E}[\cos tX] + i\,\mathbb{E}[\sin tX]$. It exists for every distribution, is bounded by 1 and
# determines the distribution. For $\mathcal{N}(0, 1)$ it is $e^{-t^2/2}$ (real, since the density is
# symmetric). From samples $x_1, \dots, x_N$ we estimate it by the **empirical characteristic function**
# $\hat\varphi(t) = \frac1N\sum_n \cos t x_n + i\,\frac1N \sum_n \sin t x_n$: just two averages.

# %%
N1 = 256
g = torch.Generator().manual_seed(0)
samples = {
    "Gaussian N(0, 1)": torch.randn(N1, generator=g),
    "uniform, variance 1": (torch.rand(N1, generator=g) - 0.5) * math.sqrt(12),
    "Gaussian, std 0.3": 0.3 * torch.randn(N1, generator=g),
    "Gaussian, mean 1": torch.randn(N1, generator=g) + 1.0,
    "collapsed (all 0.5)": torch.full((N1,), 0.5),
}
tt = torch.linspace(0, 5, 200)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
for name, x in samples.items():
    axes[0].plot(tt, torch.cos(tt[:, None] * x).mean(1), label=name)
    axes[1].plot(tt, torch.sin(tt[:, None] * x).mean(1), label=name)
axes[0].plot(tt, torch.exp(-tt**2 / 2), "k--", lw=2, label="exp(-t²/2), N(0, 1)")
axes[1].axhline(0, color="k", ls="--", lw=2)
axes[0].set_title("real part: mean cos(t x)"), axes[1].set_title("imaginary part: mean sin(t x)")
for ax in axes:
    ax.axvspan(0, 3, color="0.9", zorder=-1), ax.set_xlabel("t")
axes[0].legend(fontsize=7)
plt.tight_layout()
plt.show()

# %% [markdown]
# Only the Gaussian sample follows the dashed curves. A shift shows in the imaginary part, a scale in
# how fast the real part decays, and a collapsed sample never decays at all ($|\hat\varphi(t)| = 1$ for
# every $t$). The grey band $[0, 3]$ is where SIGReg looks: beyond it $e^{-t^2/2}$ is below 0.011.
#
# ### 3.2 The Epps-Pulley statistic (one dimension)
# Epps and Pulley (1983) measure the squared distance between the two functions, weighted by
# $w(t) = e^{-t^2/2}$ so that small $t$ (the bulk of the distribution) counts most:
#
# $$\mathrm{EP} = N \int_{-\infty}^{\infty} \big|\hat\varphi(t) - e^{-t^2/2}\big|^2\, w(t)\,dt
#   = N \int \Big[\big(\overline{\cos tx} - e^{-t^2/2}\big)^2 + \big(\overline{\sin tx}\big)^2\Big] w(t)\,dt.$$
#
# The integrand is even in $t$, so we integrate over $[0, 3]$ and double, with the trapezoid rule on 17
# evenly spaced knots: weights $\Delta t$ at the two ends and $2\Delta t$ inside (the trapezoid's
# $\Delta t$ for inner knots, doubled for the mirrored half), times $w(t_k)$. The factor $N$ makes it a
# test statistic: for Gaussian samples the integral shrinks like $1/N$ (sampling noise), so $N$ times it
# stays about constant, $\sqrt{2\pi} - \sqrt{2\pi/3} \approx 1.06$, while for any other distribution it
# grows with $N$. **Exercise 4.1** computes the same integral exactly, without knots, as a double sum
# over the samples.

# %%
KNOTS, T_MAX = 17, 3.0
t_k = torch.linspace(0, T_MAX, KNOTS)
dt = T_MAX / (KNOTS - 1)
w_k = torch.full((KNOTS,), 2 * dt)
w_k[[0, -1]] = dt
w_k = w_k * torch.exp(-t_k**2 / 2)  # quadrature weight times w(t)


def epps_pulley(x: torch.Tensor) -> torch.Tensor:
    """Epps-Pulley statistic of samples x (..., N) against N(0, 1); the test runs over the last dimension."""
    tx = x.unsqueeze(-1) * t_k  # (..., N, K)
    err = (torch.cos(tx).mean(-2) - torch.exp(-t_k**2 / 2)) ** 2 + torch.sin(tx).mean(-2) ** 2
    return (err * w_k).sum(-1) * x.shape[-1]


print(f"{'sample':24s}{'EP, N=64':>10s}{'EP, N=256':>11s}{'EP, N=1024':>12s}")
for name in samples:
    vals = []
    for n in (64, 256, 1024):
        gg = torch.Generator().manual_seed(1)
        x = {"Gaussian N(0, 1)": torch.randn(n, generator=gg),
             "uniform, variance 1": (torch.rand(n, generator=gg) - 0.5) * math.sqrt(12),
             "Gaussian, std 0.3": 0.3 * torch.randn(n, generator=gg),
             "Gaussian, mean 1": torch.randn(n, generator=gg) + 1.0,
             "collapsed (all 0.5)": torch.full((n,), 0.5)}[name]
        vals.append(float(epps_pulley(x)))
    print(f"{name:24s}{vals[0]:10.2f}{vals[1]:11.2f}{vals[2]:12.2f}")

# %%
ns = [16, 32, 64, 128, 256, 512, 1024]
plt.figure(figsize=(6.5, 3.4))
for name, make in (("Gaussian N(0, 1)", lambda n, gg: torch.randn(n, generator=gg)),
                   ("uniform, variance 1", lambda n, gg: (torch.rand(n, generator=gg) - 0.5) * math.sqrt(12)),
                   ("Gaussian, std 0.3", lambda n, gg: 0.3 * torch.randn(n, generator=gg)),
                   ("collapsed (all 0)", lambda n, gg: torch.zeros(n))):
    means = [np.mean([float(epps_pulley(make(n, torch.Generator().manual_seed(s)))) for s in range(20)]) for n in ns]
    plt.loglog(ns, means, "o-", label=name)
plt.axhline(math.sqrt(2 * math.pi) - math.sqrt(2 * math.pi / 3), color="k", ls=":", label="1.06")
plt.xlabel("number of samples N"), plt.ylabel("Epps-Pulley (mean of 20 draws)")
plt.title("A test statistic: flat for the null, growing with N otherwise")
plt.legend(fontsize=8)
plt.show()

# %% [markdown]
# This is why SIGReg multiplies by the batch size: a collapsed batch scores $0.402\,B$ with our 17 knots
# (the exact integral gives $0.409\,B$), so **the
# strength of the collapse penalty grows with B**, and changing the batch size changes the effective
# strength of λ.
#
# ### 3.3 Many dimensions: random projections (Cramér-Wold)
# A test in D dimensions needs an idea. The **Cramér-Wold theorem**: the distribution of a random
# vector is determined by the distributions of all its one-dimensional projections $u^\top z$. And
# $z \sim \mathcal{N}(0, I)$ exactly when $u^\top z \sim \mathcal{N}(0, 1)$ for every unit vector $u$.
# So: draw M random unit directions (Gaussian vectors, normalised), project the batch on each, run
# Epps-Pulley on each projection, and average. That is **SIGReg** (sketched isotropic Gaussian
# regularisation); the directions are drawn afresh at every call, so over training every direction gets
# tested. **Exercise 4.2** computes it the way several GPUs must, from per-GPU sums of cos and sin.
#
# Why random directions and not just the D coordinate axes? Here is a 2-D distribution whose two
# coordinates are each exactly N(0, 1) but which is far from N(0, I): $z = (x, s\,x)$ with a random sign
# $s$, two crossing lines.

# %%
def sigreg(z: torch.Tensor, num_proj: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """SIGReg of embeddings (T, B, D) or (B, D): Epps-Pulley on num_proj random unit directions, averaged."""
    z = z.unsqueeze(0) if z.ndim == 2 else z
    u = torch.randn(z.shape[-1], num_proj, generator=generator)
    u = u / u.norm(dim=0, keepdim=True)  # unit directions, one per column
    x = z @ u  # (T, B, M): every sample projected on every direction
    return epps_pulley(x.transpose(1, 2)).mean()  # the test runs over the batch: (T, M, B) -> (T, M) -> mean


g = torch.Generator().manual_seed(0)
xx = torch.randn(512, generator=g)
cross = torch.stack([xx, torch.where(torch.rand(512, generator=g) < 0.5, -1.0, 1.0) * xx], 1)
gauss2 = torch.randn(512, 2, generator=g)
axis_dirs = torch.eye(2)
for name, z in (("N(0, I)", gauss2), ("crossing lines", cross)):
    on_axes = float(epps_pulley((z @ axis_dirs).T).mean())
    print(f"{name:16s} Epps-Pulley on the 2 axes: {on_axes:6.2f}   SIGReg, 256 random directions: "
          f"{float(sigreg(z, 256, torch.Generator().manual_seed(1))):6.2f}")

fig, axes = plt.subplots(1, 3, figsize=(11, 3.3))
axes[0].scatter(*cross.T, s=3)
axes[0].set_title("crossing lines: both marginals N(0, 1)")
axes[0].set_aspect("equal")
bins = np.linspace(-4, 4, 41)
gauss_pdf = np.exp(-bins**2 / 2) / math.sqrt(2 * math.pi)
axes[1].hist(cross[:, 0], bins=bins, density=True, alpha=0.7)
axes[1].plot(bins, gauss_pdf, "k--")
axes[1].set_title("projection on an axis: Gaussian")
u45 = torch.tensor([1.0, 1.0]) / math.sqrt(2)
axes[2].hist(cross @ u45, bins=bins, density=True, alpha=0.7, color="tab:orange")
axes[2].plot(bins, gauss_pdf, "k--")
axes[2].set_title("projection on the diagonal: not Gaussian")
plt.tight_layout()
plt.show()

# %% [markdown]
# Testing the axes only would declare the crossing lines Gaussian; random directions catch it.
# (In D dimensions there are far more directions than axes, and dimensional collapse hides precisely in
# directions that are not axes.)
#
# The sanity values LeWM's authors give for D = 192 and B = 128, computed with our inline `sigreg`:

# %%
g = torch.Generator().manual_seed(0)
z_gauss = torch.randn(128, 192, generator=g)
# a 2-D Gaussian inside 192-D with the same total variance as N(0, I): variance 96 along 2 orthonormal directions
z_rank2 = torch.randn(128, 2, generator=g) @ torch.linalg.qr(torch.randn(192, 2, generator=g))[0].T * math.sqrt(96)
sanity = {"N(0, I)": z_gauss, "rank 2 inside 192-d": z_rank2, "all zero (collapsed)": torch.zeros(128, 192)}
for name, z in sanity.items():
    print(f"{name:22s} SIGReg = {float(sigreg(z, 1024, torch.Generator().manual_seed(1))):6.2f}")
print("expected: about 1.06, about 14, and 0.402 x 128 = 51.5 (17 knots)")

# %% [markdown]
# **Think.** SIGReg is computed per time step of the clip and averaged (input shape (T, B, D)). Why not
# pool the T·B latents of a batch into one test? (Hint: are latents of consecutive frames of one clip
# independent samples?)
#
# <details><summary>Answer</summary>
#
# No: the T latents of one clip are frames a few steps apart, nearly copies of each other. Pooled, the
# batch would hold groups of near-duplicates; the statistic would treat them as T·B independent samples
# (its factor N too large), and it would test a mixture of the T time steps' distributions instead of each
# one. Per time step, each test runs on B frames from B different clips, close to independent samples.
#
# </details>

# %% [markdown]
# ## 4. The collapse lab
#
# Now train the same small model with each regulariser and a few strengths λ, and compare the held-out
# latents: effective rank, total variance, a probe of the agent's position, and histograms of
# projections on random directions against N(0, 1). Each lab run is short (a few seconds to a few tens of seconds); all of them are computed
# once here and cached, so the widget below is instant.
#
# | choice | loss |
# |---|---|
# | none | MSE(pred, z) |
# | SIGReg | MSE + λ · SIGReg(z) |
# | VICReg | MSE + λ · (25 · variance + covariance) (VICReg's own 25 : 1 ratio) |
# | VICReg, variance only | MSE + λ · 25 · variance |
# | EMA + stop-grad | MSE(pred, EMA-encoder(z)), τ = 0.99, no λ |

# %%
LAB_STEPS, LAB_BATCH = {"ci": (20, 16), "cpu": (80, 32), "gpu": (300, 128)}[cfg.profile]
LAMBDAS = (0.01, 0.09, 0.5)
LAB = [("none", 0.0)] + [(r, lam) for r in ("SIGReg", "VICReg") for lam in LAMBDAS] + [
    ("VICReg, variance only", 0.09), ("EMA + stop-grad", 0.0)]
train_eps = load_or_collect(cfg.data, "train", progress=False)


def lab_run(reg: str, lam: float, seed: int = 0) -> dict:
    """A short training run with one regulariser; returns losses and held-out latents."""
    torch.manual_seed(seed)
    model = LeWM(cfg.model, num_proj=cfg.train.num_proj).to(device)
    target = copy.deepcopy(model).requires_grad_(False) if reg == "EMA + stop-grad" else None
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.train.lr, weight_decay=cfg.train.weight_decay)
    sampler = ClipSampler(train_eps, cfg.model.history, fs, seed=seed)
    gen = torch.Generator(device=device).manual_seed(seed + 1)
    warm = max(1, LAB_STEPS // 5)
    model.train()
    losses = []
    for step in range(LAB_STEPS):
        for group in opt.param_groups:
            group["lr"] = cfg.train.lr * min(1.0, (step + 1) / warm)
        frames, actions = (x.to(device) for x in sampler.sample(LAB_BATCH))
        z = model.encode(frames)
        pred = model.predict(z[:, :-1], actions[:, :-1])
        if target is not None:
            with torch.no_grad():
                z_target = target.encode(frames)
            loss = pred_loss = F.mse_loss(pred, z_target[:, 1:])
        else:
            loss = pred_loss = F.mse_loss(pred, z[:, 1:])
        if reg == "SIGReg":
            loss = loss + lam * model.sigreg(z.transpose(0, 1), generator=gen)
        elif reg.startswith("VICReg"):
            v, c = vicreg_terms(z)
            loss = loss + lam * (25 * v + (0 if reg.endswith("only") else c))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.train.grad_clip)
        opt.step()
        if target is not None:
            ema_update(target, model, tau=0.99)
        losses.append(pred_loss.item())
    z = encode_frames(model, ev_frames).cpu()
    return {"losses": losses, "z": z, "erank": effective_rank(z), "total_var": float(z.var(0).sum()),
            "probe_r": probe_r(z)}


LAB_VERSION = 2  # bump when lab_run changes, so cached results are recomputed
lab_key = hashlib.sha1(json.dumps([cfg.to_dict(), LAB_STEPS, LAB_BATCH, LAB, LAB_VERSION],
                                  sort_keys=True).encode()).hexdigest()[:10]
lab_path = cache_dir() / "lab" / f"ch04-{cfg.profile}-{lab_key}.pt"
expect(6, 90, 300, cfg.profile)
if lab_path.exists():  # computed before (delete the file to recompute)
    lab = torch.load(lab_path, weights_only=True)
    print(f"lab results loaded from {lab_path}")
else:
    lab = {}
    for reg, lam in LAB:
        t = time.perf_counter()
        lab[(reg, lam)] = lab_run(reg, lam)
        last_loss = np.mean(lab[(reg, lam)]["losses"][-5:])
        print(f"{reg:22s} λ={lam:<5} {time.perf_counter() - t:5.1f} s  pred loss {last_loss:.5f}")
    lab_path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(lab, lab_path)
print(f"{'run':32s}{'effective rank':>15s}{'total variance':>16s}{'probe r':>10s}{'pred / spread':>15s}")
for (reg, lam), r in lab.items():
    rel = np.mean(r["losses"][-5:]) / (r["total_var"] / D)  # prediction error per dimension / variance per dimension
    print(f"{reg + (f' λ={lam}' if lam else ''):32s}{r['erank']:15.1f}{r['total_var']:16.4f}{r['probe_r']:10.3f}"
          f"{rel:15.3f}")

# %% [markdown]
# First the static figure, with the default (SIGReg, λ = 0.09): the latents projected on three random
# directions, against the N(0, 1) density, and the eigenvalue spectrum.

# %%
PROJ = torch.randn(D, 3, generator=torch.Generator().manual_seed(7))
PROJ = PROJ / PROJ.norm(dim=0)


FIXED_LAMBDA = {"none": 0.0, "EMA + stop-grad": 0.0, "VICReg, variance only": 0.09}  # runs with one setting


def draw_lab(reg: str, lam: float) -> None:
    key = (reg, FIXED_LAMBDA.get(reg, lam))
    if key[1] != lam and key[1]:
        print(f"(only λ = {key[1]} was run for {reg})")
    r = lab[key]
    fig, axes = plt.subplots(1, 5, figsize=(16, 3))
    x = (r["z"] @ PROJ).numpy()
    lo, hi = min(-4.0, x.min()), max(4.0, x.max())
    grid = np.linspace(-4, 4, 200)
    for j in range(3):
        axes[j].hist(x[:, j], bins=np.linspace(lo, hi, 50), density=True, alpha=0.7)
        axes[j].plot(grid, np.exp(-grid**2 / 2) / math.sqrt(2 * math.pi), "k--", lw=1)
        axes[j].set_title(f"projection on random direction {j + 1}", fontsize=9)
    eig = torch.linalg.eigvalsh(torch.cov(r["z"].T)).flip(0).clamp_min(1e-12)
    axes[3].semilogy(eig.numpy(), "o-", ms=2)
    axes[3].axhline(1.0, color="k", ls=":", lw=1)
    axes[3].set_title("covariance eigenvalues", fontsize=9)
    axes[4].semilogy(r["losses"])
    axes[4].set_title("prediction loss", fontsize=9)
    fig.suptitle(f"{reg}" + ("" if key[1] == 0 else f", λ = {key[1]}") +
                 f":  effective rank {r['erank']:.1f} of {D},  total variance {r['total_var']:.3g} (N(0, I): {D}),"
                 f"  probe r {r['probe_r']:.3f}")
    plt.tight_layout()
    plt.show()


draw_lab("SIGReg", 0.09)

# %%
try:
    import ipywidgets as widgets
    from IPython.display import display

    w_reg = widgets.Dropdown(options=["none", "SIGReg", "VICReg", "VICReg, variance only", "EMA + stop-grad"],
                             value="SIGReg", description="regulariser")
    w_lam = widgets.SelectionSlider(options=list(LAMBDAS), value=0.09, description="λ")
    w_out = widgets.Output()

    def redraw(_=None) -> None:
        w_lam.disabled = w_reg.value in FIXED_LAMBDA  # runs with one setting: no λ to choose
        with w_out:
            w_out.clear_output(wait=True)
            draw_lab(w_reg.value, w_lam.value)

    w_reg.observe(redraw, names="value")
    w_lam.observe(redraw, names="value")
    display(widgets.VBox([widgets.HBox([w_reg, w_lam]), w_out]))
    redraw()
except Exception as err:  # no ipywidgets, or no widget front end: the static figure above stands
    print(f"(interactive widget unavailable: {type(err).__name__}: {err}; the static figure shows the default)")

# %% [markdown]
# And all runs side by side:

# %%
names = [reg + (f"\nλ={lam}" if lam else "") for reg, lam in lab]
fig, axes = plt.subplots(1, 3, figsize=(16, 3.6))
axes[0].bar(range(len(lab)), [r["erank"] for r in lab.values()], color="tab:blue")
axes[0].axhline(stats["N(0, I) sample"]["effective rank"], color="k", ls=":", lw=1, label="N(0, I) sample")
axes[0].set_title("effective rank (shape of the cloud)")
axes[1].bar(range(len(lab)), [r["total_var"] for r in lab.values()], color="tab:orange")
axes[1].axhline(D, color="k", ls=":", lw=1, label=f"N(0, I): {D}")
axes[1].set_yscale("log")
axes[1].set_title("total variance (size of the cloud)")
axes[2].bar(range(len(lab)), [r["probe_r"] for r in lab.values()], color="tab:green")
axes[2].axhline(stats[f"SIGReg (λ={cfg_sig.train.lam})"]["probe r"], color="k", ls=":", lw=1,
                label=f"SIGReg run of section 1 ({STEPS} steps)")
axes[2].set_ylim(0, 1)
axes[2].set_title("probe r (agent position from the latents)")
for ax in axes:
    ax.set_xticks(range(len(lab)), names, fontsize=7, rotation=45, ha="right")
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# What the lab shows. Shape and size are not the whole story, so the table has two more columns: the
# **probe r** (a linear probe of the agent's position on the standardised latents: how much of the state
# they carry, whatever their scale) and **pred / spread**, the prediction loss at the end of training
# divided by the variance of one latent dimension (how large the predictor's error is compared with the
# latents themselves; 1 means its predictions are no better than the spread). The stored cpu-profile run
# behind this text measured (N(0, I) gives an effective rank of about 63 and a total variance of 64):
#
# | run | effective rank | total variance | probe r | pred / spread |
# |---|---|---|---|---|
# | none | 30.6 | 0.0009 | 0.890 | 53.950 |
# | SIGReg λ = 0.01 / 0.09 / 0.5 | 4.8 / 14.1 / 25.1 | 3.9862 / 59.8589 / 47.7425 | 0.976 / 0.958 / 0.890 | 0.453 / 0.072 / 0.210 |
# | VICReg λ = 0.01 / 0.09 / 0.5 | 8.4 / 29.2 / 45.1 | 3.1625 / 57.3348 / 56.8731 | 0.959 / 0.875 / 0.771 | 0.565 / 0.151 / 0.606 |
# | VICReg, variance only (λ = 0.09) | 4.3 | 79.3222 | 0.965 | 0.047 |
# | EMA + stop-grad (τ = 0.99) | 26.7 | 38.4981 | 0.877 | 0.191 |
#
# - **none**: complete collapse; the total variance is three to five orders of magnitude below the
#   others and every histogram is a single spike, while the effective rank looks "healthy". The encoder
#   is not constant, though: standardised, its tiny latents still locate the agent (r 0.890). What is
#   lost is that the predictor's error is 54 times the latents' spread: its predictions say nothing.
# - **SIGReg against VICReg, fairly.** By effective rank SIGReg at the released λ = 0.09 looks weaker
#   than VICReg at the same λ (14.1 against 29.2). By what a world model needs it is the better of the
#   two in this short run: its latents carry the agent's position better (r 0.958 against 0.875) and its
#   predictor's error is the smaller fraction of their spread (0.072 against 0.151). The effective rank
#   measures how evenly the spread is shared among directions, not whether the directions are about the
#   state: the three runs with a higher r (SIGReg at λ = 0.01, 0.976; VICReg's variance term alone,
#   0.965; VICReg at λ = 0.01, 0.959) all have an effective rank below 9. A likely reading is that
#   VICReg's decorrelation term spreads variance over many directions, some of them not about the agent.
# - **SIGReg**: λ = 0.01 is too weak in a short run: the spread survives only in a few directions
#   (dimensional collapse, effective rank 4.8). From the released 0.09 upwards the histograms approach the
#   N(0, 1) curve and the rank grows with λ.
# - **VICReg, variance only**: the largest total variance of all and yet an effective rank of 4.3: the
#   dimensions carry the same few signals. This is dimensional collapse, the failure the covariance term
#   exists for (compare VICReg with both terms at the same λ).
# - **EMA + stop-grad**: with no regulariser at all, the slowly moving target keeps the latents spread
#   out in this short run. Nothing in its loss forbids collapse, though: whether it holds depends on τ,
#   the learning rates and the run length (the knobs of section 2).
#
# These runs are short (80 steps of 32 clips in the cpu profile): they show which way each knob pushes,
# not which method plans best. Judge a regulariser by several measures at once, as here; chapter 05
# trains the full model and chapter 06 measures what matters in the end, planning success.
#
# **Think.** λ trades prediction accuracy against the Gaussian shape (the paper's ablation: PushT
# success stays above 80% for λ in [0.01, 0.2] and drops sharply at 0.5). What does a too large λ do to
# the information the latents carry about the dynamics?
#
# <details><summary>Answer</summary>
#
# It makes the encoder favour the Gaussian shape over predictability: features that are easy to spread
# into a Gaussian cloud but carry little about the controllable state can win over the agent's position,
# and the prediction error rises. The latents then still look healthy (Gaussian, full rank) but say less
# about what the actions change, which is what the planner needs.
#
# </details>

# %% [markdown]
# ## 5. Check: our SIGReg is `lewm_mini.SIGReg`
#
# The package draws its directions with the generator it is given, exactly as our `sigreg` does, so the
# same seed must give the same value, for (B, D) and (T, B, D) inputs, Gaussian or not. And in one
# dimension every unit direction is ±1, so SIGReg is our 1-D `epps_pulley`.

# %%
pkg_sig = SIGReg(num_proj=128)
g = torch.Generator().manual_seed(0)
tests = {"(B, D) Gaussian": torch.randn(64, 24, generator=g),
         "(T, B, D) mixed": torch.cat([torch.randn(2, 32, 8, generator=g), torch.zeros(1, 32, 8)]),
         "(B, D) lab latents": lab[("SIGReg", 0.09)]["z"][:128]}
for name, z in tests.items():
    ours_v = sigreg(z, 128, torch.Generator().manual_seed(3))
    theirs_v = pkg_sig(z, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(ours_v, theirs_v)
    print(f"{name:20s} inline {float(ours_v):9.4f}   lewm_mini {float(theirs_v):9.4f}")
x1 = torch.rand(100, generator=g) * 3
torch.testing.assert_close(epps_pulley(x1), pkg_sig(x1[:, None], generator=g))
print("1-D: epps_pulley == lewm_mini.SIGReg on 1-D data")
print(f"notebook compute time: {time.perf_counter() - T0:.0f} s")

# %% [markdown]
# ## Summary
#
# - Trained end to end with prediction loss alone, a JEPA collapses: the loss goes to zero because
#   every frame maps to (almost) the same latent. Look at the scale of the latents (total variance, the
#   absolute eigenvalue spectrum), not only at scale-free measures like the effective rank.
# - Collapse comes in two forms: complete (a point) and dimensional (a few directions). VICReg's variance
#   term stops the first, its covariance term the second; EMA targets with stop-gradient rely on training
#   dynamics. Each fix adds knobs.
# - SIGReg tests whether the latents look like N(0, I): the empirical characteristic function against
#   $e^{-t^2/2}$ (Epps-Pulley, 17 knots on [0, 3], times the batch size) on M random unit directions
#   (Cramér-Wold), averaged. One knob, λ. Gaussian latents score about 1, collapsed ones 0.402 B (17 knots).
#
# ## Check your understanding
#
# **1.** Why does the prediction loss of an unregularised JEPA go to zero, and why is that bad news?
#
# <details><summary>Answer</summary>
#
# A constant encoder output and a predictor that returns that constant predict every next latent
# perfectly, and shrinking all latents towards one point lowers every error at once, so gradient descent
# finds it quickly. The latents then carry no information about the frame: nothing to plan with or probe.
#
# </details>
#
# **2.** A batch of latents has effective rank 40 of 64. Can it still be collapsed? What else do you
# check?
#
# <details><summary>Answer</summary>
#
# Yes. The effective rank only sees the shape of the cloud; a completely collapsed batch whose tiny
# leftover spread is unstructured noise can have a high effective rank (about 30 of 64 in this chapter's
# collapsed run). Check the scale too (total variance, the absolute eigenvalues), SIGReg, or a probe of
# the state.
#
# </details>
#
# **3.** Compute the Epps-Pulley statistic's limit for a collapsed batch: which integral gives the 0.402?
#
# <details><summary>Answer</summary>
#
# For a batch collapsed at 0 the empirical characteristic function is 1 for every t, so the error is $(1 -
# e^{-t^2/2})^2$ and the statistic is N times $\int (1 - e^{-t^2/2})^2 e^{-t^2/2}\,dt$ over the real line,
# which is $\sqrt{2\pi} - 2\sqrt{\pi} + \sqrt{2\pi/3} \approx 0.409$; the 17-knot trapezoid rule on [0, 3]
# gives 0.402.
#
# </details>
#
# **4.** Why does the statistic carry a factor N (the batch size), and what does that mean for λ when you
# change the batch size?
#
# <details><summary>Answer</summary>
#
# For Gaussian samples the integral shrinks like 1/N (sampling noise), so N times it stays about 1: a test
# statistic whose null value does not depend on N and which grows with N when the data are not Gaussian.
# The collapse penalty therefore grows with the batch: doubling B roughly doubles SIGReg's push against
# non-Gaussian batches, so the same λ is effectively stronger, and λ should be retuned when B changes.
#
# </details>
#
# **5.** Give a 2-D distribution whose coordinates are both N(0, 1) but which SIGReg rejects. Why does
# SIGReg use random directions rather than the coordinate axes?
#
# <details><summary>Answer</summary>
#
# Two crossing lines: $z = (x, s\,x)$ with x ~ N(0, 1) and a random sign s; each coordinate is exactly
# N(0, 1), but the projection on the diagonal is not Gaussian. By Cramér-Wold a distribution is N(0, I)
# only if *every* 1-D projection is N(0, 1); the axes are D special directions, and dimensional collapse
# can hide in directions that are not axes. Random directions, redrawn at each step, eventually test them
# all.
#
# </details>
#
# **6.** Under multi-GPU data parallelism the released code computes SIGReg on each GPU's local batch.
# What changes compared with one big batch?
#
# <details><summary>Answer</summary>
#
# Each GPU tests only its local batch: a smaller N (a noisier, weaker test), and each local batch is
# pushed towards N(0, I) on its own, so structure that differs between GPUs (their batches come from
# different data) is penalised, or a global deviation that no single GPU sees goes unpunished. Summing the
# characteristic-function estimates over GPUs (an all-reduce, Exercise 4.2) gives the one-big-batch
# statistic.
#
# </details>
#
# ## Further reading
#
# - R. Balestriero, Y. LeCun. *LeJEPA: Provable and Scalable Self-Supervised Learning Without the
#   Heuristics* (2025), arXiv 2511.08544: SIGReg and why an isotropic Gaussian is the right target.
# - T. W. Epps, L. B. Pulley. *A test for normality based on the empirical characteristic function*
#   (Biometrika, 1983).
# - A. Bardes, J. Ponce, Y. LeCun. *VICReg* (2022), arXiv 2105.04906; J.-B. Grill et al. *BYOL* (2020),
#   arXiv 2006.07733: stop-gradient and EMA targets.
# - L. Jing et al. *Understanding Dimensional Collapse in Contrastive Self-supervised Learning* (2022),
#   arXiv 2110.09348; Q. Garrido et al. *RankMe* (2023), arXiv 2210.02885: effective rank as a diagnostic.
# - V. Sobal et al. *Learning from Reward-Free Offline Data: A Case for Planning with Latent Dynamics
#   Models* (PLDM, 2025), arXiv 2502.14819: the seven-term alternative.
# - Next: chapter 05 trains the full LeWM with this two-term loss; chapter 06 plans with CEM in the
#   latent space that SIGReg keeps alive.
