"""Helpers for the course notebooks: one setup call, and a few shared plots.

Notebooks call ``setup()`` in their single setup cell; it seeds everything, picks the device and
the size profile (LEWM_PROFILE = ci | cpu | gpu, else from the hardware) and prints them.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import torch

from . import cache
from .cache import cache_dir
from .config import Config, get_config, pick_device, seed_everything, set_cpu_threads

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


DRIVE_MOUNT = "/content/drive"  # where Colab mounts Google Drive; the cache goes to MyDrive/lewm_mini


def in_colab() -> bool:
    return "google.colab" in sys.modules


def _mount_drive(mount_point: str) -> None:
    from google.colab import drive  # only in Colab

    drive.mount(mount_point)  # asks for permission the first time in a session


def persistent_cache(profile: str, mount_point: str = DRIVE_MOUNT) -> Path:
    """Make the cache survive a Colab disconnect; returns ``cache_dir()``.

    Outside Colab, or when ``LEWM_CACHE`` names a folder off Drive, nothing changes. In Colab it mounts
    Google Drive (unless mounted already) and points ``LEWM_CACHE`` at ``MyDrive/lewm_mini``, so data
    and checkpoints outlive the VM. If Drive cannot be mounted, the gpu profile stops with what to do
    (its run would otherwise start from scratch after every disconnect); smaller profiles warn and use
    the VM's disk.
    """
    chosen = os.environ.get("LEWM_CACHE")
    if not in_colab() or (chosen and not Path(chosen).is_relative_to(mount_point)):
        return cache_dir()
    my_drive = Path(mount_point) / "MyDrive"
    problem = ""
    if not my_drive.is_dir():
        try:
            _mount_drive(mount_point)
        except Exception as err:  # permission refused, no Drive, a timeout, ...
            problem = f" ({type(err).__name__}: {err})"
    if my_drive.is_dir():
        os.environ["LEWM_CACHE"] = str(my_drive / "lewm_mini")
        return cache_dir()
    os.environ.pop("LEWM_CACHE", None)  # never write under the mount point while Drive is not there
    message = (f"Google Drive is not mounted at {mount_point}{problem}: the cache would be {cache_dir()}, on this "
               "Colab VM's disk, which a disconnect erases.")
    if profile == "gpu":
        raise RuntimeError(message + " Run this cell again and allow access to Drive, or, to train on the VM's "
                           "disk anyway (lost at a disconnect), run os.environ['LEWM_CACHE'] = '/content/lewm_cache' "
                           "first.")
    warnings.warn(message + f" The {profile} profile's run is short; it goes on there.", stacklevel=2)
    return cache_dir()


def duration(seconds: float, digits: int = 1) -> str:
    """A wall time for people: "59 s" under two minutes, else minutes with ``digits`` decimals ("5.1 min")."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.{digits}f} min"


def expect(seconds_ci: float, seconds_cpu: float, seconds_gpu: float, profile: str) -> None:
    """Print the expected wall time of the next long cell for the current profile."""
    t = {"ci": seconds_ci, "cpu": seconds_cpu, "gpu": seconds_gpu}[profile]
    print(f"[{profile} profile] expected wall time: about {duration(t, 0)}")


# How long training a profile's model takes, for the line cached_run prints before it trains.
TRAINING_TIME = {"ci": "a few seconds",
                 "cpu": "measured 10-27 min on 2 CPU cores, depending on the machine",
                 "gpu": "about 1 h on one GPU: an estimate, the gpu profile has not been timed on a GPU yet"}


def cached_run(cfg: Config, progress: bool = True):
    """Train with ``cfg``, or reuse the run an earlier chapter already made with the same config.

    Runs live in ``lewm_mini.cache.run_dir(cfg)``, ``cache_dir()/models/<profile>-<cfg.run_key()>/`` (data, model and training settings); a finished run is loaded,
    an interrupted one resumes. In Colab the cache is on Google Drive (``persistent_cache``), so every chapter
    finds the model chapter 05 or 11 trained, also in a fresh session. Returns a ``TrainResult`` (model in
    eval mode, stats, history).
    """
    from .train import train

    from .train import CHECKPOINT

    persistent_cache(cfg.profile)  # outside Colab: nothing changes
    run_dir = cache.run_dir(cfg)
    if (run_dir / CHECKPOINT).exists():
        print(f"model: the {cfg.profile}-profile run is in the cache ({run_dir}): loading it")
    else:
        steps, time_ = get_config(cfg.profile).train.steps, TRAINING_TIME[cfg.profile]
        how = (f"as chapter 05 does ({time_})" if cfg.train.steps == steps else
               f"{cfg.train.steps} steps of the profile's {steps} (a fraction of chapter 05's time: {time_})")
        print(f"model: no {cfg.profile}-profile run in the cache ({run_dir}): training it now, {how}")
    return train(cfg, run_dir, device=str(pick_device()), resume=True, progress=progress)


def trained_model(cfg: Config, progress: bool = True):
    """(model in eval mode, ActionStats) trained with ``cfg``; see ``cached_run``."""
    result = cached_run(cfg, progress)
    return result.model, result.stats
