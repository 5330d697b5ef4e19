"""Several GPUs (or CPU processes) with PyTorch's own engine, DistributedDataParallel (DDP).

    torchrun --nproc_per_node=N -m lewm_mini train --profile gpu --out DIR

torchrun starts N copies of the command and tells each its rank in environment variables
(RANK, WORLD_SIZE, LOCAL_RANK). ``process_group()`` joins them: NCCL on GPUs (one GPU per
process), gloo on CPUs. Then ``lewm_mini.train`` does the rest:

- one batch of ``train.batch`` clips is drawn from one shared random stream and split, so each rank
  trains on different clips and N ranks see exactly the clips one process would;
- DDP averages the gradients; SIGReg averages its empirical characteristic function over all ranks
  (``lewm_mini.sigreg``), so it regularises the whole batch, as on one GPU;
- BatchNorm becomes SyncBatchNorm on GPUs (batch statistics over all ranks). PyTorch's SyncBatchNorm
  runs only on GPUs: on CPU processes (gloo) each rank normalises with its own share of the batch,
  and DDP copies rank 0's running statistics to the others at every step;
- rank 0 writes the checkpoints (with every rank's random state), and every rank resumes from them.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import torch
import torch.distributed as dist

from .config import usable_cpus


def active() -> bool:
    """True inside a process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


@contextmanager
def process_group():
    """Join the processes torchrun started (NCCL with CUDA, else gloo); a no-op in a single process."""
    if not launched_by_torchrun() or dist.is_initialized():
        yield
        return
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl")
    else:
        dist.init_process_group("gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()


@contextmanager
def main_first():
    """Rank 0 runs the block first (e.g. collects and caches data), then the others (which load it)."""
    if active() and rank() != 0:
        dist.barrier()
    yield
    if active() and rank() == 0:
        dist.barrier()


def share_cpu_cores() -> None:
    """CPU processes on one machine split its cores (unless OMP_NUM_THREADS says otherwise)."""
    if active() and "OMP_NUM_THREADS" not in os.environ:
        local = int(os.environ.get("LOCAL_WORLD_SIZE", world_size()))
        torch.set_num_threads(max(1, usable_cpus() // local))


def mean_over_ranks(x: torch.Tensor) -> torch.Tensor:
    """The average of ``x`` over all ranks (not differentiable; for logging)."""
    if active():
        x = x.clone()
        dist.all_reduce(x)
        x /= world_size()
    return x


def gather(obj) -> list:
    """Every rank's ``obj``, in rank order, on every rank."""
    if not active():
        return [obj]
    out = [None] * world_size()
    dist.all_gather_object(out, obj)
    return out
