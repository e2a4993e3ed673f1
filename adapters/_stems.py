"""Stems: a backbone with its preprocessing, from raw images, clips or videos to features.

The extractors run a stem in inference mode; ``FineTune`` trains one in front of a head.
"""

# SPDX-License-Identifier: BSD-3-Clause

import torch
from torch import nn
from torch.nn import functional as F

from ncestimators._model import StemModule

from ._backbones import Preprocess

__all__ = []

POOLS = ("avg", "max")
# Errors of the device, not of the input (torch.AcceleratorError is new in torch 2.8).
_DEVICE_ERRORS = tuple(
    error
    for error in (torch.cuda.OutOfMemoryError, getattr(torch, "AcceleratorError", None))
    if error is not None
)


class ImageStem(StemModule):
    """Raw image batches (uint8 or [0, 1] floats, NHWC or NCHW) to backbone features.

    ``output`` is "pooled" for ``(B, D)`` features (maps are pooled with ``pool``, token
    sequences averaged), "map" for the ``(B, D, h, w)`` feature map, or "grid" for its
    ``(B, h * w, D)`` per-position features.
    ``augment`` (applied in training only, to [0, 1] images before normalisation) makes the
    stem random; it moves with the stem but is no part of its state or parameters (see
    :class:`_Detached`). ``frozen`` lists the parameter-name prefixes of the backbone that do
    not train, whose layers also stay in eval mode (batch statistics do not move).
    """

    def __init__(
        self, backbone, preprocessing, *, channels_last, output="pooled", pool="avg",
        augment=None, frozen=(),
    ):  # fmt: skip
        super().__init__()
        self.preprocess = Preprocess(preprocessing)
        self.backbone = backbone
        self.channels_last = channels_last
        self.output = output
        self.pool = pool
        self.augment = None if augment is None else _Detached(augment)
        self.frozen = tuple(frozen)
        for name, parameter in backbone.named_parameters():
            if _is_frozen(name, self.frozen):
                parameter.requires_grad_(False)

    @property
    def augments(self):
        return self.augment is not None

    def forward(self, images, resized=False):
        """Features of raw images; ``resized`` ones were already resized and cropped."""
        if self.channels_last:
            images = images.movedim(-1, 1)
        if not resized:
            images = self.preprocess.resize_and_crop(images)
        if self.training and self.augment is not None:
            images = self.augment(images)
        maps = run_backbone(self.backbone, self.preprocess.normalize(images))
        if self.output == "grid":
            return _as_map(maps).flatten(2).transpose(1, 2)
        if self.output == "map":
            return _as_map(maps)
        return pool_features(maps, self.pool)

    def train(self, mode=True):
        super().train(mode)
        for name, module in self.backbone.named_modules():
            if name and _is_frozen(name, self.frozen):
                module.eval()
        return self


class _Detached(nn.Module):
    """A module that runs, moves and switches mode with its owner, outside the owner's state.

    An augmentation shapes the training, not the network: the network's state (what a warm
    start carries over and ``save_params`` writes) is the same whatever augmentation is set,
    and an augmentation's own tensors never train.
    """

    def __init__(self, module):
        super().__init__()
        self.held = (module,)  # in a tuple: not registered as a submodule

    def forward(self, inputs):
        return self.held[0](inputs)

    def _apply(self, fn, recurse=True):
        self.held[0]._apply(fn)
        return super()._apply(fn, recurse)

    def train(self, mode=True):
        self.held[0].train(mode)
        return super().train(mode)

    def extra_repr(self):
        return repr(self.held[0])


class ClipStem(ImageStem):
    """Clip batches ``(B, L, H, W, C)`` to ``(B, D)`` features of a video backbone."""

    def __init__(self, backbone, preprocessing, *, pool="avg", augment=None, frozen=()):
        super().__init__(
            backbone, preprocessing, channels_last=False, pool=pool, augment=augment,
            frozen=frozen,
        )  # fmt: skip

    def forward(self, clips, resized=False):
        # (B, L, H, W, C) -> (B, C, L, H, W), the layout of torchvision's video models
        return super().forward(clips.movedim(-1, 1), resized)


