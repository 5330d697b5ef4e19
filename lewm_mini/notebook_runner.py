"""Run a notebook top to bottom in a fresh kernel of this Python, and check a learner's exercises.

    python -m lewm_mini check exercises/03_predictor_exercises.ipynb   # every checker strict: which exercises pass
    python -m lewm_mini check                                          # all of exercises/

``lewm_mini.authoring.execute`` (``tools/execute_notebooks.py``) uses ``execute`` to store the chapters' outputs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
VERDICT = re.compile(r"^\[(?P<mark>[v x])\] (?P<name>.+?): (?P<rest>.*)$")


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (or, with None, remove) environment variables for the kernels started inside."""
    def apply(settings: dict[str, str | None]) -> None:
        for key, value in settings.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    old = {k: os.environ.get(k) for k in values}
    try:
        apply(values)
        yield
    finally:
        apply(old)


def _kernel_manager():
    """A kernel manager whose "python3" kernel is this interpreter (like nbval's --nbval-current-env)."""
    import ipykernel.kernelspec
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    class CurrentEnv(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                          **ipykernel.kernelspec.get_kernel_dict())

    return KernelManager(kernel_name="python3", kernel_spec_manager=CurrentEnv())


def execute(nb, cwd: Path, timeout: int | None = None, allow_errors: bool = False) -> float:
    """Execute ``nb`` (an nbformat notebook, changed in place) in a fresh kernel started in ``cwd``.

    Returns the wall time in seconds, kernel start included. Raises nbclient's CellExecutionError on the
    first failing cell unless ``allow_errors``.
    """
    from nbclient import NotebookClient

    client = NotebookClient(nb, km=_kernel_manager(), timeout=timeout, allow_errors=allow_errors,
                            record_timing=False, resources={"metadata": {"path": str(cwd)}})
    t0 = time.perf_counter()
    client.execute(stderr=subprocess.DEVNULL)  # the kernel's own log lines; cell errors arrive as outputs
    return time.perf_counter() - t0


def _text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return ""
    return output.get("data", {}).get("text/plain", "")


def exercise_report(nb) -> list[tuple[str, str, str]]:
    """(status, exercise, detail) for each check and for each cell that failed without a check verdict.

    status is PASS, FAIL, TODO (not implemented yet) or ERROR (a cell raised before its check could run).
    """
    rows = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        found = False
        for out in cell.get("outputs", []):
            for line in _text(out).splitlines():
                m = VERDICT.match(line.strip())
                if m:
                    found = True
                    status = {"v": "PASS", " ": "TODO"}.get(m["mark"], "FAIL")
                    detail = re.sub(r"^FAIL\.\s*", "", m["rest"])
                    rows.append((status, m["name"], "" if status == "PASS" else detail))
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors and not found:
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            rows.append(("ERROR", f"cell {i} ({first[:50]})", f"{errors[0]['ename']}: {errors[0]['evalue']}"))
    return rows


def check_notebook(path: Path, profile: str = "ci", timeout: int = 600) -> list[tuple[str, str, str]]:
    """Run a learner's exercise notebook (.ipynb, or its .py twin) with every checker strict; the report rows."""
    import jupytext
    import nbformat

    path = Path(path)
    nb = jupytext.read(path) if path.suffix == ".py" else nbformat.read(path, as_version=4)
    with environment(LEWM_PROFILE=profile, LEWM_STRICT="1", TQDM_DISABLE="1", LEWM_QUIET="1", MPLBACKEND="Agg"):
        execute(nb, path.resolve().parent, timeout=timeout, allow_errors=True)
    return exercise_report(nb)


def check_main(paths: list[str], profile: str = "ci") -> int:
    """The ``check`` command: print which exercises pass; exit code 0 only when all of them do."""
    files = [Path(p) for p in paths] or sorted((ROOT / "exercises").glob("[0-9][0-9]_*_exercises.ipynb"))
    if not files:
        print("check: no exercise notebooks found; name one, e.g. exercises/03_predictor_exercises.ipynb",
              file=sys.stderr)
        return 2
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        print(f"check: no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    all_pass = True
    for path in files:
        print(f"{path} ({profile} profile, every checker strict) ...", flush=True)
        rows = check_notebook(path, profile)
        for status, name, detail in rows:
            print(f"  {status:5} {name}" + (f": {detail}" if detail else ""))
        passed = sum(status == "PASS" for status, _, _ in rows)
        checks = sum(status != "ERROR" for status, _, _ in rows)
        print(f"  {passed} of {checks} exercises pass" + ("" if passed == len(rows) else "; fix the ones above"))
        all_pass &= bool(rows) and passed == len(rows)
    return 0 if all_pass else 1
