"""Action quality assessment data: clip sequences with procedure-wise quality, and a loader."""

# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from ._directions import unit_directions

__all__ = ["make_aqa_sequences", "load_aqa_features"]

# Strengths of the planted components, in units of the per-dimension noise standard deviation
# when noise=1 (every component is a unit direction times its strength).
_PROCEDURE_STRENGTH = 2.0  # what each procedure looks like
_QUALITY_STRENGTH = 1.5  # how well it is executed, along a direction shared by all procedures
_ATHLETE_STRENGTH = 1.0  # per-video offset (athlete, venue, camera), the same for every clip
_PROCEDURE_CONCENTRATION = 2.0  # Dirichlet concentration of the procedure durations
_MAX_SCORE = 10.0

# The RG and Fis-V feature releases (GDLT, CoFInAI): label files and where the features are.
_FEATURE_FOLDER = "swintx_avg_fps25_clip32"
_RG_COLUMNS = ["difficulty", "execution", "total"]
_FISV_COLUMNS = ["TES", "PCS"]


@validate_params(
    {
        "n_videos": [Interval(Integral, 1, None, closed="left")],
        "n_clips": [tuple, list],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "n_procedures": [Interval(Integral, 1, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "return_procedures": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_aqa_sequences(
    n_videos=200,
    n_clips=(8, 16),
    n_features=64,
    n_procedures=5,
    *,
    noise=0.5,
    return_procedures=False,
    random_state=None,
):
    """Generate clip-feature sequences of performances scored from procedure-wise quality.

    A stand-in for the frozen clip features of long sports routines (Rhythmic Gymnastics,
    figure skating) and their judges' scores [1]_. Each video is a routine of ``n_procedures``
    procedures (elements, phases) performed in a fixed order, each taking a random number of
    consecutive clips, and each executed with its own quality. The score is what a judge
    gives: the sum over procedures of the procedure's value times how well it was executed,
    where **later procedures are worth more** (the routine builds up to its hardest elements).

    The features show which procedure a clip belongs to and how well it is executed, but the
    quality appears along **one direction shared by all procedures** (a backbone sees "clean
    execution" alike in every phase). Averaging the clips of a video therefore mixes the
    qualities of all procedures, weighted by how long each took rather than by what it is
    worth, and the score cannot be recovered from the average: a model has to find the
    procedures in time and weigh each one's quality (what the procedure-aware attention of
    CoFInAI [2]_ is for).

    Parameters
    ----------
    n_videos : int, default=200
        Number of videos.

    n_clips : tuple of (int, int), default=(8, 16)
        Smallest and largest number of clips per video, at least ``n_procedures``; lengths
        are drawn uniformly in between, both ends included.

    n_features : int, default=64
        Clip feature dimension D.

    n_procedures : int, default=5
        Number of procedures P of a routine.

    noise : float, default=0.5
        Standard deviation of the noise in every feature dimension; the planted components
        have strengths 1 to 2 (see Notes).

    return_procedures : bool, default=False
        Whether to also return the procedure of every clip and the quality of every procedure.

    random_state : int, RandomState instance or None, default=None
        Draws the directions, the videos and the noise. Pass an int for reproducible output.

    Returns
    -------
    X : list of ndarray of shape (T_i, n_features), dtype float32
        Clip features of each video.

    y : ndarray of shape (n_videos,), dtype float64
        Scores, between 0 and 10.

    procedures : list of ndarray of shape (T_i,), dtype int64
        Only when ``return_procedures`` is true: the procedure (0 to P - 1) of every clip,
        non-decreasing along each video, every procedure present.

    qualities : ndarray of shape (n_videos, n_procedures)
        Only when ``return_procedures`` is true: the execution quality of every procedure, in
        [0, 1].

    Notes
    -----
    Video i has qualities :math:`q_{ip} \\sim U(0, 1)` and the score

    .. math::

        y_i = \\sum_{p=1}^{P} w_p\\, q_{ip}, \\qquad w_p = \\frac{20\\, p}{P (P + 1)},

    so that the procedure values grow linearly and sum to 10. Its clips come in P contiguous
    runs, run p lasting :math:`1 + m_{ip}` clips with :math:`m_i \\sim
    \\mathrm{Multinomial}(T_i - P, \\pi_i)`, :math:`\\pi_i \\sim \\mathrm{Dirichlet}(2, \\dots,
    2)`. With orthonormal directions (random unit ones when ``n_features < P + 1``)
    :math:`a_p` for the procedures and :math:`u` for quality, clip t of procedure p has the
    feature

    .. math::

        x_t = 2\\, a_p + 1.5\\, (2 q_{ip} - 1)\\, u + z_i + \\sigma \\varepsilon_t,
        \\qquad z_i \\sim \\mathcal N(0, I / D), \\quad \\varepsilon_t \\sim \\mathcal N(0, I),

    :math:`\\sigma` = ``noise``, :math:`z_i` a per-video offset. The mean clip of a video shows
    :math:`\\sum_p \\rho_{ip} (2 q_{ip} - 1)` along :math:`u`, :math:`\\rho_{ip}` the share of
    the video's clips in procedure p, which weighs the procedures by duration instead of by
    :math:`w_p` and mixes them into one number.

    References
    ----------
    .. [1] L.-A. Zeng, F.-T. Hong, W.-S. Zheng, Q.-Z. Yu, W. Zeng, Y.-W. Wang and J.-H. Lai,
       "Hybrid Dynamic-static Context-aware Attention Network for Action Assessment in Long
       Videos", ACM MM 2020.
    .. [2] K. Zhou, J. Li, R. Cai, L. Wang, X. Zhang and X. Liang, "CoFInAI: Enhancing Action
       Quality Assessment with Coarse-to-Fine Instruction Alignment", IJCAI 2024.

    Examples
    --------
    >>> from ncestimators.datasets import make_aqa_sequences
    >>> X, y = make_aqa_sequences(n_videos=3, n_features=16, random_state=0)
    >>> len(X), X[0].shape[1], y.shape
    (3, 16, (3,))
    >>> bool(all(8 <= len(x) <= 16 for x in X) and ((0 <= y) & (y <= 10)).all())
    True
    """
    min_clips, max_clips = _check_n_clips(n_clips, n_procedures)
    rng = check_random_state(random_state)
    directions = unit_directions(n_procedures + 1, n_features, rng)
    procedure_means = _PROCEDURE_STRENGTH * directions[:n_procedures]
    quality_direction = _QUALITY_STRENGTH * directions[n_procedures]
    values = 2 * _MAX_SCORE * np.arange(1, n_procedures + 1) / (n_procedures * (n_procedures + 1))
    # Dynamic (even) procedures show good execution as more of the cue, static ones as less.
    cue_signs = np.where(np.arange(n_procedures) % 2 == 0, 1.0, -1.0)

    qualities = rng.uniform(size=(n_videos, n_procedures))
    X, procedures = [], []
    for quality in qualities:
        length = rng.randint(min_clips, max_clips + 1)
        shares = rng.dirichlet(np.full(n_procedures, _PROCEDURE_CONCENTRATION))
        durations = 1 + rng.multinomial(length - n_procedures, shares)
        procedure = np.repeat(np.arange(n_procedures), durations)
        athlete = _ATHLETE_STRENGTH * rng.standard_normal(n_features) / np.sqrt(n_features)
        features = (
            procedure_means[procedure]
            + (cue_signs * (2 * quality - 1))[procedure, None] * quality_direction
            + athlete
            + noise * rng.standard_normal((length, n_features))
        )
        X.append(features.astype(np.float32))
        procedures.append(procedure)
    y = qualities @ values
    if return_procedures:
        return X, y, procedures, qualities
    return X, y


def _check_n_clips(n_clips, n_procedures):
    if len(n_clips) != 2 or not all(isinstance(n, Integral) for n in n_clips):
        raise ValueError(f"n_clips must be a pair of ints (min, max), got {n_clips!r}.")
    min_clips, max_clips = n_clips
    if min_clips > max_clips:
        raise ValueError(f"n_clips={n_clips!r} has min > max; swap them.")
    if min_clips < n_procedures:
        raise ValueError(
            f"Every procedure needs at least one clip, so n_clips[0] must be at least "
            f"n_procedures={n_procedures}; got n_clips={n_clips!r}."
        )
    return int(min_clips), int(max_clips)


@validate_params(
    {
        "root": [str, Path],
        "action": [str],
        "split": [str],
        "features": [str, Path],
    },
    prefer_skip_nested_validation=True,
)
def load_aqa_features(root, action, split, *, features=_FEATURE_FOLDER):
    """Load Rhythmic Gymnastics or Fis-V clip features and scores of one action or score type.

    Reads the layout of the public feature releases of GDLT and CoFInAI [1]_, [2]_ (Video
    Swin features of non-overlapping 32-frame clips at 25 fps)::

        root/
            train.txt, test.txt                # a header line, then one row per video
            swintx_avg_fps25_clip32/<name>.npy # (n_clips, 1024) float, one row per clip

    The label rows are whitespace-separated. Rhythmic Gymnastics (RG) rows are
    ``<name> <difficulty> <execution> <total>`` with names prefixed by the apparatus
    (``Ball_001``); Fis-V rows are ``<name> <TES> <PCS>``. Models are trained per action
    (RG) or per score type (Fis-V), as in the papers.

    Parameters
    ----------
    root : str or path-like
        The data folder, e.g. ``VST/RG`` or ``VST/fis-v`` of the releases.

    action : str
        What to load. ``"TES"`` or ``"PCS"`` selects that Fis-V score for all videos. Any
        other value is an RG apparatus (``"Ball"``, ``"Clubs"``, ``"Hoop"``, ``"Ribbon"``):
        the videos whose name starts with ``action + "_"``, scored by their total score.

    split : str
        ``"train"`` or ``"test"``: reads ``root/<split>.txt``.

    features : str or path-like, default="swintx_avg_fps25_clip32"
        Folder of the ``.npy`` files, relative to ``root`` (or absolute).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with

        X : list of ndarray of shape (n_clips_i, n_features), dtype float32
            Clip features of each video.
        y : ndarray of shape (n_videos,), dtype float64
            The target score: the RG total score, or the Fis-V TES or PCS.
        frame : pandas.DataFrame
            All scores of the selected rows, indexed by video name: columns
            ``difficulty``, ``execution``, ``total`` for RG, ``TES``, ``PCS`` for Fis-V.
        video_names : list of str
            Video names, in the order of the label file.

    Raises
    ------
    FileNotFoundError
        If the label file, the feature folder or a video's ``.npy`` file is missing; the
        message names the path.
    ValueError
        If ``split`` is not "train" or "test", a label row is malformed (the message names the
        file and line), no row matches ``action``, or a feature file is not a 2-D array.

    References
    ----------
    .. [1] A. Xu, L.-A. Zeng and W.-S. Zheng, "Likert Scoring with Grade Decoupling for
       Long-term Action Assessment", CVPR 2022. https://github.com/xuangch/CVPR22_GDLT
    .. [2] K. Zhou, J. Li, R. Cai, L. Wang, X. Zhang and X. Liang, "CoFInAI: Enhancing Action
       Quality Assessment with Coarse-to-Fine Instruction Alignment", IJCAI 2024.

    Examples
    --------
    >>> from ncestimators.datasets import load_aqa_features
    >>> ball = load_aqa_features("data/VST/RG", "Ball", "train")  # doctest: +SKIP
    >>> len(ball.X), ball.X[0].shape[1], ball.frame.columns.tolist()  # doctest: +SKIP
    (200, 1024, ['difficulty', 'execution', 'total'])
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    root = Path(root)
    fis_v = action in _FISV_COLUMNS
    frame = _read_labels(root / f"{split}.txt", _FISV_COLUMNS if fis_v else _RG_COLUMNS)
    if fis_v:
        target = action
    else:
        apparatus = frame.index.str.split("_").str[0]
        if action not in set(apparatus):
            raise ValueError(
                f"No video of {root / f'{split}.txt'} is of action {action!r}; its actions are "
                f"{sorted(set(apparatus))}. For Fis-V, use 'TES' or 'PCS'."
            )
        frame = frame[apparatus == action]
        target = "total"
    folder = root / features
    if not folder.is_dir():
        raise FileNotFoundError(f"Feature folder not found: {folder}")
    X = [_read_clip_features(folder / f"{name}.npy") for name in frame.index]
    return Bunch(
        X=X, y=frame[target].to_numpy(np.float64), frame=frame, video_names=list(frame.index)
    )


def _read_labels(path, columns):
    """Label rows of ``path`` (the header skipped) as a DataFrame of floats indexed by name."""
    if not path.is_file():
        raise FileNotFoundError(f"Label file not found: {path}")
    names, scores = [], []
    for number, line in enumerate(path.read_text().splitlines()[1:], start=2):
        fields = line.split()
        if not fields:
            continue
        try:
            if len(fields) != len(columns) + 1:
                raise ValueError
            scores.append([float(field) for field in fields[1:]])
        except ValueError:
            raise ValueError(
                f"{path}, line {number}: expected a name and {len(columns)} numbers "
                f"({', '.join(columns)}), got {line.strip()!r}."
            ) from None
        names.append(fields[0])
    return pd.DataFrame(scores, index=pd.Index(names, name="video"), columns=columns)


def _read_clip_features(path):
    if not path.is_file():
        raise FileNotFoundError(f"Feature file not found: {path}")
    features = np.load(path, allow_pickle=False)
    if features.ndim != 2 or len(features) == 0:
        raise ValueError(
            f"{path} holds an array of shape {features.shape}; expected (n_clips, n_features) "
            "with at least one clip."
        )
    return features.astype(np.float32, copy=False)
