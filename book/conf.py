"""Sphinx configuration of the course's web edition: ``make book`` writes it to ``build/book``.

The book is the README (its home page), the executed lesson notebooks of ``notebooks/`` shown with their
stored outputs (nothing is run), the glossary and the sources. Sphinx + MyST-NB with the Sphinx Book Theme;
everything a page needs ships inside the Python packages pinned in ``pyproject.toml``, so the build and the
pages work with no network. Math is MathJax 2.7 from the ``jupyter-server-mathjax`` wheel, copied into
``_static/mathjax``.

Run from the repository root: ``sphinx-build -c book . build/book`` (the Makefile does this). The source
directory is the repository root, so the lessons' relative links (``01_x.ipynb``,
``../SOURCES.md#chapter-01``, ``../README.md#learning-path``) resolve as they do on disk.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import jupyter_server_mathjax
from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform

project = "LSTM time-series forecasting"
author = "the course authors"
copyright = "the course authors, MIT licence"

root_doc = "README"
CHAPTERS = "notebooks/*"
REFERENCE = ["glossary", "SOURCES"]
include_patterns = ["README.md", "notebooks/*.ipynb", "glossary.md", "SOURCES.md"]
exclude_patterns = [".venv", ".git", "build", "exercises", "solutions", "tests", "course_lib", "tools",
                    "**/.ipynb_checkpoints"]

extensions = ["myst_nb"]

# Stored outputs only: `make course` executes the notebooks and the tests compare their outputs.
nb_execution_mode = "off"
nb_merge_streams = True
nb_ipywidgets_js: dict = {}  # widget outputs would load their JavaScript from a CDN: show their text instead
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

# Offline math: MathJax 2.7 from the jupyter-server-mathjax wheel, copied next to the pages.
MATHJAX_SOURCE = Path(jupyter_server_mathjax.__file__).parent / "static"
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
myst_update_mathjax = False  # MyST would write a MathJax 3/4 setting; this MathJax is version 2
mathjax2_config = {
    "tex2jax": {
        "inlineMath": [["\\(", "\\)"]],
        "displayMath": [["\\[", "\\]"]],
        "processEscapes": True,
        "processEnvironments": True,
        "ignoreClass": "tex2jax_ignore|mathjax_ignore|document",
        "processClass": "tex2jax_process|mathjax_process|math|output_area",
    },
    # The wheel ships the STIX-Web fonts only: use them, never an image font or a CDN. MathJax 2 measures
    # text against a font it declares at url('about:blank'), which never loads; current browsers log that
    # request as an error. local() names the same never-found font without a request.
    "HTML-CSS": {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web", "imageFont": None,
                 "styles": {"@font-face": {"font-family": "MathJax_Blank", "src": "local('MathJax_Blank')"}}},
    "messageStyle": "none",
}

html_theme = "sphinx_book_theme"
html_title = "LSTM time-series forecasting"
html_extra_path = ["_extra"]  # index.html -> README.html
html_favicon = "favicon.svg"
html_theme_options = {
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "use_download_button": False,
    "use_fullscreen_button": False,
}
# Figures are drawn on white. (Unset, the theme also logs "invalid theme mode" on a first visit.)
html_context = {"default_mode": "light"}
html_show_sourcelink = False
html_copy_source = False


def add_table_of_contents(app, docname, source):
    """The home page (the README, which GitHub shows too) gets the book's chapter list, hidden."""
    if docname == app.config.root_doc:
        entries = "\n".join(f"/{name}" for name in REFERENCE)
        source[0] += (f"\n\n```{{toctree}}\n:hidden:\n:glob:\n:caption: Chapters\n\n/{CHAPTERS}\n```\n"
                      f"\n```{{toctree}}\n:hidden:\n:caption: Reference\n\n{entries}\n```\n")


class LinkOutsideTheBook(SphinxTransform):
    """A link to a notebook or page the book leaves out (``../exercises/NN_x_exercises.ipynb``)
    becomes a download of that file, instead of a dead link."""

    default_priority = 5

    def apply(self):
        for node in list(self.document.findall(addnodes.pending_xref)):
            target = node.get("reftarget", "")
            if node.get("refdomain") != "doc" or node.get("reftype") != "myst" or target in self.env.found_docs:
                continue
            matches = [p for p in (self.env.srcdir / Path(target).parent).glob(Path(target).name + ".*")
                       if p.suffix in self.config.source_suffix]
            if len(matches) == 1:
                download = addnodes.download_reference(
                    refdomain=None, reftype="myst", refexplicit=True, refdoc=self.env.docname,
                    reftarget="/" + matches[0].relative_to(self.env.srcdir).as_posix())
                download += nodes.inline("", "", *node[0].children, classes=["xref", "download", "myst"])
                node.replace_self(download)


def copy_mathjax(app, exception):
    """Put MathJax where ``mathjax_path`` points: ``<out>/_static/mathjax``."""
    if exception is None and app.builder.format == "html":
        shutil.copytree(MATHJAX_SOURCE, Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("SVG", "__pycache__"))  # SVG: fonts without their jax


def setup(app):
    app.connect("source-read", add_table_of_contents)
    app.add_transform(LinkOutsideTheBook)
    app.connect("build-finished", copy_mathjax)
