r"""Shrinking overflow with elastic local MIPs: the repair's step for tight districts.

The repair's strict local MIPs (:mod:`zoneopt.solve.repair`, step 4) ask a group of zones for
zones that fit outright, and only try groups with a few percent of spare seats: with less, HiGHS
often spends long proving that a small group has no such zones. On a tight city that leaves schools
over: on New York's 2,166 tracts with each borough at 104% of its students in seats (tracts of up
to 3,190 students against schools of about 8,000 seats), the chains leave 6 schools 1,020 students
over and no group qualifies.

Here every step instead *lowers* the overflow. The zones of a group around an overfull school are
re-solved with a slack on every capacity row, priced per student by how far the school is from
room:

.. math::

    \min \sum_{j \in G} (1 + h_j)\,(o_j + u_j) + \varepsilon \sum_{i, j \ne z_i} s_i x_{ij}
    \quad\text{s.t.}\quad \underline C_j - u_j \le \sum_i s_i x_{ij} \le \overline C_j + o_j,

with the closer-neighbour rows anchored on today's zones (:func:`zoneopt.model.potential.zone_potential`,
so the current zones satisfy them), :math:`h_j` the zone-graph hops from school :math:`j` to the
nearest school with room, and :math:`z_i` the unit's current school (a small price keeps the zones
close). The current zones, with their overflow as slack, are a feasible start, so each solve can
only improve; its answer is taken when the district's total overflow falls, or stays and the
hop-weighted overflow falls (students pushed towards room). A group that gains nothing is widened
(8, then 16 zones); a school no group helps is passed over until another step changes its
neighbourhood. The step solves at most two MIPs per school over when it starts, plus eight.

The repair runs it on districts of more schools than the largest group here
(``repair.ELASTIC_MIN_SCHOOLS``) and at least ``repair.ELASTIC_MIN_UNITS`` units, or more than 64
schools: with 10 schools a group is the whole district and the steps cost time without a plan
(200 units x 10 schools, seats x0.93, 1.5 km: 21.9 s for nothing, against 0.1 s before), and below
500 units they delay the exact phase, which proves small tight districts infeasible in seconds. On
800 units x 40 schools with 2.3% spare seats they found plans in 3-12 s where the strict local
MIPs and the feasibility MIP found none in 60 s. The caller first checks that the LP
relaxation without contiguity is feasible: where it is not, no plan exists and the steps would only
cost time (500 x 25, 1.5 km: 56-68 s).

Work is counted in branch-and-bound nodes and steps, never seconds, so the same district gives
the same plan; the repair's safety stop per MIP (``LOCAL_MIP_SAFETY_S``) only stops runaway work.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
from collections import deque

import numpy as np
import scipy.sparse as sp

from ..district import zone_adjacency
from ..model import Neighbourhood, build_model
from ..model.potential import zone_potential

#: Group sizes (zones) an overfull school's elastic MIP tries, smallest first. No 32: on New York
#: at 102% seats such groups (800 units and more) never lowered the overflow where 8 and 16 had
#: not, and took 12 s, once 60 s; 4 first, or 6-12-24, took longer in all (24-54 s against 4-45 s).
GROUP_SIZES = (8, 16)
#: Safety stop of one elastic MIP in seconds, 2.5 times the slowest measured (a 16-zone group of
#: 379 units on New York at 102% seats: 23.5 s, nearly all of it the root; 10 or 50 nodes take as
#: long), so that the node limit, not the machine's speed, ends it: with the strict local MIPs'
#: 10 s, that MIP stopped on the clock.
SAFETY_S = 60.0
#: Branch-and-bound nodes of one elastic MIP.
NODES = 50
#: Price per student moved away from the current zones, against 1 per student over capacity.
MOVED_PRICE = 1e-4
#: Absolute gap at which an elastic MIP stops: below one student's price (at least 1), no answer
#: can be better by a whole student's overflow, and the moved price only breaks ties. On New York
#: at 102% seats (+74), the MIPs that end the repair took 3.9, 3.5 and 1.3 s to their node limit,
#: and stop at 2.5, 0.6 and 1.3 s with it.
ABS_GAP = 0.999
#: Elastic MIPs the step may solve: this many per school over when it starts, plus EXTRA_SOLVES
#: (New York at 104% seats: 6 schools over, 6 MIPs; a school that no group helps costs 3).
SOLVES_PER_SCHOOL_OVER = 2
EXTRA_SOLVES = 8


def shrink_overflow(repair, deadline: float | None, solver: str,
                    safety_s: float | None = None, stop=None) -> None:
    """Lower the repair's overflow with elastic local MIPs until every school fits or none helps.

    Parameters
    ----------
    repair
        The :class:`zoneopt.solve.repair._Repair` in progress (its ``assign`` is changed in place);
        its zones must be connected.
    deadline
        ``time.perf_counter()`` value at which to stop (safety stop).
    solver
        Solver of the elastic MIPs.
    safety_s
        Safety stop of one elastic MIP in seconds (None: ``SAFETY_S``).
    stop
        Asked before each elastic MIP: True ends the steps (the caller has a plan from elsewhere,
        :mod:`zoneopt.solve.start_mip`).
    """
    safety_s = SAFETY_S if safety_s is None else safety_s
    passed: set[int] = set()  # schools no group helped since the last accepted step
    solves = SOLVES_PER_SCHOOL_OVER * int((repair._excess() > 0).sum()) + EXTRA_SOLVES
    while solves > 0:
        excess = repair._excess()
        bad = [int(j) for j in np.flatnonzero(excess > 0) if int(j) not in passed]
        if not bad:
            return
        if deadline is not None and time.perf_counter() > deadline:
            return
        if stop is not None and stop():
            return
        j = max(bad, key=lambda b: (excess[b], -b))
        took, used = _step(repair, j, deadline, solver, safety_s, solves)
        solves -= used
        if took:
            passed.clear()
            if _chains_finish(repair, deadline):
                return
        else:
            passed.add(j)


def _chains_finish(repair, deadline: float | None) -> bool:
    """Whether the ejection chains, run from the zones an elastic step just drew, leave no school
    over; when they do not, those zones are put back, so the next elastic step starts from them.

    The chains take a tenth of a second. On 32 tight synthetic districts (800 x 40 and 500 x 25,
    seeds 0-3, seats x0.93 or x0.95, 1.5 or 3 km extra distance) the repair ends the same way on
    all 32, with fewer elastic MIPs on 7 (800 x 40, x0.93, 3 km, seed 2: 4 MIPs and 9.1 s instead
    of 7 and 10.6 s; 500 x 25, x0.95, 1.5 km, seed 0: 8 and 12.8 s instead of 11 and 13.8 s) and
    more on none. Kept only when they finish: keeping what they leave when they stall misled the
    next MIPs (500 x 25, x0.95, 1.5 km, seed 1: no plan in 18.2 s, against 10.3 s without).
    """
    before = repair.assign.copy()
    repair.chains_to_real_room(deadline)
    if not len(repair.broken()):
        return True
    repair.assign[:] = before
    return False


def _hops_to_room(repair, zadj: list[set[int]]) -> np.ndarray:
    """Zone-graph hops from each school to the nearest school within its limits."""
    return repair._hops_to(np.flatnonzero(repair._excess() <= 0), zadj)


def _group(j: int, size: int, zadj: list[set[int]], h: np.ndarray) -> np.ndarray:
    """Up to ``size`` schools around j, breadth first, neighbours nearer to room first."""
    chosen, queue = [j], deque([j])
    while queue and len(chosen) < size:
        a = queue.popleft()
        for b in sorted(zadj[a], key=lambda b: (h[b], b)):
            if b not in chosen and len(chosen) < size:
                chosen.append(b)
                queue.append(b)
    return np.array(sorted(chosen), dtype=np.int64)


def _measure(repair, assign: np.ndarray, h: np.ndarray) -> tuple[float, float]:
    """(total overflow, hop-weighted overflow) of ``assign``, every count summed."""
    enr = repair._enrolment_of(assign)
    viol = (np.maximum(enr - repair.free, 0) + np.maximum(repair.floor - enr, 0)).sum(axis=1)
    return float(viol.sum()), float((viol * (1.0 + h)).sum())


def _step(repair, j: int, deadline: float | None, solver: str, safety_s: float,
          solves: int) -> tuple[bool, int]:
    """One school's elastic MIPs (at most ``solves``), widening the group until one lowers the
    overflow; whether one did, and how many MIPs were solved.

    A MIP identical to one whose zones did not lower the overflow (``repair.elastic_no_gain``) is
    not solved again, and costs none of the step's MIPs: its answer, and with it the decision,
    would be the same. A school whose step failed is tried again after any other school's step
    succeeds, often with the same group, prices and zones (1000 x 50, seats x0.95, 1.5 km: one
    school's 8- and 16-zone MIPs, 9.5 s together, three times, spending 6 of the step's 14 MIPs).
    """
    d = repair.d
    zadj = zone_adjacency(d, repair.assign)
    h = _hops_to_room(repair, zadj)
    now = _measure(repair, repair.assign, h)
    last = used = 0
    for size in GROUP_SIZES:
        group = _group(j, min(size, d.n_schools), zadj, h)
        if len(group) <= last or used >= solves:
            break  # every zone it can reach was already tried, or the work is spent
        last = len(group)
        if deadline is not None and time.perf_counter() > deadline:
            break
        mip = _elastic_mip(repair, group, h)
        key = None if mip is None else mip.key()
        if key is not None and key in repair.elastic_no_gain:
            continue
        found, timed_out = _elastic_solve(mip, deadline, solver, safety_s)
        used += 1
        if found is not None:
            after = _measure(repair, found, h)
            if (after[0] < now[0] - 1e-9
                    or (after[0] <= now[0] + 1e-9 and after[1] < now[1] - 1e-9)):
                repair.assign = found
                return True, used
        if key is not None and not timed_out:
            repair.elastic_no_gain.add(key)  # a safety stop's answer could differ next time
    return False, used


def _elastic_mip(repair, group: np.ndarray, h: np.ndarray) -> ElasticMip | None:
    """The elastic MIP of the group's zones, with capacity slack priced by hops to room."""
    d, sc, assign = repair.d, repair.sc, repair.assign
    units = np.flatnonzero(np.isin(assign, group))
    return ElasticMip.build(d, sc, repair.el,
                            Neighbourhood(units=units, schools=group, base=assign),
                            potential=zone_potential(d, assign, group, units), price=1.0 + h,
                            start=assign)


