"""The demo's figures: the library's displays, laid out and titled with what to see in them."""

# SPDX-License-Identifier: BSD-3-Clause

from ..plotting import (
    CollapseDisplay,
    ForegroundDisplay,
    IoUDisplay,
    PrototypeDisplay,
    ScoreDisplay,
)

__all__ = []


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


def _panels(n_columns, width, height):
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, n_columns, figsize=(width * n_columns, height), squeeze=False)
    return figure, axes[0]


def collapse_heatmaps(plot):
    figure, axes = _panels(len(plot["embeddings"]), width=4.6, height=4.2)
    for axis, (name, embeddings) in zip(axes, plot["embeddings"].items(), strict=True):
        display = CollapseDisplay.from_predictions(
            plot["labels"], embeddings, name=name, ax=axis, colorbar=False
        )
        axis.set_xlabel("digit")
        axis.set_ylabel("digit")
    figure.colorbar(display.im_, ax=axes, label="cosine of centred class means", shrink=0.85)
    n_classes = len(display.cosines)
    figure.suptitle(
        "AllNC: class means of the learned features on long-tailed digits\n"
        f"neural collapse makes every off-diagonal cosine −1/(C−1) = {-1 / (n_classes - 1):.2f}"
        " (an even colour)",
        y=1.06,
    )
    return figure


def prototype_cosines(plot):
    figure, axes = _panels(len(plot["models"]), width=5.0, height=4.2)
    for axis, (name, model) in zip(axes, plot["models"].items(), strict=True):
        display = PrototypeDisplay.from_estimator(
            model, superclass=plot["superclass"], ax=axis, colorbar=False
        )
        axis.set_title(name)
    figure.colorbar(
        display.im_, ax=axes, label="cosine between the two classes' prototypes", shrink=0.85
    )
    figure.suptitle(
        "DL2PA: which prototype each class gets, on a sphere of few dimensions\n"
        "a learned assignment puts classes of one super-class on neighbouring prototypes "
        "(red blocks on the diagonal)",
        y=1.06,
    )
    return figure


def scores_and_grades(plot):
    display = ScoreDisplay.from_predictions(
        plot["true"],
        plot["predicted"],
        n_grades=plot["n_grades"],
        score_range=plot["score_range"],
        scatter_kw={"label": "test video"},
    )
    display.ax_.set_xlabel("true score (judges)")
    display.ax_.set_title(
        "CoFInAI: predicted vs true quality scores\n"
        f"grey lines: boundaries of the {plot['n_grades']} coarse grades"
    )
    return display.figure_


def foreground_curves(plot):
    display = ForegroundDisplay.from_predictions(plot["segments"], plot["foreground"])
    display.figure_.suptitle(
        "CASE: snippet foreground of three test videos over their true actions "
        "(trained on video labels only)",
        y=1.04,
    )
    return display.figure_


def iou_bars(plot):
    """The IoU of every model of ``plot["reports"]``, frames like ``CeCoSegmenter.iou_report``."""
    reports = plot["reports"]
    classes = next(iter(reports.values()))
    display = IoUDisplay(
        {name: report["iou"] for name, report in reports.items()},
        train_frequency=classes["train_frequency"],
        group=classes["group"],
        display_labels=classes["class"],
    ).plot()
    display.ax_.set_title(
        "CeCo: per-class IoU on held-out images, by head / common / tail class group"
    )
    return display.figure_
