"""AllNCClassifier: all-around neural collapse for imbalanced classification."""

# SPDX-License-Identifier: BSD-3-Clause

from ._estimator import AllNCClassifier

__all__ = ["AllNCClassifier"]
