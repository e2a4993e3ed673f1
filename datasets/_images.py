"""Loaders for two public image sets in their published file layouts: Fashion-MNIST and CamVid.

Nothing is downloaded: the loaders read a directory the user already has and name the file
that is missing or malformed.
"""

# SPDX-License-Identifier: BSD-3-Clause

import gzip
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import StrOptions, validate_params

__all__ = ["load_camvid", "load_fashion_mnist"]

# The idx format: a magic number whose third byte is the element type (8 = unsigned byte) and
# whose fourth is the number of dimensions, then one big-endian int32 per dimension.
_IDX_UBYTE = 8
_FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
)  # fmt: skip
CAMVID_CLASSES = (
    "sky", "building", "pole", "road", "pavement", "tree",
    "sign/symbol", "fence", "car", "pedestrian", "bicyclist",
)  # fmt: skip
CAMVID_VOID = 11


@validate_params(
    {"directory": [str, Path], "split": [StrOptions({"train", "test"})]},
    prefer_skip_nested_validation=True,
)
def load_fashion_mnist(directory, split="train"):
    """Load Fashion-MNIST from its published gzipped idx files.

    Fashion-MNIST [1]_ has 60,000 training and 10,000 test grey 28 x 28 images of ten clothing
    classes, 6,000 and 1,000 per class. Nothing is downloaded: ``directory`` must hold the
    four files as published (``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
    ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``).

    Parameters
    ----------
    directory : str or path-like
        The folder of the four files.

    split : {"train", "test"}, default="train"
        Which split to read.

    Returns
    -------
    images : ndarray of shape (n_images, 28, 28), dtype uint8
        Grey images, 0 for the background.

    labels : ndarray of shape (n_images,), dtype int64
        Classes 0-9, named by ``FASHION_MNIST_CLASSES`` in this module.

    Raises
    ------
    ValueError
        If a file is missing, is not an unsigned-byte idx file, or the images and labels differ
        in number.

    References
    ----------
    .. [1] H. Xiao, K. Rasul and R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset for
       Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017.

    Examples
    --------
    >>> from ncestimators.datasets import load_fashion_mnist
    >>> images, labels = load_fashion_mnist("fashion-mnist", split="test")  # doctest: +SKIP
    >>> images.shape, labels.shape  # doctest: +SKIP
    ((10000, 28, 28), (10000,))
    """
    images_name, labels_name = _FASHION_MNIST_FILES[split]
    images = _read_idx(Path(directory) / images_name, n_dims=3)
    labels = _read_idx(Path(directory) / labels_name, n_dims=1).astype(np.int64)
    if len(images) != len(labels):
        raise ValueError(
            f"{images_name} holds {len(images)} images but {labels_name} {len(labels)} labels "
            f"in {str(directory)!r}; the files come from different releases."
        )
    return images, labels


def _read_idx(path, n_dims):
    """The array of a gzipped idx file of unsigned bytes with ``n_dims`` dimensions."""
    if not path.is_file():
        raise ValueError(
            f"{str(path)!r} does not exist. Fashion-MNIST is not downloaded by ncestimators: "
            "put the four published .gz files in one folder and pass that folder."
        )
    try:
        with gzip.open(path) as file:
            data = file.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"{str(path)!r} is not a readable gzip file ({error}).") from error
    header = 4 + 4 * n_dims
    if len(data) < header or data[:3] != bytes([0, 0, _IDX_UBYTE]) or data[3] != n_dims:
        raise ValueError(
            f"{str(path)!r} is not an idx file of unsigned bytes with {n_dims} dimensions."
        )
    shape = tuple(int(size) for size in np.frombuffer(data[4:header], dtype=">i4"))
    if len(data) - header != np.prod(shape):
        raise ValueError(f"{str(path)!r} is truncated: its header announces shape {shape}.")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


@validate_params(
    {"directory": [str, Path], "split": [StrOptions({"train", "val", "test"})]},
    prefer_skip_nested_validation=True,
)
def load_camvid(directory, split="train"):
    """Load CamVid road scenes and their label maps in the SegNet tutorial's layout.

    CamVid [1]_ labels street scenes in 11 classes (``CAMVID_CLASSES`` in this module: sky,
    building, pole, road, pavement, tree, sign/symbol, fence, car, pedestrian, bicyclist) and
    void. The layout is the SegNet tutorial's copy: ``<split>/`` holds RGB PNG images and
    ``<split>annot/`` label PNGs of the same names, with 11 for void. Nothing is downloaded.

    Parameters
    ----------
    directory : str or path-like
        The folder holding ``<split>/`` and ``<split>annot/``.

    split : {"train", "val", "test"}, default="train"
        Which split to read.

    Returns
    -------
    images : ndarray of shape (n_images, H, W, 3), dtype uint8
        The images, in the sorted order of their file names.

    labels : ndarray of shape (n_images, H, W), dtype int64
        Classes 0-10, and ``-1`` where the map says void (11): the library's default
        ``ignore_index``.

    Raises
    ------
    ValueError
        If a folder is missing or empty, an image has no label map, or the sizes differ.

    References
    ----------
    .. [1] G. J. Brostow, J. Fauqueur and R. Cipolla, "Semantic object classes in video: A
       high-definition ground truth database", Pattern Recognition Letters 30(2), 2009.

    Examples
    --------
    >>> from ncestimators.datasets import load_camvid
    >>> images, labels = load_camvid("CamVid", split="val")  # doctest: +SKIP
    >>> images.shape, labels.shape  # doctest: +SKIP
    ((101, 180, 240, 3), (101, 180, 240))
    """
    from PIL import Image

    image_dir, label_dir = Path(directory) / split, Path(directory) / f"{split}annot"
    files = sorted(image_dir.glob("*.png")) if image_dir.is_dir() else []
    if not files:
        raise ValueError(f"{str(image_dir)!r} holds no PNG images; pass the CamVid folder.")
    images, labels = [], []
    for file in files:
        label_file = label_dir / file.name
        if not label_file.is_file():
            raise ValueError(f"{str(file)!r} has no label map {str(label_file)!r}.")
        image = np.asarray(Image.open(file).convert("RGB"))
        label = np.asarray(Image.open(label_file)).astype(np.int64)
        if label.shape != image.shape[:2] or (images and image.shape != images[0].shape):
            raise ValueError(
                f"{file.name}: image {image.shape[:2]} and label map {label.shape} must have "
                "the size of the other images of the split."
            )
        label[label == CAMVID_VOID] = -1
        images.append(image)
        labels.append(label)
    return np.stack(images), np.stack(labels)
