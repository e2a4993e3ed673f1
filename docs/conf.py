"""Sphinx configuration of the ncestimators documentation.

Build (warnings are errors, as in CI)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The API reference is generated from the docstrings (autosummary + numpydoc) and the gallery
runs the top-level scripts of ``examples/`` (sphinx-gallery). Nothing is fetched from the
network while building: no intersphinx.
"""

import os
import re
import sys
from pathlib import Path

import ncestimators

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS))

from _gallery_scraper import MatplotlibTight  # noqa: E402 (needs the path above)

# -- Project -------------------------------------------------------------------------------------

project = "ncestimators"
author = "The ncestimators developers"
copyright = "2026, The ncestimators developers"  # noqa: A001 (Sphinx's name)
version = release = ncestimators.__version__

# -- General -------------------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",  # the changelog is CHANGELOG.md, included by changelog.rst
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "sg_execution_times.rst"]
root_doc = "index"
default_role = "literal"  # `x` in prose renders as code, as ``x`` does
pygments_style = "sphinx"

# -- autodoc, autosummary, numpydoc (scikit-learn's setup) ---------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"  # the numpydoc Parameters sections say the types
numpydoc_show_class_members = False  # autosummary lists the members
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# -- sphinx-gallery ------------------------------------------------------------------------------

# Every top-level script of examples/ runs, but long_run.py: it needs a checkpoint directory on
# the command line and is meant to be killed and run again, or launched as several processes
# (torchrun); the gallery shows its code. examples/benchmarks/ has no README.txt, so it is not a
# gallery section (its results have their own page, benchmarks.rst).
sphinx_gallery_conf = {
    "image_scrapers": (MatplotlibTight(),),
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"[\\/](?!long_run\.py$)[^\\/]+\.py$",
    "ignore_pattern": r"__init__\.py",
    "doc_module": ("ncestimators",),
    "backreferences_dir": "generated/backreferences",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    "capture_repr": ("_repr_html_", "__repr__"),
}

# Examples run headless; torch keeps its default threads, as the examples' readers run them.
os.environ.setdefault("MPLBACKEND", "Agg")

# -- HTML ----------------------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"ncestimators {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 7,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_context = {"default_mode": "light"}
# Pages without sub-pages get no left sidebar: it would hold an empty "Section Navigation".
html_sidebars = {
    page: []
    for page in ("index", "getting_started", "adapters", "long_runs", "benchmarks", "changelog")
}


# -- Docstrings inherited from scikit-learn ------------------------------------------------------

# The estimators inherit get_params, set_params, score, set_output and the metadata-routing
# methods (set_fit_request, ...) from scikit-learn, whose docstrings point into scikit-learn's
# glossary and user guide (:term:, :ref:). Those targets are not part of this site (and
# intersphinx would need the network), so the roles become plain text.
_SKLEARN_ROLE = re.compile(r":(?:term|ref):`(?:([^`<]*?)\s*<[^`>]*>|([^`]*))`")


def _plain_sklearn_roles(app, what, name, obj, options, lines):
    if not (getattr(obj, "__module__", None) or "").startswith("sklearn"):
        return
    for index, line in enumerate(lines):
        lines[index] = _SKLEARN_ROLE.sub(lambda m: (m.group(1) or m.group(2)).strip(), line)


def setup(app):
    app.connect("autodoc-process-docstring", _plain_sklearn_roles)
