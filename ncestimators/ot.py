"""Entropic optimal transport for pseudo-labels, and maximum-similarity matching."""

# SPDX-License-Identifier: BSD-3-Clause

import numbers
from contextlib import nullcontext

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

__all__ = ["sinkhorn", "assign"]


def sinkhorn(
    scores,
    *,
    row_marginal=None,
    col_marginal=None,
    prior=None,
    eps=1.0,
    n_iter=3,
    method="log",
    differentiable=False,
):
    r"""Entropic optimal-transport plan that turns scores into balanced pseudo-labels.

    Solves, with ``n_iter`` Sinkhorn-Knopp iterations, the entropic transport problem

    .. math::

        Q^\star = \mathop{\arg\min}_{Q \ge 0,\; Q \mathbf{1} = a,\; Q^\top \mathbf{1} = b}
        \; -\langle Q, S \rangle + \frac{1}{\varepsilon} \operatorname{KL}(Q \,\|\, \Pi),

    whose solution has the form :math:`Q = \operatorname{diag}(u)\,
    (\Pi \odot e^{\varepsilon S})\, \operatorname{diag}(v)`. :math:`S` are the scores,
    :math:`a` and :math:`b` the row and column marginals and :math:`\Pi` the prior. Without a
    prior, :math:`\operatorname{KL}(Q \,\|\, \mathbf{1})` is the negative entropy and the problem
    is the SwAV pseudo-label problem [2]_ (CASE Eq. 10 [1]_); with a prior it is CASE Eq. 12.

    Parameters
    ----------
    scores : array-like or torch.Tensor of shape (n_rows, n_cols) or (n_problems, n_rows, n_cols)
        Scores :math:`S` (logits or similarities); higher means more likely. A 3-D input holds
        independent problems that are solved together. A tensor keeps its device and dtype,
        which must be float32 or float64 (integer tensors become the default dtype). Other
        inputs go through :func:`numpy.asarray`; float32 and float64 arrays keep their dtype,
        anything else becomes the default torch dtype.
    row_marginal : array-like of shape (n_rows,) or (n_problems, n_rows), default=None
        Row sums :math:`a` of the plan; non-negative. ``None`` means :math:`1/n_{rows}` each.
        A 1-D marginal is shared by all problems.
    col_marginal : array-like of shape (n_cols,) or (n_problems, n_cols), default=None
        Column sums :math:`b` of the plan; non-negative, with the same total as ``row_marginal``.
        ``None`` means :math:`1/n_{cols}` each (equipartition).
    prior : array-like broadcastable to ``scores``, default=None
        Non-negative prior plan :math:`\Pi`. Zeros forbid the matching entries of the plan; each
        row and column needs a positive entry against a positive marginal entry of the other
        side. ``None`` is the same as all ones.
    eps : float, default=1.0
        Inverse temperature :math:`\varepsilon > 0`; larger values give sharper plans.
        POT's ``reg`` is ``1 / eps`` with cost ``-scores``.
    n_iter : int, default=3
        Number of iterations, each a column update followed by a row update. Three is the
        SwAV/CASE choice for pseudo-labels; use more to approach the exact solution.
    method : {"log", "scaling"}, default="log"
        ``"log"`` is float32-safe for any ``eps * scores`` range and for priors with zeros.
        ``"scaling"`` is plain scaling-vector iteration without that safeguard: slightly cheaper,
        with no host synchronisation inside the loop, and correct while ``eps`` times the score
        range stays below about 80 in float32 (700 in float64). See Notes.
    differentiable : bool, default=False
        If False, the computation runs under :func:`torch.no_grad` and the plan has no
        autograd history. If True, autograd records it as usual, so gradients flow back to
        ``scores`` (and to the marginals and prior when they are tensors that require grad).

    Returns
    -------
    plan : torch.Tensor of the same shape, dtype and device as ``scores``
        The transport plan :math:`Q`. Its rows sum exactly (to rounding) to ``row_marginal``;
        its columns sum to ``col_marginal`` up to the convergence error after ``n_iter``
        iterations. With the default marginals, ``n_rows * plan`` holds one pseudo-label
        distribution per row.

    Raises
    ------
    ValueError
        If an input has the wrong shape, contains NaN, infinity or negative values, if the two
        marginals have different totals, if ``eps``, ``n_iter`` or ``method`` are invalid, or if
        ``method="scaling"`` over- or underflows.

    Notes
    -----
    Starting from :math:`u = \mathbf{1}`, each iteration sets

    .. math::

        v \leftarrow b \oslash K^\top u, \qquad u \leftarrow a \oslash K v,
        \qquad K = \Pi \odot e^{\varepsilon S},

    columns first and rows last, so that after the last iteration every row of the plan sums
    exactly to its marginal: a pseudo-label row is a proper distribution, while the column
    sums carry whatever imbalance the iterations left. The update order and starting point
    are POT's [4]_, so ``ot.sinkhorn(a, b, -scores, 1 / eps, numItermax=n_iter, stopThr=0)``
    returns the same plan.

    Both methods form the kernel once, shifted by its column maxima. The shift is absorbed by
    the first column update and changes no iterate, but it keeps every entry at most one, so
    nothing overflows. ``"scaling"`` then iterates on this kernel. A row whose
    ``eps * scores`` lie more than about 87 (float32; 708 in float64) below every column
    maximum leaves the normal float range and loses precision; once such a row underflows to
    zero, the method raises instead of returning NaN.

    ``"log"`` keeps the same cheap scaling iterations, but it tracks the log-domain potentials
    :math:`f = \log u` and :math:`g = \log v`, absorbed into the kernel, as in the stabilised
    scaling algorithm of [5]_. Before it divides by a kernel sum, it checks that the sum is a
    normal float that is large enough for subnormal kernel entries to change the plan by
    less than one unit of precision. When a sum fails this check, that half-iteration is
    redone in the log domain: the kernel is rebuilt from the scores with the current
    potentials absorbed and shifted by its maxima along the updated axis, which makes the
    update a log-sum-exp. This is as float32-safe as a pure log-domain solver, for example at
    CASE's scale of ``eps * scores`` about :math:`\pm 200`. In the common case it costs what
    ``"scaling"`` costs, plus two scalars read on the host per half-iteration for the check.

    A batch is solved problem by problem on the CPU, where that keeps each kernel in cache and
    is several times faster, and with batched tensor operations on other devices.

    References
    ----------
    .. [1] Q. Liu, Z. Wang, S. Rong, J. Li and Y. Zhang, "Revisiting Foreground and Background
       Separation in Weakly-supervised Temporal Action Localization: A Clustering-based
       Approach", ICCV 2023 (CASE).
    .. [2] M. Caron, I. Misra, J. Mairal, P. Goyal, P. Bojanowski and A. Joulin, "Unsupervised
       Learning of Visual Features by Contrasting Cluster Assignments", NeurIPS 2020 (SwAV).
    .. [3] M. Cuturi, "Sinkhorn Distances: Lightspeed Computation of Optimal Transport",
       NeurIPS 2013.
    .. [4] R. Flamary et al., "POT: Python Optimal Transport", JMLR 22(78), 2021.
    .. [5] B. Schmitzer, "Stabilized Sparse Scaling Algorithms for Entropy Regularized
       Transport Problems", SIAM J. Sci. Comput. 41(3), 2019.

    Examples
    --------
    >>> import torch
    >>> from ncestimators.ot import sinkhorn
    >>> scores = torch.tensor([[2.0, 0.0], [1.5, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> plan = sinkhorn(scores, eps=2.0, n_iter=50)
    >>> plan.sum(dim=1)
    tensor([0.2500, 0.2500, 0.2500, 0.2500])
    >>> plan.sum(dim=0)
    tensor([0.5000, 0.5000])
    >>> (4 * plan).argmax(dim=1)  # balanced pseudo-labels: two rows per column
    tensor([0, 0, 1, 1])
    """
    if not isinstance(method, str) or method not in _SOLVERS:
        valid = ", ".join(repr(name) for name in _SOLVERS)
        raise ValueError(f"Unknown method {method!r}. Valid methods are {valid}.")
    eps, n_iter = _check_eps(eps), _check_n_iter(n_iter)
    with nullcontext() if differentiable else torch.no_grad():
        scores = _check_scores(scores)
        row_marginal, col_marginal = _check_marginals(scores, row_marginal, col_marginal)
        log_prior = _check_prior(scores, prior, row_marginal, col_marginal)
        problem = (scores, row_marginal, col_marginal, log_prior)
        if scores.ndim == 3 and _solve_one_by_one(scores):
            return torch.stack([_solve(*one, eps, n_iter, method) for one in _split(*problem)])
        return _solve(*problem, eps, n_iter, method)


