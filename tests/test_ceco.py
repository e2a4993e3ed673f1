"""CeCoSegmenter: sklearn contract, dense/point-cloud input, memory, losses, center collapse."""

import tracemalloc

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import GridSearchCV
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight
from sklearn.utils.estimator_checks import check_classifiers_classes
from torch.nn import functional as F

from ncestimators import CeCoSegmenter
from ncestimators._ceco._losses import (
    CeCoLoss,
    center_collapse_loss,
    dice_loss,
    lovasz_softmax_loss,
)
from ncestimators._data import IGNORED
from ncestimators._inputs import check_positions
from ncestimators.datasets import make_dense_segmentation
from ncestimators.geometry import simplex_etf
from ncestimators.metrics import iou_per_class


def _small(**params):
    """A segmenter that fits the tiny test data in well under a second."""
    defaults = {
        "hidden_dims": (16,),
        "embedding_dim": 8,
        "max_epochs": 8,
        "batch_size": 4,
        "lr": 0.01,
        "device": "cpu",
        "random_state": 0,
    }
    return CeCoSegmenter(**{**defaults, **params})


@pytest.fixture(scope="module")
def maps():
    """Train and test feature maps (n, 8, 8, 6) with 4 long-tailed classes."""
    X, y = make_dense_segmentation(
        n_images=24, height=8, width=8, n_features=6, n_classes=4, imbalance=8, random_state=0
    )
    return X[:16], y[:16], X[16:], y[16:]


@pytest.fixture(scope="module")
def fitted(maps):
    X, y, _, _ = maps
    return _small().fit(X, y)


def test_checks_pass_without_ignore_index():
    estimator = _small(max_epochs=20, batch_size=32, ignore_index=None)
    check_classifiers_classes(type(estimator).__name__, estimator)


# ---------------------------------------------------------------- input layouts and outputs


def test_feature_maps_give_maps_of_labels_and_probabilities(fitted, maps):
    _, _, X_test, _ = maps
    labels = fitted.predict(X_test)
    proba = fitted.predict_proba(X_test)
    assert labels.shape == (8, 8, 8)
    assert proba.shape == (8, 8, 8, 4)
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(fitted.classes_[proba.argmax(axis=-1)], labels)
    assert fitted.embed(X_test).shape == (8, 8, 8, fitted.embedding_dim_)


def test_point_arrays_rows_and_maps_are_the_same_model(fitted, maps):
    _, _, X_test, _ = maps
    expected = fitted.predict(X_test)
    np.testing.assert_array_equal(fitted.predict(X_test.reshape(8, 64, 6)), expected.reshape(8, 64))
    np.testing.assert_array_equal(fitted.predict(X_test.reshape(-1, 6)), expected.reshape(-1))


def test_point_clouds_of_different_sizes(maps):
    X, y, _, _ = maps
    sizes = np.arange(20, 36)
    clouds = [image.reshape(-1, 6)[:size] for image, size in zip(X, sizes, strict=True)]
    labels = [image.reshape(-1)[:size] for image, size in zip(y, sizes, strict=True)]
    segmenter = _small().fit(clouds, labels)
    predicted = segmenter.predict(clouds)
    proba = segmenter.predict_proba(clouds)
    assert [len(cloud) for cloud in predicted] == sizes.tolist()
    assert [cloud.shape for cloud in proba] == [(size, 4) for size in sizes]
    # Padding to the largest cloud of a batch does not change any point's prediction.
    alone = [segmenter.predict([cloud])[0] for cloud in clouds[:3]]
    for single, batched in zip(alone, predicted[:3], strict=False):
        np.testing.assert_array_equal(single, batched)
    assert 0 <= segmenter.score(clouds, labels) <= 1


def test_float64_and_integer_maps_are_accepted(fitted, maps):
    _, _, X_test, _ = maps
    expected = fitted.predict(X_test)
    np.testing.assert_array_equal(fitted.predict(X_test.astype(np.float64)), expected)
    assert fitted.predict(np.rint(X_test).astype(np.int32)).shape == expected.shape


