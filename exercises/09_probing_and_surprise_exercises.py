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
# # 09 · Probing and surprise (exercises)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/exercises/09_probing_and_surprise_exercises.ipynb)
#
# Four small functions from chapter 09 (`notebooks/09_probing_and_surprise.ipynb`): the surprise
# score, its detection AUC, the straightness of a latent trajectory, and the loss of a decoder that
# draws latents as frames. Write each one where it says
# `# YOUR CODE HERE`, then run the check cell below it: it prints PASS, or FAIL with a hint.
#
# **Prerequisites:** chapter 09 (and chapter 03 for the predictor's interface).
#
# **Time:** about 40 min. Compute: CPU (2 cores, cpu profile) a few seconds; ci profile a few seconds.

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

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from lewm_mini.checks.ch03 import toy_predictor
from lewm_mini.checks.ch09 import (check_decoder_loss, check_detection_auc, check_straightness, check_surprise_score,
                                   toy_decoder_problem)
from lewm_mini.data import frames_to_tensor
from lewm_mini.world import Geometry, render, sample_free_positions

# %% [markdown]
# ## Exercise 9.1 · The surprise score, from what it measures
#
# The chapter's "looking time" is the model's **surprise** at a step: how far the frame it then sees is
# from what it expected to see. Turn that sentence into code.
#
# You get, for N episodes, the encoder's latents z (N, L+1, D), one per frame, and the action blocks
# between consecutive frames, blocks (N, L, A): block t is the action taken at frame t, the one that
# leads to frame t+1. Return one number per step, shape (N, L): entry [n, t] says how surprised the
# model is by step t of episode n. What the number must mean:
#
# - **Expected**: what the predictor forecasts for the frame after frame t, knowing frame t and the
#   action taken there. It forecasts from the frame actually seen, never from its own earlier
#   forecasts, and from that frame alone: Two-Room has no inertia, one frame is the whole state, and so
#   every step is judged on its own.
# - **Seen**: the encoder's latent of that next frame.
# - **How far**: measured the way the training loss measures the predictor's error (chapter 05), so
#   that a step's surprise does not grow with the latent size D.
#
# The predictor is the one chapter 03 built: `predictor(z_window, a_window)` takes windows of latents
# (B, T, D) and of action blocks (B, T, A), at most `predictor.history` long, and returns (B, T, D):
# position i is its forecast of the latent that follows frame i of the window. An episode here can be
# longer than `history`, so decide what window each forecast needs. A loop over t is fine.

# %%
def surprise_score(predictor, z: torch.Tensor, blocks: torch.Tensor) -> torch.Tensor:
    """Per-step surprise: (N, L+1, D) latents, (N, L, A) action blocks -> (N, L)."""
    # YOUR CODE HERE
    raise NotImplementedError("surprise_score")


# %%
check_surprise_score(surprise_score)

# %% [markdown]
# Use it: a random (untrained) predictor on a made-up episode whose latent jumps at step 4. Even
# this predictor is more surprised by a jump than by small moves. (Prints a note until written.)

# %%
try:
    pred, mcfg = toy_predictor(history=1)
    g = torch.Generator().manual_seed(0)
    z = 0.1 * torch.randn(1, 9, mcfg.latent, generator=g).cumsum(1)  # a slow random walk in latent space
    z[:, 5:] += 3.0  # a jump between frames 4 and 5
    blocks = torch.randn(1, 8, mcfg.action_dim * mcfg.frameskip, generator=g)
    with torch.no_grad():
        s = surprise_score(pred, z, blocks)[0]
    plt.figure(figsize=(4.5, 2.5))
    plt.bar(range(len(s)), s)
    plt.xlabel("step t (frame t -> t + 1)"), plt.ylabel("surprise")
    plt.title("the jump between frames 4 and 5 stands out", fontsize=9)
    plt.show()
except NotImplementedError as err:
    print(f"(write {err} first)")
