"""Scaffold a new exercise: the hand-written parts that do not exist yet, never overwriting anything.

    python tools/make_exercises.py --new-exercise 10 my_function

An exercise's hand-written parts (CONTRIBUTING.md, "Adding an exercise", walks through Exercise 10.2): its cells in
solutions/NN_slug_solutions.py, its checker ``check_<name>`` in lewm_mini/checks/chNN.py, the reference answer
``<name>_reference`` and the wrong answers it recognises (``<name>_wrong``) in lewm_mini/checks/answers/chNN.py,
and tests/test_checks_chNN.py (right answers accepted, each plausible mistake rejected with its own hint). This
appends a skeleton of each of the last three to its file (creating the file if there is none) unless the file
already defines a name it would write, and prints the exercise and check cells to paste into the solutions
(where the exercise belongs in the chapter is the author's call). Every file it writes is checked to parse
first. The TODOs make the new tests fail until the exercise is written.
"""

from __future__ import annotations

import ast
import copy
import keyword
import re
from pathlib import Path

RULE = "# " + "-" * 77  # the section rule the checkers and their tests use

CHECKS_HEAD = '''"""Checkers for chapter {nn} (TODO: what the chapter's exercises build)."""

from __future__ import annotations

from typing import Callable

import torch

from . import CheckFailed, as_tensor, run_check
from .answers import ch{nn} as _answers  # reference answers, kept out of this module
'''
ANSWERS_HEAD = '''"""Reference answers for the checkers of chapter {nn} (``lewm_mini.checks.ch{nn}``), and the wrong
answers the checkers recognise to give a precise hint."""

from __future__ import annotations
'''
TESTS_HEAD = '''"""Chapter {nn} checkers accept the reference solutions and reject plausible wrong answers."""

from __future__ import annotations

import pytest

from reference import accepts, solutions_of

from lewm_mini.checks.answers.ch{nn} import {fn}_reference
from lewm_mini.checks.ch{nn} import check_{fn}

STEM = "{stem}"
'''

# What each skeleton uses, and the import that binds it (appended, marked, where the file lacks it).
CHECKS_IMPORTS = {"Callable": "from typing import Callable", "torch": "import torch",
                  "CheckFailed": "from . import CheckFailed", "as_tensor": "from . import as_tensor",
                  "run_check": "from . import run_check",
                  "_answers": "from .answers import ch{nn} as _answers  # reference answers, kept out of this module"}
TESTS_IMPORTS = {"pytest": "import pytest", "accepts": "from reference import accepts",
                 "solutions_of": "from reference import solutions_of",
                 "check_{fn}": "from lewm_mini.checks.ch{nn} import check_{fn}",
                 "{fn}_reference": "from lewm_mini.checks.answers.ch{nn} import {fn}_reference"}

CHECKER = '''{rule} Exercise {ex}


def _cases_{fn}() -> list[tuple[str, tuple]]:
    """(what it tests, the arguments to call {fn} with): small fixed inputs, seeded, each case aimed at one
    part of the exercise a learner can get wrong (the edge cases too). See _cases_history in ch10.py."""
    return []  # TODO: the cases


HINTS_{tag} = {{  # the wrong answers _answers.{fn}_wrong recognises, and the hint a learner reads for each
    # TODO: "name": "what went wrong, and what to do instead",
}}


def check_{fn}(fn: Callable, strict: bool | None = None) -> bool:
    """fn{signature} -> TODO: what it returns, with shapes."""

    def test() -> None:
        cases = _cases_{fn}()
        if not cases:
            raise CheckFailed("TODO: check_{fn} has no cases yet (lewm_mini/checks/ch{nn}.py)")
        for what, args in cases:
            info = f" (case: {{what}})"
            # TODO: pass copies of the arguments if a learner might change them in place
            got = as_tensor(fn(*args), "{fn}")
            want = as_tensor(_answers.{fn}_reference(*args), "the reference")
            if tuple(got.shape) != tuple(want.shape):
                raise CheckFailed(f"{fn} must return shape {{tuple(want.shape)}}, got {{tuple(got.shape)}}" + info)
            if torch.allclose(got, want, atol=1e-5):
                continue
            for name, wrong in _answers.{fn}_wrong(*args).items():
                if torch.allclose(got, as_tensor(wrong, name), atol=1e-5):
                    raise CheckFailed(HINTS_{tag}[name] + info)
            raise CheckFailed("TODO: what {fn} must return, in words a learner can act on" + info)

    return run_check("Exercise {ex} {fn}", test, strict)
'''

