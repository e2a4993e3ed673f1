"""The public API the estimators share: ``embed``, and warnings raised at the caller's line."""

import numpy as np
import pytest
import torch
from scipy.special import softmax
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

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
from ncestimators.exceptions import DeviceWarning, WarmStartWarning


@pytest.fixture(scope="module")
def features():
    return make_superclass_features(
        n_classes=4, n_superclasses=2, n_samples=80, n_features=6, random_state=0
    )


@pytest.fixture(scope="module")
def videos():
    X, y, _ = make_wtal_videos(
        n_videos=8, n_classes=2, n_features=8, min_length=16, max_length=24, random_state=0
    )
    return X, y


@pytest.fixture(scope="module")
def aqa():
    return make_aqa_sequences(n_videos=20, n_features=6, random_state=0)


@pytest.fixture(scope="module")
def maps():
    return make_dense_segmentation(
        n_images=6, height=4, width=4, n_features=6, n_classes=3, random_state=0
    )


def _assert_float32(embeddings, shapes):
    arrays = embeddings if isinstance(embeddings, list) else [embeddings]
    assert [array.shape for array in arrays] == shapes
    assert all(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in arrays)


# --- embed -----------------------------------------------------------------------------------


@pytest.mark.parametrize("hidden_dims", [(16,), ()])
def test_allnc_embeds_what_its_classifier_reads(features, hidden_dims):
    X, y = features
    clf = AllNCClassifier(hidden_dims=hidden_dims, projection_dim=4, max_epochs=2, random_state=0)
    embeddings = clf.fit(X, y).embed(X)
    _assert_float32(embeddings, [(len(X), hidden_dims[-1] if hidden_dims else X.shape[1])])
    logits = embeddings @ clf.classifier_weight_.T + clf.classifier_bias_
    np.testing.assert_allclose(logits, clf.decision_function(X), rtol=1e-4, atol=1e-5)


def test_dynamic_prototype_embeds_on_the_sphere_its_prototypes_score(features):
    X, y = features
    clf = DynamicPrototypeClassifier(prototype_dim=3, max_epochs=2, random_state=0).fit(X, y)
    embeddings = clf.embed(X)
    _assert_float32(embeddings, [(len(X), 3)])
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1, rtol=1e-5)
    cosines = embeddings @ clf.prototypes_[clf.assignment_].T
    np.testing.assert_allclose(cosines, clf.decision_function(X), rtol=1e-4, atol=1e-5)


def test_ceco_embeds_every_position_in_the_layout_of_x(maps):
    X, y = maps
    segmenter = CeCoSegmenter(embedding_dim=8, max_epochs=2, random_state=0).fit(X, y)
    grid = segmenter.embed(X)
    _assert_float32(grid, [(*X.shape[:-1], 8)])
    clouds = [image.reshape(-1, X.shape[-1])[:n] for image, n in zip(X, range(4, 10), strict=True)]
    _assert_float32(segmenter.embed(clouds), [(n, 8) for n in range(4, 10)])
    for cloud, image_grid in zip(segmenter.embed(clouds), grid, strict=True):
        np.testing.assert_allclose(cloud, image_grid.reshape(-1, 8)[: len(cloud)], atol=1e-6)


@pytest.mark.parametrize("n_streams", [1, 2])
def test_clusterfb_embeds_every_snippet_whatever_the_batch(videos, n_streams):
    X, y = videos
    model = ClusterFBSeparator(
        n_clusters=3, hidden_dim=8, n_streams=n_streams, max_epochs=2, batch_size=3,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    embeddings = model.embed(X)
    _assert_float32(embeddings, [(len(video), 8 * n_streams) for video in X])
    assert all((video >= 0).all() for video in embeddings)
    # Batches of 3 pad the shorter videos: each video's rows are its own, without padding.
    for video, alone in zip(embeddings, X, strict=True):
        np.testing.assert_allclose(video, model.embed([alone])[0], atol=1e-6)


def test_cofinai_embeds_the_fine_feature_that_fgs_scores(aqa):
    X, y = aqa
    model = CoFInAIRegressor(
        n_subgrades=4, d_procedure=8, d_score=4, max_epochs=3, random_state=0
    ).fit(X, y)
    embeddings = model.embed(X)
    _assert_float32(embeddings, [(len(X), 4)])
    directions = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    proba = softmax(model.subgrade_scale * directions @ model.subgrade_prototypes_.T, axis=1)
    grades = model.predict_grades(X)
    np.testing.assert_array_equal(proba.argmax(axis=1), grades["subgrade"].to_numpy(int))
    np.testing.assert_allclose(proba.max(axis=1), grades["subgrade_proba"], rtol=1e-4)
    model.set_params(fine_scoring=False, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="fine_scoring=False"):
        model.embed(X)


def test_clusterfb_localizes_with_the_proposals_it_is_given(videos):
    X, y = videos
    model = ClusterFBSeparator(n_clusters=3, hidden_dim=8, max_epochs=2, random_state=0)
    model.fit(X, y)
    whole = model.localize(X, proposals=lambda actionness, score: [[0, len(actionness), score]])
    # One proposal, the whole video, per predicted class, scored by the class's video score.
    proba = model.predict_proba(X)
    expected = {
        (video, model.classes_[index], 0, len(X[video]), proba[video, index])
        for video, index in zip(*np.nonzero(model.predict(X)), strict=True)
    }
    assert set(whole.itertuples(index=False, name=None)) == expected
    with pytest.raises(TypeError, match="proposals must be None or a callable"):
        model.localize(X, proposals="windows")


def _small_cnn():
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2))


