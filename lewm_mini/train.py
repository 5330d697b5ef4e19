"""Training: loss = MSE(prediction) + lambda * SIGReg, AdamW with warm-up and cosine decay.

A reader can finish this file in one sitting. The loop samples clips, computes the two loss terms,
clips gradients and steps; ``train`` reads top to bottom: ``_set_up`` (data, model, optimiser),
``_restore`` (from a checkpoint), then a short loop of ``_train_step``, ``_sync`` and ``_save``, with the
run's state in one ``Run``. Every ``checkpoint_every`` steps the loop saves everything needed to resume
*exactly* (model, optimizer, scheduler, gradient scaler, and the random streams: torch's for
dropout on the CPU and on the GPU, the clip sampler's, and SIGReg's directions), so an interrupted
run resumes where it stopped (bit for bit on the CPU; on a GPU up to its non-deterministic kernels).
Each save goes to a temporary file renamed into place, and the one before it is kept as
``checkpoint.prev.pt``: when the latest file is unreadable (a VM that died while Google Drive was
still uploading it), ``load_checkpoint`` falls back to the previous one with a warning.

On a GPU three things keep it busy: mixed precision (bf16 where the GPU has it, else fp16 with a
gradient scaler), clips that travel as uint8 from pinned memory and become floats on the device
while the next batch is prepared in a background thread (``Prefetcher``), and host syncs (the
finite-loss check, the floats of the history) only every ``LOG_EVERY`` steps. Nothing else in a step
reads a value back: the frames' finite check is skipped (they come from uint8), and fused AdamW takes
the fp16 scaler's overflow flag on the device.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from . import distributed
from .config import Config, TrainConfig, pick_device, seed_everything, set_cpu_threads, show_progress, usable_cpus
from .data import ActionStats, ClipSampler, held_out_episodes, load_or_collect
from .jepa import LeWM, parameter_table
from .probe import effective_rank, probe_report

CHECKPOINT = "checkpoint.pt"
LOG_EVERY = 50  # on a GPU: steps between host syncs (finite check, history, progress bar)


class HeldOut:
    """A fixed batch of clips from the held-out evaluation episodes, scored in eval mode.

    Every ``eval_every`` training steps the loop records, on these same clips: the two loss terms
    (``val_pred``, ``val_sigreg``), the effective rank of their latents (collapse shows as a fall),
    and the Pearson r of a linear probe of the agent position (fit on half the frames, scored on
    the other half). Eval mode and its own random generator leave the training streams untouched.
    """

    def __init__(self, cfg: Config, stats: ActionStats, clips: int = 256, seed: int = 0):
        eps = held_out_episodes(cfg.data)
        sampler = ClipSampler(eps, cfg.model.history, cfg.model.frameskip, stats=stats, seed=seed)
        ep, start = sampler.indices(clips)
        self.frames, self.actions = sampler.get(ep, start)  # (B, T, 3, H, W), (B, T, A)
        frame_t = start[:, None] + cfg.model.frameskip * np.arange(sampler.t)
        self.pos = torch.as_tensor(eps.pos[ep[:, None], frame_t]).reshape(-1, 2).float()  # (B * T, 2)
        self.lam, self.seed = cfg.train.lam, seed

    @torch.no_grad()
    def __call__(self, model: LeWM) -> dict[str, float]:
        was_training = model.training
        model.eval()
        dev = next(model.parameters()).device
        gen = torch.Generator(device=dev).manual_seed(self.seed)
        out = model.loss(self.frames.to(dev), self.actions.to(dev), lam=self.lam, generator=gen)
        z = model.encode(self.frames.to(dev)).reshape(-1, model.cfg.latent).float().cpu()  # (B * T, D)
        half = len(z) // 2
        probe = probe_report(z[:half], self.pos[:half], z[half:], self.pos[half:])
        model.train(was_training)
        return {"val_pred": float(out["pred"]), "val_sigreg": float(out["sigreg"]),
                "rank": effective_rank(z), "probe_r": probe["r"]}


@dataclass
class TrainResult:
    model: LeWM
    stats: ActionStats
    checkpoint: Path
    history: list[dict] = field(default_factory=list)  # one {"step", "loss", "pred", "sigreg"} per step,
    # plus {"val_pred", "val_sigreg", "rank", "probe_r"} every eval_every steps (see HeldOut)
    seconds: float = 0.0


class TrainingLoss(nn.Module):
    """LeWM's training loss as a module call, so DistributedDataParallel can wrap it (it syncs the
    gradients of what ``forward`` computes)."""

    def __init__(self, model: LeWM, lam: float):
        super().__init__()
        self.model, self.lam = model, lam

    def forward(self, frames: torch.Tensor, actions: torch.Tensor,
                generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        # No finite check of the frames: they come from uint8 (finite by construction), and on a GPU the
        # check would be a host sync at every step. A NaN still stops the run: the loss is checked at
        # every sync (see ``train``).
        return self.model.loss(frames, actions, lam=self.lam, generator=generator, check_finite=False)


def lr_lambda(warmup: int, total: int):
    """Linear warm-up to 1, then cosine decay to 0.05 of the peak learning rate."""

    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))

    return f


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """Mixed precision on CUDA: bf16 where the GPU computes it natively (Ampere and later), else fp16
    (a T4, which needs a gradient scaler); None (float32) on the CPU."""
    if device.type != "cuda":
        return None
    try:
        native = torch.cuda.is_bf16_supported(including_emulation=False)
    except TypeError:  # torch < 2.4 has no such argument and counts emulated bf16 (a T4) as supported
        native = torch.cuda.get_device_capability(device)[0] >= 8
    return torch.bfloat16 if native else torch.float16


def grad_scaler(device: torch.device, enabled: bool):
    """The fp16 gradient scaler (a no-op when not ``enabled``): ``torch.amp.GradScaler`` from torch 2.3,
    ``torch.cuda.amp.GradScaler`` before (CUDA is the only device that uses it here)."""
    if hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler(device.type, enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled and device.type == "cuda")


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """AdamW groups: weight decay on weight matrices and convolution kernels only, as released.

    Biases, norm weights, positional embeddings and the CLS token are not decayed.
    """
    decay, rest = [], []
    for name, p in model.named_parameters():
        embedding = name.rsplit(".", 1)[-1] in ("pos", "cls")
        (decay if p.ndim >= 2 and not embedding else rest).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def frames_to_device(frames: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 frames (..., H, W, 3) -> float (..., 3, H, W) in [0, 1] on ``device``.

    The conversion happens on the device (4x less to copy); the arithmetic is ``frames_to_tensor``'s.
    """
    return frames.to(device, non_blocking=True).float().div_(255.0).movedim(-1, -3)


