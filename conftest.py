"""Test-session settings shared by the unit tests and the notebook runs (nbval).

`python -m pytest` runs tests/ and every notebook, exercise and solution under the ci profile,
with quiet progress bars and warnings, the Agg backend, and a fresh cache. Checkers are strict
(a wrong answer raises) in solutions/ only: exercises/ ship stubs that must not fail the run.
"""

import os
import shutil
import tempfile

import pytest

TEMP_CACHE = pytest.StashKey[str]()  # the temporary cache this session made, removed when it ends


# Test files whose tests train models, start torchrun or run the command line end to end (seconds to a minute each).
SLOW_FILES = {"test_cli.py", "test_train.py", "test_distributed.py", "test_collapse.py"}


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: trains, runs torchrun or runs a notebook; deselect with -m 'not slow'")
    os.environ["LEWM_PROFILE"] = os.environ.get("LEWM_TEST_PROFILE", "ci")
    os.environ["MPLBACKEND"] = "Agg"
    os.environ["TQDM_DISABLE"] = "1"
    os.environ["LEWM_QUIET"] = "1"
    os.environ["PYTHONWARNINGS"] = "ignore"
    if "LEWM_CACHE_KEEP" not in os.environ:
        os.environ["LEWM_CACHE"] = config.stash[TEMP_CACHE] = tempfile.mkdtemp(prefix="lewm_test_cache_")


def pytest_unconfigure(config):
    """Delete the temporary cache (LEWM_CACHE_KEEP=1 skips it and uses the usual cache instead)."""
    if TEMP_CACHE in config.stash:
        shutil.rmtree(config.stash[TEMP_CACHE], ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    """Mark every notebook cell (nbval) and every test of ``SLOW_FILES`` slow: `python -m pytest -m "not slow"`
    gives a developer quick feedback; CI runs everything."""
    for item in items:
        if item.path.suffix == ".ipynb" or item.path.name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before a notebook's kernel starts: strict checkers for solutions/, learner mode elsewhere."""
    os.environ["LEWM_STRICT"] = "1" if "solutions" in item.path.parts else "0"
