"""Backbones by name: one registry over torchvision and timm, local checkpoints, preprocessing.

A backbone is named by a torchvision model name (``"resnet18"``, ``"r3d_18"``, ...), by
``"timm:<name>"``, or given as a ``torch.nn.Module``. Weights are ``None`` (random
initialisation), a torchvision weights name (``"IMAGENET1K_V1"``) or ``"DEFAULT"``, loaded the
way torchvision loads them but never downloaded, or the path of a local checkpoint. The
preprocessing comes with the weights.
"""

# SPDX-License-Identifier: BSD-3-Clause

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn
from torch.nn import functional as F

__all__ = []

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_TIMM_PREFIX = "timm:"


@dataclass(frozen=True)
class Preprocessing:
    """What the weights expect: resize the shorter side, crop the centre, normalise.

    ``resize`` and ``crop`` are None when the images keep their size (random weights).
    """

    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD
    resize: tuple | None = None
    crop: tuple | None = None


def build_backbone(backbone, weights, *, layer=None, video=False):
    """The backbone cut where its features are, with its weights, and its :class:`Preprocessing`.

    Parameters
    ----------
    backbone : str or torch.nn.Module
        A torchvision model name, ``"timm:<name>"``, or a module (copied; its output is the
        feature, unless ``layer`` names a submodule).
    weights : str, path-like or None
        None, a torchvision weights name or ``"DEFAULT"``, or a local checkpoint.
    layer : str or None
        The submodule whose output is the feature; None for the model's pooled features.
    video : bool
        Whether the backbone must take clips ``(B, 3, T, H, W)`` (torchvision's video models).
    """
    if isinstance(backbone, nn.Module):
        if weights is not None and not _is_checkpoint(weights):
            raise ValueError(
                f"weights={weights!r} names torchvision weights, which a custom module has none "
                "of; pass weights=None or the path of a checkpoint of this module."
            )
        module, preprocessing = copy.deepcopy(backbone), Preprocessing()
    elif isinstance(backbone, str) and backbone.startswith(_TIMM_PREFIX):
        module, preprocessing = _timm_backbone(backbone[len(_TIMM_PREFIX) :], weights)
    elif isinstance(backbone, str):
        module, preprocessing = _torchvision_backbone(backbone, weights, video=video)
    else:
        raise ValueError(
            f"backbone must be a model name or a torch.nn.Module, got {type(backbone).__name__}."
        )
    if _is_checkpoint(weights):
        load_checkpoint(module, weights)
    classifier = not isinstance(backbone, nn.Module)
    return feature_module(module, layer, classifier=classifier), preprocessing


def feature_module(module, layer, *, classifier=True):
    """``module`` cut where its features are: the input of its last linear layer, or ``layer``.

    Without ``layer``, a ``classifier`` model (a named torchvision or timm one) loses its last
    ``nn.Linear``, replaced by the identity, so it returns its pooled features; other modules
    are taken to return features already. With ``layer``, the module returns the output of the
    named submodule and stops there.
    """
    if layer is not None:
        names = dict(module.named_modules())
        if layer not in names or layer == "":
            choices = [name for name, _ in module.named_children()]
            raise ValueError(
                f"layer={layer!r} is not a submodule of the backbone; its top-level layers are "
                f"{choices} (nested ones are written with dots, e.g. 'layer3.1')."
            )
        return _LayerOutput(module, layer)
    last_linear = _last_linear_name(module)
    if classifier and last_linear is not None:
        _replace_submodule(module, last_linear, nn.Identity())
    return module


class _StopForward(Exception):
    """Raised by the hook of :class:`_LayerOutput` once the wanted layer has run."""


class _LayerOutput(nn.Module):
    """The output of one named layer of a model; the layers after it are not run."""

    def __init__(self, model, layer):
        super().__init__()
        self.model = model
        self.layer = layer
        self._output = None
        dict(model.named_modules())[layer].register_forward_hook(self._capture)

    def forward(self, inputs):
        try:
            self.model(inputs)
        except _StopForward:
            pass
        output, self._output = self._output, None
        return output

    def _capture(self, module, inputs, output):
        self._output = output
        raise _StopForward


