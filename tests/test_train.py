import dataclasses
import warnings

import pytest
import torch

from lewm_mini.config import get_config
from lewm_mini.train import load_checkpoint, load_model, train


def ci_cfg(**train_kw):
    cfg = get_config("ci")
    cfg.train = dataclasses.replace(cfg.train, **train_kw)
    return cfg


def test_train_writes_checkpoint_and_losses_fall(tmp_path):
    cfg = ci_cfg(steps=40)
    result = train(cfg, tmp_path, progress=False)
    assert result.checkpoint.exists() and len(result.history) == 40
    first = sum(h["loss"] for h in result.history[:5]) / 5
    last = sum(h["loss"] for h in result.history[-5:]) / 5
    assert last < first
    model, stats, cfg2 = load_model(result.checkpoint)
    assert not model.training and cfg2.to_dict() == cfg.to_dict()
    for k, v in result.model.state_dict().items():
        assert torch.equal(v, model.state_dict()[k])


def test_resume_ends_where_an_uninterrupted_run_ends(tmp_path):
    cfg = ci_cfg(steps=24, checkpoint_every=10)
    full = train(cfg, tmp_path / "full", progress=False)
    part = train(cfg, tmp_path / "part", progress=False, stop_after=10)  # "interrupted" after 10 steps
    assert load_checkpoint(part.checkpoint)["step"] == 10
    resumed = train(cfg, tmp_path / "part", progress=False)
    assert [h["loss"] for h in resumed.history] == pytest.approx([h["loss"] for h in full.history], rel=1e-5)
    for k, v in full.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[k], v, rtol=1e-5, atol=1e-6)


def test_resume_with_another_config_is_refused(tmp_path):
    train(ci_cfg(steps=5), tmp_path, progress=False)
    with pytest.raises(ValueError, match="another configuration"):
        train(ci_cfg(steps=5, lr=0.5), tmp_path, progress=False)


def test_nan_guard_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    from lewm_mini.jepa import LeWM

    cfg = ci_cfg(steps=20, checkpoint_every=5)
    real_loss, calls = LeWM.loss, {"n": 0}

    def poisoned(self, *args, **kw):  # the 8th step's loss becomes NaN
        out = real_loss(self, *args, **kw)
        calls["n"] += 1
        if calls["n"] == 8:
            out["loss"] = out["loss"] * float("nan")
        return out

    monkeypatch.setattr(LeWM, "loss", poisoned)
    with pytest.raises(FloatingPointError, match="last good checkpoint is .*checkpoint.pt"):
        train(cfg, tmp_path, progress=False)
    ckpt = load_checkpoint(tmp_path / "checkpoint.pt")
    assert ckpt["step"] == 5 and all(torch.isfinite(v).all() for v in ckpt["model"].values())
    monkeypatch.setattr(LeWM, "loss", real_loss)
    resumed = train(cfg, tmp_path, progress=False)  # nothing lost: the run resumes from step 5
    assert resumed.history[-1]["step"] == 20


