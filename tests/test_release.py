"""What a release ships: the sdist builds the wheel, both carry the license and the changelog,
and the wheel installs into a clean virtual environment as ``ncestimators`` alone."""

import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("build", reason="the release test needs the `build` package (test extra)")


@pytest.fixture(scope="module")
def distributions(tmp_path_factory):
    """``(sdist, wheel)``: the wheel built from the sdist, as ``python -m build`` does."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (sdist,) = out.glob("ncestimators-*.tar.gz")
    (wheel,) = out.glob("ncestimators-*.whl")
    return sdist, wheel


@pytest.mark.slow
def test_the_sdist_carries_the_license_the_changelog_and_the_mapped_packages(distributions):
    sdist, _ = distributions
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for required in (
        "LICENSE",
        "CHANGELOG.md",
        "README.md",
        "pyproject.toml",
        "adapters/__init__.py",
        "datasets/__init__.py",
        "ncestimators/plotting/__init__.py",
    ):
        assert required in names, f"the sdist lacks {required}"


@pytest.mark.slow
def test_the_wheel_carries_the_license_and_the_changelog(distributions):
    _, wheel = distributions
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode("utf-8")
        (license_file,) = [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
        notice = archive.read(license_file).decode("utf-8")
    assert "License-Expression: BSD-3-Clause" in text
    assert "# Changelog" in text and "## 0.1.0" in text
    assert notice.startswith("BSD 3-Clause License")
    assert not any(name.startswith(("adapters/", "datasets/")) for name in names)
    assert "ncestimators/adapters/__init__.py" in names
    assert "ncestimators/datasets/__init__.py" in names


@pytest.mark.slow
def test_the_wheel_installs_into_a_clean_environment(distributions, tmp_path):
    _, wheel = distributions
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True
    )
    python = venv / "bin" / "python"
    # This environment's pip installs into the clean one (pip's --python), sparing it ensurepip.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    # The dependencies (torch, scikit-learn, ...) come from this environment, after the clean
    # one's own site-packages, so that only the wheel can provide ncestimators.
    clean_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(clean_site) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    script = (
        "import ncestimators, ncestimators.adapters, ncestimators.datasets, ncestimators.plotting\n"
        "from importlib.metadata import metadata\n"
        "print(ncestimators.__file__)\n"
        "print(metadata('ncestimators')['License-Expression'])\n"
    )
    output = subprocess.run(
        [str(python), "-c", script], cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout.splitlines()
    assert Path(output[0]).is_relative_to(venv)
    assert output[1] == "BSD-3-Clause"
