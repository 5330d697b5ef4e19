"""Frames per second of the batched Two-Room renderer and stepper on one core.

    python benchmarks/world_fps.py            # target: >= 10,000 frames/s at 64x64
"""

from __future__ import annotations

import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from lewm_mini.world import BatchedTwoRoom  # noqa: E402


def measure(n: int = 4096, steps: int = 25, size: int = 64) -> dict:
    world = BatchedTwoRoom(n, size, seed=0)
    rng = np.random.default_rng(0)
    world.render()  # warm-up
    t = time.perf_counter()
    for _ in range(steps):
        world.render()
    render_fps = n * steps / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(steps):
        world.step(rng.uniform(-1, 1, (n, 2)))
        world.render()
    step_render_fps = n * steps / (time.perf_counter() - t)
    return {"size": size, "worlds": n, "render_fps": round(render_fps), "step_and_render_fps": round(step_render_fps)}


if __name__ == "__main__":
    print(json.dumps(measure()))
