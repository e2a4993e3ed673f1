"""Prototype geometry and neural-collapse diagnostics: simplex ETFs, uniform prototypes, NC1-NC4."""

# SPDX-License-Identifier: BSD-3-Clause

import functools
import math
import numbers

import numpy as np
import pandas as pd
import torch
from scipy.linalg import helmert
from scipy.spatial.distance import cdist
from sklearn.utils import check_array, check_consistent_length, check_random_state, check_scalar
from sklearn.utils.validation import column_or_1d

__all__ = ["simplex_etf", "uniform_prototypes", "neural_collapse_metrics", "class_mean_cosines"]

# Temperature schedule of uniform_prototypes: the paper's t = 2 first, then geometric steps up to a
# t at which the smoothed maximum of the pairwise cosines is within _MAX_COSINE_TOL of the maximum.
_T_START = 2.0
_N_STAGES = 10
_MAX_COSINE_TOL = 1e-3
# Largest gradient entry of a stationary stage, times the number of prototypes.
_GRADIENT_TOL = 1e-3


def simplex_etf(n_classes, dim, random_state=None):
    """Return a randomly rotated simplex equiangular tight frame (ETF).

    The columns are ``n_classes`` unit vectors in ``dim`` dimensions whose pairwise cosines all
    equal ``-1 / (n_classes - 1)``, the most separated configuration of that many points on the
    sphere.

    Parameters
    ----------
    n_classes : int
        Number of vertices K, at least 2.

    dim : int
        Dimension d of the space, at least ``n_classes - 1``.

    random_state : int, RandomState instance or None, default=None
        Draws the random rotation. Pass an int for reproducible output. None draws a fresh rotation
        without touching NumPy's global random state.

    Returns
    -------
    etf : ndarray of shape (dim, n_classes)
        The vertices as float64 columns.

    Raises
    ------
    ValueError
        If ``dim < n_classes - 1``: no ETF exists then; :func:`uniform_prototypes` spreads any
        number of unit vectors as evenly as possible instead.

    See Also
    --------
    uniform_prototypes : Evenly spread unit vectors for any number of classes.

    Notes
    -----
    The textbook construction [1]_

    .. math::

        M = \\sqrt{\\frac{K}{K-1}}\\, U
            \\left(I_K - \\frac{1}{K} \\mathbf{1}\\mathbf{1}^\\top\\right),
        \\qquad U^\\top U = I_K,

    needs :math:`d \\ge K`. Writing
    :math:`I_K - \\frac{1}{K}\\mathbf{1}\\mathbf{1}^\\top = H^\\top H` with
    :math:`H \\in \\mathbb{R}^{(K-1) \\times K}` the Helmert matrix (orthonormal rows spanning
    :math:`\\mathbf{1}^\\perp`), this function returns

    .. math::

        M = \\sqrt{\\frac{K}{K-1}}\\, V H, \\qquad V \\in \\mathbb{R}^{d \\times (K-1)},\\;
        V^\\top V = I_{K-1},

    with :math:`V` drawn from the Haar measure. It has the same Gram matrix
    :math:`M^\\top M = \\frac{K}{K-1}(I_K - \\frac{1}{K}\\mathbf{1}\\mathbf{1}^\\top)`, needs only
    :math:`d \\ge K - 1`, and for :math:`d \\ge K` has the same distribution as the textbook form.
    The columns sum to zero.

    References
    ----------
    .. [1] V. Papyan, X. Y. Han and D. L. Donoho, "Prevalence of neural collapse during the
       terminal phase of deep learning training", PNAS 117(40), 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from ncestimators.geometry import simplex_etf
    >>> etf = simplex_etf(3, 2, random_state=0)
    >>> etf.shape
    (2, 3)
    >>> np.round(etf.T @ etf, 6)
    array([[ 1. , -0.5, -0.5],
           [-0.5,  1. , -0.5],
           [-0.5, -0.5,  1. ]])
    """
    n_classes, dim = _check_sizes(n_classes, dim)
    if dim < n_classes - 1:
        raise ValueError(
            f"A simplex ETF of {n_classes} classes needs dim >= n_classes - 1 = {n_classes - 1}, "
            f"got dim={dim}. Use uniform_prototypes({n_classes}, {dim}) to spread {n_classes} "
            f"unit vectors as evenly as {dim} dimensions allow."
        )
    return _simplex_etf(n_classes, dim, _check_rng(random_state))


