"""End to end: a small CNN trained from scratch together with a head, on digit images.

Digits (8 x 8 images, upsampled to 16 x 16) feed a CNN whose features go to an
AllNCClassifier; FineTune trains both with the head's own loss, the two views of each image
being two random shifts. The same CNN left at its random initialisation, with only the head
trained on its features, is the comparison. (On these tiny images a linear model on the
pixels is hard to beat; see examples/benchmarks/bench_adapters.py.)

Run: ``python examples/fine_tune_digits.py``; about a minute on a CPU (much less on a GPU).
"""

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from ncestimators import AllNCClassifier
from ncestimators.adapters import BackboneFeatures, FineTune
from ncestimators.datasets import load_digits_lt

data = load_digits_lt(imbalance_ratio=1, random_state=0)
train = np.kron(data.X_train.reshape(-1, 8, 8), np.ones((2, 2))).astype(np.float32) / 16
test = np.kron(data.X_test.reshape(-1, 8, 8), np.ones((2, 2))).astype(np.float32) / 16
torch.manual_seed(0)
cnn = nn.Sequential(
    nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
    nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(),
)  # fmt: skip
head = AllNCClassifier(batch_size=32, max_epochs=30, random_state=0)
models = {
    "fine-tuned CNN + head": FineTune(head, backbone=cnn, augment="shift"),
    "random CNN (frozen) + head": make_pipeline(BackboneFeatures(cnn), StandardScaler(), head),
}
for name, model in models.items():
    model.fit(train, data.y_train)
    score = balanced_accuracy_score(data.y_test, model.predict(test))
    print(f"{name}: balanced accuracy {score:.3f}")
