"""IoU of every class, from the most to the least frequent in training, by frequency group."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ..metrics import frequency_groups, iou_per_class
from ._base import are_names, axes_or_new, import_pyplot

__all__ = ["IoUDisplay"]

GROUP_COLOURS = {"head": "#4c72b0", "common": "#dd8452", "tail": "#c44e52"}
# Models side by side are told apart by their bars' hatching.
HATCHES = ("", "//", "..", "xx")


class IoUDisplay:
    """IoU of every class, ordered by training frequency and coloured by frequency group.

    Bars run from the class most frequent in training to the least frequent, coloured by
    its group: head, common or tail. Long-tailed segmentation methods such as
    :class:`~ncestimators.CeCoSegmenter` are meant to lift the tail, on the right. Up to four
    models stand side by side, told apart by hatching (a model against its baseline, say).

    Create it with :meth:`from_estimator` or :meth:`from_predictions`, which draw it. All
    parameters are stored as attributes.

    Parameters
    ----------
    iou : dict of str to array-like of shape (n_classes,)
        IoU of every class (NaN for a class absent from the data and the predictions), by the
        name of the model in the legend; one to four models.

    train_frequency : array-like of shape (n_classes,)
        Fraction of the training positions of each class; the bars are ordered by it.

    group : array-like of shape (n_classes,)
        Group of each class: ``"head"``, ``"common"`` or ``"tail"``.

    display_labels : array-like of shape (n_classes,), default=None
        Label of each class under its bars; None numbers them from 0.

    Attributes
    ----------
    bars_ : list of matplotlib.container.BarContainer
        The bars of each model, in the order of ``iou``, one bar per class.

    ax_ : matplotlib.axes.Axes
        Axes of the bars.

    figure_ : matplotlib.figure.Figure
        Figure of the bars.

    See Also
    --------
    ncestimators.metrics.iou_per_class : The IoU drawn.
    ncestimators.CeCoSegmenter.iou_report : The same numbers as a table.

    Examples
    --------
    >>> from ncestimators.plotting import IoUDisplay
    >>> y_true = [0, 0, 0, 0, 1, 1, 2, 2, 2]
    >>> y_pred = [0, 0, 0, 1, 1, 1, 2, 2, 0]
    >>> display = IoUDisplay.from_predictions(y_true, y_pred, train_counts=[500, 60, 8])
    >>> [len(bars) for bars in display.bars_]
    [3]
    >>> [label.get_text() for label in display.ax_.get_xticklabels()]
    ['0', '1', '2']
    """

    def __init__(self, iou, *, train_frequency, group, display_labels=None):
        self.iou = iou
        self.train_frequency = train_frequency
        self.group = group
        self.display_labels = display_labels

    def plot(self, ax=None):
        """Draw the bars.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Axes to draw into; None draws into a new figure.

        Returns
        -------
        display : IoUDisplay
            This display, with its artists stored as attributes.
        """
        iou, frequency, group, labels = self._checked_data()
        n_classes, n_models = len(frequency), len(iou)
        self.ax_, self.figure_ = axes_or_new(
            ax, "IoUDisplay.plot", figsize=(max(6.4, 0.6 * n_classes + 1.5), 4.2)
        )
        order = np.argsort(-frequency, kind="stable")
        colours = [GROUP_COLOURS[name] for name in group[order]]
        positions, width = np.arange(n_classes), 0.8 / n_models
        self.bars_ = []
        for index, (name, values) in enumerate(iou.items()):
            offset = (index - (n_models - 1) / 2) * width
            self.bars_.append(
                self.ax_.bar(
                    positions + offset,
                    100 * values[order],
                    width,
                    color=colours,
                    hatch=HATCHES[index],
                    edgecolor="white",
                    label=name,
                )
            )
        ordered_labels = [str(label) for label in np.asarray(labels)[order]]
        turned = are_names(ordered_labels)
        self.ax_.set_xticks(
            positions,
            ordered_labels,
            rotation=30 if turned else 0,
            ha="right" if turned else "center",
        )
        self.ax_.set_xlabel("class, from most to least frequent in training")
        self.ax_.set_ylabel("IoU (%)")
        self.ax_.set_ylim(0, 100)
        # Beside the axes: inside, it would hide the tallest bars.
        self.ax_.legend(
            handles=_legend_handles(iou), loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8
        )
        return self

    @classmethod
    def from_estimator(
        cls, estimator, X, y, *, baseline=None, name=None, baseline_name=None, thresholds=None,
        ax=None,
    ):  # fmt: skip
        """Draw the IoU of a fitted :class:`~ncestimators.CeCoSegmenter` on X, and a baseline's.

        The classes, their training frequencies and groups are the estimator's
        (its ``iou_report``).

        Parameters
        ----------
        estimator : CeCoSegmenter
            A fitted segmenter.

        X : array-like or list of arrays
            Features, in any form the estimator's ``iou_report`` accepts.

        y : array-like or list of arrays
            True labels of every position.

        baseline : CeCoSegmenter, default=None
            Another fitted segmenter with the same classes (cross-entropy alone, say), drawn
            beside the estimator; None draws the estimator alone.

        name : str, default=None
            The estimator's name in the legend; None uses its class name.

        baseline_name : str, default=None
            The baseline's name in the legend; None uses "baseline".

        thresholds : tuple of two floats (low, high), default=None
            Training frequencies that split the groups, as for ``iou_report``; None splits the
            classes into thirds by frequency.

        ax : matplotlib.axes.Axes, default=None
            Axes to draw into; None draws into a new figure.

        Returns
        -------
        display : IoUDisplay
            The drawn display.

        Examples
        --------
        >>> from ncestimators import CeCoSegmenter
        >>> from ncestimators.datasets import make_dense_segmentation
        >>> from ncestimators.plotting import IoUDisplay
        >>> X, y = make_dense_segmentation(n_images=6, height=4, width=4, n_features=6,
        ...                                n_classes=3, random_state=0)
        >>> model = CeCoSegmenter(embedding_dim=8, max_epochs=2, random_state=0).fit(X, y)
        >>> baseline = CeCoSegmenter(lambda_center=0.0, embedding_dim=8, max_epochs=2,
        ...                          random_state=0).fit(X, y)
        >>> display = IoUDisplay.from_estimator(model, X, y, baseline=baseline)
        >>> list(display.iou)
        ['CeCoSegmenter', 'baseline']
        """
        import_pyplot("IoUDisplay.from_estimator")
        check_is_fitted(estimator)
        report = estimator.iou_report(X, y, thresholds)
        iou = {type(estimator).__name__ if name is None else name: report["iou"]}
        if baseline is not None:
            check_is_fitted(baseline)
            if not np.array_equal(baseline.classes_, estimator.classes_):
                raise ValueError(
                    f"baseline has the classes {baseline.classes_.tolist()} and the estimator "
                    f"{estimator.classes_.tolist()}; fit both on the same labels."
                )
            iou["baseline" if baseline_name is None else baseline_name] = baseline.iou_report(X, y)[
                "iou"
            ]
        _check_distinct_names(iou, 1 + (baseline is not None))
        display = cls(
            iou,
            train_frequency=report["train_frequency"],
            group=report["group"],
            display_labels=report["class"],
        )
        return display.plot(ax)

    @classmethod
    def from_predictions(
        cls, y_true, y_pred, *, train_counts, baseline_pred=None, name=None, baseline_name=None,
        thresholds=None, display_labels=None, ignore_index=-1, ax=None,
    ):  # fmt: skip
        """Draw the IoU of given predictions, and a baseline's.

        Parameters
        ----------
        y_true : array-like of int, any shape
            True class of every position, in ``[0, n_classes)`` or ``ignore_index``.

        y_pred : array-like of int, same shape as ``y_true``
            Predicted class of every position.

        train_counts : array-like of shape (n_classes,)
            Number of training positions of each class (a segmenter's ``class_counts_``):
            the bars' order and the groups.

        baseline_pred : array-like of int, same shape as ``y_true``, default=None
            A baseline's predicted classes, drawn beside; None draws ``y_pred`` alone.

        name : str, default=None
            Name of ``y_pred`` in the legend; None uses "model".

        baseline_name : str, default=None
            Name of ``baseline_pred`` in the legend; None uses "baseline".

        thresholds : tuple of two floats (low, high), default=None
            Training frequencies (fractions of ``train_counts``' total) that split the
            classes: tail below ``low``, head from ``high`` on. None splits them into thirds
            by frequency, the larger groups first.

        display_labels : array-like of shape (n_classes,), default=None
            Label of each class under its bars; None numbers them from 0.

        ignore_index : int or None, default=-1
            Label of positions of ``y_true`` to leave out; None leaves out nothing.

        ax : matplotlib.axes.Axes, default=None
            Axes to draw into; None draws into a new figure.

        Returns
        -------
        display : IoUDisplay
            The drawn display.
        """
        import_pyplot("IoUDisplay.from_predictions")
        counts = column_or_1d(np.asarray(train_counts, dtype=np.float64))
        if not (np.all(counts >= 0) and counts.sum() > 0):
            raise ValueError(
                "train_counts must be non-negative counts, one per class, not all zero; pass "
                "the number of training positions of each class."
            )
        frequency = counts / counts.sum()
        predictions = {"model" if name is None else name: y_pred}
        if baseline_pred is not None:
            predictions["baseline" if baseline_name is None else baseline_name] = baseline_pred
        _check_distinct_names(predictions, 1 + (baseline_pred is not None))
        iou = {
            label: iou_per_class(y_true, predicted, len(counts), ignore_index=ignore_index)
            for label, predicted in predictions.items()
        }
        display = cls(
            iou,
            train_frequency=frequency,
            group=frequency_groups(frequency, thresholds),
            display_labels=display_labels,
        )
        return display.plot(ax)

    def _checked_data(self):
        """The IoU, frequencies, groups and labels as arrays of one length each."""
        if not 1 <= len(self.iou) <= len(HATCHES):
            raise ValueError(
                f"iou holds {len(self.iou)} models; pass 1 to {len(HATCHES)} of them, by name."
            )
        frequency = column_or_1d(np.asarray(self.train_frequency, dtype=np.float64))
        group = column_or_1d(np.asarray(self.group, dtype=object))
        n_classes = len(frequency)
        labels = np.arange(n_classes) if self.display_labels is None else self.display_labels
        iou = {name: np.asarray(values, dtype=np.float64) for name, values in self.iou.items()}
        lengths = {"group": len(group), "display_labels": len(labels)}
        lengths.update({f"iou[{name!r}]": len(values) for name, values in iou.items()})
        wrong = {name: length for name, length in lengths.items() if length != n_classes}
        if wrong:
            raise ValueError(
                f"train_frequency has {n_classes} classes but {wrong} (entries); pass one "
                "entry per class to each."
            )
        unknown = set(group) - set(GROUP_COLOURS)
        if unknown:
            raise ValueError(
                f"group holds {sorted(map(str, unknown))}; each class's group must be one of "
                f"{list(GROUP_COLOURS)}."
            )
        return iou, frequency, group, labels


def _check_distinct_names(by_name, n_models):
    """Raise a ValueError if the model and its baseline were given one name (one dict key)."""
    if len(by_name) != n_models:
        raise ValueError(
            f"The model and the baseline are both named {next(iter(by_name))!r}; pass two "
            "names (name, baseline_name)."
        )


def _legend_handles(iou):
    """The groups' colours and, for several models, each model's hatching."""
    from matplotlib.patches import Patch

    handles = [
        Patch(facecolor=colour, edgecolor="0.4", label=group)
        for group, colour in GROUP_COLOURS.items()
    ]
    if len(iou) > 1:
        handles += [
            Patch(facecolor="white", edgecolor="0.4", hatch=hatch, label=name)
            for name, hatch in zip(iou, HATCHES[: len(iou)], strict=True)
        ]
    return handles