def _solve_one_by_one(scores):
    """Whether to loop over a batch of problems rather than run batched tensor operations.

    On CPU the loop is several times faster: each kernel stays in cache over the iterations,
    and a batch of matrix-vector products is slower than the same products one by one.
    """
    return scores.device.type == "cpu"


def _split(scores, row_marginal, col_marginal, log_prior):
    """The problems of a batch, each as (scores, row_marginal, col_marginal, log_prior) views."""
    n_problems, n_rows, n_cols = scores.shape
    row_marginals = row_marginal.expand(n_problems, n_rows)
    col_marginals = col_marginal.expand(n_problems, n_cols)
    log_priors = [None] * n_problems if log_prior is None else log_prior.expand(scores.shape)
    return zip(scores, row_marginals, col_marginals, log_priors, strict=True)


def _solve(scores, row_marginal, col_marginal, log_prior, eps, n_iter, method):
    kernel, u, v = _SOLVERS[method](scores, row_marginal, col_marginal, eps, log_prior, n_iter)
    _check_scalings(u, v, method)
    return _plan(kernel, u, v)


def _sinkhorn_scaling(scores, row_marginal, col_marginal, eps, log_prior, n_iter):
    """Sinkhorn-Knopp on the column-shifted kernel; returns (kernel, u, v)."""
    kernel, _ = _shifted_kernel(scores, eps, log_prior, None, dim=-2)
    u = torch.ones_like(row_marginal)
    for _ in range(n_iter):
        v = col_marginal / _col_sums(kernel, u)
        u = row_marginal / _row_sums(kernel, v)
    return kernel, u, v


