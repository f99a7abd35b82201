r"""Is there a plan at all? CP-SAT on the exact rules, for small tight districts.

When today's zones break the scenario and the repair cannot mend them, the search needs any plan,
and HiGHS's feasibility MIPs either restrict contiguity (closer-neighbour rows: a plan may exist
that they exclude) or relax it (neighbour rows, then cut rounds). On small districts with almost no
spare seats both often end with no answer: placing whole units into schools with 0.1% spare seats
is a packing problem, at which constraint programming with clause learning is strong.

The model, with :math:`x_{ij}` for every eligible pair:

.. math::

    \sum_j x_{ij} = 1, \qquad \underline C_j \le \sum_i s_i x_{ij} \le \overline C_j,

the low-income band (its shares scaled to millionths and rounded outward, so it can only admit
more plans), the moved budget in whole students, and **exact contiguity**: every unit outside the home units has a *depth*
:math:`d_i \ge 1` (home units 0) and a neighbour in its own zone with a smaller depth. Following
smaller depths from any unit ends at a home unit of its own zone, so every zone is connected to its
home unit; conversely a breadth-first numbering of each connected zone satisfies the rows, so no
plan is excluded. Islands need no neighbour; a school whose home unit another school holds may grow
from the units touching it.

So the answer is exact both ways: a solution is a plan (checked again by
:func:`zoneopt.check.check_plan` before use), and *infeasible* proves that no plan exists, since the
rules left out (SES tiers, the travel matrix's barriers) only remove plans. Multi-year and feeder
scenarios are not modelled here.

Reproducible: one worker, a fixed seed and CP-SAT's *deterministic time* as the work limit (the
same answer on any machine and at any load); a wall-clock limit is only a safety stop. Measured
on ``synthetic_district(200, 10)`` with every capacity x0.91 (0.1% spare seats) and 1.5 km extra
distance: seed 2, a plan after 3.5 units of deterministic time (4.7 s), seed 0 after 9.4 (13.9 s),
where the repair and HiGHS's feasibility MIPs found none in 60 s.
"""

from __future__ import annotations

import math

import numpy as np

from ..district import District
from ..model import RHS_EPS
from ..scenario import Scenario

#: Deterministic time (CP-SAT's own work measure; one unit took 1.3-1.5 wall seconds on this
#: project's 2-core machine) for one feasibility question at ``work_budget = 1``.
WORK = 20.0
#: Largest district asked (eligible pairs): the model has one Boolean per pair and one per
#: ordered pair of neighbouring units, with a clause per school; above this the MIPs come first.
MAX_PAIRS = 6_000


def cpsat_available() -> bool:
    """Whether OR-Tools' CP-SAT can be imported."""
    try:
        from ortools.sat.python import cp_model  # noqa: F401
    except ImportError:
        return False
    return True


def cpsat_modelled(district: District, scenario: Scenario) -> str:
    """Why this scenario is not modelled here ('' when it is)."""
    from ..years import years_active

    if years_active(scenario):
        return "a multi-year plan"
    return ""


def cpsat_applies(district: District, scenario: Scenario, eligible: np.ndarray) -> bool:
    """Whether CP-SAT is asked at all: at most :data:`MAX_PAIRS` eligible pairs, a scenario it
    models, and OR-Tools installed."""
    return (int(eligible.sum()) <= MAX_PAIRS and not cpsat_modelled(district, scenario)
            and cpsat_available())


def cpsat_checked(district: District, scenario: Scenario, eligible: np.ndarray, *,
                  rules: Scenario | None = None, work: float = WORK,
                  time_limit: float = 60.0) -> tuple[str, np.ndarray | None]:
    """:func:`cpsat_plan`, with its plan checked by :func:`zoneopt.check.check_plan`.

    Parameters
    ----------
    district, scenario, eligible, work, time_limit
        As for :func:`cpsat_plan` (``scenario`` may be a restriction of the rules, e.g. narrower
        distance limits).
    rules
        The rules the plan must keep (default: ``scenario``).

    Returns
    -------
    (str, numpy.ndarray or None)
        As :func:`cpsat_plan`, except that a plan failing the check (the model leaves SES tiers out
        and rounds the band outward) gives ``("unknown", None)``.
    """
    from ..check import check_plan

    answer, plan = cpsat_plan(district, scenario, eligible, work=work, time_limit=time_limit)
    if answer == "yes" and not check_plan(district, rules or scenario, plan).ok:
        return "unknown", None
    return answer, plan


