"""The documentation: the API reference names every public name, and the site builds with
warnings as errors, its examples run, and no internal link is broken."""

import importlib
import pkgutil
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import ncestimators

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
API = DOCS / "api.rst"

# Public modules that the reference need not list: the command line is documented as
# commands (Getting started), not as a Python API.
NOT_IN_REFERENCE = {"ncestimators.cli"}
# What the `docs` extra installs, by import name.
DOCS_EXTRA = (
    "sphinx",
    "numpydoc",
    "sphinx_gallery",
    "pydata_sphinx_theme",
    "myst_parser",
    "matplotlib",
)
# A build that hangs (an example waiting on something) fails the test instead of the suite's
# time; the build takes about a minute on 2 cores. Its speed is not asserted.
BUILD_TIMEOUT_SECONDS = 600


def public_modules():
    """Every public module of the package that declares ``__all__``, by name."""
    names = {"ncestimators", "ncestimators.adapters", "ncestimators.datasets"}
    for info in pkgutil.iter_modules(ncestimators.__path__, "ncestimators."):
        if not info.name.rsplit(".", 1)[1].startswith("_"):
            names.add(info.name)
    modules = {name: importlib.import_module(name) for name in sorted(names - NOT_IN_REFERENCE)}
    return {
        name: set(module.__all__) for name, module in modules.items() if hasattr(module, "__all__")
    }


def documented_names(text):
    """``{module: names}`` that api.rst documents: its autosummary entries and ``data``
    directives, each under the ``currentmodule`` before it."""
    documented = {}
    module = None
    in_autosummary = False
    for line in text.splitlines():
        directive = re.match(r"^\.\. ([\w:-]+)::\s*(\S*)", line)
        if directive:
            kind, argument = directive.groups()
            in_autosummary = kind == "autosummary"
            if kind == "currentmodule":
                module = argument
                documented.setdefault(module, set())
            elif kind in ("data", "autodata", "autoclass", "autofunction"):
                documented[module].add(argument)
            continue
        if in_autosummary:
            entry = re.match(r"^ {3}([A-Za-z_]\w*)\s*$", line)
            if entry:
                documented[module].add(entry.group(1))
            elif line.strip() and not line.startswith("   "):
                in_autosummary = False
    return documented


def test_the_api_reference_lists_every_public_name_and_nothing_else():
    public = public_modules()
    documented = documented_names(API.read_text(encoding="utf-8"))
    assert {"ncestimators.plotting", "ncestimators.callbacks", "ncestimators.ot"} <= set(public)
    missing = {
        module: sorted(names - documented.get(module, set()))
        for module, names in public.items()
        if names - documented.get(module, set())
    }
    extra = {
        module: sorted(names - public.get(module, set()))
        for module, names in documented.items()
        if names - public.get(module, set())
    }
    assert not missing, f"public names missing from docs/api.rst: {missing}"
    assert not extra, f"docs/api.rst documents names that are not in __all__: {extra}"


def test_the_reference_parser_sees_what_api_rst_declares():
    # The comparison above is only as good as the parser: a made-up reference, parsed.
    text = (
        ".. currentmodule:: pkg\n\n.. autosummary::\n   :toctree: generated/\n\n   One\n"
        "   two\n\nProse mentioning Three.\n\n.. data:: __version__\n\n   Text.\n\n"
        ".. currentmodule:: pkg.sub\n\n.. autosummary::\n\n   four\n"
    )
    assert documented_names(text) == {"pkg": {"One", "two", "__version__"}, "pkg.sub": {"four"}}


def test_every_benchmark_analysis_is_on_the_benchmarks_page():
    page = (DOCS / "benchmarks.rst").read_text(encoding="utf-8")
    analyses = sorted((ROOT / "examples" / "benchmarks").glob("*.md"))
    assert analyses
    missing = [path.name for path in analyses if f"examples/benchmarks/{path.name}" not in page]
    assert not missing, f"docs/benchmarks.rst does not include {missing}"


# --- the built site ------------------------------------------------------------------------------


class _Links(HTMLParser):
    """The ids of a page and the targets of its links."""

    def __init__(self):
        super().__init__()
        self.ids = set()
        self.links = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(key):
                self.ids.add(attrs[key])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def _parse(path, cache):
    if path not in cache:
        parser = _Links()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = parser
    return cache[path]


