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
# This chapter puts them together and trains the whole world model from pixels, on purpose and in
# the open: the objective line by line, one optimizer step, the loop, then the full run of your size
# profile, and what to look at while it trains.
#
# **What you build:** LeWM's two-term objective (prediction error + λ · SIGReg) from a batch of clips,
# one training step and the training loop; then you train the profile's model with the package, read
# its training curves (prediction loss, SIGReg, held-out loss, effective rank, probe r), see what
# BatchNorm's train and eval modes change, look at the learned latent space, sweep λ, and interrupt
# and resume a run.
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
# **Time:** reading about 50 min.
#
# **Compute** (measured by `tools/execute_notebooks.py`, in a fresh kernel): CPU, cpu profile 2.2 min on 2
# cores of AMD EPYC (torch 2.13.0+cpu, 2026-11-25, reusing what earlier runs left in the cache, machine
# busy: load 1.7); ci profile 9 s (reusing what earlier runs left in the cache, machine busy: load 1.3).

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
from lewm_mini.train import amp_dtype, lr_lambda, param_groups, train
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
# Training samples **clips**: `history + 1` = T frames, `frameskip` environment steps apart, from the
# offline episodes of chapter 01, with the z-scored action block between each frame and the next. A
# batch is frames (B, T, 3, H, W) and action blocks (B, T, A); the last block of a clip leads out of the
# clip and is never used. In the two clips drawn below, follow the red blob along each row: it is the
# only thing that changes from one frame to the next, and what the predictor will have to forecast.

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
# A fresh model, in training mode. All B·T frames go through the encoder and the projector **as one
# batch**, so the projector's BatchNorm computes its statistics over every frame of every clip (this
# is what `LeWM.encode` does). In the heatmap, each row is one frame's latent and each column one of
# the D dimensions: look down the columns (most keep their colour from frame to frame, so the four
# latents of a clip are alike) and at the colour bar (their scale, which section 1.4 compares with the
# unit scale SIGReg asks for).

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
# The predictor reads latents 1..T-1 with their action blocks and, thanks to its causal mask, returns
# T-1 guesses in one pass: output t is its guess of $z_{t+1}$. So the **targets are the latents
# shifted by one**:
#
# ```
#  inputs    z_1,a_1   z_2,a_2   z_3,a_3
#  outputs   ẑ_2       ẑ_3       ẑ_4
#  targets   z_2       z_3       z_4        (the encoder's latents of frames 2..T)
# ```
#
# There is no stop-gradient: the targets are the same tensor `z` the encoder just produced, so the
# error's gradient reaches the encoder through the inputs **and** through the targets.

# %%
pred = model.predictor(z[:, :-1], actions[:, :-1])  # (B, T-1, D)
target = z[:, 1:]  # (B, T-1, D)
pred_loss = F.mse_loss(pred, target)
per_position = (pred - target).pow(2).mean((0, 2)).detach()
print(f"pred {tuple(pred.shape)}, target {tuple(target.shape)}; prediction loss {pred_loss.item():.4f}")
print("error per output position:", [round(float(e), 4) for e in per_position])