def uniform_prototypes(n_classes, dim, random_state=None, *, max_iter=1000):
    """Return ``n_classes`` unit vectors spread as uniformly as possible over the sphere.

    These are the fixed class prototypes of DL2PA [1]_. Where the optimum is known the result is
    exact; otherwise it is found numerically by minimising the Gaussian-potential uniformity loss.

    Parameters
    ----------
    n_classes : int
        Number of prototypes c, at least 2.

    dim : int
        Dimension d of the space, at least 1 (and at least 2 when ``n_classes > 2``).

    random_state : int, RandomState instance or None, default=None
        Draws the random rotation, or the initial prototypes when they are optimised. Pass an int
        for reproducible output; results for int seeds are cached. None draws afresh without
        touching NumPy's global random state.

    max_iter : int, default=1000
        Largest total number of L-BFGS iterations when the prototypes are optimised, split
        evenly over the stages of the temperature schedule; a stage stops earlier at a
        stationary point (no gradient entry on the sphere above ``1e-3 / n_classes``). Ignored
        where the optimum is known.

    Returns
    -------
    prototypes : ndarray of shape (dim, n_classes)
        Unit-norm float64 columns. A fresh copy each call: modifying it does not affect the cache.

    See Also
    --------
    simplex_etf : The optimum when ``n_classes <= dim + 1``.

    Notes
    -----
    Four regimes, the first three exact:

    * :math:`c \\le d + 1`: the simplex ETF (:func:`simplex_etf`), all cosines :math:`-1/(c-1)`.
    * :math:`d + 1 < c \\le 2d`: ``c`` of the :math:`2d` vectors :math:`\\pm e_i`, randomly
      rotated. The largest cosine is 0, which Rankin's bound [3]_ shows no configuration of more
      than :math:`d + 1` unit vectors can beat.
    * :math:`d = 2`: the vertices of a regular ``c``-gon.
    * otherwise the DL2PA uniformity loss [1]_, [2]_

      .. math::

          \\mathcal{L}_t(W) = \\log \\frac{1}{c(c-1)} \\sum_{i \\ne j}
              e^{-t \\lVert w_i - w_j \\rVert^2}
            = \\log \\frac{1}{c(c-1)} \\sum_{i \\ne j} e^{2t (w_i^\\top w_j - 1)},
          \\qquad \\lVert w_i \\rVert = 1,

      is minimised with L-BFGS over the normalised columns of an unconstrained matrix, first at
      the paper's :math:`t = 2` and then at temperatures rising geometrically to
      :math:`t_{\\max} = 500 \\log(c(c-1))`. Since
      :math:`\\max_{i \\ne j} w_i^\\top w_j - \\frac{\\log(c(c-1))}{2t} \\le
      \\frac{\\mathcal{L}_t}{2t} + 1 \\le \\max_{i \\ne j} w_i^\\top w_j`, raising :math:`t`
      turns the average potential into a smooth maximum of the pairwise cosines, and the last
      stages push down the closest pairs (the Tammes problem). Each stage runs to a
      first-order stationary point, in float32 and then, where float32's round-off stalls the
      descent short of one, in float64. For ``c = 100, d = 10`` this
      reaches a largest cosine near 0.34, where the paper's 1000 steps of plain gradient descent
      at :math:`t = 2` stop near 0.65; ``c = 1000, d = 64`` reaches 0.145 (about 1.5 times the
      time of stopping at a stall, which ended at 0.146). Time and memory grow as
      :math:`c^2 d` and :math:`c^2`.

    References
    ----------
    .. [1] M. S. Ebrahimi Saadabadi, A. Dabouei, S. Rahimi Malakshan and N. M. Nasrabadi,
       "Hyperspherical Classification with Dynamic Label-to-Prototype Assignment", CVPR 2024.
    .. [2] T. Wang and P. Isola, "Understanding Contrastive Representation Learning through
       Alignment and Uniformity on the Hypersphere", ICML 2020.
    .. [3] R. A. Rankin, "The Closest Packing of Spherical Caps in n Dimensions", Proceedings of
       the Glasgow Mathematical Association 2(3), 1955.

    Examples
    --------
    >>> import numpy as np
    >>> from ncestimators.geometry import uniform_prototypes
    >>> octahedron = uniform_prototypes(6, 3, random_state=0)
    >>> octahedron.shape
    (3, 6)
    >>> cosines = octahedron.T @ octahedron
    >>> bool(np.isclose(cosines[~np.eye(6, dtype=bool)].max(), 0.0))
    True
    >>> prototypes = uniform_prototypes(100, 10, random_state=0)
    >>> cosines = prototypes.T @ prototypes
    >>> bool(cosines[~np.eye(100, dtype=bool)].max() < 0.4)
    True
    """
    n_classes, dim = _check_sizes(n_classes, dim)
    max_iter = check_scalar(max_iter, "max_iter", numbers.Integral, min_val=1)
    if dim == 1 and n_classes > 2:
        raise ValueError(
            f"dim=1 holds only two unit vectors (+1 and -1), so {n_classes} prototypes would "
            "repeat; use dim >= 2."
        )
    if isinstance(random_state, numbers.Integral):
        prototypes = _seeded_uniform_prototypes(n_classes, dim, int(random_state), max_iter)
    else:
        prototypes = _uniform_prototypes(n_classes, dim, _check_rng(random_state), max_iter)
    return prototypes.copy()


