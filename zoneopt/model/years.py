r"""The multi-year rows of the attendance-zone program (``[years] plan``).

With :math:`w_{ysi}` the students of unit i in year y and series s who follow the plan and
:math:`F_{ysj}` the grandfathered students counted at school j whatever the plan
(:mod:`zoneopt.years`), the capacity rules of every plan year and listed series are

.. math::

    \lceil \underline u\, C_{yj} \rceil - F_{ysj} \le \sum_i w_{ysi} x_{ij}
        \le \lfloor \bar u\, C_{yj} \rfloor - F_{ysj} \qquad \forall y, s, j,

replacing the capacity rule on the units file's counts, and the balance objective is
:math:`\sum_{b} c_b \sum_j t_{bj}` with :math:`t_{bj} \ge \pm(\sum_i a_{bi} x_{ij} + G_{bj})` over the
balance years b (:meth:`zoneopt.years.YearsData.balance_weights`; :math:`c_b` includes the
:math:`1/|B|` of the mean). Both are exact reformulations of CONTRACT.md's definitions, so every
bound of a model with these rows (and valid contiguity rows) holds for the multi-year problem.
"""

from __future__ import annotations

import numpy as np

from ..years import YearsData

#: Slack on right-hand sides computed in floating point (students are integers).
RHS_EPS = 1e-6


