"""make_aqa_sequences and load_aqa_features."""

import numpy as np
import pytest
from sklearn.linear_model import RidgeCV

from ncestimators.datasets import load_aqa_features, make_aqa_sequences
from ncestimators.metrics import srcc


def test_make_aqa_sequences_shapes_and_types():
    X, y = make_aqa_sequences(n_videos=30, n_clips=(5, 9), n_features=12, random_state=0)
    assert len(X) == 30 and y.shape == (30,) and y.dtype == np.float64
    assert all(x.dtype == np.float32 and x.shape[1] == 12 and 5 <= len(x) <= 9 for x in X)
    assert {len(x) for x in X} == set(range(5, 10))
    assert ((y >= 0) & (y <= 10)).all()


def test_make_aqa_sequences_plants_the_documented_structure():
    X, y, procedures, qualities = make_aqa_sequences(
        n_videos=400, n_procedures=4, n_features=16, noise=0.0, return_procedures=True,
        random_state=0,
    )  # fmt: skip
    np.testing.assert_allclose(y, qualities @ [1, 2, 3, 4])
    assert ((qualities >= 0) & (qualities <= 1)).all()
    for x, procedure in zip(X, procedures, strict=True):
        assert len(procedure) == len(x)
        np.testing.assert_array_equal(np.unique(procedure), np.arange(4))
        assert (np.diff(procedure) >= 0).all()
    # Without noise, each clip is its procedure's mean, the signed quality along the shared
    # direction, and the video's offset: differences of clips within a procedure vanish.
    first = X[0][procedures[0] == 0]
    np.testing.assert_allclose(first - first[0], 0, atol=1e-5)
    # Procedure means m_ip = 2 a_p + 1.5 s_p (2 q_ip - 1) u + z_i with cue signs s = (+, -, +, -):
    # differences between videos and procedures cancel a_p and z_i and leave multiples of u.
    means = np.stack([_procedure_means(x, p) for x, p in zip(X, procedures, strict=True)])
    between_videos = means - means[:1]
    cue = between_videos[:, 1:] - between_videos[:, :1]
    signs = np.array([1, -1, 1, -1])
    signed = signs * (qualities - qualities[:1])
    coefficient = 3 * (signed[:, 1:] - signed[:, :1])
    singular_values = np.linalg.svd(cue.reshape(-1, 16), compute_uv=False)
    assert singular_values[1] < 1e-4 * singular_values[0]  # all along one direction u
    np.testing.assert_allclose(np.linalg.norm(cue, axis=2), np.abs(coefficient), atol=1e-4)


def _procedure_means(x, procedure):
    return np.stack([x[procedure == p].mean(axis=0) for p in np.unique(procedure)])


def test_mean_pooling_loses_what_the_procedures_keep():
    X, y, procedures, _ = make_aqa_sequences(n_videos=500, return_procedures=True,
                                             random_state=0)  # fmt: skip
    pooled = np.stack([x.mean(axis=0) for x in X])
    per_procedure = np.stack(
        [_procedure_means(x, p).ravel() for x, p in zip(X, procedures, strict=True)]
    )
    ridge = RidgeCV(alphas=np.logspace(-3, 3, 13))
    pooled_srcc = srcc(y[400:], ridge.fit(pooled[:400], y[:400]).predict(pooled[400:]))
    oracle = ridge.fit(per_procedure[:400], y[:400]).predict(per_procedure[400:])
    assert pooled_srcc < 0.4 < 0.7 < srcc(y[400:], oracle)


def test_make_aqa_sequences_is_reproducible():
    first_X, first_y = make_aqa_sequences(n_videos=5, random_state=0)
    second_X, second_y = make_aqa_sequences(n_videos=5, random_state=0)
    np.testing.assert_array_equal(first_y, second_y)
    for a, b in zip(first_X, second_X, strict=True):
        np.testing.assert_array_equal(a, b)


def test_make_aqa_sequences_few_features():
    X, _ = make_aqa_sequences(n_videos=3, n_features=2, n_procedures=3, random_state=0)
    assert X[0].shape[1] == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_clips": (9, 5)}, "swap them"),
        ({"n_clips": (3, 6), "n_procedures": 4}, "at least n_procedures=4"),
        ({"n_clips": (4,)}, "pair of ints"),
        ({"n_clips": (4.0, 6)}, "pair of ints"),
        ({"n_videos": 0}, "n_videos"),
        ({"noise": -1.0}, "noise"),
    ],
)
def test_make_aqa_sequences_rejects_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        make_aqa_sequences(**params)


def _write_release(root, header, rows, lengths, n_features=4):
    """A tiny RG / Fis-V style release: label files and one (clips, D) array per video."""
    folder = root / "swintx_avg_fps25_clip32"
    folder.mkdir(parents=True)
    for split, split_rows in rows.items():
        (root / f"{split}.txt").write_text("\n".join([header, *split_rows]) + "\n")
    rng = np.random.default_rng(0)
    for name, length in lengths.items():
        np.save(folder / f"{name}.npy", rng.standard_normal((length, n_features)))
    return root


