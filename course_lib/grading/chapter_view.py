"""The chapter-N view of ``course_lib``: the course library as student code sees it while chapter N is graded.

A view is a folder holding a copy of ``course_lib`` in which every course function that answers an
exercise of chapter N or a later chapter (an exercise's reference and its ``also_implemented_by``) has
its body replaced by a stub that raises :class:`NotAvailableWhileGrading`::

    course_lib.stats.excess_kurtosis is not available while grading chapter 00 — write your own

Earlier chapters' answers stay usable, as the notebooks teach. The view leaves out the grader
itself and the exercise registry (``course_lib/grading/chNN.py``: references, cases, hints); its
``course_lib.grading`` holds only what the worker needs (:mod:`plain`, :mod:`worker`) and a ``check()``
that does nothing (the grader runs every case itself). No compiled ``.pyc`` of the real modules is
copied, so reading the view's source and exec'ing it hands back the stub, not the answer.

The view is built outside the sandbox, once per chapter and run, and bound read-only into it.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import shutil
from dataclasses import dataclass
from pathlib import Path

import course_lib
from course_lib.grading.registry import Exercise

PACKAGE = Path(course_lib.__file__).resolve().parent
GRADING_FILES = ("plain.py", "worker.py")        # the only grading modules the sandbox gets
SKIPPED_DIRS = {"__pycache__", "grading"}
STUB_MODULE = "_not_available"

STUB_SOURCE = '''"""Raised by the course functions that answer the exercises of the chapter being graded."""


class NotAvailableWhileGrading(RuntimeError):
    """A course function that answers an exercise of the chapter being graded (or a later one) was called."""


def not_available(name, chapter):
    raise NotAvailableWhileGrading(f"{name} is not available while grading chapter {chapter} — write your own")
'''

GRADING_INIT = '''"""course_lib.grading as seen while grading: check() does nothing, the grader runs every case itself."""


def check(exercise_id, function):
    """Does nothing while grading: the grader runs every public and private case itself."""
    return None


def run_checks(exercise_id, function):
    """Not available while grading."""
    raise RuntimeError("course_lib.grading.run_checks is not available while grading")


__all__ = ["check", "run_checks"]
'''


@dataclass(frozen=True)
class Target:
    """A course function to replace by a stub: the module that defines it and its qualified name."""

    module: str
    qualname: str

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.qualname}"


def resolve(name: str) -> Target | None:
    """Where ``"module:qualname"`` is defined (following re-exports), or ``None`` outside the view's modules."""
    module_name, qualname = name.split(":")
    if not (module_name == "course_lib" or module_name.startswith("course_lib.")):
        return None  # an instructor's own exercise (private checks): its reference is not in the sandbox at all
    owner = importlib.import_module(module_name)
    for part in qualname.split("."):
        owner = getattr(owner, part)
    if isinstance(owner, (staticmethod, classmethod)):
        owner = owner.__func__
    if isinstance(owner, property):
        owner = owner.fget
    owner = inspect.unwrap(owner)
    defining = getattr(owner, "__module__", None)
    if not defining or not (defining == "course_lib" or defining.startswith("course_lib.")) or \
            defining.startswith("course_lib.grading"):
        return None  # not in the view (the registry's own references are not copied at all)
    return Target(defining, owner.__qualname__)


def targets_for(chapter: str, exercises: dict[str, Exercise]) -> list[Target]:
    """Every course function answering an exercise of ``chapter`` or a later chapter, sorted."""
    found = set()
    for exercise in exercises.values():
        if exercise.chapter >= chapter:
            for name in exercise.implementations:
                target = resolve(name)
                if target is not None:
                    found.add(target)
    return sorted(found, key=lambda t: (t.module, t.qualname))


def _module_path(root: Path, module: str) -> Path:
    parts = module.split(".")
    folder = root.joinpath(*parts)
    return folder / "__init__.py" if folder.is_dir() else folder.with_suffix(".py")


class _Stubber(ast.NodeTransformer):
    """Replace the bodies of the named functions (qualified names) by a call that raises; for a named class,
    the bodies of all its methods (and an ``__init__``, so that making one raises)."""

    def __init__(self, module: str, qualnames: set[str], chapter: str):
        self.module, self.wanted, self.chapter = module, qualnames, chapter
        self.scope: list[str] = []
        self.done: set[str] = set()

    def _raise(self, name: str) -> ast.stmt:
        call = f"__import__('course_lib.{STUB_MODULE}', fromlist=['x']).not_available({name!r}, {self.chapter!r})"
        return ast.Expr(ast.parse(call, mode="eval").body)

    def visit_ClassDef(self, node):
        qualname = ".".join([*self.scope, node.name])
        if qualname in self.wanted:  # a class that answers: every method of it, and making one, raises
            self.done.add(qualname)
            methods = [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
            for method in methods:
                docstring = method.body[:1] if ast.get_docstring(method, clean=False) is not None else []
                method.body = docstring + [self._raise(f"{self.module}.{qualname}")]
            if not any(m.name == "__init__" for m in methods):
                init = ast.parse("def __init__(self, *args, **kwargs):\n    pass").body[0]
                init.body = [self._raise(f"{self.module}.{qualname}")]
                node.body.append(init)
            return node
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()
        return node

    def _function(self, node):
        qualname = ".".join([*self.scope, node.name])
        if qualname in self.wanted:
            self.done.add(qualname)
            docstring = node.body[:1] if ast.get_docstring(node, clean=False) is not None else []
            node.body = docstring + [self._raise(f"{self.module}.{qualname}")]
            return node
        self.scope.append(node.name)
        self.scope.append("<locals>")
        self.generic_visit(node)
        self.scope.pop()
        self.scope.pop()
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = _function


def stub_source(source: str, module: str, qualnames: set[str], chapter: str) -> str:
    """The module's source with the named functions' bodies replaced by the stub (docstrings kept)."""
    tree = ast.parse(source)
    stubber = _Stubber(module, qualnames, chapter)
    tree = ast.fix_missing_locations(stubber.visit(tree))
    missing = qualnames - stubber.done
    if missing:
        raise ValueError(f"cannot build the chapter {chapter} view: no definition of "
                         f"{', '.join(sorted(missing))} in {module}")
    return ast.unparse(tree) + "\n"


def build_view(chapter: str, exercises: dict[str, Exercise], folder: Path) -> list[Target]:
    """Write the chapter-``chapter`` view of course_lib into ``folder`` (which must not exist); returns the stubs."""
    folder = Path(folder)
    destination = folder / "course_lib"
    shutil.copytree(PACKAGE, destination,
                    ignore=lambda where, names: [n for n in names if n in SKIPPED_DIRS or n.endswith((".pyc", ".pyo"))])
    grading = destination / "grading"
    grading.mkdir()
    for name in GRADING_FILES:
        shutil.copy2(PACKAGE / "grading" / name, grading / name)
    (grading / "__init__.py").write_text(GRADING_INIT, encoding="utf-8")
    (destination / f"{STUB_MODULE}.py").write_text(STUB_SOURCE, encoding="utf-8")
    targets = targets_for(chapter, exercises)
    by_module: dict[str, set[str]] = {}
    for target in targets:
        by_module.setdefault(target.module, set()).add(target.qualname)
    for module, qualnames in by_module.items():
        path = _module_path(folder, module)
        path.write_text(stub_source(path.read_text(encoding="utf-8"), module, qualnames, chapter), encoding="utf-8")
    for path in [folder, *folder.rglob("*")]:  # readable by the sandbox's user (it is bound read-only)
        path.chmod(0o755 if path.is_dir() else 0o644)
    return targets
