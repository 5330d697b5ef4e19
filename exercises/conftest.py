"""pytest in exercises/: a notebook you have worked in is yours, so the test run leaves it alone.

An exercise notebook that differs from its committed version (your answers) is skipped by the
notebook run (nbval); check it with every checker strict instead:

    python -m lewm_mini check exercises/03_predictor_exercises.ipynb

On CI (CI set) nothing is skipped.
"""

import os
from pathlib import Path

import pytest

from lewm_mini.authoring.exercises import comparable, git_head, looks_generated

_edited: dict[Path, bool] = {}


def _is_edited(path: Path) -> bool:
    if path not in _edited:
        head = git_head(path)
        text = path.read_text()
        _edited[path] = comparable(text) != comparable(head) if head is not None else not looks_generated(text)
    return _edited[path]


def pytest_runtest_setup(item):
    path = Path(item.path)
    if path.suffix == ".ipynb" and not os.environ.get("CI") and _is_edited(path):
        pytest.skip(f"your own work: check it with python -m lewm_mini check exercises/{path.name}")