@pytest.fixture
def rg(tmp_path):
    rows = {
        "train": ["Ball_001 5.1 7.0 12.1", "Hoop_001 4.0 6.5 10.5", "Ball_002 6.3 7.2 13.5"],
        "test": ["Ball_003 5.5 7.1 12.6", "", "Hoop_002 3.5 6.0 9.5"],
    }
    lengths = {"Ball_001": 5, "Hoop_001": 3, "Ball_002": 4, "Ball_003": 2, "Hoop_002": 6}
    return _write_release(tmp_path / "RG", "name D E Total", rows, lengths)


@pytest.fixture
def fis_v(tmp_path):
    rows = {"train": ["1 31.2 28.0", "2 25.5 30.1"], "test": ["3 40.0 33.3"]}
    return _write_release(tmp_path / "fis-v", "name TES PCS", rows, {"1": 7, "2": 5, "3": 6})


def test_a_pickled_feature_file_is_refused_not_unpickled(rg):
    # Unpickling runs code from the file; an object array in a release is refused instead.
    np.save(rg / "swintx_avg_fps25_clip32" / "Ball_001.npy", np.array([{}], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle=False"):
        load_aqa_features(rg, "Ball", "train")


def test_load_rg_selects_an_apparatus_and_its_total_score(rg):
    data = load_aqa_features(rg, "Ball", "train")
    assert data.video_names == ["Ball_001", "Ball_002"]
    np.testing.assert_array_equal(data.y, [12.1, 13.5])
    assert [x.shape for x in data.X] == [(5, 4), (4, 4)]
    assert all(x.dtype == np.float32 for x in data.X)
    assert data.frame.columns.tolist() == ["difficulty", "execution", "total"]
    np.testing.assert_array_equal(data.frame["difficulty"], [5.1, 6.3])
    expected = np.load(rg / "swintx_avg_fps25_clip32" / "Ball_002.npy")
    np.testing.assert_array_equal(data.X[1], expected.astype(np.float32))
    test = load_aqa_features(str(rg), "Hoop", "test")  # blank lines are skipped
    assert test.video_names == ["Hoop_002"] and test.X[0].shape == (6, 4)


@pytest.mark.parametrize(("action", "expected"), [("TES", [31.2, 25.5]), ("PCS", [28.0, 30.1])])
def test_load_fis_v_selects_a_score_column(fis_v, action, expected):
    data = load_aqa_features(fis_v, action, "train")
    np.testing.assert_array_equal(data.y, expected)
    assert data.video_names == ["1", "2"] and data.frame.columns.tolist() == ["TES", "PCS"]


def test_loaded_features_train_the_regressor(rg):
    from ncestimators import CoFInAIRegressor

    data = load_aqa_features(rg, "Ball", "train")
    model = CoFInAIRegressor(n_grades=2, n_subgrades=2, d_procedure=4, d_score=2,
                             max_epochs=2, random_state=0).fit(data.X, data.y)  # fmt: skip
    assert model.predict(load_aqa_features(rg, "Ball", "test").X).shape == (1,)


def test_load_errors_name_the_missing_path(rg, tmp_path):
    with pytest.raises(FileNotFoundError, match="Label file not found: .*nowhere.*train.txt"):
        load_aqa_features(tmp_path / "nowhere", "Ball", "train")
    with pytest.raises(FileNotFoundError, match="Feature folder not found: .*i3d"):
        load_aqa_features(rg, "Ball", "train", features="i3d")
    (rg / "swintx_avg_fps25_clip32" / "Ball_002.npy").unlink()
    with pytest.raises(FileNotFoundError, match="Feature file not found: .*Ball_002.npy"):
        load_aqa_features(rg, "Ball", "train")


@pytest.mark.parametrize(
    ("action", "split", "message"),
    [
        ("Ribbon", "train", r"of action 'Ribbon'; its actions are \['Ball', 'Hoop'\]"),
        ("TES", "train", r"line 2: expected a name and 2 numbers \(TES, PCS\)"),
        ("Ball", "valid", "split must be 'train' or 'test'"),
    ],
)
def test_load_rejects_bad_requests(rg, action, split, message):
    with pytest.raises(ValueError, match=message):
        load_aqa_features(rg, action, split)


@pytest.mark.parametrize(
    ("row", "message"), [("Ball_004 5.0 x 12.0", "line 3"), ("Ball_004 5.0 12.0", "line 3")]
)
def test_load_rejects_malformed_rows(rg, row, message):
    (rg / "train.txt").write_text(f"name D E Total\nBall_001 5.1 7.0 12.1\n{row}\n")
    with pytest.raises(ValueError, match=f"train.txt, {message}: expected a name and 3 numbers"):
        load_aqa_features(rg, "Ball", "train")


def test_load_rejects_features_that_are_not_clip_sequences(rg):
    np.save(rg / "swintx_avg_fps25_clip32" / "Ball_001.npy", np.zeros(1024))
    with pytest.raises(ValueError, match=r"Ball_001.npy holds an array of shape \(1024,\)"):
        load_aqa_features(rg, "Ball", "train")