def cpsat_plan(district: District, scenario: Scenario, eligible: np.ndarray, *,
               work: float = WORK, time_limit: float = 60.0) -> tuple[str, np.ndarray | None]:
    """A plan by CP-SAT on the exact rules, or the proof that none exists.

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs (:func:`zoneopt.model.eligible_pairs`).
    work
        CP-SAT's deterministic time limit (counted work: the same answer on any machine).
    time_limit
        Wall-clock safety stop in seconds.

    Returns
    -------
    (str, numpy.ndarray or None)
        ``("yes", plan)`` (school position per unit; not yet checked), ``("no", None)`` (proven: no
        plan meets the rules), ``("unknown", None)`` (the work ran out).
    """
    from ortools.sat.python import cp_model

    n, m = district.n_units, district.n_schools
    c = scenario.constraints
    s = np.asarray(district.students, dtype=np.int64)
    low = np.asarray(district.low_income, dtype=np.int64)
    model = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    for i, j in zip(*np.nonzero(eligible), strict=True):
        x[int(i), int(j)] = model.NewBoolVar(f"x{i}_{j}")
    by_unit: list[list[int]] = [[] for _ in range(n)]
    by_school: list[list[int]] = [[] for _ in range(m)]
    for i, j in x:
        by_unit[i].append(j)
        by_school[j].append(i)
    sq = district.status_quo
    for i in range(n):
        if not by_unit[i]:
            return "no", None  # a unit no school may take
        model.AddExactlyOne(x[i, j] for j in by_unit[i])
    _capacity(model, x, by_school, district, scenario, s)
    if math.isfinite(c.low_income_band):
        _band(model, x, by_school, s, low, c.low_income_band)
    if c.max_moved_share < 1:
        budget = math.floor(c.max_moved_share * float(s.sum()) + RHS_EPS)
        model.Add(sum(int(s[i]) * x[i, j] for (i, j) in x if j != sq[i] and s[i]) <= budget)
    for j in range(m):
        home = int(district.home_unit[j])
        if int(district.home_owner[j]) == j and (home, j) in x:
            model.Add(x[home, j] == 1)
    if c.contiguity:
        _depths(model, x, by_unit, district)
    for (i, j), var in x.items():
        model.AddHint(var, bool(sq[i] == j))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = int(scenario.solver.seed)
    solver.parameters.max_deterministic_time = float(max(work, 0.01))
    solver.parameters.max_time_in_seconds = float(max(time_limit, 0.01))
    status = solver.Solve(model)
    if status == cp_model.INFEASIBLE:
        return "no", None
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return "unknown", None
    plan = np.full(n, -1, dtype=np.int64)
    for (i, j), var in x.items():
        if solver.Value(var):
            plan[i] = j
    return "yes", plan


def _capacity(model, x, by_school, district, scenario, s) -> None:
    c = scenario.constraints
    for j, units in enumerate(by_school):
        cap = float(district.capacity[j])
        load = sum(int(s[i]) * x[i, j] for i in units)
        model.Add(load <= math.floor(cap * c.max_utilization + RHS_EPS))
        if c.min_utilization > 0:
            model.Add(load >= math.ceil(cap * c.min_utilization - RHS_EPS))


def _band(model, x, by_school, s, low, band: float) -> None:
    """|low_j / s_j - p| <= band, i.e. (p - band) s_j <= low_j <= (p + band) s_j, scaled to
    integers with the shares as exact fractions of a million (rounded outward: a relaxation)."""
    total, big_l = int(s.sum()), int(low.sum())
    if total == 0:
        return
    scale = 1_000_000
    hi = math.ceil((big_l / total + band) * scale + 1e-6)
    lo = math.floor((big_l / total - band) * scale - 1e-6)
    for j, units in enumerate(by_school):
        low_j = sum(int(low[i]) * scale * x[i, j] for i in units)
        model.Add(low_j <= sum(hi * int(s[i]) * x[i, j] for i in units))
        model.Add(low_j >= sum(lo * int(s[i]) * x[i, j] for i in units))


def _depths(model, x, by_unit, district: District) -> None:
    """Exact contiguity: every non-home unit has a neighbour in its zone with a smaller depth."""
    n = district.n_units
    homes = {int(h) for h in district.home_unit}
    # A school whose home unit another school holds grows from the units touching that unit.
    shared_roots: dict[int, set[int]] = {}
    for j in range(district.n_schools):
        if int(district.home_owner[j]) != j:
            shared_roots.setdefault(j, set()).update(
                int(v) for v in district.neighbors[int(district.home_unit[j])])
    depth = [model.NewIntVar(0 if i in homes else 1, n, f"d{i}") for i in range(n)]
    for i in homes:
        model.Add(depth[i] == 0)
    for i in range(n):
        if i in homes or district.islands[i]:
            continue
        arcs = []
        for v in (int(v) for v in district.neighbors[i]):
            a = model.NewBoolVar(f"a{i}_{v}")
            model.Add(depth[v] + 1 <= depth[i]).OnlyEnforceIf(a)
            for j in by_unit[i]:
                # the parent is in the same zone: a and x_ij imply x_vj
                if (v, j) in x:
                    model.AddBoolOr([a.Not(), x[i, j].Not(), x[v, j]])
                else:
                    model.AddBoolOr([a.Not(), x[i, j].Not()])
            arcs.append(a)
        for j, roots in shared_roots.items():
            if i in roots and (i, j) in x:
                arcs.append(x[i, j])  # touching the shared home unit is its connection
        if arcs:
            model.AddBoolOr(arcs)
        else:
            model.Add(depth[i] <= -1)  # no neighbour and not an island: it can join no zone


__all__ = ["cpsat_applies", "cpsat_available", "cpsat_checked", "cpsat_modelled", "cpsat_plan",
           "MAX_PAIRS", "WORK"]
