"""The demo's figures: one PNG per estimator, each titled with what to see in it."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

__all__ = []

_GROUP_COLOURS = {"head": "#4c72b0", "common": "#dd8452", "tail": "#c44e52"}


def save_figures(plots, directory):
    """Draw ``{key: (figure function, plot data)}`` to ``<key>.png``; return ``{key: file}``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = {}
    for key, (draw, plot) in plots.items():
        figure = draw(plot)
        files[key] = f"{key}.png"
        figure.savefig(directory / files[key], dpi=110, bbox_inches="tight")
        plt.close(figure)
    return files


def _figure(n_columns=1, width=6.4, height=4.2):
    import matplotlib.pyplot as plt

    return plt.subplots(1, n_columns, figsize=(width * n_columns, height), squeeze=False)


def collapse_heatmaps(plot):
    figure, axes = _figure(2, width=4.6, height=4.2)
    for axis, (name, cosines) in zip(axes[0], plot["means"].items(), strict=True):
        image = axis.imshow(cosines, vmin=-1, vmax=1, cmap="RdBu_r")
        spread = plot["equiangularity"][name]
        axis.set_title(f"{name}\nstd of off-diagonal cosines {spread:.3f}")
        axis.set_xlabel("digit")
        axis.set_ylabel("digit")
        axis.set_xticks(range(len(cosines)))
        axis.set_yticks(range(len(cosines)))
    figure.colorbar(image, ax=axes[0], label="cosine of centred class means", shrink=0.85)
    n_classes = len(cosines)
    figure.suptitle(
        "AllNC: class means of the learned features on long-tailed digits\n"
        f"neural collapse makes every off-diagonal cosine −1/(C−1) = {-1 / (n_classes - 1):.2f}"
        " (an even colour)",
        y=1.06,
    )
    return figure


def prototype_cosines(plot):
    order = np.argsort(plot["superclass"], kind="stable")
    cosines = plot["cosines"]
    figure, axes = _figure(len(cosines), width=4.6, height=4.2)
    for axis, (name, matrix) in zip(axes[0], cosines.items(), strict=True):
        image = axis.imshow(matrix[np.ix_(order, order)], vmin=-1, vmax=1, cmap="RdBu_r")
        axis.set_title(name)
        axis.set_xlabel("class, grouped by super-class")
        axis.set_ylabel("class, grouped by super-class")
        axis.set_xticks([])
        axis.set_yticks([])
        edges = np.flatnonzero(np.diff(plot["superclass"][order])) + 0.5
        for edge in edges:
            axis.axhline(edge, color="black", lw=0.8)
            axis.axvline(edge, color="black", lw=0.8)
    figure.colorbar(
        image, ax=axes[0], label="cosine between the two classes' prototypes", shrink=0.85
    )
    figure.suptitle(
        "DL2PA: which prototype each class gets, on a sphere of few dimensions\n"
        "a learned assignment puts classes of one super-class on neighbouring prototypes "
        "(red blocks on the diagonal)",
        y=1.06,
    )
    return figure


def scores_and_grades(plot):
    figure, axes = _figure(width=5.8, height=5.2)
    axis = axes[0, 0]
    lo, hi = plot["score_range"]
    boundaries = np.linspace(lo, hi, plot["n_grades"] + 1)
    for boundary in boundaries[1:-1]:
        axis.axvline(boundary, color="0.85", lw=1)
        axis.axhline(boundary, color="0.85", lw=1)
    axis.plot([lo, hi], [lo, hi], color="0.5", ls="--", lw=1, label="perfect prediction")
    axis.scatter(plot["true"], plot["predicted"], s=14, color="#4c72b0", label="test video")
    axis.set_xlabel("true score (judges)")
    axis.set_ylabel("predicted score")
    axis.set_xlim(lo, hi)
    axis.set_ylim(lo, hi)
    axis.legend(loc="upper left")
    axis.set_title(
        "CoFInAI: predicted vs true quality scores\n"
        f"grey lines: boundaries of the {plot['n_grades']} coarse grades"
    )
    return figure


def foreground_curves(plot):
    curves = plot["foreground"]
    figure, axes = _figure(len(curves), width=4.4, height=3.2)
    for axis, curve, segments in zip(axes[0], curves, plot["segments"], strict=True):
        for _, start, end in np.asarray(segments, dtype=object):
            axis.axvspan(float(start), float(end), color="#dd8452", alpha=0.3, lw=0)
        axis.plot(np.arange(len(curve)) + 0.5, curve, color="#4c72b0", lw=1.5)
        axis.set_ylim(0, 1)
        axis.set_xlabel("snippet")
        axis.set_ylabel("foreground probability")
    axes[0, 0].legend(
        handles=[
            _patch("#dd8452", "ground-truth action segment"),
            _line("#4c72b0", "predicted foreground (P^M)"),
        ],
        loc="upper left",
        fontsize=8,
    )
    figure.suptitle(
        "CASE: snippet foreground of three test videos over their true actions "
        "(trained on video labels only)",
        y=1.04,
    )
    return figure


def iou_bars(plot):
    reports = plot["reports"]
    names = list(reports)
    order = reports[names[0]].sort_values("train_frequency", ascending=False).index
    figure, axes = _figure(width=9.5, height=4.2)
    axis = axes[0, 0]
    width = 0.4
    positions = np.arange(len(order))
    for offset, (name, hatch) in zip(
        (-width / 2, width / 2), zip(names, ("", "//"), strict=True), strict=True
    ):
        report = reports[name].loc[order]
        axis.bar(
            positions + offset,
            100 * report["iou"],
            width,
            color=[_GROUP_COLOURS[group] for group in report["group"]],
            hatch=hatch,
            edgecolor="white",
        )
    axis.set_xticks(positions)
    labels = [str(label) for label in reports[names[0]].loc[order, "class"]]
    named = any(not label.isdigit() for label in labels)  # class names rather than numbers
    axis.set_xticklabels(labels, rotation=30 if named else 0, ha="right" if named else "center")
    axis.set_xlabel("class, from most to least frequent in training")
    axis.set_ylabel("IoU (%)")
    axis.set_ylim(0, 100)
    axis.legend(
        handles=[_patch(colour, group) for group, colour in _GROUP_COLOURS.items()]
        + [
            _patch("white", f"plain bars: {names[0]}"),
            _patch("white", f"hatched: {names[1]}", "//"),
        ],
        loc="upper right",
        fontsize=8,
        ncol=2,
    )
    axis.set_title("CeCo: per-class IoU on held-out images, by head / common / tail class group")
    return figure


def _patch(colour, label, hatch=""):
    from matplotlib.patches import Patch

    return Patch(facecolor=colour, edgecolor="0.4", hatch=hatch, label=label)


def _line(colour, label):
    from matplotlib.lines import Line2D

    return Line2D([0], [0], color=colour, label=label)
