import json
import subprocess
import sys

import pytest


def run(*args, **kw):
    return subprocess.run([sys.executable, "-m", "lewm_mini", *args], capture_output=True, text=True, **kw)


def test_train_then_evaluate_json(tmp_path):
    r = run("train", "--profile", "ci", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    ckpt = r.stdout.strip().splitlines()[-1]
    assert ckpt.endswith("checkpoint.pt")
    r = run("evaluate", "--checkpoint", ckpt, "--episodes", "3", "--seed", "1", "--protocol", "cross-room", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["episodes"] == 3 and out["protocol"] == "cross-room"
    assert {"success_rate", "random_success_rate", "plan_seconds_median"} <= set(out)
    assert out["profile"] == "ci" and "expected to equal the random policy" in out["note"]
    for planner in ("cem", "graph", "distance"):
        r = run("evaluate", "--checkpoint", ckpt, "--episodes", "2", "--protocol", "paper", "--planner", planner, "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["planner"] == planner
    rollouts = {}
    for solver in ("plain", "icem"):  # the same tasks with each CEM; the JSON says what each one cost
        r = run("evaluate", "--checkpoint", ckpt, "--episodes", "2", "--protocol", "paper", "--planner", "cem",
                "--cem", solver, "--json")
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        lo, hi = out["success_ci95"]
        assert 0 <= lo <= out["success_rate"] <= hi <= 1
        assert out["cem"]["warm_start"] == (solver == "icem")
        rollouts[solver] = out["evaluations_per_episode"]
    assert rollouts["plain"] == 2 * (32 * 3 + 1)  # two 25-step plans of 32 samples x 3 iterations (+ the mean)
    r = run("evaluate", "--checkpoint", ckpt, "--planner", "astar")
    assert r.returncode == 2 and "--planner" in r.stderr
    r = run("evaluate", "--checkpoint", ckpt, "--cem", "mppi")
    assert r.returncode == 2 and "--cem" in r.stderr


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    r = run("evaluate", "--checkpoint", str(tmp_path / "none.pt"), "--json")
    assert r.returncode == 2 and "no checkpoint" in r.stderr and "Traceback" not in r.stderr


def test_run_main_job_ci(tmp_path):
    r = run("run", "--profile", "ci", "--out", str(tmp_path), "--episodes", "3")
    assert r.returncode == 0, r.stderr
    assert "| paper |" in r.stdout and "| cross-room |" in r.stdout and "| distance |" in r.stdout
    assert "expected to equal the random policy" in r.stdout
    assert (tmp_path / "plan_paper.png").stat().st_size > 1000
    assert len(json.loads((tmp_path / "results.json").read_text())) == 2


def test_main_job_shares_the_cached_model_with_the_chapters(tmp_path):
    """Without --out the model goes to the cache's run folder (where cached_run looks), the report to runs/<profile>;
    a second run from another folder finds the finished model instead of training again."""
    from lewm_mini import cache
    from lewm_mini.config import get_config

    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    r = run("run", "--profile", "ci", "--episodes", "2", cwd=first)
    assert r.returncode == 0, r.stderr
    checkpoint = cache.run_dir(get_config("ci")) / "checkpoint.pt"
    assert checkpoint.exists() and f"checkpoint: {checkpoint}" in r.stdout
    assert len(json.loads((first / "runs" / "ci" / "results.json").read_text())) == 2
    before = checkpoint.stat().st_mtime_ns
    r = run("run", "--profile", "ci", "--episodes", "2", cwd=second)
    assert r.returncode == 0, r.stderr
    assert checkpoint.stat().st_mtime_ns == before  # loaded, not trained again
    assert (second / "runs" / "ci" / "plan_paper.png").exists()


# ----------------------------------------------------------------------------- argument checks, in process


@pytest.fixture
def cli(monkeypatch):
    """The CLI module with its heavy steps replaced by failures: a bad argument must stop before them."""
    import lewm_mini.__main__ as cli

    def forbidden(*args, **kwargs):
        raise AssertionError("work started before the arguments were checked")

    for name in ("train", "evaluate", "load_model"):
        monkeypatch.setattr(cli, name, forbidden)
    monkeypatch.setattr(cli.torch.cuda, "is_available", lambda: False)
    return cli


def rejected(cli, capsys, *argv) -> str:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(list(argv))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("argv, name", [
    (["run", "--episodes", "0"], "--episodes"),
    (["run", "--episodes", "-3"], "--episodes"),
    (["run", "--episodes", "many"], "--episodes"),
    (["run", "--seed", "-1"], "--seed"),
    (["run", "--device", "gpu0"], "--device"),
    (["train", "--out", "OUT", "--steps", "0"], "--steps"),
    (["train", "--out", "OUT", "--device", "cuda:x"], "--device"),
    (["evaluate", "--checkpoint", "CKPT", "--episodes", "0"], "--episodes"),
    (["evaluate", "--checkpoint", "CKPT", "--seed", "-2"], "--seed"),
    (["evaluate", "--checkpoint", "CKPT", "--horizon", "0"], "--horizon"),
    (["evaluate", "--checkpoint", "CKPT", "--samples", "0"], "--samples"),
    (["evaluate", "--checkpoint", "CKPT", "--iterations", "-1"], "--iterations"),
])
def test_bad_arguments_are_named_before_any_work(cli, capsys, tmp_path, argv, name):
    ckpt = tmp_path / "checkpoint.pt"
    ckpt.touch()
    argv = [{"OUT": str(tmp_path / "out"), "CKPT": str(ckpt)}.get(a, a) for a in argv]
    assert f"argument {name}:" in rejected(cli, capsys, *argv)


def test_cuda_without_a_gpu_says_so(cli, capsys, tmp_path):
    ckpt = tmp_path / "checkpoint.pt"
    ckpt.touch()
    for argv in (["evaluate", "--checkpoint", str(ckpt)], ["train", "--out", str(tmp_path)], ["run"]):
        err = rejected(cli, capsys, *argv, "--device", "cuda")
        assert "CUDA is not available on this machine" in err and "corrupt" not in err


def test_missing_checkpoint_named_up_front(cli, capsys, tmp_path):
    err = rejected(cli, capsys, "evaluate", "--checkpoint", str(tmp_path / "none.pt"), "--horizon", "3")
    assert "argument --checkpoint: no checkpoint at" in err


def test_unwritable_out_fails_before_training(cli, capsys, tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    for cmd in ("train", "run"):
        assert "argument --out: cannot write to" in rejected(cli, capsys, cmd, "--out", str(blocker / "sub"))
    monkeypatch.chdir(tmp_path)  # run's default --out is runs/<profile>: here, under a file
    (tmp_path / "runs").write_text("not a folder")
    assert cli.main(["run", "--profile", "ci"]) == 2
    assert "argument --out: cannot write to" in capsys.readouterr().err


def test_fewer_samples_than_elites_is_named(cli, capsys, tmp_path, monkeypatch):
    from lewm_mini.config import get_config

    ckpt = tmp_path / "checkpoint.pt"
    ckpt.touch()
    monkeypatch.setattr(cli, "load_model", lambda path, device: (None, None, get_config("ci")))
    assert cli.main(["evaluate", "--checkpoint", str(ckpt), "--samples", "2"]) == 2
    assert "argument --samples: must be at least the 4 elites" in capsys.readouterr().err


@pytest.mark.parametrize("cmd", ["train", "run"])
def test_ctrl_c_says_where_the_checkpoint_is_and_how_to_resume(cli, capsys, tmp_path, monkeypatch, cmd):
    def interrupt(*args, **kwargs):
        (tmp_path / "checkpoint.pt").touch()  # as if a checkpoint was written before the interruption
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "train", interrupt)
    argv = [cmd, "--profile", "ci", "--out", str(tmp_path)] + (["--fresh"] if cmd == "train" else [])
    assert cli.main(argv) == 130
    err = capsys.readouterr().err
    assert f"the last checkpoint is {tmp_path / 'checkpoint.pt'}" in err
    assert f"Resume with:\n  python -m lewm_mini {cmd} --profile ci --out {tmp_path}\n" in err
    assert "Traceback" not in err and "--fresh" not in err


def test_set_overrides_any_config_field_and_names_a_bad_one(cli, capsys, tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr(cli, "train", lambda cfg, out, **kw: seen.setdefault("cfg", cfg) and (_ for _ in ()).throw(
        KeyboardInterrupt))
    cli.main(["train", "--profile", "ci", "--out", str(tmp_path), "--set", "train.steps=7", "--set", "plan.sum_cost=true",
              "--set", "model.channels=4,8,8,8"])
    cfg = seen["cfg"]
    assert (cfg.train.steps, cfg.plan.sum_cost, cfg.model.channels) == (7, True, (4, 8, 8, 8))
    capsys.readouterr()
    for bad, words in ((["train.stepz=3"], "train has no field 'stepz'"), (["train.steps=many"], "is not a int"),
                       (["model.image_size=32"], "must agree"), (["steps=3"], "section.field=value")):
        assert cli.main(["train", "--profile", "ci", "--out", str(tmp_path), "--set", *bad]) == 2
        assert words in capsys.readouterr().err
    ckpt = tmp_path / "checkpoint.pt"
    ckpt.touch()
    assert cli.main(["evaluate", "--checkpoint", str(ckpt), "--set", "train.steps=3"]) == 2  # before loading anything
    assert "plan.* settings only" in capsys.readouterr().err
