"""ClusterFBSeparator: weakly-supervised temporal action localisation (CASE).

Layout: ``_estimator`` is the scikit-learn estimator on ``TorchEstimatorBase``; it trains the
torch head of ``_head`` with the loss of ``_losses`` (whose helpers the head shares),
``_targets`` encodes the video-level labels and ``_proposals`` turns actionness into segments.
They import the package's shared modules (``_base``, ``_model``, ...), never another
estimator's subpackage.
"""

# SPDX-License-Identifier: BSD-3-Clause

from ._estimator import ClusterFBSeparator

__all__ = ["ClusterFBSeparator"]
