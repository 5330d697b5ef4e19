"""Notebook hygiene: pairing, freshness, no stored outputs, title-cell anatomy."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lewm_mini.notebook import REPO_URL

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("notebooks", "exercises", "solutions")
PY = sorted(p for f in FOLDERS for p in (ROOT / f).glob("[0-9][0-9]_*.py"))
IPYNB = sorted(p for f in FOLDERS for p in (ROOT / f).glob("[0-9][0-9]_*.ipynb"))


def test_there_are_notebooks():
    assert PY, "no notebooks found"


def test_every_py_has_its_ipynb_and_back():
    assert {p.with_suffix("") for p in PY} == {p.with_suffix("") for p in IPYNB}


def test_generated_files_are_fresh():
    """Each .ipynb matches its .py twin, and exercises/ matches solutions/."""
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("path", IPYNB, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_stored_outputs(path: Path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name} stores outputs"


@pytest.mark.parametrize("path", IPYNB, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_title_cell_anatomy(path: Path):
    nb = json.loads(path.read_text())
    title = "".join(nb["cells"][0]["source"])
    assert nb["cells"][0]["cell_type"] == "markdown" and title.startswith("# "), "first cell must be the title"
    badge = f"colab.research.google.com/github/{REPO_URL.split('github.com/')[1]}/blob/main/{path.parent.name}/{path.name}"
    assert badge in title, f"Colab badge missing or pointing elsewhere (want {badge})"
    for word in ("Prerequisites", "Time"):
        assert word in title, f"title cell must state {word}"
    assert re.search(r"\bCPU\b", title), "title must give the measured CPU time"


@pytest.mark.parametrize("path", IPYNB, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_one_setup_cell(path: Path):
    nb = json.loads(path.read_text())
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert "setup(" in code[0] and "google.colab" in code[0], "the first code cell is the setup cell"
    assert sum("google.colab" in c for c in code) == 1, "exactly one setup cell installs in Colab"
    installs = [line for line in code[0].splitlines() if "pip" in line]
    assert not any("torch" in line for line in installs), "the Colab install must leave torch alone"


def test_exercises_and_solutions_pair_up():
    sols = {p.name.replace("_solutions.py", "") for p in (ROOT / "solutions").glob("*_solutions.py")}
    exs = {p.name.replace("_exercises.py", "") for p in (ROOT / "exercises").glob("*_exercises.py")}
    nbs = {p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py")}
    assert sols == exs
    assert sols <= nbs, "every exercise set belongs to a chapter of the same stem"


def test_stubs_replace_every_solution():
    for ex in (ROOT / "exercises").glob("*_exercises.py"):
        text = ex.read_text()
        assert "### BEGIN SOLUTION" not in text and "NotImplementedError" in text, ex.name