def neural_collapse_metrics(features, labels, weights=None, bias=None):
    """Measure how far features and a linear classifier are from neural collapse.

    Computes the four NC statistics of Papyan et al. [1]_ in the notation of AllNC [2]_; all of
    them tend to zero as training collapses.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
        Last-layer features (activations) z.

    labels : array-like of shape (n_samples,)
        Class of each sample; any sortable hashable values. The classes are the sorted unique
        labels, at least two of them.

    weights : array-like of shape (n_classes, n_features), default=None
        Linear classifier, one row per class in the order of the sorted labels (the layout of
        ``torch.nn.Linear.weight``). Without it ``nc3_self_duality`` and ``nc4_ncc_mismatch``
        are NaN.

    bias : array-like of shape (n_classes,), default=None
        Classifier bias, used by ``nc4_ncc_mismatch``; zero when None. Requires ``weights``.

    Returns
    -------
    metrics : pandas.Series
        Float64 values indexed, in this order, by

        ``nc1``
            Within-class variability relative to the between-class spread.
        ``nc2_equiangularity``
            Standard deviation of the pairwise cosines of the centred class means.
        ``nc2_maxangle``
            Mean distance of those cosines from the simplex-ETF value :math:`-1/(C-1)`.
        ``nc3_self_duality``
            Distance between the normalised classifier and the normalised centred means.
        ``nc4_ncc_mismatch``
            Fraction of samples on which the classifier and the nearest class mean disagree.

    See Also
    --------
    simplex_etf : The configuration that collapsed class means and classifiers converge to.

    Notes
    -----
    With class means :math:`\\mu_c`, the global mean :math:`\\mu_G` of all samples, the centred
    means :math:`\\dot M = [\\mu_1 - \\mu_G, \\dots, \\mu_C - \\mu_G]` and their cosines
    :math:`\\cos_{cc'}`:

    .. math::

        \\mathrm{NC1} &= \\frac{1}{C} \\operatorname{tr}\\left(\\Sigma_W \\Sigma_B^{+}\\right),
        \\quad \\Sigma_W = \\frac{1}{N} \\sum_{i} (z_i - \\mu_{y_i})(z_i - \\mu_{y_i})^\\top,
        \\quad \\Sigma_B = \\frac{1}{C} \\dot M \\dot M^\\top, \\\\
        \\mathrm{NC2}_{\\mathrm{equiangularity}} &= \\operatorname{std}_{c \\ne c'} \\cos_{cc'},
        \\qquad
        \\mathrm{NC2}_{\\mathrm{maxangle}} = \\operatorname{mean}_{c \\ne c'}
            \\left|\\cos_{cc'} + \\tfrac{1}{C-1}\\right|, \\\\
        \\mathrm{NC3} &= \\left\\lVert \\frac{W^\\top}{\\lVert W \\rVert_F}
            - \\frac{\\dot M}{\\lVert \\dot M \\rVert_F} \\right\\rVert_F, \\qquad
        \\mathrm{NC4} = \\frac{1}{N} \\sum_i \\left[\\arg\\max_c (W z_i + b)_c
            \\ne \\arg\\min_c \\lVert z_i - \\mu_c \\rVert\\right].

    The standard deviation is the population one (ddof=0). NC1 is evaluated as
    :math:`\\frac{1}{N} \\lVert \\tilde Z (\\dot M^{+})^\\top \\rVert_F^2`, where :math:`\\tilde Z`
    stacks the rows :math:`z_i - \\mu_{y_i}`: the same number, computed without forming
    ``n_features`` x ``n_features`` matrices or squaring the condition number of :math:`\\dot M`.

    References
    ----------
    .. [1] V. Papyan, X. Y. Han and D. L. Donoho, "Prevalence of neural collapse during the
       terminal phase of deep learning training", PNAS 117(40), 2020.
    .. [2] E. Zhang, C. Li, C. Geng and S. Chen, "All-around Neural Collapse for Imbalanced
       Classification", IEEE TKDE, 2025 (arXiv:2408.07253).

    Examples
    --------
    >>> import numpy as np
    >>> from ncestimators.geometry import neural_collapse_metrics, simplex_etf
    >>> etf = simplex_etf(4, 8, random_state=0)
    >>> labels = np.repeat(["cat", "cow", "dog", "emu"], 25)
    >>> codes = np.unique(labels, return_inverse=True)[1]
    >>> rng = np.random.default_rng(0)
    >>> features = etf.T[codes] + 0.3 * rng.standard_normal((100, 8))
    >>> neural_collapse_metrics(features, labels, weights=etf.T).round(3)
    nc1                   0.170
    nc2_equiangularity    0.045
    nc2_maxangle          0.040
    nc3_self_duality      0.104
    nc4_ncc_mismatch      0.000
    dtype: float64
    """
    features, codes, n_classes = _check_labelled_features(
        features, labels, "neural_collapse_metrics"
    )
    means = _class_means(features, codes, n_classes)
    centred_means = (means - features.mean(axis=0)).T
    cosines = _off_diagonal(_cosine_matrix(centred_means))
    metrics = {
        "nc1": _nc1(features - means[codes], centred_means),
        "nc2_equiangularity": cosines.std(),
        "nc2_maxangle": np.abs(cosines + 1 / (n_classes - 1)).mean(),
        "nc3_self_duality": np.nan,
        "nc4_ncc_mismatch": np.nan,
    }
    if weights is not None:
        weights, bias = _check_classifier(weights, bias, n_classes, features.shape[1])
        metrics["nc3_self_duality"] = _nc3(weights, centred_means)
        metrics["nc4_ncc_mismatch"] = _nc4(features, weights, bias, means)
    elif bias is not None:
        raise ValueError("bias was given without weights; pass the classifier weights as well.")
    return pd.Series(metrics, dtype=np.float64)