def test_ignore_index_positions_are_neither_classes_nor_scored(maps):
    X, y, X_test, y_test = maps
    y_255 = np.where(np.arange(y.size).reshape(y.shape) % 7 == 0, 255, y)
    segmenter = _small(ignore_index=255).fit(X, y_255)
    np.testing.assert_array_equal(segmenter.classes_, [0, 1, 2, 3])
    assert segmenter.class_counts_.sum() == np.count_nonzero(y_255 != 255)
    # Ignored positions do not count: scoring only the labelled ones gives the same mIoU.
    y_test_255 = y_test.copy()
    predicted = segmenter.predict(X_test)
    y_test_255[predicted != y_test] = 255
    assert segmenter.score(X_test, y_test_255) == 1.0


def test_grid_search_over_feature_maps_scores_by_miou(maps):
    X, y, _, _ = maps
    search = GridSearchCV(_small(max_epochs=2), {"lambda_center": [0.0, 0.4]}, cv=2).fit(X, y)
    assert 0 <= search.best_score_ <= 1
    assert search.best_estimator_.predict(X[:1]).shape == (1, 8, 8)


# ---------------------------------------------------------------- scores and the report


def test_score_is_dataset_level_miou_and_report_matches(fitted, maps):
    _, _, X_test, y_test = maps
    report = fitted.iou_report(X_test, y_test)
    codes = np.searchsorted(fitted.classes_, fitted.predict(X_test))
    expected = iou_per_class(y_test.ravel(), codes.ravel(), 4, ignore_index=-1)
    np.testing.assert_allclose(report["iou"], expected)
    assert fitted.score(X_test, y_test) == pytest.approx(np.nanmean(expected))
    assert list(report.columns) == ["class", "iou", "train_frequency", "group"]
    assert report["train_frequency"].sum() == pytest.approx(1.0)


def test_report_groups_by_training_frequency(fitted, maps):
    _, _, X_test, y_test = maps
    report = fitted.iou_report(X_test, y_test)
    ranked = report.sort_values("train_frequency", ascending=False)["group"].tolist()
    assert ranked == ["head", "head", "common", "tail"]
    frequency = report["train_frequency"].to_numpy()
    low, high = np.sort(frequency)[1], np.sort(frequency)[3]
    groups = fitted.iou_report(X_test, y_test, thresholds=(low, high))["group"].to_numpy()
    np.testing.assert_array_equal(
        groups, np.where(frequency >= high, "head", np.where(frequency < low, "tail", "common"))
    )


@pytest.mark.parametrize("thresholds", [(0.5, 0.1), (-0.1, 0.5), (0.1,), "ab"])
def test_report_rejects_bad_thresholds(fitted, maps, thresholds):
    _, _, X_test, y_test = maps
    with pytest.raises(ValueError, match="thresholds must be two training frequencies"):
        fitted.iou_report(X_test, y_test, thresholds=thresholds)


# ---------------------------------------------------------------- errors


def test_label_shape_must_match_the_feature_map(maps):
    X, y, _, _ = maps
    with pytest.raises(ValueError, match=r"y must have the shape of X without its feature axis"):
        _small().fit(X, y[:, :4])
    with pytest.raises(ValueError, match=r"shape \(20,\)"):
        _small().fit([X[0].reshape(-1, 6)[:20]], [y[0].reshape(-1)[:21]])
    with pytest.raises(ValueError, match="must be a list of 1 label arrays"):
        _small().fit([X[0].reshape(-1, 6)], y[0].reshape(-1))


def test_unknown_labels_at_score_time(fitted, maps):
    _, _, X_test, y_test = maps
    y_bad = y_test.copy()
    y_bad[0, 0, 0] = 7
    with pytest.raises(ValueError, match=r"labels \[7\] that are neither classes seen in fit"):
        fitted.score(X_test, y_bad)
    with pytest.raises(ValueError, match="neither classes seen in fit"):
        fitted.iou_report(X_test, y_bad)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_features_are_rejected(fitted, maps, bad):
    X, y, X_test, _ = maps
    X_bad = X.copy()
    X_bad[3, 2, 1, 0] = bad
    with pytest.raises(ValueError, match="first at index 3"):
        _small().fit(X_bad, y)
    with pytest.raises(ValueError, match="Point cloud 1 contains NaN or infinity"):
        fitted.predict([X_test[0].reshape(-1, 6), X_bad[3].reshape(-1, 6)])


