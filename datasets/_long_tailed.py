"""Long-tailed subsets: the CIFAR-LT exponential profile, and a long-tailed split of digits."""

# SPDX-License-Identifier: BSD-3-Clause

from numbers import Real

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.utils import Bunch, _safe_indexing, check_consistent_length, check_random_state
from sklearn.utils._param_validation import Interval, RealNotInt, validate_params
from sklearn.utils.validation import column_or_1d

__all__ = ["load_digits_lt", "make_long_tailed"]


@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like"],
        "imbalance_ratio": [Interval(Real, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_long_tailed(X, y, imbalance_ratio, *, random_state=None):
    """Subsample a data set so that its class sizes decay exponentially (CIFAR-LT profile).

    The construction of CIFAR-10-LT and CIFAR-100-LT [1]_ [2]_, applied to any labelled data:
    with the classes in sorted order :math:`c = 0, \\dots, C - 1`, class :math:`c` keeps

    .. math::

        n_c = \\max\\left(1, \\left\\lfloor n_{\\max} \\cdot
            \\text{imbalance\\_ratio}^{-c / (C - 1)} \\right\\rfloor\\right)

    samples drawn without replacement, where :math:`n_{\\max}` is the size of the *smallest*
    class of the input, so that every class can supply its quota. The first class keeps
    :math:`n_{\\max}` samples and the last about :math:`n_{\\max} / \\text{imbalance\\_ratio}`.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Samples: an array of any number of dimensions, a DataFrame, a list.

    y : array-like of shape (n_samples,)
        Class labels, at least two distinct ones; any sortable values.

    imbalance_ratio : float
        Ratio :math:`\\beta = n_0 / n_{C-1}` between the largest and the smallest class before
        rounding, at least 1 (1 gives a class-balanced subsample).

    random_state : int, RandomState instance or None, default=None
        Chooses which samples each class keeps. Pass an int for reproducible output.

    Returns
    -------
    X_lt : array-like of shape (n_kept, ...)
        The kept samples, in their original order and of the type of ``X`` (a DataFrame keeps
        its index and columns).

    y_lt : array-like of shape (n_kept,)
        Their labels, of the type of ``y``.

    See Also
    --------
    load_digits_lt : A balanced test split and a long-tailed training split of the digits.

    Notes
    -----
    The counts are rounded down as in the reference implementation of [1]_, and never below one,
    so that no class disappears when ``imbalance_ratio`` exceeds :math:`n_{\\max}`; the realised
    ratio :math:`n_0 / n_{C-1}` can then be smaller than asked. Which class is the largest is
    set by the sort order of the labels; relabel ``y`` to choose another order.

    References
    ----------
    .. [1] K. Cao, C. Wei, A. Gaidon, N. Arechiga and T. Ma, "Learning Imbalanced Datasets with
       Label-Distribution-Aware Margin Loss", NeurIPS 2019.
    .. [2] Y. Cui, M. Jia, T.-Y. Lin, Y. Song and S. Belongie, "Class-Balanced Loss Based on
       Effective Number of Samples", CVPR 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from ncestimators.datasets import make_long_tailed
    >>> X = np.arange(200).reshape(100, 2)
    >>> y = np.repeat(["a", "b", "c"], [40, 30, 30])
    >>> X_lt, y_lt = make_long_tailed(X, y, imbalance_ratio=10, random_state=0)
    >>> np.unique(y_lt, return_counts=True)
    (array(['a', 'b', 'c'], dtype='<U1'), array([30,  9,  3]))
    """
    check_consistent_length(X, y)
    labels = column_or_1d(y, warn=True)
    classes, codes, class_sizes = np.unique(labels, return_inverse=True, return_counts=True)
    if len(classes) < 2:
        raise ValueError(
            f"make_long_tailed needs at least 2 classes to make a long tail; y has "
            f"{len(classes)}. Pass the labels of several classes."
        )
    quotas = _long_tailed_counts(class_sizes.min(), len(classes), imbalance_ratio)
    rng = check_random_state(random_state)
    kept = np.sort(
        np.concatenate(
            [
                rng.choice(np.flatnonzero(codes == code), size=quota, replace=False)
                for code, quota in enumerate(quotas)
            ]
        )
    )
    return _safe_indexing(X, kept), _safe_indexing(y, kept)


@validate_params(
    {
        "imbalance_ratio": [Interval(Real, 1, None, closed="left")],
        "test_size": [Interval(RealNotInt, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def load_digits_lt(imbalance_ratio=100, *, test_size=0.3, random_state=0):
    """Load the handwritten digits with a long-tailed training split and a balanced test split.

    A small, real, offline long-tailed benchmark in the manner of CIFAR-10-LT: scikit-learn's
    bundled 8x8 digits (1797 images, 10 classes of 174 to 183 images, 64 pixel features in
    0..16). First every class gives the same number of images to the test split; then the
    remaining images are subsampled with :func:`make_long_tailed`, digit 0 being the largest
    class and digit 9 the smallest.

    Parameters
    ----------
    imbalance_ratio : float, default=100
        Ratio between the largest and the smallest training class, at least 1. With the
        default ``test_size`` the training classes have 122 down to ``122 / imbalance_ratio``
        images (at least one).

    test_size : float, default=0.3
        Fraction of the *smallest* class held out from *every* class, so that the test split
        is balanced: each digit gives ``floor(test_size * 174)`` images (52 by default, 520 in
        all).

    random_state : int, RandomState instance or None, default=0
        Chooses the test images and the kept training images. The default gives the same
        splits every time, as a fixed benchmark should; pass other ints for repeated draws.
        For an int, the test split depends only on ``random_state`` and ``test_size``, so
        that several imbalance ratios are compared on the same test images.

    Returns
    -------
    data : sklearn.utils.Bunch
        With the fields

        X_train : ndarray of shape (n_train, 64)
            Long-tailed training features (float64 pixel intensities).
        y_train : ndarray of shape (n_train,)
            Training digits.
        X_test : ndarray of shape (n_test, 64)
            Balanced test features.
        y_test : ndarray of shape (n_test,)
            Test digits.
        class_counts : pandas.Series
            Number of training images of each digit, indexed by digit; pass it to
            :func:`ncestimators.metrics.shot_accuracy` as ``train_counts``.
        feature_names : list of str
            Names of the 64 pixels.
        target_names : ndarray of shape (10,)
            The digits 0 to 9.
        DESCR : str
            This description of the split.

    See Also
    --------
    make_long_tailed : The long-tailed subsampling used for the training split.
    sklearn.datasets.load_digits : The full, balanced data set.

    Examples
    --------
    >>> from ncestimators.datasets import load_digits_lt
    >>> data = load_digits_lt(imbalance_ratio=10)
    >>> data.class_counts.tolist()
    [122, 94, 73, 56, 43, 33, 26, 20, 15, 12]
    >>> data.X_test.shape, data.y_test.shape
    ((520, 64), (520,))
    """
    digits = load_digits()
    class_sizes = np.bincount(digits.target)
    n_test = int(np.floor(test_size * class_sizes.min()))
    if n_test == 0:
        raise ValueError(
            f"test_size={test_size} holds out no image of the smallest class "
            f"({class_sizes.min()} images); use test_size >= {1 / class_sizes.min():.4f}."
        )
    rng = check_random_state(random_state)
    test = np.zeros(len(digits.target), dtype=bool)
    for digit in range(len(class_sizes)):
        test[rng.choice(np.flatnonzero(digits.target == digit), n_test, replace=False)] = True
    X_train, y_train = make_long_tailed(
        digits.data[~test], digits.target[~test], imbalance_ratio, random_state=rng
    )
    class_counts = pd.Series(
        np.bincount(y_train, minlength=len(class_sizes)),
        index=pd.Index(digits.target_names, name="digit"),
        name="n_train",
    )
    return Bunch(
        X_train=X_train,
        y_train=y_train,
        X_test=digits.data[test],
        y_test=digits.target[test],
        class_counts=class_counts,
        feature_names=digits.feature_names,
        target_names=digits.target_names,
        DESCR=(
            f"Digits-LT: scikit-learn's 8x8 handwritten digits, {n_test} test images per digit "
            f"(balanced), long-tailed training split with imbalance ratio {imbalance_ratio} "
            f"({class_counts.max()} down to {class_counts.min()} images per digit)."
        ),
    )


def _long_tailed_counts(n_max, n_classes, imbalance_ratio):
    """Class sizes ``max(1, floor(n_max * ratio ** (-c / (C - 1))))`` for ``c = 0..C-1``."""
    exponents = np.arange(n_classes) / (n_classes - 1)
    sizes = n_max * float(imbalance_ratio) ** -exponents
    # The tolerance keeps exact products (500 * 0.01 = 5) from flooring to one less.
    return np.maximum(1, np.floor(sizes + 1e-9)).astype(np.intp)
