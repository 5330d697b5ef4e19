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
# # 04 · Collapse and SIGReg (exercises)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/exercises/04_collapse_and_sigreg_exercises.ipynb)
#
# Three functions around chapter 04 (`notebooks/04_collapse_and_sigreg.ipynb`). The chapter computes
# the Epps-Pulley integral with 17 knots and SIGReg on one batch; here you compute the integral exactly,
# SIGReg the way several GPUs must share it, and the effective rank the chapter uses as a diagnostic.
# Write each one where it says `# YOUR CODE HERE`, then run the check cell below it: it prints PASS, or
# FAIL with a hint.
#
# **Prerequisites:** chapter 04.
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
import math

import torch

from lewm_mini.sigreg import SIGReg
from lewm_mini.checks.ch04 import check_all_reduced_sigreg, check_effective_rank, check_epps_pulley_exact

# %% [markdown]
# ## Exercise 4.1 · The Epps-Pulley statistic without knots
#
# The chapter approximates $\mathrm{EP} = N \int_{-\infty}^{\infty} |\hat\varphi(t) - e^{-t^2/2}|^2
# e^{-t^2/2} dt$ with a trapezoid rule on 17 knots. With a Gaussian weight the integral has a closed
# form. Expand $|\hat\varphi - \varphi|^2 = |\hat\varphi|^2 - 2\,\mathrm{Re}(\hat\varphi)\,\varphi
# + \varphi^2$ (here $\varphi(t) = e^{-t^2/2}$ is real), with
# $|\hat\varphi(t)|^2 = \frac{1}{N^2}\sum_{j,k} \cos(t (x_j - x_k))$ (all pairs, $j = k$ included) and
# $\mathrm{Re}\,\hat\varphi(t) = \frac1N \sum_j \cos(t x_j)$, and integrate term by term with
# $\int_{-\infty}^{\infty} \cos(a t)\, e^{-c t^2} dt = \sqrt{\pi / c}\; e^{-a^2 / (4c)}$.
#
# Work out the three integrals (the weight is part of each integrand), then write `epps_pulley_exact(x)`
# for samples x (N,). Vectorise the double sum: x[:, None] - x[None, :] is the (N, N) matrix of
# differences.

# %%
def epps_pulley_exact(x: torch.Tensor) -> torch.Tensor:
    """N * the integral over the real line of |ecf(t) - exp(-t^2/2)|^2 exp(-t^2/2) dt, for samples x (N,)."""
    # YOUR CODE HERE
    raise NotImplementedError("epps_pulley_exact")


# %%
check_epps_pulley_exact(epps_pulley_exact)

# %% [markdown]
# Use it: how good are the chapter's 17 knots on $[0, 3]$? Compare with the exact value for a few
# samples; for a collapsed batch the exact constant is $\sqrt{2\pi} - 2\sqrt{\pi} + \sqrt{2\pi/3}
# \approx 0.409$ per sample, where the knots give 0.402. (Prints a note until the function is written.)

# %%
try:
    quadrature = SIGReg(num_proj=1)  # in one dimension SIGReg is the 17-knot Epps-Pulley statistic
    g = torch.Generator().manual_seed(0)
    for name, x in (("Gaussian, N = 256", torch.randn(256, generator=g)),
                    ("uniform, variance 1", (torch.rand(256, generator=g) - 0.5) * math.sqrt(12)),
                    ("collapsed, N = 256", torch.zeros(256))):
        exact = float(epps_pulley_exact(x.double()))
        knots = float(quadrature(x[:, None]))
        print(f"{name:22s} exact {exact:8.3f}   17 knots {knots:8.3f}   per sample {exact / len(x):.4f}")
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# ## Exercise 4.2 · SIGReg across several GPUs
#
# With data parallelism each GPU holds a chunk of the batch. The released LeWM code computes SIGReg on
# each GPU's local chunk; LeJEPA's reference sums the characteristic-function estimates over the GPUs
# first (an *all-reduce*), so that the test sees the whole batch. Write the second: given the chunks
# (a list of (B_r, D) tensors) and M unit directions (the columns of `directions`, (D, M)), compute
#
# 1. on each chunk: x = chunk @ directions (B_r, M) and, at the 17 knots $t_k$ = linspace(0, 3, 17), the
#    **sums** over the chunk of cos($t_k x$) and sin($t_k x$), shape (M, K) each: all a GPU has to send;
# 2. the all-reduce: add the sums of all chunks and divide by the total N = sum of the B_r;
# 3. per direction, Epps-Pulley from these means (the chapter's error, trapezoid weights times
#    exp($-t_k^2/2$), times N), then the mean over the M directions.
#
# The result must equal SIGReg of the concatenated batch; compute it the way the GPUs would, from the
# sums.

