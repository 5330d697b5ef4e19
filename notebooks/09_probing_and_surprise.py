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
# # 09 · Looking inside: probes, surprise and straight paths
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/notebooks/09_probing_and_surprise.ipynb)
#
# LeWM was never told where the agent is, how fast it moves, or that walls stop it. It was only asked
# to predict its own next latent. This chapter opens the trained model and asks what it learned
# anyway, with the three experiments of Section 5 of the LeWM paper ("Quantifying Physical Understanding
# in LeWM"): **probes** (can the agent's position and motion be read off a frozen latent?), **violation of
# expectation** (is the model surprised when physics breaks?), and **temporal straightening** (do latent
# trajectories run straight?). Then it *draws* latents, with a decoder trained afterwards on the frozen
# model: what the model imagines along a plan, and what its latent leaves out.
#
# **What you build:** linear and small-MLP probes of the agent's position, and of its displacement from
# pairs of latents; scripted held-out episodes where, mid-episode, the agent teleports, walks through
# the wall, or turns blue; the surprise of every step, a paired significance test and ROC curves, beside
# a pixel baseline; the curvature of latent trajectories, trained against untrained; a decoder trained
# on frozen latents, which draws held-out frames and a plan's imagined future (filmstrips beside what
# the world did), reads the agent's position off its drawings block by block, and shows what LeWM and a
# pixel autoencoder keep of chapter 02's distractor floor.
#
# **Objectives.** After this chapter you can
# - fit and score a probe on frozen latents, and say what a linear versus a nonlinear probe tells you;
# - define surprise as the latent prediction error of the next frame, test it for significance with a
#   paired test, and measure detection with an ROC curve and its AUC;
# - tell which violations a pixel change detector also flags and which only a model of dynamics can;
# - measure temporal straightening as the cosine of consecutive latent velocities, and say which steps
#   can tell one encoding from another (not the ones where the agent turns back);
# - train a decoder on a frozen world model without changing it, and read imagined rollouts with it,
#   beside a nearest-frame reader and a probe;
# - show what a JEPA latent leaves out: how much of an unpredictable distractor comes back when its
#   latent is decoded, against a pixel autoencoder's.
#
# **Prerequisites:** chapters 02 (encoder, and its distractor floor in section 5), 03 (predictor), 05
# (training LeWM; this chapter loads the cpu-profile model that chapter 05 trains, or trains it if it is
# not in the cache) and 06 (planning with CEM); a little statistics (correlation, a t-test).
#
# **Time:** reading about 60 min.
#
# **Compute** (measured by `tools/execute_notebooks.py`, in a fresh kernel): CPU, cpu profile 2.8 min on 2
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
# Where this chapter sits in LeWorldModel: it looks at the latent $z_t$ (probes, straightening) and at
# the predicted next latent $\hat z_{t+1}$ (surprise), highlighted.

# %%
import matplotlib.pyplot as plt

from lewm_mini.viz import pipeline_figure

pipeline_figure(["latent", "predicted"])
plt.show()

# %%
import time

import numpy as np
import torch
from scipy import stats
from torch import nn

from lewm_mini.data import held_out_episodes
from lewm_mini.jepa import LeWM
from lewm_mini.notebook import cached_run, expect
from lewm_mini.probe import apply_probe, fit_linear_probe, pearson_r, rmse, single_thread
from lewm_mini.surprise import (KINDS, encode_frames, frame_difference, roc_auc, roc_curve, surprise,
                                velocity_cosines, voe_episodes)
from lewm_mini.world import Geometry, background

T0 = time.perf_counter()
plt.rcParams["figure.dpi"] = 90
GEO = Geometry(cfg.data.size)
FS = cfg.model.frameskip
SIZES = {"ci": dict(frames=400, voe=48, walks=24, probe_steps=150, rollouts=48, distractor=24),
         "cpu": dict(frames=2000, voe=300, walks=100, probe_steps=300, rollouts=1000, distractor=1000),
         "gpu": dict(frames=2000, voe=300, walks=100, probe_steps=300, rollouts=1000, distractor=1000)}[cfg.profile]
print(SIZES)

# %% [markdown]
# ## 1. A trained model, an untrained twin, and held-out frames
#
# `cached_run` returns the model chapter 05 trained with this profile's settings, and prints which case
# you are in: the run is in the cache and is loaded (seconds), or the cache has none and it trains the
# model now, as chapter 05 does, and says about how long that takes. Every experiment below is run on
# the trained model and on an **untrained twin**, the same architecture with its random initial weights:
# whatever the twin also shows is a property of the architecture or the data, not something learned.
# All frames come from **held-out** episodes, collected with a seed training never saw.
#
# Under the ci profile the model is trained for a few dozen steps only: every cell runs, but the
# numbers mean little. The prose quotes the stored cpu-profile run where it gives numbers.

# %%
run = cached_run(cfg)  # loads chapter 05's model, or says how long training it takes
model, act_stats = run.model.to(device).eval(), run.stats
torch.manual_seed(0)
untrained = LeWM(cfg.model, num_proj=cfg.train.num_proj).to(device).eval()
models = {"trained": model, "untrained": untrained}
held_out = held_out_episodes(cfg.data)
print(f"model trained for {run.history[-1]['step']} steps; {len(held_out)} held-out episodes of "
      f"{held_out.actions.shape[1]} steps")

# %% [markdown]
# ## 2. Probing the position
#
# A **probe** is a small supervised model trained to read a quantity off frozen features. The encoder
# is not touched: only the probe learns. We take frames from the first half of the held-out episodes
# to fit probes and frames from the second half to score them, so a probe is scored on episodes it
# never saw. For each frame we also keep the frame `frameskip` steps later (one action block), for
# the motion probe of section 3.

# %%
def sample_pairs(episodes, first: int, last: int, n: int, seed: int):
    """n random (episode, t) in episodes [first, last): frames t and t + FS, positions at both."""
    rng = np.random.default_rng(seed)
    e = rng.integers(first, last, n)
    t = rng.integers(0, episodes.frames.shape[1] - FS, n)
    return {"now": np.asarray(episodes.frames[e, t]), "next": np.asarray(episodes.frames[e, t + FS]),
            "pos": torch.as_tensor(episodes.pos[e, t]), "pos_next": torch.as_tensor(episodes.pos[e, t + FS])}


half = len(held_out) // 2
fit_set = sample_pairs(held_out, 0, half, SIZES["frames"], seed=0)
test_set = sample_pairs(held_out, half, len(held_out), SIZES["frames"], seed=1)
latents = {}  # (model, split, "now"/"next") -> (n, D) on the CPU
for name, m in models.items():
    for split, s in (("fit", fit_set), ("test", test_set)):
        for when in ("now", "next"):
            latents[name, split, when] = encode_frames(m, s[when][:, None])[:, 0].cpu()
print(f"{len(fit_set['pos'])} fit and {len(test_set['pos'])} test frames, latents of size {model.cfg.latent}; "
      f"the room is {GEO.hi - GEO.lo:.0f} px across inside its border")

# %% [markdown]
# Two probes. The **linear probe** is ridge regression, $\hat y = W^\top [z; 1]$
# (`lewm_mini.probe.fit_linear_probe`, chapter 05 tracks its r during training). A high score means
# the position lies along straight directions of the latent space. The **MLP probe** has one hidden
# layer; it asks a weaker question: is the position *there at all*, in any shape? We write it here
# (section 7 checks it against `lewm_mini.probe.fit_mlp_probe`): standardise the inputs and targets,
# then full-batch AdamW on the mean squared error.

