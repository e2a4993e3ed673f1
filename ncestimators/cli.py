"""The ``ncestimators`` command line: ``demo``, ``bench`` and ``info``."""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import importlib.metadata
import platform
import sys

__all__ = ["main"]

_REPORTED_PACKAGES = ("torch", "scikit-learn", "skorch", "numpy", "scipy", "pandas")


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
        "demo", help="fit the five estimators against baselines and write a visual report"
    )
    demo.add_argument(
        "--output", default="ncestimators-demo", help="folder of the report (default: %(default)s)"
    )
    demo.add_argument("--quick", action="store_true", help="smaller data and fewer epochs")
    demo.set_defaults(run=_demo)
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
    from ._demo import run_demo

    run_demo(arguments.output, quick=arguments.quick)
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
    from ._training import resolve_device

    print(f"ncestimators {__version__}")
    print(f"python {platform.python_version()} on {platform.platform()}")
    for package in _REPORTED_PACKAGES:
        print(f"{package} {importlib.metadata.version(package)}")
    device = resolve_device("auto")
    name = torch.cuda.get_device_name(0) if device == "cuda" else platform.processor() or "cpu"
    print(f"device {device} ({name}), {torch.get_num_threads()} torch threads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
