"""DynamicPrototypeClassifier: hyperspherical prototypes with a learned label assignment."""

# SPDX-License-Identifier: BSD-3-Clause

from ._estimator import DynamicPrototypeClassifier

__all__ = ["DynamicPrototypeClassifier"]
