"""The ``ncestimators`` command line: ``demo``, ``bench`` and ``info``."""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import platform
import sys

__all__ = ["main"]


def main(argv=None):
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = _parser()
    arguments = parser.parse_args(argv)
    if arguments.command is None:
        parser.print_help()
        return 2
    return arguments.run(arguments)


def _parser():
    parser = argparse.ArgumentParser(
        prog="ncestimators",
        description="Neural-collapse, prototype and optimal-transport heads for scikit-learn.",
    )
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser(
        "demo",
        help="fit the five estimators against plain alternatives and ablations over seeds, "
        "with verdicts, and write a visual report",
    )
    demo.add_argument(
        "--output", default="ncestimators-demo", help="folder of the report (default: %(default)s)"
    )
    demo.add_argument("--quick", action="store_true", help="fewer epochs: a smoke run, not results")
    demo.add_argument(
        "--seeds", type=int, default=3, help="seeds of every row, at least 2 (default: 3)"
    )
    demo.add_argument(
        "--weights",
        metavar="PATH",
        help="run the real track with this torchvision mobilenet_v2 checkpoint (ImageNet "
        "weights), or DEFAULT for torchvision's weights in torch's hub cache (never downloaded)",
    )
    demo.add_argument(
        "--data",
        metavar="DIR",
        help="folder holding fashion-mnist/ and camvid/ for the real track (default: the "
        "digits, and no CamVid row)",
    )
    demo.add_argument(
        "--track",
        choices=("all", "embedded", "real"),
        default="all",
        help="rows to run; 'all' includes the real track when --weights is given",
    )
    demo.add_argument(
        "--jobs",
        type=int,
        help="fits at once, one thread each (default: every CPU core; 1 on CUDA)",
    )
    demo.set_defaults(run=_demo, parser=demo)
    bench = commands.add_parser(
        "bench", help="run examples/benchmarks/ and rewrite examples/benchmarks/RESULTS.md"
    )
    bench.add_argument("--quick", action="store_true", help="one seed or repeat per script")
    bench.add_argument("--scripts", help="folder of the scripts (default: the checkout's)")
    bench.add_argument("--output", help="file to write (default: RESULTS.md beside the scripts)")
    bench.add_argument(
        "--only",
        nargs="+",
        metavar="SCRIPT",
        help="run just these scripts (e.g. bench_ceco.py) and replace their sections of the file",
    )
    bench.set_defaults(run=_bench)
    info = commands.add_parser("info", help="print versions and the device training would use")
    info.set_defaults(run=_info)
    return parser


def _demo(arguments):
    from ._demo import check_options, run_demo

    options = {
        "seeds": arguments.seeds,
        "weights": arguments.weights,
        "data": arguments.data,
        "track": arguments.track,
        "n_jobs": arguments.jobs,
    }
    try:
        check_options(**options)
    except ValueError as error:
        arguments.parser.error(str(error))  # exits with status 2, as for any bad option
    run_demo(arguments.output, quick=arguments.quick, **options)
    return 0


def _bench(arguments):
    from ._bench import run_benchmarks

    path = run_benchmarks(
        arguments.scripts, arguments.output, quick=arguments.quick, only=arguments.only
    )
    print(f"Wrote {path}")
    return 0


def _info(arguments):
    import torch

    from . import __version__
    from ._bench import cpu_model, package_versions
    from ._runtime import resolve_device

    print(f"ncestimators {__version__}")
    print(f"python {platform.python_version()} on {platform.platform()}")
    for package, version in package_versions().items():
        print(f"{package} {version}")
    device = resolve_device("auto")
    name = torch.cuda.get_device_name(0) if device == "cuda" else cpu_model()
    print(f"device {device} ({name}), {torch.get_num_threads()} torch threads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
