"""The displays of ``ncestimators.plotting``: the artists they draw, where, and what they refuse."""

import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from ncestimators import (
    AllNCClassifier,
    CeCoSegmenter,
    ClusterFBSeparator,
    CoFInAIRegressor,
    DynamicPrototypeClassifier,
)
from ncestimators.datasets import (
    make_aqa_sequences,
    make_dense_segmentation,
    make_superclass_features,
    make_wtal_videos,
)
from ncestimators.geometry import neural_collapse_metrics, simplex_etf
from ncestimators.metrics import iou_per_class
from ncestimators.plotting import (
    CollapseDisplay,
    ForegroundDisplay,
    IoUDisplay,
    PrototypeDisplay,
    ScoreDisplay,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")  # no display server
plt = pytest.importorskip("matplotlib.pyplot")

SMALL = {"max_epochs": 2, "random_state": 0}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def classes():
    X, y, superclass = make_superclass_features(
        n_classes=6, n_superclasses=2, n_samples=120, n_features=6, return_superclasses=True,
        random_state=0,
    )  # fmt: skip
    return X, y, superclass


@pytest.fixture(scope="module")
def maps():
    X, y = make_dense_segmentation(
        n_images=6, height=4, width=4, n_features=6, n_classes=3, random_state=0
    )
    model = CeCoSegmenter(embedding_dim=8, **SMALL).fit(X, y)
    baseline = CeCoSegmenter(embedding_dim=8, lambda_center=0.0, **SMALL).fit(X, y)
    return X, y, model, baseline


@pytest.fixture(scope="module")
def videos():
    X, y, segments = make_wtal_videos(
        n_videos=8, n_classes=2, n_features=8, min_length=16, max_length=24, random_state=0
    )
    model = ClusterFBSeparator(n_clusters=3, hidden_dim=8, **SMALL).fit(X, y)
    return X, y, segments, model


def _etf_features(n_classes=4, n_per_class=20, noise=0.0):
    labels = np.repeat(np.arange(n_classes), n_per_class)
    rng = np.random.default_rng(0)
    etf = simplex_etf(n_classes, 8, random_state=0).T
    return labels, etf[labels] + noise * rng.normal(size=(len(labels), 8))


def _tick_texts(axis):
    return [label.get_text() for label in axis.get_xticklabels()]


# --- CollapseDisplay ------------------------------------------------------------------------------


def test_collapse_from_estimator_draws_the_class_by_class_cosines(classes):
    X, y, _ = classes
    model = AllNCClassifier(**SMALL).fit(X, y)
    display = CollapseDisplay.from_estimator(model, X, y)
    assert display.im_.get_array().shape == (6, 6)
    np.testing.assert_allclose(np.diag(display.cosines), 1)
    assert _tick_texts(display.ax_) == [str(label) for label in model.classes_]
    expected = neural_collapse_metrics(model.embed(X), y)["nc2_equiangularity"]
    assert display.equiangularity == pytest.approx(expected)
    assert display.ax_.get_title() == (
        f"AllNCClassifier\nstd of off-diagonal cosines {expected:.3f}"
    )
    assert display.colorbar_ is not None and display.figure_ is display.ax_.figure


def test_collapse_of_a_simplex_etf_is_even_and_drawn_into_given_axes():
    labels, features = _etf_features()
    figure, axis = plt.subplots()
    display = CollapseDisplay.from_predictions(labels, features, ax=axis, colorbar=False)
    assert display.ax_ is axis and display.figure_ is figure and display.colorbar_ is None
    off_diagonal = display.cosines[~np.eye(4, dtype=bool)]
    np.testing.assert_allclose(off_diagonal, -1 / 3, atol=1e-12)
    assert display.equiangularity == pytest.approx(0, abs=1e-12)
    other = plt.subplots()[1]
    assert display.plot(other) is display and display.ax_ is other


def test_collapse_of_a_segmenter_leaves_out_unlabelled_positions(maps):
    X, y, model, _ = maps
    y = y.copy()
    y[0, 0, :] = model.ignore_index
    display = CollapseDisplay.from_estimator(model, X, y)
    labelled = y != model.ignore_index
    expected = CollapseDisplay.from_predictions(y[labelled], model.embed(X)[labelled])
    np.testing.assert_allclose(display.cosines, expected.cosines)


def test_collapse_refuses_labels_that_do_not_match_the_embeddings(videos):
    X, y, _, model = videos
    labels, features = _etf_features()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        CollapseDisplay.from_predictions(labels[:-1], features)
    with pytest.raises(ValueError, match="at least 2 classes"):
        CollapseDisplay.from_predictions(np.zeros(len(features)), features)
    with pytest.raises(ValueError, match="cosines must be square"):
        CollapseDisplay(np.eye(3), display_labels=[0, 1]).plot()
    # A video separator embeds snippets, and y labels videos.
    with pytest.raises(ValueError, match="one label per embedded position"):
        CollapseDisplay.from_estimator(model, X, y)


# --- PrototypeDisplay -----------------------------------------------------------------------------


def test_prototype_from_estimator_puts_2d_classes_on_the_circle(classes):
    X, y, superclass = classes
    model = DynamicPrototypeClassifier(prototype_dim=2, **SMALL).fit(X, y)
    display = PrototypeDisplay.from_estimator(model, superclass=superclass)
    assert display.kind_ == "circle" and display.im_ is None
    np.testing.assert_allclose(display.scatter_.get_offsets(), model.prototypes_[model.assignment_])
    assert [text.get_text() for text in display.texts_] == [str(c) for c in model.classes_]
    legend = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert legend == ["super-class 0", "super-class 1"]


def test_prototype_cosines_are_grouped_by_superclass(classes):
    X, y, superclass = classes
    model = DynamicPrototypeClassifier(prototype_dim=3, **SMALL).fit(X, y)
    axis = plt.subplots()[1]
    display = PrototypeDisplay.from_estimator(model, superclass=superclass, ax=axis)
    assert display.kind_ == "cosines" and display.ax_ is axis and display.colorbar_ is not None
    order = np.argsort(superclass, kind="stable")
    assigned = model.prototypes_[model.assignment_][order]
    np.testing.assert_allclose(display.im_.get_array(), assigned @ assigned.T, rtol=1e-6)
    assert _tick_texts(axis) == [str(label) for label in model.classes_[order]]
    # One line between the two super-classes, across and down.
    assert len(axis.lines) == 2
    assert display.plot(kind="cosines", colorbar=False).colorbar_ is None


def test_prototype_refuses_what_it_cannot_draw(classes):
    X, y, _ = classes
    with pytest.raises(NotFittedError):
        PrototypeDisplay.from_estimator(DynamicPrototypeClassifier())
    three_d = np.eye(3)
    with pytest.raises(ValueError, match="superclass has 2 entries for 3 classes"):
        PrototypeDisplay(three_d, superclass=[0, 1]).plot()
    with pytest.raises(ValueError, match='kind="circle" needs 2-D prototypes'):
        PrototypeDisplay(three_d).plot(kind="circle")
    with pytest.raises(ValueError, match="choose one of"):
        PrototypeDisplay(three_d).plot(kind="sphere")


# --- ScoreDisplay ---------------------------------------------------------------------------------


def test_score_from_estimator_draws_every_video_and_the_grade_boundaries():
    X, y = make_aqa_sequences(n_videos=20, n_features=6, random_state=0)
    model = CoFInAIRegressor(n_grades=3, d_procedure=8, d_score=4, **SMALL).fit(X, y)
    display = ScoreDisplay.from_estimator(model, X, y)
    np.testing.assert_allclose(
        display.scatter_.get_offsets(), np.column_stack([y, model.predict(X)])
    )
    assert len(display.boundary_lines_) == 2 * (3 - 1)
    lo, hi = model.score_range_
    width = (hi - lo) / 3
    assert [line.get_xdata()[0] for line in display.boundary_lines_[:2]] == pytest.approx(
        [lo + width, lo + 2 * width]
    )
    legend = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert legend == ["grade boundary", "exact prediction", "video"]


def test_score_from_predictions_draws_into_given_axes_and_refuses_bad_scores():
    axis = plt.subplots()[1]
    display = ScoreDisplay.from_predictions(
        [1.0, 5.0, 9.0], [2.0, 4.0, 9.5], n_grades=2, score_range=(0, 10), ax=axis,
        scatter_kw={"label": "test video", "color": "black"},
    )  # fmt: skip
    assert display.ax_ is axis and display.scatter_.get_label() == "test video"
    assert len(display.boundary_lines_) == 2 and display.line_.get_linestyle() == "--"
    assert display.plot(axis) is display
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ScoreDisplay.from_predictions([1.0, 2.0], [1.0], n_grades=2, score_range=(0, 10))
    with pytest.raises(ValueError, match="score_range must be"):
        ScoreDisplay.from_predictions([1.0], [1.0], n_grades=2, score_range=(10, 0))
    with pytest.raises(ValueError, match="non-empty and finite"):
        ScoreDisplay.from_predictions([np.nan], [1.0], n_grades=2, score_range=(0, 10))


# --- ForegroundDisplay ----------------------------------------------------------------------------


def test_foreground_from_estimator_draws_a_panel_per_video(videos):
    X, _, segments, model = videos
    display = ForegroundDisplay.from_estimator(model, X[:3], segments[:3])
    assert display.axes_.shape == display.lines_.shape == (3,)
    for line, curve in zip(display.lines_, model.foreground_proba(X[:3]), strict=True):
        np.testing.assert_allclose(line.get_ydata(), curve)
        np.testing.assert_allclose(line.get_xdata(), np.arange(len(curve)) + 0.5)
    assert [len(spans) for spans in display.spans_] == [len(video) for video in segments[:3]]
    assert [axis.get_title() for axis in display.axes_] == ["video 0", "video 1", "video 2"]


def test_foreground_in_seconds_into_given_axes():
    figure, axes = plt.subplots(1, 2)
    display = ForegroundDisplay.from_predictions(
        [[[0, 0.5, 1.0]], []], [[0.1, 0.9, 0.2], [0.3]], fps=32, snippet_frames=16, ax=axes
    )
    assert list(display.axes_) == list(axes) and display.figure_ is figure
    np.testing.assert_allclose(display.lines_[0].get_xdata(), [0.25, 0.75, 1.25])
    assert [len(spans) for spans in display.spans_] == [1, 0]
    assert display.axes_[0].get_xlabel() == "seconds"


def test_foreground_refuses_videos_that_do_not_match():
    with pytest.raises(ValueError, match="foreground has 2 videos and segments 1"):
        ForegroundDisplay.from_predictions([[]], [[0.5], [0.5]])
    with pytest.raises(ValueError, match="ax holds 1 axes for 2 videos"):
        ForegroundDisplay.from_predictions([[], []], [[0.5], [0.5]], ax=plt.subplots()[1])
    with pytest.raises(ValueError, match="segments must be a sequence"):
        ForegroundDisplay.from_predictions("0 1 2", [[0.5]])


# --- IoUDisplay -----------------------------------------------------------------------------------


def test_iou_from_estimator_puts_the_baseline_beside_by_frequency(maps):
    X, y, model, baseline = maps
    display = IoUDisplay.from_estimator(model, X, y, baseline=baseline, baseline_name="CE alone")
    assert list(display.iou) == ["CeCoSegmenter", "CE alone"]
    assert [len(bars) for bars in display.bars_] == [3, 3]
    report = model.iou_report(X, y).sort_values("train_frequency", ascending=False)
    assert _tick_texts(display.ax_) == [str(label) for label in report["class"]]
    heights = [bar.get_height() for bar in display.bars_[0]]
    np.testing.assert_allclose(heights, 100 * report["iou"], equal_nan=True)
    colours = [matplotlib.colors.to_hex(bar.get_facecolor()) for bar in display.bars_[1]]
    assert colours == ["#4c72b0", "#dd8452", "#c44e52"]  # head, common, tail
    assert [bars[0].get_hatch() for bars in display.bars_] == ["", "//"]


def test_iou_from_predictions_of_one_model_into_given_axes():
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2, -1])
    y_pred = np.array([0, 0, 1, 0, 1, 1, 2, 0, 2])
    axis = plt.subplots()[1]
    display = IoUDisplay.from_predictions(
        y_true, y_pred, train_counts=[5, 90, 1], display_labels=["road", "sky", "pole"], ax=axis
    )
    assert display.ax_ is axis and len(display.bars_) == 1 and len(display.bars_[0]) == 3
    assert _tick_texts(axis) == ["sky", "road", "pole"]
    expected = iou_per_class(y_true, y_pred, 3)[[1, 0, 2]]
    np.testing.assert_allclose([bar.get_height() for bar in display.bars_[0]], 100 * expected)
    assert list(display.group) == ["common", "head", "tail"]
    assert display.plot(axis) is display


