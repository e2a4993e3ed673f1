"""Warnings and errors raised by ncestimators.

``NotFittedError`` is scikit-learn's, re-exported so that one import serves both libraries.
"""

# SPDX-License-Identifier: BSD-3-Clause

from sklearn.exceptions import ConvergenceWarning, NotFittedError

__all__ = ["ConvergenceWarning", "DeviceWarning", "NotFittedError"]


class DeviceWarning(UserWarning):
    """Warning raised when the requested torch device is unavailable.

    The estimator falls back to the CPU and keeps going, so a script written for a GPU machine
    still runs on a laptop.

    Examples
    --------
    >>> import warnings
    >>> from ncestimators.exceptions import DeviceWarning
    >>> warnings.simplefilter("error", DeviceWarning)  # make a silent fallback fatal
    """
