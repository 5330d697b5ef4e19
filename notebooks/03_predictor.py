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
# # 03 · The predictor: a causal transformer conditioned on actions
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/notebooks/03_predictor.ipynb)
#
# The encoder (chapter 02) turns each frame into one latent $z_t$. The **predictor** is the "world"
# in world model: given the last few latents and the actions taken, it predicts the next latent.
# Planning (chapter 06) will call it thousands of times to imagine futures.
#
# **What you build:** the causal self-attention layer, the AdaLN-zero transformer block that injects
# the action into every layer (and starts as the identity), the full predictor, and the two ways of
# using it: teacher forcing (training) and autoregressive rollout (planning). Then you measure how
# the rollout error of a trained model grows with the horizon.
#
# **Objectives.** After this chapter you can
# - explain how a causal mask lets one forward pass make every next-latent prediction of a clip;
# - write AdaLN-zero (shift, scale, gate from the action) and say why a zero-initialised modulation
#   makes each block start as the identity, and why it still learns;
# - tell teacher forcing from autoregressive rollout, and explain why rollout error compounds.
#
# **Prerequisites:** chapters 01 (the world, action blocks) and 02 (encoder, projector); the idea of
# self-attention (queries, keys, values).
#
# **Time:** reading about 45 min.
#
# **Compute** (measured by `tools/execute_notebooks.py`, in a fresh kernel): CPU, cpu profile 57 s on 2
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
# Where this chapter sits in LeWorldModel: it builds the predictor, which maps latents and action
# blocks to the next latent (highlighted).

# %%
import matplotlib.pyplot as plt

from lewm_mini.viz import pipeline_figure

pipeline_figure(["actions", "predictor", "predicted"])
plt.show()

# %%
import math
import time
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lewm_mini.data import frames_to_tensor, held_out_episodes
from lewm_mini.notebook import expect, trained_model
from lewm_mini.projector import Projector  # built in chapter 02

T0 = time.perf_counter()
plt.rcParams["figure.dpi"] = 90
M = cfg.model
A = M.action_dim * M.frameskip  # one action block: frameskip raw 2-D actions, concatenated
print(f"latent D={M.latent}, predictor width {M.pred_width}, depth {M.pred_depth}, heads {M.pred_heads}, "
      f"history {M.history}, action block {A} numbers")

# %% [markdown]
# ## 1. What goes in and what comes out
#
# A training clip has `history + 1` frames, `frameskip` environment steps apart, and between two
# frames one **action block**: the `frameskip` raw 2-D actions, z-scored and concatenated (chapter 01).
# The encoder turns the clip into latents $z_1, \dots, z_T$. The predictor reads
# $(z_1, a_1), \dots, (z_{T-1}, a_{T-1})$ as a sequence of $T-1$ **tokens** and outputs $T-1$
# vectors: output $t$ is its guess of $z_{t+1}$.
#
# ```
#  tokens:      z_1,a_1     z_2,a_2     z_3,a_3
#                  |           |           |        causal transformer: token t sees tokens <= t
#  outputs:     ẑ_2         ẑ_3         ẑ_4        compared with the encoder's z_2, z_3, z_4
# ```
#
# Two design choices make this cheap and simple. One token per frame (the CLS idea of chapter 02), so a
# history of 3 frames is 3 tokens. And the action is not a token of its own: it **modulates** the
# latent's token in every layer (AdaLN, section 3).

# %% [markdown]
# ## 2. Causal self-attention
#
# Self-attention lets each token mix in information from the others: every token emits a query $q$, a
# key $k$ and a value $v$; token $i$ takes the average of the values $v_j$ weighted by
# $\mathrm{softmax}_j(q_i \cdot k_j / \sqrt{d})$. A **causal mask** removes the weights for $j > i$:
# the prediction of $z_{t+1}$ may use the past and present, never the future it is supposed to predict.
# Several heads do this in parallel on slices of the width. **Exercise 3.1** asks you to write the
# masked attention by hand; here we call PyTorch's fused `scaled_dot_product_attention(is_causal=True)`.