def test_missing_and_corrupt_checkpoints(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_model(tmp_path / "nope.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="corrupt"):
        load_model(bad)
    torch.save({"hello": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="missing"):
        load_model(tmp_path / "other.pt")
    result = train(ci_cfg(steps=3), tmp_path / "ok", progress=False)
    data = result.checkpoint.read_bytes()
    trunc = tmp_path / "trunc.pt"
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupt"):
        load_model(trunc)


def test_gpu_profile_first_steps_run_on_cpu(tmp_path):
    cfg = get_config("gpu")
    cfg.data = dataclasses.replace(cfg.data, episodes=8, steps=25)
    cfg.train = dataclasses.replace(cfg.train, steps=2, batch=4)
    result = train(cfg, tmp_path, device="cpu", progress=False)
    assert len(result.history) == 2 and all(torch.isfinite(torch.tensor(h["loss"])) for h in result.history)


def test_profiles():
    from lewm_mini.config import auto_profile

    assert {get_config(p).profile for p in ("ci", "cpu", "gpu")} == {"ci", "cpu", "gpu"}
    with pytest.raises(ValueError, match="profile"):
        get_config("huge")
    import os

    old = os.environ.get("LEWM_PROFILE")
    os.environ["LEWM_PROFILE"] = "ci"
    try:
        assert auto_profile() == "ci" and get_config().profile == "ci"
    finally:
        os.environ.pop("LEWM_PROFILE") if old is None else os.environ.__setitem__("LEWM_PROFILE", old)


def test_deferred_host_syncs_keep_the_history_and_the_nan_guard(tmp_path, monkeypatch):
    """On a GPU the loss is checked every LOG_EVERY steps; the same code path, forced on the CPU."""
    from lewm_mini.jepa import LeWM

    cfg = ci_cfg(steps=12, checkpoint_every=5, eval_every=0)
    every = train(cfg, tmp_path / "every", progress=False)
    deferred = train(cfg, tmp_path / "deferred", progress=False, sync_every=4)
    assert deferred.history == every.history
    ckpt = load_checkpoint(deferred.checkpoint)
    assert {"grad_scaler", "torch_rng", "sigreg_rng", "sampler_rng"} <= set(ckpt)

    real_loss, calls = LeWM.loss, {"n": 0}

    def poisoned(self, *args, **kw):  # the 7th step (index 6) is NaN; it is found at the check of step 8
        out = real_loss(self, *args, **kw)
        calls["n"] += 1
        if calls["n"] == 7:
            out["loss"] = out["loss"] * float("nan")
        return out

    monkeypatch.setattr(LeWM, "loss", poisoned)
    with pytest.raises(FloatingPointError, match="not finite at step 6 .*found at step 7.*checkpoint.pt"):
        train(cfg, tmp_path / "nan", progress=False, sync_every=4)
    assert load_checkpoint(tmp_path / "nan" / "checkpoint.pt")["step"] == 5  # written after a good check


def test_prefetcher_draws_the_same_clips_and_checkpoints_the_right_state():
    from lewm_mini.config import DataConfig
    from lewm_mini.data import ClipSampler, collect
    from lewm_mini.train import Prefetcher, frames_to_device

    eps = collect(DataConfig(episodes=6, steps=30), progress=False)
    plain, ahead = (ClipSampler(eps, 3, 5, seed=1) for _ in range(2))
    batches = Prefetcher(ahead, 4, workers=2)
    try:
        for _ in range(4):
            state = plain.state()
            frames, actions = plain.sample(4)
            assert batches.state() == state  # what a checkpoint taken now must store
            u8, a = batches.next()
            assert u8.dtype == torch.uint8 and torch.equal(frames_to_device(u8, torch.device("cpu")), frames)
            assert torch.equal(a, actions)
    finally:
        batches.close()


def test_mixed_precision_choice_on_cpu():
    from lewm_mini.train import amp_dtype

    assert amp_dtype(torch.device("cpu")) is None


@pytest.mark.parametrize("major, want", [(7, torch.float16), (8, torch.bfloat16)])
def test_mixed_precision_choice_on_torch_without_the_emulation_flag(monkeypatch, major, want):
    """torch < 2.4: is_bf16_supported() has no including_emulation and says True on a T4 (emulated)."""
    from lewm_mini.train import amp_dtype

    def old_is_bf16_supported():
        return True

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", old_is_bf16_supported)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (major, 5))
    assert amp_dtype(torch.device("cuda")) == want


def test_grad_scaler_on_torch_before_torch_amp_gradscaler(monkeypatch):
    from lewm_mini.train import grad_scaler

    assert not grad_scaler(torch.device("cpu"), enabled=False).is_enabled()
    monkeypatch.delattr(torch.amp, "GradScaler")  # torch < 2.3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # newer torch deprecates the old class
        scaler = grad_scaler(torch.device("cpu"), enabled=False)
    assert not scaler.is_enabled() and scaler.state_dict() == {}


def test_sigreg_stays_float32_under_mixed_precision():
    from lewm_mini.sigreg import SIGReg

    z = torch.randn(4, 64, 16)
    exact = SIGReg(num_proj=32)(z, generator=torch.Generator().manual_seed(0))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = SIGReg(num_proj=32)(z.bfloat16(), generator=torch.Generator().manual_seed(0))
    assert mixed.dtype == torch.float32
    torch.testing.assert_close(mixed, exact, rtol=0.05, atol=0.05)  # only the bf16 rounding of z differs


def test_weight_decay_on_weight_matrices_only():
    from lewm_mini.jepa import LeWM
    from lewm_mini.train import param_groups

    cfg = get_config("gpu")
    model = LeWM(cfg.model, num_proj=8)
    decay, rest = param_groups(model, 1e-3)
    assert decay["weight_decay"] == 1e-3 and rest["weight_decay"] == 0.0
    names = {id(p): n for n, p in model.named_parameters()}
    decayed = {names[id(p)] for p in decay["params"]}
    assert "encoder.patchify.weight" in decayed and "predictor.blocks.0.attn.qkv.weight" in decayed
    assert not any(n.endswith(".bias") or "norm" in n or n.endswith((".pos", ".cls")) for n in decayed)
    assert "projector.net.1.weight" not in decayed  # BatchNorm's scale
    assert len(decay["params"]) + len(rest["params"]) == len(list(model.parameters()))


def test_runs_begun_with_one_parameter_group_resume_as_they_began(tmp_path, monkeypatch):
    """Checkpoints written before weight decay spared biases and norms hold one AdamW group."""
    import lewm_mini.train as train_module

    cfg = ci_cfg(steps=8, checkpoint_every=4, eval_every=0)
    monkeypatch.setattr(train_module, "param_groups", lambda model, wd: list(model.parameters()))
    old_full = train(cfg, tmp_path / "full", progress=False)
    train(cfg, tmp_path / "part", progress=False, stop_after=4)
    monkeypatch.undo()
    resumed = train(cfg, tmp_path / "part", progress=False)
    assert resumed.history == old_full.history
    assert len(load_checkpoint(resumed.checkpoint)["optimizer"]["param_groups"]) == 1
    assert len(load_checkpoint(train(cfg, tmp_path / "new", progress=False).checkpoint)["optimizer"]["param_groups"]) == 2


def test_a_corrupt_latest_checkpoint_falls_back_to_the_previous_one(tmp_path):
    """A VM that dies while Drive still uploads the latest file: the run resumes from the one before."""
    from lewm_mini.train import previous_checkpoint

    cfg = ci_cfg(steps=12, checkpoint_every=4, eval_every=0)
    full = train(cfg, tmp_path / "full", progress=False)
    part = train(cfg, tmp_path / "part", progress=False, stop_after=8)  # checkpoints at steps 4 and 8
    latest, prev = part.checkpoint, previous_checkpoint(part.checkpoint)
    assert prev.name == "checkpoint.prev.pt" and load_checkpoint(prev)["step"] == 4
    assert not latest.with_suffix(".tmp").exists()
    data = latest.read_bytes()
    latest.write_bytes(data[: len(data) // 2])  # the half-uploaded latest
    with pytest.warns(UserWarning, match=r"corrupt.*previous checkpoint .*checkpoint.prev.pt \(step 4\)"):
        assert load_checkpoint(latest)["step"] == 4
    with pytest.warns(UserWarning, match="previous checkpoint"):
        train(cfg, tmp_path / "part", progress=False, stop_after=8)  # steps 5 to 8 again
    assert load_checkpoint(latest)["step"] == 8 and load_checkpoint(prev)["step"] == 4  # the fallback stayed
    resumed = train(cfg, tmp_path / "part", progress=False)
    assert resumed.history == full.history
    for k, v in full.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[k], v)
    assert load_checkpoint(latest)["step"] == 12 and load_checkpoint(prev)["step"] == 8  # both good again


def test_fallback_when_the_latest_is_missing_and_errors_when_both_are_bad(tmp_path):
    from lewm_mini.train import previous_checkpoint

    cfg = ci_cfg(steps=8, checkpoint_every=4, eval_every=0)
    latest = train(cfg, tmp_path, progress=False).checkpoint
    prev = previous_checkpoint(latest)
    latest.unlink()  # a crash between the two renames of a save
    with pytest.warns(UserWarning, match="no checkpoint at"):
        assert load_checkpoint(latest)["step"] == 4
    latest.write_bytes(b"not a checkpoint")
    prev.write_bytes(b"not one either")
    with pytest.raises(ValueError, match=r"checkpoint .*checkpoint.pt is corrupt"):  # names the latest
        load_checkpoint(latest)


def test_a_fresh_run_keeps_no_fallback_from_an_earlier_run(tmp_path):
    from lewm_mini.train import previous_checkpoint

    cfg = ci_cfg(steps=8, checkpoint_every=4, eval_every=0)
    train(cfg, tmp_path, progress=False)
    assert previous_checkpoint(tmp_path / "checkpoint.pt").exists()
    fresh = train(cfg, tmp_path, progress=False, resume=False, stop_after=4)  # one save
    assert not previous_checkpoint(fresh.checkpoint).exists() and load_checkpoint(fresh.checkpoint)["step"] == 4
