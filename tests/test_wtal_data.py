"""make_wtal_videos (synthetic untrimmed videos) and load_wtal_features (THUMOS14 layout)."""

import json

import numpy as np
import pytest

from ncestimators.datasets import load_wtal_features, make_wtal_videos


def test_make_wtal_videos_shapes_and_labels():
    X, y, segments, styles = make_wtal_videos(
        n_videos=60, n_classes=4, n_features=10, min_length=30, max_length=50,
        return_styles=True, random_state=0,
    )  # fmt: skip
    assert len(X) == len(segments) == len(styles) == 60
    assert y.shape == (60, 4) and y.dtype == np.int64
    for video, rows, style, labels in zip(X, segments, styles, y, strict=True):
        assert video.dtype == np.float32 and video.shape[1] == 10
        assert 30 <= len(video) <= 50 and len(style) == len(video)
        assert rows.shape[1] == 3 and len(rows) >= 1
        np.testing.assert_array_equal(np.unique(rows[:, 0]), np.flatnonzero(labels))
        starts, ends = rows[:, 1], rows[:, 2]
        assert (np.diff(starts) > 0).all() and (ends[:-1] < starts[1:]).all()
        assert starts.min() >= 0 and ends.max() <= len(video) and (ends > starts).all()
        inside = np.zeros(len(video), bool)
        for start, end in rows[:, 1:].astype(int):
            inside[start:end] = True
        # Action styles (>= n_background_styles) exactly inside the segments.
        np.testing.assert_array_equal(style >= 4, inside)
    assert 1 <= y.sum(axis=1).min() and y.sum(axis=1).max() <= 2
    fraction = np.mean([(s >= 4).mean() for s in styles])
    assert 0.15 < fraction < 0.35


def test_make_wtal_videos_is_reproducible():
    first = make_wtal_videos(n_videos=5, n_features=8, random_state=3)
    second = make_wtal_videos(n_videos=5, n_features=8, random_state=3)
    for a, b in zip(first[0] + first[2], second[0] + second[2], strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first[1], second[1])


def test_make_wtal_videos_plants_styles_and_context():
    params = {"n_videos": 30, "n_classes": 3, "n_features": 32, "random_state": 0}
    X, y, segments, styles = make_wtal_videos(noise=0.0, context=0.0, return_styles=True, **params)
    features, planted = np.concatenate(X), np.concatenate(styles)
    scene_free = np.concatenate([x - x.mean(axis=0) for x in X])
    # Without noise, the features of one background style differ only by the scene offsets.
    for style in range(4):
        spread = scene_free[planted == style].std(axis=0).max()
        assert spread < features[planted != style].std(axis=0).max()
    # The signature phase (action style 0) carries more class evidence than the others:
    # its snippets of different classes are further apart.
    for phase, smaller in ((4, False), (5, True)):
        means = [
            np.concatenate(
                [x[s == phase] for x, s, row in zip(X, styles, y, strict=True) if row[c]]
            ).mean(axis=0)
            for c in range(3)
        ]
        gap = np.linalg.norm(means[0] - means[1])
        assert (gap < 1.5) == smaller
    X_context = make_wtal_videos(noise=0.0, context=1.0, **params)[0]
    changed = [np.abs(a - b).max(axis=1) > 1e-6 for a, b in zip(X, X_context, strict=True)]
    for rows, moved in zip(segments, changed, strict=True):
        start, end = rows[0, 1:].astype(int)
        assert moved[max(0, start - 1)] or start == 0
        assert not moved[start:end].any()


def test_make_wtal_videos_rejects_bad_lengths():
    with pytest.raises(ValueError, match="min_length=90 is greater than max_length=40"):
        make_wtal_videos(min_length=90, max_length=40)
    with pytest.raises(ValueError, match="n_classes"):
        make_wtal_videos(n_classes=1)


def _write_thumos(root, *, lengths=None):
    lengths = lengths or {"video_validation_1": (5, 5), "video_validation_2": (4, 3)}
    database = {
        "video_validation_1": {
            "subset": "validation",
            "annotations": [
                {"label": "Diving", "segment": [3.2, 5.0]},
                {"label": "BaseballPitch", "segment": [0.4, 1.0]},
            ],
        },
        "video_validation_2": {"subset": "validation", "annotations": []},
        "video_test_1": {
            "subset": "test",
            "annotations": [{"label": "CliffDiving", "segment": [1.0, 2.0]}],
        },
    }
    (root / "gt.json").write_text(json.dumps({"database": database}))
    (root / "split_train.txt").write_text("video_validation_1\nvideo_validation_2\n")
    rng = np.random.default_rng(0)
    for name, (rgb, flow) in lengths.items():
        for stream, length, width in (("rgb", rgb, 3), ("flow", flow, 2)):
            folder = root / "features" / "train" / stream
            folder.mkdir(parents=True, exist_ok=True)
            np.save(folder / f"{name}.npy", rng.standard_normal((length, width)).astype(np.float32))


def test_load_wtal_features(tmp_path):
    _write_thumos(tmp_path)
    data = load_wtal_features(tmp_path, "train")
    np.testing.assert_array_equal(data.class_names, ["BaseballPitch", "CliffDiving", "Diving"])
    assert data.video_names == ["video_validation_1", "video_validation_2"]
    assert [x.shape for x in data.X] == [(5, 5), (3, 5)]  # RGB | flow, cut to the shorter
    rgb = np.load(tmp_path / "features/train/rgb/video_validation_1.npy")
    np.testing.assert_array_equal(data.X[0][:, :3], rgb)
    np.testing.assert_array_equal(data.y, [[1, 0, 1], [0, 0, 0]])
    np.testing.assert_allclose(data.segments[0], [[0, 0.4, 1.0], [2, 3.2, 5.0]])
    assert data.segments[1].shape == (0, 3)


@pytest.mark.parametrize(
    ("missing", "exception"),
    [
        ("gt.json", FileNotFoundError),
        ("split_train.txt", FileNotFoundError),
        ("features/train/rgb/video_validation_2.npy", FileNotFoundError),
        ("features/train/flow/video_validation_1.npy", FileNotFoundError),
    ],
)
def test_load_wtal_features_names_the_missing_path(tmp_path, missing, exception):
    _write_thumos(tmp_path)
    (tmp_path / missing).unlink()
    with pytest.raises(exception, match=str(tmp_path / missing)):
        load_wtal_features(tmp_path, "train")


def test_load_wtal_features_rejects_malformed_files(tmp_path):
    _write_thumos(tmp_path)
    (tmp_path / "gt.json").write_text(json.dumps({"videos": {}}))
    with pytest.raises(ValueError, match="not an ActivityNet-style annotation file"):
        load_wtal_features(tmp_path, "train")
    _write_thumos(tmp_path)
    (tmp_path / "split_train.txt").write_text("video_validation_1\nvideo_validation_9\n")
    with pytest.raises(ValueError, match="'video_validation_9' .* has no entry in"):
        load_wtal_features(tmp_path, "train")
    _write_thumos(tmp_path)
    np.save(tmp_path / "features/train/rgb/video_validation_1.npy", np.zeros(4))
    with pytest.raises(ValueError, match=r"non-empty \(snippets, features\) array"):
        load_wtal_features(tmp_path, "train")
    with pytest.raises(ValueError, match="split"):
        load_wtal_features(tmp_path, "validation")
