"""Dataset loaders and generators (installed as ``ncestimators.datasets``)."""

# SPDX-License-Identifier: BSD-3-Clause

__all__ = []
