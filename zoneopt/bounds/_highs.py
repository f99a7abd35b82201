"""A HiGHS instance from a :class:`zoneopt.model.Model` or from plain arrays, quiet and single-threaded.

The bound sources need what :func:`zoneopt.solve.backends.solve` does not hand back (row duals, a
model kept alive between solves to change its costs and add rows), so they drive highspy themselves.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def new_highs(*, node_limit: int | None = None, mip_gap: float = 1e-6,
              iteration_limit: int | None = None, time_limit: float | None = None,
              threads: int = 0):
    """A silent Highs instance with deterministic limits (nodes, simplex iterations)."""
    from ..solve.backends import _new_highs, _set_threads  # one banner, one thread pool per process

    h = _new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.setOptionValue("mip_abs_gap", 1e-12)
    h.setOptionValue("random_seed", 0)
    if node_limit is not None:
        h.setOptionValue("mip_max_nodes", int(node_limit))
    if iteration_limit is not None:
        h.setOptionValue("simplex_iteration_limit", int(iteration_limit))
    if time_limit is not None:
        h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
    # HiGHS has one thread pool per process: every instance must ask for the same thread count as
    # the backends' (or reset the pool, which they track), else runs end with status "Not Set".
    _set_threads(h, threads)
    return h


def pass_arrays(h, cost, lower, upper, rows: sp.spmatrix, row_lower, row_upper,
                integer: np.ndarray | None = None, offset: float = 0.0) -> None:
    """Load a model given as arrays into ``h``."""
    import highspy

    a = sp.csc_matrix(rows)
    lp = highspy.HighsLp()
    lp.num_col_ = len(cost)
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_ = np.asarray(lower, dtype=float)
    lp.col_upper_ = np.asarray(upper, dtype=float)
    lp.row_lower_ = np.asarray(row_lower, dtype=float)
    lp.row_upper_ = np.asarray(row_upper, dtype=float)
    lp.offset_ = float(offset)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(float)
    lp.a_matrix_.num_col_ = len(cost)
    lp.a_matrix_.num_row_ = a.shape[0]
    if integer is not None and np.any(integer):
        lp.integrality_ = [highspy.HighsVarType.kInteger if f else highspy.HighsVarType.kContinuous
                           for f in integer]
    h.passModel(lp)


def add_rows(h, rows: sp.spmatrix, lower, upper) -> None:
    """Append rows (CSR) to the model in ``h``."""
    a = sp.csr_matrix(rows)
    if a.shape[0] == 0:
        return
    h.addRows(a.shape[0], np.asarray(lower, dtype=float), np.asarray(upper, dtype=float), a.nnz,
              a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32), a.data.astype(float))


def slack_rows(h, first: int, upper, tol: float) -> np.ndarray:
    """Positions of the "<=" rows from ``first`` on that ``h``'s last LP solution leaves slack: their
    activity more than ``tol`` below ``upper`` (an array over those rows, or one number) and a zero
    dual. Without them that solution stays optimal, so the LP's value stands."""
    sol = h.getSolution()
    act = np.asarray(sol.row_value, dtype=float)[first:]
    dual = np.asarray(sol.row_dual, dtype=float)[first:]
    return np.flatnonzero((act < np.asarray(upper, dtype=float) - tol)
                          & (np.abs(dual) < 1e-12)) + first


def mip_dual_bound(h) -> float:
    """The proven lower bound of the last MIP solve (``-inf`` when it proved nothing)."""
    import highspy

    ms = highspy.HighsModelStatus
    status = h.getModelStatus()
    if status == ms.kInfeasible:
        return np.inf
    # Only a solve that ran (stopped by a limit or finished) has a dual bound; any other status
    # (e.g. "Not Set" after a thread-pool mismatch) leaves a meaningless 0 in the info.
    if status not in (ms.kOptimal, ms.kTimeLimit, ms.kIterationLimit, ms.kSolutionLimit,
                      ms.kInterrupt, ms.kObjectiveBound):
        return -np.inf
    b = float(h.getInfo().mip_dual_bound)
    return b if np.isfinite(b) else -np.inf


def has_solution(h) -> bool:
    """Whether the last solve left a feasible primal solution."""
    import highspy

    return h.getInfo().primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible


def run_highs(h) -> None:
    """Run ``h`` (robust to a HiGHS scheduler started by other code: see the backends' version)."""
    from ..solve.backends import run_highs as run

    run(h)