ANSWERS = '''{rule} Exercise {ex}


def {fn}_reference({args}):
    """What {fn} must return: the answer of solutions/{stem}_solutions.py,
    written again for the checker (tests/test_checks_ch{nn}.py checks that the two agree)."""
    raise NotImplementedError("TODO: {fn}_reference (lewm_mini/checks/answers/ch{nn}.py)")


def {fn}_wrong({args}) -> dict[str, object]:
    """Plausible wrong answers, by what they get wrong: each name has its hint in
    lewm_mini.checks.ch{nn}.HINTS_{tag}. Leave out a mistake a shape check already catches."""
    return {{}}  # TODO: one entry per mistake a learner is likely to make
'''

TESTS = '''{rule} Exercise {ex}

# Each mutant is a plausible learner mistake, written as a small function beside the table (see Exercise 10.2
# in tests/test_checks_ch10.py): the checker must reject it with its own hint, and the table names words of it.

{up}_CORRECT = {{
    "the reference solution": lambda: solution("{fn}"),
    "the checker's reference": lambda: {fn}_reference,
    # TODO: right answers written differently (numpy for torch, a loop, another order of operations)
}}

# each wrong answer, and words its hint must contain
{up}_MUTANTS: dict[str, tuple] = {{
    # TODO: "what the learner got wrong": (the wrong function, "words of its hint"),
}}


@pytest.mark.parametrize("name", {up}_CORRECT)
def test_{fn}_accepts(name):
    assert accepts(check_{fn}, {up}_CORRECT[name]())


@pytest.mark.parametrize("name", {up}_MUTANTS)
def test_{fn}_rejects_mutant_with_its_hint(name, capsys):
    mutant, words = {up}_MUTANTS[name]
    assert not accepts(check_{fn}, mutant)
    out = capsys.readouterr().out
    assert "FAIL. Hint:" in out and words in out, out


def test_{fn}_has_mutants():
    assert {up}_MUTANTS, "TODO: the plausible wrong answers check_{fn} must reject, each with its hint"


def test_{fn}_stub_and_strict(capsys):
    def stub(*args):
        raise NotImplementedError("{fn}")

    assert not accepts(check_{fn}, stub)
    assert "not implemented" in capsys.readouterr().out
    with pytest.raises(AssertionError):
        check_{fn}(stub, strict=True)
    assert check_{fn}(solution("{fn}"), strict=True)
'''

EXERCISE_CELLS = '''# %% [markdown]
# ## Exercise {ex} · TODO: a title
#
# TODO: what to write: `{fn}(...)`, its arguments and their shapes, what it returns, in which order.
#
# <details><summary>Hint</summary>
#
# TODO: the first step, without the answer.
# </details>

# %%
def {fn}({params}):
    """TODO: the arguments (shapes) -> what it returns."""
    ### BEGIN SOLUTION
    raise NotImplementedError("TODO: the solution")
    ### END SOLUTION


'''
CHECK_CELL = '''# %%
check_{fn}({fn})
'''