# %% [markdown]
# ### 1.4 SIGReg, per time step
# SIGReg wants its input as (T, B, D): for each time step it tests whether the B latents of that frame
# position look like samples of N(0, I), then averages over time steps and random directions. Why per
# time step: the B latents of one step come from B different clips, close to independent samples,
# while the T latents of one clip are consecutive frames of one trajectory, strongly dependent.
#
# SIGReg draws fresh random directions at every call (chapter 04, section 3.3; so do the released
# code and LeJEPA's reference); we pass a seeded generator so the values here are reproducible. With
# the same directions, the (T, B, D) call is exactly the mean of the T per-step statistics. Two
# reference values from chapter 04 (section 3.2) mark the figure: because SIGReg multiplies its
# integral by the batch size B, samples of N(0, I) score about 1.06 at any B, while a batch of
# identical latents scores 0.40 B (with our 17 knots). As a control, the same untrained model also
# encodes a batch of uniform-noise frames, every one different from every other.

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
# The untrained model starts close to collapse: SIGReg near its collapsed value 0.40 B (the stored
# cpu-profile run: 41.8 against 0.40 B = 51; yours is printed above). The frames all look alike (a
# white floor and one small blob), but that is not the main reason: the uniform-noise frames, all
# different, score nearly as high (36.3 in the stored run). What the two batches share is a small
# spread: the total variance of their latents is a small fraction of the D of N(0, I) samples (4.1
# for real frames and 7.4 for noise, against 64). That scale is set by the untrained projector: its
# BatchNorm gives its hidden features at most unit variance, and the GELU and the last linear layer
# (at PyTorch's default initialisation) shrink them further. For SIGReg, which compares every
# direction with unit variance, such a tight cloud is almost a point. Similar frames make it tighter
# still (the smaller variance of the real frames).
#
# ### 1.5 Two terms
# $$\mathcal{L} = \underbrace{\mathrm{MSE}(\hat z_{2..T},\, z_{2..T})}_{\text{prediction}} + \lambda\,
# \underbrace{\mathrm{SIGReg}(z_{1..T})}_{\text{anti-collapse}}, \qquad \lambda = 0.09.$$
# That is the whole objective: no EMA target, no reconstruction, no pretrained encoder, no extra terms.
# Collected into one function (it is `LeWM.loss`, compared in section 9):

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
# At initialisation the SIGReg term is the larger one (the stored cpu-profile run: 3.76 against 0.21;
# yours is printed above): the latents are far from N(0, I). Early training is therefore mostly about
# spreading the latents out; prediction takes over once SIGReg is near its floor.
#
# **Exercise 5.1** (in `exercises/05_training_lewm_exercises.ipynb`) asks for this loss when the data
# comes time-major, (T, B, ...), a layout that tests where every axis goes.
#
# **Think.** Why is $z$ not detached in the targets? What would happen to the encoder's gradient, and
# to collapse, if it were?
#
# <details><summary>Answer</summary>
#
# LeWM trains end to end: the encoder gets gradient from both sides of the error, which is fine
# because SIGReg stops the easy way out (all latents equal). Detached targets would pass the error's
# gradient to the encoder only through the predictor's inputs. That is the stop-gradient of BYOL and
# SimSiam, and nothing in such a loss forbids collapse: those methods avoid it through training
# dynamics, BYOL with an EMA target, SimSiam with a predictor and no EMA (chapter 04, section 2). With
# SIGReg in the loss, the collapsed solution is penalised directly, so LeWM needs no stop-gradient.
# </details>

# %% [markdown]
# ## 2. One training step
#
# The optimizer is AdamW with weight decay 1e-3 on the weight matrices and convolution kernels only
# (biases, norm weights and positional embeddings are not decayed; `lewm_mini.train.param_groups`
# makes the two groups). The learning rate warms up linearly for
# `warmup` steps and then follows a cosine down to 5% of its peak. One step, line by line, on the
# batch above:

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
# In the figure, compare each bar with the dotted clip line (the total is what clipping looks at) and
# the parts with each other: which part of the model receives the largest gradient at the start?

# %%
fig, ax = plt.subplots(figsize=(5, 2.6))
ax.bar(list(part_norms) + ["total"], list(part_norms.values()) + [total_norm], color="tab:blue")
ax.axhline(TC.grad_clip, color="tab:red", ls=":", label=f"clip at {TC.grad_clip}")
ax.set_ylabel("gradient norm"), ax.set_title("gradients of the first step", fontsize=9)
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Each line prevents a specific failure:
# - `zero_grad` first: `backward` *adds* to `.grad`; without it every step would also apply all earlier
#   gradients;
# - `backward` before `step`: the optimizer uses whatever `.grad` holds when `step` runs;
# - **clipping** to norm 1.0 (the released recipe's value): the gradient is rescaled to length at most
#   1 (same direction) before the optimizer sees it. Adam divides each step by a running average of
#   squared gradients (decay 0.999 by default, so one value weighs on it for hundreds of steps); one
#   huge gradient (a rare bad batch) would inflate that average and shrink the steps that follow.
#   Clipping caps what goes into the averages. Section 3 shows that clipping is active in these runs;
#   this chapter does not train without it, so how much it matters here is untested;
# - **warm-up**: Adam's first updates come from poorly estimated moment statistics (Liu et al. 2020,
#   further reading); small steps first.
#
# Two more guards, as in the package's loop: refuse to step on a non-finite loss (the package also says
# which checkpoint was the last good one), and on a GPU compute the forward pass in bfloat16, or in
# float16 on GPUs without bfloat16. float16 needs a **gradient scaler**: small gradients underflow to
# zero in float16, so the scaler multiplies the loss up before `backward`, divides the gradients back
# (`unscale_`) before clipping, and skips a step whose gradients overflowed. On the CPU and with
# bfloat16 the scaler is switched off and each of its calls is a plain `backward` or `step`. As a
# function:

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
# **Exercise 5.2** writes a variant of this step that accumulates gradients over micro-batches of
# unequal sizes, the trick for a batch that does not fit in memory, and shows why it is not exact for
# LeWM.

