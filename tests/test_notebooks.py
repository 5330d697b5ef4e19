"""Notebook hygiene: pairing, freshness, stored outputs, title-cell anatomy, the setup cell, jupytext.

The chapters in notebooks/ must store the outputs of a cpu-profile run of their current code
(tools/execute_notebooks.py); LEWM_ALLOW_STALE_OUTPUTS=1 skips those checks while chapters are being
written. A file a learner changed locally (answers, a notebook run and saved) is judged by its version
in git HEAD, so local work never fails these tests; a clean checkout (CI) is checked exactly.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import jupytext
import pytest

from lewm_mini.authoring import exercises
from lewm_mini.authoring.record import COMPUTE, RECORD, code_sha256, compute_text, title_compute
from lewm_mini.notebook import REPO_URL, SETUP_CELL

ROOT = Path(__file__).resolve().parents[1]

FOLDERS = ("notebooks", "exercises", "solutions")
PY = sorted(p for f in FOLDERS for p in (ROOT / f).glob("[0-9][0-9]_*.py"))
IPYNB = sorted(p for f in FOLDERS for p in (ROOT / f).glob("[0-9][0-9]_*.ipynb"))
CHAPTERS = [p for p in IPYNB if p.parent.name == "notebooks"]
# Chapters whose cpu-profile run has not been stored yet (the session that wrote them ran out of CPU
# time). Each may have no outputs (the test says so and skips); outputs it does store must be current.
# Remove a chapter from this set once `python tools/execute_notebooks.py --only NN` has stored its run.
AWAITING_OUTPUTS: set[str] = set()  # chapters whose cpu-profile outputs are not stored yet
ALLOW_STALE = os.environ.get("LEWM_ALLOW_STALE_OUTPUTS", "") not in ("", "0")
stale_ok = pytest.mark.skipif(ALLOW_STALE, reason="LEWM_ALLOW_STALE_OUTPUTS=1: chapter outputs not checked")
ids = lambda p: f"{p.parent.name}/{p.name}"  # noqa: E731


def versions(path: Path) -> list[str]:
    """The working copy, then the committed one where a learner's local changes make them differ: a test that
    judges a file passes when either passes, and one that reads a file reads ``versions(path)[-1]``."""
    current, head = path.read_text(), exercises.git_head(path)
    return [current] if head is None or head == current else [current, head]


def test_there_are_notebooks():
    assert PY, "no notebooks found"


def test_every_py_has_its_ipynb_and_back():
    assert {p.with_suffix("") for p in PY} == {p.with_suffix("") for p in IPYNB}


def test_generated_files_are_fresh():
    """Each .ipynb matches its .py twin, and exercises/ matches solutions/."""
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def _no_outputs(text: str) -> bool:
    return all(c["outputs"] == [] and c["execution_count"] is None
               for c in json.loads(text)["cells"] if c["cell_type"] == "code")


@pytest.mark.parametrize("path", [p for p in IPYNB if p.parent.name != "notebooks"], ids=ids)
def test_exercises_and_solutions_store_no_outputs(path: Path):
    assert any(_no_outputs(v) for v in versions(path)), f"{path.name} stores outputs"


def chapter_output_problem(text: str, py_text: str) -> str | None:
    """Why a chapter's stored outputs are not those of a cpu-profile run of its current code, or None."""
    nb = json.loads(text)
    record = nb["metadata"].get(RECORD, {})
    if "outputs" not in record:
        return "no stored outputs"
    if record["code_sha256"] != code_sha256(py_text):
        return "its stored outputs were made from other code"
    if record["outputs"]["profile"] == "ci":
        return "its stored outputs come from the ci profile, which only proves the code runs"
    if not any(c["outputs"] for c in nb["cells"] if c["cell_type"] == "code"):
        return "no cell has an output"
    return None


@stale_ok
@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_chapters_store_outputs_of_their_current_code(path: Path):
    py_text = path.with_suffix(".py").read_text()
    problems = [chapter_output_problem(v, py_text) for v in versions(path)]
    if path.stem in AWAITING_OUTPUTS and problems[0] == "no stored outputs":
        pytest.skip(f"{path.name}: cpu-profile outputs not stored yet (AWAITING_OUTPUTS)")
    assert None in problems, (f"{path.name}: {problems[0]}; run python tools/execute_notebooks.py --only "
                              f"{path.name[:2]} (LEWM_ALLOW_STALE_OUTPUTS=1 skips this check)")


