"""Coarse-to-fine action quality assessment over clip-feature sequences (CoFInAI)."""

# SPDX-License-Identifier: BSD-3-Clause

import math
from functools import partial
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import column_or_1d
from skorch.callbacks import LRScheduler
from torch.optim.lr_scheduler import LambdaLR

from .._base import TorchEstimatorBase
from .._nets import GradientClipping
from .._runtime import to_numpy, torch_seed
from ..geometry import simplex_etf
from ..metrics import srcc
from ._head import CoFInAIHead
from ._losses import CoarseToFineLoss

__all__ = ["CoFInAIRegressor"]


class CoFInAIRegressor(RegressorMixin, TorchEstimatorBase):
    """Action quality assessment as coarse grade plus fine sub-grade classification (CoFInAI).

    Scores a video from its sequence of frozen clip features, the way a judge would: first a
    coarse grade, then a finer sub-grade within it [1]_. The score range is cut into
    ``n_grades`` grades of width ``S_C`` and each grade into ``n_subgrades`` sub-grades of width
    ``S_F``. Four parts make the head:

    * **TFM**, the temporal fusion module: ``n_procedures`` queries attend over the clips and
      summarise the video as one feature per procedure (phase) of the action (Eq. 7);
    * **GPM**, the grade parsing module: ``n_grades`` learnable grade prototypes query the
      procedure features (Eq. 9) and give a coarse feature per grade, from which a masked
      difference to the prototypes gives the fine feature (Eq. 10-11). A quality-aware graph
      regulariser makes the angles between prototypes grow with grade distance (Eq. 8);
    * a coarse **grade classifier** (an MLP, cross-entropy);
    * **FGS**, fine-grained scoring: the fine feature is aligned with the fixed simplex-ETF
      prototype of the true sub-grade (Eq. 14-15).

    The predicted score is the expectation of the score over the predicted grade and sub-grade
    probabilities, which is differentiable and trained with a squared error (L_S).

    Parameters
    ----------
    n_grades : int, default=4
        Number of coarse grades G, at least 2.

    n_subgrades : int, default=5
        Number of sub-grades G' per grade, at least 2.

    n_procedures : int, default=5
        Number of procedures P that TFM summarises a video into.

    score_range : tuple of (float, float), default=None
        ``(lo, hi)`` range of possible scores that the grades divide. None uses the smallest
        and largest training score. Training scores outside the range are clipped to it.

    d_procedure : int, default=128
        Dimension D_P of the clip and procedure features (the paper's is 512).

    d_score : int, default=64
        Dimension D_S of the coarse and fine grade features (the paper's is 256); at least
        ``n_subgrades - 1`` so that the sub-grade prototypes form a simplex ETF.

    lambda_coarse : float, default=1.0
        Weight lambda_C of the grade cross-entropy L_C.

    lambda_fine : float, default=1.0
        Weight lambda_F of the sub-grade alignment loss L_F.

    lambda_graph : float, default=1.0
        Weight lambda_R of the graph regulariser L_R on the grade prototypes. 0 gives the
        paper's "w/o L_R" ablation.

    lambda_diversity : float, default=3.0
        Weight of the query diversity term, the mean cosine similarity between the attention
        maps of different TFM procedure queries. **Not in the paper** (see Notes): without it
        the queries end up attending alike. 0 turns it off.

    subgrade_scale : float, default=10.0
        Inverse temperature of the sub-grade probabilities,
        ``softmax(subgrade_scale * cosines)`` over the ETF prototypes; it sets how sharply the
        expected score follows the nearest sub-grade. (The paper only uses the argmax.)

    dropout : float, default=0.5
        Dropout probability on the clip embeddings and in the grade classifier.

    clip_crop : int, default=None
        In training, each video is replaced by a random contiguous run of ``clip_crop`` clips
        (shorter videos are kept whole), drawn anew every epoch; prediction uses all clips.
        None trains on whole videos.

    temporal_fusion : bool, default=True
        Whether to use TFM. False gives the "w/o TFM" ablation: GPM attends to the clips
        directly.

    grade_parsing : bool, default=True
        Whether to use GPM. False gives the "w/o GPM" ablation: the grade classifier and FGS
        both read linear projections of the mean procedure feature, there are no grade
        prototypes and no L_R.

    fine_scoring : bool, default=True
        Whether to use FGS. False gives the "w/o FGS" ablation: no sub-grades, no L_F, and the
        score is the expected grade's centre.

    max_epochs : int, default=100
        Number of passes over the training data that a ``fit`` makes, unless early stopping
        (with a validation set) ends it sooner; a warm-started ``fit`` makes as many again.

    batch_size : int, default=32
        Mini-batch size (videos).

    lr : float, default=0.01
        Learning rate of the optimiser.

    optimizer : {"adam", "adamw", "sgd"}, default="sgd"
        Optimiser: Adam, AdamW, or SGD with momentum 0.9.

    weight_decay : float, default=0.01
        Weight decay of the optimiser: an L2 penalty on the network's parameters, decoupled from
        the gradient step for "adamw".

    lr_schedule : {"cosine"} or None, default="cosine"
        "cosine" anneals every learning rate to 1/100 of its initial value over ``max_epochs``
        (the paper's schedule, 0.01 to 0.0001); None keeps it constant. Each ``fit`` starts the
        schedule afresh, warm starts too.

    max_grad_norm : float or None, default=10.0
        Largest norm of the gradient (over all parameters) of a step; larger ones are scaled
        down to it. None does not clip.

    device : str, default="auto"
        Torch device; "auto" uses CUDA when available. An unavailable CUDA device falls back to
        the CPU with a :class:`~ncestimators.exceptions.DeviceWarning`.

    random_state : int, RandomState instance or None, default=None
        Seeds every random draw of a fit (the initial weights, the batch order, the held-out
        split and the method's own draws, which the Notes name), without touching the global
        random states. Pass an int for reproducible results.

    verbose : int, default=0
        0 is silent; 1 shows a progress bar and the epoch table.

    callbacks : list of skorch callbacks, default=None
        Extra callbacks for the training loop (loggers such as skorch's ``TensorBoard``), used
        as given: the fit runs these objects, not copies (``clone`` copies them). With a
        :class:`~ncestimators.callbacks.TrainingCheckpoint`, a killed fit resumes.

    validation_fraction : float, default=None
        Fraction of the training samples held out as a validation set: training stops after
        ``n_iter_no_change`` epochs without improvement of the validation loss (``valid_loss``
        in ``history_``; the Notes say which loss), and the fit keeps the network of the best
        epoch. None trains on all samples for ``max_epochs`` epochs. The ``X_val`` and ``y_val``
        of :meth:`fit` give a fixed validation set instead.

    n_iter_no_change : int, default=10
        Number of epochs in a row without improvement of the validation loss (a decrease by more
        than a relative 1e-4) after which training stops; only used with a validation set.

    warm_start : bool, default=False
        Whether a new ``fit`` goes on training the current network, and the state its loss has
        learned, for another ``max_epochs`` epochs (``history_`` and ``n_iter_`` go on; the
        optimiser starts afresh). Changing a parameter that shapes the network (the Notes name
        them), the number of features or the classes trains a fresh network instead, with a
        :class:`~ncestimators.exceptions.WarmStartWarning`; other parameters take effect on the
        current network.

    accelerator : accelerate.Accelerator, default=None
        Train under a Hugging Face ``Accelerator``: one fit over several GPUs or processes
        (launched with ``accelerate launch`` or ``torchrun``), or mixed precision. The
        accelerator places the network and the batches, so ``device`` is not used; the
        processes share one history, so early stopping agrees between them, and each process
        predicts on all of X. See :ref:`several-gpus`.

    Attributes
    ----------
    score_range_ : tuple of (float, float)
        The ``(lo, hi)`` score range the grades divide.

    grade_width_ : float
        Width S_C = (hi - lo) / G of a grade.

    subgrade_width_ : float
        Width S_F = S_C / G' of a sub-grade.

    grade_prototypes_ : ndarray of shape (n_grades, d_procedure)
        The learned grade prototypes G. Only when ``grade_parsing`` is true.

    subgrade_prototypes_ : ndarray of shape (n_subgrades, d_score)
        The fixed simplex-ETF sub-grade prototypes E, one unit row per sub-grade. Only when
        ``fine_scoring`` is true.

    n_features_in_ : int
        Dimension D of the clip features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit. Defined only when X is a DataFrame whose column names
        are all strings.

    net_ : skorch.NeuralNet
        The fitted skorch net: the network (``net_.module_``), the loss and the optimiser.

    history_ : skorch.history.History
        Per-epoch training record, one row per epoch: the training loss, with a validation set
        ``valid_loss``, and the durations. A fit stopped by ``KeyboardInterrupt`` (Ctrl-C) keeps
        the model as it was and marks its last row ``interrupted``.

    n_iter_ : int
        Number of finished epochs.

    See Also
    --------
    ncestimators.geometry.simplex_etf : The fixed sub-grade prototypes.
    ncestimators.datasets.make_aqa_sequences : Clip sequences with procedure-wise quality.
    ncestimators.datasets.load_aqa_features : Rhythmic Gymnastics and Fis-V features.

    Notes
    -----
    **Grades.** With ``(lo, hi) = score_range_``, :math:`S_C = (hi - lo)/G` and
    :math:`S_F = S_C/G'`, a score s has grade and sub-grade

    .. math::

        g = \\min(\\lfloor (s - lo)/S_C \\rfloor, G - 1), \\qquad
        f = \\min(\\lfloor (s - lo - g S_C)/S_F \\rfloor, G' - 1),

    so the top score ``hi`` falls in the last sub-grade of the last grade. (The paper's
    decomposition omits the factor :math:`S_C`, a typo; the official code instead takes the
    decimal digits of s/25 on every data set.)

    **Network.** A video's clip features :math:`h^1, \\dots, h^C` are embedded in
    :math:`D_P` dimensions. TFM (Eq. 7) forms keys :math:`K_T` and values :math:`V_T` of the
    clips and P procedure queries :math:`\\tilde Q_T`, the clip average of per-clip queries
    :math:`Q_T \\in \\mathbb{R}^{C \\times P \\times D_P}`, and gives the procedure features
    :math:`\\tilde H = \\mathrm{softmax}(\\tilde Q_T K_T^\\top/\\sqrt{D_P}) V_T \\in
    \\mathbb{R}^{P \\times D_P}`. GPM embeds the grade prototypes
    :math:`\\mathbf G \\in \\mathbb{R}^{G \\times D_P}` as queries :math:`Q_G` and
    :math:`\\tilde H` as keys :math:`K_G` and values :math:`V_G` in :math:`D_S` dimensions:

    .. math::

        H_C = \\mathrm{softmax}(Q_G K_G^\\top/\\sqrt{D_S}) V_G, \\quad
        M = \\mathrm{softmax}(\\mathrm{avgPool}(H_C)), \\quad
        H_F = M \\odot (H_C - Q_G), \\quad h_F = \\mathrm{avgPool}(H_F),

    (Eq. 9-11, 14), the first average over the feature axis (one weight per grade), the second
    over the grades. The grade probabilities are :math:`p = \\mathrm{softmax}(
    \\mathrm{MLP}(H_C))`, the sub-grade probabilities
    :math:`q_j = \\mathrm{softmax}_j(\\kappa \\cos(h_F, e_j))` over the columns :math:`e_j`
    of the fixed ETF :math:`E \\in \\mathbb{R}^{D_S \\times G'}`, :math:`\\kappa` =
    ``subgrade_scale``, and the predicted score is the expectation of the score under them,

    .. math::

        \\hat s = lo + S_C \\sum_g g\\, p_g + S_F \\Big(\\sum_j j\\, q_j + \\tfrac12\\Big),

    the paper's Eq. 6 with expectations in place of argmaxes (and the centre of the
    sub-grade), so that it is differentiable and not quantised. Without FGS,
    :math:`\\hat s = lo + S_C (\\sum_g g\\, p_g + \\frac12)`.

    **Objective** (Eq. 2), over a mini-batch of N videos with scores :math:`s_i`:

    .. math::

        \\mathcal L = \\mathcal L_S + \\lambda_C \\mathcal L_C + \\lambda_F \\mathcal L_F
            + \\lambda_R \\mathcal L_R, \\qquad
        \\mathcal L_S = \\frac{1}{2N} \\sum_i \\Big(\\frac{s_i - \\hat s_i}{S_F}\\Big)^2,
        \\qquad
        \\mathcal L_F = \\frac{1}{2N} \\sum_i \\big(\\cos(h_F^i, e_{f_i}) - 1\\big)^2,

    :math:`\\mathcal L_C` the cross-entropy of :math:`p` and the true grades :math:`g_i`, and
    the quality-aware graph regulariser (Eq. 8), in the exact form used here,

    .. math::

        \\mathcal L_R = \\frac1G \\sum_{i=1}^{G} \\mathrm{KL}(d_i \\,\\|\\, a_i), \\qquad
        a_{ij} = \\frac{\\arccos(\\bar g_i^\\top \\bar g_j)}
            {\\sum_{k \\ne i} \\arccos(\\bar g_i^\\top \\bar g_k)}, \\qquad
        d_{ij} = \\frac{|i - j|}{\\sum_{k \\ne i} |i - k|}, \\qquad j \\ne i,

    with :math:`\\bar g_i` the unit-norm grade prototypes: row by row, the angles from a
    prototype to the others, made a distribution over the others, must match the grade
    distances :math:`D_{ij} = |i - j|` made one the same way. It is zero exactly when every
    row of angles is proportional to the grade distances, so neighbouring grades get the
    closest prototypes. (For G = 2 every row has a single entry and the term vanishes.)

    With video weights :math:`w_i` (``sample_weight``), every mean over the videos is a
    weighted one, :math:`\\frac1N \\sum_i \\ell_i` becoming
    :math:`\\sum_i w_i \\ell_i / \\sum_i w_i` in :math:`\\mathcal L_S`,
    :math:`\\mathcal L_C`, :math:`\\mathcal L_F` and the query diversity term below (and in
    the validation loss); :math:`\\mathcal L_R` acts on the prototypes alone and is not
    weighted.

    **Query diversity (not in the paper).** Nothing in Eq. 2 asks the P procedure queries to
    differ (GPM attends to the procedure features as a set), and without a reason to differ
    they end up alike, each attending evenly to all clips. The official code pushes the decoded
    queries apart with a hard triplet loss that the paper does not describe; here the term
    acts on what should differ, the attention maps :math:`A \\in \\mathbb{R}^{P \\times T}` of
    each video (rows sum to 1),

    .. math::

        \\mathcal L_D = \\frac{1}{P (P - 1)} \\sum_{p \\ne p'}
            \\frac{A_p^\\top A_{p'}}{\\lVert A_p \\rVert \\, \\lVert A_{p'} \\rVert},

    averaged over the videos and added with weight ``lambda_diversity``: 1 when all queries
    attend alike, 0 when no two share a clip. On ``make_aqa_sequences`` it makes the queries
    settle on different procedures and raises the SRCC (``examples/benchmarks/
    results_cofinai.md``).

    Ablations of the paper's Table 3: "w/o L_R" is ``lambda_graph=0``, "w/o TFM"
    ``temporal_fusion=False``, "w/o GPM" ``grade_parsing=False``, "w/o FGS"
    ``fine_scoring=False``.

    Differences from the paper and its official code, each on purpose:

    * L_S measures errors in sub-grade widths S_F, the resolution of the score, so that the
      loss weights mean the same whatever the units of the score. (On RG, S_F is close to one
      point, the paper's unit; in units of the whole range the score term is too weak against
      the classification terms and the head overfits them.) It keeps this unit without FGS,
      so that the "w/o FGS" ablation changes nothing else.
    * L_F aligns h_F with the prototype of the *true* sub-grade (the paper's "predicted" is a
      typo: a target cannot be a prediction).
    * Where the paper subtracts the prototypes from :math:`H_C` (Eq. 11), their
      :math:`D_S`-dimensional embedding :math:`Q_G` is used, since the two have different
      dimensions.
    * The clips are first embedded by ``Linear -> LayerNorm -> ReLU -> Dropout`` (LayerNorm,
      not the official BatchNorm, so that predictions do not depend on the batch), and
      padding is masked out of every average and attention.
    * The defaults train with the paper's recipe (SGD with momentum 0.9, lr 0.01 annealed to
      0.0001 by a cosine, weight decay 0.01, 100 rather than 200 epochs) and clip the gradient
      norm at 10: without clipping, steps on a large L_S (it is in sub-grade units) sometimes
      left the head stuck at constant predictions. D_P = 128 and D_S = 64 rather than 512 and
      256 scored as well or better on the validation draws at a fraction of the cost.
    * The official code has no graph regulariser, lets samples of a batch attend to each
      other in the fine head (a batch-axis bug) and selects its checkpoint on the test set;
      here model selection uses ``validation_fraction`` of the training data.

    **Training.** The validation loss (``validation_fraction``) is the score loss
    :math:`\\mathcal L_S` on the held-out videos. ``n_grades``, ``n_subgrades``,
    ``n_procedures``, ``d_procedure``, ``d_score`` and the ablation switches
    ``temporal_fusion``, ``grade_parsing`` and ``fine_scoring`` shape the network; the loss
    weights, ``subgrade_scale``, ``dropout``, ``clip_crop``, ``score_range`` and the other
    parameters take effect on the current network in a warm-started fit. ``random_state`` also
    seeds the sub-grade prototypes, the clip crops and dropout.

    References
    ----------
    .. [1] K. Zhou, J. Li, R. Cai, L. Wang, X. Zhang and X. Liang, "CoFInAI: Enhancing Action
       Quality Assessment with Coarse-to-Fine Instruction Alignment", IJCAI 2024.

    Examples
    --------
    >>> from ncestimators import CoFInAIRegressor
    >>> from ncestimators.datasets import make_aqa_sequences
    >>> X, y = make_aqa_sequences(n_videos=40, n_features=8, random_state=0)
    >>> model = CoFInAIRegressor(n_grades=3, n_subgrades=4, d_procedure=16, d_score=8,
    ...                          max_epochs=3, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    >>> model.predict_grades(X[:2]).columns.tolist()
    ['grade', 'subgrade', 'grade_proba', 'subgrade_proba', 'score']
    """

    _parameter_constraints = {
        **TorchEstimatorBase._parameter_constraints,
        "n_grades": [Interval(Integral, 2, None, closed="left")],
        "n_subgrades": [Interval(Integral, 2, None, closed="left")],
        "n_procedures": [Interval(Integral, 1, None, closed="left")],
        "score_range": ["array-like", None],
        "d_procedure": [Interval(Integral, 1, None, closed="left")],
        "d_score": [Interval(Integral, 1, None, closed="left")],
        "lambda_coarse": [Interval(Real, 0, None, closed="left")],
        "lambda_fine": [Interval(Real, 0, None, closed="left")],
        "lambda_graph": [Interval(Real, 0, None, closed="left")],
        "lambda_diversity": [Interval(Real, 0, None, closed="left")],
        "lr_schedule": [StrOptions({"cosine"}), None],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "subgrade_scale": [Interval(Real, 0, None, closed="neither")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "clip_crop": [Interval(Integral, 1, None, closed="left"), None],
        "temporal_fusion": ["boolean"],
        "grade_parsing": ["boolean"],
        "fine_scoring": ["boolean"],
    }

    _input_kind = "sequences"
    _network_params = (
        "n_grades",
        "n_subgrades",
        "n_procedures",
        "d_procedure",
        "d_score",
        "temporal_fusion",
        "grade_parsing",
        "fine_scoring",
    )

    def __init__(
        self,
        *,
        n_grades=4,
        n_subgrades=5,
        n_procedures=5,
        score_range=None,
        d_procedure=128,
        d_score=64,
        lambda_coarse=1.0,
        lambda_fine=1.0,
        lambda_graph=1.0,
        lambda_diversity=3.0,
        subgrade_scale=10.0,
        dropout=0.5,
        clip_crop=None,
        temporal_fusion=True,
        grade_parsing=True,
        fine_scoring=True,
        max_epochs=100,
        batch_size=32,
        lr=0.01,
        optimizer="sgd",
        weight_decay=0.01,
        lr_schedule="cosine",
        max_grad_norm=10.0,
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        validation_fraction=None,
        n_iter_no_change=10,
        warm_start=False,
        accelerator=None,
    ):
        self.n_grades = n_grades
        self.n_subgrades = n_subgrades
        self.n_procedures = n_procedures
        self.score_range = score_range
        self.d_procedure = d_procedure
        self.d_score = d_score
        self.lambda_coarse = lambda_coarse
        self.lambda_fine = lambda_fine
        self.lambda_graph = lambda_graph
        self.lambda_diversity = lambda_diversity
        self.subgrade_scale = subgrade_scale
        self.dropout = dropout
        self.clip_crop = clip_crop
        self.temporal_fusion = temporal_fusion
        self.grade_parsing = grade_parsing
        self.fine_scoring = fine_scoring
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.max_grad_norm = max_grad_norm
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.accelerator = accelerator

    def predict(self, X):
        """Predict quality scores: the expected score over grades and sub-grades.

        Parameters
        ----------
        X : list of array-like of shape (T_i, n_features), array-like of shape \
                (n_videos, T, n_features) or (n_videos, n_features)
            Clip features of each video, in any form ``fit`` accepts.

        Returns
        -------
        scores : ndarray of shape (n_videos,)
            Predicted scores, within ``score_range_``.
        """
        return self._scores_and_grades(X)[0]

    def predict_grades(self, X):
        """Predict each video's grade and sub-grade, with their probabilities.

        Parameters
        ----------
        X : list of array-like of shape (T_i, n_features), array-like of shape \
                (n_videos, T, n_features) or (n_videos, n_features)
            Clip features of each video, in any form ``fit`` accepts.

        Returns
        -------
        grades : pandas.DataFrame of shape (n_videos, 5)
            One row per video (indexed like X when X is a DataFrame) with columns

            * ``grade``: most probable grade, 0 (lowest) to ``n_grades - 1``;
            * ``subgrade``: sub-grade of the nearest ETF prototype (Eq. 14), 0 to
              ``n_subgrades - 1``; missing (``pd.NA``) without FGS;
            * ``grade_proba``, ``subgrade_proba``: their probabilities;
            * ``score``: the predicted score, as :meth:`predict` returns it.

            Grade g with sub-grade f covers the scores from ``lo + g * grade_width_ +
            f * subgrade_width_`` up to one ``subgrade_width_`` more.
        """
        scores, grade_proba, subgrade_proba = self._scores_and_grades(X)
        grades = pd.DataFrame(
            {
                "grade": grade_proba.argmax(axis=1),
                "subgrade": pd.array([pd.NA] * len(scores), dtype="Int64"),
                "grade_proba": grade_proba.max(axis=1),
                "subgrade_proba": np.nan,
                "score": scores,
            },
            index=X.index if isinstance(X, pd.DataFrame) else None,
        )
        if self.fine_scoring:
            grades["subgrade"] = pd.array(subgrade_proba.argmax(axis=1), dtype="Int64")
            grades["subgrade_proba"] = subgrade_proba.max(axis=1)
        return grades

    def score(self, X, y):
        """Spearman rank correlation (SRCC) of the predicted and the true scores.

        The evaluation metric of action quality assessment; it only depends on the ranking of
        the videos.

        Parameters
        ----------
        X : list of array-like of shape (T_i, n_features), array-like of shape \
                (n_videos, T, n_features) or (n_videos, n_features)
            Clip features of each video.

        y : array-like of shape (n_videos,)
            True scores.

        Returns
        -------
        srcc : float
            Spearman's rho, in [-1, 1].

        Raises
        ------
        ValueError
            If ``y`` or the predictions are constant: the rank correlation is undefined.
        """
        return srcc(y, self.predict(X))

    def procedure_attention(self, X):
        """Attention of each TFM procedure query over each video's clips.

        What TFM fuses (Eq. 5-7): query p's softmax weights over the clips, which say which
        clips it reads as procedure p. Useful to check that the queries attend to different
        procedures (``lambda_diversity``) rather than alike.

        Parameters
        ----------
        X : list of array-like of shape (T_i, n_features), array-like of shape \
                (n_videos, T, n_features) or (n_videos, n_features)
            Clip features of each video, in any form ``fit`` accepts.

        Returns
        -------
        attention : list of ndarray of shape (n_procedures, T_i)
            One array per video, one row per query over the video's real clips; rows sum
            to 1.
        """
        X = self._validated_input(X)
        if not self.temporal_fusion:
            raise ValueError(
                "procedure_attention reads TFM's queries, but this model was fitted with "
                "temporal_fusion=False; refit with temporal_fusion=True."
            )
        lengths = (~np.isnan(X.reshape(*X.shape[:2], -1)[..., 0])).sum(axis=1)
        batches = self._forward_batches(X, method="procedure_attention", check_input=False)
        weights = (video for batch in batches for video in batch.numpy())
        return [video[:, :length] for video, length in zip(weights, lengths, strict=True)]

    def embed(self, X):
        """Each video's fine grade feature h_F, which FGS scores against the sub-grade prototypes.

        The per-video representation at the end of the network (Eq. 11, 14; see the Notes):
        GPM's grade features, weighted by grade and averaged. Its cosines with the rows of
        ``subgrade_prototypes_`` give the sub-grade probabilities, and L_F pulls it to the
        prototype of the video's true sub-grade, so that videos of one sub-grade gather
        around one vertex of the simplex ETF: pass it with ``subgrade_prototypes_`` to
        :func:`~ncestimators.geometry.neural_collapse_metrics`.

        Parameters
        ----------
        X : list of array-like of shape (T_i, n_features), array-like of shape \
                (n_videos, T, n_features) or (n_videos, n_features)
            Clip features of each video, in any form ``fit`` accepts.

        Returns
        -------
        embeddings : ndarray of shape (n_videos, d_score), dtype float32
            One h_F per video.

        Raises
        ------
        ValueError
            If the model was fitted with ``fine_scoring=False``: then nothing trains h_F.

        Examples
        --------
        >>> from ncestimators import CoFInAIRegressor
        >>> from ncestimators.datasets import make_aqa_sequences
        >>> X, y = make_aqa_sequences(n_videos=20, n_features=6, random_state=0)
        >>> model = CoFInAIRegressor(n_subgrades=4, d_procedure=8, d_score=4, max_epochs=2,
        ...                          random_state=0).fit(X, y)
        >>> embeddings = model.embed(X[:3])
        >>> embeddings.shape, embeddings.dtype
        ((3, 4), dtype('float32'))
        """
        X = self._validated_input(X)
        if not self.fine_scoring:
            raise ValueError(
                "embed returns h_F, the feature FGS aligns with the sub-grade prototypes, but "
                "this model was fitted with fine_scoring=False, so nothing trained it; refit "
                "with fine_scoring=True."
            )
        return self._embed(X, check_input=False)

    def _scores_and_grades(self, X):
        """Scores, grade and sub-grade probabilities of X, as float64 arrays."""
        unit_scores, grade_proba, subgrade_proba = to_numpy(self._forward(X)[:3])
        lo, hi = self.score_range_
        return lo + (hi - lo) * unit_scores, grade_proba, subgrade_proba

    def _resolve_score_range(self, y):
        if self.score_range is None:
            lo, hi = float(y.min()), float(y.max())
            if hi <= lo:
                n_samples = f"{len(y)} sample" + ("s" if len(y) > 1 else "")
                raise ValueError(
                    f"The score range is empty: every training score equals {lo} ({n_samples}), "
                    "so there is nothing to divide into grades. Give scores that differ, or "
                    "set score_range=(lo, hi) with lo < hi."
                )
            return lo, hi
        message = f"score_range must be (lo, hi) with finite lo < hi, got {self.score_range!r}."
        try:
            bounds = np.asarray(self.score_range, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(message) from None
        if bounds.shape != (2,) or not np.isfinite(bounds).all() or bounds[1] <= bounds[0]:
            raise ValueError(message)
        return float(bounds[0]), float(bounds[1])

    def _encode_target(self, X, y, *, reset=True):
        """Rows of (score rescaled to [0, 1], grade, sub-grade), float32; sets the widths.

        Without ``reset`` (validation scores), the fitted score range rescales them.
        """
        y = column_or_1d(y, dtype=np.float64, warn=True)
        if len(y) == 0:
            raise ValueError("y is empty; pass one score per video.")
        if not np.isfinite(y).all():
            raise ValueError("y contains NaN or infinity; drop those videos or impute scores.")
        if reset:
            self.score_range_ = self._resolve_score_range(y)
            self.grade_width_ = (self.score_range_[1] - self.score_range_[0]) / self.n_grades
            self.subgrade_width_ = self.grade_width_ / self.n_subgrades
        lo, hi = self.score_range_
        unit = (np.clip(y, lo, hi) - lo) / (hi - lo)
        grade, subgrade = grade_indices(unit, self.n_grades, self.n_subgrades)
        return np.column_stack([unit, grade, subgrade]).astype(np.float32)

    def _check_params_for_data(self, X):
        if self.fine_scoring and self.d_score < self.n_subgrades - 1:
            raise ValueError(
                f"The {self.n_subgrades} sub-grade prototypes form a simplex ETF, which needs "
                f"d_score >= n_subgrades - 1 = {self.n_subgrades - 1}; got d_score="
                f"{self.d_score}. Raise d_score or lower n_subgrades."
            )

    def _build_module(self, n_features):
        subgrade_prototypes = None
        if self.fine_scoring:
            seed = torch_seed()
            etf = simplex_etf(self.n_subgrades, self.d_score, random_state=seed)
            subgrade_prototypes = torch.from_numpy(etf.T).float()
        return CoFInAIHead(
            n_features,
            n_grades=self.n_grades,
            n_procedures=self.n_procedures,
            d_procedure=self.d_procedure,
            d_score=self.d_score,
            dropout=self.dropout,
            clip_crop=self.clip_crop,
            temporal_fusion=self.temporal_fusion,
            grade_parsing=self.grade_parsing,
            subgrade_prototypes=subgrade_prototypes,
            subgrade_scale=self.subgrade_scale,
        )

    def _build_criterion(self):
        return CoarseToFineLoss(
            n_levels=self.n_grades * self.n_subgrades,
            lambda_coarse=self.lambda_coarse,
            lambda_fine=self.lambda_fine,
            lambda_graph=self.lambda_graph,
            lambda_diversity=self.lambda_diversity,
        )

    def _training_callbacks(self):
        callbacks = []
        if self.lr_schedule == "cosine":
            factor = partial(cosine_factor, n_epochs=self.max_epochs, final=0.01)
            # last_epoch=-1: a warm refit starts the schedule afresh, as it does the optimizer.
            schedule = LRScheduler(LambdaLR, lr_lambda=factor, last_epoch=-1)
            callbacks.append(("lr_schedule", schedule))
        if self.max_grad_norm is not None:
            callbacks.append(("gradient_clipping", GradientClipping(self.max_grad_norm)))
        return callbacks

    def _read_fitted(self, head):
        self.__dict__.pop("grade_prototypes_", None)
        self.__dict__.pop("subgrade_prototypes_", None)
        if self.grade_parsing:
            self.grade_prototypes_ = to_numpy(head.parsing.prototypes)
        if self.fine_scoring:
            self.subgrade_prototypes_ = to_numpy(head.subgrade_prototypes)


def grade_indices(unit_scores, n_grades, n_subgrades):
    """Grade and sub-grade of scores rescaled to [0, 1]; the top score is in the last ones.

    Both come from the index of the sub-grade bin over the whole range, so a score exactly on a
    boundary cannot get a grade and a sub-grade from two different roundings.
    """
    n_bins = n_grades * n_subgrades
    bins = np.minimum(np.floor(np.asarray(unit_scores) * n_bins), n_bins - 1).astype(np.int64)
    return bins // n_subgrades, bins % n_subgrades


def cosine_factor(epoch, *, n_epochs, final):
    """Learning-rate factor of epoch ``epoch``: cosine from 1 down to ``final`` at ``n_epochs``."""
    progress = min(epoch / n_epochs, 1.0)
    return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * progress))
