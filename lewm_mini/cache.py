"""The cache: where computed things live, and how a finished computation is recognised. One owner.

    cache_dir()                LEWM_CACHE, else ~/.cache/lewm_mini (on Google Drive in Colab: notebook.persistent_cache)
    data_dir(data_cfg, seed)   cache_dir()/data/<config_hash(data_cfg, seed)>/       episodes (lewm_mini.data)
    run_dir(cfg)               cache_dir()/models/<profile>-<cfg.run_key()>/         a training run: its checkpoint,
                                                                                     and the distance heads fitted to it
    cache_dir()/distance/, cache_dir()/models/<profile>-distractor-<key>.pt          what evaluate and distractor keep

A key is a short hash of every setting that changes the result: a data set's ``DataConfig`` and seed
(``config_hash``), a run's data, model and training settings (``Config.run_key``). A changed setting finds a
new folder; an unchanged one finds the finished work. The chapters, the benchmarks and ``python -m lewm_mini
run`` all ask here, so they find the same trained model for the same settings.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Config, DataConfig


def cache_dir() -> Path:
    """Where data and checkpoints go: LEWM_CACHE, else ~/.cache/lewm_mini (e.g. point it at Drive)."""
    path = Path(os.environ.get("LEWM_CACHE", Path.home() / ".cache" / "lewm_mini")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_hash(cfg: DataConfig, seed: int) -> str:
    """The key of a data set: its ``DataConfig`` with the seed it was collected with."""
    d = asdict(cfg)
    if d["world"] == "two-room":  # the key of every Two-Room data set made before worlds were selectable
        del d["world"]
    blob = json.dumps(d | {"seed": seed, "version": 2}, sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def data_dir(cfg: DataConfig, seed: int) -> Path:
    """The folder of the episodes of ``cfg`` collected with ``seed`` (``lewm_mini.data.load_or_collect``)."""
    return cache_dir() / "data" / config_hash(cfg, seed)


def run_dir(cfg: Config) -> Path:
    """The folder of the training run of ``cfg`` (``notebook.cached_run``, ``python -m lewm_mini run``)."""
    return cache_dir() / "models" / f"{cfg.profile}-{cfg.run_key()}"
