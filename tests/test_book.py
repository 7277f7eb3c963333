"""`make book`: the web edition builds with no network, and every chapter page works in a real browser.

The build runs in a network namespace with no network at all (``unshare -rn``) where the system allows one.
The pages are then served on 127.0.0.1 and walked in headless Chromium (Debian's ``chromium``; `.ci/run`
installs it) by tools/book_check.py, with every host name but 127.0.0.1 unresolvable: home page, first
chapter, "next" to the last chapter, "previous" once. Each chapter page must show its title, its math
typeset by MathJax with no TeX left raw, every figure of its notebook, and no console error or request
outside the book. What is expected (chapters, titles, figure counts) is read from the notebooks themselves.
"""
import importlib.util
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
_spec = importlib.util.spec_from_file_location("book_check", ROOT / "tools" / "book_check.py")
book_check = sys.modules.setdefault("book_check", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(book_check)


def lesson_title(path: Path) -> str:
    """The lesson's ``# `` heading as the browser shows it: markdown code marks dropped."""
    first = nbformat.read(path, as_version=4).cells[0].source
    heading = next(line for line in first.splitlines() if line.startswith("# "))
    return heading[2:].replace("`", "").strip()


def lesson_figures(path: Path) -> int:
    """Images the notebook shows: image outputs and markdown images."""
    cells = nbformat.read(path, as_version=4).cells
    outputs = sum(any(key.startswith("image/") for key in output.get("data", {}))
                  for cell in cells if cell.cell_type == "code" for output in cell.outputs)
    markdown = sum(len(re.findall(r"!\[[^\]]*\]\(", cell.source)) for cell in cells if cell.cell_type == "markdown")
    return outputs + markdown


def offline_prefix() -> list[str]:
    """``unshare -rn`` (a user and network namespace: no network at all) where this system allows it."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-rn"]
    return []


@pytest.fixture(scope="module")
def expected():
    """Each lesson's (title, figure count), read when the book is built."""
    return {lesson.stem: (lesson_title(lesson), lesson_figures(lesson)) for lesson in LESSONS}


@pytest.fixture(scope="module")
def book(tmp_path_factory, expected):
    out = tmp_path_factory.mktemp("book") / "html"
    # -o: never try to (re)install .venv here, where there is no network; `make test` has built it.
    done = subprocess.run([*offline_prefix(), "make", "--no-print-directory", "-o", ".venv/.course-installed",
                           "book", f"BOOK_DIR={out}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"make book failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return out


def test_book_has_every_lesson_and_loads_nothing_from_outside(book):
    if not offline_prefix():
        warnings.warn("no network namespace here (unshare -rn): the build was not shown to work offline")
    assert 'url=README.html' in (book / "index.html").read_text()
    for lesson in LESSONS:
        assert (book / "notebooks" / f"{lesson.stem}.html").exists(), lesson.name
    assert (book / "_static" / "mathjax" / "MathJax.js").exists()
    remote = re.compile(r"""<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)=["'](?:https?:)?//""")
    for page in book.rglob("*.html"):
        assert not remote.search(page.read_text()), f"{page.relative_to(book)} loads a resource from the network"
    for sheet in book.rglob("*.css"):
        assert not re.search(r"""url\(\s*["']?(?:https?:)?//""", sheet.read_text()), sheet.relative_to(book)


@pytest.fixture(scope="module")
def walk(book):
    chromium = book_check.find_chromium()
    if chromium is None:
        pytest.skip(book_check.INSTALL_HINT)
    return book_check.walk_book(book, chromium)


def test_home_page_lists_the_chapters(walk):
    home = walk.home
    assert home.report["url"].endswith("/README.html")
    assert home.console_errors == [] and home.failed_requests == [] and home.outside_requests == []
    chapter_links = [href for href in home.report["toc_links"] if "/notebooks/" in href]
    assert [Path(href).stem for href in chapter_links] == [lesson.stem for lesson in LESSONS]


def test_every_chapter_shows_its_title_math_and_figures_without_errors(walk, expected):
    assert [Path(c.report["url"]).stem for c in walk.chapters] == [lesson.stem for lesson in LESSONS]
    for lesson, chapter in zip(LESSONS, walk.chapters):
        report, (title, figures) = chapter.report, expected[lesson.stem]
        assert report["heading"] == title
        assert report["title"].startswith(title)
        assert len(report["images"]) == figures, lesson.name
        assert report["math_elements"] > 0, lesson.name
        assert chapter.problems(walk.base_url) == [], lesson.name


def test_next_and_previous_links_go_chapter_to_chapter(walk):
    urls = [c.report["url"] for c in walk.chapters]
    for i, chapter in enumerate(walk.chapters):
        if i + 1 < len(urls):
            assert chapter.report["next"] == urls[i + 1]
        if i > 0:
            assert chapter.report["previous"] == urls[i - 1]
    if len(urls) > 1:
        assert walk.back.report["url"] == urls[-2]
        assert walk.back.problems(walk.base_url) == []
