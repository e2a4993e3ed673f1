"""Weakly-supervised action localisation with ClusterFBSeparator (CASE).

Trains on untrimmed videos labelled only with the actions they contain, then finds where the
actions are: prints the top proposals of a test video next to its true segments, and the
localisation mAP of CASE and of its two-branch baseline (clustering off), averaged over the
tIoU thresholds 0.1 to 0.7.

Run: ``python examples/localize_actions.py``; about a minute on a CPU.
"""

from ncestimators import ClusterFBSeparator
from ncestimators.datasets import make_wtal_videos

X, y, segments = make_wtal_videos(n_videos=200, random_state=0)
train, test = slice(0, 150), slice(150, 200)
for name, params in {
    "CASE": {},
    "baseline": {"lambda_cluster": 0.0, "lambda_cluster_cls": 0.0},
}.items():
    model = ClusterFBSeparator(max_epochs=50, random_state=0, **params).fit(X[train], y[train])
    score = model.score(X[test], y[test], segments=segments[test])
    print(f"{name}: localisation mAP@0.1:0.7 = {score:.3f}")
    if name == "CASE":
        print("true segments of the first test video (label, start, end):")
        print(segments[test][0])
        print("top proposals:")
        print(model.localize(X[test][:1]).head(5).round(2).to_string(index=False))
