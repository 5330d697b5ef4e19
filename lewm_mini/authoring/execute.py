"""Execute the chapters in notebooks/ and store their outputs, with a record of how they were made.

    python tools/execute_notebooks.py                         # every chapter, cpu profile, in order
    python tools/execute_notebooks.py --only 05 06            # a subset (still in order)
    python tools/execute_notebooks.py --profile ci --only 01  # a ci-profile timing: recorded, outputs kept

Each notebooks/NN_slug.ipynb is made afresh from its .py twin and run top to bottom in a fresh kernel of
this Python (working directory notebooks/, LEWM_PROFILE set, progress bars and warnings off). With the cpu
profile (or --store-outputs) the notebook is written with its outputs: figures as PNG, interactive widgets
dropped (each has a static figure beside it), streams merged. Its metadata["lewm_mini"] records

    code_sha256  hash of the code cells of the .py twin the outputs come from (record.code_sha256)
    outputs      the stored run: profile, seconds, date, machine (cpu, cores, memory, gpu), torch, python, load
    timings      one entry per profile measured: seconds, date, machine, torch, load, cache

and the title cell's "**Compute**" paragraph (in the .py twin and the .ipynb) is rewritten from `timings`,
as are the chapter's CPU and ci columns of the README's course map. tests/test_notebooks.py fails when a
chapter has no stored outputs, when they come from other code, or when the title disagrees with the record.
Chapters share the usual cache (``--fresh-cache``: one new cache for this run, removed at the end).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient.exceptions import CellExecutionError

from ..notebook import duration
from ..notebook_runner import environment, execute
from . import ROOT, repo_root
from .exercises import notebook_json
from .record import RECORD, code_sha256, compute_text, with_compute

NOTEBOOKS = ROOT / "notebooks"
WIDGET = "application/vnd.jupyter.widget-view+json"


# ----------------------------------------------------------------------------- the record


def machine() -> dict:
    """CPU model, cores this process may use, memory, GPU: the machine the timings belong to."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    info = {"cpu": re.sub(r"\s+", " ", cpu), "cores": cores}
    try:
        info["memory_gb"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    except (ValueError, OSError, AttributeError):
        pass
    import torch

    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def run_record(profile: str, seconds: float, load: float | None, fresh_cache: bool) -> dict:
    import torch

    return {"profile": profile, "seconds": round(seconds, 1), "date": datetime.date.today().isoformat(),
            "machine": machine(), "torch": torch.__version__, "python": platform.python_version(),
            "load": None if load is None else round(load, 2), "cache": "fresh" if fresh_cache else "shared"}


# ----------------------------------------------------------------------------- outputs


def _carriage_returns(text: str) -> str:
    """What a terminal shows: on each line, only the text after the last carriage return."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def clean_outputs(nb) -> None:
    """Drop widget views and state and per-cell timing metadata; merge consecutive streams."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        outs = []
        for out in cell.outputs:
            if WIDGET in out.get("data", {}):
                continue  # an interactive demo: its static figure is stored beside it
            if out.output_type == "stream" and outs and outs[-1].output_type == "stream" \
                    and outs[-1].name == out.name:
                outs[-1].text += out.text
                continue
            outs.append(out)
        for out in outs:
            if out.output_type == "stream":
                out.text = _carriage_returns(out.text)
        cell.outputs = outs


# ----------------------------------------------------------------------------- README


def update_readme(name: str, record: dict) -> bool:
    """Write the chapter's timings into the README's course map (columns headed CPU and ci); True if done."""
    readme = ROOT / "README.md"
    lines = readme.read_text().split("\n")
    timings = record.get("timings", {})
    for i, line in enumerate(lines):
        if f"(notebooks/{name}.ipynb)" not in line or not line.startswith("|"):
            continue
        head = next((lines[j] for j in range(i, -1, -1) if lines[j].startswith("| #")), None)
        if head is None:
            return False
        columns = [c.strip() for c in head.strip("|").split("|")]
        cells = line.strip().strip("|").split("|")
        if len(cells) != len(columns):
            return False
        for profile, match in (("cpu", lambda c: c.startswith("CPU")), ("ci", lambda c: c.startswith("ci"))):
            col = next((k for k, c in enumerate(columns) if match(c)), None)
            if col is not None and profile in timings:
                cells[col] = f" {duration(timings[profile]['seconds'])} "
        lines[i] = "|" + "|".join(cells) + "|"
        readme.write_text("\n".join(lines))
        return True
    return False


# ----------------------------------------------------------------------------- main


def chapters(only: list[str] | None) -> list[Path]:
    found = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
    if not only:
        return found
    wanted = {f"{int(x):02d}" if x.isdigit() else x for x in only}
    picked = [p for p in found if p.name[:2] in wanted or p.stem in wanted]
    unknown = wanted - {p.name[:2] for p in picked} - {p.stem for p in picked}
    if unknown:
        raise SystemExit(f"--only: no chapter {', '.join(sorted(unknown))} in notebooks/")
    return picked


def run_chapter(py: Path, profile: str, store: bool, timeout: int | None, fresh_cache: bool,
                readme: bool) -> float:
    source = py.read_text()
    nb = nbformat.reads(notebook_json(source), as_version=4)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(f"{py.stem}: running ({profile} profile) ...", flush=True)
    seconds = execute(nb, NOTEBOOKS, timeout=timeout)
    ipynb = py.with_suffix(".ipynb")
    old = json.loads(ipynb.read_text()).get("metadata", {}).get(RECORD, {}) if ipynb.exists() else {}
    code = code_sha256(source)
    timings = dict(old.get("timings", {})) if old.get("code_sha256") == code else {}
    run = run_record(profile, seconds, load, fresh_cache)
    timings[profile] = {k: run[k] for k in ("seconds", "date", "machine", "torch", "load", "cache")}
    record = {"code_sha256": code, "timings": timings}
    if store:
        clean_outputs(nb)
        record["outputs"] = run
        executed = nb
    elif old.get("code_sha256") == code and "outputs" in old:
        record["outputs"] = old["outputs"]
        executed = nbformat.reads(ipynb.read_text(), as_version=4)
    else:
        executed = nbformat.reads(notebook_json(source), as_version=4)
        print(f"{py.stem}: no stored outputs from this code yet (run the cpu profile to store them)")
    executed.metadata[RECORD] = record
    source = with_compute(source, compute_text(record))
    py.write_text(source)
    text = notebook_json(source, nbformat.writes(executed))
    ipynb.write_text(text)
    size = len(text.encode()) / 1e6
    print(f"{py.stem}: {seconds:.1f} s ({profile} profile){', outputs stored' if store else ''}, "
          f"{ipynb.name} {size:.2f} MB" + ("  <- large: use smaller figures" if size > 2 else ""), flush=True)
    if readme and not update_readme(py.stem, record):
        print(f"{py.stem}: no row for it in the README's course map; its times are in the title cell only")
    return seconds


def rewrite_titles(py: Path, readme: bool) -> None:
    """Rewrite a chapter's Compute paragraph (.py and .ipynb) and README row from its stored record."""
    ipynb = py.with_suffix(".ipynb")
    record = json.loads(ipynb.read_text()).get("metadata", {}).get(RECORD) if ipynb.exists() else None
    source = with_compute(py.read_text(), compute_text(record))
    py.write_text(source)
    if ipynb.exists():
        ipynb.write_text(notebook_json(source, ipynb.read_text()))
    if readme and record:
        update_readme(py.stem, record)
    print(f"{py.stem}: Compute paragraph rewritten from its record")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=("ci", "cpu", "gpu"), default="cpu")
    ap.add_argument("--only", nargs="+", metavar="NN", help="chapters to run, e.g. 05 06 (default: all)")
    ap.add_argument("--store-outputs", action=argparse.BooleanOptionalAction, default=None,
                    help="store the outputs (default: only for the cpu profile)")
    ap.add_argument("--timeout", type=int, default=None, help="seconds one cell may take (default: no limit)")
    ap.add_argument("--fresh-cache", action="store_true", help="a new, empty cache for this run")
    ap.add_argument("--no-readme", action="store_true", help="leave the README's course map alone")
    ap.add_argument("--titles-only", action="store_true",
                    help="run nothing: rewrite the Compute paragraphs and README columns from the stored records")
    args = ap.parse_args(argv)
    repo_root()  # the checkout this package belongs to, or a clear exit
    if args.titles_only:
        for py in chapters(args.only):
            rewrite_titles(py, not args.no_readme)
        return 0
    store = args.profile == "cpu" if args.store_outputs is None else args.store_outputs
    cache = tempfile.mkdtemp(prefix="lewm_execute_cache_") if args.fresh_cache else os.environ.get("LEWM_CACHE")
    env = {"LEWM_PROFILE": args.profile, "LEWM_CACHE": cache, "LEWM_STRICT": "0", "TQDM_DISABLE": "1",
           "LEWM_QUIET": "1", "PYTHONWARNINGS": "ignore", "MPLBACKEND": None}
    total = 0.0
    try:
        with environment(**env):
            for py in chapters(args.only):
                total += run_chapter(py, args.profile, store, args.timeout, args.fresh_cache, not args.no_readme)
    except CellExecutionError as err:
        print(f"failed, nothing written for this chapter:\n{err}", file=sys.stderr)
        return 1
    finally:
        if args.fresh_cache:
            shutil.rmtree(cache, ignore_errors=True)
    print(f"done: {duration(total)} in all; now run python -m pytest -q tests/test_notebooks.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