# %%
def all_reduced_sigreg(chunks: list[torch.Tensor], directions: torch.Tensor) -> torch.Tensor:
    """SIGReg of the union of the chunks (each (B_r, D)) on the given unit directions (D, M)."""
    # YOUR CODE HERE
    raise NotImplementedError("all_reduced_sigreg")


# %%
check_all_reduced_sigreg(all_reduced_sigreg)

# %% [markdown]
# Use it: 8 "GPUs" of 16 latents each, where each GPU's latents sit around a centre of their own (think
# of a GPU whose batch comes from a few episodes). Together they look like N(0, I); each chunk alone
# does not. The released per-GPU statistic penalises that structure, the all-reduced one does not.
# (Prints a note until the function is written.)

# %%
try:
    g = torch.Generator().manual_seed(0)
    D = 16
    centres = 0.8 * torch.randn(8, D, generator=g)
    chunks = [c + 0.6 * torch.randn(16, D, generator=g) for c in centres]  # total covariance about I
    u = torch.randn(D, 256, generator=g)
    u = u / u.norm(dim=0)
    per_gpu = sum(float(all_reduced_sigreg([c], u)) for c in chunks) / len(chunks)
    print(f"mean of the 8 per-GPU statistics (released): {per_gpu:.2f}")
    print(f"all-reduced statistic (LeJEPA):              {float(all_reduced_sigreg(chunks, u)):.2f}")
    print(f"one GPU with the whole batch (lewm_mini):    {float(SIGReg(256)(torch.cat(chunks))):.2f}")
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# ## Exercise 4.3 · Effective rank, and what it can and cannot see
#
# The chapter diagnoses collapse with the **effective rank** of a batch of latents z (N, D) (RankMe,
# Garrido et al. 2023): centre z (subtract the mean over the batch), take its singular values
# $s_1, \dots, s_D$, normalise them into a distribution $p_i = s_i / \sum_j s_j$ and return
# $\exp(-\sum_i p_i \log p_i)$: 1 when the cloud is a line, D when it spreads equally in every
# direction. (`torch.linalg.svdvals`; skip the terms with $p_i = 0$, or clamp inside the log.)

# %%
def effective_rank(z: torch.Tensor) -> float:
    """exp(entropy of the normalised singular values of the centred latents z (N, D))."""
    # YOUR CODE HERE
    raise NotImplementedError("effective_rank")


# %%
check_effective_rank(effective_rank)

# %% [markdown]
# Use it: three batches of 512 latents in 32 dimensions. Which kind of collapse does the effective rank
# see, and which does it miss? The total variance (the sum of the per-dimension variances) answers the
# other half. (Prints a note until the function is written.)

# %%
try:
    g = torch.Generator().manual_seed(0)
    batches = {
        "N(0, I)": torch.randn(512, 32, generator=g),
        "complete collapse (std 0.001)": 1e-3 * torch.randn(512, 32, generator=g),
        "dimensional collapse (rank 2)": torch.randn(512, 2, generator=g) @ torch.randn(2, 32, generator=g),
    }
    print(f"{'':32s}{'effective rank':>16s}{'total variance':>16s}")
    for name, z in batches.items():
        print(f"{name:32s}{effective_rank(z):16.1f}{float(z.var(0).sum()):16.4g}")
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# **Going further.** SIGReg has no separate variance or covariance term. Which part of the Epps-Pulley
# statistic reacts to a shrunk dimension, and why does a random direction also catch two copied
# dimensions?