def _small_video_cnn():
    return nn.Sequential(nn.Conv3d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1),
                         nn.Flatten(), nn.Linear(8, 8))  # fmt: skip


def _images(n_images=8):
    return np.random.default_rng(0).integers(0, 256, (n_images, 16, 16, 3), dtype=np.uint8)


def _raw_videos():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8) for n in (4, 9, 12, 16)]


# Each head, the raw data FineTune trains it on and the shapes its embed gives there: pooled
# features of the small CNN (16), its 7 x 7 feature grid, and the clips of 4 frames of each video.
FINE_TUNED = {
    "AllNCClassifier": (
        lambda: AllNCClassifier(hidden_dims=(16,), projection_dim=4),
        lambda: (_images(), np.arange(8) % 2),
        [(8, 16)],
    ),
    "DynamicPrototypeClassifier": (
        lambda: DynamicPrototypeClassifier(prototype_dim=2),
        lambda: (_images(), np.arange(8) % 2),
        [(8, 2)],
    ),
    "CeCoSegmenter": (
        lambda: CeCoSegmenter(embedding_dim=4),
        lambda: (_images(), np.arange(8 * 16 * 16).reshape(8, 16, 16) % 2),
        [(8, 7, 7, 4)],
    ),
    "CoFInAIRegressor": (
        lambda: CoFInAIRegressor(d_procedure=8, d_score=4),
        lambda: (_raw_videos(), np.array([1.0, 4.0, 6.0, 9.0])),
        [(4, 4)],
    ),
    "ClusterFBSeparator": (
        lambda: ClusterFBSeparator(hidden_dim=8, n_clusters=3),
        lambda: (_raw_videos(), [0, 1, 0, 1]),
        [(1, 8), (2, 8), (3, 8), (4, 8)],
    ),
}


@pytest.mark.parametrize("name", list(FINE_TUNED))
def test_fine_tune_embeds_raw_inputs_with_every_head(name):
    pytest.importorskip("torchvision")
    from ncestimators.adapters import FineTune

    head, data, shapes = FINE_TUNED[name]
    X, y = data()
    video = name in ("CoFInAIRegressor", "ClusterFBSeparator")
    backbone = _small_video_cnn() if video else _small_cnn()
    model = FineTune(head().set_params(max_epochs=1, random_state=0), backbone=backbone)
    model.set_params(clip_len=4).fit(X, y)
    _assert_float32(model.embed(X), shapes)


# --- warnings --------------------------------------------------------------------------------


def _warned_here(records, category):
    """Every warning of ``category`` points at this file, the caller's."""
    ours = [record for record in records if issubclass(record.category, category)]
    assert ours
    assert {record.filename for record in ours} == {__file__}


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_a_warning_of_fit_in_a_pipeline_names_the_caller(features):
    X, y = features
    model = make_pipeline(
        StandardScaler(), AllNCClassifier(hidden_dims=(8,), max_epochs=1, warm_start=True)
    ).fit(X, y)
    with pytest.warns(WarmStartWarning) as records:
        model.set_params(allncclassifier__hidden_dims=(4,)).fit(X, y)
    _warned_here(records, WarmStartWarning)


def test_a_warning_of_fit_in_cross_validation_names_the_caller(features, no_cuda):
    X, y = features
    with pytest.warns(DeviceWarning) as records:
        cross_validate(DynamicPrototypeClassifier(max_epochs=1, device="cuda"), X, y, cv=2)
    _warned_here(records, DeviceWarning)


def test_a_warning_of_fit_in_fine_tune_names_the_caller(no_cuda):
    pytest.importorskip("torchvision")
    from ncestimators.adapters import FineTune

    head = DynamicPrototypeClassifier(max_epochs=1, device="cuda")
    with pytest.warns(DeviceWarning) as records:
        FineTune(head, backbone=_small_cnn()).fit(_images(), np.arange(8) % 2)
    _warned_here(records, DeviceWarning)


def test_a_warning_of_an_extractor_names_the_caller(no_cuda):
    pytest.importorskip("torchvision")
    from ncestimators.adapters import BackboneFeatures

    extractor = BackboneFeatures(_small_cnn(), device="cuda")
    with pytest.warns(DeviceWarning) as records:
        make_pipeline(extractor).fit_transform(_images())
    _warned_here(records, DeviceWarning)