def broken_internal_links(html_root):
    """``page: href`` of every link to a page or anchor of the site that does not exist."""
    broken = []
    cache = {}
    for page in sorted(html_root.rglob("*.html")):
        for href in _parse(page, cache).links:
            url = urlsplit(href)
            if url.scheme or url.netloc or href.startswith(("mailto:", "javascript:")):
                continue
            target = (page.parent / unquote(url.path)).resolve() if url.path else page
            if target.is_dir():
                target = target / "index.html"
            if target.suffix != ".html":
                if not target.exists():  # a downloadable file or an image
                    broken.append(f"{page.relative_to(html_root)}: {href}")
                continue
            if not target.is_file():
                broken.append(f"{page.relative_to(html_root)}: {href}")
            elif url.fragment and unquote(url.fragment) not in _parse(target, cache).ids:
                broken.append(f"{page.relative_to(html_root)}: {href}")
    return broken


def test_the_link_checker_finds_broken_links(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text(
        '<a id="top"></a><a href="sub/page.html#here">ok</a><a href="#top">ok</a>'
        '<a href="missing.html">bad</a><a href="sub/page.html#nowhere">bad</a>'
        '<a href="https://example.org/x.html">external</a>'
    )
    (tmp_path / "sub" / "page.html").write_text(
        '<h1 id="here">x</h1><a href="../index.html">ok</a>'
    )
    assert broken_internal_links(tmp_path) == [
        "index.html: missing.html",
        "index.html: sub/page.html#nowhere",
    ]


def _copy_sources(destination):
    """docs/, the gallery's examples, the benchmark results and the changelog, without any
    build output, so that the build neither reads stale output nor writes into the checkout."""
    ignore = shutil.ignore_patterns(
        "_build", "generated", "auto_examples", "sg_execution_times.rst"
    )
    shutil.copytree(DOCS, destination / "docs", ignore=ignore)
    examples = destination / "examples"
    (examples / "benchmarks").mkdir(parents=True)
    for path in [*(ROOT / "examples").glob("*.py"), ROOT / "examples" / "README.txt"]:
        shutil.copy2(path, examples / path.name)
    for path in (ROOT / "examples" / "benchmarks").glob("*.md"):
        shutil.copy2(path, examples / "benchmarks" / path.name)
    shutil.copy2(ROOT / "CHANGELOG.md", destination / "CHANGELOG.md")


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """The HTML site, built once per session as CI builds it: ``-W --keep-going``."""
    for name in DOCS_EXTRA:
        pytest.importorskip(name, reason="the documentation build needs the `docs` extra")
    sources = tmp_path_factory.mktemp("docs-sources")
    _copy_sources(sources)
    html = sources / "html"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-b",
            "html",
            "-q",
            str(sources / "docs"),
            str(html),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
    )
    return build, html


@pytest.mark.slow
def test_the_documentation_builds_with_warnings_as_errors(built_site):
    build, html = built_site
    assert build.returncode == 0, f"sphinx -W failed:\n{build.stderr[-6000:]}"
    for page in ("index", "getting_started", "api", "adapters", "long_runs", "benchmarks",
                 "changelog", "auto_examples/index", "user_guide/index"):  # fmt: skip
        assert (html / f"{page}.html").is_file(), page
    # Every gallery example that runs shows at least one figure.
    for example in (ROOT / "examples").glob("*.py"):
        if example.stem != "long_run":
            figures = list((html / "_images").glob(f"sphx_glr_{example.stem}_0*.png"))
            assert figures, f"the gallery shows no figure of {example.name}"


@pytest.mark.slow
def test_no_internal_link_of_the_site_is_broken(built_site):
    build, html = built_site
    if build.returncode != 0:
        pytest.fail("the documentation did not build (see the test above)")
    broken = broken_internal_links(html)
    assert not broken, "broken internal links:\n" + "\n".join(broken)


@pytest.mark.slow
def test_the_demo_report_links_to_pages_that_exist(built_site):
    # The demo's report links each row to its user guide page under the documentation URL.
    build, html = built_site
    if build.returncode != 0:
        pytest.fail("the documentation did not build (see the test above)")
    sources = "".join(path.read_text() for path in (ROOT / "ncestimators" / "_demo").glob("*.py"))
    guides = set(re.findall(r'guide="([^"]+)"', sources))
    assert guides, "no guide page found in the demo's experiments"
    missing = sorted(guide for guide in guides if not (html / guide).is_file())
    assert not missing, f"the demo links to pages the documentation lacks: {missing}"
