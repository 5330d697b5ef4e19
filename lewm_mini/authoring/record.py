"""What a stored run records in a chapter's notebook, and the title's Compute paragraph written from it.

A chapter's ``.ipynb`` keeps ``metadata["lewm_mini"]`` (``RECORD``), written by ``execute.py``:

    code_sha256  hash of the code cells of the .py twin the outputs come from (``code_sha256``)
    outputs      the stored run: profile, seconds, date, machine (cpu, cores, memory, gpu), torch, python, load
    timings      one entry per profile measured: seconds, date, machine, torch, load, cache

``exercises.py`` keeps a chapter's outputs while that hash is its code's, and gives a new chapter its Compute
paragraph (``start_compute``); ``execute.py`` rewrites the paragraph from ``timings`` (``compute_text``).
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap

from ..notebook import duration

RECORD = "lewm_mini"  # notebook metadata written by execute.py: how and from which code it was run
COMPUTE = "**Compute**"


def code_sha256(py_text: str) -> str:
    """Hash of the code cells of a .py twin (what a run's outputs depend on; prose edits keep them valid).

    The Colab setup cell is left out: it does nothing outside Colab, and its REPO_URL may change.
    """
    import jupytext

    code = [c.source for c in jupytext.reads(py_text, fmt="py:percent").cells if c.cell_type == "code"]
    if code and "google.colab" in code[0]:
        code = code[1:]
    return hashlib.sha256("\n# %%\n".join(code).encode()).hexdigest()


def recorded_sha256(ipynb_text: str | None) -> str | None:
    """The code hash recorded by execute.py in a stored notebook, if any."""
    try:
        return json.loads(ipynb_text)["metadata"][RECORD]["code_sha256"]
    except (TypeError, ValueError, KeyError):
        return None


def compute_text(record: dict | None) -> str:
    """The title cell's Compute paragraph, written from a notebook's record (one line of markdown)."""
    timings = (record or {}).get("timings", {})
    if not timings:
        return (f"{COMPUTE}: CPU (cpu profile) not measured yet; `python tools/execute_notebooks.py` writes "
                "this line.")
    parts = []
    for profile in ("cpu", "gpu", "ci"):
        t = timings.get(profile)
        if not t:
            continue
        m = t["machine"]
        where = f"{m['cores']} cores of {m['cpu']}" if profile != "gpu" else m.get("gpu", "GPU")
        busy = t.get("load") is not None and t["load"] >= 0.5 * m["cores"]
        cache = ", empty cache" if t.get("cache") == "fresh" else ", reusing what earlier runs left in the cache"
        note = cache + (f", machine busy: load {t['load']:.1f}" if busy else "")
        label = {"cpu": "CPU, cpu profile", "gpu": "GPU, gpu profile", "ci": "ci profile"}[profile]
        if profile == "ci":
            parts.append(f"{label} {duration(t['seconds'])}" + (f" ({note[2:]})" if note else ""))
        else:
            parts.append(f"{label} {duration(t['seconds'])} on {where} (torch {t['torch']}, {t['date']}{note})")
    return (f"{COMPUTE} (measured by `tools/execute_notebooks.py`, in a fresh kernel): "
            + "; ".join(parts) + ".")


def title_compute(markdown: str) -> str | None:
    """The Compute paragraph of a title cell as one line, or None."""
    paragraphs = re.split(r"\n\s*\n", markdown)
    for p in paragraphs:
        if p.lstrip().startswith(COMPUTE):
            return " ".join(line.strip() for line in p.strip().splitlines())
    return None


def with_compute(py_text: str, text: str) -> str:
    """The .py twin with its title cell's Compute paragraph replaced by ``text`` (inserted after Time)."""
    lines = py_text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("# %% [markdown]"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("# %%")), len(lines))
    while end > start and not lines[end - 1].strip():
        end -= 1
    cell = lines[start + 1:end]
    new = textwrap.wrap(text, width=106, break_long_words=False, break_on_hyphens=False)
    new = [f"# {line}" for line in new]
    blocks, block = [], []  # paragraphs of the cell, as line lists ("#" lines separate them)
    for line in cell:
        if line.strip() == "#":
            blocks.append(block)
            block = []
        else:
            block.append(line)
    blocks.append(block)
    at = next((i for i, b in enumerate(blocks) if b and b[0].startswith(f"# {COMPUTE}")), None)
    if at is not None:
        blocks[at] = new
    else:
        time = next((i for i, b in enumerate(blocks) if b and b[0].startswith("# **Time")), len(blocks) - 1)
        blocks.insert(time + 1, new)
    cell = []
    for i, b in enumerate(blocks):
        cell += (["#"] if i else []) + b
    return "\n".join(lines[:start + 1] + cell + lines[end:])


def start_compute(py_text: str) -> str:
    """Give a chapter's title cell its Compute paragraph (not measured yet) if it has none, cutting the
    Time paragraph to its first sentence (the reading time): measured times are execute.py's to write."""
    nb_title = py_text.split("\n# %%", 2)[1] if "\n# %%" in py_text else ""
    if f"# {COMPUTE}" in nb_title:
        return py_text
    lines = py_text.split("\n")
    at = next((i for i, line in enumerate(lines) if line.startswith("# **Time:**")), None)
    if at is not None:
        end = next((i for i in range(at, len(lines)) if lines[i].strip() in ("#", "") or
                    (i > at and lines[i].startswith("# %%"))), len(lines))
        paragraph = " ".join(line[2:].strip() for line in lines[at:end])
        first = re.match(r"\*\*Time:\*\*.*?\.(?=\s|$)", paragraph)
        if first:
            lines[at:end] = [f"# {line}" for line in textwrap.wrap(first.group(0), width=106)]
    return with_compute("\n".join(lines), compute_text(None))
