"""Hyperspherical classification with dynamic label-to-prototype assignment (DL2PA)."""

# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch.nn import functional as F

from .._base import ScoreClassifierMixin, TorchEstimatorBase, check_hidden_dims
from .._runtime import to_numpy, torch_seed
from ..geometry import simplex_etf, uniform_prototypes
from ._head import SphereHead, signed_axes
from ._losses import IPMLoss

__all__ = ["DynamicPrototypeClassifier"]


class DynamicPrototypeClassifier(ScoreClassifierMixin, TorchEstimatorBase):
    """Classifier that maps features onto fixed prototypes and learns which class gets which.

    A trainable network maps each sample to a point ``z`` on the unit sphere in
    ``prototype_dim`` dimensions. The sphere carries ``n_classes`` fixed prototypes spread as
    evenly as possible; each class is pulled towards the prototype currently assigned to it. The
    assignment itself is learned (DL2PA [1]_): every ``assign_every`` epochs, classes are matched
    to prototypes so that the running mean direction of each class lies as close as possible to
    its prototype. In few dimensions, where prototypes cannot all be equally far apart, this puts
    similar classes on neighbouring prototypes instead of an arbitrary layout.

    Parameters
    ----------
    prototype_dim : int, default=None
        Dimension d of the sphere. None uses the paper's d = c/2, rounded up (and at least 2):
        then c <= 2d, where the optimal prototypes are known and cost nothing to compute, and
        (from 4 classes on) they are the signed axes ``+-e_i``, so that scoring a sample against
        them costs O(c), not O(cd).

    hidden_dims : tuple of int, default=(256,)
        Widths of the hidden layers of the map onto the sphere, each ``Linear -> LayerNorm ->
        ReLU``. An empty tuple gives a linear map followed by normalisation.

    assignment : {"dynamic", "static"}, default="dynamic"
        "dynamic" re-assigns labels to prototypes during training; "static" keeps the initial
        assignment (class i on prototype i), the fixed-classifier baseline of the paper's
        ablation.

    assign_every : int, default=1
        Epochs between two re-assignments, at the end of an epoch: ``1 / tau'`` in the paper's
        terms (tau' re-assignments per epoch; its main experiments use tau' = 1). Ignored when
        ``assignment="static"``.

    momentum : float, default=0.9
        Momentum alpha of the moving average of each class's normalised embeddings (the class
        representatives that the assignment matches to prototypes).

    prototypes : {"uniform", "etf"}, default="uniform"
        "uniform" uses :func:`~ncestimators.geometry.uniform_prototypes`, any dimension, but
        keeps its cross-polytope (``d + 1 < c <= 2d``) on the axes: the prototypes are then
        ``+-e_i``, not randomly rotated. "etf" uses :func:`~ncestimators.geometry.simplex_etf`
        and needs ``prototype_dim >= n_classes - 1``.

    logit_scale : float, default=10.0
        Inverse temperature of :meth:`predict_proba`: probabilities are
        ``softmax(logit_scale * cosines)``. The training loss does not depend on it, and neither
        do :meth:`predict` and :meth:`decision_function`; tune it for calibration (cosines lie
        in [-1, 1], so small values give flat probabilities).

    max_epochs : int, default=50
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

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit. Defined only when X is a DataFrame whose column names
        are all strings.

    prototypes_ : ndarray of shape (n_classes, prototype_dim)
        The fixed unit-norm prototypes, row i being prototype i.

    assignment_ : ndarray of shape (n_classes,)
        The assignment used for prediction: class ``classes_[i]`` sits on prototype
        ``assignment_[i]``. A permutation of ``0, ..., n_classes - 1``.

    assignment_history_ : list of ndarray of shape (n_classes,)
        The initial assignment (the identity) followed by the result of every re-assignment, in
        order. With ``validation_fraction`` the network of the best epoch is kept, so
        ``assignment_`` is then the entry of that epoch rather than the last one.

    representatives_ : ndarray of shape (n_classes, prototype_dim)
        Directions of the moving averages of each class's embeddings at the end of training,
        what a re-assignment matches to the prototypes (zero for a class never seen).

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
    ncestimators.geometry.uniform_prototypes : The fixed prototypes.
    ncestimators.ot.assign : The Hungarian matching of classes to prototypes.

    Notes
    -----
    With :math:`g_\\theta` the network, :math:`z_i = g_\\theta(x_i) / \\lVert g_\\theta(x_i)
    \\rVert`, prototypes :math:`w_1, \\dots, w_c` and assignment :math:`A`, training minimises
    the input-to-prototype-mapping loss (the paper's Eq. 6)

    .. math::

        \\mathcal{L}_{\\mathrm{IPM}} = \\frac{1}{B} \\sum_{i=1}^{B}
            \\frac{1}{2} \\left(z_i^\\top w_{A(y_i)} - 1\\right)^2

    over each mini-batch. After every training step, each class :math:`j` present in the batch
    updates its representative with the batch mean :math:`\\bar z_j^{\\,\\mathrm{batch}}` of its
    normalised embeddings,
    :math:`\\bar z_j \\leftarrow \\alpha \\bar z_j + (1 - \\alpha) \\bar z_j^{\\,\\mathrm{batch}}`
    (starting from zero; only directions are used, so this equals a bias-corrected average).
    With sample weights :math:`s_i` (``sample_weight``), the loss is the weighted mean
    :math:`\\sum_i s_i \\frac{1}{2} (z_i^\\top w_{A(y_i)} - 1)^2 / \\sum_i s_i` and the batch
    means of the representatives are weighted means (a class whose samples in the batch all
    weigh 0 keeps its representative).
    Every ``assign_every`` epochs the assignment becomes the solution of Eq. 9,

    .. math::

        A^\\ast = \\arg\\max_{A} \\sum_{j=1}^{c}
            \\frac{\\bar z_j^\\top}{\\lVert \\bar z_j \\rVert} w_{A(j)},

    over all bijections A, found exactly with the Hungarian method. A sample is predicted to be
    of the class whose assigned prototype is nearest: :math:`\\arg\\max_j z^\\top w_{A(j)}`.

    **Many classes.** Scoring against the default prototypes is a gather of c signed
    coordinates, so a training step costs about what ``MLPClassifier``'s does with the same
    hidden layer. A re-assignment solves a c x c assignment problem: nothing when every class's
    best prototype is a different one, otherwise the Hungarian method, up to O(c^3) (about 23 s
    at 10,000 classes on a 2-core AMD EPYC). With thousands of classes, raise ``assign_every``.

    **Where it pays.** The learned assignment matters when the sphere has few dimensions per
    class (d much smaller than c): on frozen ImageNet MobileNetV2 features of Fashion-MNIST at
    10:1 imbalance, d = 3 reaches 0.766 balanced accuracy against 0.738 with static
    assignment and 0.479 for a linear model of the same output dimension. At the default
    d = c/2 it does not beat ``LogisticRegression`` on such features (0.845 vs 0.841 balanced,
    0.807 vs 0.818 at 10:1): prefer a linear model there unless the low-dimensional, uniform
    geometry is what you want (``examples/benchmarks/results_real.md``).

    Differences from the paper and its official code, each on purpose:

    * The loss is averaged over the batch, not summed, so the learning rate does not depend on
      the batch size.
    * The representative update is the moving average the paper writes; the official code
      adds the old value twice (``+=``, an effective momentum near 0.95) and keeps a single
      sample per class instead of the batch mean.
    * The initial assignment is the identity over prototypes stored in random order, which is a
      random assignment as in the official code, but reproducible and readable.
    * The cross-polytope prototypes of the default d are not rotated: the network's last
      linear layer can absorb any rotation, and on the axes a cosine is a signed coordinate.
    * The map onto the sphere is an MLP with LayerNorm (not BatchNorm), so that batches of a
      single sample train and predictions do not depend on batch statistics.

    **Training.** The validation loss (``validation_fraction``) is
    :math:`\\mathcal{L}_{\\mathrm{IPM}}` on the held-out samples, a split stratified on y where
    it can be (every class with two samples, and room for every class in both parts).
    ``prototype_dim``, ``hidden_dims`` and ``prototypes`` shape the network; a warm-started fit
    that keeps them goes on with the assignment and the class representatives. ``random_state``
    also seeds the prototypes.

    References
    ----------
    .. [1] M. S. Ebrahimi Saadabadi, A. Dabouei, S. Rahimi Malakshan and N. M. Nasrabadi,
       "Hyperspherical Classification with Dynamic Label-to-Prototype Assignment", CVPR 2024.

    Examples
    --------
    >>> from ncestimators import DynamicPrototypeClassifier
    >>> from ncestimators.datasets import make_superclass_features
    >>> X, y = make_superclass_features(n_classes=6, n_superclasses=2, n_samples=300,
    ...                                 n_features=8, random_state=0)
    >>> clf = DynamicPrototypeClassifier(prototype_dim=2, hidden_dims=(32,), max_epochs=20,
    ...                                  random_state=0).fit(X, y)
    >>> clf.prototypes_.shape, len(clf.assignment_history_)
    ((6, 2), 21)
    >>> sorted(clf.assignment_.tolist())  # a permutation: one prototype per class
    [0, 1, 2, 3, 4, 5]
    >>> clf.predict_proba(X[:2]).shape
    (2, 6)
    """

    _parameter_constraints = {
        **TorchEstimatorBase._parameter_constraints,
        "prototype_dim": [Interval(Integral, 1, None, closed="left"), None],
        "hidden_dims": [tuple, list],
        "assignment": [StrOptions({"dynamic", "static"})],
        "assign_every": [Interval(Integral, 1, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "prototypes": [StrOptions({"uniform", "etf"})],
        "logit_scale": [Interval(Real, 0, None, closed="neither")],
    }

    _network_params = ("prototype_dim", "hidden_dims", "prototypes")
    _stratify_holdout = True

    def __init__(
        self,
        *,
        prototype_dim=None,
        hidden_dims=(256,),
        assignment="dynamic",
        assign_every=1,
        momentum=0.9,
        prototypes="uniform",
        logit_scale=10.0,
        max_epochs=50,
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
        self.prototype_dim = prototype_dim
        self.hidden_dims = hidden_dims
        self.assignment = assignment
        self.assign_every = assign_every
        self.momentum = momentum
        self.prototypes = prototypes
        self.logit_scale = logit_scale
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
        """Embeddings on the unit sphere: the normalised encoder output that the prototypes score.

        The class scores are their cosines with the classes' assigned prototypes,
        ``embed(X) @ prototypes_[assignment_].T``. Pass them with ``prototypes_`` to
        :func:`~ncestimators.geometry.neural_collapse_metrics` to see how closely the classes
        gather at their prototypes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, prototype_dim), dtype float32
            Unit-norm rows, in the prototypes' dimension (``prototypes_.shape[1]``, which
            ``prototype_dim=None`` resolves from the number of classes).

        Examples
        --------
        >>> import numpy as np
        >>> from ncestimators import DynamicPrototypeClassifier
        >>> from ncestimators.datasets import make_superclass_features
        >>> X, y = make_superclass_features(n_classes=6, n_superclasses=2, n_samples=120,
        ...                                 n_features=8, random_state=0)
        >>> clf = DynamicPrototypeClassifier(prototype_dim=3, max_epochs=2,
        ...                                  random_state=0).fit(X, y)
        >>> embeddings = clf.embed(X[:4])
        >>> embeddings.shape, embeddings.dtype
        ((4, 3), dtype('float32'))
        >>> np.allclose(np.linalg.norm(embeddings, axis=1), 1, atol=1e-6)
        True
        """
        return self._embed(X)

    @property
    def _score_scale(self):
        return self.logit_scale

    def _check_params_for_data(self, X):
        check_hidden_dims(self.hidden_dims)
        n_classes, dim = len(self.classes_), self._resolved_prototype_dim()
        if self.prototypes == "etf" and dim < n_classes - 1:
            raise ValueError(
                f"prototypes='etf' needs prototype_dim >= n_classes - 1 = {n_classes - 1}, got "
                f"prototype_dim={dim}. Use prototypes='uniform' for fewer dimensions."
            )
        if dim == 1 and n_classes > 2:
            raise ValueError(
                f"prototype_dim=1 holds only two prototypes (+1 and -1), but there are "
                f"{n_classes} classes; use prototype_dim >= 2."
            )

    def _build_module(self, n_features):
        n_classes = len(self.classes_)
        dim = self._resolved_prototype_dim()
        # The prototypes come in a structured order (polygon vertices, +-e_i); shuffling makes
        # the initial identity assignment an arbitrary one.
        seed = torch_seed()
        order = torch.randperm(n_classes)
        prototypes = self._prototype_matrix(n_classes, dim, seed)
        return SphereHead(
            n_features,
            tuple(self.hidden_dims),
            prototypes[order],
            assign_every=self.assign_every if self.assignment == "dynamic" else None,
        )

    def _build_criterion(self):
        return IPMLoss(self.momentum)

    def _read_fitted(self, head):
        self.prototypes_ = to_numpy(head.prototypes)
        self.assignment_ = head.assignment.cpu().numpy().astype(np.intp)
        reassignments = [
            row["event_assignment"] for row in self.history_ if "event_assignment" in row
        ]
        self.assignment_history_ = [
            np.asarray(assignment, dtype=np.intp)
            for assignment in [range(len(self.classes_)), *reassignments]
        ]
        self.representatives_ = to_numpy(F.normalize(head.representatives, dim=1))

    def _prototype_matrix(self, n_classes, dim, seed):
        """The prototypes as float32 rows, in their constructions' order."""
        if self.prototypes == "etf":
            columns = simplex_etf(n_classes, dim, random_state=seed)
        elif dim + 1 < n_classes <= 2 * dim:
            # uniform_prototypes' cross-polytope without its random rotation: the encoder's last
            # layer absorbs any rotation, and axes make scoring a gather instead of a product.
            return signed_axes(n_classes, dim)
        else:
            columns = uniform_prototypes(n_classes, dim, random_state=seed)
        return torch.from_numpy(columns.T).float()

    def _resolved_prototype_dim(self):
        if self.prototype_dim is None:
            return max(2, -(-len(self.classes_) // 2))
        return self.prototype_dim
