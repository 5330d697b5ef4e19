import json
import subprocess
import sys


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


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    r = run("evaluate", "--checkpoint", str(tmp_path / "none.pt"), "--json")
    assert r.returncode == 2 and "no checkpoint" in r.stderr and "Traceback" not in r.stderr


def test_run_main_job_ci(tmp_path):
    r = run("run", "--profile", "ci", "--out", str(tmp_path), "--episodes", "3")
    assert r.returncode == 0, r.stderr
    assert "| paper |" in r.stdout and "| cross-room |" in r.stdout
    assert (tmp_path / "plan_paper.png").stat().st_size > 1000
    assert len(json.loads((tmp_path / "results.json").read_text())) == 2
