r"""Explaining infeasibility the solver found: an elastic re-solve that says what must stretch.

When the search proves that no plan satisfies a scenario, the planner needs to know *which* part of the
policy is impossible and *by how much*. Two steps answer that:

1. **Elastic re-solve** without the contiguity rule (a relaxation of the exact problem). Every capacity
   row, minimum-utilization row, low-income band row and the moved-share row gets a non-negative slack
   variable, priced one per student:

   .. math::

       \min \sum_j (o_j + u_j + b^+_j + b^-_j) + v \quad\text{s.t.}\quad
       \lceil \underline u C_j\rceil - u_j \le \sum_i s_i x_{ij} \le \lfloor \bar u C_j \rfloor + o_j,
       \ \ \dots

   A positive optimum proves the scenario impossible even for scattered zones, and the slacks say what
   must give ("school S3 needs 140 more seats"). Each family of limits is also relaxed *alone* (the
   others kept hard) so the planner sees the alternatives ("or max_moved_share must rise to 0.34").
   The least total is bounded by the LP relaxation and found by rounding the LP and a counted local
   search (:mod:`zoneopt.model.elastic_search`), then a node-capped MIP when that falls short of
   the bound: the figures depend on the inputs, not on the machine, and say how far from the least
   they may be when the bound is not reached.
2. **Contiguity and distance.** When every slack can be zero, a plan exists if zones may be scattered,
   so contiguity (with the distance limits and locks that shape the zones) is the culprit. Then the
   distance limits are widened by a short list of steps (+0.5, +1, +2, +5 km) and the smallest step
   for which a plan with connected zones exists is reported (:mod:`zoneopt.model.distance_steps`,
   also when the capacity or other limits had to stretch); locks are dropped to see whether they
   are what blocks it.

Feasibility with contiguity is decided soundly: a plan under the closer-neighbour rule (a restriction)
or, in the distance finding, a repaired plan that passes the checker proves "yes"; infeasibility of
the relaxation or of the exact cut model proves "no"; anything else within the time limit is "not
proven", and the message says so.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..district import District
from ..scenario import Scenario
from ..tiers import tier_counts
from ..years import years_active
from . import (
    RHS_EPS,
    Model,
    Neighbourhood,
    _assignment_rows,
    _band_rows,
    _capacity_rows,
    _Rows,
    _stability_rows,
    build_model,
    eligible_pairs,
    reachable,
    separation_cuts,
)
from .cpsat import WORK, cpsat_applies, cpsat_checked
from .distance_steps import distance_finding
from .elastic_search import SLACK_TOL, least_stretch, not_least_note
from .groups import band_rows

#: Families of limits that get slack, in the order they are reported.
FAMILIES = ("capacity", "min_utilization", "band", "moved", "tier_band")


@dataclass
class ElasticResult:
    """One elastic re-solve: the slack of every row family and the plan that used it.

    Attributes
    ----------
    proven : bool
        The minimum total slack was proven (solver optimal); otherwise the figures may not be least.
    assign : numpy.ndarray
        School position per unit in the relaxed plan.
    over, under : numpy.ndarray
        Seats above ``max_utilization x capacity`` / below ``min_utilization x capacity`` per school.
    band_hi, band_lo : numpy.ndarray
        Low-income students above / below the band per school.
    moved : float
        Students moved beyond the ``max_moved_share`` budget.
    tier_hi, tier_lo : numpy.ndarray or None
        ``(n_schools, K)`` students of each SES tier above / below the ``tier_band`` per school.
    """

    proven: bool
    assign: np.ndarray
    over: np.ndarray
    under: np.ndarray
    band_hi: np.ndarray
    band_lo: np.ndarray
    moved: float
    tier_hi: np.ndarray | None = None
    tier_lo: np.ndarray | None = None
    stretch: float = 0.0
    least: float = 0.0
    clock: bool = False

    def used(self) -> list[str]:
        """Families whose slack is positive."""
        out = []
        if (self.over > SLACK_TOL).any():
            out.append("capacity")
        if (self.under > SLACK_TOL).any():
            out.append("min_utilization")
        if (self.band_hi > SLACK_TOL).any() or (self.band_lo > SLACK_TOL).any():
            out.append("band")
        if self.moved > SLACK_TOL:
            out.append("moved")
        if self.tier_hi is not None and (
                (self.tier_hi > SLACK_TOL).any() or (self.tier_lo > SLACK_TOL).any()):
            out.append("tier_band")
        return out


def active_families(scenario: Scenario) -> list[str]:
    """The families of limits a scenario actually imposes (so they can be stretched)."""
    c = scenario.constraints
    out = ["capacity"]
    if c.min_utilization > 0:
        out.append("min_utilization")
    if math.isfinite(c.low_income_band):
        out.append("band")
    if c.max_moved_share < 1:
        out.append("moved")
    if math.isfinite(c.tier_band):
        out.append("tier_band")
    return out


def elastic_solve(
    district: District,
    scenario: Scenario,
    eligible: np.ndarray,
    families: tuple[str, ...] | list[str] = FAMILIES,
    *,
    time_limit: float = 10.0,
) -> ElasticResult | None:
    """Minimise the total stretch of the ``families`` limits, ignoring contiguity.

    Parameters
    ----------
    district, scenario
        The problem.
    eligible
        Mask from :func:`zoneopt.model.eligible_pairs` (distance limits, locks and home units stay hard).
    families
        Which families get slack (``capacity``, ``min_utilization``, ``band``, ``moved``); the others
        stay hard.
    time_limit
        Seconds at most (a safety stop: the work itself is counted, see
        :func:`zoneopt.model.elastic_search.least_stretch`).

    Returns
    -------
    ElasticResult or None
        None when the relaxed problem is infeasible (the families given cannot fix it alone) or
        nothing was found within the counted work and the time limit.
    """
    c = scenario.constraints
    n, m = district.n_units, district.n_schools
    pu, ps = np.nonzero(eligible)
    k = len(pu)
    rows = _Rows()
    _assignment_rows(rows, pu, np.arange(n))
    cap0 = len(rows.lo)
    _capacity_rows(rows, district, scenario, pu, ps, np.arange(m))
    band0 = len(rows.lo)
    if math.isfinite(c.low_income_band):
        _band_rows(rows, district, scenario, pu, ps, np.arange(m))
    moved0 = len(rows.lo)
    if c.max_moved_share < 1:
        _stability_rows(
            rows, district, scenario, pu, ps, np.ones(n, dtype=bool), np.zeros(n, dtype=np.int64)
        )
    tier0 = len(rows.lo)
    n_tiers = 0
    if math.isfinite(c.tier_band):
        counts = tier_counts(district)
        n_tiers = counts.shape[1]
        band_rows(rows, counts, district.students, c.tier_band, pu, ps, np.arange(m), RHS_EPS)
    a, lo, hi = rows.matrix(k)
    n_rows = a.shape[0]

    # Slack columns: (name, school, row, coefficient); a slack loosens exactly one row.
    slack: list[tuple[str, int, int, float]] = []
    for j in range(m):
        if "capacity" in families:
            slack.append(("over", j, cap0 + j, -1.0))
        if "min_utilization" in families and c.min_utilization > 0:
            slack.append(("under", j, cap0 + j, 1.0))
        if "band" in families and math.isfinite(c.low_income_band):
            slack.append(("band_hi", j, band0 + 2 * j, -1.0))
            slack.append(("band_lo", j, band0 + 2 * j + 1, 1.0))
    if "moved" in families and c.max_moved_share < 1:
        slack.append(("moved", -1, moved0, -1.0))
    if "tier_band" in families and n_tiers:
        for j in range(m):
            for t in range(n_tiers):
                row = tier0 + 2 * (j * n_tiers + t)
                slack.append(("tier_hi", j * n_tiers + t, row, -1.0))
                slack.append(("tier_lo", j * n_tiers + t, row + 1, 1.0))
    ns = len(slack)
    extra = sp.csr_matrix(
        (
            [s[3] for s in slack],
            ([s[2] for s in slack], np.arange(ns)),
        ),
        shape=(n_rows, ns),
    )
    a = sp.hstack([a, extra], format="csr")
    cost = np.concatenate([np.zeros(k), np.ones(ns)])
    lower = np.zeros(k + ns)
    upper = np.concatenate([np.ones(k), np.full(ns, np.inf)])
    integer = np.concatenate([np.ones(k, dtype=bool), np.zeros(ns, dtype=bool)])
    model = Model(
        cost=cost,
        lower=lower,
        upper=upper,
        integer=integer,
        rows=a,
        row_lower=lo,
        row_upper=hi,
        pair_unit=pu,
        pair_school=ps,
        balance_schools=np.zeros(0, dtype=np.int64),
    )
    found = least_stretch(model, n, time_limit, scenario)
    if found is None:
        return None
    vals, stretch, least, clock = found
    out = {name: np.zeros(m) for name in ("over", "under", "band_hi", "band_lo")}
    tiers = {name: np.zeros(m * n_tiers) for name in ("tier_hi", "tier_lo")}
    moved = 0.0
    for idx, (name, j, _row, _coef) in enumerate(slack):
        v = max(0.0, float(vals[k + idx]))
        if name == "moved":
            moved = v
        elif name in tiers:
            tiers[name][j] = v
        else:
            out[name][j] = v
    assign = model.assignment_from(vals, np.zeros(n, dtype=np.int64))
    return ElasticResult(
        proven=stretch <= least + SLACK_TOL,
        assign=assign,
        over=out["over"],
        under=out["under"],
        band_hi=out["band_hi"],
        band_lo=out["band_lo"],
        moved=moved,
        tier_hi=tiers["tier_hi"].reshape(m, n_tiers) if n_tiers else None,
        tier_lo=tiers["tier_lo"].reshape(m, n_tiers) if n_tiers else None,
        stretch=stretch,
        least=least,
        clock=clock,
    )


def plan_exists(district: District, scenario: Scenario, *, time_limit: float = 10.0,
                part: Neighbourhood | None = None) -> str:
    """Whether any plan satisfies ``scenario`` exactly (contiguity included).

    Parameters
    ----------
    district, scenario
        The problem.
    time_limit
        Seconds for the whole answer.
    part
        Answer for these units and schools only, the rest fixed as in ``part.base``
        (:func:`zoneopt.model.build_model`'s neighbourhood; :mod:`zoneopt.model.parts` asks it of a
        part of the map that shares no boundary with the rest).

    Returns
    -------
    str
        ``"yes"`` (a plan was found; under contiguity, one from the closer-neighbour restriction or a
        contiguous solution of the cut model), ``"no"`` (proven impossible) or ``"unknown"`` (neither
        within ``time_limit``).
    """
    from ..solve.backends import solve
    from .diagnose import diagnose_before_solving

    deadline = time.perf_counter() + time_limit
    eligible = eligible_pairs(district, scenario)
    if part is None and diagnose_before_solving(district, scenario, eligible):
        return "no"
    base = np.zeros(district.n_units, dtype=np.int64) if part is None else part.base

    def left() -> float:
        return deadline - time.perf_counter()

    relaxed = build_model(district, scenario, eligible, contiguity="none", objective="none",
                          part=part)
    res = solve(
        relaxed,
        "highs",
        time_limit=max(0.05, left() / 3),
        mip_gap=1.0,
        threads=scenario.solver.threads,
    )
    if res.status == "infeasible":
        return "no"
    if res.values is None:
        return "unknown"
    if not scenario.constraints.contiguity:
        return "yes"
    small = part is None and cpsat_applies(district, scenario, eligible)
    # The closer-neighbour rule only allows connected zones: a plan under it is a plan (often
    # found in a tenth of a second; on a small district CP-SAT gets the larger share after it).
    closer = build_model(district, scenario, eligible, contiguity="closer", objective="none",
                         part=part)
    res_c = solve(
        closer,
        "highs",
        time_limit=max(0.05, left() / (4 if small else 2)),
        mip_gap=1.0,
        threads=scenario.solver.threads,
    )
    if res_c.values is not None:
        return "yes"
    if small:
        answer = _cpsat_answer(district, scenario, eligible, left() / 2)
        if answer != "unknown":
            return answer
    # The cut loop: every cut is valid for the exact problem, so its infeasibility is a proof.
    return _cut_loop(district, scenario, relaxed, res.values, base, deadline)[0]


def _cpsat_answer(district: District, scenario: Scenario, eligible: np.ndarray,
                  seconds: float) -> str:
    """CP-SAT's exact yes or no on a small district (:mod:`zoneopt.model.cpsat`), else "unknown".

    On small districts with almost no spare seats it settles what the MIPs leave open:
    ``synthetic_district(200, 10, seed=1)`` with seats x0.95 and 1.5 km extra distance was left
    open by the MIPs and the cut loop after 60 s (their proof came after 141.8 s in the thirteenth
    session); with CP-SAT, :func:`plan_exists` proves that no plan exists in 2.4 s in all.
    """
    if seconds <= 0.1:
        return "unknown"
    return cpsat_checked(district, scenario, eligible, work=WORK * scenario.solver.work_budget,
                         time_limit=seconds)[0]


def find_plan(district: District, scenario: Scenario, *, time_limit: float,
              node_limit: int | None = None) -> tuple[str, np.ndarray | None]:
    """Any plan that satisfies ``scenario`` exactly, by a feasibility cut loop (no objective).

    The rules without contiguity as a MIP that stops at its first solution; every zone piece cut
    off from its school is then cut away (node-separator rows, valid for every connected plan) and
    the MIP solved again, until a solution's zones are connected (a plan) or the MIP is infeasible
    (a proof that no plan exists).

    Parameters
    ----------
    district, scenario
        The problem.
    time_limit
        Seconds (a safety stop).
    node_limit
        Branch-and-bound nodes of each round's MIP (None: no cap). With a cap the same work gives
        the same answer on any machine.

    Returns
    -------
    (str, numpy.ndarray or None)
        ``"yes"`` and the plan (school position per unit), ``"no"`` (proven impossible) or
        ``"unknown"``, with None.
    """
    deadline = time.perf_counter() + time_limit
    eligible = eligible_pairs(district, scenario)
    relaxed = build_model(district, scenario, eligible, contiguity="none", objective="none")
    return _cut_loop(district, scenario, relaxed, None, np.zeros(district.n_units, np.int64),
                     deadline, node_limit)


def _cut_loop(district, scenario, relaxed, values, base, deadline, node_limit=None):
    """(answer, plan) of the cut loop on ``relaxed`` from its solution ``values`` (None: solve
    first)."""
    from ..solve.backends import solve

    while True:
        if values is None:
            left = deadline - time.perf_counter()
            if left <= 0.05:
                return "unknown", None
            res = solve(relaxed, "highs", time_limit=left, mip_gap=1.0, node_limit=node_limit,
                        threads=scenario.solver.threads)
            if res.status == "infeasible":
                return "no", None
            if res.values is None:
                return "unknown", None
            values = res.values
        assign = relaxed.assignment_from(values, base)
        if not scenario.constraints.contiguity:
            return "yes", assign
        cuts, lo, hi, pieces = separation_cuts(district, relaxed, assign)
        if pieces == 0:
            return "yes", assign
        relaxed.add_rows(cuts, lo, hi)
        values = None


def explain_infeasibility(
    district: District, scenario: Scenario, eligible: np.ndarray, *, time_limit: float = 10.0
) -> list[str]:
    """Which constraints had to stretch, and by how much, for a plan to exist.

    Parameters
    ----------
    district, scenario
        The problem the solver proved infeasible.
    eligible
        Mask from :func:`zoneopt.model.eligible_pairs`.
    time_limit
        Seconds for all the re-solves together.

    Returns
    -------
    list of str
        Plain-language findings with numbers, e.g. "school S3 needs 140 more seats", "max_moved_share
        must rise to 0.34", "allow 1 km more travel (max_extra_distance_km 2 -> 3)".
    """
    t_end = time.perf_counter() + max(time_limit, 0.5)

    def left() -> float:
        return max(0.05, t_end - time.perf_counter())

    c = scenario.constraints
    if years_active(scenario):  # capacity by plan year and series (model/years.py)
        from .years import explain_years

        found = explain_years(district, scenario, eligible, time_limit=0.5 * left())
        return found or [
            "every plan year's capacity rules can be met when zones may be scattered, so the "
            "contiguity rule, the low-income band or max_moved_share (with the distance limits and "
            "locks) is what no plan can meet together with them; relax one of those"]
    active = active_families(scenario)
    findings: list[str] = []
    # Half the time: the search answers most districts in under a second, and the MIP that
    # follows it where it falls short spends 2-9 s in its root at 800-1,000 units.
    full = elastic_solve(district, scenario, eligible, active, time_limit=0.5 * left())
    contiguity_culprit = False
    if full is None:
        findings.append(
            f"the re-solve that measures how far each limit must stretch did not finish within "
            f"{time_limit:g} s; allow more time (--time-limit) for a detailed diagnosis"
        )
    elif full.used():
        used = full.used()
        alone: dict[str, ElasticResult] = {}
        if len(active) > 1:
            for fam in active:
                if fam in used and len(used) == 1:
                    alone[fam] = full
                    continue
                r = elastic_solve(
                    district,
                    scenario,
                    eligible,
                    [fam],
                    time_limit=min(left() / 2, 0.2 * max(time_limit, 0.5)),
                )
                if r is not None and r.used():
                    alone[fam] = r
        else:
            alone = {used[0]: full}
        if alone:
            lead = "either: " if len(alone) > 1 else ""
            for n_, (fam, r) in enumerate(alone.items()):
                desc = _describe(district, scenario, r, [fam])
                if desc:
                    desc[0] = (lead if n_ == 0 else ("or: " if lead else "")) + desc[0]
                findings.extend(desc)
        else:
            findings.append(
                "no single limit can be stretched alone; together, the least stretch is:"
            )
            findings.extend(_describe(district, scenario, full, used))
        if c.contiguity:
            findings.append(
                "(these figures come from a re-solve that lets zones be scattered: they are the least "
                "stretch needed; connected zones may need more)"
            )
        for r in [full, *alone.values()]:
            if not r.proven:
                findings.append(not_least_note(
                    f"they stretch the limits by {r.stretch:.0f} students in all", r.least,
                    r.clock))
                break
    else:
        contiguity_culprit = c.contiguity
        if contiguity_culprit:
            findings.append(
                "every capacity, band and moved-share limit can be met, but not with connected zones: "
                "the contiguity rule (each zone one connected piece around its school) cannot be met "
                "together with the distance limits and locks"
                + _cut_off_units(district, full.assign)
            )
        else:
            findings.append(
                "the solver proved that no plan satisfies every constraint together, but a re-solve "
                "that ignores nothing found one; please report this as a bug with your input files"
            )
    distance = distance_finding(district, scenario, left)
    if distance:
        findings.append(distance)
    if contiguity_culprit:
        locks = _locks_finding(district, scenario, left())
        if locks:
            findings.append(locks)
        findings.append("setting constraints.contiguity = false would allow a plan")
    return findings


# --------------------------------------------------------------------------------- the words


def _describe(
    district: District, scenario: Scenario, r: ElasticResult, families: list[str]
) -> list[str]:
    c = scenario.constraints
    s = district.students.astype(float)
    low = district.low_income.astype(float)
    m = district.n_schools
    cap = district.capacity.astype(float)
    enroll = np.bincount(r.assign, weights=s, minlength=m)
    lows = np.bincount(r.assign, weights=low, minlength=m)
    total = float(s.sum())
    ids = district.school_ids
    out: list[str] = []
    if "capacity" in families:
        short = [j for j in np.argsort(-r.over) if r.over[j] > SLACK_TOL]
        for j in short[:10]:
            allowed = math.floor(cap[j] * c.max_utilization + 1e-6)
            out.append(
                f"school {ids[j]} needs {math.ceil(r.over[j] - 1e-6)} more seats "
                f"({enroll[j]:.0f} students but capacity {cap[j]:.0f} x max_utilization "
                f"{c.max_utilization:g} allows {allowed})"
            )
        if len(short) > 10:
            out.append(f"... and {len(short) - 10} more schools need seats")
        if len(short) > 1:
            # Which school gets the extra students is often a tie; the total is what is certain.
            seats = sum(math.ceil(r.over[j] - 1e-6) for j in short)
            out.append(f"({seats} more seats in all across these schools)")
    if "min_utilization" in families:
        short = [j for j in np.argsort(-r.under) if r.under[j] > SLACK_TOL]
        for j in short[:10]:
            need = math.ceil(cap[j] * c.min_utilization - 1e-6)
            out.append(
                f"school {ids[j]} can get only {enroll[j]:.0f} students but min_utilization "
                f"{c.min_utilization:g} of capacity {cap[j]:.0f} needs {need} "
                f"({math.ceil(r.under[j] - 1e-6)} short)"
            )
        if short:
            ok = min(enroll[j] / cap[j] for j in short)
            out.append(f"(or lower min_utilization to at most {_down(ok, 3)})")
    if "band" in families:
        p = float(low.sum()) / total if total else 0.0
        bad = [j for j in range(m) if r.band_hi[j] > SLACK_TOL or r.band_lo[j] > SLACK_TOL]
        widths = {}
        for j in bad:
            share = lows[j] / enroll[j] if enroll[j] else p
            widths[j] = abs(share - p)
        for j in sorted(bad, key=lambda j: -widths[j])[:10]:
            share = lows[j] / enroll[j] if enroll[j] else p
            out.append(
                f"the low-income band must widen to {_up(widths[j], 3)} at school {ids[j]} (its "
                f"low-income share would be {share:.3f}; the district's is {p:.3f} "
                f"+/- low_income_band {c.low_income_band:g})"
            )
        if bad:
            out.append(
                f"(that is, raise low_income_band to at least {_up(max(widths.values()), 3)})"
            )
    if "tier_band" in families and r.tier_hi is not None:
        out.extend(_describe_tiers(district, scenario, r))
    if "moved" in families and r.moved > SLACK_TOL:
        sq = district.status_quo
        moved = float(s[r.assign != sq].sum())
        out.append(
            f"max_moved_share must rise to {_up(moved / total, 4)}: at least {moved:.0f} students "
            f"must change school, but max_moved_share {c.max_moved_share:g} allows "
            f"{c.max_moved_share * total:.0f}"
        )
    return out


def _up(x: float, digits: int) -> str:
    f = 10**digits
    return f"{math.ceil(x * f - 1e-9) / f:.{digits}f}"


def _down(x: float, digits: int) -> str:
    f = 10**digits
    return f"{math.floor(x * f + 1e-9) / f:.{digits}f}"


def _cut_off_units(district: District, assign: np.ndarray) -> str:
    """Name the units that the scattered plan could not connect to their school."""
    islands = district.islands
    cut: list[str] = []
    for j in range(district.n_schools):
        zone = set(np.flatnonzero((assign == j) & ~islands).tolist())
        root = int(district.home_unit[j])
        seen = reachable(district.adjacency, {root}, zone | {root})
        cut.extend(
            f"{district.unit_ids[i]} ({district.school_ids[j]})" for i in sorted(zone - seen)
        )
    if not cut:
        return ""
    more = f" and {len(cut) - 8} more" if len(cut) > 8 else ""
    return (
        f"; in the nearest plan with scattered zones, these units are cut off from their school: "
        f"{', '.join(cut[:8])}{more}"
    )


def _locks_finding(district: District, scenario: Scenario, seconds: float) -> str:
    locked = np.flatnonzero(district.locked >= 0)
    if len(locked) == 0 or seconds <= 0.1:
        return ""
    units = district.units.copy()
    units["locked_school"] = None
    free = dataclasses.replace(district, units=units)
    answer = plan_exists(free, scenario, time_limit=seconds)
    names = ", ".join(
        f"{district.unit_ids[i]} -> {district.school_ids[district.locked[i]]}" for i in locked[:8]
    ) + (f" and {len(locked) - 8} more" if len(locked) > 8 else "")
    if answer == "yes":
        return f"the locks ({names}) are what blocks connected zones: without them a plan exists"
    if answer == "no":
        return f"removing the locks ({names}) would not help either"
    return ""


def _describe_tiers(district: District, scenario: Scenario, r: ElasticResult) -> list[str]:
    """Where the tier band must widen: each school and tier outside it in the stretched plan."""
    counts = tier_counts(district).astype(float)
    s = district.students.astype(float)
    m = district.n_schools
    total = s.sum()
    p = counts.sum(axis=0) / total if total else np.zeros(counts.shape[1])
    enroll = np.bincount(r.assign, weights=s, minlength=m)
    per = np.zeros((m, counts.shape[1]))
    np.add.at(per, r.assign, counts)
    band = scenario.constraints.tier_band
    worst = []
    for j in range(m):
        if enroll[j] <= 0:
            continue
        for t in range(counts.shape[1]):
            if r.tier_hi[j, t] > SLACK_TOL or r.tier_lo[j, t] > SLACK_TOL:
                share = per[j, t] / enroll[j]
                worst.append((abs(share - p[t]), j, t, share))
    worst.sort(key=lambda w: -w[0])
    ids = district.school_ids
    out = [
        f"the tier band must widen to {_up(gap, 3)} at school {ids[j]} for SES tier {t + 1} (its "
        f"share would be {share:.3f}; the district's is {p[t]:.3f} +/- tier_band {band:g})"
        for gap, j, t, share in worst[:10]
    ]
    if worst:
        out.append(f"(that is, raise tier_band to at least {_up(worst[0][0], 3)})")
    return out
