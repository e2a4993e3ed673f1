"""Neural-collapse, fixed-prototype and optimal-transport heads as scikit-learn estimators."""

# SPDX-License-Identifier: BSD-3-Clause

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