def test_other_input_errors(fitted, maps):
    X, y, X_test, _ = maps
    with pytest.raises(ValueError, match="has dtype complex"):
        _small().fit(X.astype(np.complex64), y)
    with pytest.raises(ValueError, match="is empty"):
        _small().fit(X[:, :0], y[:, :0])
    with pytest.raises(ValueError, match="same number of features"):
        fitted.predict([X_test[0].reshape(-1, 6), X_test[1].reshape(-1, 6)[:, :5]])
    with pytest.raises(ValueError, match="requires y to be passed"):
        _small().fit(X, None)


def test_labels_that_are_all_ignored_or_of_one_class(maps):
    X, y, _, _ = maps
    with pytest.raises(ValueError, match="Every label in y equals ignore_index=-1"):
        _small().fit(X, np.full_like(y, -1))
    with pytest.raises(ValueError, match="at least 2 classes.*pass ignore_index=None"):
        _small().fit(X, np.where(y == 0, 0, -1))


def test_embedding_too_small_for_the_etf(maps):
    X, y, _, _ = maps
    with pytest.raises(ValueError, match="needs embedding_dim >= n_classes - 1 = 3"):
        _small(embedding_dim=2).fit(X, y)
    # Without any ETF the small embedding is fine.
    _small(embedding_dim=2, center_classifier="learned", max_epochs=1).fit(X, y)


def test_failed_fit_leaves_nothing_fitted(maps):
    X, y, X_test, _ = maps
    segmenter = _small(embedding_dim=2)
    with pytest.raises(ValueError):
        segmenter.fit(X, y)
    with pytest.raises(ValueError, match="not fitted"):
        segmenter.predict(X_test)


# ---------------------------------------------------------------- memory


