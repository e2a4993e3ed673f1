"""Loaders of Fashion-MNIST and CamVid: files the tests write, and the real copies in ../shared."""

# SPDX-License-Identifier: BSD-3-Clause

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ncestimators.datasets import load_camvid, load_fashion_mnist

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    with gzip.open(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


def _write_fashion_mnist(directory, images, labels, split="test"):
    prefix = "t10k" if split == "test" else "train"
    _write_idx(directory / f"{prefix}-images-idx3-ubyte.gz", images)
    _write_idx(directory / f"{prefix}-labels-idx1-ubyte.gz", labels)


def test_fashion_mnist_reads_back_what_was_written(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 7).astype(np.uint8)
    _write_fashion_mnist(tmp_path, images, labels)
    read_images, read_labels = load_fashion_mnist(tmp_path, split="test")
    np.testing.assert_array_equal(read_images, images)
    np.testing.assert_array_equal(read_labels, labels)
    assert read_labels.dtype == np.int64


@pytest.mark.parametrize(
    "damage, message",
    [
        ("missing", "does not exist"),
        ("not gzip", "not a readable gzip"),
        ("wrong dims", "3 dimensions"),
        ("truncated", "truncated"),
        ("count", "holds 7 images but .* 6 labels"),
    ],
)
def test_fashion_mnist_names_the_bad_file(tmp_path, damage, message):
    images = np.zeros((7, 28, 28), np.uint8)
    _write_fashion_mnist(tmp_path, images, np.zeros(6 if damage == "count" else 7, np.uint8))
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    if damage == "missing":
        path.unlink()
    elif damage == "not gzip":
        path.write_bytes(b"plain bytes")
    elif damage == "wrong dims":
        _write_idx(path, images.reshape(7, -1))
    elif damage == "truncated":
        data = gzip.decompress(path.read_bytes())
        path.write_bytes(gzip.compress(data[:-5]))
    with pytest.raises(ValueError, match=message):
        load_fashion_mnist(tmp_path, split="test")


def _write_camvid(directory, images, labels, split="val"):
    (directory / split).mkdir()
    (directory / f"{split}annot").mkdir()
    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        Image.fromarray(image).save(directory / split / f"{index:03d}.png")
        label_path = directory / f"{split}annot" / f"{index:03d}.png"
        Image.fromarray(label.astype(np.uint8)).save(label_path)


def test_camvid_reads_images_and_maps_void_to_ignore_index(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 6, 8, 3), dtype=np.uint8)
    labels = rng.integers(0, 12, (3, 6, 8))
    _write_camvid(tmp_path, images, labels)
    read_images, read_labels = load_camvid(tmp_path, split="val")
    np.testing.assert_array_equal(read_images, images)
    np.testing.assert_array_equal(read_labels, np.where(labels == 11, -1, labels))


def test_camvid_errors_say_what_is_missing(tmp_path):
    with pytest.raises(ValueError, match="holds no PNG images"):
        load_camvid(tmp_path, split="train")
    images = np.zeros((2, 6, 8, 3), np.uint8)
    _write_camvid(tmp_path, images, np.zeros((2, 6, 8)))
    (tmp_path / "valannot" / "001.png").unlink()
    with pytest.raises(ValueError, match="has no label map"):
        load_camvid(tmp_path, split="val")
    Image.fromarray(np.zeros((5, 8), np.uint8)).save(tmp_path / "valannot" / "001.png")
    with pytest.raises(ValueError, match="must have the size"):
        load_camvid(tmp_path, split="val")


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"{SHARED_DATA} is absent (../shared/data)")
def test_real_copies_have_their_published_sizes():
    images, labels = load_fashion_mnist(SHARED_DATA / "fashion-mnist", split="test")
    assert images.shape == (10_000, 28, 28)
    np.testing.assert_array_equal(np.bincount(labels), np.full(10, 1000))
    images, labels = load_camvid(SHARED_DATA / "camvid", split="val")
    assert images.shape == (101, 180, 240, 3) and labels.shape == (101, 180, 240)
    assert set(np.unique(labels)) == {-1, *range(11)}
