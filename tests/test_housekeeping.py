"""Threads follow the CPUs this process may use; a test run leaves no temporary cache behind."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch

from lewm_mini import config

ROOT = Path(__file__).resolve().parents[1]


def test_threads_follow_the_usable_cpus(monkeypatch):
    calls = []
    monkeypatch.setattr(config.torch, "set_num_threads", calls.append)
    monkeypatch.setattr(config.torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)  # e.g. taskset -c 3
    config.set_cpu_threads()
    assert calls == [1]
    monkeypatch.setenv("OMP_NUM_THREADS", "4")  # the user's setting wins
    config.set_cpu_threads()
    assert calls == [1] and torch.get_num_threads() >= 1


@pytest.mark.skipif("LEWM_CACHE_KEEP" in os.environ, reason="LEWM_CACHE_KEEP: the usual cache is used")
def test_cache_is_temporary():
    cache = Path(os.environ["LEWM_CACHE"])
    assert cache.name.startswith("lewm_test_cache_") and cache.parent == Path(tempfile.gettempdir())


@pytest.mark.slow  # runs a pytest session / notebooks in kernels
def test_a_test_run_removes_its_cache(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("LEWM_CACHE", "LEWM_CACHE_KEEP")}
    env["TMPDIR"] = str(tmp_path)  # where the child run makes its temporary cache
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "tests/test_housekeeping.py::test_cache_is_temporary"],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 0 and "1 passed" in r.stdout, r.stdout + r.stderr
    assert not list(tmp_path.glob("lewm_test_cache_*"))


def test_reference_answers_are_not_where_exercises_import_from():
    """An exercise imports checkers and helpers from lewm_mini.checks.chNN: reading that module must not show
    an answer, so every reference answer lives in lewm_mini.checks.answers and nothing else imports it."""
    import ast
    import re

    checks = sorted((ROOT / "lewm_mini" / "checks").glob("ch[0-9][0-9].py"))
    assert checks
    for path in checks:
        defined = [n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)]
        assert not [d for d in defined if "reference" in d], f"{path.name} defines a reference answer"
    learner_side = [*ROOT.glob("notebooks/*.py"), *ROOT.glob("solutions/*.py"), *ROOT.glob("exercises/*.py")]
    for path in learner_side:
        assert not re.search(r"checks\.answers|_reference\b|reference_", path.read_text()), (
            f"{path.name} imports a reference answer")


def test_stored_results_ship_with_the_package():
    """A chapter that reads a stored benchmark run finds it after a plain pip install (Colab): package data."""
    import fnmatch
    import tomllib

    from lewm_mini.config import RESULTS

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["lewm_mini"]
    files = [p.relative_to(RESULTS.parent).as_posix() for p in RESULTS.iterdir()]
    assert files and RESULTS.parent == ROOT / "lewm_mini"
    assert all(any(fnmatch.fnmatch(f, pat) for pat in patterns) for f in files), "a stored result is not package data"
    for chapter in (ROOT / "notebooks").glob("*.py"):
        assert '"benchmarks" / "results"' not in chapter.read_text(), f"{chapter.name} reads outside the package"