# %%
class CausalSelfAttention(nn.Module):
    """(B, T, width) -> (B, T, width): multi-head attention where token t sees tokens <= t."""

    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)  # queries, keys and values in one matrix
        self.out = nn.Linear(width, width)
        self.dropout = dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, w = x.shape
        # (B, T, 3 * width) -> 3 x (B, heads, T, width / heads)
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0)
        return self.out(y.transpose(1, 2).reshape(b, t, w))  # heads side by side again


# %% [markdown]
# How do we *see* that it is causal? Perturb the input at one position and record which outputs move.

# %%
torch.manual_seed(0)
attn = CausalSelfAttention(M.pred_width, M.pred_heads, 0.0).eval()
T = M.history
x = torch.randn(1, T, M.pred_width)
influence = torch.zeros(T, T)  # influence[i, j]: how much output i moves when input j changes
with torch.no_grad():
    base = attn(x)
    for j in range(T):
        x2 = x.clone()
        x2[:, j] += torch.randn(M.pred_width)
        influence[:, j] = (attn(x2) - base).norm(dim=-1)[0]
print(influence)

fig, axes = plt.subplots(1, 2, figsize=(7, 3))
axes[0].imshow(torch.ones(T, T).tril(), cmap="Greens", vmin=0, vmax=1.5)
axes[0].set_title("causal mask: who may see whom")
axes[1].imshow(influence, cmap="viridis")
axes[1].set_title("measured |change of output i|\nwhen input j is perturbed")
for ax in axes:
    ax.set_xlabel("input (key) position j"), ax.set_ylabel("output (query) position i")
    ax.set_xticks(range(T)), ax.set_yticks(range(T))
plt.tight_layout()
plt.show()

# %% [markdown]
# The upper triangle is exactly zero: output $i$ cannot see inputs after $i$. That is what makes
# **teacher forcing in one pass** possible: on a clip of $T$ true latents, output 1 has only seen
# $z_1$, output 2 has seen $z_1, z_2$, and so on, so all $T-1$ next-latent predictions come out of a
# single forward pass, each from the true past, with no leak of the answer.

# %% [markdown]
# ## 3. AdaLN-zero: the action modulates every layer
#
# A pre-norm transformer block is `x + attn(norm(x))` followed by `x + mlp(norm(x))`. **AdaLN**
# (adaptive layer norm, from diffusion transformers, DiT) makes the normalisation depend on a
# conditioning vector $c$, here the embedded action block $c_t$ of token $t$. A linear layer maps $c$ to
# six vectors: a shift, a scale and a **gate** for each of the two sublayers:
#
# $$h = \mathrm{LN}(x)\,(1 + \text{scale}) + \text{shift}, \qquad x \leftarrow x + \text{gate} \odot \mathrm{attn}(h)$$
#
# and the same for the MLP. The action thus decides, per layer and per feature, how the latent is
# read and how much of each sublayer's output is written back.
#
# **AdaLN-zero** initialises that linear layer to **zero**: at the start every shift, scale and gate is
# 0, so each block computes $x + 0 \cdot (\dots) = x$: **the block is the identity.** A deep stack then
# starts as a well-behaved function (the input passes straight through) and each block learns how much
# to contribute.
#
# The block, in words (you write it in **Exercise 3.3**; here we use `lewm_mini.predictor.AdaLNBlock`):
# - two LayerNorms *without* their own scale and shift (`elementwise_affine=False`: AdaLN provides them),
#   the causal attention of section 2, and an MLP (Linear, GELU, Linear; `pred_mlp` numbers wide inside);
# - the modulation `ada`: a SiLU, then one Linear from the width to 6 x the width, **initialised to
#   zero**; its output is cut into shift, scale, gate for the attention and shift, scale, gate for the MLP;
# - forward: attention on the modulated norm of x, gated and added to x; then the MLP the same way.
#
# Printing the module shows the layout; then we check the identity at initialisation on random inputs.

