"""Ablations of ClusterFBSeparator (CASE) on make_wtal_videos, and CASE against fixed windows.

Part 1, the paper's Tables 4-6. For each of ten data sets (seeds 0-9; 200 training, 100
validation and 100 test videos from one make_wtal_videos call each), fits

* the baseline (clustering off: lambda_cluster = lambda_cluster_cls = 0),
* the full method (rank prior with the default prior_sigma, soft OT labels),
* the full method without clustering-assisted testing (fusion_weight=0, same fit),
* equipartition only (prior_sigma=None, Eq. 10),
* hard OT labels and hard labels without OT (arg-max of the predictions; Table 5),
* the full method at other prior widths, for choosing prior_sigma on the validation videos,

and prints, as markdown, the localisation mAP at tIoU 0.1:0.7 on the test videos, the
entropy H(mean P^S) of the cluster proportions on them (Table 5; ln 16 = 2.77 is uniform) and
each table's claim as a paired comparison over the seeds (mean difference with its 95 %
interval). The network is smaller and trains shorter than the defaults (``COMMON``: hidden_dim
64, 50 epochs) so that ten seeds of nine fits take minutes; the demo runs the defaults.

Part 2, localisation against fixed windows, on generators with instances of three lengths
(``SETTINGS``; an instance lasts 4-15 % of its video, so the video length sets it). The full
method's ``localize`` is compared with sliding windows of one fixed length, proposed for the
same classes (the ones the same model predicts for each video, not the true labels) and
scored by the same model's class actionness (``window_proposals``). The window length is the
mean length of the training videos' segments: the one use of segment annotations in this
benchmark, for the baseline's single hyper-parameter. Both are scored on the test videos of
each seed; the paired statistic is over the seeds.

Run: OMP_NUM_THREADS=1 python examples/benchmarks/bench_clusterfb.py  (about 30 minutes).
"""

import argparse
import sys
from functools import partial

import numpy as np
import pandas as pd
from _paired import paired_table

from ncestimators import ClusterFBSeparator
from ncestimators._clusterfb._proposals import window_proposals
from ncestimators.datasets import make_wtal_videos
from ncestimators.metrics import localization_map, segments_to_frame

COMMON = {"n_clusters": 16, "hidden_dim": 64, "max_epochs": 50, "batch_size": 16, "lr": 1e-3}
FULL = "full (CASE)"
VARIANTS = {
    "baseline (clustering off)": {"lambda_cluster": 0.0, "lambda_cluster_cls": 0.0},
    FULL: {},
    "equipartition only (no prior)": {"prior_sigma": None},
    "hard labels with OT": {"cluster_labeling": "ot_hard"},
    "hard labels without OT": {"cluster_labeling": "argmax"},
}
SIGMAS = (0.05, 0.1, 0.2, 0.5, 10.0, None)
CLAIMS = [
    ("Table 4: clustering (CASE) beats the baseline", FULL, "baseline (clustering off)"),
    ("Table 4: clustering-assisted testing helps", FULL, "full, attention only at test (w=0)"),
    ("Table 5: soft OT labels beat hard OT labels", FULL, "hard labels with OT"),
    ("Table 5: OT labels beat arg-max labels", "hard labels with OT", "hard labels without OT"),
    ("Table 6: the rank prior beats equipartition", FULL, "equipartition only (no prior)"),
]


SETTINGS = {  # make_wtal_videos arguments, named by the range of instance lengths in snippets
    "default (3-28 snippets)": {},
    "long (16-90 snippets)": {"min_length": 400, "max_length": 600},
    "short (3-9 snippets)": {"min_length": 32, "max_length": 64},
}
DEFAULT_SETTING = "default (3-28 snippets)"
CASE, WINDOWS = "CASE proposals", "fixed windows"


def split(seed, **generator):
    X, y, segments = make_wtal_videos(n_videos=400, random_state=seed, **generator)
    parts = {"train": slice(0, 200), "validation": slice(200, 300), "test": slice(300, 400)}
    return {name: (X[part], y[part], segments[part]) for name, part in parts.items()}


def evaluate(model, X, segments):
    map_ = localization_map(segments_to_frame(segments), model.localize(X))
    proportions = np.concatenate(model.cluster_proba(X)).mean(axis=0)
    entropy = float(-(proportions * np.log(proportions)).sum())
    return map_, entropy


def mean_length(segments):
    return float(np.mean([end - start for video in segments for _, start, end in video]))


def against_windows(model, data, setting, seed):
    """Rows of localisation mAP and proposal length: CASE's proposals and fixed windows."""
    X, _, segments = data["test"]
    truth = segments_to_frame(segments)
    length = mean_length(data["train"][2])
    rows = []
    for method, proposals in (
        (CASE, model.localize(X)),
        # The same actionness of the same predicted classes, cut into windows instead.
        (WINDOWS, model.localize(X, proposals=partial(window_proposals, length=length))),
    ):
        map_ = localization_map(truth, proposals)
        best = proposals.groupby(["video", "label"]).head(1)  # sorted by decreasing score
        rows.append(
            {"setting": setting, "method": method, "seed": seed, "mAP@0.1:0.7": map_["mean"],
             "mAP@0.5": map_[0.5], "true length": mean_length(segments),
             "top proposal length": float((best["end"] - best["start"]).mean())}
        )  # fmt: skip
    return rows


