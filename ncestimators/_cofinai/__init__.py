"""CoFInAIRegressor: coarse-to-fine action quality assessment."""

# SPDX-License-Identifier: BSD-3-Clause

from ._estimator import CoFInAIRegressor

__all__ = ["CoFInAIRegressor"]