def test_iou_refuses_inconsistent_models(maps):
    X, y, model, _ = maps
    with pytest.raises(ValueError, match="both named 'CeCoSegmenter'"):
        IoUDisplay.from_estimator(model, X, y, baseline=model, baseline_name="CeCoSegmenter")
    with pytest.raises(ValueError, match="train_counts must be non-negative"):
        IoUDisplay.from_predictions([0, 1], [0, 1], train_counts=[0, 0])
    with pytest.raises(ValueError, match="outside"):
        IoUDisplay.from_predictions([0, 3], [0, 1], train_counts=[5, 1])
    with pytest.raises(ValueError, match="group holds \\['rare'\\]"):
        IoUDisplay({"a": [0.5]}, train_frequency=[1.0], group=["rare"]).plot()
    with pytest.raises(ValueError, match="display_labels': 1"):
        IoUDisplay({"a": [0.5, 0.2]}, train_frequency=[0.9, 0.1], group=["head", "tail"],
                   display_labels=["x"]).plot()  # fmt: skip


# --- all displays ---------------------------------------------------------------------------------

UNFITTED = [
    (CollapseDisplay, AllNCClassifier(), 2),  # X, y
    (ScoreDisplay, CoFInAIRegressor(), 2),
    (ForegroundDisplay, ClusterFBSeparator(), 2),  # X, segments
    (IoUDisplay, CeCoSegmenter(), 2),
    (PrototypeDisplay, DynamicPrototypeClassifier(), 0),
]


