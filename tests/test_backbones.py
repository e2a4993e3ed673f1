"""Backbones with real-world weights: the libraries' own preprocessing, timm's cuts, the stride-16
layer of DenseFeatures, and where named weights come from. Nothing touches the network: torch's
hub cache and the Hugging Face cache point at tmp_path, downloads fail as they do offline, and
the weights in the caches are random ones written by the tests. The real ImageNet MobileNetV2
in ../shared/data is used where it exists."""

import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from ncestimators.adapters import BackboneFeatures, DenseFeatures
from ncestimators.adapters._backbones import Preprocess, preprocessing_of
from ncestimators.adapters._stems import ImageStem

pytest.importorskip("torchvision")
timm = pytest.importorskip("timm")

CPU = {"device": "cpu"}
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MOBILENET = SHARED_DATA / "mobilenet_v2_imagenet_features.pt"


def _smooth_images(n, height, width, seed=0):
    """uint8 photographs' stand-ins: smooth waves of random direction and phase per channel."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:height, 0:width] / max(height, width)
    freq = rng.uniform(1, 4, (n, 1, 1, 3, 2))
    phase = rng.uniform(0, 2 * np.pi, (n, 1, 1, 3))
    waves = np.sin(2 * np.pi * (freq[..., 0] * rows[..., None] + freq[..., 1] * cols[..., None]))
    return np.round(127.5 + 120 * np.sin(waves + phase)).astype(np.uint8)


def _preprocessed(transform, images, *, channels_last):
    """What the stem gives the backbone: an identity backbone returns the normalised images."""
    stem = ImageStem(nn.Identity(), preprocessing_of(transform), channels_last=channels_last,
                     output="map")  # fmt: skip
    with torch.no_grad():
        return stem(torch.as_tensor(images))


def _timm_transform(name):
    with torch.device("meta"):
        model = timm.create_model(name)
    return timm.data.create_transform(**timm.data.resolve_model_data_config(model))


def _max_difference(ours, theirs):
    return (ours - theirs).abs().max().item()


# --- preprocessing equal to the libraries' own ---------------------------------------------------


@pytest.mark.parametrize(
    "weights",
    ["Swin_T_Weights.IMAGENET1K_V1", "MobileNet_V2_Weights.IMAGENET1K_V2",
     "ResNet18_Weights.IMAGENET1K_V1"],
)  # fmt: skip
def test_torchvision_preprocessing_is_the_weights_transforms(weights):
    import torchvision.models

    enum, member = weights.split(".")
    transform = getattr(torchvision.models, enum)[member].transforms()
    images = np.random.default_rng(0).integers(0, 256, (3, 47, 61, 3), dtype=np.uint8)
    nchw = torch.from_numpy(images).permute(0, 3, 1, 2)
    # uint8 images are resized as uint8 (rounded), as the transform does with a uint8 tensor.
    expected = transform(nchw)
    assert _max_difference(_preprocessed(transform, images, channels_last=True), expected) < 1e-5
    floats = nchw.float() / 255
    ours = _preprocessed(transform, floats.numpy(), channels_last=False)
    assert _max_difference(ours, transform(floats)) < 1e-5
    grey = images[..., :1]
    expected = transform(torch.from_numpy(grey).permute(0, 3, 1, 2).expand(-1, 3, -1, -1))
    assert _max_difference(_preprocessed(transform, grey, channels_last=True), expected) < 1e-5


def test_torchvision_video_preprocessing_is_the_weights_transforms():
    from torchvision.models.video import R3D_18_Weights

    transform = R3D_18_Weights.KINETICS400_V1.transforms()
    clips = torch.randint(0, 256, (2, 3, 4, 30, 40), dtype=torch.uint8)  # (B, C, T, H, W)
    expected = transform(clips.transpose(1, 2).contiguous())  # it takes (B, T, C, H, W)
    with torch.no_grad():
        ours = Preprocess(preprocessing_of(transform))(clips)
    assert _max_difference(ours, expected) < 1e-5


@pytest.mark.parametrize(
    "name",
    [
        "deit_tiny_distilled_patch16_224",  # bicubic, crop_pct 0.9
        "test_resnet",  # bilinear, crop_pct 0.95
        "convnext_tiny.in12k_ft_in1k_384",  # bicubic, squashed to 384 x 384
    ],
)
def test_timm_preprocessing_is_its_resolved_data_config_and_eval_transform(name):
    from PIL import Image

    transform = _timm_transform(name)
    images = _smooth_images(3, 47, 61)
    floats = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    expected = torch.stack([transform(image) for image in floats])
    ours = _preprocessed(transform, floats.numpy(), channels_last=False)
    assert _max_difference(ours, expected) < 1e-5
    # timm's transforms resize uint8 images as PIL images: equal but for the rounding of PIL's
    # fixed-point resize, at most 2 grey levels on smooth images.
    expected = torch.stack([transform(Image.fromarray(image)) for image in images])
    levels = 2 / 255 / min(transform.transforms[-1].std).item()
    assert _max_difference(_preprocessed(transform, images, channels_last=True), expected) <= (
        levels + 1e-5
    )


def test_a_transform_step_that_cannot_be_reproduced_is_a_value_error():
    from torchvision import transforms

    odd = transforms.Compose([transforms.Grayscale(), transforms.ToTensor()])
    with pytest.raises(ValueError, match="does not reproduce on batches: Grayscale"):
        preprocessing_of(odd)


# --- timm backbones, cut the timm way ------------------------------------------------------------


@pytest.fixture(scope="module")
def small_images():
    return _smooth_images(2, 64, 64)


@pytest.mark.parametrize("name", ["vit_tiny_patch16_224", "deit_tiny_distilled_patch16_224"])
def test_timm_vits_take_small_images_and_give_their_pooled_features(small_images, name):
    extractor = BackboneFeatures(f"timm:{name}", **CPU).fit(small_images)
    features = extractor.transform(small_images)
    assert features.shape == (2, 192) and np.isfinite(features).all()
    transform = _timm_transform(name)
    floats = torch.from_numpy(small_images).permute(0, 3, 1, 2).float() / 255
    expected = torch.stack([transform(image) for image in floats])
    assert _max_difference(extractor.stem_.preprocess(floats), expected) < 1e-5


def test_timm_dense_features_are_features_only_maps(small_images):
    vit = DenseFeatures("timm:vit_tiny_patch16_224", **CPU).fit_transform(small_images)
    assert vit.shape == (2, 14, 14, 192)  # resized to 224, patches of 16
    convnext = DenseFeatures("timm:test_convnext", **CPU).fit_transform(small_images)
    channels = timm.create_model("test_convnext", features_only=True).feature_info.channels()
    assert convnext.shape == (2, 10, 10, channels[-2])  # 160 / 16; the stride-16 stage
    stride_8 = DenseFeatures("timm:test_convnext", layer="stages.1", **CPU).fit(small_images)
    assert stride_8.transform(small_images).shape == (2, 20, 20, channels[-3])
    with pytest.raises(ValueError, match=r"not one of the feature layers.*'stages.2'"):
        DenseFeatures("timm:test_convnext", layer="stages.2.blocks", **CPU).fit(small_images)


def test_timm_checkpoints_are_checked_then_loaded_by_timm(small_images, tmp_path):
    torch.manual_seed(0)
    state = timm.create_model("test_resnet").state_dict()
    headless = {key: value for key, value in state.items() if not key.startswith("fc.")}
    path = tmp_path / "test_resnet.pth"
    torch.save({"state_dict": headless}, path)
    pooled = BackboneFeatures("timm:test_resnet", weights=path, **CPU).fit(small_images)
    dense = DenseFeatures("timm:test_resnet", weights=str(path), **CPU).fit(small_images)
    for extractor in (pooled, dense):
        loaded = extractor.stem_.backbone.state_dict()
        # features_only keeps the layers' names under its wrapper ("model." here)
        same = {key: value for key, value in loaded.items() if key.removeprefix("model.") in state}
        assert len(same) > 10
        for key, value in same.items():
            assert torch.equal(value, state[key.removeprefix("model.")]), key
    torch.save({key: value[..., :1] if value.ndim == 4 else value  # 1 x 1 convolutions
                for key, value in headless.items()}, path)  # fmt: skip
    with pytest.raises(ValueError, match="does not fit the backbone"):
        BackboneFeatures("timm:test_resnet", weights=path, **CPU).fit(small_images)


# --- the stride-16 layer of DenseFeatures --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "channels"), [("resnet18", 256), ("mobilenet_v2", 96), ("timm:test_resnet", None)]
)
def test_dense_features_default_to_the_deepest_stride_16_layer(small_images, name, channels):
    maps = DenseFeatures(name, **CPU).fit_transform(small_images)
    if channels is None:  # timm: resized to its 160 x 160 input; the reduction-16 entry
        info = timm.create_model("test_resnet", features_only=True).feature_info
        channels = info.channels()[info.reduction().index(16)]
        assert maps.shape == (2, 10, 10, channels)
    else:  # torchvision without weights: the images keep their 64 x 64 size
        assert maps.shape == (2, 4, 4, channels)


def test_a_backbone_without_a_stride_16_map_asks_for_a_layer(small_images):
    with pytest.raises(ValueError, match="no layer whose output is a stride-16.*pass layer="):
        DenseFeatures("squeezenet1_0", **CPU).fit(small_images)


# --- where named weights come from ---------------------------------------------------------------


@pytest.fixture
def offline_torch_hub(tmp_path, monkeypatch):
    """torch's hub cache in tmp_path, and downloads that fail as they do without a network."""

    def no_network(url, *args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    return tmp_path / "checkpoints"


def test_torchvision_weights_come_from_the_hub_cache_else_a_clear_error(
    small_images, offline_torch_hub
):
    from torchvision.models import MobileNet_V2_Weights, mobilenet_v2

    weights = MobileNet_V2_Weights.IMAGENET1K_V2
    file_name = Path(weights.url).name
    with pytest.raises(ValueError, match=rf"could not be downloaded.*put it at .*{file_name}"):
        BackboneFeatures("mobilenet_v2", weights="DEFAULT", **CPU).fit(small_images)
    torch.manual_seed(0)
    state = mobilenet_v2().state_dict()
    offline_torch_hub.mkdir(exist_ok=True)
    torch.save(state, offline_torch_hub / file_name)
    for name in ("DEFAULT", "IMAGENET1K_V2"):
        extractor = BackboneFeatures("mobilenet_v2", weights=name, **CPU).fit(small_images)
        first = extractor.stem_.backbone.features[0][0].weight
        assert torch.equal(first, state["features.0.0.weight"])
        transform = weights.transforms()
        preprocess = extractor.stem_.preprocess
        assert (preprocess.resize, preprocess.crop) == (tuple(transform.resize_size),
                                                        tuple(transform.crop_size))  # fmt: skip
        assert preprocess.interpolation == transform.interpolation.value
    # The same file as a checkpoint: the same weights, but images keep their size.
    checkpoint = BackboneFeatures("mobilenet_v2", weights=offline_torch_hub / file_name, **CPU)
    checkpoint.fit(small_images)
    assert torch.equal(checkpoint.stem_.backbone.features[0][0].weight, first)
    assert checkpoint.stem_.preprocess.crop is None


@pytest.fixture
def offline_hugging_face(tmp_path, monkeypatch):
    """An empty Hugging Face cache in tmp_path, in offline mode."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    return tmp_path


def test_timm_weights_come_from_the_hugging_face_cache_else_a_clear_error(
    small_images, offline_hugging_face
):
    from safetensors.torch import save_file

    with pytest.raises(ValueError, match=r"timm/test_vit.*cache at .*Or pass the path"):
        BackboneFeatures("timm:test_vit", weights="DEFAULT", **CPU).fit(small_images)
    torch.manual_seed(0)
    state = timm.create_model("test_vit").state_dict()
    repository = offline_hugging_face / "models--timm--test_vit.r160_in1k"
    revision = "0" * 40
    (repository / "refs").mkdir(parents=True)
    (repository / "refs" / "main").write_text(revision)
    (repository / "snapshots" / revision).mkdir(parents=True)
    save_file(state, repository / "snapshots" / revision / "model.safetensors")
    extractor = BackboneFeatures("timm:test_vit", weights="DEFAULT", **CPU).fit(small_images)
    loaded = extractor.stem_.backbone.patch_embed.proj.weight
    assert torch.equal(loaded, state["patch_embed.proj.weight"])


def test_weights_a_timm_model_does_not_have_are_a_value_error(small_images):
    with pytest.raises(ValueError, match="takes None, 'DEFAULT' or a checkpoint"):
        BackboneFeatures("timm:test_vit", weights="IMAGENET1K_V1", **CPU).fit(small_images)


# --- the real ImageNet MobileNetV2 of ../shared/data ---------------------------------------------


@pytest.mark.skipif(not MOBILENET.is_file(), reason=f"{MOBILENET} is absent (../shared/data)")
def test_real_mobilenet_v2_weights_give_sensible_features():
    images = _smooth_images(4, 96, 96, seed=1)
    extractor = BackboneFeatures("mobilenet_v2", weights=MOBILENET, **CPU).fit(images)
    features = extractor.transform(images)
    assert features.shape == (4, 1280) and np.isfinite(features).all()
    np.testing.assert_array_equal(extractor.transform(images), features)
    assert (features >= 0).all() and (features.std(axis=1) > 0).all()  # pooled ReLU6 maps
    distances = np.linalg.norm(features[:, None] - features[None], axis=-1)
    assert (distances[~np.eye(4, dtype=bool)] > 1e-3).all()
    maps = DenseFeatures("mobilenet_v2", weights=MOBILENET, **CPU).fit_transform(images)
    assert maps.shape == (4, 6, 6, 96) and np.isfinite(maps).all()
