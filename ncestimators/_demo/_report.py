"""The demo's outputs besides the console table: results.json and report.html."""

# SPDX-License-Identifier: BSD-3-Clause

import html
import json

__all__ = []

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1150px; color: #222; }
table { border-collapse: collapse; margin: 1rem 0 2rem; font-size: 0.9rem; width: 100%; }
td small { color: #666; }
th, td { border-bottom: 1px solid #ddd; padding: 0.35rem 0.7rem; text-align: left; }
th { background: #f3f3f3; }
td.number { text-align: right; font-variant-numeric: tabular-nums; vertical-align: top; }
figure { margin: 0 0 2.5rem; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; margin-top: 0.3rem; }
"""

CAPTIONS = {
    "AllNCClassifier": (
        "Cosines between the centred class means of the learned features. Neural collapse puts "
        "every pair at the same angle: the more even the off-diagonal colour, the more collapsed."
    ),
    "DynamicPrototypeClassifier": (
        "With only two dimensions, ten prototypes cannot all be far apart; the learned "
        "assignment puts digits that look alike on neighbouring prototypes."
    ),
    "CoFInAIRegressor": (
        "Each dot is a test video. The grades split the score range; predictions near the "
        "dashed diagonal are right."
    ),
    "ClusterFBSeparator": (
        "Trained only on which actions occur in each video, the model finds where they are: "
        "the curve should rise over the orange segments."
    ),
    "CeCoSegmenter": (
        "Colours group the classes by training frequency; the tail classes are where the "
        "center-collapse regulariser should help."
    ),
}


def write_results(path, frame, metadata):
    """results.json: the table's rows and the run's metadata."""
    payload = {"runs": frame.to_dict(orient="records"), **metadata}
    path.write_text(json.dumps(payload, indent=2, default=float), encoding="utf-8")


def write_report(path, frame, figures, metadata):
    """report.html: the table and every figure on one page, with captions.

    Each score cell shows the number, and under it what it is the score of.
    """
    columns = ["estimator", "data", "metric", "ours", "baseline", "ablation", "fit seconds"]
    header = "".join(f"<th>{html.escape(column)}</th>" for column in columns)
    rows = []
    for record in frame.to_dict(orient="records"):
        cells = [f"<td>{html.escape(str(record[key]))}</td>" for key in columns[:3]]
        cells.append(f'<td class="number"><b>{record["ours"]:.3f}</b></td>')
        for key in ("baseline", "ablation"):
            score = "–" if record[key] != record[key] else f"{record[key]:.3f}"  # NaN: none
            cells.append(
                f'<td class="number">{score}<br><small>{html.escape(record["which " + key])}'
                "</small></td>"
            )
        cells.append(f'<td class="number">{record["fit seconds"]:.1f}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    sections = [
        f'<figure><img src="{html.escape(name)}" alt="{html.escape(estimator)}">'
        f"<figcaption><b>{html.escape(estimator)}.</b> "
        f"{html.escape(CAPTIONS.get(estimator, ''))}</figcaption></figure>"
        for estimator, name in figures.items()
    ]
    notes = html.escape(
        f"{metadata['mode']} run on {metadata['device']}, {metadata['seconds']:.0f} s in total; "
        f"ncestimators {metadata['version']}, torch {metadata['torch']}."
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ncestimators demo</title>
<style>{_STYLE}</style></head><body>
<h1>ncestimators demo</h1>
<p>Each estimator against a plain scikit-learn baseline and its paper's own ablation, on the
library's embedded data (real digits; generators with a known answer for the other tasks).
Higher is better in every score column; <i>fit seconds</i> is the estimator's own fit.</p>
<table><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table>
{"".join(sections)}
<p><small>{notes}</small></p>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
