"""Size profiles, seeds, devices and the cache directory.

One switch, ``LEWM_PROFILE`` = ci | cpu | gpu, picks every size in the system:

- ci:  seconds; proves the code runs.
- cpu: a 2-core laptop; minutes; results that teach something real.
- gpu: one GPU; paper-like model sizes (ViT-Tiny encoder, 6-layer predictor).

When unset, the profile is chosen from the hardware (gpu when CUDA is available, else cpu).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .cache import cache_dir  # noqa: F401  (lewm_mini.cache owns it; chapters import it from here too)

PROFILES = ("ci", "cpu", "gpu")


@dataclass
class DataConfig:
    """Offline data: episodes of ``steps`` actions from a behaviour policy."""

    world: str = "two-room"  # "two-room" or "momentum" (lewm_mini.world.WORLDS)
    size: int = 64  # image side in pixels
    episodes: int = 1000
    steps: int = 100  # actions per episode (frames = steps + 1)
    # "heuristic-straight" (door, then target; a quarter of the agents ignore the door and press into the wall,
    # so the predictor learns that a wall stops the agent: README "The wall test"), "heuristic" (all use the
    # door) or "random". Planning tasks always come from "heuristic" episodes (evaluate.TASK_POLICY).
    policy: str = "heuristic-straight"
    noise: float = 2.0  # std of the heuristic's Gaussian action noise (released: 2.0)
    seed: int = 0
    eval_seed: int = 10_000  # held-out evaluation episodes use a different seed


@dataclass
class ModelConfig:
    """Encoder, projector, predictor sizes. ``encoder`` is "cnn" (CPU) or "vit" (as in LeWM)."""

    encoder: str = "cnn"
    image_size: int = 64
    channels: tuple[int, ...] = (16, 32, 64, 64)  # CNN widths, one stride-2 stage each
    patch: int = 8  # ViT patch size
    enc_width: int = 192  # encoder output width, CNN and ViT alike (the projector input)
    enc_depth: int = 12
    enc_heads: int = 3
    latent: int = 64  # dimension of z
    proj_hidden: int = 512  # projector / pred_proj hidden width (BatchNorm1d inside)
    pred_width: int = 128
    pred_depth: int = 2
    pred_heads: int = 4
    pred_mlp: int = 512
    dropout: float = 0.1
    history: int = 3  # context frames; a clip has history + 1 frames
    frameskip: int = 5  # raw actions per action block
    action_dim: int = 2


@dataclass
class TrainConfig:
    steps: int = 2500
    batch: int = 128  # clips per step
    lr: float = 1e-3
    warmup: int = 200
    weight_decay: float = 1e-3
    lam: float = 0.09  # SIGReg weight lambda
    num_proj: int = 256  # random directions per SIGReg call (released: 1024; the value barely depends on it). A
    # training setting, not the model's: SIGReg has no weights, so this sizes the loss's estimate, not the network
    grad_clip: float = 1.0
    checkpoint_every: int = 500
    eval_every: int = 100  # held-out loss, effective rank and probe r every N steps (0: never)
    seed: int = 0


@dataclass
class PlanConfig:
    samples: int = 300
    elites: int = 30
    iterations: int = 30
    horizon: int = 5  # action blocks
    init_std: float = 1.0
    # iCEM options (lewm_mini.cem); all off is plain CEM
    noise_beta: float = 0.0  # coloured sampling noise 1/f^beta along time (0: white)
    keep_elites: float = 0.0  # fraction of the elites carried into the next iteration
    shrink: float = 1.0  # population divided by this every iteration (never below 2 x elites)
    return_best: bool = False  # return the best candidate ever scored, not the final mean
    stop_tol: float = 0.0  # stop when the best cost improved by less than this fraction (0: never)
    warm_start: bool = False  # start each replan from the previous plan shifted by the executed blocks
    warm_iterations: int = 0  # iterations of a warm-started solve (0: the same as a cold one)
    cem_replan_every: int = 0  # flat CEM: environment steps executed between replans (0: the whole plan)
    history: int | None = None  # latents of context in rollouts (None: the model's history)
    # "distance": CEM scored by a learned distance in time (lewm_mini.distance; best on 200 held-out tasks of each
    # protocol, README "Planning by distance in time"); "graph": CEM to latent waypoints (lewm_mini.graph);
    # "cem": flat CEM to the goal image (LeWM's)
    planner: str = "distance"
    reach: float = 2.0  # graph: waypoint = farthest path node within this many blocks, or the next if < reach / 2 down
    graph_horizon: int = 2  # graph: CEM horizon in blocks when aiming at a waypoint
    replan_every: int = 10  # graph: environment steps executed between replans
    graph_episodes: int = 250  # graph: training episodes whose frames become nodes (one per block)
    distance_horizon: int = 2  # distance: CEM horizon in blocks, scored by the learned distance (lewm_mini.distance)
    sum_cost: bool = False  # cem, distance: score the mean cost over the imagined blocks, not only the last


@dataclass
class Config:
    profile: str = "cpu"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    plan: PlanConfig = field(default_factory=PlanConfig)

    def __post_init__(self) -> None:
        if self.data.size != self.model.image_size:  # frames are made at data.size and read at model.image_size
            raise ValueError(f"data.size ({self.data.size}) and model.image_size ({self.model.image_size}) must agree; "
                             "set both (--set data.size=N sets both)")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def run_identity(self) -> dict:
        """What changes a training run's result: data, model and training settings.

        Planning options and the checkpoint frequency are left out, so changing the CEM horizon
        neither blocks resuming a run nor retrains a cached one.
        """
        d = self.to_dict()
        if d["data"]["world"] == "two-room":  # the key of every Two-Room run made before worlds were selectable
            del d["data"]["world"]
        train = {k: v for k, v in d["train"].items() if k not in ("checkpoint_every", "eval_every")}
        return {"data": d["data"], "model": d["model"], "train": train}

    def run_key(self) -> str:
        """A short hash of ``run_identity``: the cache folder name of a run."""
        blob = json.dumps(self.run_identity(), sort_keys=True).encode()
        return hashlib.sha1(blob).hexdigest()[:10]

    @classmethod
    def from_dict(cls, d: dict) -> Config:
        model = dict(d["model"])
        model["channels"] = tuple(model["channels"])
        return cls(
            profile=d["profile"],
            data=DataConfig(**d["data"]),
            model=ModelConfig(**model),
            train=TrainConfig(**d["train"]),
            plan=PlanConfig(**d["plan"]),
        )


def override(cfg: Config, assignments: list[str]) -> Config:
    """``cfg`` with ``section.field=value`` assignments applied (the CLI's ``--set``), e.g. ``train.steps=500``,
    ``plan.horizon=3``, ``model.channels=8,16,16,16``: every field of the config dataclasses, none listed by hand.

    Values are read with the field's current type (bool: true/false/1/0; tuple: comma-separated; None: given as
    "none"). ``data.size`` also sets ``model.image_size``, which must agree with it. A clear ValueError names a bad
    assignment.
    """
    sections = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if dataclasses.is_dataclass(getattr(cfg, f.name))}
    changes: dict[str, dict] = {}
    for text in assignments:
        key, eq, raw = text.partition("=")
        section, dot, name = key.strip().partition(".")
        if not eq or not dot:
            raise ValueError(f"--set {text!r}: write section.field=value, e.g. train.steps=500")
        if section not in sections:
            raise ValueError(f"--set {text!r}: no section {section!r}; the sections are {sorted(sections)}")
        fields = {f.name for f in dataclasses.fields(sections[section])}
        if name not in fields:
            raise ValueError(f"--set {text!r}: {section} has no field {name!r}; it has {sorted(fields)}")
        changes.setdefault(section, {})[name] = _parse(getattr(sections[section], name), raw.strip(), text)
    if "size" in changes.get("data", {}):
        changes.setdefault("model", {}).setdefault("image_size", changes["data"]["size"])
    new = {k: dataclasses.replace(sections[k], **v) for k, v in changes.items()}
    return dataclasses.replace(cfg, **new)  # Config checks that the frame sizes agree


def _parse(current, raw: str, text: str):
    """``raw`` read as the type of ``current`` (a field's present value)."""
    try:
        if raw.lower() == "none":
            return None
        if isinstance(current, bool):
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return raw.lower() in ("true", "1")
        if isinstance(current, tuple):
            return tuple(type(current[0])(x) for x in raw.split(",")) if current else tuple(raw.split(","))
        if current is None:  # e.g. PlanConfig.history: a whole number when set
            return int(raw)
        return type(current)(raw)
    except ValueError:
        raise ValueError(f"--set {text!r}: {raw!r} is not a {type(current).__name__}") from None


def auto_profile() -> str:
    """LEWM_PROFILE if set, else "gpu" with CUDA, else "cpu"."""
    p = os.environ.get("LEWM_PROFILE", "").strip().lower()
    if p:
        if p not in PROFILES:
            raise ValueError(f"LEWM_PROFILE must be one of {PROFILES}, got {p!r}")
        return p
    return "gpu" if torch.cuda.is_available() else "cpu"


# iCEM's options (lewm_mini.cem) as every profile plans with them, and the sizes of a solve on cpu and gpu.
# Chosen with `benchmarks/icem.py --tune` on task seed 7 (50 tasks per protocol), not on the reported
# seed; README "Planning speed: iCEM" has the measurements. plain_cem() turns them off.
ICEM = {"noise_beta": 2.0, "keep_elites": 0.3, "shrink": 1.25, "return_best": True, "stop_tol": 0.0,
        "warm_start": True, "cem_replan_every": 10, "warm_iterations": 5}
ICEM_SIZES = {"samples": 100, "elites": 10, "iterations": 10}
PLAIN_SIZES = {"ci": {"samples": 32, "elites": 4, "iterations": 3}, "cpu": {}, "gpu": {}}  # {}: 300 x 30, as released


def plain_cem(cfg: Config) -> Config:
    """``cfg`` planning with LeWM's CEM: iCEM's options off, 300 samples x 30 iterations (ci: 32 x 3)."""
    defaults = PlanConfig()
    plain = {k: getattr(defaults, k) for k in (*ICEM, *ICEM_SIZES)} | PLAIN_SIZES[cfg.profile]
    return dataclasses.replace(cfg, plan=dataclasses.replace(cfg.plan, **plain))


def with_icem(cfg: Config) -> Config:
    """``cfg`` planning with the profile's iCEM (options and sizes), e.g. for a checkpoint saved before it."""
    chosen = get_config(cfg.profile).plan
    keep = {k: getattr(chosen, k) for k in (*ICEM, *ICEM_SIZES)}
    return dataclasses.replace(cfg, plan=dataclasses.replace(cfg.plan, **keep))


def for_world(cfg: Config, world: str, history: int | None = None) -> Config:
    """``cfg`` in another world (``lewm_mini.world.WORLDS``); "two-room" returns it unchanged. ``history``: the
    frames of context the predictor reads (``ModelConfig.history``), when not the profile's 3.

    "momentum": a frame does not show the velocity, so rollouts keep the model's whole history
    (``PlanConfig.history`` None: 3 latents), and the planner is flat CEM scored by the latent cost
    averaged over the imagined blocks (``sum_cost``), which rewards arriving early and staying: arrive
    *and stop*. (The graph and the learned distance are built on single frames, which do not hold the
    state in this world.)
    """
    from .world import check_world

    if history is not None:
        cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, history=history))
    if check_world(world) == "two-room":
        return cfg
    plan = dataclasses.replace(cfg.plan, planner="cem", sum_cost=True, history=None)
    # the momentum world's data: its own "heuristic" (heuristic_forces, chapter 10); it has no straight variant
    data = dataclasses.replace(cfg.data, world=world, policy="heuristic")
    return dataclasses.replace(cfg, data=data, plan=plan)


