"""Grade a performance coarse to fine: choose the grade counts of CoFInAI by cross-validation.

Fits :class:`~ncestimators.CoFInAIRegressor` on clip-feature sequences of two synthetic
"actions" (``make_aqa_sequences`` draws with different procedures), picks ``n_grades`` and
``n_subgrades`` with ``GridSearchCV`` on the training videos of the first, reports each
action's test SRCC and their Fisher-z average (how AQA benchmarks average over actions), shows
the grades the model gives a few test videos, and plots predicted against true scores.

Run: ``python examples/aqa_grades.py [output folder]`` (default ``examples/output/``); about a
minute on one CPU core.
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from ncestimators import CoFInAIRegressor  # noqa: E402
from ncestimators.datasets import make_aqa_sequences  # noqa: E402
from ncestimators.metrics import fisher_z_mean  # noqa: E402

# The defaults, chosen on validation draws (examples/benchmarks/results_cofinai.md).
SETTINGS = {"random_state": 0}
ACTIONS = {"routine A (5 procedures)": 5, "routine B (4 procedures)": 4}


def split(n_procedures, random_state):
    X, y = make_aqa_sequences(n_videos=300, n_procedures=n_procedures, random_state=random_state)
    return X[:200], y[:200], X[200:], y[200:]


def plot(results, path):
    """Predicted against true test scores, one panel per action, grade boundaries in grey."""
    figure, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 4.5), squeeze=False)
    for axis, (action, (model, X_test, y_test)) in zip(axes[0], results.items(), strict=True):
        lo, hi = model.score_range_
        for boundary in lo + model.grade_width_ * np.arange(1, model.n_grades):
            axis.axvline(boundary, color="0.85", linewidth=1, zorder=0)
            axis.axhline(boundary, color="0.85", linewidth=1, zorder=0)
        axis.plot([lo, hi], [lo, hi], color="0.5", linestyle="--", linewidth=1, label="ideal")
        axis.scatter(y_test, model.predict(X_test), s=14, alpha=0.8)
        axis.set(
            title=f"{action}: SRCC {model.score(X_test, y_test):.3f}",
            xlabel="true score",
            ylabel="predicted score",
            xlim=(lo, hi),
            ylim=(lo, hi),
        )
        axis.legend(loc="upper left", frameon=False)
    figure.suptitle("CoFInAI: predicted vs true scores (grey lines: grade boundaries)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default="examples/output", type=Path)
    output = parser.parse_args().output
    output.mkdir(parents=True, exist_ok=True)

    (first, n_first), (second, n_second) = ACTIONS.items()
    X_train, y_train, X_test, y_test = split(n_first, random_state=0)
    search = GridSearchCV(
        CoFInAIRegressor(**SETTINGS), {"n_grades": [2, 4], "n_subgrades": [3, 6]}, cv=3
    ).fit(X_train, y_train)
    print(f"{first}: best grade counts {search.best_params_} "
          f"(cross-validated SRCC {search.best_score_:.3f})")  # fmt: skip

    X_train_b, y_train_b, X_test_b, y_test_b = split(n_second, random_state=1)
    model_b = CoFInAIRegressor(**SETTINGS, **search.best_params_).fit(X_train_b, y_train_b)
    results = {
        first: (search.best_estimator_, X_test, y_test),
        second: (model_b, X_test_b, y_test_b),
    }
    correlations = {action: model.score(X, y) for action, (model, X, y) in results.items()}
    for action, value in correlations.items():
        print(f"{action}: test SRCC {value:.3f}")
    print(f"Fisher-z average over the actions: {fisher_z_mean(correlations):.3f}")

    print(f"\nGrades of five test videos of {first} (true scores {np.round(y_test[:5], 2)}):")
    print(search.best_estimator_.predict_grades(X_test[:5]).round(3).to_string())

    path = output / "aqa_predicted_vs_true.png"
    plot(results, path)
    print(f"\nWrote {path}")


if __name__ == "__main__":
    main()
