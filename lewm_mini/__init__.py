"""lewm_mini: a small LeWorldModel (JEPA world model from pixels) for teaching.

    from lewm_mini import get_config, train, evaluate, SIGReg, TwoRoomEnv
"""

from .cem import cem
from .config import Config, auto_profile, cache_dir, get_config, pick_device, seed_everything
from .data import ActionStats, ClipSampler, Episodes, collect, frames_to_tensor, load_or_collect
from .evaluate import Planner, evaluate, make_tasks, run_mpc, run_random
from .jepa import LeWM, parameter_table
from .predictor import AdaLNBlock, Predictor
from .projector import Projector
from .rollout import rollout
from .sigreg import SIGReg
from .train import effective_rank, load_checkpoint, load_model, train
from .world import ENV_ID, BatchedTwoRoom, Geometry, TwoRoomEnv, render

__all__ = [
    "ActionStats", "AdaLNBlock", "BatchedTwoRoom", "ClipSampler", "Config", "ENV_ID", "Episodes", "Geometry",
    "LeWM", "Planner", "Predictor", "Projector", "SIGReg", "TwoRoomEnv", "auto_profile", "cache_dir", "cem",
    "collect", "effective_rank", "evaluate", "frames_to_tensor", "get_config", "load_checkpoint", "load_model",
    "load_or_collect", "make_tasks", "parameter_table", "pick_device", "render", "rollout", "run_mpc",
    "run_random", "seed_everything", "train",
]
__version__ = "0.1.0"
