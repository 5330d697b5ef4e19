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
# # 02 · From pixels to one latent (solutions)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/solutions/02_jepa_encoder_solutions.ipynb)
#
# Three functions around chapter 02 (`notebooks/02_jepa_encoder.ipynb`): the patch embedding as a linear
# map, BatchNorm with the running statistics that planning relies on, and the probe score the paper
# reports. Write each one where it says `# YOUR CODE HERE`, then run the check cell below it: it prints
# PASS, or FAIL with a hint.
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

from lewm_mini.checks.ch02 import check_batch_norm, check_patchify, check_probe_r
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
# ## Exercise 2.2 · BatchNorm, in both modes
#
# Write what `nn.BatchNorm1d` (without its learned scale and shift) computes, for x (N, F):
# - **training mode**: normalise each feature (column) with the mean and the *biased* variance (divide by
#   N) of that feature over the batch, $(x - \mu) / \sqrt{\sigma^2 + \epsilon}$; and update the
#   running statistics **in place**: running = (1 - momentum) running + momentum batch statistic, where,
#   by PyTorch's convention, the running variance is fed the *unbiased* batch variance (divide by N - 1);
# - **eval mode**: normalise with the running statistics and change nothing. A batch of one frame is fine.
#
# This is why a planner must run the model in eval mode: in training mode a batch of one frame has no
# spread to normalise with, and two frames would be normalised against each other.

# %%
def batch_norm(x: torch.Tensor, running_mean: torch.Tensor, running_var: torch.Tensor, training: bool,
               momentum: float = 0.1, eps: float = 1e-5) -> torch.Tensor:
    """BatchNorm1d without affine parameters on x (N, F); in training mode updates the running statistics."""
    ### BEGIN SOLUTION
    if training:
        mean = x.mean(dim=0)
        var = x.var(dim=0, unbiased=False)
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * x.var(dim=0, unbiased=True))
    else:
        mean, var = running_mean, running_var
    return (x - mean) / torch.sqrt(var + eps)
    ### END SOLUTION


# %%
check_batch_norm(batch_norm)

# %% [markdown]
# Use it: the running statistics after a few batches, against `nn.BatchNorm1d`'s, and what eval mode
# does to one frame. (Prints a note until `batch_norm` is written.)

# %%
try:
    bn = nn.BatchNorm1d(4, affine=False).train()
    rm, rv = torch.zeros(4), torch.ones(4)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        z = 3.0 + 0.5 * torch.randn(16, 4, generator=g)  # 16 "latents" per batch
        bn(z), batch_norm(z, rm, rv, training=True)
    print("running mean, ours:", rm.numpy().round(3), " nn.BatchNorm1d:", bn.running_mean.numpy().round(3))
    print("running var,  ours:", rv.numpy().round(3), " nn.BatchNorm1d:", bn.running_var.numpy().round(3))
    one = z[:1]
    print("one frame in eval mode, ours:", batch_norm(one, rm, rv, training=False).numpy().round(3),
          " nn.BatchNorm1d:", bn.eval()(one).numpy().round(3))
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# ## Exercise 2.3 · The probe score the paper reports
#
# The chapter scores latents by a ridge probe's error in pixels. The paper reports the Pearson
# correlation $r$ of a linear probe on held-out data (LeWM: 0.996 on Two-Room). Write that score:
# 1. standardise each latent dimension with the **training** latents' mean and std (torch's default,
#    unbiased std), for the training and the test latents alike;
# 2. fit a ridge regression with a bias on the training set: $X = [z, 1]$,
#    $W = (X^\top X + \text{ridge}\cdot N\, I)^{-1} X^\top Y$ (solve in float64);
# 3. predict the test set and return the Pearson $r$ of each of the K columns (x and y separately),
#    averaged, as a float: $r = \frac{\sum_i (p_i - \bar p)(t_i - \bar t)}{\sqrt{\sum_i (p_i - \bar p)^2}
#    \sqrt{\sum_i (t_i - \bar t)^2}}$.

# %%
def probe_r(z_train: torch.Tensor, y_train: torch.Tensor, z_test: torch.Tensor, y_test: torch.Tensor,
            ridge: float = 1e-3) -> float:
    """Held-out Pearson r (mean over columns) of a ridge probe latent -> y fitted on standardised training latents."""
    ### BEGIN SOLUTION
    mu, sd = z_train.mean(0), z_train.std(0).clamp_min(1e-8)
    x_tr = torch.cat([(z_train - mu) / sd, torch.ones(len(z_train), 1)], 1).double()
    x_te = torch.cat([(z_test - mu) / sd, torch.ones(len(z_test), 1)], 1).double()
    eye = torch.eye(x_tr.shape[1], dtype=torch.float64)
    w = torch.linalg.solve(x_tr.T @ x_tr + ridge * len(x_tr) * eye, x_tr.T @ y_train.double())
    p, t = x_te @ w, y_test.double()
    p, t = p - p.mean(0), t - t.mean(0)
    return float(((p * t).sum(0) / (p.norm(dim=0) * t.norm(dim=0))).mean())
    ### END SOLUTION


# %%
check_probe_r(probe_r)

# %% [markdown]
# Use it: probe three "encoders" of the agent's position on rendered frames: the pixels, averaged down
# to a 16x16 grey image (256 numbers), a random projection of those to 16 numbers, and the true position
# plus noise. (Prints a note until `probe_r` is written.)

# %%
try:
    rng = np.random.default_rng(0)
    pos = rng.uniform(6, 58, (700, 2)).astype(np.float32)
    pos = pos[np.abs(pos[:, 0] - 32) > 3][:600]  # keep away from the wall
    grey = torch.nn.functional.avg_pool2d(frames_to_tensor(render(pos, geo)).mean(1, keepdim=True), 4)
    pixels = grey.flatten(1)  # (N, 256)
    y = torch.as_tensor(pos)
    proj = torch.randn(pixels.shape[1], 16, generator=torch.Generator().manual_seed(0))
    for name, z in (("16x16 grey pixels", pixels), ("random projection to 16", pixels @ proj),
                    ("position + noise (2 px)", y + 2 * torch.randn(len(y), 2))):
        print(f"{name:26s} r = {probe_r(z[:400], y[:400], z[400:], y[400:]):.3f}")
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# **Going further.** A probe error of 1.5 px on positions spread with a standard deviation of about
# 14 px per coordinate: roughly what $r$ does that correspond to? (For a linear fit,
# $r \approx \sqrt{1 - \text{MSE} / \text{Var}}$ per coordinate.)
