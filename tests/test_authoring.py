"""The course tooling (lewm_mini.authoring): thin command-line entry points, the checkout it works on, and
``--new-exercise``, which scaffolds a new exercise's hand-written parts without overwriting anything."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lewm_mini import authoring
from lewm_mini.authoring import exercises

ROOT = Path(__file__).resolve().parents[1]
MOMENTUM = "10_world_with_momentum"


def test_the_package_knows_its_checkout():
    assert authoring.ROOT == ROOT and authoring.repo_root() == ROOT


def test_outside_a_checkout_a_command_says_what_to_do(tmp_path):
    with pytest.raises(SystemExit, match="not one .*pip install -e"):
        exercises.main(["--root", str(tmp_path), "--check"])


@pytest.mark.parametrize("tool", ["make_exercises.py", "execute_notebooks.py"])
def test_the_tools_are_thin_entry_points(tool):
    """tools/*.py only call the package's main (no sys.path edits, no code of their own), with the same flags."""
    text = (ROOT / "tools" / tool).read_text()
    assert "sys.path" not in text and len(text.splitlines()) <= 15
    r = subprocess.run([sys.executable, str(ROOT / "tools" / tool), "--help"], capture_output=True, text=True,
                       cwd=ROOT)
    assert r.returncode == 0, r.stderr
    flags = ["--check", "--force", "--fix-sources", "--new-exercise"] if tool == "make_exercises.py" else [
        "--profile", "--only", "--store-outputs", "--timeout", "--fresh-cache", "--no-readme", "--titles-only"]
    assert all(flag in r.stdout for flag in flags), r.stdout


def test_the_modules_import_one_way():
    """record <- exercises <- execute; scaffold imports none of them: no cycle."""
    allowed = {"record": set(), "scaffold": set(), "exercises": {"record", "scaffold"},
               "execute": {"record", "exercises"}}
    for name, ok in allowed.items():
        tree = ast.parse((ROOT / "lewm_mini" / "authoring" / f"{name}.py").read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1
                     and not n.module for a in n.names}
        assert imported - {"", "ROOT", "repo_root"} <= ok, f"{name} imports {imported}"


# ----------------------------------------------------------------------------- --new-exercise


def course_copy(tmp: Path) -> Path:
    """A checkout with chapter 10 (every part of its two exercises), chapter 03 (no answers module) and a chapter
    12 that has only its notebook."""
    for folder in ("notebooks", "solutions", "exercises", "tests", "lewm_mini/checks/answers"):
        (tmp / folder).mkdir(parents=True)
    for rel in (f"notebooks/{MOMENTUM}.py", f"solutions/{MOMENTUM}_solutions.py", "lewm_mini/checks/ch10.py",
                "lewm_mini/checks/answers/ch10.py", "tests/test_checks_ch10.py", "notebooks/03_predictor.py",
                "solutions/03_predictor_solutions.py", "lewm_mini/checks/ch03.py", "tests/test_checks_ch03.py"):
        shutil.copy(ROOT / rel, tmp / rel)
    (tmp / "notebooks" / "12_toy.py").write_text("# %% [markdown]\n# # 12 · Toy\n")
    return tmp


def snapshot(root: Path) -> dict[Path, str]:
    return {p: p.read_text() for p in root.rglob("*.py")}


def test_new_exercise_appends_and_never_overwrites(tmp_path: Path, capsys):
    root = course_copy(tmp_path)
    before = snapshot(root)
    assert exercises.main(["--root", str(root), "--new-exercise", "10", "drift_ratio"]) == 0
    out = capsys.readouterr().out
    after = snapshot(root)
    for path, text in after.items():
        ast.parse(text, filename=str(path))
    touched = {p.relative_to(root).as_posix() for p in after if after[p] != before.get(p)}
    assert touched == {"lewm_mini/checks/ch10.py", "lewm_mini/checks/answers/ch10.py", "tests/test_checks_ch10.py"}
    assert all(after[p].startswith(before[p]) for p in before), "an existing file was changed, not appended to"
    assert "def check_drift_ratio(" in after[root / "lewm_mini/checks/ch10.py"]
    assert 'run_check("Exercise 10.3 drift_ratio"' in after[root / "lewm_mini/checks/ch10.py"]
    assert "def drift_ratio_reference(" in after[root / "lewm_mini/checks/answers/ch10.py"]
    assert "DRIFT_RATIO_MUTANTS" in after[root / "tests/test_checks_ch10.py"]
    assert "## Exercise 10.3" in out and "check_drift_ratio(drift_ratio)" in out and "Left by hand" in out

    # again: everything exists, nothing is written
    assert exercises.main(["--root", str(root), "--new-exercise", "10", "drift_ratio"]) == 0
    assert snapshot(root) == after and capsys.readouterr().out.count("left alone") == 3
    # an exercise the course has: nothing to do
    assert exercises.main(["--root", str(root), "--new-exercise", "10", "history_input"]) == 0
    assert snapshot(root) == after and "Nothing to scaffold" in capsys.readouterr().out
    # a chapter without an answers module gets one; its checks and tests are appended to
    assert exercises.main(["--root", str(root), "--new-exercise", "3", "masked_mean"]) == 0
    again = snapshot(root)
    assert (root / "lewm_mini/checks/answers/ch03.py") in again and "Exercise 3.4" in capsys.readouterr().out
    assert all(again[p].startswith(after[p]) for p in after)
    for path in again:
        ast.parse(again[path], filename=str(path))


def test_the_pasted_cells_make_an_exercise(tmp_path: Path, capsys):
    """The printed cells, pasted into the solutions, give a stub in exercises/ and a check cell."""
    root = course_copy(tmp_path)
    solutions = root / "solutions" / f"{MOMENTUM}_solutions.py"
    solutions.write_text(solutions.read_text() + "\n# %% [markdown]\n# ## Exercise 10.3 · Drift\n\n# %%\n"
                         "def drift_ratio(z: torch.Tensor, k: int = 2) -> torch.Tensor:\n    ### BEGIN SOLUTION\n"
                         "    return z\n    ### END SOLUTION\n")
    assert exercises.main(["--root", str(root), "--new-exercise", "10", "drift_ratio"]) == 0
    out = capsys.readouterr().out
    assert "## Exercise 10.3" not in out and "check_drift_ratio(drift_ratio)" in out, "only the check cell is missing"
    answers = (root / "lewm_mini/checks/answers/ch10.py").read_text()
    assert "def drift_ratio_reference(z, k=2):" in answers, "the reference takes the solution's arguments"
    pytest.importorskip("jupytext")
    solutions.write_text(solutions.read_text() + "\n\n" + out[out.index("# %%\ncheck_drift_ratio"):].split("\n\n")[0]
                         + "\n")
    assert exercises.main(["--root", str(root)]) == 0
    exercise = (root / "exercises" / f"{MOMENTUM}_exercises.py").read_text()
    assert 'raise NotImplementedError("drift_ratio")' in exercise and "check_drift_ratio(drift_ratio)" in exercise


def _load(name: str, path: Path, monkeypatch):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def test_a_new_chapters_skeletons_import_and_say_todo(tmp_path: Path, monkeypatch, capsys):
    """A chapter with no checks yet: the three files are created, import, and fail with a TODO until written."""
    root = course_copy(tmp_path)
    assert exercises.main(["--root", str(root), "--new-exercise", "12", "toy_step"]) == 0
    assert "start it from another chapter's" in capsys.readouterr().out  # no solutions file yet
    _load("lewm_mini.checks.answers.ch12", root / "lewm_mini/checks/answers/ch12.py", monkeypatch)
    checks = _load("lewm_mini.checks.ch12", root / "lewm_mini/checks/ch12.py", monkeypatch)
    assert not checks.check_toy_step(lambda *a: 0, strict=False)
    assert "FAIL. Hint: TODO: check_toy_step has no cases yet" in capsys.readouterr().out
    tests = _load("test_checks_ch12_scaffold", root / "tests/test_checks_ch12.py", monkeypatch)
    assert tests.TOY_STEP_MUTANTS == {} and tests.STEM == "12_toy"
    with pytest.raises(AssertionError, match="TODO"):
        tests.test_toy_step_has_mutants()