def _sinkhorn_log(scores, row_marginal, col_marginal, eps, log_prior, n_iter):
    """Stabilised Sinkhorn-Knopp with log-domain absorption; returns (kernel, u, v).

    Invariant: ``plan = diag(u) kernel diag(v)`` with
    ``kernel = exp(eps * scores + log_prior + f[:, None] + g[None, :])``.
    """
    kernel, g = _shifted_kernel(scores, eps, log_prior, None, dim=-2)
    f, u = torch.zeros_like(row_marginal), torch.ones_like(row_marginal)
    for _ in range(n_iter):
        v = _stable_divide(col_marginal, _col_sums(kernel, u), u)
        if v is None:
            f = f + torch.log(u)
            kernel, g = _shifted_kernel(scores, eps, log_prior, f.unsqueeze(-1), dim=-2)
            u = torch.ones_like(u)
            v = col_marginal / kernel.sum(dim=-2)

        u = _stable_divide(row_marginal, _row_sums(kernel, v), v)
        if u is None:
            g = g + torch.log(v)
            kernel, f = _shifted_kernel(scores, eps, log_prior, g.unsqueeze(-2), dim=-1)
            v = torch.ones_like(v)
            u = row_marginal / kernel.sum(dim=-1)
    return kernel, u, v


_SOLVERS = {"log": _sinkhorn_log, "scaling": _sinkhorn_scaling}


def _shifted_kernel(scores, eps, log_prior, potential, dim):
    """Return ``exp(L - max(L, dim))`` and ``-max(L, dim)``, squeezed.

    ``L = eps * scores + log_prior + potential``. The shift is a gauge that the next update
    along ``dim`` cancels exactly, so it is computed without autograd.
    """
    if log_prior is None and potential is None:
        # Fast path for the first update: one pass to build the shifted exponent.
        shift = eps * scores.detach().amax(dim=dim, keepdim=True)
        kernel = torch.add(-shift, scores, alpha=eps)
    else:
        kernel = torch.mul(scores, eps)
        if log_prior is not None:
            kernel = kernel.add_(log_prior)
        if potential is not None:
            kernel = kernel.add_(potential)
        shift = kernel.detach().amax(dim=dim, keepdim=True)
        kernel = kernel.sub_(shift)
    return kernel.exp_(), -shift.squeeze(dim)


def _row_sums(kernel, v):
    """``kernel @ v``: the row sums of ``kernel diag(v)``, batched."""
    return (kernel @ v.unsqueeze(-1)).squeeze(-1)


