"""Synthetic features whose classes are grouped into super-classes."""

# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["make_superclass_features"]


@validate_params(
    {
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "n_superclasses": [Interval(Integral, 1, None, closed="left")],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "class_sep": [Interval(Real, 0, None, closed="left")],
        "superclass_sep": [Interval(Real, 0, None, closed="left")],
        "return_superclasses": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_superclass_features(
    n_classes=20,
    n_superclasses=4,
    n_samples=2000,
    n_features=32,
    *,
    class_sep=2.0,
    superclass_sep=6.0,
    return_superclasses=False,
    random_state=None,
):
    """Generate Gaussian classes whose means cluster into super-classes.

    A stand-in for backbone features of a data set with a semantic hierarchy (CIFAR-100's 20
    super-classes of 5 classes each, "truck" and "automobile" in CIFAR-10): classes of the same
    super-class lie close together, classes of different super-classes far apart. A classifier
    with fixed prototypes in few dimensions does better when it puts the classes of a super-class
    on neighbouring prototypes, which is what a learned label-to-prototype assignment can do and a
    fixed, arbitrary one cannot [1]_.

    Parameters
    ----------
    n_classes : int, default=20
        Number of classes C, at least 2.

    n_superclasses : int, default=4
        Number of super-classes S, between 1 and ``n_classes``.

    n_samples : int, default=2000
        Total number of samples, at least ``n_classes``. They are split as evenly as possible
        over the classes (the first ``n_samples % n_classes`` classes get one more).

    n_features : int, default=32
        Dimension D of the features.

    class_sep : float, default=2.0
        Distance of each class mean from its super-class centre, in units of the within-class
        standard deviation. Two classes of one super-class are about ``sqrt(2) * class_sep``
        apart.

    superclass_sep : float, default=6.0
        Distance of each super-class centre from the origin, in the same units. Two super-class
        centres are about ``sqrt(2) * superclass_sep`` apart.

    return_superclasses : bool, default=False
        Whether to also return the super-class of each class.

    random_state : int, RandomState instance or None, default=None
        Draws the centres, the offsets, the noise and the sample order. Pass an int for
        reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Float64 features, in random order.

    y : ndarray of shape (n_samples,)
        Integer class labels ``0, ..., n_classes - 1``.

    superclasses : ndarray of shape (n_classes,)
        ``superclasses[c]`` is the super-class of class ``c``. Only returned when
        ``return_superclasses`` is True.

    See Also
    --------
    sklearn.datasets.make_classification : Gaussian clusters on the vertices of a hypercube,
        without a hierarchy.

    Notes
    -----
    The planted structure, with :math:`u_s` and :math:`v_c` independent uniformly random unit
    vectors in :math:`\\mathbb{R}^D`:

    .. math::

        s(c) &= \\lfloor c S / C \\rfloor
            \\quad \\text{(contiguous blocks of classes; sizes differ by at most one)}, \\\\
        \\mu_{s} &= \\text{superclass\\_sep} \\cdot u_s, \\qquad
        m_c = \\mu_{s(c)} + \\text{class\\_sep} \\cdot v_c, \\\\
        x &\\sim \\mathcal{N}(m_c, I_D) \\quad \\text{for a sample of class } c.

    In high dimension random unit vectors are nearly orthogonal, hence the distances quoted
    above. With the defaults the super-class of a sample is almost never in doubt, while classes
    of one super-class overlap: most errors of a good classifier are confusions inside a
    super-class.

    References
    ----------
    .. [1] M. S. Ebrahimi Saadabadi, A. Dabouei, S. Rahimi Malakshan and N. M. Nasrabadi,
       "Hyperspherical Classification with Dynamic Label-to-Prototype Assignment", CVPR 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from ncestimators.datasets import make_superclass_features
    >>> X, y, superclasses = make_superclass_features(
    ...     n_classes=6, n_superclasses=2, n_samples=60, n_features=8,
    ...     return_superclasses=True, random_state=0)
    >>> X.shape, y.shape
    ((60, 8), (60,))
    >>> np.bincount(y)
    array([10, 10, 10, 10, 10, 10])
    >>> superclasses
    array([0, 0, 0, 1, 1, 1])
    """
    if n_superclasses > n_classes:
        raise ValueError(
            f"n_superclasses={n_superclasses} exceeds n_classes={n_classes}; every super-class "
            "needs at least one class. Lower n_superclasses or raise n_classes."
        )
    if n_samples < n_classes:
        raise ValueError(
            f"n_samples={n_samples} is smaller than n_classes={n_classes}; every class needs at "
            "least one sample. Raise n_samples."
        )
    rng = check_random_state(random_state)
    superclasses = np.arange(n_classes) * n_superclasses // n_classes
    centres = superclass_sep * _random_unit_vectors(n_superclasses, n_features, rng)
    means = centres[superclasses] + class_sep * _random_unit_vectors(n_classes, n_features, rng)
    y = rng.permutation(np.arange(n_samples) % n_classes)
    X = means[y] + rng.standard_normal((n_samples, n_features))
    if return_superclasses:
        return X, y, superclasses
    return X, y


def _random_unit_vectors(n_vectors, dim, rng):
    """``n_vectors`` independent uniformly random unit vectors in ``dim`` dimensions, as rows."""
    vectors = rng.standard_normal((n_vectors, dim))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