@pytest.mark.parametrize(
    ("display", "estimator", "n_data"), UNFITTED, ids=[case[0].__name__ for case in UNFITTED]
)
def test_from_estimator_needs_a_fitted_estimator(display, estimator, n_data):
    with pytest.raises(NotFittedError):
        display.from_estimator(estimator, *[np.zeros((2, 3))] * n_data)


DRAWN = {
    "CollapseDisplay": lambda: CollapseDisplay.from_predictions(*_etf_features()),
    "PrototypeDisplay": lambda: PrototypeDisplay(np.eye(2)).plot(),
    "ScoreDisplay": lambda: ScoreDisplay.from_predictions([1], [2], n_grades=2, score_range=(0, 3)),
    "ForegroundDisplay": lambda: ForegroundDisplay.from_predictions([[]], [[0.5]]),
    "IoUDisplay": lambda: IoUDisplay.from_predictions([0, 1], [0, 1], train_counts=[2, 1]),
}


@pytest.mark.parametrize("draw", DRAWN.values(), ids=DRAWN)
def test_without_matplotlib_every_display_says_how_to_install_it(draw, monkeypatch):
    for module in ("matplotlib", "matplotlib.pyplot"):
        monkeypatch.setitem(sys.modules, module, None)  # importing it then fails
    with pytest.raises(ImportError, match=r'needs matplotlib: pip install "ncestimators\[plot\]"'):
        draw()
