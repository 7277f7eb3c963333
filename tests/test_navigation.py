"""Lessons link to each other, to their exercises and sources; no lesson promises a chapter that does not exist."""
import re
from pathlib import Path

import nbformat
import pytest

from course_lib import navigation

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHAPTER_MENTION = re.compile(r"\b[Cc]hapters? (\d\d)(?:\s*(?:[-–]|and|,|to)\s*(\d\d))?")


def markdown_text(path: Path) -> str:
    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")


def test_every_lesson_is_in_the_readme_table_in_order():
    lessons = navigation.lessons_from_readme()
    assert [lesson.file for lesson in lessons] == [p.name for p in LESSONS]


def test_navigation_cells_are_current():
    assert navigation.stale_lessons() == [], "run: python -m course_lib.navigation"


def test_navigation_links_resolve(tmp_path):
    lessons = navigation.lessons_from_readme()
    anchors = {f"chapter-{n}" for n in re.findall(r"^## Chapter (\d\d)$", (ROOT / "SOURCES.md").read_text(), re.M)}
    readme_anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
                      for h in re.findall(r"^#+ (.+)$", (ROOT / "README.md").read_text(), re.M)}
    for index in range(len(lessons)):
        for target in re.findall(r"\]\(([^)]+)\)", navigation.nav_markdown(lessons, index)):
            file, _, anchor = target.partition("#")
            assert (ROOT / "notebooks" / file).resolve().exists(), target
            if file.endswith("SOURCES.md"):
                assert anchor in anchors, f"SOURCES.md has no section for {anchor}"
            if file.endswith("README.md"):
                assert anchor in readme_anchors, f"README.md has no heading for #{anchor}"


def test_first_and_last_lessons_have_one_neighbour():
    lessons = navigation.lessons_from_readme()
    assert "◀" not in navigation.nav_markdown(lessons, 0)
    assert "▶" not in navigation.nav_markdown(lessons, len(lessons) - 1)
    assert "▶" in navigation.nav_markdown(lessons, 0)


def test_a_stale_navigation_is_detected_and_repaired(tmp_path):
    for name in ("README.md", "SOURCES.md"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    (tmp_path / "notebooks").mkdir()
    for lesson in LESSONS:
        notebook = nbformat.read(lesson, as_version=4)
        notebook.cells = [c for c in notebook.cells if navigation.NAV_TAG not in c.metadata.get("tags", [])]
        nbformat.write(notebook, tmp_path / "notebooks" / lesson.name)
    assert navigation.stale_lessons(tmp_path) == [p.name for p in LESSONS]
    navigation.write_navigation(tmp_path)
    assert navigation.stale_lessons(tmp_path) == []


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_no_lesson_promises_a_missing_chapter(path):
    existing = {p.name[:2] for p in LESSONS}
    for match in CHAPTER_MENTION.finditer(markdown_text(path)):
        for number in filter(None, match.groups()):
            assert number in existing, f"{path.name} mentions {match.group(0)!r}, which does not exist yet"


def test_course_map_marks_exactly_the_existing_chapters_as_available():
    text = markdown_text(ROOT / "notebooks" / "00_course_map_and_data.ipynb")
    rows = re.findall(r"^\| (\d\d) \| [^|]+ \| (yes|planned) \|$", text, re.MULTILINE)
    assert [n for n, _ in rows] == [f"{k:02d}" for k in range(11)], "the course map lists chapters 00-10"
    existing = {p.name[:2] for p in LESSONS}
    for number, status in rows:
        assert (status == "yes") == (number in existing), f"course map says chapter {number} is {status!r}"
