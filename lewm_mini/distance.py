"""A learned distance in time: how many action blocks separate two states, read off their latents.

The planning cost ||z - z_goal||^2 is informative only near the goal. SIGReg asks for latents
spread like an isotropic Gaussian, so two far-apart states sit at a squared distance of about 2D
whatever their true distance, and a goal behind the wall looks as far as any other. What the
planner needs is a distance in time: the number of steps from here to the goal, round the wall.

``DistanceHead`` learns it on frozen LeWM latents, from the training episodes alone. Its targets
are the shortest-path distances (in action blocks) of the waypoint graph over training frames
(``lewm_mini.graph``): transitions that really happened, stitched across episodes. The head is a
metric embedding, d(z, g) = ||e(z) - e(g)||, so it is symmetric and obeys the triangle inequality,
and the planner embeds the goal once and each imagined latent once (cheap inside CEM).
Planning never reads true positions; they serve only to judge the head (``world.geodesic_distance``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.sparse.csgraph import dijkstra
from torch import nn
from tqdm.auto import tqdm

from .config import show_progress
from .graph import LatentGraph


@dataclass
class DistanceConfig:
    """Sizes of the head and its training (cpu profile: 35 s on 2 idle cores, 5,250-node graph)."""

    width: int = 128
    out: int = 32  # embedding dimension
    sources: int = 1500  # graph nodes whose shortest paths to every node give the targets
    steps: int = 2000
    batch: int = 1024
    lr: float = 2e-3
    near: float = 6.0  # half of each batch: pairs at most this many blocks apart
    noise: float = 0.1  # latent noise during training, in units of the graph's median one-block step
    seed: int = 0


# Per profile: ci proves the code runs in seconds; cpu and gpu as measured on the cpu profile's graph.
DISTANCE_SIZES = {"ci": DistanceConfig(width=32, out=8, sources=50, steps=60, batch=128),
                  "cpu": DistanceConfig(), "gpu": DistanceConfig()}


class DistanceHead(nn.Module):
    """d(z, g): estimated action blocks from latent z (..., D) to latent g (..., D), as ||e(z) - e(g)||."""

    def __init__(self, latent: int, width: int = 256, out: int = 32):
        super().__init__()
        self.train_seconds = float("nan")  # how long training took (cached_distance records it)
        self.embed = nn.Sequential(nn.Linear(latent, width), nn.GELU(), nn.Linear(width, width), nn.GELU(),
                                   nn.Linear(width, out))

    def forward(self, z: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """Latents z, g (..., D), broadcastable -> distances (...) in action blocks."""
        return between(self.embed(z), self.embed(g))


def between(ez: torch.Tensor, eg: torch.Tensor) -> torch.Tensor:
    """Distance between embeddings (..., E): the head's output once e(z) and e(g) are computed."""
    return ((ez - eg) ** 2).sum(-1).add(1e-8).sqrt()


def graph_targets(graph: LatentGraph, sources: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Shortest-path distances (S, N) in blocks from ``sources`` random nodes to every node, and the sources (S,)."""
    rng = np.random.default_rng(seed)
    src = np.sort(rng.choice(len(graph.z), min(sources, len(graph.z)), replace=False))
    return dijkstra(graph.adj, directed=False, indices=src).astype(np.float32), src


def train_distance(graph: LatentGraph, cfg: DistanceConfig | None = None, progress: bool = True
                   ) -> tuple[DistanceHead, list[float]]:
    """Fit a ``DistanceHead`` to the graph's shortest-path distances between node latents.

    Half of each batch is uniform (source, node) pairs, half pairs at most ``cfg.near`` blocks apart, where the
    planner needs the most precision. The loss is the squared error divided by (1 + d): an error of
    one block matters more near the goal than across the arena. Returns (head in eval mode, losses).
    """
    cfg = cfg or DistanceConfig()
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    dist, src = graph_targets(graph, cfg.sources, cfg.seed)
    dist = torch.from_numpy(dist)
    ok = torch.isfinite(dist)
    near = torch.nonzero(ok & (dist <= cfg.near))  # (K, 2) (source row, node)
    far = torch.nonzero(ok)
    z = graph.z.float().cpu()
    src = torch.from_numpy(src)
    head = DistanceHead(z.shape[1], cfg.width, cfg.out)
    opt = torch.optim.AdamW(head.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=cfg.steps, pct_start=0.05)
    sigma = cfg.noise * graph.block_step
    losses = []
    for _ in tqdm(range(cfg.steps), desc="distance head (steps)", disable=not show_progress(progress)):
        half = cfg.batch // 2
        pairs = torch.cat([near[torch.randint(len(near), (half,), generator=gen)],
                           far[torch.randint(len(far), (cfg.batch - half,), generator=gen)]])
        target = dist[pairs[:, 0], pairs[:, 1]]
        za, zb = z[src[pairs[:, 0]]], z[pairs[:, 1]]
        za = za + sigma * torch.randn(za.shape, generator=gen)
        zb = zb + sigma * torch.randn(zb.shape, generator=gen)
        loss = ((head(za, zb) - target) ** 2 / (1 + target)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return head.eval(), losses


def model_fingerprint(model: nn.Module) -> str:
    """A short hash of a model's weights: a cached head is rebuilt when the model it was trained on changes."""
    h = hashlib.sha1()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().numpy().tobytes())
    return h.hexdigest()[:12]


def cached_distance(model: nn.Module, folder: str | Path, graph: LatentGraph, cfg: DistanceConfig | None = None,
                    progress: bool = True) -> DistanceHead:
    """The distance head of a trained model and its graph: loaded from ``folder`` (the run's folder, beside
    the checkpoint), or trained and saved there as ``distance-<hash>.pt``, the hash of its settings, the
    model's weights and the graph's size: another model or graph gets its own head, trained when first asked for.

    The graph must be built from training episodes only (``build_graph(model, episodes, ...)``).
    """
    from .train import load_trained, save_trained

    cfg = cfg or DistanceConfig()
    settings = dataclasses.asdict(cfg) | {"model": model_fingerprint(model), "nodes": len(graph.z),
                                          "edges": int(graph.adj.nnz)}
    path = Path(folder) / f"distance-{hashlib.sha1(repr(sorted(settings.items())).encode()).hexdigest()[:10]}.pt"
    head = DistanceHead(graph.z.shape[1], cfg.width, cfg.out)
    try:
        saved = load_trained(path, settings)
    except ValueError as err:
        print(f"distance head: {err}")
        saved = None
    if saved is not None:
        head.load_state_dict(saved["state"]["head"])
        head.train_seconds = saved["seconds"]
        print(f"distance head: in the cache ({path.name}, trained in {saved['seconds']:.0f} s): loading it")
        return head.eval()
    print(f"distance head: not in the cache: training it on the graph's shortest paths ({cfg.steps} steps)")
    t0 = time.perf_counter()
    head, losses = train_distance(graph, cfg, progress)
    seconds = time.perf_counter() - t0
    save_trained(path, settings, {"head": head}, losses=losses, seconds=seconds)
    head.train_seconds = seconds
    print(f"distance head: trained in {seconds:.0f} s (final loss {np.mean(losses[-50:]):.3f}), saved as {path.name}")
    return head
