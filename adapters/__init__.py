"""Backbone feature extraction and end-to-end fine-tuning (installed as ``ncestimators.adapters``).

Needs the ``vision`` extra (torchvision, timm): ``pip install "ncestimators[vision]"``.

* :class:`BackboneFeatures`, :class:`DenseFeatures`, :class:`ClipFeatures`: scikit-learn
  transformers from images and videos to the features the heads read;
* :func:`downsample_labels`, :func:`upsample_labels`: pixel labels to and from a feature grid;
* :class:`FineTune`: a backbone trained end to end with any of the five heads;
* :func:`extract_to_files`: extraction sharded over dask workers, one ``.npy`` file per item.

Layout: ``_backbones`` builds backbones by name, ``_media`` and ``_video`` read images and
videos, ``_extractors`` holds the transformers, ``_stems`` the backbones put in front of a head,
``_fine_tune`` :class:`FineTune`, ``_labels`` the label grids, ``_sharding`` the dask jobs. The
adapters build on the base: ``FineTune`` gives an estimator a stem (``_base.attach_stem``, the
protocol ``_model.Stem``),
the extractors use its loaders and seeding (``_data``, ``_runtime``), and ``_sharding`` writes
through ``ncestimators.datasets``; the base never imports the adapters.
"""

# SPDX-License-Identifier: BSD-3-Clause

from ._extractors import BackboneFeatures, ClipFeatures, DenseFeatures
from ._fine_tune import FineTune
from ._labels import downsample_labels, upsample_labels
from ._sharding import extract_to_files

__all__ = [
    "BackboneFeatures",
    "ClipFeatures",
    "DenseFeatures",
    "FineTune",
    "downsample_labels",
    "extract_to_files",
    "upsample_labels",
]
