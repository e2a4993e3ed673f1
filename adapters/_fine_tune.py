"""FineTune: one wrapper that trains a backbone end to end with any of the five heads."""

# SPDX-License-Identifier: BSD-3-Clause

import functools
import os
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ncestimators._base import TorchEstimatorBase, attach_stem, input_kind
from ncestimators._inputs import Positions
from ncestimators._runtime import seeded

from ._backbones import Preprocess, build_backbone, drop_unused
from ._labels import downsample_labels, upsample_labels
from ._media import check_image_array, decode_images, is_image_collection
from ._stems import POOLS, ClipStem, ImageStem, SequenceStem, StandardAugment
from ._video import ClipSequences, open_videos, prepare_clip

__all__ = ["FineTune"]


def _estimator_has(name):
    def check(self):
        return hasattr(self.estimator, name)

    return check


def _delegate(name):
    """The wrapped estimator's method ``name``, on raw inputs."""

    def method(self, X, *args, **kwargs):
        check_is_fitted(self)
        return getattr(self.estimator_, name)(X, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = (
        f"The fine-tuned estimator's ``{name}`` on raw inputs; see the wrapped estimator."
    )
    return available_if(_estimator_has(name))(method)


class FineTune(MetaEstimatorMixin, BaseEstimator):
    """Train a backbone end to end with the head and the loss of an ncestimators estimator.

    One network is trained: the backbone (with the preprocessing of its weights) in front of
    the estimator's own head, both under the estimator's own loss, with the estimator's
    training parameters (``max_epochs``, ``lr``, ``validation_fraction``, ...). The inputs
    are what the backbone reads, and the fitted wrapper has the estimator's API on them
    (images channels first or last, whatever the layout of the training images):

    ======================================  ==============================================
    Estimator                               Input X (uint8, or floats in [0, 1])
    ======================================  ==============================================
    AllNCClassifier,                        images: ``(n, H, W, C)`` or ``(n, C, H, W)``
    DynamicPrototypeClassifier              arrays, PIL images or image files
    CeCoSegmenter                           images, with ``(n, H, W)`` pixel labels; the
                                            head classifies the cells of the backbone's
                                            feature map (labels are put on that grid by
                                            majority vote), and ``predict`` and
                                            ``predict_proba`` return image-sized maps
                                            (of images of the size fitted on)
    CoFInAIRegressor, ClusterFBSeparator    videos: ``(n_frames, H, W, C)`` frame arrays or
                                            video files, cut into clips of ``clip_len``
                                            frames every ``stride`` frames
    ======================================  ==============================================

    Parameters
    ----------
    estimator : estimator instance
        One of the five ncestimators estimators; it is cloned.

    backbone : str or torch.nn.Module, default="resnet18"
        A torchvision model name (a video model such as ``"r3d_18"`` for the sequence
        heads), ``"timm:<name>"``, or a module.

    weights : str, path-like or None, default=None
        None (random initialisation, trained from scratch), a torchvision weights name or
        ``"DEFAULT"`` (from the library's local cache, else downloaded), or a local
        checkpoint; see :class:`BackboneFeatures`.

    layer : str, default=None
        Submodule whose output feeds the head. None takes the pooled features (the input of
        the last linear layer), and for CeCoSegmenter the deepest stride-16 map of a named
        backbone (see :class:`DenseFeatures`).

    pool : {"avg", "max"}, default="avg"
        Pooling of feature maps for the heads that read vectors.

    backbone_lr : float, default=None
        Learning rate of the backbone (a parameter group of its own); None uses the
        estimator's ``lr``. Pretrained backbones usually want a smaller one.

    freeze : "all", list of str or None, default=None
        Backbone layers that do not train: "all", or parameter-name prefixes such as
        ``["conv1", "bn1", "layer1"]``. Frozen layers also stay in eval mode, so their batch
        statistics do not move.

    augment : {"standard", "shift"}, torch.nn.Module or None, default=None
        Augmentation of the training images (on [0, 1] images, before normalisation, on the
        device): "standard" is a random crop after reflection padding of an eighth of the
        size plus horizontal flips, "shift" the crop alone (for images whose mirror image is
        another class, such as digits); a module takes ``(B, C, H, W)`` batches (``(B, C, T,
        H, W)`` clips). With an augmentation, AllNCClassifier's two views are two augmentations
        of each image; without, they are perturbations of the backbone's features.

    clip_len : int, default=16
        Frames per clip (sequence heads).

    stride : int, default=None
        Frames between clip starts; None uses ``clip_len``.

    Attributes
    ----------
    estimator_ : estimator instance
        The fitted estimator, whose network includes the backbone.

    stem_ : BackboneStem
        The backbone's stem (a ``ncestimators._model.Stem``): the input layout learned in fit,
        and ``build()`` for a fresh copy of the untrained backbone.

    classes_ : ndarray of shape (n_classes,)
        The classes, for classifiers.

    See Also
    --------
    BackboneFeatures, ClipFeatures, DenseFeatures : Frozen features, extracted once.

    Notes
    -----
    The network is ``head(backbone(preprocess(X)))``; everything the estimator does around
    it (seeding, held-out early stopping, warm start, devices, an ``accelerator`` for several
    GPUs) applies unchanged. Training runs in float32 unless the accelerator asks for mixed
    precision. Only the layers the head reads are built: those after ``layer`` are left out,
    and parameters that cannot get a gradient do not train (which DistributedDataParallel
    needs). With the estimator's ``warm_start=True``, a refit goes on training the same
    network unless ``backbone``, ``weights`` or ``layer`` changed; the other parameters
    (``backbone_lr``, ``freeze``, ``augment``, ...) take effect on it.

    Examples
    --------
    >>> import numpy as np
    >>> from torch import nn
    >>> from ncestimators import DynamicPrototypeClassifier
    >>> from ncestimators.adapters import FineTune
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (40, 16, 16, 3), dtype=np.uint8)
    >>> labels = np.arange(40) % 4
    >>> images[labels == 1, :8] = 255  # something to learn
    >>> backbone = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 16, 3))
    >>> model = FineTune(DynamicPrototypeClassifier(max_epochs=3, random_state=0),
    ...                  backbone=backbone, backbone_lr=1e-3).fit(images, labels)
    >>> model.predict(images[:4]).shape
    (4,)
    >>> model.classes_.tolist()
    [0, 1, 2, 3]
    """

    _parameter_constraints: dict = {
        "estimator": [TorchEstimatorBase],
        "backbone": [str, nn.Module],
        "weights": [str, os.PathLike, None],
        "layer": [str, None],
        "pool": [StrOptions(set(POOLS))],
        "backbone_lr": [Interval(Real, 0, None, closed="neither"), None],
        "freeze": [StrOptions({"all"}), list, tuple, None],
        "augment": [StrOptions({"standard", "shift"}), nn.Module, None],
        "clip_len": [Interval(Integral, 1, None, closed="left")],
        "stride": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        estimator,
        *,
        backbone="resnet18",
        weights=None,
        layer=None,
        pool="avg",
        backbone_lr=None,
        freeze=None,
        augment=None,
        clip_len=16,
        stride=None,
    ):
        self.estimator = estimator
        self.backbone = backbone
        self.weights = weights
        self.layer = layer
        self.pool = pool
        self.backbone_lr = backbone_lr
        self.freeze = freeze
        self.augment = augment
        self.clip_len = clip_len
        self.stride = stride

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None):
        """Train the backbone and the estimator's head together.

        Parameters
        ----------
        X : images or videos
            Raw inputs, as the class docstring says.

        y : array-like
            Targets of the estimator's task (pixel labels for CeCoSegmenter).

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each image or video in the loss, passed to the estimator's ``fit``.

        X_val, y_val : images or videos, and their targets, default=None
            A fixed validation set, raw like X and y (images in either channel layout,
            files, videos); passed to the estimator's ``fit``, where its loss drives early
            stopping in place of ``validation_fraction``'s random split.

        Returns
        -------
        self : FineTune
            The fitted wrapper.
        """
        if self.estimator.get_params().get("warm_start") and hasattr(self, "estimator_"):
            estimator = self.estimator_.set_params(**self.estimator.get_params())
        else:
            estimator = clone(self.estimator)
        settings = self.get_params(deep=False)
        del settings["estimator"]
        self.stem_ = BackboneStem(
            input_kind(estimator), settings, ignore_index=estimator.get_params().get("ignore_index")
        )
        attach_stem(estimator, self.stem_)
        self.estimator_ = estimator.fit(X, y, sample_weight, X_val=X_val, y_val=y_val)
        return self

    @property
    def classes_(self):
        check_is_fitted(self)
        return self.estimator_.classes_

    decision_function = _delegate("decision_function")
    score = _delegate("score")
    embed = _delegate("embed")
    predict_grades = _delegate("predict_grades")
    localize = _delegate("localize")
    foreground_proba = _delegate("foreground_proba")
    cluster_proba = _delegate("cluster_proba")
    iou_report = _delegate("iou_report")

    def save_params(
        self,
        f_params=None,
        f_optimizer=None,
        f_criterion=None,
        f_history=None,
        use_safetensors=False,
    ):
        """Save the fine-tuned network's state (backbone and head) with the estimator's
        ``save_params``; :meth:`load_params` reads it into a FineTune with the same settings,
        fitted on images of the same size and classes.
        """
        check_is_fitted(self)
        self.estimator_.save_params(
            f_params, f_optimizer, f_criterion, f_history, use_safetensors=use_safetensors
        )

    def load_params(
        self,
        f_params=None,
        f_optimizer=None,
        f_criterion=None,
        f_history=None,
        use_safetensors=False,
    ):
        """Load state written by :meth:`save_params` (``torch.load(weights_only=True)``)."""
        check_is_fitted(self)
        self.estimator_.load_params(
            f_params, f_optimizer, f_criterion, f_history, use_safetensors=use_safetensors
        )
        return self

    @available_if(_estimator_has("predict"))
    def predict(self, X):
        """The estimator's predictions on raw inputs (image-sized maps for segmentation)."""
        return self._on_image_grid("predict", X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """The estimator's probabilities on raw inputs (image-sized maps for segmentation)."""
        return self._on_image_grid("predict_proba", X)

    def _on_image_grid(self, method, X):
        """The estimator's ``method``; segmentation maps are put back on the image grid."""
        check_is_fitted(self)
        estimator = self.estimator_
        if input_kind(estimator) != "positions":
            return getattr(estimator, method)(X)
        images = self.stem_.images(X)  # decoded once, then passed on as an array
        return upsample_labels(getattr(estimator, method)(images), self.stem_.image_size(images))

    def __sklearn_tags__(self):
        tags = self.estimator.__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags


class BackboneStem:
    """The :class:`~ncestimators._model.Stem` that FineTune gives an estimator.

    ``kind`` is the estimator's input kind: "features" heads read pooled image features,
    "positions" heads the cells of a feature map, "sequences" heads per-clip features.
    ``settings`` are FineTune's parameters but the estimator; ``ignore_index`` is the
    segmentation head's label that does not count, if it has one. Validation in fit probes
    the backbone once to learn its feature dimension (and feature grid) and the shape of its
    inputs, on which the built backbone is cut to the layers that feed the head.

    Two stems are equal when they build the same network: the same kind and the same
    :attr:`network_settings`. A warm start compares them, so it goes on training the network
    whatever else changed; the other settings (learning rate, frozen layers, augmentation,
    pooling, clips) take effect on it.
    """

    network_settings = ("backbone", "weights", "layer")

    def __init__(self, kind, settings, *, ignore_index=None):
        self.kind = kind
        self.settings = settings
        self.ignore_index = ignore_index
        self.channels_last = True

    def __eq__(self, other):
        return (
            isinstance(other, BackboneStem)
            and self.kind == other.kind
            and self._network() == other._network()
        )

    def _network(self):
        return {name: self.settings[name] for name in self.network_settings}

    @property
    def learning_rate(self):
        """The backbone's own learning rate (``backbone_lr``); None for the estimator's."""
        return self.settings["backbone_lr"]

    @property
    def clip_len(self):
        return self.settings["clip_len"]

    @property
    def stride(self):
        return self.settings["stride"] or self.clip_len

    def validate(self, X, *, reset):
        """``(raw input as the network reads it, the head's number of features)``.

        With ``reset`` (in fit), learns the layout of the input and the backbone's features.
        """
        if self.kind == "sequences":
            inputs = self._clip_sequences(X, reset=reset)
        else:
            inputs = self.images(X, reset=reset)
        if reset:
            self._probe(inputs)
        if self.kind == "positions":
            size = self._image_size(inputs, reset)
            inputs = _ImagePositions(inputs, size, self.grid, self.ignore_index)
        return inputs, self.n_features

    def build(self):
        """The backbone with its preprocessing, as a fresh module, cut to what feeds the head.

        The cut (see :func:`drop_unused`) runs the stem once in training mode on zero inputs
        of the shape validation saw.
        """
        settings, video = self.settings, self.kind == "sequences"
        backbone, preprocessing = build_backbone(
            settings["backbone"], settings["weights"], layer=settings["layer"], video=video,
            dense=self.kind == "positions",
        )  # fmt: skip
        augment = settings["augment"]
        options = {
            "pool": settings["pool"],
            "augment": _AUGMENTATIONS[augment]() if isinstance(augment, str) else augment,
            "frozen": _frozen_prefixes(settings["freeze"]),
        }
        if video:
            stem = SequenceStem(ClipStem(backbone, preprocessing, **options))
        else:
            output = "grid" if self.kind == "positions" else "pooled"
            stem = ImageStem(
                backbone, preprocessing, channels_last=self.channels_last, output=output,
                **options,
            )  # fmt: skip
        shape, dtype = self.example
        example = torch.from_numpy(np.zeros(shape, dtype))
        drop_unused(backbone, lambda: stem.train()(example))
        return stem

    def _probe(self, inputs):
        """Learn the backbone's feature dimension (and feature grid) from one input."""
        # A copy: the first input may lie in a read-only memory map, which torch cannot wrap.
        first = np.array(inputs.batch([0])[:, :1] if self.kind == "sequences" else inputs[:1])
        # The cut of every build runs the backbone in training mode on two inputs of this
        # shape: batch normalisation cannot train on one value per channel.
        self.example = ((2, *first.shape[1:]), first.dtype)
        # A throwaway backbone, built without touching the caller's random state.
        with seeded(0):
            module = self.build().eval()
            if self.kind == "positions":
                module.output = "map"  # (1, D, h, w): the feature grid too
            with torch.no_grad():
                outputs = module(torch.as_tensor(first))
        if self.kind == "positions":
            self.n_features, self.grid = int(outputs.shape[1]), tuple(outputs.shape[2:])
        else:
            self.n_features = int(outputs.shape[-1])

    def images(self, X, *, reset=False):
        """Images as an array (files and PIL images decoded).

        With ``reset`` (in fit), records their channel layout, the one the trained network
        reads; later images of the other layout are moved to it (a view, no copy).
        """
        if is_image_collection(X):
            images, channels_last = decode_images(list(X)), True
        else:
            images, channels_last = check_image_array(X)
        if reset:
            self.channels_last = channels_last
        elif channels_last != self.channels_last:
            images = np.moveaxis(images, -1, 1) if channels_last else np.moveaxis(images, 1, -1)
        return images

    def image_size(self, images):
        """``(H, W)`` of images in the channel layout of the network."""
        return images.shape[1:3] if self.channels_last else images.shape[2:4]

    def _image_size(self, images, reset):
        """The images' size; with ``reset``, recorded, else checked against the recorded one.

        The feature grid of the segmentation head depends on the size of the images, so a
        fitted network predicts on images of the size it was fitted on.
        """
        size = tuple(self.image_size(images))
        if reset:
            self.fitted_size = size
        elif size != self.fitted_size:
            raise ValueError(
                f"The images have {size[0]} x {size[1]} pixels, but FineTune was fitted on "
                f"{self.fitted_size[0]} x {self.fitted_size[1]}, whose feature grid "
                f"{self.grid} the segmentation head reads; resize the images to "
                f"{self.fitted_size}."
            )
        return size

    def _clip_sequences(self, X, *, reset):
        """Videos as :class:`ClipSequences`: clips cut, decoded and resized batch by batch.

        The clips are resized and cropped as the backbone's weights want when they are cut, so
        that a batch holds clips at the backbone's input size, whatever the size of the
        videos. With ``reset``, the preprocessing is read from the backbone.
        """
        if reset:
            settings = self.settings
            with seeded(0):  # built to read its preprocessing, without touching random states
                _, preprocessing = build_backbone(
                    settings["backbone"], settings["weights"], layer=settings["layer"],
                    video=True,
                )  # fmt: skip
            self.clip_preprocess = Preprocess(preprocessing)
        return ClipSequences(
            open_videos(X), self.clip_len, self.stride,
            functools.partial(prepare_clip, self.clip_preprocess),
        )  # fmt: skip


_AUGMENTATIONS = {"standard": StandardAugment, "shift": lambda: StandardAugment(flip=False)}


def _frozen_prefixes(freeze):
    """Parameter-name prefixes of the frozen layers ("" is every layer)."""
    if freeze is None:
        return ()
    return ("",) if freeze == "all" else tuple(freeze)


class _ImagePositions(Positions):
    """Images whose positions are the cells of the backbone's feature grid.

    Batches are the raw images (the stem computes the per-cell features); pixel labels, one
    per pixel of the ``image_size`` images, are put on the grid by majority vote, ignoring the
    label ``ignore_index``. Labels already on the grid are taken as they are.
    """

    def __init__(self, images, image_size, grid, ignore_index):
        n_cells = int(np.prod(grid))
        super().__init__(images, "grid", grid, np.full(len(images), n_cells, dtype=np.intp))
        self.image_size = tuple(image_size)
        self.ignore_index = ignore_index

    def batch(self, indices):
        # Just these images, also out of a memory map, into the buffer the batches reuse.
        return self._batches.gather(self.data, np.asarray(indices))

    def flatten_labels(self, y):
        expected = (len(self), *self.image_size)
        try:
            y = np.asarray(y)
        except ValueError as error:  # ragged lists
            raise ValueError(
                f"y cannot be read as one array of pixel labels ({error}); pass an array of "
                f"shape {expected}, one label per pixel."
            ) from error
        if y.shape == expected and self.image_size != self.spatial_shape:
            y = downsample_labels(y, self.spatial_shape, self.ignore_index)
        elif y.shape != (len(self), *self.spatial_shape):
            raise ValueError(
                f"y has shape {y.shape}, but X has {len(self)} images of {self.image_size[0]} x "
                f"{self.image_size[1]} pixels: pass one label per pixel, shape {expected} (or "
                f"one per cell of the feature grid, {(len(self), *self.spatial_shape)})."
            )
        return super().flatten_labels(y)
