"""Neural-collapse, fixed-prototype and optimal-transport heads as scikit-learn estimators."""

# SPDX-License-Identifier: BSD-3-Clause

from ._allnc import AllNCClassifier
from ._ceco import CeCoSegmenter
from ._clusterfb import ClusterFBSeparator
from ._cofinai import CoFInAIRegressor
from ._dynamic_prototype import DynamicPrototypeClassifier

__version__ = "0.1.0.dev0"

__all__ = [
    "AllNCClassifier",
    "CeCoSegmenter",
    "ClusterFBSeparator",
    "CoFInAIRegressor",
    "DynamicPrototypeClassifier",
    "__version__",
]
