"""Generate exercises/ from solutions/, and every .ipynb from its .py twin; scaffold a new exercise.

solutions/NN_slug_solutions.py is the single source of each exercise. Code between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes a stub that raises NotImplementedError
naming the exercise's function. Run after editing any notebook:

    python tools/make_exercises.py                # write what is stale
    python tools/make_exercises.py --check        # exit 1 when anything is stale (used by the tests)
    python tools/make_exercises.py --fix-sources  # standard .py header (kernelspec), setup cell, Compute line
    python tools/make_exercises.py --new-exercise NN my_function     # scaffold a new exercise (checker, tests)

- notebooks/NN_slug.ipynb keeps the outputs that tools/execute_notebooks.py stored while the code cells of
  its .py twin are the ones that made them (hash in the notebook's metadata); otherwise it is written
  without outputs, and tests/test_notebooks.py says the chapter needs executing again.
- A generated file is fresh when it, or its version in git HEAD, is what this tool writes: local edits
  (a learner's answers in exercises/, a notebook run and saved) never make it stale, and a clean checkout
  (CI) is checked exactly.
- An exercises/ file with a learner's answers (a stub replaced, and the file differs from what this tool
  writes and from git HEAD) is never overwritten without ``--force``.
- ``--new-exercise NN name`` writes the hand-written parts that do not exist yet (lewm_mini/authoring/scaffold.py);
  CONTRIBUTING.md, "Adding an exercise", walks through one.
"""

# The learner-copy helpers (git_head, comparable, looks_generated) need neither jupytext nor nbformat:
# exercises/conftest.py imports them on a learner's machine, so those two are imported where they are used.

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from . import ROOT, repo_root
from .record import RECORD, code_sha256, recorded_sha256, start_compute
from .scaffold import new_exercise

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
# What JupyterLab's kernel (ipykernel) writes into a notebook it opens: stored as is, so that opening a notebook
# changes nothing. Only language_info's Python version can still differ on a learner's machine (CI and the stored
# runs use 3.11.7); `comparable` ignores that field, so it never makes a file count as the learner's work.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                 "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                 "pygments_lexer": "ipython3", "version": "3.11.7"}
# Pairing, and no jupytext version in the .py header: opening and saving in JupyterLab leaves both files unchanged.
JUPYTEXT = {"formats": "ipynb,py:percent", "notebook_metadata_filter": "-jupytext.text_representation.jupytext_version"}
COLAB_METADATA = ("accelerator", "colab")  # kept from a .py header: Colab opens that notebook on a GPU runtime
STUB = "# YOUR CODE HERE"


def jupytext_metadata(metadata: dict) -> dict:
    """The standard pairing; its metadata filter also keeps the notebook's Colab settings, if it has any."""
    keep = [k for k in COLAB_METADATA if k in metadata]
    return dict(JUPYTEXT) | ({"notebook_metadata_filter": ",".join([*keep, JUPYTEXT["notebook_metadata_filter"]])}
                             if keep else {})


def strip_solutions(text: str) -> str:
    """Replace each solution region by a NotImplementedError stub with the same indentation."""
    out, inside, current_def = [], False, "exercise"
    for line in text.splitlines():
        m = re.match(r"\s*def (\w+)\(", line)
        if m and not inside:
            current_def = m.group(1)
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"nested {BEGIN} in {current_def}")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# YOUR CODE HERE")
            out.append(f'{indent}raise NotImplementedError("{current_def}")')
        elif stripped == END:
            if not inside:
                raise ValueError(f"{END} without {BEGIN} after {current_def}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN} in {current_def} is never closed")
    return "\n".join(out) + "\n"


def exercise_text(solution: Path) -> str:
    text = strip_solutions(solution.read_text())
    text = text.replace("_solutions.ipynb", "_exercises.ipynb").replace("solutions/", "exercises/")
    return text.replace("(solutions)", "(exercises)")


def normalized_source(py_text: str, chapter: bool = False) -> str:
    """A .py source with the standard header (pairing, kernelspec) and the standard setup cell first; a
    chapter's title also gets its Compute paragraph (record.start_compute)."""
    import jupytext

    from ..notebook import SETUP_CELL

    nb = jupytext.reads(py_text, fmt="py:percent")
    nb.metadata["jupytext"] = jupytext_metadata(nb.metadata)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if code and "google.colab" in code[0].source:
        code[0].source = SETUP_CELL
    text = jupytext.writes(nb, fmt="py:percent")
    if chapter:
        text = start_compute(text)
    return text


def notebook_json(py_text: str, executed: str | None = None) -> str:
    """The .ipynb we commit for a percent-format .py: a python3 kernelspec, no outputs, except that the
    outputs and run record of ``executed`` (an .ipynb's text) are kept when they were made by this code."""
    import jupytext
    import nbformat

    nb = jupytext.reads(py_text, fmt="py:percent")
    colab = {k: nb.metadata[k] for k in COLAB_METADATA if k in nb.metadata}
    nb.metadata = {"jupytext": jupytext_metadata(colab), "kernelspec": dict(KERNELSPEC),
                   "language_info": dict(LANGUAGE_INFO)} | colab
    code = []
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"  # stable ids: regenerating never changes an unchanged notebook
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            code.append(cell)
    if executed is not None and recorded_sha256(executed) == code_sha256(py_text):
        old = nbformat.reads(executed, as_version=4)
        old_code = [c for c in old.cells if c.cell_type == "code"]
        if len(old_code) == len(code):
            for cell, ran in zip(code, old_code):
                cell.outputs, cell.execution_count = ran.get("outputs", []), ran.get("execution_count")
            nb.metadata[RECORD] = old.metadata[RECORD]
    return nbformat.writes(nb) + "\n"


