"""CeCoSegmenter: imbalanced per-pixel / per-point classification with Center Collapse."""

# SPDX-License-Identifier: BSD-3-Clause

from ._estimator import CeCoSegmenter

__all__ = ["CeCoSegmenter"]
