"""Generate exercises/ from solutions/, and every .ipynb from its .py twin.

solutions/NN_slug_solutions.py is the single source of each exercise. Code between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes a stub that raises NotImplementedError
naming the exercise's function. Run after editing any notebook:

    python tools/make_exercises.py          # write
    python tools/make_exercises.py --check  # exit 1 when anything is stale (used by the tests)
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


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


def notebook_json(py_text: str) -> str:
    """The .ipynb we commit for a percent-format .py: no outputs, a python3 kernelspec."""
    nb = jupytext.reads(py_text, fmt="py:percent")
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata.setdefault("jupytext", {})["formats"] = "ipynb,py:percent"
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"  # stable ids: regenerating never changes an unchanged notebook
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nbformat.writes(nb) + "\n"


def targets() -> dict[Path, str]:
    """Every generated file and the text it must have."""
    want: dict[Path, str] = {}
    for sol in sorted((ROOT / "solutions").glob("*_solutions.py")):
        ex = ROOT / "exercises" / sol.name.replace("_solutions.py", "_exercises.py")
        want[ex] = exercise_text(sol)
    for folder in ("notebooks", "solutions", "exercises"):
        for py in sorted((ROOT / folder).glob("[0-9][0-9]_*.py")):
            text = want.get(py, py.read_text())
            want[py.with_suffix(".ipynb")] = notebook_json(text)
    return want


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true", help="only report stale files")
    args = ap.parse_args()
    stale = [p for p, text in targets().items() if not p.exists() or p.read_text() != text]
    if args.check:
        for p in stale:
            print(f"stale: {p.relative_to(ROOT)} (run python tools/make_exercises.py)")
        return 1 if stale else 0
    for p, text in targets().items():
        if p in stale:
            p.write_text(text)
            print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
