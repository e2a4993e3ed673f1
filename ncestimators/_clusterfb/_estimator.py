"""Weakly-supervised temporal action localisation by clustering-based F&B separation (CASE)."""

# SPDX-License-Identifier: BSD-3-Clause

from collections import namedtuple
from itertools import chain
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import ClassifierMixin
from sklearn.metrics import average_precision_score
from sklearn.utils import check_consistent_length
from sklearn.utils._param_validation import Interval, StrOptions

from .._base import TorchEstimatorBase
from ..metrics import localization_map, segments_to_frame
from ._head import ClusterFBHead, test_time_scores
from ._losses import ClusterFBLoss
from ._proposals import action_proposals
from ._targets import as_indicator, encode_targets

__all__ = ["ClusterFBSeparator"]


class ClusterFBSeparator(ClassifierMixin, TorchEstimatorBase):
    """Weakly-supervised temporal action localisation with OT-clustered snippets (CASE).

    Learns from untrimmed videos given as sequences of snippet features and labelled only at
    the video level (which action classes occur, not where) to find *where* the actions are.
    The baseline [1]_ is a two-branch head: a class-activation branch trained by top-k multiple
    instance learning on the video labels, and an attention branch giving each snippet a
    foreground probability, trained on the top-k snippets as pseudo-labels. CASE [1]_ adds a
    clustering head that groups snippets into ``n_clusters`` latent clusters (snippet
    clustering, SCC) and classifies each cluster as foreground or background (cluster
    classification, CCC), both self-labelled by entropic optimal transport
    (:func:`~ncestimators.ot.sinkhorn`). At test time the clusters' foreground probability
    is fused with the attention to localise actions.

    Parameters
    ----------
    n_clusters : int, default=16
        Number of snippet clusters K (16 on THUMOS14 in the paper, 64 on ActivityNet).

    hidden_dim : int, default=512
        Width of the embedding encoders of both branches.

    n_streams : {1, 2}, default=1
        2 splits the features into two halves (RGB | flow, as I3D features come) with a head
        each, and co-labels: every pseudo-label is made from the average of the two streams'
        predictions. 1 uses the features as one stream.

    topk_ratio : float, default=1/8
        Fraction of each video's snippets (at least one) selected per class by top-k MIL; the
        paper's T//8 on THUMOS14 (T//2 on ActivityNet).

    gce_q : float, default=0.7
        Exponent q in (0, 1] of the generalized binary cross-entropy of the attention branch
        (Eq. 2's gamma); smaller is closer to cross-entropy, 1 is the noise-robust MAE.

    lambda_cluster : float, default=1.0
        Weight lambda_S of the snippet clustering loss (Eq. 3). With ``lambda_cluster_cls``
        both 0 the model is the plain baseline.

    lambda_cluster_cls : float, default=0.3
        Weight lambda_C of the cluster classification loss (Eq. 6).

    prior_sigma : float or None, default=0.1
        Width sigma of the rank prior of the snippet pseudo-labels (Eq. 11). None drops the
        prior (plain equipartition, Eq. 10). 0.1 was the best on held-out synthetic videos;
        0.05 and 0.2 do nearly as well, while 0.5 or more is as flat as no prior (the paper's
        10 leaves the plan within 0.5 % of plain equipartition).

    cluster_labeling : {"ot", "ot_hard", "argmax"}, default="ot"
        How snippet cluster pseudo-labels are made: "ot" is the soft optimal-transport plan
        (CASE), "ot_hard" its arg-max, "argmax" the arg-max of the predictions without
        optimal transport (the collapse-prone ablation of the paper's Table 5).

    n_snippets : int or None, default=None
        Number of snippets resampled from each training video in every epoch (random jitter
        within equal bins, repeating snippets of shorter videos), as the paper's T=750. None
        trains on every snippet of every video.

    class_threshold : float, default=0.25
        A class is predicted for a video when its video score is at least this (the top class
        when none is).

    fusion_weight : float, default=0.5
        Weight w of the cluster-derived foreground at test time,
        P^M = (1 - w) P^A + w P^T: 0.5 is the paper's clustering-assisted testing, 0 uses the
        attention alone (Table 4's "+ SCC + CCC" row). Ignored when ``lambda_cluster`` is 0,
        since the clustering head is then untrained. Used only at prediction, so it can be
        changed after fitting.

    fps : float or None, default=None
        Frame rate of the videos. When given, :meth:`localize` reports seconds
        (``snippet_frames / fps`` per snippet); otherwise snippet units.

    snippet_frames : float, default=16
        Frames per snippet (16 for I3D features); used only with ``fps``.

    max_epochs : int, default=100
        Number of passes over the training data that a ``fit`` makes, unless early stopping
        (with a validation set) ends it sooner; a warm-started ``fit`` makes as many again.

    batch_size : int, default=16
        Videos per mini-batch; the optimal-transport problems are solved over all snippets of
        a mini-batch.

    lr : float, default=1e-3
        Learning rate of the optimiser.

    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        Optimiser: Adam, AdamW, or SGD with momentum 0.9.

    weight_decay : float, default=0.0
        Weight decay of the optimiser: an L2 penalty on the network's parameters, decoupled from
        the gradient step for "adamw".

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
    classes_ : ndarray of shape (n_classes,)
        Class labels: ``arange(n_classes)`` for a multi-hot y, the sorted labels otherwise.

    n_features_in_ : int
        Snippet feature dimension D seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit. Defined only when X is a DataFrame whose column names
        are all strings.

    cluster_foreground_ : ndarray of shape (n_clusters,)
        Foreground probability of every cluster (the column Q^C_{:,1} of the cluster
        pseudo-labels) used at test time: its average over the batches of the last epoch
        (of the selected epoch with ``validation_fraction``).

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
    ncestimators.ot.sinkhorn : The optimal-transport solver of the pseudo-labels.
    ncestimators.metrics.localization_map : The mAP that :meth:`score` reports.

    Notes
    -----
    **Input.** X holds videos as sequences of snippet features: a list of ``(T_i, D)`` arrays,
    an ``(n, T, D)`` array padded with trailing all-NaN rows, or an ``(n, D)`` array (videos
    of one snippet). y is a multi-hot ``(n, G)`` indicator (as scikit-learn reads it: a 2-D
    array of 0 and 1), a sequence of label collections (``[["dive"], ["dive", "jump"]]``), or
    1-D class labels. With 1-D labels :meth:`predict` returns one label per video; otherwise
    a multi-hot indicator. Videos without labels are pure background.

    **Baseline.** Per stream, an embedding encoder and action classifier give the T-CAS
    :math:`P^V \\in \\mathbb{R}^{T \\times G}` (logits), and a second encoder gives snippet
    embeddings :math:`E` and the attention :math:`P^A = \\sigma(w^\\top E) \\in [0, 1]^T`.
    For class c the top :math:`k = \\max(1, \\lfloor r T \\rfloor)` snippets :math:`\\Gamma_c` of
    the calibrated score :math:`\\omega\\,\\mathrm{softmax}(P^V) + (1 - \\omega) P^A`
    (:math:`\\omega = 0.25`, App. F.1) give the video logits :math:`\\bar P^V_c = \\frac1k
    \\sum_{t \\in \\Gamma_c} P^V_{t,c}` and

    .. math::

        \\mathcal{L}_V = -\\sum_c \\frac{Y_c}{\\sum_{c'} Y_{c'}}
            \\log \\mathrm{softmax}(\\bar P^V)_c, \\qquad
        \\mathcal{L}_A = \\frac{1}{N_{pos}} \\sum_t Q^A_t \\frac{1 - (P^A_t)^q}{q}
            + \\frac{1}{N_{neg}} \\sum_t (1 - Q^A_t) \\frac{1 - (1 - P^A_t)^q}{q},

    where :math:`Q^A_t = 1` iff snippet t is in :math:`\\Gamma_c` for a class c of the video
    (Eq. 1-2).

    **Snippet clustering.** Over the N snippets of a mini-batch, a cosine classifier gives
    :math:`P^S = \\mathrm{softmax}(\\tau \\cos(E, W))`, trained by
    :math:`\\mathcal{L}_S = \\frac1N \\sum_n \\mathrm{CE}(Q^S_n, P^S_n)` (Eq. 3) on the
    pseudo-labels

    .. math::

        Q^S = \\arg\\min_{Q \\in \\Omega} \\langle Q, -\\cos(E, W) \\rangle
            + \\frac{1}{\\epsilon} \\mathrm{KL}(Q \\,\\|\\, \\hat Q^S), \\qquad
        \\hat Q^S_{n,k} \\propto \\exp\\left(-\\frac{(\\mathrm{rank}_n / N -
            Q^C_{k,1})^2}{2 \\sigma^2}\\right),

    (Eq. 11-12) where :math:`\\Omega` asks for one unit of mass per snippet and N/K per
    cluster (equipartition, Eq. 9), :math:`\\mathrm{rank}_n \\in \\{1, \\dots, N\\}` is the
    position of snippet n when the snippets are sorted by increasing :math:`P^A`, and
    :math:`Q^C_{k,1}` is cluster k's foreground probability from the previous step.

    **Cluster classification.** With cluster prototypes :math:`\\bar E^S_k \\propto \\sum_n
    Q^S_{n,k} E_n` and foreground/background prototypes :math:`\\bar E^A \\propto \\sum_n
    [Q^A_n, 1 - Q^A_n] E_n`, :math:`P^C_k = \\mathrm{softmax}(\\rho \\cos(\\bar E^S_k, \\bar
    E^A))` is trained by :math:`\\mathcal{L}_C = \\frac1K \\sum_k \\mathrm{CE}(Q^C_k, P^C_k)`
    (Eq. 4-6), :math:`Q^C` being the transport plan of the cosines with one unit per cluster
    and the foreground/background marginal

    .. math::

        \\beta^C = \\left[\\frac1N \\sum_n Q^A_n,\\; \\frac1N \\sum_n (1 - Q^A_n)\\right]
        \\quad \\text{(Eq. 13)}.

    **Objective** (Eq. 14): :math:`\\mathcal{L} = \\mathcal{L}_V + \\mathcal{L}_A +
    \\lambda_S \\mathcal{L}_S + \\lambda_C \\mathcal{L}_C`, all pseudo-labels computed without
    gradient, :math:`\\tau = \\rho = 10`, :math:`\\epsilon = 20`, 3 Sinkhorn iterations.
    With video weights :math:`s_b` (``sample_weight``), :math:`\\mathcal{L}_V` and
    :math:`\\mathcal{L}_A` are weighted means over the videos,
    :math:`\\sum_b s_b \\mathcal{L}^{(b)} / \\sum_b s_b`, and :math:`\\mathcal{L}_S` over
    the snippets, each snippet carrying its video's weight. Snippets of videos of weight 0
    take no part in the clustering; the pseudo-labels :math:`Q^S, Q^C`, the prototypes and
    :math:`\\beta^C` count every other snippet once, and :math:`\\mathcal{L}_C`, a mean over
    the clusters, is not weighted.

    **Testing.** The snippet foreground is :math:`P^M = (1 - w) P^A + w P^T` with
    :math:`P^T = P^S Q^C_{:,1}`. The class actionness :math:`\\omega\\,
    \\mathrm{softmax}(P^V) + (1 - \\omega) P^M` selects the top-k snippets for the video
    scores :math:`\\mathrm{softmax}(\\bar P^V)` and, for every predicted class, is cut at the
    thresholds 0.1, ..., 0.9 (upsampled 24 times, and also after moving averages over 3, 7,
    15, ... snippets) into proposals scored by their outer-inner contrast plus 0.15 times
    the video score, then decayed by soft-NMS (:meth:`localize` gives the details).

    Deliberate differences from the official code, each to do what the paper intends:

    * The prior uses each snippet's rank (the code uses ``argsort``, which gives the index of
      the n-th snippet instead, decorrelating the prior from the attention), and
      ``prior_sigma`` defaults to a width that shapes the plan (the code's 10 makes the prior
      uniform to 0.5 %).
    * The test-time cluster mapping averages Q^C over the last epoch instead of taking the
      last batch's.
    * Losses are averaged over the streams, so that the loss weights mean the same for one
      or two streams; pseudo-labels of two streams fuse their cosines.
    * The outer band of the outer-inner contrast is 0.25 of the proposal and the video score
      weight 0.15, the values the code's configuration names (it swaps them by mistake). The
      band is at least one upsampled point long, so a short run is not scored against an
      empty band as if its surroundings were 0, which ranked lone peaks first; and at most
      one snippet, since a band growing with the proposal reaches past the boundary into
      neighbouring actions and ranked long actions below their own most confident parts.
    * Proposals are also cut from moving averages of the actionness over 3, 7, 15, ...
      snippets: cut only at snippet resolution, as in the code, a long action splits at every
      snippet whose score dips and is never proposed whole.
    * The video-level loss and the predictions at test time use the same calibrated
      actionness, with P^M in place of P^A at test time (the code mixes per-stream terms with
      weights 1/5).
    * Model selection uses a held-out part of the training videos, never the test set.

    **Training.** The validation loss (``validation_fraction``) is the video classification and
    attention losses on the held-out videos. ``n_clusters``, ``hidden_dim`` and ``n_streams``
    shape the network; a warm-started fit that keeps them goes on with the cluster labels.
    ``random_state`` also seeds the snippet resampling. The paper trains with a weight decay of
    5e-4; ``weight_decay`` is 0 by default.

    References
    ----------
    .. [1] Q. Liu, Z. Wang, S. Rong, J. Li and Y. Zhang, "Revisiting Foreground and Background
       Separation in Weakly-supervised Temporal Action Localization: A Clustering-based
       Approach", ICCV 2023.
    .. [2] J. Ma, S. K. Gorti, M. Volkovs and G. Yu, "Weakly Supervised Action Selection
       Learning in Video", CVPR 2021 (the baseline's attention pseudo-labels).

    Examples
    --------
    >>> from ncestimators import ClusterFBSeparator
    >>> from ncestimators.datasets import make_wtal_videos
    >>> X, y, segments = make_wtal_videos(n_videos=40, n_classes=3, n_features=16,
    ...                                   min_length=32, max_length=64, random_state=0)
    >>> model = ClusterFBSeparator(n_clusters=8, hidden_dim=32, max_epochs=10,
    ...                            random_state=0).fit(X, y)
    >>> model.predict(X[:2]).shape
    (2, 3)
    >>> proposals = model.localize(X[:2])
    >>> list(proposals.columns)
    ['video', 'label', 'start', 'end', 'score']
    >>> [p.shape[1] for p in model.cluster_proba(X[:2])]
    [8, 8]
    """

    _parameter_constraints = {
        **TorchEstimatorBase._parameter_constraints,
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "n_streams": [Interval(Integral, 1, 2, closed="both")],
        "topk_ratio": [Interval(Real, 0, 1, closed="right")],
        "gce_q": [Interval(Real, 0, 1, closed="right")],
        "lambda_cluster": [Interval(Real, 0, None, closed="left")],
        "lambda_cluster_cls": [Interval(Real, 0, None, closed="left")],
        "prior_sigma": [Interval(Real, 0, None, closed="neither"), None],
        "cluster_labeling": [StrOptions({"ot", "ot_hard", "argmax"})],
        "n_snippets": [Interval(Integral, 1, None, closed="left"), None],
        "class_threshold": [Interval(Real, 0, 1, closed="both")],
        "fusion_weight": [Interval(Real, 0, 1, closed="both")],
        "fps": [Interval(Real, 0, None, closed="neither"), None],
        "snippet_frames": [Interval(Real, 0, None, closed="neither")],
    }

    _input_kind = "sequences"
    _network_params = ("n_clusters", "hidden_dim", "n_streams")

    def __init__(
        self,
        *,
        n_clusters=16,
        hidden_dim=512,
        n_streams=1,
        topk_ratio=1 / 8,
        gce_q=0.7,
        lambda_cluster=1.0,
        lambda_cluster_cls=0.3,
        prior_sigma=0.1,
        cluster_labeling="ot",
        n_snippets=None,
        class_threshold=0.25,
        fusion_weight=0.5,
        fps=None,
        snippet_frames=16,
        max_epochs=100,
        batch_size=16,
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        validation_fraction=None,
        n_iter_no_change=10,
        warm_start=False,
        accelerator=None,
    ):
        self.n_clusters = n_clusters
        self.hidden_dim = hidden_dim
        self.n_streams = n_streams
        self.topk_ratio = topk_ratio
        self.gce_q = gce_q
        self.lambda_cluster = lambda_cluster
        self.lambda_cluster_cls = lambda_cluster_cls
        self.prior_sigma = prior_sigma
        self.cluster_labeling = cluster_labeling
        self.n_snippets = n_snippets
        self.class_threshold = class_threshold
        self.fusion_weight = fusion_weight
        self.fps = fps
        self.snippet_frames = snippet_frames
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.accelerator = accelerator

    def predict_proba(self, X):
        """Video-level class scores.

        Parameters
        ----------
        X : list of array-like of shape (T_i, n_features), or array-like
            Videos, in any of the forms accepted by :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n_videos, n_classes)
            Softmax of the top-k pooled class activations (averaged over the streams);
            columns in the order of ``classes_``. Rows sum to one.
        """
        return self._infer(X, snippets=False).video_proba

    def predict(self, X):
        """Video-level labels.

        Parameters
        ----------
        X : list of array-like of shape (T_i, n_features), or array-like
            Videos.

        Returns
        -------
        y : ndarray of shape (n_videos, n_classes) or (n_videos,)
            Multi-hot labels (every class scoring at least ``class_threshold``, or the top
            class when none does) when fitted on multi-label targets; the top class otherwise.
        """
        proba = self.predict_proba(X)
        if self._multilabel:
            return self._predicted_classes(proba).astype(np.int64)
        return self.classes_[proba.argmax(axis=1)]

    def cluster_proba(self, X):
        """Snippet-level cluster assignment probabilities P^S.

        Parameters
        ----------
        X : list of array-like of shape (T_i, n_features), or array-like
            Videos.

        Returns
        -------
        proba : list of ndarray of shape (T_i, n_clusters)
            One array per video; rows sum to one.
        """
        return self._infer(X).cluster_proba

    def foreground_proba(self, X):
        """Snippet-level foreground probability P^M, the attention fused with the clusters.

        Parameters
        ----------
        X : list of array-like of shape (T_i, n_features), or array-like
            Videos.

        Returns
        -------
        proba : list of ndarray of shape (T_i,)
            One array per video, in [0, 1].
        """
        return self._infer(X).foreground

    def embed(self, X):
        """Snippet-level embeddings: what the attention and the clustering of each stream read.

        Each stream embeds a snippet's features by ``Linear -> ReLU`` of width ``hidden_dim``;
        its foreground attention reads the embedding, and its clustering assigns the snippet
        to the cluster whose centroid is nearest in direction (the cosines behind
        :meth:`cluster_proba`). With ``n_streams=2`` the two streams' embeddings stand side by
        side, the RGB half's first.

        Parameters
        ----------
        X : list of array-like of shape (T_i, n_features), or array-like
            Videos.

        Returns
        -------
        embeddings : list of ndarray of shape (T_i, n_streams * hidden_dim), dtype float32
            One array per video, one non-negative row per snippet.

        Examples
        --------
        >>> from ncestimators import ClusterFBSeparator
        >>> from ncestimators.datasets import make_wtal_videos
        >>> X, y, _ = make_wtal_videos(n_videos=8, n_classes=2, n_features=8, min_length=16,
        ...                            max_length=24, random_state=0)
        >>> model = ClusterFBSeparator(n_clusters=4, hidden_dim=16, max_epochs=2,
        ...                            random_state=0).fit(X, y)
        >>> embeddings = model.embed(X[:2])
        >>> [video.shape for video in embeddings] == [(len(video), 16) for video in X[:2]]
        True
        >>> embeddings[0].dtype
        dtype('float32')
        """

        def per_video(outputs):
            embeddings, mask = outputs
            lengths = mask.sum(dim=1).tolist()
            # Copies: a video's array must not keep its whole padded batch alive.
            return [video[:n].clone().numpy() for video, n in zip(embeddings, lengths, strict=True)]

        return list(chain.from_iterable(self._forward_batches(X, method="embed", reduce=per_video)))

    def localize(self, X, proposals=None):
        """Scored action proposals for the classes predicted in each video.

        For every class :meth:`predict` gives a video, a proposal is a stretch of snippets
        whose class actionness (the calibrated score of the Notes, with P^M) stands above its
        surroundings. Candidates are the runs above each threshold 0.1, ..., 0.9 of the
        actionness upsampled 24 times, and of its moving averages over 3, 7, 15, ... snippets
        (up to half the video), so that a long action whose snippet scores dip somewhere
        inside is also found whole. Each is scored by its outer-inner contrast on the
        unsmoothed actionness (mean inside minus mean over a band outside each end, 0.25 of
        its length but at most one snippet) plus 0.15 times the class's video score, and
        Gaussian soft-NMS (IoU above 0.4, sigma 0.35) decays the ones overlapping a better
        one; all are kept.

        Parameters
        ----------
        X : list of array-like of shape (T_i, n_features), or array-like
            Videos.

        proposals : callable, default=None
            Another recipe for the proposals of one class in one video, to compare with the
            one above on the same actionness (fixed windows, say):
            ``proposals(actionness, video_score)`` takes the class's actionness of every
            snippet, a ``(T_i,)`` array in [0, 1], and its video score, and returns an
            ``(m, 3)`` array of ``(start, end, score)`` rows in snippet units. None uses the
            proposals described above.

        Returns
        -------
        proposals : pandas.DataFrame
            Columns ``video`` (position of the video in X), ``label`` (an element of
            ``classes_``; ground-truth segments must use the same labels), ``start``,
            ``end`` (seconds when ``fps`` is set, snippet units otherwise, snippet t covering
            ``[t, t + 1)``) and ``score``, sorted by video and decreasing score.
        """
        if proposals is not None and not callable(proposals):
            raise TypeError(
                f"proposals must be None or a callable (actionness, video_score) -> (m, 3) "
                f"rows of (start, end, score), got {proposals!r}."
            )
        return self._localize(X, action_proposals if proposals is None else proposals)

    def score(self, X, y, segments=None):
        """Localisation mAP when ``segments`` are given, video-level mAP otherwise.

        Parameters
        ----------
        X : list of array-like of shape (T_i, n_features), or array-like
            Videos.

        y : array-like or sequence of label collections
            Video labels, in any form accepted by :meth:`fit`, using the fitted classes.

        segments : list of array-like of shape (m_i, 3), default=None
            Ground-truth instances of each video, in the order of X: rows
            ``(label, start, end)`` with labels from ``classes_`` and times in the unit of
            :meth:`localize`.

        Returns
        -------
        score : float
            With segments, the mean over tIoU thresholds 0.1, 0.2, ..., 0.7 of the
            ActivityNet-protocol mAP of :meth:`localize`
            (:func:`~ncestimators.metrics.localization_map`). Without, the mean over classes
            present in y of the average precision of :meth:`predict_proba`.
        """
        n_videos = len(self._validated_input(X))
        targets = as_indicator(y, self.classes_)
        check_consistent_length(np.empty(n_videos), targets)
        if segments is not None:
            truth = self._check_segments(segments, n_videos)
            return float(localization_map(truth, self.localize(X))["mean"])
        present = targets.any(axis=0)
        return float(
            average_precision_score(
                targets[:, present], self.predict_proba(X)[:, present], average="macro"
            )
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _predicted_classes(self, proba):
        chosen = proba >= self.class_threshold
        chosen[np.arange(len(proba)), proba.argmax(axis=1)] = True
        return chosen

    def _localize(self, X, propose):
        """:meth:`localize` with the proposals of ``propose(actionness, video_score)``."""
        inference = self._infer(X)
        unit = self.snippet_frames / self.fps if self.fps is not None else 1.0
        videos, labels, rows = [], [], [np.empty((0, 3))]
        predicted = self._predicted_classes(inference.video_proba)
        for video, index in zip(*np.nonzero(predicted), strict=True):
            proposals = propose(
                inference.actionness[video][:, index], inference.video_proba[video, index]
            )
            videos.append(np.full(len(proposals), video))
            labels.append(np.full(len(proposals), index))
            rows.append(proposals)
        rows = np.concatenate(rows)
        proposals = pd.DataFrame(
            {
                "video": np.concatenate(videos).astype(np.int64),
                "label": self.classes_[np.concatenate(labels).astype(np.intp)],
                "start": rows[:, 0] * unit,
                "end": rows[:, 1] * unit,
                "score": rows[:, 2],
            }
        )
        return proposals.sort_values(
            ["video", "score"], ascending=[True, False], ignore_index=True, kind="stable"
        )

    def _infer(self, X, *, snippets=True):
        """Video scores and, with ``snippets``, per-snippet outputs of every video, in eval mode.

        Each batch is reduced as it comes, so that the head's raw outputs for all of X (and,
        without ``snippets``, the per-snippet outputs) never sit in memory together.
        """
        X = self._validated_input(X)
        foreground = torch.as_tensor(self.cluster_foreground_)
        fusion_weight = self.fusion_weight if self.lambda_cluster > 0 else 0.0

        def scores(outputs):
            video_proba, *per_snippet = test_time_scores(
                *outputs, foreground, fusion_weight, self.topk_ratio
            )
            return video_proba, *(per_snippet if snippets else [[]] * len(per_snippet))

        batches = self._forward_batches(X, check_input=False, reduce=scores)
        video_proba, *per_snippet = zip(*batches, strict=True)
        return _Inference(
            np.concatenate(video_proba), *(list(chain.from_iterable(o)) for o in per_snippet)
        )

    def _check_segments(self, segments, n_videos):
        """The ground-truth segments as a frame, checked against X and the classes."""
        if hasattr(segments, "__len__") and len(segments) != n_videos:
            raise ValueError(
                f"segments has {len(segments)} entries but X has {n_videos} videos; pass one "
                "(m_i, 3) array of (label, start, end) rows per video, in the order of X."
            )
        truth = segments_to_frame(segments)
        unknown = ~truth["label"].isin(self.classes_)
        if unknown.any():
            video = int(truth.loc[unknown, "video"].iloc[0])
            labels = sorted(set(truth.loc[truth["video"] == video, "label"]) - set(self.classes_))
            raise ValueError(
                f"segments of video {video} have labels {labels} that are not among the fitted "
                f"classes {self.classes_.tolist()}; use the labels of classes_ (column indices "
                "for a multi-hot y)."
            )
        return truth

    def _encode_target(self, X, y, *, reset=True):
        if not reset:
            return as_indicator(y, self.classes_).astype(np.float32)
        return encode_targets(self, y)

    def _check_params_for_data(self, X):
        if self.n_features_in_ % self.n_streams:
            raise ValueError(
                f"n_streams={self.n_streams} splits the {self.n_features_in_} features into "
                "equal halves (RGB | flow), which needs an even number of features; use "
                "n_streams=1."
            )

    def _build_module(self, n_features):
        return ClusterFBHead(
            n_features,
            len(self.classes_),
            n_clusters=self.n_clusters,
            hidden_dim=self.hidden_dim,
            n_streams=self.n_streams,
            n_snippets=self.n_snippets,
        )

    def _build_criterion(self):
        return ClusterFBLoss(
            topk_ratio=self.topk_ratio,
            gce_q=self.gce_q,
            lambda_cluster=self.lambda_cluster,
            lambda_cluster_cls=self.lambda_cluster_cls,
            prior_sigma=self.prior_sigma,
            cluster_labeling=self.cluster_labeling,
        )

    def _read_fitted(self, head):
        self.cluster_foreground_ = head.cluster_foreground.cpu().numpy()


_Inference = namedtuple("_Inference", "video_proba actionness foreground cluster_proba")