def test_memmap_features_are_read_in_batches_without_a_copy(tmp_path):
    X, y = make_dense_segmentation(
        n_images=64, height=16, width=16, n_features=128, n_classes=3, random_state=0
    )
    path = tmp_path / "features.npy"
    np.save(path, X)
    X_map = np.load(path, mmap_mode="r")
    segmenter = _small(max_epochs=2, batch_size=4)
    assert check_positions(segmenter, X_map, reset=True).data is X_map
    segmenter.fit(X_map[:8], y[:8])  # first-call imports and caches are not the data's memory

    tracemalloc.start()
    try:
        segmenter.fit(X_map, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A copy of X would take X.nbytes (8 MiB); one batch of 4 images is 1/16 of it (measured
    # peak: 1.6 MiB, labels and codes included).
    assert peak < X_map.nbytes / 2
    np.testing.assert_array_equal(segmenter.predict(X_map), segmenter.predict(X))


# ---------------------------------------------------------------- losses


def _etf_rows(n_classes, dim, seed=0):
    return torch.from_numpy(simplex_etf(n_classes, dim, random_state=seed).T).float()


def test_center_loss_is_minimal_on_exact_etf_centers():
    n_classes, scale = 5, 5.0
    etf = _etf_rows(n_classes, 8)
    target = torch.arange(n_classes).repeat_interleave(3)
    # Spread around the vertices, with class means exactly on them (any positive scale).
    offsets = torch.randn(15, 8, generator=torch.Generator().manual_seed(0))
    offsets -= offsets.reshape(5, 3, 8).mean(dim=1).repeat_interleave(3, dim=0)
    exact = 2.0 * etf[target] + 0.1 * offsets
    loss = center_collapse_loss(exact, target, etf, scale)
    # Own logit s, the others s * (-1 / (K - 1)).
    minimum = np.log1p((n_classes - 1) * np.exp(-scale * n_classes / (n_classes - 1)))
    assert loss.item() == pytest.approx(minimum, rel=1e-5)
    for seed in range(5):
        other = torch.randn(15, 8, generator=torch.Generator().manual_seed(seed + 1))
        assert center_collapse_loss(other, target, etf, scale) > loss


def test_center_loss_only_counts_present_classes_and_is_scale_invariant():
    etf = _etf_rows(6, 8)
    embeddings = torch.randn(40, 8, generator=torch.Generator().manual_seed(0))
    target = torch.tensor([1, 4] * 20)
    loss = center_collapse_loss(embeddings, target, etf, 5.0)
    centers = torch.stack([embeddings[target == k].mean(dim=0) for k in (1, 4)])
    logits = 5.0 * F.normalize(centers, dim=1) @ etf.T
    assert loss.item() == pytest.approx(F.cross_entropy(logits, torch.tensor([1, 4])).item())
    assert center_collapse_loss(3 * embeddings, target, etf, 5.0).item() == pytest.approx(
        loss.item(), rel=1e-5
    )


def _training_outputs(n_positions=12, n_classes=3, dim=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    embeddings = torch.randn(2, n_positions, dim, generator=generator, requires_grad=True)
    logits = embeddings @ torch.randn(dim, n_classes, generator=generator)
    target = torch.randint(n_classes, (2, n_positions), generator=generator)
    return (logits, embeddings, _etf_rows(n_classes, dim)), target


def test_lambda_zero_is_plain_cross_entropy():
    outputs, target = _training_outputs()
    criterion = CeCoLoss(lambda_center=0.0, etf_scale=5.0, aux_loss=None).train()
    expected = F.cross_entropy(outputs[0].reshape(-1, 3), target.reshape(-1))
    assert criterion(outputs, target).item() == pytest.approx(expected.item())
    with_center = CeCoLoss(lambda_center=0.4, etf_scale=5.0, aux_loss=None)
    assert with_center(outputs, target).item() > expected.item()
    # In eval mode (validation loss) the module returns only logits: the pixel loss alone.
    assert with_center.eval()(outputs[0], target).item() == pytest.approx(expected.item())


def test_lambda_zero_makes_the_center_classifier_irrelevant(maps):
    X, y, X_test, _ = maps
    fixed = _small(lambda_center=0.0).fit(X, y).predict_proba(X_test)
    learned = _small(lambda_center=0.0, center_classifier="learned").fit(X, y)
    np.testing.assert_array_equal(learned.predict_proba(X_test), fixed)
    with_center = _small(lambda_center=0.4).fit(X, y).predict_proba(X_test)
    assert not np.allclose(with_center, fixed)


@pytest.mark.parametrize("aux_loss", [None, "dice", "lovasz"])
def test_all_ignored_batch_gives_zero_loss_and_zero_gradients(aux_loss):
    outputs, target = _training_outputs()
    criterion = CeCoLoss(lambda_center=0.4, etf_scale=5.0, aux_loss=aux_loss)
    loss = criterion(outputs, torch.full_like(target, IGNORED))
    loss.backward()
    assert loss.item() == 0.0
    assert torch.equal(outputs[1].grad, torch.zeros_like(outputs[1]))


def test_fit_with_unlabelled_images_has_finite_losses(maps):
    X, y, X_test, _ = maps
    y = y.copy()
    y[::2] = -1  # every other image has no labels: with batch_size=1 whole batches are empty
    segmenter = _small(batch_size=1, max_epochs=2, aux_loss="lovasz").fit(X, y)
    assert np.isfinite(segmenter.history_[:, "train_loss"]).all()
    assert np.isfinite(segmenter.predict_proba(X_test)).all()


def _one_hot(codes, n_classes):
    return F.one_hot(torch.as_tensor(codes), n_classes).double()


labels_and_predictions = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
    )
)


@settings(max_examples=40, deadline=None)
@given(labels_and_predictions)
def test_losses_equal_their_set_measures_on_hard_predictions(pair):
    target, predicted = (np.array(values) for values in pair)
    probabilities = _one_hot(predicted, 4)
    present = np.unique(target)
    intersection = np.array([np.sum((target == c) & (predicted == c)) for c in present])
    union = np.array([np.sum((target == c) | (predicted == c)) for c in present])
    sizes = np.array([np.sum(target == c) + np.sum(predicted == c) for c in present])
    # The Lovász extension is tight at the vertices: it is the Jaccard loss there.
    lovasz = lovasz_softmax_loss(probabilities, torch.as_tensor(target)).item()
    assert lovasz == pytest.approx(np.mean(1 - intersection / union))
    dice = dice_loss(probabilities, torch.as_tensor(target)).item()
    assert dice == pytest.approx(1 - np.mean(2 * intersection / sizes))


# ---------------------------------------------------------------- sample and class weights


def test_weighted_loss_is_the_weighted_mean_over_positions():
    outputs, target = _training_outputs()
    class_weight = torch.tensor([1.0, 2.0, 0.5])
    image_weights = torch.tensor([1.0, 3.0])
    criterion = CeCoLoss(lambda_center=0.4, etf_scale=5.0, aux_loss=None, class_weight=class_weight)
    loss = criterion(outputs, target, sample_weight=image_weights)
    # Each position carries its image's weight, times its class's weight in the cross-entropy.
    logits, embeddings, etf = (part.reshape(-1, part.shape[-1]) for part in outputs)
    labels, weights = target.reshape(-1), image_weights.repeat_interleave(12)
    pixel = weights * class_weight[labels]
    cross_entropy = F.cross_entropy(logits, labels, reduction="none")
    expected = (pixel * cross_entropy).sum() / pixel.sum()
    present = labels.unique()
    centers = torch.stack(
        [
            weights[labels == k] @ embeddings[labels == k] / weights[labels == k].sum()
            for k in present
        ]
    )
    center_logits = 5.0 * F.normalize(centers, dim=1) @ etf.T
    expected += 0.4 * F.cross_entropy(center_logits, present)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


@settings(max_examples=30, deadline=None)
@given(
    aux_loss=st.sampled_from([None, "dice", "lovasz"]),
    weights=st.lists(st.sampled_from([0.0, 0.5, 1.0, 3.0]), min_size=2, max_size=2),
    scale=st.floats(0.01, 100),
    seed=st.integers(0, 2**16),
)
def test_scaled_weights_keep_the_loss_and_zero_weights_remove_images(
    aux_loss, weights, scale, seed
):
    (logits, embeddings, etf), target = _training_outputs(seed=seed)
    weights = torch.tensor(weights)
    criterion = CeCoLoss(lambda_center=0.4, etf_scale=5.0, aux_loss=aux_loss)
    loss = criterion((logits, embeddings, etf), target, sample_weight=weights)
    scaled = criterion((logits, embeddings, etf), target, sample_weight=scale * weights)
    assert scaled.item() == pytest.approx(loss.item(), rel=1e-4, abs=1e-6)
    keep = weights > 0
    kept = criterion((logits[keep], embeddings[keep], etf), target[keep], weights[keep])
    assert kept.item() == pytest.approx(loss.item(), rel=1e-5, abs=1e-7)


@settings(max_examples=40, deadline=None)
@given(
    labels_and_predictions,
    st.lists(st.integers(1, 3), min_size=40, max_size=40),
    st.integers(0, 2**16),
)
def test_weighted_dice_and_lovasz_count_positions_like_repeated_ones(pair, counts, seed):
    target = torch.as_tensor(pair[0])
    counts = torch.as_tensor(counts[: len(target)])
    probabilities = torch.rand(len(target), 4, generator=torch.Generator().manual_seed(seed))
    probabilities = (probabilities / probabilities.sum(dim=1, keepdim=True)).double()
    for loss in (dice_loss, lovasz_softmax_loss):
        weighted = loss(probabilities, target, counts.double())
        repeated = loss(
            probabilities.repeat_interleave(counts, 0), target.repeat_interleave(counts)
        )
        assert weighted.item() == pytest.approx(repeated.item(), rel=1e-9, abs=1e-12)


def test_integer_weights_act_like_repeated_images(maps):
    # One batch holds all the images, so only the order of summation differs.
    X, y, _, _ = maps
    weights = np.random.default_rng(0).integers(0, 4, len(X))
    weighted = _small(batch_size=64).fit(X, y, sample_weight=weights)
    repeated = _small(batch_size=64).fit(np.repeat(X, weights, 0), np.repeat(y, weights, 0))
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-4, atol=1e-5
    )
    unweighted = _small(batch_size=64).fit(X, y)
    assert np.abs(weighted.predict_proba(X) - unweighted.predict_proba(X)).max() > 0.01