# %%
from lewm_mini.predictor import AdaLNBlock  # written by you in Exercise 3.3

torch.manual_seed(0)
block = AdaLNBlock(M.pred_width, M.pred_heads, M.pred_mlp, 0.0)
print(block)
x = torch.randn(4, T, M.pred_width)
c = torch.randn(4, T, M.pred_width)  # any condition at all
with torch.no_grad():
    same = torch.equal(block(x, c), x)
print(f"zero-initialised block: block(x, c) == x exactly? {same}")

# %% [markdown]
# Is a block that does nothing stuck? No. The gates are zero, but the gradient of the output with
# respect to a gate is the sublayer's output, which is not zero. So the first gradient step moves the
# modulation layer, and only *then* do the attention and MLP weights receive gradient (theirs is
# multiplied by the gate, 0 at first). Let us look at the gradient of a made-up loss at initialisation:

# %%
block.zero_grad()
loss = (block(x, c) - torch.randn_like(x)).pow(2).mean()
loss.backward()
groups = {"ada (modulation)": block.ada, "attention": block.attn, "MLP": block.mlp}
grad_norms = {name: math.sqrt(sum(float(p.grad.pow(2).sum()) for p in mod.parameters()))
              for name, mod in groups.items()}
for name, g in grad_norms.items():
    print(f"gradient norm at init, {name:17s}: {g:.4f}")

# A block with an ordinary (non-zero) random modulation layer, for contrast
torch.manual_seed(0)
plain = AdaLNBlock(M.pred_width, M.pred_heads, M.pred_mlp, 0.0)
nn.init.normal_(plain.ada[1].weight, std=0.02 * 5)
with torch.no_grad():
    rel_change = {"AdaLN-zero": float((block(x, c) - x).norm() / x.norm()),
                  "random modulation": float((plain(x, c) - x).norm() / x.norm())}

fig, axes = plt.subplots(1, 2, figsize=(9, 3))
axes[0].bar(list(rel_change), list(rel_change.values()), color=["tab:green", "tab:gray"])
axes[0].set_ylabel("|block(x) - x| / |x|")
axes[0].set_title("at initialisation")
axes[1].bar(list(grad_norms), list(grad_norms.values()), color=["tab:orange", "tab:blue", "tab:blue"])
axes[1].set_ylabel("gradient norm")
axes[1].set_title("AdaLN-zero block: first gradient")
plt.tight_layout()
plt.show()

# %% [markdown]
# The left panel is the identity at work: the zero-initialised block leaves $x$ untouched. The right
# panel shows who learns first: only the modulation layer. The network starts by learning *how much
# each action should matter*, per layer, before it learns what attention and the MLP compute.
#
# **Think.** With the modulation at zero, does the predictor's output depend on the action at all at
# initialisation? What does the untrained predictor predict for $z_{t+1}$ (ignore `pred_proj`)?
#
# <details><summary>Answer</summary>
#
# No. The action enters only through the modulation, and with the modulation at zero every block is the
# identity, whatever the action. No token mixes with another either (the attention's output is multiplied
# by a zero gate), so output $t$ depends on $z_t$ alone: the untrained predictor returns the final
# LayerNorm of the lifted latent, `norm(inp(z_t) + pos_t)`, a fixed function of the current latent. It
# "predicts" that the future is a re-encoding of the present, the same for every action.
#
# </details>

# %% [markdown]
# ## 4. The whole predictor
#
# Stack the pieces:
# 1. an **action encoder** (a small MLP) embeds each z-scored action block into $c_t$ (width);
# 2. a linear map lifts each latent $z_t$ (D numbers) to the predictor's width, plus a learned
#    **position embedding** (where in the history the token sits);
# 3. `depth` AdaLN-zero blocks, all conditioned on the same $c_t$;
# 4. a final LayerNorm and **pred_proj**, a projector of the same shape as the encoder's (Linear,
#    BatchNorm1d, GELU, Linear), mapping back to D numbers.

