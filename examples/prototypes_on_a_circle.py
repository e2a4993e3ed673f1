"""Ten digits on a circle: DynamicPrototypeClassifier learns which digit gets which prototype.

With prototypes in fewer dimensions than classes (here d = 2 for 10 digits), some prototypes
must be close; DL2PA re-assigns labels to prototypes during training so that digits that look
alike share neighbouring prototypes. Prints the accuracy of the learned and of a fixed
assignment, the digits in their order around the circle, and saves a plot.

Run: ``python examples/prototypes_on_a_circle.py [output folder]``; under a minute on a CPU.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from ncestimators import DynamicPrototypeClassifier  # noqa: E402
from ncestimators.datasets import load_digits_lt  # noqa: E402

output = Path(sys.argv[1] if len(sys.argv) > 1 else "examples/output")
output.mkdir(parents=True, exist_ok=True)
data = load_digits_lt(imbalance_ratio=1, random_state=0)
scaler = StandardScaler().fit(data.X_train)
X_train, X_test = scaler.transform(data.X_train), scaler.transform(data.X_test)
for assignment in ("dynamic", "static"):
    model = DynamicPrototypeClassifier(prototype_dim=2, assignment=assignment, random_state=0)
    accuracy = model.fit(X_train, data.y_train).score(X_test, data.y_test)
    print(f"{assignment} assignment: accuracy {accuracy:.3f}")
    if assignment == "dynamic":
        learned = model

positions = learned.prototypes_[learned.assignment_]
angles = np.arctan2(positions[:, 1], positions[:, 0])
print("digits around the circle:", learned.classes_[np.argsort(angles)].tolist())
figure, axis = plt.subplots(figsize=(5, 5))
axis.add_patch(plt.Circle((0, 0), 1, fill=False, color="0.8"))
for digit, (x, y) in zip(learned.classes_, positions, strict=True):
    axis.annotate(str(digit), (x, y), ha="center", va="center", fontsize=14, fontweight="bold")
axis.set(xlim=(-1.3, 1.3), ylim=(-1.3, 1.3), aspect="equal", xticks=[], yticks=[],
         title="Learned label-to-prototype assignment (d = 2)")  # fmt: skip
figure.savefig(output / "prototypes_on_a_circle.png", dpi=110, bbox_inches="tight")
print(f"plot: {output / 'prototypes_on_a_circle.png'}")
