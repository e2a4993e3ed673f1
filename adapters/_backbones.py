"""Backbones by name: one registry over torchvision and timm, local checkpoints, preprocessing.

A backbone is named by a torchvision model name (``"resnet18"``, ``"r3d_18"``, ...), by
``"timm:<name>"``, or given as a ``torch.nn.Module``. Weights are ``None`` (random
initialisation), a torchvision weights name (``"IMAGENET1K_V1"``) or ``"DEFAULT"``, or the path
of a local checkpoint. Named weights are fetched the way their library fetches them: from its
local cache when the file is there, else downloaded; a download that fails is a ValueError that
says where to put the file. The preprocessing is the library's own, read from its transforms.
"""

# SPDX-License-Identifier: BSD-3-Clause

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn

__all__ = []

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_TIMM_PREFIX = "timm:"
# The side of the square image that finds a torchvision model's stride-16 layer: ImageNet's
# size, which every torchvision classification model takes, and a multiple of 32.
_PROBE_SIZE = 224


@dataclass(frozen=True)
class Preprocessing:
    """What a backbone expects: resize, centre crop and normalisation, as its library does them.

    ``resize`` is torchvision's size argument (one number resizes the shorter side, two give
    the size) and ``crop`` the size of the centre crop; both are None when the images keep
    their size. ``interpolation`` is a torchvision ``InterpolationMode`` value.
    """

    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD
    resize: tuple | None = None
    crop: tuple | None = None
    interpolation: str = "bilinear"
    antialias: bool = True


def build_backbone(backbone, weights, *, layer=None, video=False, dense=False):
    """The backbone cut where its features are, with its weights, and its :class:`Preprocessing`.

    Parameters
    ----------
    backbone : str or torch.nn.Module
        A torchvision model name, ``"timm:<name>"``, or a module (copied; its output is the
        feature, unless ``layer`` names a submodule).
    weights : str, path-like or None
        None, a torchvision weights name or ``"DEFAULT"``, or a local checkpoint.
    layer : str or None
        The submodule whose output is the feature; None for the model's pooled features, or
        with ``dense`` for its deepest stride-16 feature map.
    video : bool
        Whether the backbone must take clips ``(B, 3, T, H, W)`` (torchvision's video models).
    dense : bool
        Whether the features are maps: a named backbone without ``layer`` is then cut after
        its deepest layer of stride 16.
    """
    if isinstance(backbone, nn.Module):
        return _custom_backbone(backbone, weights, layer), Preprocessing()
    if not isinstance(backbone, str):
        raise ValueError(
            f"backbone must be a model name or a torch.nn.Module, got {type(backbone).__name__}."
        )
    if backbone.startswith(_TIMM_PREFIX):
        return _timm_backbone(backbone[len(_TIMM_PREFIX) :], weights, layer=layer, dense=dense)
    return _torchvision_backbone(backbone, weights, layer=layer, video=video, dense=dense)


def load_checkpoint(module, path, classifiers=()):
    """Load a local checkpoint into ``module``, read without unpickling arbitrary objects.

    The keys under the ``classifiers`` prefixes (the head that the cut removes) are neither
    needed nor loaded; see :func:`checked_state` for the files read and the checks.
    """
    module.load_state_dict(checked_state(module, path, classifiers), strict=False)


