"""Into the bands: anneal a plan that keeps every other rule until every school is inside.

The repair (:mod:`zoneopt.solve.repair`) mends seats: its chains move units out of overfull zones
and never look at each school's low-income share. With a ``low_income_band`` its plan often keeps
every rule but that one, and the search then fell back to CP-SAT and a feasibility MIP, which on
``synthetic_district(300, 15)`` at 3 km with a band of 0.1 found a first plan after 12-14 s (seeds
36-38) or none in 30 s (seed 33; seed 37 with 0.06).

Here the annealer (:func:`zoneopt.solve.anneal.anneal_into`, the bands' moves) starts from that plan:
its moves keep seats, distance limits, locks, contiguity and the moved budget as always, but may
leave a school outside the band; its objective adds the students outside the band, and it stops at
the first plan with every school inside. A few rounds from one another's end, each with the next
seed, get past plateaus; every count is proposals, never seconds, so the same input gives the same
plan. The plan that comes out is checked against the whole scenario by the independent checker
before it is used. An SES ``tier_band`` is aimed at the same way (the students outside it, summed
over the tiers); ``[years]`` plans keep the repair's old road.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from ..check import check_plan
from ..district import District
from ..scenario import Scenario
from .anneal import anneal_into

#: Proposals per unit of the district in one round (300 units: 1.2 million, about 1.5 s), capped
#: by the time limit (:func:`zoneopt.solve.work.band_round_work`).
PROPOSALS_PER_UNIT = 4_000
#: Rounds at most, each from the last one's best plan with the next seed.
ROUNDS = 4


@dataclasses.dataclass
class BandRepair:
    """What the band repair reached.

    Attributes
    ----------
    plan : numpy.ndarray or None
        A plan that passes the checker on the whole scenario, or None.
    closest : numpy.ndarray
        ``plan`` when one was found; else the last round's best plan by the annealer's objective
        (the students outside the bands, weighted far above D).
    outside : dict
        School position -> (low-income share, students outside the band) for each school of
        ``closest`` outside the low-income band.
    tier_outside : dict
        School position -> (tier, its share, students outside the tier band summed over the tiers)
        for each school of ``closest`` outside the tier band; the tier is the one furthest off.
    proposals : int
        Moves proposed in all (the counted work).
    timed_out : bool
        A safety stop (the deadline or the stop flag) ended the rounds.
    """

    plan: np.ndarray | None
    closest: np.ndarray
    outside: dict[int, tuple[float, float]]
    proposals: int
    timed_out: bool = False
    tier_outside: dict[int, tuple[int, float, float]] = dataclasses.field(default_factory=dict)


def without_band(scenario: Scenario) -> Scenario:
    """The scenario with no low-income band and no SES tier band (every other rule kept)."""
    c = dataclasses.replace(scenario.constraints, low_income_band=math.inf, tier_band=math.inf)
    return dataclasses.replace(scenario, constraints=c)


def band_repair_wanted(scenario: Scenario) -> bool:
    """Whether the scenario has a band (low-income or SES tiers) that the band repair can aim at.

    ``[years]`` plans count seats per plan year in the annealer's moves and leave the band to the
    repair's local MIPs and the feasibility MIPs, as before.
    """
    from ..years import years_active

    c = scenario.constraints
    return ((math.isfinite(c.low_income_band) or math.isfinite(c.tier_band))
            and not years_active(scenario))


def band_repair_applies(district: District, scenario: Scenario, assign: np.ndarray | None) -> bool:
    """Whether ``assign`` breaks the band and nothing else: a plan the band repair can start from."""
    if assign is None or not band_repair_wanted(scenario):
        return False
    return check_plan(district, without_band(scenario), assign).ok


def repair_band(
    district: District,
    scenario: Scenario,
    eligible: np.ndarray,
    start: np.ndarray,
    *,
    work_budget: float = 1.0,
    time_limit_s: float = math.inf,
    seed: int = 0,
    deadline: float | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> BandRepair:
    """Anneal ``start`` (every rule kept but the band) into the low-income band.

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs (:func:`zoneopt.model.eligible_pairs`).
    start
        A plan that keeps every rule of ``scenario`` except ``low_income_band``
        (:func:`band_repair_applies`); not modified.
    work_budget, time_limit_s
        ``solver.work_budget`` scales the proposals of each round; ``solver.time_limit_s`` caps
        them (:func:`zoneopt.solve.work.band_round_work`), a function of the scenario, never of the
        machine.
    seed
        The first round's seed (``solver.seed``); round ``r`` uses ``seed + r``.
    deadline, should_stop
        Safety stops (a ``time.perf_counter()`` value; a predicate polled now and then).

    Returns
    -------
    BandRepair
        The plan (None when the rounds ended with schools still outside) and the closest one.
    """
    from .work import band_round_work

    proposals = band_round_work(district.n_units, time_limit_s, work_budget)
    res = anneal_into(district, scenario, eligible, start, proposals, rounds=ROUNDS, seed=seed,
                      deadline=deadline, should_stop=should_stop)
    assign = res.assign
    plan = assign if res.improved and check_plan(district, scenario, assign).ok else None
    return BandRepair(plan, assign, _outside(district, scenario, assign), res.proposals,
                      res.timed_out, _tier_outside(district, scenario, assign))


def _tier_outside(district: District, scenario: Scenario,
                  assign: np.ndarray) -> dict[int, tuple[int, float, float]]:
    """Each school outside the tier band: its tier furthest off, that tier's share, and the students
    by which the school's tiers are out (summed)."""
    band = scenario.constraints.tier_band
    if not math.isfinite(band):
        return {}
    from ..tiers import tier_counts

    cnt, enr, p, excess = _students_outside(district, tier_counts(district), assign, band)
    out: dict[int, tuple[int, float, float]] = {}
    for j in np.flatnonzero(excess > 1e-6).tolist():
        shares = cnt[j] / enr[j]
        k = int(np.argmax(np.abs(shares - p)))
        out[j] = (k + 1, float(shares[k]), float(excess[j]))
    return out


