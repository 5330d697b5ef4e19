"""Probing: how much of the world's state can be read off the frozen latents?

A linear probe is a least-squares map from latents z (N, D) to the agent's position (N, 2). If it
predicts held-out positions well (Pearson r near 1, as LeWM reports: 0.996 on Two-Room), the
encoder has organised its latent space around the state, without ever being told the state.
An MLP probe (one hidden layer) asks the weaker question: is the state there at all, even if not
along straight directions? (LeWM reports r ~ 1.0 with MLP probes for every model it compares.)

Two helpers sit next to the probes: ``encode_frames`` (frames -> frozen latents, what every probe
reads) and ``effective_rank`` (how many directions the latents really use: collapse shows as a fall).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch

from .data import frames_to_tensor


@torch.no_grad()
def encode_frames(model: torch.nn.Module, frames: np.ndarray, batch: int = 1024) -> torch.Tensor:
    """Encode uint8 frames (..., H, W, 3), e.g. (N, H, W, 3) or (N, T, H, W, 3), in eval mode ->
    latents (..., D) on the model's device (``.cpu()`` them for numpy or plotting)."""
    model.eval()
    dev = next(model.parameters()).device
    lead = tuple(frames.shape[:-3])
    flat = frames if len(lead) == 1 else np.asarray(frames).reshape(-1, *frames.shape[-3:])
    size = getattr(getattr(model, "cfg", None), "image_size", None)  # a LeWM names its frame size: checked here
    z = torch.cat([model.encode(frames_to_tensor(flat[i : i + batch], size).to(dev)) for i in range(0, len(flat), batch)])
    return z.reshape(*lead, -1)


def effective_rank(z: torch.Tensor) -> float:
    """exp(entropy of the normalised singular values) of latents (N, D): 1 = collapsed to a line."""
    s = torch.linalg.svdvals(z - z.mean(0))
    p = s / s.sum().clamp_min(1e-12)
    return float(torch.exp(-(p * torch.log(p.clamp_min(1e-12))).sum()))


def fit_linear_probe(z: torch.Tensor, y: torch.Tensor, ridge: float = 1e-3) -> torch.Tensor:
    """Ridge regression with a bias: returns W (D + 1, K) so that [z, 1] @ W ~ y."""
    x = torch.cat([z, torch.ones(len(z), 1, dtype=z.dtype)], dim=1).double()
    a = x.T @ x + ridge * len(x) * torch.eye(x.shape[1], dtype=x.dtype)
    return torch.linalg.solve(a, x.T @ y.double()).to(z.dtype)