def get_config(profile: str | None = None) -> Config:
    """The full configuration of a size profile (None or "auto": see ``auto_profile``)."""
    profile = auto_profile() if profile in (None, "auto") else profile
    if profile == "ci":
        return Config(
            profile="ci",
            data=DataConfig(episodes=48, steps=40),
            model=ModelConfig(channels=(8, 16, 16, 16), latent=16, proj_hidden=32, pred_width=32,
                              pred_depth=1, pred_heads=2, pred_mlp=64),
            train=TrainConfig(steps=30, batch=16, warmup=5, num_proj=64, checkpoint_every=10, eval_every=10),
            plan=PlanConfig(samples=32, elites=4, iterations=3, **ICEM),
        )
    if profile == "cpu":
        # Two-Room has no inertia: one frame is the whole state, so rollouts with one latent of
        # context (PlanConfig.history = 1) lose nothing and cost about a third of rollouts that read three.
        return Config(profile="cpu", plan=PlanConfig(history=1, **ICEM, **ICEM_SIZES))
    if profile == "gpu":
        # As released where the sizes allow (ViT-Tiny encoder, 6-layer predictor of width 192, MLP 2048,
        # weight decay on weight matrices only). Predictor attention: 3 heads of 64 (released: 16 heads
        # of 64, i.e. attention 1024 wide inside a block 192 wide); README "gpu profile" lists the rest.
        return Config(
            profile="gpu",
            data=DataConfig(episodes=10_000, steps=100),
            model=ModelConfig(encoder="vit", latent=192, proj_hidden=2048, pred_width=192, pred_depth=6,
                              pred_heads=3, pred_mlp=2048),
            train=TrainConfig(steps=20_000, batch=128, lr=5e-4, warmup=1000, num_proj=1024, checkpoint_every=2000,
                              eval_every=1000),
            plan=PlanConfig(**ICEM, **ICEM_SIZES),  # chosen on the cpu profile; not measured on a GPU
        )
    raise ValueError(f"unknown profile {profile!r}; choose one of {PROFILES}")


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(device: str | None = None) -> torch.device:
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# Stored benchmark runs (JSON, text, figures), shipped with the package so that a chapter that reads one finds it
# after a plain pip install (Colab) too. The benchmarks/ scripts write here (--out).
RESULTS = Path(__file__).resolve().parent / "results"


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity: taskset, cgroups, a batch slot), else all."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def set_cpu_threads() -> None:
    """On CPU use one intra-op thread per usable CPU, unless OMP_NUM_THREADS says otherwise.

    Timings assume idle cores: when other programs keep them busy, everything runs many times slower.
    """
    if not torch.cuda.is_available() and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(usable_cpus())


def show_progress(progress: bool = True) -> bool:
    """Whether to draw progress bars: asked for, and not silenced with TQDM_DISABLE=1 (CI)."""
    return progress and os.environ.get("TQDM_DISABLE", "") in ("", "0")
