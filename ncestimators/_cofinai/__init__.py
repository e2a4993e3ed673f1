"""CoFInAIRegressor: coarse-to-fine action quality assessment.

Layout: ``_estimator`` is the scikit-learn estimator on ``TorchEstimatorBase``; it trains the
torch head of ``_head`` with the loss of ``_losses``. They import the package's shared modules
(``_base``, ``_model``, ...), never another estimator's subpackage.
"""

# SPDX-License-Identifier: BSD-3-Clause

from ._estimator import CoFInAIRegressor

__all__ = ["CoFInAIRegressor"]