def checked_state(module, path, classifiers=()):
    """The state dict of the checkpoint at ``path``, checked against ``module``'s names and shapes.

    Plain state dicts, dicts holding one under ``"state_dict"`` or ``"model"``, and
    ``.safetensors`` files are read, with ``weights_only=True``; a ``"module."`` prefix (from
    DistributedDataParallel) is dropped. Keys under the ``classifiers`` prefixes may be
    missing, extra or of another shape, and are left out; any other mismatch is a ValueError
    that lists the keys.
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

    def head(key):
        return any(key.startswith(prefix + ".") for prefix in classifiers)

    state = {key.removeprefix("module."): value for key, value in state.items()}
    state = {key: value for key, value in state.items() if not head(key)}
    expected = {key: value for key, value in module.state_dict().items() if not head(key)}
    mismatched = (state.keys() ^ expected.keys()) | {
        key for key in state.keys() & expected.keys() if state[key].shape != expected[key].shape
    }
    if mismatched:
        raise ValueError(
            f"The checkpoint {str(path)!r} does not fit the backbone: {len(mismatched)} "
            f"mismatched keys (missing, extra or of another shape), e.g. "
            f"{sorted(mismatched)[:5]}. Check that it was saved from the same architecture."
        )
    return state


def _is_checkpoint(weights):
    return isinstance(weights, os.PathLike) or (
        isinstance(weights, str) and (os.sep in weights or Path(weights).suffix != "")
    )


def _custom_backbone(backbone, weights, layer):
    if weights is not None and not _is_checkpoint(weights):
        raise ValueError(
            f"weights={weights!r} names torchvision weights, which a custom module has none "
            "of; pass weights=None or the path of a checkpoint of this module."
        )
    module = copy.deepcopy(backbone)
    if weights is not None:
        load_checkpoint(module, weights)
    return module if layer is None else _layer_output(module, layer)


# --- torchvision ---------------------------------------------------------------------------------


def _torchvision_backbone(name, weights, *, layer, video, dense):
    module, preprocessing = _torchvision_model(name, weights, video=video)
    if layer is None and dense:
        layer = _stride_16_layer(module, name)
    if layer is not None:
        return _layer_output(module, layer), preprocessing
    last_linear = _last_linear_name(module)
    if last_linear is not None:  # the classifier: its input is the pooled feature
        _replace_submodule(module, last_linear, nn.Identity())
    return module, preprocessing


def _torchvision_model(name, weights, *, video):
    """The whole torchvision model with its weights, and the preprocessing of the weights.

    Random weights and checkpoints keep the images' size and use the ImageNet mean and
    standard deviation: a checkpoint does not say how its images were prepared.
    """
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
        module = get_model(name, weights=None)
        if weights is not None:
            head = _last_linear_name(module)
            load_checkpoint(module, weights, classifiers=() if head is None else (head,))
        return module, Preprocessing()
    enum = get_model_weights(name)
    if weights not in enum.__members__:
        raise ValueError(
            f"Unknown weights {weights!r} for {name}; choose from {list(enum.__members__)}, "
            "None, or the path of a local checkpoint."
        )
    chosen = enum[weights]
    try:  # torchvision reads <hub>/checkpoints/<file> when it is there, else downloads it
        module = get_model(name, weights=chosen)
    except OSError as error:  # URLError, HTTPError and socket errors are OSErrors
        cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(chosen.url).path).name
        raise ValueError(
            f"The weights {chosen} are not in torch's hub cache and could not be downloaded "
            f"({error}). Download {chosen.url} and put it at {cached} (TORCH_HOME moves the "
            "cache), or pass the path of a local checkpoint as weights."
        ) from error
    return module, preprocessing_of(chosen.transforms())


def _stride_16_layer(module, name):
    """The deepest layer of ``module`` whose output is a stride-16 map.

    The first layer that takes a stride-16 map and gives a stride-32 one is where the model
    leaves stride 16; the answer is the last layer to end with a stride-16 output before that
    layer starts (the whole block, not a piece of the next one), or the last of all if stride
    32 never comes.
    """
    last, stack, leaving = None, [], []
    for position, (kind, layer, stride) in enumerate(_stride_events(module)):
        if kind == "start":
            stack.append((position, stride, last))
            continue
        start, input_stride, last_at_start = stack.pop()
        if input_stride == 16 and stride == 32:
            leaving.append((start, last_at_start))
        if stride == 16:
            last = layer
    # The first to start of the layers that leave stride 16 is the outermost of its nest.
    found = min(leaving)[1] if leaving else last
    if found is None:
        raise ValueError(
            f"{name} has no layer whose output is a stride-16 (B, D, h, w) map; pass layer= "
            "with the name of a submodule (see model.named_modules())."
        )
    return found


def _stride_events(module):
    """When each layer starts and ends on a probe image, and the strides of its input and output.

    One square image runs through the model in eval mode, without gradients; the events are
    ``("start", layer, input stride)`` and ``("end", layer, output stride)`` in the order they
    happen, the stride None where the tensor is no map of the image.
    """
    events = []

    def before(layer):
        return lambda _, args: events.append(("start", layer, _stride(args[0] if args else None)))

    def after(layer):
        return lambda _, args, output: events.append(("end", layer, _stride(output)))

    handles = []
    for layer, child in module.named_modules():
        if layer:
            handles += [child.register_forward_pre_hook(before(layer)),
                        child.register_forward_hook(after(layer))]  # fmt: skip
    training = module.training
    try:
        with torch.no_grad():
            module.eval()(torch.zeros(1, 3, _PROBE_SIZE, _PROBE_SIZE))
    finally:
        module.train(training)
        for handle in handles:
            handle.remove()
    return events


def _stride(output):
    """How many input pixels one position of a square map of the probe stands for, or None."""
    if not (torch.is_tensor(output) and output.ndim == 4):
        return None
    height, width = output.shape[-2:]
    if height != width or height == 0 or _PROBE_SIZE % width:  # not a map (tokens, NHWC)
        return None
    return _PROBE_SIZE // width


def _last_linear_name(module):
    names = [name for name, child in module.named_modules() if isinstance(child, nn.Linear)]
    return names[-1] if names else None


def _replace_submodule(module, name, replacement):
    parent_name, _, child = name.rpartition(".")
    parent = module.get_submodule(parent_name) if parent_name else module
    setattr(parent, child, replacement)


def _layer_output(module, layer):
    names = dict(module.named_modules())
    if layer not in names or layer == "":
        choices = [name for name, _ in module.named_children()]
        raise ValueError(
            f"layer={layer!r} is not a submodule of the backbone; its top-level layers are "
            f"{choices} (nested ones are written with dots, e.g. 'layer3.1')."
        )
    return _LayerOutput(module, layer)


def drop_unused(backbone, run):
    """Cut ``backbone`` down to what its features use, on the forward pass that ``run`` makes.

    ``run()`` feeds example inputs through the backbone, in the mode it will run in (training
    for fine-tuning), and returns what the backbone's features become. Every submodule that
    does not start during the run (the layers after a cut at ``layer``, a classifier the
    features skip) is replaced by a placeholder without parameters or buffers. The trainable
    parameters that the outputs do not depend on (of a layer that runs but feeds nothing the
    outputs use) stop training: no loss can give them a gradient, and
    DistributedDataParallel rejects parameters that get none. Batch statistics that the run
    moves and the random state are restored. Returns the outputs of the run.
    """
    started = set()
    handles = [
        child.register_forward_pre_hook(lambda module, args: started.add(module))
        for child in backbone.modules()
    ]
    buffers = [(buffer, buffer.clone()) for buffer in backbone.buffers()]
    try:
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            outputs = run()
        _drop_unstarted(backbone, started)
        if torch.is_tensor(outputs) and outputs.requires_grad:
            _freeze_without_gradient(backbone, outputs)
    finally:
        for handle in handles:
            handle.remove()
        # After the gradients: the backward pass of batch normalisation reads its statistics.
        with torch.no_grad():
            for buffer, value in buffers:
                buffer.copy_(value)
    return outputs


def _freeze_without_gradient(backbone, outputs):
    """Stop training the parameters of ``backbone`` on which ``outputs`` do not depend."""
    trainable = [parameter for parameter in backbone.parameters() if parameter.requires_grad]
    if not trainable:
        return
    gradients = torch.autograd.grad(outputs, trainable, torch.ones_like(outputs), allow_unused=True)
    for parameter, gradient in zip(trainable, gradients, strict=True):
        if gradient is None:
            parameter.requires_grad_(False)


def _drop_unstarted(module, started, prefix=""):
    """Replace the submodules of ``module`` in which no layer started by placeholders."""
    for name, child in module.named_children():
        if started.isdisjoint(child.modules()):
            setattr(module, name, _Dropped(prefix + name))
        else:
            _drop_unstarted(child, started, f"{prefix}{name}.")


class _Dropped(nn.Module):
    """In place of a layer that did not run before the backbone's features were complete."""

    def __init__(self, name):
        super().__init__()
        self.name = name

    def forward(self, *args, **kwargs):
        raise ValueError(
            f"The backbone's layer {self.name!r} did not run on the example input when the "
            "backbone was cut to what its features use, so it was dropped; this input takes "
            "another path through the model. Fit on inputs like this one, or pass a module "
            "whose forward runs the same layers for every input."
        )

    def extra_repr(self):
        return f"name={self.name!r}"


