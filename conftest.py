"""Repository-wide pytest configuration."""

# SPDX-License-Identifier: BSD-3-Clause

import pytest


def pytest_sessionfinish(session, exitstatus):
    # A run that collects no tests is a broken run (wrong directory, import-time skip, bad
    # filter), not a green one: report it as a failure instead of pytest's exit code 5.
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
