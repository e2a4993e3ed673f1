"""
================================================
Rare classes in segmentation: CeCo's regulariser
================================================

:class:`~ncestimators.CeCoSegmenter` classifies every pixel of a feature map, and adds a
training-only term that pulls the mean embedding of each class in a batch towards a fixed
simplex equiangular tight frame, so that rare classes keep their own direction. Here it is
trained on 30 feature maps where the rarest class covers 200 times fewer pixels than the most
frequent one, with and without the regulariser, and the IoU of each class on 40 test maps is
shown against its training frequency.

Over 10 seeds of this setting, the regulariser raises the tail-class IoU by +5.2 ± 2.3 points;
with 120 training maps, or at 10:1, it is neutral, and on real road scenes (CamVid) it does not
show (:ref:`ceco`).
"""

# %%
# Fit with and without the regulariser
# ------------------------------------
# ``lambda_center=0`` trains the same network with the pixel cross-entropy alone.
import matplotlib.pyplot as plt
import pandas as pd

from ncestimators import CeCoSegmenter
from ncestimators.datasets import make_dense_segmentation
from ncestimators.plotting import IoUDisplay

# Feature maps (n, H, W, D) and label maps (n, H, W).
X, y = make_dense_segmentation(n_images=70, imbalance=200, random_state=0)
X_train, y_train, X_test, y_test = X[:30], y[:30], X[30:], y[30:]
ceco = CeCoSegmenter(random_state=0).fit(X_train, y_train)
plain = CeCoSegmenter(lambda_center=0.0, random_state=0).fit(X_train, y_train)

# %%
# IoU by frequency group
# ----------------------
# ``iou_report`` groups the classes into thirds by training frequency: head, common, tail.
groups = {}
for name, model in {"CE + CeCo": ceco, "CE alone": plain}.items():
    report = model.iou_report(X_test, y_test)
    groups[name] = report.groupby("group")["iou"].mean()
    groups[name]["all (mIoU)"] = model.score(X_test, y_test)
print((100 * pd.DataFrame(groups)).round(1).to_string())

# %%
# Per class
# ---------
# :class:`~ncestimators.plotting.IoUDisplay` draws every class's IoU, ordered by training
# frequency, beside the baseline's.


IoUDisplay.from_estimator(
    ceco,
    X_test,
    y_test,
    baseline=plain,
    name="CE + CeCo",
    baseline_name="CE alone",
)
plt.show()
