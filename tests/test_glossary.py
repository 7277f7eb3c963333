"""Every term a lesson lists under 'Glossary terms introduced' is in glossary.md with the same Korean name."""
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TERM = re.compile(r"([A-Za-z][A-Za-z0-9 ()\-]*?) \(([^()]*[\uac00-\ud7a3][^()]*)\)")


def glossary():
    rows = [line.split("|")[1:3] for line in (ROOT / "glossary.md").read_text().splitlines()
            if line.startswith("| ") and not line.startswith("| term")]
    return {english.strip().lower(): korean.strip() for english, korean in rows}


def introduced_terms(path):
    text = "".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    section = text.split("Glossary terms introduced", 1)[1]
    return [(english.strip().lower(), korean.strip()) for english, korean in TERM.findall(section)]


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_lesson_terms_are_in_the_glossary(path):
    terms, known = introduced_terms(path), glossary()
    assert terms, "the lesson lists no glossary terms"
    for english, korean in terms:
        assert english in known, f"{english!r} is missing from glossary.md"
        assert known[english] == korean, f"{english!r}: glossary says {known[english]!r}, lesson says {korean!r}"
