"""What binds when no plan is found in time: sentences in a planner's numbers.

When the search ends without a plan (and without a proof that none exists), the message should say
which rules make plans hard to find rather than only "allow more time": seats short per school under
today's zones, units whose distance limits leave them only full schools, groups of schools whose
reachable units outnumber their seats, blocks of neighbouring overfull zones that the zones around
them cannot relieve, schools outside the low-income band.

With a ``[years]`` plan the seats that bind are those of a plan year, not today's: the sentences
count the year and series in which today's zones fall shortest (each unit's students who follow the
plan, each school's seats less the grandfathered students it keeps) and name it.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from ..district import District, zone_adjacency
from ..scenario import Scenario
from .moves import seat_limits
from .years import repair_seats


def binding_rules(district: District, scenario: Scenario, eligible: np.ndarray) -> list[str]:
    """Sentences naming the rules that make a plan hard to find, in a planner's numbers.

    Seats short per school under today's zones, and the units that can only go to schools that are
    already full today (their distance limits leave them no school with room). With a ``[years]``
    plan, in the plan year and series where today's zones fall shortest.

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs (:func:`zoneopt.model.eligible_pairs`).

    Returns
    -------
    list of str
        At least one sentence.
    """
    c = scenario.constraints
    ids = district.school_ids
    sq = district.status_quo
    s, hi, lo, when = _counts(district, scenario)
    m = district.n_schools
    enr = np.bincount(sq[sq >= 0], weights=s[sq >= 0], minlength=m)
    out: list[str] = []
    over = np.flatnonzero(enr > hi)
    if len(over):
        parts = [f"{ids[j]} {enr[j]:.0f} students for {hi[j]:.0f} seats ({enr[j] - hi[j]:.0f} short)"
                 for j in over[np.argsort(-(enr[over] - hi[over]), kind="stable")][:8]]
        more = f" and {len(over) - 8} more" if len(over) > 8 else ""
        out.append(f"{when}under today's zones {len(over)} school(s) are over max_utilization "
                   f"{c.max_utilization:g}: " + "; ".join(parts) + more)
    under = np.flatnonzero(enr < lo)
    if len(under):
        parts = [f"{ids[j]} {enr[j]:.0f} students, needs {lo[j]:.0f}" for j in under[:8]]
        out.append(f"under today's zones {len(under)} school(s) are below min_utilization "
                   f"{c.min_utilization:g}: " + "; ".join(parts))
    full = enr >= hi
    # Home and locked units are not counted: their school is fixed by the contract, not by limits.
    movable = np.ones(district.n_units, dtype=bool)
    movable[district.home_unit] = False
    movable[district.locked >= 0] = False
    stuck = np.flatnonzero(eligible.any(axis=1) & ~(eligible & ~full[None, :]).any(axis=1)
                           & (s > 0) & movable)
    if len(stuck):
        examples = []
        for i in stuck[:5]:
            allowed = ", ".join(str(ids[j]) for j in np.flatnonzero(eligible[i]))
            examples.append(f"{district.unit_ids[i]} ({s[i]:.0f} students; allowed: {allowed})")
        out.append(
            f"{when}{len(stuck)} unit(s) with {s[stuck].sum():.0f} students can reach no school "
            f"with room under today's zones (distance limits, locks or the travel matrix allow only "
            f"full schools), e.g. " + "; ".join(examples)
            + "; their students must push others out of those schools, along chains of zones"
        )
    out.extend(when + line for line in _short_groups(district, eligible, s, enr, hi))
    if c.contiguity:
        out.extend(when + line for line in _short_blocks(district, sq, enr, hi))
    out.extend(_band_findings(district, scenario, sq))
    if not out:
        out.append("today's zones break no capacity or band rule; what binds is contiguity with the "
                   "distance limits, locks and moved budget")
    return out


def _counts(district: District, scenario: Scenario):
    """Students per unit, most and fewest per school, and the words naming when they count.

    Today's students and seats; with a ``[years]`` plan those of the plan year and series in which
    today's zones leave the most students without a seat (``"in 2029 (high), "``).
    """
    hi, lo = seat_limits(district, scenario)
    seats = repair_seats(district, scenario)
    if seats is None:
        return district.students.astype(float), hi, lo, ""
    from ..years import years_data

    sq = district.status_quo
    ok = sq >= 0
    enr = np.zeros_like(seats.free)
    np.add.at(enr, sq[ok], seats.loads[ok])
    short = np.maximum(enr - seats.free, 0).sum(axis=0)
    k = int(np.argmax(short))  # ties: the earliest year, then the scenario's first series
    data = years_data(district, scenario)
    year, series = data.years[k // data.n_series], data.series[k % data.n_series]
    return (seats.loads[:, k], seats.free[:, k], np.zeros(district.n_schools),
            f"in {year} ({series}), ")


def _band_findings(district: District, scenario: Scenario, sq: np.ndarray) -> list[str]:
    """Schools whose low-income share today lies outside the band, by how much."""
    b = scenario.constraints.low_income_band
    if not math.isfinite(b):
        return []
    s = district.students.astype(float)
    low = district.low_income.astype(float)
    p = low.sum() / s.sum() if s.sum() else 0.0
    m = district.n_schools
    ok = sq >= 0
    enr = np.bincount(sq[ok], weights=s[ok], minlength=m)
    lj = np.bincount(sq[ok], weights=low[ok], minlength=m)
    share = np.divide(lj, enr, out=np.full(m, p), where=enr > 0)
    off = np.abs(share - p) - b
    bad = np.flatnonzero(off > 1e-9)
    if not len(bad):
        return []
    worst = bad[np.argsort(-off[bad], kind="stable")][:5]
    parts = [f"{district.school_ids[j]} {share[j]:.1%}" for j in worst]
    return [f"under today's zones {len(bad)} school(s) lie outside the low-income band "
            f"{p:.1%} +/- {b:.1%}: " + "; ".join(parts)
            + "; a band this narrow leaves few zones that qualify"]


def _short_groups(district, eligible, s, enr, hi) -> list[str]:
    """Overfull schools whose reachable schools (through shared eligible units) lack the seats."""
    ids = district.school_ids
    out = []
    # Schools j, k are linked when some unit may go to both: students can shift between them.
    link = (eligible.T.astype(np.int64) @ eligible.astype(np.int64)) > 0
    for j in np.flatnonzero(enr > hi):
        # The units eligible only within the closure of j's links must fit that closure's seats.
        group = {int(j)}
        queue = deque([int(j)])
        while queue:
            a = queue.popleft()
            for b in np.flatnonzero(link[a]):
                if int(b) not in group:
                    group.add(int(b))
                    queue.append(int(b))
        g = np.array(sorted(group))
        inside = eligible[:, g].any(axis=1) & ~np.delete(eligible, g, axis=1).any(axis=1)
        need, seats = float(s[inside].sum()), float(hi[g].sum())
        if need > seats:
            out.append(f"the {int(inside.sum())} units that can only go to {len(g)} school(s) "
                       f"around {ids[j]} have {need:.0f} students for {seats:.0f} seats")
    return out[:3]


def _short_blocks(district: District, sq: np.ndarray, enr: np.ndarray, hi: np.ndarray) -> list[str]:
    """Blocks of adjacent overfull zones whose bordering zones have fewer free seats than they lack.

    A school list does not show that many overfull zones touch: together they may lack more seats
    than every zone around them has free (on a city whose boroughs meet at a few tracts, today's
    zones of one borough and its neighbour lacked 39,044 seats while the 14 zones bordering them had
    12,448 free). Such a block can only be relieved by shifting zones across several zones of the
    map; the sentence says how many rings of zones away the seats are.
    """
    m = district.n_schools
    ids = district.school_ids
    zone_adj = zone_adjacency(district, sq)
    free = np.maximum(hi - enr, 0.0)
    over = enr > hi
    seen = np.zeros(m, dtype=bool)
    found = []
    for j0 in np.flatnonzero(over):
        if seen[j0]:
            continue
        block, queue = [int(j0)], deque([int(j0)])  # the overfull zones touching j0, transitively
        seen[j0] = True
        while queue:
            a = queue.popleft()
            for b in sorted(zone_adj[a]):
                if over[b] and not seen[b]:
                    seen[b] = True
                    block.append(b)
                    queue.append(b)
        short = float((enr[block] - hi[block]).sum())
        # Rings of zones around the block: free seats until they cover what it lacks.
        inside = set(block)
        ring = sorted({b for a in block for b in zone_adj[a]} - inside)
        border, border_free = len(ring), float(free[ring].sum())
        if len(block) < 2 or border_free >= short:
            continue
        rings, reach = 1, border_free
        while ring and reach < short:
            inside.update(ring)
            ring = sorted({b for a in ring for b in zone_adj[a]} - inside)
            rings += 1
            reach += float(free[ring].sum())
        named = ", ".join(str(ids[j]) for j in sorted(block, key=lambda j: (hi[j] - enr[j], j))[:6])
        more = f" and {len(block) - 6} more" if len(block) > 6 else ""
        where = (f"the seats they lack are up to {rings} rings of zones away, and zones must "
                 f"shift across the map to reach them" if reach >= short else
                 "the zones connected to them do not have the seats they lack")
        found.append((short, f"{len(block)} neighbouring zones ({named}{more}) together hold "
                      f"{short:.0f} more students than seats under today's zones; the {border} "
                      f"zone(s) bordering them have {border_free:.0f} free seats: {where}"))
    found.sort(key=lambda f: -f[0])
    return [text for _, text in found[:3]]


__all__ = ["binding_rules"]