# %% [markdown]
# ## 3. The loop
#
# A training run is this step repeated, with everything random seeded so that a run can be repeated
# exactly: the model's initialisation and dropout (torch's global generator), the clip sampler
# (numpy), and SIGReg's directions (their own generator). We run a few dozen steps inline, with a
# short schedule so that warm-up and decay both fit.

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
expect(3, 15, 30, cfg.profile)
t = time.perf_counter()
inline_model, inline_history = inline_train(cfg_inline)
print(f"{N_INLINE} steps in {time.perf_counter() - t:.1f} s; SIGReg {inline_history[0]['sigreg']:.2f} -> "
      f"{inline_history[-1]['sigreg']:.2f}, prediction loss {inline_history[0]['pred']:.4f} -> "
      f"{inline_history[-1]['pred']:.4f}")
peak = max(inline_history, key=lambda h: h["pred"])
print(f"prediction loss peaks at {peak['pred']:.4f} (step {peak['step']})")
clipped = sum(h["grad_norm"] > TC.grad_clip for h in inline_history)
print(f"gradient norm above the clip threshold {TC.grad_clip} in {clipped} of {N_INLINE} steps "
      f"(largest {max(h['grad_norm'] for h in inline_history):.2f})")

# %%
fig, axes = plt.subplots(1, 4, figsize=(16, 3.2))
steps = [h["step"] for h in inline_history]
axes[0].plot(steps, [h["pred"] for h in inline_history], "o-", ms=3)
axes[0].set_title("prediction loss", fontsize=9)
axes[1].plot(steps, [h["sigreg"] for h in inline_history], "o-", ms=3, color="tab:purple")
axes[1].axhline(1.06, color="k", ls=":", lw=1, label="N(0, I): 1.06")
axes[1].set_yscale("log"), axes[1].set_title("SIGReg", fontsize=9), axes[1].legend(fontsize=8)
axes[2].plot(steps, [h["grad_norm"] for h in inline_history], "o-", ms=3, color="tab:gray")
axes[2].axhline(TC.grad_clip, color="tab:red", ls=":", lw=1, label=f"clipped above {TC.grad_clip}")
axes[2].set_title("gradient norm before clipping", fontsize=9), axes[2].legend(fontsize=8)
for ax in axes[:3]:
    ax.set_xlabel("step")
full_steps = np.arange(TC.steps)
axes[3].plot(full_steps, [TC.lr * lr_lambda(TC.warmup, TC.steps)(s) for s in full_steps], color="tab:green")
axes[3].set_title(f"learning rate of the full {cfg.profile}-profile run", fontsize=9)
axes[3].set_xlabel("step")
plt.tight_layout()
plt.show()

# %% [markdown]
# In a few dozen steps SIGReg falls fast (the latents spread out) while the prediction loss may even
# *rise*: spread-out latents are harder to predict than the untrained encoder's. (The stored
# cpu-profile run: SIGReg from 41.8 to 4.15 in 30 steps, while the prediction loss climbs from 0.215
# to 0.65 at step 10 and is back at 0.34 by step 30; yours is printed above.) The third panel shows
# that clipping is active: in the stored run the gradient norm is above 1 at every one of these 30
# steps (up to 6.4), so every step is rescaled. Whether these runs would do worse without clipping is
# not tested here. The right panel is the schedule the full run uses.

# %% [markdown]
# ## 4. The full run, with the package
#
# `lewm_mini.train.train` is this loop plus what a long run needs: checkpoints that can be resumed
# exactly (section 8), the non-finite guard, a progress bar, and a **held-out evaluation** every
# `eval_every` steps: a fixed set of clips from the evaluation episodes (another seed, never trained
# on), scored in eval mode, recording the two loss terms (`val_pred`, `val_sigreg`), the effective
# rank of their latents (`rank`) and the Pearson r of a linear probe of the agent's position
# (`probe_r`; fit on half of those frames, scored on the other half).
#
# `lewm_mini.notebook.cached_run(cfg)` trains with the profile's configuration, or loads the run from
# the cache when it exists (`python -m lewm_mini train` and chapters 06 to 09 use the same cache).

# %%
result = cached_run(cfg)  # prints whether it loads the run or trains it, and how long training takes
model = result.model.to(device).eval()
hist = result.history
val = [h for h in hist if "val_pred" in h]
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


