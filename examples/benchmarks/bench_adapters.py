"""Adapters: end-to-end fine-tuning on real digit images, and the speed of the adapters.

**Quality** (``--part quality``): scikit-learn's real handwritten digits (8 x 8, upsampled 4x
to 32 x 32 and scaled to [0, 1]), the long-tailed training split of ``load_digits_lt`` and its
balanced test split. Three ways to use the same small CNN and the same AllNC head, at their
defaults:

* ``FineTune(AllNCClassifier(batch_size=32), backbone=cnn, augment="shift")``: the CNN
  trained from scratch with the head, the two views being two random shifts of each image (no
  flips: a mirrored digit is another digit); batches of 32, since the default 128 leaves only
  4 updates an epoch on 494 images;
* ``BackboneFeatures(cnn)`` (the CNN frozen at its random initialisation) then
  ``StandardScaler`` and ``AllNCClassifier``;
* ``LogisticRegression`` (plain and class-balanced) on the standardised pixels.

**Speed** (``--part speed``): torchvision's resnet18 at 224 x 224, batch 32, on this CPU.
Extraction images/s of ``BackboneFeatures`` against a hand-written inference loop on the same
model and batches (preprocessing included in both), and one ``FineTune`` epoch against a
hand-written training loop of the same network (backbone and head) and loss.

Run with ``python examples/benchmarks/bench_adapters.py [--part quality|speed] [--seeds 3]``;
prints markdown tables.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time

import numpy as np
import torch
from bench_overhead import seconds  # the sibling script; its folder is on sys.path
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from ncestimators import AllNCClassifier, DynamicPrototypeClassifier
from ncestimators._bench import cpu_model
from ncestimators.adapters import BackboneFeatures, FineTune
from ncestimators.datasets import load_digits_lt


def small_cnn():
    """Three convolutions to a 128-dimensional pooled feature: a backbone for 32 x 32 images."""
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Conv2d(64, 128, 3, stride=2, padding=1), nn.BatchNorm2d(128), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    )  # fmt: skip


def digit_images(X):
    """8 x 8 digits (0-16) as 32 x 32 grey images in [0, 1]."""
    images = np.kron(X.reshape(-1, 8, 8), np.ones((4, 4))) / 16
    return images.astype(np.float32)


def quality(seeds, imbalance):
    rows, seconds = {}, {}
    for seed in range(seeds):
        data = load_digits_lt(imbalance_ratio=imbalance, random_state=seed)
        train, test = digit_images(data.X_train), digit_images(data.X_test)
        torch.manual_seed(seed)
        models = {
            # 494 images make 4 steps an epoch at the default batch of 128: too few updates
            # for a CNN trained from scratch.
            "FineTune (CNN trained with the head), batch_size=32": FineTune(
                AllNCClassifier(batch_size=32, random_state=seed),
                backbone=small_cnn(),
                augment="shift",
            ),
            "frozen random CNN + head": make_pipeline(
                BackboneFeatures(small_cnn(), random_state=seed),
                StandardScaler(),
                AllNCClassifier(random_state=seed),
            ),
            "LogisticRegression on pixels": make_pipeline(
                StandardScaler(), LogisticRegression(max_iter=2000)
            ),
            "LogisticRegression(balanced) on pixels": make_pipeline(
                StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced")
            ),
        }
        for name, model in models.items():
            pixels = name.endswith("pixels")
            start = time.perf_counter()
            model.fit(data.X_train if pixels else train, data.y_train)
            seconds.setdefault(name, []).append(time.perf_counter() - start)
            predicted = model.predict(data.X_test if pixels else test)
            rows.setdefault(name, []).append(balanced_accuracy_score(data.y_test, predicted))
    print(
        f"\nload_digits_lt(imbalance_ratio={imbalance}): {len(data.y_train)} training images, "
        f"{len(data.y_test)} test images; balanced accuracy over {seeds} seeds.\n"
    )
    print("| model | balanced accuracy | per seed | fit s |\n|---|---|---|---|")
    for name, scores in rows.items():
        per_seed = " / ".join(f"{score:.3f}" for score in scores)
        print(
            f"| {name} | {np.mean(scores):.3f} ± {np.std(scores):.3f} | {per_seed} | "
            f"{np.median(seconds[name]):.1f} |"
        )


def speed(repeats, n_images=128, batch=32):
    from torchvision.models import resnet18

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n_images, 224, 224, 3), dtype=np.uint8)
    labels = np.arange(n_images) % 4
    extractor = BackboneFeatures("resnet18", batch_size=batch, device="cpu", random_state=0)
    extractor.fit(images[:1])
    model = resnet18().eval()
    model.fc = nn.Identity()
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def hand_extraction():
        with torch.inference_mode():
            for start in range(0, n_images, batch):
                inputs = torch.from_numpy(images[start : start + batch]).permute(0, 3, 1, 2)
                model((inputs.float() / 255 - mean) / std)

    ours = n_images / seconds(lambda: extractor.transform(images), repeats)
    hand = n_images / seconds(hand_extraction, repeats)

    def fine_tune():
        head = DynamicPrototypeClassifier(max_epochs=1, batch_size=batch, device="cpu")
        return FineTune(head, backbone="resnet18").fit(images, labels)

    fitted = fine_tune()  # also the network the hand loop trains

    def hand_training():
        network = fitted.estimator_.net_.module_
        criterion = fitted.estimator_.net_.criterion_
        optimizer = torch.optim.Adam(network.parameters(), lr=1e-3)
        network.train()
        criterion.train()
        inputs, targets = torch.from_numpy(images), torch.from_numpy(labels)
        for indices in torch.randperm(n_images).split(batch):
            optimizer.zero_grad()
            loss = criterion(network(inputs[indices]), targets[indices])
            loss.backward()
            optimizer.step()

    fit_seconds = seconds(fine_tune, repeats)
    loop_seconds = seconds(hand_training, repeats)
    print(
        f"\nCPU: {cpu_model()}, torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads; resnet18, {n_images} images of 224 x 224, batch "
        f"{batch}; medians of {repeats} runs.\n"
    )
    print("| measure | ncestimators | hand-written loop | ratio |\n|---|---|---|---|")
    print(f"| extraction, images/s | {ours:.1f} | {hand:.1f} | {ours / hand:.2f}× |")
    print(
        f"| one fine-tuning epoch, s | {fit_seconds:.1f} | {loop_seconds:.1f} | "
        f"{fit_seconds / loop_seconds:.2f}× |"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["quality", "speed", "both"], default="both")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--imbalance", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.part in ("quality", "both"):
        quality(args.seeds, args.imbalance)
    if args.part in ("speed", "both"):
        speed(args.repeats)


if __name__ == "__main__":
    main()