def _col_sums(kernel, u):
    """``u @ kernel``: the column sums of ``diag(u) kernel``, batched."""
    return (u.unsqueeze(-2) @ kernel).squeeze(-2)


def _stable_divide(marginal, sums, scaling):
    """Return ``marginal / sums``, or None when that division would lose accuracy.

    ``sums`` are kernel entries, at most 1, weighted by ``scaling`` and summed over ``n``
    terms. A subnormal entry carries an absolute error up to ``tiny * machine epsilon``, so
    sums of at least ``n * tiny * max(scaling)`` keep that error below one unit of precision.
    The floor of ``tiny`` also rejects zero, subnormal and NaN sums. Lines with zero marginal
    carry no mass and are exempt: their sums may be zero once a log-domain update has
    absorbed their zero scaling. Host-side scalars keep this check cheap for small problems.
    """
    tiny = torch.finfo(sums.dtype).tiny
    floor = tiny * max(1.0, scaling.shape[-1] * float(scaling.detach().amax()))
    if not float(sums.detach().amin()) >= floor:
        if not ((sums.detach() >= floor) | (marginal == 0)).all():
            return None
    return marginal / sums.clamp_min(floor)


def _plan(kernel, u, v):
    """``diag(u) kernel diag(v)``, in place unless autograd is recording."""
    if torch.is_grad_enabled():
        return u.unsqueeze(-1) * kernel * v.unsqueeze(-2)
    return kernel.mul_(u.unsqueeze(-1)).mul_(v.unsqueeze(-2))


def _check_eps(eps):
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise ValueError(f"eps must be a positive float, got {eps!r}.")
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive finite float, got {eps!r}.")
    return float(eps)


def _check_n_iter(n_iter):
    if isinstance(n_iter, bool) or not isinstance(n_iter, numbers.Integral) or n_iter < 1:
        raise ValueError(f"n_iter must be an integer >= 1, got {n_iter!r}.")
    return int(n_iter)


def _check_scores(scores):
    if isinstance(scores, torch.Tensor):
        if scores.is_floating_point() and scores.dtype not in (torch.float32, torch.float64):
            raise ValueError(
                f"scores has dtype {scores.dtype}; convert it to torch.float32 or torch.float64."
            )
    else:
        scores = torch.as_tensor(np.asarray(scores))
    if scores.dtype not in (torch.float32, torch.float64):
        scores = scores.to(torch.get_default_dtype())
    if scores.ndim not in (2, 3):
        raise ValueError(
            "scores must be 2-D (n_rows, n_cols) or 3-D (n_problems, n_rows, n_cols), "
            f"got shape {tuple(scores.shape)}."
        )
    if scores.numel() == 0:
        raise ValueError(f"scores is empty (shape {tuple(scores.shape)}).")
    # One reduction detects NaN and infinity; the elementwise test only runs if the sum
    # overflowed, to tell huge finite scores apart from non-finite ones.
    if not torch.isfinite(scores.detach().sum()) and not torch.isfinite(scores).all():
        raise ValueError("scores contains NaN or infinity.")
    return scores


def _as_like(values, scores, name):
    tensor = torch.as_tensor(
        values if isinstance(values, torch.Tensor) else np.asarray(values),
        dtype=scores.dtype,
        device=scores.device,
    )
    detached = tensor.detach()
    if not torch.isfinite(detached).all() or (detached < 0).any():
        raise ValueError(f"{name} must be finite and non-negative.")
    return tensor


def _check_marginals(scores, row_marginal, col_marginal):
    n_rows, n_cols = scores.shape[-2:]
    marginals = []
    for name, values, size in (
        ("row_marginal", row_marginal, n_rows),
        ("col_marginal", col_marginal, n_cols),
    ):
        if values is None:
            marginals.append(scores.new_full((size,), 1.0 / size))
            continue
        values = _as_like(values, scores, name)
        allowed = [(size,)] + ([(scores.shape[0], size)] if scores.ndim == 3 else [])
        if tuple(values.shape) not in allowed:
            raise ValueError(
                f"{name} must have shape {' or '.join(map(str, allowed))} to match scores of "
                f"shape {tuple(scores.shape)}, got {tuple(values.shape)}."
            )
        marginals.append(values)
    row_total = marginals[0].detach().sum(dim=-1)
    col_total = marginals[1].detach().sum(dim=-1)
    if not (row_total > 0).all():
        raise ValueError("row_marginal and col_marginal must have a positive total mass.")
    if not torch.allclose(row_total, col_total, rtol=1e-5, atol=0.0):
        raise ValueError(
            "row_marginal and col_marginal must have the same total mass, got "
            f"{_format_totals(row_total)} and {_format_totals(col_total)}; "
            "rescale one of them."
        )
    return marginals