# %%
s = [h["step"] for h in hist]
vs = [h["step"] for h in val]
fig, axes = plt.subplots(2, 2, figsize=(11, 6.4))
ax = axes[0, 0]
ax.plot(s, [h["pred"] for h in hist], color="tab:blue", alpha=0.25, lw=0.8)
ax.plot(s, smooth([h["pred"] for h in hist]), color="tab:blue", label="training batches (smoothed)")
ax.plot(vs, [h["val_pred"] for h in val], "o-", color="tab:orange", ms=4, label="held-out clips, eval mode")
ax.set_yscale("log"), ax.set_ylabel("MSE"), ax.set_title("prediction loss", fontsize=9)
ax = axes[0, 1]
ax.plot(s, [h["sigreg"] for h in hist], color="tab:purple", alpha=0.25, lw=0.8)
ax.plot(s, smooth([h["sigreg"] for h in hist]), color="tab:purple", label="training batches (smoothed)")
ax.plot(vs, [h["val_sigreg"] for h in val], "o-", color="tab:orange", ms=4, label="held-out clips")
ax.axhline(0.40 * B, color="tab:red", ls=":", lw=1, label=f"collapsed: 0.40 B = {0.40 * B:.0f}")
ax.axhline(1.06, color="k", ls=":", lw=1, label="N(0, I): 1.06")
ax.set_yscale("log"), ax.set_ylabel("SIGReg"), ax.set_title("SIGReg", fontsize=9)
ax = axes[1, 0]
ax.plot(vs, [h["rank"] for h in val], "o-", color="tab:green", ms=4)
ax.set_ylim(0, D), ax.set_ylabel("effective rank")
ax.set_title(f"effective rank of held-out latents (of D = {D})", fontsize=9)
ax = axes[1, 1]
ax.plot(vs, [h["probe_r"] for h in val], "o-", color="tab:red", ms=4)
ax.axhline(0.996, color="k", ls=":", lw=1, label="LeWM paper, Two-Room: 0.996")
ax.set_ylabel("Pearson r"), ax.set_title("linear probe of the agent position", fontsize=9)
for ax in axes.flat:
    ax.set_xlabel("step")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
