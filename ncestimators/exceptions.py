"""Warnings and errors raised by ncestimators.

``NotFittedError`` is scikit-learn's, re-exported so that one import serves both libraries.
The package raises its warnings with :func:`warn` (internal), at the line of the user's code.
"""

# SPDX-License-Identifier: BSD-3-Clause

import os
import sys
import warnings

from sklearn.exceptions import ConvergenceWarning, NotFittedError

__all__ = ["ConvergenceWarning", "DeviceWarning", "NotFittedError", "WarmStartWarning"]

# The package's modules, and the libraries through which the user's code calls them: scikit-learn
# (meta-estimators, model selection), joblib (under model selection), skorch (the training loop
# and its callbacks) and torch (modules calling their submodules).
_INTERNAL_MODULES = (
    "ncestimators",
    "ncestimators.adapters",
    "ncestimators.datasets",
    "sklearn",
    "joblib",
    "skorch",
    "torch",
)


def warn(message, category):
    """``warnings.warn`` pointing at the user's line, however deep in the package it is raised.

    A fixed ``stacklevel`` points into the package when the call comes through ``FineTune``,
    an extractor, a skorch callback or a scikit-learn meta-estimator. The warning is attributed
    to the first calling frame whose file lies outside the package's directories
    (``ncestimators``, and ``adapters`` and ``datasets``, which install inside it but may sit
    elsewhere, as in an editable install) and outside the libraries that call into it.
    (Python 3.12's ``skip_file_prefixes`` does this too, but the package supports 3.10.)
    """
    internal = tuple(
        os.path.dirname(module.__file__) + os.sep
        for module in map(sys.modules.get, _INTERNAL_MODULES)
        if module is not None
    )
    frame, stacklevel = sys._getframe(), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(internal):
        frame, stacklevel = frame.f_back, stacklevel + 1
    warnings.warn(message, category, stacklevel=stacklevel)


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
