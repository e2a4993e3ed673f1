"""
=======================================================
Grading performances coarse to fine with CoFInAI
=======================================================

:class:`~ncestimators.CoFInAIRegressor` scores a video from its sequence of clip features
the way a judge would: a coarse grade first, then a sub-grade within it. Here it learns from
``make_aqa_sequences``, where each video's score comes from the quality of five procedures
(phases) of the action, and is compared with
a ridge regression on the mean clip feature of each video. The metric is the Spearman rank
correlation (SRCC) of predicted and true scores.

One draw of the data, so the numbers are an illustration: over 10 draws, CoFInAI at its
defaults reaches an SRCC of 0.595 ± 0.089 against 0.100 for the ridge regression
(:ref:`cofinai`).
"""

# %%
# Data: variable-length clip sequences
# ------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import RidgeCV

from ncestimators import CoFInAIRegressor
from ncestimators.datasets import make_aqa_sequences
from ncestimators.metrics import srcc
from ncestimators.plotting import ScoreDisplay

X, y = make_aqa_sequences(n_videos=200, random_state=0)  # a list of (n_clips, 64) arrays
X_train, y_train, X_test, y_test = X[:150], y[:150], X[150:], y[150:]
print(f"{len(X)} videos of {min(map(len, X))}-{max(map(len, X))} clips; "
      f"scores from {y.min():.2f} to {y.max():.2f}")  # fmt: skip

# %%
# Fit at the defaults
# -------------------
# Four grades of five sub-grades each; the estimator's ``score`` is the SRCC. (To choose the
# grade counts, ``GridSearchCV(model, {"n_grades": [2, 4], "n_subgrades": [3, 5]})`` works
# as for any scikit-learn regressor.)

model = CoFInAIRegressor(random_state=0).fit(X_train, y_train)
print(f"CoFInAI: test SRCC {model.score(X_test, y_test):.3f}")

# %%
# The plain alternative: ridge regression on the mean clip feature. Averaging the clips mixes
# the procedures together, which is where the score information was.


def mean_clip(videos):
    return np.stack([video.mean(axis=0) for video in videos])


ridge = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(mean_clip(X_train), y_train)
print(
    f"RidgeCV on mean-pooled clips: test SRCC {srcc(y_test, ridge.predict(mean_clip(X_test))):.3f}"
)

# %%
# Grades and sub-grades
# ---------------------
# ``predict_grades`` tells how the model reads a video: its grade, its sub-grade within the
# grade, and the probabilities behind them.
print("true scores:", np.round(y_test[:5], 2))
print(model.predict_grades(X_test[:5]).round(3).to_string())

# %%
# Predicted against true scores
# -----------------------------
# :class:`~ncestimators.plotting.ScoreDisplay` draws the test predictions with the grade
# boundaries in grey.


display = ScoreDisplay.from_estimator(model, X_test, y_test)
display.ax_.set_title(f"CoFInAI: test SRCC {model.score(X_test, y_test):.3f}")
plt.show()
