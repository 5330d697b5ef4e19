"""lewm_mini: a small LeWorldModel (JEPA world model from pixels) for teaching.

    from lewm_mini import get_config, train_lewm, evaluate_mpc, SIGReg, TwoRoomEnv

The submodules keep their names (``lewm_mini.train``, ``lewm_mini.evaluate``, ``lewm_mini.cem``,
``lewm_mini.rollout`` are modules); their main functions are exported here under names that do not
hide them: ``train_lewm``, ``evaluate_mpc``, ``cem_minimize``, ``rollout_latents``.
"""

from .cem import cem as cem_minimize
from .config import Config, auto_profile, cache_dir, get_config, pick_device, seed_everything
from .data import ActionStats, ClipSampler, Episodes, collect, frames_to_tensor, held_out_episodes, load_or_collect
from .decoder import Decoder
from .evaluate import Planner, make_tasks, run_mpc, run_random
from .evaluate import evaluate as evaluate_mpc
from .jepa import LeWM, parameter_table
from .predictor import AdaLNBlock, Predictor
from .probe import effective_rank, encode_frames
from .projector import Projector
from .rollout import rollout as rollout_latents
from .sigreg import SIGReg
from .train import load_checkpoint, load_model
from .train import train as train_lewm
from .world import ENV_ID, BatchedTwoRoom, Geometry, TwoRoomEnv, render

__all__ = [
    "ActionStats", "AdaLNBlock", "BatchedTwoRoom", "ClipSampler", "Config", "Decoder", "ENV_ID", "Episodes", "Geometry",
    "LeWM", "Planner", "Predictor", "Projector", "SIGReg", "TwoRoomEnv", "auto_profile", "cache_dir",
    "cem_minimize", "collect", "effective_rank", "encode_frames", "evaluate_mpc", "frames_to_tensor", "get_config",
    "held_out_episodes", "load_checkpoint", "load_model", "load_or_collect", "make_tasks", "parameter_table",
    "pick_device", "render", "rollout_latents", "run_mpc", "run_random", "seed_everything", "train_lewm",
]
__version__ = "0.1.0"
