"""The ``ncestimators`` command line: ``ncestimators info``."""

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
    info = commands.add_parser("info", help="print versions and the device training would use")
    info.set_defaults(run=_info)
    return parser


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