def main(seeds):
    rows, sigma_rows, window_rows = [], [], []
    default_sigma = ClusterFBSeparator().prior_sigma
    for seed in range(seeds):
        data = split(seed)
        X_train, y_train, _ = data["train"]
        fitted = {}
        for name, params in VARIANTS.items():
            model = ClusterFBSeparator(**COMMON, **params, random_state=seed)
            fitted[name] = model.fit(X_train, y_train)
        window_rows += against_windows(fitted[FULL], data, DEFAULT_SETTING, seed)
        for sigma in SIGMAS:
            if sigma == default_sigma:
                model = fitted[FULL]
            elif sigma is None:
                model = fitted["equipartition only (no prior)"]
            else:
                model = ClusterFBSeparator(**COMMON, prior_sigma=sigma, random_state=seed)
                model.fit(X_train, y_train)
            for part in ("validation", "test"):
                X, _, segments = data[part]
                sigma_rows.append(
                    {"sigma": str(sigma), "seed": seed, "split": part,
                     "mAP": evaluate(model, X, segments)[0]["mean"]}
                )  # fmt: skip
        X_test, _, segments_test = data["test"]
        for name, model in fitted.items():
            map_, entropy = evaluate(model, X_test, segments_test)
            clustering = name != "baseline (clustering off)"
            rows.append(
                {"variant": name, "seed": seed, **map_, "H": entropy if clustering else np.nan}
            )
            if name == FULL:
                model.set_params(fusion_weight=0.0)
                map_, entropy = evaluate(model, X_test, segments_test)
                rows.append(
                    {"variant": "full, attention only at test (w=0)", "seed": seed, **map_,
                     "H": entropy}
                )  # fmt: skip
        print(f"seed {seed} done", file=sys.stderr, flush=True)
    for setting, generator in SETTINGS.items():
        if setting == DEFAULT_SETTING:
            continue
        for seed in range(seeds):
            data = split(seed, **generator)
            model = ClusterFBSeparator(**COMMON, random_state=seed).fit(*data["train"][:2])
            window_rows += against_windows(model, data, setting, seed)
        print(f"{setting} done", file=sys.stderr, flush=True)

    results = pd.DataFrame(rows)
    order = list(dict.fromkeys(results["variant"]))
    summary = results.groupby("variant", sort=False).agg(
        **{
            "mAP@0.1": (0.1, "mean"),
            "mAP@0.3": (0.3, "mean"),
            "mAP@0.5": (0.5, "mean"),
            "mAP@0.7": (0.7, "mean"),
            "mAP@0.1:0.7": ("mean", "mean"),
            "std over seeds": ("mean", "std"),
            "H(mean P^S)": ("H", "mean"),
        }
    )
    per_seed = results.pivot(index="variant", columns="seed", values="mean").loc[order]
    per_seed.columns = [f"seed {seed}" for seed in per_seed.columns]
    print(f"\n## Localisation mAP on the test videos (mean over {seeds} seeds)\n")
    print(summary.loc[order].join(per_seed).to_markdown(floatfmt=".3f"))

    sigmas = pd.DataFrame(sigma_rows).pivot_table(
        index="sigma", columns="split", values="mAP", aggfunc="mean", sort=False
    )
    print(f"\n## prior_sigma: mAP@0.1:0.7 (mean over {seeds} seeds)\n")
    print(sigmas[["validation", "test"]].to_markdown(floatfmt=".3f"))
    print(f"\nBest on validation: prior_sigma={sigmas['validation'].idxmax()}")
    print("\nThe tables' claims as paired comparisons: mAP@0.1:0.7, mean difference over seeds "
          "± 95% interval\n")  # fmt: skip
    print(paired_table(results, CLAIMS, value="mean", by="variant"))

    windows = pd.DataFrame(window_rows)
    print(f"\n## CASE's proposals against fixed windows (mean over {seeds} seeds)\n")
    print(
        "Windows: the mean training segment length, every half window, scored by the model's "
        "class actionness, for the classes the model predicts.\n"
    )
    summary = windows.groupby(["setting", "method"], sort=False).mean(numeric_only=True)
    print(summary.drop(columns="seed").reset_index().to_markdown(index=False, floatfmt=".3f"))
    windows["variant"] = windows["setting"] + " | " + windows["method"]
    claims = [
        (f"{setting}: CASE beats fixed windows", f"{setting} | {CASE}", f"{setting} | {WINDOWS}")
        for setting in SETTINGS
    ]
    print("\nmAP@0.1:0.7, mean difference over seeds ± 95% interval\n")
    print(paired_table(windows, claims, value="mAP@0.1:0.7", by="variant"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="number of seeds (default 10)")
    main(parser.parse_args().seeds)
