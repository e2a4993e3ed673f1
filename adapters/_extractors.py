"""Feature extraction transformers: images, video clips and dense maps to backbone features."""

# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import os
from numbers import Integral

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from ncestimators._data import BatchBuffer, BatchLoader
from ncestimators._runtime import draw_seed, resolve_device, seeded

from ._backbones import build_backbone, drop_unused
from ._media import check_image_array, decode_image, is_image_collection
from ._stems import POOLS, ClipStem, ImageStem
from ._video import VideoFile, check_frame_shapes, clip_starts, open_videos, prepare_clip

__all__ = ["BackboneFeatures", "ClipFeatures", "DenseFeatures"]

_PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class _FeatureExtractor(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """What the extractors share: backbone loading, devices, precision and the batched loop.

    A subclass sets ``_video`` (clips) and ``_dense`` (feature maps), builds its stem in
    :meth:`_make_stem`, turns X into a torch Dataset of stem inputs in :meth:`_dataset` and
    shapes the outputs of the batches in :meth:`_arrange`.
    """

    _parameter_constraints: dict = {
        "backbone": [str, nn.Module],
        "weights": [str, os.PathLike, None],
        "layer": [str, None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "num_workers": [Interval(Integral, 0, None, closed="left")],
        "precision": [StrOptions({"auto", *_PRECISIONS})],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }
    _video = False
    _dense = False

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Load the backbone and its weights, and find the feature dimension on X.

        Parameters
        ----------
        X : images or videos
            Input of the kind :meth:`transform` takes; its first item sets the output size.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted extractor.
        """
        self.device_ = resolve_device(self.device)
        with seeded(draw_seed(self.random_state)):
            backbone, preprocessing = build_backbone(
                self.backbone, self.weights, layer=self.layer, video=self._video, dense=self._dense
            )
        stem = self._make_stem(backbone, preprocessing).eval().requires_grad_(False)
        if self.device_.startswith("cuda") and not self._video:
            stem = stem.to(memory_format=torch.channels_last)  # what cuDNN convolutions prefer
        self.stem_ = stem.to(self.device_)
        dataset = self._dataset(X)
        first = dataset[0][None] if isinstance(dataset, _ImageFiles) else dataset[np.arange(1)]
        # The first features also cut the backbone to the layers they use.
        features = drop_unused(backbone, lambda: self._run(first, dataset.resized))
        self._n_features_out = int(features[0].shape[-1])
        return self

    def transform(self, X):
        """Backbone features of X.

        Parameters
        ----------
        X : images or videos
            See the class docstring for the accepted forms.

        Returns
        -------
        features : ndarray or list of ndarray
            Float32 features, as the class docstring says.
        """
        check_is_fitted(self)
        dataset = self._dataset(X)
        loader_options = {
            "num_workers": self.num_workers,
            "pin_memory": self.device_.startswith("cuda"),
        }
        if isinstance(dataset, _ImageFiles):  # decoded one by one, then stacked
            loader = DataLoader(
                dataset, batch_size=self.batch_size, collate_fn=_stack, **loader_options
            )
        else:  # whole batches by one indexing call
            loader = BatchLoader(dataset, self.batch_size, **loader_options)
        batches = tqdm(loader, disable=not self.verbose, desc=type(self).__name__, unit="batch")
        features, start = None, 0
        for batch in batches:
            outputs = self._run(batch, dataset.resized)
            if features is None:  # allocated once: nothing of a batch outlives it
                features = np.empty((len(dataset), *outputs.shape[1:]), np.float32)
            _check_output_shape(outputs, features)
            features[start : start + len(outputs)] = outputs
            start += len(outputs)
        return self._arrange(features, dataset)

    def _run(self, batch, resized=False):
        """Stem outputs of one batch of stem inputs, as a float32 array."""
        inputs = batch.to(self.device_, non_blocking=True)
        if inputs.ndim == 4 and self.device_.startswith("cuda"):
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), self._autocast():
            return self.stem_(inputs, resized=resized).float().cpu().numpy()

    def _autocast(self):
        dtype = self._precision_dtype()
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_.split(":")[0], dtype=dtype)

    def _precision_dtype(self):
        if self.precision != "auto":
            return _PRECISIONS[self.precision]
        if not self.device_.startswith("cuda"):
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16

    def _arrange(self, features, dataset):
        """The transform's output from the features of all items of the dataset."""
        return features

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags


class BackboneFeatures(_FeatureExtractor):
    """Pooled backbone features of images: the first step of a Pipeline on images.

    Runs a torchvision or timm backbone (or any ``torch.nn.Module``) in inference mode, on
    CUDA when available, and returns one feature vector per image: the input of the model's
    last linear layer (its pooled features), or the pooled output of ``layer``.

    Parameters
    ----------
    backbone : str or torch.nn.Module, default="resnet18"
        A torchvision classification model name, ``"timm:<name>"`` for a timm model
        (``"timm:<name>.<tag>"`` picks its pretrained weights), or a module (copied; its
        output, pooled if it is a map, is the feature vector).

    weights : str, path-like or None, default=None
        None for random initialisation; a torchvision weights name (``"IMAGENET1K_V1"``) or
        ``"DEFAULT"`` (timm backbones take ``"DEFAULT"``, their default or tagged weights);
        or the path of a local checkpoint (a state dict, a dict holding one under
        ``"state_dict"`` or ``"model"``, or ``.safetensors``), read with
        ``weights_only=True``. Named weights come from the library's local cache when the
        file is there (torch's hub cache, ``$TORCH_HOME/hub/checkpoints``, for torchvision;
        the Hugging Face cache, ``$HF_HOME/hub``, for timm) and are downloaded otherwise; a
        download that fails (offline) is a ValueError that says which file to put where.

        The preprocessing is the library's own, equal to torchvision's
        ``weights.transforms()`` and to timm's resolved data configuration and eval
        transform: resize (with its interpolation and antialiasing), centre crop, mean and
        standard deviation. uint8 images are resized as uint8 (rounded), the way torchvision
        resizes a uint8 tensor, and float images as floats. A timm model always gets its data
        configuration, so that models of a fixed input size (ViTs) take images of any size. A
        torchvision model with None or a checkpoint keeps the images' size and normalises them
        with the ImageNet mean and standard deviation, as a checkpoint does not say how its
        images were prepared.

    pool : {"avg", "max"}, default="avg"
        Pooling of feature maps over their spatial positions (token sequences are averaged).

    layer : str, default=None
        Name of the submodule whose output to take, e.g. ``"layer3"``; None takes the
        model's pooled features: the input of the last linear layer of a torchvision model,
        timm's ``num_classes=0`` output of a timm model. A timm layer is one of the modules
        its ``feature_info`` lists.

    batch_size : int, default=64
        Images per forward pass.

    num_workers : int, default=0
        Worker processes that read and decode images (files, PIL images) ahead of the model.

    precision : {"auto", "fp32", "bf16", "fp16"}, default="auto"
        Mixed precision of the forward pass. "auto" is bf16 (fp16 where bf16 is not
        supported) on CUDA and fp32 on the CPU. Features are returned as float32.

    device : str, default="auto"
        Torch device; "auto" uses CUDA when available.

    random_state : int, RandomState instance or None, default=None
        Seeds the random initialisation of the backbone when ``weights=None`` (random
        features are a baseline), without touching the global random states.

    verbose : int, default=0
        1 shows a progress bar over the batches.

    Attributes
    ----------
    stem_ : torch.nn.Module
        Preprocessing, backbone and pooling, in eval mode on ``device_``.

    device_ : str
        The device the backbone runs on.

    See Also
    --------
    DenseFeatures : Feature maps, for CeCoSegmenter.
    ClipFeatures : Clip features of videos, for CoFInAIRegressor and ClusterFBSeparator.
    FineTune : Train the backbone together with a head.

    Examples
    --------
    >>> import numpy as np
    >>> from ncestimators.adapters import BackboneFeatures
    >>> images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    >>> extractor = BackboneFeatures("resnet18", device="cpu").fit(images)
    >>> extractor.transform(images).shape
    (4, 512)
    >>> extractor.get_feature_names_out()[:2].tolist()
    ['backbonefeatures0', 'backbonefeatures1']
    """

    _parameter_constraints = {
        **_FeatureExtractor._parameter_constraints,
        "pool": [StrOptions(set(POOLS))],
    }

    def __init__(
        self,
        backbone="resnet18",
        *,
        weights=None,
        pool="avg",
        layer=None,
        batch_size=64,
        num_workers=0,
        precision="auto",
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.backbone = backbone
        self.weights = weights
        self.pool = pool
        self.layer = layer
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.precision = precision
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _make_stem(self, backbone, preprocessing):
        return ImageStem(backbone, preprocessing, channels_last=False, pool=self.pool)

    def _dataset(self, X):
        return image_dataset(X, self.stem_.preprocess)


class DenseFeatures(_FeatureExtractor, auto_wrap_output_keys=None):
    """Feature maps of images from an intermediate layer: per-pixel features for CeCoSegmenter.

    Returns ``(n, h, w, D)`` maps, channels last, the layout :class:`~ncestimators.CeCoSegmenter`
    reads. Put the labels on the feature grid with :func:`downsample_labels`, and predictions
    back on the image grid with :func:`upsample_labels`. The maps have no pandas form:
    ``set_output`` is not offered, and ``transform_output="pandas"`` leaves them arrays.

    Parameters
    ----------
    backbone : str or torch.nn.Module, default="resnet18"
        As for :class:`BackboneFeatures`.

    weights : str, path-like or None, default=None
        As for :class:`BackboneFeatures`.

    layer : str, default=None
        Name of the submodule whose ``(B, D, h, w)`` output is the feature map. None takes
        the deepest layer of stride 16 of a named backbone (``"layer3"`` of a ResNet,
        ``"features.13"`` of MobileNetV2, the last stride-16 entry of a timm model's
        ``feature_info``), and the module's own output for a custom module.

        Choosing a layer trades three things. The stride sets the resolution: a 224 x 224
        image gives a 14 x 14 grid at stride 16, 28 x 28 at stride 8, 7 x 7 at stride 32.
        Deeper layers see more context and carry more semantic features, shallower ones
        finer detail. The channels set ``D``, the memory of the maps and the width of the
        head's input. Stride 16 is the usual compromise for segmentation; a stride-8 layer
        (``"layer2"`` of a ResNet) gives finer masks from weaker features.

    batch_size : int, default=32
        Images per forward pass.

    num_workers : int, default=0
        Worker processes that read and decode images ahead of the model.

    precision : {"auto", "fp32", "bf16", "fp16"}, default="auto"
        As for :class:`BackboneFeatures`.

    device : str, default="auto"
        Torch device; "auto" uses CUDA when available.

    random_state : int, RandomState instance or None, default=None
        Seeds the random initialisation of the backbone when ``weights=None`` (random
        features are a baseline), without touching the global random states.

    verbose : int, default=0
        1 shows a progress bar over the batches.

    Attributes
    ----------
    stem_ : torch.nn.Module
        Preprocessing and the backbone up to ``layer``, in eval mode on ``device_``.

    device_ : str
        The device the backbone runs on.

    Examples
    --------
    >>> import numpy as np
    >>> from ncestimators.adapters import DenseFeatures, downsample_labels
    >>> images = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    >>> maps = DenseFeatures("resnet18", layer="layer2", device="cpu").fit_transform(images)
    >>> maps.shape
    (2, 8, 8, 128)
    >>> labels = np.zeros((2, 64, 64), dtype=int)
    >>> downsample_labels(labels, maps.shape[1:3]).shape
    (2, 8, 8)
    """

    _dense = True

    def __init__(
        self,
        backbone="resnet18",
        *,
        weights=None,
        layer=None,
        batch_size=32,
        num_workers=0,
        precision="auto",
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.backbone = backbone
        self.weights = weights
        self.layer = layer
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.precision = precision
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _make_stem(self, backbone, preprocessing):
        return ImageStem(backbone, preprocessing, channels_last=False, output="map")

    def _dataset(self, X):
        return image_dataset(X, self.stem_.preprocess)

    def _run(self, batch, resized=False):
        return np.moveaxis(super()._run(batch, resized), 1, -1)  # (B, D, h, w) -> (B, h, w, D)


class ClipFeatures(_FeatureExtractor, auto_wrap_output_keys=None):
    """Per-clip features of videos with a video backbone: sequences for the sequence heads.

    Cuts every video into clips of ``clip_len`` frames, every ``stride`` frames, and returns
    one ``(n_clips, D)`` array per video, which :class:`~ncestimators.CoFInAIRegressor` and
    :class:`~ncestimators.ClusterFBSeparator` take directly. Non-overlapping clips
    (``stride=None``) are the protocol of action quality assessment; overlapping snippets (a
    smaller ``stride``) that of temporal action localisation. A video shorter than one clip
    gives one clip, its last frame repeated. The list of arrays has no pandas form:
    ``set_output`` is not offered, and ``transform_output="pandas"`` leaves it a list.

    Parameters
    ----------
    backbone : str or torch.nn.Module, default="r3d_18"
        A torchvision video model name (``"r3d_18"``, ``"r2plus1d_18"``, ``"mc3_18"``,
        ``"s3d"``, ``"mvit_v2_s"``, ``"swin3d_t"``, ...) or a module taking
        ``(B, 3, T, H, W)`` clips.

    weights : str, path-like or None, default=None
        As for :class:`BackboneFeatures` (the Kinetics weights carry their own preprocessing).

    clip_len : int, default=16
        Frames per clip.

    stride : int, default=None
        Frames between the starts of two clips; None uses ``clip_len`` (no overlap).

    pool : {"avg", "max"}, default="avg"
        Pooling of feature maps over time and space.

    layer : str, default=None
        Name of the submodule whose output to take; None takes the input of the last linear
        layer.

    batch_size : int, default=8
        Clips per forward pass.

    num_workers : int, default=0
        Worker processes that cut clips ahead of the model.

    precision : {"auto", "fp32", "bf16", "fp16"}, default="auto"
        As for :class:`BackboneFeatures`.

    device : str, default="auto"
        Torch device; "auto" uses CUDA when available.

    random_state : int, RandomState instance or None, default=None
        Seeds the random initialisation of the backbone when ``weights=None`` (random
        features are a baseline), without touching the global random states.

    verbose : int, default=0
        1 shows a progress bar over the batches.

    Attributes
    ----------
    stem_ : torch.nn.Module
        Preprocessing, backbone and pooling, in eval mode on ``device_``.

    device_ : str
        The device the backbone runs on.

    Examples
    --------
    >>> import numpy as np
    >>> from ncestimators.adapters import ClipFeatures
    >>> rng = np.random.default_rng(0)
    >>> videos = [rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8) for n in (16, 40)]
    >>> clips = ClipFeatures("r3d_18", clip_len=8, device="cpu").fit_transform(videos)
    >>> [features.shape for features in clips]
    [(2, 512), (5, 512)]
    """

    _parameter_constraints = {
        **_FeatureExtractor._parameter_constraints,
        "clip_len": [Interval(Integral, 1, None, closed="left")],
        "stride": [Interval(Integral, 1, None, closed="left"), None],
        "pool": [StrOptions(set(POOLS))],
    }
    _video = True

    def __init__(
        self,
        backbone="r3d_18",
        *,
        weights=None,
        clip_len=16,
        stride=None,
        pool="avg",
        layer=None,
        batch_size=8,
        num_workers=0,
        precision="auto",
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.backbone = backbone
        self.weights = weights
        self.clip_len = clip_len
        self.stride = stride
        self.pool = pool
        self.layer = layer
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.precision = precision
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _make_stem(self, backbone, preprocessing):
        return ClipStem(backbone, preprocessing, pool=self.pool)

    def _dataset(self, X):
        return _Clips(
            open_videos(X), self.clip_len, self.stride or self.clip_len, self.stem_.preprocess
        )

    def _arrange(self, features, dataset):
        return np.split(features, np.cumsum(dataset.counts)[:-1])


def _check_output_shape(outputs, features):
    """Raise a ValueError if a batch's features differ in shape from the first batch's."""
    if outputs.shape[1:] != features.shape[1:]:
        # image files of different sizes, kept by a preprocessing without resize
        raise ValueError(
            f"The images give feature maps of different sizes ({features.shape[1:3]} and "
            f"{outputs.shape[1:3]}), which make no (n, h, w, D) array; resize the images to "
            "one size, or use weights whose preprocessing resizes them."
        )


def image_dataset(X, preprocess):
    """A Dataset of ``(C, H, W)`` image tensors of X; files are decoded one by one.

    Decoded files can differ in size, so each is resized and cropped on its own by
    ``preprocess`` (``resized`` is then true); arrays are preprocessed batch by batch.
    """
    if is_image_collection(X):
        return _ImageFiles(list(X), preprocess)
    images, channels_last = check_image_array(X)
    return _ImageArray(images, channels_last)


class _ImageArray(Dataset):
    """Batches of an image array, indexed by arrays of positions: ``(B, C, H, W)`` tensors.

    Channels-last images stay channels last in memory (a permuted view), which is also the
    layout the CPU's convolution kernels prefer.
    """

    resized = False

    def __init__(self, images, channels_last):
        self.images = images
        self.channels_last = channels_last
        self._batches = BatchBuffer()

    def __len__(self):
        return len(self.images)

    def __getitem__(self, indices):
        # Just these images, also out of a memory map, into the buffer the batches reuse.
        batch = torch.from_numpy(self._batches.gather(self.images, np.asarray(indices)))
        return batch.permute(0, 3, 1, 2) if self.channels_last else batch


class _ImageFiles(Dataset):
    resized = True

    def __init__(self, items, preprocess):
        self.items = items
        self.preprocess = preprocess

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        image = torch.from_numpy(decode_image(self.items[index], index)).movedim(-1, 0)
        with torch.inference_mode():
            return self.preprocess.resize_and_crop(image[None].cpu())[0]


class _Clips(Dataset):
    """The clips of all videos, video by video, in batches: ``(B, L, H, W, C)`` tensors.

    Indexed with an array of clip positions per batch, written into a buffer that every batch
    reuses. Clips of frame arrays are cut as they are (uint8, or [0, 1] floats when the videos
    mix both), and the stem resizes them batch by batch on its device. When there are video
    files, every clip is decoded on its own and resized at once (``resized``), so that no more
    than one clip's frames at the decoded size are in memory, and files of different sizes
    make clips of one size.
    """

    def __init__(self, videos, clip_len, stride, preprocess):
        self.videos = videos
        self.clip_len = clip_len
        self.preprocess = preprocess
        self.resized = any(isinstance(video, VideoFile) for video in videos)
        if not self.resized:
            check_frame_shapes(videos)
        starts = [clip_starts(video.n_frames, clip_len, stride) for video in videos]
        self.counts = [len(video_starts) for video_starts in starts]
        self.index = [
            (video, start) for video, video_starts in enumerate(starts) for start in video_starts
        ]
        self.mixed_dtypes = len({video.dtype for video in videos}) > 1
        self._batches = BatchBuffer()

    def __len__(self):
        return len(self.index)

    def __getitem__(self, indices):
        clips = None
        for row, position in enumerate(indices):
            clip = self._clip(*self.index[position])
            if clips is None:
                clips = self._batches.empty((len(indices), *clip.shape), clip.dtype)
            elif clip.shape != clips.shape[1:]:
                raise ValueError(
                    f"The clips of one batch have different sizes ({clips.shape[1:]} and "
                    f"{clip.shape}); resize the videos to one size, or use weights whose "
                    "preprocessing crops them."
                )
            clips[row] = clip
        return torch.from_numpy(clips)

    def _clip(self, video, start):
        clip = self.videos[video].clip(start, self.clip_len)
        if self.resized:
            with torch.inference_mode():
                return prepare_clip(self.preprocess, torch.from_numpy(clip)).numpy()
        if self.mixed_dtypes and clip.dtype == np.uint8:  # next to [0, 1] float clips
            return clip.astype(np.float32) / 255
        return clip


def _stack(items):
    shapes = {tuple(item.shape) for item in items}
    if len(shapes) > 1:
        raise ValueError(
            f"The images of one batch have different sizes ({sorted(shapes)[:3]}); resize them "
            "to one size, or use weights whose preprocessing resizes them."
        )
    return torch.stack(items)
