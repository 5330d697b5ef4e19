"""lewm_mini: a small LeWorldModel (JEPA world model from pixels) for teaching.

Each idea lives in the module named after it (README "Package map"; CONTRIBUTING.md draws the layers), and
every chapter imports from there: ``from lewm_mini.cem import cem``, ``from lewm_mini.train import train``.
The top level names only what you start from:

    from lewm_mini import get_config, for_world, LeWM, SIGReg, load_model, TwoRoomEnv, MomentumEnv

``get_config(profile)`` and ``for_world(cfg, "momentum")`` give a configuration, ``LeWM`` is the whole model,
``SIGReg`` its regulariser, ``load_model(checkpoint)`` a trained one, and the two Gymnasium environments
(``LeWM/TwoRoom-v0``, ``LeWM/Momentum-v0``) the worlds.
"""

from .config import for_world, get_config
from .jepa import LeWM
from .momentum import MomentumEnv
from .sigreg import SIGReg
from .train import load_model
from .world import TwoRoomEnv

__all__ = ["LeWM", "MomentumEnv", "SIGReg", "TwoRoomEnv", "for_world", "get_config", "load_model"]
__version__ = "0.1.0"
