"""Plots shared by the command line and the notebooks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .world import Geometry, background, render


def plot_plan(traj: np.ndarray, goal: np.ndarray, size: int = 64, success: bool | None = None,
              random_traj: np.ndarray | None = None, ax=None, title: str | None = None):
    """Draw a planned trajectory (T, 2) over the scene, the goal as a ring; returns the axes."""
    import matplotlib.pyplot as plt

    geo = Geometry(size)
    ax = ax or plt.gca()
    ax.imshow(background(geo), extent=(0, size, size, 0))
    if random_traj is not None:
        ax.plot(random_traj[:, 0], random_traj[:, 1], color="0.6", lw=1, label="random policy")
    ax.plot(traj[:, 0], traj[:, 1], color="tab:blue", lw=1.5, label="MPC with LeWM")
    ax.scatter(*traj[0], color="tab:red", s=30, zorder=3, label="start")
    ax.add_patch(plt.Circle(tuple(goal), geo.success_radius, fill=False, color="tab:green", lw=2))
    ax.scatter(*goal, color="tab:green", marker="x", s=30, zorder=3, label="goal")
    ax.set_xlim(0, size), ax.set_ylim(size, 0), ax.set_xticks([]), ax.set_yticks([])
    if title or success is not None:
        ax.set_title(title or ("reached" if success else "missed"))
    return ax


def save_plan_figure(result: dict, path: str | Path, size: int = 64, n: int = 4,
                     random_traj: np.ndarray | None = None) -> Path:
    """Save a figure: for n episodes, the goal image next to the planned trajectory."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    tasks, traj, success = result["tasks"], result["trajectories"], result["success"]
    n = min(n, len(traj))
    fig, axes = plt.subplots(2, n, figsize=(2.6 * n, 5.4), squeeze=False)
    goal_imgs = render(tasks.goal[:n], Geometry(size))
    for i in range(n):
        axes[0, i].imshow(goal_imgs[i])
        axes[0, i].set_title(f"goal image #{i}"), axes[0, i].axis("off")
        plot_plan(traj[i], tasks.goal[i], size, bool(success[i]), ax=axes[1, i],
                  random_traj=None if random_traj is None else random_traj[i])
    axes[1, 0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"{result['protocol']} protocol: success {result['success_rate']:.0%} "
                 f"(random {result['random_success_rate']:.0%})")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