class Prefetcher:
    """Batches of clips prepared in background threads while the current one trains.

    ``next()`` returns uint8 frames (B, T, H, W, 3), in pinned memory when ``pin``, and action blocks
    (B, T, A). Clip indices are drawn on the calling thread, in order, so the sampler's random
    stream is the same as without prefetching; ``state()`` is the sampler state before the oldest
    batch that is prepared but not yet returned, which is what a checkpoint must store. ``workers``
    threads render ``workers`` batches ahead (a 512-frame batch is ~10 ms of one core).
    ``part`` selects this process's share of each batch (distributed training draws one batch
    for all ranks).
    """

    def __init__(self, sampler: ClipSampler, batch: int, pin: bool = False, workers: int = 1,
                 part: slice = slice(None)):
        self.sampler, self.batch, self.pin, self.part = sampler, batch, pin, part
        self.pool = ThreadPoolExecutor(max_workers=workers)
        self.queue = deque(self._submit() for _ in range(workers))

    def _submit(self):
        state = self.sampler.state()
        ep, start = self.sampler.indices(self.batch)
        return state, self.pool.submit(self._load, ep[self.part], start[self.part])

    def _load(self, ep: np.ndarray, start: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        frames, actions = self.sampler.get_uint8(ep, start)
        frames = torch.from_numpy(frames)
        return (frames.pin_memory(), actions.pin_memory()) if self.pin else (frames, actions)

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        _, future = self.queue.popleft()
        self.queue.append(self._submit())
        return future.result()

    def state(self) -> dict:
        return self.queue[0][0]

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def previous_checkpoint(path: str | Path) -> Path:
    """Where the checkpoint before ``path`` is kept: ``checkpoint.pt`` -> ``checkpoint.prev.pt``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.prev{path.suffix}")


def save_checkpoint(path: Path, keep_previous: bool = True, **state) -> None:
    """Write to a temporary file, then rename it into place: a crash mid-save never leaves a
    half-written ``path`` behind. With ``keep_previous`` the file ``path`` held becomes
    ``previous_checkpoint(path)``, the fallback of ``load_checkpoint``; without it (a fresh run) the
    files there belong to an earlier run and neither is kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp, prev = path.with_suffix(".tmp"), previous_checkpoint(path)
    with open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        try:
            os.fsync(f.fileno())  # the bytes reach the disk (or the Drive client) before the rename
        except OSError:  # a file system without fsync
            pass
    if not keep_previous:
        prev.unlink(missing_ok=True)
    elif path.exists():
        path.replace(prev)  # a crash right here leaves prev and tmp: load_checkpoint falls back to prev
    tmp.replace(path)


def _read_checkpoint(path: Path, device: str | torch.device) -> dict:
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}; train one with `python -m lewm_mini train`")
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # truncated file, wrong format, unsafe pickle, ...
        raise ValueError(f"checkpoint {path} is corrupt or not a lewm_mini checkpoint ({type(err).__name__})") from err
    missing = {"model", "config", "action_stats", "step"} - set(ckpt if isinstance(ckpt, dict) else {})
    if missing:
        raise ValueError(f"checkpoint {path} is not a lewm_mini checkpoint: missing {sorted(missing)}")
    return ckpt


