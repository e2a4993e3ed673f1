"""The neural-collapse heatmap: cosines between the centred class means of features."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ..geometry import class_mean_cosines
from ._base import add_colorbar, axes_or_new, cosine_heatmap, import_pyplot, label_ticks

__all__ = ["CollapseDisplay"]


class CollapseDisplay:
    """Neural-collapse heatmap: the cosines between the centred class means of features.

    At neural collapse [1]_ the class means, centred on the global mean, sit at the vertices of
    a simplex equiangular tight frame: every off-diagonal cosine is :math:`-1/(C-1)` for
    :math:`C` classes, so the more even the off-diagonal colour, the more collapsed the
    features. The title gives the standard deviation of the off-diagonal cosines
    (``nc2_equiangularity`` of :func:`~ncestimators.geometry.neural_collapse_metrics`, 0 at
    collapse).

    Create it with :meth:`from_estimator` or :meth:`from_predictions`, which compute and
    draw it. All parameters are stored as attributes.

    Parameters
    ----------
    cosines : ndarray of shape (n_classes, n_classes)
        Cosine between the centred means of every pair of classes.

    display_labels : array-like of shape (n_classes,), default=None
        Labels of the rows and columns; None numbers them from 0.

    name : str, default=None
        Name of the model, shown above the title; None shows none.

    Attributes
    ----------
    equiangularity : float
        Standard deviation of the off-diagonal cosines, derived from ``cosines``.

    im_ : matplotlib.image.AxesImage
        The heatmap.

    colorbar_ : matplotlib.colorbar.Colorbar or None
        Its colorbar; None when drawn with ``colorbar=False``.

    ax_ : matplotlib.axes.Axes
        Axes of the heatmap.

    figure_ : matplotlib.figure.Figure
        Figure of the heatmap.

    See Also
    --------
    ncestimators.geometry.neural_collapse_metrics : NC1-NC4, in numbers.
    ncestimators.geometry.simplex_etf : The configuration collapsed class means converge to.

    References
    ----------
    .. [1] V. Papyan, X. Y. Han and D. L. Donoho, "Prevalence of neural collapse during the
       terminal phase of deep learning training", PNAS 117(40), 2020.

    Examples
    --------
    Features near a simplex ETF (collapsed up to noise):

    >>> import numpy as np
    >>> from ncestimators.geometry import simplex_etf
    >>> from ncestimators.plotting import CollapseDisplay
    >>> labels = np.repeat([0, 1, 2, 3], 25)
    >>> rng = np.random.default_rng(0)
    >>> features = simplex_etf(4, 8, random_state=0).T[labels] + 0.3 * rng.normal(size=(100, 8))
    >>> display = CollapseDisplay.from_predictions(labels, features)
    >>> display.im_.get_array().shape
    (4, 4)
    >>> print(display.ax_.get_title())
    std of off-diagonal cosines 0.045
    """

    def __init__(self, cosines, *, display_labels=None, name=None):
        self.cosines = cosines
        self.display_labels = display_labels
        self.name = name

    @property
    def equiangularity(self):
        cosines = np.asarray(self.cosines, dtype=np.float64)
        return float(cosines[~np.eye(len(cosines), dtype=bool)].std())

    def plot(self, ax=None, *, cmap="RdBu_r", colorbar=True):
        """Draw the heatmap.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Axes to draw into; None draws into a new figure.

        cmap : str or matplotlib.colors.Colormap, default="RdBu_r"
            Colour map of the cosines, on the fixed scale [-1, 1].

        colorbar : bool, default=True
            Whether to add a colorbar (turn it off to share one between several heatmaps).

        Returns
        -------
        display : CollapseDisplay
            This display, with its artists stored as attributes.
        """
        cosines = np.asarray(self.cosines, dtype=np.float64)
        n_classes = len(cosines)
        labels = range(n_classes) if self.display_labels is None else self.display_labels
        if cosines.shape != (n_classes, n_classes) or len(labels) != n_classes:
            raise ValueError(
                f"cosines must be square with one row per display label, got the shape "
                f"{cosines.shape} and {len(labels)} labels."
            )
        self.ax_, self.figure_ = axes_or_new(ax, "CollapseDisplay.plot")
        self.im_ = cosine_heatmap(self.ax_, cosines, cmap)
        label_ticks(self.ax_, labels)
        self.ax_.set_xlabel("class")
        self.ax_.set_ylabel("class")
        title = f"std of off-diagonal cosines {self.equiangularity:.3f}"
        self.ax_.set_title(title if self.name is None else f"{self.name}\n{title}")
        self.colorbar_ = add_colorbar(self, "cosine of centred class means") if colorbar else None
        return self

    @classmethod
    def from_estimator(cls, estimator, X, y, *, name=None, ax=None, cmap="RdBu_r", colorbar=True):
        """Draw the heatmap of the features a fitted estimator embeds X into.

        The features are those of the estimator's ``embed(X)``, one row per position: a
        sample, or every pixel or point of a segmenter's input.

        Parameters
        ----------
        estimator : fitted estimator
            Any of the library's estimators whose embeddings have labels: the
            classifiers, and :class:`~ncestimators.CeCoSegmenter` with per-position labels.

        X : array-like or list of arrays
            Input, in any form the estimator's ``embed`` accepts.

        y : array-like or list of arrays
            Label of every embedded position: one per sample, or the label map of every
            image or point cloud. Positions whose label is not one of the estimator's
            ``classes_`` (such as a segmenter's ``ignore_index``) are left out.

        name : str, default=None
            Name of the model, shown above the title; None uses the estimator's class name.

        ax : matplotlib.axes.Axes, default=None
            Axes to draw into; None draws into a new figure.

        cmap : str or matplotlib.colors.Colormap, default="RdBu_r"
            Colour map of the cosines, on the fixed scale [-1, 1].

        colorbar : bool, default=True
            Whether to add a colorbar.

        Returns
        -------
        display : CollapseDisplay
            The drawn display.

        Examples
        --------
        >>> from ncestimators import AllNCClassifier
        >>> from ncestimators.datasets import make_superclass_features
        >>> from ncestimators.plotting import CollapseDisplay
        >>> X, y = make_superclass_features(n_classes=4, n_superclasses=2, n_samples=80,
        ...                                 n_features=6, random_state=0)
        >>> model = AllNCClassifier(max_epochs=2, random_state=0).fit(X, y)
        >>> display = CollapseDisplay.from_estimator(model, X, y)
        >>> print(display.ax_.get_title().splitlines()[0])
        AllNCClassifier
        """
        import_pyplot("CollapseDisplay.from_estimator")
        check_is_fitted(estimator)
        embeddings, labels = _embedded_positions(estimator, X, y)
        return cls.from_predictions(
            labels,
            embeddings,
            name=type(estimator).__name__ if name is None else name,
            ax=ax,
            cmap=cmap,
            colorbar=colorbar,
        )

    @classmethod
    def from_predictions(cls, y, embeddings, *, name=None, ax=None, cmap="RdBu_r", colorbar=True):
        """Draw the heatmap of given features.

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            Class of each sample, at least two classes; the rows and columns follow the sorted
            classes.

        embeddings : array-like of shape (n_samples, n_features)
            Features of each sample, such as an estimator's ``embed(X)``.

        name : str, default=None
            Name of the model, shown above the title; None shows none.

        ax : matplotlib.axes.Axes, default=None
            Axes to draw into; None draws into a new figure.

        cmap : str or matplotlib.colors.Colormap, default="RdBu_r"
            Colour map of the cosines, on the fixed scale [-1, 1].

        colorbar : bool, default=True
            Whether to add a colorbar.

        Returns
        -------
        display : CollapseDisplay
            The drawn display.
        """
        import_pyplot("CollapseDisplay.from_predictions")
        # Validates both (lengths, NaN, at least two classes) with messages that say what to fix.
        display = cls(
            class_mean_cosines(embeddings, y), display_labels=np.unique(column_or_1d(y)), name=name
        )
        return display.plot(ax, cmap=cmap, colorbar=colorbar)


def _embedded_positions(estimator, X, y):
    """The estimator's embedding of every position of X, one row each, and the position's label.

    A position is a sample, or a pixel or point of a segmenter's input; positions labelled
    with anything but a fitted class are left out.
    """
    embeddings = estimator.embed(X)
    if isinstance(embeddings, list):  # one array per point cloud or video
        embeddings = np.concatenate(embeddings)
        labels = np.concatenate([np.ravel(item) for item in y])
    else:
        embeddings = embeddings.reshape(-1, embeddings.shape[-1])
        labels = np.ravel(y)
    if len(labels) != len(embeddings):
        raise ValueError(
            f"y has {len(labels)} labels but {type(estimator).__name__}.embed(X) gives "
            f"{len(embeddings)} positions; pass one label per embedded position (per sample, "
            "or a label map per image or point cloud)."
        )
    if hasattr(estimator, "classes_"):
        labelled = np.isin(labels, estimator.classes_)
        embeddings, labels = embeddings[labelled], labels[labelled]
    return embeddings, labels
