"""Navigation bar of every lesson: previous and next lesson, its exercises, its sources, the learning path.

The chapters and their titles are read from the README's chapter table (the one list of what exists), so a
new chapter gets its links by adding its row there and running::

    python -m course_lib.navigation          # rewrite the navigation cells of notebooks/*.ipynb
    python -m course_lib.navigation --check  # fail if any lesson's navigation is stale (the tests run this)

Each lesson carries the bar twice, as markdown cells tagged ``course-nav``: right after its title cell and
at its end. Only those cells are touched; outputs and other cells are left as they are.
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NAV_TAG = "course-nav"
CHAPTER_ROW = re.compile(r"^\| (\d\d) \| \[([^\]]+)\]\(notebooks/([^)]+\.ipynb)\) \|", re.MULTILINE)


@dataclass(frozen=True)
class Lesson:
    number: str  # "02"
    title: str  # "stationarity and differencing"
    file: str  # "02_stationarity_and_differencing.ipynb"

    @property
    def exercises(self) -> str:
        return self.file.replace(".ipynb", "_exercises.ipynb")

    def label(self) -> str:
        return f"{self.number} · {self.title}"


def lessons_from_readme(root: Path = ROOT) -> list[Lesson]:
    """The chapters of the README's table, in order; each must have its lesson notebook."""
    lessons = [Lesson(n, t, f) for n, t, f in CHAPTER_ROW.findall((root / "README.md").read_text())]
    if not lessons:
        raise ValueError("README.md has no chapter table rows like '| 00 | [title](notebooks/00_x.ipynb) |'")
    missing = [lesson.file for lesson in lessons if not (root / "notebooks" / lesson.file).exists()]
    if missing:
        raise FileNotFoundError(f"README's chapter table links lessons that do not exist: {', '.join(missing)}")
    return lessons


def nav_markdown(lessons: list[Lesson], index: int) -> str:
    """The navigation line of ``lessons[index]`` (links relative to ``notebooks/``)."""
    lesson = lessons[index]
    parts = []
    if index > 0:
        previous = lessons[index - 1]
        parts.append(f"[◀ {previous.label()}]({previous.file})")
    parts += [f"[exercises](../exercises/{lesson.exercises})",
              f"[sources and corrections](../SOURCES.md#chapter-{lesson.number})",
              "[learning path](../README.md#learning-path)"]
    if index + 1 < len(lessons):
        following = lessons[index + 1]
        parts.append(f"[{following.label()} ▶]({following.file})")
    else:
        parts.append("last chapter available so far")
    return "**Chapter " + lesson.number + "** · " + " · ".join(parts)


def _nav_cell(text: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["tags"] = [NAV_TAG]
    return cell


def with_navigation(notebook: nbformat.NotebookNode, text: str) -> nbformat.NotebookNode:
    """The notebook with exactly two navigation cells holding ``text``: after the title cell and at the end."""
    cells = [c for c in notebook.cells if NAV_TAG not in c.get("metadata", {}).get("tags", [])]
    if not cells or cells[0].cell_type != "markdown":
        raise ValueError("a lesson must start with its markdown title cell")
    notebook.cells = [cells[0], _nav_cell(text), *cells[1:], _nav_cell(text)]
    return notebook


def current_navigation(notebook: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(position, text) of each navigation cell."""
    return [(i, c.source) for i, c in enumerate(notebook.cells) if NAV_TAG in c.get("metadata", {}).get("tags", [])]


def stale_lessons(root: Path = ROOT) -> list[str]:
    """Lessons whose navigation cells are missing, misplaced or out of date."""
    lessons = lessons_from_readme(root)
    stale = []
    for index, lesson in enumerate(lessons):
        notebook = nbformat.read(root / "notebooks" / lesson.file, as_version=4)
        text = nav_markdown(lessons, index)
        if current_navigation(notebook) != [(1, text), (len(notebook.cells) - 1, text)]:
            stale.append(lesson.file)
    return stale


def write_navigation(root: Path = ROOT) -> list[str]:
    """Rewrite the navigation cells of every lesson that needs it; return the files written."""
    lessons, stale = lessons_from_readme(root), stale_lessons(root)
    for index, lesson in enumerate(lessons):
        if lesson.file in stale:
            path = root / "notebooks" / lesson.file
            notebook = nbformat.read(path, as_version=4)
            nbformat.write(with_navigation(notebook, nav_markdown(lessons, index)), path)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale navigation; exit 1 if any")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_lessons()
        for name in stale:
            print(f"stale navigation: notebooks/{name} (run: python -m course_lib.navigation)")
        return 1 if stale else 0
    for name in write_navigation():
        print(f"navigation written: notebooks/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