def _load_with_fallback(path: Path, device: str | torch.device) -> tuple[dict, bool]:
    """(checkpoint, whether it came from the previous file instead of ``path``)."""
    try:
        return _read_checkpoint(path, device), False
    except (FileNotFoundError, ValueError) as err:
        latest = err
    prev, ckpt = previous_checkpoint(path), None
    try:
        ckpt = _read_checkpoint(prev, device)
    except (FileNotFoundError, ValueError):
        pass
    if ckpt is None:
        raise latest  # neither is readable: report the latest
    warnings.warn(f"{latest}; using the previous checkpoint {prev} (step {ckpt['step']}) instead", stacklevel=3)
    return ckpt, True


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> dict:
    """Load a checkpoint safely (weights_only=True) with errors that name the problem.

    When ``path`` is missing or unreadable and the previous checkpoint (``checkpoint.prev.pt`` beside
    it, see ``save_checkpoint``) is readable, that one is returned, with a warning.
    """
    return _load_with_fallback(Path(path), device)[0]


def save_trained(path: Path, settings: dict, modules: dict[str, nn.Module], **info) -> None:
    """Save the state of ``modules`` with the settings they were trained with (atomically, like a checkpoint)."""
    save_checkpoint(Path(path), keep_previous=False, settings=settings,
                    state={name: m.state_dict() for name, m in modules.items()}, **info)


def load_trained(path: Path, settings: dict) -> dict | None:
    """What ``save_trained`` wrote at ``path``, None when there is no file.

    A file that cannot be read, or that holds other settings, raises ValueError naming it: delete it,
    and the next call trains again.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated file, wrong format, unsafe pickle, ...
        raise ValueError(f"{path} is corrupt or not a lewm_mini file of trained weights ({type(err).__name__}); "
                         "delete it and it is trained again") from err
    if not isinstance(saved, dict) or {"settings", "state"} - set(saved):
        raise ValueError(f"{path} is not a lewm_mini file of trained weights; delete it and it is trained again")
    if saved["settings"] != settings:
        raise ValueError(f"{path} was trained with other settings; delete it and it is trained again")
    return saved


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[LeWM, ActionStats, Config]:
    """Model (in eval mode), action statistics and configuration from a checkpoint."""
    ckpt = load_checkpoint(path, device)
    cfg = Config.from_dict(ckpt["config"])
    model = LeWM(cfg.model, num_proj=cfg.train.num_proj).to(device)
    model.load_state_dict(ckpt["model"])
    return model.eval(), ActionStats.from_dict(ckpt["action_stats"]), cfg


@dataclass
class Run:
    """What a training run carries from step to step, and what its checkpoints store."""

    cfg: Config
    path: Path  # the checkpoint file
    dev: torch.device
    processes: int  # 1 outside a torch.distributed group
    rank: int
    amp: torch.dtype | None  # autocast dtype, None for float32
    sampler: ClipSampler
    model: LeWM
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    sig_gen: torch.Generator  # SIGReg's random directions
    step: int = 0  # optimisation steps done
    history: list[dict] = field(default_factory=list)
    batches: Prefetcher | None = None  # None when there is no step left to train
    sync_every: int = 1
    pending: list[tuple[int, torch.Tensor]] = field(default_factory=list)  # (step, loss terms) still on the device
    names: tuple[str, ...] = ()  # of the loss terms
    # The checkpoint flags. The first save: a resumed run keeps the checkpoint it resumed from as the fallback;
    # one resumed from the fallback first drops the unreadable latest file (the fallback stays); a fresh run
    # keeps neither. Every later save keeps the file it replaces.
    saved: bool = False  # a checkpoint of this run exists (resumed from, or written)
    keep_previous: bool = False
    discard_latest: bool = False


def _optimiser(model: nn.Module, tc: TrainConfig, dev: torch.device,
               legacy: bool = False) -> tuple[torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW (fused on CUDA) and its schedule (``lr_lambda``). ``legacy``: one parameter group, all of it
    decayed, as in runs begun before biases and norms were spared weight decay."""
    params = model.parameters() if legacy else param_groups(model, tc.weight_decay)
    opt = torch.optim.AdamW(params, lr=tc.lr, weight_decay=tc.weight_decay, fused=True if dev.type == "cuda" else None)
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(tc.warmup, tc.steps))


