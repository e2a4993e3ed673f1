"""Evaluation metrics of the five tasks, and a localization scorer for model selection.

* Action quality assessment: :func:`srcc`, :func:`fisher_z_mean`, :func:`relative_l2`.
* Temporal action localization: :func:`localization_map` (ActivityNet protocol),
  :func:`segments_to_frame` and :func:`make_localization_scorer` for ``GridSearchCV``.
* Semantic segmentation: :func:`iou_per_class`, :func:`mean_iou`.
* Long-tailed classification: :func:`shot_accuracy`.

Layout: one private module per task (``_aqa``, ``_localization``, ``_segmentation``,
``_long_tailed``), ``_scorer`` for the scorer and ``_validation`` for the checks they share.
The metrics import nothing else of the package, so that the estimators and the demo may use
them.
"""

# SPDX-License-Identifier: BSD-3-Clause

from ._aqa import fisher_z_mean, relative_l2, srcc
from ._localization import TIOU_THRESHOLDS as TIOU_THRESHOLDS  # public, not in __all__
from ._localization import localization_map, segments_to_frame
from ._long_tailed import shot_accuracy
from ._scorer import make_localization_scorer
from ._segmentation import frequency_groups, iou_per_class, mean_iou

__all__ = [
    "srcc",
    "fisher_z_mean",
    "relative_l2",
    "localization_map",
    "segments_to_frame",
    "make_localization_scorer",
    "iou_per_class",
    "mean_iou",
    "frequency_groups",
    "shot_accuracy",
]
