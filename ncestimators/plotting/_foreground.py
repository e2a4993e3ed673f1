"""Snippet foreground probability of a few videos, over their ground-truth action segments."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ..metrics import segments_to_frame
from ._base import import_pyplot

__all__ = ["ForegroundDisplay"]

_SEGMENT_COLOUR, _CURVE_COLOUR = "#dd8452", "#4c72b0"


class ForegroundDisplay:
    """Snippet foreground probability of videos over their ground-truth action segments.

    One panel per video: the foreground probability of every snippet (a curve) over shaded
    ground-truth action segments. A :class:`~ncestimators.ClusterFBSeparator` trained on
    video labels alone has learned where the actions are when its curve rises over the
    shaded segments and stays low between them.

    Create it with :meth:`from_estimator` or :meth:`from_predictions`, which draw it. All
    parameters are stored as attributes.

    Parameters
    ----------
    foreground : list of ndarray of shape (T_i,)
        Foreground probability of every snippet of each video.

    segments : list of array-like of shape (m_i, 3)
        Ground-truth ``(label, start, end)`` rows of each video, in snippet units (snippet t
        covering ``[t, t + 1)``), or in seconds with ``fps``.

    fps : float, default=None
        Frame rate of the videos when ``segments`` are in seconds; None means snippet units.

    snippet_frames : float, default=16
        Frames per snippet; used only with ``fps``.

    Attributes
    ----------
    lines_ : ndarray of matplotlib.lines.Line2D, shape (n_videos,)
        The foreground curve of each video.

    spans_ : list of list of matplotlib.patches.Rectangle
        The shaded ground-truth segments of each video.

    axes_ : ndarray of matplotlib.axes.Axes, shape (n_videos,)
        One panel per video.

    figure_ : matplotlib.figure.Figure
        Figure of the panels.

    See Also
    --------
    ncestimators.ClusterFBSeparator.localize : The action proposals read from these curves.
    ncestimators.metrics.localization_map : Their score against the segments.

    Examples
    --------
    >>> from ncestimators.plotting import ForegroundDisplay
    >>> foreground = [[0.1, 0.2, 0.9, 0.8, 0.1], [0.7, 0.6, 0.2]]
    >>> segments = [[[0, 2, 4]], [[1, 0, 2]]]
    >>> display = ForegroundDisplay.from_predictions(segments, foreground)
    >>> display.axes_.shape, [len(spans) for spans in display.spans_]
    ((2,), [1, 1])
    """

    def __init__(self, foreground, segments, *, fps=None, snippet_frames=16):
        self.foreground = foreground
        self.segments = segments
        self.fps = fps
        self.snippet_frames = snippet_frames

    def plot(self, ax=None, *, line_kw=None):
        """Draw one panel per video.

        Parameters
        ----------
        ax : matplotlib.axes.Axes or array-like of matplotlib.axes.Axes, default=None
            One axes per video to draw into; None draws into a new figure with a row of
            panels.

        line_kw : dict, default=None
            Keyword arguments of the curves' ``matplotlib.axes.Axes.plot``, such as their
            ``color``.

        Returns
        -------
        display : ForegroundDisplay
            This display, with its artists stored as attributes.
        """
        curves, truth = _checked_videos(self.foreground, self.segments)
        self.axes_ = _axes_per_video(ax, len(curves))
        self.figure_ = self.axes_[0].figure
        unit = self.snippet_frames / self.fps if self.fps is not None else 1.0
        line_kw = {
            "color": _CURVE_COLOUR,
            "lw": 1.5,
            "label": "foreground probability",
            **(line_kw or {}),
        }
        lines, self.spans_ = [], []
        for video, (axis, curve) in enumerate(zip(self.axes_, curves, strict=True)):
            rows = truth[truth["video"] == video]
            self.spans_.append(
                [
                    axis.axvspan(start, end, color=_SEGMENT_COLOUR, alpha=0.3, lw=0)
                    for start, end in zip(rows["start"], rows["end"], strict=True)
                ]
            )
            lines.append(axis.plot((np.arange(len(curve)) + 0.5) * unit, curve, **line_kw)[0])
            axis.set_xlim(0, len(curve) * unit)
            axis.set_ylim(0, 1)
            axis.set_title(f"video {video}")
            axis.set_xlabel("seconds" if self.fps is not None else "snippet")
            axis.xaxis.get_major_locator().set_params(integer=self.fps is None)
        self.lines_ = np.array(lines, dtype=object)
        self.axes_[0].set_ylabel("foreground probability")
        self.axes_[0].legend(
            handles=[_segment_handle(), self.lines_[0]], loc="upper left", fontsize=8
        )
        return self

    @classmethod
    def from_estimator(cls, estimator, X, segments, *, ax=None, line_kw=None):
        """Draw a fitted :class:`~ncestimators.ClusterFBSeparator`'s foreground of videos.

        Parameters
        ----------
        estimator : ClusterFBSeparator
            A fitted separator: its ``foreground_proba(X)`` is drawn, in seconds when its
            ``fps`` is set.

        X : list of array-like of shape (T_i, n_features) or array-like
            A few videos (one panel each), in any form the estimator accepts.

        segments : list of array-like of shape (m_i, 3)
            Ground-truth ``(label, start, end)`` rows of each video, in the units of the
            estimator's ``localize``.

        ax : matplotlib.axes.Axes or array-like of matplotlib.axes.Axes, default=None
            One axes per video; None draws into a new figure.

        line_kw : dict, default=None
            Keyword arguments of the curves' ``matplotlib.axes.Axes.plot``.

        Returns
        -------
        display : ForegroundDisplay
            The drawn display.

        Examples
        --------
        >>> from ncestimators import ClusterFBSeparator
        >>> from ncestimators.datasets import make_wtal_videos
        >>> from ncestimators.plotting import ForegroundDisplay
        >>> X, y, segments = make_wtal_videos(n_videos=8, n_classes=2, n_features=8,
        ...                                   min_length=16, max_length=24, random_state=0)
        >>> model = ClusterFBSeparator(n_clusters=4, hidden_dim=16, max_epochs=2,
        ...                            random_state=0).fit(X, y)
        >>> display = ForegroundDisplay.from_estimator(model, X[:3], segments[:3])
        >>> len(display.lines_)
        3
        """
        import_pyplot("ForegroundDisplay.from_estimator")
        check_is_fitted(estimator)
        return cls.from_predictions(
            segments,
            estimator.foreground_proba(X),
            fps=estimator.fps,
            snippet_frames=estimator.snippet_frames,
            ax=ax,
            line_kw=line_kw,
        )

    @classmethod
    def from_predictions(
        cls, segments, foreground, *, fps=None, snippet_frames=16, ax=None, line_kw=None
    ):
        """Draw given foreground probabilities over the ground-truth segments.

        Parameters
        ----------
        segments : list of array-like of shape (m_i, 3)
            Ground-truth ``(label, start, end)`` rows of each video.

        foreground : list of array-like of shape (T_i,)
            Foreground probability of every snippet of each video, such as a
            ``ClusterFBSeparator``'s ``foreground_proba(X)``.

        fps : float, default=None
            Frame rate of the videos when ``segments`` are in seconds; None means snippet
            units.

        snippet_frames : float, default=16
            Frames per snippet; used only with ``fps``.

        ax : matplotlib.axes.Axes or array-like of matplotlib.axes.Axes, default=None
            One axes per video; None draws into a new figure.

        line_kw : dict, default=None
            Keyword arguments of the curves' ``matplotlib.axes.Axes.plot``.

        Returns
        -------
        display : ForegroundDisplay
            The drawn display.
        """
        import_pyplot("ForegroundDisplay.from_predictions")
        display = cls(foreground, segments, fps=fps, snippet_frames=snippet_frames)
        return display.plot(ax, line_kw=line_kw)


def _checked_videos(foreground, segments):
    """Each video's curve as a float array, and the segments as one frame, one entry a video."""
    curves = [column_or_1d(np.asarray(curve, dtype=np.float64)) for curve in foreground]
    truth = segments_to_frame(segments)
    if not curves or len(curves) != len(segments):
        raise ValueError(
            f"foreground has {len(curves)} videos and segments {len(segments)}; pass one "
            "entry of each for every video, at least one."
        )
    if not all(len(curve) and np.isfinite(curve).all() for curve in curves):
        raise ValueError("Every video's foreground must be a non-empty, finite curve.")
    return curves, truth


def _axes_per_video(ax, n_videos):
    """One axes per video: those given, or a new row of panels."""
    plt = import_pyplot("ForegroundDisplay.plot")
    if ax is None:
        _, axes = plt.subplots(
            1, n_videos, figsize=(4.4 * n_videos, 3.2), squeeze=False, sharey=True
        )
        return axes[0]
    axes = np.ravel(np.asarray(ax, dtype=object))
    if len(axes) != n_videos:
        raise ValueError(
            f"ax holds {len(axes)} axes for {n_videos} videos; pass one axes per video, or "
            "None for a new figure."
        )
    return axes


def _segment_handle():
    from matplotlib.patches import Patch

    return Patch(color=_SEGMENT_COLOUR, alpha=0.3, lw=0, label="ground-truth segment")
