"""Synthetic dense features: long-tailed, co-occurring, spatially coherent classes."""

# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from scipy.ndimage import gaussian_filter
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["make_dense_segmentation"]

# Fixed-point steps that tune the per-class offsets of the label fields to the target areas.
_N_CALIBRATION_STEPS = 60
_N_CALIBRATION_IMAGES = 48


@validate_params(
    {
        "n_images": [Interval(Integral, 1, None, closed="left")],
        "height": [Interval(Integral, 1, None, closed="left")],
        "width": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "imbalance": [Interval(Real, 1, None, closed="left")],
        "n_scenes": [Interval(Integral, 1, None, closed="left")],
        "region_size": [Interval(Real, 0, None, closed="neither")],
        "context": [Interval(Real, 0, 1, closed="both")],
        "tail_similarity": [Interval(Real, 0, 1, closed="right")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_dense_segmentation(
    n_images=100,
    height=32,
    width=32,
    n_features=32,
    n_classes=12,
    *,
    imbalance=100.0,
    n_scenes=3,
    region_size=3.0,
    context=0.3,
    tail_similarity=0.9,
    noise=1.0,
    random_state=None,
):
    """Generate per-pixel features and label maps of an imbalanced semantic segmentation task.

    A stand-in for the frozen dense features of a segmentation backbone on a data set such as
    ADE20K or ScanNet200, with the properties that make such data hard for the rare
    classes [1]_:

    * **spatially coherent regions**: each label map is the arg-max of smooth random fields, one
      per class, so classes form blobs and regions rather than salt-and-pepper noise;
    * **long-tailed class areas**: class ``c`` covers a fraction of all pixels proportional to
      ``imbalance ** (-c / (n_classes - 1))``, so class 0 covers ``imbalance`` times the area of
      the last class (the frequent "stuff" classes first, the rare small "things" last);
    * **co-occurring classes** (context correlation): every image shows one of ``n_scenes``
      scene types, and a scene only contains its own classes (class ``c`` belongs to scene
      ``c % n_scenes``; class 0, the most frequent, appears in every scene), so classes of one
      scene always appear together and classes of different scenes never do;
    * **tail classes close to each other**: every class has a unit prototype in feature space,
      and the rarer the class the more its prototype leans towards one shared "tail" direction
      (the cosine between the prototypes of two classes of relative rank ``r`` and ``r'`` in
      ``[0, 1]`` is about ``tail_similarity**2 * r * r'``), so a classifier that sees few tail
      pixels can easily merge the tail classes (minority collapse).

    The feature of a pixel mixes its own class prototype with the prototypes of its neighbourhood
    (a Gaussian window of width ``region_size``, the receptive field of a backbone), weighted by
    ``context``, plus isotropic Gaussian noise. Small tail blobs therefore also carry the
    features of the regions around them.

    Parameters
    ----------
    n_images : int, default=100
        Number of images n.

    height, width : int, default=32
        Size H x W of each feature map (and label map).

    n_features : int, default=32
        Feature dimension D.

    n_classes : int, default=12
        Number of classes K, at least 2.

    imbalance : float, default=100.0
        Ratio of the expected area of the most frequent class to that of the rarest one, at
        least 1 (1 gives equal areas).

    n_scenes : int, default=3
        Number of scene types; each image shows the classes of one of them. Use 1 for no
        co-occurrence structure.

    region_size : float, default=3.0
        Spatial scale, in pixels, of the random fields that draw the regions and of the
        neighbourhood that mixes into each pixel's feature. Larger values give larger regions.

    context : float, default=0.3
        Weight in ``[0, 1]`` of the neighbourhood in each pixel's noiseless feature; 0 gives
        purely per-pixel features.

    tail_similarity : float, default=0.9
        How strongly the prototypes of rare classes lean towards the shared tail direction, in
        ``(0, 1]``; close to 1 makes the rarest classes nearly indistinguishable.

    noise : float, default=1.0
        Expected norm of the isotropic Gaussian noise added to each pixel's feature (the
        prototypes have unit norm).

    random_state : int, RandomState instance or None, default=None
        Draws the prototypes, scenes, fields and noise. Pass an int for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_images, height, width, n_features), dtype float32
        Per-pixel features.

    y : ndarray of shape (n_images, height, width), dtype int64
        Per-pixel class in ``0 .. n_classes - 1``, 0 the most frequent.

    Notes
    -----
    The label map of an image of scene :math:`s` is
    :math:`y(p) = \\arg\\max_{c \\in \\mathcal{C}_s} f_c(p) + b_c`, where the :math:`f_c` are
    white noise smoothed by a Gaussian of width ``region_size`` and standardised, and the offsets
    :math:`b_c` are tuned on a pilot sample of images by a fixed-point iteration so that the class
    areas follow the long-tailed profile :math:`\\pi_c \\propto \\rho^{-c/(K-1)}`, with
    :math:`\\rho` = ``imbalance``. The rarest classes of a scene then appear as small blobs where
    their field peaks, inside the regions of the frequent classes of the same scene. With
    prototypes :math:`\\mu_c` and :math:`g_c(p)` the Gaussian-smoothed indicator of class
    :math:`c`, the feature of pixel :math:`p` is

    .. math::

        x(p) = (1 - \\kappa)\\, \\mu_{y(p)} + \\kappa \\sum_c g_c(p)\\, \\mu_c
            + \\frac{\\sigma}{\\sqrt{D}}\\, \\varepsilon(p), \\qquad
        \\mu_c \\propto \\sqrt{1 - a_c^2}\\, u_c + a_c\\, t, \\quad
        a_c = \\tau \\frac{c}{K - 1},

    with :math:`\\kappa` = ``context``, :math:`\\sigma` = ``noise``, :math:`\\tau` =
    ``tail_similarity``, :math:`u_c` and :math:`t` random unit vectors and
    :math:`\\varepsilon(p)` standard normal.

    References
    ----------
    .. [1] Z. Zhong, J. Cui, Y. Yang, X. Wu, X. Qi, X. Zhang and J. Jia, "Understanding
       Imbalanced Semantic Segmentation Through Neural Collapse", CVPR 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from ncestimators.datasets import make_dense_segmentation
    >>> X, y = make_dense_segmentation(n_images=20, height=16, width=16, n_features=8,
    ...                                n_classes=6, imbalance=20, random_state=0)
    >>> X.shape, y.shape
    ((20, 16, 16, 8), (20, 16, 16))
    >>> areas = np.bincount(y.ravel(), minlength=6) / y.size
    >>> bool(areas[0] > areas[-1])
    True
    """
    rng = check_random_state(random_state)
    n_classes = int(n_classes)
    relative_rank = np.arange(n_classes) / (n_classes - 1)
    prototypes = _class_prototypes(n_features, relative_rank * tail_similarity, rng)
    scene_classes = _scene_classes(n_classes, n_scenes)
    scenes = rng.randint(n_scenes, size=n_images)
    areas = float(imbalance) ** -relative_rank
    areas /= areas.sum()

    shape = (height, width)
    pilot_scenes = np.arange(_N_CALIBRATION_IMAGES) % n_scenes
    pilot_fields = [_standard_fields(n_classes, shape, region_size, rng) for _ in pilot_scenes]
    offsets = _calibrate_offsets(pilot_fields, scene_classes[pilot_scenes], areas)

    X = np.empty((n_images, height, width, n_features), dtype=np.float32)
    y = np.empty((n_images, height, width), dtype=np.int64)
    noise_scale = noise / np.sqrt(n_features)
    for index, allowed in enumerate(scene_classes[scenes]):
        fields = _standard_fields(n_classes, shape, region_size, rng)
        y[index] = _label_map(fields, offsets, allowed)
        X[index] = _pixel_features(y[index], prototypes, region_size, context)
        X[index] += noise_scale * rng.standard_normal(X.shape[1:])
    return X, y


def _class_prototypes(n_features, tail_weights, rng):
    """Unit prototypes (K, D) leaning towards a shared direction by the given weights."""
    directions = rng.standard_normal((len(tail_weights) + 1, n_features))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    own, shared = directions[:-1], directions[-1]
    prototypes = np.sqrt(1 - tail_weights[:, None] ** 2) * own + tail_weights[:, None] * shared
    return prototypes / np.linalg.norm(prototypes, axis=1, keepdims=True)


def _scene_classes(n_classes, n_scenes):
    """Boolean (n_scenes, K): class c belongs to scene c % n_scenes; class 0 to every scene."""
    member = np.arange(n_classes) % n_scenes == np.arange(n_scenes)[:, None]
    member[:, 0] = True
    return member


def _standard_fields(n_classes, shape, region_size, rng):
    """K smooth Gaussian random fields of the given shape, each standardised."""
    white = rng.standard_normal((n_classes, *shape))
    fields = gaussian_filter(white, sigma=(0, region_size, region_size), mode="wrap")
    fields -= fields.mean(axis=(1, 2), keepdims=True)
    fields /= fields.std(axis=(1, 2), keepdims=True) + 1e-12
    return fields


def _label_map(fields, offsets, allowed):
    """Arg-max over the allowed classes of the offset fields."""
    scores = fields + offsets[:, None, None]
    scores[~allowed] = -np.inf
    return scores.argmax(axis=0)


def _calibrate_offsets(fields, allowed, areas):
    """Per-class offsets b_c making the arg-max areas of the pilot images match ``areas``."""
    offsets = np.log(areas)
    floor = 0.1 / sum(field[0].size for field in fields)
    for _ in range(_N_CALIBRATION_STEPS):
        counts = sum(
            np.bincount(_label_map(field, offsets, mask).ravel(), minlength=len(areas))
            for field, mask in zip(fields, allowed, strict=True)
        )
        observed = counts / counts.sum()
        offsets += 0.5 * (np.log(areas) - np.log(np.maximum(observed, floor)))
    return offsets


def _pixel_features(labels, prototypes, region_size, context):
    """Noiseless features (H, W, D): own prototype mixed with the neighbourhood's prototypes."""
    n_classes = len(prototypes)
    indicators = (labels == np.arange(n_classes)[:, None, None]).astype(np.float64)
    neighbourhood = gaussian_filter(indicators, sigma=(0, region_size, region_size), mode="wrap")
    own = prototypes[labels]
    surroundings = np.tensordot(neighbourhood, prototypes, axes=(0, 0))
    return (1 - context) * own + context * surroundings