# %%
class ActionEncoder(nn.Module):
    """Z-scored action block (..., 2 * frameskip) -> embedding (..., width)."""

    def __init__(self, action_dim: int, width: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(action_dim, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return self.net(a)


class Predictor(nn.Module):
    """(z (B, T, D), a (B, T, A)) -> predicted next latents (B, T, D), for T <= history."""

    def __init__(self, cfg_model):
        super().__init__()
        w = cfg_model.pred_width
        self.history = cfg_model.history
        self.action_encoder = ActionEncoder(cfg_model.action_dim * cfg_model.frameskip, w)
        self.inp = nn.Linear(cfg_model.latent, w)
        self.pos = nn.Parameter(torch.randn(1, cfg_model.history, w) * 0.02)
        self.drop = nn.Dropout(cfg_model.dropout)
        self.blocks = nn.ModuleList(AdaLNBlock(w, cfg_model.pred_heads, cfg_model.pred_mlp, cfg_model.dropout)
                                    for _ in range(cfg_model.pred_depth))
        self.norm = nn.LayerNorm(w)
        self.pred_proj = Projector(w, cfg_model.proj_hidden, cfg_model.latent)

    def forward(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        t = z.shape[1]
        if t > self.history:
            raise ValueError(f"predictor takes at most {self.history} latents, got {t}")
        x = self.drop(self.inp(z) + self.pos[:, :t])
        c = self.action_encoder(a)
        for block in self.blocks:
            x = block(x, c)
        return self.pred_proj(self.norm(x))


torch.manual_seed(0)
pred_inline = Predictor(M)
n_par = {name: sum(p.numel() for p in mod.parameters()) for name, mod in pred_inline.named_children()}
n_par["pos"] = pred_inline.pos.numel()
for name, n in n_par.items():
    print(f"{name:15s} {n:9,d}")
print(f"{'total':15s} {sum(p.numel() for p in pred_inline.parameters()):9,d}")

# %%
fig, ax = plt.subplots(figsize=(5, 2.6))
items = {k: v for k, v in n_par.items() if v}
ax.barh(list(items), list(items.values()), color="tab:blue")
ax.set_xlabel("parameters")
ax.set_title(f"Where the predictor's parameters are ({cfg.profile} profile)")
plt.tight_layout()
plt.show()

# %% [markdown]
# The causal mask makes one pass equal to $T$ separate passes on growing prefixes. Check it on the
# untrained predictor (eval mode, so dropout and BatchNorm are deterministic):

# %%
pred_inline.eval()
z = torch.randn(5, M.history, M.latent)
a = torch.randn(5, M.history, A)
with torch.no_grad():
    one_pass = pred_inline(z, a)  # (5, T, D)
    prefixes = torch.stack([pred_inline(z[:, : t + 1], a[:, : t + 1])[:, -1] for t in range(M.history)], dim=1)
torch.testing.assert_close(one_pass, prefixes)
print("one causal pass == one pass per prefix: teacher forcing predicts every step at once")

# %% [markdown]
# ## 5. Teacher forcing versus autoregressive rollout
#
# - **Teacher forcing** (training): every input is a *true* latent from the encoder. Each prediction
#   is one step ahead of real data; errors never feed back in.
# - **Autoregressive rollout** (planning): we only know the current frame. Predict $\hat z_{t+1}$ from
#   $z_t$ and $a_t$, append it to the history, predict $\hat z_{t+2}$ from $(z_t, \hat z_{t+1})$,
#   and so on, keeping the last `history` latents. Each prediction is built on earlier predictions,
#   so errors **compound**: the model is fed inputs slightly off the distribution it was trained on.
#
# To measure this we need a trained model. `lewm_mini.notebook.trained_model` trains LeWM (encoder,
# projector, this predictor, SIGReg) and caches it; chapter 04 explains the loss. We shorten training
# to keep the chapter quick (a full cpu-profile run is `python -m lewm_mini train`).

# %%
STEPS, WARMUP = {"ci": (cfg.train.steps, cfg.train.warmup), "cpu": (200, 20), "gpu": (3000, 300)}[cfg.profile]
cfg_short = replace(cfg, train=replace(cfg.train, steps=STEPS, warmup=WARMUP))
expect(4, 150, 300, cfg.profile)
t = time.perf_counter()
model, stats = trained_model(cfg_short)
model = model.to(device).eval()
print(f"trained (or loaded) {STEPS} steps in {time.perf_counter() - t:.0f} s")

# %% [markdown]
# Held-out episodes (a seed the training data never used), one frame every `frameskip` steps, and
# the action blocks between them:

# %%
ev = held_out_episodes(cfg.data, episodes=32)
fs = M.frameskip
L = ev.actions.shape[1] // fs  # action blocks per episode
frames = ev.frames[:, : L * fs + 1 : fs]  # (N, L + 1, H, W, 3)
blocks = torch.from_numpy(stats.block(ev.actions[:, : L * fs], fs)).to(device)  # (N, L, A)
with torch.no_grad():
    zs = model.encode(frames_to_tensor(frames).to(device))  # (N, L + 1, D)
print(f"{len(frames)} episodes, {L + 1} latents each, latents {tuple(zs.shape)}, blocks {tuple(blocks.shape)}")

# %% [markdown]
# The rollout loop, in words: start a sequence with the current latent $z_0$. At step $k$, take the last
# `history` latents of the sequence as context (at the start there are fewer), pair each with the action
# block that leaves it, run the predictor, keep only its **newest** output $\hat z_{k+1}$ and append it
# to the sequence. After $H$ steps, return $\hat z_1, \dots, \hat z_H$. Nothing but $z_0$ comes from
# the encoder. **Exercise 3.2** has you write this loop and tests it against three classic mistakes
# (feeding true latents, leaking the future, an off-by-one in the action index); here we use the
# package's `lewm_mini.rollout.rollout(predictor, z0, blocks, history)`.

# %%
from lewm_mini.rollout import rollout  # written by you in Exercise 3.2


# %% [markdown]
# Now compare, for every start $t_0$ and horizon $k = 1, \dots, H$, the squared error between a
# prediction of $z_{t_0 + k}$ and the encoder's $z_{t_0 + k}$ (mean over the D dimensions):
# - **rollout**: from $z_{t_0}$ alone, $k$ autoregressive steps with the true actions;
# - **teacher forcing**: the one-step prediction of $z_{t_0+k}$ from the true latents before it (the
#   last `history` of them);
# - **"nothing moves"**: predict $z_{t_0}$ for every $k$ (a model that ignores the actions);
# - **rollout with wrong actions**: the same rollout with the action blocks of another episode.
#
# To compare across models we divide by the average squared distance between two random latents
# (so 1.0 means "as far off as a random frame").

# %%
H = min(8, L)
hist_len = M.history
starts = range(0, L - H + 1, max(1, (L - H) // 4))
errs = {"rollout": [], "teacher forcing": [], "nothing moves": [], "rollout, wrong actions": []}
perm = torch.roll(torch.arange(len(zs)), 1)  # actions of the next episode
with torch.no_grad():
    for t0 in starts:
        true = zs[:, t0 + 1 : t0 + H + 1]  # (N, H, D)
        ro = rollout(model.predictor, zs[:, t0], blocks[:, t0 : t0 + H], hist_len)
        wrong = rollout(model.predictor, zs[:, t0], blocks[perm, t0 : t0 + H], hist_len)
        tf = []
        for k in range(H):  # one step from the true latents before z_{t0+k+1}
            lo = max(0, t0 + k + 1 - hist_len)
            tf.append(model.predictor(zs[:, lo : t0 + k + 1], blocks[:, lo : t0 + k + 1])[:, -1])
        tf = torch.stack(tf, 1)
        for name, p in (("rollout", ro), ("teacher forcing", tf), ("nothing moves", zs[:, t0 : t0 + 1].expand_as(true)),
                        ("rollout, wrong actions", wrong)):
            errs[name].append((p - true).pow(2).mean(-1))  # (N, H)
flat = zs.reshape(-1, zs.shape[-1])
scale = float((flat[torch.randperm(len(flat))] - flat).pow(2).mean())
curves = {name: torch.cat(e).mean(0).cpu() / scale for name, e in errs.items()}
for name, cv in curves.items():
    print(f"{name:24s} k=1: {cv[0]:.3f}   k={H}: {cv[-1]:.3f}")
print(f"rollout error grows {float(curves['rollout'][-1] / curves['rollout'][0]):.1f}x from k=1 to k={H}")

# %%
ks = np.arange(1, H + 1)
plt.figure(figsize=(6.5, 3.6))
styles = {"rollout": "o-", "teacher forcing": "s-", "nothing moves": "k--", "rollout, wrong actions": "x:"}
for name, cv in curves.items():
    plt.plot(ks, cv, styles[name], label=name)
plt.xlabel(f"horizon k (action blocks of {fs} steps)")
plt.ylabel("error / random-pair distance (log scale)")
plt.yscale("log")
plt.title(f"Prediction error against the horizon ({cfg.profile} profile, {STEPS} training steps)")
plt.legend(fontsize=8)
plt.grid(alpha=0.3)
plt.show()

# %% [markdown]
# What to read from the plot (numbers depend on the profile and the training length; the cpu-profile
# run that wrote this text measured, at k = 1 and k = 8: rollout 0.013 and 0.056, teacher forcing 0.013
# and 0.015, "nothing moves" 0.219 and 0.903, wrong actions 0.380 and 0.977):
# - **Teacher forcing is flat**: each of its predictions is one step from real data, whatever $k$.
# - **Rollout error grows with the horizon**: each step's error is carried into the next step's input.
#   At $k = 1$ the two are close, but they are *not* the same computation: the rollout predicts
#   $z_{t_0+1}$ from $z_{t_0}$ alone, while teacher forcing also sees the true latents before it
#   ($z_{t_0-2}, z_{t_0-1}$ when $t_0 > 0$). They agree here only because Two-Room has no inertia: the
#   current frame is the whole state, so older frames add almost nothing. In a world with velocity
#   (a ball in flight) one frame does not say where things are going, and the rollout with one latent
#   of context would be worse from its first step.
# - It stays well below **"nothing moves"** and below the **rollout with wrong actions** if the model
#   has learned to use the actions. The gap between "rollout" and "wrong actions" is the action
#   information the predictor actually uses; the gap to "nothing moves" is what the imagination is
#   worth over a static guess.
#
# A picture of one imagined trajectory: project the latents on their top two principal directions and
# draw the true path and the rollout from its first frame.

# %%
ep = 0
H_long = L
with torch.no_grad():
    ro_long = rollout(model.predictor, zs[ep : ep + 1, 0], blocks[ep : ep + 1, :H_long], hist_len)[0]
centre = flat.mean(0)
_, _, V = torch.pca_lowrank(flat - centre, q=2, center=False)
true_2d = ((zs[ep] - centre) @ V).cpu()
ro_2d = ((torch.cat([zs[ep, :1], ro_long]) - centre) @ V).cpu()
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
axes[0].plot(*true_2d.T, "o-", ms=3, label="encoder: true latents")
axes[0].plot(*ro_2d.T, "x--", ms=4, label="rollout from the first frame")
axes[0].plot(*true_2d[0], "k*", ms=12, label="start")
axes[0].set_title("latent trajectory (top 2 principal directions)")
axes[0].legend(fontsize=7)
axes[1].imshow(ev.frames[ep, : L * fs + 1].min(0))  # the agent's path: darkest pixel over all frames
axes[1].set_title("the episode's frames, overlaid")
axes[1].axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Think.** Planning in chapter 06 scores a candidate action sequence only by the *last* predicted
# latent of a 5-block rollout. Given the plot above, why is a short horizon with replanning (MPC) a
# better idea than planning the whole episode at once?
#
# <details><summary>Answer</summary>
#
# The rollout error grows with the horizon (here 4.2x from 1 to 8 blocks): each step builds on the
# errors of the steps before. Over a whole episode (20 blocks) the last imagined latent is the least
# reliable one, so ranking plans by it ranks them partly by accumulated error. With a short
# horizon the imagined end point is still accurate; after executing the plan the planner encodes the real
# frame and starts again, so the errors never accumulate beyond one plan. The price: a short horizon
# cannot see round obstacles that need a long detour (chapter 07, planning round walls, adds waypoints for
# that).
#
# </details>
#
# **Think.** Training uses teacher forcing only. What would change if, during training, we also fed the
# predictor its own predictions (as rollout does)? What could go wrong, given that the targets are
# themselves produced by the encoder that is being trained?
#
# <details><summary>Answer</summary>
#
# The predictor would be trained on inputs like those it meets when planning (its own slightly wrong
# predictions), which can reduce the compounding of errors (the idea of scheduled sampling). But the
# gradient of a multi-step loss flows through several predictor calls and into the encoder that produces
# the targets, and the easiest way to make long rollouts accurate is to make the latents small and alike:
# multi-step losses push harder towards collapse, so the regulariser has to push back harder. It also
# costs more compute per clip. LeWM keeps the simple one-step teacher-forced loss.
#
# </details>

# %% [markdown]
# ## 6. Check: our predictor is `lewm_mini`'s
#
# Built with the same seed, the inline `Predictor` (our action encoder, input map, position embedding
# and output head around the package's blocks) must have the same parameters as
# `lewm_mini.predictor.Predictor`. Then, to test the computation and not just the initialisation, we give
# the inline predictor random (non-zero) modulation weights, copy its `state_dict` into the package's,
# and compare the outputs. (The block and the rollout are checked against the package in Exercises 3.3
# and 3.2.)

# %%
from lewm_mini.predictor import Predictor as PkgPredictor

torch.manual_seed(0)
ours = Predictor(M)
torch.manual_seed(0)
theirs = PkgPredictor(M)
assert ours.state_dict().keys() == theirs.state_dict().keys()
for k, v in ours.state_dict().items():
    torch.testing.assert_close(v, theirs.state_dict()[k], rtol=0, atol=0, msg=f"{k} differs at init")

g = torch.Generator().manual_seed(1)
with torch.no_grad():  # make every block non-trivial, then copy across
    for blk in ours.blocks:
        blk.ada[1].weight.copy_(0.1 * torch.randn(blk.ada[1].weight.shape, generator=g))
theirs.load_state_dict(ours.state_dict())
ours.eval(), theirs.eval()
z = torch.randn(8, M.history, M.latent, generator=g)
a = torch.randn(8, M.history, A, generator=g)
with torch.no_grad():
    torch.testing.assert_close(ours(z, a), theirs(z, a))
    torch.testing.assert_close(ours.action_encoder(a), theirs.action_encoder(a))
print("Predictor: inline == lewm_mini (seed 0)")
print(f"notebook compute time: {time.perf_counter() - T0:.0f} s")

# %% [markdown]
# ## Summary
#
# - The predictor is a small causal transformer over one token per frame. The causal mask lets one
#   forward pass over a clip make every next-latent prediction, each from the true past only: that is
#   teacher forcing, and it is how LeWM trains.
# - Actions enter through **AdaLN-zero**: a zero-initialised linear layer maps the action embedding to
#   a shift, a scale and a gate per sublayer. At initialisation every gate is 0 and each block is
#   exactly the identity; the first gradients go to the modulation layer, so the network first learns
#   how much each action matters.
# - Planning uses **autoregressive rollout**: predictions are fed back as inputs. Its error grows with
#   the horizon, which is why planning uses short horizons and replans (MPC). Its first step is close to
#   the teacher-forced one in Two-Room only because one frame is the whole state there.
#
# ## Check your understanding
#
# **1.** With history 3, how many predictions does one training clip give, and how many forward passes
# does it take?
#
# <details><summary>Answer</summary>
#
# Three: with a clip of 4 frames the outputs at positions 1, 2, 3 predict $z_2, z_3, z_4$. One forward
# pass makes all three, thanks to the causal mask.
#
# </details>
#
# **2.** Remove the causal mask. Why would the training loss drop while the model becomes useless for
# planning?
#
# <details><summary>Answer</summary>
#
# The target of output $t$ is $z_{t+1}$, which is also the *input* at position $t+1$. Without the mask,
# output $t$ can attend to it and copy it: the loss falls without learning any dynamics. At planning time
# the future latents do not exist (the rollout only has the past), so the copying shortcut gives nothing
# and the predictions are bad.
#
# </details>
#
# **3.** In an AdaLN-zero block, which parameters receive a non-zero gradient at the very first step, and
# why do the attention weights receive none?
#
# <details><summary>Answer</summary>
#
# Only the modulation layer `ada` (its Linear's weight and bias). The gradient of the loss with respect to
# a gate is the sublayer's output, which is not zero. The attention and MLP weights receive none because
# their output is multiplied by a gate that is exactly 0, so changing them does not change the block's
# output.
#
# </details>
#
# **4.** At horizon 1, rollout and teacher forcing gave nearly the same error here. What differs between
# the two computations, why does it barely matter in Two-Room, and why does the rollout error grow after?
#
# <details><summary>Answer</summary>
#
# Teacher forcing predicts $z_{t_0+1}$ from up to `history` true latents ($z_{t_0-2}, z_{t_0-1},
# z_{t_0}$); the rollout from $z_{t_0}$ alone. In Two-Room the current frame is the whole state (no
# inertia), so the older latents add almost nothing and the two errors are close. After the first step the
# rollout's inputs are its own predictions, slightly off the distribution it was trained on, and each
# error is carried into the next prediction.
#
# </details>
#
# **5.** The paper's predictor uses dropout 0.1 and reports 78% PushT success with 0 and 67% with 0.5. How
# might dropout help a model that is used autoregressively?
#
# <details><summary>Answer</summary>
#
# Dropout trains the predictor to give good outputs even when parts of its input and hidden features are
# perturbed, and a rollout's inputs are perturbed by its own earlier errors; it also reduces overfitting
# to the training clips. Too much (0.5) removes so much information that even one-step predictions suffer.
#
# </details>
#
# ## Further reading
#
# - L. Maes et al. *LeWorldModel* (2026), arXiv 2603.19312: the predictor and its dropout ablation.
# - W. Peebles, S. Xie. *Scalable Diffusion Models with Transformers* (DiT, 2023), arXiv 2212.09748:
#   where AdaLN-zero comes from.
# - A. Vaswani et al. *Attention Is All You Need* (2017), arXiv 1706.03762; A. Karpathy, *nanoGPT* and
#   "Let's build GPT" (causal self-attention from scratch).
# - S. Bengio et al. *Scheduled Sampling for Sequence Prediction with Recurrent Neural Networks* (2015),
#   arXiv 1506.03099: the teacher-forcing versus free-running gap.
# - Next: chapter 04, why training this predictor on the encoder's own latents needs SIGReg.
