"""The band repair: a plan that keeps every rule but the low-income band, annealed into the band."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import districts, scenarios

from zoneopt import NoSolutionError, Scenario, optimize
from zoneopt.check import check_plan
from zoneopt.model import eligible_pairs
from zoneopt.solve.band_repair import (
    band_repair_applies,
    band_sentence,
    repair_band,
    without_band,
)
from zoneopt.solve.repair import repair_status_quo
from zoneopt.synthetic import synthetic_district


def _start(district, scenario, eligible):
    """A plan keeping every rule but the band (the repair's, without the band), or None."""
    plan = repair_status_quo(district, without_band(scenario), eligible, deadline=math.inf)
    return plan if band_repair_applies(district, scenario, plan) else None


def _shares(district, assign):
    s = np.bincount(assign, weights=district.students, minlength=district.n_schools)
    low = np.bincount(assign, weights=district.low_income, minlength=district.n_schools)
    return low, s


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(district=districts(), scenario=scenarios(), band=st.sampled_from([0.03, 0.08, 0.2]),
       seed=st.integers(0, 3))
def test_the_band_repair_plan_passes_the_checker_and_the_closest_keeps_every_other_rule(
        district, scenario, band, seed):
    scenario = scenario.with_values({"constraints.low_income_band": band})
    eligible = eligible_pairs(district, scenario)
    start = _start(district, scenario, eligible)
    if start is None:
        return
    before = start.copy()
    res = repair_band(district, scenario, eligible, start, work_budget=0.5, seed=seed)
    assert (start == before).all()  # the caller's plan is not touched
    assert check_plan(district, without_band(scenario), res.closest).ok
    if res.plan is not None:
        assert check_plan(district, scenario, res.plan).ok
        assert res.outside == {}
    else:
        # each school named outside is outside by the checker's own arithmetic
        low, s = _shares(district, res.closest)
        p = district.low_income.sum() / district.students.sum()
        assert res.outside
        for j, (share, excess) in res.outside.items():
            assert share == pytest.approx(low[j] / s[j])
            assert abs(share - p) > band and excess > 0
        assert not check_plan(district, scenario, res.closest).ok


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(district=districts(tiers=3), scenario=scenarios(), tier_band=st.sampled_from([0.2, 0.35]),
       seed=st.integers(0, 3))
def test_into_the_tier_band_the_plan_passes_the_checker(district, scenario, tier_band, seed):
    scenario = scenario.with_values({"constraints.tier_band": tier_band})
    eligible = eligible_pairs(district, scenario)
    start = _start(district, scenario, eligible)
    if start is None:
        return
    res = repair_band(district, scenario, eligible, start, work_budget=0.3, seed=seed)
    assert check_plan(district, without_band(scenario), res.closest).ok
    if res.plan is not None:
        assert check_plan(district, scenario, res.plan).ok and not res.tier_outside
    else:
        assert res.tier_outside and not check_plan(district, scenario, res.closest).ok
        assert "outside the tier band (+/- " in band_sentence(district, scenario, res)


def test_a_tier_band_the_repair_breaks_is_reached_by_the_band_repair():
    # 300 x 15 (seed 37), three SES tiers from each unit's low-income share, a tier band of 0.2:
    # before the band repair, 20 s of the search found no plan
    units, schools = synthetic_district(300, 15, seed=37)
    share = units["low_income"] / units["students"].clip(lower=1)
    units["ses_tier"] = np.clip((share * 3).astype(int) + 1, 1, 3)
    from zoneopt import District

    district = District.from_frames(units, schools)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 3, "tier_band": 0.2}})
    eligible = eligible_pairs(district, scenario)
    start = _start(district, scenario, eligible)
    assert start is not None and not check_plan(district, scenario, start).ok
    res = repair_band(district, scenario, eligible, start)
    assert res.plan is not None and check_plan(district, scenario, res.plan).ok


def _banded_city(seed, band, n=300, m=15):
    units, schools = synthetic_district(n, m, seed=seed)
    from zoneopt import District

    district = District.from_frames(units, schools)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 3,
                                                   "low_income_band": band}})
    return district, scenario


def test_the_band_repair_reaches_the_band_where_the_repair_breaks_it_and_repeats_itself():
    # synthetic 300 x 15 (seed 37) at 3 km with a band of 0.06: the repair's zones leave schools
    # outside the band; before the band repair, 30 s of the search found no plan at all
    district, scenario = _banded_city(37, 0.06)
    eligible = eligible_pairs(district, scenario)
    start = _start(district, scenario, eligible)
    assert start is not None and not check_plan(district, scenario, start).ok
    first = repair_band(district, scenario, eligible, start)
    again = repair_band(district, scenario, eligible, start)
    assert first.plan is not None and check_plan(district, scenario, first.plan).ok
    assert (first.plan == again.plan).all() and first.proposals == again.proposals


def test_optimize_takes_its_first_plan_from_the_band_repair():
    # 160 x 8 (seed 1) with a band of 0.07: the band repair's first round reaches it
    district, scenario = _banded_city(1, 0.07, n=160, m=8)
    plan = optimize(district, scenario.with_values({"solver.time_limit_s": 4}))
    assert plan.check().ok
    assert plan.trace[0]["source"] == "band repair"


def test_without_a_plan_the_message_says_how_close_the_band_repair_came():
    # seed 33 with a band of 0.06: zones within every other rule exist, but no plan was found
    # inside the band (30 s of the search, 180 s of plan_exists)
    district, scenario = _banded_city(33, 0.06)
    scenario = scenario.with_values({"solver.time_limit_s": 4, "solver.work_budget": 0.25})
    with pytest.raises(NoSolutionError) as err:
        optimize(district, scenario)
    text = str(err.value)
    assert "zones that keep every rule but the low-income band exist" in text
    assert "students outside the low-income band (35.3% to 47.3%): S" in text


def test_the_band_sentence_names_the_schools_furthest_outside_first():
    district, scenario = _banded_city(33, 0.06)
    eligible = eligible_pairs(district, scenario)
    start = _start(district, scenario, eligible)
    res = repair_band(district, scenario, eligible, start, work_budget=0.1)
    assert res.plan is None
    text = band_sentence(district, scenario, res)
    worst = max(res.outside, key=lambda j: res.outside[j][1])
    named = text.split("(35.3% to 47.3%): ")[1]
    assert named.startswith(f"{district.school_ids[worst]} at ")
    assert f"leaves {sum(v[1] for v in res.outside.values()):.0f} students" in text


def test_a_band_repair_round_is_counted_from_the_district_and_the_time_limit_never_the_machine():
    from zoneopt.solve.work import band_round_work

    assert band_round_work(300, 60, 1.0) == 1_200_000  # 4,000 a unit
    assert band_round_work(300, 60, 0.5) == 600_000
    # four rounds within the annealing's share of a short limit at the nominal rate
    assert band_round_work(300, 4, 1.0) == 200_000
    assert band_round_work(5000, 60, 1.0) == 3_000_000