except Exception as err:  # a wrong answer that crashes: the check above says what to fix
    print(f"(your function raised {type(err).__name__}: {err}; see the check above)")

# %% [markdown]
# ## Exercise 9.2 · Detection AUC from scores and labels
#
# A detector flags a step when its surprise is above a threshold. Sweeping the threshold traces the
# ROC curve; its area (AUC) is the probability that a randomly chosen event step scores higher than a
# randomly chosen normal step (1 = perfect, 0.5 = chance). Write it from that definition, for scores
# (N,) and labels (N,) with 1 for an event and 0 for a normal step: compare every event with every
# normal step, count the pairs where the event scores higher, count a tie as one half, and divide by
# the number of pairs. (The chapter's `lewm_mini.surprise.roc_auc` integrates the ROC curve instead;
# both give the same number.)

# %%
def detection_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve of "score > threshold" for labels 1 (event) versus 0 (normal)."""
    # YOUR CODE HERE
    raise NotImplementedError("detection_auc")


# %%
check_detection_auc(detection_auc)

# %% [markdown]
# Use it: how the AUC moves as two score distributions separate. (Prints a note until written.)

# %%
try:
    rng = np.random.default_rng(0)
    gaps = np.linspace(0, 3, 7)
    labels = np.repeat([0, 1], 200)
    aucs = [detection_auc(rng.normal(size=400) + gap * labels, labels) for gap in gaps]
    plt.figure(figsize=(4.5, 2.5))
    plt.plot(gaps, aucs, "o-")
    plt.xlabel("gap between event and normal means (in standard deviations)"), plt.ylabel("AUC")
    plt.title("AUC: 0.5 at no gap, towards 1 as the scores separate", fontsize=9)
    plt.show()
except NotImplementedError as err:
    print(f"(write {err} first)")
except Exception as err:  # a wrong answer that crashes: the check above says what to fix
    print(f"(your function raised {type(err).__name__}: {err}; see the check above)")

# %% [markdown]
# ## Exercise 9.3 · How straight is a trajectory?
#
# Temporal straightening: the velocity of a latent trajectory is $v_t = z_{t+1} - z_t$; the path is
# straight where consecutive velocities point the same way. Return the mean, over all trajectories
# and all steps, of the cosine similarity $\cos(v_t, v_{t+1})$ for z of shape (N, T, D): one number,
# 1 for straight lines (whatever the speed), about 0 for random turns, negative for zigzags.

# %%
def straightness(z: torch.Tensor) -> float:
    """Mean cosine similarity of consecutive velocities of trajectories z (N, T, D)."""
    # YOUR CODE HERE
    raise NotImplementedError("straightness")


# %%
check_straightness(straightness)

# %% [markdown]
# Use it: a random walk, the same walk smoothed, and a straight line. (Prints a note until written.)

# %%
try:
    g = torch.Generator().manual_seed(0)
    walk = torch.randn(20, 30, 8, generator=g).cumsum(1)
    smooth = walk.unfold(1, 5, 1).mean(-1)  # moving average over 5 steps
    line = torch.linspace(0, 1, 30)[None, :, None] * torch.randn(20, 1, 8, generator=g)
    values = {"random walk": straightness(walk), "smoothed walk": straightness(smooth), "line": straightness(line)}
    plt.figure(figsize=(4.5, 2.5))
    plt.bar(list(values), list(values.values()))
    plt.ylabel("mean cos(v_t, v_t+1)")
    plt.title("straighter paths score higher", fontsize=9)
    plt.show()
except NotImplementedError as err:
    print(f"(write {err} first)")
except Exception as err:  # a wrong answer that crashes: the check above says what to fix
    print(f"(your function raised {type(err).__name__}: {err}; see the check above)")

# %% [markdown]
# ## Exercise 9.4 · The decoder's loss
#
# Section 6 of the chapter draws latents as frames with a decoder trained *after* the world model, on
# its frozen latents. Write the loss of one decoder training step. You get the trained world model
# `model` (a `LeWM`, in eval mode), a `decoder` that maps latents (B, D) to frames (B, 3, H, W), and a
# batch of frames (B, H, W, 3) as the episodes store them, uint8. Return one number: the mean squared
# error between the decoder's drawing of each frame's latent and the frame itself. What it must respect:
#
# - **Which latent.** The decoder draws the latent the model predicts and plans with (chapter 05's
#   `LeWM` makes it from a frame in two steps; look at how `encode` composes them).
# - **Frozen.** Training the decoder must leave the world model exactly as it is: no gradient of this
#   loss may reach it. Only the decoder learns.
# - **One scale.** The decoder ends in a sigmoid; the model was trained on the frames that
#   `lewm_mini.data.frames_to_tensor` makes.

# %%
def decoder_loss(model, decoder, frames: np.ndarray) -> torch.Tensor:
    """uint8 frames (B, H, W, 3) -> the scalar MSE of the decoder's drawing of their frozen latents."""
    # YOUR CODE HERE
    raise NotImplementedError("decoder_loss")