def bound_names(tree: ast.Module) -> set[str]:
    """The names a module binds at its top level: definitions, assignments, imports."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {a.asname or a.name.split(".")[0] for a in node.names}
    return names


def import_lines(wanted: dict[str, str], have: set[str]) -> list[str]:
    """The import lines that bind the names of ``wanted`` a module lacks, in order (``from x import a, b`` merged)."""
    lines: dict[str, list[str]] = {}  # a plain line, or a module -> the names to import from it
    for name, line in wanted.items():
        if name in have:
            continue
        m = re.fullmatch(r"from (\S+) import (\w+)", line)
        if m:
            lines.setdefault(f"from {m.group(1)} import", []).append(m.group(2))
        else:
            lines.setdefault(line, [])
    return [f"{line} {', '.join(sorted(names))}" if names else line for line, names in lines.items()]


def padded(text: str) -> str:
    """``text`` followed by the newlines that leave two blank lines before what is appended to it."""
    trailing = len(text) - len(text.rstrip("\n"))
    return text + "\n" * max(0, 3 - trailing) if text.strip() else text


def add_section(path: Path, head: str, imports: dict[str, str], section: str, defines: list[str],
                extra: str = "") -> str:
    """Append ``section`` to ``path`` (a new file starts with ``head``), after the imports it lacks and ``extra``;
    nothing when the module already binds a name of ``defines``. Returns what was done, in words."""
    old = path.read_text() if path.exists() else None
    have = bound_names(ast.parse(old if old is not None else head))
    taken = [n for n in defines if n in have] if old is not None else []
    if taken:
        return f"left alone: it already has {', '.join(taken)}"
    lines = import_lines(imports, have)
    if lines:
        lines = ["# added by --new-exercise: move these imports up to the others", *lines]
    parts = [p.rstrip("\n") for p in ("\n".join(lines), extra) if p]
    if old is None:
        body = "\n\n".join([head.rstrip("\n"), *parts, section])
    else:
        body = padded(old) + "".join(p + "\n\n\n" for p in parts) + section
    ast.parse(body, filename=str(path))  # never write a file that does not parse
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    return "created" if old is None else "appended to"


def signature(solutions: Path, fn: str) -> ast.arguments | None:
    """The arguments of ``fn`` in the solutions file, if it is written there already."""
    if not solutions.exists():
        return None
    for node in ast.parse(solutions.read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name == fn:
            return node.args
    return None


def bare(args: ast.arguments) -> str:
    """Arguments without their annotations (the answers module need not import their types)."""
    args = copy.deepcopy(args)
    for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if a is not None:
            a.annotation = None
    return ast.unparse(args)


def new_exercise(root: Path, chapter: str, fn: str) -> int:
    """Scaffold exercise ``fn`` of chapter ``chapter`` in the checkout ``root``; say what was done and what is left."""
    if not chapter.isdigit():
        raise SystemExit(f"--new-exercise: the chapter is a number (e.g. 10), got {chapter!r}")
    if not fn.isidentifier() or keyword.iskeyword(fn):
        raise SystemExit(f"--new-exercise: {fn!r} is not a Python function name")
    num, nn = int(chapter), f"{int(chapter):02d}"
    found = sorted((root / "solutions").glob(f"{nn}_*_solutions.py"))
    stem = found[0].name.removesuffix("_solutions.py") if found else None
    if stem is None:
        chapters = sorted((root / "notebooks").glob(f"{nn}_*.py"))
        if not chapters:
            raise SystemExit(f"--new-exercise: no chapter {nn} in notebooks/ (notebooks/{nn}_slug.py)")
        stem = chapters[0].stem
    solutions = root / "solutions" / f"{stem}_solutions.py"
    text = solutions.read_text() if solutions.exists() else ""
    numbers = [int(k) for k in re.findall(rf"(?m)^# ## Exercise {num}\.(\d+)", text)]
    defined = re.search(rf"(?m)^def {fn}\(", text)
    if defined:  # written already: its number is that of the last heading before it
        before = re.findall(rf"(?m)^# ## Exercise {num}\.(\d+)", text[: defined.start()])
        k = int(before[-1]) if before else max(numbers, default=0) + 1
    else:
        k = max(numbers, default=0) + 1
    args = signature(solutions, fn)
    fields = {"rule": RULE, "ex": f"{num}.{k}", "tag": f"{num}{k}", "fn": fn, "nn": nn, "stem": stem,
              "up": fn.upper(), "args": bare(args) if args is not None else "*args",
              "params": "*args" if args is None else ast.unparse(args),
              "signature": f"({ast.unparse(args)})" if args is not None else "(TODO: its arguments)"}

    def fill(template: str) -> str:
        return template.format(**fields)

    def imports(table: dict[str, str]) -> dict[str, str]:
        return {fill(name): fill(line) for name, line in table.items()}

    checks = root / "lewm_mini" / "checks" / f"ch{nn}.py"
    answers = root / "lewm_mini" / "checks" / "answers" / f"ch{nn}.py"
    tests = root / "tests" / f"test_checks_ch{nn}.py"
    done = {}
    done[checks] = add_section(checks, fill(CHECKS_HEAD), imports(CHECKS_IMPORTS), fill(CHECKER),
                               [f"check_{fn}", f"_cases_{fn}", f"HINTS_{num}{k}"])
    done[answers] = add_section(answers, fill(ANSWERS_HEAD), {}, fill(ANSWERS), [f"{fn}_reference", f"{fn}_wrong"])
    have_tests = bound_names(ast.parse(tests.read_text() if tests.exists() else fill(TESTS_HEAD)))
    solution_line = ("" if "solution" in have_tests else
                     f"solution = solutions_of({'STEM' if 'STEM' in have_tests else repr(stem)})\n")
    done[tests] = add_section(tests, fill(TESTS_HEAD), imports(TESTS_IMPORTS), fill(TESTS),
                              [f"check_{fn}", f"{fields['up']}_CORRECT", f"{fields['up']}_MUTANTS"],
                              extra=solution_line)
    print(f"Exercise {num}.{k} {fn} (chapter {stem}):")
    for path, what in done.items():
        print(f"  {path.relative_to(root)}: {what}")
    cells = ("" if defined else fill(EXERCISE_CELLS)) + ("" if f"check_{fn}(" in text else fill(CHECK_CELL))
    if cells:
        print(f"\nPaste into solutions/{stem}_solutions.py where the exercise belongs"
              + (" (the file does not exist yet: start it from another chapter's)" if not solutions.exists() else "")
              + f", and add check_{fn} to its `from lewm_mini.checks.ch{nn} import ...` line:\n")
        print(cells)
    wrote = {path for path, what in done.items() if not what.startswith("left alone")}
    steps = [(f"solutions/{stem}_solutions.py: the check cell above" if defined else
              f"solutions/{stem}_solutions.py: the exercise's text, signature and solution (### BEGIN/END SOLUTION)")
             if cells else None,
             f"lewm_mini/checks/answers/ch{nn}.py: {fn}_reference, and the mistakes {fn}_wrong recognises"
             if answers in wrote else None,
             f"lewm_mini/checks/ch{nn}.py: check_{fn}'s cases, and a hint for each recognised mistake"
             if checks in wrote else None,
             f"tests/test_checks_ch{nn}.py: other right answers, and one mutant per plausible mistake with words of "
             "its hint" if tests in wrote else None]
    steps = [s for s in steps if s]
    if not steps:
        print("Nothing to scaffold: the exercise's checker, reference answer, tests and cells all exist.")
        return 0
    steps += [f"notebooks/{stem}.py: a pointer to Exercise {num}.{k} where the chapter meets the idea",
              "python tools/make_exercises.py   (writes the solutions .ipynb and exercises/)",
              f"python -m pytest -q tests/test_checks_ch{nn}.py   (fails on each TODO until it is done)",
              f"python -m lewm_mini check exercises/{stem}_exercises.ipynb   (says TODO for the new exercise)"]
    print("Left by hand (each TODO):")
    for i, step in enumerate(steps, 1):
        print(f"  {i}. {step}")
    return 0