def load_checkpoint(module, path):
    """Load a local checkpoint into ``module``, read without unpickling arbitrary objects.

    Plain state dicts, dicts holding one under ``"state_dict"`` or ``"model"``, and
    ``.safetensors`` files are read; a ``"module."`` prefix (from DistributedDataParallel) is
    dropped. Keys of the classifier that :func:`feature_module` removes may be missing or extra;
    any other mismatch is a ValueError that lists the keys.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"The checkpoint {str(path)!r} does not exist; pass the path of a file.")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(path)
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise ValueError(
            f"The checkpoint {str(path)!r} holds no state dict (a mapping of names to tensors, "
            "possibly under 'state_dict' or 'model')."
        )
    state = {key.removeprefix("module."): value for key, value in state.items()}
    missing, unexpected = module.load_state_dict(state, strict=False)
    classifier = _last_linear_name(module)
    mismatched = [
        key
        for key in (*missing, *unexpected)
        if classifier is None or not key.startswith(classifier)
    ]
    if mismatched:
        raise ValueError(
            f"The checkpoint {str(path)!r} does not fit the backbone: {len(mismatched)} "
            f"mismatched keys, e.g. {sorted(mismatched)[:5]}. Check that it was saved from the "
            "same architecture."
        )


def _is_checkpoint(weights):
    return isinstance(weights, os.PathLike) or (
        isinstance(weights, str) and (os.sep in weights or Path(weights).suffix != "")
    )


def _torchvision_backbone(name, weights, *, video):
    import torchvision.models
    from torchvision.models import get_model, get_model_weights, list_models

    video_models = list_models(module=torchvision.models.video)
    names = video_models if video else sorted(set(list_models()) - set(video_models))
    if name not in names:
        kind = "video " if video else ""
        raise ValueError(
            f"Unknown {kind}backbone {name!r}. torchvision's {kind}models are {sorted(names)}; "
            "timm models are named 'timm:<name>', and a torch.nn.Module can be passed as is."
        )
    if weights is None or _is_checkpoint(weights):
        return get_model(name, weights=None), Preprocessing()
    enum = get_model_weights(name)
    if weights not in enum.__members__:
        raise ValueError(
            f"Unknown weights {weights!r} for {name}; choose from {list(enum.__members__)}, "
            "None, or the path of a local checkpoint."
        )
    chosen = enum[weights]
    module = get_model(name, weights=None)
    module.load_state_dict(
        torch.load(_cached_weights(chosen), map_location="cpu", weights_only=True)
    )
    transforms = chosen.transforms()
    return module, Preprocessing(
        mean=tuple(transforms.mean),
        std=tuple(transforms.std),
        resize=tuple(transforms.resize_size),
        crop=tuple(transforms.crop_size),
    )


def _cached_weights(weights):
    """Path of torchvision weights in torch's hub cache; ValueError saying where to put them."""
    file_name = os.path.basename(urlparse(weights.url).path)
    path = Path(torch.hub.get_dir()) / "checkpoints" / file_name
    if not path.is_file():
        raise ValueError(
            f"The weights {weights} are not on this machine, and ncestimators never downloads "
            f"them. Download {weights.url} and put it at {path} (torch's hub cache), or pass "
            "the path of a local checkpoint as weights."
        )
    return path


