"""Where predict's time goes on this CPU: the network's matrix products against NumPy's.

``bench_overhead.py`` compares predict throughput with ``MLPClassifier``'s; this script says
why the two differ on a given CPU. For ``DynamicPrototypeClassifier`` and ``AllNCClassifier``
at ``bench_overhead.py``'s shape (100,000 × 512 float32, hidden layer 256, 100 classes) it
prints predict's throughput, the throughput of the torch network alone on all rows at once
(no batching, validation or conversion: the least predict can cost with torch), and, for each
``Linear`` layer of the network, the time of its matrix product in torch against the same
product in NumPy (the BLAS that ``MLPClassifier`` uses). When torch's products take most of
predict and are slower than NumPy's, what is left is the BLAS torch was built with on this
CPU, not the library's batching.

Run with ``python examples/benchmarks/bench_predict_profile.py [--repeats 5]``; prints
markdown. Threads are torch's and NumPy's defaults unless the environment says otherwise.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import re
import time
import warnings

import numpy as np
import torch
from bench_overhead import BATCH_SIZE, HIDDEN, N_PREDICT, make_data
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from ncestimators import AllNCClassifier, DynamicPrototypeClassifier
from ncestimators._bench import cpu_model


def best_seconds(function, repeats):
    """Shortest wall time of ``repeats`` calls, after one call that warms caches up."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def linear_products(network, X, repeats):
    """``(shape, torch s, NumPy s)`` of the product of each Linear layer that predict runs.

    The layers are those whose forward hooks fire in the network's eval forward (a head may
    hold layers that only training uses), each timed on all rows of X.
    """
    called = []
    hooks = [
        module.register_forward_hook(lambda layer, *_: called.append(layer))
        for module in network.modules()
        if isinstance(module, torch.nn.Linear)
    ]
    with torch.inference_mode():
        network(torch.from_numpy(X[:2]))
    for hook in hooks:
        hook.remove()
    rows = []
    for layer in called:
        batch = torch.randn(len(X), layer.in_features)
        weight = layer.weight.detach()
        torch_s = best_seconds(lambda b=batch, w=weight: b @ w.T, repeats)
        batch_np, weight_np = batch.numpy(), np.ascontiguousarray(weight.numpy().T)
        numpy_s = best_seconds(lambda b=batch_np, w=weight_np: b @ w, repeats)
        shape = f"{len(X):,} × {layer.in_features} → {layer.out_features}"
        rows.append((shape, torch_s, numpy_s))
    return rows


def main(repeats):
    X_train, y_train = make_data(5_000, 0)
    X, _ = make_data(N_PREDICT, 1)
    mlp = MLPClassifier(HIDDEN, batch_size=BATCH_SIZE, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X_train, y_train)
    mlp_s = best_seconds(lambda: mlp.predict(X), repeats)
    print(
        f"CPU: {cpu_model()}; torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"NumPy {np.__version__}; {N_PREDICT:,} × {X.shape[1]} float32, best of {repeats}.\n"
    )
    print(f"MLPClassifier.predict: {N_PREDICT / mlp_s:,.0f} samples/s.\n")
    print("| estimator | predict samples/s | × MLPClassifier | network alone samples/s |")
    print("|---|---:|---:|---:|")
    products = {}
    for estimator in (DynamicPrototypeClassifier, AllNCClassifier):
        model = estimator(hidden_dims=HIDDEN, max_epochs=1, device="cpu", random_state=0)
        model.fit(X_train, y_train)
        predict_s = best_seconds(lambda m=model: m.predict(X), repeats)
        network = model.net_.module_
        network.eval()
        with torch.inference_mode():
            inputs = torch.from_numpy(X)
            alone_s = best_seconds(lambda n=network, x=inputs: n(x), repeats)
        products[estimator.__name__] = linear_products(network, X, repeats)
        print(
            f"| {estimator.__name__} | {N_PREDICT / predict_s:,.0f} | {mlp_s / predict_s:.2f} "
            f"| {N_PREDICT / alone_s:,.0f} |"
        )
    print("\nThe networks' matrix products, torch against NumPy on the same arrays:\n")
    print("| estimator | product | torch s | NumPy s | torch / NumPy |")
    print("|---|---|---:|---:|---:|")
    for name, rows in products.items():
        for shape, torch_s, numpy_s in rows:
            print(f"| {name} | {shape} | {torch_s:.3f} | {numpy_s:.3f} | {torch_s / numpy_s:.2f} |")
    blas = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    print(
        f"\ntorch's BLAS: {blas.group(1) if blas else 'unknown'}; NumPy's: see numpy.show_config()."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    main(parser.parse_args().repeats)
