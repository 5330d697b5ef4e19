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
# # 02 · From pixels to one latent (solutions)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/solutions/02_jepa_encoder_solutions.ipynb)
#
# Three small functions from chapter 02 (`notebooks/02_jepa_encoder.ipynb`). Write each one where it
# says `# YOUR CODE HERE`, then run the check cell below it: it prints PASS, or FAIL with a hint.
#
# **Prerequisites:** chapter 02.
#
# **Time:** about 30 min. Compute: CPU (2 cores, cpu profile) about 5 s measured; ci profile the same
# (no size depends on the profile).

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
from torch import nn

from lewm_mini.checks.ch02 import check_batch_norm, check_patchify, check_pearson_r
from lewm_mini.data import frames_to_tensor
from lewm_mini.world import Geometry, render

# %% [markdown]
# ## Exercise 2.1 · Patchify by hand
#
# A ViT's patch embedding is `nn.Conv2d(3, width, kernel_size=p, stride=p)`. Show that it is nothing
# but a linear map applied to every patch: write `patchify(images, p)` that turns images (N, C, H, W)
# into (N, L, C * p * p), where L = (H / p) (W / p) patches are listed row by row (top-left first, then
# to the right), and each patch is flattened in (channel, row, column) order, the order of the conv's
# weight (width, C, p, p). Then `patchify(x, p) @ conv.weight.reshape(width, -1).T + conv.bias` equals
# `conv(x).flatten(2).transpose(1, 2)`.
#
# Hint: `reshape` to (N, C, H/p, p, W/p, p), then `permute`.

# %%
def patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    """(N, C, H, W) -> (N, (H/p)(W/p), C*p*p): non-overlapping patches, row by row, each in (c, y, x) order."""
    ### BEGIN SOLUTION
    n, c, h, w = images.shape
    x = images.reshape(n, c, h // patch, patch, w // patch, patch)  # (n, c, rows, py, cols, px)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(n, (h // patch) * (w // patch), c * patch * patch)
    ### END SOLUTION


# %%
check_patchify(patchify)

# %% [markdown]
# Use it: the 64 patches of one frame, laid out as tokens. (Prints a note until `patchify` is written.)

# %%
geo = Geometry(64)
frame = frames_to_tensor(render(np.array([[20.0, 40.0]], np.float32), geo))  # (1, 3, 64, 64)
try:
    tokens = patchify(frame, 8)[0]  # (64, 192)
    fig, axes = plt.subplots(2, 8, figsize=(10, 2.8))
    for ax, k in zip(axes.ravel(), range(32, 48)):  # rows 4 and 5 of the 8x8 grid of patches
        ax.imshow(tokens[k].reshape(3, 8, 8).permute(1, 2, 0))
        ax.set_title(f"token {k}", fontsize=7)
        ax.axis("off")
    plt.suptitle("Patches 32-47 (rows 4 and 5 of the grid): the agent and the wall")
    plt.tight_layout()
    plt.show()
except NotImplementedError as err:
    plt.close("all")
    print(f"(write {err} first)")

# %% [markdown]
# ## Exercise 2.2 · BatchNorm in training mode
#
# Write what `nn.BatchNorm1d` computes in training mode (without its learned scale and shift): for
# x (N, F), normalise each **feature** (column) with the mean and the *biased* variance (divide by N)
# of that feature over the **batch**: $(x - \mu) / \sqrt{\sigma^2 + \epsilon}$.

# %%
def batch_norm(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Training-mode BatchNorm without affine parameters: per feature, over the batch (dim 0)."""
    ### BEGIN SOLUTION
    mean = x.mean(dim=0, keepdim=True)
    var = x.var(dim=0, unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)
    ### END SOLUTION


# %%
check_batch_norm(batch_norm)

# %% [markdown]
# Use it: compare with `nn.BatchNorm1d` in train mode, and see what it does to nearly identical latents.

# %%
try:
    bn = nn.BatchNorm1d(4, affine=False).train()
    z = 3.0 + 0.01 * torch.randn(16, 4)  # 16 "latents" that are almost the same vector
    print("max |ours - nn.BatchNorm1d|:", float((batch_norm(z) - bn(z)).abs().max()))
    print("feature std before:", z.std(0, unbiased=False).numpy().round(3),
          " after:", batch_norm(z).std(0, unbiased=False).numpy().round(3))
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# ## Exercise 2.3 · The probe score the paper reports
#
# The paper scores its linear probes of the agent's position with the Pearson correlation $r$
# (LeWM: 0.996 on Two-Room). For predictions and targets of shape (N, K), compute $r$ separately for
# each of the K columns (x and y), then return the mean over columns as a float:
# $r = \frac{\sum_i (p_i - \bar p)(t_i - \bar t)}{\sqrt{\sum_i (p_i - \bar p)^2}\sqrt{\sum_i (t_i - \bar t)^2}}$.

# %%
def pearson_r(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Mean over columns of the Pearson correlation between pred (N, K) and y (N, K)."""
    ### BEGIN SOLUTION
    p, t = pred - pred.mean(0), y - y.mean(0)
    r = (p * t).sum(0) / (p.norm(dim=0) * t.norm(dim=0))
    return float(r.mean())
    ### END SOLUTION


# %%
check_pearson_r(pearson_r)

# %% [markdown]
# **Going further.** A probe error of 1.5 px on positions spread with a standard deviation of about
# 14 px per coordinate: roughly what $r$ does that correspond to? (For a linear fit,
# $r \approx \sqrt{1 - \text{MSE} / \text{Var}}$ per coordinate.)
