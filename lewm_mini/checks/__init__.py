"""Checkers for the exercises: they tell a learner whether their function is right.

Every checker takes the learner's function and runs it against the package's reference on fixed
inputs. In learner mode it prints PASS, FAIL with a hint, or "not implemented yet", and never
raises, so "Run All" always finishes. In strict mode (LEWM_STRICT=1, CI on solutions/) anything
but a pass raises AssertionError.

A chapter's checkers live in ``lewm_mini/checks/chNN.py`` and are built on ``run_check``.
"""

from __future__ import annotations

import os
import traceback
from typing import Callable

import numpy as np
import torch


class CheckFailed(AssertionError):
    """A learner's answer is wrong; the message is the hint."""


class Verdict(int):
    """A checker's result: true on a pass. Truthy like a bool, but shows nothing as a cell's last value
    (a check cell prints its message, not a trailing ``True``/``False``)."""

    def __repr__(self) -> str:
        return "PASS" if self else "not passed"

    def _ipython_display_(self) -> None:
        pass


def strict_mode() -> bool:
    return os.environ.get("LEWM_STRICT", "") not in ("", "0")


def run_check(name: str, test: Callable[[], None], strict: bool | None = None) -> Verdict:
    """Run ``test`` (which raises CheckFailed with a hint when the answer is wrong).

    Returns a true ``Verdict`` on a pass. Prints the verdict; raises only in strict mode.
    """
    strict = strict_mode() if strict is None else strict
    try:
        test()
    except NotImplementedError:
        msg = f"[ ] {name}: not implemented yet. Replace the `raise NotImplementedError` with your code."
        print(msg)
        if strict:
            raise AssertionError(msg) from None
        return Verdict(False)
    except CheckFailed as err:
        msg = f"[x] {name}: FAIL. Hint: {err}"
        print(msg)
        if strict:
            raise AssertionError(msg) from None
        return Verdict(False)
    except Exception as err:  # the learner's code crashed
        msg = f"[x] {name}: your code raised {type(err).__name__}: {err}"
        print(msg)
        print("".join(traceback.format_exception_only(type(err), err)).strip())
        if strict:
            raise AssertionError(msg) from err
        return Verdict(False)
    print(f"[v] {name}: PASS")
    return Verdict(True)


def require(condition: bool, hint: str) -> None:
    """Raise CheckFailed with ``hint`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(hint)


def as_tensor(x, name: str) -> torch.Tensor:
    """What the learner's ``name`` returned, as a detached float tensor (a numpy array is converted);
    anything else fails the check with a hint."""
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise CheckFailed(f"{name} must return a tensor, got {type(x).__name__}")
    return x.detach().float()