def git_head(path: Path) -> str | None:
    """The file's text in git HEAD, or None (no git, not a repository, or not committed)."""
    try:
        r = subprocess.run(["git", "show", f"HEAD:./{path.name}"], cwd=path.parent, capture_output=True)
    except OSError:
        return None
    return r.stdout.decode() if r.returncode == 0 else None


def comparable(text: str | None) -> str | None:
    """A notebook's text without what a Jupyter kernel rewrites on opening (language_info, the kernel's display
    name): two files that differ only there hold the same work."""
    if text is None:
        return None
    if not text.lstrip().startswith("{"):
        return re.sub(r"(?m)^#     display_name: .*$", "#     display_name:", text, count=1)
    nb = json.loads(text)
    nb["metadata"].pop("language_info", None)
    nb["metadata"].get("kernelspec", {}).pop("display_name", None)
    return json.dumps(nb, sort_keys=True)


def looks_generated(text: str) -> bool:
    """Every exercise stub is still in place (no learner answer yet); for files outside git."""
    if text.lstrip().startswith("{"):
        text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
    lines = [line.strip() for line in text.splitlines()]
    stubs = [i for i, line in enumerate(lines) if line == STUB]
    return bool(stubs) and all(i + 1 < len(lines) and lines[i + 1].startswith("raise NotImplementedError(")
                               for i in stubs)


def targets(root: Path = ROOT) -> dict[Path, str]:
    """Every generated file and the text of the .py it is made from (for exercises/*.py: its own text)."""
    want: dict[Path, str] = {}
    for sol in sorted((root / "solutions").glob("*_solutions.py")):
        ex = root / "exercises" / sol.name.replace("_solutions.py", "_exercises.py")
        want[ex] = exercise_text(sol)
    for folder in ("notebooks", "solutions", "exercises"):
        for py in sorted({*(root / folder).glob("[0-9][0-9]_*.py"), *(p for p in want if p.parent.name == folder)}):
            want[py.with_suffix(".ipynb")] = want.get(py) or py.read_text()
    return want


def generated(path: Path, source: str, current: str | None) -> str:
    """What ``path`` must hold, made from ``source``; a chapter keeps the outputs ``current`` stores for it."""
    if path.suffix == ".py":
        return source
    return notebook_json(source, current if path.parent.name == "notebooks" else None)


def status(path: Path, source: str) -> str:
    """"fresh", "edited" (local changes to a file whose committed or generated form is fresh: a learner's
    work, kept) or "stale"."""
    current = path.read_text() if path.exists() else None
    if current is not None and comparable(current) == comparable(generated(path, source, current)):
        return "fresh"
    head = git_head(path)
    if head is not None and comparable(head) == comparable(generated(path, source, head)):
        return "edited"
    if head is None and current is not None and path.parent.name == "exercises" and not looks_generated(current):
        return "edited" if not os.environ.get("CI") else "stale"
    return "stale"


def learner_edits(path: Path, want: str) -> bool:
    """An exercises/ file holding answers: a stub was replaced, and it differs from what we write and from
    git HEAD. (A file with every stub in place is the generator's, e.g. regenerated but not committed.)"""
    if path.parent.name != "exercises" or not path.exists():
        return False
    current = comparable(path.read_text())
    return current not in (comparable(want), comparable(git_head(path))) and not looks_generated(path.read_text())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only report stale files")
    ap.add_argument("--force", action="store_true", help="overwrite exercises/ even where it holds your own edits")
    ap.add_argument("--fix-sources", action="store_true",
                    help="first give the .py sources in notebooks/ and solutions/ the standard header and setup cell")
    ap.add_argument("--new-exercise", nargs=2, metavar=("NN", "FUNCTION"),
                    help="scaffold exercise FUNCTION of chapter NN: its checker, reference answer and tests, "
                         "appended where they do not exist yet (nothing is overwritten); then generate nothing")
    ap.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)  # another checkout (the tests)
    args = ap.parse_args(argv)
    root = repo_root(args.root)
    if args.new_exercise:
        chapter, function = args.new_exercise
        return new_exercise(root, chapter, function)
    if args.fix_sources and not args.check:
        for folder in ("notebooks", "solutions"):
            for py in sorted((root / folder).glob("[0-9][0-9]_*.py")):
                text = py.read_text()
                fixed = normalized_source(text, chapter=folder == "notebooks")
                if fixed != text:
                    py.write_text(fixed)
                    print(f"wrote {py.relative_to(root)} (standard header and setup cell)")
    want = targets(root)
    if args.check:
        stale = [p for p, source in want.items() if status(p, source) == "stale"]
        for p in stale:
            print(f"stale: {p.relative_to(root)} (run python tools/make_exercises.py)")
        return 1 if stale else 0
    refused = []
    for p, source in want.items():
        current = p.read_text() if p.exists() else None
        text = generated(p, source, current)
        if text == current:
            continue
        if not args.force and learner_edits(p, text):
            refused.append(p)
            continue
        p.write_text(text)
        print(f"wrote {p.relative_to(root)}")
    for p in refused:
        print(f"kept {p.relative_to(root)}: it holds your own edits (python tools/make_exercises.py --force "
              "overwrites it)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
