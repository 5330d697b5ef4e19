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
    ax.plot([], [], "o", mfc="none", mec="tab:green", mew=2, ms=9,  # the ring's legend entry
            label=f"success: within {geo.success_radius:.1f} px of the goal")
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
    fig, axes = plt.subplots(2, n, figsize=(2.6 * max(n, 2), 5.4), squeeze=False)
    goal_imgs = render(tasks.goal[:n], Geometry(size))
    for i in range(n):
        axes[0, i].imshow(goal_imgs[i])
        axes[0, i].set_title(f"goal image #{i}"), axes[0, i].axis("off")
        plot_plan(traj[i], tasks.goal[i], size, bool(success[i]), ax=axes[1, i],
                  random_traj=None if random_traj is None else random_traj[i])
    handles, labels = axes[1, 0].get_legend_handles_labels()
    ncol = len(labels) if n >= 3 else 2
    rows = int(np.ceil(len(labels) / ncol))
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=8, frameon=False)  # below, off the paths
    fig.suptitle(f"{result['protocol']} protocol: success {result['success_rate']:.0%} "
                 f"(random {result['random_success_rate']:.0%})")
    fig.tight_layout(rect=(0, 0.06 * rows, 1, 1))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# Boxes of the pipeline figure: key -> (label, x centre, y centre). Keys are what `highlight` accepts.
PIPELINE_PARTS: dict[str, tuple[str, float, float]] = {
    "frames": ("frames\n$o_t$ (64x64 RGB)", 1.0, 3.0),
    "encoder": ("encoder\n(CNN / ViT)", 3.0, 3.0),
    "projector": ("projector\n(MLP, BatchNorm)", 5.0, 3.0),
    "latent": ("latent $z_t$\n(one vector)", 7.0, 3.0),
    "actions": ("action block $a_t$", 9.0, 4.75),
    "predictor": ("predictor\n(causal transformer,\nAdaLN-zero)", 9.0, 3.0),
    "predicted": ("predicted\n$\\hat z_{t+1}$", 11.0, 3.0),
    "sigreg": ("SIGReg($z$)\nlatents Gaussian", 7.0, 1.0),
    "mse": ("MSE($\\hat z_{t+1}$, $z_{t+1}$)\n$z_{t+1}$: next frame", 11.0, 1.0),
    "planner": ("planner (CEM)\nactions that bring\n$\\hat z_H$ near $z_{goal}$", 13.2, 3.0),
}
_ARROWS = [("frames", "encoder"), ("encoder", "projector"), ("projector", "latent"), ("latent", "predictor"),
           ("actions", "predictor"), ("predictor", "predicted"), ("latent", "sigreg"), ("predicted", "mse"),
           ("predicted", "planner")]


