"""Dataset loaders and generators (installed as ``ncestimators.datasets``).

Layout: one private module per kind of data (``_aqa``, ``_images``, ``_long_tailed``,
``_segmentation``, ``_superclass``, ``_wtal``), ``_features`` for extracted features in the
layout the loaders read, and ``_directions`` for the random feature directions of the sequence
generators. The datasets import nothing else of the package; the adapters, the
demo and the tests import them, the estimators never do.
"""

# SPDX-License-Identifier: BSD-3-Clause

from ._aqa import load_aqa_features, make_aqa_sequences
from ._features import save_features
from ._images import load_camvid, load_fashion_mnist
from ._long_tailed import load_digits_lt, make_long_tailed
from ._segmentation import make_dense_segmentation
from ._superclass import make_superclass_features
from ._wtal import load_wtal_features, make_wtal_videos

__all__ = [
    "load_aqa_features",
    "load_camvid",
    "load_digits_lt",
    "load_fashion_mnist",
    "load_wtal_features",
    "make_aqa_sequences",
    "make_dense_segmentation",
    "make_long_tailed",
    "make_superclass_features",
    "make_wtal_videos",
    "save_features",
]
