"""The demo's outputs: the console table, results.json and report.html."""

# SPDX-License-Identifier: BSD-3-Clause

import html
import json

import numpy as np
import pandas as pd
from scipy import stats

from ._experiment import DOCUMENTATION_URL, sentences

__all__ = []

TRACKS = {
    "embedded": "Embedded track: the library's own data",
    "real": "Real track: ImageNet MobileNetV2 on real images",
}

_QUICK = (
    "<p><b>Quick run:</b> fewer epochs and less data than the rows describe, a smoke test of "
    "the demo; its numbers are not results.</p>"
)
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1350px; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.88rem; width: 100%; }
td small { color: #666; overflow-wrap: anywhere; }
th, td { border-bottom: 1px solid #ddd; padding: 0.35rem 0.6rem; text-align: left;
         vertical-align: top; }
th { background: #f3f3f3; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { display: inline-block; padding: 0 0.4rem; border-radius: 0.3rem; font-weight: 600; }
.helps { background: #d9f2dd; color: #1b5e20; }
.hurts { background: #fbdada; color: #8e1b1b; }
.not-shown { background: #eee; color: #555; }
.nowrap { white-space: nowrap; }
ul.words li { margin-bottom: 0.3rem; }
figure { margin: 0 0 2.5rem; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; margin-top: 0.3rem; }
"""


def how_to_read(n_seeds):
    """What the numbers and verdicts mean, for a run over ``n_seeds`` seeds."""
    quantile = stats.t.ppf(0.975, n_seeds - 1)
    return (
        "Scores are means over the seeds ± their standard deviation; higher is better in every "
        "column. A verdict compares ours with the alternative seed by seed: the mean of the "
        "per-seed differences (ours minus the alternative) with its two-sided 95 % Student-t "
        "interval. Helps: the interval is above 0; hurts: below 0; not shown: it contains 0. "
        f"With {n_seeds} seeds the interval is ±{quantile:.1f} standard errors, so small "
        "differences are not shown. The reference is shown for scale, without a verdict."
    )


def score_cell(role):
    """``mean ± std`` of a role's scores, or a dash for a role the row does not have."""
    return "–" if role is None else f"{role['mean']:.3f} ± {role['std']:.3f}"


def difference_cell(role):
    """``+mean ± half-width verdict`` of ours minus a compared role, or a dash."""
    if role is None:
        return "–"
    difference = role["difference"]
    return f"{difference['mean']:+.3f} ± {difference['half_width_95']:.3f} {difference['verdict']}"


def console_table(rows):
    """The rows as a Markdown table: scores, differences with verdicts, seconds."""
    frame = pd.DataFrame(
        {
            "estimator": row["estimator"],
            "metric": row["metric"],
            "ours": score_cell(row["ours"]),
            "plain alternative": score_cell(row["plain"]),
            "ours − plain": difference_cell(row["plain"]),
            "paper's ablation": score_cell(row["ablation"]),
            "ours − ablation": difference_cell(row["ablation"]),
            "reference": score_cell(row["reference"]),
            "seconds": f"{row['seconds']:.0f}",
        }
        for row in rows
    )
    return frame.to_markdown(index=False, colalign=["left", "left"] + ["right"] * 7)


def console_legend(rows):
    """What each row runs on and compares with, one line a row."""
    lines = []
    for row in rows:
        compared = "; ".join(
            f"{label}: {row[role]['name']}"
            for role, label in (
                ("plain", "plain alternative"),
                ("ablation", "ablation"),
                ("reference", "reference"),
            )
            if row[role] is not None
        )
        lines.append(f"* {row['estimator']} — {row['data']}. {compared}.")
    return "\n".join(lines)


def write_results(path, rows, metadata):
    """results.json: every row with its per-seed scores, summaries and verdicts, and metadata."""
    payload = {**metadata, "how_to_read": how_to_read(len(metadata["seeds"])), "runs": rows}
    path.write_text(json.dumps(_without_nan(payload), indent=2), encoding="utf-8")


def _without_nan(value):
    """``value`` with every NaN float replaced by None, which JSON can hold."""
    if isinstance(value, dict):
        return {key: _without_nan(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nan(item) for item in value]
    return None if isinstance(value, float) and np.isnan(value) else value


def write_report(path, rows, figures, captions, metadata):
    """report.html: per track a table with verdicts and plain words, then the figures."""
    sections = []
    for track, title in TRACKS.items():
        track_rows = [row for row in rows if row["track"] == track]
        if track_rows:
            sections.append(f"<h2>{html.escape(title)}</h2>{_html_table(track_rows)}")
            sections.append(_html_words(track_rows))
    guides = {row["key"]: row["documentation"] for row in rows}
    figures_html = "".join(
        f'<figure><img src="{html.escape(name)}" alt="{html.escape(key)}">'
        f"<figcaption>{html.escape(captions.get(key, ''))} {_guide_link(guides[key])}"
        "</figcaption></figure>"
        for key, name in figures.items()
    )
    notes = html.escape(
        f"{metadata['mode']} run, seeds {metadata['seeds']}, on {metadata['device']} with "
        f"{metadata['jobs']} parallel job(s): {metadata['seconds']:.0f} s in total; "
        f"ncestimators {metadata['version']}, "
        + "".join(f"{name} {version}, " for name, version in metadata["versions"].items())
        + f"Python {metadata['python']}."
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ncestimators demo</title>
<style>{_STYLE}</style></head><body>
<h1>ncestimators demo</h1>
<p>Each estimator in the regime it is meant for, against the plain alternative a user would
otherwise fit and, where the paper has one, against its own ablation; every row over several
seeds. {html.escape(how_to_read(len(metadata["seeds"])))}</p>
<p>Each estimator's name links to its method's page in the
<a href="{html.escape(DOCUMENTATION_URL)}">documentation</a>: the problem, the paper's objective,
our defaults and the ablations.</p>
{_QUICK if metadata["mode"] == "quick" else ""}
{"".join(sections)}
<h2>Figures (first seed)</h2>
{figures_html}
<p><small>{notes}</small></p>
</body></html>
"""
    path.write_text(page, encoding="utf-8")


def _html_table(rows):
    header = "".join(
        f"<th>{column}</th>"
        for column in (
            "estimator and data", "metric", "ours", "plain alternative", "ours − plain",
            "paper's ablation", "ours − ablation", "reference", "seconds",
        )
    )  # fmt: skip
    body = []
    for row in rows:
        cells = [
            f"<td><b>{_guide_link(row['documentation'], row['estimator'])}</b><br><small>"
            f"{html.escape(row['data'])}</small></td>",
            f"<td>{html.escape(row['metric'])}</td>",
            _html_score(row["ours"], bold=True),
            _html_score(row["plain"]),
            _html_difference(row["plain"]),
            _html_score(row["ablation"]),
            _html_difference(row["ablation"]),
            _html_score(row["reference"]),
            f'<td class="number">{row["seconds"]:.0f}<br><small>fit '
            f"{row['fit_seconds']:.1f} a seed</small></td>",
        ]
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _guide_link(url, text="User guide"):
    return f'<a href="{html.escape(url)}">{html.escape(text)}</a>'


def _html_score(role, bold=False):
    if role is None:
        return '<td class="number">–</td>'
    score = f'<span class="nowrap">{role["mean"]:.3f} ± {role["std"]:.3f}</span>'
    per_seed = " / ".join(f"{value:.3f}" for value in role["per_seed"])
    name = "" if bold else f"{html.escape(role['name'])}<br>"
    score = f"<b>{score}</b>" if bold else score
    return f'<td class="number">{score}<br><small>{name}seeds: {per_seed}</small></td>'


def _html_difference(role):
    if role is None:
        return '<td class="number">–</td>'
    difference = role["difference"]
    kind = difference["verdict"].replace(" ", "-")
    return (
        f'<td class="number"><span class="verdict {kind}">{difference["verdict"]}</span><br>'
        f'<span class="nowrap">{difference["mean"]:+.3f} ± {difference["half_width_95"]:.3f}'
        f"</span><br><small>ours ahead on {difference['wins']}/{len(difference['per_seed'])} "
        "seeds</small></td>"
    )


def _html_words(rows):
    words = [sentence for row in rows for sentence in sentences(row)]
    if not words:
        return "<p>Ours beats the plain alternative and the ablation in every row.</p>"
    items = "".join(f"<li>{html.escape(sentence)}</li>" for sentence in words)
    return f'<p>Where ours does not win:</p><ul class="words">{items}</ul>'
