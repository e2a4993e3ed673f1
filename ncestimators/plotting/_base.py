"""What every display shares: matplotlib imported on demand, axes to draw into."""

# SPDX-License-Identifier: BSD-3-Clause

__all__ = []


def import_pyplot(caller):
    """``matplotlib.pyplot``, or an ImportError that says how to install it.

    Displays import matplotlib only when they draw, so that the library runs without it;
    ``from_estimator`` and ``from_predictions`` call this first, before any computation.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            f'{caller} needs matplotlib: pip install "ncestimators[plot]" (or pip install '
            "matplotlib)."
        ) from error
    return plt


def axes_or_new(ax, caller, figsize=None):
    """``ax`` and its figure, or a new figure's single axes when ``ax`` is None."""
    plt = import_pyplot(caller)
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax, ax.figure


def add_colorbar(display, label):
    """A colorbar of ``display.im_`` beside its axes, labelled ``label``."""
    return display.figure_.colorbar(display.im_, ax=display.ax_, label=label)


def cosine_heatmap(ax, cosines, cmap):
    """``cosines`` as an image on the fixed scale [-1, 1], so that figures compare."""
    return ax.imshow(cosines, vmin=-1, vmax=1, cmap=cmap)


def label_ticks(ax, labels):
    """One tick per row and column of a square heatmap, labelled ``labels``."""
    labels = [str(label) for label in labels]
    # Upright, more than a dozen two-digit numbers run into each other under a panel.
    turned = are_names(labels) or len(labels) > 12
    ax.set_xticks(range(len(labels)), labels, rotation=90 if turned else 0)
    ax.set_yticks(range(len(labels)), labels)


def are_names(labels):
    """Whether tick labels are names, turned to fit beside each other, rather than numbers."""
    return any(len(label) > 3 for label in labels)
