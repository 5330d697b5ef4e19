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
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · The predictor (exercises)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/exercises/03_predictor_exercises.ipynb)
#
# Two small functions from chapter 03 (`notebooks/03_predictor.ipynb`). Write each one where it says
# `# YOUR CODE HERE`, then run the check cell below it: it prints PASS, or FAIL with a hint.
#
# **Prerequisites:** chapter 03.
#
# **Time:** about 30 min. Compute: CPU (2 cores, cpu profile) a few seconds; ci profile a few seconds.

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
import math

import matplotlib.pyplot as plt
import torch

from lewm_mini.checks.ch03 import check_causal_attention, check_teacher_forced, toy_predictor
from lewm_mini.rollout import rollout

# %% [markdown]
# ## Exercise 3.1 · Causal attention by hand
#
# The predictor calls `F.scaled_dot_product_attention(q, k, v, is_causal=True)`. Write it yourself for
# q, k, v of shape (B, heads, T, d):
# 1. scores $S = q k^\top / \sqrt{d}$, shape (B, heads, T, T), where $S_{ij}$ says how much token $i$
#    wants to read token $j$;
# 2. the causal mask: set $S_{ij} = -\infty$ for $j > i$ (a token may see itself and its past);
# 3. softmax over $j$ (the last dimension), then multiply by $v$.
#
# Hint: `torch.ones(T, T, dtype=torch.bool).tril()` and `masked_fill`.

# %%
def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """(B, heads, T, d) x3 -> (B, heads, T, d): softmax(q k^T / sqrt(d)) v with token i seeing tokens j <= i."""
    # YOUR CODE HERE
    raise NotImplementedError("causal_attention")


# %%
check_causal_attention(causal_attention)

# %% [markdown]
# Use it: the attention weights of one head on a history of 3 tokens. (Prints a note until written.)

# %%
try:
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(1, 1, 3, 8, generator=g), torch.randn(1, 1, 3, 8, generator=g)
    weights = causal_attention(q, k, torch.eye(3).expand(1, 1, 3, 3))[0, 0]  # v = identity reveals the weights
    plt.figure(figsize=(3, 2.6))
    plt.imshow(weights, cmap="Greens", vmin=0, vmax=1)
    plt.colorbar()
    plt.xlabel("key j"), plt.ylabel("query i")
    plt.title("attention weights (rows sum to 1)", fontsize=9)
    plt.show()
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# ## Exercise 3.2 · Teacher forcing over a long episode
#
# In the chapter, teacher-forced error at horizon $k$ came from one-step predictions made from the
# *true* latents. Write that sliding window: given the true latents of an episode z (B, L+1, D) and its
# action blocks (B, L, A) (block t leads from z_t to z_{t+1}), return (B, L, D), whose entry t is the
# predictor's guess of $z_{t+1}$ from the last `history` true latents $z_{lo}, \dots, z_t$ and their
# blocks, with lo = max(0, t + 1 - history). Keep the output of the newest token.

# %%
def teacher_forced(predictor, z: torch.Tensor, blocks: torch.Tensor, history: int) -> torch.Tensor:
    """One-step predictions of z[:, 1:] from true latents: (B, L+1, D), (B, L, A) -> (B, L, D)."""
    # YOUR CODE HERE
    raise NotImplementedError("teacher_forced")


# %%
check_teacher_forced(teacher_forced)

# %% [markdown]
# Use it: on a random (untrained) predictor, teacher forcing and rollout agree at the first step and
# drift apart after, because rollout feeds its own outputs back in.

# %%
try:
    pred, mcfg = toy_predictor(history=3)
    g = torch.Generator().manual_seed(1)
    z = torch.randn(16, 9, mcfg.latent, generator=g)
    blocks = torch.randn(16, 8, mcfg.action_dim * mcfg.frameskip, generator=g)
    with torch.no_grad():
        tf = teacher_forced(pred, z, blocks, 3)
        ro = rollout(pred, z[:, 0], blocks, 3)
    gap = (tf - ro).pow(2).mean((0, 2))
    print("mean squared gap between teacher forcing and rollout, per step:", gap.numpy().round(3))
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# **Going further.** Rewrite `teacher_forced` for `history` = L so that it makes a single forward pass
# (hint: the causal mask). Why can the predictor not do that in one pass when L > history?
