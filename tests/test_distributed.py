"""Data parallelism on 2 CPU processes with gloo: SIGReg over ranks, DDP training, checkpoints, resume."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from lewm_mini.config import DataConfig, get_config
from lewm_mini.data import ClipSampler, collect
from lewm_mini.sigreg import SIGReg
from lewm_mini.train import Prefetcher, load_checkpoint, load_model, train

WORLD = 2


@pytest.fixture(scope="module")
def ranks(tmp_path_factory) -> tuple[Path, list[dict]]:
    """One group of WORLD fresh processes (gloo) runs every check below once; returns what each rank saved."""
    tmp = tmp_path_factory.mktemp("ddp")
    mp.start_processes(_rank_main, args=(tmp,), nprocs=WORLD, start_method="spawn")  # a failure raises here
    return tmp, [torch.load(tmp / f"rank{r}.pt") for r in range(WORLD)]


def _rank_main(rank: int, tmp: Path) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{tmp / 'group'}", rank=rank, world_size=WORLD)
    try:
        saved = _sigreg_over_ranks(rank) | _ddp_training(rank, tmp)
    finally:
        dist.destroy_process_group()
    torch.save(saved, tmp / f"rank{rank}.pt")


def _sigreg_over_ranks(rank: int) -> dict:
    torch.manual_seed(0)
    z = torch.randn(3, WORLD * 8, 16) * torch.linspace(0.2, 2.0, 16)  # (T, B, D): the whole batch, not Gaussian
    share = slice(rank * 8, (rank + 1) * 8)
    sigreg = SIGReg(num_proj=32)

    full = z.clone().requires_grad_()  # single process: eval mode never talks to other ranks
    expected = sigreg.eval()(full, generator=torch.Generator().manual_seed(1))
    expected.backward()

    mine = z[:, share].clone().requires_grad_()  # this rank's share, training mode: all-reduced
    value = sigreg.train()(mine, generator=torch.Generator().manual_seed(1))  # same seed on every rank
    value.backward()

    torch.manual_seed(100 + rank)  # no generator: rank 0's directions are broadcast
    broadcast = sigreg(z[:, share])
    torch.manual_seed(100)
    return {"value": value.detach(), "expected": expected.detach(), "grad": mine.grad,
            "expected_grad": full.grad[:, share], "broadcast": broadcast.detach(), "rank0_dirs": sigreg.eval()(z)}


def test_sigreg_over_ranks_equals_sigreg_of_the_whole_batch(ranks):
    for r in ranks[1]:
        torch.testing.assert_close(r["value"], r["expected"])  # the same value on every rank
        torch.testing.assert_close(r["grad"], WORLD * r["expected_grad"])  # the docstring's factor: W
        torch.testing.assert_close(r["broadcast"], r["rank0_dirs"])


def ddp_cfg():
    cfg = get_config("ci")
    cfg.train = dataclasses.replace(cfg.train, steps=6, checkpoint_every=3, eval_every=3)
    return cfg


def _ddp_training(rank: int, tmp: Path) -> dict:
    cfg = ddp_cfg()
    full = train(cfg, tmp / "full", progress=False)
    train(cfg, tmp / "part", progress=False, stop_after=3)  # interrupted after 3 steps
    resumed = train(cfg, tmp / "part", progress=False)
    weights = torch.cat([p.detach().flatten() for p in full.model.parameters()])
    return {"full": full.history, "resumed": resumed.history, "weights": weights}


def test_ddp_training_writes_one_checkpoint_and_resumes_exactly(ranks):
    tmp, saved = ranks
    for folder in ("full", "part"):
        names = sorted(p.name for p in (tmp / folder).iterdir())
        assert names == ["checkpoint.prev.pt", "checkpoint.pt"]  # rank 0 writes (the latest and the one before)
    ckpt = load_checkpoint(tmp / "full" / "checkpoint.pt")
    assert ckpt["step"] == 6 and len(ckpt["rank_rng"]) == WORLD
    model, _, cfg = load_model(tmp / "full" / "checkpoint.pt")
    assert cfg.to_dict() == ddp_cfg().to_dict()
    hist = saved[0]["full"]
    assert len(hist) == 6 and "probe_r" in hist[2] and "probe_r" in hist[5]  # held-out scores on rank 0
    assert saved[0]["resumed"] == hist  # resume is exact under DDP too
    terms = lambda h: [(e["loss"], e["pred"], e["sigreg"]) for e in h]  # noqa: E731
    assert terms(saved[1]["full"]) == terms(hist)  # logged terms are averaged over ranks
    torch.testing.assert_close(saved[1]["weights"], saved[0]["weights"], rtol=0, atol=0)  # replicas stay equal
    torch.testing.assert_close(torch.cat([p.flatten() for p in model.parameters()]), saved[0]["weights"])


def test_each_rank_trains_on_its_own_share_of_one_batch():
    eps = collect(DataConfig(episodes=6, steps=30), progress=False)
    whole = Prefetcher(ClipSampler(eps, 3, 5, seed=3), 8)
    shares = [Prefetcher(ClipSampler(eps, 3, 5, seed=3), 8, part=slice(4 * r, 4 * r + 4)) for r in range(WORLD)]
    try:
        for _ in range(2):
            frames, actions = whole.next()
            parts = [s.next() for s in shares]
            assert torch.equal(torch.cat([p[0] for p in parts]), frames)
            assert torch.equal(torch.cat([p[1] for p in parts]), actions)
            assert not torch.equal(parts[0][0], parts[1][0])
    finally:
        for p in (whole, *shares):
            p.close()


def test_torchrun_command_line(tmp_path):
    """What the README says: torchrun --nproc_per_node=N -m lewm_mini train ... (gloo on CPUs)."""
    env = os.environ | {"OMP_NUM_THREADS": "1", "LEWM_QUIET": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={WORLD}",
           "-m", "lewm_mini", "train", "--profile", "ci", "--steps", "3", "--out", str(tmp_path / "run")]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines() == [str(tmp_path / "run" / "checkpoint.pt")]  # rank 0 alone prints
    ckpt = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert ckpt["step"] == 3 and len(ckpt["rank_rng"]) == WORLD


def test_batch_must_split_over_processes(monkeypatch, tmp_path):
    import lewm_mini.distributed as distributed

    monkeypatch.setattr(distributed, "world_size", lambda: 3)
    with pytest.raises(ValueError, match="split evenly over 3"):
        train(get_config("ci"), tmp_path, progress=False)


def test_helpers_do_nothing_in_one_process():
    import lewm_mini.distributed as distributed

    assert distributed.world_size() == 1 and distributed.rank() == 0 and not distributed.active()
    x = torch.arange(3.0)
    assert torch.equal(distributed.mean_over_ranks(x), x) and distributed.gather(5) == [5]
    with distributed.main_first(), distributed.process_group():
        assert not dist.is_initialized()
