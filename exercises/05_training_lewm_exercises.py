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
# # 05 · Training LeWM (exercises)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/lewm-mini/lewm-mini/blob/main/exercises/05_training_lewm_exercises.ipynb)
#
# Two functions from chapter 05 (`notebooks/05_training_lewm.ipynb`), each a variant of what the
# chapter builds: the two-term loss on data laid out time-major, and a training step that
# accumulates gradients over micro-batches of unequal sizes. Write each one where it says `# YOUR CODE HERE`, then run
# the check cell below it: it prints PASS, or FAIL with a hint.
#
# **Prerequisites:** chapter 05 (sections 1 and 2).
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
import copy

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from lewm_mini.sigreg import SIGReg
from lewm_mini.checks.ch05 import check_accumulated_step, check_two_term_loss, tiny_lewm

# %% [markdown]
# ## Exercise 5.1 · The two-term loss, time-major
#
# Many sequence pipelines store clips **time-major**: frames (T, B, 3, H, W) and action blocks
# (T, B, A), time first. Adapt the chapter's `lewm_loss` (section 1.5) to data in that layout, taking
# three callables instead of a model:
# - `encoder(x)`: a plain batch of frames (N, 3, H, W) -> latents (N, D) (encoder and projector);
# - `predictor(z, a)`: **batch-major** latents (B, T', D) and action blocks (B, T', A) -> the predicted
#   next latents (B, T', D), causal over T';
# - `sigreg(z)`: latents (T, B, D) -> the SIGReg statistic (a scalar tensor).
#
# Return `{"loss": pred + lam * sigreg, "pred": ..., "sigreg": ...}` with `pred` the mean squared
# error between the teacher-forced predictions and the latents they predict (no stop-gradient, as in
# the chapter: training will call `backward()` on your loss). The exercise is about bookkeeping, not a
# new idea: know which axis is time at every line (what the encoder accepts, what the predictor wants,
# which frames are inputs and which are targets, which latents SIGReg must keep from collapsing).
# Transposing to batch-major once and reusing the chapter's lines is a correct answer.

# %%
def two_term_loss(encoder, predictor, sigreg, frames: torch.Tensor, actions: torch.Tensor,
                  lam: float) -> dict[str, torch.Tensor]:
    """frames (T, B, 3, H, W), actions (T, B, A) -> {"loss", "pred", "sigreg"} scalar tensors."""
    # YOUR CODE HERE
    raise NotImplementedError("two_term_loss")


# %%
check_two_term_loss(two_term_loss)

# %% [markdown]
# Use it: compare your loss on a small model with the package's `LeWM.loss` on the same clips
# (time-major in, batch-major for the package), when both draw the same SIGReg directions. Equal
# values are not enough: a loss with a stop-gradient has the same value and another gradient, so the
# cell compares the gradients too.

# %%
try:
    model = tiny_lewm()
    g = torch.Generator().manual_seed(0)
    frames = torch.rand(4, 16, 3, 16, 16, generator=g)  # (T, B, 3, H, W)
    actions = torch.randn(4, 16, 4, generator=g)  # (T, B, A)

    def encoder(x):
        return model.projector(model.encoder(x))

    def sigreg(z):
        return model.sigreg(z, generator=torch.Generator().manual_seed(1))

    def grads(loss) -> list[torch.Tensor]:
        """The loss's gradient for every parameter (zeros where none flows)."""
        params = list(model.parameters())
        has_grad = torch.is_tensor(loss) and loss.requires_grad
        gs = torch.autograd.grad(loss, params, allow_unused=True) if has_grad else [None] * len(params)
        return [torch.zeros_like(p) if gp is None else gp for p, gp in zip(params, gs)]

    ours = two_term_loss(encoder, model.predictor, sigreg, frames, actions, lam=0.09)
    theirs = model.loss(frames.transpose(0, 1), actions.transpose(0, 1), lam=0.09,
                        generator=torch.Generator().manual_seed(1))
    for k in ("loss", "pred", "sigreg"):
        print(f"{k:7s} yours {torch.as_tensor(ours[k]).item():.6f}   LeWM.loss {theirs[k].item():.6f}")
    same = all(torch.allclose(a, b, atol=1e-6) for a, b in zip(grads(ours["loss"]), grads(theirs["loss"])))
    print("gradients:", "the same as LeWM.loss's" if same else "DIFFERENT from LeWM.loss's (see the check above)")
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# ## Exercise 5.2 · One training step, with gradient accumulation
#
# The chapter's training step is zero_grad, forward, backward, clip, step. When a batch of 128 clips
# does not fit in memory, the usual trick is **gradient accumulation**: split it into micro-batches,
# run forward and backward on each (`.backward()` *adds* to `.grad`), then clip and step once. The
# micro-batches need not be equal: 128 clips in micro-batches of at most 48 are 48, 48 and 32. Write
# that step so that it does what one step on the whole batch would do:
# - the gradient must be the gradient of the **mean loss over all the samples** of the batch;
# - clip the total gradient norm to `max_norm`, then take one optimizer step;
# - return `(mean loss over all the samples as a float, total gradient norm before clipping as a float)`.
#
# Each micro-batch is a tuple whose first element holds its samples along dimension 0 (`len(batch[0])`
# is its size), and `loss_fn(model, batch)` returns the **mean** loss over that micro-batch's samples.
# Do not assume `.grad` is empty when your function is called.

