"""Where and how computation runs: devices, seeds, and results back on the CPU."""

# SPDX-License-Identifier: BSD-3-Clause

import contextlib

import numpy as np
import torch

from .exceptions import DeviceWarning, warn


def resolve_device(device):
    """Turn the ``device`` parameter into a torch device string.

    ``"auto"`` picks CUDA when available. An explicit CUDA device without CUDA falls back to the
    CPU with a :class:`~ncestimators.exceptions.DeviceWarning`, so scripts written for a GPU
    machine still run elsewhere.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except RuntimeError as error:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu' or 'cuda'."
        ) from error
    if parsed.type == "cuda" and not torch.cuda.is_available():
        warn(
            f"device={device!r} was requested but CUDA is not available; training on the CPU.",
            DeviceWarning,
        )
        return "cpu"
    return device


def draw_seed(random_state):
    """One integer seed per fit, drawn without touching NumPy's global random state.

    An int gives the same seed every time; a ``RandomState`` instance is advanced (the caller asked
    for that); None draws fresh entropy from the operating system.
    """
    if random_state is None:
        return int(np.random.default_rng().integers(2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    return int(np.random.RandomState(random_state).randint(2**31 - 1))


def torch_seed():
    """An int seed drawn from torch's global generator, which the caller seeded."""
    return int(torch.randint(2**31 - 1, ()))


@contextlib.contextmanager
def seeded(seed):
    """Seed torch inside the block and restore the caller's CPU and CUDA generators afterwards."""
    devices = range(torch.cuda.device_count()) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def to_cpu(outputs):
    """Detach a tensor, or each tensor of a tuple, onto the CPU."""
    if isinstance(outputs, tuple):
        return tuple(to_cpu(output) for output in outputs)
    return outputs.detach().cpu()


def to_numpy(outputs):
    """A tensor, or each tensor of a tuple, as a float64 NumPy array (scikit-learn's outputs)."""
    if isinstance(outputs, tuple):
        return tuple(to_numpy(output) for output in outputs)
    return outputs.detach().cpu().numpy().astype(np.float64)
