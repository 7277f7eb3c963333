"""Set-up files agree with each other: conda/Binder pins match pyproject's; the Makefile's targets exist."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return sorted(project["dependencies"] + project["optional-dependencies"]["test"])


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
    for target in ("lab", "test", "course", "bench"):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme


def test_readme_chapter_table_links_every_lesson():
    readme = (ROOT / "README.md").read_text()
    for lesson in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"(notebooks/{lesson.name})" in readme, f"README's chapter table lacks {lesson.name}"