# %%
class MLPProbe(nn.Module):
    """(N, D) latents -> (N, K): standardise, Linear-GELU-Linear, back to the units of the target."""

    def __init__(self, d_in: int, d_out: int, hidden: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.GELU(), nn.Linear(hidden, d_out))
        for buf, size, fill in (("z_mean", d_in, 0), ("z_std", d_in, 1), ("y_mean", d_out, 0), ("y_std", d_out, 1)):
            self.register_buffer(buf, torch.full((size,), float(fill)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net((z - self.z_mean) / self.z_std) * self.y_std + self.y_mean


# %% [markdown]
# Fitting it: a seeded initialisation (so the result does not depend on what ran before), the
# standardisation constants from the fitting set, then full-batch AdamW with a cosine learning-rate
# schedule. The encoder is frozen: its latents are just data here.

# %%
def fit_mlp(z: torch.Tensor, y: torch.Tensor, steps: int, hidden: int = 64, lr: float = 1e-2, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    probe = MLPProbe(z.shape[1], y.shape[1], hidden)
    with torch.no_grad():
        for layer in (probe.net[0], probe.net[2]):  # seeded uniform init, as nn.Linear's default
            bound = layer.in_features ** -0.5
            layer.weight.uniform_(-bound, bound, generator=g), layer.bias.uniform_(-bound, bound, generator=g)
        probe.z_mean.copy_(z.mean(0)), probe.z_std.copy_(z.std(0).clamp_min(1e-6))
        probe.y_mean.copy_(y.mean(0)), probe.y_std.copy_(y.std(0).clamp_min(1e-6))
    opt = torch.optim.AdamW(probe.net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    x, target = (z - probe.z_mean) / probe.z_std, (y - probe.y_mean) / probe.y_std
    with single_thread():  # tiny matrices: one CPU thread is faster
        for _ in range(steps):
            loss = (probe.net(x) - target).pow(2).mean()
            opt.zero_grad(), loss.backward(), opt.step(), sched.step()
    return probe.eval()

# %% [markdown]
# Fit both probes on both models, score them on the test frames: Pearson r (mean over x and y) and the
# root mean squared error in pixels (the distance between the true and the read position).

# %%
expect(3, 20, 20, cfg.profile)


def probe_scores(z_fit, y_fit, z_test, y_test) -> dict:
    """{"linear": (r, rmse px, predictions), "mlp": (...)} for one probing task."""
    lin = apply_probe(fit_linear_probe(z_fit, y_fit), z_test)
    probe = fit_mlp(z_fit, y_fit.float(), SIZES["probe_steps"])
    with torch.no_grad():
        mlp = probe(z_test)
    return {kind: (pearson_r(p, y_test), rmse(p, y_test), p) for kind, p in (("linear", lin), ("MLP", mlp))}


position = {name: probe_scores(latents[name, "fit", "now"], fit_set["pos"], latents[name, "test", "now"],
                               test_set["pos"]) for name in models}
print("position probe on held-out frames      r       RMSE (px)")
for name, res in position.items():
    for kind, (r, err, _) in res.items():
        print(f"  {name:9s} {kind:6s}                   {r:.4f}   {err:6.2f}")
print("  LeWM paper, Table 3 (Two-Room agent position): LeWM linear 0.996, MLP 1.000; MLP probes 0.999-1.000 "
      "for all three models it compares")

# %%
pred = position["trained"]["linear"][2]
true = test_set["pos"]
fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
axes[0].imshow(background(GEO), extent=(0, GEO.size, GEO.size, 0))
show = slice(0, 150)
axes[0].plot(np.stack([true[show, 0], pred[show, 0]]), np.stack([true[show, 1], pred[show, 1]]), "r-", lw=0.8)
axes[0].plot(true[show, 0], true[show, 1], "k.", ms=3)
axes[0].set_title("trained, linear probe: true (dots)\nto predicted (red lines), 150 frames", fontsize=9)
axes[0].set_xlabel("x (px)"), axes[0].set_ylabel("y (px)")
for ax, name in zip(axes[1:], models):
    for kind, (r, err, p) in position[name].items():
        ax.plot(true[:, 0], p[:, 0], ".", ms=2, alpha=0.5, label=f"{kind}: r={r:.3f}, {err:.1f} px")
    ax.plot([0, GEO.size], [0, GEO.size], "k--", lw=0.8)
    ax.set_xlabel("true x (px)"), ax.set_ylabel("probe's x (px)")
    ax.set_title(f"{name} encoder", fontsize=9), ax.legend(fontsize=7, markerscale=4)
plt.tight_layout()
plt.show()

# %% [markdown]
# How to read it: in the left panel each red line joins a frame's true position to the linear probe's
# reading of it; short lines everywhere mean the position is a linear function of the latent, in both
# rooms. The two right panels plot the probe's x against the true x on test frames, for the trained
# encoder and for its untrained twin; points on the dashed diagonal are exact. The stored cpu-profile
# run printed: trained, linear r = 0.9868 (2.81 px), MLP r = 0.9995 (0.53 px); untrained, linear
# r = 0.4004 (17.35 px), MLP r = 0.9698 (4.24 px). Yours are printed above (under the ci profile the
# model has barely trained, and all four are poor).
#
# Three lessons from the cpu-profile numbers. Training makes the position **linearly** readable: the
# trained model's linear probe comes close to the 0.996 that the LeWM paper reports for LeWM on Two-Room
# (its Table 3, in Appendix F.2). The untrained twin is not useless: a random CNN's features still
# contain the position (its MLP probe recovers most of it), but in a tangled, nonlinear form; what
# training (the prediction loss with SIGReg) adds is a *simple* code. Which of the two terms does it,
# this experiment cannot say: it compares a trained model with an untrained one, not one term without the
# other. And a nonlinear probe can represent every linear readout, so with enough data it reads at least
# as much as a linear one (with finite data it can also overfit; here it read more, 0.9995, and the
# paper's Table 3 gives MLP probes r = 0.999 to 1.000 for all three models it compares, DINO-WM included,
# whose linear probe reaches only 0.824): compare probes of the same kind.
#
# **Think.** Why would a planner that scores plans by the Euclidean distance between latents (chapter
# 06) care whether position is *linearly* encoded, and not only encoded?
#
# <details><summary>Answer</summary>
#
# CEM ranks candidate plans by $\lVert \hat z_H - z_{goal} \rVert^2$, and the candidates end in different
# parts of the room, so a cost must mean the same thing wherever a plan ends. A bound is not what
# linearity buys: any readout $p = f(z)$ that moves the position by at most $L$ pixels per unit of latent
# distance gives $\lVert p - p_{goal} \rVert \le L \, \lVert z - z_{goal} \rVert$, linear or not, so with
# either code a latent close to the goal's means an agent close to the goal. What a linear code
# $p \approx W z$ adds is an **even scale**: $p - p' = W (z - z')$ depends on the latent difference only,
# not on where in the room the two latents sit. The same step of the agent moves the latent's position
# directions by the same vector by the door, in a corner or in the other room, so the same latent
# distance along those directions means the same distance in the room everywhere, and the costs of plans
# that end in different places can be compared. With a tangled code, one unit of latent distance could be
# 2 px in one part of the room and 20 px in another, and the planner would prefer a plan that ends
# farther away, in a region where the code is squeezed. Two limits: our code is only close to linear (the
# linear probe misses by 2.8 px on the stored run), and the probe reads 2 of the latent's 64 directions;
# the cost also counts the others, which can change while the position does not (section 4's colour
# change is an example). An even position scale is needed for a good cost; it does not make one on its
# own.
# </details>

# %% [markdown]
# ## 3. Probing motion: displacement from a pair of latents
#
# The agent's motion over one action block is $\Delta = p_{t+5} - p_t$ (a few pixels). Can it be read
# from the pair $[z_t; z_{t+5}]$? Expect lower r than for the position even with a good code: r
# measures the error relative to the spread of the target, and displacements spread over a few pixels,
# not over the whole room, so an error of a couple of pixels that is small for a position is large for
# a displacement.

# %%
def pair(name: str, split: str) -> torch.Tensor:
    return torch.cat([latents[name, split, "now"], latents[name, split, "next"]], dim=1)  # (n, 2D)


disp_fit, disp_test = fit_set["pos_next"] - fit_set["pos"], test_set["pos_next"] - test_set["pos"]
motion = {name: probe_scores(pair(name, "fit"), disp_fit, pair(name, "test"), disp_test) for name in models}
diff = {split: latents["trained", split, "next"] - latents["trained", split, "now"] for split in ("fit", "test")}
motion_diff = probe_scores(diff["fit"], disp_fit, diff["test"], disp_test)  # trained, z_t+5 - z_t only
print(f"displacement over one block: mean length {disp_test.norm(dim=1).mean():.2f} px, "
      f"std per axis {disp_test.std(0).mean():.2f} px")
print("displacement probe from [z_t; z_t+5]    r       RMSE (px)")
for name, res in motion.items():
    for kind, (r, err, _) in res.items():
        print(f"  {name:9s} {kind:6s}                   {r:.4f}   {err:6.2f}")
print("the same from the difference z_t+5 - z_t only")
for kind, (r, err, _) in motion_diff.items():
    print(f"  trained   {kind:6s}                   {r:.4f}   {err:6.2f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(8, 3.4), sharey=True)
for ax, kind in zip(axes, ("linear", "MLP")):
    r, err, p = motion["trained"][kind]
    ax.plot(disp_test[:, 0], p[:, 0], ".", ms=2, alpha=0.5)
    lim = float(disp_test.abs().max())
    ax.plot([-lim, lim], [-lim, lim], "k--", lw=0.8)
    ax.set_xlabel("true x displacement (px)"), ax.set_title(f"trained, {kind} probe: r={r:.3f}, {err:.2f} px", fontsize=9)
axes[0].set_ylabel("probe's x displacement (px)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Points on the diagonal are exact readings of the x displacement; the vertical spread is the probe's
# error. The stored cpu-profile run printed: trained, linear r = 0.8102 (2.46 px), MLP r = 0.9806
# (0.82 px); untrained, linear r = 0.0702, MLP r = 0.6475. Yours are printed above. On that run the motion
# is in the pair of latents, and the small MLP reads it far better than the linear probe. The
# displacement is a function of the two frames alone (the position in the second minus the position in
# the first; the action is not an input), so a probe that reads positions better can read it better:
# section 2's MLP read the position to 0.53 px, the linear probe to 2.81 px.
#
# **Think.** The last two printed rows fit the probes on the difference $z_{t+5} - z_t$ alone instead
# of the pair. On the stored cpu-profile run the linear probe did as well on the difference (r = 0.8230)
# as on the pair (0.8102), while the MLP lost much (0.8604 against 0.9806). Why the contrast?
#
# <details><summary>Answer</summary>
#
# A linear probe on the pair computes $A z_t + B z_{t+5}$. If position is (nearly) linear in $z$,
# $\Delta \approx W z_{t+5} - W z_t = W (z_{t+5} - z_t)$: the difference already holds what a linear map
# can use, and with half the inputs there is less to overfit. An MLP on the difference loses *where* the
# agent was. If the code is not exactly linear, the same displacement changes the latent differently in
# different places, and the difference alone cannot undo that; the pair keeps both latents, so the MLP
# can. (Walls play no part here: they change which displacement an action produces, and the probe sees
# no action, only the two frames.)
# </details>

# %% [markdown]
# ## 4. Violation of expectation
#
# Infants look longer at events that break physics, such as an object passing through a wall; the
# longer look is taken as a sign that they expected something else. LeWM's "look" is its
# **surprise**: the latent prediction error of the next frame,
#
# $$s_t = \frac1D \big\lVert \mathrm{predictor}(z_t, a_t) - z_{t+1} \big\rVert^2, \qquad z_t = \mathrm{enc}(o_t),$$
#
# with one latent of context (Two-Room has no inertia, so one frame is the whole state). The LeWM paper
# (Section 5.2, its Fig. 8 in the current arXiv version v3, Fig. 10 in v1; setup in Appendix F.3) reports
# that surprise spikes significantly when the agent teleports mid-episode (paired t-test, p < 0.01, in
# all three of its environments) and that abrupt colour changes give weaker spikes, which it does not
# find significant. We test three events on scripted **held-out** episodes
# (`lewm_mini.surprise.voe_episodes`): the agent walks to the wall (below the door), reaches it two
# blocks before the event, pushes against it for two action blocks (the second is the event block), then
# walks back. Each episode exists in four versions with the same start and the same actions:
# - **normal**: the wall stops the agent;
# - **teleport**: during the pushing block, the agent jumps to a random free spot at least 15 px away;
# - **wall**: during the pushing block, the wall does not stop it: it walks through;
# - **colour** (a visual-only control): the agent turns blue, and stays blue; physics is unchanged.
#
# Time in this section is counted in action blocks. The episodes keep one frame per block (every
# `frameskip`-th frame): frame t is the frame after t blocks, and **step t** is block t, from frame t
# to frame t+1. The event happens during block E (printed below), so between frames E and E+1; the
# plots count steps relative to it, step 0 being block E. The printed teleport distance is measured
# between those two frames: the jump (at least 15 px) and then the rest of the block's walking, which
# can take back a few pixels of it, so its minimum can be below 15 px.

# %%
voe = voe_episodes(SIZES["voe"], blocks=8, frameskip=FS, size=cfg.data.size, seed=cfg.data.eval_seed)
E = voe.event
jump = np.linalg.norm(voe.pos["teleport"][:, E + 1] - voe.pos["teleport"][:, E], axis=1)
print(f"{len(voe)} episodes of {voe.actions.shape[1] // FS} action blocks, event during block {E}; "
      f"from frame {E} to {E + 1}, a teleport (the jump, then one block of walking) moves the agent "
      f"{jump.min():.0f} to {jump.max():.0f} px")
versions = ("normal",) + KINDS

# %%
fig, axes = plt.subplots(len(versions), 5, figsize=(8, 6.8))
for row, kind in enumerate(versions):
    for col, t in enumerate(range(E - 2, E + 3)):
        axes[row, col].imshow(voe.frames[kind][0, t])
        axes[row, col].set_xticks([]), axes[row, col].set_yticks([])
        axes[row, col].set_title(f"frame {t}" + (" (event after)" if t == E else ""), fontsize=8)
    axes[row, 0].set_ylabel(kind)
plt.suptitle(f"one of {len(voe)} scripted episodes, four versions; the event happens between frames {E} and {E + 1}",
             fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# How to read it: each row is one version of the same episode, each column one frame (one per action
# block) around the event. Up to frame E the four rows are identical. In the normal row the agent
# stands against the wall from frame E-1 to E+1 and then walks back; at frame E+1 the teleported agent is
# somewhere else in the room, the "wall" agent is on the other side of the wall, and the "colour" agent
# is where the normal one is, but blue.
#
# Surprise per step for every version (`lewm_mini.surprise.surprise`; **Exercise 9.1** in
# `exercises/09_probing_and_surprise_exercises.ipynb` writes it), and a
# pixel baseline beside it: the error of a "pixel-copy" predictor that predicts the next frame equals
# the current one, i.e. the mean squared **frame difference** $\overline{(o_{t+1} - o_t)^2}$. It needs no
# training and no actions; it flags any change of the image.
#
# The predictor takes the actions the way it was trained on them (chapters 03 and 05): the `frameskip`
# raw 2-D actions of a block concatenated into one vector, each dimension **z-scored** first, i.e.
# minus its mean and divided by its standard deviation over the training data. `act_stats.block` does
# both, with the statistics saved with the model.

# %%
blocks = torch.from_numpy(act_stats.block(voe.actions, FS)).to(device)  # (N, L, 2 * FS), z-scored
surprise_of, pixel_of = {}, {}
for kind in versions:
    z = encode_frames(model, voe.frames[kind])  # (N, L + 1, D)
    surprise_of[kind] = surprise(model.predictor, z, blocks).cpu().numpy()  # (N, L)
    pixel_of[kind] = frame_difference(voe.frames[kind])  # (N, L)
for kind in versions:
    print(f"{kind:9s} mean surprise per step: {np.round(surprise_of[kind].mean(0), 3)}")

# %%
steps = np.arange(surprise_of["normal"].shape[1]) - E  # 0 = the step across the event
fig, axes = plt.subplots(2, 3, figsize=(11, 5.2), sharex=True)
for col, kind in enumerate(KINDS):
    for row, (scores, what) in enumerate(((surprise_of, "latent surprise (model)"), (pixel_of, "frame difference (pixels)"))):
        ax = axes[row, col]
        for version, colour in (("normal", "tab:gray"), (kind, "tab:red")):
            mean = scores[version].mean(0)
            sem = scores[version].std(0) / np.sqrt(len(scores[version]))
            ax.plot(steps, mean, "o-", color=colour, ms=3, label=version)
            ax.fill_between(steps, mean - 2 * sem, mean + 2 * sem, color=colour, alpha=0.2)
        ax.axvline(0, color="k", lw=0.6, ls=":")
        ax.set_title(f"{kind}: {what}", fontsize=9), ax.legend(fontsize=7)
        if col == 0:
            ax.set_ylabel(what.split(" (")[0])
for ax in axes[1]:
    ax.set_xlabel("step relative to the event")
plt.tight_layout()
plt.show()

# %% [markdown]
# Mean over episodes, with bands of two standard errors; step 0 goes from the last frame before the
# event to the first after it. Top row, the model's surprise. On the stored cpu-profile run it is flat
# for the normal episodes (walking, bumping into the wall and walking back are all predictable: 0.007
# to 0.02) and spikes at step 0 for each event: 2.1 for the teleport, 1.5 for the walk through the
# wall, 1.0 for the colour change, which then stays high (0.37 to 0.53) while the agent stays blue. Under
# the ci profile the model has not learned enough to be surprised, and the curves are flat. Bottom row,
# the pixels (the same under every profile): the frame difference is *high whenever the agent walks*
# and low while it pushes against the wall, so at step 0 every event changes more pixels than the
# normal episode does at that moment, but no more than an ordinary walking step does.
#
# **A paired test.** Each perturbed episode has a normal twin with the same start and actions, so we
# compare the surprise at the event step within pairs: a one-sided paired t-test
# (`scipy.stats.ttest_rel`) and, without assuming normal differences, the Wilcoxon signed-rank test.

# %%
def p_text(p: float) -> str:
    return f"{p:.1e}" if p >= 1e-12 else "< 1e-12"  # below that, float rounding decides the digits


print(f"surprise at the event step, {len(voe)} pairs    normal   event   ratio   paired t    p (t-test)  p (Wilcoxon)")
for kind in KINDS:
    ev_, no_ = surprise_of[kind][:, E], surprise_of["normal"][:, E]
    t_stat, p_t = stats.ttest_rel(ev_, no_, alternative="greater")
    p_w = stats.wilcoxon(ev_, no_, alternative="greater").pvalue
    print(f"  {kind:9s}                           {no_.mean():6.3f}  {ev_.mean():6.3f}  {ev_.mean() / no_.mean():6.1f}  "
          f"{t_stat:8.1f}   {p_text(p_t):>10s}  {p_text(p_w):>10s}")

# %% [markdown]
# **Detection.** Significance says the average moves; detection asks whether a single step can be
# flagged. A detector raises an alarm when a step's score is above a threshold. Its positives are the
# event steps of the perturbed episodes; its negatives are *all* steps of the normal episodes (walking,
# bumping, pushing, walking back): an alarm is only useful if ordinary life does not set it off.
# Sweeping the threshold gives the ROC curve (true-positive rate against false-positive rate); the area
# under it (AUC) is the probability that an event step scores higher than a normal step: 1 is perfect,
# 0.5 is chance. **Exercise 9.2** computes it from that definition.
#
# The printed table ends with a variant for the pixels: the same AUC with other negatives, only the
# normal twins' step 0 (the moment the normal agent pushes against the wall). Check-your-understanding
# question 5 asks what that choice of negatives changes.

# %%
auc = {}
for kind in KINDS:
    for scores, what in ((surprise_of, "model"), (pixel_of, "pixels")):
        auc[kind, what] = roc_auc(scores[kind][:, E], scores["normal"].ravel())
    twin = roc_auc(pixel_of[kind][:, E], pixel_of["normal"][:, E])  # negatives: the same step of the normal twin
    print(f"{kind:9s} AUC  model {auc[kind, 'model']:.3f}   pixels {auc[kind, 'pixels']:.3f}   "
          f"(pixels against the twin's same step only: {twin:.3f})")

# %%
fig, axes = plt.subplots(1, 3, figsize=(11, 3.5))
for ax, kind in zip(axes, KINDS):
    for scores, what, style in ((surprise_of, "model", "-"), (pixel_of, "pixels", "--")):
        ax.plot(*roc_curve(scores[kind][:, E], scores["normal"].ravel()), style,
                label=f"{what}: AUC {auc[kind, what]:.3f}")
    ax.plot([0, 1], [0, 1], ":", color="0.6")
    ax.set_title(kind, fontsize=9), ax.set_xlabel("false-positive rate (normal steps flagged)")
    ax.legend(fontsize=8, loc="lower right")
axes[0].set_ylabel("true-positive rate (events flagged)")
plt.tight_layout()
plt.show()

# %% [markdown]
# A curve hugging the top-left corner flags nearly every event before any normal step; the dotted
# diagonal is chance. The stored cpu-profile run printed AUC model / pixels: teleport 1.000 / 0.739,
# wall 1.000 / 0.474, colour 1.000 / 0.360; in the paired tests above, on 300 pairs, the event step was
# 140 to 292 times as surprising as its normal twin, p < 1e-12 for each event and both tests (the
# paper's threshold is 0.01). Yours are printed above.
#
# **Which events would a pixel predictor flag as well?** The pixel-copy predictor measures *how much
# changed*, not *whether the change was possible*. A teleport changes the image in two places (the agent
# vanishes here, appears there), and so does an ordinary walking step once the agent moves more than its
# own width: in the bottom row of the surprise figure, the teleport's frame difference at step 0 is at
# the height of the walking steps. So the frame difference ranks a teleport above the normal episodes'
# quiet steps against the wall, not above their walking steps: AUC 0.74 on that run, better than chance,
# far from detection. Walking through the wall is, pixel for pixel, an ordinary step: the frame
# difference cannot tell it from walking (AUC 0.47, chance), while the trained model flags every one (AUC
# 1.000): the latent it predicts for that step is far from the latent of an agent in or past the wall, as
# if it had learned that the wall stops the agent. The colour change, on an agent standing against the
# wall, changes fewer pixels than a walking step (AUC 0.36, below chance). The model flags it too, but
# not because the physics broke (it did not): the blue agent's latent is not what the predictor expected
# from a red one, and the surprise stays high (0.37 to 0.53) for as long as the agent stays blue and
# walks normally. The paper finds colour changes give weaker spikes than teleports (its Fig. 8) and reads
# it as the model being more sensitive to physical than to visual changes; ours is half the teleport's
# and smaller than the wall's (1.0 against 2.1 and 1.5). What our wall event shows is the point of a
# world model: the pixel change detector cannot separate an impossible step from an ordinary one of the
# same size, and the model that predicts the dynamics does.
#
# **Think.** Score whole episodes instead of steps: by the *mean* surprise over the episode, or by the
# *largest* one. Which would you use to find the perturbed episodes, and why? The cell after the answer
# prints the AUC of both, perturbed episodes against normal ones.
#
# <details><summary>Answer</summary>
#
# In general the largest. A one-step spike among 8 steps moves the episode mean by only an eighth of
# its height, and the mean also adds up ordinary variation from the other steps; the maximum keeps the
# spike whole. On this data the choice hardly matters: the stored cpu-profile run printed an
# episode-level AUC of 1.000 for both scores and all three events. For the largest, that follows from a
# step-level AUC of 1: when the event step of every perturbed episode scores above every normal step, it
# scores above the largest step of every normal episode. The mean does as well here because the spikes
# are 140 to 292 times the normal surprise, and after a colour change the surprise stays high while the
# agent is blue, which the mean adds up. The exercises' "Going further" builds episodes where the two
# differ.
# </details>

# %%
print(f"episode-level AUC, {len(voe)} perturbed episodes against their {len(voe)} normal twins")
for kind in KINDS:
    by = {how: roc_auc(f(surprise_of[kind], axis=1), f(surprise_of["normal"], axis=1))
          for how, f in (("mean", np.mean), ("largest", np.max))}
    print(f"  {kind:9s} mean surprise {by['mean']:.3f}   largest surprise {by['largest']:.3f}")

# %% [markdown]
# ## 5. Temporal straightening
#
# Natural video traces curved paths in pixel space; perceptual systems seem to "straighten" them, so
# that a trajectory in the representation is closer to a straight line, which makes the future easier
# to extrapolate (Hénaff et al. 2019). The LeWM paper measures this as the mean **cosine similarity of
# consecutive latent velocities**, $\cos(z_{t+1} - z_t,\; z_{t+2} - z_{t+1})$: 1 on a straight line,
# about 0 for random turns, negative when the path zigzags (its Eq. 9, in Appendix H). Its Fig. 17
# plots the value rising during training on PushT, above PLDM's (about 0.6 against about 0.4, read off
# the plot). **Exercise 9.3** writes the measure; here we use `lewm_mini.surprise.velocity_cosines`.
#
# The value of a latent path cannot be judged alone: it depends on how straight the agent's own motion
# is. So we measure four "trajectories" of the same frames: the agent's true positions (the state),
# the raw pixels, and the latents of the untrained and the trained encoder. Two sets of episodes: the
# noisy held-out episodes of the training policy (chapter 01's "heuristic-straight", nearly a random
# walk) and the scripted walks of section 4 (normal version: straight to the wall and back).

# %%
L = held_out.actions.shape[1] // FS
w_position = fit_linear_probe(latents["trained", "fit", "now"], fit_set["pos"])  # section 2's linear probe
walks = {"held-out episodes": (held_out.frames[: SIZES["walks"], : L * FS + 1 : FS],
                               held_out.pos[: SIZES["walks"], : L * FS + 1 : FS]),
         "scripted walks": (voe.frames["normal"], voe.pos["normal"])}
cosines = {}
for data, (frames, pos) in walks.items():
    frames = np.asarray(frames)
    cosines[data, "state (true position)"] = velocity_cosines(torch.as_tensor(pos, dtype=torch.float32))
    cosines[data, "pixels"] = velocity_cosines(torch.from_numpy(frames.reshape(*frames.shape[:2], -1).astype(np.float32)))
    for name, m in models.items():
        cosines[data, f"latent, {name}"] = velocity_cosines(encode_frames(m, frames).cpu())
    z = encode_frames(model, frames).cpu()  # the trained latents, read through the position probe
    read = apply_probe(w_position, z.reshape(-1, z.shape[-1])).reshape(*z.shape[:2], 2)
    cosines[data, "trained, probe reading"] = velocity_cosines(read)
for (data, what), c in cosines.items():
    print(f"{data:18s} {what:23s} mean cos(v_t, v_t+1) = {c.mean():+.3f}")

# %%
whats = ["state (true position)", "pixels", "latent, untrained", "latent, trained", "trained, probe reading"]
fig, axes = plt.subplots(1, 2, figsize=(12, 3.6))
x = np.arange(len(whats))
for i, data in enumerate(walks):
    axes[0].bar(x + 0.4 * i - 0.2, [float(cosines[data, w].mean()) for w in whats], 0.4, label=data)
axes[0].set_xticks(x, [w.replace(" (", "\n(").replace(", ", ",\n") for w in whats], fontsize=7)
axes[0].axhline(0, color="k", lw=0.6)
axes[0].set_ylabel("mean cos of consecutive velocities"), axes[0].legend(fontsize=8)
axes[0].set_title("mean over all steps (1 = straight)", fontsize=9)
axes[1].set_title("every step of the held-out episodes", fontsize=9)
for w in whats:
    axes[1].hist(cosines["held-out episodes", w].ravel().numpy(), bins=40, range=(-1, 1), histtype="step", label=w)
axes[1].set_xlabel("cos(v_t, v_t+1), held-out episodes"), axes[1].set_ylabel("count"), axes[1].legend(fontsize=7)
plt.tight_layout()
plt.show()

# %% [markdown]
# Left: the mean cosine per kind of trajectory, for the two sets of episodes; right: the
# distribution of the cosines on the held-out episodes, one curve per kind. In the histogram, look at
# where each curve's mass sits: the pixels' and the untrained latents' pile up at negative cosines, the
# trained latents' spread over the whole range, and the state's and the probe reading's gather at the two
# ends, +1 (the next step in the same direction) and -1 (straight back). Pixels zigzag: the velocity from
# frame t to t+1 removes the blob at its old place and adds it at the new one, and the next velocity
# removes it there again, so the two share the middle frame with opposite signs (negative cosines). The
# stored cpu-profile run printed, held-out episodes: state +0.169, pixels -0.314, untrained latent
# -0.359, trained latent -0.156, trained latent read by the position probe +0.086; scripted walks: state
# +0.563, pixels -0.248, untrained -0.258, trained +0.016, read by the probe +0.385. Yours are printed
# above.
#
# On the cpu-profile run the trained latents' mean is above the pixels' and the untrained twin's, and
# well below the agent's. But these means mix steps that say different things, as the next cell shows.
#
# **A step back proves nothing.** When the agent walks back to where it was, frame t+2 is frame t, so
# *any* encoding, pixels, a random encoder or a trained one, gives $z_{t+2} = z_t$, hence
# $v_{t+1} = -v_t$ and a cosine of exactly -1; when it walks back part of the way, the cosine is strongly
# negative in every representation measured below. Such steps pull every mean down, by an amount set by
# how often the data turns back: a property of the data, not of the encoder. What tells encodings apart is
# the ordinary steps where the agent keeps going: there a straight representation gives a cosine near
# +1, as the state does, and a zigzagging one a negative cosine. The next cell splits the steps by the
# agent's own motion: it *keeps going* where the state's cosine is above 0.9 and *turns back* where it
# is below -0.9 (the other steps are turns, stops at a wall, or pushes against it).

# %%
short = dict(zip(whats, ["state", "pixels", "untrained", "trained", "via probe"]))
agent = {"keeps going": lambda c: c > 0.9, "turns back": lambda c: c < -0.9}  # on the state's cosine
split = {}
print(f"mean cos(v_t, v_t+1) on the steps where{'':18s}" + "".join(f"{short[w]:>11s}" for w in whats))
for data in walks:
    for move, pick in agent.items():
        mask = pick(cosines[data, "state (true position)"])
        split[data, move] = [float(cosines[data, w][mask].mean()) for w in whats]
        print(f"  {data:18s} the agent {move:11s} ({mask.float().mean():3.0%} of steps)"
              + "".join(f"{c:+11.2f}" for c in split[data, move]))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2), sharey=True)
for ax, data in zip(axes, walks):
    for i, move in enumerate(agent):
        ax.bar(x + 0.4 * i - 0.2, split[data, move], 0.4, label=f"the agent {move}")
    ax.set_xticks(x, [short[w] for w in whats], fontsize=8)
    ax.axhline(0, color="k", lw=0.6), ax.set_title(data, fontsize=9)
axes[0].set_ylabel("mean cos of consecutive velocities"), axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Orange bars, the steps where the agent turns back: every representation is strongly negative, random
# encoder and pixels included. The stored cpu-profile run printed -0.79 (pixels), -0.76 (untrained),
# -0.87 (trained) on the held-out episodes and -0.95 to -0.98 on the scripted walks. That shows only
# that each representation maps nearly equal frames to nearly equal codes; it says nothing about
# straightening, for or against. Blue bars, the steps where the agent keeps going (21% of the held-out
# steps, 62% of the scripted ones): here they differ. Pixels -0.15 and -0.27 and untrained latents
# -0.25 and -0.28 zigzag, even on straight motion. The trained latents give +0.18 and +0.13: training
# turns the zigzag into a path that goes on in roughly the same direction, but far from straight (the
# agent: +0.97 and +0.99). This is the comparison that measures straightening: the same ordinary motion,
# in different representations.
#
# The last bar reads the same trained latents through the linear position probe of section 2 (2 of the
# 64 directions): +0.64 and +0.72 on the steps where the agent keeps going. So the position the latents
# hold moves much straighter than the full latent, though not as straight as the agent, and what lowers
# the cosine of the full latent lies in what the other directions do. What that is, this chapter does
# not measure. One hypothesis: they carry frame-to-frame deviations that do not follow the motion, and
# a deviation at frame t+1 enters $v_t$ and $v_{t+1}$ with opposite signs, the pixels' zigzag again.
# The agent's own path is not a ceiling (a nonlinear code of the position can trace a straighter path
# than the position itself), but our trained latents stay well below it. The paper's measure (its
# Eq. 9) is also a mean over all steps, so it too depends on how often its data turns back: compare
# encoders on the same data, as its Fig. 17 does (LeWM against PLDM on PushT), not numbers across data
# sets. Its 0.6 is on PushT, with other data and a much longer training.

# %% [markdown]
# ## 6. What the model imagines: a decoder trained afterwards
#
# LeWM has no decoder: its loss never looks at a pixel. So far we read latents with probes, and
# chapter 06 read the predictor's *imagined* latents by looking up the nearest of the frames it had
# encoded on a 1 px grid. That reader can only answer with a frame the grid holds: an imagined latent
# that matches no real frame (a smeared agent, two half agents, an agent in the wall) is shown as the
# nearest ordinary frame. To see the imagination itself, we draw it, the usual way of looking at what a
# self-supervised latent holds: with a decoder trained *after* the world model, on its frozen latents,
# never part of its training loss (Bordes et al. 2022 in the further reading do it with a diffusion
# model; ours is a small CNN):
#
# - the world model is frozen: eval mode (the projector's BatchNorm uses its running statistics) and no
#   gradient, so the decoder cannot change what a latent holds, only show it (**Exercise 9.4** writes
#   this loss);
# - `lewm_mini.decoder.Decoder` is the CNN encoder run backwards: a linear map from $z$ to a 4x4 grid of
#   64 channels, four transposed convolutions that each double the size, a sigmoid for pixels in [0, 1].
#   It starts from the average training frame (a learned base image), so its layers only have to learn
#   what varies from frame to frame;
# - its loss is the mean squared pixel error against the frame, on random frames of the training episodes.
#
# `cached_decoder` trains it once and keeps it in the run's folder, beside chapter 05's checkpoint.

# %%
from lewm_mini.data import frames_to_tensor
from lewm_mini.decoder import DECODER_SIZES, cached_decoder, decode, imagine_along_episodes, read_position

expect(5, 150, 60, cfg.profile)
decoder = cached_decoder(run, cfg)  # trains once (the first time on this machine), then loads
n_encoder = sum(p.numel() for part in (model.encoder, model.projector) for p in part.parameters())
print(f"{DECODER_SIZES[cfg.profile]}\ndecoder {sum(p.numel() for p in decoder.parameters()) / 1e6:.2f} M "
      f"parameters; the encoder and projector whose latents it draws: {n_encoder / 1e6:.2f} M")

# %% [markdown]
# ### 6.1 Held-out frames, drawn back
#
# Section 2's held-out test frames, encoded and decoded. The error is the mean squared difference per
# pixel and channel (frames in [0, 1]); beside it, the error of drawing the average frame every time,
# which gets the room right and leaves the agent out.

# %%
drawn = decode(decoder, latents["trained", "test", "now"])  # (n, H, W, 3) uint8
x, x_hat = frames_to_tensor(test_set["now"]), frames_to_tensor(drawn)
average = frames_to_tensor(fit_set["now"]).mean(0)  # the average frame of the other held-out episodes
print(f"{len(x)} held-out frames, mean squared error per pixel: decoded {(x_hat - x).pow(2).mean():.1e}, "
      f"the average frame {(average - x).pow(2).mean():.1e}")

# %%
fig, axes = plt.subplots(2, 8, figsize=(11, 3.2))
for j in range(8):
    for row, (frames, name) in enumerate(((test_set["now"], "held-out frame"), (drawn, "decoded"))):
        axes[row, j].imshow(frames[j])
        axes[row, j].plot(*read_position(frames[j : j + 1])[0] + [0, 6], "^", color="tab:blue", ms=4)  # below the agent
        axes[row, j].set_xticks([]), axes[row, j].set_yticks([])
    axes[0, j].set_title(f"({test_set['pos'][j, 0]:.0f}, {test_set['pos'][j, 1]:.0f})", fontsize=8)
axes[0, 0].set_ylabel("held-out frame", fontsize=8), axes[1, 0].set_ylabel("decoded", fontsize=8)
plt.suptitle("frames of held-out episodes (top) and the decoder's drawing of their latents (bottom); "
             "blue triangle: 6 px below where read_position finds the agent", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# Titles give the true position of the agent. The stored cpu-profile run printed a mean squared error
# of 7.5e-06 for the decoded frames against 2.0e-03 for the average frame: a root mean square error of
# 0.0027, less than one grey level of 255. The drawings are the frames, agent included. The blue
# triangles, drawn 6 px below the agent so as not to hide it, mark where `read_position` finds it, from
# the pixels alone: `world.render` blends each pixel towards pure red by the blob's weight $w$, so
# $R - (G + B)/2$ is exactly $w$ on any grey, the white floor and the black walls alike; the reader
# takes the reddest spot and the centroid of the redness around it.
#
# ### 6.2 Reading the agent's position: three readers
#
# Three ways to read the position from the same held-out latents: decode the frame and read its pixels;
# the nearest frame of a 1 px grid (chapter 06's reader); the linear probe of section 2. And, for
# scale, the pixel reader on the real frames.

# %%
from lewm_mini.costmap import grid_latents, nearest_grid_position

grid = grid_latents(model, cfg.data.size)  # every free position of a 1 px grid: positions and latents
z_test, true = latents["trained", "test", "now"], test_set["pos"].numpy()
readers = {"decoded frame, read from its pixels": read_position(drawn),
           "nearest grid frame (chapter 06)": nearest_grid_position(z_test, grid),
           "linear probe (section 2)": apply_probe(w_position, z_test).numpy()}
read_error = {name: np.linalg.norm(xy - true, axis=1) for name, xy in readers.items()}
own_error = np.linalg.norm(read_position(test_set["now"]) - true, axis=1)
print(f"the pixel reader on the real frames: median error {np.median(own_error):.3f} px")
print(f"reading {len(true)} held-out latents      median    90% within")
for name, err in read_error.items():
    print(f"  {name:36s} {np.median(err):5.2f} px   {np.percentile(err, 90):5.2f} px")

# %%
plt.figure(figsize=(5.5, 3.2))
for name, err in read_error.items():
    plt.plot(np.sort(err), np.linspace(0, 1, len(err)), label=name)
plt.xscale("log"), plt.xlabel("error of the read position (px, log scale)")
plt.ylabel("fraction of frames"), plt.legend(fontsize=7)
plt.title("how far each reader is from the true position, held-out frames", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# Curves to the left are better; a curve's height at an error is the fraction of frames read at least
# that well. The stored cpu-profile run printed median errors of 0.03 px for the decoded frames (90%
# within 0.07 px), 0.40 px for the nearest grid frame (0.57 px) and 1.70 px for the linear probe
# (3.97 px); the pixel reader itself is off by 0.003 px on real frames. The grid reader is held back by
# its grid: a position anywhere in a 1 px cell lies on average 0.38 px from the nearest grid point, so
# 0.40 px is about the best it can do. The decoder is not tied to a grid, and the latent holds the
# position far more finely than the grid or the (nearly, section 2) linear code can show.
#
# ### 6.3 Imagined futures as filmstrips
#
# Now the predictor's latents. We plan once with CEM (chapter 06's planner with this profile's settings)
# from a start towards a goal, roll the plan through the predictor, and decode every imagined latent.
# Then the world executes the same plan and renders what really happens. The top row is what the model
# imagined after each action block; the bottom row is the world.

# %%
from lewm_mini.evaluate import Planner
from lewm_mini.viz import filmstrip
from lewm_mini.world import BatchedTwoRoom

HIST = cfg.plan.history or cfg.model.history  # latents of context in a rollout, as the planner uses

# %% [markdown]
# `HIST` is how many latents the predictor sees when it rolls out (the planner's setting; the cpu
# profile uses 1: Two-Room has no inertia, so one frame is the whole state). One plan, imagined and
# executed:

# %%
@torch.no_grad()
def imagine_and_execute(start, goal, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Plan once towards ``goal``; the decoded imagined frames and the real frames, start + each block."""
    world = BatchedTwoRoom(1, cfg.data.size)
    world.reset(np.float32([start]), np.float32([goal]))
    planner = Planner(model, act_stats, cfg.plan, seed=seed, planner="cem")
    actions = planner.solve(world.render(), world.goal_frames())[0]  # (H * FS, 2) raw actions
    z0 = encode_frames(model, world.render())  # (1, D)
    z = model.rollout(z0, torch.as_tensor(act_stats.block(actions, FS), device=device)[None], HIST)[0]
    real = [world.render()[0]]
    for k, a in enumerate(actions):  # the same plan in the world, one raw action at a time
        world.step(a[None])
        if (k + 1) % FS == 0:
            real.append(world.render()[0])
    return decode(decoder, torch.cat([z0, z])), np.stack(real)

# %% [markdown]
# Two plans: one to a goal in the same room, one through the door.

# %%
for start, goal, what in (((12.0, 50.0), (26.0, 36.0), "a goal in the same room"),
                          ((20.0, 30.0), (44.0, 14.0), "a goal in the other room, behind the wall")):
    imagined, real = imagine_and_execute(start, goal)
    gap = np.linalg.norm(read_position(imagined) - read_position(real), axis=1)
    print(f"{what}: imagined and real agent apart by {np.round(gap[1:], 1)} px after blocks 1-{len(gap) - 1}")
    filmstrip(imagined, real, title=f"{what}: start {start}, goal {goal}",
              imagined_xy=read_position(imagined), real_xy=read_position(real))
    plt.show()

# %% [markdown]
# The white crosses are where `read_position` finds the agent; the printed distances compare the
# imagined crosses with the real ones. On the stored cpu-profile run the imagined agent stayed within
# half a pixel of the real one in both plans: 0.1 to 0.4 px in the same room, 0.2 to 0.5 px on the way
# through the door, where the model imagines the agent passing the wall at the opening and coming out
# in the other room, as the world then does.
#
# ### 6.4 How far the imagination drifts, block by block
#
# Planning trusts rollouts of 5 blocks. From random moments of held-out episodes the model imagines the
# next 5 blocks with the actions the episode really took; each reader then says where the imagined agent
# is, against where the episode's agent was. A fourth line decodes the latents of the *real* frames at
# those moments: the part of the error that is the decoder's, not the imagination's.

# %%
from lewm_mini.world import render

z_im, true_im, _ = imagine_along_episodes(model, act_stats, held_out, SIZES["rollouts"], blocks=5, history=HIST,
                                          seed=1)  # (n, 5, D) imagined latents, (n, 5, 2) true positions; the
# third value (the episodes and moments drawn) is not needed here
z_real = encode_frames(model, render(true_im.reshape(-1, 2), GEO)).reshape(z_im.shape)  # frames rendered at the
# true positions: what the world really showed after each block


def decoded_xy(z: torch.Tensor) -> np.ndarray:
    """Latents (n, 5, D) -> the position read off their decoded frames (n, 5, 2)."""
    return read_position(decode(decoder, z).reshape(-1, GEO.size, GEO.size, 3)).reshape(*z.shape[:2], 2)


per_block = {"decoded imagined frame": decoded_xy(z_im),
             "nearest grid frame": nearest_grid_position(z_im, grid),
             "linear probe": apply_probe(w_position, z_im.flatten(0, 1).cpu()).reshape(true_im.shape).numpy(),
             "decoded real frame (the decoder's own error)": decoded_xy(z_real)}
block_error = {name: np.median(np.linalg.norm(xy - true_im, axis=-1), axis=0) for name, xy in per_block.items()}
print(f"median error (px) after block       1      2      3      4      5   ({len(true_im)} rollouts, context {HIST})")
for name, err in block_error.items():
    print(f"  {name:44s}" + "".join(f"{e:7.2f}" for e in err))

# %%
plt.figure(figsize=(5.5, 3.2))
for name, err in block_error.items():
    plt.plot(range(1, 6), err, "o-" if "imagined" in name else "o--", label=name)
plt.xlabel("action blocks imagined"), plt.ylabel("median position error (px)"), plt.xticks(range(1, 6))
plt.ylim(0, None), plt.legend(fontsize=7), plt.title("imagined agent against the real one", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# The stored cpu-profile run printed, median over 1000 rollouts with one latent of context (as this
# profile plans): the decoded imagined frames put the agent 0.16 px from the real one after one block,
# growing steadily to 0.48 px after five; the nearest grid frame 0.43 to 0.61 px; the linear probe
# about 1.8 px at every block; the decoder on the real frames 0.03 px. So the first block already puts
# the imagined agent 0.16 px off, far more than the decoder's own 0.03 px, and each further block adds
# 0.06 to 0.10 px: small against the agent's blob (drawn with a 2 px standard deviation,
# `Geometry.blob_sigma`) and the success radius (4.6 px, `Geometry.success_radius`, printed in
# chapter 06). Read through the nearest grid frame, most of that drift hides under the grid's own
# rounding (0.40 px on real frames, section 6.2): if the two errors add like independent ones,
# sqrt(0.40^2 + 0.48^2) = 0.62 px, close to the 0.61 px printed at block 5. Read through the decoder,
# the drift shows block by block. The linear probe's error is mostly its own: on real frames it was
# 1.70 px (section 6.2).

# %% [markdown]
# ### 6.5 What the latent leaves out
#
# Chapter 02 argued that a JEPA keeps what it can predict and drops what it cannot, and measured it with
# a probe: with a fresh random texture on the floor of every frame (a "noisy TV"), LeWM's latent kept the
# agent and a pixel autoencoder's lost it. Now we can look. `lewm_mini.distractor` trains both as chapter
# 02 does (the same encoder and projector, the same clips with the same textures, the same small budget);
# a decoder is then trained on LeWM's frozen latents of distractor frames, while the autoencoder draws with
# the decoder it was trained with. Both then draw held-out distractor frames. Two measures: how much of
# the texture comes back (R², over floor pixels away from the agent: 1 draws every texture, 0 is no
# better than the average floor) and how far from the true position the agent is drawn.

# %%
from lewm_mini.distractor import distractor_frames, distractor_models, floor_r2

expect(10, 200, 120, cfg.profile)
noisy_models = distractor_models(cfg)  # trains once (cached), then loads

# %%
pos_d = test_set["pos"][: SIZES["distractor"]].numpy()
noisy = distractor_frames(pos_d, np.random.default_rng(3), GEO)  # held-out positions, fresh textures
lewm_d, ae = noisy_models["lewm"], noisy_models["autoencoder"]
drawings = {"LeWM, decoder trained afterwards": decode(noisy_models["decoder"], encode_frames(lewm_d, noisy)),
            "pixel autoencoder, its own decoder": decode(ae.decoder, encode_frames(ae, noisy))}
print(f"{len(noisy)} held-out distractor frames (the pixel reader on them: median error "
      f"{np.median(np.linalg.norm(read_position(noisy) - pos_d, axis=1)):.3f} px)")
for name, frames in drawings.items():
    err = np.linalg.norm(read_position(frames) - pos_d, axis=1)
    print(f"  {name:35s} floor texture R^2 {floor_r2(frames, noisy, pos_d, GEO):+.2f}; agent drawn "
          f"{np.median(err):4.1f} px from its true position (median)")

# %%
fig, axes = plt.subplots(3, 6, figsize=(9.5, 5.2))
for j in range(6):
    for row, (frames, name) in enumerate(((noisy, "original"), *((f, n) for n, f in drawings.items()))):
        axes[row, j].imshow(frames[j]), axes[row, j].set_xticks([]), axes[row, j].set_yticks([])
        if j == 0:
            axes[row, 0].set_ylabel(name.replace(", ", ",\n"), fontsize=8)
plt.suptitle("held-out distractor frames (top), drawn from LeWM's latent (middle) and the autoencoder's (bottom)",
             fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# The middle row is the picture to remember. LeWM's latent holds the agent and not the floor, so the
# decoder draws a sharp agent in its place on the average floor, the same plain grey for every frame.
# The autoencoder had to pay for every pixel. Our reading of the numbers below: its latent went to
# the texture, which is most of what there is to reconstruct (chapter 02 measured the agent at a small
# share of the pixel variance), and kept the agent only roughly, a pale smudge or none. The stored cpu-profile
# run printed, on 1000 held-out distractor frames: drawn from LeWM's latent, floor texture R² -0.00
# and the agent 0.1 px from its true position (median); drawn by the autoencoder, R² +0.94 and the agent
# 6.0 px away.
#
# Is it the latents or the decoders? `benchmarks/decoder.py` also trains a decoder afterwards on the
# autoencoder's *frozen* latents, with the settings of LeWM's: it draws the texture back (R² 0.96) and
# the agent 2.1 px away in the median, more than 25 px away for a tenth of the frames; and a linear
# probe reads the position off LeWM's latent to 0.8 px, off the autoencoder's to 13 px (medians, stored
# in `lewm_mini/results/decoder_cpu.json`, measured with the earlier cpu-profile models: the same
# architecture and settings, trained on data from the plain heuristic). The difference is in the
# latents: chapter 02's probe result, made visible, at the same small budget and texture strength.
# (Chapter 02's "Try it" shows that with a stronger texture LeWM's latent latches onto it too.)
#
# **Think.** The decoder trained on LeWM's latents draws a smooth floor, the same for every frame,
# rather than some random texture. Why that floor, and what would it mean if it drew the right texture?
#
# <details><summary>Answer</summary>
#
# Under a squared error, the best drawing of a pixel is the mean of what that pixel can be, given what
# the decoder knows. If the latent holds nothing about the texture, that mean is the average floor, the
# same for every frame: a smooth, slightly grey floor. A decoder that drew each frame's own texture
# would prove that the latent holds it, as the autoencoder's does. (A decoder trained to make plausible
# images, a GAN or a diffusion model, could draw crisp textures from nothing; they would be invented,
# which is why the measure compares the drawing with the frame's own texture.)
# </details>

# %% [markdown]
# ## 7. Check: our MLP probe is `lewm_mini`'s
#
# The inline `fit_mlp` and the package's `fit_mlp_probe` must give the same probe for the same seed
# and data, and the package's `frame_difference` must be the formula of section 4.

# %%
from lewm_mini.probe import fit_mlp_probe

z_chk, y_chk = latents["trained", "fit", "now"][:200], fit_set["pos"][:200].float()
ours, theirs = fit_mlp(z_chk, y_chk, steps=20), fit_mlp_probe(z_chk, y_chk, steps=20)
with torch.no_grad():
    torch.testing.assert_close(ours(z_chk), theirs(z_chk))
f = voe.frames["wall"][:4].astype(np.float32) / 255
np.testing.assert_allclose(frame_difference(voe.frames["wall"][:4]), ((f[:, 1:] - f[:, :-1]) ** 2).mean((2, 3, 4)),
                           rtol=1e-6)
print("MLP probe and frame difference: inline == lewm_mini")
print(f"notebook compute time: {time.perf_counter() - T0:.0f} s")

# %% [markdown]
# ## Summary
#
# What the stored cpu-profile run shows (under the ci profile the model is too briefly trained to show it):
#
# - **Probes.** The agent's position can be read off a frozen latent of a held-out frame by a linear
#   map, close to the paper's r = 0.996, and better still by a small MLP; an untrained encoder's
#   latents hold the position only in a tangled, nonlinear form. Motion over one action block is in the
#   pair of latents, and a nonlinear probe reads it far better than a linear one.
# - **Surprise.** The latent prediction error of the next frame spikes when physics breaks (a teleport,
#   a walk through the wall), significantly in a paired test, and detects single events with a high
#   AUC. A pixel change detector cannot tell an impossible step from an ordinary one; only a model that
#   predicts the dynamics can. A colour change is flagged too, through the encoder's reaction to an
#   unseen colour.
# - **Straightening.** Where the agent turns back, every representation gives a strongly negative
#   cosine (-0.76 to -0.98), pixels and random encoder included: those steps show nothing about
#   straightening. Where the agent keeps going, the trained latents' consecutive velocities lean the
#   same way (cosine +0.13 to +0.18) where those of the pixels and of the untrained encoder zigzag
#   (negative), far from the agent's own (+1); read through the position probe, they come most of the
#   way there (+0.64 and +0.72).
# - **Decoding.** A decoder trained afterwards on frozen latents, the world model untouched, draws
#   held-out frames back almost exactly: it puts the agent within 0.03 px (median), finer than the
#   nearest grid frame (0.40 px, its grid's rounding) or the linear probe (1.7 px) read the same
#   latents. Drawn, a plan's imagined frames follow the world: after 5 imagined blocks the agent is
#   0.5 px from the real one (median). With chapter 02's distractor floor, the drawing from LeWM's
#   latent brings back none of the texture (R² 0.00) and the agent within 0.1 px; a pixel autoencoder
#   of the same size brings back 94% of the texture's variance and the agent only roughly (6.0 px). At
#   this budget and texture strength, LeWM's latent left out what it could not predict.
#
# ## Check your understanding
#
# 1. Why fit a probe on some episodes and score it on others, rather than on random frames of the same
#    episodes?
# 2. A linear probe on the untrained encoder scores low while an MLP probe scores high. What does each
#    number say about the latent space?
# 3. Why is the surprise computed against $z_{t+1}$ and not against $z_t$? What would the "surprise"
#    against $z_t$ measure?
# 4. Why does the frame difference fail to flag a walk through the wall, and what would a pixel-space
#    predictor need to know to flag it?
# 5. The AUC compares event steps with all normal steps. What changes if the negatives are only the
#    normal episodes' steps at the same moment as the event (the agent pushing against the wall)? The
#    ROC cell of section 4 prints that variant for the pixels.
# 6. Why must no gradient of the decoder's loss reach the encoder? What would the decoder then show?
# 7. Chapter 06's nearest-grid-frame reader and the decoder both turn an imagined latent into a
#    picture. Name an imagined latent the decoder can show and the grid reader cannot.
# 8. On distractor frames, the decoder on LeWM's latents draws the agent in the right place and a
#    plain floor. Does that prove LeWM's latent holds nothing of the texture?
#
# <details><summary>Answers</summary>
#
# 1. Frames of one episode are strongly correlated (neighbouring positions, same route); a probe scored
#    on them partly measures memorisation. Held-out episodes test whether the reading generalises.
# 2. The linear score says the position is not along straight directions; the MLP score says it is
#    still in the latent, recoverable by a nonlinear function. Training made it linear.
# 3. The predictor predicts the next latent; its error against it is what it did not expect. The error
#    against $z_t$ mostly measures how far the agent moved, surprising or not.
# 4. An impossible step changes the same number of pixels as a possible one. A pixel predictor would need
#    the action and the walls, i.e. a model of the dynamics, to expect "no motion" and be surprised.
# 5. Those steps barely change (the agent stands still), so any event, even a plain step, looks large
#    against them: the pixel baseline then scores close to 1 and looks as good as the model. Testing
#    against all ordinary steps is what shows it cannot tell an event from a walk.
# 6. With gradients into the encoder, training the decoder would change the encoder: its loss would be an
#    autoencoder's, pulling the latent towards whatever fills the pixels (section 6.5's texture). The
#    decoder would then show a latent it had helped to make, not the one the world model plans with.
# 7. Any latent that matches no frame of the grid: an agent smeared between two places when the
#    predictor is unsure, an agent drawn inside the wall, or two faint agents. The grid reader shows the
#    nearest ordinary frame instead; the decoder draws what the latent holds (as well as its training
#    frames taught it to draw).
# 8. No. It shows that whatever the latent holds of the texture, the decoder could not turn it into a
#    better drawing of the floor than the average, with this decoder, data and training. A stronger test
#    of "nothing" is a probe of the texture itself, or a bigger decoder trained longer. What the
#    comparison does show: the same decoder, trained the same way on the autoencoder's frozen latents,
#    brings the texture back (R² 0.96 in `benchmarks/decoder.py`, measured with the earlier models), so
#    the measure sees a texture when a latent holds one.
# </details>
#
# ## Further reading
#
# - L. Maes et al. *LeWorldModel* (2026), arXiv 2603.19312, Section 5: probing in Section 5.1 (Table 1
#   for PushT; Table 3, in Appendix F.2, for Two-Room), violation of expectation in Section 5.2 (Fig. 8
#   of arXiv v3, Fig. 10 of v1; setup in Appendix F.3), temporal straightening in Appendix H (Eq. 9,
#   Fig. 17).
# - O. Hénaff, R. Goris, E. Simoncelli. *Perceptual straightening of natural videos* (2019), Nature
#   Neuroscience 22: the straightening hypothesis.
# - G. Alain, Y. Bengio. *Understanding intermediate layers using linear classifier probes* (2016),
#   arXiv 1610.01644.
# - F. Bordes, R. Balestriero, P. Vincent. *High fidelity visualization of what your self-supervised
#   representation knows about* (TMLR 2022), arXiv 2112.09164: a diffusion model conditioned on frozen
#   self-supervised representations draws what they keep, and varies what they drop.
# - Q. Garrido et al. *Intuitive physics understanding emerges from self-supervised pretraining on
#   natural videos* (2025), arXiv 2502.11831: violation-of-expectation with a video JEPA.
# - R. Baillargeon, E. Spelke, S. Wasserman. *Object permanence in five-month-old infants* (1985),
#   Cognition 20: the looking-time paradigm.
