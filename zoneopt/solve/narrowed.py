"""Plans under narrower distance limits: a restriction whose plans are plans.

Every plan that keeps distance limits of 1.5 km keeps limits of 3 km too, so where the search for a
first plan fails under the scenario's own limits it may still succeed under narrower ones: fewer
schools per unit leave the repair's chains and CP-SAT less to choose from, and they then find what
they missed with the whole choice. Each plan found here is checked against the scenario's own rules
before it is used, and a "no" under narrower limits proves nothing about the scenario's own.

Measured on ``synthetic_district`` with every capacity scaled down, 3 km extra distance (no plan
from the repair or CP-SAT under the scenario's own limits):

- 200 x 10, seed 0, seats x0.92 (1.2% spare): the repair at 1.5 km finds a plan in 0.3 s (at 3 km
  it fails after 2.6 s, and the whole 30-s run ended without a plan);
- 300 x 15, seed 0, x0.92: at 2.25 km in 0.4 s (no plan in 30 s before);
- 200 x 10, seeds 0 and 2, x0.91 (0.1% spare): CP-SAT at 1.5 km in 15.7 and 5.6 s, where at 3 km
  it stayed undecided after 20 units of its deterministic time.

Where the narrower problem has no plan the repair's fast steps give up in 0.1-0.7 s (800 x 40) and
CP-SAT proves it in 0.1-0.4 s (200 x 10 and 300 x 15), so the attempts cost little where they fail.

A scenario without a finite distance limit (CONTRACT.md's default) is narrowed from the district's
own scale: the extra distance within which its units have, on average, :data:`REFERENCE_SCHOOLS`
schools (2.8-3.4 km on ``synthetic_district(200, 10)``, about what the 3-km scenarios above allow).
200 x 10 with 0.1% spare seats and no limit, seeds 0 and 2: CP-SAT at half that (1.4 and 1.6 km)
finds a plan in 9.7 and 9.4 s; ``optimize`` then has its first plan at 22.4 and 21.0 s, where a
30-s run found none before (12.9 and 14.8 s since the repair's whole-district MIP of such districts
keeps the pairs of :func:`reference_pairs`, and decides in 2-4 s instead of stopping at 10 s).
"""

from __future__ import annotations

import math

import numpy as np

from ..check import check_plan
from ..district import District
from ..model import eligible_pairs
from ..scenario import Scenario
from .state import SearchState

#: Factors applied to the finite distance limits for the repair's fast steps, narrowest first.
REPAIR_FACTORS = (0.5, 0.75)
#: The factor for CP-SAT, and the share of its work a narrower question gets.
CPSAT_FACTOR = 0.5
CPSAT_WORK_SHARE = 0.5
#: Without a finite distance limit, the narrowing starts from the extra distance within which the
#: units have this many eligible schools on average.
REFERENCE_SCHOOLS = 4

_KEYS = ("max_distance_km", "max_extra_distance_km")


def narrowed(district: District, scenario: Scenario, eligible: np.ndarray,
             factor: float) -> tuple[Scenario, np.ndarray] | None:
    """The scenario with its finite distance limits times ``factor``, and its eligible pairs.

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs (:func:`zoneopt.model.eligible_pairs`).
    factor
        Between 0 and 1.

    Returns
    -------
    (Scenario, numpy.ndarray) or None
        Without a finite limit, the extra distance limit is ``factor`` times
        :func:`reference_extra_km`. None when there is nothing to narrow (no finite limit and at
        most :data:`REFERENCE_SCHOOLS` schools per unit) or the narrower limits leave the same pairs
        (nothing would change). The pairs are a subset of ``eligible``.
    """
    values = {key: km * factor for key, km in _finite_limits(scenario).items()}
    if not values:
        reference = reference_extra_km(district, eligible)
        if reference is None:
            return None
        values = {"constraints.max_extra_distance_km": reference * factor}
    narrow = scenario.with_values(values)
    pairs = eligible_pairs(district, narrow) & eligible
    if np.array_equal(pairs, eligible):
        return None
    return narrow, pairs


def reference_extra_km(district: District, eligible: np.ndarray) -> float | None:
    """The extra distance (beyond each unit's nearest school) within which the units have
    :data:`REFERENCE_SCHOOLS` eligible schools on average: the scale a scenario without a finite
    distance limit is narrowed from; None when they have no more than that already."""
    extra = np.sort(_extra_km(district)[eligible])
    k = REFERENCE_SCHOOLS * district.n_units
    if len(extra) <= k or not np.isfinite(extra[k - 1]):
        return None
    return float(extra[k - 1])


def reference_pairs(district: District, scenario: Scenario, eligible: np.ndarray) -> np.ndarray:
    """The eligible pairs within :func:`reference_extra_km` of each unit's nearest school: the pairs
    of the repair's whole-district strict MIP on small districts (:mod:`zoneopt.solve.repair`).

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs (:func:`zoneopt.model.eligible_pairs`).

    Returns
    -------
    numpy.ndarray
        A subset of ``eligible``; ``eligible`` itself when the units have no more than
        :data:`REFERENCE_SCHOOLS` schools each on average or the scenario's own extra distance is
        the narrower. Locked units, home units and units left without a pair keep all of theirs.
    """
    reference = reference_extra_km(district, eligible)
    if reference is None or reference >= scenario.constraints.max_extra_distance_km:
        return eligible
    pairs = eligible & (_extra_km(district) <= reference + 1e-9)
    keep = (district.locked >= 0) | ~pairs.any(axis=1)
    keep[district.home_unit] = True
    pairs[keep] = eligible[keep]
    return pairs


def _extra_km(district: District) -> np.ndarray:
    """Each pair's distance beyond the unit's nearest school (NaN where the travel matrix gives
    the unit no school)."""
    with np.errstate(invalid="ignore"):
        return district.dist_km - district.nearest_km[:, None]


def _finite_limits(scenario: Scenario) -> dict[str, float]:
    """The scenario's finite distance limits by their scenario key."""
    c = scenario.constraints
    return {f"constraints.{k}": getattr(c, k) for k in _KEYS if math.isfinite(getattr(c, k))}


def label(factor: float, scenario: Scenario, narrow: Scenario) -> str:
    """How a plan from narrower limits is named in the trace."""
    if _finite_limits(scenario):
        return f"distance limits x{factor:g}"
    return f"extra distance {narrow.constraints.max_extra_distance_km:.2f} km"


def repair_narrowed(district: District, scenario: Scenario, eligible: np.ndarray,
                    state: SearchState, solver_name: str, deadline: float) -> bool:
    """The repair's fast steps (no elastic local MIPs) under narrower distance limits; the first
    plan that passes the checker under the scenario's own rules is offered to ``state``.

    Returns
    -------
    bool
        Whether a plan was offered.
    """
    from .repair import repair_status_quo

    for factor in REPAIR_FACTORS:
        if state.interrupted:
            return False
        problem = narrowed(district, scenario, eligible, factor)
        if problem is None:
            continue
        narrow, pairs = problem
        plan = repair_status_quo(district, narrow, pairs, deadline=deadline, solver=solver_name,
                                 go_on=lambda: False)
        if plan is not None and check_plan(district, scenario, plan).ok:
            state.offer(plan, f"repair ({label(factor, scenario, narrow)})")
            return True
    return False


__all__ = ["narrowed", "repair_narrowed", "reference_extra_km", "reference_pairs", "label",
           "REPAIR_FACTORS", "CPSAT_FACTOR", "CPSAT_WORK_SHARE", "REFERENCE_SCHOOLS"]
