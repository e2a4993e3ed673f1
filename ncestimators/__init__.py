"""Neural-collapse, fixed-prototype and optimal-transport heads as scikit-learn estimators.

Layout: one subpackage per estimator (``_allnc``, ``_ceco``, ``_clusterfb``, ``_cofinai``,
``_dynamic_prototype``) on shared modules with one job each: ``_base`` (the estimator
template), ``_inputs`` (validation of X and y), ``_data`` (datasets, loaders, splits),
``_model`` (torch building blocks), ``_nets`` (skorch nets, training callbacks), ``_runtime``
(devices, seeds, conversion), ``_weights`` (weighted losses); public helpers in ``geometry``,
``ot``, ``metrics``, ``callbacks`` and ``exceptions``. Imports point down only: ``_inputs``
builds on ``_data``, ``_nets`` on ``_model``, ``callbacks`` on both, ``_base`` on all of them;
the others import nothing of the package but ``exceptions``. Estimator subpackages import
these modules, never each other, and none of these modules imports them. ``adapters`` and
``datasets`` build on the package, which never imports them; ``cli``, with ``_demo`` and
``_bench``, sits on top of everything.
"""

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
