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
# # 05 · Training LeWM: two terms, end to end
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/notebooks/05_training_lewm.ipynb)
#
# Chapters 02 to 04 built every part: the encoder and its BatchNorm projector, the predictor, SIGReg.
# This chapter puts them together and trains the whole world model from pixels.
#
# **What you build:** LeWM's two-term objective (prediction error + λ · SIGReg), one training step and
# the loop; then the profile's full run, read through its curves, BatchNorm's two modes, the learned
# latents, a λ sweep and an exact resume.
#
# **Objectives.** After this chapter you can
# - write LeWM's loss from a batch of clips: every frame encoded, teacher-forced predictions against
#   targets one step later, SIGReg per time step on (T, B, D), and λ on the right term;
# - write a training step (zero_grad, backward, clip, step, schedule) and say what each line prevents;
# - read a training run: which curves say "learning", which say "collapse", and why a falling
#   prediction loss alone proves nothing;
# - explain why planning must run the model in eval mode;
# - resume an interrupted run exactly, and say which state that takes.
#
# **Prerequisites:** chapters 02 (encoder, projector), 03 (predictor, rollout) and 04 (collapse, SIGReg).
#
# **Time:** reading about 35 min.
#
# **Compute** (measured by `tools/execute_notebooks.py`, in a fresh kernel): CPU, cpu profile 2.7 min on 2
# cores of AMD EPYC (torch 2.13.0+cpu, 2026-12-02, reusing what earlier runs left in the cache, machine
# busy: load 1.9).

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
# Where this chapter sits in LeWorldModel: it trains every part at once, end to end, on the two loss
# terms (highlighted); only the planner (chapter 06) is left.

# %%
import matplotlib.pyplot as plt

from lewm_mini.viz import pipeline_figure

pipeline_figure(["frames", "encoder", "projector", "latent", "actions", "predictor", "predicted", "sigreg", "mse"],
                title="LeWM pipeline: chapter 05 trains everything highlighted, together")
plt.show()

# %%
import copy
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from lewm_mini.config import cache_dir, seed_everything
from lewm_mini.data import ClipSampler, frames_to_tensor, held_out_episodes, load_or_collect
from lewm_mini.jepa import LeWM  # encoder and projector (02), predictor (03), SIGReg (04)
from lewm_mini.notebook import cached_run, expect
from lewm_mini.probe import apply_probe, effective_rank, encode_frames, fit_linear_probe, pearson_r
from lewm_mini.rollout import rollout  # built in chapter 03
from lewm_mini.train import CHECKPOINT, HeldOut, amp_dtype, lr_lambda, param_groups, train
from lewm_mini.world import Geometry, background

T0 = time.perf_counter()
plt.rcParams["figure.dpi"] = 90
M, TC = cfg.model, cfg.train
B, T, D = TC.batch, M.history + 1, M.latent
print(f"batch B={B} clips of T={T} frames, latent D={D}, λ={TC.lam}, {TC.steps} training steps")

# %% [markdown]
# ## 1. The objective, one line at a time
#
# ### 1.1 A batch of clips
# Training samples **clips** of T = `history + 1` frames, `frameskip` steps apart, from chapter 01's
# episodes, with the z-scored action block after each frame: frames (B, T, 3, H, W) and action blocks
# (B, T, A) (the last block leads out of the clip, unused). Along each row only the red blob moves:
# that is what the predictor must forecast.

# %%
train_eps = load_or_collect(cfg.data, "train", progress=False)
sampler = ClipSampler(train_eps, M.history, M.frameskip, seed=0)
frames, actions = sampler.sample(B)
frames, actions = frames.to(device), actions.to(device)
print(f"frames {tuple(frames.shape)}  actions {tuple(actions.shape)}")

fig, axes = plt.subplots(2, T, figsize=(1.8 * T, 3.8))
for i in range(2):
    for t in range(T):
        axes[i, t].imshow(frames[i, t].permute(1, 2, 0).cpu())
        axes[i, t].set_title(f"clip {i}, frame {t + 1}", fontsize=8)
        axes[i, t].axis("off")
