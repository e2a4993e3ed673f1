"""Imbalanced segmentation with CeCoSegmenter: IoU of head, common and tail classes.

Trains a per-pixel classifier on 30 feature maps where the rarest class covers 200 times fewer
pixels than the most frequent one, with and without the center-collapse regulariser, and
prints the mean IoU of each group of classes by training frequency on 40 test maps. With few
labelled pixels of the rare classes the regulariser pays; with many, it is neutral
(``examples/benchmarks/results_ceco.md``).

Run: ``python examples/segment_rare_classes.py``; under a minute on a CPU.
"""

import pandas as pd

from ncestimators import CeCoSegmenter
from ncestimators.datasets import make_dense_segmentation

X, y = make_dense_segmentation(n_images=70, imbalance=200, random_state=0)
groups = {}
for name, params in {"CE + CeCo": {}, "CE alone": {"lambda_center": 0.0}}.items():
    model = CeCoSegmenter(**params, random_state=0).fit(X[:30], y[:30])
    report = model.iou_report(X[30:], y[30:])
    groups[name] = report.groupby("group")["iou"].mean()
    groups[name]["all (mIoU)"] = model.score(X[30:], y[30:])
print((100 * pd.DataFrame(groups)).round(1).to_markdown())
