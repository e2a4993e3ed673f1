"""Untrimmed videos for weakly-supervised temporal action localisation: a generator and a loader."""

# SPDX-License-Identifier: BSD-3-Clause

import json
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._directions import unit_directions

__all__ = ["make_wtal_videos", "load_wtal_features"]

# Strengths of the planted components, in units of the per-dimension noise standard deviation
# when noise=1 (every component is a unit direction times its strength).
_ACTION_STRENGTH = 2.0  # the motion component shared by all action snippets
_STYLE_STRENGTH = 2.0  # each style's own direction (action and background alike)
_SIGNATURE_CLASS_STRENGTH = 2.5  # class evidence in the signature phase (style 0) of an action
_PHASE_CLASS_STRENGTH = 0.6  # class evidence in the other phases
_CONFUSER_MOTION = 0.5  # share of the motion component in background style 0 (camera motion)
_SCENE_STRENGTH = 1.0  # per-video scene offset, added to every snippet of the video
_CONTEXT_WIDTH = 6  # snippets on each side of an action instance that carry its context
_NOISE_CORRELATION = 0.5  # AR(1) coefficient of the noise along time (features are smooth)
_INSTANCE_FRACTION = (0.04, 0.15)  # instance length as a fraction of the video length
_MIN_INSTANCE_LENGTH = 3
_MIN_PIECE, _MAX_PIECE = 8, 40  # lengths of the constant-style background pieces


