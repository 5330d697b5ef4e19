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
# # 03 · The predictor (solutions)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/solutions/03_predictor_solutions.ipynb)
#
# Three pieces of chapter 03 (`notebooks/03_predictor.ipynb`): masked attention by hand, the
# autoregressive rollout loop, and the AdaLN-zero block. The chapter explains the last two and uses the
# package's versions; here you write them. Write each one where it says `# YOUR CODE HERE`, then run the
# check cell below it: it prints PASS, or FAIL with a hint.
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
from torch import nn

from lewm_mini.checks.ch03 import check_adaln_block, check_causal_attention, check_rollout, toy_predictor
from lewm_mini.predictor import CausalSelfAttention, modulate

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
    ### BEGIN SOLUTION
    t, d = q.shape[-2], q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)
    allowed = torch.ones(t, t, dtype=torch.bool, device=q.device).tril()
    scores = scores.masked_fill(~allowed, float("-inf"))
    return scores.softmax(dim=-1) @ v
    ### END SOLUTION


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
# ## Exercise 3.2 · The autoregressive rollout
#
# A planner knows only the current latent $z_0$ and imagines the rest. Write the rollout loop: given the
# latents z (B, H+1, D) of a stretch of an episode and its action blocks (B, H, A) (block k leads from
# $z_k$ to $z_{k+1}$), return the H imagined latents $\hat z_1, \dots, \hat z_H$ (B, H, D), starting
# from z[:, 0] **alone**. The true future latents z[:, 1:] are passed in only so that you can compare
# with them afterwards: the rollout must never read them (the checker replaces them by NaN once).
#
# Step k (k = 0, ..., H-1):
# 1. the context is the last `history` latents of the sequence $[z_0, \hat z_1, \dots, \hat z_k]$
#    (fewer at the start): lo = max(0, k + 1 - history);
# 2. call `predictor(context (B, T, D), blocks[:, lo : k + 1])`: each latent with the block that
#    leaves it;
# 3. keep the newest output ([:, -1]), $\hat z_{k+1}$, and append it to the sequence.

# %%
def rollout(predictor, z: torch.Tensor, blocks: torch.Tensor, history: int) -> torch.Tensor:
    """Imagined latents (B, H, D) from z[:, 0] alone; z (B, H+1, D) true latents, blocks (B, H, A)."""
    ### BEGIN SOLUTION
    seq = [z[:, 0]]
    for k in range(blocks.shape[1]):
        lo = max(0, k + 1 - history)
        ctx = torch.stack(seq[lo:], dim=1)
        seq.append(predictor(ctx, blocks[:, lo : k + 1])[:, -1])
    return torch.stack(seq[1:], dim=1)
    ### END SOLUTION


# %%
check_rollout(rollout)

# %% [markdown]
# Use it: on a random (untrained) predictor, compare your rollout with teacher forcing (each step
# predicted from the *true* latents before it). They agree at the first step, which both predict from
# $z_0$, and drift apart after, because the rollout feeds its own outputs back in. (Prints a note until
# `rollout` is written.)

# %%
try:
    pred, mcfg = toy_predictor(history=3)
    g = torch.Generator().manual_seed(1)
    z = torch.randn(16, 9, mcfg.latent, generator=g)
    blocks = torch.randn(16, 8, mcfg.action_dim * mcfg.frameskip, generator=g)
    with torch.no_grad():
        ro = rollout(pred, z, blocks, 3)
        tf = torch.stack([pred(z[:, max(0, k - 2) : k + 1], blocks[:, max(0, k - 2) : k + 1])[:, -1]
                          for k in range(8)], dim=1)
    gap = (tf - ro).pow(2).mean((0, 2))
    print("mean squared gap between teacher forcing and your rollout, per step:", gap.numpy().round(3))
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# ## Exercise 3.3 · The AdaLN-zero block
#
# Write the predictor's transformer block as a small `nn.Module` (the only exercise here that is a class:
# the zero initialisation is the point). Use exactly these submodules, so that the checker can compare
# your block with the package's weight for weight:
# - `self.norm1`, `self.norm2`: `nn.LayerNorm(width, elementwise_affine=False)` (AdaLN provides the scale
#   and the shift);
# - `self.attn`: `CausalSelfAttention(width, heads, dropout)` (imported from `lewm_mini.predictor`);
# - `self.mlp`: `nn.Sequential(nn.Linear(width, mlp), nn.GELU(), nn.Dropout(dropout), nn.Linear(mlp, width))`;
# - `self.ada`: `nn.Sequential(nn.SiLU(), nn.Linear(width, 6 * width))`, the modulation, whose Linear
#   starts at **zero** (weight and bias): that is the "zero" in AdaLN-zero.
#
# In `forward(x, c)`, with x and c of shape (B, T, width): split `self.ada(c)` into six vectors in this
# order: shift1, scale1, gate1, shift2, scale2, gate2. Then
# $x \leftarrow x + \text{gate}_1 \odot \mathrm{attn}(\mathrm{norm}_1(x)(1 + \text{scale}_1) + \text{shift}_1)$
# and the same with the MLP, norm2 and the second triple. `modulate(h, shift, scale)` from the package
# computes $h(1 + \text{scale}) + \text{shift}$.

# %%
class AdaLNBlock(nn.Module):
    """Pre-norm transformer block whose norms and residual gates are set by the condition c (B, T, width)."""

    def __init__(self, width: int, heads: int, mlp: int, dropout: float):
        super().__init__()
        ### BEGIN SOLUTION
        self.norm1 = nn.LayerNorm(width, elementwise_affine=False)
        self.attn = CausalSelfAttention(width, heads, dropout)
        self.norm2 = nn.LayerNorm(width, elementwise_affine=False)
        self.mlp = nn.Sequential(nn.Linear(width, mlp), nn.GELU(), nn.Dropout(dropout), nn.Linear(mlp, width))
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(width, 6 * width))
        nn.init.zeros_(self.ada[1].weight)
        nn.init.zeros_(self.ada[1].bias)
        ### END SOLUTION

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        shift1, scale1, gate1, shift2, scale2, gate2 = self.ada(c).chunk(6, dim=-1)
        x = x + gate1 * self.attn(modulate(self.norm1(x), shift1, scale1))
        return x + gate2 * self.mlp(modulate(self.norm2(x), shift2, scale2))
        ### END SOLUTION


# %%
check_adaln_block(AdaLNBlock)

# %% [markdown]
# Use it: stack four of your blocks. At initialisation the stack is exactly the identity, whatever the
# action, and after one gradient step on a made-up target it is not any more: the zero start does not
# stop learning. (Prints a note until the block is written.)

# %%
try:
    torch.manual_seed(0)
    stack = nn.ModuleList(AdaLNBlock(16, 2, 32, 0.0) for _ in range(4))
    x, c = torch.randn(8, 3, 16), torch.randn(8, 3, 16)

    def run(x, c):
        for blk in stack:
            x = blk(x, c)
        return x

    print("identity at initialisation:", torch.equal(run(x, c), x))
    opt = torch.optim.SGD(stack.parameters(), lr=0.1)
    (run(x, c) - torch.randn_like(x)).pow(2).mean().backward()
    opt.step()
    with torch.no_grad():
        print(f"after one step, |stack(x) - x| / |x| = {float((run(x, c) - x).norm() / x.norm()):.4f}")
except NotImplementedError:
    print("(write AdaLNBlock first)")

# %% [markdown]
# **Going further.** With history = L, the teacher-forced predictions of a whole episode take a single
# forward pass (the causal mask). Why can the rollout never be done in one pass, whatever the history?