def _format_totals(totals):
    return np.array2string(totals.cpu().numpy().reshape(-1), precision=6, threshold=6)


def _check_prior(scores, prior, row_marginal, col_marginal):
    """Validate the prior and return its logarithm (``None`` when there is no prior)."""
    if prior is None:
        return None
    prior = _as_like(prior, scores, "prior")
    try:
        support = torch.broadcast_to(prior.detach() > 0, scores.shape)
    except RuntimeError:
        raise ValueError(
            f"prior of shape {tuple(prior.shape)} does not broadcast to scores of shape "
            f"{tuple(scores.shape)}."
        ) from None
    rows_reached = (support & (col_marginal.detach() > 0).unsqueeze(-2)).any(dim=-1)
    cols_reached = (support & (row_marginal.detach() > 0).unsqueeze(-1)).any(dim=-2)
    if not (rows_reached.all() and cols_reached.all()):
        raise ValueError(
            "prior has a row or column without a positive entry facing a positive marginal "
            "entry, so no plan matches the marginals; make those entries of prior positive."
        )
    return torch.log(prior)


def _check_scalings(u, v, method):
    if not (torch.isfinite(u).all() and torch.isfinite(v).all()):
        hint = " Use method='log', or a smaller eps." if method == "scaling" else ""
        raise ValueError(f"Sinkhorn method={method!r} over- or underflowed.{hint}")


def assign(similarity):
    """Match each row to a distinct column so that the total similarity is maximal.

    This is the linear assignment problem, solved exactly with
    :func:`scipy.optimize.linear_sum_assignment` (``maximize=True``). Where the rows' best
    columns are already distinct, they are the answer and the Hungarian method does not run.
    A typical use is matching clusters to classes.

    Parameters
    ----------
    similarity : array-like or torch.Tensor of shape (n_rows, n_cols)
        Similarity between rows and columns; higher is better. Requires
        ``n_rows <= n_cols``. Tensors are detached and moved to the CPU.

    Returns
    -------
    columns : ndarray of shape (n_rows,), dtype intp
        ``columns[i]`` is the column matched to row ``i``. All entries are distinct, and
        ``similarity[arange(n_rows), columns].sum()`` is the largest possible. When
        ``n_rows < n_cols``, some columns stay unmatched.

    Raises
    ------
    ValueError
        If ``similarity`` is not 2-D, contains NaN or infinity, or has more rows than columns.
        Every row must get its own column, so ``n_rows > n_cols`` has no answer. To match each
        column to a distinct row instead, call ``assign(similarity.T)``.

    Examples
    --------
    >>> import numpy as np
    >>> from ncestimators.ot import assign
    >>> similarity = np.array([[0.9, 0.8, 0.1],
    ...                        [0.8, 0.1, 0.0]])
    >>> assign(similarity)  # the greedy choice 0 -> 0 would leave row 1 with 0.1
    array([1, 0])
    """
    if isinstance(similarity, torch.Tensor):
        similarity = similarity.detach().cpu().numpy()
    similarity = np.asarray(similarity, dtype=np.float64)
    if similarity.ndim != 2:
        raise ValueError(f"similarity must be 2-D, got shape {similarity.shape}.")
    if not np.isfinite(similarity).all():
        raise ValueError("similarity contains NaN or infinity.")
    n_rows, n_cols = similarity.shape
    if n_rows > n_cols:
        raise ValueError(
            f"similarity has more rows ({n_rows}) than columns ({n_cols}), so some row would "
            "get no column; pass similarity.T to match each column to a distinct row."
        )
    best = similarity.argmax(axis=1)
    if len(np.unique(best)) == n_rows:
        # Every row already has its best column to itself: nothing can beat that.
        return best.astype(np.intp)
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    columns = np.empty(n_rows, dtype=np.intp)
    columns[rows] = cols
    return columns