def balance_columns(data: YearsData, free_schools: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The balance variables: (school, balance-year index) of each t column, schools fastest."""
    nb = len(data.balance_years)
    schools = np.tile(np.asarray(free_schools, dtype=np.int64), nb)
    years = np.repeat(np.arange(nb), len(free_schools))
    return schools, years


def balance_cost(data: YearsData, t_years: np.ndarray) -> np.ndarray:
    """Objective coefficient of each t column: :math:`c_b` of its balance year."""
    scale, _, _ = data.balance_weights()
    return scale[t_years]


def capacity_rows(rows, data: YearsData, pu: np.ndarray, ps: np.ndarray,
                  free_schools: np.ndarray, *, prune: bool = True) -> None:
    """The capacity rules of every plan year and series for each free school.

    With ``prune``, a row implied by another is left out: the upper row of (y, s) is implied by that
    of (y', s') when every unit's students in (y', s') are at least those in (y, s) and its limit is
    no larger (the high series of a year usually implies the mid and low ones). Leaving out implied
    rows changes no feasible set, so the model stays exact; without ``prune`` there is one two-sided
    row per school, year and series in that order (the elastic diagnosis relies on it).
    """
    hi, lo = data.limits()
    w = data.movable
    fixed = data.fixed
    pairs = [(y, s) for y in range(data.n_years) for s in range(data.n_series)]
    for j in free_schools:
        cols = np.flatnonzero(ps == j)
        units = pu[cols]
        vec = np.stack([w[y, s, units] for y, s in pairs]) if len(units) else np.zeros((len(pairs), 0))
        upper = np.array([hi[y, j] - fixed[y, s, j] for y, s in pairs]) + RHS_EPS
        lower = np.array([lo[y, j] - fixed[y, s, j] if lo[y, j] > 0 else -np.inf
                          for y, s in pairs]) - RHS_EPS
        if not prune:
            for r in range(len(pairs)):
                rows.add(cols, vec[r], lower[r], upper[r])
            continue
        for r in _undominated(vec, upper, larger=True):
            rows.add(cols, vec[r], -np.inf, upper[r])
        if np.isfinite(lower).any():
            for r in _undominated(vec, lower, larger=False):
                if np.isfinite(lower[r]):
                    rows.add(cols, vec[r], lower[r], np.inf)


def _undominated(vec: np.ndarray, rhs: np.ndarray, *, larger: bool) -> list[int]:
    """Rows not implied by another: for upper limits (``larger``) row b is implied by row a when
    ``vec[a] >= vec[b]`` everywhere and ``rhs[a] <= rhs[b]``; mirrored for lower limits. Among
    identical rows the first is kept."""
    keep = []
    n = len(rhs)
    for b in range(n):
        implied = False
        for a in range(n):
            if a == b:
                continue
            if larger:
                covers = np.all(vec[a] >= vec[b]) and rhs[a] <= rhs[b]
            else:
                covers = np.all(vec[a] <= vec[b]) and rhs[a] >= rhs[b]
            same = covers and np.array_equal(vec[a], vec[b]) and rhs[a] == rhs[b]
            if covers and (not same or a < b):
                implied = True
                break
        if not implied:
            keep.append(b)
    return keep


def balance_rows(rows, data: YearsData, pu: np.ndarray, ps: np.ndarray, t_schools: np.ndarray,
                 t_years: np.ndarray, first_col: int) -> None:
    """t_bj >= |sum_i a_bi x_ij + G_bj| as two rows per balance year and school."""
    _, a, g = data.balance_weights()
    for idx, (j, b) in enumerate(zip(t_schools, t_years, strict=True)):
        cols = np.flatnonzero(ps == j)
        tcol = np.array([first_col + idx])
        allc = np.concatenate([cols, tcol])
        coef = a[b, pu[cols]]
        # t - sum a x >= G  and  t + sum a x >= -G
        rows.add(allc, np.concatenate([-coef, [1.0]]), g[b, j], np.inf)
        rows.add(allc, np.concatenate([coef, [1.0]]), -g[b, j], np.inf)


def start_balance(data: YearsData, assign: np.ndarray, t_schools: np.ndarray,
                  t_years: np.ndarray) -> np.ndarray:
    """Values of the t columns implied by a full assignment."""
    _, a, g = data.balance_weights()
    m = data.n_schools
    dev = np.stack([np.bincount(assign, weights=a[b], minlength=m) for b in range(len(a))]) + g
    return np.abs(dev[t_years, t_schools])




# ------------------------------------------------------------------------------ diagnosis


def _where(data: YearsData, y: int, s: int) -> str:
    return f"in {data.years[y]}, {data.series[s]} series"


def diagnose_years(district, scenario, eligible: np.ndarray) -> list[str]:
    """Proofs of infeasibility in some plan year and series, in a planner's words.

    ``eligible`` should already exclude pairs the contiguity rule cannot use. Each finding names the
    year, the series and the school ("in 2029, high series, school S4 needs 37 more seats ...").
    """
    from ..years import years_data

    data = years_data(district, scenario)
    c = scenario.constraints
    hi, lo = data.limits()
    w, fixed = data.movable, data.fixed
    ids = district.school_ids
    out: list[str] = []
    single = np.flatnonzero(eligible.sum(axis=1) == 1)
    forced_school = np.argmax(eligible[single], axis=1) if len(single) else np.zeros(0, np.int64)
    for y in range(data.n_years):
        for s in range(data.n_series):
            where = _where(data, y, s)
            total = float(data.students[y, s].sum())
            seats = float(hi[y].sum())
            if seats < total:
                out.append(
                    f"{where}, the district has {total:.0f} students but {seats:.0f} seats at "
                    f"max_utilization {c.max_utilization:g}: it needs {total - seats:.0f} more "
                    "seats (add capacity with a capacity_YYYY column, or raise max_utilization)")
                continue
            need_total = float(lo[y].sum())
            if need_total > total:
                out.append(
                    f"{where}, min_utilization {c.min_utilization:g} needs {need_total:.0f} "
                    f"students in all but the district has {total:.0f}; lower min_utilization")
            load = np.bincount(forced_school, weights=w[y, s, single],
                               minlength=data.n_schools) + fixed[y, s]
            for j in np.flatnonzero(load > hi[y] + RHS_EPS):
                kept = f", {fixed[y, s, j]:.0f} of them grandfathered" if fixed[y, s, j] else ""
                out.append(
                    f"{where}, school {ids[j]} needs {load[j] - hi[y, j]:.0f} more seats: it must "
                    f"take {load[j]:.0f} students who can go nowhere else (home unit, locks, "
                    f"distance limits{kept}) but has {hi[y, j]:.0f} seats at max_utilization "
                    f"{c.max_utilization:g}")
            if c.min_utilization > 0:
                reach = (eligible * w[y, s][:, None]).sum(axis=0) + fixed[y, s]
                for j in np.flatnonzero(reach < lo[y] - RHS_EPS):
                    out.append(
                        f"{where}, school {ids[j]} can get at most {reach[j]:.0f} students but "
                        f"min_utilization {c.min_utilization:g} of its {data.capacity[y, j]:.0f} "
                        f"seats needs {lo[y, j]:.0f}; lower min_utilization or relax the limits")
    return out


def explain_years(district, scenario, eligible: np.ndarray, *, time_limit: float = 10.0) -> list[str]:
    """Which school needs how many seats in which year and series: an elastic re-solve.

    Every capacity row of every plan year and series gets a slack priced one per student, contiguity
    is dropped (a relaxation), and a positive optimum proves the scenario impossible even for scattered
    zones; its slacks name the year, the series and the school. The least total is found as for one
    year (:func:`zoneopt.model.elastic_search.least_stretch`: counted work, the same on every machine).

    Returns
    -------
    list of str
        Findings, or an empty list when every capacity rule can be met without contiguity.
    """
    import scipy.sparse as sp

    from ..years import years_data
    from . import Model, _assignment_rows, _Rows
    from .elastic_search import SLACK_TOL, least_stretch, not_least_note

    data = years_data(district, scenario)
    n, m = district.n_units, district.n_schools
    pu, ps = np.nonzero(eligible)
    k = len(pu)
    rows = _Rows()
    _assignment_rows(rows, pu, np.arange(n))
    first = len(rows.lo)
    capacity_rows(rows, data, pu, ps, np.arange(m), prune=False)
    a, lo, hi = rows.matrix(k)
    n_cap = a.shape[0] - first
    keys = [(j, y, s) for j in range(m) for y in range(data.n_years) for s in range(data.n_series)]
    # Slack "over" loosens the upper side, "under" the lower side of each capacity row.
    over = sp.csr_matrix((-np.ones(n_cap), (first + np.arange(n_cap), np.arange(n_cap))),
                         shape=(a.shape[0], n_cap))
    under = sp.csr_matrix((np.ones(n_cap), (first + np.arange(n_cap), np.arange(n_cap))),
                          shape=(a.shape[0], n_cap))
    a = sp.hstack([a, over, under], format="csr")
    n_cols = k + 2 * n_cap
    model = Model(
        cost=np.concatenate([np.zeros(k), np.ones(2 * n_cap)]), lower=np.zeros(n_cols),
        upper=np.concatenate([np.ones(k), np.full(2 * n_cap, np.inf)]),
        integer=np.concatenate([np.ones(k, bool), np.zeros(2 * n_cap, bool)]),
        rows=a, row_lower=lo, row_upper=hi, pair_unit=pu, pair_school=ps,
        balance_schools=np.zeros(0, dtype=np.int64),
    )
    found = least_stretch(model, n, time_limit, scenario)
    if found is None:
        return []
    vals, stretch, least, clock = found
    out = []
    c = scenario.constraints
    for idx in np.argsort(-vals[k:], kind="stable"):
        v = float(vals[k + idx])
        if v <= 1e-6 or len(out) >= 12:
            break
        j, y, s = keys[idx % n_cap]
        where = _where(data, y, s)
        if idx < n_cap:
            out.append(f"{where}, school {district.school_ids[j]} needs {int(np.ceil(v - 1e-6))} "
                       f"more seats (capacity {data.capacity[y, j]:.0f} x max_utilization "
                       f"{c.max_utilization:g})")
        else:
            out.append(f"{where}, school {district.school_ids[j]} is {int(np.ceil(v - 1e-6))} "
                       f"students short of min_utilization {c.min_utilization:g} of its "
                       f"{data.capacity[y, j]:.0f} seats")
    if out and scenario.constraints.contiguity:
        out.append("(from a re-solve that lets zones be scattered: the least extra seats needed; "
                   "connected zones may need more)")
    if out and stretch > least + SLACK_TOL:
        out.append(not_least_note(f"they total {stretch:.0f}", least, clock))
    return out


__all__ = ["balance_columns", "balance_cost", "capacity_rows", "balance_rows", "start_balance",
           "diagnose_years", "explain_years"]