plt.suptitle(f"two clips: frames {M.frameskip} steps apart", fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# ### 1.2 Encode every frame
# A fresh model, in training mode. All B·T frames go through the encoder and projector **as one
# batch** (as `LeWM.encode` does), so BatchNorm's statistics cover every frame of every clip. In the
# heatmap (one row per frame) most columns keep their colour down the rows: a clip's four latents are
# alike. The values themselves are of order 1 (colour bar), so the latents are not near zero; how much
# they differ *between clips*, the spread that collapse removes, one clip cannot show: section 1.4
# measures it over the batch.

# %%
torch.manual_seed(0)
model = LeWM(M, num_proj=TC.num_proj).to(device).train()
flat = frames.flatten(0, 1)  # (B*T, 3, H, W)
z = model.projector(model.encoder(flat)).unflatten(0, (B, T))  # (B, T, D)
print(f"latents z: {tuple(z.shape)}: one vector of {D} numbers per frame")

fig, ax = plt.subplots(figsize=(7, 1.6))
im = ax.imshow(z[0].detach().cpu(), aspect="auto", cmap="coolwarm")
fig.colorbar(im, ax=ax, label="value", pad=0.01)
ax.set_yticks(range(T), [f"z_{t + 1}" for t in range(T)])
ax.set_xlabel("latent dimension")
ax.set_title("the latents of clip 0 (untrained encoder)", fontsize=9)
plt.show()

# %% [markdown]
# ### 1.3 Teacher-forced predictions, targets one step later
# The predictor reads latents 1..T-1 with their action blocks and, through its causal mask, returns
# T-1 guesses in one pass: output t guesses $z_{t+1}$. The **targets are the latents shifted by one**:
#
# ```
#  inputs    z_1,a_1   z_2,a_2   z_3,a_3
#  outputs   ẑ_2       ẑ_3       ẑ_4
#  targets   z_2       z_3       z_4        (the encoder's latents of frames 2..T)
# ```
#
# No stop-gradient: the targets are the same tensor `z`, so the error's gradient reaches the encoder
# through the inputs **and** through the targets.

# %%
pred = model.predictor(z[:, :-1], actions[:, :-1])  # (B, T-1, D)
target = z[:, 1:]  # (B, T-1, D)
pred_loss = F.mse_loss(pred, target)
per_position = (pred - target).pow(2).mean((0, 2)).detach()
print(f"pred {tuple(pred.shape)}, target {tuple(target.shape)}; prediction loss {pred_loss.item():.4f}")
print("error per output position:", [round(float(e), 4) for e in per_position])

# %% [markdown]
# ### 1.4 SIGReg, per time step
# SIGReg takes (T, B, D): for each time step it tests whether the B latents of that frame position,
# from B different clips, look like samples of N(0, I), then averages over time steps and random
# directions (a clip's T latents are consecutive frames, far from independent). A seeded generator
# fixes its random directions here. The figure marks chapter 04's reference values (section 3.2):
# N(0, I) samples score about 1.06 at any B, identical latents 0.40 B. As a control, the same model
# also encodes uniform-noise frames, all different from each other.

# %%
sig = model.sigreg(z.transpose(0, 1), generator=torch.Generator(device=device).manual_seed(1))  # (T, B, D)
per_step = torch.stack([model.sigreg(z[:, t], generator=torch.Generator(device=device).manual_seed(1))
                        for t in range(T)]).detach()
torch.testing.assert_close(sig.detach(), per_step.mean())
print(f"SIGReg = {sig.item():.2f} = mean of the per-step values {[round(float(s), 2) for s in per_step]}")
noise = torch.rand(frames.shape, generator=torch.Generator(device=device).manual_seed(2), device=device)
with torch.no_grad():  # control: the same model on uniform-noise frames
    z_noise = model.projector(model.encoder(noise.flatten(0, 1))).unflatten(0, (B, T))
    sig_noise = model.sigreg(z_noise.transpose(0, 1), generator=torch.Generator(device=device).manual_seed(1))
print(f"uniform-noise frames: SIGReg = {sig_noise.item():.2f}; all latents equal: 0.40 B = {0.40 * B:.1f}")
print(f"total variance of the latents (over the batch, summed over D): real frames "
      f"{z.detach().var(0).sum(-1).mean():.2f}, noise frames {z_noise.var(0).sum(-1).mean():.2f}; N(0, I): {D}")

# %%
fig, ax = plt.subplots(figsize=(5.5, 2.8))
ax.bar(range(1, T + 1), per_step.detach().cpu(), color="tab:purple")
ax.axhline(0.40 * B, color="tab:red", ls=":", label=f"all latents equal: 0.40 B = {0.40 * B:.0f}")
ax.axhline(1.06, color="k", ls=":", label="N(0, I) samples: 1.06")
ax.set_yscale("log"), ax.set_xlabel("time step t"), ax.set_ylabel("SIGReg"), ax.set_xticks(range(1, T + 1))
ax.set_title("SIGReg of each frame position, untrained model", fontsize=9)
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# The untrained model starts close to collapse: SIGReg 41.8 against 0.40 B = 51 (stored cpu-profile
# run; yours is printed above). The all-different noise frames score nearly as high (36.3): what both
# batches share is a small spread, a total variance of 4.1 (real) and 7.4 (noise) against D = 64 for
# N(0, I). Why? The projector is Linear → BatchNorm1d → GELU → Linear, and in train mode BatchNorm
# divides each centred hidden feature by $\sqrt{\mathrm{var} + \epsilon}$: its batch variance plus a
# small ε against division by zero. The next cell redoes that by hand on both batches.

# %%
lin, bn, gelu, lin2 = model.projector.net  # Linear -> BatchNorm1d -> GELU -> Linear (chapter 02)
stds = {}  # std per dimension (mean over dimensions) after each stage, for the figure
with torch.no_grad():
    for name, x, z_out in (("real frames", flat, z.detach()), ("noise frames", noise.flatten(0, 1), z_noise)):
        f = model.encoder(x)  # (B*T, enc_width)
        h = lin(f)  # the hidden features BatchNorm normalises
        var = h.var(0, unbiased=False)  # per hidden dimension, over the B*T frames, as BatchNorm computes it
        y = (h - h.mean(0)) / torch.sqrt(var + bn.eps)  # BatchNorm in train mode (its weight is 1, bias 0 at init)
        g = gelu(y)
        gap = float((lin2(g).unflatten(0, (B, T)) - z_out).abs().max())  # by hand against model.projector
        stds[name] = [float(v.std(0).mean()) for v in (f, h, y, g, z_out.flatten(0, 1))]
        print(f"{name}: variance before BatchNorm {var.mean():.2e} per dimension (eps = {bn.eps:g}) -> std after "
              f"BatchNorm sqrt(var / (var + eps)) = {(var / (var + bn.eps)).sqrt().mean():.3f}")
        print(f"    latent variance {z_out.var(0).mean():.3f} per dimension (N(0, I): 1); "
              f"by hand, the latents differ from the projector's by at most {gap:.1e}")

# %%
fig, ax = plt.subplots(figsize=(6.5, 3))
for (name, v), c in zip(stds.items(), ["tab:blue", "tab:gray"]):
    ax.plot(["encoder", "Linear", "BatchNorm", "GELU", "Linear = latent"], v, "o-", color=c, label=name)
ax.axhline(bn.eps**0.5, color="tab:red", ls=":", label=f"sqrt(eps) = {bn.eps**0.5:.1e}")
ax.axhline(1, color="k", ls=":", label="N(0, I): 1")
ax.set_yscale("log"), ax.set_ylabel("std per dimension")
ax.set_title("one batch through the untrained projector", fontsize=9)
ax.legend(fontsize=7)
plt.tight_layout()
plt.show()

# %% [markdown]
# The untrained encoder gives the real frames (blue) nearly the same features: before BatchNorm each
# hidden feature has a variance of only about 1.4e-5 (stored run), close to ε = 1e-5, so BatchNorm
# brings the std to 0.76, not 1. The noise frames (8.6e-4, far above ε) reach 0.994. GELU and the last
# Linear (at PyTorch's default initialisation) then shrink both, to latent variances of 0.064 and
# 0.115 per dimension (the totals 4.1 and 7.4). So ε makes the real frames' cloud the tighter one, the
# layers after BatchNorm make both tight, and for SIGReg such a cloud is almost a point.
#
# ### 1.5 Two terms
# $$\mathcal{L} = \underbrace{\mathrm{MSE}(\hat z_{2..T},\, z_{2..T})}_{\text{prediction}} + \lambda\,
# \underbrace{\mathrm{SIGReg}(z_{1..T})}_{\text{anti-collapse}}, \qquad \lambda = 0.09.$$
# That is the whole objective: no EMA target, no reconstruction, no pretrained encoder. As one
# function (it is `LeWM.loss`, compared in section 9):

# %%
def lewm_loss(model: LeWM, frames: torch.Tensor, actions: torch.Tensor, lam: float,
              generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """frames (B, T, 3, H, W), actions (B, T, A) -> {"loss", "pred", "sigreg"} scalar tensors."""
    b, t = frames.shape[:2]
    z = model.projector(model.encoder(frames.flatten(0, 1))).unflatten(0, (b, t))  # every frame, one batch
    pred = model.predictor(z[:, :-1], actions[:, :-1])  # guesses of z_2..z_T
    pred_loss = F.mse_loss(pred, z[:, 1:])  # targets one step later
    sig = model.sigreg(z.transpose(0, 1), generator=generator)  # (T, B, D): per time step
    return {"loss": pred_loss + lam * sig, "pred": pred_loss, "sigreg": sig}


# %%
out = lewm_loss(model, frames, actions, TC.lam, torch.Generator(device=device).manual_seed(1))
terms = {"prediction": out["pred"].item(), f"λ · SIGReg (λ={TC.lam})": TC.lam * out["sigreg"].item()}
for name, v in terms.items():
    print(f"{name:22s} {v:.4f}")
fig, ax = plt.subplots(figsize=(4.5, 2.4))
ax.barh(list(terms), list(terms.values()), color=["tab:blue", "tab:purple"])
ax.set_xlabel("contribution to the loss")
ax.set_title("the two terms at initialisation", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# At initialisation the SIGReg term is the larger one (stored run: 3.77 against 0.21): early training
# mostly spreads the latents out.
#
# **Exercise 5.1** (in `exercises/05_training_lewm_exercises.ipynb`) asks you to adapt this loss to
# time-major data, (T, B, ...): no new idea, only care about which axis is which (the predictor still
# takes batch-major input, while SIGReg already takes (T, B, D)).
#
# **Think.** Why is $z$ not detached in the targets? What would detaching it change?
#
# <details><summary>Answer</summary>
#
# The error's gradient would reach the encoder only through the predictor's inputs: the stop-gradient
# of BYOL and SimSiam, whose loss does not forbid collapse (they avoid it through training dynamics,
# chapter 04, section 2). LeWM needs no stop-gradient because SIGReg penalises collapse directly.
# </details>

# %% [markdown]
# ## 2. One training step
#
# AdamW, with weight decay 1e-3 on weight matrices and convolution kernels only (`param_groups`). The
# learning rate warms up linearly for `warmup` steps, then follows a cosine down to 5% of its peak.
# One step, line by line:

# %%
opt = torch.optim.AdamW(param_groups(model, TC.weight_decay), lr=TC.lr)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(TC.warmup, TC.steps))
gen = torch.Generator(device=device).manual_seed(1)

out = lewm_loss(model, frames, actions, TC.lam, gen)  # forward
opt.zero_grad(set_to_none=True)  # forget the previous step's gradients (backward adds to .grad)
out["loss"].backward()  # gradients of both terms, into encoder, projector and predictor
part_norms = {name: torch.sqrt(sum(p.grad.pow(2).sum() for p in getattr(model, name).parameters())).item()
              for name in ("encoder", "projector", "predictor")}
total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), TC.grad_clip).item()  # rescale if > 1.0
lr_used = opt.param_groups[0]["lr"]
opt.step()  # AdamW update
sched.step()  # next learning rate
print(f"gradient norm before clipping {total_norm:.3f} (clipped to {TC.grad_clip}); "
      f"learning rate of this step {lr_used:.2e} (warm-up: peak / {TC.warmup})")
print("gradient norm of each part:", {k: round(v, 3) for k, v in part_norms.items()})

# %% [markdown]
# Compare each bar with the clip line (clipping looks at the total) and the parts with each other:
# which part receives the largest gradient at the start?