@stale_ok
@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_title_compute_times_come_from_the_record(path: Path):
    nb = json.loads(versions(path)[-1])
    title = "".join(nb["cells"][0]["source"])
    want = compute_text(nb["metadata"].get(RECORD))
    assert title_compute(title) == want, (
        f"the title's {COMPUTE} paragraph must be the one tools/execute_notebooks.py wrote: {want}")


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_chapters_stay_small(path: Path):
    size = len(versions(path)[-1].encode()) / 1e6
    assert size < 3, f"{path.name} is {size:.1f} MB: smaller or fewer figures (lower dpi)"


@pytest.mark.parametrize("path", IPYNB, ids=ids)
def test_title_cell_anatomy(path: Path):
    nb = json.loads(versions(path)[-1])
    title = "".join(nb["cells"][0]["source"])
    assert nb["cells"][0]["cell_type"] == "markdown" and title.startswith("# "), "first cell must be the title"
    badge = f"colab.research.google.com/github/{REPO_URL.split('github.com/')[1]}/blob/main/{path.parent.name}/{path.name}"
    assert badge in title, f"Colab badge missing or pointing elsewhere (want {badge})"
    for word in ("Prerequisites", "Time"):
        assert word in title, f"title cell must state {word}"
    assert re.search(r"\bCPU\b", title), "title must give the measured CPU time"


@pytest.mark.parametrize("path", IPYNB, ids=ids)
def test_one_setup_cell(path: Path):
    nb = json.loads(versions(path)[-1])
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert code[0] == SETUP_CELL, ("the first code cell must be lewm_mini.notebook.SETUP_CELL: run "
                                   "python tools/make_exercises.py --fix-sources")
    assert sum("google.colab" in c for c in code) == 1, "exactly one setup cell installs in Colab"
    installs = [line for line in code[0].splitlines() if "pip" in line]
    assert not any("torch" in line for line in installs), "the Colab install must leave torch alone"


def test_setup_cell_in_colab_installs_or_says_what_to_do(monkeypatch):
    calls = []

    def pip(args, **kwargs):
        calls.append(args)
        return subprocess.CompletedProcess(args, 1, "", "ERROR: Repository not found.")

    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(subprocess, "run", pip)
    with pytest.raises(SystemExit) as err:
        exec(SETUP_CELL, {})
    message = str(err.value)
    assert calls and f"git+{REPO_URL}" in calls[0] and not any("torch" in a for a in calls[0])
    assert "Repository not found" in message and "REPO_URL" in message and "pip install" in message
    assert "Traceback" not in message
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: subprocess.CompletedProcess(args, 0, "", ""))
    ns: dict = {}
    exec(SETUP_CELL, ns)
    assert ns["cfg"].profile == "ci"


def twin_problem(text: str) -> str | None:
    """Why a .py twin would not open with the python3 kernel or would be rewritten by jupytext, or None."""
    nb = jupytext.reads(text, fmt="py:percent")
    if nb.metadata.get("kernelspec") != exercises.KERNELSPEC:
        return "the .py header needs the python3 kernelspec: run python tools/make_exercises.py --fix-sources"
    if jupytext.writes(nb, fmt="py:percent") != text:
        return "jupytext would rewrite this .py: run --fix-sources"
    return None


@pytest.mark.parametrize("path", PY, ids=ids)
def test_py_twin_has_a_kernelspec_and_round_trips(path: Path):
    """With jupytext installed the .py decides the notebook's metadata: no kernelspec means "Select Kernel"."""
    problems = [twin_problem(v) for v in versions(path)]
    assert None in problems, problems[0]


def opened_and_saved(path: Path, tmp_path: Path, text: str | None = None) -> list[str]:
    """What JupyterLab with jupytext and an ipykernel kernel does when a learner opens ``path`` (or, given,
    the notebook ``text`` with its committed .py twin) and saves at once: which twins that changed."""
    pytest.importorskip("jupyter_server")
    from jupytext import TextFileContentsManager

    tmp_path.mkdir(parents=True, exist_ok=True)
    for twin in (path, path.with_suffix(".py")):
        shutil.copy(twin, tmp_path / twin.name)
    if text is not None:
        (tmp_path / path.name).write_text(text)
        (tmp_path / path.with_suffix(".py").name).write_text(
            exercises.git_head(path.with_suffix(".py")) or path.with_suffix(".py").read_text())
    before = {t: (tmp_path / t.name).read_text() for t in (path, path.with_suffix(".py"))}
    manager = TextFileContentsManager(root_dir=str(tmp_path))
    model = manager.get(path.name)
    assert model["content"]["metadata"]["kernelspec"]["name"] == "python3", "it would ask to select a kernel"
    # The kernel starts and the frontend writes its spec and language into the notebook's metadata.
    model["content"]["metadata"]["kernelspec"] = dict(exercises.KERNELSPEC)
    model["content"]["metadata"]["language_info"] = dict(exercises.LANGUAGE_INFO)
    manager.save(model, path.name)
    return [t.name for t, old in before.items() if (tmp_path / t.name).read_text() != old]


