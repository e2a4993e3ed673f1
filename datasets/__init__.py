"""Dataset loaders and generators (installed as ``ncestimators.datasets``)."""

# SPDX-License-Identifier: BSD-3-Clause

from ._superclass import make_superclass_features

__all__ = [
    "make_superclass_features",
]
