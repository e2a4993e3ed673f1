"""Fuzzed inputs: valid input is taken, faulty input is refused with an error that says why.

Hypothesis draws the inputs a user may pass by mistake or on purpose: shapes from empty to a
few samples, dtypes (float16/32/64, ints, bools, objects), NaN and infinity anywhere, labels as
ints, strings, bools or a mix (with NaN), and lengths of X and y that disagree; feature
matrices as arrays, lists, DataFrames with odd column names, sparse matrices and tensors. Each
draw is valid input with up to two faults injected, so whether it is valid is known by
construction: an estimator must fit and predict on a valid draw, with outputs of the documented
shapes, and refuse a faulty one with a ValueError (a TypeError for sparse matrices). Never an
IndexError, a RuntimeError from torch or NumPy's own messages, never NaN predictions.

The adapters get raw media: images as arrays (uint8, float16/32/64 in [0, 1] or outside it,
ints, bools, objects; NaN and infinity) of 1 to 5 dimensions, channels first or last, 1 to 4
channels, 1 to 10 pixels a side, as lists, tensors or big-endian arrays; PIL images of other
modes and sizes; image files, missing paths and files that are no image, in lists and Series;
videos of 0 to 5 frames in every container, uint8 next to float; FineTune's targets of the
wrong length or (for segmentation) the wrong size, and predictions on the other channel
layout. Backbones are tiny local modules and a randomly initialised torchvision model; nothing
is downloaded. What succeeds must have the documented shape and, where the same images can be
given in a reference form (float32 in [0, 1]), the same features.

Generated cases (hypothesis examples per test):

=====================================  =====  ==========================
Estimator or adapter                   Cases  Constant
=====================================  =====  ==========================
DynamicPrototypeClassifier             150    ``FEATURE_EXAMPLES``
AllNCClassifier                        150    ``FEATURE_EXAMPLES``
CoFInAIRegressor                       80     ``SEQUENCE_EXAMPLES``
ClusterFBSeparator                     80     ``SEQUENCE_EXAMPLES``
CeCoSegmenter                          80     ``SEGMENTATION_EXAMPLES``
BackboneFeatures                       200    ``ADAPTER_EXAMPLES``
DenseFeatures                          200    ``ADAPTER_EXAMPLES``
ClipFeatures                           200    ``ADAPTER_EXAMPLES``
downsample_labels, upsample_labels     200    ``ADAPTER_EXAMPLES``
FineTune, each of the five heads       100    ``FINE_TUNE_EXAMPLES``
=====================================  =====  ==========================
"""

import importlib.util
import itertools
import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import config_context
from torch import nn

from ncestimators import (
    AllNCClassifier,
    CeCoSegmenter,
    ClusterFBSeparator,
    CoFInAIRegressor,
    DynamicPrototypeClassifier,
)
from ncestimators.adapters import (
    BackboneFeatures,
    ClipFeatures,
    DenseFeatures,
    FineTune,
    downsample_labels,
    upsample_labels,
)

FEATURE_EXAMPLES = 150
SEQUENCE_EXAMPLES = 80
SEGMENTATION_EXAMPLES = 80
ADAPTER_EXAMPLES = 200
FINE_TUNE_EXAMPLES = 100