def class_mean_cosines(features, labels):
    """Cosines between the centred class means of features: the matrix that collapse makes regular.

    With class means :math:`\\mu_c` and the global mean :math:`\\mu_G` of all samples, entry
    :math:`(c, c')` is the cosine between :math:`\\mu_c - \\mu_G` and :math:`\\mu_{c'} - \\mu_G`.
    Under neural collapse every off-diagonal entry is :math:`-1/(C-1)`, the simplex ETF's value;
    ``nc2_equiangularity`` of :func:`neural_collapse_metrics` is the standard deviation of
    those entries.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
        Last-layer features (activations) z.

    labels : array-like of shape (n_samples,)
        Class of each sample; any sortable hashable values, at least two classes.

    Returns
    -------
    cosines : ndarray of shape (n_classes, n_classes)
        Float64 cosines, rows and columns in the order of the sorted unique labels; the diagonal
        is 1.

    See Also
    --------
    neural_collapse_metrics : The four NC statistics, NC2 among them.
    ncestimators.plotting.CollapseDisplay : This matrix as a heatmap.

    Examples
    --------
    >>> import numpy as np
    >>> from ncestimators.geometry import class_mean_cosines, simplex_etf
    >>> etf = simplex_etf(3, 4, random_state=0)
    >>> labels = np.repeat([0, 1, 2], 2)
    >>> class_mean_cosines(etf.T[labels], labels).round(2)
    array([[ 1. , -0.5, -0.5],
           [-0.5,  1. , -0.5],
           [-0.5, -0.5,  1. ]])
    """
    features, codes, n_classes = _check_labelled_features(features, labels, "class_mean_cosines")
    means = _class_means(features, codes, n_classes)
    return _cosine_matrix((means - features.mean(axis=0)).T)


