"""Figures of fitted estimators, in scikit-learn's Display style.

Each display has ``from_estimator`` (a fitted estimator and data) and, where the figure is
one of predictions, ``from_predictions`` (arrays); both compute the figure's data, draw it
and return the display. ``plot(ax=...)`` draws a display again, into given axes, and
returns it; the artists are attributes (``ax_``, ``figure_``, ``im_``, ``bars_``, ...).
Matplotlib is imported only to draw: ``pip install "ncestimators[plot]"``.

* :class:`CollapseDisplay`: cosines between the centred class means of features (neural
  collapse), for the classifiers' and segmenter's ``embed``.
* :class:`PrototypeDisplay`: the prototype each class of a
  :class:`~ncestimators.DynamicPrototypeClassifier` sits on.
* :class:`ScoreDisplay`: predicted against true scores of a
  :class:`~ncestimators.CoFInAIRegressor`, with its grade boundaries.
* :class:`ForegroundDisplay`: snippet foreground of a
  :class:`~ncestimators.ClusterFBSeparator` over the ground-truth action segments.
* :class:`IoUDisplay`: IoU per class by training frequency of a
  :class:`~ncestimators.CeCoSegmenter`, beside a baseline.

Layout: one private module per display, ``_base`` for what they share. The displays sit on
top of the estimators, ``geometry`` and ``metrics``; nothing in the package imports them but
the demo.
"""

# SPDX-License-Identifier: BSD-3-Clause

from ._collapse import CollapseDisplay
from ._foreground import ForegroundDisplay
from ._iou import IoUDisplay
from ._prototype import PrototypeDisplay
from ._score import ScoreDisplay

__all__ = [
    "CollapseDisplay",
    "ForegroundDisplay",
    "IoUDisplay",
    "PrototypeDisplay",
    "ScoreDisplay",
]
