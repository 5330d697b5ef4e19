"""Course tooling for authors: the chapters never import it. Each module owns one idea, and they import one way
(record <- exercises <- execute; scaffold stands alone):

    record.py     what a stored run records in a chapter's notebook (the code hash) and the title's Compute paragraph
    exercises.py  exercises/ from solutions/ and every .ipynb from its .py twin; freshness; learners' copies
    scaffold.py   the hand-written parts of a new exercise (checker, reference answer, tests), never overwriting
    execute.py    running the chapters in fresh kernels and storing their outputs and timings

The commands are ``python tools/make_exercises.py`` (``exercises.main``, ``--new-exercise NN name`` scaffolds)
and ``python tools/execute_notebooks.py`` (``execute.main``). They work on the checkout this package is
imported from (``pip install -e .`` in it): ``ROOT``, checked by ``repo_root``.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # lewm_mini/authoring/ -> the checkout, in an editable install
COURSE = ("notebooks", "solutions", "exercises")  # the folders that make a checkout of the course


def repo_root(root: Path | str | None = None) -> Path:
    """``root`` (default ``ROOT``), resolved, once it is a checkout of the course; otherwise exit with what to do."""
    root = Path(ROOT if root is None else root).resolve()
    missing = [f"{f}/" for f in COURSE if not (root / f).is_dir()]
    if missing:
        raise SystemExit(
            f"lewm_mini.authoring works on a checkout of the course, and {root} is not one (no "
            f"{', '.join(missing)}). lewm_mini was imported from {Path(__file__).resolve().parents[1]}: install "
            "your checkout editable (pip install -e . in it) and run the command there.")
    return root
