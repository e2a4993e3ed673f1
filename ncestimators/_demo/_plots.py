"""The demo's figures: one PNG per estimator, each titled with what to see in it."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

__all__ = []

_GROUP_COLOURS = {"head": "#4c72b0", "common": "#dd8452", "tail": "#c44e52"}


def save_figures(runs, directory):
    """Draw the figure of every run that has one; return ``{estimator: file name}``."""
    import matplotlib

    matplotlib.use("Agg")
    drawers = {
        "AllNCClassifier": _collapse_heatmaps,
        "DynamicPrototypeClassifier": _prototype_circle,
        "CoFInAIRegressor": _scores_and_grades,
        "ClusterFBSeparator": _foreground_curves,
        "CeCoSegmenter": _iou_bars,
    }
    files = {}
    for run in runs:
        if run.estimator not in drawers:
            continue
        figure = drawers[run.estimator](run.plot)
        name = f"{run.estimator}.png"
        figure.savefig(directory / name, dpi=110, bbox_inches="tight")
        files[run.estimator] = name
        import matplotlib.pyplot as plt

        plt.close(figure)
    return files


def _figure(n_columns=1, width=6.4, height=4.2):
    import matplotlib.pyplot as plt

    return plt.subplots(1, n_columns, figsize=(width * n_columns, height), squeeze=False)


def _collapse_heatmaps(plot):
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


def _prototype_circle(plot):
    import matplotlib.pyplot as plt

    figure, axes = _figure(width=5.6, height=5.6)
    axis = axes[0, 0]
    angles = np.linspace(0, 2 * np.pi, 200)
    axis.plot(np.cos(angles), np.sin(angles), color="0.8", zorder=0)
    colours = plt.get_cmap("tab10")
    embeddings, labels = plot["embeddings"], plot["labels"]
    for index, label in enumerate(plot["classes"]):
        points = embeddings[labels == label] * 0.85
        axis.scatter(*points.T, s=6, color=colours(index % 10), alpha=0.5)
        prototype = plot["prototypes"][plot["assignment"][index]]
        axis.scatter(*prototype, s=260, color=colours(index % 10), edgecolor="black", zorder=3)
        axis.annotate(str(label), prototype, ha="center", va="center", fontweight="bold", zorder=4)
    axis.set_aspect("equal")
    axis.set_xlim(-1.25, 1.25)
    axis.set_ylim(-1.25, 1.25)
    axis.set_xticks([])
    axis.set_yticks([])
    axis.set_title(
        "DL2PA: each digit's learned prototype on the circle (d = 2)\n"
        "big dots: prototypes labelled by the digit assigned to them;\n"
        "small dots: test images' embeddings (drawn at radius 0.85)"
    )
    return figure


def _scores_and_grades(plot):
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


def _foreground_curves(plot):
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


def _iou_bars(plot):
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
    axis.set_xticklabels([str(label) for label in reports[names[0]].loc[order, "class"]])
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
    axis.set_title("CeCo: per-class IoU on test images, by head / common / tail class group")
    return figure


def _patch(colour, label, hatch=""):
    from matplotlib.patches import Patch

    return Patch(facecolor=colour, edgecolor="0.4", hatch=hatch, label=label)


def _line(colour, label):
    from matplotlib.lines import Line2D

    return Line2D([0], [0], color=colour, label=label)
