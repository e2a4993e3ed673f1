"""
=================================================================
A long run: validation split, TensorBoard, checkpoint, processes
=================================================================

Trains ``AllNCClassifier`` on the long-tailed digits, early-stopping on a fixed validation split,
logging every epoch to TensorBoard (when the ``track`` extra is installed) and writing the whole
training state to ``--checkpoint`` after every epoch. Kill it at any point (Ctrl-C, ``kill -9``,
a pre-empted node) and run the same command again: the fit resumes where it was and ends as an
uninterrupted one would.

Run::

    python examples/long_run.py --checkpoint runs/allnc
    # several processes (GPUs with a CUDA build; add --cpu for CPU processes with gloo):
    torchrun --nproc_per_node=2 examples/long_run.py --checkpoint runs/allnc-ddp --cpu

About a minute on a CPU. The documentation shows this script without running it: it needs a
checkpoint directory on its command line, and is meant to be killed and run again, or launched
as several processes. :ref:`long-runs` explains each part.
"""

import argparse
import os

from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from ncestimators import AllNCClassifier
from ncestimators.callbacks import TrainingCheckpoint
from ncestimators.datasets import load_digits_lt

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--checkpoint", required=True, help="directory of the training state")
parser.add_argument("--epochs", type=int, default=100)
parser.add_argument("--cpu", action="store_true", help="CPU processes under torchrun (gloo)")
args = parser.parse_args()

data = load_digits_lt(imbalance_ratio=50, random_state=0)
# A fixed validation split, as benchmarks ship one: early stopping and the best epoch use it.
X_train, X_val, y_train, y_val = train_test_split(
    data.X_train / 16, data.y_train, test_size=0.2, stratify=data.y_train, random_state=0
)

callbacks = [TrainingCheckpoint(args.checkpoint)]
accelerator = None
if "WORLD_SIZE" in os.environ:  # launched by torchrun or accelerate launch
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=args.cpu)
main_process = accelerator is None or accelerator.is_main_process
try:
    from skorch.callbacks import TensorBoard
    from torch.utils.tensorboard import SummaryWriter
except ImportError:
    print("tensorboard is not installed (pip install -e '.[track]'): no TensorBoard log")
else:
    if main_process:
        callbacks.append(TensorBoard(SummaryWriter(os.path.join(args.checkpoint, "tensorboard"))))

model = AllNCClassifier(
    max_epochs=args.epochs,
    n_iter_no_change=20,
    callbacks=callbacks,
    accelerator=accelerator,
    random_state=0,
)
model.fit(X_train, y_train, X_val=X_val, y_val=y_val)
if main_process:
    resumed = callbacks[0].resumed_from_
    print(f"resumed after epoch {resumed}" if resumed is not None else "trained from scratch")
    best = min(model.history_[:, "valid_loss"])
    print(f"{model.n_iter_} epochs; best validation loss {best:.4f}")
    accuracy = balanced_accuracy_score(data.y_test, model.predict(data.X_test / 16))
    print(f"balanced accuracy on the test split: {accuracy:.3f}")