def _check_labelled_features(features, labels, caller):
    """``(features, class codes, n_classes)`` of finite features labelled with ≥ 2 classes."""
    features = check_array(features, ensure_all_finite=False, input_name="features")
    if not np.isfinite(features).all():
        raise ValueError(
            "features contain NaN or infinite values; drop or impute those samples first."
        )
    labels = column_or_1d(labels)
    check_consistent_length(features, labels)
    classes, codes = np.unique(labels, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"{caller} needs samples from at least 2 classes, got "
            f"{len(classes)} ({classes.tolist()}); pass features and labels of several classes."
        )
    return features, codes, len(classes)


def _check_sizes(n_classes, dim):
    """Validate the integer sizes shared by the prototype constructors."""
    n_classes = check_scalar(n_classes, "n_classes", numbers.Integral, min_val=2)
    dim = check_scalar(dim, "dim", numbers.Integral, min_val=1)
    return int(n_classes), int(dim)


def _check_rng(random_state):
    """Turn ``random_state`` into a RandomState; None seeds a new one, never the global one."""
    if random_state is None:
        return np.random.RandomState()
    return check_random_state(random_state)


def _random_orthonormal(n_rows, n_cols, rng):
    """Haar-distributed ``(n_rows, n_cols)`` matrix with orthonormal columns."""
    q, r = np.linalg.qr(rng.standard_normal((n_rows, n_cols)))
    # QR alone is biased; fixing the signs of diag(r) makes the distribution rotation-invariant.
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


def _simplex_etf(n_classes, dim, rng):
    rotation = _random_orthonormal(dim, n_classes - 1, rng)
    return math.sqrt(n_classes / (n_classes - 1)) * rotation @ helmert(n_classes)


def _cross_polytope(n_classes, dim, rng):
    """``n_classes <= 2 * dim`` of the vectors ``+-e_i``, randomly rotated."""
    identity = np.eye(dim)
    vertices = np.hstack([identity, -identity])[:, :n_classes]
    return _random_orthonormal(dim, dim, rng) @ vertices


