"""Long-tailed classification with AllNCClassifier: accuracy on rare classes and collapse.

Trains AllNC and the same network with plain cross-entropy on scikit-learn's real digits made
long-tailed (50 times more images of the most frequent digit than of the rarest), and prints
balanced accuracy, accuracy on many-, medium- and few-shot digits, and how collapsed the
learned features are (lower is more collapsed).

Run: ``python examples/long_tailed_digits.py``; under a minute on a CPU.
"""

import pandas as pd
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ncestimators import AllNCClassifier
from ncestimators._demo._runs import PLAIN_CE  # AllNC's terms off: plain cross-entropy
from ncestimators.datasets import load_digits_lt
from ncestimators.geometry import neural_collapse_metrics
from ncestimators.metrics import shot_accuracy

data = load_digits_lt(imbalance_ratio=50, random_state=0)
rows = {}
for name, params in {"AllNC": {}, "plain cross-entropy": PLAIN_CE}.items():
    model = make_pipeline(StandardScaler(), AllNCClassifier(random_state=0, **params))
    model.fit(data.X_train, data.y_train)
    predicted = model.predict(data.X_test)
    features = model[-1].embed(model[0].transform(data.X_train))
    collapse = neural_collapse_metrics(features, data.y_train, weights=model[-1].classifier_weight_)
    rows[name] = {
        "balanced accuracy": balanced_accuracy_score(data.y_test, predicted),
        **shot_accuracy(
            data.y_test, predicted, pd.Series(data.y_train).value_counts(), many=60, few=15
        ),
        **collapse[["nc2_equiangularity", "nc3_self_duality"]],
    }
print(pd.DataFrame(rows).round(3).to_markdown())