class SequenceStem(StemModule):
    """NaN-padded clip sequences ``(B, T, L, H, W, C)`` to ``(B, T, D)`` feature sequences.

    Only the real clips go through the clip stem; padding clips become NaN feature rows,
    the padding the sequence heads read. The clips come resized and cropped to the clip
    stem's input size, as ``FineTune`` cuts them (see ``ClipSequences``).
    """

    def __init__(self, clip_stem):
        super().__init__()
        self.clip_stem = clip_stem

    @property
    def augments(self):
        return self.clip_stem.augments

    def forward(self, sequences):
        real = ~torch.isnan(sequences.flatten(2)[..., 0])
        features = self.clip_stem(sequences[real], resized=True)
        padded = features.new_full((*real.shape, features.shape[-1]), float("nan"))
        return padded.index_put((*real.nonzero(as_tuple=True),), features)


def run_backbone(backbone, inputs):
    """The backbone's outputs for preprocessed inputs.

    A backbone that cannot run on inputs of this shape (images smaller than its kernels, a
    module that takes other channels or a flat vector of another size, an image model given
    clips) raises a ValueError that shows the shape; errors of the device (out of memory, CUDA
    errors) pass unchanged.
    """
    try:
        return backbone(inputs)
    except _DEVICE_ERRORS:
        raise
    except RuntimeError as error:
        kind = "clips (B, C, T, H, W)" if inputs.ndim == 5 else "images (B, C, H, W)"
        raise ValueError(
            f"The backbone cannot run on {kind} of shape {tuple(inputs.shape)} ({error}). Pass "
            "images (and clips) large enough for its kernels and strides, of the size it was "
            "fitted on if it ends in a linear layer, or a module that takes 3-channel input."
        ) from error


def pool_features(outputs, pool):
    """``(B, D)`` features of a backbone's outputs: maps pooled, token sequences averaged."""
    if isinstance(outputs, tuple | list | dict):
        raise ValueError(
            "The backbone returns several outputs; pass a module that returns one tensor, or "
            "choose a layer."
        )
    if outputs.ndim == 2:
        return outputs
    if outputs.ndim == 3:  # (B, tokens, D)
        return outputs.mean(dim=1)
    spatial = tuple(range(2, outputs.ndim))  # (B, D, [T,] h, w)
    return outputs.mean(dim=spatial) if pool == "avg" else outputs.amax(dim=spatial)


def _as_map(maps):
    if maps.ndim != 4:
        raise ValueError(
            f"Dense features need a (B, D, h, w) feature map, but the layer gives shape "
            f"{tuple(maps.shape)}; choose a convolutional layer (e.g. 'layer3' of a ResNet)."
        )
    return maps


def _is_frozen(name, prefixes):
    """Whether a parameter or layer is under one of the prefixes ("" freezes everything)."""
    return any(
        prefix == "" or name == prefix or name.startswith(prefix + ".") for prefix in prefixes
    )


class StandardAugment(nn.Module):
    """Random crop after reflection padding by an eighth of the size, and horizontal flips.

    Works on ``(B, C, H, W)`` images and ``(B, C, T, H, W)`` clips (one draw per clip), on the
    device of the batch. ``flip=False`` keeps the orientation (digits, text).
    """

    def __init__(self, flip=True):
        super().__init__()
        self.flip = flip

    def forward(self, images):
        height, width = images.shape[-2:]
        pad_h, pad_w = max(1, height // 8), max(1, width // 8)
        flat = images.flatten(1, -3) if images.ndim == 5 else images
        padded = F.pad(flat, (pad_w, pad_w, pad_h, pad_h), mode="reflect")
        tops = torch.randint(0, 2 * pad_h + 1, (len(images),), device=images.device)
        lefts = torch.randint(0, 2 * pad_w + 1, (len(images),), device=images.device)
        rows = tops[:, None] + torch.arange(height, device=images.device)
        cols = lefts[:, None] + torch.arange(width, device=images.device)
        batch = torch.arange(len(images), device=images.device)[:, None, None]
        cropped = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]
        cropped = cropped.permute(0, 3, 1, 2)
        if self.flip:
            flips = torch.rand(len(images), device=images.device) < 0.5
            cropped = torch.where(flips[:, None, None, None], cropped.flip(-1), cropped)
        return cropped.reshape(images.shape)