def _regular_polygon(n_classes, rng):
    angles = 2 * np.pi * np.arange(n_classes) / n_classes
    return _random_orthonormal(2, 2, rng) @ np.vstack([np.cos(angles), np.sin(angles)])


def _uniform_prototypes(n_classes, dim, rng, max_iter):
    if n_classes <= dim + 1:
        return _simplex_etf(n_classes, dim, rng)
    if n_classes <= 2 * dim:
        return _cross_polytope(n_classes, dim, rng)
    if dim == 2:
        return _regular_polygon(n_classes, rng)
    return _optimised_prototypes(n_classes, dim, rng, max_iter)


@functools.lru_cache(maxsize=32)
def _seeded_uniform_prototypes(n_classes, dim, seed, max_iter):
    prototypes = _uniform_prototypes(n_classes, dim, np.random.RandomState(seed), max_iter)
    prototypes.flags.writeable = False
    return prototypes


def _optimised_prototypes(n_classes, dim, rng, max_iter):
    """Minimise the uniformity loss at rising temperatures, warm-starting each stage."""
    params = torch.from_numpy(rng.standard_normal((dim, n_classes)).astype(np.float32))
    log_n_pairs = math.log(n_classes * (n_classes - 1))
    t_max = log_n_pairs / (2 * _MAX_COSINE_TOL)
    # The gradient of one prototype is of order 1 / c (the pair weights sum to one), so the
    # tolerance on it shrinks with c to mean the same distance from a stationary point.
    tolerance = _GRADIENT_TOL / n_classes
    iters_per_stage = max(1, max_iter // _N_STAGES)
    for t in np.geomspace(_T_START, t_max, _N_STAGES):
        objective = functools.partial(
            _uniformity_loss_and_gradient, t=float(t), log_n_pairs=log_n_pairs
        )
        params = _descend_to_stationary(params, objective, iters_per_stage, tolerance)
        # The loss ignores column norms; resetting them keeps L-BFGS well conditioned.
        params /= params.norm(dim=0)
    prototypes = params.numpy().astype(np.float64)
    return prototypes / np.linalg.norm(prototypes, axis=0)


def _descend_to_stationary(params, objective, max_iter, tolerance):
    """``params`` moved by L-BFGS until no gradient entry exceeds ``tolerance``; a new tensor.

    The descent runs in float32, which halves the time of the c x c products and exponentials.
    Where float32 can no longer lower the loss short of the tolerance (its round-off hides the
    last decreases at high temperatures) the descent goes on in float64: a stall is not a
    stationary point, and stopping at one left c = 7 between its two stationary configurations.
    """
    params, remaining, stationary = _lbfgs(params.clone(), objective, max_iter, tolerance)
    if not stationary and remaining > 0:
        params, _, _ = _lbfgs(params.double(), objective, remaining, tolerance)
    return params.float()


def _uniformity_loss_and_gradient(params, t, log_n_pairs):
    """The DL2PA loss over the normalised columns of ``params``, over ``2 t``, and its gradient.

    The division keeps the gradient of order one at every temperature. With ``P`` the normalised
    columns, ``C = P^T P`` and ``W`` the softmax of ``2 t C`` over the pairs ``i != j``, the
    gradient with respect to ``P`` is ``2 P W``, projected onto the tangent space of each column
    and divided by its norm. Written out rather than left to autograd, one c x c buffer serves
    for the cosines, the exponentials and ``W``: 2.3 times faster at c = 1000 (float64).
    """
    norms = params.norm(dim=0)
    prototypes = params / norms
    weights = prototypes.T @ prototypes
    weights.fill_diagonal_(-math.inf)
    largest = weights.max()
    # Exponents below -50 add less than 1e-21 each; clamping them keeps float32 out of the
    # denormal range, where exp and the products that follow run many times slower.
    weights.sub_(largest).mul_(2 * t).clamp_min_(-50.0).exp_().fill_diagonal_(0.0)
    total = weights.sum()
    loss = largest - 1 + (total.log() - log_n_pairs) / (2 * t)
    gradient = prototypes @ weights.div_(total / 2)
    gradient -= prototypes * (prototypes * gradient).sum(dim=0)
    return loss, gradient / norms


def _lbfgs(params, objective, max_iter, tolerance):
    """L-BFGS on ``objective(params) -> (loss, gradient)``, in place, from restart to restart.

    Stops at a first-order stationary point (no entry of the gradient, which is tangent to the
    sphere, above ``tolerance``), once a restart no longer lowers the loss, or after
    ``max_iter`` iterations. A failed line search ends torch's L-BFGS early; a restart with a
    fresh history goes on from there. Returns ``params``, the iterations left and whether the
    point is stationary.
    """

    def closure():
        loss, params.grad = objective(params)
        return loss

    loss, gradient = objective(params)
    while max_iter > 0 and gradient.abs().max() > tolerance:
        optimizer = torch.optim.LBFGS(
            [params],
            max_iter=max_iter,
            history_size=20,
            tolerance_grad=tolerance,
            tolerance_change=0.0,
            line_search_fn="strong_wolfe",
        )
        optimizer.step(closure)
        max_iter -= max(1, optimizer.state[params]["n_iter"])
        previous = loss
        loss, gradient = objective(params)
        if not loss < previous:
            break
    return params, max_iter, bool(gradient.abs().max() <= tolerance)


def _class_means(features, codes, n_classes):
    sums = np.zeros((n_classes, features.shape[1]))
    np.add.at(sums, codes, features)
    return sums / np.bincount(codes, minlength=n_classes)[:, np.newaxis]


def _cosine_matrix(columns):
    unit = columns / np.linalg.norm(columns, axis=0)
    return unit.T @ unit


def _off_diagonal(matrix):
    return matrix[~np.eye(len(matrix), dtype=bool)]


def _nc1(within_class_deviations, centred_means):
    # tr(S_W S_B^+) / C with S_B^+ = C (M^+)^T M^+ and S_W = Z^T Z / N. With M = U S V^T,
    # Z (M^+)^T = Z U S^-1 V^T, whose norm is that of Z U S^-1. The counts-weighted sum of the
    # columns of M is zero, so its rank is at most C - 1: a further singular value is round-off
    # (of order eps times the features' offset, above pinv's cut-off) and must not be inverted.
    u, s, _ = np.linalg.svd(centred_means, full_matrices=False)
    tol = s[0] * max(centred_means.shape) * np.finfo(s.dtype).eps
    rank = min(centred_means.shape[1] - 1, int(np.sum(s > tol)))
    projected = within_class_deviations @ (u[:, :rank] / s[:rank])
    return np.sum(projected**2) / len(within_class_deviations)


def _nc3(weights, centred_means):
    difference = weights.T / np.linalg.norm(weights) - centred_means / np.linalg.norm(centred_means)
    return np.linalg.norm(difference)


def _nc4(features, weights, bias, means):
    classifier = np.argmax(features @ weights.T + bias, axis=1)
    nearest_mean = np.argmin(cdist(features, means, "sqeuclidean"), axis=1)
    return np.mean(classifier != nearest_mean)


def _check_classifier(weights, bias, n_classes, n_features):
    """Validate ``weights`` against the data and default ``bias`` to zeros."""
    weights = check_array(weights, input_name="weights")
    if weights.shape != (n_classes, n_features):
        raise ValueError(
            f"weights must have shape (n_classes, n_features) = ({n_classes}, {n_features}), "
            f"one row per sorted label, got {weights.shape}."
        )
    if bias is None:
        return weights, np.zeros(n_classes)
    bias = column_or_1d(check_array(bias, ensure_2d=False, input_name="bias"))
    if bias.shape != (n_classes,):
        raise ValueError(
            f"bias must have shape ({n_classes},), one entry per class, got {bias.shape}."
        )
    return weights, bias
