"""The root linear relaxation without contiguity rows: a bound available almost at once.

Dropping the contiguity rows and the integrality of the assignment leaves a relaxation of the exact
problem, so its optimum is a lower bound. With the closer-neighbour or neighbour rows the LP is much
slower (about 70 times at 2,000 units), which is why this source leaves them out. The row duals of the
assignment rows are handed on: they are the Lagrangian source's first multipliers.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..district import District
from ..model import build_model
from ..scenario import Scenario
from . import BoundResult
from ._highs import new_highs, pass_arrays, run_highs

#: Simplex iterations per unit-school pair allowed by default (the LP needs about 1-3).
ITERATIONS_PER_PAIR = 20

#: Relative safety margin taken off an LP optimum (HiGHS's optimality tolerance is 1e-7).
LP_SAFETY = 1e-7


def root_lp_bound(
    district: District,
    scenario: Scenario,
    eligible: np.ndarray,
    work_limit: int | None = None,
    *,
    deadline: float | None = None,
) -> BoundResult:
    """The optimum of the LP relaxation without contiguity rows, a lower bound on the exact problem.

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs (:func:`zoneopt.model.eligible_pairs`).
    work_limit
        Simplex iterations (default: 20 per eligible pair). A stopped LP proves nothing.
    deadline
        ``time.perf_counter()`` value at which to give up (safety only; the LP is far faster).

    Returns
    -------
    BoundResult
        ``detail`` holds ``duals`` (one per unit: the assignment rows' duals), ``moved_dual`` (the
        moved-budget row's dual, 0 without one), ``iterations`` and ``seconds``.
    """
    t0 = time.perf_counter()
    model = build_model(district, scenario, eligible, contiguity="none")
    limit = int(work_limit) if work_limit else ITERATIONS_PER_PAIR * max(1, model.n_pairs) + 1000
    h = new_highs(iteration_limit=limit, threads=scenario.solver.threads,
                  time_limit=None if deadline is None else deadline - time.perf_counter())
    pass_arrays(h, model.cost, model.lower, model.upper, model.rows, model.row_lower,
                model.row_upper, offset=model.objective_offset)
    run_highs(h)
    import highspy

    status = h.getModelStatus()
    info = h.getInfo()
    detail = {"iterations": int(info.simplex_iteration_count), "seconds": time.perf_counter() - t0,
              "pairs": model.n_pairs}
    if status == highspy.HighsModelStatus.kInfeasible:
        return BoundResult(math.inf, "root_lp", {**detail, "status": "infeasible"})
    if status != highspy.HighsModelStatus.kOptimal:
        return BoundResult(-math.inf, "root_lp", {**detail, "status": h.modelStatusToString(status)})
    value = float(info.objective_function_value)
    value -= LP_SAFETY * max(1.0, abs(value))
    duals = np.asarray(h.getSolution().row_dual, dtype=float)
    detail["status"] = "optimal"
    detail["duals"] = _assignment_duals(district, model, duals)
    detail["moved_dual"] = _moved_dual(district, scenario, model, duals)
    return BoundResult(max(value, 0.0), "root_lp", detail)


def _assignment_duals(district: District, model, duals: np.ndarray) -> np.ndarray:
    """Duals of the assignment rows, which build_model puts first, one per unit in unit order.

    Checked rather than assumed: row i must hold exactly unit i's pairs with coefficient 1. Any other
    layout gives zeros (still valid multipliers, only a weaker start).
    """
    n = district.n_units
    a = model.rows
    if a.shape[0] < n:
        return np.zeros(n)
    head = a[:n].tocoo()
    ok = (np.allclose(head.data, 1.0) and np.array_equal(np.sort(head.col), np.arange(model.n_pairs))
          and np.array_equal(model.pair_unit[head.col], head.row))
    return duals[:n].copy() if ok else np.zeros(n)


def _moved_dual(district: District, scenario: Scenario, model, duals: np.ndarray) -> float:
    """Dual of the moved-budget row (non-negative multiplier of a <= row), 0 when there is none."""
    if scenario.constraints.max_moved_share >= 1:
        return 0.0
    s = district.students.astype(float)
    moved = (model.pair_school != district.status_quo[model.pair_unit]).astype(float)
    target = s[model.pair_unit] * moved
    a = model.rows.tocsr()
    for r in range(district.n_units, a.shape[0]):
        cols = a.indices[a.indptr[r]:a.indptr[r + 1]]
        vals = a.data[a.indptr[r]:a.indptr[r + 1]]
        if np.isinf(model.row_lower[r]) and len(cols) == int((target > 0).sum()) and np.allclose(
                vals, target[cols]):
            return float(max(0.0, -duals[r]))  # HiGHS: a binding <= row of a min has dual <= 0
    return 0.0
