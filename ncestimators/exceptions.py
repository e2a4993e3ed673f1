"""Warnings and errors raised by ncestimators.

``NotFittedError`` is scikit-learn's, re-exported so that one import serves both libraries.
"""

# SPDX-License-Identifier: BSD-3-Clause

from sklearn.exceptions import ConvergenceWarning, NotFittedError

__all__ = ["ConvergenceWarning", "DeviceWarning", "NotFittedError", "WarmStartWarning"]


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


class WarmStartWarning(UserWarning):
    """Warning raised when a warm-started fit cannot go on training the previous network.

    With ``warm_start=True``, a refit continues the fitted network unless a parameter that
    shapes it (``hidden_dims``, ``embedding_dim``, ...), the number of features or the classes
    changed: then the network no longer fits the data or the parameters, and a fresh one is
    trained instead.

    Examples
    --------
    >>> import warnings
    >>> from ncestimators.exceptions import WarmStartWarning
    >>> warnings.simplefilter("error", WarmStartWarning)  # never train afresh silently
    """