@pytest.mark.parametrize("path", IPYNB, ids=ids)
def test_jupyterlab_open_and_save_changes_nothing(path: Path, tmp_path: Path):
    """Opening a notebook must not mark it modified, so a notebook only opened never counts as a learner's work."""
    changed = opened_and_saved(path, tmp_path / "working")
    head = exercises.git_head(path)
    if changed and head is not None and head != path.read_text():  # a learner's file: judge the committed one
        changed = opened_and_saved(path, tmp_path / "committed", head)
    assert not changed, f"opening and saving in JupyterLab changed {changed}"


def test_a_learner_who_answers_and_saves_in_jupyterlab_keeps_the_tests_green(tmp_path: Path):
    """Answer an exercise in JupyterLab on another Python (language_info differs) and save: every hygiene test
    still passes, because each judges a learner's changed file by its committed version."""
    pytest.importorskip("jupyter_server")
    from jupytext import TextFileContentsManager

    stem = "04_collapse_and_sigreg_exercises"
    repo = tmp_path / "repo"
    (repo / "exercises").mkdir(parents=True)
    for suffix in (".py", ".ipynb"):
        shutil.copy(ROOT / "exercises" / (stem + suffix), repo / "exercises" / (stem + suffix))
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "course")
    manager = TextFileContentsManager(root_dir=str(repo / "exercises"))
    model = manager.get(stem + ".ipynb")
    model["content"]["metadata"]["kernelspec"] = {"display_name": "Python 3.12 (venv)", "language": "python",
                                                  "name": "python3"}
    model["content"]["metadata"]["language_info"] = dict(exercises.LANGUAGE_INFO, version="3.12.4")
    stub = next(c for c in model["content"]["cells"] if "NotImplementedError" in c["source"])
    stub["source"] = stub["source"].replace("raise NotImplementedError", "return 0  # my answer\n    raise")
    model["content"]["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "my notes"})
    manager.save(model, stem + ".ipynb")
    py, ipynb = repo / "exercises" / f"{stem}.py", repo / "exercises" / f"{stem}.ipynb"
    assert "my answer" in py.read_text() and "my notes" in ipynb.read_text()
    assert exercises.git_head(py) != py.read_text(), "the learner's save must reach the .py twin"
    test_py_twin_has_a_kernelspec_and_round_trips(py)
    test_exercises_and_solutions_store_no_outputs(ipynb)
    test_title_cell_anatomy(ipynb)
    test_one_setup_cell(ipynb)
    test_jupyterlab_open_and_save_changes_nothing(ipynb, tmp_path / "lab")


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


def test_chapter_outputs_survive_prose_edits_not_code_edits():
    py_text = (ROOT / "notebooks" / "01_world_and_data.py").read_text()
    nb = json.loads(exercises.notebook_json(py_text))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    code[-1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "STORED-OUTPUT\n"}]
    nb["metadata"][RECORD] = {"code_sha256": code_sha256(py_text),
                                             "outputs": {"profile": "cpu"}, "timings": {}}
    executed = json.dumps(nb)
    prose = py_text.replace("## 1.", "## 1. Edited prose:", 1)
    code_edit = py_text + "\n# %%\nprint('a new cell')\n"
    assert "STORED-OUTPUT" in exercises.notebook_json(prose, executed)
    assert "STORED-OUTPUT" not in exercises.notebook_json(code_edit, executed)
    assert RECORD not in json.loads(exercises.notebook_json(code_edit, executed))["metadata"]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                   capture_output=True)


