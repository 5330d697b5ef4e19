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
# # 02 · From pixels to one latent: the JEPA encoder
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/notebooks/02_jepa_encoder.ipynb)
#
# LeWorldModel never predicts pixels. It maps each frame to **one latent vector** and predicts the
# next latent. This chapter builds that map (encoder, then projector) and then measures, on the
# same data, what the choice "predict latents, not pixels" buys you.
#
# **What you build:** a strided CNN encoder and a small Vision Transformer with a CLS token, inline;
# the projector (Linear, BatchNorm, GELU, Linear); an experiment showing why that BatchNorm matters for
# SIGReg; and a head-to-head of a pixel autoencoder against a small JEPA (LeWM) on clean frames and on
# frames with a distracting background, scored by a linear probe of the agent's position.
#
# **Objectives.** After this chapter you can
# - follow a 64x64 frame through a CNN and through a ViT down to a single vector, with every shape;
# - explain what the CLS token is and why one token per frame makes planning cheap;
# - explain why the projector's BatchNorm (not the encoder's LayerNorm) lets SIGReg shape the latents,
#   and why BatchNorm forces eval mode at planning time;
# - say, with measured numbers, where a pixel-reconstruction objective spends its capacity.
#
# **Prerequisites:** chapter 01 (the world and its data); PyTorch basics (`nn.Module`, a training loop).
#
# **Time:** reading about 50 min.
#
# **Compute** (measured by `tools/execute_notebooks.py`, in a fresh kernel): CPU, cpu profile 120 s on 2
# cores of AMD EPYC (torch 2.13.0+cpu, 2026-12-02, reusing what earlier runs left in the cache, machine
# busy: load 1.5).

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
# Where this chapter sits in LeWorldModel: it builds the encoder and the projector that turn a frame
# into one latent (highlighted).

# %%
import matplotlib.pyplot as plt

from lewm_mini.viz import pipeline_figure

pipeline_figure(["encoder", "projector", "latent"])
plt.show()

# %%
import time
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lewm_mini.data import ActionStats, frames_to_tensor, load_or_collect
from lewm_mini.notebook import expect
from lewm_mini.sigreg import SIGReg
from lewm_mini.world import Geometry, background, render, sample_free_positions

T0 = time.perf_counter()
plt.rcParams["figure.dpi"] = 90
geo = Geometry(cfg.model.image_size)
SIZE = geo.size
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. A frame as a tensor
#
# Frames are stored as uint8 (H, W, 3). Networks want float (3, H, W). One function,
# `frames_to_tensor`, does this for training frames, current frames and goal frames alike: a goal that
# goes through different preprocessing than the training data is a classic silent planning bug.

# %%
pos8 = sample_free_positions(rng, 8, geo)
frames8 = render(pos8, geo)  # (8, 64, 64, 3) uint8
x8 = frames_to_tensor(frames8)  # (8, 3, 64, 64) float in [0, 1]
print("uint8 frames", frames8.shape, "->", tuple(x8.shape), x8.dtype, f"range [{x8.min():.0f}, {x8.max():.0f}]")
print(f"pixels per frame: {x8[0].numel()}; the state they show: 2 numbers (x, y)")

# %% [markdown]
# 12,288 numbers to describe 2. The encoder's job is to find the 2 inside the 12,288 without ever
# being told what they are.

# %% [markdown]
# ## 2. A CNN encoder, built inline
#
# On CPU we use a small convolutional network (the paper reports that a ResNet-18 works about as well
# as its ViT: the method does not depend much on the encoder). Each stage is a 4x4 convolution with
# stride 2, which halves the height and width, followed by GELU. After four stages the 64x64 image is a
# 4x4 grid; we flatten it (keeping *where* things are, which is what Two-Room is about), map it
# linearly to `width` numbers and finish with a LayerNorm, as the ViT does.

# %%
class CNNEncoder(nn.Module):
    """(N, 3, S, S) -> (N, width): strided 4x4 convs, flatten, Linear, LayerNorm."""

    def __init__(self, image_size: int, channels: tuple[int, ...], width: int):
        super().__init__()
        layers, c_in = [], 3
        for c in channels:
            layers += [nn.Conv2d(c_in, c, kernel_size=4, stride=2, padding=1), nn.GELU()]
            c_in = c
        self.conv = nn.Sequential(*layers)
        grid = image_size // 2 ** len(channels)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c_in * grid * grid, width), nn.LayerNorm(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x))


torch.manual_seed(0)
cnn = CNNEncoder(SIZE, cfg.model.channels, cfg.model.enc_width)
h = x8
print(f"{'input':>12s}  {tuple(h.shape)}")
for layer in [*cnn.conv, *cnn.head]:
    h = layer(h)
    if not isinstance(layer, nn.GELU):
        print(f"{layer.__class__.__name__:>12s}  {tuple(h.shape)}")
print(f"CNN encoder parameters: {sum(p.numel() for p in cnn.parameters()):,}")

# %%
with torch.no_grad():
    fmap = cnn.conv[:2](x8[:1])[0]  # first stage, after GELU: (channels[0], 32, 32)
fig, axes = plt.subplots(1, 7, figsize=(13, 2.2))
axes[0].imshow(frames8[0]), axes[0].set_title("frame")
for k, ax in enumerate(axes[1:]):
    ax.imshow(fmap[k], cmap="gray"), ax.set_title(f"channel {k}", fontsize=9)
for ax in axes:
    ax.axis("off")
