"""Training overhead of the estimators over a hand-written torch loop, and predict throughput.

For each classifier the hand-written loop trains the very network and loss of the fitted
estimator (copies of ``net_.module_`` and ``net_.criterion_``, going on from where its fit left
them: an epoch costs the same whatever the weights) with the same optimizer, learning rate,
batch size and number of epochs, on tensors already in memory: the least work a training loop
can do. The ratio of the two fit times is what the estimator's validation, skorch loop,
callbacks and batch fetching cost. ``MLPClassifier`` with the same hidden layers and epochs is
the scikit-learn reference. The estimator's fits alternate with the hand loop's, so that
whatever else slows the machine slows both alike; the overhead is the median of the paired
ratios. Predict throughput is measured on 100,000 × 512 float32 features.

Run with ``python examples/benchmarks/bench_overhead.py [--repeats 5]``; prints a markdown table.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import copy
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from ncestimators import AllNCClassifier, DynamicPrototypeClassifier
from ncestimators._bench import cpu_model

N_TRAIN, N_FEATURES, N_CLASSES = 20_000, 512, 100
N_PREDICT = 100_000
EPOCHS, BATCH_SIZE, HIDDEN = 5, 256, (256,)


def make_data(n_samples, random_state):
    rng = np.random.default_rng(random_state)
    centres = rng.standard_normal((N_CLASSES, N_FEATURES)).astype(np.float32)
    y = rng.integers(N_CLASSES, size=n_samples)
    X = centres[y] + 2 * rng.standard_normal((n_samples, N_FEATURES), dtype=np.float32)
    return X, y


def hand_loop(estimator, X, y):
    """Train the fitted estimator's network and loss with the shortest loop torch allows."""
    module = copy.deepcopy(estimator.net_.module_)
    criterion = copy.deepcopy(estimator.net_.criterion_)
    optimizer = torch.optim.Adam(module.parameters(), lr=estimator.lr)
    inputs, targets = torch.from_numpy(X), torch.from_numpy(y)
    module.train()
    criterion.train()
    for epoch in range(EPOCHS):
        for owner in (criterion, module):
            if hasattr(owner, "start_epoch"):
                owner.start_epoch(epoch, EPOCHS)
        for batch in torch.randperm(len(inputs)).split(BATCH_SIZE):
            optimizer.zero_grad()
            loss = criterion(module(inputs[batch]), targets[batch])
            loss.backward()
            optimizer.step()
        for owner in (criterion, module):
            if hasattr(owner, "end_epoch"):
                owner.end_epoch()


def seconds(function, repeats):
    """Median wall time of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        times.append(wall_time(function))
    return float(np.median(times))


def wall_time(function):
    """Seconds one call of ``function`` takes."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def interleaved_seconds(first, second, repeats):
    """Medians of ``repeats`` alternated calls of both, and the median of their ratios.

    Alternating the two spreads whatever else slows the machine over both alike.
    """
    pairs = np.array([(wall_time(first), wall_time(second)) for _ in range(repeats)])
    return np.median(pairs[:, 0]), np.median(pairs[:, 1]), np.median(pairs[:, 0] / pairs[:, 1])


def main(repeats):
    X, y = make_data(N_TRAIN, 0)
    X_predict, _ = make_data(N_PREDICT, 1)
    estimators = {
        "DynamicPrototypeClassifier": DynamicPrototypeClassifier(hidden_dims=HIDDEN),
        "AllNCClassifier": AllNCClassifier(hidden_dims=HIDDEN),
    }
    mlp = MLPClassifier(HIDDEN, batch_size=BATCH_SIZE, max_iter=EPOCHS, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp_seconds = seconds(lambda: mlp.fit(X, y), repeats)
    mlp_throughput = N_PREDICT / seconds(lambda: mlp.predict(X_predict), repeats)
    rows = []
    for name, estimator in estimators.items():
        estimator.set_params(max_epochs=EPOCHS, batch_size=BATCH_SIZE, device="cpu", random_state=0)
        estimator.fit(X[:1000], y[:1000])  # warm-up: first torch calls import and allocate
        estimator.fit(X, y)  # leaves the fitted network and loss the hand loop trains
        fit_seconds, loop_seconds, overhead = interleaved_seconds(
            lambda e=estimator: e.fit(X, y), lambda e=estimator: hand_loop(e, X, y), repeats
        )
        throughput = N_PREDICT / seconds(lambda e=estimator: e.predict(X_predict), repeats)
        rows.append(
            f"| {name} | {fit_seconds:.2f} | {loop_seconds:.2f} | {overhead:.2f}"
            f" | {mlp_seconds:.2f} | {throughput:,.0f} | {mlp_throughput:,.0f} |"
        )
    print(
        f"CPU: {cpu_model()}, torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads. Fit: {N_TRAIN:,} × {N_FEATURES} float32, "
        f"{N_CLASSES} classes, {EPOCHS} epochs, batch {BATCH_SIZE}, hidden {HIDDEN}; "
        f"medians of {repeats} runs, the estimator's fits alternated with the hand loop's "
        "(overhead: the median of the paired ratios).\n"
    )
    print(
        "| estimator | fit s | hand loop s | overhead × | MLPClassifier fit s "
        "| predict samples/s (100k × 512) | MLPClassifier predict samples/s |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    main(parser.parse_args().repeats)