class _StopForward(Exception):
    """Raised by the hook of :class:`_LayerOutput` once the wanted layer has run."""


class _LayerOutput(nn.Module):
    """The output of one named layer of a model; the layers after it are not run.

    :func:`drop_unused` then removes them, once a stem has run the model on its inputs.
    """

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


# --- timm ----------------------------------------------------------------------------------------


def _timm_backbone(name, weights, *, layer, dense):
    """A timm model cut the timm way: ``num_classes=0`` pooled, ``features_only`` maps.

    The architecture is first built on the meta device: its ``feature_info`` names the
    layers, its pretrained configuration gives the data configuration and the classifier,
    and a checkpoint is checked against it before timm loads it into the cut model.
    """
    import timm

    if name not in {*timm.list_models(), *timm.list_models(pretrained=True)}:
        raise ValueError(
            f"Unknown timm backbone {name!r}; timm.list_models() lists the architectures, and "
            "timm.list_models(pretrained=True) their weights as '<architecture>.<tag>'."
        )
    with torch.device("meta"):  # the architecture without memory or initialisation
        architecture = timm.create_model(name, pretrained=False)
    if layer is None and not dense:
        cut = {"num_classes": 0}
    else:
        cut = {"features_only": True, "out_indices": (_timm_feature_index(architecture, layer),)}
    module = _timm_create(name, weights, architecture, **cut)
    config = timm.data.resolve_model_data_config(architecture)
    preprocessing = preprocessing_of(timm.data.create_transform(**config, is_training=False))
    return (module if "num_classes" in cut else _OnlyOutput(module)), preprocessing