plt.suptitle("First-stage feature maps of an untrained CNN (32x32): edges of walls and blob already show")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3. A Vision Transformer: patches, tokens and the CLS token
#
# LeWM's encoder is a ViT-Tiny (224x224 frames, 14x14 patches, width 192, 12 layers). A ViT:
# 1. cuts the frame into non-overlapping patches (here 8x8: an 8x8 grid of 64 patches);
# 2. maps every patch linearly to a `width`-d **token** (a Conv2d with kernel = stride = patch does
#    exactly this; **Exercise 2.1** proves it);
# 3. prepends one extra learned token, **CLS**, and adds a learned position embedding to every token;
# 4. runs transformer blocks (self-attention lets every token look at every other);
# 5. keeps only the CLS token's output: the whole frame summarised in one vector.

# %%
P = cfg.model.patch
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), gridspec_kw={"width_ratios": [1, 1.6]})
axes[0].imshow(frames8[0], extent=(0, SIZE, SIZE, 0))
for k in range(0, SIZE + 1, P):
    axes[0].axhline(k, color="tab:blue", lw=0.6), axes[0].axvline(k, color="tab:blue", lw=0.6)
axes[0].set_title(f"{(SIZE // P) ** 2} patches of {P}x{P}")
axes[0].axis("off")
# the token sequence: CLS first, then the patches in reading order (row by row), 13 per line
n_tok, per_line, cell = (SIZE // P) ** 2 + 1, 13, P + 2
mosaic = np.full((cell * -(-n_tok // per_line), cell * per_line, 3), 0.6)  # grey gaps
for k in range(n_tok):
    r, c = divmod(k, per_line)
    if k == 0:
        tile = np.broadcast_to(np.array([0.95, 0.65, 0.1]), (P, P, 3))  # the learned CLS token
    else:
        i, j = divmod(k - 1, SIZE // P)
        tile = frames8[0, i * P : (i + 1) * P, j * P : (j + 1) * P] / 255.0
    mosaic[r * cell + 1 : r * cell + 1 + P, c * cell + 1 : c * cell + 1 + P] = tile
axes[1].imshow(mosaic, interpolation="nearest")
axes[1].set_title(f"{n_tok} tokens: CLS (orange) + patches; keep CLS")
axes[1].axis("off")
plt.tight_layout()
plt.show()

# %%
class ViTEncoder(nn.Module):
    """(N, 3, S, S) -> (N, width): the CLS token's output after pre-norm transformer blocks."""

    def __init__(self, image_size: int, patch: int, width: int, depth: int, heads: int):
        super().__init__()
        n_tokens = (image_size // patch) ** 2
        self.patchify = nn.Conv2d(3, width, kernel_size=patch, stride=patch)  # one linear map per patch
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.randn(1, n_tokens + 1, width) * 0.02)
        layer = nn.TransformerEncoderLayer(width, heads, 4 * width, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patchify(x).flatten(2).transpose(1, 2)  # (N, n_patches, width)
        cls = self.cls.expand(len(x), -1, -1)  # the same learned token for every frame
        tokens = torch.cat([cls, tokens], dim=1) + self.pos  # (N, 1 + n_patches, width)
        return self.norm(self.blocks(tokens))[:, 0]  # keep the CLS token only


# On CPU a small ViT for the demo; the gpu profile uses the configured (ViT-Tiny-like) one.
VIT = ((cfg.model.enc_width, cfg.model.enc_depth, cfg.model.enc_heads) if cfg.model.encoder == "vit" else (64, 2, 2))
torch.manual_seed(0)
vit = ViTEncoder(SIZE, P, *VIT)
with torch.no_grad():
    tok = vit.patchify(x8).flatten(2).transpose(1, 2)
    print(f"patch tokens {tuple(tok.shape)} -> with CLS {(tok.shape[0], tok.shape[1] + 1, tok.shape[2])} "
          f"-> encoder output {tuple(vit(x8).shape)}")
print(f"our ViT (width {VIT[0]}, depth {VIT[1]}): {sum(p.numel() for p in vit.parameters()):,} parameters")
paper_vit = ViTEncoder(224, 14, 192, 12, 3)
print(f"paper's ViT-Tiny (224 px, patch 14, width 192, depth 12): {sum(p.numel() for p in paper_vit.parameters()):,}")
del paper_vit

# %% [markdown]
# **Why one token per frame matters.** The predictor attends over the history of frames. With one
# token per frame, a history of 3 frames is 3 tokens. DINO-WM, which plans with frozen DINOv2 patch
# features, carries about 196 tokens of 384 numbers per frame. Attention cost grows with the square
# of the number of tokens, and the planner calls the predictor thousands of times per decision:

# %%
hist = 3
for name, tokens_per_frame, dim in (("LeWM (CLS only)", 1, 192), ("DINO-WM (patches)", 196, 384)):
    n = hist * tokens_per_frame
    print(f"{name:20s} {n:4d} tokens per history, {n * dim:7,d} numbers, {n * n:7,d} attention pairs")
print("the paper measures 0.98 s vs 47 s for one full CEM plan on the same GPU (the '48x faster' claim)")

# %% [markdown]
# **Think.** The CLS token starts identical for every frame. How does it end up different for two
# different frames? (Hint: which operation lets it read the patch tokens?)
#
# <details><summary>Answer</summary>
#
# Self-attention. In every block the CLS token's query is compared with the keys of all patch tokens, and
# it takes a weighted average of their values; the patch tokens depend on the frame, so after the first
# block the CLS token already carries information about the frame, and the following blocks refine it. Its
# starting value is the same learned vector for every frame.
#
# </details>

# %% [markdown]
# ## 4. The projector, and why its BatchNorm matters for SIGReg
#
# Both encoders end in a **LayerNorm**: each output vector is standardised *on its own* (mean 0 and
# variance 1 across its features). LeWM then applies a small MLP, the **projector**:
# Linear -> **BatchNorm1d** -> GELU -> Linear. BatchNorm standardises each feature *across the batch*.
#
# The latents $z$ are what SIGReg (chapter 04) regularises: it measures how far the batch of latents is
# from an isotropic Gaussian $\mathcal{N}(0, I)$. Here we use it as a black box: about 1 for Gaussian
# latents, about $0.402 \times B$ for collapsed ones (every frame mapped to the same point).

# %%
class Projector(nn.Module):
    """(..., d_in) -> (..., d_out): Linear, BatchNorm1d, GELU, Linear (leading dims flattened for BatchNorm)."""

    def __init__(self, d_in: int, hidden: int, d_out: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.BatchNorm1d(hidden), nn.GELU(), nn.Linear(hidden, d_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        return self.net(x.reshape(-1, x.shape[-1])).reshape(*lead, -1)


# %% [markdown]
# First a measurement on an untrained encoder. Two frames of Two-Room differ in a few dozen pixels out
# of 4,096, so at initialisation the encoder maps all frames to nearly the same vector:

# %%
N_FEAT = 512
feat_pos = sample_free_positions(rng, N_FEAT, geo)
with torch.no_grad():
    feats = cnn(frames_to_tensor(render(feat_pos, geo)))  # (N, width), LayerNorm output
cos = F.cosine_similarity(feats[:, None], feats[None], dim=-1)
print(f"LayerNorm output: per-vector mean {feats.mean(1).abs().max():.1e}, "
      f"per-vector std {feats.std(1, unbiased=False).mean():.3f}")
off_diagonal = ~torch.eye(N_FEAT, dtype=torch.bool)
print(f"mean cosine similarity between the latents of two different frames: {cos[off_diagonal].mean():.4f}")
print(f"spread across frames (std per feature, averaged): {feats.std(0).mean():.4f}   "
      "vs   size of each vector: 1.0 per feature")

sig = SIGReg(num_proj=cfg.train.num_proj)
gen = torch.Generator().manual_seed(0)
D, B = cfg.model.latent, 128
print(f"SIGReg at D={D}, B={B}: N(0, I) sample {sig(torch.randn(B, D), generator=gen):.2f}, "
      f"collapsed (zeros) {sig(torch.zeros(B, D), generator=gen):.1f}")

# %% [markdown]
# Now the experiment. Keep the untrained encoder's features fixed and train only a head on top of
# them to minimise SIGReg alone, with three heads of the same size:
# - **LayerNorm head**: Linear, GELU, Linear, LayerNorm (what you get if the latent is a LayerNorm output);
# - **plain MLP head**: Linear, GELU, Linear (no normalisation at all);
# - **the projector**: Linear, BatchNorm1d, GELU, Linear.

# %%
HEAD_STEPS = {"ci": 40, "cpu": 300, "gpu": 300}[cfg.profile]
expect(2, 12, 10, cfg.profile)


def make_head(kind: str) -> nn.Module:
    d_in, hid = cfg.model.enc_width, cfg.model.proj_hidden
    if kind == "LayerNorm head":
        return nn.Sequential(nn.Linear(d_in, hid), nn.GELU(), nn.Linear(hid, D), nn.LayerNorm(D))
    if kind == "plain MLP head":
        return nn.Sequential(nn.Linear(d_in, hid), nn.GELU(), nn.Linear(hid, D))
    return Projector(d_in, hid, D)


head_curves = {}
for kind in ("LayerNorm head", "plain MLP head", "projector (BatchNorm)"):
    torch.manual_seed(0)
    head = make_head(kind)
    opt = torch.optim.Adam(head.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(1)
    curve = []
    for step in range(HEAD_STEPS):
        batch = feats[torch.randint(0, N_FEAT, (B,), generator=g)]
        loss = sig(head(batch), generator=g)
        opt.zero_grad()
        loss.backward()
        opt.step()
        curve.append(loss.item())
    head_curves[kind] = curve
    print(f"{kind:24s} SIGReg: start {curve[0]:6.1f}  end (last 20 steps) {np.mean(curve[-20:]):6.2f}")

plt.figure(figsize=(6, 3))
for kind, curve in head_curves.items():
    plt.plot(curve, label=kind)
plt.axhline(1.0, color="k", ls=":", lw=1, label="Gaussian floor (~1)")
plt.yscale("log")
plt.xlabel("step")
plt.ylabel("SIGReg")
plt.legend(fontsize=8)
plt.title("Minimising SIGReg on top of a frozen, untrained encoder")
plt.show()

# %% [markdown]
# Only the projector gets to the Gaussian floor; the LayerNorm head and the plain MLP head both stall far
# above it. Read this carefully: the experiment shows what BatchNorm *does*, not that LayerNorm is the
# culprit. BatchNorm divides each hidden feature by its spread *across the batch*, so the tiny
# differences between frames are blown up to unit scale from the first step and SIGReg has a spread-out
# cloud to shape. The plain head, with no normalisation at all, fails just like the LayerNorm head:
# from nearly identical inputs, a few hundred Adam steps do not produce a spread-out batch.
#
# What does a LayerNorm output cost by itself? Each LayerNorm'd vector has mean 0 and variance 1 across
# its own D features, so **every latent has the same norm** $\sqrt{D}$ and lies in the hyperplane
# orthogonal to the all-ones direction: that one direction has no variance, and the norm cannot
# fluctuate as a Gaussian's does. We measure it on the best possible input, real $\mathcal{N}(0, I)$
# samples passed through a LayerNorm:
#
# %%
g_ln = torch.Generator().manual_seed(0)
z_gauss = torch.randn(B, D, generator=g_ln)
z_ln = F.layer_norm(z_gauss, (D,))  # LayerNorm without its learned scale and shift
ones = torch.ones(D) / D**0.5
for name, z in (("N(0, I) sample", z_gauss), ("the same, LayerNorm'd", z_ln)):
    norms = z.norm(dim=1)
    print(f"{name:22s} norm {norms.mean():.2f} ± {norms.std():.1e};  variance along the all-ones direction "
          f"{(z @ ones).var():.1e};  SIGReg {sig(z, generator=torch.Generator().manual_seed(1)):.2f}")

# %% [markdown]
# So LayerNorm removes one direction of D and freezes the norm, and SIGReg notices little of it at
# this D (compare the last column with the Gaussian's; in 16 dimensions, the ci profile, the gap is
# larger, and it grows with the batch size). The constraint is real but small; what made the LayerNorm
# and plain heads fail in our experiment is that neither turns nearly identical inputs into a spread-out
# batch. LeWM's authors report that SIGReg cannot be optimised well on the ViT's LayerNorm output and add
# the BatchNorm projector; our measurement supports the narrower statement that a head that normalises
# across the batch makes SIGReg easy to optimise from a poor start. **Exercise 2.2** has you write
# BatchNorm, including the running statistics it uses in eval mode.
#
# **The price: train mode and eval mode differ.** In train mode BatchNorm uses the statistics of the
# current batch (and cannot normalise a batch of one frame); in eval mode it uses running averages
# collected during training. A planner encodes one current frame and one goal frame, so **planning
# must run the model in eval mode**.

# %%
proj = Projector(cfg.model.enc_width, cfg.model.proj_hidden, D)
proj.train()
try:
    proj(feats[:1])
except ValueError as err:
    print("train mode, one frame ->", type(err).__name__ + ":", str(err)[:80])
with torch.no_grad():
    z_batch = proj(feats[:64])  # train mode: batch statistics (and updates the running averages)
    proj.eval()
    z_alone = proj(feats[:1])  # eval mode: running averages, a batch of one is fine
print(f"eval mode, one frame -> shape {tuple(z_alone.shape)}; differs from its train-mode latent by "
      f"{(z_alone[0] - z_batch[0]).norm():.2f} (norm of the latent: {z_batch[0].norm():.2f})")

# %% [markdown]
# **Think.** SIGReg is computed over the batch. If the batch dimension mixed frames of different time
# steps of the same clip, what would BatchNorm and SIGReg see? (LeWM computes SIGReg per time step.)
#
# <details><summary>Answer</summary>
#
# Frames of the same clip are only a few steps apart and look almost alike, so the batch would contain
# groups of near-duplicates: the statistics would be those of a clumpy, correlated sample, not of
# independent frames. SIGReg would then test (and push towards a Gaussian) the mixture over time steps,
# and a distribution that changes with the time step could hide in it. Computing it per time step keeps
# every test on B roughly independent frames.
#
# </details>

# %% [markdown]
# ## 5. Predict pixels or predict latents? A measured contrast
#
# A *generative* world model reconstructs (or predicts) pixels: every pixel counts in its loss. A
# *joint-embedding predictive* model (JEPA) such as LeWM only has to predict the next **latent**; what
# goes into the latent is up to the encoder, with SIGReg keeping it from collapsing. Which one puts the
# agent's position into its latent?
#
# We train both on the same data and compare their latents with a **linear probe**: a least-squares
# map from the frozen latent to the agent's (x, y), fitted on frames of training episodes and scored
# on held-out episodes (error in pixels; lower is better). We do this twice:
# - **clean**: the Two-Room frames of chapter 01;
# - **distractor**: the same trajectories, but every frame gets a fresh random grey texture on the
#   floor, a "noisy TV": large, changing, and unrelated to the agent.

# %%
expect(3, 12, 30, cfg.profile)
# The training episodes of chapter 01 (cached there); at most 1,000 of them are needed here.
data_cfg = cfg.data if cfg.data.episodes <= 1000 else replace(cfg.data, episodes=1000)
episodes = load_or_collect(data_cfg, "train", progress=False)
n_ep = len(episodes)
n_train_ep = max(1, int(0.9 * n_ep))  # the last 10% of episodes are held out for probing
stats = ActionStats.fit(episodes.actions[:n_train_ep])
BG = background(geo)


ALPHA = 0.3  # strength of the texture: the floor's brightness varies between 1 - ALPHA and 1


def textured_backgrounds(n: int, rng: np.random.Generator, alpha: float = ALPHA) -> np.ndarray:
    """n random floors (n, H, W, 3) in [0, 1]: smooth grey noise (5x5 upsampled), walls stay black."""
    low = torch.from_numpy(rng.uniform(0, 1, (n, 1, 5, 5)).astype(np.float32))
    tex = F.interpolate(low, size=(SIZE, SIZE), mode="bicubic", align_corners=False).clamp(0, 1)
    tex = tex.permute(0, 2, 3, 1).numpy()  # (n, H, W, 1), the same grey in the 3 channels
    return BG[None] * (1 - alpha + alpha * tex)


def frames_at(pos: np.ndarray, distractor: bool, rng: np.random.Generator) -> np.ndarray:
    """uint8 frames (..., H, W, 3) of agents at pos (..., 2); a fresh texture per frame if distractor."""
    flat = pos.reshape(-1, 2)
    bg = textured_backgrounds(len(flat), rng) if distractor else BG
    return render(flat, geo, bg).reshape(*pos.shape[:-1], SIZE, SIZE, 3)


show_pos = episodes.pos[n_train_ep, ::20][:5]
fig, axes = plt.subplots(2, 5, figsize=(10, 4.2))
for row, dis in enumerate((False, True)):
    for ax, f in zip(axes[row], frames_at(show_pos, dis, np.random.default_rng(1))):
        ax.imshow(f)
        ax.axis("off")
    axes[row, 0].set_title("clean" if not dis else "distractor", loc="left")
plt.suptitle("The same five moments of one held-out episode, clean and with the distractor floor")
plt.tight_layout()
plt.show()

# %% [markdown]
# How much of what a pixel loss sees is the agent? Compare the pixel variance (summed over pixels) of
# clean frames, where only the agent changes, with that of distractor frames:

# %%
var_pos = episodes.pos[:n_train_ep].reshape(-1, 2)[rng.integers(0, n_train_ep * episodes.pos.shape[1], 1000)]
v_clean = frames_to_tensor(frames_at(var_pos, False, rng)).var(0).sum().item()
v_dis = frames_to_tensor(frames_at(var_pos, True, rng)).var(0).sum().item()
print(f"pixel variance of clean frames: {v_clean:.0f}; of distractor frames: {v_dis:.0f}")
print(f"-> the agent accounts for about {v_clean / v_dis:.0%} of what a pixel loss has to explain on distractor frames")

# %% [markdown]
# ### 5.1 The two models
# - **Autoencoder (pixel reconstruction).** The same encoder and projector, then a decoder (transposed
#   convolutions mirroring the CNN) back to 64x64x3; loss = mean squared pixel error.
# - **LeWM (latent prediction).** `lewm_mini.jepa.LeWM`: the same encoder and projector, plus its
#   predictor (chapter 03 builds it); loss = MSE between predicted and actual next latents + lambda * SIGReg, on
#   clips of 4 frames 5 steps apart with their action blocks (chapter 01).
#
# Both see the same number of frames per step (clips x 4), for the same number of steps, with the same
# optimiser. No hyperparameter is tuned for either model (the texture strength was chosen: see "Try it"
# below for a stronger one). One caveat before the numbers: this is **one small training budget**
# (cpu profile: 300 steps of 32 clips, about 38,000 frames seen), the same for both, not a budget at
# which either model has converged. The training cell prints how much each loss changed between the last
# two tenths of its training: a model still improving at the end might do better with more steps.
# Read the results as "at equal, small compute", not as a verdict on pixel reconstruction in general.

# %%
from lewm_mini.encoder import build_encoder
from lewm_mini.jepa import LeWM
from lewm_mini.projector import Projector as PkgProjector


class AutoEncoder(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.encoder = build_encoder(m)
        self.projector = PkgProjector(m.enc_width, m.proj_hidden, m.latent)
        c = m.channels[::-1]
        self.grid = m.image_size // 2 ** len(c)
        self.fc = nn.Linear(m.latent, c[0] * self.grid**2)
        layers = []
        for c_in, c_out in zip(c, [*c[1:], 3]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), nn.GELU()]
        layers[-1] = nn.Sigmoid()  # pixels in [0, 1]
        self.decoder = nn.Sequential(*layers)
        self.c0 = c[0]

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.projector(self.encoder(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.fc(z).view(-1, self.c0, self.grid, self.grid))


STEPS, CLIPS = {"ci": (40, 8), "cpu": (300, 32), "gpu": (2000, 64)}[cfg.profile]
T_CLIP, FS = cfg.model.history + 1, cfg.model.frameskip


def sample_clips(rng: np.random.Generator, batch: int):
    """Positions (B, T, 2) of clip frames and their z-scored action blocks (B, T, 2 * FS)."""
    ep = rng.integers(0, n_train_ep, batch)
    start = rng.integers(0, episodes.actions.shape[1] - T_CLIP * FS + 1, batch)
    frame_t = start[:, None] + FS * np.arange(T_CLIP)
    act_t = start[:, None] + np.arange(T_CLIP * FS)
    blocks = stats.block(episodes.actions[ep[:, None], act_t], FS)
    return episodes.pos[ep[:, None], frame_t], torch.from_numpy(blocks)


def train_model(kind: str, distractor: bool):
    torch.manual_seed(0)
    data_rng = np.random.default_rng(1)
    if kind == "autoencoder":
        model = AutoEncoder(cfg.model).to(device)
    else:
        model = LeWM(cfg.model, num_proj=cfg.train.num_proj).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-3)
    losses = []
    for step in range(STEPS):
        pos, blocks = sample_clips(data_rng, CLIPS)
        x = frames_to_tensor(frames_at(pos, distractor, data_rng)).to(device)  # (B, T, 3, H, W)
        if kind == "autoencoder":
            x = x.flatten(0, 1)
            loss = F.mse_loss(model.decode(model.encode(x)), x)
        else:
            loss = model.loss(x, blocks.to(device), lam=cfg.train.lam)["loss"]
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return model.eval(), losses


# %% [markdown]
# ### 5.2 The linear probe
# Ridge regression with a bias: standardise each latent dimension with the training frames' mean and
# std (so the probe does not depend on the latents' scale), then solve
# $(X^\top X + \lambda n I)\,W = X^\top Y$ with $X = [z, 1]$. The error is the root mean squared
# Euclidean distance between predicted and true positions, in pixels.

# %%
def encode_frames(model: nn.Module, frames: np.ndarray) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([model.encode(frames_to_tensor(frames[i : i + 256]).to(device)).cpu()
                          for i in range(0, len(frames), 256)])


def probe_rmse(z_tr: torch.Tensor, y_tr: np.ndarray, z_te: torch.Tensor, y_te: np.ndarray,
               ridge: float = 1e-4) -> float:
    """Fit a ridge probe latent -> position on (z_tr, y_tr); RMSE in pixels on (z_te, y_te)."""
    mu, sd = z_tr.mean(0), z_tr.std(0).clamp_min(1e-8)
    z_tr, z_te = (z_tr - mu) / sd, (z_te - mu) / sd
    x_tr = torch.cat([z_tr, torch.ones(len(z_tr), 1)], 1).double()
    x_te = torch.cat([z_te, torch.ones(len(z_te), 1)], 1).double()
    w = torch.linalg.solve(x_tr.T @ x_tr + ridge * len(x_tr) * torch.eye(x_tr.shape[1], dtype=torch.float64),
                           x_tr.T @ torch.as_tensor(y_tr, dtype=torch.float64))
    err = x_te @ w - torch.as_tensor(y_te, dtype=torch.float64)
    return float(err.pow(2).sum(1).mean().sqrt())


N_PROBE = {"ci": 400, "cpu": 3000, "gpu": 4000}[cfg.profile]
probe_rng = np.random.default_rng(2)
pos_tr = episodes.pos[:n_train_ep].reshape(-1, 2)  # every frame of the training episodes
pos_te = episodes.pos[n_train_ep:].reshape(-1, 2)  # every frame of the held-out episodes
y_probe_tr = pos_tr[probe_rng.integers(0, len(pos_tr), N_PROBE)]
y_probe_te = pos_te[probe_rng.integers(0, len(pos_te), N_PROBE // 2)]
probe_frames = {}  # distractor? -> (probe training frames, held-out frames)
for dis in (False, True):
    probe_frames[dis] = (frames_at(y_probe_tr, dis, probe_rng), frames_at(y_probe_te, dis, probe_rng))
mean_rmse = float(np.sqrt(((y_probe_te - y_probe_tr.mean(0)) ** 2).sum(1).mean()))
print(f"probe: {N_PROBE} training frames, {N_PROBE // 2} held-out frames; "
      f"always guessing the mean position gives {mean_rmse:.1f} px")

# %% [markdown]
# ### 5.3 Train, probe, compare
# Four short trainings (2 models x 2 kinds of frames), plus the untrained encoder as a baseline.

# %%
expect(10, 300, 300, cfg.profile)
results, models, curves = {}, {}, {}
for dis in (False, True):
    tr, te = probe_frames[dis]
    torch.manual_seed(0)
    untrained = LeWM(cfg.model, num_proj=cfg.train.num_proj).eval().to(device)
    results[("untrained encoder", dis)] = probe_rmse(encode_frames(untrained, tr), y_probe_tr,
                                                     encode_frames(untrained, te), y_probe_te)
    for kind in ("autoencoder", "LeWM (JEPA)"):
        t = time.perf_counter()
        model, losses = train_model(kind, dis)
        models[(kind, dis)], curves[(kind, dis)] = model, losses
        results[(kind, dis)] = probe_rmse(encode_frames(model, tr), y_probe_tr, encode_frames(model, te), y_probe_te)
        tenth = max(1, STEPS // 10)  # did the loss still fall between the last two tenths of training?
        fell = 1 - np.mean(losses[-tenth:]) / np.mean(losses[-2 * tenth : -tenth])
        print(f"{'distractor' if dis else 'clean':10s} {kind:12s} trained {STEPS} steps in "
              f"{time.perf_counter() - t:5.1f} s, final loss {np.mean(losses[-10:]):.4f} "
              f"(last tenth vs the one before: {-fell:+.0%}), probe error {results[(kind, dis)]:.2f} px")

print(f"\n{'probe error (px)':20s}{'clean':>10s}{'distractor':>12s}")
for kind in ("untrained encoder", "autoencoder", "LeWM (JEPA)"):
    print(f"{kind:20s}{results[(kind, False)]:10.2f}{results[(kind, True)]:12.2f}")
print(f"{'guess the mean':20s}{mean_rmse:10.2f}{mean_rmse:12.2f}")

# %%
kinds = ("untrained encoder", "autoencoder", "LeWM (JEPA)")
xk = np.arange(len(kinds))
plt.figure(figsize=(6.5, 3.2))
plt.bar(xk - 0.18, [results[(k, False)] for k in kinds], 0.36, label="clean")
plt.bar(xk + 0.18, [results[(k, True)] for k in kinds], 0.36, label="distractor")
plt.axhline(mean_rmse, color="k", ls=":", lw=1, label="guess the mean")
plt.axhline(geo.success_radius, color="tab:green", ls="--", lw=1, label="success radius")
plt.xticks(xk, kinds)
plt.ylabel("linear-probe error (px)")
plt.title(f"Where is the agent? Linear probe on frozen latents ({cfg.profile} profile, {STEPS} steps)")
plt.legend(fontsize=8)
plt.show()

# %% [markdown]
# Now look at what the autoencoder spent its capacity on: its reconstructions of held-out frames.

# %%
fig, axes = plt.subplots(4, 5, figsize=(10, 8.4))
for row, dis in enumerate((False, True)):
    frames = probe_frames[dis][1][:5]
    with torch.no_grad():
        ae = models[("autoencoder", dis)]
        rec = ae.decode(ae.encode(frames_to_tensor(frames).to(device))).cpu().permute(0, 2, 3, 1).numpy()
    for j in range(5):
        axes[2 * row, j].imshow(frames[j])
        axes[2 * row + 1, j].imshow(rec[j].clip(0, 1))
        axes[2 * row, j].axis("off"), axes[2 * row + 1, j].axis("off")
    name = "distractor" if dis else "clean"
    axes[2 * row, 0].set_title(f"{name}: input", loc="left", fontsize=9)
    axes[2 * row + 1, 0].set_title(f"{name}: autoencoder reconstruction", loc="left", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# What to read from the table, the bars and the pictures. Your exact numbers depend on the profile;
# the cpu-profile run behind this text measured, at this budget (probe error in px, clean / distractor): untrained
# encoder 12.83 / 15.92, autoencoder 2.76 / 18.06, LeWM 1.26 / 1.57, guessing the mean 18.28.
# - On clean frames both trained models put the agent's position into their latent, LeWM about twice
#   as precisely. An untrained random network already carries some of it (the blob is the
#   only thing that moves).
# - With the distractor floor, the autoencoder's latent loses the agent completely: its probe is no
#   better than guessing the mean. LeWM's latent barely changes (1.26 -> 1.57 px). A texture that
#   changes at random every frame cannot be predicted from the previous frame, so the prediction loss
#   pushes it *out* of the latent; the pixel loss pulls it *in*, because the texture is most of
#   what there is to reconstruct (the agent is about 37% of the pixel variance here).
# - The reconstructions show where the autoencoder's capacity went. After this short training it does
#   not draw the agent even on clean frames: floor, border and walls are almost all of its loss, and it
#   learns them first (its latent still carries the position, as the probe shows). On distractor frames
#   it reproduces the blotches of the texture, coarsely, and nothing of the agent.
#
# **Try it.** Set `ALPHA = 0.5` (the agent is then only about 17% of the pixel variance) and re-run
# this section. In our runs LeWM's latent then latched onto the texture too: its probe was no better
# than the mean, with two seeds, a doubled learning rate and twice the steps. SIGReg rewards latents
# that spread out like a Gaussian, and a random texture (25 random numbers per frame, upsampled) is an
# easy source of spread; the prediction loss must then win against it. Latent prediction is not
# immune to distractors: it only stops *paying* for them.
#
# **Think.** Here the texture changes every frame. Suppose instead each *episode* had its own fixed
# texture. It is then perfectly predictable from the previous frame, and it varies a lot between
# episodes, which SIGReg likes. What might a JEPA encode then? (See Sobal et al. 2022 in the further
# reading: JEPAs are drawn to slow features.)
#
# <details><summary>Answer</summary>
#
# Very likely the texture. A per-episode texture is constant within a clip, so it is perfectly
# predictable, costs the prediction loss nothing, and it spreads the latents across episodes, which SIGReg
# rewards. The agent's position, which changes and is harder to predict, may then be only partly encoded:
# that is the slow-feature trap of JEPAs (Sobal et al. 2022).
#
# </details>
#
# **Think.** The paper reports that *adding* a reconstruction loss to LeWM lowers PushT success from
# 96% to 86%. How does this experiment help explain that?
#
# <details><summary>Answer</summary>
#
# A reconstruction loss pays for every pixel, and most pixels are not about what matters for control (here
# the floor texture; in PushT the background and details of the objects). It pulls capacity of the latent
# towards what is large in pixel space, away from the small, controllable part; the probe error of the
# autoencoder with the distractor shows exactly that.
#
# </details>

# %% [markdown]
# ## 6. Check: our encoders and projector are `lewm_mini`'s
#
# With the same seed, the inline modules and the package's are built with the same random numbers, so
# their parameters and their outputs on the same frames must agree exactly.

# %%
from lewm_mini.encoder import CNNEncoder as PkgCNNEncoder
from lewm_mini.encoder import ViTEncoder as PkgViTEncoder


def same_module(ours: nn.Module, theirs: nn.Module, x: torch.Tensor) -> None:
    a, b = ours.state_dict(), theirs.state_dict()
    assert a.keys() == b.keys(), (a.keys() ^ b.keys())
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=f"parameter {k} differs")
    ours.eval(), theirs.eval()
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x))


check_x = frames_to_tensor(render(sample_free_positions(np.random.default_rng(0), 16, geo), geo))
pairs = {
    "CNNEncoder": (lambda: CNNEncoder(SIZE, cfg.model.channels, cfg.model.enc_width),
                   lambda: PkgCNNEncoder(SIZE, cfg.model.channels, cfg.model.enc_width), check_x),
    "ViTEncoder": (lambda: ViTEncoder(SIZE, P, *VIT), lambda: PkgViTEncoder(SIZE, P, *VIT), check_x),
    "Projector": (lambda: Projector(cfg.model.enc_width, cfg.model.proj_hidden, D),
                  lambda: PkgProjector(cfg.model.enc_width, cfg.model.proj_hidden, D),
                  torch.randn(16, 3, cfg.model.enc_width)),
}
for name, (ours_fn, theirs_fn, x) in pairs.items():
    torch.manual_seed(0)
    ours = ours_fn()
    torch.manual_seed(0)
    theirs = theirs_fn()
    same_module(ours, theirs, x)
    print(f"{name}: inline == lewm_mini (parameters and outputs, seed 0)")
print(f"notebook compute time: {time.perf_counter() - T0:.0f} s")

# %% [markdown]
# ## Summary
#
# - A frame (12,288 numbers) becomes one latent vector: encoder (a strided CNN on CPU, a ViT with a CLS
#   token in the paper), then the projector. One token per frame is what makes LeWM's planning fast.
# - A ViT patchifies with a Conv2d whose kernel equals its stride (one linear map per patch), prepends a
#   learned CLS token, and keeps only that token's output.
# - The projector's BatchNorm standardises each feature across the batch. It lets SIGReg reach a
#   Gaussian batch of latents even when the encoder's outputs are nearly identical; in our measurement
#   only the BatchNorm head got SIGReg to its Gaussian floor (a LayerNorm head and a plain MLP head both
#   stalled). A LayerNorm output by itself fixes every latent's norm and removes one direction, a small
#   constraint at D = 64. The cost of BatchNorm: use eval mode to plan.
# - Measured on the same trajectories: a pixel autoencoder and LeWM both locate the agent on clean
#   frames; with a random textured floor the autoencoder's latent loses the agent entirely (it spends its
#   capacity on the texture) while LeWM's keeps it. With a stronger texture LeWM was distracted too:
#   SIGReg's appetite for spread-out latents can be fed by noise.
#
# ## Check your understanding
#
# **1.** Write the shape after each stage of our CNN for a 64x64 frame with channels (16, 32, 64, 64).
#
# <details><summary>Answer</summary>
#
# Input (3, 64, 64); after the four strided convolutions (16, 32, 32), (32, 16, 16), (64, 8, 8), (64, 4,
# 4); flattened 1,024 numbers; Linear and LayerNorm to (enc_width,).
#
# </details>
#
# **2.** How many tokens does the paper's ViT-Tiny see for a 224x224 frame with 14x14 patches? How many
# would DINO-WM's predictor attend over for a history of 3 frames?
#
# <details><summary>Answer</summary>
#
# (224 / 14)^2 = 256 patch tokens plus the CLS token: 257 tokens. DINO-WM keeps about 196 patch tokens of
# DINOv2 per frame, so about 3 x 196 = 588 tokens for a history of 3 frames; LeWM's predictor sees 3.
#
# </details>
#
# **3.** What does LayerNorm normalise over, and what does BatchNorm normalise over? Which of the two can
# change how far apart two latents are?
#
# <details><summary>Answer</summary>
#
# LayerNorm normalises each vector over its own features; BatchNorm normalises each feature over the
# batch. BatchNorm can change how far apart two latents are (it rescales each feature by the batch's
# spread, blowing up tiny differences); LayerNorm only standardises each vector by itself, so it fixes
# every vector's norm but cannot turn nearly identical vectors into distant ones.
#
# </details>
#
# **4.** Why can a batch of one frame not pass through the projector in train mode, and what does the
# planner do about it?
#
# <details><summary>Answer</summary>
#
# In train mode BatchNorm normalises with the statistics of the batch, and one frame has no spread
# (PyTorch refuses a batch of one). The planner runs the model in eval mode, where BatchNorm uses the
# running averages collected during training, so any batch size works and a frame's latent does not depend
# on the other frames in the batch.
#
# </details>
#
# **5.** Why is a per-frame random texture harmless to a latent-prediction objective but costly to a
# reconstruction objective? Would a per-episode fixed texture be equally harmless?
#
# <details><summary>Answer</summary>
#
# A texture drawn afresh every frame cannot be predicted from the previous frame, so a latent that
# contains it only adds prediction error: the latent-prediction loss pushes it out. The reconstruction
# loss must reproduce it, and it is most of the pixels' variance, so it pulls it in. A per-episode texture
# is different: predictable within the episode, it costs the prediction loss nothing and spreads the
# latents, so a JEPA may well encode it (see the Think question above).
#
# </details>
#
# ## Further reading
#
# - L. Maes et al. *LeWorldModel* (2026), arXiv 2603.19312: encoder, projector and the reconstruction
#   ablation.
# - A. Dosovitskiy et al. *An Image is Worth 16x16 Words* (ViT, 2020), arXiv 2010.11929.
# - S. Ioffe, C. Szegedy. *Batch Normalization* (2015), arXiv 1502.03167; J. L. Ba et al.
#   *Layer Normalization* (2016), arXiv 1607.06450.
# - M. Assran et al. *Self-Supervised Learning from Images with a Joint-Embedding Predictive
#   Architecture* (I-JEPA, 2023), arXiv 2301.08243: why predict in representation space.
# - V. Sobal et al. *Joint Embedding Predictive Architectures Focus on Slow Features* (2022),
#   arXiv 2211.10831: the fixed-distractor failure mode.
# - E. Littwin et al. *How JEPA Avoids Noisy Features: The Implicit Bias of Deep Linear Self
#   Distillation Networks* (NeurIPS 2024): a theory of why latent prediction favours predictive features.
# - Next: chapter 03 builds the predictor; chapter 04 builds SIGReg, used here as a black box.