def test_zero_weights_make_the_fit_ignore_mislabelled_images(maps):
    # Half the training images with every label shifted to the next class; full batches.
    X, y, X_test, y_test = maps
    mislabelled = np.arange(len(X)) < len(X) // 2
    noisy = y.copy()
    noisy[mislabelled] = (y[mislabelled] + 1) % 4
    params = {"max_epochs": 30, "batch_size": 32, "lr": 0.02}
    ignored = _small(**params).fit(X, noisy, sample_weight=(~mislabelled).astype(float))
    removed = _small(**params).fit(X[~mislabelled], noisy[~mislabelled])
    trusted = _small(**params).fit(X, noisy)
    np.testing.assert_allclose(
        ignored.predict_proba(X_test), removed.predict_proba(X_test), rtol=1e-4, atol=1e-5
    )
    assert ignored.score(X_test, y_test) > trusted.score(X_test, y_test) + 0.05


def test_balanced_class_weight_counts_labelled_positions(maps):
    X, y, _, _ = maps
    partly_labelled = y.copy()
    partly_labelled[:, 0] = -1
    segmenter = _small(max_epochs=1, class_weight="balanced").fit(X, partly_labelled)
    labelled = partly_labelled[partly_labelled != -1]
    np.testing.assert_allclose(
        segmenter.class_weight_, compute_class_weight("balanced", classes=np.arange(4), y=labelled)
    )
    # Rows of (n, n_features) input are images of one position: there the class weights are
    # sample weights.
    rows, labels = X.reshape(-1, X.shape[-1]), y.reshape(-1)
    params = {"lambda_center": 0.0, "batch_size": 256, "max_epochs": 3}
    by_class = _small(**params, class_weight="balanced").fit(rows, labels)
    by_sample = _small(**params).fit(
        rows, labels, sample_weight=compute_sample_weight("balanced", labels)
    )
    np.testing.assert_allclose(by_class.predict_proba(rows), by_sample.predict_proba(rows))
    plain = _small(**params).fit(rows, labels)
    assert np.abs(by_class.predict_proba(rows) - plain.predict_proba(rows)).max() > 0.1


