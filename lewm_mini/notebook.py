"""Helpers for the course notebooks: one setup call, and a few shared plots.

Notebooks call ``setup()`` in their single setup cell; it seeds everything, picks the device and
the size profile (LEWM_PROFILE = ci | cpu | gpu, else from the hardware) and prints them.
"""

from __future__ import annotations

import os
import warnings

import torch

from .config import Config, cache_dir, get_config, pick_device, seed_everything, set_cpu_threads

REPO_URL = "https://github.com/lewm-mini/lewm-mini"  # Colab installs lewm_mini from here: the one place to change it

# The first code cell of every notebook. `python tools/make_exercises.py --fix-sources` writes it into the .py
# sources (a notebook cannot import REPO_URL before lewm_mini is installed); tests/test_notebooks.py checks it.
SETUP_CELL = """\
import subprocess, sys
REPO_URL = "{repo_url}"  # set in lewm_mini/notebook.py
if "google.colab" in sys.modules:  # installs lewm_mini only: Colab's CUDA torch stays
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"git+{{REPO_URL}}"],
                         capture_output=True, text=True)
    if pip.returncode:
        raise SystemExit(f"Could not install lewm_mini from {{REPO_URL}}:\\n{{pip.stderr.strip()[-300:]}}\\n"
                         "Set REPO_URL to a copy you can reach, or upload the repository and "
                         "!pip install -q <its folder>.")
from lewm_mini.notebook import setup
cfg, device = setup(seed=0)""".format(repo_url=REPO_URL)


def setup(seed: int = 0, profile: str | None = None) -> tuple[Config, torch.device]:
    """Seed, choose device and profile, print them; returns (config, device)."""
    seed_everything(seed)
    set_cpu_threads()
    cfg = get_config(profile)
    device = pick_device()
    if os.environ.get("LEWM_QUIET"):
        warnings.filterwarnings("ignore")
    print(f"profile={cfg.profile}  device={device}  torch={torch.__version__}  threads={torch.get_num_threads()}  "
          f"seed={seed}  cache={cache_dir()}")
    return cfg, device


def expect(seconds_ci: float, seconds_cpu: float, seconds_gpu: float, profile: str) -> None:
    """Print the expected wall time of the next long cell for the current profile."""
    t = {"ci": seconds_ci, "cpu": seconds_cpu, "gpu": seconds_gpu}[profile]
    print(f"[{profile} profile] expected wall time: about {t:.0f} s" if t < 120 else
          f"[{profile} profile] expected wall time: about {t / 60:.0f} min")


def cached_run(cfg: Config, progress: bool = True):
    """Train with ``cfg``, or reuse the run an earlier chapter already made with the same config.

    Runs live in ``cache_dir()/models/<profile>-<cfg.run_key()>/`` (data, model and training settings); a finished run is loaded,
    an interrupted one resumes. Returns a ``TrainResult`` (model in eval mode, stats, history).
    """
    from .train import train

    return train(cfg, cache_dir() / "models" / f"{cfg.profile}-{cfg.run_key()}", device=str(pick_device()),
                 resume=True, progress=progress)


def trained_model(cfg: Config, progress: bool = True):
    """(model in eval mode, ActionStats) trained with ``cfg``; see ``cached_run``."""
    result = cached_run(cfg, progress)
    return result.model, result.stats
