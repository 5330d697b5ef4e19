"""Test-session settings shared by the unit tests and the notebook runs (nbval).

`python -m pytest` runs tests/ and every notebook, exercise and solution under the ci profile,
with quiet progress bars and warnings, the Agg backend, and a fresh cache. Checkers are strict
(a wrong answer raises) in solutions/ only: exercises/ ship stubs that must not fail the run.
"""

import os
import tempfile

import pytest


def pytest_configure(config):
    os.environ["LEWM_PROFILE"] = os.environ.get("LEWM_TEST_PROFILE", "ci")
    os.environ["MPLBACKEND"] = "Agg"
    os.environ["TQDM_DISABLE"] = "1"
    os.environ["LEWM_QUIET"] = "1"
    os.environ["PYTHONWARNINGS"] = "ignore"
    if "LEWM_CACHE_KEEP" not in os.environ:
        os.environ["LEWM_CACHE"] = tempfile.mkdtemp(prefix="lewm_test_cache_")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before a notebook's kernel starts: strict checkers for solutions/, learner mode elsewhere."""
    os.environ["LEWM_STRICT"] = "1" if "solutions" in item.path.parts else "0"