def _timm_feature_index(architecture, layer):
    """The ``feature_info`` index of ``layer``, or with None that of the deepest stride-16 map."""
    info = architecture.feature_info
    modules = [entry["module"] for entry in info]
    if layer is not None:
        if layer not in modules:
            raise ValueError(
                f"layer={layer!r} is not one of the feature layers timm gives for this model; "
                f"choose from {modules}."
            )
        return modules.index(layer)
    stride_16 = [index for index, entry in enumerate(info) if entry["reduction"] == 16]
    if not stride_16:
        reductions = {entry["module"]: entry["reduction"] for entry in info}
        raise ValueError(
            f"The timm model has no stride-16 feature layer (its layers and strides are "
            f"{reductions}); pass layer= with one of them."
        )
    return stride_16[-1]


def _timm_create(name, weights, architecture, **cut):
    """``timm.create_model`` with the weights, fetched or read by timm itself."""
    import timm

    if weights is None:
        return timm.create_model(name, pretrained=False, **cut)
    if _is_checkpoint(weights):
        classifiers = architecture.pretrained_cfg.get("classifier") or ()
        classifiers = (classifiers,) if isinstance(classifiers, str) else tuple(classifiers)
        checked_state(architecture, weights, classifiers)
        overlay = {"file": os.fspath(weights)}
        return timm.create_model(name, pretrained=True, pretrained_cfg_overlay=overlay, **cut)
    if weights != "DEFAULT":
        raise ValueError(
            f"weights={weights!r}: a timm backbone takes None, 'DEFAULT' or a checkpoint path."
        )
    config = architecture.pretrained_cfg
    if not (config.get("hf_hub_id") or config.get("url")):
        raise ValueError(
            f"timm has no pretrained weights for {name!r}; pass weights=None or the path of a "
            "checkpoint."
        )
    try:  # timm reads the Hugging Face (or torch hub) cache when the file is there
        return timm.create_model(name, pretrained=True, **cut)
    except OSError as error:  # huggingface_hub's LocalEntryNotFoundError, URLError
        raise ValueError(
            f"The pretrained weights of timm's {name!r} are not in the local cache and could "
            f"not be downloaded ({error}). {_timm_cache_hint(config)} Or pass the path of a "
            "local checkpoint as weights."
        ) from error


def _timm_cache_hint(config):
    """Where timm looks for the weights of ``config`` before it downloads them."""
    if config.get("hf_hub_id"):
        from huggingface_hub import constants

        return (
            f"timm reads the Hugging Face hub repository {config['hf_hub_id']!r} from the "
            f"cache at {constants.HF_HUB_CACHE} (HF_HOME moves it): fill it on a machine with "
            "network (timm.create_model(name, pretrained=True) does) and copy it over."
        )
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(config["url"]).path).name
    return f"Download {config['url']} and put it at {cached} (torch's hub cache)."


