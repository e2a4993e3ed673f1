"""All-around Neural Collapse (AllNC) for imbalanced classification."""

# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from .._base import ScoreClassifierMixin, TorchEstimatorBase, check_hidden_dims
from .._runtime import to_numpy
from .._weights import resolve_class_weight
from ._head import AllNCHead
from ._losses import AllNCLoss

__all__ = ["AllNCClassifier"]


class AllNCClassifier(ScoreClassifierMixin, TorchEstimatorBase):
    """Imbalanced classifier that restores neural collapse in features, means and classifier.

    AllNC [1]_ trains an encoder and a linear classifier so that, even on long-tailed data, the
    features of a class collapse to their class mean (HyCon loss), the class means and the
    classifier vectors both spread out as a simplex equiangular tight frame (P2P loss), and the
    classifier is progressively re-balanced towards the rare classes over the epochs (GBBN).
    Here it runs on frozen features: an MLP encoder takes the role of the network's last
    layers, and the two views the losses compare are two random perturbations (Gaussian noise
    and feature dropout) of each sample's features.

    Parameters
    ----------
    hidden_dims : tuple of int, default=(256,)
        Widths of the encoder's layers, each ``Linear -> ReLU``; the last width is the
        dimension of the learned features (the classifier's input). An empty tuple makes the
        classifier linear in the input features, which leaves HyCon and the class-mean P2P
        term nothing to train.

    projection_dim : int, default=128
        Output dimension of the projector (``Linear -> LayerNorm -> ReLU -> Linear ->
        BatchNorm`` without affine parameters) whose outputs z HyCon compares; the predictor
        (``Linear -> LayerNorm -> ReLU -> Linear`` with a bottleneck of
        ``max(1, projection_dim // 4)``, as in SimSiam) maps z to h in the same dimension.

    alpha : float, default=1.0
        Weight of the representation terms, HyCon and P2P on class means (Eq. 14). 0 turns
        both off.

    gamma : float, default=3.0
        Exponent of the curriculum weight ``eta = 1 - (T / T_max) ** gamma`` between the plain
        and the re-balancing classification loss (Eq. 13, Table VI). Larger values keep the
        plain loss longer; 0 re-balances from the first epoch (the paper's "w/o GBBN").

    rebalance_power : float, default=1.0
        Exponent p of the re-balancing loss, a cross-entropy whose samples of class c weigh
        ``n_c ** -p`` (generalized re-weighting). 0 makes it the plain cross-entropy; 1 gives
        every class the same total weight.

    hycon : bool, default=True
        Whether the HyCon loss is used (Eq. 8); False is the paper's "w/o HyCon".

    p2p : bool, default=True
        Whether the two P2P losses, on class means and on classifier vectors, are used
        (Eq. 10-12); False is the paper's "w/o P2P".

    feature_noise : float, default=1.0
        Standard deviation of the Gaussian noise added to the input features to make a view,
        in the units of X (standardise X, e.g. with ``StandardScaler``, so that one value
        suits every feature). The views are the only augmentation on frozen features and
        strong ones help the rare classes most: 1.0 and the ``feature_dropout`` default were
        the best of the values tried on validation splits of digits-LT (see
        ``examples/benchmarks/results_allnc.md``); tune both for other features.

    feature_dropout : float, default=0.2
        Probability that a view zeroes an input feature (the rest are scaled by
        ``1 / (1 - feature_dropout)``).

    mean_momentum : float, default=0.9
        Momentum of the moving average of each class's feature mean, which stands in for a
        class absent from a mini-batch in the class-mean P2P loss.

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the two cross-entropy terms (the plain and the re-balancing
        loss of GBBN), multiplying each sample's weight there, as in scikit-learn: a dict maps
        class labels to weights (classes left out weigh 1), "balanced" weighs class c by
        ``n_samples / (n_classes * n_c)`` (with ``sample_weight``, by the classes' total
        weights), and None weighs every class 1. "balanced" with the plain-CE parameters
        (see the table in the Notes) is the class-weighted cross-entropy, the standard
        baseline for imbalance; with the default ``rebalance_power=1`` the re-balancing loss
        already gives every class the same total weight, and "balanced" on top of it weighs
        rare classes more than frequent ones. The validation loss stays the class-balanced
        cross-entropy without it.

    max_epochs : int, default=100
        Number of passes over the training data that a ``fit`` makes, unless early stopping
        (with a validation set) ends it sooner; a warm-started ``fit`` makes as many again.

    batch_size : int, default=128
        Mini-batch size.

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
        Class labels.

    class_counts_ : ndarray of shape (n_classes,)
        Number of training samples of each class, in the order of ``classes_``.

    class_weight_ : ndarray of shape (n_classes,)
        Weight of each class in the cross-entropy terms, in the order of ``classes_``: what
        ``class_weight`` resolves to (ones for None).

    classifier_weight_ : ndarray of shape (n_classes, n_hidden)
        Rows of the linear classifier on the learned features, in the order of ``classes_``
        (``n_hidden`` is ``hidden_dims[-1]``, or ``n_features_in_`` without hidden layers).
        Not called ``coef_``: it does not weigh the input features, and tools that read
        ``coef_`` (``SelectFromModel``, ...) would misread it.

    classifier_bias_ : ndarray of shape (n_classes,)
        Bias of the linear classifier. ``embed(X) @ classifier_weight_.T +
        classifier_bias_`` is :meth:`decision_function` (multi-class).

    n_features_in_ : int
        Number of features seen during fit.

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
    ncestimators.geometry.neural_collapse_metrics : Measure the collapse of ``embed(X)``
        and ``classifier_weight_``.
    ncestimators.metrics.shot_accuracy : Accuracy on many-, medium- and few-shot classes.
    ncestimators.datasets.load_digits_lt : A small real long-tailed data set.

    Notes
    -----
    With encoder :math:`\\phi`, projector and predictor :math:`\\mathrm{proj}_1,
    \\mathrm{proj}_2`, classifier rows :math:`\\omega_c`, two views :math:`x^{(1)}, x^{(2)}` of
    each sample, :math:`z^{(v)} = \\mathrm{proj}_1(\\phi(x^{(v)}))`,
    :math:`h^{(v)} = \\mathrm{proj}_2(z^{(v)})` and :math:`u^{(v)}` the mean of :math:`z^{(v)}`
    over the sample's class in the mini-batch, each training step minimises Eq. 14

    .. math::

        \\mathcal{L} = \\mathcal{L}_{cls}^{(1)} + \\mathcal{L}_{cls}^{(2)}
            + \\alpha \\left(\\mathcal{L}_{con} + \\mathcal{L}_p(\\tilde\\mu)\\right),

    averaged over the mini-batch, with HyCon (Eq. 8; :math:`\\bar a = a / \\lVert a \\rVert`,
    sg the stop-gradient)

    .. math::

        \\mathcal{L}_{con} = -\\bar h^{(1)} \\cdot \\overline{\\mathrm{sg}(z^{(2)})}
            - \\bar u^{(2)} \\cdot \\overline{\\mathrm{sg}(z^{(2)})}
            - \\bar h^{(2)} \\cdot \\overline{\\mathrm{sg}(z^{(1)})}
            - \\bar u^{(1)} \\cdot \\overline{\\mathrm{sg}(z^{(1)})},

    P2P on unit vectors :math:`v_1, \\dots, v_C` (Eq. 9-11), pulling their Gram matrix to that
    of a simplex ETF,

    .. math::

        \\mathcal{L}_p(v) = \\frac{1}{C^2} \\sum_{i,j=1}^{C} \\left(v_i^\\top v_j
            - \\rho_{ij}\\right)^2, \\qquad
        \\rho_{ij} = \\frac{C}{C-1} \\delta_{ij} - \\frac{1}{C-1},

    applied to the centred, normalised class means
    :math:`\\tilde\\mu_c = \\overline{\\mu_c - \\mu_G}` of the features :math:`\\phi(x)` and to
    the normalised classifier rows :math:`\\bar\\omega_c`, and GBBN (Eq. 12-13) for each view

    .. math::

        \\mathcal{L}_{cls}^{(v)} = \\eta\\, \\mathrm{CE}(x^{(v)}, y)
            + (1 - \\eta) \\left(w_y \\mathrm{CE}(x^{(v)}, y) + \\mathcal{L}_p(\\bar\\omega)
            \\right), \\qquad
        \\eta = 1 - \\left(\\frac{T}{T_{\\max}}\\right)^{\\gamma},
        \\qquad w_c = \\frac{N\\, n_c^{-p}}{\\sum_k n_k^{1-p}},

    where :math:`T = 1, \\dots, T_{\\max}` is the epoch (Algorithm 1), :math:`n_c` the training
    count of class c, :math:`N = \\sum_k n_k`, and the weights are normalised so that a
    training sample weighs 1 on average (so p = 0 gives the plain cross-entropy and the two
    losses keep comparable scales). Predictions are the classifier's softmax on the clean
    input (no views).

    With sample weights :math:`s_i` (``sample_weight``) and class weights :math:`c_k`
    (``class_weight_``), every mean over the mini-batch is a weighted mean, each view of a
    sample carrying its weight: the cross-entropy terms become
    :math:`\\sum_i s_i c_{y_i} \\ell_i / \\sum_i s_i c_{y_i}` (:math:`\\ell_i` the sample's
    plain or re-weighted cross-entropy) and HyCon
    :math:`\\sum_i s_i \\ell_i / \\sum_i s_i`; the class means :math:`u` and :math:`\\mu_c`
    are weighted means (a class whose samples all weigh 0 is absent from the batch), and
    :math:`n_c` is the total sample weight of class c. The P2P terms act on classes, not
    samples, and are not weighted, nor are the batch statistics of the projector's batch
    normalisation, which count every sample of the batch once. Without HyCon, an integer
    weight thus acts as that many copies of the sample in its mini-batch, but for the random
    views, which copies would draw anew.

    The paper's ablations as parameters:

    ==================  ======================================================================
    Variant             Parameters
    ==================  ======================================================================
    AllNC               the defaults
    w/o HyCon           ``hycon=False``
    w/o P2P             ``p2p=False``
    w/o GBBN            ``gamma=0`` (re-balancing loss from the start)
    plain CE            ``alpha=0, p2p=False, rebalance_power=0, feature_noise=0,
                        feature_dropout=0``
    ==================  ======================================================================

    No official code exists; choices the paper leaves open, and departures from it, each on
    purpose:

    * The views perturb frozen features (noise, dropout) instead of augmenting images
      (RandAugment); the backbone is not trained here.
    * :math:`\\mathcal{L}_p(\\tilde\\mu)` acts on the encoder features :math:`\\phi(x)`, the
      space of the classifier, so that it and :math:`\\mathcal{L}_p(\\bar\\omega)` together
      target self-duality (NC3); HyCon's means :math:`u` live with z, as Eq. 8 compares them.
    * Class means pool both views of the mini-batch; a class absent from the batch uses the
      moving average of its past batch means (no gradient), and the term waits until every
      class has been seen. :math:`\\mu_G` is the mean of all training features, as in the
      paper, estimated as :math:`\\sum_c (n_c / N) \\mu_c` from the same class means.
    * The re-balancing loss is generalized re-weighting [2]_, as in the paper; the weights'
      normalisation above is our choice.
    * The projector ends in a batch normalisation without affine parameters, as SimSiam's
      does. Without it, the projector minimises HyCon by adding one large common vector to
      every z, which makes every cosine in Eq. 8 close to 1 whatever the classes (measured on
      digits-LT: the class means of z had a mean pairwise cosine of 0.97). The projector only
      serves training; the encoder and the classifier have no batch normalisation, so
      predictions do not depend on batch statistics.
    * The validation loss (with ``validation_fraction``) is the class-balanced cross-entropy
      on clean inputs, an estimate of the loss on a class-balanced test set.

    **Training.** The validation loss (``validation_fraction``) is the class-balanced
    cross-entropy above, on a held-out split stratified on y where it can be (every class with
    two samples, and room for every class in both parts). ``hidden_dims`` and ``projection_dim``
    shape the network. ``max_epochs`` is :math:`T_{\\max}` of the curriculum, which a
    warm-started fit continues: :math:`\\eta` stays 0 once ``max_epochs`` epochs have passed in
    total. ``random_state`` also seeds the views.

    References
    ----------
    .. [1] E. Zhang, C. Li, C. Geng and S. Chen, "All-around Neural Collapse for Imbalanced
       Classification", IEEE TKDE 37(8), 2025 (arXiv:2408.07253).
    .. [2] S. Zhang, Z. Li, S. Yan, X. He and J. Sun, "Distribution Alignment: A Unified
       Framework for Long-tail Visual Recognition", CVPR 2021.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from ncestimators import AllNCClassifier
    >>> from ncestimators.datasets import load_digits_lt
    >>> from ncestimators.geometry import neural_collapse_metrics
    >>> data = load_digits_lt(imbalance_ratio=10)
    >>> clf = make_pipeline(StandardScaler(), AllNCClassifier(random_state=0))
    >>> clf.fit(data.X_train, data.y_train).score(data.X_test, data.y_test) > 0.9
    True
    >>> allnc = clf[-1]
    >>> allnc.class_counts_.tolist()
    [122, 94, 73, 56, 43, 33, 26, 20, 15, 12]
    >>> features = allnc.embed(clf[0].transform(data.X_train))
    >>> neural_collapse_metrics(features, data.y_train,
    ...                         weights=allnc.classifier_weight_).index.tolist()
    ['nc1', 'nc2_equiangularity', 'nc2_maxangle', 'nc3_self_duality', 'nc4_ncc_mismatch']
    """

    _parameter_constraints = {
        **TorchEstimatorBase._parameter_constraints,
        "hidden_dims": [tuple, list],
        "projection_dim": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "gamma": [Interval(Real, 0, None, closed="left")],
        "rebalance_power": [Interval(Real, 0, None, closed="left")],
        "hycon": ["boolean"],
        "p2p": ["boolean"],
        "feature_noise": [Interval(Real, 0, None, closed="left")],
        "feature_dropout": [Interval(Real, 0, 1, closed="left")],
        "mean_momentum": [Interval(Real, 0, 1, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    _network_params = ("hidden_dims", "projection_dim")
    _stratify_holdout = True

    def __init__(
        self,
        *,
        hidden_dims=(256,),
        projection_dim=128,
        alpha=1.0,
        gamma=3.0,
        rebalance_power=1.0,
        hycon=True,
        p2p=True,
        feature_noise=1.0,
        feature_dropout=0.2,
        mean_momentum=0.9,
        class_weight=None,
        max_epochs=100,
        batch_size=128,
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
        self.hidden_dims = hidden_dims
        self.projection_dim = projection_dim
        self.alpha = alpha
        self.gamma = gamma
        self.rebalance_power = rebalance_power
        self.hycon = hycon
        self.p2p = p2p
        self.feature_noise = feature_noise
        self.feature_dropout = feature_dropout
        self.mean_momentum = mean_momentum
        self.class_weight = class_weight
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

    def embed(self, X):
        """Learned features: the encoder's output, the last layer before the classifier.

        These are the activations whose collapse AllNC restores; pass them with
        ``classifier_weight_`` to :func:`~ncestimators.geometry.neural_collapse_metrics`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        features : ndarray of shape (n_samples, n_hidden), dtype float32
            Encoder features of the clean inputs: ``n_hidden`` is ``hidden_dims[-1]`` (the
            features are then non-negative, the encoder ending with a ReLU), or
            ``n_features_in_`` without hidden layers (the inputs themselves).

        Examples
        --------
        >>> from ncestimators import AllNCClassifier
        >>> from ncestimators.datasets import make_superclass_features
        >>> X, y = make_superclass_features(n_classes=4, n_superclasses=2, n_samples=80,
        ...                                 n_features=6, random_state=0)
        >>> clf = AllNCClassifier(hidden_dims=(16,), max_epochs=2, random_state=0).fit(X, y)
        >>> features = clf.embed(X[:5])
        >>> features.shape, features.dtype
        ((5, 16), dtype('float32'))
        """
        return self._embed(X)

    def _encode_target(self, X, y, *, reset=True):
        codes = super()._encode_target(X, y, reset=reset)
        if reset:
            self.class_counts_ = np.bincount(codes, minlength=len(self.classes_))
        return codes

    def _check_params_for_data(self, X):
        check_hidden_dims(self.hidden_dims)

    def _train(self, X, y, sample_weight=None, validation=None):
        # The class weights and GBBN's class masses follow the sample weights, which only
        # training sees.
        self.class_weight_ = resolve_class_weight(
            self.class_weight, self.classes_, y, sample_weight
        )
        self._class_mass = np.bincount(y, weights=sample_weight, minlength=len(self.classes_))
        super()._train(X, y, sample_weight, validation)

    def _build_module(self, n_features):
        return AllNCHead(
            n_features,
            tuple(self.hidden_dims),
            self.projection_dim,
            n_classes=len(self.classes_),
            feature_noise=self.feature_noise,
            feature_dropout=self.feature_dropout,
        )

    def _build_criterion(self):
        return AllNCLoss(
            self._class_mass,
            alpha=self.alpha,
            gamma=self.gamma,
            rebalance_power=self.rebalance_power,
            hycon=self.hycon,
            p2p=self.p2p,
            mean_momentum=self.mean_momentum,
            class_weight=None if self.class_weight is None else self.class_weight_,
        )

    def _read_fitted(self, head):
        self.classifier_weight_ = to_numpy(head.classifier.weight)
        self.classifier_bias_ = to_numpy(head.classifier.bias)