# %%
fig, ax = plt.subplots(figsize=(5, 2.6))
ax.bar(list(part_norms) + ["total"], list(part_norms.values()) + [total_norm], color="tab:blue")
ax.axhline(TC.grad_clip, color="tab:red", ls=":", label=f"clip at {TC.grad_clip}")
ax.set_ylabel("gradient norm"), ax.set_title("gradients of the first step", fontsize=9)
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Each line prevents a failure:
# - `zero_grad` first: `backward` *adds* to `.grad`, so without it every step re-applies all earlier
#   gradients; `backward` before `step`: `step` uses whatever `.grad` holds;
# - **clipping** to norm 1.0 (the value of LeWM's released training configuration) rescales the
#   gradient to length at most 1. Adam divides each step by a running average of squared gradients
#   with decay β₂ = 0.999 (PyTorch's default, used here), an average over roughly the last
#   1/(1 - 0.999) = 1000 steps: one huge gradient from a bad batch would stay in it, and keep the steps
#   small, for as long as it dominates that average (up to hundreds of steps if it is large enough).
#   Clipping caps what enters it;
# - **warm-up**: early on, Adam's second-moment estimate (that running average of squared gradients)
#   rests on few gradients, so the adaptive learning rate it sets varies a lot (Liu et al. 2020, who
#   name this variance as the reason warm-up helps); small steps first.
#
# Two more guards, as in the package: refuse to step on a non-finite loss, and on a GPU compute the
# forward pass in bfloat16 (float16 where bfloat16 is missing). float16 needs a **gradient scaler**:
# it multiplies the loss before `backward` so small gradients do not underflow to zero, divides them
# back (`unscale_`) before clipping, and skips a step whose gradients overflowed. On the CPU and with
# bfloat16 it is off and each call is a plain `backward` or `step`:

# %%
def training_step(model: LeWM, opt, sched, scaler, frames, actions, lam: float, generator,
                  clip: float) -> dict[str, float]:
    """One AdamW step on the two-term loss; returns the loss terms and the gradient norm before clipping."""
    amp = amp_dtype(frames.device)  # None on the CPU: float32
    with torch.autocast(frames.device.type, dtype=amp, enabled=amp is not None):
        out = lewm_loss(model, frames, actions, lam, generator)
    if not torch.isfinite(out["loss"]):
        raise FloatingPointError(f"loss is not finite: {out}")
    opt.zero_grad(set_to_none=True)
    scaler.scale(out["loss"]).backward()  # float16 only: loss times the scale, so no gradient underflows
    scaler.unscale_(opt)  # the true gradients again, before clipping
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    scaler.step(opt)  # opt.step(), skipped if a float16 gradient overflowed
    scaler.update()
    sched.step()
    return {k: float(v.detach()) for k, v in out.items()} | {"grad_norm": float(grad_norm)}


# %% [markdown]
# **Exercise 5.2** accumulates gradients over micro-batches of unequal sizes, the trick for a batch that
# does not fit in memory, and shows why it is not exact for LeWM.

# %% [markdown]
# ## 3. The loop
#
# A run is this step repeated, with every random stream seeded so that it can be repeated exactly:
# initialisation and dropout (torch's global generator), the clip sampler (numpy), SIGReg's directions
# (their own generator). A few dozen steps inline, with a short schedule so that warm-up and decay fit:

