"""The main job and the benchmark runner: ``ncestimators demo`` and ``ncestimators bench``."""

import contextlib
import importlib.metadata
import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from ncestimators._bench import run_benchmarks
from ncestimators._demo._experiment import DOCUMENTATION_URL
from ncestimators._demo._paired import VERDICTS, paired_difference, verdict
from ncestimators.cli import main

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MOBILENET = SHARED_DATA / "mobilenet_v2_imagenet_features.pt"
EMBEDDED = {
    "fine_tune": "FineTune(AllNCClassifier)",
    "clusterfb": "ClusterFBSeparator",
    "ceco": "CeCoSegmenter",
    "cofinai": "CoFInAIRegressor",
    "allnc": "AllNCClassifier",
    "dynamic_prototype": "DynamicPrototypeClassifier",
}
# The documentation page of each row: its method's user guide; fine-tuning's is the adapters'.
GUIDES = {
    "fine_tune": "adapters",
    "clusterfb": "user_guide/clusterfb",
    "ceco": "user_guide/ceco",
    "cofinai": "user_guide/cofinai",
    "allnc": "user_guide/allnc",
    "dynamic_prototype": "user_guide/dynamic_prototype",
}


def _demo(arguments, output):
    """Run ``ncestimators demo`` with ``arguments``; return its console text and results.json."""
    console = io.StringIO()
    with contextlib.redirect_stdout(console):
        assert main(["demo", *arguments, "--output", str(output)]) == 0
    return console.getvalue(), json.loads((output / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def quick_demo(tmp_path_factory):
    pytest.importorskip("torchvision")
    pytest.importorskip("matplotlib")
    output = tmp_path_factory.mktemp("demo")
    console, results = _demo(["--quick", "--seeds", "2"], output)
    return console, results, output


def test_quick_demo_prints_every_row_with_verdicts_and_words(quick_demo):
    console, results, _ = quick_demo
    assert "Embedded track, seeds [0, 1]" in console and "Real track" not in console
    for column in ["metric", "ours", "plain alternative", "ours − plain", "paper's ablation",
                   "ours − ablation", "reference", "seconds"]:  # fmt: skip
        assert re.search(rf"\|\s+{column}\s+\|", console), column
    table_rows = [line for line in console.splitlines() if line.startswith("| ")][1:]
    assert [line.split("|")[1].strip() for line in table_rows] == list(EMBEDDED.values())
    for line in table_rows:
        assert re.search(r"[+-]\d\.\d{3} ± \d\.\d{3} (helps|not shown|hurts)", line), line
    # Every comparison that is not "helps" is said in words.
    undecided = sum(
        run[role]["difference"]["verdict"] != "helps"
        for run in results["runs"]
        for role in ("plain", "ablation")
        if run[role] is not None
    )
    assert console.count(" does not beat ") + console.count(" loses to ") == undecided
    assert "With 2 seeds the interval is ±12.7 standard errors" in console


def test_quick_demo_writes_results_json_with_seeds_means_and_verdicts(quick_demo):
    _, results, _ = quick_demo
    assert results["mode"] == "quick" and results["seeds"] == [0, 1]
    assert [run["key"] for run in results["runs"]] == list(EMBEDDED)
    for run in results["runs"]:
        assert run["track"] == "embedded" and run["seeds"] == [0, 1]
        assert run["ours"] is not None and run["plain"] is not None
        ours = np.array(run["ours"]["per_seed"])
        for role in ("ours", "plain", "ablation", "reference"):
            if run[role] is None:
                continue
            scores = np.array(run[role]["per_seed"])
            assert scores.shape == (2,) and np.all((scores >= -1) & (scores <= 1)), run["key"]
            assert run[role]["mean"] == pytest.approx(scores.mean())
            assert run[role]["std"] == pytest.approx(scores.std(ddof=1))
            if role in ("plain", "ablation"):
                difference = run[role]["difference"]
                assert difference["per_seed"] == pytest.approx(ours - scores)
                mean, half_width = paired_difference(ours - scores)
                assert difference["verdict"] == verdict(mean, half_width)
                assert difference["wins"] == int((ours > scores).sum())
        assert 0 < run["fit_seconds"] < run["seconds"] and run["cpu_seconds"] > 0
    # The fine-tuning row fits the AllNC head, as its name says; DL2PA has a reference.
    assert results["runs"][0]["ours"]["name"] == "FineTune(AllNCClassifier)"
    assert results["runs"][-1]["reference"]["name"].startswith("LogisticRegression")


def test_quick_demo_writes_plots_and_a_report_with_verdicts(quick_demo):
    _, results, output = quick_demo
    plots = sorted(path.name for path in output.glob("*.png"))
    assert plots == sorted(f"{key}.png" for key in EMBEDDED if key != "fine_tune")
    report = (output / "report.html").read_text(encoding="utf-8")
    assert all(f'<img src="{plot}"' in report for plot in plots)
    verdicts = [
        run[role]["difference"]["verdict"]
        for run in results["runs"]
        for role in ("plain", "ablation")
        if run[role] is not None
    ]
    assert len(re.findall(r'<span class="verdict [a-z-]+">', report)) == len(verdicts)
    assert "Where ours does not win" in report or set(verdicts) == {"helps"}


def test_quick_demo_links_each_method_to_its_user_guide(quick_demo):
    _, results, output = quick_demo
    report = (output / "report.html").read_text(encoding="utf-8")
    for run in results["runs"]:
        page = f"{DOCUMENTATION_URL}{GUIDES[run['key']]}.html"
        assert run["documentation"] == page
        assert f'<a href="{page}">{run["estimator"]}</a>' in report
    # Each figure's caption links the same page.
    assert report.count(">User guide</a></figcaption>") == len(list(output.glob("*.png")))


def test_the_documentation_url_is_the_one_the_package_metadata_names():
    urls = importlib.metadata.metadata("ncestimators").get_all("Project-URL")
    assert f"Documentation, {DOCUMENTATION_URL}" in urls


@given(
    st.lists(st.floats(-1, 1), min_size=2, max_size=10),
    st.floats(10, 1e3),
)
def test_a_large_shift_of_every_difference_decides_the_verdict(differences, shift):
    assert verdict(*paired_difference(np.add(differences, shift))) == "helps"
    assert verdict(*paired_difference(np.subtract(differences, shift))) == "hurts"


@given(st.lists(st.floats(1e-3, 1), min_size=1, max_size=10))
def test_differences_balanced_around_zero_are_not_shown(magnitudes):
    differences = np.concatenate([magnitudes, np.negative(magnitudes)])
    assert verdict(*paired_difference(differences)) == "not shown"


@given(st.lists(st.floats(-1, 1), min_size=2, max_size=10))
def test_the_interval_is_student_t_and_flips_with_the_sign(differences):
    mean, half_width = paired_difference(differences)
    if np.ptp(differences) > 1e-9:
        low, high = stats.ttest_1samp(differences, 0).confidence_interval(0.95)
        assert (mean - half_width, mean + half_width) == pytest.approx((low, high))
    mirrored = dict(zip(VERDICTS, reversed(VERDICTS), strict=True))
    assert (
        verdict(*paired_difference(np.negative(differences))) == mirrored[verdict(mean, half_width)]
    )


def test_known_differences_and_a_single_seed():
    # Mean 2, standard error 1/sqrt(3), t(0.975, 2) = 4.303: the interval is 2 ± 2.48.
    mean, half_width = paired_difference([1.0, 2.0, 3.0])
    assert (mean, half_width) == pytest.approx((2.0, 2.4841), abs=1e-4)
    assert verdict(mean, half_width) == "not shown"
    assert verdict(*paired_difference([1.0, 1.1, 1.2])) == "helps"
    assert verdict(*paired_difference([0.5])) == "not shown"  # one seed: no interval


def _random_mobilenet_checkpoint(path):
    """A mobilenet_v2 state dict in torchvision keys, at random: the real track's file format."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    torch.save(torchvision.models.mobilenet_v2(weights=None).state_dict(), path)
    return path


def test_real_track_runs_on_the_digits_with_a_checkpoint_it_is_given(tmp_path):
    weights = _random_mobilenet_checkpoint(tmp_path / "mobilenet_v2.pt")
    arguments = ["--quick", "--seeds", "2", "--track", "real", "--weights", str(weights),
                 "--jobs", "1"]  # fmt: skip
    console, results = _demo(arguments, tmp_path / "demo")
    assert "Real track, seeds [0, 1]" in console and "Embedded track" not in console
    assert [run["key"] for run in results["runs"]] == ["real_allnc", "real_fine_tune"]
    for run in results["runs"]:
        assert run["track"] == "real" and "digits" in run["data"]
        assert len(run["ours"]["per_seed"]) == len(run["plain"]["per_seed"]) == 2
        assert run["plain"]["difference"]["verdict"] in VERDICTS
    assert sorted(path.name for path in (tmp_path / "demo").iterdir()) == [
        "report.html",
        "results.json",
    ]


def test_default_weights_are_read_from_the_hub_cache_and_never_downloaded(
    tmp_path, monkeypatch, capsys
):
    torchvision = pytest.importorskip("torchvision")
    from ncestimators._demo._real import checkpoint

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--weights", "DEFAULT", "--output", str(tmp_path / "demo")])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    cached = (
        tmp_path
        / "hub"
        / "checkpoints"
        / Path(torchvision.models.MobileNet_V2_Weights.DEFAULT.url).name
    )
    assert "does not download" in error and str(cached) in error
    assert not (tmp_path / "demo").exists()
    cached.parent.mkdir(parents=True)
    _random_mobilenet_checkpoint(cached)
    assert checkpoint("DEFAULT") == cached


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--seeds", "1"], "at least 2 seeds"),
        (["--jobs", "0"], "pass a positive number of fits"),
        (["--track", "real"], "needs real pretrained weights"),
        (["--data", "."], "needs real pretrained weights"),
        (["--weights", "missing.pt"], "missing.pt: no such file"),
    ],
)
def test_demo_options_that_cannot_run_say_what_to_change(arguments, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", *arguments, "--output", str(tmp_path / "demo")])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_data_without_its_folders_is_named(tmp_path, capsys):
    weights = _random_mobilenet_checkpoint(tmp_path / "mobilenet_v2.pt")
    (tmp_path / "camvid").mkdir()
    with pytest.raises(SystemExit):
        main(["demo", "--weights", str(weights), "--data", str(tmp_path)])
    assert "has no fashion-mnist folder" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not MOBILENET.is_file(), reason="needs ../shared/data (real weights, data)")
def test_real_track_with_the_shared_weights_fashion_mnist_and_camvid(tmp_path):
    arguments = ["--quick", "--seeds", "2", "--track", "real", "--weights", str(MOBILENET),
                 "--data", str(SHARED_DATA)]  # fmt: skip
    console, results = _demo(arguments, tmp_path)
    assert [run["key"] for run in results["runs"]] == ["real_allnc", "real_fine_tune", "real_ceco"]
    assert all("Fashion-MNIST" in run["data"] for run in results["runs"][:2])
    camvid = results["runs"][2]
    assert camvid["metric"] == "tail-class IoU" and camvid["ablation"] is not None
    assert (tmp_path / "real_ceco.png").is_file() and "CamVid" in console


def _scripts(tmp_path, body):
    (tmp_path / "bench_a.py").write_text("print('| a | 1 |')\n")
    (tmp_path / "bench_b.py").write_text(body)
    return {
        "bench_a.py": ("First benchmark", [], ["--quick"]),
        "bench_b.py": ("Second benchmark", ["--full"], []),
    }


def test_bench_writes_every_scripts_output_under_a_header(tmp_path):
    benchmarks = _scripts(tmp_path, "import sys\nprint('args', sys.argv[1:])\n")
    path = run_benchmarks(tmp_path, tmp_path / "RESULTS.md", benchmarks=benchmarks)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark results") and "ncestimators bench" in text
    assert "## First benchmark" in text and "| a | 1 |" in text
    assert "## Second benchmark" in text and "args ['--full']" in text
    assert f"torch {importlib.metadata.version('torch')}" in text
    quick = run_benchmarks(tmp_path, tmp_path / "QUICK.md", quick=True, benchmarks=benchmarks)
    assert "Mode: quick" in quick.read_text(encoding="utf-8")


def test_bench_only_replaces_the_sections_of_the_scripts_it_runs(tmp_path):
    benchmarks = _scripts(tmp_path, "import sys\nprint('args', sys.argv[1:])\n")
    path = run_benchmarks(tmp_path, tmp_path / "RESULTS.md", benchmarks=benchmarks)
    second = path.read_text(encoding="utf-8").split("## Second benchmark")[1]
    (tmp_path / "bench_a.py").write_text("print('| a | 2 |')\n")
    run_benchmarks(tmp_path, path, only=["bench_a.py"], benchmarks=benchmarks)
    text = path.read_text(encoding="utf-8")
    assert "| a | 2 |" in text and "| a | 1 |" not in text
    assert text.split("## Second benchmark")[1] == second
    assert text.index("## First benchmark") < text.index("## Second benchmark")
    with pytest.raises(ValueError, match="Unknown benchmark scripts \\['bench_c.py'\\]"):
        run_benchmarks(tmp_path, path, only=["bench_c.py"], benchmarks=benchmarks)


def test_bench_reports_a_failing_script_and_missing_scripts(tmp_path):
    benchmarks = _scripts(tmp_path, "raise SystemExit('broken on purpose')\n")
    with pytest.raises(RuntimeError, match="(?s)bench_b.py failed.*broken on purpose"):
        run_benchmarks(tmp_path, tmp_path / "RESULTS.md", benchmarks=benchmarks)
    with pytest.raises(FileNotFoundError, match="No benchmark scripts"):
        run_benchmarks(tmp_path / "nowhere", tmp_path / "RESULTS.md", benchmarks=benchmarks)


def test_every_benchmark_script_is_registered():
    from ncestimators._bench import BENCHMARKS, default_scripts_dir

    on_disk = {path.name for path in default_scripts_dir().glob("bench_*.py")}
    assert on_disk == set(BENCHMARKS), sys.version
