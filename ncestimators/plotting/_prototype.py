"""Which fixed prototype each class sits on: the circle, or the cosines between classes."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._base import add_colorbar, axes_or_new, cosine_heatmap, import_pyplot, label_ticks

__all__ = ["PrototypeDisplay"]

KINDS = ("auto", "circle", "cosines")


class PrototypeDisplay:
    """The prototype assignment of a :class:`~ncestimators.DynamicPrototypeClassifier`.

    Two views of which fixed prototype each class sits on:

    * ``"circle"`` (2-D prototypes): the unit circle with each class's label at its
      prototype, so that neighbouring classes are neighbouring labels;
    * ``"cosines"`` (any dimension): the cosine between the prototypes of every pair of
      classes. With ``superclass``, the classes are grouped by super-class and the groups
      framed: an assignment that puts related classes on nearby prototypes shows red blocks
      on the diagonal.

    Create it with :meth:`from_estimator`, or from the assigned prototypes directly. All
    parameters are stored as attributes.

    Parameters
    ----------
    assigned_prototypes : ndarray of shape (n_classes, prototype_dim)
        The unit-norm prototype of each class, row i being that of class i.

    display_labels : array-like of shape (n_classes,), default=None
        Label of each class; None numbers them from 0.

    superclass : array-like of shape (n_classes,), default=None
        Super-class of each class, to group the classes by (colours on the circle, blocks of
        the cosine matrix); None groups nothing.

    Attributes
    ----------
    kind_ : {"circle", "cosines"}
        The view drawn.

    im_ : matplotlib.image.AxesImage or None
        The cosine matrix of the ``"cosines"`` view; None on the circle.

    colorbar_ : matplotlib.colorbar.Colorbar or None
        Its colorbar; None on the circle or when drawn with ``colorbar=False``.

    scatter_ : matplotlib.collections.PathCollection or None
        The prototypes on the circle; None in the ``"cosines"`` view.

    texts_ : list of matplotlib.text.Text
        The class labels on the circle, one per class; empty in the ``"cosines"`` view.

    ax_ : matplotlib.axes.Axes
        Axes of the view.

    figure_ : matplotlib.figure.Figure
        Figure of the view.

    See Also
    --------
    ncestimators.geometry.uniform_prototypes : The fixed prototypes.

    Examples
    --------
    Six classes on the hexagon, two super-classes of alternating classes:

    >>> import numpy as np
    >>> from ncestimators.plotting import PrototypeDisplay
    >>> angles = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    >>> hexagon = np.column_stack([np.cos(angles), np.sin(angles)])
    >>> display = PrototypeDisplay(hexagon, superclass=[0, 1, 0, 1, 0, 1]).plot()
    >>> display.kind_, len(display.texts_)
    ('circle', 6)
    >>> display.plot(kind="cosines").im_.get_array().shape
    (6, 6)
    """

    def __init__(self, assigned_prototypes, *, display_labels=None, superclass=None):
        self.assigned_prototypes = assigned_prototypes
        self.display_labels = display_labels
        self.superclass = superclass

    def plot(self, ax=None, *, kind="auto", cmap="RdBu_r", colorbar=True):
        """Draw the assignment.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Axes to draw into; None draws into a new figure.

        kind : {"auto", "circle", "cosines"}, default="auto"
            The view: ``"auto"`` is the circle for 2-D prototypes and the cosines otherwise.

        cmap : str or matplotlib.colors.Colormap, default="RdBu_r"
            Colour map of the cosines, on the fixed scale [-1, 1].

        colorbar : bool, default=True
            Whether the cosine view gets a colorbar.

        Returns
        -------
        display : PrototypeDisplay
            This display, with its artists stored as attributes.
        """
        prototypes, labels, superclass = self._checked_data()
        self.kind_ = _resolve_kind(kind, prototypes.shape[1])
        self.ax_, self.figure_ = axes_or_new(ax, "PrototypeDisplay.plot")
        self.im_, self.colorbar_, self.scatter_, self.texts_ = None, None, None, []
        if self.kind_ == "circle":
            self._plot_circle(prototypes, labels, superclass)
        else:
            self._plot_cosines(prototypes, labels, superclass, cmap)
            if colorbar:
                self.colorbar_ = add_colorbar(self, "cosine between the classes' prototypes")
        return self

    @classmethod
    def from_estimator(
        cls, estimator, *, superclass=None, ax=None, kind="auto", cmap="RdBu_r", colorbar=True
    ):
        """Draw the assignment of a fitted :class:`~ncestimators.DynamicPrototypeClassifier`.

        Parameters
        ----------
        estimator : DynamicPrototypeClassifier
            A fitted classifier: its ``prototypes_`` and ``assignment_`` are drawn, with its
            ``classes_`` as labels.

        superclass : array-like of shape (n_classes,), default=None
            Super-class of each class, in the order of ``classes_``; None groups nothing.

        ax : matplotlib.axes.Axes, default=None
            Axes to draw into; None draws into a new figure.

        kind : {"auto", "circle", "cosines"}, default="auto"
            The view: ``"auto"`` is the circle for 2-D prototypes and the cosines otherwise.

        cmap : str or matplotlib.colors.Colormap, default="RdBu_r"
            Colour map of the cosines, on the fixed scale [-1, 1].

        colorbar : bool, default=True
            Whether the cosine view gets a colorbar.

        Returns
        -------
        display : PrototypeDisplay
            The drawn display.

        Examples
        --------
        >>> from ncestimators import DynamicPrototypeClassifier
        >>> from ncestimators.datasets import make_superclass_features
        >>> from ncestimators.plotting import PrototypeDisplay
        >>> X, y, superclass = make_superclass_features(
        ...     n_classes=6, n_superclasses=2, n_samples=120, n_features=6,
        ...     return_superclasses=True, random_state=0)
        >>> model = DynamicPrototypeClassifier(prototype_dim=2, max_epochs=2, random_state=0)
        >>> display = PrototypeDisplay.from_estimator(model.fit(X, y), superclass=superclass)
        >>> [text.get_text() for text in display.texts_]
        ['0', '1', '2', '3', '4', '5']
        """
        import_pyplot("PrototypeDisplay.from_estimator")
        check_is_fitted(estimator, ["prototypes_", "assignment_"])
        display = cls(
            estimator.prototypes_[estimator.assignment_],
            display_labels=estimator.classes_,
            superclass=superclass,
        )
        return display.plot(ax, kind=kind, cmap=cmap, colorbar=colorbar)

    def _checked_data(self):
        """The prototypes, labels and super-classes, checked against each other."""
        prototypes = check_array(self.assigned_prototypes, input_name="assigned_prototypes")
        n_classes = len(prototypes)
        labels = np.arange(n_classes) if self.display_labels is None else self.display_labels
        for name, values in (("display_labels", labels), ("superclass", self.superclass)):
            if values is not None and len(values) != n_classes:
                raise ValueError(
                    f"{name} has {len(values)} entries for {n_classes} classes (rows of "
                    "assigned_prototypes); pass one per class."
                )
        superclass = None if self.superclass is None else column_or_1d(self.superclass)
        return prototypes, labels, superclass

    def _plot_circle(self, prototypes, labels, superclass):
        angles = np.linspace(0, 2 * np.pi, 200)
        self.ax_.plot(np.cos(angles), np.sin(angles), color="0.8", lw=1, zorder=0)
        if superclass is None:
            self.scatter_ = self.ax_.scatter(*prototypes.T, s=30, color="#4c72b0")
        else:
            groups, codes = np.unique(superclass, return_inverse=True)
            self.scatter_ = self.ax_.scatter(
                *prototypes.T, s=30, c=codes, cmap="tab10", vmin=0, vmax=9
            )
            self.ax_.legend(
                self.scatter_.legend_elements()[0],
                [f"super-class {group}" for group in groups],
                loc="center",
                fontsize=8,
            )
        # Labels just outside the circle, on the ray through their prototype.
        self.texts_ = [
            self.ax_.text(1.15 * x, 1.15 * y, str(label), ha="center", va="center", fontsize=9)
            for (x, y), label in zip(prototypes, labels, strict=True)
        ]
        self.ax_.set_xlim(-1.3, 1.3)
        self.ax_.set_ylim(-1.3, 1.3)
        self.ax_.set_aspect("equal")
        self.ax_.set_xticks([])
        self.ax_.set_yticks([])
        self.ax_.set_xlabel("each class at its prototype on the unit circle")

    def _plot_cosines(self, prototypes, labels, superclass, cmap):
        order = np.arange(len(prototypes))
        if superclass is not None:
            order = np.argsort(superclass, kind="stable")
        ordered = prototypes[order]
        self.im_ = cosine_heatmap(self.ax_, ordered @ ordered.T, cmap)
        label_ticks(self.ax_, np.asarray(labels)[order])
        self.ax_.tick_params(labelsize=8)
        what = "class" if superclass is None else "class, grouped by super-class"
        self.ax_.set_xlabel(what)
        self.ax_.set_ylabel(what)
        if superclass is not None:
            grouped = superclass[order]
            for edge in np.flatnonzero(grouped[1:] != grouped[:-1]):
                self.ax_.axhline(edge + 0.5, color="black", lw=0.8)
                self.ax_.axvline(edge + 0.5, color="black", lw=0.8)


def _resolve_kind(kind, dim):
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}: choose one of {KINDS}.")
    if kind == "circle" and dim != 2:
        raise ValueError(
            f'kind="circle" needs 2-D prototypes, these have {dim} dimensions; use '
            'kind="cosines" (or "auto").'
        )
    if kind == "auto":
        return "circle" if dim == 2 else "cosines"
    return kind
