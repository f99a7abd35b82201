"""Two-level plans by annealing under a fixed feeder map: a first plan fast, then better ones.

The two-level search (:mod:`zoneopt.solve.feeders`) used to wait for the single-level relaxation
(35% of the time limit) before it tried any two-level plan, and when no feeder map fitted the
relaxation's zones it fell back to the whole district's two-level MIP:
``synthetic_district(300, 15, seed=65)`` at 3 km got its first plan after 11.0 s, and 800 x 40 with
middle seats x0.95 and 2000 x 100 got none in 30 and 60 s.

The feeder repair works like the band repair (:mod:`zoneopt.solve.band_repair`):

1. a plan of the single-level rules (the repair's, or the relaxation's);
2. its middle schools' own units in separate elementary zones
   (:func:`zoneopt.solve.nested_moves.middle_homes_apart`);
3. the feeder map that overfills the middle schools least (the feeder-map MIP with soft middle
   capacity; above :data:`zoneopt.solve.two_level_steps.FEEDER_MAP_MIP_PAIRS` zone-school pairs, the
   annealing of :mod:`zoneopt.solve.feeder_map`), fixed;
4. the annealer's two-level moves with middle capacity as the objective (the students over it) and
   every other rule kept at every move, for at most ``ROUNDS`` rounds of ``PROPOSALS_PER_UNIT``
   proposals a unit, ending at the first plan within every middle capacity.

Then :func:`anneal_two_level` improves a two-level plan under its feeder map with the same moves
and the two-level objective (the elementary objective plus ``balance_weight`` x middle D). Every
count is proposals, never seconds, so the same input gives the same plans; the plans that come out
are checked against the whole two-level scenario before they are used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from .. import settings
from ..district import District
from ..scenario import Scenario
from .anneal import anneal, anneal_into
from .nested_moves import NestedMoves, middle_homes_apart
from .work import aiming_round_work, time_share

log = logging.getLogger("zoneopt")

#: Proposals per unit of the district in one round of the feeder repair.
PROPOSALS_PER_UNIT = 4_000
#: Rounds at most, each from the last one's best plan with the next seed.
ROUNDS = 4
#: The two-level annealing's proposals per unit ...
IMPROVE_PROPOSALS_PER_UNIT = 20_000
#: ... but at most what this share of the time limit holds at the single-level annealing's
#: nominal rate (the two-level moves are slower, so it takes less than this share).
IMPROVE_TIME_SHARE = 0.2


def fit_round_work(n_units: int, time_limit_s: float, work_budget: float) -> int:
    """Proposals of one feeder-repair round: ``PROPOSALS_PER_UNIT`` a unit times ``work_budget``,
    all rounds together within the annealing's share of the time limit at the nominal rate
    (:func:`zoneopt.solve.work.aiming_round_work`)."""
    return aiming_round_work(n_units, time_limit_s, work_budget, PROPOSALS_PER_UNIT, ROUNDS)


def improve_work(n_units: int, time_limit_s: float, work_budget: float) -> int:
    """Proposals of the two-level annealing (see ``IMPROVE_PROPOSALS_PER_UNIT``)."""
    cap = time_share(settings.ANNEAL_RATE, IMPROVE_TIME_SHARE, time_limit_s)
    return max(1, round(min(float(work_budget) * IMPROVE_PROPOSALS_PER_UNIT * n_units, cap)))


def fit_middle(district: District, scenario: Scenario, eligible: np.ndarray, data,
               assign: np.ndarray, feeds: np.ndarray, *, work: int, seed: int,
               deadline: float | None = None, should_stop: Callable[[], bool] | None = None,
               closest: dict[int, float] | None = None,
               on_clock: Callable[[], None] | None = None) -> np.ndarray | None:
    """Anneal ``assign`` (every elementary rule kept, each middle school's unit in a zone feeding
    it under ``feeds``) until every middle school is within its capacity; None when the rounds end
    first, and then ``closest`` (when given) gets each middle school's students over its seats in
    the last round's best plan. Each round starts from the last one's best plan with the next
    seed. ``on_clock`` is called when a safety stop, not the counted work, ended the rounds."""
    def fit_moves(a: np.ndarray) -> NestedMoves:
        return NestedMoves(district, scenario, eligible, a, data, feeds, into_fit=True)

    res = anneal_into(district, scenario, eligible, assign, work, rounds=ROUNDS, seed=seed,
                      deadline=deadline, should_stop=should_stop, moves_for=fit_moves)
    if res.timed_out and on_clock is not None:
        on_clock()
    if res.improved:
        return res.assign
    if closest is not None:
        closest.update(fit_moves(res.assign).middle_over())
    return None


def feeder_repair(district: District, scenario: Scenario, eligible: np.ndarray, data,
                  assign: np.ndarray, soft_feeder_map: Callable[[np.ndarray], np.ndarray | None],
                  *, work: int, seed: int, deadline: float | None = None,
                  should_stop: Callable[[], bool] | None = None, notes: list[str] | None = None,
                  on_clock: Callable[[], None] | None = None
                  ) -> tuple[np.ndarray, np.ndarray] | None:
    """A two-level plan ``(assign, feeds)`` from a plan of the single-level rules, or None.

    Parameters
    ----------
    district, scenario, eligible
        The two-level problem (``eligible`` without whole neighbourhoods).
    data
        The middle schools (:class:`zoneopt.feeders.FeederData`).
    assign
        A plan of every elementary rule.
    soft_feeder_map
        Elementary zones -> the feeder map that overfills the middle schools least (middle
        contiguity and each middle school's zone kept), or None.
    work, seed, deadline, should_stop
        Proposals per round (:func:`fit_round_work`), the first round's seed, and the safety stops.
    notes
        When given and no plan comes out, a sentence saying how far the repair got is appended.
    on_clock
        Called when a safety stop, not the counted work, ended the annealing (its plan may then
        differ on another machine).

    Returns
    -------
    tuple or None
        The plan and its feeder map; the caller checks it against the whole scenario.
    """
    notes = [] if notes is None else notes
    ids = data.school_ids
    apart, stuck = middle_homes_apart(district, scenario, eligible, data, assign)
    if stuck:
        apart = _homes_locked_apart(district, scenario, data, apart, stuck, deadline)
        if apart is None:
            names = [str(ids[k]) for k in range(data.n_schools) if int(data.home_unit[k]) in stuck]
            notes.append(f"the feeder repair could not move {', '.join(names)} out of an elementary "
                         "zone that holds another middle school")
            log.info("feeder repair: %s", notes[-1])
            return None
    feeds = soft_feeder_map(apart)
    if feeds is None:
        notes.append("the feeder repair found no feeder map for the repair's zones in its time")
        log.info("feeder repair: %s", notes[-1])
        return None
    closest: dict[int, float] = {}
    fitted = fit_middle(district, scenario, eligible, data, apart, feeds, work=work, seed=seed,
                        deadline=deadline, should_stop=should_stop, closest=closest,
                        on_clock=on_clock)
    if fitted is None:
        worst = sorted(closest.items(), key=lambda kv: (-kv[1], kv[0]))
        notes.append(f"the closest plan of the feeder repair leaves {sum(closest.values()):.0f} "
                     "middle students over the middle schools' seats ("
                     + ", ".join(f"{ids[k]} {v:.0f} over" for k, v in worst[:5])
                     + (", ..." if len(worst) > 5 else "") + ")")
        log.info("feeder repair: %s", notes[-1])
        return None
    log.info("feeder repair: every middle school within its seats")
    return fitted, np.asarray(feeds, dtype=np.int64)


def _homes_locked_apart(district: District, scenario: Scenario, data, assign: np.ndarray,
                        stuck: list[int], deadline: float | None) -> np.ndarray | None:
    """The repair's plan with each home unit of ``stuck`` locked to a school whose zone holds no
    other middle school's unit (a touching zone first, then the nearest), from ``assign`` with
    those units moved there; None when the repair finds none or the locks are impossible.

    The repair (:func:`zoneopt.solve.repair.repair_status_quo`) mends what the move breaks (seats,
    contiguity) with its chains, where single moves could not; the locks are only its means, and
    the plan is checked against the district's own rules (without them).
    """
    import dataclasses

    import pandas as pd

    from ..check import check_plan
    from ..district import _home_owners
    from ..model import eligible_pairs
    from .repair import repair_status_quo

    single = scenario.with_values({"feeders.mode": "none", "constraints.keep_neighbourhoods": False,
                                   "constraints.neighbourhoods": ""})
    eligible = eligible_pairs(district, single)
    z = np.asarray(assign, dtype=np.int64).copy()
    owners = [k for k in range(data.n_schools) if int(data.home_owner[k]) == k]
    taken = {int(z[data.home_unit[k]]) for k in owners if int(data.home_unit[k]) not in stuck}
    column = district.units["locked_school"].astype(object).to_numpy().copy()
    for h in stuck:
        if district.locked[h] >= 0:
            return None
        touching = {int(z[v]) for v in district.neighbors[h]}
        free = sorted((b for b in range(district.n_schools) if eligible[h, b] and b not in taken),
                      key=lambda b, h=h, t=touching: (b not in t, district.dist_km[h, b], b))
        if not free:
            return None
        z[h] = free[0]
        taken.add(free[0])
        column[h] = district.school_ids[free[0]]
    units = district.units.copy()
    units["locked_school"] = pd.Series(column, index=units.index, dtype=object)
    locked = dataclasses.replace(district, units=units,
                                 home_owner=_home_owners(district.home_unit, units, district.schools))
    plan = repair_status_quo(locked, single, eligible_pairs(locked, single), start=z,
                             deadline=deadline)
    if plan is None or not check_plan(district, single, plan).ok:
        return None
    again, left = middle_homes_apart(district, single, eligible, data, plan)
    return again if not left else None


def anneal_two_level(district: District, scenario: Scenario, eligible: np.ndarray, data,
                     assign: np.ndarray, feeds: np.ndarray, *, proposals: int, seed: int,
                     deadline: float | None = None,
                     should_stop: Callable[[], bool] | None = None,
                     on_clock: Callable[[], None] | None = None) -> np.ndarray | None:
    """A better plan under the fixed feeder map ``feeds`` by the two-level annealing, or None;
    ``on_clock`` is called when a safety stop, not the counted work, ended it."""
    moves = NestedMoves(district, scenario, eligible, assign, data, feeds)
    res = anneal(district, scenario, eligible, assign, proposals, seed=seed, deadline=deadline,
                 should_stop=should_stop, moves=moves)
    if res.timed_out and on_clock is not None:
        on_clock()
    return res.assign if res.improved else None


__all__ = ["anneal_two_level", "feeder_repair", "fit_middle", "fit_round_work", "improve_work"]
