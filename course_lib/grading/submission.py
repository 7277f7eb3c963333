"""Reading a submitted notebook without running it: its code cells, its chapters, and what its code refers to.

Everything here runs in the grader's own process on the notebook *text*; no student code is
executed. The static checks find answers that refer to the course's own implementation of an
exercise (by resolving the notebook's imports) and constructs worth a human's look (``importlib``,
``ctypes``, ``__closure__``, ...). They only feed ``review.csv``: a review aid that changes no score,
never the defence — that is the sandbox (:mod:`course_lib.grading.bwrap`) and the chapter view.
"""
from __future__ import annotations

import ast
import errno
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.grading.registry import Exercise, all_exercises

MAX_NOTEBOOK_BYTES = 50 * 2**20
BIG_CELL = 256 * 1024   # characters: a larger cell (a pasted data literal) is not parsed here; parsing a 6 MB
                        # list literal takes ~1.3 GB and ~10 s, so only the sandbox compiles it, under its limits
TOP_LEVEL_DEF = re.compile(r"^(?:async[ \t]+)?def[ \t]+(\w+)[ \t]*\(", re.M)


def binds_name(source: str, name: str) -> bool:
    """Whether a cell binds ``name`` at its top level: ``def name(``, ``name = ...`` or an import of it.

    A textual test, without parsing (the cell may be huge or not even Python); a false yes costs nothing worse
    than running the cases of an exercise."""
    name = re.escape(name)
    pattern = (rf"^(?:(?:async[ \t]+)?def[ \t]+{name}[ \t]*\(|{name}[ \t]*(?::[^=\n]*)?=(?!=)"
               rf"|(?:from[ \t]+\S+[ \t]+)?import[ \t].*\b{name}\b)")
    return re.search(pattern, source, re.M) is not None
CHECK_CALL = re.compile(r"""check\(\s*["'](\d\d)\.\d+["']""")
SUSPICIOUS_NAMES = {
    "__import__": "dynamic import (__import__)",
    "importlib": "dynamic import (importlib)",
    "ctypes": "ctypes",
    "__wrapped__": "unwrapping a function (__wrapped__)",
    "__closure__": "reading a closure (__closure__)",
    "__globals__": "reading a function's globals (__globals__)",
    "__code__": "replacing code objects (__code__)",
    "get_referents": "walking the object graph (gc)",
    "get_objects": "walking the object graph (gc)",
    "setprofile": "tracing hooks (sys.setprofile)",
    "settrace": "tracing hooks (sys.settrace)",
}


class InvalidNotebook(ValueError):
    """The file is not a notebook the grader can read; the message says why."""


@dataclass
class Notebook:
    """The code of one submitted notebook, ready to run and to inspect."""

    path: Path
    cells: list[str]                      # code cells as run: plain Python, the learner's check() calls removed
    syntax_errors: dict[int, str] = field(default_factory=dict)
    checked_chapters: set[str] = field(default_factory=set)   # chapters named in the learner's check() calls
    sha256: str = ""
    unparsed: set[int] = field(default_factory=set)   # cells over BIG_CELL characters: run, never parsed here
    _trees: list | None = field(default=None, repr=False, compare=False)
    _functions: dict | None = field(default=None, repr=False, compare=False)

    @property
    def chapters(self) -> set[str]:
        """Chapters this notebook answers: from its check() calls and from the exercise functions it defines."""
        found = set(self.checked_chapters)
        defined = self.defined_functions()
        found |= {ex.chapter for ex in all_exercises().values() if ex.function in defined}
        return found

    def trees(self) -> list[ast.Module]:
        """The syntax trees of the cells that parse, built once (a huge literal is parsed once, not per question)."""
        if self._trees is None:
            self._trees = [ast.parse(source) for index, source in enumerate(self.cells) if self.parsed(index)]
        return self._trees

    def parsed(self, index: int) -> bool:
        """Whether code cell ``index`` is parsed here (not too large, no syntax error)."""
        return index not in self.syntax_errors and index not in self.unparsed

    def defined_functions(self) -> dict[str, int]:
        """Top-level function name -> how many times the notebook defines it."""
        if self._functions is not None:
            return self._functions
        counts: dict[str, int] = {}
        for tree in self.trees():
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    counts[node.name] = counts.get(node.name, 0) + 1
        for index in sorted(self.unparsed):  # a huge cell: top-level ``def name(`` lines, found without parsing
            for name in TOP_LEVEL_DEF.findall(self.cells[index]):
                counts[name] = counts.get(name, 0) + 1
        self._functions = counts
        return counts


