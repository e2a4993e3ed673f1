"""AllNCClassifier: all-around neural collapse for imbalanced classification.

Layout: ``_estimator`` is the scikit-learn estimator on ``TorchEstimatorBase``; it trains the
torch head of ``_head`` with the loss of ``_losses``. They import the package's shared modules
(``_base``, ``_model``, ...), never another estimator's subpackage.
"""

# SPDX-License-Identifier: BSD-3-Clause

from ._estimator import AllNCClassifier

__all__ = ["AllNCClassifier"]
