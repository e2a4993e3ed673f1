"""Reading images: arrays in either channel layout, PIL images and image files."""

# SPDX-License-Identifier: BSD-3-Clause

import os

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

__all__ = []

_FLOAT_TOLERANCE = 1e-3  # float images above 1 + this are taken to be in 0-255, not [0, 1]


def check_image_array(X, name="X", unit="image"):
    """Validate an image array; return ``(X, channels_last)`` without copying it.

    ``(n, H, W, C)`` (channels last) and ``(n, C, H, W)`` arrays with 1 or 3 channels, and
    ``(n, H, W)`` grey images, as uint8 or as floats in [0, 1]; ``np.memmap`` stays one. Torch
    tensors and nested lists are converted, arrays of the other byte order copied to this
    machine's. ``unit`` names what the first axis holds in messages (images, or frames).
    """
    X = _as_array(X, name)
    if X.ndim == 3:
        X = X[..., None]
    if X.ndim == 4 and X.shape[0] == 0:
        raise ValueError(f"{name} of shape {X.shape} is empty; pass at least one {unit}.")
    if X.ndim != 4 or 0 in X.shape:
        raise ValueError(
            f"{name} of shape {X.shape} is not a batch of images: pass (n, H, W, C) or "
            "(n, C, H, W) arrays with C = 1 or 3, (n, H, W) grey images, PIL images or paths."
        )
    if X.shape[3] in (1, 3):
        channels_last = True
    elif X.shape[1] in (1, 3):
        channels_last = False
    else:
        raise ValueError(
            f"{name} of shape {X.shape} has neither 1 nor 3 channels on its last or second axis."
        )
    if not X.dtype.isnative:  # torch reads native byte order only
        X = X.astype(X.dtype.newbyteorder("="))
    if X.dtype == np.uint8:
        return X, channels_last
    if X.dtype.kind != "f":
        raise ValueError(
            f"{name} has dtype {X.dtype}; images must be uint8 (0-255) or floats in [0, 1]."
        )
    low, high = X.min(), X.max()
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"{name} contains NaN or infinity; images must be finite.")
    if low < -_FLOAT_TOLERANCE or high > 1 + _FLOAT_TOLERANCE:
        raise ValueError(
            f"Float images must lie in [0, 1], but {name} spans [{low:.3g}, {high:.3g}]; divide "
            "by 255 (or by the maximum), or pass uint8 images."
        )
    return X, channels_last


def _as_array(X, name):
    """X as a NumPy array: tensors detached and moved to the CPU, lists stacked."""
    if isinstance(X, np.ndarray):
        return X
    if torch.is_tensor(X):
        X = X.detach().cpu()
        return (X.float() if X.dtype == torch.bfloat16 else X).numpy()
    try:
        return np.asarray(X)
    except (ValueError, TypeError) as error:  # ragged lists, lists of images and paths
        raise ValueError(
            f"{name} cannot be read as one array of images ({error}). Pass an (n, H, W, C) or "
            "(n, C, H, W) array of images of one size, or a list of PIL images or paths."
        ) from error


def is_image_collection(X):
    """Whether X is a list, tuple or Series of PIL images or file paths."""
    if not isinstance(X, list | tuple | pd.Series) or len(X) == 0:
        return False
    return all(_is_path(item) or _is_pil(item) for item in X)


def decode_images(items, size=None):
    """PIL images or image files as one ``(n, H, W, 3)`` uint8 array.

    Images of different sizes are resized to ``size`` (height, width) when it is given (the
    preprocessing's crop); otherwise they must all have the same size.
    """
    arrays = [decode_image(item, index) for index, item in enumerate(items)]
    shapes = {array.shape for array in arrays}
    if len(shapes) == 1:
        return np.stack(arrays)
    if size is None:
        raise ValueError(
            f"The images have {len(shapes)} different sizes (e.g. {sorted(shapes)[:3]}); resize "
            "them to one size, or use weights whose preprocessing resizes them."
        )
    return np.stack([resize_to(array, size) for array in arrays])


def decode_image(item, index=0):
    """A PIL image or an image file as an ``(H, W, 3)`` uint8 array."""
    from PIL import Image

    if not _is_path(item):
        image = np.array(item.convert("RGB"))
    elif not os.path.isfile(item):
        raise ValueError(f"Image {index}: the file {str(item)!r} does not exist.")
    else:
        try:
            with Image.open(item) as opened:
                image = np.array(opened.convert("RGB"))
        except (OSError, Image.DecompressionBombError) as error:
            raise ValueError(
                f"Image {index}: the file {str(item)!r} is not an image PIL can read ({error})."
            ) from error
    if 0 in image.shape:
        raise ValueError(
            f"Image {index} is empty: it has {image.shape[1]} x {image.shape[0]} pixels."
        )
    return image


def resize_to(image, size):
    """An ``(H, W, 3)`` uint8 image resized (shorter side) and centre-cropped to ``size``."""
    tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()
    height, width = tensor.shape[-2:]
    scale = max(size[0] / height, size[1] / width)
    resized = F.interpolate(
        tensor, size=(max(size[0], round(height * scale)), max(size[1], round(width * scale))),
        mode="bilinear", antialias=True, align_corners=False,
    )  # fmt: skip
    top = (resized.shape[-2] - size[0]) // 2
    left = (resized.shape[-1] - size[1]) // 2
    cropped = resized[0, :, top : top + size[0], left : left + size[1]]
    return cropped.round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()


def _is_path(item):
    return isinstance(item, str | os.PathLike)


def _is_pil(item):
    return type(item).__module__.startswith("PIL.")
