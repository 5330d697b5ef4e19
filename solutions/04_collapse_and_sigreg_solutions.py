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
# # 04 · Collapse and SIGReg (solutions)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/solutions/04_collapse_and_sigreg_solutions.ipynb)
#
# Three small functions from chapter 04 (`notebooks/04_collapse_and_sigreg.ipynb`). Write each one
# where it says `# YOUR CODE HERE`, then run the check cell below it: it prints PASS, or FAIL with a hint.
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

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from lewm_mini import SIGReg
from lewm_mini.checks.ch04 import check_epps_pulley, check_sketched_sigreg, check_vicreg_terms

# %% [markdown]
# ## Exercise 4.1 · The Epps-Pulley statistic in one dimension
#
# For samples x (N,), compare the empirical characteristic function with the Gaussian's:
# on knots $t_k$ = `linspace(0, t_max, knots)`, with $\Delta t$ = t_max / (knots - 1),
# 1. error$_k$ = (mean cos($t_k x$) - exp($-t_k^2/2$))$^2$ + (mean sin($t_k x$))$^2$;
# 2. weight$_k$ = trapezoid weight ($\Delta t$ at both ends, $2\Delta t$ inside: the integrand is even, so
#    $[0, t_\max]$ counts twice) times exp($-t_k^2/2$);
# 3. return N times the weighted sum over the knots.

# %%
def epps_pulley(x: torch.Tensor, knots: int = 17, t_max: float = 3.0) -> torch.Tensor:
    """Epps-Pulley statistic of 1-D samples x (N,) against N(0, 1): about 1 for Gaussian samples."""
    ### BEGIN SOLUTION
    t = torch.linspace(0, t_max, knots, dtype=x.dtype)
    dt = t_max / (knots - 1)
    trapezoid = torch.full((knots,), 2 * dt, dtype=x.dtype)
    trapezoid[[0, -1]] = dt
    gauss_cf = torch.exp(-t**2 / 2)
    tx = x[:, None] * t  # (N, K)
    err = (torch.cos(tx).mean(0) - gauss_cf) ** 2 + torch.sin(tx).mean(0) ** 2
    return (err * trapezoid * gauss_cf).sum() * len(x)
    ### END SOLUTION


# %%
check_epps_pulley(epps_pulley)

# %% [markdown]
# Use it: the statistic for Gaussian samples of growing size stays near 1.06, for Laplace samples (also
# mean 0, variance 1, but heavier tails) it grows with N: the more data, the surer the test.

# %%
try:
    g = torch.Generator().manual_seed(0)
    ns = [32, 128, 512, 2048]
    gauss = [float(epps_pulley(torch.randn(n, generator=g))) for n in ns]
    laplace = [float(epps_pulley(torch.distributions.Laplace(0.0, 1 / math.sqrt(2)).sample((n,)))) for n in ns]
    plt.figure(figsize=(5, 3))
    plt.loglog(ns, gauss, "o-", label="Gaussian")
    plt.loglog(ns, laplace, "s-", label="Laplace, variance 1")
    plt.xlabel("N"), plt.ylabel("Epps-Pulley")
    plt.legend()
    plt.show()
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# ## Exercise 4.2 · Sketching: from D dimensions to many 1-D tests
#
# Given latents z (B, D) and M unit directions as the columns of `directions` (D, M), project
# (x = z @ directions, shape (B, M)), compute the Epps-Pulley statistic over the batch for each of the M
# columns (17 knots on [0, 3]), and return the mean over the directions. This is SIGReg for one time step.
# Write it self-contained (vectorised over the M directions: no Python loop needed).

# %%
def sketched_sigreg(z: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Mean over the columns u of `directions` of the Epps-Pulley statistic of the projections z @ u."""
    ### BEGIN SOLUTION
    t = torch.linspace(0, 3.0, 17, dtype=z.dtype)
    dt = 3.0 / 16
    trapezoid = torch.full((17,), 2 * dt, dtype=z.dtype)
    trapezoid[[0, -1]] = dt
    gauss_cf = torch.exp(-t**2 / 2)
    tx = (z @ directions)[..., None] * t  # (B, M, K)
    err = (torch.cos(tx).mean(0) - gauss_cf) ** 2 + torch.sin(tx).mean(0) ** 2  # (M, K)
    return ((err @ (trapezoid * gauss_cf)) * len(z)).mean()
    ### END SOLUTION


# %%
check_sketched_sigreg(sketched_sigreg)

# %% [markdown]
# Use it: with the directions `lewm_mini.SIGReg` would draw from the same generator, the two agree.

# %%
try:
    g = torch.Generator().manual_seed(0)
    z = torch.randn(128, 32, generator=g) * torch.linspace(0.1, 1.5, 32)
    u = torch.randn(32, 256, generator=torch.Generator().manual_seed(5))
    u = u / u.norm(dim=0)
    print(f"sketched_sigreg {float(sketched_sigreg(z, u)):.4f}   "
          f"lewm_mini.SIGReg {float(SIGReg(256)(z, generator=torch.Generator().manual_seed(5))):.4f}")
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# ## Exercise 4.3 · VICReg's two regularisers
#
# For latents z (N, D):
# - **variance**: the mean over the D dimensions of relu(gamma - std), with std = sqrt(var + eps) and
#   var the (unbiased, torch's default) variance of that dimension over the batch;
# - **covariance**: centre z, cov = zc^T zc / (N - 1), set its diagonal to zero, sum the squares of
#   what remains and divide by D.
#
# Return the pair (variance, covariance).

# %%
def vicreg_terms(z: torch.Tensor, gamma: float = 1.0, eps: float = 1e-4) -> tuple[torch.Tensor, torch.Tensor]:
    """VICReg's variance hinge and covariance penalty for latents z (N, D)."""
    ### BEGIN SOLUTION
    std = torch.sqrt(z.var(dim=0) + eps)
    variance = F.relu(gamma - std).mean()
    zc = z - z.mean(dim=0)
    cov = zc.T @ zc / (len(z) - 1)
    off_diag = cov - torch.diag(torch.diag(cov))
    return variance, off_diag.pow(2).sum() / z.shape[1]
    ### END SOLUTION


# %%
check_vicreg_terms(vicreg_terms)

# %% [markdown]
# Use it: which kind of collapse does each term see?

# %%
try:
    g = torch.Generator().manual_seed(0)
    for name, z in (("N(0, I)", torch.randn(256, 16, generator=g)),
                    ("shrunk 100x (complete collapse)", 0.01 * torch.randn(256, 16, generator=g)),
                    ("one signal copied 16x (dimensional collapse)", torch.randn(256, 1, generator=g).expand(256, 16))):
        v, c = vicreg_terms(z)
        print(f"{name:45s} variance {float(v):.3f}   covariance {float(c):.3f}")
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# **Going further.** SIGReg has no separate variance or covariance term. Which part of the Epps-Pulley
# statistic reacts to a shrunk dimension, and why does a random direction also catch two copied
# dimensions?