# %%
N_INLINE = {"ci": 6, "cpu": 30, "gpu": 60}[cfg.profile]
cfg_inline = replace(cfg, train=replace(TC, steps=N_INLINE, warmup=max(1, N_INLINE // 5), eval_every=0))


def inline_train(run_cfg) -> tuple[LeWM, list[dict]]:
    """The training loop: seeded like lewm_mini.train.train, no checkpoints, no held-out evaluation."""
    tc = run_cfg.train
    seed_everything(tc.seed)
    sampler = ClipSampler(train_eps, run_cfg.model.history, run_cfg.model.frameskip, seed=tc.seed)
    model = LeWM(run_cfg.model, num_proj=tc.num_proj).to(device).train()
    opt = torch.optim.AdamW(param_groups(model, tc.weight_decay), lr=tc.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(tc.warmup, tc.steps))
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype(device) == torch.float16)  # off unless float16
    gen = torch.Generator(device=device).manual_seed(tc.seed + 1)
    history = []
    for step in range(tc.steps):
        frames, actions = (x.to(device) for x in sampler.sample(tc.batch))
        history.append({"step": step + 1} | training_step(model, opt, sched, scaler, frames, actions, tc.lam, gen,
                                                          tc.grad_clip))
    return model.eval(), history


# %%
expect(3, 130, 30, cfg.profile)  # cpu: 132 s measured on 2 busy cores
t = time.perf_counter()
inline_model, inline_history = inline_train(cfg_inline)
print(f"{N_INLINE} steps ({cfg_inline.train.warmup} of warm-up) in {time.perf_counter() - t:.1f} s; "
      f"SIGReg {inline_history[0]['sigreg']:.2f} -> {inline_history[-1]['sigreg']:.2f}, "
      f"prediction loss {inline_history[0]['pred']:.4f} -> {inline_history[-1]['pred']:.4f}")
peak = max(inline_history, key=lambda h: h["pred"])
print(f"prediction loss peaks at {peak['pred']:.4f} (step {peak['step']})")
clipped = sum(h["grad_norm"] > TC.grad_clip for h in inline_history)
print(f"gradient norm above the clip threshold {TC.grad_clip} in {clipped} of {N_INLINE} steps "
      f"(largest {max(h['grad_norm'] for h in inline_history):.2f})")

# %%
fig, axes = plt.subplots(1, 4, figsize=(16, 3.2))
steps = [h["step"] for h in inline_history]
axes[0].plot(steps, [h["pred"] for h in inline_history], "o-", ms=3)
axes[0].set_title("prediction loss", fontsize=9), axes[0].set_ylabel("MSE")
axes[1].plot(steps, [h["sigreg"] for h in inline_history], "o-", ms=3, color="tab:purple")
axes[1].axhline(1.06, color="k", ls=":", lw=1, label="N(0, I): 1.06")
axes[1].set_yscale("log"), axes[1].set_title("SIGReg", fontsize=9), axes[1].set_ylabel("SIGReg (log scale)")
axes[1].legend(fontsize=8)
axes[2].plot(steps, [h["grad_norm"] for h in inline_history], "o-", ms=3, color="tab:gray")
axes[2].axhline(TC.grad_clip, color="tab:red", ls=":", lw=1, label=f"clipped above {TC.grad_clip}")
axes[2].set_title("gradient norm before clipping", fontsize=9), axes[2].set_ylabel("gradient norm")
axes[2].legend(fontsize=8)
schedule = lr_lambda(cfg_inline.train.warmup, N_INLINE)  # the schedule these steps used
axes[3].plot(steps, [TC.lr * schedule(st - 1) for st in steps], "o-", ms=3, color="tab:green")  # step 1: schedule(0)
axes[3].set_title(f"learning rate: {N_INLINE} steps, {cfg_inline.train.warmup} of warm-up", fontsize=9)
axes[3].set_ylabel("learning rate")
for ax in axes:
    ax.set_xlabel("step")
plt.tight_layout()
plt.show()

# %% [markdown]
# SIGReg falls fast (the latents spread out) while the prediction loss *rises* at first (stored run:
# SIGReg 41.8 to 4.41 in 30 steps; prediction loss 0.212, 0.64 at step 10, 0.32 at step 30). The
# gradient norm is above 1 at all 30 steps (up to 6.2), so clipping rescales every step; whether these
# runs would do worse without it is not tested. The right panel is the schedule these 30 steps used:
# a linear warm-up over their first fifth, then the cosine (the full run's has the same shape over
# its 2500 steps).

# %% [markdown]
# ## 4. The full run, with the package
#
# `lewm_mini.train.train` is this loop plus checkpoints that resume exactly (section 8), the
# non-finite guard, a progress bar, and every `eval_every` steps a **held-out evaluation** (`HeldOut`):
# a fixed set of clips from the evaluation episodes, in eval mode, recording the two loss terms
# (`val_pred`, `val_sigreg`), the effective rank of their latents (`rank`) and the r of a linear probe
# of the agent's position (`probe_r`, fit on half of the frames, scored on the other). `cached_run(cfg)`
# trains the profile's run or loads it from the cache.

# %%
result = cached_run(cfg)  # prints whether it loads the run or trains it, and how long training takes
model = result.model.to(device).eval()
hist = result.history
val = [h for h in hist if "val_pred" in h]
held = HeldOut(cfg, result.stats, seed=TC.seed)  # the clips every evaluation scores
n_val = held.frames.shape[0]
print(f"held-out evaluation: the same {n_val} clips every {TC.eval_every} steps; "
      f"a collapsed batch of {n_val} would score 0.40 × {n_val} = {0.40 * n_val:.0f}")
print(f"{hist[-1]['step']} steps; last training batch: pred {hist[-1]['pred']:.4f}, SIGReg {hist[-1]['sigreg']:.2f}")
for h in (val[0], val[-1]):
    print(f"held-out at step {h['step']}: pred {h['val_pred']:.4f}, SIGReg {h['val_sigreg']:.2f}, "
          f"effective rank {h['rank']:.1f} of {D}, probe r {h['probe_r']:.3f}")
peak = max(hist, key=lambda h: h["pred"])
below5 = next((h["step"] for h in hist if h["sigreg"] < 5), None)
print(f"training batches: SIGReg {hist[0]['sigreg']:.1f} at step 1, below 5 from step {below5}, "
      f"{np.mean([h['sigreg'] for h in hist[-100:]]):.2f} on average over the last 100 steps; prediction loss "
      f"{hist[0]['pred']:.3f} at step 1, highest {peak['pred']:.2f} at step {peak['step']}")


# %%
def smooth(x, k: int = 25) -> np.ndarray:
    """Moving average over k steps (shorter at the start)."""
    x = np.asarray(x, dtype=float)
    c = np.cumsum(np.insert(x, 0, 0.0))
    return np.array([(c[i + 1] - c[max(0, i + 1 - k)]) / (i + 1 - max(0, i + 1 - k)) for i in range(len(x))])


# %% [markdown]
# First the two loss terms, on the training batches (every step) and on the held-out clips:

# %%
s = [h["step"] for h in hist]
vs = [h["step"] for h in val]
fig, (ax_pred, ax_sig) = plt.subplots(1, 2, figsize=(11, 3.3))
ax_pred.plot(s, [h["pred"] for h in hist], color="tab:blue", alpha=0.25, lw=0.8)
ax_pred.plot(s, smooth([h["pred"] for h in hist]), color="tab:blue", label="training batches (smoothed)")
ax_pred.plot(vs, [h["val_pred"] for h in val], "o-", color="tab:orange", ms=4, label="held-out clips, eval mode")
ax_pred.set_yscale("log"), ax_pred.set_ylabel("MSE"), ax_pred.set_title("prediction loss", fontsize=9)
ax_sig.plot(s, [h["sigreg"] for h in hist], color="tab:purple", alpha=0.25, lw=0.8)
ax_sig.plot(s, smooth([h["sigreg"] for h in hist]), color="tab:purple", label="training batches (smoothed)")
ax_sig.plot(vs, [h["val_sigreg"] for h in val], "o-", color="tab:orange", ms=4, label="held-out clips")
ax_sig.axhline(0.40 * B, color="tab:red", ls=":", lw=1, label=f"collapsed: 0.40 B = {0.40 * B:.0f}")
ax_sig.axhline(1.06, color="k", ls=":", lw=1, label="N(0, I): 1.06")
ax_sig.set_yscale("log"), ax_sig.set_ylabel("SIGReg"), ax_sig.set_title("SIGReg", fontsize=9)
for ax in (ax_pred, ax_sig):
    ax.set_xlabel("step"), ax.legend(fontsize=7)
plt.suptitle(f"{cfg.profile}-profile training run, {hist[-1]['step']} steps: the loss terms", fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# Then what the held-out latents carry: how many directions they use, and how well a linear probe reads
# the agent's position off them.

# %%
fig, (ax_rank, ax_probe) = plt.subplots(1, 2, figsize=(11, 3.1))
ax_rank.plot(vs, [h["rank"] for h in val], "o-", color="tab:green", ms=4)
ax_rank.set_ylim(0, D), ax_rank.set_ylabel("effective rank")
ax_rank.set_title(f"effective rank of held-out latents (of D = {D})", fontsize=9)
ax_probe.plot(vs, [h["probe_r"] for h in val], "o-", color="tab:red", ms=4)
ax_probe.axhline(0.996, color="k", ls=":", lw=1, label="LeWM paper, Two-Room: 0.996")
ax_probe.set_ylabel("Pearson r"), ax_probe.set_title("linear probe of the agent position", fontsize=9)
ax_probe.legend(fontsize=7)
for ax in (ax_rank, ax_probe):
    ax.set_xlabel("step")
plt.tight_layout()
plt.show()

# %% [markdown]
# The held-out SIGReg is scored on all 256 clips at once, the training SIGReg on batches of B. Does the
# sample size alone move it? The final model's held-out latents, scored in groups of clips (same
# SIGReg directions as the evaluation):

# %%
with torch.no_grad():
    z_held_clips = model.encode(held.frames.to(device)).transpose(0, 1)  # (T, n_val, D), eval mode
    for n in (n_val // 4, n_val // 2, n_val):
        sig_n = [float(model.sigreg(z_held_clips[:, i : i + n],
                                    generator=torch.Generator(device=device).manual_seed(TC.seed)))
                 for i in range(0, n_val, n)]
        print(f"held-out latents in groups of {n:3d} clips: SIGReg {np.mean(sig_n):.2f} (mean over {len(sig_n)})")

# %% [markdown]
# Reading the panels (stored cpu-profile run; yours are printed above; the ci profile's 30 steps
# barely start the curves):
# - **SIGReg** on training batches starts near collapse (41.8), is below 5 from step 42 and settles a
#   little above the Gaussian 1.06 (1.54 over the last 100 steps). The frames differ only by the
#   agent's position, so the latents lie on a two-dimensional surface in 64 dimensions, never exactly
#   Gaussian. The LeWM paper suspects the same of Two-Room, whose state is 2-D: that such a low
#   intrinsic dimension makes the Gaussian prior hard to match there, its weakest environment (in its
#   Fig. 6 PLDM and DINO-WM beat LeWM on Two-Room: about 87% against 97% and 100%, read off the bars).
# - The **held-out** SIGReg sits higher (2.70 at the end), partly because it scores 256 clips at once:
#   for latents not exactly Gaussian the statistic grows with the sample size (chapter 04). The cell
#   above shows it on the final model: 1.46 in groups of 64 clips, 1.85 in groups of 128 (the training
#   batch size) and 2.70 for all 256. At 128 it is still above the training batches' 1.54: the
#   held-out frames and eval mode account for the rest, in proportions this run does not separate.
# - **Prediction loss** first *rises* (0.212 at step 1, 0.58 at step 42) as the latents spread, then
#   falls (0.020 on the last batch). Alone that proves nothing (chapter 04's collapsed run had the
#   lowest loss of all); with SIGReg on its plateau it is learning.
# - **Held-out, eval mode**: far above and jumpy early. At step 100 the loss is 4.2 and SIGReg 357,
#   above even a collapsed batch of 256 clips (102). That is possible because SIGReg measures the
#   distance from N(0, I), not collapse alone: a cloud much wider than N(0, I) (its mean cos(t x) near
#   0 where N(0, I)'s is near 1) or one centred away from the origin (chapter 04, section 3.1's shifted
#   sample) can score above a point at the origin. Which of the two the step-100 latents were, the
#   history does not record (it keeps the four numbers plotted, not the latents): a hypothesis.
# - **Effective rank** rises through the run (28 at step 100, 45.7 of 64 at the end); **probe r** is
#   high from the start (0.964 at step 100, 0.975 at the end; the paper's 0.996 dotted): the
#   position is learned early, the rest of the run refines the dynamics and uses more directions.
#
# When does the held-out loss join the training loss? Divide each held-out value by the mean training
# loss of the `eval_every` steps before it.

# %%
steps_all = np.array([h["step"] for h in hist])
pred_all = np.array([h["pred"] for h in hist])
ratio = np.array([h["val_pred"] / pred_all[(steps_all > h["step"] - TC.eval_every) & (steps_all <= h["step"])].mean()
                  for h in val])
print("held-out / training prediction loss:", ", ".join(f"{st}: {r:.2f}" for st, r in zip(vs, ratio)))
k = len(ratio)  # the first evaluation from which the ratio stays within a factor 2
while k > 0 and 0.5 <= ratio[k - 1] <= 2:
    k -= 1
if k == len(ratio):
    print("the held-out loss is not within a factor 2 of the training loss at the end of this run")
else:
    print(f"within a factor 2 from step {vs[k]} on ({ratio[k:].min():.2f} to {ratio[k:].max():.2f}), learning rate "
          f"then {lr_lambda(TC.warmup, TC.steps)(vs[k] - 1):.0%} of its peak"
          + (f"; before: {ratio[:k].min():.2f} to {ratio[:k].max():.2f}" if k else ""))

# %%
fig, ax = plt.subplots(figsize=(6.5, 3))
ax.plot(vs, ratio, "o-", color="tab:orange", ms=4, label="held-out / training prediction loss")
ax.axhspan(0.5, 2, color="tab:green", alpha=0.15, label="within a factor 2")
ax.set_yscale("log"), ax.set_xlabel("step"), ax.set_ylabel("ratio")
ax2 = ax.twinx()  # second y axis: the learning-rate schedule of the run
ax2.plot(s, [lr_lambda(TC.warmup, TC.steps)(st - 1) for st in s], color="tab:green", lw=1, ls="--")
ax2.set_ylim(0, 1.05), ax2.set_ylabel("learning rate / peak (dashed)", color="tab:green")
ax.set_zorder(ax2.get_zorder() + 1), ax.patch.set_visible(False)  # the ratio in front of the schedule
ax.set_title("the held-out loss against the training loss", fontsize=9)
ax.legend(fontsize=7, loc="upper right")
plt.tight_layout()
plt.show()

# %% [markdown]
# In the stored run the held-out loss is 1.5 to 13 times the training loss until step 1600; from
# step 1700 on it stays within a factor 2 (0.55 to 1.49), ending at about half of it (0.55 at step
# 2500: 0.0095 held out, 0.020 on the last training batch).
# The two differ in their clips and in the mode (no dropout, BatchNorm's running statistics); this run
# does not separate the two.
#
# **Think.** Every evaluation scores the same clips with the same SIGReg directions, yet early on the
# values jump. What changes between two evaluations, and why would it settle as the learning rate
# decays?
#
# <details><summary>Answer</summary>
#
# Only the model: its weights and BatchNorm's running statistics, averages over roughly the last ten
# batches (momentum 0.1). While the learning rate is high the weights move fast, and the statistics,
# which describe slightly older networks, fit the current one badly (the encoder has no dropout, so
# BatchNorm is all that differs between the modes for its latents). As the learning rate decays (31%
# of its peak at step 1700) the statistics fit again. A hypothesis: the figure shows the two happen
# together, not that one causes the other; testing it needs mid-run checkpoints the run does not keep.
# </details>

# %% [markdown]
# ## 5. BatchNorm: train mode and eval mode
#
# The projector (and the predictor's `pred_proj`) contains BatchNorm1d. In **train mode** it normalises
# each hidden feature with the mean and variance *of the current batch* and updates its running
# averages; in **eval mode** it uses the running averages. The predictor's dropout is on in train mode
# only.
#
# So in train mode a frame's latent depends on its batch. The same 8 held-out frames (the start of one
# episode) are encoded in eval mode, and in train mode inside: 256 random held-out frames; 16
# consecutive frames of their episode; pairs. A linear probe fitted on eval-mode latents reads the
# agent's position off each version.

# %%
ev = held_out_episodes(cfg.data)
rng = np.random.default_rng(0)
n_frames = ev.frames.shape[0] * ev.frames.shape[1]
pick = np.sort(rng.choice(n_frames, size=min(2000, n_frames), replace=False))
e_idx, t_idx = np.unravel_index(pick, ev.frames.shape[:2])
held_frames = np.asarray(ev.frames[e_idx, t_idx])  # (N, H, W, 3) uint8
held_pos = torch.as_tensor(np.asarray(ev.pos[e_idx, t_idx])).float()  # (N, 2) agent positions
Z_held = encode_frames(model, held_frames).cpu()  # eval mode, (N, D)
half = len(Z_held) // 2
W_probe = fit_linear_probe(Z_held[:half], held_pos[:half])
r_probe = pearson_r(apply_probe(W_probe, Z_held[half:]), held_pos[half:])
print(f"{len(Z_held)} held-out frames; linear probe fitted on {half}, Pearson r on the other {len(Z_held) - half}: "
      f"{r_probe:.3f}")

# %%
x8 = frames_to_tensor(np.array(ev.frames[0, :8])).to(device)  # the 8 frames we follow
pos8 = np.array(ev.pos[0, :8])
x16 = frames_to_tensor(np.array(ev.frames[0, :16])).to(device)  # their episode's first 16 frames
x_rand = frames_to_tensor(held_frames[:248]).to(device)
m = copy.deepcopy(model)  # train mode changes BatchNorm's running statistics: work on a copy
with torch.no_grad():
    m.eval()
    versions = {"eval mode": m.encode(x8)}
    m.train()
    versions["train mode, 256 random frames"] = m.encode(torch.cat([x8, x_rand]))[:8]
    versions["train mode, 16 frames of its episode"] = m.encode(x16)[:8]
    versions["train mode, pairs"] = torch.cat([m.encode(x8[i : i + 2]) for i in range(0, 8, 2)])
spread = float((Z_held[:200, None] - Z_held[None, :200]).norm(dim=-1).mean())  # typical latent distance
rel = {k: float((v.cpu() - versions["eval mode"].cpu()).norm(dim=-1).mean()) / spread for k, v in versions.items()}
decoded = {k: apply_probe(W_probe, v.cpu()).numpy() for k, v in versions.items()}
for k in versions:
    err = np.linalg.norm(decoded[k] - pos8, axis=1).mean()
    print(f"{k:38s} latent moved {rel[k]:5.2f} x a typical distance; probe position error {err:5.1f} px")

# %%
geo = Geometry(cfg.data.size)
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
bars = axes[0].barh(list(rel), list(rel.values()), color=["tab:green", "tab:blue", "tab:orange", "tab:red"])
axes[0].bar_label(bars, fmt="%.2f", fontsize=8, padding=2)
axes[0].set_xlim(0, 1.2 * max(rel.values()))
axes[0].set_xlabel("|latent - eval-mode latent| / typical distance between latents")
axes[0].invert_yaxis()
axes[0].set_title("the same 8 frames, encoded in different company", fontsize=9)
axes[1].imshow(background(geo), extent=(0, geo.size, geo.size, 0))
axes[1].plot(*pos8.T, "k.-", lw=2, ms=8, label="true positions")
for (k, d), c in zip(decoded.items(), ["tab:green", "tab:blue", "tab:orange", "tab:red"]):
    axes[1].plot(*d.T, "x--", color=c, ms=6, lw=1, label=k)
axes[1].set_xlim(0, geo.size), axes[1].set_ylim(geo.size, 0)
axes[1].set_xlabel("x (pixels)"), axes[1].set_ylabel("y (pixels)")
axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
axes[1].set_title("positions read off each version by the probe", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# In eval mode a frame has one latent whatever its company. In train mode a large, varied batch has
# statistics close to the running averages and moves the latent little; a batch of near-identical
# frames, or a pair, is normalised against itself and lands elsewhere (stored run: 0.11,
# 0.74 and 0.83 typical distances; probe errors 8.9, 33.3 and 30.8 px, against 5.9 px in eval mode;
# the barely trained ci-profile model need not follow this pattern). A single frame cannot be encoded
# in train mode at all, and every train-mode call nudges the running statistics:

# %%
bn = m.projector.net[1]
before = bn.running_mean.clone()
with torch.no_grad():
    try:
        m.encode(x8[:1])
    except ValueError as err:
        print(f"train mode, one frame: ValueError: {err}")
    m.encode(x16)  # one more train-mode call on a narrow batch
print(f"running mean of the projector's BatchNorm moved by {float((bn.running_mean - before).norm()):.3f} "
      f"(its norm: {float(before.norm()):.3f}) after a single train-mode call")

# %% [markdown]
# The predictor adds dropout: in train mode the same input gives a different prediction at each call.

# %%
z_in = versions["eval mode"][None, :M.history]  # (1, history, D): three latents of one episode
a_in = torch.zeros(1, M.history, M.action_dim * M.frameskip, device=device)  # and some action blocks
with torch.no_grad():
    m.eval()
    twice_eval = [m.predictor(z_in, a_in) for _ in range(2)]
    m.predictor.train()
    twice_train = [m.predictor(z_in, a_in) for _ in range(2)]
print(f"predictor, same input twice: eval mode differs by {float((twice_eval[0] - twice_eval[1]).abs().max()):.2e}, "
      f"train mode (dropout {M.dropout}) by {float((twice_train[0] - twice_train[1]).abs().max()):.2e}")
del m

# %% [markdown]
# So **planning runs the model in eval mode** (`cached_run` and `load_model` return it so). The planner
# of chapter 06 encodes one current frame and one goal image and rolls out hundreds of candidates: in
# train mode the goal's latent would depend on its batch (or fail), the running statistics would
# drift, and dropout would add noise to every score. For the same reason the eval-mode held-out loss
# of section 4 is the one to check.

# %% [markdown]
# ## 6. What the latents learned
#
# The encoder was never told where the agent is. Colour each held-out frame by the agent's true
# position (left: the colour key; red grows with x, blue with y, so the top left is dark, the top right
# red, the bottom left blue and the bottom right pink) and look at its eval-mode latent two ways: on
# the latents' two principal directions (middle), and on the two directions of section 5's linear
# probe (right; fitted on the other half of the frames).

# %%
zc = Z_held - Z_held.mean(0)
U, S, V = torch.linalg.svd(zc, full_matrices=False)
pcs = zc @ V[:2].T
explained = (S[:2] ** 2 / (S**2).sum()).numpy()
colour = np.stack([held_pos[:, 0] / geo.size, 0.25 + 0 * held_pos[:, 0], held_pos[:, 1] / geo.size], 1).clip(0, 1)
read = apply_probe(W_probe, Z_held[half:]).numpy()  # probe fitted on the first half, applied to the second
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
axes[0].imshow(background(geo), extent=(0, geo.size, geo.size, 0))
axes[0].scatter(*held_pos.T, c=colour, s=4)
axes[0].set_title("agent positions of the held-out frames (colour key)", fontsize=9)
axes[1].scatter(pcs[:, 0], pcs[:, 1], c=colour, s=4)
axes[1].set_xlabel(f"PC 1 ({explained[0]:.0%} of the variance)"), axes[1].set_ylabel(f"PC 2 ({explained[1]:.0%})")
axes[1].set_title("their latents, top two principal directions", fontsize=9)
axes[2].imshow(background(geo), extent=(0, geo.size, geo.size, 0))
axes[2].scatter(*read.T, c=colour[half:], s=4)
axes[2].set_title("their latents, the two directions of the linear probe", fontsize=9)
for ax, who in ((axes[0], "true"), (axes[2], "probe's")):
    ax.set_xlim(0, geo.size), ax.set_ylim(geo.size, 0)
    ax.set_xlabel(f"{who} x (pixels)"), ax.set_ylabel(f"{who} y (pixels)")
plt.tight_layout()
plt.show()
print(f"variance explained by PC 1 and PC 2: {explained[0]:.1%}, {explained[1]:.1%}; linear probe r {r_probe:.3f}")

# %% [markdown]
# What are the strands that stick out of the middle panel? Take the quarter of the points farthest from
# its centre, find each one's nearest neighbour *in the panel*, and measure how far apart their agents
# are in the arena:

# %%
radius = pcs.norm(dim=1)
outer = torch.nonzero(radius >= radius.quantile(0.75)).squeeze(1)  # the outer quarter of the middle panel
gap = torch.cdist(pcs[outer], pcs[outer]).fill_diagonal_(float("inf"))
neighbour = outer[gap.argmin(1)]  # each outer point's nearest neighbour in the panel
apart = (held_pos[outer] - held_pos[neighbour]).norm(dim=1)
shuffled = torch.randperm(len(held_pos), generator=torch.Generator().manual_seed(0))
random_pairs = (held_pos - held_pos[shuffled]).norm(dim=1)
print(f"outer {len(outer)} points: agents {apart.median():.1f} px from their neighbour's in the panel (median); "
      f"two random frames: {random_pairs.median():.1f} px")

# %% [markdown]
# The principal directions show little: the top two hold 3.7% and 3.6% of the variance (stored run),
# not far above the 1/64 = 1.6% each of an isotropic Gaussian, as SIGReg spreads the variance over all
# 64 directions. The colours make no map there, only strands sticking out of a central blob, and the
# strands are local: in the outer quarter of the panel, neighbours are frames whose agents stand 1.9 px
# apart (median), against 20.7 px for two random frames (printed above). Each strand is
# one small patch of the arena that these two directions happen to pull out of the cloud. The map is
# there linearly: along the probe's directions the colours fall back into place, each in the corner
# the colour key gives it (r = 0.987). The arena under the left and right panels is drawn by
# `imshow(background(geo))`: the wall and door are not predicted, and a few probe points land on the
# wall.

# %% [markdown]
# Now the predictor, as in chapter 03. From several start times t0 in 64 held-out episodes, guess the
# latents of the next k = 1..10 action blocks four ways: an autoregressive rollout with the true
# actions (with `history` latents of context, or one as cpu-profile planning uses), teacher forcing
# (each guess from true latents), and "nothing moves" (the start latent again). First the episodes'
# latents and a function that scores a way of guessing:

# %%
fs = M.frameskip
n_ep = min(64, ev.frames.shape[0])
L = ev.actions.shape[1] // fs
ep_frames = np.asarray(ev.frames[:n_ep, : L * fs + 1 : fs])  # (N, L + 1, H, W, 3)
blocks = torch.from_numpy(result.stats.block(np.asarray(ev.actions[:n_ep, : L * fs]), fs)).to(device)  # (N, L, A)
H = min(10, L // 2)
with torch.no_grad():
    zs = model.encode(frames_to_tensor(ep_frames).to(device))  # (N, L + 1, D)
starts = range(0, L - H + 1, 2)


@torch.no_grad()
def squared_error(guess) -> torch.Tensor:
    """Mean squared error at k = 1..H of guess(t0) (N, H, D) against the true latents after t0, over all starts."""
    return torch.cat([(guess(t0) - zs[:, t0 + 1 : t0 + H + 1]).pow(2) for t0 in starts]).mean((0, 2)).cpu()


def teacher_forced(t0: int) -> torch.Tensor:
    """Guess k from the true latents before it (up to `history` of them): (N, H, D)."""
    return torch.stack([model.predictor(zs[:, max(0, t0 + k + 1 - M.history) : t0 + k + 1],
                                        blocks[:, max(0, t0 + k + 1 - M.history) : t0 + k + 1])[:, -1]
                        for k in range(H)], 1)


# %% [markdown]
# Each curve is a mean squared error divided by the mean squared distance between two random latents
# of these episodes (both per dimension): a random latent of these episodes, as the guess, would score
# about 1.

# %%
errors = {
    "rollout, history 1": squared_error(lambda t0: rollout(model.predictor, zs[:, t0], blocks[:, t0 : t0 + H], 1)),
    f"rollout, history {M.history}": squared_error(
        lambda t0: rollout(model.predictor, zs[:, t0], blocks[:, t0 : t0 + H], M.history)),
    "teacher forcing": squared_error(teacher_forced),
    "nothing moves": squared_error(lambda t0: zs[:, t0 : t0 + 1]),
}
flat_z = zs.reshape(-1, D)
scale = float((flat_z[torch.randperm(len(flat_z))] - flat_z).pow(2).mean())  # random pairs, squared, per dimension
curves = {k: e / scale for k, e in errors.items()}
mid = min(5, H)  # planning's horizon in the cpu profile: 5 blocks
for k, c in curves.items():
    print(f"{k:22s} k=1: {c[0]:.4f}   k={mid}: {c[mid - 1]:.4f}   k={H}: {c[-1]:.4f}")

# %%
ks = np.arange(1, H + 1)
plt.figure(figsize=(6.5, 3.6))
for (k, c), st in zip(curves.items(), ["o-", "s-", "^-", "k--"]):
    plt.plot(ks, c, st, ms=4, label=k)
plt.yscale("log"), plt.grid(alpha=0.3)
plt.xlabel(f"horizon k (action blocks of {fs} steps)")
plt.ylabel("squared error / squared distance\nbetween random latents", fontsize=8)
plt.title(f"Prediction error against the horizon, trained {cfg.profile}-profile model", fontsize=9)
plt.legend(fontsize=8)
plt.show()

# %% [markdown]
# Stored run: the rollout error (history 1) is 0.0057 at k = 1, 0.0198 at k = 5 (planning's horizon)
# and 0.0454 at k = 10, against 0.40, 0.94 and 0.98 for "nothing moves" (by k = 10 the start latent
# is almost as far from the truth as a random latent); teacher forcing stays near
# 0.005 at every k. The error compounds eightfold over ten blocks but stays more than twenty times
# below a static guess. One latent of context costs little (0.0454 against 0.0378 with three at k = 10).

# %% [markdown]
# ## 7. How strong should λ be?
#
# λ sets the exchange rate between the two terms. Short runs with λ = 0, 0.01, 0.09 (released) and 1,
# all else equal, with the short schedule of chapters 03 and 04 (cpu profile: 200 steps; runs not in
# the cache train first, in about the time printed), measured on held-out data:
# - **total variance** of the latents (collapse to a point) and **effective rank** (collapse to a few
#   directions);
# - **probe r** of the agent's position (do the latents carry the state?);
# - **held-out prediction loss**, raw and divided by the variance per dimension, MSE / (total
#   variance / D): a raw loss near zero from latents near zero is collapse, not accuracy. Always
#   answering the mean latent would score a ratio of about 1 (its MSE is the variance per dimension;
#   about, because the variance comes from held-out frames, the loss from held-out clips).
#
# The cell calls `train` on the folder where `cached_run` keeps a run (so a later `cached_run` with
# the same settings loads it) rather than `cached_run` itself, whose message quotes the time of the
# profile's full run.

# %%
STEPS, WARMUP = {"ci": (10, 2), "cpu": (200, 20), "gpu": (3000, 300)}[cfg.profile]
cfg_short = replace(cfg, train=replace(TC, steps=STEPS, warmup=WARMUP))
LAMBDAS = (0.0, 0.01, 0.09, 1.0)


def short_cfg(lam: float):
    return replace(cfg_short, train=replace(cfg_short.train, lam=lam))


def run_folder(run_cfg) -> Path:
    """The folder cached_run keeps a run with these settings in (see lewm_mini/notebook.py)."""
    return cache_dir() / "models" / f"{run_cfg.profile}-{run_cfg.run_key()}"


missing = [lam for lam in LAMBDAS if not (run_folder(short_cfg(lam)) / CHECKPOINT).exists()]
print(f"{len(missing)} of {len(LAMBDAS)} runs of {STEPS} steps to train; the others load from the cache")
if missing:  # cpu: 978 s measured for all 4 on 2 busy cores
    expect(1.5 * len(missing), 245 * len(missing), 225 * len(missing), cfg.profile)
t = time.perf_counter()
sweep = {lam: train(short_cfg(lam), run_folder(short_cfg(lam)), device=str(device)) for lam in LAMBDAS}
print(f"{len(LAMBDAS)} runs trained or loaded in {time.perf_counter() - t:.0f} s")

# %%
rows, z_sweep = {}, {}
for lam, r in sweep.items():
    z_sweep[lam] = encode_frames(r.model, held_frames).cpu()  # eval mode, (N, D)
    last = r.history[-1]
    var = float(z_sweep[lam].var(0).sum())
    rows[lam] = {"total variance": var, "effective rank": effective_rank(z_sweep[lam]), "probe r": last["probe_r"],
                 "held-out pred loss": last["val_pred"], "pred loss / var per dim": last["val_pred"] / (var / D)}
print(f"{'λ':>5s}" + "".join(f"{k:>25s}" for k in rows[LAMBDAS[0]]))
for lam, row in rows.items():
    print(f"{lam:5.2f}" + "".join(f"{v:25.4g}" for v in row.values()))

# %%
fig, axes = plt.subplots(1, 5, figsize=(17, 3.2))
xs = np.arange(len(LAMBDAS))
colours = ["tab:red", "tab:orange", "tab:green", "tab:blue"]
units = ["sum of the D variances", "number of directions", "Pearson r", "MSE", "MSE / (total variance / D)"]
for ax, key, unit in zip(axes, rows[LAMBDAS[0]], units):
    ax.bar(xs, [rows[lam][key] for lam in LAMBDAS], color=colours)
    ax.set_xticks(xs, [f"λ={lam:g}" for lam in LAMBDAS])
    ax.set_title(key, fontsize=9), ax.set_ylabel(unit, fontsize=8)
axes[0].set_yscale("log"), axes[0].axhline(D, color="k", ls=":", lw=1, label=f"N(0, I): {D}")
axes[1].axhline(D, color="k", ls=":", lw=1, label=f"D = {D}")
axes[2].set_ylim(min(0.0, min(r["probe r"] for r in rows.values())), 1)
axes[3].set_yscale("log"), axes[4].set_yscale("log")
axes[4].axhline(1, color="k", ls=":", lw=1, label="always the mean latent: 1")
for ax in (*axes[:2], axes[4]):
    ax.legend(fontsize=7)
plt.suptitle(f"λ sweep: {STEPS}-step runs, held-out frames ({cfg.profile} profile)", fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# A relative error of 1 would mean predictions no better than always answering the mean latent. To
# see where each run's error comes from, score its predictions on the held-out clips of section 4 (the
# clips behind "held-out pred loss"), split their error into the offset every prediction shares (the
# mean error vector) and the rest, and score the mean latent of the held-out frames as a guess on the
# same clips:

# %%
with torch.no_grad():
    for lam, r in sweep.items():
        z_c = r.model.encode(held.frames.to(device))  # (clips, T, D), eval mode
        err = (r.model.predict(z_c[:, :-1], held.actions[:, :-1].to(device)) - z_c[:, 1:]).cpu()
        offset = err.flatten(0, 1).mean(0)  # (D,): the error all predictions share
        mean_guess = (z_sweep[lam].mean(0) - z_c[:, 1:].cpu()).pow(2).mean()  # always answer the mean latent
        var_dim = rows[lam]["total variance"] / D
        print(f"λ = {lam:4.2f}: relative error {err.pow(2).mean() / var_dim:6.3g} = "
              f"offset {offset.pow(2).mean() / var_dim:6.3g} + rest {(err - offset).pow(2).mean() / var_dim:6.3g};  "
              f"the mean latent as a guess: {mean_guess / var_dim:.3g}")

# %% [markdown]
# The sweep is the table printed above (stored run, 200 steps per λ):
# - **λ = 0** collapses: a total variance of 0.0083, some seven thousand times below the others. Its
#   raw loss is the best; relative to the spread left it is the worst, 0.67, not far below the 1.04 of
#   always answering the mean latent on these clips (printed above). Only 0.1 of it is an offset
#   shared by all its predictions; the rest (0.57) differs from clip to clip. Its effective rank (31,
#   as high as λ = 0.09's) looks healthy: a scale-free measure misses complete collapse (chapter 04).
#   Its probe r is the lowest (0.70).
# - **λ = 0.01** spreads the latents (variance 56) into few directions (rank 14), yet scores best here
#   (probe r 0.996, relative error 0.0089): a two-dimensional state fits in a few directions.
# - **λ = 0.09** uses 31 directions at a small cost (relative error 0.028, probe r 0.953).
# - **λ = 1** is nearly isotropic (rank 50, variance 61, near D = 64) and pays: 19 times the relative
#   error of λ = 0.01, probe r 0.834.
#
# 200-step runs say nothing about planning (chapter 06 measures λ = 0.09). The LeWM paper (arXiv
# 2603.19312) reports a λ ablation by planning success on PushT, a different world: above 80% for λ
# from 0.01 to 0.2, sharply lower at 0.5.
#
# **Think.** SIGReg multiplies its integral by B (chapter 04, section 3.2). Halve B and keep
# λ = 0.09: which way would you expect the run to move in this table?
#
# <details><summary>Answer</summary>
#
# Collapsed latents score 0.40 B, Gaussian ones 1.06 at any B: halving B halves the penalty on
# collapse, as halving λ would, so expect a move towards the λ = 0.01 row. A prediction, not a
# measurement (a smaller batch also changes gradient noise and BatchNorm's statistics). To test it:
# `c = replace(cfg_short, train=replace(cfg_short.train, batch=B // 2))`, then
# `train(c, run_folder(c), device=str(device))`.
# </details>

# %% [markdown]
# ## 8. Interrupt, then resume
#
# `train` saves a checkpoint every `checkpoint_every` steps and when it stops, and resumes from it when
# called again on the same folder. Exact resumption needs more than the weights: the optimizer's
# moment estimates, the scheduler's step, and all three random streams. We train a short run straight
# through, then the same run stopped part-way (`stop_after`, as a crash would) and restarted.

# %%
STEPS_R, STOP = {"ci": (8, 5), "cpu": (60, 35), "gpu": (400, 250)}[cfg.profile]
cfg_resume = replace(cfg, train=replace(TC, steps=STEPS_R, warmup=max(1, STEPS_R // 10), eval_every=0))
demo_dir = cache_dir() / "ch05" / "resume-demo"
shutil.rmtree(demo_dir, ignore_errors=True)  # start the demonstration from scratch every time
expect(4, 40, 200, cfg.profile)
full = train(cfg_resume, demo_dir / "uninterrupted", device=str(device))
first = train(cfg_resume, demo_dir / "interrupted", device=str(device), stop_after=STOP)
print(f"interrupted after step {first.history[-1]['step']} of {STEPS_R}; checkpoint in {first.checkpoint.parent}")
resumed = train(cfg_resume, demo_dir / "interrupted", device=str(device))  # same folder: resumes
loss_diff = max(abs(a["loss"] - b["loss"]) for a, b in zip(resumed.history, full.history))
param_diff = max(float((p - q).abs().max()) for p, q in zip(resumed.model.state_dict().values(),
                                                            full.model.state_dict().values()))
print(f"resumed run: {len(resumed.history)} steps; uninterrupted: {len(full.history)} steps")
print(f"max |loss difference| over all steps: {loss_diff:.2e}; max |weight difference| at the end: {param_diff:.2e}")

# %%
plt.figure(figsize=(6.5, 3.2))
plt.plot([h["step"] for h in full.history], [h["loss"] for h in full.history], lw=3, alpha=0.4,
         label="uninterrupted")
plt.plot([h["step"] for h in resumed.history], [h["loss"] for h in resumed.history], "k--", lw=1,
         label="interrupted and resumed")
plt.axvline(STOP, color="tab:red", ls=":", label=f"interrupted after step {STOP}")
plt.yscale("log"), plt.xlabel("step"), plt.ylabel("training loss")
plt.title(f"max |difference| {loss_diff:.1e}", fontsize=9)
plt.legend(fontsize=8)
plt.show()

# %% [markdown]
# The curves coincide: the resumed run repeats the uninterrupted one to the last bit (stored run:
# largest difference 0). Without the sampler's state it would see other clips; without the
# optimizer's moments Adam would restart its averages from zero.

# %% [markdown]
# ## 9. Check: the inline versions are `lewm_mini`'s
#
# `lewm_loss` against `LeWM.loss` on a fixed seed (same dropout masks, same SIGReg directions), then
# the inline loop of section 3 against `lewm_mini.train.train`: every step's loss and the final
# weights must agree.

# %%
torch.manual_seed(0)
fresh = LeWM(M, num_proj=TC.num_proj).to(device).train()
fr, ac = (x.to(device) for x in ClipSampler(train_eps, M.history, M.frameskip, seed=123).sample(min(B, 32)))
torch.manual_seed(1)
ours = lewm_loss(fresh, fr, ac, TC.lam, torch.Generator(device=device).manual_seed(2))
torch.manual_seed(1)
theirs = fresh.loss(fr, ac, lam=TC.lam, generator=torch.Generator(device=device).manual_seed(2))
for k in ("loss", "pred", "sigreg"):
    torch.testing.assert_close(ours[k], theirs[k])
print(f"lewm_loss == LeWM.loss: loss {ours['loss'].item():.5f}, pred {ours['pred'].item():.5f}, "
      f"sigreg {ours['sigreg'].item():.4f}")

# %%
with tempfile.TemporaryDirectory() as tmp:
    pkg = train(cfg_inline, tmp, device=str(device), resume=False, progress=False)
tol = {"rtol": 2e-2, "atol": 1e-3} if device.type == "cuda" else {}  # bfloat16 and GPU kernels: last bits differ
torch.testing.assert_close(torch.tensor([h["loss"] for h in pkg.history]),
                           torch.tensor([h["loss"] for h in inline_history]), **tol)
for (k, p), q in zip(pkg.model.state_dict().items(), inline_model.state_dict().values()):
    torch.testing.assert_close(p, q, msg=f"{k} differs", **tol)
print(f"inline loop == lewm_mini.train over {N_INLINE} steps (losses and final weights)")
print(f"notebook compute time: {time.perf_counter() - T0:.0f} s")

# %% [markdown]
# ## Summary
#
# - LeWM's loss: every frame encoded in one batch; teacher-forced predictions from steps 1..T-1
#   against the latents of steps 2..T; SIGReg per time step on (T, B, D); loss = prediction +
#   λ · SIGReg, λ = 0.09.
# - The untrained model starts near collapse: before BatchNorm the real frames' features vary about as
#   little as its ε, and the layers after it shrink the latents further.
# - A step is zero_grad, backward, clip to norm 1, AdamW step, schedule step; an exact resume also
#   needs the optimizer, the scheduler and the three random streams.
# - Read the curves together: SIGReg on its plateau just above 1 with a falling prediction loss is
#   learning; a prediction loss near zero with SIGReg near 0.40 B is collapse. The held-out
#   (eval-mode) loss joined the training loss only late (within a factor 2 from step 1700 of 2500);
#   lagging BatchNorm running statistics are a likely cause, not a measured one.
# - In train mode a latent depends on its batch: planning runs in eval mode.
# - λ trades Gaussian spread against predictability. In the 200-step sweep λ = 0 collapsed; λ = 0.01
#   used the fewest directions (rank 14) yet scored best on probe r and relative error; λ = 1 was the
#   most isotropic and the worst of the three non-collapsed runs on both. Planning success is another
#   matter, measured in chapter 06.
#
# **The trained model stays in the cache:** chapters 06 to 09 and 11 load it with `cached_run(cfg)`, or
# train it first if it is missing (a fresh Colab session).
#
# ## Check your understanding
#
# **1.** Write the shapes of z, the predictor's input, its output and the targets for B = 128,
# history 3, D = 64. Which frame's latent is never a target, and which is never an input?
#
# <details><summary>Answer</summary>
#
# T = 4: z is (128, 4, 64); the predictor reads z[:, :3] (128, 3, 64) with the action blocks
# (128, 3, 10) and returns (128, 3, 64), compared with the targets z[:, 1:] (128, 3, 64). The first
# frame's latent is never a target, the last frame's never an input (both are in SIGReg).
#
# </details>
#
# **2.** Put λ on the prediction term instead (λ · MSE + SIGReg). Which row of the λ table does that
# resemble, and why?
#
# <details><summary>Answer</summary>
#
# Dividing by λ gives MSE + (1/λ) · SIGReg, a SIGReg weight of 1/0.09 ≈ 11 (Adam's steps barely
# depend on a loss's overall scale, apart from its ε and gradient clipping). That is eleven times the
# largest λ of the table, beyond its λ = 1 row; the table shows the trend up to there: from λ = 0.09
# to 1 the rank rose (31 to 50) while the relative error grew 6.1 times (0.028 to 0.17) and probe r
# fell (0.953 to 0.834). Expect more of the same at 11: a guess, not a measured row.
#
# </details>
#
# **3.** A run's prediction loss reaches 1e-6 in 200 steps. Name two numbers you would check before
# celebrating.
#
# <details><summary>Answer</summary>
#
# SIGReg (near 0.40 B means collapse) and the total variance of the latents (the loss relative to it);
# probe r tells whether the latents still carry the state.
#
# </details>
#
# **4.** Why can a train-mode encoder not encode one goal image, and why would encoding it together
# with the current frame be wrong too?
#
# <details><summary>Answer</summary>
#
# One sample has no batch variance, and PyTorch refuses. With two frames each is normalised against
# the other, so the goal's latent depends on the current frame (pairs moved the latents by 0.83
# typical distances in section 5). Eval mode gives each frame one latent.
#
# </details>
#
# ## Further reading
#
# - L. Maes et al. *LeWorldModel* (2026), arXiv 2603.19312: the objective, the training recipe, the λ
#   ablation.
# - R. Balestriero, Y. LeCun. *LeJEPA* (2025), arXiv 2511.08544: SIGReg and its minimal training loop.
# - S. Ioffe, C. Szegedy. *Batch Normalization* (2015), arXiv 1502.03167, and the PyTorch notes on
#   `model.train()` / `model.eval()`.
# - L. Liu et al. *On the Variance of the Adaptive Learning Rate and Beyond* (2020), arXiv 1908.03265: why
#   Adam needs a warm-up.
# - I. Loshchilov, F. Hutter. *Decoupled Weight Decay Regularization* (AdamW, 2019), arXiv 1711.05101;
#   *SGDR* (2017), arXiv 1608.03983 (cosine schedules).
# - Next: chapter 06, planning with this model: CEM in latent space and model-predictive control.