def _set_up(cfg: Config, path: Path, device: str | None, progress: bool) -> Run:
    """A fresh, seeded run at step 0: device, data, clip sampler, model, optimiser, schedule, gradient
    scaler and SIGReg's generator. Under DDP: one GPU per process, SyncBatchNorm on GPUs, and after the
    (shared) initial weights a different dropout stream on each process."""
    set_cpu_threads()
    distributed.share_cpu_cores()
    processes, rank = distributed.world_size(), distributed.rank()
    dev = pick_device(device)
    if processes > 1 and dev.type == "cuda":
        dev = torch.device("cuda", torch.cuda.current_device())  # one GPU per process
    tc = cfg.train
    if tc.batch % processes:
        raise ValueError(f"batch {tc.batch} does not split evenly over {processes} processes")
    seed_everything(tc.seed)
    with distributed.main_first():  # rank 0 collects and caches the data, the others then load it
        episodes = load_or_collect(cfg.data, "train", progress=progress and rank == 0)
    sampler = ClipSampler(episodes, cfg.model.history, cfg.model.frameskip, seed=tc.seed)
    model = LeWM(cfg.model, num_proj=tc.num_proj).to(dev)
    if processes > 1 and dev.type == "cuda":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)  # batch statistics over all processes
    if rank:
        torch.manual_seed(tc.seed + rank)  # same initial weights, different dropout on each process
    amp = amp_dtype(dev)
    if show_progress(progress) and rank == 0:
        sizes = ", ".join(f"{k} {v / 1e6:.2f} M" for k, v in parameter_table(model).items())
        print(f"LeWM [{cfg.profile}] parameters: {sizes}; device {dev}" + (f", {amp}".replace("torch.", "") if amp else "")
              + (f"; {processes} processes (DDP)" if processes > 1 else ""))
    opt, sched = _optimiser(model, tc, dev)
    return Run(cfg, path, dev, processes, rank, amp, sampler, model, opt, sched,
               scaler=grad_scaler(dev, enabled=amp == torch.float16),
               sig_gen=torch.Generator(device=dev).manual_seed(tc.seed + 1))