# %%
def accumulated_step(model: nn.Module, opt: torch.optim.Optimizer, loss_fn, micro_batches: list,
                     max_norm: float) -> tuple[float, float]:
    """One optimizer step on the mean loss over micro_batches; returns (mean loss, grad norm before clipping)."""
    # YOUR CODE HERE
    raise NotImplementedError("accumulated_step")


# %%
check_accumulated_step(accumulated_step)

# %% [markdown]
# Use it: for a model without BatchNorm, micro-batches of 48, 48 and 32 give the same step as one
# batch of 128, up to rounding.

# %%
try:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 1))
    nets = {"one batch of 128": net, "micro-batches 48, 48, 32": copy.deepcopy(net)}
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(128, 8, generator=g), torch.randn(128, 1, generator=g)

    def mse(m, batch):
        return F.mse_loss(m(batch[0]), batch[1])

    for name, m in nets.items():
        opt = torch.optim.AdamW(m.parameters(), lr=1e-2)
        chunks = [(x, y)] if name.startswith("one") else list(zip(x.split(48), y.split(48)))
        loss, norm = accumulated_step(m, opt, mse, chunks, max_norm=1.0)
        print(f"{name:24s} loss {loss:.5f}   gradient norm before clipping {norm:.4f}")
    diff = max(float((p - q).detach().abs().max()) for p, q in zip(*(m.parameters() for m in nets.values())))
    print(f"largest parameter difference after the step: {diff:.1e}")
except NotImplementedError as err:
    print(f"(write {err} first)")

# %% [markdown]
# LeWM is not such a model. BatchNorm normalises each micro-batch with its own statistics, and SIGReg
# is a test statistic of the whole batch, multiplied by its size: it is not an average of per-sample
# losses, so the mean of four SIGRegs over 32 clips is not SIGReg over 128. For collapsed latents the
# penalty shrinks with the micro-batch:

# %%
sig = SIGReg(num_proj=256)
gen = torch.Generator().manual_seed(0)
D = cfg.model.latent
cases = {"N(0, I)": torch.randn(128, D, generator=gen), "collapsed (zeros)": torch.zeros(128, D)}
values = {}
for name, z in cases.items():
    whole = float(sig(z, generator=torch.Generator().manual_seed(1)))
    parts = sum(float(sig(c, generator=torch.Generator().manual_seed(1))) for c in z.chunk(4)) / 4
    values[name] = (whole, parts)
    print(f"{name:18s} SIGReg over 128: {whole:6.2f}   mean over 4 micro-batches of 32: {parts:6.2f}")
fig, ax = plt.subplots(figsize=(5, 2.8))
xs = torch.arange(len(values))
ax.bar(xs - 0.2, [v[0] for v in values.values()], 0.4, label="one batch of 128")
ax.bar(xs + 0.2, [v[1] for v in values.values()], 0.4, label="mean of 4 micro-batches of 32")
ax.set_xticks(xs, list(values))
ax.set_ylabel("SIGReg")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# **Going further.** The released code, trained on several GPUs, computes SIGReg on each GPU's local
# batch, which is the same thing as the micro-batches above: by the cell above, a weaker penalty on
# collapse than SIGReg over the whole batch. (A user asked how to apply SIGReg under distributed
# training in the released repository, lucas-maes/le-wm issue #27; the answer pointed to LeJEPA's
# pseudo-code, which averages cos and sin across GPUs.) What the per-GPU version costs in planning
# success is not measured in this course. How would you compute SIGReg over the whole batch while
# still accumulating gradients over micro-batches? (Hint: SIGReg needs only the batch means of
# cos(t x) and sin(t x) for every direction and knot.)
