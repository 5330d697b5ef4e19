import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Every test session gets its own data/checkpoint cache (never the user's)."""
    if "LEWM_CACHE_KEEP" not in os.environ:
        os.environ["LEWM_CACHE"] = str(tmp_path_factory.mktemp("lewm_cache"))
    os.environ.setdefault("MPLBACKEND", "Agg")
    yield