def apply_probe(w: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    return torch.cat([z, torch.ones(len(z), 1, dtype=z.dtype)], dim=1) @ w


def pearson_r(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Mean over output dimensions of the Pearson correlation between pred and y (N, K)."""
    p, t = pred - pred.mean(0), y - y.mean(0)
    r = (p * t).sum(0) / (p.norm(dim=0) * t.norm(dim=0)).clamp_min(1e-12)
    return float(r.mean())


def rmse(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Root mean squared Euclidean error between pred and y (N, K), in the units of y (pixels)."""
    return float(((pred - y) ** 2).sum(1).mean().sqrt())


class MLPProbe(torch.nn.Module):
    """A small nonlinear probe: standardise z, one hidden layer, map back to the units of y.

    (N, D) latents -> (N, K) predictions. The standardisation constants come from the training set.
    """

    def __init__(self, d_in: int, d_out: int, hidden: int = 64):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(d_in, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, d_out))
        self.register_buffer("z_mean", torch.zeros(d_in))
        self.register_buffer("z_std", torch.ones(d_in))
        self.register_buffer("y_mean", torch.zeros(d_out))
        self.register_buffer("y_std", torch.ones(d_out))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net((z - self.z_mean) / self.z_std) * self.y_std + self.y_mean


@contextmanager
def single_thread():
    """Run the block on one CPU thread, then restore the thread count.

    A probe's matrices are tiny: a second thread saves nothing per step and costs a wake-up at every
    operation, which on a busy machine makes a few hundred steps take seconds instead of a fraction.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def fit_mlp_probe(z: torch.Tensor, y: torch.Tensor, hidden: int = 64, steps: int = 500, lr: float = 1e-2,
                  weight_decay: float = 1e-4, seed: int = 0) -> MLPProbe:
    """Fit an ``MLPProbe`` on (z (N, D), y (N, K)) by full-batch AdamW on the standardised MSE.

    Deterministic for a given seed; the encoder stays frozen (z is data here). Returns it in eval mode.
    """
    z, y = z.detach().float().cpu(), y.detach().float().cpu()
    g = torch.Generator().manual_seed(seed)
    probe = MLPProbe(z.shape[1], y.shape[1], hidden)
    with torch.no_grad():
        for layer in (probe.net[0], probe.net[2]):  # seeded initialisation, independent of the global RNG
            bound = 1 / layer.in_features ** 0.5
            layer.weight.uniform_(-bound, bound, generator=g)
            layer.bias.uniform_(-bound, bound, generator=g)
        probe.z_mean.copy_(z.mean(0)), probe.z_std.copy_(z.std(0).clamp_min(1e-6))
        probe.y_mean.copy_(y.mean(0)), probe.y_std.copy_(y.std(0).clamp_min(1e-6))
    opt = torch.optim.AdamW(probe.net.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    target = (y - probe.y_mean) / probe.y_std
    x = (z - probe.z_mean) / probe.z_std
    with single_thread():
        for _ in range(steps):
            loss = (probe.net(x) - target).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    return probe.eval()


def fit_probe(z: torch.Tensor, y: torch.Tensor, kind: str = "linear", **mlp_options):
    """A fitted probe: a function latents (N, D) -> predictions (N, K).

    ``kind`` is "linear" (ridge regression, ``fit_linear_probe``) or "mlp" (``fit_mlp_probe``, whose
    keyword options pass through).
    """
    if kind == "linear":
        w = fit_linear_probe(z, y)
        return lambda z_new: apply_probe(w, z_new)
    if kind == "mlp":
        probe = fit_mlp_probe(z, y, **mlp_options)

        def predict(z_new: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return probe(z_new.float())

        return predict
    raise ValueError(f"kind must be 'linear' or 'mlp', got {kind!r}")


def probe_report(z_train: torch.Tensor, y_train: torch.Tensor, z_test: torch.Tensor, y_test: torch.Tensor,
                 kind: str = "linear", **mlp_options) -> dict:
    """Fit on train, score on test: {"r": Pearson r, "rmse": error in the units of y}. See ``fit_probe``."""
    pred = fit_probe(z_train, y_train, kind, **mlp_options)(z_test)
    return {"r": pearson_r(pred, y_test), "rmse": rmse(pred, y_test)}


def position_probe(model: torch.nn.Module, train_eps, test_eps, n: int = 4000, seed: int = 0) -> dict:
    """Linear probe of the agent position from frozen latents of n random frames of each split."""

    def sample(eps, rng):
        e = rng.integers(0, eps.frames.shape[0], n)
        t = rng.integers(0, eps.frames.shape[1], n)
        return encode_frames(model, np.asarray(eps.frames[e, t])).cpu(), torch.as_tensor(eps.pos[e, t])

    rng = np.random.default_rng(seed)
    z_tr, y_tr = sample(train_eps, rng)
    z_te, y_te = sample(test_eps, rng)
    return probe_report(z_tr, y_tr, z_te, y_te)


def rollout_position_error(model: torch.nn.Module, stats, train_eps, test_eps, history: int, blocks: int = 5,
                           n: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    """How far imagination drifts, in pixels, per block ahead: {"imagined": (blocks,), "probe_floor": (blocks + 1,),
    "moved": (blocks,)}.

    From ``n`` held-out moments (``test_eps``), the model reads the last ``history`` frames (one per action block)
    with the blocks executed after them, imagines ``blocks`` blocks of the recorded actions, and an MLP probe,
    fitted on encoder latents of training frames (``train_eps``), reads a position off every imagined latent:
    "imagined" is its mean distance to the recorded position. Comparable across models whose latents differ (a
    model with history 1 and one with history 3), because it is measured in pixels. Two scales on the same
    moments: "probe_floor", the same probe on the encoder's latents of the real frames (0 to ``blocks`` ahead),
    which a perfect imagination would still show, and "moved", how far the agent went from now.
    """
    fs = model.cfg.frameskip
    rng = np.random.default_rng(seed)
    e = rng.integers(0, len(train_eps), 4000)
    t = rng.integers(0, train_eps.pos.shape[1], 4000)
    probe = fit_probe(encode_frames(model, np.asarray(train_eps.frames[e, t])).cpu(), torch.as_tensor(train_eps.pos[e, t]),
                      "mlp")
    past = (history - 1) * fs
    steps = test_eps.actions.shape[1]
    e = rng.integers(0, len(test_eps), n)
    t0 = rng.integers(past, steps - blocks * fs + 1, n)  # now: the frame the rollout starts from
    frame_t = t0[:, None] + fs * np.arange(-(history - 1), blocks + 1)  # context, now, and the imagined frames
    z_real = encode_frames(model, np.asarray(test_eps.frames[e[:, None], frame_t]))  # (n, history + blocks, D)
    z_ctx = z_real[:, :history]
    act_t = (t0 - past)[:, None] + np.arange(past + blocks * fs)
    blk = torch.as_tensor(stats.block(test_eps.actions[e[:, None], act_t], fs), device=z_ctx.device)  # (n, h-1+B, A)
    h = history - 1
    context = (z_ctx[:, :h], blk[:, :h]) if h else (None, None)
    with torch.no_grad():
        z = model.rollout(z_ctx[:, -1], blk[:, h:], history, *context)  # (n, blocks, D)
    read = lambda lat: probe(lat.reshape(-1, lat.shape[-1]).cpu()).reshape(n, -1, 2).numpy()  # noqa: E731
    true = test_eps.pos[e[:, None], frame_t[:, h:]]  # (n, blocks + 1, 2): now and each block ahead
    return {"imagined": np.linalg.norm(read(z) - true[:, 1:], axis=-1).mean(0),
            "probe_floor": np.linalg.norm(read(z_real[:, h:]) - true, axis=-1).mean(0),
            "moved": np.linalg.norm(true[:, 1:] - true[:, :1], axis=-1).mean(0)}


def velocity_probe(model: torch.nn.Module, train_eps, test_eps, history: int = 3, n: int = 4000, seed: int = 0) -> dict:
    """Can the velocity be read off the latents? Linear probes of the puck's velocity (Momentum world) at a frame,
    from that frame's latent alone and from the latents of the last ``history`` frames (one block apart,
    concatenated: what the predictor reads). {"single": {"r", "rmse"}, "history": {"r", "rmse"}}, rmse in px/step."""
    fs = model.cfg.frameskip
    rng = np.random.default_rng(seed)

    def sample(eps):
        e = rng.integers(0, len(eps), n)
        t = rng.integers((history - 1) * fs, eps.pos.shape[1], n)
        frame_t = t[:, None] + fs * np.arange(-(history - 1), 1)  # (n, history), oldest first
        z = encode_frames(model, np.asarray(eps.frames[e[:, None], frame_t])).cpu()  # (n, history, D)
        return z, torch.as_tensor(eps.vel[e, t])

    (z_tr, v_tr), (z_te, v_te) = sample(train_eps), sample(test_eps)
    return {"single": probe_report(z_tr[:, -1], v_tr, z_te[:, -1], v_te),
            "history": probe_report(z_tr.flatten(1), v_tr, z_te.flatten(1), v_te)}