def _restore(run: Run, ckpt: dict, fell_back: bool) -> None:
    """Continue ``run`` from checkpoint ``ckpt`` exactly: weights, optimiser, schedule, gradient scaler,
    the random streams (this process's dropout, SIGReg's, the sampler's), step and history.
    ``fell_back``: ``ckpt`` is the previous file, read because the latest was unreadable."""
    if Config.from_dict(ckpt["config"]).run_identity() != run.cfg.run_identity():
        raise ValueError(f"{run.path} was trained with another configuration; use a new --out folder")
    if len(ckpt["optimizer"]["param_groups"]) == 1:  # runs begun with one parameter group go on as they began
        run.opt, run.sched = _optimiser(run.model, run.cfg.train, run.dev, legacy=True)
    run.model.load_state_dict(ckpt["model"])
    run.opt.load_state_dict(ckpt["optimizer"])
    run.sched.load_state_dict(ckpt["scheduler"])
    if ckpt.get("grad_scaler"):
        run.scaler.load_state_dict(ckpt["grad_scaler"])
    ranks = ckpt.get("rank_rng", [ckpt])  # exact resume needs the same number of processes
    rng = ranks[run.rank] if len(ranks) == run.processes else ckpt
    torch.set_rng_state(rng["torch_rng"].cpu())
    if run.dev.type == "cuda" and "cuda_rng" in rng:
        torch.cuda.set_rng_state(rng["cuda_rng"].cpu(), run.dev)
    run.sig_gen.set_state(ckpt["sigreg_rng"].to(run.sig_gen.get_state().device))
    run.sampler.set_state(ckpt["sampler_rng"])
    run.sampler.stats = ActionStats.from_dict(ckpt["action_stats"])
    run.step, run.history = ckpt["step"], list(ckpt["history"])
    run.saved = run.keep_previous = True
    run.discard_latest = fell_back


