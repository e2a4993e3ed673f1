"""Random directions in feature space, on which the sequence generators lay out their signals."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

__all__ = []


def unit_directions(n_directions, n_features, rng):
    """Orthonormal rows when ``n_features`` allows, independent random unit rows otherwise."""
    gaussian = rng.standard_normal((n_features, n_directions))
    if n_features >= n_directions:
        return np.linalg.qr(gaussian)[0].T
    return (gaussian / np.linalg.norm(gaussian, axis=0)).T