def _students_outside(district: District, counts: np.ndarray, assign: np.ndarray, band: float):
    """Per school: its counts of each group (``counts``: students per unit and group), enrolment,
    the district's shares, and the students by which its groups lie outside ``band`` (summed over
    the groups; 0 for an empty school). The low-income band is the one-group case."""
    counts = np.asarray(counts, dtype=float).reshape(district.n_units, -1)
    s = district.students.astype(float)
    p = counts.sum(axis=0) / s.sum() if s.sum() > 0 else np.zeros(counts.shape[1])
    m = district.n_schools
    cnt = np.zeros((m, counts.shape[1]))
    np.add.at(cnt, assign, counts)
    enr = np.bincount(assign, weights=s, minlength=m)
    excess = (np.maximum(0.0, cnt - (p + band) * enr[:, None]).sum(axis=1)
              + np.maximum(0.0, (p - band) * enr[:, None] - cnt).sum(axis=1))
    excess[enr <= 0] = 0.0
    return cnt, enr, p, excess


def _count(total: float) -> str:
    """Students outside a band, a continuous measure (students beyond the band's share of the
    enrolment): below one, a whole number would read "0"."""
    count = f"{total:.0f}" if total >= 1.5 else f"{total:.2f}"
    return f"{count} {'student' if count in ('1', '1.00') else 'students'}"


def band_sentence(district: District, scenario: Scenario, res: BandRepair) -> str:
    """How close the band repair came, in a planner's numbers (a sentence for "what binds")."""
    c = scenario.constraints
    ids = district.school_ids
    parts = []
    if res.outside:
        s = district.students.astype(float)
        low = district.low_income.astype(float)
        p = low.sum() / s.sum() if s.sum() > 0 else 0.0
        worst = sorted(res.outside.items(), key=lambda kv: -kv[1][1])
        more = f" and {len(worst) - 6} more" if len(worst) > 6 else ""
        parts.append(f"{_count(sum(v[1] for _, v in worst))} outside the low-income band "
                     f"({p - c.low_income_band:.1%} to {p + c.low_income_band:.1%}): "
                     + ", ".join(f"{ids[j]} at {share:.1%}" for j, (share, _) in worst[:6])
                     + more)
    if res.tier_outside:
        worst_t = sorted(res.tier_outside.items(), key=lambda kv: -kv[1][2])
        more = f" and {len(worst_t) - 6} more" if len(worst_t) > 6 else ""
        parts.append(f"{_count(sum(v[2] for _, v in worst_t))} outside the tier band "
                     f"(+/- {c.tier_band:g}): "
                     + ", ".join(f"{ids[j]} tier {k} at {share:.1%}"
                                 for j, (k, share, _) in worst_t[:6]) + more)
    bands = " and ".join(name for name, on in (("the low-income band", math.isfinite(
        c.low_income_band)), ("the tier band", math.isfinite(c.tier_band))) if on)
    return (f"zones that keep every rule but {bands} exist (the repair found some), but the "
            f"closest that the band repair reached leaves " + "; and ".join(parts))


def _outside(district: District, scenario: Scenario,
             assign: np.ndarray) -> dict[int, tuple[float, float]]:
    """Each school outside the band: its low-income share and the students by which it is out."""
    band = scenario.constraints.low_income_band
    if not math.isfinite(band):
        return {}
    cnt, enr, _, excess = _students_outside(district, district.low_income, assign, band)
    return {j: (float(cnt[j, 0] / enr[j]), float(excess[j]))
            for j in np.flatnonzero(excess > 1e-6).tolist()}


__all__ = ["BandRepair", "band_repair_applies", "band_repair_wanted", "band_sentence",
           "repair_band", "without_band"]
