"""Parts of the map that share no boundary with the rest: each must have a plan of its own.

With contiguity on, a zone is one connected piece around its school, so the units of a part of the
map that touches the rest nowhere (a peninsula joined by a bridge, an island with its own schools)
can only go to that part's schools. The whole district has a plan only if every part has one, and
a small part is quick to decide alone where the whole district is not: on New York's 2,166 tracts
with each borough at 102-103% of its students in seats, the Rockaway peninsula's 25 tracts and 4
schools have 4-5% spare seats but no split into connected zones that fits them (tracts of up to
3,190 students against schools of 2,800-4,300 seats). Deciding it alone takes 0.1 s; the whole
district found no plan and no proof in 60 s.

:func:`part_findings` checks each part of the map with schools (islands without a school, which
may join any zone, aside): its seats against its students, then, for a part of at most
``PART_UNITS`` units that is not the largest, the exact feasibility of the part alone
(:func:`zoneopt.model.elastic.plan_exists`, whose "no" is a proof). The part's check is a
relaxation of the district's: it keeps the part's capacity, distance, lock and contiguity rules;
the moved-share budget, which the parts share, is left out, and so are the rules that island units
joining the part's schools could help meet (minimum utilization, income and tier bands) when any
island may join one.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..district import District
from ..scenario import Scenario
from ..years import years_active
from . import Neighbourhood, build_model, eligible_pairs, reachable

#: Largest part of the map (units) whose feasibility is decided alone before the search.
PART_UNITS = 300
#: Branch-and-bound nodes of the elastic solve that finds seats enough for an impossible part.
STRETCH_NODES = 1000


def map_parts(district: District) -> list[tuple[np.ndarray, np.ndarray]]:
    """The parts of the map holding schools, as (unit positions, school positions), smallest first.

    Parameters
    ----------
    district
        The district (adjacency components, home units).

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        One entry per connected part of the adjacency graph with at least one school's home unit;
        islands (parts without a school) are left out.
    """
    comp = district.component
    labels = np.unique(comp[district.home_unit])
    out = []
    for label in labels.tolist():
        units = np.flatnonzero(comp == label)
        schools = np.flatnonzero(comp[district.home_unit] == label)
        out.append((units, schools))
    return sorted(out, key=lambda p: (len(p[0]), int(p[0][0])))


def part_findings(district: District, scenario: Scenario, eligible: np.ndarray, *,
                  time_limit: float = 5.0, witness: bool = True) -> list[str]:
    """Findings that prove the scenario infeasible in one part of the map (empty when none).

    Parameters
    ----------
    district, scenario
        The problem.
    eligible
        Mask from :func:`zoneopt.model.eligible_pairs`.
    time_limit
        Seconds for all the parts' exact checks together (a part not decided in time gives no
        finding: the search then runs as usual).
    witness
        First run the repair's ejection chains (:func:`zoneopt.solve.repair.chain_repair`) and skip
        the exact check of every part whose zones they leave within every rule: such a part has a
        plan. Only saves time: a part without a plan never fits, so the findings are the same.

    Returns
    -------
    list of str
        One plain-language finding per part proven impossible, naming its units, schools, students
        and seats and what would fix it.
    """
    from .elastic import plan_exists

    c = scenario.constraints
    if not c.contiguity:
        return []
    parts = map_parts(district)
    if len(parts) < 2:
        return []  # the whole district is the one part: the search decides it
    deadline = time.perf_counter() + time_limit
    chains: np.ndarray | None = None  # the witness, made when a part first needs the exact check
    out: list[str] = []
    s = district.students.astype(float)
    by_year = years_active(scenario)
    for units, schools in parts[:-1]:
        students = float(s[units].sum())
        seats = float(np.floor(district.capacity[schools] * c.max_utilization + 1e-6).sum())
        where = _where(district, units, schools)
        if not by_year and students > seats:
            out.append(
                f"{where} hold {students:.0f} students, but those schools have {seats:.0f} seats at "
                f"max_utilization {c.max_utilization:g} (short by {students - seats:.0f}); add "
                "seats there, or turn contiguity off")
            continue
        left = deadline - time.perf_counter()
        if len(units) > PART_UNITS or by_year or left <= 0.05:
            continue
        relaxed = _relaxed_for_part(district, scenario, eligible, schools)
        part = _part(district, units, schools)
        if witness and chains is None:
            from ..solve.repair import chain_repair

            chains = chain_repair(district, scenario, eligible, deadline=deadline)
            witness = chains is not None
        if chains is not None and _fits(district, relaxed, part, chains):
            continue
        if plan_exists(district, relaxed, time_limit=left, part=part) == "no":
            out.append(
                f"{where} hold {students:.0f} students and those schools have {seats:.0f} seats at "
                f"max_utilization {c.max_utilization:g}, but no split of the part into connected "
                f"zones, each around its own school, fits those seats (proven)"
                + _stretch(district, relaxed, part, deadline))
    return out


def _stretch(district: District, scenario: Scenario, part: Neighbourhood, deadline: float) -> str:
    """Seats that are enough for the part, found by an elastic solve (not proven the fewest)."""
    from ..solve.overflow import elastic_zones

    left = deadline - time.perf_counter()
    _, over = (None, None) if left <= 0.05 else elastic_zones(
        district, scenario, eligible_pairs(district, scenario), part, time_limit=left,
        node_limit=STRETCH_NODES)
    if over is None or not (over > 1e-6).any():
        return "; add seats at those schools or raise max_utilization"
    need = np.ceil(over - 1e-6)
    js = [int(j) for j in np.argsort(-need, kind="stable") if need[j] > 0]
    each = ", ".join(f"{district.school_ids[j]} +{need[j]:.0f}" for j in js)
    return (f"; with {need.sum():.0f} more seats ({each}) the part has a plan with connected "
            "zones (found by the solver, not proven the fewest), or raise max_utilization")


def _fits(district: District, scenario: Scenario, part: Neighbourhood,
          assign: np.ndarray) -> bool:
    """Whether ``assign`` restricted to the part keeps every rule of the part's check: every row of
    its model (capacity, distance, locks, bands) and connected zones around their home units."""
    units, schools = part.units, part.schools
    if (district.home_owner[schools] != schools).any():
        return False  # schools sharing a home unit: left to the exact check
    eligible = eligible_pairs(district, scenario)
    model = build_model(district, scenario, eligible, contiguity="none", objective="none",
                        part=part)
    if model.rows.shape[1] != model.n_pairs:
        return False  # rows with columns of their own: left to the exact check
    x = (assign[model.pair_unit] == model.pair_school).astype(float)
    taken = np.zeros(district.n_units)
    np.add.at(taken, model.pair_unit, x)
    if (taken[units] != 1).any():
        return False  # a unit outside the part's schools, or on a pair the rules forbid
    act = model.rows @ x
    if ((act < model.row_lower - 1e-6) | (act > model.row_upper + 1e-6)).any():
        return False
    for j in schools.tolist():
        zone = set(units[assign[units] == j].tolist())
        home = int(district.home_unit[j])
        if reachable(district.adjacency, {home}, zone) != zone | {home}:
            return False
    return True


def _where(district: District, units: np.ndarray, schools: np.ndarray) -> str:
    ids = district.unit_ids
    shown = ", ".join(str(ids[i]) for i in units[:5])
    more = f" and {len(units) - 5} more" if len(units) > 5 else ""
    names = ", ".join(str(district.school_ids[j]) for j in schools[:8])
    more_s = f" and {len(schools) - 8} more" if len(schools) > 8 else ""
    return (f"units {shown}{more} share no boundary with the rest of the map, so with contiguity "
            f"on only their own schools ({names}{more_s}) can take them: these {len(units)} units")


def _relaxed_for_part(district: District, scenario: Scenario, eligible: np.ndarray,
                      schools: np.ndarray) -> Scenario:
    """The scenario with the rules other parts could help meet left out (a relaxation)."""
    c = scenario.constraints
    values: dict[str, float] = {}
    if c.max_moved_share < 1:
        values["constraints.max_moved_share"] = 1.0
    islands_may_join = bool(eligible[np.ix_(district.islands, schools)].any())
    if islands_may_join:
        if c.min_utilization > 0:
            values["constraints.min_utilization"] = 0.0
        if math.isfinite(c.low_income_band):
            values["constraints.low_income_band"] = math.inf
        if math.isfinite(c.tier_band):
            values["constraints.tier_band"] = math.inf
    return scenario.with_values(values) if values else scenario


def _part(district: District, units: np.ndarray, schools: np.ndarray) -> Neighbourhood:
    """The part as a model's neighbourhood: a plan in which exactly its units attend its schools."""
    base = np.asarray(district.status_quo, dtype=np.int64).copy()
    inside = np.zeros(district.n_schools, dtype=bool)
    inside[schools] = True
    outside = int(np.flatnonzero(~inside)[0])
    sq = base[units]
    base[units] = np.where((sq >= 0) & inside[np.clip(sq, 0, None)], sq, schools[0])
    rest = np.ones(district.n_units, dtype=bool)
    rest[units] = False
    base[rest & ((base < 0) | inside[np.clip(base, 0, None)])] = outside
    return Neighbourhood(units=units, schools=schools, base=base)


__all__ = ["map_parts", "part_findings"]