class _OnlyOutput(nn.Module):
    """The single map of a timm ``features_only`` model, which returns a list of maps."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, inputs):
        return self.model(inputs)[0]


# --- preprocessing -------------------------------------------------------------------------------


def preprocessing_of(transform):
    """The :class:`Preprocessing` of a library's eval transform, read from the transform.

    Takes torchvision's ``ImageClassification`` and ``VideoClassification`` presets (what
    ``weights.transforms()`` returns) and a ``Compose`` of ``Resize``, ``CenterCrop``,
    ``ToTensor`` and ``Normalize`` (what ``timm.data.create_transform`` builds for evaluation).
    """
    from torchvision import transforms

    steps = transform.transforms if isinstance(transform, transforms.Compose) else [transform]
    values = {}
    for step in steps:
        if hasattr(step, "resize_size"):  # torchvision's presets
            values.update(
                resize=tuple(step.resize_size), crop=tuple(step.crop_size),
                interpolation=step.interpolation.value,
                # the video preset hard-codes antialias=False and keeps no attribute for it
                antialias=getattr(step, "antialias", False),
                mean=tuple(step.mean), std=tuple(step.std),
            )  # fmt: skip
        elif isinstance(step, transforms.Resize) and step.max_size is None:
            size = (step.size,) if isinstance(step.size, int) else tuple(step.size)
            values.update(
                resize=size, interpolation=step.interpolation.value, antialias=step.antialias
            )
        elif isinstance(step, transforms.CenterCrop):
            values.update(crop=tuple(step.size))
        elif isinstance(step, transforms.Normalize):
            values.update(mean=_floats(step.mean), std=_floats(step.std))
        elif not isinstance(step, transforms.ToTensor):
            raise ValueError(
                f"The preprocessing of this backbone has a step ncestimators does not "
                f"reproduce on batches: {step!r}. Pass weights=None or a checkpoint, or wrap "
                "the backbone in a torch.nn.Module and prepare the images yourself."
            )
    return Preprocessing(**values)


def _floats(values):
    return tuple(torch.as_tensor(values, dtype=torch.float64).tolist())


class Preprocess(nn.Module):
    """Batched preprocessing on the backbone's device, equal to the weights' own transform.

    Takes ``(B, C, H, W)`` images or ``(B, C, T, H, W)`` clips, uint8 or floats in [0, 1].
    :meth:`resize_and_crop` resizes and crops them the way torchvision's transforms do (uint8
    images are resized as uint8, rounded, as torchvision resizes a uint8 tensor) and gives
    [0, 1] floats, grey images made RGB; :meth:`normalize` subtracts the mean and divides by
    the standard deviation. Float images stay differentiable.
    """

    def __init__(self, preprocessing):
        super().__init__()
        self.resize = preprocessing.resize
        self.crop = preprocessing.crop
        self.interpolation = preprocessing.interpolation
        self.antialias = preprocessing.antialias
        shape = (1, 3, 1, 1)
        mean = torch.tensor(preprocessing.mean).view(shape)
        std = torch.tensor(preprocessing.std).view(shape)
        # (x - mean) / std as one fused x * scale + shift: one image-sized buffer, not two.
        self.register_buffer("scale", 1 / std, persistent=False)
        self.register_buffer("shift", -mean / std, persistent=False)

    def forward(self, inputs):
        return self.normalize(self.resize_and_crop(inputs))

    def resize_and_crop(self, inputs):
        images = inputs
        if self.resize is not None or self.crop is not None:
            images = _per_frame(images, self._resize_and_crop_frames)
        images = images.float().div_(255) if images.dtype == torch.uint8 else images.float()
        if images.shape[1] == 1:
            images = images.expand(-1, 3, *images.shape[2:])
        return images

    def normalize(self, images):
        return _per_frame(images, lambda frames: torch.addcmul(self.shift, frames, self.scale))

    def _resize_and_crop_frames(self, frames):
        from torchvision.transforms import InterpolationMode
        from torchvision.transforms import functional as TF

        if self.resize is not None:
            frames = TF.resize(
                frames, list(self.resize), interpolation=InterpolationMode(self.interpolation),
                antialias=self.antialias,
            )  # fmt: skip
        if self.crop is not None:
            frames = TF.center_crop(frames, list(self.crop))
        return frames


def _per_frame(images, function):
    """Apply an ``(N, C, H, W)`` function to images, or to every frame of ``(B, C, T, H, W)``."""
    if images.ndim == 4:
        return function(images)
    batch, length = images.shape[0], images.shape[2]
    frames = function(images.transpose(1, 2).flatten(0, 1))
    return frames.unflatten(0, (batch, length)).transpose(1, 2)
