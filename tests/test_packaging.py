"""The repository's promises to a newcomer: the README test command is what CI runs."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import ncestimators
from ncestimators.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Test", 1)[1]
    return re.search(r"```bash\n(.+?)\n```", section, re.DOTALL).group(1).strip()


def test_readme_first_example_runs_and_prints_what_it_says(capsys):
    use = (ROOT / "README.md").read_text(encoding="utf-8").split("## Use", 1)[1]
    example = re.search(r"```python\n(.+?)```", use, re.DOTALL).group(1)
    exec(example, {})
    claimed = re.search(r"# (\d\.\d+)$", example.strip()).group(1)
    assert float(capsys.readouterr().out) == pytest.approx(float(claimed), abs=0.01)


def test_readme_adapter_example_runs(capsys):
    pytest.importorskip("torchvision")
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Images and videos", 1)[1]
    exec(re.search(r"```python\n(.+?)```", section, re.DOTALL).group(1), {})
    assert capsys.readouterr().out.strip() == "(5,)"


def test_ci_runs_exactly_the_readme_test_command():
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert "pytest" in _readme_test_command()
    assert ci_lines[-1].strip() == _readme_test_command()


def test_subpackages_install_inside_ncestimators(tmp_path):
    # Run outside the checkout, so that only what the installation provides is importable.
    script = (
        "import importlib.util, pathlib, ncestimators.adapters, ncestimators.datasets\n"
        "for name in ('adapters', 'datasets'):\n"
        "    spec = importlib.util.find_spec(name)\n"
        "    print(name, spec and pathlib.Path(spec.origin).resolve())\n"
        "print('datasets_dir', pathlib.Path(ncestimators.datasets.__file__).resolve().parent)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    found = dict(line.split(" ", 1) for line in output.splitlines())
    datasets_dir = Path(found["datasets_dir"])
    assert datasets_dir in (ROOT / "datasets", Path(ncestimators.__file__).parent / "datasets")
    for bare_name in ("adapters", "datasets"):
        assert not found[bare_name].startswith(str(ROOT))


def test_every_subpackage_is_listed_for_installation():
    # The package list is explicit (adapters/ and datasets/ are mapped), so a new subpackage left
    # out of it would be missing from wheels while editable installs still find it.
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        "ncestimators." + ".".join(init.parent.relative_to(ROOT / "ncestimators").parts)
        for init in (ROOT / "ncestimators").glob("*/**/__init__.py")
    }
    assert on_disk <= listed


def test_cli_info_prints_versions_and_device(capsys):
    assert main(["info"]) == 0
    output = capsys.readouterr().out
    assert f"ncestimators {ncestimators.__version__}" in output
    assert re.search(r"^device (cpu|cuda)", output, re.MULTILINE)


def test_cli_without_command_shows_help(capsys):
    assert main([]) == 2
    assert "info" in capsys.readouterr().out
