"""The least widening of the distance limits that allows a plan: a finding of the diagnosis.

When no plan exists, :func:`zoneopt.model.elastic.explain_infeasibility` widens the finite distance
limits by :data:`DISTANCE_STEPS_KM` and reports the least step at which a plan exists. Plans only
get more numerous as the limits widen (every eligible pair stays eligible), so "a plan exists" at one
step settles every wider step, and "no plan exists" every narrower one. That lets the cheap answers
come first:

1. **Quick answers, every step.** The widest step's LP relaxation without contiguity first: when it
   has no solution, no step helps, and one LP said so. Then, narrowest first, each step's checks
   before solving, its LP relaxation (no solution: "no") and the repair's fast steps
   (:func:`zoneopt.solve.repair.repair_status_quo` without its elastic local MIPs; a plan that passes
   :func:`zoneopt.check.check_plan`: "yes"), until one says "yes".
2. **Slow answers**, for the steps below the least "yes" that are still open, narrowest first: the
   whole repair (its elastic local MIPs too), each step a fair share of the time left; then, with
   what is left, :func:`zoneopt.model.elastic.plan_exists` (MIPs and the cut loop).

On ``synthetic_district(800, 40, seed=0)`` with seats x0.93 and 1.5 km extra distance (no plan),
with 48 s for this finding: "allow 0.5 km more travel" in 13.6 s, where the MIPs alone (before
the sixteenth session) said 2 km after 36.7 s, settling neither 0.5 nor 1 km; with 12 s: 2 km,
and that 0.5 and 1 km stayed open (before: 2 km, not saying so). At seats x0.95 with 12 s: 0.5 km
in 7.7 s (before: 1 km). Where a step stays open the finding takes all its time (before, about
half).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from ..district import District
from ..scenario import Scenario

#: Steps (km) by which the distance limits are widened to find the least extra travel that helps.
DISTANCE_STEPS_KM = (0.5, 1.0, 2.0, 5.0)

#: Seconds at most for one step's quick answer (its LP, then the repair's fast steps), and at most
#: this share of the time left.
QUICK_STEP_S = 2.0
QUICK_SHARE = 0.25

YES, NO, OPEN = "yes", "no", "unknown"


def distance_finding(district: District, scenario: Scenario, left: Callable[[], float]) -> str:
    """The least widening of the finite distance limits, from :data:`DISTANCE_STEPS_KM`, that
    allows a plan, in words.

    Parameters
    ----------
    district, scenario
        A problem with no plan.
    left
        Seconds left for the whole finding (called as it goes).

    Returns
    -------
    str
        e.g. "or allow 0.5 km more travel (max_extra_distance_km 1.5 -> 2): a plan then exists";
        what stayed unsettled within the time is said as such; "" when no distance limit is finite.
    """
    c = scenario.constraints
    keys = [k for k in ("max_distance_km", "max_extra_distance_km") if math.isfinite(getattr(c, k))]
    if not keys:
        return ""
    steps = DISTANCE_STEPS_KM
    wider = [scenario.with_values({f"constraints.{k}": getattr(c, k) + step for k in keys})
             for step in steps]
    answers = [OPEN] * len(steps)

    def settle(i: int, answer: str) -> None:
        if answer == YES:
            answers[i:] = [YES] * (len(steps) - i)
        elif answer == NO:
            answers[: i + 1] = [NO] * (i + 1)

    if left() > 0.1 and _lp_has_no_solution(district, wider[-1], _quick_seconds(left)):
        settle(len(steps) - 1, NO)
    for i in range(len(steps)):
        if answers[i] != OPEN:
            continue
        if left() <= 0.1:
            break
        settle(i, _quick_answer(district, wider[i], _quick_seconds(left)))
        if answers[i] == YES:
            break
    # The whole repair, narrowest open step first, each step a fair share of the time left: which
    # step yields is not monotone in practice (500 x 25 schools, seats x0.93, 1.5 km: at 1 km more
    # the repair finds a plan in 7.4 s, at 2 or 5 km more neither it nor the MIPs in 30 s).
    for i in range(len(steps)):
        below = answers[i:_first(answers, YES)]
        if answers[i] != OPEN or left() <= 0.1:
            continue
        share = left() / below.count(OPEN)
        settle(i, _repaired(district, wider[i], None, time.perf_counter() + share, elastic=True))
    # Then the MIPs and the cut loop of plan_exists, the only slow answer that can also say "no".
    for i in range(len(steps)):
        if answers[i] != OPEN or left() <= 0.1:
            continue
        settle(i, _exists(district, wider[i], min(left(), max(1.0, left() / 2))))
    return _words(scenario, keys, steps, answers)


def _first(answers: list[str], answer: str) -> int:
    return answers.index(answer) if answer in answers else len(answers)


def _quick_seconds(left: Callable[[], float]) -> float:
    return max(0.05, min(QUICK_STEP_S, QUICK_SHARE * left()))


def _lp_has_no_solution(district: District, scenario: Scenario, seconds: float) -> bool:
    from ..bounds.lp import root_lp_bound
    from . import eligible_pairs

    return root_lp_bound(district, scenario, eligible_pairs(district, scenario),
                         deadline=time.perf_counter() + seconds).proves_infeasible


def _quick_answer(district: District, scenario: Scenario, seconds: float) -> str:
    """"no" from the checks before solving or the LP, "yes" from the repair's fast steps."""
    from . import eligible_pairs
    from .diagnose import diagnose_before_solving

    deadline = time.perf_counter() + seconds
    eligible = eligible_pairs(district, scenario)
    if diagnose_before_solving(district, scenario, eligible):
        return NO
    if _lp_has_no_solution(district, scenario, max(0.05, deadline - time.perf_counter())):
        return NO
    return _repaired(district, scenario, eligible, deadline, elastic=False)


def _exists(district: District, scenario: Scenario, seconds: float) -> str:
    from .elastic import plan_exists

    return plan_exists(district, scenario, time_limit=seconds)


def _repaired(district: District, scenario: Scenario, eligible, deadline: float, *,
              elastic: bool) -> str:
    from ..check import check_plan
    from ..solve.repair import repair_status_quo
    from . import eligible_pairs

    if eligible is None:
        eligible = eligible_pairs(district, scenario)
    if deadline - time.perf_counter() <= 0.05:
        return OPEN
    plan = repair_status_quo(district, scenario, eligible, deadline=deadline,
                             go_on=lambda: elastic)
    if plan is not None and check_plan(district, scenario, plan).ok:
        return YES
    return OPEN


def _words(scenario: Scenario, keys: list[str], steps: tuple[float, ...],
           answers: list[str]) -> str:
    c = scenario.constraints
    if YES in answers:
        k = answers.index(YES)
        change = ", ".join(f"{key} {getattr(c, key):g} -> {getattr(c, key) + steps[k]:g}"
                           for key in keys)
        text = f"or allow {steps[k]:g} km more travel ({change}): a plan then exists"
        unsettled = [f"{steps[i]:g}" for i in range(k) if answers[i] == OPEN]
        if unsettled:
            text += (f" (whether {' or '.join(unsettled)} km would do was not settled within the "
                     "time limit)")
        elif k > 0:
            text += f" ({steps[k - 1]:g} km more would not be enough)"
        return text
    last = steps[-1]
    if OPEN in answers:
        text = (f"whether up to {last:g} km more travel would allow a plan was not settled within "
                "the time limit")
        if NO in answers:
            text += f" ({steps[answers.index(OPEN) - 1]:g} km more would not be enough)"
        return text
    return f"allowing up to {last:g} km more travel ({', '.join(keys)}) does not help"