@validate_params(
    {
        "n_videos": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "n_action_styles": [Interval(Integral, 1, None, closed="left")],
        "n_background_styles": [Interval(Integral, 1, None, closed="left")],
        "min_length": [Interval(Integral, 8, None, closed="left")],
        "max_length": [Interval(Integral, 8, None, closed="left")],
        "max_instances": [Interval(Integral, 1, None, closed="left")],
        "multi_label_fraction": [Interval(Real, 0, 1, closed="both")],
        "context": [Interval(Real, 0, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "return_styles": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_wtal_videos(
    n_videos=100,
    n_classes=5,
    n_features=64,
    *,
    n_action_styles=3,
    n_background_styles=4,
    min_length=64,
    max_length=192,
    max_instances=4,
    multi_label_fraction=0.2,
    context=0.5,
    noise=0.7,
    return_styles=False,
    random_state=None,
):
    """Generate snippet-feature sequences of untrimmed videos with action instances.

    A stand-in for the frozen I3D snippet features of THUMOS14 [1]_: each video is a sequence of
    snippet features in which a few action instances sit in a longer, varied background, and only
    the video-level labels are meant for training (the segments are for evaluation). It plants
    the structure that makes weakly-supervised localisation hard and that snippet clustering can
    find [2]_:

    * **several action styles** shared by all classes, the phases of an instance (think
      run-up, swing, landing). Every instance runs through the styles in its class's own order,
      in contiguous phases of random lengths. Style 0 is the *signature* phase that carries
      strong class evidence; the other phases carry little, so a classifier trained on video
      labels fires on the signature phase only and localises actions incompletely;
    * **a motion component shared by all action snippets** (what makes them foreground), which
      background style 0 also carries weakly (camera motion, people walking by), so actionness
      is not a single linear cut;
    * **several background styles**, laid out in pieces of 8 to 40 snippets, with a per-video
      mixture over styles and a per-video scene offset, so backgrounds vary between videos;
    * **context**: the background right before and after an instance (6 snippets each side)
      carries some evidence of the instance's class (the pool before a dive), which pulls class
      activations beyond the action boundaries;
    * temporally correlated noise, as in features of overlapping snippets.

    Parameters
    ----------
    n_videos : int, default=100
        Number of videos.

    n_classes : int, default=5
        Number of action classes G, at least 2.

    n_features : int, default=64
        Snippet feature dimension D.

    n_action_styles : int, default=3
        Number of action styles (phases) shared by the classes.

    n_background_styles : int, default=4
        Number of background styles.

    min_length, max_length : int, default=64, 192
        Range of video lengths in snippets, at least 8; lengths are drawn uniformly.

    max_instances : int, default=4
        Most action instances per video; each video has between one (two for a video with two
        classes) and ``max_instances``, as many as fit. An instance lasts 4 % to 15 % of its
        video (at least 3 snippets), so actions cover about a quarter of the snippets.

    multi_label_fraction : float, default=0.2
        Probability that a video shows two action classes instead of one.

    context : float, default=0.5
        Strength of the class evidence in the background around instances; 0 switches context
        off.

    noise : float, default=0.7
        Standard deviation of the noise in every feature dimension; the planted components are
        unit directions with strengths between 0.5 and 2.5. The defaults of ``context`` and
        ``noise`` make the task about as hard for the baseline as THUMOS14 (localisation mAP
        around 0.4); at ``noise=1`` weak supervision often latches onto the background.

    return_styles : bool, default=False
        Whether to also return the style of every snippet.

    random_state : int, RandomState instance or None, default=None
        Draws the directions, the videos and the noise. Pass an int for reproducible output.
        The directions define the task, so take training and test videos from one call (and
        split them) rather than from calls with different seeds.

    Returns
    -------
    X : list of ndarray of shape (T_i, n_features), dtype float32
        Snippet features of each video.

    y : ndarray of shape (n_videos, n_classes), dtype int64
        Multi-hot video labels: ``y[i, g] == 1`` if video i contains an instance of class g.

    segments : list of ndarray of shape (m_i, 3), dtype float64
        Action instances of each video as rows ``(label, start, end)``: the class index in
        ``0 .. n_classes - 1`` (the column of ``y``, and the label that
        :class:`~ncestimators.ClusterFBSeparator` fitted on ``y`` predicts) and the time span in
        snippet units, snippet t covering ``[t, t + 1)``. Rows are sorted by start.

    styles : list of ndarray of shape (T_i,), dtype int64
        Only when ``return_styles`` is true: the style of every snippet, background styles as
        ``0 .. n_background_styles - 1`` and action style s as ``n_background_styles + s``.

    Notes
    -----
    With unit directions for the motion component :math:`m`, the action styles :math:`a_s`, the
    background styles :math:`b_j` and the classes :math:`c_g`, snippet t of a video with scene
    offset :math:`z` has the feature

    .. math::

        x_t = \\begin{cases}
            2\\,m + 2\\,a_s + w_s\\, c_g + z + \\varepsilon_t
                & \\text{in phase } s \\text{ of an instance of class } g,\\\\
            2\\,b_j + 0.5\\,[j = 0]\\, m + \\kappa\\, c_g + z + \\varepsilon_t
                & \\text{in background of style } j \\text{ near an instance of class } g,\\\\
            2\\,b_j + 0.5\\,[j = 0]\\, m + z + \\varepsilon_t & \\text{in other background},
        \\end{cases}

    with :math:`w_0 = 2.5` (signature phase), :math:`w_s = 0.6` otherwise, :math:`\\kappa` =
    ``context``, :math:`z \\sim \\mathcal{N}(0, I/D)` per video and noise
    :math:`\\varepsilon_t = 0.5\\,\\varepsilon_{t-1} + \\sqrt{0.75}\\,\\sigma\\,\\xi_t`,
    :math:`\\xi_t \\sim \\mathcal{N}(0, I)`, with :math:`\\sigma` = ``noise``. The directions are
    orthonormal when ``n_features`` allows, random unit vectors otherwise.

    References
    ----------
    .. [1] Y.-G. Jiang et al., "THUMOS Challenge: Action Recognition with a Large Number of
       Classes", 2014.
    .. [2] Q. Liu, Z. Wang, S. Rong, J. Li and Y. Zhang, "Revisiting Foreground and Background
       Separation in Weakly-supervised Temporal Action Localization: A Clustering-based
       Approach", ICCV 2023.

    Examples
    --------
    >>> from ncestimators.datasets import make_wtal_videos
    >>> X, y, segments = make_wtal_videos(n_videos=4, n_classes=3, n_features=16,
    ...                                   random_state=0)
    >>> len(X), X[0].shape[1], y.shape
    (4, 16, (4, 3))
    >>> labels = segments[0][:, 0].astype(int)
    >>> bool((y[0, labels] == 1).all() and (segments[0][:, 2] <= len(X[0])).all())
    True
    """
    if min_length > max_length:
        raise ValueError(
            f"min_length={min_length} is greater than max_length={max_length}; swap them."
        )
    rng = check_random_state(random_state)
    directions = unit_directions(2 + n_action_styles + n_background_styles + n_classes,
                                  n_features, rng)  # fmt: skip
    motion, action_styles, background_styles, classes = np.split(
        directions, np.cumsum([1, n_action_styles, n_background_styles])
    )
    phase_orders = np.array([_phase_order(n_action_styles, rng) for _ in range(n_classes)])
    class_strength = np.full(n_action_styles, _PHASE_CLASS_STRENGTH)
    class_strength[0] = _SIGNATURE_CLASS_STRENGTH
    action_means = _ACTION_STRENGTH * motion + _STYLE_STRENGTH * action_styles
    background_means = _STYLE_STRENGTH * background_styles
    background_means[0] += _CONFUSER_MOTION * _ACTION_STRENGTH * motion[0]

    X, segments, styles = [], [], []
    y = np.zeros((n_videos, n_classes), dtype=np.int64)
    for video in range(n_videos):
        length = int(rng.randint(min_length, max_length + 1))
        n_video_classes = 2 if rng.uniform() < multi_label_fraction else 1
        video_classes = rng.choice(n_classes, size=n_video_classes, replace=False)
        instances = _place_instances(length, video_classes, max_instances, rng)
        style = _background_layout(length, n_background_styles, rng)
        mean = background_means[style]
        for label, start, end in instances:
            mean[max(0, start - _CONTEXT_WIDTH) : start] += context * classes[label]
            mean[end : end + _CONTEXT_WIDTH] += context * classes[label]
        for label, start, end in instances:
            phases = _phase_styles(end - start, phase_orders[label], rng)
            style[start:end] = n_background_styles + phases
            mean[start:end] = action_means[phases] + class_strength[phases, None] * classes[label]
        scene = _SCENE_STRENGTH * rng.standard_normal(n_features) / np.sqrt(n_features)
        features = mean + scene + noise * _correlated_noise(length, n_features, rng)
        X.append(features.astype(np.float32))
        y[video, [label for label, _, _ in instances]] = 1
        segments.append(np.array(instances, dtype=np.float64).reshape(-1, 3))
        styles.append(style)
    if return_styles:
        return X, y, segments, styles
    return X, y, segments


def _phase_order(n_styles, rng):
    """A class's order of the action styles, with the signature phase (style 0) in the middle."""
    return np.insert(rng.permutation(np.arange(1, n_styles)), n_styles // 2, 0)


def _place_instances(length, video_classes, max_instances, rng):
    """Non-overlapping ``(label, start, end)`` instances, every video class at least once."""
    lo, hi = (max(_MIN_INSTANCE_LENGTH, int(f * length)) for f in _INSTANCE_FRACTION)
    n_wanted = rng.randint(len(video_classes), max(len(video_classes), max_instances) + 1)
    labels = np.concatenate(
        [video_classes, rng.choice(video_classes, size=n_wanted - len(video_classes))]
    )
    durations = rng.randint(lo, hi + 1, size=len(labels))
    # Lay the instances out in a random order with random gaps of at least 2 snippets.
    while durations.sum() + 2 * (len(durations) + 1) > length and len(durations) > 1:
        durations, labels = durations[:-1], labels[:-1]
    durations = np.minimum(durations, length - 4)
    order = rng.permutation(len(labels))
    labels, durations = labels[order], durations[order]
    free = length - durations.sum() - 2 * (len(durations) + 1)
    gaps = 2 + np.diff(np.sort(rng.randint(0, free + 1, size=len(durations))), prepend=0)
    starts = np.cumsum(gaps) + np.concatenate([[0], np.cumsum(durations)[:-1]])
    return [
        (int(label), int(start), int(start + duration))
        for label, start, duration in zip(labels, starts, durations, strict=True)
    ]


def _background_layout(length, n_styles, rng):
    """Background style of every snippet: constant pieces, styles from a per-video mixture."""
    mixture = rng.dirichlet(np.ones(n_styles))
    style = np.empty(length, dtype=np.int64)
    start = 0
    while start < length:
        end = start + rng.randint(_MIN_PIECE, _MAX_PIECE + 1)
        style[start:end] = rng.choice(n_styles, p=mixture)
        start = end
    return style


def _phase_styles(duration, order, rng):
    """Style of each snippet of an instance: the styles of ``order`` in contiguous phases."""
    shares = rng.dirichlet(np.full(len(order), 4.0))
    bounds = np.round(np.cumsum(shares) * duration).astype(int)
    phase = np.searchsorted(bounds, np.arange(duration), side="right")
    return order[np.minimum(phase, len(order) - 1)]


def _correlated_noise(length, n_features, rng):
    """Stationary AR(1) Gaussian noise along time with unit variance per dimension."""
    innovations = rng.standard_normal((length, n_features))
    noise = np.empty_like(innovations)
    noise[0] = innovations[0]
    scale = np.sqrt(1 - _NOISE_CORRELATION**2)
    for t in range(1, length):
        noise[t] = _NOISE_CORRELATION * noise[t - 1] + scale * innovations[t]
    return noise


@validate_params(
    {"root": [str, Path], "split": [StrOptions({"train", "test"})]},
    prefer_skip_nested_validation=True,
)
def load_wtal_features(root, split):
    """Load THUMOS14-style I3D snippet features, video labels and action segments.

    Reads the layout shared by BaS-Net, ASL and CASE [1]_ (and their public ``dataset.zip``
    archives)::

        root/
            gt.json                         # ActivityNet-style annotations
            split_train.txt, split_test.txt # one video name per line
            features/{train,test}/rgb/<video>.npy   # (T, 1024) float32, one row per snippet
            features/{train,test}/flow/<video>.npy  # (T, 1024)

    Each snippet covers 16 frames of the 25 fps video, so fit
    :class:`~ncestimators.ClusterFBSeparator` with ``fps=25, snippet_frames=16,
    n_streams=2`` to get its proposals in seconds, like these segments.

    Parameters
    ----------
    root : str or path-like
        The data folder (``data/THUMOS14`` in the official code bases).

    split : {"train", "test"}
        Which split to load. On THUMOS14, "train" is the 200 validation videos used for
        training and "test" the 210 test videos.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with

        X : list of ndarray of shape (T_i, D_rgb + D_flow), dtype float32
            Per-video RGB and flow features side by side, RGB first. When the two streams of a
            video differ in length, both are cut to the shorter one.
        y : ndarray of shape (n_videos, n_classes), dtype int64
            Multi-hot video labels: the classes annotated in the video.
        segments : list of ndarray of shape (m_i, 3), dtype float64
            Annotated instances ``(label, start, end)``, label the column of ``y`` (the index
            into ``class_names``), start and end in seconds.
        class_names : ndarray of str of shape (n_classes,)
            Class names, sorted; taken from the annotations of all subsets, so both splits
            share the same columns.
        video_names : list of str
            Video names, in the order of the split file.

    Raises
    ------
    FileNotFoundError
        If a file of the layout is missing; the message names the path.
    ValueError
        If ``gt.json`` is malformed, a listed video has no annotation entry, or a feature
        file is not a 2-D array.

    References
    ----------
    .. [1] Q. Liu, Z. Wang, S. Rong, J. Li and Y. Zhang, "Revisiting Foreground and Background
       Separation in Weakly-supervised Temporal Action Localization: A Clustering-based
       Approach", ICCV 2023. https://github.com/Qinying-Liu/CASE

    Examples
    --------
    >>> from ncestimators.datasets import load_wtal_features
    >>> data = load_wtal_features("data/THUMOS14", "test")  # doctest: +SKIP
    >>> data.X[0].shape, data.class_names[:2]  # doctest: +SKIP
    ((1552, 2048), array(['BaseballPitch', 'BasketballDunk'], dtype='<U16'))
    """
    root = Path(root)
    database = _read_annotations(root / "gt.json")
    class_names = np.array(
        sorted({entry["label"] for video in database.values() for entry in video["annotations"]})
    )
    class_index = {name: index for index, name in enumerate(class_names)}
    video_names = _read_split(root / f"split_{split}.txt")
    X, segments = [], []
    y = np.zeros((len(video_names), len(class_names)), dtype=np.int64)
    for row, name in enumerate(video_names):
        if name not in database:
            raise ValueError(
                f"Video {name!r} of {root / f'split_{split}.txt'} has no entry in "
                f"{root / 'gt.json'}; add it (with an empty annotation list if it has none)."
            )
        X.append(_read_video_features(root / "features" / split, name))
        instances = [
            (class_index[entry["label"]], *map(float, entry["segment"]))
            for entry in database[name]["annotations"]
        ]
        segments.append(np.array(sorted(instances, key=lambda row: row[1]), np.float64)
                        .reshape(-1, 3))  # fmt: skip
        y[row, [label for label, _, _ in instances]] = 1
    return Bunch(X=X, y=y, segments=segments, class_names=class_names, video_names=video_names)


def _read_annotations(path):
    """The ``database`` mapping of an ActivityNet-style annotation file, checked."""
    if not path.is_file():
        raise FileNotFoundError(f"Annotation file not found: {path}")
    try:
        database = json.loads(path.read_text())["database"]
        for video in database.values():
            for entry in video["annotations"]:
                _, _ = map(float, entry["segment"])
                if not isinstance(entry["label"], str):
                    raise TypeError(f"label {entry['label']!r} is not a string")
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"{path} is not an ActivityNet-style annotation file: it needs "
            '{"database": {video: {"annotations": [{"label": name, "segment": [start, end]}, '
            f"...]}}}} ({type(error).__name__}: {error})."
        ) from error
    return database


def _read_split(path):
    if not path.is_file():
        raise FileNotFoundError(f"Split file not found: {path}")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _read_video_features(folder, name):
    """RGB and flow features of one video side by side, cut to the shorter stream."""
    streams = []
    for stream in ("rgb", "flow"):
        path = folder / stream / f"{name}.npy"
        if not path.is_file():
            raise FileNotFoundError(f"Feature file not found: {path}")
        features = np.load(path, allow_pickle=False)
        if features.ndim != 2 or len(features) == 0:
            raise ValueError(
                f"{path} must hold a non-empty (snippets, features) array, got shape "
                f"{features.shape}."
            )
        streams.append(features)
    length = min(len(features) for features in streams)
    return np.concatenate([features[:length] for features in streams], axis=1).astype(
        np.float32, copy=False
    )