def test_class_weight_keys_must_be_classes(maps):
    X, y, _, _ = maps
    segmenter = _small(max_epochs=1, class_weight={3: 4.0}).fit(X, y)
    np.testing.assert_array_equal(segmenter.class_weight_, [1.0, 1.0, 1.0, 4.0])
    with pytest.raises(ValueError, match=r"class_weight has keys \[-1\] that are not classes"):
        segmenter.set_params(class_weight={-1: 0.0}).fit(X, y)


# ---------------------------------------------------------------- the method


def test_fixed_classifiers_stay_fixed_and_learned_ones_move(maps):
    X, y, _, _ = maps
    head = _small(classifier="fixed").fit(X, y)._head
    etf = head.center_classifier.weight.double()
    np.testing.assert_allclose(etf @ etf.T, (np.eye(4) * 4 - 1) / 3, atol=1e-6)
    assert torch.equal(head.classifier.weight, head.center_classifier.weight)
    assert not list(head.classifier.parameters())
    assert not list(head.center_classifier.parameters())

    # The learned center classifier starts from unit rows and is trained away from them.
    learned = _small(center_classifier="learned").fit(X, y)._head.center_classifier
    assert learned.weight.requires_grad
    assert not torch.allclose(learned.weight.norm(dim=1), torch.ones(4), atol=1e-3)


def test_center_loss_turns_class_centers_towards_their_etf_vertices():
    """Known answer: with CeCo each class center points at its own vertex of the fixed ETF."""
    X, y = make_dense_segmentation(
        n_images=30, height=12, width=12, n_features=16, n_classes=6, imbalance=20, random_state=1
    )
    labels = y.reshape(-1)
    cosines = {}
    for lambda_center in (0.0, 1.0):
        segmenter = _small(lambda_center=lambda_center, max_epochs=15, batch_size=6).fit(X, y)
        embeddings = segmenter.embed(X).reshape(-1, segmenter.embedding_dim_)
        centers = np.stack([embeddings[labels == k].mean(axis=0) for k in range(6)])
        centers /= np.linalg.norm(centers, axis=1, keepdims=True)
        etf = segmenter._head.center_classifier.weight.numpy()
        cosines[lambda_center] = np.sum(centers * etf, axis=1)
    # Observed: min 0.77 with CeCo; mean |cos| 0.31 without (the ETF is then unrelated).
    assert cosines[1.0].min() > 0.7
    assert np.abs(cosines[0.0]).mean() < 0.5
