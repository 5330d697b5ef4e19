"""Reference answers for the checkers of chapter 01 (``lewm_mini.checks.ch01``)."""

from __future__ import annotations

import numpy as np


def cut_clip_reference(frames: np.ndarray, actions: np.ndarray, start: int, history: int,
                       frameskip: int) -> tuple[np.ndarray, np.ndarray]:
    """One clip as ``lewm_mini.data.ClipSampler`` cuts it: frames (T, ...) frameskip apart and the raw actions
    (T, frameskip, 2) that leave each of them, T = history + 1; ValueError when the clip does not fit."""
    t = history + 1
    if start < 0 or start + t * frameskip > len(actions):
        raise ValueError(f"a clip of {t} frames needs {t * frameskip} actions from step {start}; "
                         f"the episode has {len(actions)}")
    frame_t = start + frameskip * np.arange(t)
    act = actions[start : start + t * frameskip]
    return frames[frame_t], act.reshape(t, frameskip, *actions.shape[1:])