def pipeline_figure(highlight: str | list[str], title: str | None = None):
    """Draw LeWM's pipeline as boxes and arrows, with the parts in `highlight` coloured; returns the Figure.

    Parts (keys of ``PIPELINE_PARTS``): frames, encoder, projector, latent, actions, predictor,
    predicted, sigreg, mse, planner. Training loss = MSE + lambda * SIGReg; the planner searches
    action blocks whose imagined last latent is closest to the goal's latent.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    parts = [highlight] if isinstance(highlight, str) else list(highlight)
    unknown = [p for p in parts if p not in PIPELINE_PARTS]
    if unknown:
        raise ValueError(f"unknown pipeline part(s) {unknown}; choose from {list(PIPELINE_PARTS)}")
    fig, ax = plt.subplots(figsize=(10, 3.6))
    w, h = 1.7, 1.0
    for key, (label, x, y) in PIPELINE_PARTS.items():
        on = key in parts
        bw = 2.0 if key in ("planner", "mse") else w
        ax.add_patch(FancyBboxPatch((x - bw / 2, y - h / 2), bw, h, boxstyle="round,pad=0.05",
                                    facecolor="#ffd27f" if on else "#f2f2f2",
                                    edgecolor="#d9480f" if on else "0.6", lw=2.2 if on else 1.0))
        ax.text(x, y, label, ha="center", va="center", fontsize=7.5, color="black" if on else "0.35",
                fontweight="bold" if on else "normal")
    for a, b in _ARROWS:
        (_, xa, ya), (_, xb, yb) = PIPELINE_PARTS[a], PIPELINE_PARTS[b]
        if ya == yb:  # horizontal: from right edge to left edge
            da = 1.0 if a == "predicted" and b == "planner" else w / 2
            db = 1.0 if b == "planner" else w / 2
            start, end = (xa + da + 0.05, ya), (xb - db - 0.05, yb)
        else:  # vertical
            sign = 1 if yb > ya else -1
            start, end = (xa, ya + sign * (h / 2 + 0.05)), (xb, yb - sign * (h / 2 + 0.05))
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="0.3", lw=1.2))
    # The planner feeds candidate action blocks back into the predictor (imagined rollouts)
    ax.add_patch(FancyArrowPatch((13.2, 3.55), (9.9, 4.75), connectionstyle="arc3,rad=0.25", arrowstyle="-|>",
                                 mutation_scale=12, color="0.45", lw=1.0, linestyle="--"))
    ax.text(12.4, 4.6, "candidate actions", fontsize=7, color="0.35")
    ax.text(9.0, 0.15, "training loss = MSE + $\\lambda$ x SIGReg", ha="center", fontsize=8, color="0.25")
    ax.set_xlim(-0.1, 14.4), ax.set_ylim(0, 5.4), ax.axis("off")
    ax.set_title(title or "LeWM pipeline (highlighted: " + ", ".join(parts) + ")", fontsize=9)
    fig.tight_layout()
    return fig


def speed_bars(names: list[str], seconds: list[float], colors: list[str], title: str = "", ax=None):
    """Horizontal bars of seconds per solve on a log axis, each labelled with its value; returns the axes.

    The log scale is set before the limits: a limit set on a linear axis keeps its left edge at 0,
    which a log axis cannot show (every bar then fills the axis).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3))
    ax.barh(names, seconds, color=colors, alpha=0.8)
    for y, v in enumerate(seconds):
        ax.text(v, y, f" {v:.3g} s", va="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(min(seconds) / 3, max(seconds) * 10)  # room for the labels on the right
    ax.set_xlabel("seconds per CEM solve (log scale)")
    ax.invert_yaxis()
    ax.set_title(title, fontsize=9)
    return ax


def filmstrip(imagined: np.ndarray, real: np.ndarray, title: str | None = None,
              imagined_xy: np.ndarray | None = None, real_xy: np.ndarray | None = None):
    """A plan as two rows of frames, one column per action block: what the model imagined above what happened.

    imagined: the decoded imagined frames (K, H, W, 3); real: the frames the world rendered when the
    plan was executed (K, H, W, 3); uint8, or floats in [0, 1]. Column k is the frame after k blocks
    (column 0 is the start: encoded and decoded above, as it was below). Optional positions (K, 2) mark
    where each frame's agent is read (a white cross). Returns the Figure.
    """
    import matplotlib.pyplot as plt

    if len(imagined) != len(real):
        raise ValueError(f"imagined and real need the same number of frames, got {len(imagined)} and {len(real)}")
    k = len(real)
    fig, axes = plt.subplots(2, k, figsize=(1.45 * k + 0.6, 3.3), squeeze=False)
    for row, (frames, xy, name) in enumerate(((imagined, imagined_xy, "imagined\n(decoded)"),
                                              (real, real_xy, "real\n(rendered)"))):
        for j in range(k):
            ax = axes[row, j]
            ax.imshow(frames[j])
            if xy is not None:
                ax.plot(*xy[j], "x", color="white", ms=5, mew=1.2)
            ax.set_xticks([]), ax.set_yticks([])
            if row == 0:
                ax.set_title("start" if j == 0 else f"block {j}", fontsize=8)
        axes[row, 0].set_ylabel(name, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
