"""ClusterFBSeparator: weakly-supervised temporal action localisation (CASE)."""

# SPDX-License-Identifier: BSD-3-Clause

from ._estimator import ClusterFBSeparator

__all__ = ["ClusterFBSeparator"]
