"""Reference answers for the checkers of chapter 05 (``lewm_mini.checks.ch05``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def two_term_loss_reference(encoder, predictor, sigreg, frames: torch.Tensor, actions: torch.Tensor,
                            lam: float) -> dict[str, torch.Tensor]:
    t, b = frames.shape[:2]
    z = encoder(frames.flatten(0, 1)).unflatten(0, (t, b))  # (T, B, D)
    z_bt, a_bt = z.transpose(0, 1), actions.transpose(0, 1)
    pred = predictor(z_bt[:, :-1], a_bt[:, :-1])  # (B, T-1, D)
    pred_loss = F.mse_loss(pred, z_bt[:, 1:])
    sig = sigreg(z)
    return {"loss": pred_loss + lam * sig, "pred": pred_loss, "sigreg": sig}


def accumulated_step_reference(model, opt, loss_fn, micro_batches, max_norm: float,
                               zero_grad: str = "first", clip: bool = True, step: str = "last",
                               weights: str = "size") -> tuple[float, float]:
    """The reference (defaults) and its classic mistakes (the other options), used to give hints.

    weights: "size" (each micro-batch's mean loss times its share of the samples), "count" (divided by the
    number of micro-batches), "none" (summed).
    """
    if step == "stale":  # steps with whatever .grad holds, before this batch's gradients exist
        opt.step()
    if zero_grad == "first":
        opt.zero_grad(set_to_none=True)
    if step == "first":
        opt.step()
    n = sum(len(b[0]) for b in micro_batches)
    total = 0.0
    for b in micro_batches:
        if zero_grad == "each":
            opt.zero_grad(set_to_none=True)
        w = {"size": len(b[0]) / n, "count": 1 / len(micro_batches), "none": 1.0}[weights]
        loss = loss_fn(model, b) * w
        loss.backward()
        total += float(loss.detach())
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm if clip else float("inf"))
    if step == "last":
        opt.step()
    return total, float(norm)