def read_bytes(path: Path, limit: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """The file's bytes, read once, without following a symlink or opening anything but a regular file.

    ``O_NOFOLLOW | O_NONBLOCK`` and an ``fstat`` check before reading: a FIFO, socket or device is
    never read from (opening a FIFO non-blocking returns at once), and at most ``limit + 1`` bytes are read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise InvalidNotebook("not a regular file (a symbolic link, not followed)") from None
        raise InvalidNotebook(f"cannot be opened ({err.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidNotebook(f"not a regular file ({file_kind(info.st_mode)})")
        if info.st_size > limit:
            raise InvalidNotebook(f"the file is {info.st_size / 2**20:.0f} MB, more than the {limit // 2**20} MB allowed")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(2**20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise InvalidNotebook(f"the file grew past the {limit // 2**20} MB allowed while being read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def file_kind(mode: int) -> str:
    """A word for what a non-regular directory entry is."""
    for test, word in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return word
    return "not a regular file"


def read_notebook(path: Path, data: bytes | None = None) -> Notebook:
    """Parse a .ipynb file (or its bytes, already read); raise :class:`InvalidNotebook` with a reason a student can act on."""
    path = Path(path)
    data = read_bytes(path) if data is None else data
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise InvalidNotebook(f"the file is {len(data) / 2**20:.0f} MB, more than the {MAX_NOTEBOOK_BYTES // 2**20} MB allowed")
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidNotebook("the file is not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise InvalidNotebook(f"not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})") from None
    except RecursionError:
        raise InvalidNotebook("JSON nested too deeply to be a notebook") from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise InvalidNotebook("not a Jupyter notebook (no list of cells)")
    cells, errors, checked, unparsed = [], {}, set(), set()
    for cell in document["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise InvalidNotebook("a code cell's source is not text")
        checked |= set(CHECK_CALL.findall(source))
        if len(source) > BIG_CELL:
            unparsed.add(len(cells))
            cells.append(source)   # not even IPython's transformer (~0.8 GB on 6 MB): a magic there fails in the sandbox
            continue
        python = _plain_python(source)
        try:
            python = _without_self_checks(python)
        except SyntaxError as err:
            errors[len(cells)] = f"SyntaxError: {err.msg} (line {err.lineno})"
        cells.append(python)
    return Notebook(path, cells, errors, checked, hashlib.sha256(data).hexdigest(), unparsed)


def _without_self_checks(source: str) -> str:
    """The cell with its top-level ``check(...)`` statements replaced by ``pass`` (same line numbers).

    A learner's self-checks only re-run their functions on the public cases; the grader runs
    every case itself, so they would cost time (and a hanging answer would hang twice).
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
                isinstance(node.value.func, ast.Name) and node.value.func.id == "check":
            first, last = node.lineno - 1, node.end_lineno - 1
            indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
            lines[first:last + 1] = [indent + "pass"] + [""] * (last - first)
    return "\n".join(lines)


def _plain_python(source: str) -> str:
    """IPython magics and shell escapes (%time, !pip) become get_ipython() calls, as Jupyter does."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # leave it to the syntax check to report
        return source


# ----------------------------------------------------------------------------- static checks
def _import_bindings(nodes) -> dict[str, str]:
    """Names bound by import statements -> the dotted path they refer to."""
    bindings: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bindings[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    bindings[root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if alias.name == "*":
                    bindings[f"*{node.module}"] = node.module
                else:
                    bindings[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bindings


def _dotted(node) -> list[str] | None:
    """['a', 'b', 'c'] for the expression a.b.c, None for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return None


def _resolved_paths(nodes, bindings: dict[str, str]) -> set[str]:
    """Every dotted path (after resolving imports) that the given AST nodes refer to."""
    paths = set()
    for tree in nodes:
        for node in ast.walk(tree):
            if isinstance(node, (ast.Attribute, ast.Name)):
                chain = _dotted(node)
                if chain and chain[0] in bindings:
                    paths.add(".".join([bindings[chain[0]], *chain[1:]]))
    return paths


def _reachable_code(trees: list[ast.Module], function: str) -> list[ast.AST]:
    """The exercise function's last definition, every top-level function it calls (transitively), and
    top-level statements that assign to its name."""
    functions: dict[str, ast.AST] = {}
    assignments: list[ast.AST] = []
    for tree in trees:
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions[node.name] = node
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == function for t in targets):
                    assignments.append(node)
    seen, todo, reached = set(), [function], list(assignments)
    while todo:
        name = todo.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        reached.append(functions[name])
        todo.extend(n.id for n in ast.walk(functions[name]) if isinstance(n, ast.Name) and n.id in functions)
    return reached


def _implementation_paths(exercise: Exercise) -> dict[str, str]:
    """Dotted path -> "module:qualname" for each course implementation of the exercise.

    For a method (``Scaler.fit``) its class counts too, since methods are called on instances."""
    paths = {}
    for name in exercise.implementations:
        module, qualname = name.split(":")
        paths[f"{module}.{qualname}"] = name
        if "." in qualname:
            paths[f"{module}.{qualname.rsplit('.', 1)[0]}"] = name
    return paths


def reference_uses(notebook: Notebook, exercise: Exercise) -> list[str]:
    """The course implementations of ``exercise`` that the code of the learner's answer refers to."""
    trees = notebook.trees()
    module_nodes = [node for tree in trees for node in tree.body]
    reached = _reachable_code(trees, exercise.function)
    bindings = _import_bindings(module_nodes) | _import_bindings(n for r in reached for n in ast.walk(r))
    targets = _implementation_paths(exercise)
    used = set()
    for path in _resolved_paths(reached, bindings):
        for dotted, name in targets.items():
            if path == dotted or path.startswith(dotted + "."):
                used.add(name)
    for key, module in bindings.items():  # from course_lib.x import *: any implementation in x is in reach
        if key.startswith("*"):
            used |= {name for dotted, name in targets.items() if dotted.rsplit(".", 1)[0] == module}
    return sorted(used)


def suspicious_constructs(notebook: Notebook) -> list[str]:
    """Constructs that can subvert run-time checks, with the cell they appear in (for human review)."""
    found = [f"code cell {index + 1}: {len(notebook.cells[index]) / 2**20:.1f} MB of code, too large to scan"
             for index in sorted(notebook.unparsed)]
    parsed = iter(notebook.trees())
    for index, _source in enumerate(notebook.cells):
        if not notebook.parsed(index):
            continue
        for node in ast.walk(next(parsed)):
            name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                name = next((m.split(".")[0] for m in modules if m.split(".")[0] in SUSPICIOUS_NAMES), None)
            if name in SUSPICIOUS_NAMES:
                found.append(f"code cell {index + 1}: {SUSPICIOUS_NAMES[name]}")
    return sorted(set(found), key=found.index)
