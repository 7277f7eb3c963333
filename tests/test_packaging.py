"""Set-up files agree with each other: conda/Binder pins match pyproject's; the Makefile's targets exist;
everything a lesson imports is a main dependency (not only a test or book extra)."""
import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import nbformat
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pyproject_pins():
    extras = [pin for group in PROJECT["optional-dependencies"].values() for pin in group]
    return sorted(PROJECT["dependencies"] + extras)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules(source: str) -> set[str]:
    """Dotted names of every absolute import in ``source``, module level or inside functions; a
    ``from m import n`` gives both ``m`` and ``m.n`` (``n`` may be a submodule)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def lesson_source(path: Path) -> str:
    """The code cells of a notebook as one Python source, IPython magics and shell lines left out."""
    sources = []
    for number, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type == "code":
            code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            try:
                ast.parse(code)
            except SyntaxError as error:
                raise AssertionError(f"{path.name}, cell {number}: not valid Python ({error})") from None
            sources.append(code)
    return "\n".join(sources)


def course_lib_file(module: str) -> Path | None:
    path = ROOT.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def third_party_imports(source: str) -> tuple[set[str], set[str]]:
    """(top-level third-party modules, course_lib modules) that ``source`` imports, following course_lib's
    own imports (and the packages above each module) through to the end."""
    third, seen, todo = set(), set(), list(imported_modules(source))
    while todo:
        name = todo.pop()
        top = name.split(".")[0]
        if top != "course_lib":
            if top not in sys.stdlib_module_names:
                third.add(top)
            continue
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            module = ".".join(parts[:i])
            path = course_lib_file(module)
            if path is not None and module not in seen:
                seen.add(module)
                todo.extend(imported_modules(path.read_text()))
    return third, seen


def distribution_closure(requirements: list[str]) -> set[str]:
    """Canonical names of these distributions and of everything they require (extras not taken)."""
    found, todo = set(), [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        name = canonical(requirement.name)
        if name in found or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
            continue
        found.add(name)
        try:
            todo.extend(Requirement(r) for r in importlib.metadata.requires(requirement.name) or [])
        except importlib.metadata.PackageNotFoundError:
            pass  # required for another platform, not installed here
    return found


def test_every_dependency_is_pinned_exactly():
    for requirement in pyproject_pins():
        assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.+-]*", requirement), requirement
    assert "torch==2.13.0" in pyproject_pins()


def test_environment_yml_pins_match_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert sorted(pip_section) == pyproject_pins()
    assert "python=3.11" in env["dependencies"]


def test_makefile_has_the_documented_targets():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lab", "test", "course", "bench", "book", "kernel"):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "apt-get install" in (ROOT / ".ci" / "run").read_text()  # chromium, for tests/test_book.py
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme and "make book" in readme


def test_every_route_registers_the_same_kernel_inside_its_environment():
    """make, conda and Binder all run tools/course_kernel.py; no route registers a per-user kernel."""
    makefile, post_build = (ROOT / "Makefile").read_text(), (ROOT / "postBuild").read_text()
    environment, readme = (ROOT / "environment.yml").read_text(), (ROOT / "README.md").read_text()
    for text in (makefile, post_build, environment, readme):
        assert "tools/course_kernel.py" in text
        assert "ipykernel install --user" not in text.replace("ipykernel install --user --name lstm-course-", "")


def test_readme_chapter_table_links_every_lesson():
    readme = (ROOT / "README.md").read_text()
    for lesson in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"(notebooks/{lesson.name})" in readme, f"README's chapter table lacks {lesson.name}"


def import_problems(lessons: list[Path], dependencies: list[str]) -> list[str]:
    """Each import of these lessons that ``dependencies`` (pins like "numpy==2.4.6") do not provide:
    a lesson's own imports must be among them; what the course_lib modules it uses import must be among
    them or required by one of them."""
    providers = importlib.metadata.packages_distributions()
    main = {canonical(Requirement(r).name) for r in dependencies}
    main_closure = distribution_closure(dependencies)
    problems = []
    for lesson in lessons:
        source = lesson_source(lesson)
        direct = {name.split(".")[0] for name in imported_modules(source)}
        everything, used = third_party_imports(source)
        for module in sorted(everything):
            dists = {canonical(d) for d in providers.get(module, [])}
            if not dists:
                problems.append(f"{lesson.name} imports {module!r}, which no installed distribution provides")
            elif not dists & (main if module in direct else main_closure):
                via = "" if module in direct else f" (through {', '.join(sorted(used))})"
                problems.append(f"{lesson.name} imports {module!r}{via}, from {sorted(dists)}, which is not in "
                                f"pyproject's [project] dependencies")
    return problems


def test_lessons_import_only_main_dependencies():
    lessons = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert lessons
    problems = import_problems(lessons, PROJECT["dependencies"])
    assert not problems, "\n".join(problems)


def test_import_check_catches_a_test_only_dependency():
    """TA-Lib was once only in the test extra while lesson 03 imported it: the check must say so."""
    lesson = ROOT / "notebooks" / "03_technical_indicators.ipynb"
    without = [r for r in PROJECT["dependencies"] if canonical(Requirement(r).name) != "ta-lib"]
    assert any("'talib'" in p and "03_" in p for p in import_problems([lesson], without))
    third, used = third_party_imports("from course_lib import indicators\nimport numpy as np\n")
    assert {"numpy", "pandas"} <= third and {"course_lib", "course_lib.indicators"} <= used
