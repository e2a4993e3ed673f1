"""Adapters: backbones by name and from checkpoints, the three extractors, FineTune on all five
heads. Nothing here touches the network: weights are random or checkpoints written in tmp_path,
and inputs are small (32 x 32 images, 4-frame clips) so that torchvision's real architectures
run in seconds on a CPU."""

import copy
import functools
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError
from torch import nn

from ncestimators import (
    AllNCClassifier,
    CeCoSegmenter,
    ClusterFBSeparator,
    CoFInAIRegressor,
    DynamicPrototypeClassifier,
)
from ncestimators._base import attach_stem
from ncestimators._model import Stem
from ncestimators.adapters import (
    BackboneFeatures,
    ClipFeatures,
    DenseFeatures,
    FineTune,
    downsample_labels,
    extract_to_files,
    upsample_labels,
)
from ncestimators.adapters._backbones import Preprocess, Preprocessing
from ncestimators.adapters._video import ClipSequences, open_videos, prepare_clip
from ncestimators.datasets import load_aqa_features, load_wtal_features, save_features

pytest.importorskip("torchvision")

from _videos import ramp, write_video  # noqa: E402

CPU = {"device": "cpu"}


@pytest.fixture(scope="module")
def images():
    """24 RGB images of 32 x 32 pixels in 3 classes: a bright square in a class's corner."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 120, (24, 32, 32, 3), dtype=np.uint8)
    y = np.arange(24) % 3
    for image, label in zip(X, y, strict=True):
        corner = slice(0, 12) if label < 2 else slice(20, 32)
        image[corner, slice(0, 12) if label == 0 else slice(20, 32)] = 255
    return X, y


def _checkpoint(tmp_path, name, seed, wrap=None):
    torch.manual_seed(seed)
    state = _resnet18().state_dict()
    path = tmp_path / name
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(state, path)
    else:
        torch.save(state if wrap is None else {wrap: state}, path)
    return path


def _resnet18():
    from torchvision.models import resnet18

    return resnet18()


# --- backbones and weights -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "wrap"),
    [
        ("plain.pt", None),
        ("nested.pth", "state_dict"),
        ("model.pth", "model"),
        ("w.safetensors", None),
    ],
)
def test_checkpoints_load_their_weights(images, tmp_path, name, wrap):
    X, _ = images
    first = _checkpoint(tmp_path, name, seed=1, wrap=wrap)
    other = _checkpoint(tmp_path, "other.pt", seed=2)
    features = BackboneFeatures(weights=first, **CPU).fit_transform(X)
    again = BackboneFeatures(weights=str(first), **CPU).fit_transform(X)
    different = BackboneFeatures(weights=other, **CPU).fit_transform(X)
    np.testing.assert_array_equal(features, again)
    assert not np.allclose(features, different)
    assert features.shape == (24, 512) and features.dtype == np.float32


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"backbone": "resnet1000"}, r"Unknown backbone 'resnet1000'.*'resnet18'"),
        ({"backbone": "r3d_18"}, r"Unknown backbone 'r3d_18'"),
        ({"weights": "IMAGENET9K"}, r"Unknown weights 'IMAGENET9K'.*IMAGENET1K_V1"),
        ({"weights": "missing/file.pt"}, r"'missing/file.pt' does not exist"),
        ({"layer": "layer9"}, r"layer='layer9' is not a submodule.*'layer4'"),
        ({"backbone": "timm:no_such_net"}, r"Unknown timm backbone 'no_such_net'"),
    ],
)
def test_bad_backbones_and_weights_say_what_to_fix(images, params, message):
    with pytest.raises(ValueError, match=message):
        BackboneFeatures(**{**CPU, **params}).fit(images[0])


def test_a_checkpoint_of_another_architecture_lists_the_mismatched_keys(images, tmp_path):
    path = tmp_path / "small.pt"
    torch.save(nn.Linear(3, 2).state_dict(), path)
    with pytest.raises(ValueError, match="does not fit the backbone: .* mismatched keys"):
        BackboneFeatures(weights=path, **CPU).fit(images[0])


def test_timm_backbones_and_custom_modules(images):
    X, _ = images
    # timm resizes to its input size (224 x 224): four images are enough
    timm_features = BackboneFeatures("timm:resnet18", **CPU).fit_transform(X[:4])
    assert timm_features.shape == (4, 512)
    module = nn.Sequential(nn.Conv2d(3, 6, 3), nn.ReLU())
    extractor = BackboneFeatures(module, pool="max", **CPU).fit(X)
    assert extractor.transform(X).shape == (24, 6)
    assert extractor.stem_.backbone is not module  # the user's module is copied


# --- BackboneFeatures ----------------------------------------------------------------------------


def test_every_image_form_gives_the_same_features(images, tmp_path):
    from PIL import Image

    X, _ = images
    extractor = BackboneFeatures(**CPU).fit(X)
    expected = extractor.transform(X)
    paths = []
    for index, image in enumerate(X):
        paths.append(tmp_path / f"{index}.png")
        Image.fromarray(image).save(paths[-1])
    forms = {
        "NCHW": X.transpose(0, 3, 1, 2),
        "floats": X / np.float32(255),
        "PIL": [Image.fromarray(image) for image in X],
        "paths": [str(path) for path in paths],
        "Series of paths": pd.Series(paths),
    }
    for form, images_ in forms.items():
        np.testing.assert_allclose(extractor.transform(images_), expected, atol=1e-5, err_msg=form)


def test_pandas_output_and_feature_names(images):
    X, _ = images
    extractor = BackboneFeatures(**CPU).set_output(transform="pandas").fit(X)
    frame = extractor.transform(X)
    assert isinstance(frame, pd.DataFrame) and frame.shape == (24, 512)
    assert frame.columns[0] == "backbonefeatures0"


def test_intermediate_layer_and_precision(images):
    X, _ = images
    layer2 = BackboneFeatures(layer="layer2", **CPU).fit_transform(X)
    assert layer2.shape == (24, 128)
    fp32 = BackboneFeatures(precision="fp32", random_state=0, **CPU).fit_transform(X)
    bf16 = BackboneFeatures(precision="bf16", random_state=0, **CPU).fit_transform(X)
    assert bf16.dtype == np.float32
    np.testing.assert_allclose(bf16, fp32, rtol=0.1, atol=0.05)


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.zeros((2, 8, 8, 5), np.uint8), "neither 1 nor 3 channels"),
        (np.full((2, 8, 8, 3), 2.0), r"must lie in \[0, 1\]"),
        (np.full((2, 8, 8, 3), np.nan), "NaN"),
        (np.zeros((2, 8), np.uint8), "not a batch of images"),
        (["nowhere.png"], "does not exist"),
    ],
)
def test_bad_images_are_a_value_error(images, X, message):
    extractor = BackboneFeatures(**CPU).fit(images[0])
    with pytest.raises(ValueError, match=message):
        extractor.transform(X)


def test_pipeline_of_extractor_and_head_in_a_grid_search(images):
    X, y = images
    pipeline = make_pipeline(BackboneFeatures(**CPU), LogisticRegression(max_iter=200))
    search = GridSearchCV(pipeline, {"logisticregression__C": [0.1, 1.0]}, cv=2).fit(X, y)
    assert search.best_score_ > 1 / 3
    head = make_pipeline(
        BackboneFeatures(**CPU), DynamicPrototypeClassifier(max_epochs=3, random_state=0)
    )
    GridSearchCV(head, {"dynamicprototypeclassifier__prototype_dim": [2, 3]}, cv=2).fit(X, y)


# --- DenseFeatures and labels on the feature grid ------------------------------------------------


def test_dense_features_are_maps_for_ceco(images):
    X, _ = images
    maps = DenseFeatures(layer="layer2", **CPU).fit_transform(X)
    assert maps.shape == (24, 4, 4, 128)
    labels = downsample_labels(
        np.repeat(np.arange(4), 8)[None, :, None] * np.ones((24, 1, 32)), (4, 4)
    )
    model = CeCoSegmenter(max_epochs=2, random_state=0).fit(maps, labels.astype(int))
    assert upsample_labels(model.predict(maps), (32, 32)).shape == (24, 32, 32)


@settings(max_examples=40, deadline=None)
@given(
    labels=arrays(np.int64, (1, 6, 6), elements=st.integers(-1, 2)),
    size=st.sampled_from([(1, 1), (2, 3), (3, 3), (6, 6)]),
)
def test_downsampled_labels_are_the_majority_of_each_cell(labels, size):
    votes = downsample_labels(labels, size)
    rows, cols = 6 // size[0], 6 // size[1]
    for i in range(size[0]):
        for j in range(size[1]):
            cell = labels[0, i * rows : (i + 1) * rows, j * cols : (j + 1) * cols].ravel()
            counted = cell[cell != -1]
            if counted.size == 0:
                assert votes[0, i, j] == -1
            else:
                values, counts = np.unique(counted, return_counts=True)
                assert votes[0, i, j] == values[counts.argmax()]
    np.testing.assert_array_equal(upsample_labels(votes, (6, 6))[0, ::rows, ::cols], votes[0])


# --- ClipFeatures and saved features -------------------------------------------------------------


@pytest.fixture(scope="module")
def videos():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (n, 16, 16, 3), dtype=np.uint8) for n in (8, 12, 3, 16, 9, 10)]


def test_clip_features_count_clips_and_feed_the_sequence_heads(videos):
    extractor = ClipFeatures(clip_len=4, **CPU).fit(videos)
    clips = extractor.transform(videos)
    assert [len(features) for features in clips] == [2, 3, 1, 4, 2, 2]
    overlapping = ClipFeatures(clip_len=4, stride=2, **CPU).fit_transform(videos)
    assert [len(features) for features in overlapping] == [3, 5, 1, 7, 3, 4]
    CoFInAIRegressor(max_epochs=2, d_procedure=16, d_score=8, random_state=0).fit(
        clips, np.arange(6.0)
    )


def test_video_files_need_a_decoder_or_say_so(videos, tmp_path, monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name in ("torchcodec", "av") else find_spec(name, *args),
    )
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00")
    with pytest.raises(ValueError, match="needs a decoder: pip install torchcodec"):
        ClipFeatures(clip_len=4, **CPU).fit(videos).transform([str(path)])


@pytest.fixture(scope="module")
def video_files(tmp_path_factory):
    """Three H.264 files of 30, 11 and 5 frames of 24 x 32 pixels, and what PyAV decodes."""
    pytest.importorskip("av")
    folder = tmp_path_factory.mktemp("videos")
    paths = [
        write_video(folder / f"video_{index}.mp4", ramp(n_frames, 24, 32, seed=index))
        for index, n_frames in enumerate((30, 11, 5))
    ]
    return paths, [_decode_whole(path) for path in paths]


def _decode_whole(path):
    import av

    with av.open(path) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


def test_a_video_file_is_decoded_range_by_range_to_its_frames(video_files):
    paths, decoded = video_files
    videos = open_videos(paths)
    assert [video.n_frames for video in videos] == [30, 11, 5]
    assert {video.frame_shape for video in videos} == {(24, 32, 3)}
    # H.264 is lossy, but the frames are the ones written: each is nearest in brightness to
    # the frame of its number.
    brightness = decoded[0].mean(axis=(1, 2, 3))
    written = ramp(30, 24, 32).mean(axis=(1, 2, 3))
    nearest = np.abs(brightness[:, None] - written[None, :]).argmin(axis=1)
    np.testing.assert_array_equal(nearest, np.arange(30))
    # Ranges inside a group of 8 frames, across key frames, to the end: seek and decode.
    for start, stop in [(0, 4), (7, 9), (8, 16), (13, 30), (29, 30)]:
        np.testing.assert_array_equal(videos[0].frames(start, stop), decoded[0][start:stop])
    np.testing.assert_array_equal(
        videos[1].clip(8, 6), decoded[1][[8, 9, 10, 10, 10, 10]]
    )  # past the end: the last frame repeated


def test_clip_features_of_video_files_equal_those_of_their_frames(video_files):
    paths, decoded = video_files
    extractor = ClipFeatures(_small_video_cnn(), clip_len=4, stride=3, **CPU).fit(paths)
    from_files = extractor.transform(paths)
    assert [len(features) for features in from_files] == [9, 3, 1]
    for got, want in zip(from_files, extractor.transform(decoded), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_clips_of_videos_of_any_size_are_resized_to_the_backbones_input(video_files):
    paths, decoded = video_files
    preprocess = Preprocess(Preprocessing(resize=(16,), crop=(16, 16)))
    small = ramp(9, 40, 20)  # frames of another size, in memory
    sequences = ClipSequences(
        open_videos([paths[0], small]), 4, 4, functools.partial(prepare_clip, preprocess)
    )
    assert sequences.lengths.tolist() == [7, 2]
    batch = sequences.batch(np.array([1, 0]))
    assert batch.shape == (2, 7, 4, 16, 16, 3) and batch.dtype == np.float32
    assert np.isnan(batch[0, 2:]).all() and not np.isnan(batch[0, :2]).any()
    # Each clip is resized as the stem resizes a batch of clips.
    for video, row, starts in [(small, 0, [0, 4]), (decoded[0], 1, range(0, 27, 4))]:
        for column, start in enumerate(starts):
            clip = torch.from_numpy(video[start : start + 4]).movedim(-1, 0)[None]
            want = preprocess.resize_and_crop(clip)[0].movedim(0, -1)
            np.testing.assert_array_equal(batch[row, column], want.numpy())


def test_fine_tune_on_video_files_equals_fine_tune_on_their_frames(video_files):
    paths, decoded = video_files
    backbone = _small_video_cnn()  # one initialisation for both (FineTune copies it)

    def fit_and_predict(X):
        estimator = CoFInAIRegressor(d_procedure=8, d_score=4, max_epochs=2, random_state=0)
        model = FineTune(estimator, backbone=backbone, clip_len=4)
        return model.fit(X, [1.0, 5.0, 9.0]).predict(X)

    np.testing.assert_allclose(fit_and_predict(paths), fit_and_predict(decoded), rtol=1e-5)


def test_a_file_that_is_no_video_says_so(tmp_path):
    pytest.importorskip("av")
    path = tmp_path / "notes.mp4"
    path.write_text("not a video")
    with pytest.raises(ValueError, match="Video 0: the file .* is not a video that PyAV can"):
        open_videos([str(path)])


def test_saved_features_load_with_the_aqa_and_wtal_loaders(tmp_path):
    rng = np.random.default_rng(0)
    clips = [rng.standard_normal((n, 4)).astype(np.float32) for n in (3, 5)]
    save_features(tmp_path / "aqa" / "swintx_avg_fps25_clip32", ["Ball_001", "Ball_002"], clips)
    (tmp_path / "aqa" / "train.txt").write_text("name d e total\nBall_001 1 2 3\nBall_002 1 2 4\n")
    loaded = load_aqa_features(tmp_path / "aqa", "Ball", "train")
    for got, want in zip(loaded.X, clips, strict=True):
        np.testing.assert_array_equal(got, want)
    root = tmp_path / "thumos"
    for stream in ("rgb", "flow"):
        save_features(root / "features" / "train" / stream, ["v1", "v2"], clips)
    (root / "split_train.txt").write_text("v1\nv2\n")
    segments = {"segment": [1.0, 2.0], "label": "Jump"}
    database = {name: {"subset": "train", "annotations": [segments]} for name in ("v1", "v2")}
    (root / "gt.json").write_text(pd.Series({"database": database}).to_json())
    data = load_wtal_features(root, "train")
    np.testing.assert_array_equal(data.X[1], np.hstack([clips[1], clips[1]]))


def test_save_features_refuses_what_it_cannot_write(tmp_path):
    with pytest.raises(ValueError, match="one name per item"):
        save_features(tmp_path, ["a"], [np.ones(2), np.ones(2)])
    with pytest.raises(ValueError, match="distinct"):
        save_features(tmp_path, ["a", "a"], [np.ones(2), np.ones(2)])
    with pytest.raises(ValueError, match="contain no"):
        save_features(tmp_path, ["../a"], [np.ones(2)])


def test_sharded_extraction_refuses_names_repeated_across_shards_before_any_work(tmp_path):
    images = np.zeros((5, 8, 8, 3), dtype=np.uint8)
    extractor = BackboneFeatures(nn.Conv2d(3, 4, 3), **CPU)
    # Each shard of two holds distinct names; a shard's own check would let "a" and "b" of the
    # second shard overwrite the files of the first.
    with pytest.raises(ValueError, match=r"2 repeated: \['a', 'b'\]"):
        extract_to_files(extractor, images, list("abcab"), tmp_path / "out", shard_size=2)
    assert not (tmp_path / "out").exists()


# --- FineTune ------------------------------------------------------------------------------------


def _small_cnn():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2)
    )


def _small_video_cnn():
    return nn.Sequential(nn.Conv3d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1),
                         nn.Flatten(), nn.Linear(8, 8))  # fmt: skip


IMAGE_HEADS = {
    "AllNCClassifier": AllNCClassifier(hidden_dims=(16,), projection_dim=8, max_epochs=3),
    "DynamicPrototypeClassifier": DynamicPrototypeClassifier(hidden_dims=(16,), max_epochs=3),
}


@pytest.mark.parametrize("name", list(IMAGE_HEADS))
@pytest.mark.parametrize("augment", [None, "standard"])
def test_image_heads_fine_tune_end_to_end(images, name, augment):
    X, y = images
    head = IMAGE_HEADS[name].set_params(random_state=0, lr=0.01)
    model = FineTune(head, backbone=_small_cnn(), augment=augment).fit(X, y)
    first_layer = model.estimator_.net_.module_.stem.backbone[0].weight
    assert not torch.equal(first_layer, _fresh_first_layer(model))
    assert model.predict_proba(X).shape == (24, 3) and model.classes_.tolist() == [0, 1, 2]
    assert 0 <= model.score(X, y) <= 1
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("safetensors", [False, True])
def test_fine_tune_save_params_then_load_params_gives_identical_outputs(
    images, tmp_path, safetensors
):
    X, y = images
    head = AllNCClassifier(hidden_dims=(16,), projection_dim=8, max_epochs=2, lr=0.01)
    model = FineTune(head.set_params(random_state=0), backbone=_small_cnn()).fit(X, y)
    files = {"f_params": tmp_path / "params", "f_history": tmp_path / "history.json"}
    model.save_params(**files, use_safetensors=safetensors)
    other = FineTune(head.set_params(random_state=1), backbone=_small_cnn()).fit(X, y)
    assert not np.array_equal(other.predict_proba(X), model.predict_proba(X))
    other.load_params(**files, use_safetensors=safetensors)
    np.testing.assert_array_equal(other.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(other.estimator_.classifier_weight_,
                                  model.estimator_.classifier_weight_)  # fmt: skip


def _fresh_first_layer(model):
    return model.stem_.build().backbone[0].weight


def test_frozen_layers_stay_bit_identical_and_the_rest_trains(images, tmp_path):
    X, y = images
    weights = _checkpoint(tmp_path, "start.pt", seed=0)
    head = DynamicPrototypeClassifier(hidden_dims=(), max_epochs=2, random_state=0)
    model = FineTune(
        head, weights=weights, freeze=["conv1", "bn1", "layer1"], backbone_lr=1e-3
    ).fit(X, y)
    trained = model.estimator_.net_.module_.stem.backbone
    fresh = model.stem_.build().backbone
    for name, tensor in fresh.state_dict().items():
        same = torch.equal(tensor, trained.state_dict()[name])
        assert same == name.startswith(("conv1", "bn1", "layer1")), name
    groups = model.estimator_.net_.optimizer_.param_groups
    assert sorted(group["lr"] for group in groups) == [1e-3, head.lr]
    # The backbone's learning rate goes to the parameters the network returns as the
    # backbone's, by identity: every stem parameter that trains, and nothing of the head.
    learning_rates = {id(p): group["lr"] for group in groups for p in group["params"]}
    network = model.estimator_.net_.module_
    assert {learning_rates[id(p)] for p in network.head.parameters()} == {head.lr}
    assert {learning_rates.get(id(p)) for p in network.stem.parameters() if p.requires_grad} == {
        1e-3
    }


def test_a_stem_goes_only_in_front_of_an_ncestimators_estimator(images):
    X, y = images
    with pytest.raises(InvalidParameterError, match="'estimator' parameter of FineTune"):
        FineTune(LogisticRegression()).fit(X, y)
    stem = FineTune(DynamicPrototypeClassifier(max_epochs=1), backbone=_small_cnn()).fit(X, y).stem_
    assert isinstance(stem, Stem)
    with pytest.raises(TypeError, match="not a Stem"):
        attach_stem(DynamicPrototypeClassifier(), object())
    with pytest.raises(TypeError, match="in front of an ncestimators estimator"):
        attach_stem(LogisticRegression(), stem)


def test_all_frozen_is_a_linear_probe(images, tmp_path):
    X, y = images
    model = FineTune(
        DynamicPrototypeClassifier(max_epochs=2, random_state=0),
        weights=_checkpoint(tmp_path, "start.pt", seed=0),
        freeze="all",
    )
    model.fit(X, y)
    trained = model.estimator_.net_.module_.stem.backbone.state_dict()
    for name, tensor in model.stem_.build().backbone.state_dict().items():
        assert torch.equal(tensor, trained[name]), name


def test_segmentation_fine_tunes_on_the_feature_grid_and_predicts_image_maps(images):
    X, _ = images
    y = (X.min(axis=-1) == 255).astype(int)  # the bright square
    y[:, :, :2] = -1
    model = FineTune(CeCoSegmenter(max_epochs=3, lr=0.01, random_state=0), backbone=_small_cnn())
    model.fit(X, y)
    assert model.predict(X).shape == (24, 32, 32)
    assert model.predict_proba(X).shape == (24, 32, 32, 2)
    assert model.score(X, y) > 0.5
    assert model.iou_report(X, y)["iou"].notna().all()


@pytest.mark.parametrize("head", ["CoFInAIRegressor", "ClusterFBSeparator"])
def test_sequence_heads_fine_tune_a_clip_backbone(videos, head):
    if head == "CoFInAIRegressor":
        estimator = CoFInAIRegressor(d_procedure=8, d_score=4, max_epochs=2, random_state=0)
        y = np.arange(6.0)
    else:
        estimator = ClusterFBSeparator(hidden_dim=8, n_clusters=3, max_epochs=2, random_state=0)
        y = [0, 1, 0, 1, 2, 2]
    model = FineTune(estimator, backbone=_small_video_cnn(), clip_len=4).fit(videos, y)
    assert len(model.predict(videos)) == 6
    trained = model.estimator_.net_.module_.stem.clip_stem.backbone[0].weight
    fresh = model.stem_.build().clip_stem.backbone[0].weight
    assert not torch.equal(trained, fresh)
    if head == "ClusterFBSeparator":
        assert set(model.localize(videos)["video"]) <= set(range(6))
    else:
        assert model.predict_grades(videos).shape == (6, 5)


def test_fine_tune_with_a_torchvision_video_backbone(videos):
    estimator = CoFInAIRegressor(d_procedure=8, d_score=4, max_epochs=1, random_state=0)
    model = FineTune(estimator, backbone="r3d_18", clip_len=4).fit(videos, np.arange(6.0))
    assert model.estimator_.n_features_in_ == 512


def test_fine_tune_is_a_meta_estimator(images):
    X, y = images
    model = FineTune(DynamicPrototypeClassifier(max_epochs=1), backbone=_small_cnn())
    assert not hasattr(model, "predict_grades") and hasattr(model, "predict_proba")
    search = GridSearchCV(model, {"backbone_lr": [1e-3, 1e-2]}, cv=2).fit(X, y)
    assert search.best_estimator_.predict(X).shape == (24,)
    copy.deepcopy(search.best_estimator_)
    assert Path(__file__).exists()


# --- the cut: only the layers that feed the head ------------------------------------------------


def _trainable_parameters_get_gradients(stem, inputs):
    """Whether one backward pass gives every trainable parameter of ``stem`` a gradient."""
    stem.train()(torch.as_tensor(inputs)).sum().backward()
    trainable = [p for p in stem.parameters() if p.requires_grad]
    return bool(trainable) and all(p.grad is not None for p in trainable)


def test_a_backbone_cut_at_a_layer_drops_the_later_layers_and_keeps_its_outputs(images, tmp_path):
    X, _ = images
    y = (X.min(axis=-1) == 255).astype(int)
    weights = _checkpoint(tmp_path, "start.pt", seed=0)
    model = FineTune(CeCoSegmenter(max_epochs=1, random_state=0), weights=weights).fit(X, y)
    stem = model.stem_.build().eval()  # cut at layer3, the stride-16 default
    layers = {name.split(".")[1] for name in stem.backbone.state_dict()}
    assert layers == {"conv1", "bn1", "layer1", "layer2", "layer3"}
    # The same outputs as the whole model's layer3, batch statistics included: the
    # checkpoint is loaded before the cut, which runs in training mode without moving them.
    reference = _resnet18()
    reference.load_state_dict(torch.load(weights, weights_only=True))
    reference.eval()
    inputs = stem.preprocess(torch.as_tensor(X[:4]).movedim(-1, 1))
    expected = nn.Sequential(*list(reference.children())[:7])(inputs)
    torch.testing.assert_close(stem.backbone(inputs), expected, rtol=0, atol=0)
    assert _trainable_parameters_get_gradients(stem, X[:4])


def test_dense_features_build_only_the_layers_before_theirs(images):
    extractor = DenseFeatures(layer="layer2", **CPU).fit(images[0])
    layers = {name.split(".")[1] for name in extractor.stem_.backbone.state_dict()}
    assert layers == {"conv1", "bn1", "layer1", "layer2"}


class _SideBranch(nn.Module):
    """Cut at ``conv``: ``side`` runs but feeds only what follows, ``tail`` and ``scale`` after."""

    def __init__(self):
        super().__init__()
        self.side = nn.Conv2d(3, 4, 1)
        self.conv = nn.Conv2d(3, 8, 3)
        self.tail = nn.Conv2d(8, 8, 1)
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, images):
        side = self.side(images)
        return self.tail(self.conv(images)) * self.scale + side.mean()


def test_parameters_that_feed_nothing_stop_training_and_the_rest_trains(images):
    X, y = images
    backbone = _SideBranch()
    head = DynamicPrototypeClassifier(max_epochs=2, lr=0.01, random_state=0)
    model = FineTune(head, backbone=backbone, layer="conv").fit(X, y)
    trained = model.estimator_.net_.module_.stem.backbone
    fresh = model.stem_.build().backbone
    assert [name for name, p in fresh.named_parameters() if p.requires_grad] == [
        "model.conv.weight", "model.conv.bias"
    ]  # fmt: skip
    for name, tensor in fresh.state_dict().items():
        assert torch.equal(tensor, trained.state_dict()[name]) == (".conv." not in name), name
    assert "model.tail.weight" not in fresh.state_dict()
    # The caller's module is left whole and trainable.
    assert backbone.scale.requires_grad and isinstance(backbone.tail, nn.Conv2d)
    assert _trainable_parameters_get_gradients(model.stem_.build(), X[:4])


class _ByWidth(nn.Module):
    """A module that takes another layer for images wider than 32 pixels."""

    def __init__(self):
        super().__init__()
        self.narrow = nn.Conv2d(3, 8, 3)
        self.wide = nn.Conv2d(3, 8, 3, stride=2)

    def forward(self, images):
        return self.narrow(images) if images.shape[-1] <= 32 else self.wide(images)


def test_a_layer_the_fitted_inputs_did_not_run_is_dropped_and_says_so(images):
    X, y = images
    model = FineTune(DynamicPrototypeClassifier(max_epochs=1, random_state=0), backbone=_ByWidth())
    model.fit(X, y)
    assert model.predict(X).shape == (24,)
    with pytest.raises(ValueError, match="layer 'wide' did not run on the example input"):
        model.predict(np.zeros((2, 64, 64, 3), np.uint8))