plt.suptitle(f"{cfg.profile}-profile training run, {hist[-1]['step']} steps", fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# How to read the four panels of a full run. The numbers quoted are those of the stored cpu-profile
# run (the one whose outputs you see on GitHub); yours are printed above the figure, and under the ci
# profile, 30 steps, the curves have barely started.
# - **SIGReg** on training batches starts near the collapsed value 0.40 B (41.8 at step 1), falls
#   below 5 by step 43, then creeps down to a plateau a little above the 1.06 of true Gaussian
#   samples (1.56 on average over the last 100 steps). It does not reach 1.06: the frames differ only
#   by the agent's position, so their latents lie on a two-dimensional surface inside the
#   64-dimensional space, which can look Gaussian along random directions but never exactly. The LeWM
#   paper raises the same point for Two-Room: it suspects that the low intrinsic dimension of its
#   state makes the Gaussian prior hard to match. Two-Room is not LeWM's lowest score (87%, against
#   74% on OGBench-Cube), but it is the one environment where both baselines beat it (PLDM 97%,
#   DINO-WM 100%; the Two-Room values are read off the bar chart of the paper's Fig. 6).
#   The held-out points sit higher (2.9 at the end), partly because they test 256 clips at once: for
#   latents that are not exactly Gaussian the statistic grows with the number of samples (the factor
#   N of chapter 04).
# - **Prediction loss** first *rises* (0.215 at step 1, 0.59 at step 42): the latents spread out,
#   so there is more to predict. Then it falls for the rest of the run (0.018 at the end). On its own
#   a falling prediction loss means nothing (chapter 04's collapsed run had the lowest of all); it
#   means something together with SIGReg on its plateau.

# %% [markdown]
# - **Held-out, eval mode**: far above the training curves early and jumpy, then closing in. At the
#   first evaluation (step 100) the held-out prediction loss is 2.8 and SIGReg 290. For 256 clips a
#   collapsed batch would score 0.40 × 256 = 102, so 290 is not collapse: SIGReg also scores high
#   for latents far from N(0, I) the other way, spread much wider than unit variance or far
#   off-centre, and those can score above a collapsed batch. At the end the held-out loss is a little
#   below the training batches' (0.013 against 0.018); the two differ in their clips and in the mode
#   (eval mode: no dropout, BatchNorm's running statistics), and this run does not separate the two.
#   A likely reason for the early gap, not measured here: the encoder has no dropout, so for its
#   latents the only difference between the modes is BatchNorm, and eval mode uses running averages
#   of the batch statistics, which lag behind weights that change fast early in the run; as the
#   learning rate decays they catch up. Section 5 measures what the two modes do to the trained
#   model. The eval-mode numbers are the planner's: check those, not only the training loss.
# - **Effective rank** rises through the whole run (28 at step 100, 45 of 64 at the end) while the
#   **probe r** is high from the first evaluation (0.97 at step 100, 0.98 at the end): the agent's
#   position is learned early, and the rest of the run refines the dynamics and spreads the latents
#   over more directions. The dotted line is the linear-probe r that the LeWM paper reports for its
#   full-size model on Two-Room (0.996), for scale; our model and frames are smaller.
#
# **Think.** The held-out points always score the same clips, with the same SIGReg directions (a
# fixed generator), and yet in the first half of the run they jump up and down from one evaluation to
# the next. What changes between two evaluations, and why does it settle late in the run?
#
# <details><summary>Answer</summary>
#
# Only the model: its weights and BatchNorm's running statistics. Those are running averages of the
# batch statistics (momentum 0.1: roughly the last ten batches), so while the learning rate is high
# and the weights move a lot from step to step, they describe slightly older networks, and eval mode
# normalises the current network with statistics that do not quite fit it. As the learning rate
# decays the weights change slowly and the running statistics fit again. (That is the likely
# mechanism; the run stores no mid-run checkpoints to measure it with.)
# </details>

# %% [markdown]
# ## 5. BatchNorm: train mode and eval mode
#
# The projector (and the predictor's `pred_proj`) contains a BatchNorm1d layer. In **train mode** it
# normalises each hidden feature with the mean and variance *of the current batch*, and updates its
# running averages of them; in **eval mode** it uses those running averages and changes nothing.
# Dropout in the predictor is on in train mode, off in eval mode. The weights are the same in both.
#
# So in train mode, a frame's latent depends on which other frames share its batch. Below, the same 8
# held-out frames (the start of one episode) are encoded: in eval mode; in train mode inside a batch
# of 256 random held-out frames; in train mode inside a batch of 16 consecutive frames of their own
# episode; and in train mode as a batch of 2. A linear probe fitted on eval-mode latents then reads
# the agent's position off each version.

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
# In eval mode a frame has one latent, whatever else is in the batch. In train mode its latent depends
# on its company. With the fully trained model, a large and varied batch has statistics close to the
# running averages and moves it little, while a batch of near-identical frames (one stretch of one
# episode) or a pair is normalised against itself and lands somewhere else (the stored cpu-profile
# run: 0.09, 0.74 and 0.74 typical distances, probe errors 7.5, 38.8 and 31.4 px against 7.5 px in
# eval mode). Under the ci profile the model is barely trained and your numbers above need not follow
# this pattern. A single frame cannot be encoded in train mode at all, and every
# train-mode call also nudges the running statistics:

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
# This is why **planning runs the model in eval mode** (`cached_run` and `load_model` return it so).
# The planner of chapter 06 encodes one current frame and one goal image (a batch of 1 or 2) and
# rolls out hundreds of candidate action sequences: in train mode the goal's latent would depend on
# what it was batched with (or fail outright), the running statistics would drift while planning, and
# dropout would add noise to every candidate's score. Eval mode makes the model a fixed function.
#
# **Think.** The training loss is computed in train mode and the held-out loss in eval mode. Which of
# the two is the right number for "how well does the planner's model predict"?
#
# <details><summary>Answer</summary>
#
# The eval-mode one: planning uses the model in eval mode, with BatchNorm's running statistics and no
# dropout. The training loss also differs by the dropout noise and the per-batch normalisation.
# </details>

# %% [markdown]
# ## 6. What the latents learned
#
# The encoder was never told where the agent is. Colour each held-out frame by the agent's true
# position (left: the colour key over the arena) and look at its latent (eval mode) in two ways: on
# the two principal directions of the latents (middle), and on the two directions the linear probe
# of section 5 found (right; the probe was fitted on the other half of the frames).

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
# The principal directions show little: in the stored cpu-profile run the top two hold 4.1% and 4.0%
# of the variance, not much above the 1/64 = 1.6% each of an isotropic Gaussian, because SIGReg
# spreads the variance over all 64 directions. Points of one colour gather along strands, but there
# is no map. The map is there all the same, linearly: along the probe's two directions the arena
# reappears, with the wall and the door (r = 0.988 on these frames).
#
# Now the predictor. As in chapter 03, compare, for every start and horizon k, the error of an
# autoregressive rollout with the true actions against the teacher-forced one-step error and against
# "nothing moves", normalised by the distance between two random latents. The rollout uses `history`
# latents of context (chapter 03) and, as planning in the cpu profile does, one latent of context.

# %%
fs = M.frameskip
n_ep = min(64, ev.frames.shape[0])
L = ev.actions.shape[1] // fs
ep_frames = np.asarray(ev.frames[:n_ep, : L * fs + 1 : fs])  # (N, L + 1, H, W, 3)
blocks = torch.from_numpy(result.stats.block(np.asarray(ev.actions[:n_ep, : L * fs]), fs)).to(device)  # (N, L, A)
H = min(10, L // 2)
with torch.no_grad():
    zs = model.encode(frames_to_tensor(ep_frames).to(device))  # (N, L + 1, D)
    errs = {"rollout, history 1": [], f"rollout, history {M.history}": [], "teacher forcing": [], "nothing moves": []}
    for t0 in range(0, L - H + 1, 2):
        true = zs[:, t0 + 1 : t0 + H + 1]
        errs["rollout, history 1"].append((rollout(model.predictor, zs[:, t0], blocks[:, t0 : t0 + H], 1) - true))
        errs[f"rollout, history {M.history}"].append(
            rollout(model.predictor, zs[:, t0], blocks[:, t0 : t0 + H], M.history) - true)
        tf = torch.stack([model.predictor(zs[:, max(0, t0 + k + 1 - M.history) : t0 + k + 1],
                                          blocks[:, max(0, t0 + k + 1 - M.history) : t0 + k + 1])[:, -1]
                          for k in range(H)], 1)
        errs["teacher forcing"].append(tf - true)
        errs["nothing moves"].append(zs[:, t0 : t0 + 1] - true)
flat_z = zs.reshape(-1, D)
scale = float((flat_z[torch.randperm(len(flat_z))] - flat_z).pow(2).mean())
curves = {k: torch.cat(v).pow(2).mean((0, 2)).cpu() / scale for k, v in errs.items()}
mid = min(5, H)  # planning's horizon in the cpu profile: 5 blocks
for k, c in curves.items():
    print(f"{k:22s} k=1: {c[0]:.4f}   k={mid}: {c[mid - 1]:.4f}   k={H}: {c[-1]:.4f}")

# %%
ks = np.arange(1, H + 1)
plt.figure(figsize=(6.5, 3.6))
for (k, c), st in zip(curves.items(), ["o-", "s-", "^-", "k--"]):
    plt.plot(ks, c, st, ms=4, label=k)
plt.yscale("log"), plt.grid(alpha=0.3)
plt.xlabel(f"horizon k (action blocks of {fs} steps)"), plt.ylabel("error / random-pair distance")
plt.title(f"Prediction error against the horizon, trained {cfg.profile}-profile model", fontsize=9)
plt.legend(fontsize=8)
plt.show()

# %% [markdown]
# On the stored cpu-profile run: the rollout error (history 1) is 0.0049 at k = 1, 0.0305 at k = 5 (the
# horizon planning uses) and 0.079 at k = 10, against 0.38, 0.94 and 1.00 for "nothing moves";
# teacher forcing stays near 0.005 at every k. The error compounds, sixteen-fold over ten blocks, but
# stays more than ten times below a static guess. One latent of context costs little (0.079 against
# 0.068 with three at k = 10).

# %% [markdown]
# ## 7. How strong should λ be?
#
# λ sets the exchange rate between the two terms. We train short runs with λ = 0, 0.01, 0.09 (the
# released value) and 1, all else equal, with the short schedule of chapters 03 and 04 (cpu profile:
# 200 steps, so the λ = 0 and λ = 0.09 runs come from the cache if you ran those chapters; runs not
# in the cache are trained first, in about the time printed before the cell starts, and take seconds
# once cached), and measure on held-out data:
# - **total variance** of the latents (collapse to a point shows here) and **effective rank** (collapse
#   to a few directions shows here);
# - **probe r** of the agent's position (do the latents carry the state?);
# - **held-out prediction loss**, raw and divided by the latents' variance per dimension: a raw loss
#   near zero from latents near zero is collapse, not accuracy. The ratio has a natural yardstick: a
#   "predictor" that always answers the mean latent makes a squared error per dimension equal to the
#   variance per dimension, so a ratio near 1 is no better than that constant guess and above 1 is
#   worse than it (the variance comes from the held-out frames, the loss from the held-out clips, so
#   the yardstick is approximate).

# %%
STEPS, WARMUP = {"ci": (10, 2), "cpu": (200, 20), "gpu": (3000, 300)}[cfg.profile]
cfg_short = replace(cfg, train=replace(TC, steps=STEPS, warmup=WARMUP))
LAMBDAS = (0.0, 0.01, 0.09, 1.0)
expect(6, 200, 900, cfg.profile)
t = time.perf_counter()
sweep = {lam: cached_run(replace(cfg_short, train=replace(cfg_short.train, lam=lam))) for lam in LAMBDAS}
print(f"{len(LAMBDAS)} runs of {STEPS} steps trained or loaded in {time.perf_counter() - t:.0f} s")
rows = {}
for lam, r in sweep.items():
    z_l = encode_frames(r.model, held_frames).cpu()  # eval mode, (N, D)
    last = r.history[-1]
    var = float(z_l.var(0).sum())
    rows[lam] = {"total variance": var, "effective rank": effective_rank(z_l), "probe r": last["probe_r"],
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
# What the stored cpu-profile sweep measured (200 steps each; yours is printed above):
#
# | λ | total variance | effective rank | probe r | held-out pred loss | pred loss / var per dim |
# |---|---|---|---|---|---|
# | 0 | 0.0062 | 34.1 | 0.68 | 0.00043 | 4.47 |
# | 0.01 | 58.6 | 12.7 | 0.996 | 0.011 | 0.012 |
# | 0.09 | 61.0 | 31.3 | 0.980 | 0.026 | 0.027 |
# | 1 | 64.0 | 50.0 | 0.866 | 0.178 | 0.178 |
#
# - **λ = 0** collapses completely: a total variance ten thousand times below the others. Its raw
#   prediction loss is the best by far, and relative to the spread that is left the worst by far:
#   4.47, worse than always answering the mean latent (1).
#   Its effective rank (34) looks healthy: a scale-free measure misses complete collapse (chapter 04).
# - **λ = 0.01** spreads the latents (variance 59) but into few directions (effective rank 13):
#   dimensional collapse. By the two measures here it is still the best of the four (probe r 0.996,
#   relative prediction error 0.012): a two-dimensional state fits in a few directions.
# - **λ = 0.09** uses 31 directions, at a small cost in relative prediction error (0.027) and probe r
#   (0.980).
# - **λ = 1** makes the latents nearly isotropic (rank 50, variance 64 = D) and pays for it: a
#   relative prediction error 15 times that of λ = 0.01, and probe r 0.87. The regulariser now fights
#   the structure the predictor needs.
#
# λ picks a point on this trade-off; 200-step runs say nothing about planning, which chapter 06
# measures for λ = 0.09. The LeWM paper reports a λ ablation on another environment, PushT, measured
# by planning success: above 80% for λ from 0.01 to 0.2, dropping sharply at 0.5.
#
# **Think.** SIGReg multiplies its integral by the batch size B (chapter 04, section 3.2: that is what
# keeps the Gaussian value near 1.06 at any B). If you halve B and keep λ = 0.09, which way would you
# expect the run to move in this table?
#
# <details><summary>Answer</summary>
#
# The penalty on non-Gaussian latents shrinks with B: collapsed latents score 0.40 B, so halving B
# halves it, while Gaussian latents still score about 1.06. So λ pushes less hard against collapse,
# as a smaller λ would (chapter 04: changing B changes the effective strength of λ), and you would
# expect a move towards the λ = 0.01 row; doubling λ keeps the collapse penalty as it was. This is
# a prediction, not a measurement: a smaller batch also changes the gradient noise and BatchNorm's
# statistics. To test it, train
# `cached_run(replace(cfg_short, train=replace(cfg_short.train, batch=B // 2)))` and compare its row.
# </details>

# %% [markdown]
# ## 8. Interrupt, then resume
#
# A long run on a laptop or a Colab session gets interrupted. `train` saves a checkpoint every
# `checkpoint_every` steps and when it stops, and resumes from it when called again on the same folder.
# Exact resumption needs more than the weights: the optimizer's moment estimates, the scheduler's step,
# and the state of all three random streams (dropout, clip sampler, SIGReg directions). We train one
# short run without a break, then the same run stopped part-way (`stop_after`, as a crash would) and
# started again on its folder, and compare the two.

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
# The two curves lie on top of each other: on the same machine the resumed run repeats the
# uninterrupted one (on the stored cpu-profile run the largest difference was 0, to the last bit). Drop any piece
# of the saved state and this breaks: without the sampler's state the resumed run sees other clips;
# without the optimizer's moment estimates Adam starts its averages over from zero.

# %% [markdown]
# ## 9. Check: the inline versions are `lewm_mini`'s
#
# First, `lewm_loss` against `LeWM.loss` on a fixed seed (train mode: the same dropout masks come from
# the same torch seed, the same SIGReg directions from the same generator). Then the inline loop of
# section 3 against `lewm_mini.train.train` with the same configuration: every step's loss and the
# final weights must agree.

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
# - LeWM's objective is two terms on a batch of clips: every frame encoded in one batch; the
#   predictor's teacher-forced outputs from steps 1..T-1 against the latents of steps 2..T; SIGReg on
#   the latents as (T, B, D), per time step; loss = prediction + λ · SIGReg with λ = 0.09.
# - A training step is zero_grad, backward, clip to norm 1, AdamW step, schedule step (warm-up, then
#   cosine). A run seeds three random streams; saving them with the model, optimizer and scheduler
#   makes an interrupted run resume exactly.
# - Read a run by its curves together: SIGReg falls to a plateau just above 1, the prediction loss
#   falls after an early rise, the held-out (eval-mode) loss joins it once BatchNorm's running
#   statistics keep up, effective rank grows and probe r stays high. A prediction loss near zero with a
#   SIGReg near 0.40 B is collapse.
# - BatchNorm makes a train-mode latent depend on its batch; planning runs in eval mode.
# - λ trades Gaussian spread against predictability: 0 collapses, too small leaves few directions,
#   too large hurts prediction.
#
# **The trained model stays in the cache.** Chapters 06 to 09 load it with `cached_run(cfg)` (or
# `lewm_mini.notebook.trained_model(cfg)`), which finds this run by its configuration; if it is missing,
# for example in a fresh Colab session, they train it first.
#
# ## Check your understanding
#
# **1.** Write the shapes of z, the predictor's input, its output and the targets for B = 128,
# history 3, D = 64. Which frame's latent is never a target, and which is never an input?
#
# <details><summary>Answer</summary>
#
# A clip has T = 4 frames: z is (128, 4, 64); the predictor reads z[:, :3] (128, 3, 64) with the action
# blocks (128, 3, 10) and returns (128, 3, 64), compared with the targets z[:, 1:] (128, 3, 64). The
# first frame's latent is never a target, the last frame's is never an input (both are in SIGReg).
#
# </details>
#
# **2.** Why does SIGReg take (T, B, D) and not (B, T, D)? What would the wrong layout test?
#
# <details><summary>Answer</summary>
#
# The statistic is computed over the second axis, the samples. With (T, B, D) each test sees the B
# latents of one frame position, from B different clips. With (B, T, D) it would test, for each clip,
# whether its T = 4 consecutive latents look like Gaussian samples: four strongly dependent points, a
# meaningless test (and a factor T instead of B in front of it).
#
# </details>
#
# **3.** Put λ on the prediction term instead of SIGReg (λ · MSE + SIGReg). Which row of the λ table
# does that resemble, and why?
#
# <details><summary>Answer</summary>
#
# Dividing the loss by λ gives MSE + (1/λ) · SIGReg: the same minimiser as a SIGReg weight of
# 1/0.09 ≈ 11, and with Adam, which barely notices the overall scale of a loss, nearly the same
# training too. That is far beyond the λ = 1 row: latents pushed hard towards isotropy, and a
# prediction error that pays for it.
#
# </details>
#
# **4.** A run's prediction loss reaches 1e-6 in 200 steps. Name two numbers you would check before
# celebrating.
#
# <details><summary>Answer</summary>
#
# SIGReg (near 0.40 B means collapse, near 1 means spread-out latents) and the total variance of the
# latents (the prediction loss relative to it); the probe r of the agent's position tells whether
# the latents still carry the state.
#
# </details>
#
# **5.** You resume a run but forget to restore the clip sampler's random state. Does training still
# work? Is it the same run?
#
# <details><summary>Answer</summary>
#
# It still trains: it just draws other clips after the interruption (the first clips of the run
# again, since the sampler starts from its seed). It is not the same run, so its losses and final
# weights differ from the uninterrupted run's, and the run can no longer be reproduced exactly.
#
# </details>
#
# **6.** Why can a train-mode encoder not encode one goal image, and why would encoding it together
# with the current frame be wrong too?
#
# <details><summary>Answer</summary>
#
# BatchNorm in train mode needs a batch statistic: one sample has no variance, and PyTorch refuses.
# With two frames each is normalised against the other, so the goal's latent depends on the current
# frame (in the stored run of section 5, pairs moved the latents by 0.74 typical distances). Eval mode uses the running
# statistics and gives each frame one latent.
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