def _prefetcher(run: Run) -> Prefetcher:
    """This process's share of each batch, prepared in background threads (the CPU trains itself)."""
    tc, n, r = run.cfg.train, run.processes, run.rank
    workers = min(3, max(1, usable_cpus() // n - 1)) if run.dev.type == "cuda" else 1
    share = slice(r * tc.batch // n, (r + 1) * tc.batch // n)
    return Prefetcher(run.sampler, tc.batch, pin=run.dev.type == "cuda", workers=workers, part=share)


def _checks_after(run: Run, end: int) -> tuple[bool, bool]:
    """Whether the next step ends with a host sync, and whether with a held-out evaluation. A sync comes
    every ``sync_every`` steps, before every checkpoint, at ``end`` and with every evaluation (every
    ``eval_every`` steps and after the last)."""
    tc, done = run.cfg.train, run.step + 1
    evaluate = tc.eval_every > 0 and (done % tc.eval_every == 0 or done == tc.steps)
    return done % run.sync_every == 0 or done % tc.checkpoint_every == 0 or done == end or evaluate, evaluate


def _train_step(run: Run, loss_fn: nn.Module, sync: bool) -> None:
    """One optimisation step: the next batch, the loss (autocast), a host sync when ``sync`` (it raises
    before the update if a loss is not finite), backward, gradient clipping, AdamW and the schedule."""
    frames, actions = run.batches.next()
    frames, actions = frames_to_device(frames, run.dev), actions.to(run.dev, non_blocking=True)
    with torch.autocast(run.dev.type, dtype=run.amp, enabled=run.amp is not None):
        out = loss_fn(frames, actions, generator=run.sig_gen)
    run.names = tuple(out)
    run.pending.append((run.step, torch.stack([v.detach().float() for v in out.values()])))
    if sync:
        _sync(run)
    run.opt.zero_grad(set_to_none=True)
    run.scaler.scale(out["loss"]).backward()
    run.scaler.unscale_(run.opt)
    torch.nn.utils.clip_grad_norm_(run.model.parameters(), run.cfg.train.grad_clip)
    run.scaler.step(run.opt)
    run.scaler.update()
    run.sched.step()
    run.step += 1


def _sync(run: Run) -> None:
    """One host sync at step ``run.step`` (not yet updated): bring the pending loss terms over (averaged
    over processes), stop on a non-finite loss, append them to the history."""
    now = run.step
    values = distributed.mean_over_ranks(torch.stack([v for _, v in run.pending])).cpu()  # (n, terms)
    for (s, _), v in zip(run.pending, values.tolist()):
        if not math.isfinite(v[0]):
            when = ("stopped without updating" if s == now else
                    f"found at step {now} (the loss is checked every {run.sync_every} steps)")
            raise FloatingPointError(
                f"loss is not finite at step {s} ({dict(zip(run.names, v))}); {when}. "
                f"The last good checkpoint is {run.path if run.path.exists() else 'not written yet'}; "
                "lower the learning rate or check the data."
            )
        run.history.append({"step": s + 1} | dict(zip(run.names, v)))
    run.pending.clear()


def _report(run: Run, bar: tqdm, held_out: HeldOut | None) -> None:
    """After a host sync: the held-out scores (when given) into the last history entry, and the progress bar."""
    if held_out is not None:
        run.history[-1] |= held_out(run.model)
    bar.update(run.step - bar.n)
    bar.set_postfix(pred=f"{run.history[-1]['pred']:.4f}", sigreg=f"{run.history[-1]['sigreg']:.2f}")


def _save(run: Run) -> None:
    """Write the checkpoint (rank 0, with every process's dropout stream), handling the fallback file as
    the flags of ``Run`` say."""
    dev = run.dev
    rng = {"torch_rng": torch.get_rng_state()} | ({"cuda_rng": torch.cuda.get_rng_state(dev)} if dev.type == "cuda" else {})
    ranks = {"rank_rng": distributed.gather(rng)} if run.processes > 1 else {}  # every process's dropout stream
    if run.rank == 0:
        if run.discard_latest:
            run.path.unlink(missing_ok=True)
        save_checkpoint(
            run.path, keep_previous=run.keep_previous,
            model=run.model.state_dict(), optimizer=run.opt.state_dict(), scheduler=run.sched.state_dict(),
            grad_scaler=run.scaler.state_dict(), step=run.step, config=run.cfg.to_dict(),
            action_stats=run.sampler.stats.to_dict(), history=run.history, sigreg_rng=run.sig_gen.get_state(),
            sampler_rng=run.batches.state() if run.batches else run.sampler.state(), **rng, **ranks,
        )
    run.saved = run.keep_previous = True
    run.discard_latest = False


def train(cfg: Config, out_dir: str | Path, device: str | None = None, resume: bool = True,
          progress: bool = True, stop_after: int | None = None, sync_every: int | None = None) -> TrainResult:
    """Train LeWM on cached offline data; writes ``out_dir/checkpoint.pt``.

    ``resume`` continues from an existing checkpoint in ``out_dir``; ``stop_after`` ends the run
    after that many total steps (as an interruption would), leaving a checkpoint to resume from.
    ``sync_every``: steps between host syncs (finite-loss check, history); default 1 on the CPU,
    ``LOG_EVERY`` on a GPU. Checkpoints are only written after a check, so the last checkpoint is
    always good.

    Inside a torch.distributed group (``torchrun``, see ``lewm_mini.distributed``) each process
    trains on its share of every batch of ``cfg.train.batch`` clips with DistributedDataParallel;
    rank 0 writes the checkpoints, and the history holds the loss terms averaged over processes.
    """
    tc = cfg.train
    run = _set_up(cfg, Path(out_dir) / CHECKPOINT, device, progress)
    if resume and (run.path.exists() or previous_checkpoint(run.path).exists()):
        _restore(run, *_load_with_fallback(run.path, run.dev))
    loss_fn = TrainingLoss(run.model, tc.lam)
    if run.processes > 1:  # after restoring: DDP starts every process from rank 0's weights
        loss_fn = DistributedDataParallel(loss_fn, device_ids=[run.dev.index] if run.dev.type == "cuda" else None)
    end = tc.steps if stop_after is None else min(tc.steps, stop_after)
    run.batches = _prefetcher(run) if run.step < end else None
    held_out = HeldOut(cfg, run.sampler.stats, seed=tc.seed) if tc.eval_every and run.rank == 0 else None
    run.sync_every = sync_every or (LOG_EVERY if run.dev.type == "cuda" else 1)

    loss_fn.train()
    t0 = time.perf_counter()
    bar = tqdm(desc=f"train [{cfg.profile}]", disable=not show_progress(progress) or run.step >= end or run.rank > 0,
               initial=run.step, total=end)
    try:
        while run.step < end:
            sync, evaluate = _checks_after(run, end)
            _train_step(run, loss_fn, sync)
            if sync:
                _report(run, bar, held_out if evaluate else None)
            if run.step % tc.checkpoint_every == 0 or run.step == end:
                _save(run)
    finally:
        if run.batches:
            run.batches.close()
    bar.close()
    if not run.saved:  # a fresh run with no step to train still leaves a checkpoint
        _save(run)
    return TrainResult(run.model.eval(), run.sampler.stats, run.path, run.history, time.perf_counter() - t0)