def _timm_backbone(name, weights):
    import timm

    if name not in timm.list_models():
        raise ValueError(f"Unknown timm backbone {name!r}; timm.list_models() lists the choices.")
    if weights is None or _is_checkpoint(weights):
        module = timm.create_model(name, pretrained=False)
    elif weights == "DEFAULT":
        try:
            module = timm.create_model(name, pretrained=True)
        except Exception as error:
            raise ValueError(
                f"timm could not load the pretrained weights of {name!r} from this machine "
                f"({error}). Download the checkpoint and pass its path as weights."
            ) from error
    else:
        raise ValueError(
            f"weights={weights!r}: a timm backbone takes None, 'DEFAULT' or a checkpoint path."
        )
    if weights is None:
        return module, Preprocessing()
    config = timm.data.resolve_model_data_config(module)
    size = tuple(config["input_size"][1:])
    return module, Preprocessing(
        mean=tuple(config["mean"]),
        std=tuple(config["std"]),
        resize=tuple(int(side / config["crop_pct"]) for side in size),
        crop=size,
    )


def _last_linear_name(module):
    names = [name for name, child in module.named_modules() if isinstance(child, nn.Linear)]
    return names[-1] if names else None


def _replace_submodule(module, name, replacement):
    parent_name, _, child = name.rpartition(".")
    parent = module.get_submodule(parent_name) if parent_name else module
    setattr(parent, child, replacement)


class Preprocess(nn.Module):
    """Batched, differentiable preprocessing on the backbone's device.

    Takes ``(B, C, H, W)`` images or ``(B, C, T, H, W)`` clips, uint8 or floats in [0, 1];
    :meth:`resize_and_crop` gives [0, 1] floats of the weights' size (grey images made RGB),
    :meth:`normalize` subtracts the mean and divides by the standard deviation.
    """

    def __init__(self, preprocessing):
        super().__init__()
        self.resize = preprocessing.resize
        self.crop = preprocessing.crop
        shape = (1, 3, 1, 1)
        mean = torch.tensor(preprocessing.mean).view(shape)
        std = torch.tensor(preprocessing.std).view(shape)
        # (x - mean) / std as one fused x * scale + shift: one image-sized buffer, not two.
        self.register_buffer("scale", 1 / std, persistent=False)
        self.register_buffer("shift", -mean / std, persistent=False)

    def forward(self, inputs):
        return self.normalize(self.resize_and_crop(inputs))

    def resize_and_crop(self, inputs):
        images = inputs.float().div_(255) if inputs.dtype == torch.uint8 else inputs.float()
        if images.shape[1] == 1:
            images = images.expand(-1, 3, *images.shape[2:])
        if self.resize is None and self.crop is None:
            return images
        return _per_frame(images, self._resize_and_crop_frames)

    def normalize(self, images):
        return _per_frame(images, lambda frames: torch.addcmul(self.shift, frames, self.scale))

    def _resize_and_crop_frames(self, frames):
        if self.resize is not None:
            frames = F.interpolate(
                frames, size=_resized(frames.shape[-2:], self.resize), mode="bilinear",
                antialias=True, align_corners=False,
            )  # fmt: skip
        if self.crop is not None:
            frames = _center_crop(frames, self.crop)
        return frames


def _per_frame(images, function):
    """Apply an ``(N, C, H, W)`` function to images, or to every frame of ``(B, C, T, H, W)``."""
    if images.ndim == 4:
        return function(images)
    batch, length = images.shape[0], images.shape[2]
    frames = function(images.transpose(1, 2).flatten(0, 1))
    return frames.unflatten(0, (batch, length)).transpose(1, 2)


def _resized(size, resize):
    """torchvision's rule: one number resizes the shorter side, two give the size."""
    if len(resize) == 2:
        return tuple(resize)
    height, width = size
    short = resize[0]
    if height <= width:
        return short, max(1, round(width * short / height))
    return max(1, round(height * short / width)), short


def _center_crop(images, crop):
    crop_height, crop_width = (crop[0], crop[0]) if len(crop) == 1 else crop
    height, width = images.shape[-2:]
    if crop_height > height or crop_width > width:
        images = F.interpolate(
            images, size=(max(height, crop_height), max(width, crop_width)), mode="bilinear",
            align_corners=False,
        )  # fmt: skip
        height, width = images.shape[-2:]
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return images[..., top : top + crop_height, left : left + crop_width]