def _elastic_solve(mip: ElasticMip | None, deadline: float | None, solver: str,
                   safety_s: float) -> tuple[np.ndarray | None, bool]:
    """The zones of an elastic MIP (None when the solver gave nothing) and whether its safety
    stop or the deadline ended it."""
    if mip is None:
        return None, False
    left = math.inf if deadline is None else deadline - time.perf_counter()
    found, _, timed_out = mip.solve(solver, time_limit=min(left, safety_s))
    return found, timed_out


def elastic_zones(district, scenario, eligible: np.ndarray, part: Neighbourhood, *,
                  potential: np.ndarray | None = None, price: np.ndarray | None = None,
                  start: np.ndarray | None = None, solver: str = "highs", time_limit: float,
                  node_limit: int | None = None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Connected zones for ``part`` whose schools may exceed their limits, at a price per student.

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs.
    part
        The units and schools re-solved; the rest stays as in ``part.base``.
    potential
        The closer-neighbour rows' potential (None: hop distances from the home units).
    price
        Price per student over (or under) a school's limits, by school position (None: 1).
    start
        A plan with connected zones under ``potential`` (a warm start, and the zones a small price
        per student moved keeps close); None: no start.
    solver, time_limit, node_limit
        The solver and its limits (``node_limit`` None: ``NODES``).

    Returns
    -------
    (numpy.ndarray or None, numpy.ndarray or None)
        The plan (school position per unit, ``part.base`` outside the part) and the students above
        each school's limit in its most crowded count (by school position); (None, None) when the
        solver gave nothing.
    """
    mip = ElasticMip.build(district, scenario, eligible, part, potential=potential, price=price,
                           start=start)
    if mip is None:
        return None, None
    found, over, _ = mip.solve(solver, time_limit=time_limit, node_limit=node_limit)
    return found, over


@dataclasses.dataclass
class ElasticMip:
    """One elastic MIP, built and not yet solved (:func:`elastic_zones` builds and solves it)."""

    model: object  # the zoneopt.model.Model with its slack columns
    start: np.ndarray | None  # the warm start (pairs, then slacks)
    over_school: list[int]  # school position of each slack column that counts students over
    base: np.ndarray  # the plan outside the part
    n_pairs: int
    n_schools: int
    seed: int
    threads: int

    @classmethod
    def build(cls, district, scenario, eligible: np.ndarray, part: Neighbourhood, *,
              potential: np.ndarray | None = None, price: np.ndarray | None = None,
              start: np.ndarray | None = None) -> ElasticMip | None:
        """The MIP of :func:`elastic_zones` (same parameters); None when the part has no
        capacity rows to relax."""
        d, sc = district, scenario
        model = build_model(d, sc, eligible, contiguity="closer", objective="none", part=part,
                            potential=potential)
        k = model.n_pairs
        if len(model.cost) != k or model.capacity_rows is None:
            return None  # (objective "none" has no balance columns; a guard, not a case)
        price = np.ones(d.n_schools) if price is None else np.asarray(price, dtype=float)
        x0 = None if start is None else (start[model.pair_unit] == model.pair_school).astype(float)
        cap_rows = model.capacity_rows
        act = model.rows[cap_rows] @ x0 if x0 is not None else np.zeros(len(cap_rows))
        cols, coef, init, cost, over_school = [], [], [], [], []
        for r, a in zip(cap_rows.tolist(), act.tolist(), strict=True):
            lo, hi = model.row_lower[r], model.row_upper[r]
            row = model.rows.getrow(r)
            school = int(model.pair_school[row.indices[0]]) if row.nnz else -1
            w = float(price[school]) if school >= 0 else 1.0
            for sign, bound, gap in ((-1.0, hi, a - hi), (1.0, lo, lo - a)):
                if math.isfinite(bound):
                    cols.append(r)
                    coef.append(sign)
                    init.append(max(0.0, gap))
                    cost.append(w)
                    over_school.append(school if sign < 0 else -1)
        ns = len(cols)
        extra = sp.csr_matrix((coef, (cols, np.arange(ns))), shape=(model.rows.shape[0], ns))
        moved = np.zeros(k)
        if start is not None:
            s = d.students.astype(float)
            moved = MOVED_PRICE * s[model.pair_unit] * (model.pair_school != start[model.pair_unit])
        elastic = dataclasses.replace(
            model,
            cost=np.concatenate([moved, np.asarray(cost)]),
            lower=np.concatenate([model.lower, np.zeros(ns)]),
            upper=np.concatenate([model.upper, np.full(ns, np.inf)]),
            integer=np.concatenate([model.integer, np.zeros(ns, dtype=bool)]),
            rows=sp.hstack([model.rows, extra], format="csr"),
            capacity_rows=None,
        )
        base = part.base if part.base is not None else np.zeros(d.n_units, dtype=np.int64)
        return cls(elastic, None if x0 is None else np.concatenate([x0, np.asarray(init)]),
                   over_school, base, k, d.n_schools, int(sc.solver.seed), int(sc.solver.threads))

    def key(self) -> bytes:
        """A digest of everything the solver is given: two MIPs with the same key, solved with the
        same limits, give the same answer (HiGHS is deterministic for a fixed seed and thread
        count)."""
        m = self.model
        h = hashlib.sha1()
        for a in (m.cost, m.lower, m.upper, m.integer, m.rows.indptr, m.rows.indices,
                  m.rows.data, m.row_lower, m.row_upper,
                  np.zeros(0) if self.start is None else self.start,
                  np.array([self.seed, self.threads], dtype=np.int64)):
            h.update(np.ascontiguousarray(a).tobytes())
            h.update(b"|")
        return h.digest()

    def solve(self, solver: str, *, time_limit: float, node_limit: int | None = None,
              ) -> tuple[np.ndarray | None, np.ndarray | None, bool]:
        """The plan, the students over each school (as :func:`elastic_zones` returns them) and
        whether the clock, not the node limit or the gap, ended the solve."""
        from .backends import solve

        res = solve(self.model, solver, time_limit=max(0.05, time_limit), mip_gap=0.0,
                    abs_gap=ABS_GAP, node_limit=NODES if node_limit is None else node_limit,
                    seed=self.seed, threads=self.threads, start=self.start)
        timed_out = res.limit == "time"
        if res.values is None:
            return None, None, timed_out
        over = np.zeros(self.n_schools)
        k = self.n_pairs
        for idx, school in enumerate(self.over_school):
            if school >= 0:
                over[school] = max(over[school], float(res.values[k + idx]))
        return self.model.assignment_from(res.values, self.base), over, timed_out


__all__ = ["elastic_zones", "shrink_overflow"]