def test_a_learners_exercise_edits_are_kept_and_pass_the_freshness_check(tmp_path: Path, capsys):
    stem = "03_predictor"
    for folder, name in (("notebooks", stem), ("solutions", f"{stem}_solutions"), ("exercises", f"{stem}_exercises")):
        (tmp_path / folder).mkdir()
        for suffix in (".py", ".ipynb"):
            shutil.copy(ROOT / folder / (name + suffix), tmp_path / folder / (name + suffix))
    make = lambda *a: exercises.main(["--root", str(tmp_path), *a])  # noqa: E731
    assert make() == 0
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "course")
    assert make("--check") == 0
    exercise = tmp_path / "exercises" / f"{stem}_exercises.py"
    answered = exercise.read_text().replace('raise NotImplementedError("causal_attention")', "return q", 1)
    exercise.write_text(answered)
    notebook = exercise.with_suffix(".ipynb")
    nb = json.loads(notebook.read_text())
    for cell in nb["cells"]:
        cell["source"] = "".join(cell["source"]).replace('raise NotImplementedError("causal_attention")', "return q")
    nb["cells"][-1]["source"] = "my own notes"
    notebook.write_text(json.dumps(nb))
    ran = json.loads((tmp_path / "notebooks" / f"{stem}.ipynb").read_text())  # a learner ran and saved a chapter
    next(c for c in ran["cells"] if c["cell_type"] == "code")["outputs"] = [
        {"output_type": "stream", "name": "stdout", "text": "mine\n"}]
    (tmp_path / "notebooks" / f"{stem}.ipynb").write_text(json.dumps(ran))
    assert make("--check") == 0, "a learner's local work must not be reported stale"
    capsys.readouterr()
    assert make() == 0
    assert exercise.read_text() == answered and "my own notes" in notebook.read_text()
    assert "--force" in capsys.readouterr().err
    solution = tmp_path / "solutions" / f"{stem}_solutions.py"
    solution.write_text(solution.read_text() + "\n# %% [markdown]\n# A new closing note.\n")
    assert make("--check") == 1, "exercises/ made from older solutions is stale, whatever the learner did"
    assert make("--force") == 0 and "A new closing note" in exercise.read_text()
    assert make("--check") == 0


@pytest.mark.slow  # runs a pytest session / notebooks in kernels
def test_check_command_says_which_exercises_pass(tmp_path: Path, capsys):
    import nbformat

    from lewm_mini.notebook_runner import check_main

    cells = ["from lewm_mini.checks import CheckFailed, run_check",
             "def todo():\n    raise NotImplementedError('todo')\nrun_check('Exercise 9.1 todo', todo)",
             "run_check('Exercise 9.2 right', lambda: None)",
             "def wrong():\n    raise CheckFailed('off by one')\nrun_check('Exercise 9.3 wrong', wrong)",
             "def broken(:\n    pass"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    path = tmp_path / "99_demo_exercises.ipynb"
    nbformat.write(nb, path)
    assert check_main([str(path)]) == 1
    out = capsys.readouterr().out
    assert "PASS  Exercise 9.2 right" in out and "TODO  Exercise 9.1 todo" in out
    assert "FAIL  Exercise 9.3 wrong" in out and "off by one" in out and "ERROR cell 4" in out
    assert "1 of 3 exercises pass" in out
    assert check_main([str(tmp_path / "missing.ipynb")]) == 2


def test_a_check_cell_shows_its_message_only():
    from lewm_mini.checks import Verdict, run_check

    passed, failed = run_check("x", lambda: None, strict=False), run_check("y", lambda: 1 / 0, strict=False)
    assert isinstance(passed, Verdict) and passed and not failed and passed == True  # noqa: E712
    assert hasattr(passed, "_ipython_display_"), "IPython would echo True/False after the message"


def test_the_gpu_chapter_opens_on_a_colab_gpu_runtime():
    """Colab reads the runtime type from the notebook's metadata; the .py header carries it."""
    nb = json.loads((ROOT / "notebooks" / "11_capstone_one_gpu.ipynb").read_text())
    assert nb["metadata"]["accelerator"] == "GPU" and nb["metadata"]["colab"]["gpuType"]


def test_compute_text_says_whether_the_cache_was_empty():
    machine = {"cpu": "x86", "cores": 2, "memory_gb": 24, "gpu": None}
    t = {"seconds": 700.0, "date": "2026-11-25", "machine": machine, "torch": "2.13.0", "load": 0.1}
    shared = compute_text({"timings": {"cpu": t | {"cache": "shared"}}})
    fresh = compute_text({"timings": {"cpu": t | {"cache": "fresh"}}})
    assert "11.7 min" in shared and "reusing what earlier runs left in the cache" in shared
    assert "empty cache" in fresh and "reusing" not in fresh and "busy" not in fresh