# %%
check_decoder_loss(decoder_loss)

# %% [markdown]
# Use it: train a decoder for 80 steps with your loss, on 16x16 frames and the check's small untrained
# model. The loss falls as the decoder learns the scene (the border and the floor), but its drawing
# never shows the agent: an untrained encoder's latents hardly differ from one frame to the next (the
# cell prints how little), so there is nothing to draw the agent from. The chapter's decoder, on the
# trained model's latents, draws it. (Prints a note until written.)

# %%
try:
    toy_model, toy_decoder, _ = toy_decoder_problem()
    geo16 = Geometry(16)
    toy_frames = render(sample_free_positions(np.random.default_rng(0), 64, geo16), geo16)  # (64, 16, 16, 3)
    opt = torch.optim.AdamW(toy_decoder.parameters(), lr=1e-2)
    losses = []
    for step in range(80):
        loss = decoder_loss(toy_model, toy_decoder, toy_frames[np.random.default_rng(step).integers(0, 64, 16)])
        opt.zero_grad(), loss.backward(), opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        z = toy_model.encode(frames_to_tensor(toy_frames))
        drawn = toy_decoder(z[:1])[0].permute(1, 2, 0).numpy()
    print(f"spread of the latents over the 64 frames (std per dimension): {z.std(0).mean():.4f}")
    fig, axes = plt.subplots(1, 3, figsize=(8, 2.5), gridspec_kw={"width_ratios": [2, 1, 1]})
    axes[0].semilogy(losses), axes[0].set_xlabel("step"), axes[0].set_ylabel("decoder loss (MSE)")
    axes[1].imshow(toy_frames[0]), axes[1].set_title("a frame", fontsize=9)
    axes[2].imshow(drawn), axes[2].set_title("its drawing", fontsize=9)
    for ax in axes[1:]:
        ax.axis("off")
    plt.tight_layout()
    plt.show()
except NotImplementedError as err:
    print(f"(write {err} first)")
except Exception as err:  # a wrong answer that crashes: the check above says what to fix
    print(f"(your function raised {type(err).__name__}: {err}; see the check above)")

# %% [markdown]
# **Going further.** Score whole episodes by their *largest* per-step surprise or by their *mean*
# surprise. On the chapter's scripted episodes the spikes are so large that both scores may separate
# perturbed from normal episodes perfectly (the chapter prints both AUCs). Build a harder case to see
# them differ: per-step surprises of 300 normal episodes of 8 steps drawn at random (for instance
# `rng.gamma(2.0, 0.01, (300, 8))`), perturbed episodes drawn the same way plus a spike of height h at
# step 4; compute the AUC of "perturbed versus normal episode" for both scores with your
# `detection_auc`, for a few h. Which score needs the smaller spike, and why? Then let the extra
# surprise last from step 4 to the end, as it does after the chapter's colour change: which score gains?