def _fuzz(max_examples):
    return settings(
        max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


DTYPES = [np.float16, np.float32, np.float64, np.int64, np.bool_, object]
FLOATS = [np.float16, np.float32, np.float64]
# Labels of at least two classes (the first two samples get the first two), and faulty labels.
CLASSES = {
    "ints": np.array([0, 1, 2]),
    "strings": np.array(["cat", "dog", "emu"]),
    "bools": np.array([False, True]),
}
BAD_LABELS = {
    "mixed": lambda n, rng: np.array([1, "a", 2.5, True] * (n // 4 + 1), dtype=object)[:n],
    "with NaN": lambda n, rng: np.where(np.arange(n) == 0, np.nan, rng.integers(0, 3, n)),
    "one class": lambda n, rng: np.zeros(n, dtype=int),
}
ALLOWED = (ValueError, TypeError)
# How messages of NumPy, torch and Python begin when an internal error leaks through.
INTERNAL_MESSAGE = re.compile(
    r"setting an array element|cannot reshape|all the input array|could not broadcast|"
    r"operands could not|(too many|not enough) values to unpack|zero-size array|attempt to get|"
    r"index -?\d+ is out of bounds|tuple index|Calculated padded|Given groups|mat1 and mat2|"
    r"Expected \dD \(unbatched\)|Expected more than 1 value|Got unsupported|can't convert|"
    r"given numpy array|'\w+' object"
)
CONTAINERS = {
    "ndarray": lambda X: X,
    "list": lambda X: X.tolist(),
    "DataFrame, odd column names": lambda X: pd.DataFrame(
        X, columns=[f"{i} col\n{'é' * i}" for i in range(X.shape[1])]
    ),
    "tensor": lambda X: torch.as_tensor(X) if X.dtype not in (object, np.float16) else X,
}


def _values(shape, dtype, poison, rng):
    values = rng.standard_normal(shape) * 3
    if poison and values.size and np.issubdtype(np.dtype(dtype), np.floating):
        flat = values.reshape(-1)
        flat[rng.integers(flat.size)] = rng.choice([np.nan, np.inf, -np.inf])
    return values.astype(dtype)


def test_the_docstring_counts_the_generated_cases():
    rows = re.findall(r"^(\S.*?)\s{2,}(\d+)\s+``(\w+)``$", __doc__, flags=re.MULTILINE)
    assert len(rows) == 10
    for name, count, constant in rows:
        assert int(count) == globals()[constant], name


def _check_call(call):
    """Run ``call``: allowed errors pass, any other exception fails, outputs must be finite.

    An allowed error must not carry the message of NumPy, torch or Python
    (``INTERNAL_MESSAGE``). Returns the outputs, or None when ``call`` raised an allowed error.
    """
    try:
        outputs = call()
    except ALLOWED as error:
        _check_message(error)
        return None
    _check_finite(outputs)
    return outputs


def _check_draw(call, faults):
    """Run ``call`` on a draw with ``faults``: without any, it must succeed with finite outputs,
    which it returns; with some, it must raise a ValueError that says what is wrong (or a
    TypeError, scikit-learn's error for sparse input), and it returns None."""
    if not faults:
        outputs = call()
        _check_finite(outputs)
        return outputs
    errors = (ValueError, TypeError) if "sparse" in faults else ValueError
    try:
        call()
    except errors as error:
        _check_message(error)
        return None
    pytest.fail(f"input with the faults {sorted(faults)} was taken")


def _check_message(error):
    assert str(error), "an error must say what is wrong"
    leaked = INTERNAL_MESSAGE.match(str(error))
    assert not leaked, f"an internal message leaked: {error}"


def _check_finite(outputs):
    for output in outputs:
        output = np.asarray(output, dtype=float)
        assert np.isfinite(output).all(), "predictions must be finite"


@st.composite
def _faults(draw, kinds, counts=(0, 0, 1, 1, 2)):
    """Distinct faults of ``kinds``, as many as one of ``counts`` says."""
    n_faults = draw(st.sampled_from(counts))
    faults = st.lists(st.sampled_from(kinds), min_size=n_faults, max_size=n_faults, unique=True)
    return set(draw(faults))


# --- estimators: feature vectors, sequences and maps --------------------------------------------
#
# A case is valid input with up to two faults drawn from a list, and is valid exactly when it
# has none: a valid case must fit and predict with outputs of the documented shapes, a faulty
# one must be refused with a ValueError that says what is wrong. A valid case costs a fit, a
# faulty one almost nothing: a fifth of the cases are valid.
ESTIMATOR_FAULT_COUNTS = (0, 1, 1, 2, 2)

FEATURE_FAULTS = [
    "no samples", "one sample", "no features", "NaN or infinity", "sparse", "labels", "length",
]  # fmt: skip


@st.composite
def feature_cases(draw):
    """``(X, y, faults)``: feature vectors in one of ``CONTAINERS`` (or sparse), and labels."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    faults = draw(_faults(FEATURE_FAULTS, ESTIMATOR_FAULT_COUNTS))
    if "no samples" in faults:
        n_samples = 0
    else:
        n_samples = 1 if "one sample" in faults else draw(st.integers(2, 8))
    n_features = 0 if "no features" in faults else draw(st.integers(1, 4))
    dtypes = FLOATS if "NaN or infinity" in faults else DTYPES
    if "sparse" in faults:  # of the dtypes SciPy stores
        dtypes = [dtype for dtype in dtypes if dtype not in (object, np.float16)]
    poison = "NaN or infinity" in faults
    X = _values((n_samples, n_features), draw(st.sampled_from(dtypes)), poison, rng)
    if "sparse" in faults:
        X = scipy.sparse.csr_matrix(X)
    else:
        X = CONTAINERS[draw(st.sampled_from(sorted(CONTAINERS)))](X)
    n_labels = max(n_samples + (draw(st.sampled_from([-1, 1])) if "length" in faults else 0), 0)
    if "labels" in faults:
        y = BAD_LABELS[draw(st.sampled_from(sorted(BAD_LABELS)))](n_labels, rng)
    else:
        classes = CLASSES[draw(st.sampled_from(sorted(CLASSES)))]
        y = classes[rng.integers(0, len(classes), n_labels)]
        y[:2] = classes[: min(n_labels, 2)]
    return X, y, faults


FEATURE_HEADS = {
    "DynamicPrototypeClassifier": lambda: DynamicPrototypeClassifier(
        hidden_dims=(4,), max_epochs=1, random_state=0
    ),
    "AllNCClassifier": lambda: AllNCClassifier(
        hidden_dims=(4,), projection_dim=4, max_epochs=1, random_state=0
    ),
}


@pytest.mark.parametrize("name", list(FEATURE_HEADS))
@_fuzz(FEATURE_EXAMPLES)
@given(case=feature_cases())
def test_feature_heads_take_valid_input_and_say_what_is_wrong_with_faulty_input(name, case):
    X, y, faults = case

    def fit_and_predict():
        model = FEATURE_HEADS[name]().fit(X, y)
        return [model.predict_proba(X), model.decision_function(X)]

    outputs = _check_draw(fit_and_predict, faults)
    if outputs is not None:
        proba, decision = outputs
        n_classes = len(np.unique(y))
        assert proba.shape == (len(y), n_classes)
        assert decision.shape == ((len(y),) if n_classes == 2 else (len(y), n_classes))


SEQUENCE_FAULTS = ["no videos", "no steps", "NaN or infinity", "length"]


@st.composite
def sequence_cases(draw, target_faults, min_videos):
    """``(X, n_targets, faults, rng)``: a list of sequences, and how many targets to draw.

    Without faults there are at least ``min_videos`` sequences.
    """
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    faults = draw(_faults([*SEQUENCE_FAULTS, *target_faults], ESTIMATOR_FAULT_COUNTS))
    n_videos = 0 if "no videos" in faults else draw(st.integers(min_videos, 6))
    n_features = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from(FLOATS if "NaN or infinity" in faults else DTYPES[:4]))
    lengths = [draw(st.integers(1, 4)) for _ in range(n_videos)]
    if "no steps" in faults and lengths:
        lengths[draw(st.integers(0, n_videos - 1))] = 0
    poison = "NaN or infinity" in faults  # one value of every sequence
    X = [_values((length, n_features), dtype, poison, rng) for length in lengths]
    n_targets = n_videos + (draw(st.sampled_from([-1, 1])) if "length" in faults else 0)
    return X, max(n_targets, 0), faults, rng


@_fuzz(SEQUENCE_EXAMPLES)
@given(case=sequence_cases(["NaN score", "one score"], min_videos=2))
def test_cofinai_takes_valid_sequences_and_says_what_is_wrong_with_faulty_ones(case):
    X, n_targets, faults, rng = case
    y = rng.uniform(0, 10, n_targets)
    y[:2] = [0.0, 10.0][:n_targets]  # a score range to divide into grades
    if "one score" in faults:
        y[:] = 7.0
    if "NaN score" in faults and n_targets:
        y[rng.integers(n_targets)] = np.nan

    def fit_and_predict():
        model = CoFInAIRegressor(
            n_grades=2, n_subgrades=2, n_procedures=2, d_procedure=4, d_score=2, max_epochs=1,
            random_state=0,
        ).fit(X, y)  # fmt: skip
        return [model.predict(X)]

    outputs = _check_draw(fit_and_predict, faults)
    if outputs is not None:
        assert outputs[0].shape == (len(X),)


@_fuzz(SEQUENCE_EXAMPLES)
@given(case=sequence_cases(["one class", "not binary"], min_videos=1), n_classes=st.integers(2, 3))
def test_clusterfb_takes_valid_sequences_and_says_what_is_wrong_with_faulty_ones(case, n_classes):
    X, n_targets, faults, rng = case
    y = rng.integers(0, 2, (n_targets, n_classes))  # multi-hot
    if "one class" in faults:
        y = np.ones((n_targets, 1), dtype=int)
    if "not binary" in faults:
        y = y * 3 - 1

    def fit_and_predict():
        model = ClusterFBSeparator(
            n_clusters=2, hidden_dim=4, max_epochs=1, n_snippets=4, random_state=0
        ).fit(X, y)
        return [model.predict_proba(X)]

    outputs = _check_draw(fit_and_predict, faults)
    if outputs is not None:
        assert outputs[0].shape == (len(X), n_classes)


MAP_FAULTS = ["no images", "empty maps", "NaN or infinity", "label shape", "one class"]


@_fuzz(SEGMENTATION_EXAMPLES)
@given(
    seed=st.integers(0, 2**16), faults=_faults(MAP_FAULTS, ESTIMATOR_FAULT_COUNTS), data=st.data()
)
def test_ceco_takes_valid_maps_and_says_what_is_wrong_with_faulty_ones(seed, faults, data):
    rng = np.random.default_rng(seed)
    n_images = 0 if "no images" in faults else data.draw(st.integers(1, 4))
    # Without faults, at least two positions: one of each of two classes.
    size = 0 if "empty maps" in faults else data.draw(st.integers(1 if n_images > 1 else 2, 3))
    dtype = data.draw(st.sampled_from(FLOATS if "NaN or infinity" in faults else DTYPES[:5]))
    X = _values((n_images, size, size, 3), dtype, "NaN or infinity" in faults, rng)
    shift = data.draw(st.sampled_from([-1, 1])) if "label shape" in faults else 0
    y = rng.integers(-1, 3, (n_images, max(size + shift, 0), size))  # -1: not annotated
    if "one class" in faults:
        y = np.where(rng.random(y.shape) < 0.5, -1, 0)
    elif y.size >= 2:
        y.flat[[0, y.size - 1]] = [0, 1]

    def fit_and_predict():
        model = CeCoSegmenter(hidden_dims=(4,), max_epochs=1, random_state=0).fit(X, y)
        return [model.predict_proba(X)]

    outputs = _check_draw(fit_and_predict, faults)
    if outputs is not None:
        n_classes = len(np.unique(y[y != -1]))
        assert outputs[0].shape == (n_images, size, size, n_classes)


# --- adapters: raw images and videos ------------------------------------------------------------
#
# A case is valid input with up to two faults drawn from a list (so that valid input and each
# kind of fault both come up often); ``valid`` says whether the case, as drawn, is input the
# adapter must take.

VISION = all(importlib.util.find_spec(name) for name in ("torchvision", "PIL"))
needs_vision = pytest.mark.skipif(not VISION, reason="the vision extra is not installed")

PIXEL_DTYPES = [np.uint8, np.float16, np.float32, np.float64]
BAD_PIXEL_DTYPES = [np.int64, np.bool_, object]
LAYOUTS = {
    "(n, H, W, C)": lambda n, h, w, c: (n, h, w, c),
    "(n, C, H, W)": lambda n, h, w, c: (n, c, h, w),
    "(n, H, W) grey": lambda n, h, w, c: (n, h, w),
    "1-D": lambda n, h, w, c: (n * h * w,),
    "2-D": lambda n, h, w, c: (n, h * w),
    "5-D": lambda n, h, w, c: (n, 2, h, w, c),
}
IMAGE_LAYOUTS = list(LAYOUTS)[:3]
ARRAY_FORMS = {
    "array": lambda X: X,
    "list of arrays": list,
    "tensor": lambda X: torch.as_tensor(X) if X.dtype != object else X,
    "big-endian array": lambda X: X.astype(X.dtype.newbyteorder(">")) if X.dtype != object else X,
}
FILE_FORMS = ["PIL images", "paths", "Series of paths"]
PIL_MODES = ["RGB", "L", "RGBA", "P"]
PIXEL_FAULTS = ["dtype", "NaN or infinity", "outside [0, 1]"]
IMAGE_FAULTS = ["no images", "layout", "channels", *PIXEL_FAULTS]
FILE_FAULTS = ["no images", "sizes differ", "missing file", "not an image"]
SIDES = st.integers(1, 10)


def _pixels(shape, dtype, faults, rng):
    """Pixels of ``dtype``: 0-255 for integers, [0, 1] for floats unless ``faults`` say else."""
    values = rng.integers(0, 256, shape)
    if not np.issubdtype(np.dtype(dtype), np.floating):
        return (values > 127 if dtype is np.bool_ else values).astype(dtype)
    values = values / 255
    if "outside [0, 1]" in faults and values.size:
        values = values * rng.choice([255, -1, 1.1])
    if "NaN or infinity" in faults and values.size:
        values.reshape(-1)[rng.integers(values.size)] = rng.choice([np.nan, np.inf, -np.inf])
    return values.astype(dtype)


def _pixel_dtype(draw, faults):
    return draw(st.sampled_from(BAD_PIXEL_DTYPES if "dtype" in faults else PIXEL_DTYPES))


def _valid_pixels(dtype, faults):
    floats = np.issubdtype(np.dtype(dtype), np.floating)
    return dtype is np.uint8 or (floats and not {"NaN or infinity", "outside [0, 1]"} & faults)


@st.composite
def image_cases(draw):
    """Images in one of the forms a user may pass: a recipe that :func:`_build_images` follows.

    ``size`` is the (H, W) of the images, ``valid`` whether the adapters must take them.
    """
    form = draw(st.sampled_from([*ARRAY_FORMS, *FILE_FORMS]))
    faults = draw(_faults(IMAGE_FAULTS if form in ARRAY_FORMS else FILE_FAULTS))
    n_images = 0 if "no images" in faults else draw(st.integers(1, 4))
    size = (draw(SIDES), draw(SIDES))
    case = {"seed": draw(st.integers(0, 2**16)), "form": form, "size": size}
    if form in FILE_FORMS:
        differ = "sizes differ" in faults
        sizes = [(draw(SIDES), draw(SIDES)) if differ else size for _ in range(n_images)]
        items = [(*item_size, draw(st.sampled_from(PIL_MODES))) for item_size in sizes]
        for fault in ("missing file", "not an image"):
            if fault in faults and form != "PIL images" and items:
                items[draw(st.integers(0, len(items) - 1))] = fault
        case["items"] = items
        readable = all(isinstance(item, tuple) for item in items)
        case["valid"] = bool(items) and readable and {item[:2] for item in items} == {size}
        return case
    layouts = list(LAYOUTS)[3:] if "layout" in faults else IMAGE_LAYOUTS
    layout = draw(st.sampled_from(layouts))
    channels = draw(st.sampled_from([2, 4] if "channels" in faults else [3, 1]))
    dtype = _pixel_dtype(draw, faults)
    case.update(
        shape=LAYOUTS[layout](n_images, *size, channels), dtype=dtype, faults=faults,
        valid=n_images > 0 and layout in IMAGE_LAYOUTS and _valid_pixels(dtype, faults)
        and (channels in (1, 3) or layout == "(n, H, W) grey"),
    )  # fmt: skip
    return case


def _build_images(case, directory):
    """``(X, n_images, reference)``: the images of ``case`` and, for valid ones, the same images
    as a float32 or uint8 array, which must give the same features."""
    from PIL import Image

    rng = np.random.default_rng(case["seed"])
    if case["form"] in ARRAY_FORMS:
        images = _pixels(case["shape"], case["dtype"], case["faults"], rng)
        X = ARRAY_FORMS[case["form"]](images)
        reference = images.astype(np.float32) / (255 if images.dtype == np.uint8 else 1)
        return X, case["shape"][0], reference if case["valid"] else None
    X, arrays = [], []
    for item in case["items"]:
        if item == "missing file":
            X.append(directory / "missing.png")
            continue
        if item == "not an image":
            X.append(directory / "text.png")
            X[-1].write_text("not an image")
            continue
        pixels = rng.integers(0, 256, (*item[:2], 3), dtype=np.uint8)
        image = Image.fromarray(pixels).convert(item[2])
        arrays.append(np.array(image.convert("RGB")))
        if case["form"] == "PIL images":
            X.append(image)
        else:
            X.append(directory / f"{next(_FILE_NUMBERS)}.png")
            image.save(X[-1])
    if case["form"] == "paths":
        X = [str(path) for path in X]
    elif case["form"] == "Series of paths":
        X = pd.Series(X, index=np.arange(len(X)) * 2 + 1, dtype=object)
    return X, len(case["items"]), np.stack(arrays) if case["valid"] else None


_FILE_NUMBERS = itertools.count()


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzzed_media")


IMAGE_BACKBONES = {
    # (the backbone, the layer of its feature map for DenseFeatures)
    "padded conv": (lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU()), None),
    "strided conv, no padding": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.BatchNorm2d(4)),
        None,
    ),
    "pooled linear": (
        lambda: nn.Sequential(nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(12, 4)),
        None,
    ),
    "mobilenet_v3_small": (lambda: "mobilenet_v3_small", "features.1"),
}
# The padded convolution runs on images of any size: it is drawn most often.
IMAGE_BACKBONE_DRAWS = ["padded conv", *IMAGE_BACKBONES]
CPU = {"device": "cpu", "random_state": 0}


def _check_extractor(extractor, case, media_dir, output, must_take):
    """Fit and transform on the case's images; the features of what succeeded, else None.

    ``must_take``: the backbone runs on any image, so valid images must give features.
    """
    X, n_images, reference = _build_images(case, media_dir)

    def extract():
        with config_context(transform_output=output):
            return [extractor.fit(X).transform(X)]

    outputs = _check_call(extract)
    if outputs is None:
        assert not (must_take and case["valid"]), "valid images must be taken"
        return None
    features = outputs[0]
    assert len(features) == n_images
    assert features.shape[-1] == len(extractor.get_feature_names_out())
    if reference is not None:
        np.testing.assert_allclose(
            extractor.transform(reference), np.asarray(features), rtol=1e-4, atol=1e-4
        )
    return features


# The draws of both image extractors: images, a backbone, a batch size and an output container.
image_extractor_draws = given(
    case=image_cases(),
    backbone=st.sampled_from(IMAGE_BACKBONE_DRAWS),
    batch_size=st.integers(1, 4),
    output=st.sampled_from(["default", "pandas"]),
)


@needs_vision
@_fuzz(ADAPTER_EXAMPLES)
@image_extractor_draws
def test_backbone_features_take_any_images_or_say_what_is_wrong(
    media_dir, case, backbone, batch_size, output
):
    extractor = BackboneFeatures(IMAGE_BACKBONES[backbone][0](), batch_size=batch_size, **CPU)
    features = _check_extractor(extractor, case, media_dir, output, backbone == "padded conv")
    if features is not None:
        assert isinstance(features, pd.DataFrame) == (output == "pandas")
        assert features.ndim == 2


@needs_vision
@_fuzz(ADAPTER_EXAMPLES)
@image_extractor_draws
def test_dense_features_take_any_images_or_say_what_is_wrong(
    media_dir, case, backbone, batch_size, output
):
    module, layer = IMAGE_BACKBONES[backbone]
    extractor = DenseFeatures(module(), layer=layer, batch_size=batch_size, **CPU)
    features = _check_extractor(extractor, case, media_dir, output, backbone == "padded conv")
    if features is not None:
        assert isinstance(features, np.ndarray) and features.ndim == 4  # maps have no DataFrame


VIDEO_FORMS = {
    "list": lambda videos: videos,
    "tuple": tuple,
    "1-D object array": lambda videos: _object_array(videos),
    "Series": lambda videos: pd.Series(_object_array(videos)),
    "5-D array": lambda videos: np.stack(videos) if _stackable(videos) else videos,
    "list of tensors": lambda videos: [_tensor(video) for video in videos],
    "5-D tensor": lambda videos: _tensor(np.stack(videos)) if _stackable(videos) else videos,
    # Faults:
    "one video, not in a list": lambda videos: videos[0],
    "paths that do not exist": lambda videos: [f"missing_{i}.mp4" for i in range(len(videos))],
}
VIDEO_FAULTS = [
    "no videos", "no frames", "channels", "channels first", "frame sizes differ", "form",
    *PIXEL_FAULTS,
]  # fmt: skip
VIDEO_BACKBONES = {
    "padded conv": lambda: nn.Sequential(nn.Conv3d(3, 4, 3, padding=1), nn.ReLU()),
    "conv, no padding": lambda: nn.Conv3d(3, 4, 2),
    "image conv": lambda: nn.Conv2d(3, 4, 1),
}
VIDEO_BACKBONE_DRAWS = ["padded conv", *VIDEO_BACKBONES]


def _object_array(items):
    array = np.empty(len(items), dtype=object)
    for index, item in enumerate(items):
        array[index] = item
    return array


def _stackable(videos):
    return bool(videos) and len({(video.shape, video.dtype) for video in videos}) == 1


def _tensor(array):
    return torch.as_tensor(array) if array.dtype != object else array


@st.composite
def video_cases(draw):
    """``(X, n_frames, reference, valid)``: videos of 0 to 5 frames in one of the forms of
    ``VIDEO_FORMS``, their lengths, and for valid ones the same videos as float32 arrays."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    faults = draw(_faults(VIDEO_FAULTS))
    n_videos = 0 if "no videos" in faults else draw(st.integers(1, 3))
    n_frames = [draw(st.integers(1, 5)) for _ in range(n_videos)]
    if "no frames" in faults and n_frames:
        n_frames[draw(st.integers(0, n_videos - 1))] = 0
    sizes = [(draw(SIDES), draw(SIDES))]
    if "frame sizes differ" in faults:
        sizes = [(draw(SIDES), draw(SIDES)) for _ in n_frames] or sizes
    channels = draw(st.sampled_from([2, 4] if "channels" in faults else [3, 1]))
    dtype = _pixel_dtype(draw, faults)
    mixed = draw(st.booleans())  # every other video uint8, the others float32 in [0, 1]
    videos, reference = [], []
    for index, length in enumerate(n_frames):
        size = sizes[index % len(sizes)]
        if "channels first" in faults:
            shape = (length, channels, *size)
        else:
            shape = (length, *size, channels)
        video = _pixels(shape, dtype, faults, rng)
        if mixed and _valid_pixels(dtype, faults):
            video = _pixels(shape, np.uint8 if index % 2 else np.float32, set(), rng)
        videos.append(video)
        reference.append(video.astype(np.float32) / (255 if video.dtype == np.uint8 else 1))
    forms = list(VIDEO_FORMS)[-2:] if "form" in faults and videos else list(VIDEO_FORMS)[:-2]
    form = draw(st.sampled_from(forms))
    valid = (
        bool(videos) and min(n_frames) > 0 and channels in (1, 3)
        and "channels first" not in faults and _valid_pixels(dtype, faults)
        and form in list(VIDEO_FORMS)[:-2] and len({video.shape[1:] for video in videos}) == 1
    )  # fmt: skip
    return VIDEO_FORMS[form](videos), n_frames, reference if valid else None, valid


def _clip_counts(n_frames, clip_len, stride):
    return [1 if length <= clip_len else (length - clip_len) // stride + 1 for length in n_frames]


@_fuzz(ADAPTER_EXAMPLES)
@given(
    case=video_cases(),
    backbone=st.sampled_from(VIDEO_BACKBONE_DRAWS),
    clip_len=st.integers(1, 4),
    stride=st.sampled_from([None, 1, 2]),
    batch_size=st.integers(1, 3),
    output=st.sampled_from(["default", "pandas"]),
)
def test_clip_features_take_any_videos_or_say_what_is_wrong(
    case, backbone, clip_len, stride, batch_size, output
):
    X, n_frames, reference, valid = case
    extractor = ClipFeatures(
        VIDEO_BACKBONES[backbone](), clip_len=clip_len, stride=stride, batch_size=batch_size,
        **CPU,
    )  # fmt: skip

    def extract():
        with config_context(transform_output=output):
            return extractor.fit(X).transform(X)

    clips = _check_call(extract)
    if clips is None:
        assert not (valid and backbone == "padded conv"), "valid videos must be taken"
        return
    assert isinstance(clips, list)  # one array per video, also with pandas output
    counts = _clip_counts(n_frames, clip_len, stride or clip_len)
    assert [features.shape for features in clips] == [(count, 4) for count in counts]
    if reference is not None:
        for got, want in zip(clips, extractor.transform(reference), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


LABEL_KINDS = {
    "ints": lambda shape, rng: rng.integers(-1, 3, shape),
    "bools": lambda shape, rng: rng.random(shape) < 0.5,
    "strings": lambda shape, rng: rng.choice(["sky", "road"], shape),
    # Faults:
    "floats with NaN": lambda shape, rng: np.where(rng.random(shape) < 0.2, np.nan, 1.0),
    "ints and strings": lambda shape, rng: rng.choice(np.array([1, "road"], dtype=object), shape),
}
BAD_SIZES = [4, (2,), (1, 2, 3), (1.5, 2), None, "ab", (0, 1), (-1, 2)]


@_fuzz(ADAPTER_EXAMPLES)
@given(
    seed=st.integers(0, 2**16),
    faults=_faults(["labels", "dimensions", "no images", "no pixels", "size"]),
    data=st.data(),
)
def test_label_helpers_take_any_labels_or_say_what_is_wrong(seed, faults, data):
    n_dims = data.draw(st.sampled_from([2, 4] if "dimensions" in faults else [3]))
    shape = [data.draw(st.integers(1, 6)) for _ in range(n_dims)]
    if "no images" in faults:
        shape[0] = 0
    if "no pixels" in faults:
        shape[-1] = 0
    kinds = list(LABEL_KINDS)[3:] if "labels" in faults else list(LABEL_KINDS)[:3]
    y = LABEL_KINDS[data.draw(st.sampled_from(kinds))](tuple(shape), np.random.default_rng(seed))
    if "size" in faults:
        size = data.draw(st.sampled_from(BAD_SIZES))
    else:
        size = tuple(data.draw(st.integers(1, max(side, 1))) for side in (shape + [1, 1])[1:3])

    def down_and_up():
        votes = downsample_labels(y, size)
        assert votes.shape == (len(y), *size) and votes.dtype == y.dtype
        assert set(np.unique(votes)) <= set(np.unique(y)) | {-1}
        assert upsample_labels(votes, y.shape[1:]).shape == y.shape
        return []

    def up():
        assert upsample_labels(y, size).shape == (len(y), *size, *y.shape[3:])
        return []

    _check_call(down_and_up)
    _check_call(up)


# --- FineTune ---------------------------------------------------------------------------------

FINE_TUNE_HEADS = {
    "DynamicPrototypeClassifier": lambda: DynamicPrototypeClassifier(
        hidden_dims=(4,), max_epochs=1, random_state=0
    ),
    "AllNCClassifier": lambda: AllNCClassifier(
        hidden_dims=(4,), projection_dim=4, max_epochs=1, random_state=0
    ),
    "CeCoSegmenter": lambda: CeCoSegmenter(hidden_dims=(4,), max_epochs=1, random_state=0),
}
TARGET_FAULTS = ["labels", "length", "label size"]


def _other_layout(images):
    """The images with their channels moved to the other end (NHWC <-> NCHW)."""
    if images.shape[-1] in (1, 3):
        return np.moveaxis(images, -1, 1)
    return np.moveaxis(images, 1, -1)


def _shift(faults, fault, draw):
    return draw(st.sampled_from([-1, 1])) if fault in faults else 0


@needs_vision
@pytest.mark.parametrize("name", list(FINE_TUNE_HEADS))
@_fuzz(FINE_TUNE_EXAMPLES)
@given(
    case=image_cases(),
    backbone=st.sampled_from(["padded conv", "padded conv", "strided conv, no padding"]),
    faults=_faults(TARGET_FAULTS, counts=(0, 0, 0, 1)),
    data=st.data(),
)
def test_fine_tune_takes_any_images_or_says_what_is_wrong(
    media_dir, name, case, backbone, faults, data
):
    X, n_images, reference = _build_images(case, media_dir)
    rng = np.random.default_rng(case["seed"])
    n_labels = max(n_images + _shift(faults, "length", data.draw), 0)
    if name == "CeCoSegmenter":
        height, width = case["size"]
        height = max(height + _shift(faults, "label size", data.draw), 0)
        y = rng.integers(-1, 3, (n_labels, height, width))
        if "labels" in faults:
            y = np.where(y < 0, np.nan, y)
    elif "labels" in faults:
        y = BAD_LABELS[data.draw(st.sampled_from(sorted(BAD_LABELS)))](n_labels, rng)
    else:  # two classes from two images on
        classes = np.array(data.draw(st.sampled_from([[0, 1], ["cat", "dog"]])))
        y = classes[np.arange(n_labels) % 2]
    model = FineTune(FINE_TUNE_HEADS[name](), backbone=IMAGE_BACKBONES[backbone][0]())

    outputs = _check_call(lambda: [model.fit(X, y).predict_proba(X)])
    if outputs is None:
        return
    proba = outputs[0]
    n_classes = len(model.classes_)
    assert proba.shape[0] == n_images and proba.shape[-1] == n_classes
    # (n, C, H, W) images with W = 1 or 3 read as (n, H, W, C): those sizes are ambiguous.
    unambiguous = reference is not None and case["size"][1] not in (1, 3)
    if name == "CeCoSegmenter" and unambiguous:
        assert proba.shape == (n_images, *case["size"], n_classes)
    # Predictions on the other channel layout are those of the layout fitted on.
    if unambiguous and reference.ndim == 4:
        np.testing.assert_allclose(
            model.predict_proba(_other_layout(reference)), proba, rtol=1e-4, atol=1e-5
        )


SMALL_COFINAI = dict(n_grades=2, n_subgrades=2, n_procedures=2, d_procedure=4, d_score=2)
SEQUENCE_FINE_TUNE_HEADS = {
    "CoFInAIRegressor": lambda: CoFInAIRegressor(**SMALL_COFINAI, max_epochs=1, random_state=0),
    "ClusterFBSeparator": lambda: ClusterFBSeparator(
        n_clusters=2, hidden_dim=4, max_epochs=1, n_snippets=4, random_state=0
    ),
}


@pytest.mark.parametrize("name", list(SEQUENCE_FINE_TUNE_HEADS))
@_fuzz(FINE_TUNE_EXAMPLES)
@given(
    case=video_cases(),
    backbone=st.sampled_from(["padded conv", "padded conv", "conv, no padding"]),
    clip_len=st.integers(1, 3),
    faults=_faults(TARGET_FAULTS[:2], counts=(0, 0, 0, 1)),
    data=st.data(),
)
def test_fine_tune_takes_any_videos_or_says_what_is_wrong(
    name, case, backbone, clip_len, faults, data
):
    X, n_frames, _, _ = case
    rng = np.random.default_rng(len(n_frames))
    n_targets = max(len(n_frames) + _shift(faults, "length", data.draw), 0)
    if name == "CoFInAIRegressor":
        y = rng.uniform(0, 10, n_targets)
        if "labels" in faults and n_targets:
            y[0] = np.nan
    else:
        y = rng.integers(0, 2, (n_targets, 2))
        if "labels" in faults:
            y = y * 3 - 1  # not binary
    model = FineTune(
        SEQUENCE_FINE_TUNE_HEADS[name](), backbone=VIDEO_BACKBONES[backbone](), clip_len=clip_len
    )
    method = "predict" if name == "CoFInAIRegressor" else "predict_proba"
    outputs = _check_call(lambda: [getattr(model.fit(X, y), method)(X)])
    if outputs is not None:
        assert len(outputs[0]) == len(n_frames)
