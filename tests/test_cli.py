"""The main job and the benchmark runner: ``ncestimators demo`` and ``ncestimators bench``."""

import importlib.metadata
import json
import re
import sys

import pytest

from ncestimators._bench import run_benchmarks
from ncestimators.cli import main


def test_quick_demo_prints_the_table_and_writes_plots_and_report(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["demo", "--quick", "--output", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    estimators = ["AllNCClassifier", "DynamicPrototypeClassifier", "CoFInAIRegressor",
                  "ClusterFBSeparator", "CeCoSegmenter"]  # fmt: skip
    for name in estimators:
        assert name in output
    for column in ["metric", "ours", "baseline", "which baseline", "ablation", "fit seconds"]:
        assert re.search(rf"\|\s+{column}\s+\|", output), column
    plots = sorted(path.name for path in tmp_path.glob("*.png"))
    assert plots == sorted(f"{name}.png" for name in estimators)
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert all(f'<img src="{plot}"' in report for plot in plots)
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert results["mode"] == "quick" and len(results["runs"]) >= 5
    for run in results["runs"]:
        assert 0 <= run["ours"] <= 1 and run["fit seconds"] > 0


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
